//! Who calls a `/v1` route: a program with an API key, or a person signed in to the dashboard
//! whose own pages call the API with their session. Handlers ask the caller what it may do and
//! in whose name it acts; they never look at how it authenticated.

use super::error::ApiError;
use crate::audit::{self, Who};
use crate::connect::{Actor, Finisher};
use crate::db::workspaces::Workspace;
use crate::domain::{Email, Role, Scope, UserId};
use crate::http::Unexpected;
use crate::http::rate_limit::Decision;
use crate::keys::{Issuer, IssuingKey, Principal};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use std::sync::Arc;

/// A person signed in to the dashboard, in their current workspace.
#[derive(Debug)]
pub struct SignedInUser {
    pub user: UserId,
    pub email: Email,
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
    /// The client's address, for the audit log.
    pub address: Option<String>,
}

impl Caller {
    /// A key needs `scope` among its own, and both a key and a person need the role for it:
    /// a key acts with its creator's current role (keys are managed by owners and admins,
    /// everything else by any member).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if let Via::Key(key) = &self.via
            && !key.scopes.allows(scope)
        {
            return Err(ApiError::InsufficientScope(scope));
        }
        match scope {
            Scope::KeysRead | Scope::KeysWrite if !self.role().can_manage() => {
                Err(ApiError::Forbidden(match self.via {
                    Via::Key(_) => {
                        "This key's creator is no longer an owner or admin, so it cannot manage API keys".into()
                    }
                    Via::Session(_) => "Only owners and admins manage API keys".into(),
                }))
            }
            _ => Ok(()),
        }
    }

    /// The workspace the caller acts in.
    pub fn workspace(&self) -> &crate::domain::WorkspaceId {
        match &self.via {
            Via::Key(key) => &key.workspace,
            Via::Session(person) => &person.workspace.id,
        }
    }

    /// The role the caller acts with: a person's own, or a key's creator's as it is now.
    pub fn role(&self) -> Role {
        match &self.via {
            Via::Key(key) => key.creator_role,
            Via::Session(person) => person.role,
        }
    }

    /// Who the audit log names for a change made by this request.
    pub fn who(&self) -> Who {
        let actor = match &self.via {
            Via::Key(key) => audit::Actor::Key {
                id: key.key_id.clone(),
                mode: key.mode,
                last4: key.last4.clone(),
            },
            Via::Session(person) => audit::Actor::User {
                id: person.user.clone(),
                email: person.email.clone(),
            },
        };
        Who {
            actor,
            address: self.address.clone(),
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

    /// Who makes and revokes keys: a key acts with its creator's current role, capped by its
    /// own scopes and mode; a person acts with their role.
    pub fn issuer(&self) -> Issuer {
        match &self.via {
            Via::Key(key) => Issuer {
                workspace: key.workspace.clone(),
                user: key.created_by.clone(),
                role: key.creator_role,
                key: Some(IssuingKey {
                    id: key.key_id.clone(),
                    scopes: key.scopes.clone(),
                    mode: key.mode,
                    expires_at: key.expires_at,
                }),
                who: self.who(),
            },
            Via::Session(person) => Issuer {
                workspace: person.workspace.id.clone(),
                user: Some(person.user.clone()),
                role: person.role,
                key: None,
                who: self.who(),
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
                .ok_or(ApiError::Internal(Unexpected::new(
                    "no caller on an API route",
                ))),
        )
    }
}
