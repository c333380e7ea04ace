//! `/settings`: where every settings page of the workspace is found.

use super::PageError;
use super::current::SignedInMember;
use super::errors::render;
use super::layout::{Layout, Section};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use askama::Template;

#[derive(Template)]
#[template(path = "settings_index.html")]
struct SettingsIndex {
    layout: Layout,
    workspace: String,
}

#[get("/settings")]
pub async fn index(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    let page = SettingsIndex {
        layout: Layout::for_member(&state, &member, Section::Settings).await?,
        workspace: member.ctx.workspace.name.to_string(),
    };
    render(StatusCode::OK, &page)
}

/// What each settings page is for, in a sentence, by its address.
pub fn describe(href: &str) -> &'static str {
    match href {
        "/settings/security" => "Your password, Google sign-in, and where you are signed in.",
        "/settings/workspace" => "The workspace's name and plan; renaming and deleting it.",
        "/settings/members" => "Who is in the workspace, their roles, and invitations.",
        "/settings/api-keys" => "Keys that let programs use the API.",
        "/settings/accounts" => "The X, LinkedIn and sandbox accounts connected here.",
        "/settings/audit" => "Every change to the workspace: who, what, when, from where.",
        _ => "",
    }
}
