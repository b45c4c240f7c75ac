//! Who is asking: logins, sessions, tokens and the real person behind them.
//!
//! [`sessions`] logs residents in through the WeChat platform ([`wechat`]) and rotates refresh
//! tokens; [`tokens`] signs and checks access tokens. [`binding`] binds a login to a verified
//! citizen, behind the platform's face verification ([`face_verification`]). [`chat_links`]
//! links a chat user of the bot to a login (by unionid or a one-time binding code), so the bot
//! acts as that login. [`staff`] keeps staff accounts. [`lockout`] counts failed attempts in
//! the database, so that every brute-force limit (staff passwords, agency secrets, binding
//! codes) holds across instances.

pub mod binding;
pub mod chat_links;
pub mod face_verification;
pub mod lockout;
pub mod sessions;
pub mod staff;
pub mod tokens;
pub mod wechat;
