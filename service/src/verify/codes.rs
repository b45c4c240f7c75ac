//! The 粤居码: a short-lived signed token shown as a QR code on the holder's phone.
//!
//! Layout (binary, then RFC 4648 base32 without padding, prefixed `YJ2`): a header byte, the
//! format version (2) in its low four bits and the signature algorithm in its high four (0
//! EdDSA, 1 SM2; so the Ed25519 codes of before keep their form), the first 6 bytes of the
//! key's SHA-256 fingerprint (the key id, `ed25519-…` or `sm2-…` by the algorithm), the permit number as a
//! big-endian u64, the permit's last valid day and its next endorsement date as days since
//! 2000-01-01 (u16 each), the issue time in Unix seconds (u32), the lifetime in seconds (u16),
//! a 4-byte random nonce, the permit's place in the status lists (list id and index, u32
//! each), the holder's masked name (first character and last character as 24-bit code points,
//! 0 for none, and the number of stars between them, u8), and the signature (64 bytes, Ed25519
//! `R ‖ S` or SM2 `r ‖ s`) over `yueju-code-v2\n` followed by the 44 bytes before it. A
//! verifier takes the key of that algorithm and id; the header is signed, so the algorithm
//! cannot be swapped.
//!
//! 108 bytes become 173 base32 characters, all in the QR alphanumeric set, so the code fits a
//! version-7 QR at error-correction level M (capacity 178) that scans from a screen, whatever
//! the algorithm.
//!
//! Everything an anonymous verifier is told is in the code: the masked name, the dates (so
//! expiry and a missed endorsement need no list), and where the permit's status bits are. With
//! the status lists in memory `POST /verify` answers without reading the database, and an
//! offline verifier holding the lists answers the same.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use data_encoding::BASE32_NOPAD;
use serde::Serialize;

use crate::keys::secrets::random_bytes;
use crate::keys::signing::{
    Alg, KeyRing, PublishedKey, SignError, VerifyError, verify_published_alg,
};
use crate::verify::status_list::Place;

pub const PREFIX: &str = "YJ2";
const VERSION: u8 = 2;
const VERSION_MASK: u8 = 0x0f;
const PURPOSE: &[u8] = b"yueju-code-v2\n";
const BODY_LEN: usize = 1 + 6 + 8 + 2 + 2 + 4 + 2 + 4 + 4 + 4 + NAME_LEN;
const NAME_LEN: usize = 3 + 1 + 3;
const SIG_LEN: usize = 64;
/// Clock difference tolerated between the phone's server and a verifier.
const LEEWAY_SECS: i64 = 30;

/// What a code says of its permit, as the issuer knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSubject<'a> {
    pub permit_no: &'a str,
    /// The holder's full name: only its masked form goes into the code.
    pub name: &'a str,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
    pub place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeClaims {
    pub kid: String,
    /// The algorithm of the key that signed the code.
    pub alg: Alg,
    pub permit_no: String,
    /// As `privacy::mask_name` shows it: 陈*强.
    pub masked_name: String,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
    pub status_list: Place,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(skip)]
    pub nonce: [u8; 4],
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

fn days_since_2000(date: NaiveDate, what: &str) -> anyhow::Result<u16> {
    u16::try_from((date - epoch_2000()).num_days())
        .map_err(|_| anyhow::anyhow!("{what} {date} out of the code's range"))
}

fn kid_bytes(kid: &str) -> Option<[u8; 6]> {
    let (_, hex_part) = kid.split_once('-')?;
    hex::decode(hex_part).ok()?.try_into().ok()
}

/// The header byte: the algorithm in the high four bits, the version in the low four.
fn header(alg: Alg) -> u8 {
    let code = match alg {
        Alg::EdDsa => 0,
        Alg::Sm2 => 1,
    };
    (code << 4) | VERSION
}

