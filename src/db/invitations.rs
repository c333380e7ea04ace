//! Invitations to join a workspace: workspace data, except the lookup by the link's digest that
//! the person who clicked it makes before the workspace is known.

use super::schema::{invitations, users};
use super::{
    ByInvitationDigest, DbError, InWorkspace, InvitationLookupConn, MultiBackend, WorkspaceConn,
};
use crate::domain::{Email, InvitationId, Role, UserId, WorkspaceId};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub email: Email,
    pub role: Role,
    pub invited_by: Option<UserId>,
    #[diesel(select_expression = users::email.nullable())]
    pub invited_by_email: Option<Email>,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    /// Who joined with it, once accepted.
    pub accepted_by: Option<UserId>,
    pub revoked_at: Option<i64>,
}

impl Invitation {
    /// Neither accepted nor revoked (it may have expired).
    pub fn is_open(&self) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none()
    }
}

pub struct NewInvitation<'a> {
    pub id: &'a InvitationId,
    pub email: &'a Email,
    pub role: Role,
    pub token_digest: &'a str,
    pub invited_by: &'a UserId,
    pub now: i64,
    pub expires_at: i64,
}

/// Invitations with their inviter's email: the one shape every read takes.
#[diesel::dsl::auto_type(no_type_alias)]
fn with_inviter() -> _ {
    let selection: diesel::dsl::AsSelect<Invitation, MultiBackend> = Invitation::as_select();
    invitations::table.left_join(users::table).select(selection)
}

/// The one invitation `id` of the workspace, while it is open (neither accepted nor revoked).
#[diesel::dsl::auto_type(no_type_alias)]
fn open_one<'a>(workspace: &'a WorkspaceId, id: &'a InvitationId) -> _ {
    invitations::table
        .filter(invitations::workspace_id.eq(workspace))
        .filter(invitations::id.eq(id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
}

pub fn insert(conn: &mut WorkspaceConn<'_>, new: NewInvitation<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(new.id),
            invitations::workspace_id.eq(workspace),
            invitations::email.eq(new.email),
            invitations::role.eq(new.role),
            invitations::token_digest.eq(new.token_digest),
            invitations::invited_by.eq(new.invited_by),
            invitations::created_at.eq(new.now),
            invitations::expires_at.eq(new.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The workspace's open invitations (expired ones included, so they can be resent), newest
/// first.
pub fn open(conn: &mut WorkspaceConn<'_>) -> Result<Vec<Invitation>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(with_inviter()
        .filter(invitations::workspace_id.eq(workspace))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .order((invitations::created_at.desc(), invitations::id.asc()))
        .load(conn)?)
}

/// How many invitations the workspace has ever sent, whatever became of them.
pub fn count(conn: &mut WorkspaceConn<'_>) -> Result<i64, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(invitations::table
        .filter(invitations::workspace_id.eq(workspace))
        .count()
        .get_result(conn)?)
}

pub fn get(conn: &mut WorkspaceConn<'_>, id: &InvitationId) -> Result<Option<Invitation>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(with_inviter()
        .filter(invitations::workspace_id.eq(workspace))
        .filter(invitations::id.eq(id))
        .first(conn)
        .optional()?)
}

/// Gives an open invitation a new link and a new expiry; the old link stops working. False
/// when it is no longer open.
pub fn reissue(
    conn: &mut WorkspaceConn<'_>,
    id: &InvitationId,
    token_digest: &str,
    expires_at: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(open_one(workspace, id))
        .set((
            invitations::token_digest.eq(token_digest),
            invitations::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes an open invitation; false when it is no longer open.
pub fn revoke(conn: &mut WorkspaceConn<'_>, id: &InvitationId, now: i64) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(open_one(workspace, id))
        .set(invitations::revoked_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Marks an open, unexpired invitation accepted by `user`: true for exactly one caller.
pub fn accept(
    conn: &mut WorkspaceConn<'_>,
    id: &InvitationId,
    user: &UserId,
    now: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(open_one(workspace, id).filter(invitations::expires_at.gt(now)))
        .set((
            invitations::accepted_at.eq(now),
            invitations::accepted_by.eq(user),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// The invitation whose link the lookup names, in whatever state it is.
pub fn find_by_digest(conn: &mut InvitationLookupConn<'_>) -> Result<Option<Invitation>, DbError> {
    let (conn, ByInvitationDigest(digest)) = conn.split();
    Ok(with_inviter()
        .filter(invitations::token_digest.eq(digest))
        .first(conn)
        .optional()?)
}

/// Every invitation of this workspace that `user` sent, open or not.
pub fn sent_by(conn: &mut WorkspaceConn<'_>, user: &UserId) -> Result<Vec<Invitation>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(with_inviter()
        .filter(invitations::workspace_id.eq(workspace))
        .filter(invitations::invited_by.eq(user))
        .load(conn)?)
}
