//! Everything the service keeps in a signed-in session, under one type: the names of the
//! session's values are known here and nowhere else.

use crate::crypto::{constant_time_eq, random_token};
use crate::domain::{SessionId, UserId, WorkspaceId};
use actix_session::{Session, SessionGetError, SessionInsertError};

/// Names the session store also reads, to keep them in columns of their own.
pub(crate) const USER_ID: &str = "user_id";
pub(crate) const USER_AGENT: &str = "user_agent";
pub(crate) const CLIENT_ADDRESS: &str = "client_address";
/// The public name of a signed-in session (its row's id), so a page can tell which of the
/// user's sessions is the one it is shown in.
pub(crate) const SESSION_ID: &str = "session_id";
const WORKSPACE_ID: &str = "workspace_id";
const EMAIL: &str = "email";
const CSRF_TOKEN: &str = "csrf";
const FLASH: &str = "flash";
/// A new key's sealed half, until the page that shows it once (`web::shown_once`).
const NEW_KEY: &str = "new_key";

/// A submitted CSRF token against the session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// Not this session's token: refused.
    Refused,
    /// This session's, from a page of the current workspace (or of no workspace).
    Valid,
    /// This session's, from a page of a workspace that is no longer the current one.
    OtherWorkspace,
}

/// Who signed in, from where.
pub struct SignIn<'a> {
    pub user: &'a UserId,
    pub workspace: &'a WorkspaceId,
    pub email: &'a str,
    pub user_agent: &'a str,
    pub client_address: &'a str,
}

/// A request's session, read and written through what it means.
#[derive(Clone)]
pub struct SessionState(Session);

impl SessionState {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Starts a signed-in session under a new key, with a new CSRF token, so that nothing seen
    /// before sign-in is worth anything after it.
    pub fn sign_in(&self, who: SignIn<'_>) -> Result<(), SessionInsertError> {
        self.0.renew();
        self.0.insert(SESSION_ID, SessionId::generate().as_str())?;
        self.0.insert(USER_ID, who.user.as_str())?;
        self.0.insert(EMAIL, who.email)?;
        self.set_workspace(who.workspace)?;
        self.0.insert(
            USER_AGENT,
            who.user_agent.chars().take(200).collect::<String>(),
        )?;
        self.0.insert(CLIENT_ADDRESS, who.client_address)?;
        self.0.insert(CSRF_TOKEN, random_token())?;
        Ok(())
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.text(USER_ID).and_then(|id| UserId::parse(&id))
    }

    pub fn session_id(&self) -> Option<SessionId> {
        self.text(SESSION_ID).and_then(|id| SessionId::parse(&id))
    }

    pub fn workspace_id(&self) -> Option<WorkspaceId> {
        self.text(WORKSPACE_ID)
            .and_then(|id| WorkspaceId::parse(&id))
    }

    pub fn email(&self) -> Option<String> {
        self.text(EMAIL)
    }

    /// The workspace the user works in from now on.
    pub fn set_workspace(&self, workspace: &WorkspaceId) -> Result<(), SessionInsertError> {
        self.0.insert(WORKSPACE_ID, workspace.as_str())
    }

    /// The session's CSRF token, made on first use.
    pub fn csrf_token(&self) -> Result<String, SessionInsertError> {
        if let Some(token) = self.text(CSRF_TOKEN) {
            return Ok(token);
        }
        let token = random_token();
        self.0.insert(CSRF_TOKEN, &token)?;
        Ok(token)
    }

    /// The token of a page shown in `workspace`: the session's token bound to that workspace,
    /// so that a form posted from a page of another workspace (the user switched in another tab
    /// since) is told apart from a forged one and refused without acting on the wrong workspace.
    pub fn page_token(&self, workspace: &WorkspaceId) -> Result<String, SessionInsertError> {
        Ok(format!("{}.{}", self.csrf_token()?, workspace.as_str()))
    }

    /// What a submitted token (`csrf_token` field, `X-CSRF-Token` header) is worth.
    pub fn check_token(&self, submitted: &str) -> TokenCheck {
        let (token, workspace) = match submitted.split_once('.') {
            Some((token, workspace)) => (token, Some(workspace)),
            None => (submitted, None),
        };
        let matches = self.text(CSRF_TOKEN).is_some_and(|expected| {
            !token.is_empty() && constant_time_eq(expected.as_bytes(), token.as_bytes())
        });
        if !matches {
            return TokenCheck::Refused;
        }
        match (workspace, self.workspace_id()) {
            (None, _) => TokenCheck::Valid,
            (Some(page), Some(current)) if page == current.as_str() => TokenCheck::Valid,
            (Some(_), _) => TokenCheck::OtherWorkspace,
        }
    }

    /// A one-line message for the next page the user sees ("Key 'CI' revoked."), shown once.
    pub fn flash(&self, message: impl Into<String>) -> Result<(), SessionInsertError> {
        self.0.insert(FLASH, message.into())
    }

    /// The message left for this page, if any; it is gone afterwards.
    pub fn take_flash(&self) -> Option<String> {
        let message = self.text(FLASH)?;
        self.0.remove(FLASH);
        Some(message)
    }

    /// Keeps a new key's id and sealed plaintext for the page after the redirect.
    pub fn hold_new_key(&self, key_id: &str, sealed: &str) -> Result<(), SessionInsertError> {
        self.0.insert(NEW_KEY, (key_id, sealed))
    }

    /// The held secret's owner id and sealed plaintext, if one is held for an id that starts
    /// with `prefix`; gone from the session afterwards.
    pub fn take_new_key_of(&self, prefix: &str) -> Option<(String, String)> {
        // Looked at first: removing marks the session changed, and a page view with nothing
        // held (or something held for another page) must stay a read.
        let held = self
            .0
            .get::<(String, String)>(NEW_KEY)
            .ok()
            .flatten()
            .filter(|(id, _)| id.starts_with(prefix));
        if held.is_some() {
            self.0.remove(NEW_KEY);
        }
        held
    }

    /// Ends the session: its row is deleted and the cookie cleared.
    pub fn end(&self) {
        self.0.purge();
    }

    fn text(&self, name: &str) -> Option<String> {
        self.0
            .get::<String>(name)
            .unwrap_or_else(|e: SessionGetError| {
                // A value that does not decode is as good as none; the session stays usable.
                log::debug!("session value {name} unreadable: {e}");
                None
            })
    }
}