fn alg_of_header(byte: u8) -> Option<Alg> {
    if byte & VERSION_MASK != VERSION {
        return None;
    }
    match byte >> 4 {
        0 => Some(Alg::EdDsa),
        1 => Some(Alg::Sm2),
        _ => None,
    }
}

/// Why a code could not be issued: a signer that did not sign, or facts out of the code's range.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Signing(#[from] SignError),
    #[error(transparent)]
    Facts(#[from] anyhow::Error),
}

impl From<IssueError> for crate::error::Error {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Signing(e) => e.into(),
            IssueError::Facts(e) => e.into(),
        }
    }
}

/// The masked name as 7 bytes: what `privacy::mask_name` shows, kept as its first and last
/// character and the number of stars between (2 characters: 张*; 1: *).
fn encode_name(name: &str) -> [u8; NAME_LEN] {
    let chars: Vec<char> = name.chars().collect();
    let (first, stars, last) = match chars.as_slice() {
        [] => (None, 0, None),
        [_] => (None, 1, None),
        [a, _] => (Some(*a), 1, None),
        [a, middle @ .., z] => (Some(*a), middle.len().min(255), Some(*z)),
    };
    let point = |c: Option<char>| (c.map_or(0, u32::from)).to_be_bytes();
    let mut out = [0u8; NAME_LEN];
    out[0..3].copy_from_slice(&point(first)[1..]);
    out[3] = stars as u8;
    out[4..7].copy_from_slice(&point(last)[1..]);
    out
}

fn decode_name(bytes: &[u8]) -> Option<String> {
    let char_at = |b: &[u8]| -> Option<Option<char>> {
        let point = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        if point == 0 {
            Some(None)
        } else {
            char::from_u32(point).filter(|c| !c.is_control()).map(Some)
        }
    };
    let first = char_at(&bytes[0..3])?;
    let last = char_at(&bytes[4..7])?;
    let mut name = String::new();
    name.extend(first);
    name.extend(std::iter::repeat_n('*', usize::from(bytes[3])));
    name.extend(last);
    Some(name)
}

