//! The platform signs every call to the message server with the SHA-1 of the sorted token,
//! timestamp and nonce; a call is accepted only with that signature and a timestamp inside
//! the replay window.

use service::Refusal;
use sha1::{Digest, Sha1};

/// Hex SHA-1 of the three values sorted and concatenated.
pub fn sign(token: &str, timestamp: &str, nonce: &str) -> String {
    let mut parts = [token, timestamp, nonce];
    parts.sort_unstable();
    hex::encode(Sha1::digest(parts.concat().as_bytes()))
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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
    let (Some(signature), Some(timestamp), Some(nonce)) = (signature, timestamp, nonce) else {
        return Err(Refusal::SignatureInvalid);
    };
    if timestamp.len() > 20 || nonce.len() > 64 || signature.len() != 40 {
        return Err(Refusal::SignatureInvalid);
    }
    if !same(
        &sign(token, timestamp, nonce),
        &signature.to_ascii_lowercase(),
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
