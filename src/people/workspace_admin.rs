//! Renaming and deleting a workspace (its owners), and setting its plan (an operator).

use super::AccountError;
use crate::audit::{self, Event, Who};
use crate::connect::{Connector, Revocations};
use crate::db::{Database, InWorkspace, WorkspaceConn, memberships, workspace_keys, workspaces};
use crate::domain::{Action, Invalid, Plan, WorkspaceId, WorkspaceName};
use crate::keys::KeyCache;
use crate::logging::Chain;

/// Holds the workspace (see `workspaces::lock`), checks that `who` may do `action` there, and
/// answers its current name.
fn authorize(
    conn: &mut WorkspaceConn<'_>,
    who: &Who,
    action: Action,
) -> Result<WorkspaceName, AccountError> {
    if !workspaces::lock(conn)? {
        return Err(AccountError::NotFound);
    }
    let user = who.user_id().ok_or(AccountError::NotAllowed)?;
    let role = memberships::role_of(conn, user)?.ok_or(AccountError::NotMember)?;
    if !role.may(action) {
        return Err(AccountError::NotAllowed);
    }
    Ok(workspaces::current(conn)?
        .ok_or(AccountError::NotFound)?
        .name)
}

pub async fn rename_workspace(
    db: &Database,
    workspace: &WorkspaceId,
    who: &Who,
    name: WorkspaceName,
) -> Result<(), AccountError> {
    let who = who.clone();
    db.write(InWorkspace(workspace.clone()), move |conn| {
        let old = authorize(conn, &who, Action::RenameWorkspace)?;
        if old == name {
            return Ok(());
        }
        workspaces::rename(conn, &name)?;
        let detail = format!("from \"{old}\"");
        audit::record(
            conn,
            &who,
            Event::WorkspaceRenamed,
            name.as_str(),
            Some(&detail),
        )?;
        Ok(())
    })
    .await
}

/// Deletes the workspace and everything in it, once the owner has typed its name: the data key
/// first (from then on no token of it can be read), then every row, in one transaction. Its
/// keys stop working at once; its connected accounts are revoked at the platforms after their
/// rows are gone, as a disconnect does. The audit log keeps the deletion.
pub async fn delete_workspace(
    db: &Database,
    connector: &Connector,
    cache: &KeyCache,
    workspace: &WorkspaceId,
    who: &Who,
    typed_name: &str,
) -> Result<(), AccountError> {
    let typed = crate::domain::text::nfc(typed_name.trim());
    // Checked before the tokens are opened, so a refusal reads nothing it need not.
    let (who_first, typed_first) = (who.clone(), typed.clone());
    db.read(InWorkspace(workspace.clone()), move |conn| {
        let user = who_first.user_id().ok_or(AccountError::NotAllowed)?;
        let role = memberships::role_of(conn, user)?.ok_or(AccountError::NotMember)?;
        if !role.may(Action::DeleteWorkspace) {
            return Err(AccountError::NotAllowed);
        }
        let name = workspaces::current(conn)?
            .ok_or(AccountError::NotFound)?
            .name;
        confirm(&name, &typed_first)
    })
    .await?;
    // Best effort, like a disconnect: tokens that cannot be opened (a lost root key) cannot be
    // revoked, and must not keep the workspace from being deleted.
    let revocations = connector
        .tokens_to_revoke(workspace)
        .await
        .unwrap_or_else(|e| {
            log::warn!(
                "deleting workspace {workspace}: its tokens cannot be revoked: {}",
                Chain(&e)
            );
            Revocations::default()
        });
    let who = who.clone();
    let deleted = db
        .write(InWorkspace(workspace.clone()), move |conn| {
            let name = authorize(conn, &who, Action::DeleteWorkspace)?;
            confirm(&name, &typed)?;
            audit::record(conn, &who, Event::WorkspaceDeleted, name.as_str(), None)?;
            workspace_keys::delete(conn)?;
            workspaces::delete(conn)?;
            Ok::<_, AccountError>(())
        })
        .await;
    cache.forget_workspace(workspace);
    deleted?;
    connector.revoke_all(revocations).await;
    Ok(())
}

/// The typed name must be the workspace's own, exactly (after Unicode normalisation).
fn confirm(name: &WorkspaceName, typed: &str) -> Result<(), AccountError> {
    if name.as_str() == typed {
        Ok(())
    } else {
        Err(AccountError::Invalid(Invalid::new(
            "name",
            "Type the workspace's name exactly to confirm.",
        )))
    }
}

/// Sets the plan (an operator's command); recorded in the audit log. Answers the plan before.
pub async fn set_plan(
    db: &Database,
    workspace: &WorkspaceId,
    plan: Plan,
) -> Result<(Plan, Plan), AccountError> {
    db.write(InWorkspace(workspace.clone()), move |conn| {
        if !workspaces::lock(conn)? {
            return Err(AccountError::NotFound);
        }
        let before = workspaces::current(conn)?
            .ok_or(AccountError::NotFound)?
            .plan;
        if before != plan {
            workspaces::set_plan(conn, plan)?;
            let detail = format!("from {before} to {plan}");
            audit::record(
                conn,
                &Who::operator(),
                Event::PlanChanged,
                plan.as_str(),
                Some(&detail),
            )?;
        }
        Ok((before, plan))
    })
    .await
}
