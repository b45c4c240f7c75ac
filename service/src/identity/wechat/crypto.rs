//! The platform's message encryption in 安全模式 (the scheme of its WXBizMsgCrypt samples).
//!
//! The EncodingAESKey's 43 characters plus `=` are the base64 of a 32-byte AES-256 key; the
//! IV is the key's first 16 bytes. The plaintext is 16 random bytes, the message's length
//! (4 bytes, big-endian), the message and the appid it belongs to, padded PKCS#7-style to a
//! multiple of 32 bytes (so the pad value is 1..=32, which a stock PKCS#7 unpadder for AES's
//! 16-byte blocks refuses whenever it is above 16), then AES-256-CBC encrypted; the
//! ciphertext travels in standard base64. The `msg_signature` over it is
//! [`super::signature::sign_message`].

use aes::Aes256;
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::array::Array;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use secrecy::{ExposeSecret as _, SecretSlice};

use crate::keys::compare::same_secret;

/// Characters of an EncodingAESKey.
pub const ENCODING_KEY_CHARS: usize = 43;
/// The block the platform pads to (twice AES's).
const PAD_BLOCK: usize = 32;
const AES_BLOCK: usize = 16;
const RANDOM_BYTES: usize = 16;
/// Random bytes and the message's length.
const HEADER: usize = RANDOM_BYTES + 4;

/// Most EncodingAESKeys have non-zero bits after the 256th (43 characters carry 258): a
/// strict decoder refuses them, the platform ignores those bits.
const KEY_DECODER: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The AES-256 key of one EncodingAESKey (32 bytes, redacted in `Debug`).
#[derive(Debug, Clone)]
pub struct AesKey(SecretSlice<u8>);

impl PartialEq for AesKey {
    fn eq(&self, other: &AesKey) -> bool {
        same_secret(self.0.expose_secret(), other.0.expose_secret())
    }
}

impl Eq for AesKey {}

/// Why an EncodingAESKey was not accepted. The texts never carry the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("an EncodingAESKey has 43 characters, this one has {0}")]
    Length(usize),
    #[error("an EncodingAESKey has only the characters A-Z, a-z, 0-9, + and /")]
    Alphabet,
}

/// Why a ciphertext did not open (or a message could not be sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("no EncodingAESKey configured")]
    NoKey,
    #[error("the ciphertext is not base64 of whole AES blocks")]
    NotCiphertext,
    #[error("the padding is wrong")]
    Padding,
    #[error("the decrypted plaintext is not laid out as the platform's")]
    Layout,
    #[error("the message belongs to another appid")]
    AppIdMismatch,
    #[error("the message is too long to seal")]
    TooLong,
    #[error("no random source")]
    NoRandom,
}

impl AesKey {
    /// The key of an EncodingAESKey as the platform shows it (43 characters).
    pub fn from_encoding_key(encoding_key: &str) -> Result<AesKey, KeyError> {
        let chars = encoding_key.chars().count();
        if chars != ENCODING_KEY_CHARS {
            return Err(KeyError::Length(chars));
        }
        if !encoding_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(KeyError::Alphabet);
        }
        let bytes = KEY_DECODER
            .decode(format!("{encoding_key}="))
            .map_err(|_| KeyError::Alphabet)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Alphabet)?;
        Ok(AesKey(SecretSlice::from(key.to_vec())))
    }

    fn iv(&self) -> [u8; AES_BLOCK] {
        let mut iv = [0u8; AES_BLOCK];
        iv.copy_from_slice(&self.0.expose_secret()[..AES_BLOCK]);
        iv
    }

    /// The key as the cipher takes it.
    fn bytes(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.copy_from_slice(self.0.expose_secret());
        key
    }
}

/// What a ciphertext carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    pub message: Vec<u8>,
    /// The appid the platform appended.
    pub appid: String,
}

