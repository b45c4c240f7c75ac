//! The 粤居码: a short-lived signed token shown as a QR code on the holder's phone.
//!
//! Layout (binary, then RFC 4648 base32 without padding, prefixed `YJ1`): format version (1),
//! the first 6 bytes of the key's SHA-256 fingerprint (the key id), the permit number as a
//! big-endian u64, the permit's last valid day as days since 2000-01-01 (u16), the issue time
//! in Unix seconds (u32), the lifetime in seconds (u16), an 8-byte random nonce, and the
//! Ed25519 signature (64) over `yueju-code-v1\n` followed by the 31 bytes before it.
//! 95 bytes become 152 base32 characters, all in the QR alphanumeric set, so the code fits a
//! version-7 QR at error-correction level M (capacity 178) that scans from a screen. The
//! holder's name is not in the code; an online verifier looks it up and shows it masked.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use data_encoding::BASE32_NOPAD;
use serde::Serialize;

use crate::secrets::random_bytes;
use crate::signing::{KeyRing, PublishedKey, VerifyError, verify_with_published};

pub const PREFIX: &str = "YJ1";
const VERSION: u8 = 1;
const PURPOSE: &[u8] = b"yueju-code-v1\n";
const BODY_LEN: usize = 1 + 6 + 8 + 2 + 4 + 2 + 8;
const SIG_LEN: usize = 64;
/// Clock difference tolerated between the phone's server and a verifier.
const LEEWAY_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeClaims {
    pub kid: String,
    pub permit_no: String,
    pub valid_until: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(skip)]
    pub nonce: [u8; 8],
}

/// Why a code does not verify. Codes are stable: they are what `POST /verify` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
}

impl CodeError {
    pub fn code(self) -> &'static str {
        match self {
            CodeError::Malformed => "MALFORMED",
            CodeError::UnknownKey => "UNKNOWN_KEY",
            CodeError::BadSignature => "BAD_SIGNATURE",
            CodeError::Expired => "CODE_EXPIRED",
            CodeError::NotYetValid => "CODE_NOT_YET_VALID",
        }
    }
}

fn epoch_2000() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn kid_bytes(kid: &str) -> Option<[u8; 6]> {
    let hex_part = kid.strip_prefix("ed25519-")?;
    hex::decode(hex_part).ok()?.try_into().ok()
}

/// Signs a new code for a permit. Answers the token and when it expires.
pub fn issue(
    keys: &KeyRing,
    permit_no: &str,
    valid_until: NaiveDate,
    ttl_secs: u16,
) -> anyhow::Result<(String, DateTime<Utc>)> {
    issue_at(keys, permit_no, valid_until, ttl_secs, Utc::now())
}

/// [`issue`] with the clock given (tests and tools that need a code from another time).
pub fn issue_at(
    keys: &KeyRing,
    permit_no: &str,
    valid_until: NaiveDate,
    ttl_secs: u16,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, DateTime<Utc>)> {
    let number: u64 = permit_no
        .parse()
        .map_err(|_| anyhow::anyhow!("permit number is not numeric"))?;
    let days = u16::try_from((valid_until - epoch_2000()).num_days())
        .map_err(|_| anyhow::anyhow!("validity out of range"))?;
    let iat = u32::try_from(now.timestamp()).map_err(|_| anyhow::anyhow!("clock out of range"))?;
    let kid = kid_bytes(keys.signing_kid())
        .ok_or_else(|| anyhow::anyhow!("signing key id has an unexpected form"))?;
    let mut body = Vec::with_capacity(BODY_LEN + SIG_LEN);
    body.push(VERSION);
    body.extend_from_slice(&kid);
    body.extend_from_slice(&number.to_be_bytes());
    body.extend_from_slice(&days.to_be_bytes());
    body.extend_from_slice(&iat.to_be_bytes());
    body.extend_from_slice(&ttl_secs.to_be_bytes());
    body.extend_from_slice(&random_bytes::<8>()?);
    let signature = keys.sign(&message(&body));
    body.extend_from_slice(&signature.to_bytes());
    // What the token says, to the second.
    let expires_at = Utc
        .timestamp_opt(i64::from(iat), 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("clock out of range"))?
        + Duration::seconds(i64::from(ttl_secs));
    Ok((
        format!("{PREFIX}{}", BASE32_NOPAD.encode(&body)),
        expires_at,
    ))
}

fn message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(PURPOSE.len() + body.len());
    m.extend_from_slice(PURPOSE);
    m.extend_from_slice(body);
    m
}

/// Splits a token into its claims, the signed message and the signature, without checking
/// the signature or the time. Anything that is not exactly a code is `Malformed`.
pub fn decode(token: &str) -> Result<(CodeClaims, Vec<u8>, [u8; SIG_LEN]), CodeError> {
    let encoded = token
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(CodeError::Malformed)?;
    if encoded.len() > 200 {
        return Err(CodeError::Malformed);
    }
    let bytes = BASE32_NOPAD
        .decode(encoded.as_bytes())
        .map_err(|_| CodeError::Malformed)?;
    if bytes.len() != BODY_LEN + SIG_LEN || bytes[0] != VERSION {
        return Err(CodeError::Malformed);
    }
    let (body, sig) = bytes.split_at(BODY_LEN);
    let field = |from: usize, len: usize| &body[from..from + len];
    let kid = format!("ed25519-{}", hex::encode(field(1, 6)));
    let number = u64::from_be_bytes(field(7, 8).try_into().map_err(|_| CodeError::Malformed)?);
    let days = u16::from_be_bytes(field(15, 2).try_into().map_err(|_| CodeError::Malformed)?);
    let iat = u32::from_be_bytes(field(17, 4).try_into().map_err(|_| CodeError::Malformed)?);
    let ttl = u16::from_be_bytes(field(21, 2).try_into().map_err(|_| CodeError::Malformed)?);
    let nonce: [u8; 8] = field(23, 8).try_into().map_err(|_| CodeError::Malformed)?;
    let issued_at = Utc
        .timestamp_opt(i64::from(iat), 0)
        .single()
        .ok_or(CodeError::Malformed)?;
    let claims = CodeClaims {
        kid,
        permit_no: number.to_string(),
        valid_until: epoch_2000() + Duration::days(i64::from(days)),
        issued_at,
        expires_at: issued_at + Duration::seconds(i64::from(ttl)),
        nonce,
    };
    let signature: [u8; SIG_LEN] = sig.try_into().map_err(|_| CodeError::Malformed)?;
    Ok((claims, message(body), signature))
}

