//! `/settings/security`: the user's sessions, ending them, signing out everywhere, changing the
//! password, and the linked Google identity.

use super::PageError;
use super::breakable::Breakable;
use super::confirm::{self, Confirmation};
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields, PageQuery};
use super::layout::{FormState, Layout, Say, Section, human_time};
use super::sign_in_pages::{SIGNED_OUT, SIGNED_OUT_EVERYWHERE};
use super::user_agent::device_name;
use crate::auth::throttle::WINDOW_SECS;
use crate::domain::SessionId;
use crate::http::client_address;
use crate::people::{self, AccountError, PasswordChange};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    layout: Layout,
    sessions: Vec<SessionRow>,
    has_password: bool,
    identities: Vec<IdentityRow>,
    everywhere: Confirmation,
    error: Option<String>,
    form: FormState,
    /// The person's time zone, if chosen, and every zone to choose from.
    zone: Option<String>,
    zones: Vec<String>,
}

struct IdentityRow {
    email: Breakable,
    linked: String,
    unlink: Confirmation,
}

struct SessionRow {
    id: String,
    device: String,
    address: String,
    signed_in: String,
    last_seen: String,
    current: bool,
    end: Confirmation,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (error, form) = say.split();
    let security = people::security(&state.db, &member.ctx.user).await?;
    let current = member.session.session_id();
    let user = member.ctx.user.clone();
    let zone = state
        .db
        .read(crate::db::Global, move |conn| {
            crate::db::users::time_zone(conn, &user)
        })
        .await
        .map_err(|e| PageError::Internal(crate::http::Unexpected::new(e)))?;
    let page = SecurityPage {
        zone,
        zones: crate::domain::TimeZoneName::all(),
        layout: Layout::for_member(state, member, Section::Security).await?,
        sessions: security
            .sessions
            .into_iter()
            .map(|s| SessionRow {
                current: current.as_ref() == Some(&s.id),
                id: s.id.to_string(),
                end: end_confirmation(
                    s.id.as_str(),
                    &device_name(s.user_agent.as_deref().unwrap_or("")),
                    current.as_ref() == Some(&s.id),
                ),
                device: device_name(s.user_agent.as_deref().unwrap_or("")),
                address: s.ip.unwrap_or_else(|| "unknown".into()),
                signed_in: human_time(s.created_at),
                last_seen: human_time(s.last_seen_at),
            })
            .collect(),
        has_password: security.has_password,
        identities: security
            .identities
            .into_iter()
            .map(|i| IdentityRow {
                unlink: unlink_confirmation(&i.issuer),
                email: Breakable::new(i.email.unwrap_or_else(|| "no email shared".into())),
                linked: human_time(i.linked_at),
            })
            .collect(),
        everywhere: everywhere_confirmation(),
        error,
        form,
    };
    render(status, &page)
}

fn end_confirmation(id: &str, device: &str, current: bool) -> Confirmation {
    Confirmation::new(
        format!("End the session on {device}?"),
        if current {
            "This is the session you are using now: you will be signed out here."
        } else {
            "That device is signed out at once; signing in again there starts a new session."
        },
        format!("/settings/security/sessions/{id}/end"),
        "End session",
        "/settings/security",
    )
}

fn everywhere_confirmation() -> Confirmation {
    Confirmation::new(
        "Sign out everywhere?",
        "Every session of your account ends at once, this one too: you sign in again \
                 on each device you use.",
        "/settings/security/sign-out-everywhere",
        "Sign out everywhere",
        "/settings/security",
    )
}

fn unlink_confirmation(issuer: &str) -> Confirmation {
    Confirmation::new(
        "Unlink Google?",
        "Continue with Google no longer signs you in to this account: you sign in \
                 with your email and password.",
        "/settings/security/google/unlink",
        "Unlink Google",
        "/settings/security",
    )
    .with_field("issuer", issuer.to_owned())
}

#[get("/settings/security")]
pub async fn show(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    page(&state, &member, StatusCode::OK, Say::Nothing).await
}

/// Back to the page, which says `message` once.
fn done(member: &SignedInMember, message: &str) -> Result<HttpResponse, PageError> {
    member.session.flash(message)?;
    Ok(see_other("/settings/security"))
}