/// Encrypts `message` for `appid` under `key`, with fresh random bytes: the `Encrypt` text.
pub fn encrypt(key: &AesKey, message: &[u8], appid: &str) -> Result<String, CryptoError> {
    let mut random = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut random).map_err(|_| CryptoError::NoRandom)?;
    seal(key, random, message, appid)
}

fn seal(
    key: &AesKey,
    random: [u8; RANDOM_BYTES],
    message: &[u8],
    appid: &str,
) -> Result<String, CryptoError> {
    let length = u32::try_from(message.len()).map_err(|_| CryptoError::TooLong)?;
    let mut buf = Vec::with_capacity(HEADER + message.len() + appid.len() + PAD_BLOCK);
    buf.extend_from_slice(&random);
    buf.extend_from_slice(&length.to_be_bytes());
    buf.extend_from_slice(message);
    buf.extend_from_slice(appid.as_bytes());
    pad(&mut buf);
    let (blocks, _) = Array::slice_as_chunks_mut(&mut buf);
    cbc::Encryptor::<Aes256>::new(&key.bytes().into(), &key.iv().into()).encrypt_blocks(blocks);
    Ok(STANDARD.encode(&buf))
}

/// PKCS#7 to a multiple of 32 bytes: 1 to 32 bytes, each holding their count.
fn pad(buf: &mut Vec<u8>) {
    let n = PAD_BLOCK - buf.len() % PAD_BLOCK;
    buf.resize(buf.len() + n, n as u8);
}

/// The inverse of [`pad`]: the count in the last byte (1..=32), every padding byte equal.
fn unpad(buf: &[u8]) -> Result<&[u8], CryptoError> {
    let last = *buf.last().ok_or(CryptoError::Padding)?;
    let n = usize::from(last);
    if n == 0 || n > PAD_BLOCK || n > buf.len() {
        return Err(CryptoError::Padding);
    }
    let (text, padding) = buf.split_at(buf.len() - n);
    if padding.iter().any(|&b| b != last) {
        return Err(CryptoError::Padding);
    }
    Ok(text)
}

/// Decrypts an `Encrypt` text under `key`.
pub fn decrypt(key: &AesKey, encrypt: &str) -> Result<Decrypted, CryptoError> {
    let mut buf = STANDARD
        .decode(encrypt)
        .map_err(|_| CryptoError::NotCiphertext)?;
    if buf.is_empty() || buf.len() % AES_BLOCK != 0 {
        return Err(CryptoError::NotCiphertext);
    }
    let (blocks, _) = Array::slice_as_chunks_mut(&mut buf);
    cbc::Decryptor::<Aes256>::new(&key.bytes().into(), &key.iv().into()).decrypt_blocks(blocks);
    let plain = unpad(&buf)?;
    if plain.len() < HEADER {
        return Err(CryptoError::Layout);
    }
    let (header, rest) = plain.split_at(HEADER);
    let (_, length) = header.split_at(RANDOM_BYTES);
    let length: [u8; 4] = length.try_into().map_err(|_| CryptoError::Layout)?;
    let length = usize::try_from(u32::from_be_bytes(length)).map_err(|_| CryptoError::Layout)?;
    if length > rest.len() {
        return Err(CryptoError::Layout);
    }
    let (message, appid) = rest.split_at(length);
    let appid = std::str::from_utf8(appid).map_err(|_| CryptoError::Layout)?;
    Ok(Decrypted {
        message: message.to_vec(),
        appid: appid.to_owned(),
    })
}

