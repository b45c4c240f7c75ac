//! The WeChat official account's message server: the signature on every call
//! ([`signature`]), the pushed XML and the passive reply ([`xml`]), redelivery and the
//! five-second rule ([`webhook`]); slower answers go out as customer messages through
//! `service::wechat::oa`.

pub mod signature;
pub mod webhook;
pub mod xml;
