//! The IETF Token Status List (draft-ietf-oauth-status-list): one signed token telling the
//! status of many permits, so a verifier learns of revocations without asking about each one
//! (and without telling us which permit it holds).
//!
//! Format. Each permit gets an index into a list of entries of `bits` bits (1, 2, 4 or 8; we
//! use 2 for VALID 0, INVALID 1 and SUSPENDED 2). Entries are packed into bytes from the least
//! significant bit: entry `i` is at byte `i * bits / 8`, bit `(i * bits) % 8` ([`bits`]).
//!
//! This module is a pure codec: no storage, no HTTP, no clock of its own.

pub mod bits;

pub use bits::{BitsError, Status, StatusBits};
