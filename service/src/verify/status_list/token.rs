//! The Status List Token in JWT form: the `lst` codec (zlib, base64url) and the signed
//! compact JWS around it.
//!
//! The JWS is composed here rather than with `jsonwebtoken`, for both algorithms: that crate
//! knows no `SM2`, signs only with a private key it holds (our [`KeyRing`] signs through its
//! signer port, possibly a seal server, and never hands a key out), verifies Ed25519 without
//! the strict checks (and with another major version of `ed25519-dalek`), and picks no key by
//! `kid`. One code path for both algorithms keeps EdDSA and SM2 lists checked by the same
//! rules. Composing a compact JWS is a few lines of base64url; the signature and the key
//! choice (by `alg` and `kid` together) go through [`crate::keys::signing`], as every other
//! signature does. `alg` is `EdDSA` (RFC 8037) or `SM2` (SM2 with SM3, user id
//! `1234567812345678`, the signature `r ‖ s` in 64 bytes).
//! A JWS signing input is base64url and one dot, never a newline, so it can never equal the
//! `purpose\n…` messages the same keys sign elsewhere.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use flate2::{Compression, Decompress, FlushDecompress, write::ZlibEncoder};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::Write as _;

use super::bits::{BitsError, Status, StatusBits};
use crate::keys::signing::{
    Alg, KeyRing, PublishedKey, SignError, VerifyError, verify_published_alg,
};

/// The JWT `typ` of a Status List Token.
pub const TYP: &str = "statuslist+jwt";
/// The algorithm of Ed25519 lists (SM2 lists say `SM2`).
pub const ALG: &str = "EdDSA";
/// The largest inflated list [`verify`] accepts: 16 MiB, 64 Mi entries at 2 bits, well above
/// every permit Guangdong can issue, and small enough to hold while checking.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Why an `lst` cannot be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LstError {
    #[error("lst is not base64url without padding")]
    Base64,
    #[error("lst is not one complete zlib stream")]
    Corrupt,
    #[error("lst inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
    #[error(transparent)]
    Bits(#[from] BitsError),
    /// Unreachable in practice (compressing into memory), but `flate2`'s writer is fallible.
    #[error("zlib compression failed")]
    Compress,
}

/// Why a Status List Token is refused. An expired list is not an error: see
/// [`VerifiedList::expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a compact JWS: {0}")]
    Malformed(&'static str),
    #[error("algorithm is not EdDSA or SM2")]
    Algorithm,
    #[error("typ is not statuslist+jwt")]
    WrongType,
    #[error("the header names critical extensions we do not implement")]
    CriticalHeader,
    #[error("the header names no key")]
    MissingKid,
    #[error("no published key has this kid")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("claims are not a status list's: {0}")]
    Claims(&'static str),
    #[error("status_list: {0}")]
    List(#[from] LstError),
}

/// The `status_list` claim.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusListClaim {
    pub bits: u8,
    /// base64url (no padding) of the zlib-compressed packed entries.
    pub lst: String,
}

/// The claims we sign. The draft makes `exp` and `ttl` optional; we always set them and
/// require them back, since a list without an expiry could never be judged stale.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusListClaims {
    /// The URI the list is served at; the permit's `status.status_list.uri` must equal it.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Seconds a consumer may cache the list.
    pub ttl: u64,
    pub status_list: StatusListClaim,
}

impl StatusListClaims {
    /// The payload as JSON. Built by hand so that signing cannot fail.
    fn to_json(&self) -> Value {
        let mut list = Map::new();
        list.insert("bits".into(), Value::from(self.status_list.bits));
        list.insert("lst".into(), Value::from(self.status_list.lst.as_str()));
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from(self.sub.as_str()));
        claims.insert("iat".into(), Value::from(self.iat));
        claims.insert("exp".into(), Value::from(self.exp));
        claims.insert("ttl".into(), Value::from(self.ttl));
        claims.insert("status_list".into(), Value::Object(list));
        Value::Object(claims)
    }
}

/// The `lst` of a list: zlib (RFC 1950) at the best compression, as the draft recommends,
/// then base64url without padding.
pub fn encode_lst(list: &StatusBits) -> Result<String, LstError> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(list.as_bytes())
        .map_err(|_| LstError::Compress)?;
    let compressed = encoder.finish().map_err(|_| LstError::Compress)?;
    Ok(URL_SAFE_NO_PAD.encode(compressed))
}

/// Reads an `lst`. A list that inflates past `max_decompressed_len` bytes is refused once it
/// gets there, so a small hostile `lst` (a zip bomb) cannot make us allocate more.
pub fn decode_lst(
    bits: u8,
    lst: &str,
    max_decompressed_len: usize,
) -> Result<StatusBits, LstError> {
    let compressed = URL_SAFE_NO_PAD.decode(lst).map_err(|_| LstError::Base64)?;
    let bytes = inflate_bounded(&compressed, max_decompressed_len)?;
    Ok(StatusBits::from_bytes(bits, bytes)?)
}

