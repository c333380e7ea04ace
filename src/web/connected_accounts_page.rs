//! Connected accounts in the browser: the settings page, the way out to a platform
//! and the way back, and Disconnect. Any member may connect accounts.

use super::PageError;
use super::confirm::{self, Confirmation};
use super::current::SignedInMember;
use super::errors::{MessagePage, render, render_message, see_other};
use super::extract::{CheckedForm, NoFields, PageQuery};
use super::layout::{Layout, Section, human_time};
use crate::connect::{AccountStatus, AccountView, Actor, ConnectError, Finisher, Platform};
use crate::domain::KeyMode;
use crate::domain::{AccountId, now};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

/// Tokens that cannot be refreshed are flagged this long before they expire.
const EXPIRY_WARNING_SECS: i64 = 7 * 24 * 60 * 60;

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Layout,
    workspace: String,
    live: Vec<AccountRow>,
    test: Vec<AccountRow>,
    connect: Vec<ConnectButton>,
}

struct ConnectButton {
    slug: &'static str,
    name: &'static str,
}

struct AccountRow {
    id: String,
    platform: &'static str,
    handle: String,
    display_name: String,
    status: &'static str,
    connected_at: String,
    expires: String,
    warning: Option<String>,
    last_error: Option<String>,
    disconnect: Confirmation,
}

impl AccountRow {
    fn new(account: AccountView, now: i64) -> Self {
        let warning = match account.token_expires_at {
            Some(at)
                if !account.refreshable && account.status == AccountStatus::Active && at <= now =>
            {
                Some("The token has expired: reconnect to keep posting.".to_owned())
            }
            Some(at)
                if !account.refreshable
                    && account.status == AccountStatus::Active
                    && at - now <= EXPIRY_WARNING_SECS =>
            {
                Some(format!(
                    "The token expires on {} and cannot be renewed automatically: reconnect before then.",
                    human_time(at)
                ))
            }
            _ => None,
        };
        AccountRow {
            disconnect: disconnect_confirmation(&account),
            id: account.id.to_string(),
            platform: account.platform.display_name(),
            handle: account.handle,
            display_name: account.display_name,
            status: account.status.as_str(),
            connected_at: human_time(account.connected_at),
            expires: match (account.token_expires_at, account.refreshable) {
                (Some(at), true) => format!("{} (renewed automatically)", human_time(at)),
                (Some(at), false) => human_time(at),
                (None, _) => "never".into(),
            },
            warning,
            last_error: account.last_error,
        }
    }
}

/// "@ada on X".
fn account_name(account: &AccountView) -> String {
    format!("{} on {}", account.handle, account.platform.display_name())
}

fn disconnect_confirmation(account: &AccountView) -> Confirmation {
    Confirmation::new(
        format!("Disconnect {}?", account_name(account)),
        "Its tokens are erased from here at once and revoked at the platform. You can \
                 connect it again later.",
        format!("/settings/accounts/{}/disconnect", account.id),
        "Disconnect",
        "/settings/accounts",
    )
}

/// An account the member's workspace has connected, or 404.
async fn one_account(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
) -> Result<AccountView, PageError> {
    let id = AccountId::parse(id).ok_or(PageError::NotFound)?;
    state
        .connector
        .list(&actor(member))
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(PageError::NotFound)
}

fn actor(member: &SignedInMember) -> Actor {
    Actor::Member {
        workspace: member.ctx.workspace.id.clone(),
        user: member.ctx.user.clone(),
    }
}

#[get("/settings/accounts")]
pub async fn list(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    let accounts = state.connector.list(&actor(&member)).await?;
    let now = now();
    let (test, live): (Vec<_>, Vec<_>) =
        accounts.into_iter().partition(|a| a.mode == KeyMode::Test);
    let page = AccountsPage {
        layout: Layout::for_member(&state, &member, Section::Accounts).await?,
        workspace: member.ctx.workspace.name.to_string(),
        live: live.into_iter().map(|a| AccountRow::new(a, now)).collect(),
        test: test.into_iter().map(|a| AccountRow::new(a, now)).collect(),
        connect: state
            .connector
            .offered()
            .into_iter()
            .filter(|p| *p != Platform::Sandbox)
            .map(|p| ConnectButton {
                slug: p.as_str(),
                name: p.display_name(),
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

fn platform(raw: &str) -> Result<Platform, PageError> {
    Platform::parse(raw).ok_or(PageError::NotFound)
}

/// The Connect button: off to the platform's authorization page.
#[get("/connect/{platform}")]
pub async fn connect(
    state: web::Data<AppState>,
    member: SignedInMember,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let platform = platform(&path)?;
    let started = state
        .connector
        .begin(&actor(&member), platform, None)
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", started.auth_url.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where the platform sends the user back. A flow begun through the API with the default
/// redirect URI finishes here too, for a signed-in member of its workspace: a visitor who is not
/// signed in signs in first and comes back here, with the state still unspent.
#[get("/connect/{platform}/callback")]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: Option<SignedInMember>,
    path: web::Path<String>,
    query: PageQuery<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let platform = platform(&path)?;
    if let Some(error) = &query.error {
        // Only the error codes OAuth defines are repeated: whatever else the address carries
        // (a description, an invented code) could be anyone's words, not the platform's.
        let message = match error.as_str() {
            "access_denied" => format!(
                "Access was denied on {}, so nothing was connected.",
                platform.display_name()
            ),
            known @ ("invalid_request"
            | "unauthorized_client"
            | "unsupported_response_type"
            | "invalid_scope"
            | "server_error"
            | "temporarily_unavailable") => format!(
                "{} answered with the error {known}, so nothing was connected.",
                platform.display_name()
            ),
            _ => format!(
                "{} answered with an error, so nothing was connected.",
                platform.display_name()
            ),
        };
        let page = MessagePage {
            link_href: "/settings/accounts",
            link_text: "Back to connected accounts",
            ..MessagePage::new("Not connected", message)
        };
        return render_message(StatusCode::OK, &page);
    }
    let (Some(code), Some(flow_state)) = (&query.code, &query.state) else {
        return Err(PageError::BadRequest(
            "The platform sent back neither a code nor an error.".into(),
        ));
    };
    let finisher = Finisher::Callback {
        user: member.as_ref().map(|m| m.ctx.user.clone()),
    };
    // Nobody signed in: the flow stops before anything is stored, so nobody is recorded.
    let who = member
        .as_ref()
        .map_or_else(crate::audit::Who::service, |m| m.who.clone());
    match state
        .connector
        .finish(finisher, platform, code, flow_state, &who)
        .await
    {
        Ok(account) => {
            if let Some(member) = &member {
                member
                    .session
                    .flash(format!("Connected {}.", account_name(&account)))?;
            }
            Ok(see_other("/settings/accounts"))
        }
        Err(ConnectError::SignInRequired) => Err(PageError::LoginRequired {
            next: req
                .uri()
                .path_and_query()
                .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned()),
        }),
        Err(other) => Err(other.into()),
    }
}

#[post("/settings/accounts/{id}/disconnect")]
pub async fn disconnect(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let account = one_account(&state, &member, &id).await?;
    state
        .connector
        .disconnect(&actor(&member), &account.id, &member.who)
        .await?;
    member
        .session
        .flash(format!("Disconnected {}.", account_name(&account)))?;
    Ok(see_other("/settings/accounts"))
}

#[get("/settings/accounts/{id}/disconnect")]
pub async fn confirm_disconnect(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let account = one_account(&state, &member, &id).await?;
    let confirmation = disconnect_confirmation(&account);
    confirm::page(&state, &member, Section::Accounts, confirmation).await
}
