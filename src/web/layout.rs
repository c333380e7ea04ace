use super::PageError;
use super::assets::{css_path, icon_path, js_path};
use super::current::SignedInMember;
use crate::domain::{Action, Role};
use crate::people;
use crate::state::AppState;

/// What the shared page frame shows.
pub struct Layout {
    pub css: &'static str,
    pub js: &'static str,
    pub icon: &'static str,
    /// The token of this page's forms: bound to the workspace the page shows, when it shows one.
    pub csrf: String,
    /// The token of the forms that act on the user wherever they are (sign out, switch).
    pub user_csrf: String,
    pub nav: Option<Nav>,
    /// The one-line message a change left for this page ("Key 'CI' revoked.").
    pub flash: Option<String>,
}

/// The header and settings navigation of a signed-in member.
pub struct Nav {
    pub email: String,
    pub workspace: String,
    pub section: Section,
    /// Every workspace the user belongs to, the current one marked.
    pub workspaces: Vec<SwitchTarget>,
    /// The settings pages this member's role may open.
    pub settings: Vec<NavLink>,
    /// The user has not confirmed their email yet: every page says what waits for it.
    pub unconfirmed: bool,
}

impl Nav {
    pub fn on_dashboard(&self) -> bool {
        self.section == Section::Dashboard
    }

    pub fn in_settings(&self) -> bool {
        !matches!(
            self.section,
            Section::Dashboard | Section::Elsewhere | Section::Posts
        )
    }

    pub fn on_posts(&self) -> bool {
        self.section == Section::Posts
    }
}

pub struct SwitchTarget {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub current: bool,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// Which part of the product a page belongs to, so the navigation can mark it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Settings,
    Security,
    Workspace,
    Members,
    ApiKeys,
    Accounts,
    Audit,
    Webhooks,
    Posts,
    /// A message or result page: the frame, nothing marked.
    Elsewhere,
}

/// The settings pages, in the order the side navigation lists them.
fn settings_links(role: Role, section: Section) -> Vec<NavLink> {
    let pages = [
        (
            Section::Security,
            "/settings/security",
            "Profile and security",
            true,
        ),
        (Section::Workspace, "/settings/workspace", "Workspace", true),
        (Section::Members, "/settings/members", "Members", true),
        (
            Section::ApiKeys,
            "/settings/api-keys",
            "API keys",
            role.may(Action::ManageKeys),
        ),
        (
            Section::Accounts,
            "/settings/accounts",
            "Connected accounts",
            true,
        ),
        (
            Section::Webhooks,
            "/settings/webhooks",
            "Webhooks",
            role.may(Action::ManageWebhooks),
        ),
        (
            Section::Audit,
            "/settings/audit",
            "Audit log",
            role.may(Action::SeeAudit),
        ),
    ];
    pages
        .into_iter()
        .filter(|(_, _, _, shown)| *shown)
        .map(|(page, href, label, _)| NavLink {
            href,
            label,
            current: page == section,
        })
        .collect()
}

impl Layout {
    pub fn anonymous(csrf: String) -> Self {
        Self {
            css: css_path(),
            js: js_path(),
            icon: icon_path(),
            user_csrf: csrf.clone(),
            csrf,
            nav: None,
            flash: None,
        }
    }

    /// The frame of a signed-in page: header with the workspace switcher, settings navigation,
    /// and the message the last change left (taken from the session, so it shows once).
    pub async fn for_member(
        state: &AppState,
        member: &SignedInMember,
        section: Section,
    ) -> Result<Self, PageError> {
        let flash = member.session.take_flash();
        Self::framed(state, member, section, flash).await
    }

    /// The same frame around a message page (a 404, a link that is not valid), which leaves the
    /// last change's message for the next real page: such pages are also what a browser's own
    /// requests (an icon it guesses at) get, and nobody reads them.
    pub async fn for_message(state: &AppState, member: &SignedInMember) -> Result<Self, PageError> {
        Self::framed(state, member, Section::Elsewhere, None).await
    }

    async fn framed(
        state: &AppState,
        member: &SignedInMember,
        section: Section,
        flash: Option<String>,
    ) -> Result<Self, PageError> {
        let ctx = &member.ctx;
        let workspaces = people::workspaces_of(&state.db, &ctx.user)
            .await?
            .into_iter()
            .map(|(w, role)| SwitchTarget {
                current: w.id == ctx.workspace.id,
                id: w.id.to_string(),
                name: w.name.to_string(),
                role: role.as_str(),
            })
            .collect();
        let nav = Nav {
            email: member.email.clone(),
            workspace: ctx.workspace.name.to_string(),
            section,
            workspaces,
            settings: settings_links(ctx.role, section),
            unconfirmed: !ctx.email_confirmed,
        };
        Ok(Self {
            css: css_path(),
            js: js_path(),
            icon: icon_path(),
            csrf: member.csrf()?,
            user_csrf: member.user_csrf()?,
            nav: Some(nav),
            flash,
        })
    }
}

/// A time for people: `2026-11-22 17:34 UTC`, with no-break hyphens and spaces, so that a
/// narrow column wraps around a time, never inside it.
pub fn human_time(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[year]\u{2011}[month]\u{2011}[day]\u{a0}[hour]:[minute]\u{a0}UTC"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown".into())
}

/// What a signed-in page says: nothing, why an action was refused (above the content), or a
/// refused form shown again with its error at the field. (What a change did is said by the next
/// page, from the session: `SessionState::flash`.)
pub enum Say {
    Nothing,
    Error(String),
    Refused(FormState),
}

impl Say {
    /// The page's error line and the state of its refused form (empty when none was).
    pub fn split(self) -> (Option<String>, FormState) {
        match self {
            Say::Nothing => (None, FormState::default()),
            Say::Error(error) => (Some(error), FormState::default()),
            Say::Refused(form) => (None, form),
        }
    }
}

/// A refused form, shown again: what was typed (never a password) and what is wrong, at the
/// field it is wrong in. The field in error is marked `aria-invalid`, described by its message
/// (`aria-describedby`) and focused when the page loads.
#[derive(Debug, Default)]
pub struct FormState {
    values: Vec<(&'static str, String)>,
    error: Option<(&'static str, String)>,
}

impl FormState {
    /// A form refused because of `field`.
    pub fn refused(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            values: Vec::new(),
            error: Some((field, message.into())),
        }
    }

    /// Keeps what was typed into `field`, to show it again.
    pub fn keep(mut self, field: &'static str, value: impl Into<String>) -> Self {
        self.values.push((field, value.into()));
        self
    }

    /// What was typed into `field`, or nothing.
    pub fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|(name, _)| *name == field)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Whether `value` was among the values sent for `field` (a ticked box, a chosen option).
    pub fn has(&self, field: &str, value: &str) -> bool {
        self.values
            .iter()
            .any(|(name, sent)| *name == field && sent == value)
    }

    /// Whether the form was refused, so a page shows its fields as sent rather than as stored.
    pub fn is_refused(&self) -> bool {
        self.error.is_some()
    }

    /// The message for `field`, when it is the one in error.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }
}
