//! The WeChat official account's message server: the signature on every call
//! ([`signature`]), the pushed XML and the passive reply ([`xml`]), redelivery and the
//! five-second rule ([`webhook`]), and the customer-message API for slower answers
//! ([`client`]).

pub mod client;
pub mod signature;
pub mod webhook;
pub mod xml;
