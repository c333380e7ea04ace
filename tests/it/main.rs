//! One integration binary for the whole suite (one link step, shared harness).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod mailbox;
mod oidc_provider;
mod page_checks;

mod accounts;
mod api_keys;
mod browser;
mod cli;
mod client_address;
mod confirmations;
mod connect;
mod daily_pages;
mod dashboard_api;
mod durability;
mod google;
mod hardening;
mod invitations;
mod isolation;
mod key_chains;
mod members;
mod password_reset;
mod platforms;
mod properties;
mod roles;
mod rotation;
mod scale_out;
mod security_page;
mod sessions;
mod shared_limits;
mod slow_clients;
mod strangers;
mod teams;
mod unconfirmed;
mod workspaces;
