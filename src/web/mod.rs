//! The server-rendered pages. Handlers are thin: extract, check, call one domain
//! function from `crate::people`, render.

mod anonymous;
mod api_keys_page;
mod assets;
mod audit_page;
mod breakable;
mod confirm;
mod connected_accounts_page;
mod current;
mod dashboard;
mod errors;
mod extract;
pub mod frame;
mod google_pages;
mod health;
mod invitation_pages;
mod layout;
mod members_page;
mod password_reset_pages;
mod posts_page;
pub mod request_log;
mod sandbox_page;
pub mod security_headers;
mod security_page;
mod settings_page;
mod shown_once;
mod sign_in_pages;
mod user_agent;
mod webhooks_page;
mod workspace_pages;

pub use errors::PageError;

use crate::auth::session_store::DbSessionStore;
use crate::state::AppState;
use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::web;

/// The longest form body a page accepts; more gets 413.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Idle sessions end after this; the absolute limit is in the session store.
pub const IDLE_SESSION_SECS: i64 = 24 * 60 * 60;

pub fn session_middleware(state: &AppState, secret: &[u8]) -> SessionMiddleware<DbSessionStore> {
    let https = state.is_https();
    SessionMiddleware::builder(DbSessionStore::new(state.db.clone()), Key::from(secret))
        // The `__Host-` prefix pins the cookie to this exact origin, and needs Secure.
        .cookie_name(if https {
            "__Host-socializer".into()
        } else {
            "socializer".into()
        })
        .cookie_secure(https)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".into())
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(Duration::seconds(IDLE_SESSION_SECS))
                .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build()
}

/// Routes that need no session: health and static files.
pub fn configure_public(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz).service(assets::asset);
}

/// The pages, to be wrapped in the session middleware.
pub fn configure_pages(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
        .service(sign_in_pages::home)
        .service(sign_in_pages::signup_page)
        .service(sign_in_pages::signup)
        .service(sign_in_pages::login_page)
        .service(sign_in_pages::login)
        .service(sign_in_pages::logout)
        .service(sign_in_pages::verify_email)
        .service(google_pages::start)
        .service(google_pages::callback)
        .service(password_reset_pages::forgot_password_page)
        .service(password_reset_pages::reset_link_sent)
        .service(password_reset_pages::forgot_password)
        .service(password_reset_pages::reset_password_page)
        .service(password_reset_pages::reset_password)
        .service(dashboard::resend_verification)
        .service(dashboard::dashboard)
        .service(dashboard::create_workspace)
        .service(dashboard::switch_workspace)
        .service(members_page::list)
        .service(members_page::confirm_leave)
        .service(members_page::leave)
        .service(members_page::confirm_role)
        .service(members_page::change_role)
        .service(members_page::confirm_remove)
        .service(members_page::remove)
        .service(members_page::invite)
        .service(members_page::resend)
        .service(members_page::confirm_revoke)
        .service(members_page::revoke)
        .service(workspace_pages::show)
        .service(workspace_pages::rename)
        .service(workspace_pages::delete)
        .service(audit_page::audit_log)
        .service(audit_page::export_csv)
        .service(audit_page::export_json)
        .service(invitation_pages::open)
        .service(invitation_pages::accept)
        .service(invitation_pages::sign_up)
        .service(security_page::show)
        .service(security_page::confirm_end_session)
        .service(security_page::end_session)
        .service(security_page::confirm_sign_out_everywhere)
        .service(security_page::sign_out_everywhere)
        .service(security_page::change_password)
        .service(security_page::confirm_unlink_google)
        .service(security_page::unlink_google)
        .service(settings_page::index)
        .service(api_keys_page::list)
        .service(api_keys_page::create)
        .service(api_keys_page::show)
        .service(api_keys_page::rename)
        .service(api_keys_page::confirm_revoke)
        .service(api_keys_page::revoke)
        .service(api_keys_page::confirm_roll)
        .service(api_keys_page::roll)
        .service(webhooks_page::list)
        .service(webhooks_page::create)
        .service(webhooks_page::show)
        .service(webhooks_page::save)
        .service(webhooks_page::enable)
        .service(webhooks_page::disable)
        .service(webhooks_page::send_test)
        .service(webhooks_page::resend)
        .service(webhooks_page::confirm_roll)
        .service(webhooks_page::roll)
        .service(webhooks_page::confirm_delete)
        .service(webhooks_page::delete)
        .service(connected_accounts_page::list)
        .service(connected_accounts_page::callback)
        .service(connected_accounts_page::connect)
        .service(connected_accounts_page::confirm_disconnect)
        .service(connected_accounts_page::disconnect)
        .service(posts_page::show_posts)
        .service(posts_page::create_post)
        .service(posts_page::count_text)
        .service(posts_page::edit_form)
        .service(posts_page::save_edit)
        .service(posts_page::confirm_cancel)
        .service(posts_page::cancel_post)
        .service(posts_page::confirm_delete)
        .service(posts_page::delete_post)
        .service(posts_page::confirm_retry)
        .service(posts_page::retry_target)
        .service(posts_page::sandbox_feed)
        .service(posts_page::set_time_zone)
        .service(sandbox_page::authorize_page)
        .service(sandbox_page::decide);
}

/// Anything else: a 404 page, except that the signed-in areas send a visitor without a
/// session to sign in first, so that nothing about them shows before that.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, PageError> {
    use actix_session::SessionExt as _;
    let path = req.path();
    let signed_in_area = ["/dashboard", "/settings"]
        .iter()
        .any(|area| path == *area || path.starts_with(&format!("{area}/")));
    let signed_in = crate::auth::session_state::SessionState::new(req.get_session())
        .user_id()
        .is_some();
    if signed_in_area && !signed_in {
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| path.to_owned());
        return Err(PageError::LoginRequired { next });
    }
    Err(PageError::NotFound)
}
