//! The issuing authority's signing keys, each with its algorithm, and signatures over a
//! canonical JSON form.
//!
//! Every permit version, 粤居码, annotated copy, status list and residence proof is signed by
//! the key that signs now and names it (key id, and algorithm where the format has room);
//! verifiers look the key up by algorithm and key id, never by the length of anything. A key
//! is Ed25519 (`EdDSA`) or SM2 with SM3 (`SM2`, see [`algs`]); `YUEJU_SIGNING_ALG` picks which
//! algorithm new signatures use, and the ring keeps every other key to verify what it signed,
//! so switching the setting (or rotating a key) leaves old signatures valid.
//!
//! Key ids are derived from the public key (`ed25519-…`, `sm2-…`), so a key is named the same
//! wherever it is published. Who holds the private keys is the [`signer`] port: the process
//! (in dev generated into `data_dir/keys/signing-ed25519.pem` and `signing-sm2.pem`; in
//! production `YUEJU_SIGNING_KEYS` lists PKCS#8 PEM files of either algorithm), or a seal
//! server / HSM at `YUEJU_SIGNER_URL` whose public keys `YUEJU_SIGNER_KEYS` lists.
//! `YUEJU_RETIRED_PUBLIC_KEYS` lists SPKI PEM files of keys that only verify.

pub mod algs;
pub mod signer;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

pub use algs::{Alg, PrivateKey, PublicKey, SIGNATURE_LEN, SM2_USER_ID, sm3};
pub use signer::{KeyRef, LocalSigner, RemoteSigner, SignError, Signer};

use crate::config::Settings;

/// A key in the ring: its id, public half and whether it signs what is issued now.
#[derive(Clone, Debug)]
pub struct RingKey {
    pub kid: String,
    pub public: PublicKey,
    pub active: bool,
}

/// Whether a published key signs what is issued now, or only verifies what it signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Retired,
}

/// A public key as published at `GET /api/v1/keys` (JWK fields): Ed25519 as RFC 8037
/// (`kty` `OKP`, `crv` `Ed25519`, `x`), SM2 as an EC key (`kty` `EC`, `crv` `SM2`, `x`, `y`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PublishedKey {
    pub kid: String,
    #[schema(schema_with = crate::api_schema::jwk_kty)]
    pub kty: String,
    #[schema(schema_with = crate::api_schema::signature_alg)]
    pub alg: String,
    #[schema(schema_with = crate::api_schema::jwk_crv)]
    pub crv: String,
    pub x: String,
    /// SM2 keys only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(rename = "use")]
    pub use_: String,
    pub status: KeyStatus,
}

impl PublishedKey {
    /// The key this JWK describes, when its fields agree with its algorithm.
    pub fn public_key(&self) -> Option<PublicKey> {
        let decode =
            |v: &str| -> Option<[u8; 32]> { URL_SAFE_NO_PAD.decode(v).ok()?.try_into().ok() };
        match Alg::parse(&self.alg)? {
            Alg::EdDsa if self.kty == "OKP" && self.crv == "Ed25519" => {
                let x = decode(&self.x)?;
                ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .ok()
                    .map(PublicKey::Ed25519)
            }
            Alg::Sm2 if self.kty == "EC" && self.crv == "SM2" => {
                let mut point = vec![0x04];
                point.extend_from_slice(&decode(&self.x)?);
                point.extend_from_slice(&decode(self.y.as_deref()?)?);
                PublicKey::sm2_from_sec1(&point)
            }
            _ => None,
        }
    }
}

/// A signature the ring made: the key that made it and the 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub kid: String,
    pub alg: Alg,
    pub bytes: [u8; SIGNATURE_LEN],
}

impl Signed {
    /// Standard base64, as detached signatures are carried in JSON.
    pub fn b64(&self) -> String {
        B64.encode(self.bytes)
    }

    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.bytes
    }
}

pub struct KeyRing {
    keys: Vec<RingKey>,
    /// The index in `keys` of the key that signs.
    signing: usize,
    signer: Arc<dyn Signer>,
}