/// Signs a new code for a permit at `now`. Answers the token and when it expires.
pub async fn issue(
    keys: &KeyRing,
    subject: &CodeSubject<'_>,
    ttl_secs: u16,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), IssueError> {
    let number: u64 = subject
        .permit_no
        .parse()
        .map_err(|_| anyhow::anyhow!("permit number is not numeric"))?;
    let valid_until = days_since_2000(subject.valid_until, "validity")?;
    let endorsement_due = days_since_2000(subject.endorsement_due, "endorsement date")?;
    let iat = u32::try_from(now.timestamp()).map_err(|_| anyhow::anyhow!("clock out of range"))?;
    let kid = kid_bytes(keys.signing_kid())
        .ok_or_else(|| anyhow::anyhow!("signing key id has an unexpected form"))?;
    let mut body = Vec::with_capacity(BODY_LEN + SIG_LEN);
    body.push(header(keys.signing_alg()));
    body.extend_from_slice(&kid);
    body.extend_from_slice(&number.to_be_bytes());
    body.extend_from_slice(&valid_until.to_be_bytes());
    body.extend_from_slice(&endorsement_due.to_be_bytes());
    body.extend_from_slice(&iat.to_be_bytes());
    body.extend_from_slice(&ttl_secs.to_be_bytes());
    body.extend_from_slice(&random_bytes::<4>()?);
    body.extend_from_slice(&subject.place.list_id.to_be_bytes());
    body.extend_from_slice(&subject.place.idx.to_be_bytes());
    body.extend_from_slice(&encode_name(subject.name));
    debug_assert_eq!(body.len(), BODY_LEN);
    let signature = keys.sign(&message(&body)).await?;
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
    if bytes.len() != BODY_LEN + SIG_LEN {
        return Err(CodeError::Malformed);
    }
    let alg = alg_of_header(bytes[0]).ok_or(CodeError::Malformed)?;
    let (body, sig) = bytes.split_at(BODY_LEN);
    let mut at = 0;
    let mut take = |len: usize| {
        let field = &body[at..at + len];
        at += len;
        field
    };
    let be_u16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let be_u32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    take(1);
    let kid = format!("{}-{}", alg.kid_prefix(), hex::encode(take(6)));
    let number = u64::from_be_bytes(take(8).try_into().map_err(|_| CodeError::Malformed)?);
    let valid_until = be_u16(take(2));
    let endorsement_due = be_u16(take(2));
    let iat = be_u32(take(4));
    let ttl = be_u16(take(2));
    let nonce: [u8; 4] = take(4).try_into().map_err(|_| CodeError::Malformed)?;
    let list_id = be_u32(take(4));
    let idx = be_u32(take(4));
    let masked_name = decode_name(take(NAME_LEN)).ok_or(CodeError::Malformed)?;
    let issued_at = Utc
        .timestamp_opt(i64::from(iat), 0)
        .single()
        .ok_or(CodeError::Malformed)?;
    let day = |n: u16| epoch_2000() + Duration::days(i64::from(n));
    let claims = CodeClaims {
        kid,
        alg,
        permit_no: number.to_string(),
        masked_name,
        valid_until: day(valid_until),
        endorsement_due: day(endorsement_due),
        status_list: Place { list_id, idx },
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
    keys.verify_alg(claims.alg, &claims.kid, &message, &signature)
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
    verify_published_alg(
        published,
        claims.alg.as_str(),
        &claims.kid,
        &message,
        &signature,
    )
    .map_err(map_verify)?;
    check_time(&claims, now)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use ed25519_dalek::SigningKey;

    fn ring(seed: u8) -> KeyRing {
        KeyRing::from_keys(vec![SigningKey::from_bytes(&[seed; 32])], vec![]).unwrap()
    }

    /// Both algorithms, `alg` signing.
    fn mixed(alg: Alg) -> KeyRing {
        use crate::keys::signing::PrivateKey;
        KeyRing::local(
            vec![
                PrivateKey::from(SigningKey::from_bytes(&[1; 32])),
                PrivateKey::sm2_from_bytes(&[2; 32]).unwrap(),
            ],
            vec![],
            alg,
        )
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        crate::clock::system_now()
    }

    fn until() -> NaiveDate {
        NaiveDate::from_ymd_opt(2029, 11, 25).unwrap()
    }

    fn subject(name: &str) -> CodeSubject<'_> {
        CodeSubject {
            permit_no: "4401002026000001",
            name,
            valid_until: until(),
            endorsement_due: NaiveDate::from_ymd_opt(2027, 11, 25).unwrap(),
            place: Place {
                list_id: 4_000_000_000,
                idx: 131_071,
            },
        }
    }

    #[tokio::test]
    async fn a_code_round_trips_and_fits_a_version_7_qr_in_both_algorithms() {
        for alg in Alg::ALL {
            let keys = mixed(alg);
            // The longest a code gets: every field at its widest.
            let (token, expires_at) = issue(&keys, &subject("欧阳𠀀娜"), 120, now())
                .await
                .unwrap();
            assert_eq!(token.len(), 3 + 173);
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            );
            let qr =
                qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M)
                    .unwrap();
            assert!(
                matches!(qr.version(), qrcode::Version::Normal(v) if v <= 7),
                "{alg}: {:?}",
                qr.version()
            );
            let claims = verify(&keys, &token, now()).unwrap();
            assert_eq!((claims.alg, claims.kid.as_str()), (alg, keys.signing_kid()));
            assert_eq!(claims.permit_no, "4401002026000001");
            assert_eq!(claims.valid_until, until());
            assert_eq!(
                claims.endorsement_due,
                NaiveDate::from_ymd_opt(2027, 11, 25).unwrap()
            );
            assert_eq!(claims.status_list, subject("").place);
            assert_eq!(claims.masked_name, "欧**娜");
            assert_eq!(claims.expires_at, expires_at.with_nanosecond(0).unwrap());
            assert_eq!(
                verify_offline(&keys.published(), &token, now()).unwrap(),
                claims
            );
        }
    }

    #[tokio::test]
    async fn a_code_whose_algorithm_is_swapped_is_refused() {
        for alg in Alg::ALL {
            let keys = mixed(alg);
            let (token, _) = issue(&keys, &subject("陈志强"), 120, now()).await.unwrap();
            let mut bytes = BASE32_NOPAD.decode(&token.as_bytes()[3..]).unwrap();
            bytes[0] ^= 0x10;
            let swapped = format!("{PREFIX}{}", BASE32_NOPAD.encode(&bytes));
            let result = verify(&keys, &swapped, now());
            assert!(
                matches!(result, Err(CodeError::UnknownKey | CodeError::BadSignature)),
                "{alg}: {result:?}"
            );
            bytes[0] = 0x22;
            let unknown = format!("{PREFIX}{}", BASE32_NOPAD.encode(&bytes));
            assert_eq!(verify(&keys, &unknown, now()), Err(CodeError::Malformed));
        }
    }

    #[tokio::test]
    async fn the_code_carries_the_name_masked_as_everywhere_else() {
        let keys = ring(1);
        for name in [
            "",
            "李",
            "张敏",
            "陈志强",
            "买买提·艾力",
            "阿卜杜热合曼·买买提明",
        ] {
            let (token, _) = issue(&keys, &subject(name), 120, now()).await.unwrap();
            let claims = verify(&keys, &token, now()).unwrap();
            assert_eq!(
                claims.masked_name,
                crate::keys::privacy::mask_name(name),
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn two_codes_for_the_same_permit_differ() {
        let keys = ring(1);
        let a = issue(&keys, &subject("陈志强"), 120, now())
            .await
            .unwrap()
            .0;
        let b = issue(&keys, &subject("陈志强"), 120, now())
            .await
            .unwrap()
            .0;
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn every_altered_character_is_refused() {
        let keys = ring(1);
        let (token, _) = issue(&keys, &subject("陈志强"), 120, now()).await.unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        for i in 0..token.len() {
            let mut chars: Vec<char> = token.chars().collect();
            let original = chars[i];
            chars[i] = alphabet.chars().find(|c| *c != original).unwrap();
            let altered: String = chars.into_iter().collect();
            assert!(verify(&keys, &altered, now()).is_err(), "position {i}");
        }
    }

    #[tokio::test]
    async fn expired_unknown_key_and_garbage_codes_name_their_reason() {
        let keys = ring(1);
        let (token, _) = issue(&keys, &subject("陈志强"), 60, now()).await.unwrap();
        let later = now() + Duration::seconds(60 + LEEWAY_SECS + 1);
        assert_eq!(verify(&keys, &token, later), Err(CodeError::Expired));
        let earlier = now() - Duration::seconds(LEEWAY_SECS + 5);
        assert_eq!(verify(&keys, &token, earlier), Err(CodeError::NotYetValid));
        assert_eq!(verify(&ring(2), &token, now()), Err(CodeError::UnknownKey));
        for garbage in [
            "",
            "YJ2",
            "hello",
            "YJ2AAAA",
            &"YJ2A".repeat(100),
            "YJ2!!!!",
            "鄂A12345",
            // A first-format code is no longer read.
            &format!("YJ1{}", &token[3..]),
        ] {
            assert_eq!(
                verify(&keys, garbage, now()),
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
            let token = format!("YJ2{}", data_encoding::BASE32_NOPAD.encode(&bytes));
            let _ = decode(&token);
        }

        #[test]
        fn any_name_masks_in_the_code_as_it_does_elsewhere(name in "\\PC{0,40}") {
            let bytes = encode_name(&name);
            let masked = crate::keys::privacy::mask_name(&name);
            if name.chars().count() <= 257 {
                proptest::prop_assert_eq!(decode_name(&bytes), Some(masked));
            }
        }
    }
}
