//! CSRF tokens for forms shown before sign-in. Signed-in forms check the session's own token
//! (`session_state`).

use crate::crypto::{constant_time_eq, random_token};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};

/// CSRF tokens for the forms a visitor fills in before any session exists (sign-in, sign-up,
/// the sandbox's consent page): a signed double-submit cookie, so that viewing such a page
/// writes nothing to the database. The cookie carries the token signed with a key derived
/// from the session secret; the form carries the token itself. A POST is accepted only when the
/// cookie's signature holds and its token is exactly the form's: another site can neither read
/// the cookie nor forge one.
pub struct AnonymousCsrf {
    key: Key,
    cookie_name: &'static str,
    secure: bool,
}

impl AnonymousCsrf {
    pub fn new(session_secret: &[u8], https: bool) -> Self {
        Self {
            // Derived, so that no cookie signed for the session verifies here or the other way.
            key: Key::derive_from(session_secret),
            // `__Host-` pins the cookie to this origin, so a sibling domain cannot plant one.
            cookie_name: if https {
                "__Host-socializer_csrf"
            } else {
                "socializer_csrf"
            },
            secure: https,
        }
    }

    fn verified(&self, req: &HttpRequest) -> Option<String> {
        let sent = req.cookie(self.cookie_name)?;
        let mut jar = CookieJar::new();
        jar.add_original(sent.into_owned());
        let token = jar
            .signed(&self.key)
            .get(self.cookie_name)?
            .value()
            .to_owned();
        (!token.is_empty()).then_some(token)
    }

    /// The token for a form on the page being answered, and the cookie to set with the answer
    /// when the visitor does not hold a valid one yet.
    pub fn token(&self, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
        if let Some(token) = self.verified(req) {
            return (token, None);
        }
        let token = random_token();
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(
            Cookie::build(self.cookie_name, token.clone())
                .path("/")
                .http_only(true)
                .secure(self.secure)
                .same_site(SameSite::Lax)
                .finish(),
        );
        let cookie = jar.get(self.cookie_name).cloned();
        (token, cookie)
    }

    /// True only when the request holds a validly signed cookie whose token is `submitted`.
    pub fn is_valid(&self, req: &HttpRequest, submitted: &str) -> bool {
        self.verified(req).is_some_and(|expected| {
            !submitted.is_empty() && constant_time_eq(expected.as_bytes(), submitted.as_bytes())
        })
    }
}
