//! Forms filled in before sign-in (sign-in, sign-up, the sandbox's consent page): a CSRF token
//! that needs no session row, and a limit on how often one client address may post them.

use super::PageError;
use crate::domain::now;
use crate::http::Unexpected;
use crate::http::client_ip;
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::{HttpRequest, HttpResponse};

/// Form posts per minute from one client address, for all anonymous forms together.
pub const POSTS_PER_MINUTE: u32 = 60;

/// The CSRF token of an anonymous form being shown, and the cookie that must go with it.
pub struct AnonymousForm {
    pub token: String,
    cookie: Option<Cookie<'static>>,
}

impl AnonymousForm {
    pub fn new(req: &HttpRequest, state: &AppState) -> Self {
        let (token, cookie) = state.anonymous_csrf.token(req);
        Self { token, cookie }
    }

    /// The answer that shows the form, with the token's cookie when the visitor had none.
    pub fn attach(&self, mut response: HttpResponse) -> Result<HttpResponse, PageError> {
        if let Some(cookie) = &self.cookie {
            response
                .add_cookie(cookie)
                .map_err(|e| PageError::Internal(Unexpected::context("csrf cookie", e)))?;
        }
        Ok(response)
    }
}

/// Lets an anonymous form post through: within its address's limit, with a valid token.
pub fn admit(req: &HttpRequest, state: &AppState, submitted: &str) -> Result<(), PageError> {
    within_limit(req, state, POSTS_PER_MINUTE)?;
    if state.anonymous_csrf.is_valid(req, submitted) {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

/// Counts one request from the client's address against the anonymous limit, `per_minute`.
pub fn within_limit(req: &HttpRequest, state: &AppState, per_minute: u32) -> Result<(), PageError> {
    let decision = state.anonymous_posts.check_address(
        client_ip(req, state.trust_forwarded_for),
        per_minute,
        now(),
    );
    if decision.allowed {
        Ok(())
    } else {
        Err(PageError::TooManyRequests {
            retry_after: decision.reset.max(1),
        })
    }
}
