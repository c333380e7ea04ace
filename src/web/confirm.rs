//! Confirmation before a destructive action. Every such action has a page at the same address
//! as its form's target: `GET` shows what will happen and asks, `POST` does it. The script
//! upgrades the link to a `<dialog>`; without the script the page itself asks.

use super::PageError;
use super::current::SignedInMember;
use super::errors::render;
use super::layout::{Layout, Section};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

/// What a confirmation says and where its button posts.
pub struct Confirmation {
    /// The question: "Revoke the key “CI deploys”?".
    pub heading: String,
    /// What follows from it, in one or two sentences.
    pub detail: String,
    /// Where the confirming form posts; its `GET` is this confirmation's own page.
    pub action: String,
    /// The confirming button: "Revoke key".
    pub button: &'static str,
    /// Where "Cancel" leads.
    pub cancel: String,
    /// A field the action needs besides the token (name, value).
    pub hidden: Option<(&'static str, String)>,
    /// Rolling a key asks how long the old key lives on.
    pub grace_hours: bool,
}

impl Confirmation {
    pub fn new(
        heading: impl Into<String>,
        detail: impl Into<String>,
        action: impl Into<String>,
        button: &'static str,
        cancel: impl Into<String>,
    ) -> Self {
        Self {
            heading: heading.into(),
            detail: detail.into(),
            action: action.into(),
            button,
            cancel: cancel.into(),
            hidden: None,
            grace_hours: false,
        }
    }

    /// The action needs `name` = `value` besides the token.
    pub fn with_field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.hidden = Some((name, value.into()));
        self
    }

    /// The action asks how long the old key lives on (rolling a key).
    pub fn asking_grace_hours(mut self) -> Self {
        self.grace_hours = true;
        self
    }

    /// The confirmation page's address.
    pub fn href(&self) -> String {
        match &self.hidden {
            None => self.action.clone(),
            Some((name, value)) => {
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, value)
                    .finish();
                format!("{}?{query}", self.action)
            }
        }
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    confirm: Confirmation,
}

/// The confirmation page, in the settings section it belongs to. Nothing changes by showing it.
pub async fn page(
    state: &AppState,
    member: &SignedInMember,
    section: Section,
    confirm: Confirmation,
) -> Result<HttpResponse, PageError> {
    let page = ConfirmPage {
        layout: Layout::for_member(state, member, section).await?,
        confirm,
    };
    render(StatusCode::OK, &page)
}
