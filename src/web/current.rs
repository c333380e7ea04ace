//! Who is signed in, from the session, checked against the database on every page.

use super::PageError;
use crate::audit::Who;
use crate::auth::session_state::SessionState;
use crate::domain::Email;
use crate::http::Unexpected;
use crate::people::{self, MemberContext};
use crate::state::AppState;
use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

/// A signed-in member of the session's current workspace. Extracting it from a request without
/// a valid session answers 303 to `/login?next=…`.
pub struct SignedInMember {
    pub ctx: MemberContext,
    pub email: String,
    pub session: SessionState,
    /// The member and the client's address, for the audit log.
    pub who: Who,
}

impl SignedInMember {
    /// The token the member's forms carry (checked by `CheckedForm`), bound to the workspace
    /// the page shows.
    pub fn csrf(&self) -> Result<String, PageError> {
        Ok(self.session.page_token(&self.ctx.workspace.id)?)
    }

    /// The token of the forms that act on the user rather than a workspace (sign out, switch):
    /// they work from any page.
    pub fn user_csrf(&self) -> Result<String, PageError> {
        Ok(self.session.csrf_token()?)
    }
}

impl FromRequest for SignedInMember {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = SessionState::new(req.get_session());
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            let login = || PageError::LoginRequired { next: next.clone() };
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| PageError::Internal(Unexpected::new("application state missing")))?;
            let (user, workspace, email) =
                (session.user_id(), session.workspace_id(), session.email());
            let (Some(user), Some(workspace), Some(email)) = (user, workspace, email) else {
                return Err(login());
            };
            let Ok(parsed) = Email::parse(&email) else {
                session.end();
                return Err(login());
            };
            match people::member_context(&state.db, user, workspace).await? {
                Some(ctx) => Ok(SignedInMember {
                    who: Who::user(
                        ctx.user.clone(),
                        parsed,
                        crate::http::client_address(&req, state.trust_forwarded_for),
                    ),
                    ctx,
                    email,
                    session,
                }),
                // Removed from the workspace since: this session is over.
                None => {
                    session.end();
                    Err(login())
                }
            }
        })
    }
}