/// Opens an `Encrypt` text with the first of `keys` (current first, then the previous) under
/// which it decrypts to a message for `appid`: the message and that key's index.
pub fn open(keys: &[AesKey], encrypt: &str, appid: &str) -> Result<(usize, Vec<u8>), CryptoError> {
    let mut refusal = CryptoError::NoKey;
    for (index, key) in keys.iter().enumerate() {
        match decrypt(key, encrypt) {
            Ok(d) if d.appid == appid => return Ok((index, d.message)),
            // A wrong key yields noise, not a well-formed plaintext for another appid.
            Ok(_) => refusal = CryptoError::AppIdMismatch,
            Err(e) if refusal != CryptoError::AppIdMismatch => refusal = e,
            Err(_) => {}
        }
    }
    Err(refusal)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::identity::wechat::signature::sign_message;
    use cbc::cipher::block_padding::Pkcs7;
    use proptest::prelude::*;

    // The platform's published sample (its WXBizMsgCrypt SDKs test with it).
    const TOKEN: &str = "spamtest";
    const ENCODING_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APPID: &str = "wx2c2769f8efd9abc2";
    const TIMESTAMP: &str = "1409735669";
    const NONCE: &str = "1320562132";
    const MSG_SIGNATURE: &str = "5d197aaffba7e9b25a30732f161a50dee96bd5fa";
    const ENCRYPT: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
    const PLAINTEXT: &str = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>";

    fn sample_key() -> AesKey {
        AesKey::from_encoding_key(ENCODING_KEY).unwrap()
    }

    #[test]
    fn the_platforms_sample_has_the_published_msg_signature() {
        assert_eq!(
            sign_message(TOKEN, TIMESTAMP, NONCE, ENCRYPT),
            MSG_SIGNATURE
        );
    }

    #[test]
    fn the_platforms_sample_decrypts_to_its_message_and_appid() {
        let d = decrypt(&sample_key(), ENCRYPT).unwrap();
        assert_eq!(std::str::from_utf8(&d.message).unwrap(), PLAINTEXT);
        assert_eq!(d.appid, APPID);
        assert_eq!(
            open(&[sample_key()], ENCRYPT, APPID).unwrap(),
            (0, PLAINTEXT.as_bytes().to_vec())
        );
        assert_eq!(
            open(&[sample_key()], ENCRYPT, "wx0000000000000000"),
            Err(CryptoError::AppIdMismatch)
        );
    }

    #[test]
    fn a_key_with_non_zero_trailing_bits_decodes() {
        // 43 characters carry 258 bits; the sample key's last `G` leaves `10` after the 256th.
        let strict = STANDARD.decode(format!("{ENCODING_KEY}="));
        assert!(strict.is_err(), "a strict decoder refuses the sample key");
        let key = sample_key();
        assert_eq!(&key.0.expose_secret()[..3], b"i\xb7\x1d");
        // The key is what the published ciphertext was made with.
        assert!(decrypt(&key, ENCRYPT).is_ok());
    }

    #[test]
    fn keys_of_the_wrong_length_or_alphabet_are_refused() {
        assert_eq!(
            AesKey::from_encoding_key(&ENCODING_KEY[..42]),
            Err(KeyError::Length(42))
        );
        let mut bad = ENCODING_KEY.to_owned();
        bad.replace_range(0..1, "-");
        assert_eq!(AesKey::from_encoding_key(&bad), Err(KeyError::Alphabet));
        bad.replace_range(0..1, "=");
        assert_eq!(AesKey::from_encoding_key(&bad), Err(KeyError::Alphabet));
    }

    #[test]
    fn a_message_whose_padding_is_longer_than_16_bytes_round_trips() {
        let key = sample_key();
        // 20 header bytes + 7 + 18 of appid = 45: 45 % 32 = 13, so 19 bytes of padding.
        let message = b"abcdefg";
        let encrypt = seal(&key, [7; 16], message, APPID).unwrap();
        let d = decrypt(&key, &encrypt).unwrap();
        assert_eq!(d.message, message);
        assert_eq!(d.appid, APPID);

        // The padding really is 19 bytes of 19, which a 16-byte PKCS#7 unpadder refuses.
        let raw = STANDARD.decode(&encrypt).unwrap();
        let mut plain = raw.clone();
        let (blocks, _) = Array::slice_as_chunks_mut(&mut plain);
        cbc::Decryptor::<Aes256>::new(&key.bytes().into(), &key.iv().into()).decrypt_blocks(blocks);
        assert_eq!(plain.len(), 64);
        assert!(plain[45..].iter().all(|&b| b == 19));
        let mut stock = raw.clone();
        let refused = cbc::Decryptor::<Aes256>::new(&key.bytes().into(), &key.iv().into())
            .decrypt_padded::<Pkcs7>(&mut stock);
        assert!(
            refused.is_err(),
            "a stock PKCS#7 unpadder refuses a pad of 19"
        );
    }

    #[test]
    fn every_message_length_round_trips_with_pads_from_1_to_32() {
        let key = sample_key();
        let mut pads = std::collections::BTreeSet::new();
        for len in 0..64 {
            let message = vec![b'x'; len];
            let encrypt = encrypt(&key, &message, APPID).unwrap();
            assert_eq!(STANDARD.decode(&encrypt).unwrap().len() % PAD_BLOCK, 0);
            pads.insert(PAD_BLOCK - (HEADER + len + APPID.len()) % PAD_BLOCK);
            assert_eq!(decrypt(&key, &encrypt).unwrap().message, message);
        }
        assert_eq!(pads.len(), 32);
        assert_eq!(pads.first(), Some(&1));
        assert_eq!(pads.last(), Some(&32));
    }

    #[test]
    fn the_previous_key_opens_what_it_sealed_and_is_named() {
        let current = AesKey::from_encoding_key(&"A".repeat(43)).unwrap();
        let previous = sample_key();
        let sealed = encrypt(&previous, b"<xml/>", APPID).unwrap();
        let keys = [current.clone(), previous];
        assert_eq!(
            open(&keys, &sealed, APPID).unwrap(),
            (1, b"<xml/>".to_vec())
        );
        let sealed = encrypt(&current, b"<xml/>", APPID).unwrap();
        assert_eq!(open(&keys, &sealed, APPID).unwrap().0, 0);
        // A key that is not configured opens nothing.
        let other = AesKey::from_encoding_key(&"B".repeat(43)).unwrap();
        let foreign = encrypt(&other, b"<xml/>", APPID).unwrap();
        assert!(open(&keys, &foreign, APPID).is_err());
        assert_eq!(open(&[], &foreign, APPID), Err(CryptoError::NoKey));
    }

    #[test]
    fn padding_that_is_zero_too_long_or_uneven_is_refused() {
        assert_eq!(unpad(&[]), Err(CryptoError::Padding));
        assert_eq!(unpad(&[5, 0]), Err(CryptoError::Padding));
        assert_eq!(unpad(&[33; 64]), Err(CryptoError::Padding));
        assert_eq!(unpad(&[3, 2, 3, 3]), Err(CryptoError::Padding));
        assert_eq!(unpad(&[9, 3, 3, 3]), Ok(&[9u8][..]));
        assert_eq!(unpad(&[32; 32]), Ok(&[][..]));
    }

    proptest! {
        #[test]
        fn decrypting_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let key = sample_key();
            let _ = decrypt(&key, &STANDARD.encode(&bytes));
            let _ = open(&[key], &String::from_utf8_lossy(&bytes), APPID);
        }

        #[test]
        fn decrypting_with_any_length_prefix_never_panics(
            length in any::<u32>(),
            rest in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            // Well-padded plaintexts whose length field points anywhere.
            let key = sample_key();
            let mut plain = vec![0u8; RANDOM_BYTES];
            plain.extend_from_slice(&length.to_be_bytes());
            plain.extend_from_slice(&rest);
            pad(&mut plain);
            let (blocks, _) = Array::slice_as_chunks_mut(&mut plain);
            cbc::Encryptor::<Aes256>::new(&key.bytes().into(), &key.iv().into()).encrypt_blocks(blocks);
            if let Ok(d) = decrypt(&key, &STANDARD.encode(&plain)) {
                prop_assert!(d.message.len() <= rest.len());
            }
        }
    }
}
