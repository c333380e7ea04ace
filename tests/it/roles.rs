//! The table of powers, walked whole: for each role, a workspace where someone holds it (built
//! from invitations), and every power of the table tried through the real pages and `/v1`. What
//! the role may do is done, and shows in the workspace; what it may not is refused with 403 and
//! changes nothing, not even the audit log.

use crate::connect::approve_on_sandbox_as;
use crate::dashboard_api::{page_token, v1};
use crate::harness::{Browser, TestApp, json, location, unique_email};
use crate::invitations::{app_with_mail, joined};
use crate::mailbox::Mailbox;
use reqwest::{Method, StatusCode};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

const EVERYONE: &[Role] = &[Role::Owner, Role::Admin, Role::Member];
const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
const OWNERS: &[Role] = &[Role::Owner];

/// Declares the powers once: the enum, and the list of all of them in order.
macro_rules! powers {
    ($($power:ident),* $(,)?) => {
        #[derive(Clone, Copy, Debug)]
        enum Power {
            $($power),*
        }

        const POWERS: &[Power] = &[$(Power::$power),*];
    };
}

// Each power of the table, in an order where nothing done earlier takes away what a later one
// needs (deleting the workspace comes last).
powers!(
    SeeDashboard,
    SeeMembersPage,
    ListMembersApi,
    SeeAccountsPage,
    ListAccountsApi,
    ConnectAccount,
    DisconnectAccountPage,
    DisconnectAccountApi,
    SeeKeysPage,
    ListKeysApi,
    CreateKeyPage,
    CreateKeyApi,
    RollKey,
    RevokeKeyPage,
    RevokeKeyApi,
    InviteMember,
    InviteAdmin,
    ResendInvitation,
    RevokeInvitation,
    ChangeRoleBelowOwner,
    RemoveMember,
    SeeAuditPage,
    ListAuditApi,
    InviteOwner,
    MakeOwner,
    DemoteOwner,
    RemoveOwner,
    RenameWorkspace,
    DeleteWorkspace,
);

/// Who may, per the table; and whether doing it changes the workspace.
fn rule(power: Power) -> (&'static [Role], bool) {
    use Power::*;
    match power {
        SeeDashboard | SeeMembersPage | ListMembersApi | SeeAccountsPage | ListAccountsApi => {
            (EVERYONE, false)
        }
        ConnectAccount | DisconnectAccountPage | DisconnectAccountApi => (EVERYONE, true),
        SeeKeysPage | ListKeysApi | SeeAuditPage | ListAuditApi => (MANAGERS, false),
        CreateKeyPage | CreateKeyApi | RollKey | RevokeKeyPage | RevokeKeyApi | InviteMember
        | InviteAdmin | ResendInvitation | RevokeInvitation | ChangeRoleBelowOwner
        | RemoveMember => (MANAGERS, true),
        InviteOwner | MakeOwner | DemoteOwner | RemoveOwner | RenameWorkspace | DeleteWorkspace => {
            (OWNERS, true)
        }
    }
}

/// A workspace where `actor` holds the role under test, with someone of every kind to act on.
struct Stage<'a> {
    app: &'a TestApp,
    workspace: String,
    name: String,
    actor: Browser,
    /// The workspace's creator, an owner.
    creator: Browser,
    second_owner: String,
    member_to_change: String,
    member_to_promote: String,
    /// Keys the creator made, for rolling and revoking.
    keys: Vec<String>,
    /// The creator's open invitation.
    invitation: String,
    /// Accounts the creator connected, for disconnecting.
    accounts: Vec<String>,
}

/// Everything a power could change, read past row-level security.
#[derive(PartialEq, Debug)]
struct Snapshot {
    name: String,
    roles: Vec<i64>,
    active_keys: i64,
    keys: i64,
    open_invitations: i64,
    invitation_digests: String,
    accounts: i64,
    audit_entries: i64,
}

