//! The two signature algorithms a key can have, and its public and private halves.
//!
//! - `EdDSA`: Ed25519 (RFC 8032), checked strictly (no malleable or weak-key signatures).
//! - `SM2`: the SM2 signature (GB/T 32918.2) over SM3 (GB/T 32905) with the user id
//!   `1234567812345678`, as GB/T 38540 e-seals use: `e = SM3(Z ‖ M)` where
//!   `Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)`.
//!
//! Both signatures are 64 bytes (`R ‖ S` for Ed25519, `r ‖ s` for SM2); which algorithm
//! checks a signature always comes from the key it names, never from a length.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
// One `pkcs8` crate serves both algorithms' keys.
use ed25519_dalek::pkcs8::{
    DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _,
};
use sha2::{Digest as _, Sha256};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use sm3::Sm3;

use super::VerifyError;

/// The distinguishing identifier of SM2 signatures: the standard default (GM/T 0009).
pub const SM2_USER_ID: &str = "1234567812345678";
/// Every signature is 64 bytes, whatever its algorithm.
pub const SIGNATURE_LEN: usize = 64;

/// A key's signature algorithm, named as JOSE and `GET /api/v1/keys` name it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Alg {
    #[default]
    #[serde(rename = "EdDSA")]
    EdDsa,
    #[serde(rename = "SM2")]
    Sm2,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::EdDsa, Alg::Sm2];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::EdDsa => "EdDSA",
            Alg::Sm2 => "SM2",
        }
    }

    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// How its key ids begin: `ed25519-…`, `sm2-…`.
    pub fn kid_prefix(self) -> &'static str {
        match self {
            Alg::EdDsa => "ed25519",
            Alg::Sm2 => "sm2",
        }
    }

    /// The algorithm a key id names by its prefix (our key ids always carry one).
    pub fn of_kid(kid: &str) -> Option<Alg> {
        let (prefix, _) = kid.split_once('-')?;
        Alg::ALL.into_iter().find(|a| a.kid_prefix() == prefix)
    }

    /// JWK `kty` and `crv`.
    pub fn jwk_kty(self) -> &'static str {
        match self {
            Alg::EdDsa => "OKP",
            Alg::Sm2 => "EC",
        }
    }

    pub fn jwk_crv(self) -> &'static str {
        match self {
            Alg::EdDsa => "Ed25519",
            Alg::Sm2 => "SM2",
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The public half of a key: what verifies.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl PublicKey {
    pub fn alg(&self) -> Alg {
        match self {
            PublicKey::Ed25519(_) => Alg::EdDsa,
            PublicKey::Sm2(_) => Alg::Sm2,
        }
    }

    /// An SM2 public key with the standard user id.
    pub fn sm2(key: sm2::PublicKey) -> anyhow::Result<PublicKey> {
        let verifying = sm2::dsa::VerifyingKey::new(SM2_USER_ID, key)
            .map_err(|e| anyhow::anyhow!("SM2 public key: {e}"))?;
        Ok(PublicKey::Sm2(Box::new(verifying)))
    }

    /// The SM2 public key from its uncompressed point `04 ‖ x ‖ y`.
    pub fn sm2_from_sec1(bytes: &[u8]) -> Option<PublicKey> {
        let key = sm2::PublicKey::from_sec1_bytes(bytes).ok()?;
        PublicKey::sm2(key).ok()
    }

    /// The bytes the key id is derived from: the 32-byte Ed25519 key, the 65-byte
    /// uncompressed SM2 point.
    pub fn raw(&self) -> Vec<u8> {
        match self {
            PublicKey::Ed25519(k) => k.as_bytes().to_vec(),
            PublicKey::Sm2(k) => k.as_affine().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// `ed25519-` or `sm2-`, then the first 12 hex digits of the SHA-256 of [`Self::raw`].
    pub fn kid(&self) -> String {
        let digest = Sha256::digest(self.raw());
        format!("{}-{}", self.alg().kid_prefix(), hex::encode(&digest[..6]))
    }

    /// The JWK coordinates: `x` alone for Ed25519 (RFC 8037), `x` and `y` for SM2.
    pub fn jwk_coordinates(&self) -> (String, Option<String>) {
        let raw = self.raw();
        match self {
            PublicKey::Ed25519(_) => (URL_SAFE_NO_PAD.encode(&raw), None),
            // The uncompressed point is `04 ‖ x ‖ y`, 32 bytes each.
            PublicKey::Sm2(_) => (
                URL_SAFE_NO_PAD.encode(raw.get(1..33).unwrap_or_default()),
                Some(URL_SAFE_NO_PAD.encode(raw.get(33..65).unwrap_or_default())),
            ),
        }
    }

    /// Checks `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        match self {
            PublicKey::Ed25519(key) => {
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| VerifyError::BadSignature)?;
                key.verify_strict(message, &signature)
                    .map_err(|_| VerifyError::BadSignature)
            }
            PublicKey::Sm2(key) => {
                use sm2::dsa::signature::Verifier as _;
                let signature = sm2::dsa::Signature::from_slice(signature)
                    .map_err(|_| VerifyError::BadSignature)?;
                key.verify(message, &signature)
                    .map_err(|_| VerifyError::BadSignature)
            }
        }
    }

    /// Reads an SPKI PEM public key of either algorithm (the key's own OID decides).
    pub fn from_spki_pem(pem: &str) -> anyhow::Result<PublicKey> {
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::Ed25519(key));
        }
        match sm2::PublicKey::from_public_key_pem(pem) {
            Ok(key) => PublicKey::sm2(key),
            Err(e) => anyhow::bail!("neither an Ed25519 nor an SM2 public key (SPKI PEM): {e}"),
        }
    }

    pub fn to_spki_pem(&self) -> anyhow::Result<String> {
        match self {
            PublicKey::Ed25519(k) => k
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding an Ed25519 public key: {e}")),
            PublicKey::Sm2(k) => sm2::PublicKey::from_affine(*k.as_affine())
                .map_err(|e| anyhow::anyhow!("SM2 public key: {e}"))?
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding an SM2 public key: {e}")),
        }
    }
}

