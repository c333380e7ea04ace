//! One integration binary for the whole suite (one link step, shared harness).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod accounts;
mod api_keys;
mod browser;
mod cli;
mod connect;
mod durability;
mod hardening;
mod isolation;
mod platforms;
mod rotation;
mod sessions;
mod workspaces;