impl Stage<'_> {
    fn snapshot(&self) -> Snapshot {
        let ws = &self.workspace;
        let db = &self.app.db;
        let count = |sql: &str| db.count_as_admin(&format!("SELECT COUNT(*) AS n FROM {sql}"));
        let name = if count(&format!("workspaces WHERE id = '{ws}'")) == 1 {
            db.first_text_as_admin(&format!(
                "SELECT name AS v FROM workspaces WHERE id = '{ws}'"
            ))
        } else {
            String::new()
        };
        let digests = if count(&format!("invitations WHERE id = '{}'", self.invitation)) == 1 {
            db.first_text_as_admin(&format!(
                "SELECT token_digest AS v FROM invitations WHERE id = '{}'",
                self.invitation
            ))
        } else {
            String::new()
        };
        Snapshot {
            name,
            roles: ["owner", "admin", "member"]
                .iter()
                .map(|r| {
                    count(&format!(
                        "memberships WHERE workspace_id = '{ws}' AND role = '{r}'"
                    ))
                })
                .collect(),
            active_keys: count(&format!(
                "api_keys WHERE workspace_id = '{ws}' AND revoked_at IS NULL"
            )),
            keys: count(&format!("api_keys WHERE workspace_id = '{ws}'")),
            open_invitations: count(&format!(
                "invitations WHERE workspace_id = '{ws}' \
                 AND accepted_at IS NULL AND revoked_at IS NULL"
            )),
            invitation_digests: digests,
            accounts: count(&format!("connected_accounts WHERE workspace_id = '{ws}'")),
            audit_entries: count(&format!("audit_events WHERE workspace_id = '{ws}'")),
        }
    }

    fn user_id(&self, email: &str) -> String {
        self.app.db.first_text_as_admin(&format!(
            "SELECT id AS v FROM users WHERE email = '{email}'"
        ))
    }

    /// A form posted by the actor, with their session's token.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> StatusCode {
        self.actor.submit("/dashboard", path, fields).await.status()
    }

    async fn get(&self, path: &str) -> StatusCode {
        self.actor.get(path).await.status()
    }

    /// A `/v1` call on the actor's session.
    async fn api(&self, method: Method, path: &str, body: Option<serde_json::Value>) -> StatusCode {
        let mut request = v1(&self.actor, method.clone(), path);
        if method != Method::GET {
            request = request.header("x-csrf-token", page_token(&self.actor).await);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        json(request).await.0
    }

    async fn try_power(&self, power: Power) -> StatusCode {
        use Power::*;
        let fresh = || unique_email("invited");
        match power {
            SeeDashboard => self.get("/dashboard").await,
            SeeMembersPage => self.get("/settings/members").await,
            ListMembersApi => self.api(Method::GET, "/v1/members", None).await,
            SeeAccountsPage => self.get("/settings/accounts").await,
            ListAccountsApi => self.api(Method::GET, "/v1/accounts", None).await,
            ConnectAccount => connect_sandbox(&self.actor, "by-the-actor").await.0,
            DisconnectAccountPage => {
                let path = format!("/settings/accounts/{}/disconnect", self.accounts[0]);
                self.post(&path, &[]).await
            }
            DisconnectAccountApi => {
                let path = format!("/v1/accounts/{}", self.accounts[1]);
                self.api(Method::DELETE, &path, None).await
            }
            SeeKeysPage => self.get("/settings/api-keys").await,
            ListKeysApi => self.api(Method::GET, "/v1/api-keys", None).await,
            CreateKeyPage => {
                self.post(
                    "/settings/api-keys",
                    &[("label", "actor's"), ("mode", "live")],
                )
                .await
            }
            CreateKeyApi => {
                let body = serde_json::json!({"label": "actor's"});
                self.api(Method::POST, "/v1/api-keys", Some(body)).await
            }
            RollKey => {
                let path = format!("/settings/api-keys/{}/roll", self.keys[0]);
                self.post(&path, &[("grace_hours", "1")]).await
            }
            RevokeKeyPage => {
                let path = format!("/settings/api-keys/{}/revoke", self.keys[1]);
                self.post(&path, &[]).await
            }
            RevokeKeyApi => {
                let path = format!("/v1/api-keys/{}", self.keys[2]);
                self.api(Method::DELETE, &path, None).await
            }
            InviteMember | InviteAdmin | InviteOwner => {
                let role = match power {
                    InviteMember => "member",
                    InviteAdmin => "admin",
                    _ => "owner",
                };
                let email = fresh();
                let fields = [("email", email.as_str()), ("role", role)];
                self.post("/settings/members/invitations", &fields).await
            }
            ResendInvitation | RevokeInvitation => {
                let verb = if let ResendInvitation = power {
                    "resend"
                } else {
                    "revoke"
                };
                let path = format!("/settings/members/invitations/{}/{verb}", self.invitation);
                self.post(&path, &[]).await
            }
            ChangeRoleBelowOwner => {
                let path = format!(
                    "/settings/members/{}/role",
                    self.user_id(&self.member_to_change)
                );
                self.post(&path, &[("role", "admin")]).await
            }
            RemoveMember => {
                let path = format!(
                    "/settings/members/{}/remove",
                    self.user_id(&self.member_to_change)
                );
                self.post(&path, &[]).await
            }
            SeeAuditPage => self.get("/settings/audit").await,
            ListAuditApi => self.api(Method::GET, "/v1/audit-events", None).await,
            MakeOwner => {
                let id = self.user_id(&self.member_to_promote);
                let path = format!("/settings/members/{id}/role");
                self.post(&path, &[("role", "owner")]).await
            }
            DemoteOwner => {
                let id = self.user_id(&self.second_owner);
                let path = format!("/settings/members/{id}/role");
                self.post(&path, &[("role", "member")]).await
            }
            RemoveOwner => {
                let creator = json(v1(&self.creator, Method::GET, "/v1/status")).await.2;
                let id = creator["user"]["id"].as_str().unwrap().to_owned();
                self.post(&format!("/settings/members/{id}/remove"), &[])
                    .await
            }
            RenameWorkspace => {
                self.post("/settings/workspace/rename", &[("name", "Renamed")])
                    .await
            }
            DeleteWorkspace => {
                let name = self.snapshot().name;
                self.post("/settings/workspace/delete", &[("name", &name)])
                    .await
            }
        }
    }
}

