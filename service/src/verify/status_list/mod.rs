//! The IETF Token Status List (draft-ietf-oauth-status-list): one signed token telling the
//! status of many permits, so a verifier learns of revocations without asking about each one
//! (and without telling us which permit it holds).
//!
//! Format. Each permit gets an index into a list of entries of `bits` bits (1, 2, 4 or 8; we
//! use 2 for VALID 0, INVALID 1 and SUSPENDED 2). Entries are packed into bytes from the least
//! significant bit: entry `i` is at byte `i * bits / 8`, bit `(i * bits) % 8` ([`bits`]). The
//! bytes are compressed with zlib (RFC 1950) and base64url-encoded without padding into
//! `lst`; the list travels as a JWT (`typ` `statuslist+jwt`, `alg` EdDSA or SM2 as the signing
//! key's) whose payload holds `sub` (the list's URI), `iat`, `exp`, `ttl` and
//! `status_list: {"bits", "lst"}`
//! ([`token`]). The entry count is not carried: a list has as many entries as its bytes hold.
//!
//! [`bits`] and [`token`] are a pure codec: no storage, no HTTP, no clock of its own.
//! [`places`] gives each permit its entry (a random place drawn at issue) and records the
//! states set by acts; [`registry`] holds every list in memory on every instance, follows
//! the other instances' changes and signs the tokens. Lists carry only what an act set
//! (revoked, suspended): what follows from dates (expiry, a missed endorsement) verifiers
//! compute from the dates the 粤居码 carries, so no list changes at midnight.

pub mod bits;
pub mod places;
pub mod registry;
pub mod token;

pub use bits::{BitsError, Status, StatusBits};
pub use places::{DEFAULT_LIST_SIZE, Place, allocate, place_of, set_state};
pub use registry::{SignedList, StatusRegistry};
pub use token::{
    Lookup, LstError, MAX_LIST_BYTES, StatusListClaim, StatusListClaims, TokenError, Undetermined,
    VerifiedList, decode_lst, encode_lst, sign, verify, verify_bounded,
};

/// The path a list is served at, and the `sub` of its token.
pub fn list_uri(list_id: u32) -> String {
    format!("/api/v1/status-lists/{list_id}")
}

/// A permit's place as the API shows it: `{"uri": "/api/v1/status-lists/7", "idx": 1234}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StatusListRef {
    #[schema(pattern = "^/api/v1/status-lists/[0-9]+$")]
    pub uri: String,
    pub idx: u32,
}

impl Place {
    pub fn reference(&self) -> StatusListRef {
        StatusListRef {
            uri: list_uri(self.list_id),
            idx: self.idx,
        }
    }
}
