//! The signer port: who holds the private keys. Two adapters:
//!
//! - [`LocalSigner`]: the keys in the process (PEM files, or generated in dev).
//! - [`RemoteSigner`]: a seal server or HSM front at `YUEJU_SIGNER_URL`, under a deadline.
//!   `POST {base}/sign` with `{"kid", "alg", "digest"}` (base64) answers `{"signature"}`
//!   (base64). For SM2 the digest is `e = SM3(Z ‖ M)`, what GM/T 0018 devices sign. For
//!   Ed25519 there is no digest to sign: the algorithm hashes the message with the key's own
//!   secret prefix, and a prehashed variant (Ed25519ph) is another algorithm that `EdDSA`
//!   verifiers (JWS, RFC 8037) refuse; so the request carries `"message"` (base64, our messages
//!   are at most a few hundred kilobytes, a status list) instead of `"digest"`.
//!
//! The service never trusts an answer it did not check: [`super::KeyRing::sign`] verifies
//! every remote signature with the key's public half before anything is issued with it.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret as _, SecretString};
use std::collections::HashMap;
use std::time::Duration;

use super::algs::{Alg, PrivateKey, PublicKey, SIGNATURE_LEN, sm2_digest, sm2_signature_bytes};

/// How much of an error body goes to the log.
const LOGGED_BODY_CHARS: usize = 300;

/// Why a signature could not be made. Every kind is one refusal for the client
/// ([`crate::error::Refusal::SigningUnavailable`]); the log keeps which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the signer holds no private key {0}")]
    NoKey(String),
    #[error("the signing service is unreachable or past its deadline: {0}")]
    Unavailable(String),
    #[error("the signing service answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the signing service answered something that is not a signature by {kid}: {why}")]
    BadAnswer { kid: String, why: String },
}

/// A key as the port sees it: its id and public half.
pub struct KeyRef<'a> {
    pub kid: &'a str,
    pub public: &'a PublicKey,
}

#[async_trait]
pub trait Signer: Send + Sync {
    /// The 64-byte signature of `message` by the private half of `key`.
    async fn sign(&self, key: KeyRef<'_>, message: &[u8])
    -> Result<[u8; SIGNATURE_LEN], SignError>;

    /// Whether the answers come from outside the process (and are checked before use).
    fn remote(&self) -> bool;
}

/// The keys in the process.
#[derive(Default)]
pub struct LocalSigner {
    keys: HashMap<String, PrivateKey>,
}

impl LocalSigner {
    pub fn new(keys: impl IntoIterator<Item = PrivateKey>) -> LocalSigner {
        LocalSigner {
            keys: keys.into_iter().map(|k| (k.public().kid(), k)).collect(),
        }
    }
}

#[async_trait]
impl Signer for LocalSigner {
    async fn sign(
        &self,
        key: KeyRef<'_>,
        message: &[u8],
    ) -> Result<[u8; SIGNATURE_LEN], SignError> {
        let private = self
            .keys
            .get(key.kid)
            .ok_or_else(|| SignError::NoKey(key.kid.to_owned()))?;
        Ok(private.sign(message))
    }

    fn remote(&self) -> bool {
        false
    }
}

/// A seal server or HSM front over HTTP.
pub struct RemoteSigner {
    http: reqwest::Client,
    url: String,
    token: Option<SecretString>,
}

#[derive(serde::Deserialize)]
struct SignatureWire {
    signature: String,
}

impl RemoteSigner {
    /// `base` is `YUEJU_SIGNER_URL`; every call (connect, send, answer) ends by `deadline`.
    pub fn new(
        base: &str,
        token: Option<SecretString>,
        deadline: Duration,
    ) -> anyhow::Result<RemoteSigner> {
        let http = reqwest::Client::builder()
            .timeout(deadline)
            .user_agent("yueju/0.1")
            .build()
            .map_err(|e| anyhow::anyhow!("building the signing service's HTTP client: {e}"))?;
        Ok(RemoteSigner {
            http,
            url: format!("{}/sign", base.trim_end_matches('/')),
            token,
        })
    }

    /// The request body for `message` signed by `key` (see the module documentation).
    pub fn request(key: KeyRef<'_>, message: &[u8]) -> serde_json::Value {
        match key.public.alg() {
            Alg::Sm2 => serde_json::json!({
                "kid": key.kid,
                "alg": Alg::Sm2.as_str(),
                "digest": B64.encode(sm2_digest(&key.public.raw(), message)),
            }),
            Alg::EdDsa => serde_json::json!({
                "kid": key.kid,
                "alg": Alg::EdDsa.as_str(),
                "message": B64.encode(message),
            }),
        }
    }
}

#[async_trait]
impl Signer for RemoteSigner {
    async fn sign(
        &self,
        key: KeyRef<'_>,
        message: &[u8],
    ) -> Result<[u8; SIGNATURE_LEN], SignError> {
        let mut call = self.http.post(&self.url).json(&Self::request(
            KeyRef {
                kid: key.kid,
                public: key.public,
            },
            message,
        ));
        if let Some(token) = &self.token {
            call = call.bearer_auth(token.expose_secret());
        }
        let unavailable = |e: reqwest::Error| {
            SignError::Unavailable(if e.is_timeout() {
                "deadline passed".to_owned()
            } else {
                e.to_string()
            })
        };
        let response = call.send().await.map_err(unavailable)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(SignError::Refused {
                status: status.as_u16(),
                body: body.chars().take(LOGGED_BODY_CHARS).collect(),
            });
        }
        // Reading the body is under the same deadline as the call.
        let wire = response
            .json::<SignatureWire>()
            .await
            .map_err(|e| match e.is_timeout() {
                true => unavailable(e),
                false => SignError::BadAnswer {
                    kid: key.kid.to_owned(),
                    why: "not {\"signature\": base64}".into(),
                },
            })?;
        let bad = |why: &str| SignError::BadAnswer {
            kid: key.kid.to_owned(),
            why: why.to_owned(),
        };
        let bytes = B64
            .decode(wire.signature.trim())
            .map_err(|_| bad("signature is not base64"))?;
        match key.public.alg() {
            Alg::Sm2 => sm2_signature_bytes(&bytes).ok_or_else(|| bad("not an SM2 signature")),
            Alg::EdDsa => bytes
                .try_into()
                .map_err(|_| bad("an Ed25519 signature is 64 bytes")),
        }
    }

    fn remote(&self) -> bool {
        true
    }
}
