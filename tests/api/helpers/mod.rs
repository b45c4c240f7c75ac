//! `spawn_app()`: the real server on a random port over a fresh database (SQLite in a temp
//! dir, or a new PostgreSQL database when `TEST_DATABASE_URL` is set), with a local fake of
//! the WeChat platform, and typed helpers for the requests tests make.
//!
//! One file per concern: [`app`] (starting servers), [`http`] (requests and replies),
//! [`residents`], [`permits`], [`agencies`], [`chat`] (the bot and the message server),
//! [`notices`], [`files`] (uploads and keys) and [`logs`].

mod agencies;
mod app;
mod chat;
mod files;
mod http;
mod logs;
mod notices;
mod permits;
mod residents;

pub use crate::fake_platform::{FakePlatform, Fault};
pub use agencies::*;
pub use app::*;
pub use chat::*;
pub use files::*;
pub use http::*;
pub use logs::*;
pub use notices::*;
pub use residents::*;

/// The JWT key the test apps sign with, so tests can forge tokens with it.
pub const JWT_KID: &str = "test-k1";
pub const JWT_SECRET: [u8; 32] = [1u8; 32];
pub const YSS_APPID: &str = "wx-test-yss";
pub const YSS_SECRET: &str = "yss-test-secret";
pub const YJM_APPID: &str = "wx-test-yjm";
pub const YJM_SECRET: &str = "yjm-test-secret";
pub const STAFF_ADMIN: (&str, &str) = ("root", "root-password-123");
pub const OA_APPID: &str = "wx-test-oa";
pub const OA_SECRET: &str = "oa-test-secret";
/// The message-server token of the test official account (set with [`wechat_vars`]).
pub const WECHAT_TOKEN: &str = "test-wechat-token";
/// The fake platform's session_key, which must never reach a client.
pub const FAKE_SESSION_KEY: &str = "fake-session-key-Zm9vYmFy";

/// The subscribe-message templates of the test mini-program (粤省事), per kind.
pub const TPL_ENDORSEMENT: &str = "tpl-endorsement-due";
pub const TPL_EXPIRY: &str = "tpl-expiry";
pub const TPL_DECISION: &str = "tpl-decision";
pub const TPL_REQUEST: &str = "tpl-authorization-request";
pub const SUBSCRIBE_TEMPLATES: &str = "endorsement_due:tpl-endorsement-due,expiry:tpl-expiry,decision:tpl-decision,authorization_request:tpl-authorization-request,eligible_now:tpl-eligible-now,registration_ended:tpl-registration-ended";

/// Demo people (see service::demo).
pub const CHEN_ID: &str = "440511199003071234";
pub const CHEN_NAME: &str = "陈志强";
pub const WANG_ID: &str = "450103199805121352";
pub const WANG_NAME: &str = "王伟";
pub const ZHANG_ID: &str = "360102200309152480";
pub const ZHANG_NAME: &str = "张敏";

pub const LI_ID: &str = "430405199508212464";
pub const LIU_ID: &str = "440106199211031576";
