//! The one place where page errors become HTTP answers.

use super::layout::Layout;
use crate::http::Unexpected;
use crate::people::AccountError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use std::fmt;

#[derive(Debug)]
pub enum PageError {
    /// No session: go and sign in, then come back to `next`.
    LoginRequired {
        next: String,
    },
    /// A state-changing form without the session's CSRF token.
    Csrf,
    /// A form from a page of another workspace than the session's current one.
    OtherWorkspace,
    /// The thing is no longer in a state that allows this.
    Conflict(String),
    Forbidden(&'static str),
    /// Something only an account whose owner confirmed its email may do; says what.
    EmailUnconfirmed(&'static str),
    NotFound,
    BadRequest(String),
    PayloadTooLarge,
    /// The form's body did not arrive within the deadline (408).
    RequestTimeout,
    /// Too many form posts from one address, or the password hashes waiting are at their bound:
    /// try again after this many seconds.
    TooManyRequests {
        retry_after: i64,
    },
    /// Busy right now (the password hashes waiting are at their bound): try again shortly.
    Busy,
    /// A social platform failed or refused (502).
    Provider(String),
    /// Anything unexpected: logged in full, shown as a bare 500 with a reference.
    Internal(Unexpected),
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageError::LoginRequired { .. } => f.write_str("sign-in required"),
            PageError::Csrf => f.write_str("missing or invalid CSRF token"),
            PageError::OtherWorkspace => f.write_str("form from a page of another workspace"),
            PageError::Conflict(why) => f.write_str(why),
            PageError::Forbidden(why) | PageError::EmailUnconfirmed(why) => f.write_str(why),
            PageError::NotFound => f.write_str("not found"),
            PageError::BadRequest(why) => f.write_str(why),
            PageError::PayloadTooLarge => f.write_str("request body too large"),
            PageError::RequestTimeout => f.write_str("request body too slow"),
            PageError::TooManyRequests { .. } => f.write_str("too many requests"),
            PageError::Busy => f.write_str("too busy"),
            PageError::Provider(why) => f.write_str(why),
            PageError::Internal(why) => write!(f, "{why}"),
        }
    }
}

impl From<AccountError> for PageError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Invalid(invalid) => PageError::BadRequest(invalid.message),
            AccountError::NotMember => {
                PageError::Forbidden("You are not a member of that workspace.")
            }
            AccountError::NotAllowed => {
                PageError::Forbidden("Your role in this workspace does not allow this.")
            }
            AccountError::Hashing(crate::auth::password::HashingError::Busy) => PageError::Busy,
            AccountError::NotFound => PageError::NotFound,
            AccountError::Throttled => PageError::TooManyRequests { retry_after: 60 },
            AccountError::EmailUnconfirmed => {
                PageError::EmailUnconfirmed("invite people or create further workspaces")
            }
            other => PageError::Internal(Unexpected::new(other)),
        }
    }
}

impl From<crate::audit::AuditError> for PageError {
    fn from(err: crate::audit::AuditError) -> Self {
        use crate::audit::AuditError;
        match err {
            AuditError::Invalid(invalid) => PageError::BadRequest(invalid.message),
            AuditError::Storage(e) => PageError::Internal(Unexpected::new(e)),
        }
    }
}

impl From<actix_web::Error> for PageError {
    fn from(err: actix_web::Error) -> Self {
        PageError::Internal(Unexpected::new(err.to_string()))
    }
}

impl From<actix_session::SessionInsertError> for PageError {
    fn from(err: actix_session::SessionInsertError) -> Self {
        PageError::Internal(Unexpected::context("session", err))
    }
}

impl From<askama::Error> for PageError {
    fn from(err: askama::Error) -> Self {
        PageError::Internal(Unexpected::context("template", err))
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: &'static str,
    pub message: String,
    pub request_id: Option<String>,
    pub link_href: &'static str,
    pub link_text: &'static str,
}

/// What a message page says, kept on its response so that the frame can redraw the page with
/// the navigation of a signed-in visitor (see `frame`).
#[derive(Clone)]
pub struct MessageContent {
    pub heading: &'static str,
    pub message: String,
    pub request_id: Option<String>,
    pub link_href: &'static str,
    pub link_text: &'static str,
}

impl MessagePage {
    fn content(&self) -> MessageContent {
        MessageContent {
            heading: self.heading,
            message: self.message.clone(),
            request_id: self.request_id.clone(),
            link_href: self.link_href,
            link_text: self.link_text,
        }
    }

    pub fn redrawn(content: MessageContent, layout: Layout) -> Self {
        Self {
            layout,
            heading: content.heading,
            message: content.message,
            request_id: content.request_id,
            link_href: content.link_href,
            link_text: content.link_text,
        }
    }