/// The private half of a key: what signs in the process.
#[derive(Clone)]
pub enum PrivateKey {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, <hidden>)", self.public().kid())
    }
}

impl From<ed25519_dalek::SigningKey> for PrivateKey {
    fn from(key: ed25519_dalek::SigningKey) -> Self {
        PrivateKey::Ed25519(Box::new(key))
    }
}

impl PrivateKey {
    /// A new random key of `alg`.
    pub fn generate(alg: Alg) -> anyhow::Result<PrivateKey> {
        use crate::keys::secrets::random_bytes;
        match alg {
            Alg::EdDsa => Ok(PrivateKey::from(ed25519_dalek::SigningKey::from_bytes(
                &random_bytes::<32>()?,
            ))),
            // A random 32 bytes is a valid SM2 scalar but for a chance of about 2^-32.
            Alg::Sm2 => (0..16)
                .find_map(|_| {
                    random_bytes::<32>()
                        .ok()
                        .and_then(|b| PrivateKey::sm2_from_bytes(&b).ok())
                })
                .ok_or_else(|| anyhow::anyhow!("could not draw an SM2 key")),
        }
    }

    /// An SM2 key from its 32-byte secret scalar.
    pub fn sm2_from_bytes(bytes: &[u8]) -> anyhow::Result<PrivateKey> {
        let secret = sm2::SecretKey::from_slice(bytes)
            .map_err(|e| anyhow::anyhow!("SM2 secret key: {e}"))?;
        PrivateKey::sm2(&secret)
    }

    fn sm2(secret: &sm2::SecretKey) -> anyhow::Result<PrivateKey> {
        let key = sm2::dsa::SigningKey::new(SM2_USER_ID, secret)
            .map_err(|e| anyhow::anyhow!("SM2 secret key: {e}"))?;
        Ok(PrivateKey::Sm2(Box::new(key)))
    }

    pub fn alg(&self) -> Alg {
        match self {
            PrivateKey::Ed25519(_) => Alg::EdDsa,
            PrivateKey::Sm2(_) => Alg::Sm2,
        }
    }

    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::Sm2(k) => PublicKey::Sm2(Box::new(k.verifying_key().clone())),
        }
    }

    /// Signs `message`: Ed25519, or SM2 over `SM3(Z ‖ message)` (deterministic nonce,
    /// RFC 6979 style, as the RustCrypto signer draws it).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        match self {
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(message).to_bytes()
            }
            PrivateKey::Sm2(k) => {
                use sm2::dsa::signature::Signer as _;
                let signature: sm2::dsa::Signature = k.sign(message);
                let mut out = [0u8; SIGNATURE_LEN];
                out.copy_from_slice(&signature.to_bytes());
                out
            }
        }
    }

    /// Reads a PKCS#8 PEM private key of either algorithm (the key's own OID decides).
    pub fn from_pkcs8_pem(pem: &str) -> anyhow::Result<PrivateKey> {
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(PrivateKey::from(key));
        }
        match sm2::SecretKey::from_pkcs8_pem(pem) {
            Ok(secret) => PrivateKey::sm2(&secret),
            Err(e) => {
                anyhow::bail!("neither an Ed25519 nor an SM2 private key (PKCS#8 PEM): {e}")
            }
        }
    }

    pub fn to_pkcs8_pem(&self) -> anyhow::Result<String> {
        match self {
            PrivateKey::Ed25519(k) => k
                .to_pkcs8_pem(LineEnding::LF)
                .map(|pem| pem.as_str().to_owned())
                .map_err(|e| anyhow::anyhow!("encoding an Ed25519 key: {e}")),
            PrivateKey::Sm2(k) => sm2::SecretKey::from_slice(&k.to_bytes())
                .map_err(|e| anyhow::anyhow!("SM2 secret key: {e}"))?
                .to_pkcs8_pem(LineEnding::LF)
                .map(|pem| pem.as_str().to_owned())
                .map_err(|e| anyhow::anyhow!("encoding an SM2 key: {e}")),
        }
    }
}

