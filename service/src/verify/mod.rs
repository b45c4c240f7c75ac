//! The 粤居码 and its verification.
//!
//! [`codes`] signs and reads the short-lived code (YJ2) that carries the permit's dates and its
//! place in a status list; [`holder_code`] makes the holder's current one. [`status_list`]
//! keeps the IETF Token Status Lists: 2 bits a permit, held in memory on every instance and
//! kept current across them. [`verification`] is the one verification path (anonymous,
//! agency, an agency's access request), answering a typed [`verification::VerifyReason`] by
//! the rules in [`crate::domain::permit_rules`]; [`offline`] serves the signed lists and
//! verifies a code offline by the same rules.

pub mod codes;
pub mod holder_code;
pub mod offline;
pub mod status_list;
pub mod verification;
