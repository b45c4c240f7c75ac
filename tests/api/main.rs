//! End-to-end tests: each starts the real server on a random port over a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agencies;
mod applications;
mod bot;
mod bot_wechat;
mod codes;
mod config;
mod consent;
mod gov_http;
mod gov_records;
mod health;
mod helpers;
mod identity;
mod login;
mod logs;
mod migrations;
mod permits;
mod privacy;
mod staff;
mod tokens;