    pub fn new(heading: &'static str, message: impl Into<String>) -> Self {
        Self {
            layout: Layout::anonymous(String::new()),
            heading,
            message: message.into(),
            request_id: None,
            link_href: "/dashboard",
            link_text: "Go to your dashboard",
        }
    }
}

/// An HTML answer with the given status.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// A message page with the given status, marked so that the frame can redraw it.
pub fn render_message(status: StatusCode, page: &MessagePage) -> Result<HttpResponse, PageError> {
    let mut response = render(status, page)?;
    response.extensions_mut().insert(page.content());
    Ok(response)
}

/// A 303 to a local path.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            PageError::Csrf | PageError::Forbidden(_) | PageError::EmailUnconfirmed(_) => {
                StatusCode::FORBIDDEN
            }
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::OtherWorkspace | PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PageError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            PageError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            PageError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Provider(_) => StatusCode::BAD_GATEWAY,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let page = match self {
            PageError::LoginRequired { next } => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                return see_other(&format!("/login?next={next}"));
            }
            PageError::Csrf => MessagePage::new(
                "Form expired",
                "This form was not accepted because it is out of date. Go back, reload the page and try again.",
            ),
            PageError::OtherWorkspace => MessagePage::new(
                "Another workspace is open",
                "This form came from a page of another workspace than the one you are in now \
                 (it was switched in another tab or window). Nothing was changed: reload the \
                 page to see the workspace you are in, and try again there.",
            ),
            PageError::Forbidden(why) => MessagePage::new("Not allowed", *why),
            PageError::EmailUnconfirmed(what) => MessagePage {
                link_href: "/dashboard#step-verify-email",
                link_text: "Send the confirmation link again",
                ..MessagePage::new(
                    "Confirm your email address first",
                    format!(
                        "To {what}, this account's email address must be confirmed: open the \
                         link we emailed when you signed up. Until then you can look around and \
                         use test mode (test keys and the sandbox)."
                    ),
                )
            },
            PageError::Conflict(why) => MessagePage::new("Not possible now", why.clone()),
            PageError::NotFound => {
                MessagePage::new("Page not found", "There is no page at this address.")
            }
            PageError::BadRequest(why) => MessagePage::new("Request not accepted", why.clone()),
            PageError::PayloadTooLarge => MessagePage::new(
                "Too much data",
                "The form sent more data than this page accepts.",
            ),
            PageError::RequestTimeout => MessagePage::new(
                "Too slow",
                "The form's data did not arrive in time. Check your connection and try again.",
            ),
            PageError::TooManyRequests { .. } => MessagePage::new(
                "Too many attempts",
                "Too many attempts came from your address. Wait a while and try again.",
            ),
            PageError::Busy => MessagePage::new(
                "Busy",
                "The service is busy right now. Try again in a moment.",
            ),
            PageError::Provider(why) => MessagePage {
                link_href: "/settings/accounts",
                link_text: "Back to connected accounts",
                ..MessagePage::new("The platform did not connect", why.clone())
            },
            PageError::Internal(detail) => {
                let id = hex::encode(crate::crypto::random_bytes::<6>());
                log::error!("request {id} failed: {detail}");
                MessagePage {
                    request_id: Some(id),
                    ..MessagePage::new(
                        "Something went wrong",
                        "The request could not be completed. Try again in a moment.",
                    )
                }
            }
        };
        let retry_after = match self {
            PageError::TooManyRequests { retry_after } => Some(*retry_after),
            PageError::Busy => Some(1),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = retry_after {
            response.insert_header((header::RETRY_AFTER, secs));
        }
        match page.render() {
            Ok(body) => {
                let mut response = response.content_type("text/html; charset=utf-8").body(body);
                response.extensions_mut().insert(page.content());
                response
            }
            Err(e) => {
                log::error!("error page could not be rendered: {e}");
                response
                    .content_type("text/plain; charset=utf-8")
                    .body(self.to_string())
            }
        }
    }
}

impl From<crate::connect::ConnectError> for PageError {
    fn from(err: crate::connect::ConnectError) -> Self {
        use crate::connect::ConnectError;
        match err {
            ConnectError::InvalidState => PageError::BadRequest(
                "This connection attempt is unknown, already used, expired or someone else's. Start again from Connected accounts.".into(),
            ),
            ConnectError::OtherWorkspace => PageError::Forbidden(
                "This connection link belongs to another workspace, so nothing was connected. Only a member of the workspace that made the link can finish it.",
            ),
            // The handler sends the visitor to sign in and back; this is only a fallback.
            ConnectError::SignInRequired => PageError::Forbidden("Sign in to finish connecting."),
            ConnectError::NotFound => PageError::NotFound,
            ConnectError::EmailUnconfirmed => {
                PageError::EmailUnconfirmed("connect X or LinkedIn accounts")
            }
            ConnectError::Invalid(invalid) => PageError::BadRequest(invalid.message),
            ConnectError::Provider(e) => PageError::Provider(e.to_string()),
            ConnectError::Storage(e) => PageError::Internal(Unexpected::new(e)),
            ConnectError::Crypto(e) => PageError::Internal(Unexpected::new(e)),
        }
    }
}
