//! What a person can ask of their data, and what we owe them without asking (PIPL).
//!
//! [`export`] gives residents all their data as one document; [`closure`] closes an account,
//! deleting in one transaction everything no law requires us to keep. [`retention`] deletes
//! uploaded materials and expired records once their time is up; [`rotation`] re-seals every
//! sealed value under a new data key. These reach into every folder below them.

pub mod closure;
pub mod export;
pub mod retention;
pub mod rotation;
