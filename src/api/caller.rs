//! Who calls a `/v1` route: a program with an API key, or a person signed in to the dashboard
//! whose own pages call the API with their session. Handlers ask the caller what it may do and
//! in whose name it acts; they never look at how it authenticated.

use super::error::ApiError;
use super::rate_limit::Decision;
use crate::connect::{Actor, Finisher};
use crate::db::workspaces::Workspace;
use crate::domain::{Role, Scope, UserId};
use crate::keys::{Issuer, IssuingKey, Principal};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use std::sync::Arc;

/// A person signed in to the dashboard, in their current workspace.
#[derive(Debug)]
pub struct SignedInUser {
    pub user: UserId,
    pub email: String,
    pub role: Role,
    pub workspace: Workspace,
}

#[derive(Debug, Clone)]
pub enum Via {
    /// Shared with the key cache: cloning a caller copies no strings.
    Key(Arc<Principal>),
    Session(Arc<SignedInUser>),
}

/// The authenticated caller of a `/v1` handler.
#[derive(Debug, Clone)]
pub struct Caller {
    pub via: Via,
    pub rate: Decision,
}

impl Caller {
    /// A key needs `scope` among its own; a person needs the role for it (keys are managed by
    /// owners and admins, everything else by any member).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match &self.via {
            Via::Key(key) if key.scopes.allows(scope) => Ok(()),
            Via::Key(_) => Err(ApiError::InsufficientScope(scope)),
            Via::Session(person) => match scope {
                Scope::KeysRead | Scope::KeysWrite if !person.role.can_manage() => Err(
                    ApiError::Forbidden("Only owners and admins manage API keys".into()),
                ),
                _ => Ok(()),
            },
        }
    }

    /// Who connects and sees accounts: a key in its mode, a person in every mode.
    pub fn actor(&self) -> Actor {
        match &self.via {
            Via::Key(key) => Actor::Key {
                workspace: key.workspace.clone(),
                mode: key.mode,
            },
            Via::Session(person) => Actor::Member {
                workspace: person.workspace.id.clone(),
                user: person.user.clone(),
            },
        }
    }

    /// Who finishes a connect flow through `POST /v1/connect/{platform}`.
    pub fn finisher(&self) -> Finisher {
        match &self.via {
            Via::Key(key) => Finisher::Key {
                workspace: key.workspace.clone(),
                mode: key.mode,
            },
            Via::Session(person) => Finisher::Member {
                workspace: person.workspace.id.clone(),
                user: person.user.clone(),
            },
        }
    }

    /// Who makes and revokes keys. Only owners and admins make keys, so a key acts with an
    /// admin's role, capped by its own scopes and mode; a person acts with their role.
    pub fn issuer(&self) -> Issuer {
        match &self.via {
            Via::Key(key) => Issuer {
                workspace: key.workspace.clone(),
                user: key.created_by.clone(),
                role: Role::Admin,
                key: Some(IssuingKey {
                    id: key.key_id.clone(),
                    scopes: key.scopes.clone(),
                    mode: key.mode,
                    expires_at: key.expires_at,
                }),
            },
            Via::Session(person) => Issuer {
                workspace: person.workspace.id.clone(),
                user: Some(person.user.clone()),
                role: person.role,
                key: None,
            },
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or(ApiError::Internal("no caller on an API route".into())),
        )
    }
}
