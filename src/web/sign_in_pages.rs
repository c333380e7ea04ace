//! Sign-up, sign-in, sign-out and email verification.

use super::PageError;
use super::anonymous::{self, AnonymousForm};
use super::errors::{MessagePage, render, render_message, see_other};
use super::extract::{CheckedForm, NoFields, PageForm, PageQuery};
use super::layout::Layout;
use crate::auth::session_state::{SessionState, SignIn};
use crate::auth::throttle::{self, WINDOW_SECS};
use crate::domain::{LocalPath, UserId, WorkspaceId};
use crate::http::client_address;
use crate::people::{self, AccountError, SignUp, SignedIn};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    action: String,
    email: String,
    error: Option<&'static str>,
    /// Why the visitor is here after signing out, in words chosen here (never from the address).
    signed_out: Option<&'static str>,
    /// "Continue with Google", when it is configured.
    google_href: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    email: String,
    workspace: String,
    error: Option<String>,
    google_href: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// Set by the redirects that end sessions (`here` or `everywhere`).
    signed_out: Option<String>,
}

impl NextQuery {
    pub(super) fn local(&self) -> Option<LocalPath> {
        self.next.as_deref().and_then(LocalPath::parse)
    }

    fn signed_out(&self) -> Option<&'static str> {
        match self.signed_out.as_deref()? {
            "here" => Some("You are signed out."),
            "everywhere" => Some("You are signed out on every device."),
            _ => None,
        }
    }
}

/// Where a browser goes when its own session has ended.
pub const SIGNED_OUT: &str = "/login?signed_out=here";
/// Where a browser goes when every session of its user has ended.
pub const SIGNED_OUT_EVERYWHERE: &str = "/login?signed_out=everywhere";

// Every field defaults to empty, so that a missing one is refused by the rules below with a
// clear message (and a missing CSRF token with 403) rather than by the form parser.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    workspace: String,
    #[serde(default)]
    csrf_token: String,
}

fn with_next(path: &str, next: Option<&LocalPath>) -> String {
    match next {
        Some(next) => {
            let encoded: String =
                url::form_urlencoded::byte_serialize(next.as_str().as_bytes()).collect();
            format!("{path}?next={encoded}")
        }
        None => path.into(),
    }
}

fn login_action(next: Option<&LocalPath>) -> String {
    with_next("/login", next)
}

/// Where "Continue with Google" goes, when Google is configured.
fn google_href(state: &AppState, next: Option<&LocalPath>) -> Option<String> {
    state
        .google
        .as_ref()
        .map(|_| with_next("/auth/google", next))
}

/// Starts a signed-in session: a new session key (never the one used before sign-in), a new
/// CSRF token, and what the security page will show about the device.
pub(super) fn start_session(
    req: &HttpRequest,
    state: &AppState,
    session: &SessionState,
    user: &UserId,
    workspace: &WorkspaceId,
    email: &str,
) -> Result<(), PageError> {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    session.sign_in(SignIn {
        user,
        workspace,
        email,
        user_agent,
        client_address: &client_address(req, state.trust_forwarded_for),
    })?;
    Ok(())
}

#[get("/")]
pub async fn home(session: SessionState) -> HttpResponse {
    see_other(if session.user_id().is_some() {
        "/dashboard"
    } else {
        "/login"
    })
}

#[get("/signup")]
pub async fn signup_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = AnonymousForm::new(&req, &state);
    let page = SignupPage {
        layout: Layout::anonymous(form.token.clone()),
        email: String::new(),
        workspace: String::new(),
        error: None,
        google_href: google_href(&state, None),
    };
    form.attach(render(StatusCode::OK, &page)?)
}

#[post("/signup")]
pub async fn signup(
    req: HttpRequest,
    session: SessionState,
    state: web::Data<AppState>,
    form: PageForm<SignupForm>,
) -> Result<HttpResponse, PageError> {
    anonymous::admit(&req, &state, &form.csrf_token)?;
    let SignupForm {
        email,
        password,
        workspace,
        ..
    } = form.into_inner();
    let request = SignUp {
        email: email.clone(),
        password,
        workspace: workspace.clone(),
        client_address: client_address(&req, state.trust_forwarded_for),
    };
    let error = match people::sign_up(&state.db, &state.hashing, &state.mailer, &state.public_url, request).await {
        Ok(done) => {
            start_session(&req, &state, &session, &done.user, &done.workspace, done.email.as_str())?;
            session.flash(format!(
                "Welcome! We sent a confirmation link to {}: follow it to confirm your address.",
                done.email
            ))?;
            return Ok(see_other("/dashboard"));
        }
        Err(AccountError::Invalid(invalid)) => invalid.message,
        Err(AccountError::EmailTaken) => {
            "We could not create an account with these details. If you already have an account, sign in instead."
                .to_owned()
        }
        Err(AccountError::Throttled) => {
            return Err(PageError::TooManyRequests {
                retry_after: throttle::SIGNUP_WINDOW_SECS,
            });
        }
        Err(other) => return Err(other.into()),
    };
    let form = AnonymousForm::new(&req, &state);
    let page = SignupPage {
        layout: Layout::anonymous(form.token.clone()),
        email,
        workspace,
        error: Some(error),
        google_href: google_href(&state, None),
    };
    form.attach(render(StatusCode::BAD_REQUEST, &page)?)
}

