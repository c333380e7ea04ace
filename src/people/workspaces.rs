use super::AccountError;
use super::signin::create_own_workspace;
use crate::db::memberships::Member;
use crate::db::workspaces::Workspace;
use crate::db::{AsUser, Database, Global, InWorkspace, memberships, users, workspaces};
use crate::domain::{Role, UserId, WorkspaceId, WorkspaceName};

/// A signed-in user as seen inside their current workspace.
#[derive(Debug, Clone)]
pub struct MemberContext {
    pub user: UserId,
    pub workspace: Workspace,
    pub role: Role,
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
        Ok(Some(MemberContext {
            user,
            workspace,
            role,
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
}

pub async fn dashboard(db: &Database, ctx: &MemberContext) -> Result<Dashboard, AccountError> {
    let members = db
        .read(InWorkspace(ctx.workspace.id.clone()), memberships::members)
        .await?;
    let user = ctx.user.clone();
    let email_verified = db
        .read(Global, move |conn| users::find(conn, &user))
        .await?
        .is_some_and(|u| u.email_verified);
    let workspaces = db
        .read(AsUser(ctx.user.clone()), workspaces::list_for_user)
        .await?;
    Ok(Dashboard {
        email_verified,
        members,
        workspaces,
    })
}

/// Any user can create a further workspace; they own it.
pub async fn create_workspace(
    db: &Database,
    user: &UserId,
    name: &str,
) -> Result<WorkspaceId, AccountError> {
    let name = WorkspaceName::parse(name)?;
    create_own_workspace(db, user, name).await
}

/// Checks that the user may switch to `workspace` (they are a member of it).
pub async fn switch_workspace(
    db: &Database,
    user: &UserId,
    workspace: &str,
) -> Result<WorkspaceId, AccountError> {
    let workspace = WorkspaceId::parse(workspace.trim()).ok_or(AccountError::NotMember)?;
    let target = workspace.clone();
    let role = db
        .read(AsUser(user.clone()), move |conn| {
            memberships::role_in(conn, &target)
        })
        .await?;
    role.map(|_| workspace).ok_or(AccountError::NotMember)
}
