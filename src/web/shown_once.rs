//! A new secret's one showing (an API key, a webhook endpoint's signing secret), carried across
//! the redirect after the POST that made it, so that reloading the page never posts again. The
//! server-side session keeps only the secret sealed under a one-time key, and that one-time key
//! travels only in a short-lived cookie scoped to the page that shows it: the database alone,
//! the cookie alone, a reload or another device shows nothing. The page that shows the secret
//! takes both halves away.

use crate::auth::session_state::SessionState;
use crate::crypto::envelope::OneTrip;
use crate::domain::{ApiKeyId, WorkspaceId};
use actix_session::SessionInsertError;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Long enough for a slow redirect, short enough that a forgotten half is soon gone.
const LIFETIME_MINUTES: i64 = 10;

/// What kind of secret is shown, and so where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ApiKey,
    WebhookSecret,
}

impl Kind {
    fn cookie(self) -> &'static str {
        match self {
            Kind::ApiKey => "socializer_new_key",
            Kind::WebhookSecret => "socializer_new_webhook_secret",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::ApiKey => "/settings/api-keys",
            Kind::WebhookSecret => "/settings/webhooks",
        }
    }

    /// The id of what the secret belongs to starts so.
    fn id_prefix(self) -> &'static str {
        match self {
            Kind::ApiKey => ApiKeyId::PREFIX,
            Kind::WebhookSecret => crate::domain::WebhookEndpointId::PREFIX,
        }
    }
}

/// A key made a moment ago, to show once.
pub struct NewKeyShowing {
    pub key_id: ApiKeyId,
    pub plaintext: String,
}

fn context(kind: Kind, workspace: &WorkspaceId, id: &str) -> String {
    match kind {
        // The key's context as it always was: a showing held across an upgrade still opens.
        Kind::ApiKey => format!("socializer new key showing v1:{workspace}:{id}"),
        Kind::WebhookSecret => format!("socializer new webhook secret showing v1:{workspace}:{id}"),
    }
}

/// Holds `plaintext` (the secret of `id`) for the page after the redirect; the answer must
/// carry the cookie.
pub fn hold(
    kind: Kind,
    session: &SessionState,
    workspace: &WorkspaceId,
    id: &str,
    plaintext: &str,
    https: bool,
) -> Result<Cookie<'static>, SessionInsertError> {
    let trip = OneTrip::seal(&context(kind, workspace, id), plaintext);
    session.hold_new_key(id, &URL_SAFE_NO_PAD.encode(&trip.sealed))?;
    Ok(
        Cookie::build(kind.cookie(), URL_SAFE_NO_PAD.encode(trip.key))
            .path(kind.path())
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Strict)
            .max_age(Duration::minutes(LIFETIME_MINUTES))
            .finish(),
    )
}

/// The secret held for this page (its owner's id and the secret), if both halves are here and
/// open; either way both are gone afterwards (the answer must pass through [`forget`]). A
/// secret of the other kind stays held for its own page.
pub fn take(
    kind: Kind,
    req: &HttpRequest,
    session: &SessionState,
    workspace: &WorkspaceId,
) -> Option<(String, String)> {
    let (id, sealed) = session.take_new_key_of(kind.id_prefix())?;
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(req.cookie(kind.cookie())?.value())
        .ok()?
        .try_into()
        .ok()?;
    let sealed = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let plaintext = OneTrip::open(&key, &context(kind, workspace, &id), &sealed).ok()?;
    Some((id, plaintext.expose().to_owned()))
}

/// The API key held for the keys page.
pub fn take_key(
    req: &HttpRequest,
    session: &SessionState,
    workspace: &WorkspaceId,
) -> Option<NewKeyShowing> {
    let (id, plaintext) = take(Kind::ApiKey, req, session, workspace)?;
    Some(NewKeyShowing {
        key_id: ApiKeyId::parse(&id)?,
        plaintext,
    })
}

/// Clears the cookie half, when the request brought one.
pub fn forget(kind: Kind, req: &HttpRequest, response: &mut HttpResponse, https: bool) {
    if req.cookie(kind.cookie()).is_none() {
        return;
    }
    let mut gone = Cookie::build(kind.cookie(), "")
        .path(kind.path())
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .finish();
    gone.make_removal();
    let _ = response.add_cookie(&gone);
}