/// Connects a sandbox account through the pages, as `browser`; answers the last status and
/// where it led.
pub async fn connect_sandbox(browser: &Browser, account: &str) -> (StatusCode, String) {
    let begun = browser.get("/connect/sandbox").await;
    if begun.status() != StatusCode::SEE_OTHER {
        return (begun.status(), String::new());
    }
    let auth_url = location(begun.headers());
    let auth_url = if auth_url.starts_with('/') {
        format!("{}{auth_url}", browser.base)
    } else {
        auth_url
    };
    let back = approve_on_sandbox_as(browser, &auth_url, account).await;
    let finished = browser.get(back.trim_start_matches(&browser.base)).await;
    let status = finished.status();
    (status, location(finished.headers()))
}

async fn stage<'a>(app: &'a TestApp, mailbox: &Mailbox, role: Role) -> Stage<'a> {
    let name = format!("Table {}", role.name());
    let creator = app.browser();
    creator.sign_up(&unique_email("creator"), &name).await;
    let status = json(v1(&creator, Method::GET, "/v1/status")).await.2;
    let workspace = status["workspace"]["id"].as_str().unwrap().to_owned();

    let (_, second_owner) = joined(app, mailbox, &creator, "owner").await;
    let (actor, _) = joined(app, mailbox, &creator, role.name()).await;
    let (_, member_to_change) = joined(app, mailbox, &creator, "member").await;
    let (_, member_to_promote) = joined(app, mailbox, &creator, "member").await;

    let token = page_token(&creator).await;
    let mut keys = Vec::new();
    for label in ["to roll", "to revoke", "to revoke by api"] {
        let made = json(
            v1(&creator, Method::POST, "/v1/api-keys")
                .header("x-csrf-token", &token)
                .json(&serde_json::json!({ "label": label })),
        )
        .await;
        assert_eq!(made.0, StatusCode::CREATED, "{}", made.2);
        keys.push(made.2["id"].as_str().unwrap().to_owned());
    }

    let pending = unique_email("pending");
    let invited = crate::invitations::invite(&creator, &pending, "member").await;
    assert_eq!(invited.status(), StatusCode::SEE_OTHER);
    let invitation = app.db.first_text_as_admin(&format!(
        "SELECT id AS v FROM invitations WHERE email = '{pending}'"
    ));

    let mut accounts = Vec::new();
    for account in ["first-of-creator", "second-of-creator"] {
        let (status, _) = connect_sandbox(&creator, account).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        accounts.push(app.db.first_text_as_admin(&format!(
            "SELECT id AS v FROM connected_accounts \
             WHERE workspace_id = '{workspace}' AND handle LIKE '%{account}%'"
        )));
    }

    Stage {
        app,
        workspace,
        name,
        actor,
        creator,
        second_owner,
        member_to_change,
        member_to_promote,
        keys,
        invitation,
        accounts,
    }
}

#[tokio::test]
async fn each_role_meets_exactly_the_powers_of_the_table() {
    let (app, mailbox) = app_with_mail().await;
    for role in [Role::Owner, Role::Admin, Role::Member] {
        let stage = stage(&app, &mailbox, role).await;
        assert_eq!(stage.snapshot().name, stage.name);
        for &power in POWERS {
            let (allowed, changes) = rule(power);
            let may = allowed.contains(&role);
            let before = stage.snapshot();
            let status = stage.try_power(power).await;
            let after = stage.snapshot();
            let context = format!("{role:?} {power:?}: {status}\n{before:?}\n{after:?}");
            if may {
                assert!(
                    status.is_success() || status == StatusCode::SEE_OTHER,
                    "{context}"
                );
                if changes {
                    assert_ne!(before, after, "done, and it shows: {context}");
                    assert!(
                        after.audit_entries > before.audit_entries,
                        "audited: {context}"
                    );
                } else {
                    assert_eq!(before, after, "seeing changes nothing: {context}");
                }
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{context}");
                assert_eq!(before, after, "refused, and nothing changed: {context}");
            }
        }
        let deleted = role == Role::Owner;
        assert_eq!(stage.snapshot().name.is_empty(), deleted, "{role:?}");
    }
}
