use super::AccountError;
use crate::audit::Event;
use crate::auth::throttle;
use crate::db::memberships::Member;
use crate::db::workspaces::Workspace;
use crate::db::{
    AsUser, Database, Global, InWorkspace, api_keys, audit_events, connected_accounts, invitations,
    memberships, users, workspaces,
};
use crate::domain::{Role, UserId, WorkspaceId, WorkspaceName, now};

/// A signed-in user as seen inside their current workspace.
#[derive(Debug, Clone)]
pub struct MemberContext {
    pub user: UserId,
    pub workspace: Workspace,
    pub role: Role,
    /// Whether the user has confirmed their email (see `users::is_confirmed`).
    pub email_confirmed: bool,
}

/// The user's standing in `workspace`; `None` when they are not (or no longer) a member.
pub async fn member_context(
    db: &Database,
    user: UserId,
    workspace: WorkspaceId,
) -> Result<Option<MemberContext>, AccountError> {
    db.read(InWorkspace(workspace), move |conn| {
        let Some(role) = memberships::role_of(conn, &user)? else {
            return Ok(None);
        };
        let Some(workspace) = workspaces::current(conn)? else {
            return Ok(None);
        };
        let email_confirmed = users::is_confirmed(&mut conn.global(), &user)?;
        Ok(Some(MemberContext {
            user,
            workspace,
            role,
            email_confirmed,
        }))
    })
    .await
}

pub struct Dashboard {
    /// False until the user has followed a verification (or reset) link.
    pub email_verified: bool,
    pub members: Vec<Member>,
    /// Every workspace the user belongs to, for the switcher.
    pub workspaces: Vec<(Workspace, Role)>,
    pub progress: Progress,
}

/// How far a workspace has come from new: what its first steps have left behind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Keys ever made, revoked ones included.
    pub keys: i64,
    /// Accounts ever connected, sandbox ones included (a disconnect does not undo the step).
    pub accounts: i64,
    /// Invitations ever sent.
    pub invitations: i64,
}

pub async fn dashboard(db: &Database, ctx: &MemberContext) -> Result<Dashboard, AccountError> {
    let (members, progress) = db
        .read(InWorkspace(ctx.workspace.id.clone()), |conn| {
            let members = memberships::members(conn)?;
            let progress = Progress {
                keys: api_keys::count(conn)?,
                accounts: connected_accounts::count(conn)?
                    + audit_events::count_of(conn, Event::AccountConnected.as_str())?,
                invitations: invitations::count(conn)?,
            };
            Ok::<_, AccountError>((members, progress))
        })
        .await?;
    let user = ctx.user.clone();
    let email_verified = db
        .read(Global, move |conn| users::find(conn, &user))
        .await?
        .is_some_and(|u| u.email_verified);
    let workspaces = workspaces_of(db, &ctx.user).await?;
    Ok(Dashboard {
        email_verified,
        members,
        workspaces,
        progress,
    })
}

/// Every workspace `user` belongs to, with their role in it.
pub async fn workspaces_of(
    db: &Database,
    user: &UserId,
) -> Result<Vec<(Workspace, Role)>, AccountError> {
    Ok(db
        .read(AsUser(user.clone()), workspaces::list_for_user)
        .await?)
}

/// A user whose email is confirmed can create further workspaces, up to ten a day; they own
/// them. Answers its id and its name as stored.
pub async fn create_workspace(
    db: &Database,
    user: &UserId,
    name: WorkspaceName,
) -> Result<(WorkspaceId, WorkspaceName), AccountError> {
    let id = WorkspaceId::generate();
    let (user, stored) = (user.clone(), name.clone());
    db.write(InWorkspace(id.clone()), move |conn| {
        let now = now();
        if !users::is_confirmed(&mut conn.global(), &user)? {
            return Err(AccountError::EmailUnconfirmed);
        }
        if !throttle::admit_workspace(&mut conn.global(), &user, now)? {
            return Err(AccountError::Throttled);
        }
        workspaces::create(conn, &stored, now)?;
        memberships::add(conn, &user, Role::Owner, now)?;
        Ok(())
    })
    .await?;
    Ok((id, name))
}

/// Checks that the user may switch to `workspace` (they are a member of it), and answers it.
pub async fn switch_workspace(
    db: &Database,
    user: &UserId,
    workspace: &WorkspaceId,
) -> Result<Workspace, AccountError> {
    workspaces_of(db, user)
        .await?
        .into_iter()
        .map(|(workspace, _)| workspace)
        .find(|candidate| &candidate.id == workspace)
        .ok_or(AccountError::NotMember)
}