impl KeyRing {
    pub fn load(settings: &Settings) -> anyhow::Result<KeyRing> {
        let alg = settings.signing_alg;
        let mut retired = Vec::new();
        for path in paths(settings.retired_public_keys.as_deref()) {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading public key {path}"))?;
            retired.push(
                PublicKey::from_spki_pem(&pem).with_context(|| format!("public key {path}"))?,
            );
        }
        if let Some(url) = &settings.signer_url {
            let mut held = Vec::new();
            for path in paths(settings.signer_keys.as_deref()) {
                let pem = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the signing service's public key {path}"))?;
                held.push(
                    PublicKey::from_spki_pem(&pem).with_context(|| format!("public key {path}"))?,
                );
            }
            if held.is_empty() {
                bail!(
                    "YUEJU_SIGNER_KEYS (SPKI PEM files of the keys the signing service holds) is required with YUEJU_SIGNER_URL"
                );
            }
            let signer =
                RemoteSigner::new(url, settings.signer_token.clone(), settings.signer_deadline)?;
            return KeyRing::with_signer(held, retired, alg, Arc::new(signer));
        }
        let mut private = Vec::new();
        match &settings.signing_keys {
            Some(list) => {
                for path in paths(Some(list)) {
                    let pem = std::fs::read_to_string(path)
                        .with_context(|| format!("reading signing key {path}"))?;
                    private.push(
                        PrivateKey::from_pkcs8_pem(&pem)
                            .with_context(|| format!("signing key {path}"))?,
                    );
                }
            }
            None if settings.is_dev() => {
                for a in Alg::ALL {
                    private.push(dev_key(&settings.data_dir, a)?);
                }
            }
            None => bail!("YUEJU_SIGNING_KEYS (or YUEJU_SIGNER_URL) is required outside dev mode"),
        }
        KeyRing::local(private, retired, alg)
    }

    /// Keys held in the process: the first of `private` with algorithm `alg` signs; the other
    /// private keys and the `retired` public keys verify.
    pub fn local(
        private: Vec<PrivateKey>,
        retired: Vec<PublicKey>,
        alg: Alg,
    ) -> anyhow::Result<KeyRing> {
        let publics = private.iter().map(PrivateKey::public).collect();
        KeyRing::with_signer(publics, retired, alg, Arc::new(LocalSigner::new(private)))
    }

    /// Ed25519 keys held in the process: the first signs, the others verify.
    pub fn from_keys(
        signing_keys: Vec<ed25519_dalek::SigningKey>,
        retired: Vec<ed25519_dalek::VerifyingKey>,
    ) -> anyhow::Result<KeyRing> {
        KeyRing::local(
            signing_keys.into_iter().map(PrivateKey::from).collect(),
            retired.into_iter().map(PublicKey::Ed25519).collect(),
            Alg::EdDsa,
        )
    }

    /// The `signer` holds the private halves of `held`; the first of them with algorithm `alg`
    /// signs, every other key (and `retired`) only verifies.
    pub fn with_signer(
        held: Vec<PublicKey>,
        retired: Vec<PublicKey>,
        alg: Alg,
        signer: Arc<dyn Signer>,
    ) -> anyhow::Result<KeyRing> {
        let signing_public = held
            .iter()
            .find(|k| k.alg() == alg)
            .cloned()
            .with_context(|| {
                format!("YUEJU_SIGNING_ALG is {alg}, but no {alg} signing key is configured")
            })?;
        let signing_kid = signing_public.kid();
        let mut keys = vec![RingKey {
            kid: signing_kid,
            public: signing_public,
            active: true,
        }];
        for public in held.into_iter().chain(retired) {
            let kid = public.kid();
            if keys.iter().all(|k| k.kid != kid) {
                keys.push(RingKey {
                    kid,
                    public,
                    active: false,
                });
            }
        }
        Ok(KeyRing {
            keys,
            signing: 0,
            signer,
        })
    }

    fn signing_key(&self) -> &RingKey {
        // `signing` is set at construction to an index that exists.
        &self.keys[self.signing]
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_key().kid
    }

    /// The algorithm new signatures use.
    pub fn signing_alg(&self) -> Alg {
        self.signing_key().public.alg()
    }

    /// Signs `message` with the signing key, through the signer port. A remote signer's answer
    /// is verified here before it is used.
    pub async fn sign(&self, message: &[u8]) -> Result<Signed, SignError> {
        let key = self.signing_key();
        let bytes = self
            .signer
            .sign(
                KeyRef {
                    kid: &key.kid,
                    public: &key.public,
                },
                message,
            )
            .await?;
        if self.signer.remote() && key.public.verify(message, &bytes).is_err() {
            return Err(SignError::BadAnswer {
                kid: key.kid.clone(),
                why: "the signature does not verify with the key's public half".into(),
            });
        }
        Ok(Signed {
            kid: key.kid.clone(),
            alg: key.public.alg(),
            bytes,
        })
    }

