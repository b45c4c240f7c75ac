//! Personal data at rest and on display.
//!
//! At rest, every personal value is sealed with XChaCha20-Poly1305 under a key named by its
//! key id, with the kind of value as associated data so a sealed name cannot be passed off as
//! an address. Lookups go through a keyed blind index (HMAC-SHA-256), never the clear value.
//! On display, one masking rule per kind of value is used everywhere.

use anyhow::{Context as _, anyhow, bail};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;

use crate::keys::secrets::{decode_b64_key, parse_key_list, random_bytes};

/// The kind of a sealed value; it is bound into the ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    IdNumber,
    Name,
    Address,
    Email,
    Photo,
    /// An uploaded document.
    Document,
    /// A signed permit payload (all statutory fields).
    Permit,
    /// A queued notice.
    Notice,
    /// A saved API answer (idempotency).
    Response,
    /// Free text written by staff or a resident (review notes, reasons).
    Note,
    /// A chat user's dialogue state or a stored bot reply.
    Dialogue,
    /// A one-time chat binding code (blind index only).
    BindingCode,
}

impl Kind {
    /// The domain-separation label of each kind. Labels are part of what is stored (sealed
    /// values and blind indexes depend on them), so they keep their first names even where the
    /// tables moved on (`bot_binding_code`: the codes now live in `chat_binding_codes`).
    fn label(self) -> &'static [u8] {
        match self {
            Kind::IdNumber => b"yueju:id_number",
            Kind::Name => b"yueju:name",
            Kind::Address => b"yueju:address",
            Kind::Email => b"yueju:email",
            Kind::Photo => b"yueju:photo",
            Kind::Document => b"yueju:document",
            Kind::Permit => b"yueju:permit",
            Kind::Notice => b"yueju:notice",
            Kind::Response => b"yueju:response",
            Kind::Note => b"yueju:note",
            Kind::Dialogue => b"yueju:bot_dialogue",
            Kind::BindingCode => b"yueju:bot_binding_code",
        }
    }
}

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

pub struct Vault {
    sealing_kid: String,
    ciphers: HashMap<String, XChaCha20Poly1305>,
    blind_key: Vec<u8>,
}

impl Vault {
    /// `data_keys` is `kid:base64key[,…]` (the first seals); `blind_index_key` is base64.
    pub fn new(data_keys: &str, blind_index_key: &str) -> anyhow::Result<Vault> {
        let keys = parse_key_list("YUEJU_DATA_KEYS", data_keys, 32)?;
        let sealing_kid = keys[0].0.clone();
        let mut ciphers = HashMap::new();
        for (kid, key) in keys {
            if kid.len() > u8::MAX as usize {
                bail!("YUEJU_DATA_KEYS: key id `{kid}` is too long");
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&key)
                .map_err(|_| anyhow!("YUEJU_DATA_KEYS: key `{kid}` has the wrong length"))?;
            ciphers.insert(kid, cipher);
        }
        let blind_key = decode_b64_key("YUEJU_BLIND_INDEX_KEY", blind_index_key, 32)?;
        Ok(Vault {
            sealing_kid,
            ciphers,
            blind_key,
        })
    }

    /// Layout: version, key-id length, key id, 24-byte nonce, ciphertext with tag.
    pub fn seal(&self, kind: Kind, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
        let cipher = self
            .ciphers
            .get(&self.sealing_kid)
            .context("sealing key missing")?;
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: kind.label(),
                },
            )
            .map_err(|_| anyhow!("sealing failed"))?;
        let kid = self.sealing_kid.as_bytes();
        let mut out = Vec::with_capacity(2 + kid.len() + NONCE_LEN + sealed.len());
        out.push(FORMAT_VERSION);
        out.push(kid.len() as u8);
        out.extend_from_slice(kid);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, kind: Kind, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (kid, nonce, body) = split_sealed(sealed)?;
        let cipher = self
            .ciphers
            .get(kid)
            .with_context(|| format!("no data key with id `{kid}`"))?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().context("nonce length")?;
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: kind.label(),
                },
            )
            .map_err(|_| anyhow!("sealed value does not open (wrong key, kind or tampered)"))
    }

    pub fn seal_str(&self, kind: Kind, value: &str) -> anyhow::Result<Vec<u8>> {
        self.seal(kind, value.as_bytes())
    }

    pub fn open_string(&self, kind: Kind, sealed: &[u8]) -> anyhow::Result<String> {
        String::from_utf8(self.open(kind, sealed)?).context("sealed text is not UTF-8")
    }

    /// The key id a sealed value was sealed under (for rotation).
    pub fn key_id_of(sealed: &[u8]) -> anyhow::Result<&str> {
        split_sealed(sealed).map(|(kid, _, _)| kid)
    }

    pub fn sealing_kid(&self) -> &str {
        &self.sealing_kid
    }

    /// Keyed, deterministic index of a value, for equality lookups; hex of HMAC-SHA-256.
    pub fn blind_index(&self, kind: Kind, value: &str) -> String {
        // HMAC takes keys of any length; a 32-byte key is guaranteed by `new`.
        let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.blind_key) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac(),
        };
        mac.update(kind.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    // Hmac::new_from_slice accepts every key length; this cannot happen.
    std::process::abort()
}