fn check_time(claims: &CodeClaims, now: DateTime<Utc>) -> Result<(), CodeError> {
    if claims.issued_at > now + Duration::seconds(LEEWAY_SECS) {
        return Err(CodeError::NotYetValid);
    }
    if now > claims.expires_at + Duration::seconds(LEEWAY_SECS) {
        return Err(CodeError::Expired);
    }
    Ok(())
}

fn map_verify(e: VerifyError) -> CodeError {
    match e {
        VerifyError::UnknownKey => CodeError::UnknownKey,
        VerifyError::BadSignature => CodeError::BadSignature,
    }
}

/// Verifies with the server's key ring (online verification; status is checked by the caller).
pub fn verify(keys: &KeyRing, token: &str, now: DateTime<Utc>) -> Result<CodeClaims, CodeError> {
    let (claims, message, signature) = decode(token)?;
    keys.verify(&claims.kid, &message, &signature)
        .map_err(map_verify)?;
    check_time(&claims, now)?;
    Ok(claims)
}

/// Verifies with published keys alone, as an offline verifier does: signature and time only;
/// whether the permit is still in force needs the status list or the online service.
pub fn verify_offline(
    published: &[PublishedKey],
    token: &str,
    now: DateTime<Utc>,
) -> Result<CodeClaims, CodeError> {
    let (claims, message, signature) = decode(token)?;
    verify_with_published(published, &claims.kid, &message, &signature).map_err(map_verify)?;
    check_time(&claims, now)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn ring(seed: u8) -> KeyRing {
        KeyRing::from_keys(vec![SigningKey::from_bytes(&[seed; 32])], vec![]).unwrap()
    }

    fn until() -> NaiveDate {
        NaiveDate::from_ymd_opt(2029, 11, 25).unwrap()
    }

    #[test]
    fn a_code_round_trips_and_fits_a_version_7_qr() {
        let keys = ring(1);
        let (token, expires_at) = issue(&keys, "4401002026000001", until(), 120).unwrap();
        assert_eq!(token.len(), 3 + 152);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        let qr = qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M)
            .unwrap();
        assert!(
            matches!(qr.version(), qrcode::Version::Normal(v) if v <= 7),
            "{:?}",
            qr.version()
        );
        let claims = verify(&keys, &token, Utc::now()).unwrap();
        assert_eq!(claims.permit_no, "4401002026000001");
        assert_eq!(claims.valid_until, until());
        assert_eq!(claims.expires_at, expires_at.with_nanosecond(0).unwrap());
        assert_eq!(
            verify_offline(&keys.published(), &token, Utc::now()).unwrap(),
            claims
        );
    }

    use chrono::Timelike;

    #[test]
    fn two_codes_for_the_same_permit_differ() {
        let keys = ring(1);
        let a = issue(&keys, "4401002026000001", until(), 120).unwrap().0;
        let b = issue(&keys, "4401002026000001", until(), 120).unwrap().0;
        assert_ne!(a, b);
    }

    #[test]
    fn every_altered_character_is_refused() {
        let keys = ring(1);
        let (token, _) = issue(&keys, "4401002026000001", until(), 120).unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        for i in 0..token.len() {
            let mut chars: Vec<char> = token.chars().collect();
            let original = chars[i];
            chars[i] = alphabet.chars().find(|c| *c != original).unwrap();
            let altered: String = chars.into_iter().collect();
            assert!(verify(&keys, &altered, Utc::now()).is_err(), "position {i}");
        }
    }

    #[test]
    fn expired_unknown_key_and_garbage_codes_name_their_reason() {
        let keys = ring(1);
        let (token, _) = issue(&keys, "4401002026000001", until(), 60).unwrap();
        let later = Utc::now() + Duration::seconds(60 + LEEWAY_SECS + 1);
        assert_eq!(verify(&keys, &token, later), Err(CodeError::Expired));
        let earlier = Utc::now() - Duration::seconds(LEEWAY_SECS + 5);
        assert_eq!(verify(&keys, &token, earlier), Err(CodeError::NotYetValid));
        assert_eq!(
            verify(&ring(2), &token, Utc::now()),
            Err(CodeError::UnknownKey)
        );
        for garbage in [
            "",
            "YJ1",
            "hello",
            "YJ1AAAA",
            &"YJ1A".repeat(100),
            "YJ1!!!!",
            "鄂A12345",
        ] {
            assert_eq!(
                verify(&keys, garbage, Utc::now()),
                Err(CodeError::Malformed),
                "{garbage}"
            );
        }
    }

    // Hostile input: whatever is scanned, decoding answers a value or a clean error.
    proptest::proptest! {
        #[test]
        fn decoding_any_text_never_panics(s in "\\PC{0,300}") {
            let _ = decode(&s);
        }

        #[test]
        fn decoding_any_bytes_behind_the_prefix_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let token = format!("YJ1{}", data_encoding::BASE32_NOPAD.encode(&bytes));
            let _ = decode(&token);
        }
    }
}
