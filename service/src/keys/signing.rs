//! The issuing authority's Ed25519 keys, and signatures over a canonical JSON form.
//!
//! Every permit version, every 粤居码 and every annotated copy is signed by the current key;
//! older keys stay in the ring to verify what they signed. Key ids are derived from the public
//! key, so a key is named the same wherever it is published. In dev a key is generated into
//! `data_dir/keys/signing-ed25519.pem`; in production `YUEJU_SIGNING_KEYS` lists PKCS#8 PEM
//! files (the first signs) and `YUEJU_RETIRED_PUBLIC_KEYS` lists SPKI PEM files of keys that
//! only verify.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

use crate::config::Settings;
use crate::keys::secrets::random_bytes;

/// A key in the ring: its id, public half and whether it still signs.
#[derive(Clone)]
pub struct RingKey {
    pub kid: String,
    pub verifying: VerifyingKey,
    pub active: bool,
}

/// Whether a published key still signs: a retired key only verifies what it signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Retired,
}

/// A public key as published at `GET /api/v1/keys` (JWK fields, RFC 8037).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PublishedKey {
    pub kid: String,
    #[schema(schema_with = crate::api_schema::okp)]
    pub kty: String,
    #[schema(schema_with = crate::api_schema::eddsa)]
    pub alg: String,
    #[schema(schema_with = crate::api_schema::ed25519)]
    pub crv: String,
    pub x: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub status: KeyStatus,
}

pub struct KeyRing {
    signing: SigningKey,
    signing_kid: String,
    keys: Vec<RingKey>,
}

impl KeyRing {
    pub fn load(settings: &Settings) -> anyhow::Result<KeyRing> {
        let mut signing_keys = Vec::new();
        match &settings.signing_keys {
            Some(paths) => {
                for path in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let pem = std::fs::read_to_string(path)
                        .with_context(|| format!("reading signing key {path}"))?;
                    signing_keys.push(
                        SigningKey::from_pkcs8_pem(&pem)
                            .map_err(|e| anyhow::anyhow!("signing key {path}: {e}"))?,
                    );
                }
            }
            None if settings.is_dev() => signing_keys.push(dev_key(&settings.data_dir)?),
            None => bail!("YUEJU_SIGNING_KEYS is required outside dev mode"),
        }
        let mut retired = Vec::new();
        for path in settings
            .retired_public_keys
            .iter()
            .flat_map(|p| p.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading public key {path}"))?;
            retired.push(
                VerifyingKey::from_public_key_pem(&pem)
                    .map_err(|e| anyhow::anyhow!("public key {path}: {e}"))?,
            );
        }
        KeyRing::from_keys(signing_keys, retired)
    }

    /// The first signing key signs; the other signing keys and the retired public keys verify.
    pub fn from_keys(
        signing_keys: Vec<SigningKey>,
        retired: Vec<VerifyingKey>,
    ) -> anyhow::Result<KeyRing> {
        let mut iter = signing_keys.into_iter();
        let signing = iter
            .next()
            .context("at least one signing key is required")?;
        let signing_kid = key_id(&signing.verifying_key());
        let mut keys = vec![RingKey {
            kid: signing_kid.clone(),
            verifying: signing.verifying_key(),
            active: true,
        }];
        for verifying in iter.map(|k| k.verifying_key()).chain(retired) {
            let kid = key_id(&verifying);
            if keys.iter().all(|k| k.kid != kid) {
                keys.push(RingKey {
                    kid,
                    verifying,
                    active: false,
                });
            }
        }
        Ok(KeyRing {
            signing,
            signing_kid,
            keys,
        })
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }

    pub fn find(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Checks a signature with the named key (strict: no malleable or weak-key signatures).
    pub fn verify(&self, kid: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        let key = self.find(kid).ok_or(VerifyError::UnknownKey)?;
        let signature = Signature::from_slice(signature).map_err(|_| VerifyError::BadSignature)?;
        key.verifying
            .verify_strict(message, &signature)
            .map_err(|_| VerifyError::BadSignature)
    }

    /// A detached signature over `value` for `purpose`, in base64, by the signing key.
    pub fn sign_value(&self, purpose: &str, value: &Value) -> String {
        encode_signature(&self.sign(&signed_message(purpose, value)))
    }

    pub fn published(&self) -> Vec<PublishedKey> {
        self.keys.iter().map(publish).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    UnknownKey,
    BadSignature,
}

pub fn publish(key: &RingKey) -> PublishedKey {
    PublishedKey {
        kid: key.kid.clone(),
        kty: "OKP".into(),
        alg: "EdDSA".into(),
        crv: "Ed25519".into(),
        x: URL_SAFE_NO_PAD.encode(key.verifying.as_bytes()),
        use_: "sig".into(),
        status: if key.active {
            KeyStatus::Active
        } else {
            KeyStatus::Retired
        },
    }
}

/// Verifies against published keys alone (what an offline verifier holds).
pub fn verify_with_published(
    keys: &[PublishedKey],
    kid: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(VerifyError::UnknownKey)?;
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&key.x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::UnknownKey)?;
    let verifying = VerifyingKey::from_bytes(&bytes).map_err(|_| VerifyError::UnknownKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| VerifyError::BadSignature)?;
    verifying
        .verify_strict(message, &signature)
        .map_err(|_| VerifyError::BadSignature)
}

