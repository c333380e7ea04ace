//! A new key's one showing, carried across the redirect after the POST that made it, so that
//! reloading the page never posts again. The server-side session keeps only the key sealed
//! under a one-time key, and that one-time key travels only in a short-lived cookie scoped to
//! the keys page: the database alone, the cookie alone, a reload or another device shows
//! nothing. The page that shows the key takes both halves away.

use crate::auth::session_state::SessionState;
use crate::crypto::envelope::OneTrip;
use crate::domain::{ApiKeyId, WorkspaceId};
use actix_session::SessionInsertError;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const COOKIE: &str = "socializer_new_key";
const PATH: &str = "/settings/api-keys";
/// Long enough for a slow redirect, short enough that a forgotten half is soon gone.
const LIFETIME_MINUTES: i64 = 10;

/// A key made a moment ago, to show once.
pub struct NewKeyShowing {
    pub key_id: ApiKeyId,
    pub plaintext: String,
}

fn context(workspace: &WorkspaceId, key_id: &str) -> String {
    format!("socializer new key showing v1:{workspace}:{key_id}")
}

/// Holds `plaintext` for the page after the redirect; the answer must carry the cookie.
pub fn hold(
    session: &SessionState,
    workspace: &WorkspaceId,
    key_id: &ApiKeyId,
    plaintext: &str,
    https: bool,
) -> Result<Cookie<'static>, SessionInsertError> {
    let trip = OneTrip::seal(&context(workspace, key_id.as_str()), plaintext);
    session.hold_new_key(key_id.as_str(), &URL_SAFE_NO_PAD.encode(&trip.sealed))?;
    Ok(Cookie::build(COOKIE, URL_SAFE_NO_PAD.encode(trip.key))
        .path(PATH)
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .max_age(Duration::minutes(LIFETIME_MINUTES))
        .finish())
}

/// The key held for this page, if both halves are here and open; either way both are gone
/// afterwards (the answer must pass through [`forget`]).
pub fn take(
    req: &HttpRequest,
    session: &SessionState,
    workspace: &WorkspaceId,
) -> Option<NewKeyShowing> {
    let (key_id, sealed) = session.take_new_key()?;
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(req.cookie(COOKIE)?.value())
        .ok()?
        .try_into()
        .ok()?;
    let sealed = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let plaintext = OneTrip::open(&key, &context(workspace, &key_id), &sealed).ok()?;
    Some(NewKeyShowing {
        key_id: ApiKeyId::parse(&key_id)?,
        plaintext: plaintext.expose().to_owned(),
    })
}

/// Clears the cookie half, when the request brought one.
pub fn forget(req: &HttpRequest, response: &mut HttpResponse, https: bool) {
    if req.cookie(COOKIE).is_none() {
        return;
    }
    let mut gone = Cookie::build(COOKIE, "")
        .path(PATH)
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .finish();
    gone.make_removal();
    let _ = response.add_cookie(&gone);
}
