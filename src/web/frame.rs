//! The page frame for signed-in visitors on message pages. Errors and results are rendered
//! where they happen, often without knowing who asked (a 404, an expired form); this middleware,
//! inside the session middleware, redraws such a page with the visitor's navigation when a
//! session is signed in, so that nobody is left without a way back.

use super::current::SignedInMember;
use super::errors::{MessageContent, MessagePage};
use super::layout::Layout;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest as _, web};
use askama::Template as _;

pub async fn signed_in_frame(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let Some(content) = response
        .response()
        .extensions()
        .get::<MessageContent>()
        .cloned()
    else {
        return Ok(response);
    };
    match redraw(response.request(), content).await {
        Some(body) => Ok(response.map_body(|_, _| BoxBody::new(body))),
        None => Ok(response),
    }
}

/// The page again, in the member's frame; `None` (keep the page as it was) for a visitor who
/// is not signed in, or when anything fails on the way.
async fn redraw(req: &actix_web::HttpRequest, content: MessageContent) -> Option<String> {
    let state = req.app_data::<web::Data<AppState>>()?.clone();
    let member = SignedInMember::extract(req).await.ok()?;
    let layout = Layout::for_message(&state, &member).await.ok()?;
    MessagePage::redrawn(content, layout).render().ok()
}
