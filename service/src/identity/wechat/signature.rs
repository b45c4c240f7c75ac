//! The platform signs every call to a message server with the SHA-1 of the sorted token,
//! timestamp and nonce (`signature`), and in 安全模式 also over the ciphertext
//! (`msg_signature`); a call is accepted only with that signature and a timestamp inside the
//! replay window.

use crate::Refusal;
use crate::keys::compare::same_secret;
use sha1::{Digest, Sha1};

/// Hex SHA-1 of the values sorted and concatenated.
pub fn sign_sorted<const N: usize>(mut parts: [&str; N]) -> String {
    parts.sort_unstable();
    hex::encode(Sha1::digest(parts.concat().as_bytes()))
}

/// The `signature` of a call: over the token, timestamp and nonce.
pub fn sign(token: &str, timestamp: &str, nonce: &str) -> String {
    sign_sorted([token, timestamp, nonce])
}

/// The `msg_signature` of a 安全模式 call: over the token, timestamp, nonce and the
/// `Encrypt` text.
pub fn sign_message(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sign_sorted([token, timestamp, nonce, encrypt])
}

/// Checks the signature, then the timestamp against `now` (Unix seconds).
pub fn check(
    token: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    nonce: Option<&str>,
    now: i64,
    window_secs: u64,
) -> Result<(), Refusal> {
    check_with(
        signature,
        timestamp,
        nonce,
        now,
        window_secs,
        |timestamp, nonce| sign(token, timestamp, nonce),
    )
}

/// Checks the `msg_signature` over `encrypt`, then the timestamp against `now`.
pub fn check_message(
    token: &str,
    msg_signature: Option<&str>,
    timestamp: Option<&str>,
    nonce: Option<&str>,
    encrypt: &str,
    now: i64,
    window_secs: u64,
) -> Result<(), Refusal> {
    check_with(
        msg_signature,
        timestamp,
        nonce,
        now,
        window_secs,
        |timestamp, nonce| sign_message(token, timestamp, nonce, encrypt),
    )
}

fn check_with(
    signature: Option<&str>,
    timestamp: Option<&str>,
    nonce: Option<&str>,
    now: i64,
    window_secs: u64,
    expected: impl FnOnce(&str, &str) -> String,
) -> Result<(), Refusal> {
    let (Some(signature), Some(timestamp), Some(nonce)) = (signature, timestamp, nonce) else {
        return Err(Refusal::SignatureInvalid);
    };
    if timestamp.len() > 20 || nonce.len() > 64 || signature.len() != 40 {
        return Err(Refusal::SignatureInvalid);
    }
    if !same_secret(
        signature.to_ascii_lowercase().as_bytes(),
        expected(timestamp, nonce).as_bytes(),
    ) {
        return Err(Refusal::SignatureInvalid);
    }
    let sent: i64 = timestamp.parse().map_err(|_| Refusal::SignatureInvalid)?;
    if now.abs_diff(sent) > window_secs {
        return Err(Refusal::TimestampOutOfWindow);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_sha1_of_the_sorted_values() {
        // sorted: "1409304348" < "nonce" < "token"
        assert_eq!(
            sign("token", "1409304348", "nonce"),
            hex::encode(Sha1::digest(b"1409304348noncetoken"))
        );
        let sig = sign("token", "1000", "n");
        assert_eq!(
            check("token", Some(&sig), Some("1000"), Some("n"), 1100, 300),
            Ok(())
        );
        assert_eq!(
            check("token", Some(&sig), Some("1000"), Some("n"), 2000, 300),
            Err(Refusal::TimestampOutOfWindow)
        );
        assert_eq!(
            check("other", Some(&sig), Some("1000"), Some("n"), 1000, 300),
            Err(Refusal::SignatureInvalid)
        );
        assert_eq!(
            check("token", None, Some("1000"), Some("n"), 1000, 300),
            Err(Refusal::SignatureInvalid)
        );
    }
}
