//! "Continue with Google": `/auth/google` sends the visitor to the provider, and
//! `/auth/google/callback` signs them in when everything the provider sent back holds.

use super::PageError;
use super::anonymous;
use super::errors::{MessagePage, render_message, see_other};
use super::extract::PageQuery;
use super::sign_in_pages::{NextQuery, start_session};
use crate::auth::session_state::SessionState;
use crate::crypto::random_token;
use crate::domain::LocalPath;
use crate::google::{GoogleError, GoogleSignIn, Pending};
use crate::http::Unexpected;
use crate::http::client_address;
use crate::people::{self, AccountError, GoogleSignedIn};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

/// Starts per minute from one client address: each one stores a row until it expires.
const STARTS_PER_MINUTE: u32 = 30;

/// The cookie that ties a sign-in to the browser that began it. Only its digest is stored, so
/// a `state` copied into another browser (or planted in a victim's by a link) finds nothing.
fn cookie_name(state: &AppState) -> &'static str {
    if state.is_https() {
        "__Host-socializer_google"
    } else {
        "socializer_google"
    }
}

fn browser_cookie(state: &AppState, value: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build(cookie_name(state), value)
        .path("/")
        .http_only(true)
        .secure(state.is_https())
        // Lax: the provider's redirect back is a top-level navigation from its site.
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish()
}

fn google(state: &AppState) -> Result<&GoogleSignIn, PageError> {
    state.google.as_ref().ok_or(PageError::NotFound)
}

#[get("/auth/google")]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: PageQuery<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let google = google(&state)?;
    anonymous::within_limit(&req, &state, STARTS_PER_MINUTE)?;
    let begun = match google.begin().await {
        Ok(begun) => begun,
        Err(e) => return failure(e),
    };
    let browser = random_token();
    let next = query.local().map(|p| p.as_str().to_owned());
    let lifetime =
        people::remember_google_sign_in(&state.db, &begun.state, &browser, &begun.pending, next)
            .await?;
    let mut response = see_other(begun.auth_url.as_str());
    response
        .add_cookie(&browser_cookie(
            &state,
            browser,
            Duration::seconds(lifetime),
        ))
        .map_err(|e| PageError::Internal(Unexpected::context("cookie", e)))?;
    Ok(response)
}

/// What the provider sends back: a code and the state, or an error and the state. Every field
/// is optional so that a malformed return gets this page's answer, not the parser's.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[get("/auth/google/callback")]
pub async fn callback(
    req: HttpRequest,
    session: SessionState,
    state: web::Data<AppState>,
    query: PageQuery<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let google = google(&state)?;
    let mut response = finish(&req, &session, &state, google, query.0).await?;
    // The cookie has done its job, whatever the outcome.
    response
        .add_removal_cookie(&browser_cookie(&state, String::new(), Duration::ZERO))
        .map_err(|e| PageError::Internal(Unexpected::context("cookie", e)))?;
    Ok(response)
}

async fn finish(
    req: &HttpRequest,
    session: &SessionState,
    state: &AppState,
    google: &GoogleSignIn,
    query: CallbackQuery,
) -> Result<HttpResponse, PageError> {
    let browser = req.cookie(cookie_name(state));
    let (Some(returned), Some(browser)) = (query.state.filter(|s| s.len() <= 256), browser) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in did not start in this browser, or its link is incomplete. Start again from the sign-in page.",
        );
    };
    let pending = people::take_google_sign_in(&state.db, &returned, browser.value()).await?;
    let Some(pending) = pending else {
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in is unknown, already used, expired or was started in another browser. Start again from the sign-in page.",
        );
    };
    if let Some(error) = query.error {
        return refused(
            StatusCode::BAD_REQUEST,
            if error == "access_denied" {
                "You cancelled signing in with Google, so nobody was signed in."
            } else {
                "Google did not sign you in. Start again from the sign-in page."
            },
        );
    }
    let Some(code) = query.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "Google sent no authorization code back. Start again from the sign-in page.",
        );
    };
    let verified = match google
        .finish(
            &code,
            &Pending {
                nonce: pending.nonce,
                pkce_verifier: pending.pkce_verifier,
            },
        )
        .await
    {
        Ok(verified) => verified,
        Err(e) => return failure(e),
    };
    let address = client_address(req, state.trust_forwarded_for);
    let GoogleSignedIn {
        signed_in,
        password_removed,
        taken_back,
    } = match people::sign_in_with_google(
        &state.db,
        state.post(),
        &state.key_cache,
        verified,
        &address,
    )
    .await
    {
        Ok(done) => done,
        Err(other) => return sign_in_refused(other),
    };
    start_session(
        req,
        state,
        session,
        &signed_in.user,
        &signed_in.workspace,
        signed_in.email.as_str(),
    )?;
    if password_removed {
        let mut message = "Your Google account is now linked, and your email address counts as \
             confirmed. Nobody had confirmed it before, so the password on this account was \
             removed and every other session ended: sign in with Google from now on, or set a \
             new password with \"Forgot your password?\" on the sign-in page."
            .to_owned();
        if let Some(summary) = taken_back.summary() {
            message = format!("{message} {summary}");
        }
        session.flash(message)?;
        return Ok(see_other("/dashboard"));
    }
    let next = pending.next_path.as_deref().and_then(LocalPath::parse);
    Ok(see_other(
        next.as_ref().map_or("/dashboard", |n| n.as_str()),
    ))
}

/// The page for a sign-in that Google vouched for and the rules refused.
fn sign_in_refused(error: AccountError) -> Result<HttpResponse, PageError> {
    match error {
        AccountError::UnverifiedEmail => refused(
            StatusCode::FORBIDDEN,
            "Google has not confirmed that this email address belongs to this Google account, so it cannot sign in here or open an account. Confirm the address with Google, or sign up with your email and a password instead.",
        ),
        AccountError::OtherIdentityLinked => refused(
            StatusCode::CONFLICT,
            "The account with this email address is linked to a different Google account. Sign in with that one, or with your email and password, and unlink it under Profile and security first.",
        ),
        AccountError::NoEmail => refused(
            StatusCode::BAD_REQUEST,
            "Google did not share a usable email address, which a new account needs. Nobody was signed in.",
        ),
        AccountError::Throttled => Err(PageError::TooManyRequests {
            retry_after: crate::auth::throttle::SIGNUP_WINDOW_SECS,
        }),
        other => Err(other.into()),
    }
}

/// A plain page that signs nobody in.
fn refused(status: StatusCode, message: &str) -> Result<HttpResponse, PageError> {
    render_message(
        status,
        &MessagePage {
            link_href: "/login",
            link_text: "Back to sign-in",
            ..MessagePage::new("Not signed in with Google", message.to_owned())
        },
    )
}

fn failure(error: GoogleError) -> Result<HttpResponse, PageError> {
    // The detail is for the operator; the page says what the visitor can do.
    log::warn!("Google sign-in failed: {error}");
    match error {
        GoogleError::Unavailable(_) => refused(
            StatusCode::BAD_GATEWAY,
            "Google could not be reached just now, so nobody was signed in. Try again in a moment.",
        ),
        GoogleError::Refused(_) | GoogleError::BadToken(_) => refused(
            StatusCode::BAD_REQUEST,
            "Google's answer could not be verified, so nobody was signed in. Start again from the sign-in page.",
        ),
    }
}
