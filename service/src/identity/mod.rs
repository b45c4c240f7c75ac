//! Who is asking: logins, sessions, tokens and the real person behind them.
//!
//! [`sessions`] logs residents in through the WeChat platform ([`wechat`]) and rotates refresh
//! tokens; [`tokens`] signs and checks access tokens. [`binding`] binds a login to a verified
//! citizen, behind the platform's face verification ([`face_verification`]). [`staff`] keeps
//! staff accounts. [`lockout`] counts failed attempts in the database, so that a brute-force
//! limit holds across instances.

pub mod binding;
pub mod face_verification;
pub mod lockout;
pub mod sessions;
pub mod staff;
pub mod tokens;
pub mod wechat;
