//! The IETF Token Status List (draft-ietf-oauth-status-list): one signed token telling the
//! status of many permits, so a verifier learns of revocations without asking about each one
//! (and without telling us which permit it holds).
//!
//! Format. Each permit gets an index into a list of entries of `bits` bits (1, 2, 4 or 8; we
//! use 2 for VALID 0, INVALID 1 and SUSPENDED 2). Entries are packed into bytes from the least
//! significant bit: entry `i` is at byte `i * bits / 8`, bit `(i * bits) % 8` ([`bits`]). The
//! bytes are compressed with zlib (RFC 1950) and base64url-encoded without padding into
//! `lst`; the list travels as a JWT (`typ` `statuslist+jwt`, EdDSA here) whose payload holds
//! `sub` (the list's URI), `iat`, `exp`, `ttl` and `status_list: {"bits", "lst"}`
//! ([`token`]). The entry count is not carried: a list has as many entries as its bytes hold.
//!
//! This module is a pure codec: no storage, no HTTP, no clock of its own.

pub mod bits;
pub mod token;

pub use bits::{BitsError, Status, StatusBits};
pub use token::{
    Lookup, LstError, MAX_LIST_BYTES, StatusListClaim, StatusListClaims, TokenError, Undetermined,
    VerifiedList, decode_lst, encode_lst, sign, verify, verify_bounded,
};