#[get("/login")]
pub async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: PageQuery<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let form = AnonymousForm::new(&req, &state);
    let page = LoginPage {
        layout: Layout::anonymous(form.token.clone()),
        action: login_action(query.local().as_ref()),
        email: String::new(),
        error: None,
        signed_out: query.signed_out(),
        google_href: google_href(&state, query.local().as_ref()),
    };
    form.attach(render(StatusCode::OK, &page)?)
}

#[post("/login")]
pub async fn login(
    req: HttpRequest,
    session: SessionState,
    state: web::Data<AppState>,
    query: PageQuery<NextQuery>,
    form: PageForm<LoginForm>,
) -> Result<HttpResponse, PageError> {
    anonymous::admit(&req, &state, &form.csrf_token)?;
    let LoginForm {
        email, password, ..
    } = form.into_inner();
    let address = client_address(&req, state.trust_forwarded_for);
    let next = query.local();
    let (status, error) =
        match people::sign_in(&state.db, &state.hashing, &email, password, &address).await {
            Ok(signed_in) => {
                let SignedIn {
                    user,
                    workspace,
                    email,
                } = signed_in;
                start_session(&req, &state, &session, &user, &workspace, email.as_str())?;
                return Ok(see_other(
                    next.as_ref().map_or("/dashboard", LocalPath::as_str),
                ));
            }
            Err(AccountError::BadCredentials) => {
                (StatusCode::UNAUTHORIZED, "Incorrect email or password.")
            }
            Err(AccountError::Throttled) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-in attempts. Wait a few minutes before you try again.",
            ),
            Err(other) => return Err(other.into()),
        };
    let form = AnonymousForm::new(&req, &state);
    let page = LoginPage {
        layout: Layout::anonymous(form.token.clone()),
        action: login_action(next.as_ref()),
        email,
        error: Some(error),
        signed_out: None,
        google_href: google_href(&state, next.as_ref()),
    };
    let mut response = form.attach(render(status, &page)?)?;
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(WINDOW_SECS));
    }
    Ok(response)
}

#[post("/logout")]
pub async fn logout(
    session: SessionState,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    session.end();
    Ok(see_other(SIGNED_OUT))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub(super) token: String,
}

#[get("/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    session: SessionState,
    query: PageQuery<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let signed_in = session.user_id();
    match people::verify_email(&state.db, &query.token, signed_in.as_ref()).await {
        Ok(people::Verification::Confirmed) => render_message(
            StatusCode::OK,
            &MessagePage::new(
                "Email confirmed",
                "Thank you: your email address is confirmed.",
            ),
        ),
        Ok(people::Verification::AlreadyConfirmed) => render_message(
            StatusCode::OK,
            &MessagePage::new(
                "Email already confirmed",
                "This link was used before: the email address is confirmed, and there is \
                 nothing more to do.",
            ),
        ),
        Ok(people::Verification::SignInFirst) => render_message(
            StatusCode::OK,
            &MessagePage {
                link_href: "/login",
                link_text: "Sign in",
                ..MessagePage::new(
                    "Sign in to confirm",
                    "This link confirms the address of an account once it is opened by that \
                     account: sign in to it in this browser, then open the link again (it \
                     works for 24 hours). If you never opened an account with this address, \
                     someone else did: choose \"Forgot your password?\" on the sign-in page to \
                     take it over, which removes whatever they set up.",
                )
            },
        ),
        Err(AccountError::InvalidToken) => render_message(
            StatusCode::BAD_REQUEST,
            &MessagePage::new(
                "Link not valid",
                "This link is invalid, was already used, or has expired.",
            ),
        ),
        Err(other) => Err(other.into()),
    }
}