/// The SM2 curve's parameters `a`, `b`, `xG`, `yG` (GB/T 32918.5), as `Z` hashes them.
const SM2_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
const SM2_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
const SM2_GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
const SM2_GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

/// `Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)` of an SM2 public key (65-byte point).
pub fn sm2_z(public_point: &[u8]) -> [u8; 32] {
    use sm3::Digest as _;
    let id = SM2_USER_ID.as_bytes();
    let entl = u16::try_from(id.len() * 8).unwrap_or(u16::MAX);
    let mut h = Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(id);
    for constant in [SM2_A, SM2_B, SM2_GX, SM2_GY] {
        h.update(hex::decode(constant).unwrap_or_default());
    }
    h.update(public_point.get(1..).unwrap_or_default());
    h.finalize().into()
}

/// The digest an SM2 signer signs: `e = SM3(Z ‖ M)` (what a seal server or HSM is given).
pub fn sm2_digest(public_point: &[u8], message: &[u8]) -> [u8; 32] {
    use sm3::Digest as _;
    let mut h = Sm3::new();
    h.update(sm2_z(public_point));
    h.update(message);
    h.finalize().into()
}

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    use sm3::Digest as _;
    Sm3::digest(data).into()
}

/// An SM2 signature as a signer may answer it, `r ‖ s` (64 bytes) or DER, as `r ‖ s`.
pub fn sm2_signature_bytes(bytes: &[u8]) -> Option<[u8; SIGNATURE_LEN]> {
    let signature = if bytes.len() == SIGNATURE_LEN {
        sm2::dsa::Signature::from_slice(bytes).ok()?
    } else {
        sm2::dsa::Signature::from_der(bytes).ok()?
    };
    let mut out = [0u8; SIGNATURE_LEN];
    out.copy_from_slice(&signature.to_bytes());
    Some(out)
}

/// DER of an `r ‖ s` SM2 signature, as OpenSSL writes and reads it.
pub fn sm2_signature_der(signature: &[u8]) -> Option<Vec<u8>> {
    Some(
        sm2::dsa::Signature::from_slice(signature)
            .ok()?
            .to_der()
            .to_vec(),
    )
}

/// Signs a precomputed `e` with an SM2 key: what a seal server does (and the test fakes).
pub fn sm2_sign_digest(key: &PrivateKey, digest: &[u8]) -> Option<[u8; SIGNATURE_LEN]> {
    use sm2::dsa::signature::hazmat::PrehashSigner as _;
    let PrivateKey::Sm2(k) = key else {
        return None;
    };
    let signature = k.sign_prehash(digest).ok()?;
    let mut out = [0u8; SIGNATURE_LEN];
    out.copy_from_slice(&signature.to_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_of_abc_is_the_gbt_32905_example() {
        // GB/T 32905-2016, appendix A.1.
        assert_eq!(
            hex::encode(sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        // A.2: "abcd" sixteen times.
        assert_eq!(
            hex::encode(sm3(b"abcd".repeat(16).as_slice())),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn signing_the_digest_is_signing_the_message() {
        let key = PrivateKey::generate(Alg::Sm2).unwrap();
        let point = key.public().raw();
        let message = b"yueju-code-v2\nsome body";
        let signature = sm2_sign_digest(&key, &sm2_digest(&point, message)).unwrap();
        assert!(key.public().verify(message, &signature).is_ok());
        assert_eq!(key.sign(message).len(), 64);
        assert!(key.public().verify(message, &key.sign(message)).is_ok());
    }

    #[test]
    fn keys_round_trip_through_pem_and_name_their_algorithm() {
        for alg in Alg::ALL {
            let key = PrivateKey::generate(alg).unwrap();
            let pem = key.to_pkcs8_pem().unwrap();
            let back = PrivateKey::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(back.alg(), alg);
            assert_eq!(back.public().kid(), key.public().kid());
            let public = PublicKey::from_spki_pem(&key.public().to_spki_pem().unwrap()).unwrap();
            assert_eq!(public.kid(), key.public().kid());
            assert_eq!(Alg::of_kid(&public.kid()), Some(alg));
            assert!(public.kid().starts_with(alg.kid_prefix()));
        }
        assert!(PrivateKey::from_pkcs8_pem("not a key").is_err());
    }

    // Per algorithm: sign → verify for any message, and hostile input never panics.
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        #[test]
        fn any_message_signed_verifies_and_no_other_does(
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            other in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            for alg in Alg::ALL {
                let key = PrivateKey::generate(alg).unwrap();
                let signature = key.sign(&message);
                proptest::prop_assert!(key.public().verify(&message, &signature).is_ok());
                if other != message {
                    proptest::prop_assert!(key.public().verify(&other, &signature).is_err());
                }
            }
        }

        #[test]
        fn any_bytes_as_a_signature_or_a_key_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..130),
        ) {
            for alg in Alg::ALL {
                let key = PrivateKey::generate(alg).unwrap();
                let _ = key.public().verify(b"message", &bytes);
            }
            let _ = PublicKey::sm2_from_sec1(&bytes);
            let _ = sm2_signature_bytes(&bytes);
        }
    }
}
