//! End-to-end tests: each starts the real server on a random port over a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agencies;
mod applications;
mod browser;
mod closing;
mod codes;
mod config;
mod consent;
mod export;
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
mod reminders;
mod retention;
mod rotation;
mod smtp;
mod staff;
mod tokens;