fn split_sealed(sealed: &[u8]) -> anyhow::Result<(&str, &[u8], &[u8])> {
    let (&version, rest) = sealed.split_first().context("sealed value is empty")?;
    if version != FORMAT_VERSION {
        bail!("sealed value has unknown format version {version}");
    }
    let (&kid_len, rest) = rest.split_first().context("sealed value truncated")?;
    let kid_len = kid_len as usize;
    if rest.len() < kid_len + NONCE_LEN {
        bail!("sealed value truncated");
    }
    let (kid, rest) = rest.split_at(kid_len);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let kid = std::str::from_utf8(kid).context("key id is not UTF-8")?;
    Ok((kid, nonce, body))
}

/// `440511199003071234` → `4405**********1234`; anything not 18 characters is fully masked
/// but for its last character.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() == 18 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[14..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(10))
    } else {
        let tail: String = chars.last().map(|c| c.to_string()).unwrap_or_default();
        format!("{}{tail}", "*".repeat(chars.len().saturating_sub(1)))
    }
}

/// `陈志强` → `陈*强`, `李四` → `李*`, `欧阳娜娜` → `欧**娜`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// `zhang.san@example.com` → `z***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::secrets::encode_b64;

    fn vault(keys: &str) -> Vault {
        Vault::new(keys, &encode_b64(&[7u8; 32])).unwrap()
    }

    fn key_entry(kid: &str, byte: u8) -> String {
        format!("{kid}:{}", encode_b64(&[byte; 32]))
    }

    #[test]
    fn sealed_values_open_and_hide_the_clear_text() {
        let v = vault(&key_entry("k1", 1));
        let sealed = v.seal_str(Kind::Name, "陈志强").unwrap();
        assert!(
            !sealed
                .windows("陈志强".len())
                .any(|w| w == "陈志强".as_bytes())
        );
        assert_eq!(v.open_string(Kind::Name, &sealed).unwrap(), "陈志强");
        assert_eq!(Vault::key_id_of(&sealed).unwrap(), "k1");
    }

    #[test]
    fn a_value_sealed_as_one_kind_does_not_open_as_another() {
        let v = vault(&key_entry("k1", 1));
        let sealed = v.seal_str(Kind::Name, "陈志强").unwrap();
        assert!(v.open(Kind::Address, &sealed).is_err());
    }

    #[test]
    fn any_changed_byte_is_detected() {
        let v = vault(&key_entry("k1", 1));
        let sealed = v.seal_str(Kind::Email, "a@example.com").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                v.open(Kind::Email, &bad).is_err(),
                "byte {i} change went unnoticed"
            );
        }
    }

    #[test]
    fn older_keys_keep_opening_after_rotation() {
        let old = vault(&key_entry("k1", 1));
        let sealed = old.seal_str(Kind::Address, "广州市天河区").unwrap();
        let rotated = vault(&format!("{},{}", key_entry("k2", 2), key_entry("k1", 1)));
        assert_eq!(
            rotated.open_string(Kind::Address, &sealed).unwrap(),
            "广州市天河区"
        );
        assert_eq!(
            Vault::key_id_of(&rotated.seal_str(Kind::Address, "x").unwrap()).unwrap(),
            "k2"
        );
    }

    #[test]
    fn the_blind_index_is_stable_keyed_and_kind_separated() {
        let a = vault(&key_entry("k1", 1));
        let b = Vault::new(&key_entry("k1", 1), &encode_b64(&[8u8; 32])).unwrap();
        let id = "440511199003071234";
        assert_eq!(
            a.blind_index(Kind::IdNumber, id),
            a.blind_index(Kind::IdNumber, id)
        );
        assert_ne!(
            a.blind_index(Kind::IdNumber, id),
            b.blind_index(Kind::IdNumber, id)
        );
        assert_ne!(
            a.blind_index(Kind::IdNumber, id),
            a.blind_index(Kind::Name, id)
        );
        assert!(!a.blind_index(Kind::IdNumber, id).contains("1990"));
    }

    #[test]
    fn masks_follow_one_rule() {
        assert_eq!(mask_id_number("440511199003071234"), "4405**********1234");
        assert_eq!(mask_name("陈志强"), "陈*强");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_email("zhang@example.com"), "z***@example.com");
    }
}
