//! Socializer: a multi-tenant service for teams that publish to social networks.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod connect;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod edge;
pub mod google;
pub mod http;
pub mod keys;
pub mod logging;
pub mod mail;
pub mod people;
pub mod private_files;
pub mod publishing;
pub mod state;
pub mod web;
pub mod webhooks;