/// Whether `signature_b64` is key `kid`'s signature over `value` for `purpose`, checked with
/// published keys alone (what anyone holding `GET /api/v1/keys` can do).
pub fn verify_value(
    keys: &[PublishedKey],
    kid: &str,
    purpose: &str,
    value: &Value,
    signature_b64: &str,
) -> bool {
    let Ok(signature) = B64.decode(signature_b64) else {
        return false;
    };
    verify_with_published(keys, kid, &signed_message(purpose, value), &signature).is_ok()
}

/// `ed25519-` and the first 12 hex digits of the SHA-256 of the public key.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("ed25519-{}", hex::encode(&digest[..6]))
}

/// The canonical form that is signed: JSON with object keys sorted, no insignificant white
/// space, UTF-8 (serde_json's map is ordered, and we sign only strings, integers, booleans,
/// arrays and objects).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(value)).unwrap_or_default()
}

/// What a signature covers: a purpose label, a newline, then the canonical JSON, so a
/// signature made for one kind of document cannot be passed off as another.
pub fn signed_message(purpose: &str, value: &Value) -> Vec<u8> {
    let mut message = Vec::with_capacity(purpose.len() + 256);
    message.extend_from_slice(purpose.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(&canonical_json(value));
    message
}

pub fn encode_signature(signature: &Signature) -> String {
    B64.encode(signature.to_bytes())
}

fn dev_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    let dir = data_dir.join("keys");
    let path = dir.join("signing-ed25519.pem");
    if path.exists() {
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    std::fs::create_dir_all(&dir)?;
    let key = SigningKey::from_bytes(&random_bytes::<32>()?);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding dev signing key: {e}"))?;
    crate::keys::secrets::write_private(&path, pem.as_str())?;
    tracing::info!(kid = %key_id(&key.verifying_key()), "generated dev signing key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ring(seeds: &[u8]) -> KeyRing {
        KeyRing::from_keys(
            seeds
                .iter()
                .map(|s| SigningKey::from_bytes(&[*s; 32]))
                .collect(),
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_drops_white_space() {
        let v = json!({"b": 1, "a": {"d": [2, {"z": 1, "y": 2}], "c": "中"}});
        assert_eq!(
            String::from_utf8(canonical_json(&v)).unwrap(),
            r#"{"a":{"c":"中","d":[2,{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn a_signature_verifies_and_fails_after_any_one_byte_change() {
        let ring = ring(&[1]);
        let message = signed_message("test", &json!({"permit_no": "440100202600001"}));
        let sig = ring.sign(&message).to_bytes();
        assert!(ring.verify(ring.signing_kid(), &message, &sig).is_ok());
        for i in 0..message.len() {
            let mut m = message.clone();
            m[i] ^= 1;
            assert_eq!(
                ring.verify(ring.signing_kid(), &m, &sig),
                Err(VerifyError::BadSignature)
            );
        }
        for i in 0..sig.len() {
            let mut s = sig;
            s[i] ^= 1;
            assert!(ring.verify(ring.signing_kid(), &message, &s).is_err());
        }
    }

    #[test]
    fn retired_keys_keep_verifying_and_only_the_first_signs() {
        let old = ring(&[1]);
        let message = b"old document";
        let sig = old.sign(message).to_bytes();
        let rotated = ring(&[2, 1]);
        assert_ne!(rotated.signing_kid(), old.signing_kid());
        assert!(rotated.verify(old.signing_kid(), message, &sig).is_ok());
        let published = rotated.published();
        assert_eq!(published.len(), 2);
        assert_eq!(published[0].status, KeyStatus::Active);
        assert_eq!(published[1].status, KeyStatus::Retired);
        assert!(verify_with_published(&published, old.signing_kid(), message, &sig).is_ok());
        assert_eq!(
            verify_with_published(&published, "ed25519-unknown", message, &sig),
            Err(VerifyError::UnknownKey)
        );
    }
}
