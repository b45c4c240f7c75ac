//! Keys and what they protect.
//!
//! [`signing`] holds the issuing authority's signing keys, several at once for rotation.
//! [`privacy`] seals personal data at rest, finds it by blind index and masks it for display.
//! [`secrets`] loads key material from settings in production, or generates it in dev.
//! [`compare`] compares secrets and MACs in constant time.

pub mod compare;
pub mod privacy;
pub mod secrets;
pub mod signing;
