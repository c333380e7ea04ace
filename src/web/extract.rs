//! Form and query extractors that refuse what actix-web's own would quietly repair: bytes that
//! are not UTF-8 once percent-decoded get a 400, not replacement characters.

use super::PageError;
use crate::auth::session_state::{SessionState, TokenCheck};
use crate::http::is_strict_utf8;
use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

fn decode<T: DeserializeOwned>(encoded: &[u8], what: &str) -> Result<T, PageError> {
    if !is_strict_utf8(encoded) {
        return Err(PageError::BadRequest(format!(
            "The {what} is not valid UTF-8."
        )));
    }
    serde_urlencoded::from_bytes(encoded).map_err(|_| {
        PageError::BadRequest(format!(
            "The {what} could not be read. Reload the page and try again."
        ))
    })
}

/// True when the encoded form carries a non-empty `csrf_token` field.
fn has_csrf_token(encoded: &[u8]) -> bool {
    !submitted_token(encoded).is_empty()
}

fn submitted_token(encoded: &[u8]) -> String {
    url::form_urlencoded::parse(encoded)
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A web form body: `application/x-www-form-urlencoded`, at most 64 KiB (413 past that), for
/// the forms shown before sign-in, whose token the handler checks against the visitor's cookie
/// (`anonymous`). Forms of a session take [`CheckedForm`] instead.
///
/// Every form that changes something carries a CSRF token, so a post that cannot be read and
/// holds no token is refused as what it is, a post without a token (403), before anything else
/// is said about it.
pub struct PageForm<T>(pub T);

impl<T> Deref for PageForm<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> PageForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for PageForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = form_bytes(req, payload);
        Box::pin(async move { decode(&body.await?, "form").map(PageForm) })
    }
}

/// A form with no field but its token (sign out, disconnect).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// A form posted from a session's own page. Its CSRF token is checked against the session's
/// before the handler runs (403 when missing or wrong), so a handler that takes one cannot
/// forget the check.
pub struct CheckedForm<T>(pub T);

impl<T> Deref for CheckedForm<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for CheckedForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use actix_session::SessionExt as _;
        let session = SessionState::new(req.get_session());
        let body = form_bytes(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            match session.check_token(&submitted_token(&bytes)) {
                TokenCheck::Valid => {}
                TokenCheck::Refused => return Err(PageError::Csrf),
                TokenCheck::OtherWorkspace => return Err(PageError::OtherWorkspace),
            }
            decode(&bytes, "form").map(CheckedForm)
        })
    }
}

/// The form's bytes: refused when too large, without a token, or not a web form.
fn form_bytes(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, PageError>> + 'static {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let body = web::Bytes::from_request(req, payload);
    async move {
        let bytes = body
            .await
            .map_err(|e| match e.as_response_error().status_code().as_u16() {
                413 => PageError::PayloadTooLarge,
                _ => PageError::BadRequest("The form could not be read.".into()),
            })?;
        if !has_csrf_token(&bytes) {
            return Err(PageError::Csrf);
        }
        if !is_form {
            return Err(PageError::BadRequest(
                "Send this form as a web form.".into(),
            ));
        }
        Ok(bytes)
    }
}

/// A query string, decoded strictly.
pub struct PageQuery<T>(pub T);

impl<T> Deref for PageQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl FromRequest for SessionState {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        use actix_session::SessionExt as _;
        std::future::ready(Ok(SessionState::new(req.get_session())))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for PageQuery<T> {
    type Error = PageError;
    type Future = std::future::Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(decode(req.query_string().as_bytes(), "address").map(PageQuery))
    }
}

#[cfg(test)]
mod tests {
    use super::{has_csrf_token, is_strict_utf8};

    #[test]
    fn a_token_is_found_only_when_present_and_not_empty() {
        assert!(has_csrf_token(b"a=1&csrf_token=abc"));
        assert!(!has_csrf_token(b"a=1"));
        assert!(!has_csrf_token(b"csrf_token="));
        assert!(!has_csrf_token(b""));
        assert!(has_csrf_token(b"csrf_token=x&b=%FF"));
    }

    #[test]
    fn strict_utf8_refuses_broken_sequences_only() {
        assert!(is_strict_utf8(b"a=1&b=%C3%A9t%C3%A9&c=x+y"));
        assert!(is_strict_utf8(b""));
        assert!(!is_strict_utf8(b"a=%FF"));
        assert!(!is_strict_utf8(b"ok=1&%C3=2"));
    }
}