/// Inflates one zlib stream holding at most `limit` bytes; nothing may follow it.
///
/// The output buffer grows geometrically but never past `limit + 1` bytes: the one spare
/// byte lets a stream of exactly `limit` bytes reach its end, and proves a longer one longer.
fn inflate_bounded(compressed: &[u8], limit: usize) -> Result<Vec<u8>, LstError> {
    let cap = limit.saturating_add(1);
    let mut inflater = Decompress::new(true);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() > limit {
            return Err(LstError::TooLarge { limit });
        }
        if out.len() == out.capacity() {
            let target = out.capacity().saturating_mul(2).max(4096).min(cap);
            out.reserve_exact(target - out.len());
        }
        let consumed = usize::try_from(inflater.total_in()).map_err(|_| LstError::Corrupt)?;
        let rest = compressed.get(consumed..).ok_or(LstError::Corrupt)?;
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|_| LstError::Corrupt)?;
        if status == flate2::Status::StreamEnd {
            break;
        }
        // With room to write and no progress, the input ended before the stream did.
        if (inflater.total_in(), inflater.total_out()) == before && out.len() < out.capacity() {
            return Err(LstError::Corrupt);
        }
    }
    if out.len() > limit {
        return Err(LstError::TooLarge { limit });
    }
    if u64::try_from(compressed.len()).ok() != Some(inflater.total_in()) {
        return Err(LstError::Corrupt);
    }
    Ok(out)
}

/// Signs `claims` with the ring's signing key as a compact JWS:
/// `{"alg":"EdDSA"|"SM2","kid":…,"typ":"statuslist+jwt"}`, the claims, the signature.
pub async fn sign(keys: &KeyRing, claims: &StatusListClaims) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(keys.signing_alg().as_str()));
    header.insert("typ".into(), Value::from(TYP));
    header.insert("kid".into(), Value::from(keys.signing_kid()));
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_json().to_string()),
    );
    let signature = keys.sign(signing_input.as_bytes()).await?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// A Status List Token whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedList {
    kid: String,
    claims: StatusListClaims,
    list: StatusBits,
    expired: bool,
}

/// What a verified list says about one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Known(Status),
    /// No statement can be made; the caller must answer "undetermined", never "revoked".
    Undetermined(Undetermined),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undetermined {
    /// The list's `exp` had passed when it was verified.
    Expired,
    /// The index is not in the list (the draft: reject the referenced token).
    OutOfRange,
}

impl VerifiedList {
    /// The key that signed the list.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The claims; the caller compares `sub` with the permit's status URI.
    pub fn claims(&self) -> &StatusListClaims {
        &self.claims
    }

    /// Whether `exp` had passed at the `now` given to [`verify`]. A list kept for later
    /// does not notice time passing: verify it again.
    pub fn expired(&self) -> bool {
        self.expired
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The status at `idx`. An expired list answers nothing, whatever it holds.
    pub fn status(&self, idx: usize) -> Lookup {
        if self.expired {
            return Lookup::Undetermined(Undetermined::Expired);
        }
        match self.list.status(idx) {
            Some(status) => Lookup::Known(status),
            None => Lookup::Undetermined(Undetermined::OutOfRange),
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

/// RFC 7515 lets `typ` drop the `application/` prefix and compares media types without case.
fn is_status_list_type(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ.strip_prefix("application/").unwrap_or(&typ) == TYP
}

/// [`verify_bounded`] with [`MAX_LIST_BYTES`].
pub fn verify(
    token: &str,
    published_keys: &[PublishedKey],
    now: DateTime<Utc>,
) -> Result<VerifiedList, TokenError> {
    verify_bounded(token, published_keys, now, MAX_LIST_BYTES)
}

/// Checks a Status List Token against the published keys: header (`alg` EdDSA or SM2, `typ`,
/// no `crit`), the key of that algorithm named by `kid`, its signature (Ed25519 strictly, or
/// SM2), then the claims and the
/// list, inflated to at most `max_list_bytes`. Whether `exp` has passed at `now` is reported
/// by [`VerifiedList::expired`], not refused, so that the caller can tell "stale" from "bad".
pub fn verify_bounded(
    token: &str,
    published_keys: &[PublishedKey],
    now: DateTime<Utc>,
    max_list_bytes: usize,
) -> Result<VerifiedList, TokenError> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not three parts"));
    };
    let header_json = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| TokenError::Malformed("header is not base64url"))?;
    let header: Header = serde_json::from_slice(&header_json)
        .map_err(|_| TokenError::Malformed("header is not a JOSE header"))?;
    // The algorithm comes first: `none`, HMAC and the rest stop here, before any key is used.
    let alg = Alg::parse(&header.alg).ok_or(TokenError::Algorithm)?;
    if header.crit.is_some() {
        return Err(TokenError::CriticalHeader);
    }
    if !header.typ.as_deref().is_some_and(is_status_list_type) {
        return Err(TokenError::WrongType);
    }
    let kid = header.kid.ok_or(TokenError::MissingKid)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| TokenError::Malformed("signature is not base64url"))?;
    let signing_input = token
        .get(..header_b64.len() + 1 + payload_b64.len())
        .ok_or(TokenError::Malformed("not three parts"))?;
    verify_published_alg(
        published_keys,
        alg.as_str(),
        &kid,
        signing_input.as_bytes(),
        &signature,
    )
    .map_err(|e| match e {
        VerifyError::UnknownKey => TokenError::UnknownKey,
        VerifyError::BadSignature => TokenError::BadSignature,
    })?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Claims("payload is not base64url"))?;
    let claims: StatusListClaims = serde_json::from_slice(&payload)
        .map_err(|_| TokenError::Claims("sub, iat, exp, ttl or status_list missing or mistyped"))?;
    let list = decode_lst(
        claims.status_list.bits,
        &claims.status_list.lst,
        max_list_bytes,
    )?;
    // RFC 7519: the token must not be accepted on or after `exp`.
    let expired = now.timestamp() >= claims.exp;
    Ok(VerifiedList {
        kid,
        claims,
        list,
        expired,
    })
}

#[cfg(test)]
mod tests;
