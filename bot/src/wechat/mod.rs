//! The WeChat official account's message server: the signature and, in 安全模式, the
//! encryption of every call (`service::identity::wechat::message_server`, shared with the
//! mini-programs' push), the pushed XML and the passive reply ([`xml`]), redelivery and the
//! five-second rule ([`webhook`]); slower answers go out as customer messages through
//! `service::identity::wechat::oa`.

pub mod webhook;
pub mod xml;