#[get("/settings/security/sessions/{id}/end")]
pub async fn confirm_end_session(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let security = people::security(&state.db, &member.ctx.user).await?;
    let session = security
        .sessions
        .into_iter()
        .find(|s| s.id.as_str() == id.as_str())
        .ok_or(PageError::NotFound)?;
    let current = member.session.session_id().as_ref() == Some(&session.id);
    let device = device_name(session.user_agent.as_deref().unwrap_or(""));
    let confirmation = end_confirmation(session.id.as_str(), &device, current);
    confirm::page(&state, &member, Section::Security, confirmation).await
}

#[get("/settings/security/sign-out-everywhere")]
pub async fn confirm_sign_out_everywhere(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    confirm::page(
        &state,
        &member,
        Section::Security,
        everywhere_confirmation(),
    )
    .await
}

#[get("/settings/security/google/unlink")]
pub async fn confirm_unlink_google(
    state: web::Data<AppState>,
    member: SignedInMember,
    query: PageQuery<UnlinkForm>,
) -> Result<HttpResponse, PageError> {
    let security = people::security(&state.db, &member.ctx.user).await?;
    let identity = security
        .identities
        .into_iter()
        .find(|i| i.issuer == query.issuer)
        .ok_or(PageError::NotFound)?;
    let confirmation = unlink_confirmation(&identity.issuer);
    confirm::page(&state, &member, Section::Security, confirmation).await
}

#[post("/settings/security/sessions/{id}/end")]
pub async fn end_session(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = SessionId::parse(&id).ok_or(PageError::NotFound)?;
    people::end_session(&state.db, &member.ctx.user, &id).await?;
    if member
        .session
        .session_id()
        .is_some_and(|own| own.as_str() == id.as_str())
    {
        member.session.end();
        return Ok(see_other(SIGNED_OUT));
    }
    done(&member, "The session was ended.")
}

#[post("/settings/security/sign-out-everywhere")]
pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    member: SignedInMember,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    people::sign_out_everywhere(&state.db, &member.ctx.user).await?;
    // This browser's session row is gone with the others; forget its cookie too.
    member.session.end();
    Ok(see_other(SIGNED_OUT_EVERYWHERE))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

#[post("/settings/security/password")]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let Some(own_session) = member.session.session_id() else {
        // A session from before sessions were named: sign in again to get one.
        member.session.end();
        return Err(PageError::LoginRequired {
            next: "/settings/security".into(),
        });
    };
    let PasswordForm {
        current_password,
        new_password,
    } = form.0;
    let change = PasswordChange {
        current: current_password,
        new: new_password,
        client_address: client_address(&req, state.trust_forwarded_for),
    };
    let (field, error) = match people::change_password(
        &state.db,
        state.post(),
        &state.hashing,
        &member.ctx.user,
        &own_session,
        change,
    )
    .await
    {
        Ok(()) => {
            return done(
                &member,
                "Your password was changed, and every other session was ended.",
            );
        }
        Err(AccountError::Invalid(invalid)) => ("new_password", invalid.message),
        Err(AccountError::BadCredentials) => (
            "current_password",
            "Your current password is not correct.".to_owned(),
        ),
        Err(AccountError::Throttled) => {
            return Err(PageError::TooManyRequests {
                retry_after: WINDOW_SECS,
            });
        }
        Err(other) => return Err(other.into()),
    };
    // Passwords are never shown again: the fields come back empty, the one in error marked.
    let refused = Say::Refused(FormState::refused(field, error));
    page(&state, &member, StatusCode::BAD_REQUEST, refused).await
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    #[serde(default)]
    issuer: String,
}

#[post("/settings/security/google/unlink")]
pub async fn unlink_google(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<UnlinkForm>,
) -> Result<HttpResponse, PageError> {
    match people::unlink_identity(&state.db, state.post(), &member.ctx.user, &form.0.issuer).await {
        Ok(()) => done(
            &member,
            "Google is unlinked: sign in with your email and password from now on.",
        ),
        Err(AccountError::PasswordNeeded) => {
            let why = "Google is how you sign in: set a password first (sign out, then use \
                       \"Forgot your password?\"), and unlink Google after.";
            page(
                &state,
                &member,
                StatusCode::CONFLICT,
                Say::Error(why.into()),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}
