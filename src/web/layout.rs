use super::assets::{css_path, js_path};
use crate::people::MemberContext;

/// What the shared page frame shows.
pub struct Layout {
    pub css: &'static str,
    pub js: &'static str,
    pub csrf: String,
    pub nav: Option<Nav>,
}

pub struct Nav {
    pub email: String,
    pub workspace: String,
    /// Owners and admins see the API keys page.
    pub manages: bool,
}

impl Layout {
    pub fn anonymous(csrf: String) -> Self {
        Self {
            css: css_path(),
            js: js_path(),
            csrf,
            nav: None,
        }
    }

    pub fn signed_in(csrf: String, email: String, ctx: &MemberContext) -> Self {
        let nav = Nav {
            email,
            workspace: ctx.workspace.name.to_string(),
            manages: ctx.role.can_manage(),
        };
        Self {
            css: css_path(),
            js: js_path(),
            csrf,
            nav: Some(nav),
        }
    }
}

/// A time for people: `2026-11-22 17:34 UTC`.
pub fn human_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown".into())
}

/// What a signed-in page says above its content: a confirmation, or why a form was refused.
pub enum Say {
    Nothing,
    Notice(String),
    Error(String),
}

impl Say {
    /// The page's notice and error lines.
    pub fn split(self) -> (Option<String>, Option<String>) {
        match self {
            Say::Nothing => (None, None),
            Say::Notice(notice) => (Some(notice), None),
            Say::Error(error) => (None, Some(error)),
        }
    }
}