    /// A detached signature over `value` for `purpose` ([`signed_message`]).
    pub async fn sign_value(&self, purpose: &str, value: &Value) -> Result<Signed, SignError> {
        self.sign(&signed_message(purpose, value)).await
    }

    pub fn find(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The algorithm of a key named in something we signed.
    pub fn alg_of(&self, kid: &str) -> Option<Alg> {
        self.find(kid)
            .map(|k| k.public.alg())
            .or_else(|| Alg::of_kid(kid))
    }

    /// Checks a signature with the named key.
    pub fn verify(&self, kid: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        let key = self.find(kid).ok_or(VerifyError::UnknownKey)?;
        key.public.verify(message, signature)
    }

    /// Checks a signature with the key of this algorithm and id (no such key: `UnknownKey`).
    pub fn verify_alg(
        &self,
        alg: Alg,
        kid: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let key = self
            .find(kid)
            .filter(|k| k.public.alg() == alg)
            .ok_or(VerifyError::UnknownKey)?;
        key.public.verify(message, signature)
    }

    pub fn published(&self) -> Vec<PublishedKey> {
        self.keys.iter().map(publish).collect()
    }
}

fn paths(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.into_iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    UnknownKey,
    BadSignature,
}

pub fn publish(key: &RingKey) -> PublishedKey {
    let alg = key.public.alg();
    let (x, y) = key.public.jwk_coordinates();
    PublishedKey {
        kid: key.kid.clone(),
        kty: alg.jwk_kty().into(),
        alg: alg.as_str().into(),
        crv: alg.jwk_crv().into(),
        x,
        y,
        use_: "sig".into(),
        status: if key.active {
            KeyStatus::Active
        } else {
            KeyStatus::Retired
        },
    }
}

/// Verifies against published keys alone (what an offline verifier holds), with the
/// algorithm the key is published with.
pub fn verify_with_published(
    keys: &[PublishedKey],
    kid: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .and_then(PublishedKey::public_key)
        .ok_or(VerifyError::UnknownKey)?;
    key.verify(message, signature)
}

/// Verifies against the published key of this algorithm and id: what a verifier does when
/// the signed thing names both (no such key, or the key has another algorithm: `UnknownKey`).
pub fn verify_published_alg(
    keys: &[PublishedKey],
    alg: &str,
    kid: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let key = keys
        .iter()
        .find(|k| k.kid == kid && k.alg == alg)
        .and_then(PublishedKey::public_key)
        .ok_or(VerifyError::UnknownKey)?;
    key.verify(message, signature)
}

/// Whether `signature_b64` is the signature over `value` for `purpose` by the published key
/// of algorithm `alg` and id `kid` (what anyone holding `GET /api/v1/keys` can check).
pub fn verify_value_alg(
    keys: &[PublishedKey],
    alg: &str,
    kid: &str,
    purpose: &str,
    value: &Value,
    signature_b64: &str,
) -> bool {
    let Ok(signature) = B64.decode(signature_b64) else {
        return false;
    };
    verify_published_alg(keys, alg, kid, &signed_message(purpose, value), &signature).is_ok()
}

/// The id of an Ed25519 key: `ed25519-` and the first 12 hex digits of its SHA-256.
pub fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    PublicKey::Ed25519(*key).kid()
}

/// The canonical form that is signed: JSON with object keys sorted, no insignificant white
/// space, UTF-8 (serde_json's map is ordered, and we sign only strings, integers, booleans,
/// arrays and objects). Permits and residence proofs are signed over it; envelopes over
/// [`jcs`].
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

/// RFC 8785 (JSON Canonicalization Scheme) of `value`.
pub fn jcs<T: Serialize>(value: &T) -> anyhow::Result<Vec<u8>> {
    serde_json_canonicalizer::to_vec(value).context("canonicalising JSON (RFC 8785)")
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

fn dev_key(data_dir: &Path, alg: Alg) -> anyhow::Result<PrivateKey> {
    let dir = data_dir.join("keys");
    let path = dir.join(format!("signing-{}.pem", alg.kid_prefix()));
    if path.exists() {
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return PrivateKey::from_pkcs8_pem(&pem).with_context(|| path.display().to_string());
    }
    std::fs::create_dir_all(&dir)?;
    let key = PrivateKey::generate(alg)?;
    crate::keys::secrets::write_private(&path, &key.to_pkcs8_pem()?)?;
    tracing::info!(kid = %key.public().kid(), %alg, "generated dev signing key");
    Ok(key)
}

#[cfg(test)]
mod tests;
