//! The transport of a message server (the official account's, the mini-programs' push): what
//! arrives is checked and opened into the message itself, what goes back is sealed the way
//! it came.
//!
//! Plain mode: the call carries `signature` over the token, timestamp and nonce, the body is
//! the message. 安全模式 (`encrypt_type=aes`): the body is an envelope whose `Encrypt` field
//! is the ciphertext ([`super::crypto`]), the call carries `msg_signature` over it, the
//! decrypted message must end with the expected appid, and the passive reply goes back
//! encrypted under the key that opened the message. With keys configured, plain calls are
//! refused: the platform in 安全模式 always encrypts, and 兼容模式 marks its calls
//! `encrypt_type=aes` too. Either way the timestamp must be inside the replay window.
//! The URL check is the same in every mode: `signature`, and `echostr` answered as sent.

use quick_xml::escape::escape;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::crypto::{self, AesKey};
use super::signature;
use super::xml::{self, XmlError};
use crate::Refusal;

/// Longest `echostr` answered.
const MAX_ECHOSTR: usize = 128;

/// The query of a call to a message server (the platform also sends `openid`, unused).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PushQuery {
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub echostr: Option<String>,
    pub encrypt_type: Option<String>,
    pub msg_signature: Option<String>,
}

/// One message server's configuration: see `Settings::message_server`. The token and keys
/// are redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct MessageServer {
    pub token: SecretString,
    /// EncodingAESKeys, current first, then the previous one; empty in plain mode.
    pub keys: Vec<AesKey>,
    /// The appid the platform appends to every encrypted message (the official account's or
    /// the mini-program's).
    pub appid: String,
    /// How far a call's timestamp may be from now, in seconds.
    pub replay_window_secs: u64,
}

/// A call that passed: the message, and how to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The message: the body in plain mode, the decrypted inner XML (or JSON) in 安全模式.
    pub message: Vec<u8>,
    /// Index in [`MessageServer::keys`] of the key that opened it; `None` in plain mode.
    pub key: Option<usize>,
}

impl Opened {
    pub fn is_encrypted(&self) -> bool {
        self.key.is_some()
    }
}

/// The 安全模式 envelope in the JSON data format (mini-programs may choose it).
#[derive(Deserialize)]
struct JsonEnvelope {
    #[serde(rename = "Encrypt")]
    encrypt: String,
}

impl MessageServer {
    pub fn is_encrypted(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The URL check (`GET` with `signature`, `timestamp`, `nonce`, `echostr`): the `echostr`
    /// to answer, exactly as sent.
    pub fn verify_url(&self, q: &PushQuery, now: i64) -> Result<String, Refusal> {
        self.check_plain(q, now)?;
        let echo = q.echostr.as_deref().unwrap_or("");
        if echo.len() > MAX_ECHOSTR {
            return Err(Refusal::MessageMalformed);
        }
        Ok(echo.to_owned())
    }

    /// Checks a pushed call and opens its body (`now` in Unix seconds). Refusals: a missing
    /// or wrong (msg_)signature, or a plain call while keys are set, `SignatureInvalid`; a
    /// stale timestamp `TimestampOutOfWindow`; an envelope that is not the platform's, a
    /// ciphertext no key opens or a message for another appid `MessageMalformed`; a body or
    /// field over the limits `MessageTooLarge`.
    pub fn open(&self, q: &PushQuery, body: &[u8], now: i64) -> Result<Opened, Refusal> {
        // Without keys, encrypt_type is ignored as it always was: a 兼容模式 body carries the
        // message in clear too.
        let mode = match q.encrypt_type.as_deref() {
            _ if !self.is_encrypted() => None,
            mode => mode,
        };
        match mode {
            None | Some("raw") => {
                if self.is_encrypted() {
                    tracing::warn!("unencrypted push refused: 安全模式 keys are set");
                    return Err(Refusal::SignatureInvalid);
                }
                self.check_plain(q, now)?;
                if body.len() > xml::MAX_BYTES {
                    return Err(Refusal::MessageTooLarge);
                }
                Ok(Opened {
                    message: body.to_vec(),
                    key: None,
                })
            }
            Some("aes") => {
                let encrypt = envelope(body)?;
                signature::check_message(
                    self.token.expose_secret(),
                    q.msg_signature.as_deref(),
                    q.timestamp.as_deref(),
                    q.nonce.as_deref(),
                    &encrypt,
                    now,
                    self.replay_window_secs,
                )?;
                let (index, message) =
                    crypto::open(&self.keys, &encrypt, &self.appid).map_err(|e| {
                        tracing::warn!(problem = %e, "encrypted push refused");
                        Refusal::MessageMalformed
                    })?;
                if index > 0 {
                    tracing::info!(key = index, "push opened with a previous EncodingAESKey");
                }
                Ok(Opened {
                    message,
                    key: Some(index),
                })
            }
            Some(_) => Err(Refusal::MessageMalformed),
        }
    }

    fn check_plain(&self, q: &PushQuery, now: i64) -> Result<(), Refusal> {
        signature::check(
            self.token.expose_secret(),
            q.signature.as_deref(),
            q.timestamp.as_deref(),
            q.nonce.as_deref(),
            now,
            self.replay_window_secs,
        )
    }

    /// The passive reply to `opened` as it goes back: as is in plain mode, else encrypted
    /// under the key that opened the message, signed at `timestamp` with `nonce`.
    pub fn seal_reply(
        &self,
        opened: &Opened,
        reply: &str,
        timestamp: i64,
        nonce: &str,
    ) -> crate::error::Result<String> {
        let Some(index) = opened.key else {
            return Ok(reply.to_owned());
        };
        let key = self
            .keys
            .get(index)
            .ok_or_else(|| anyhow::anyhow!("the key that opened the message is gone"))?;
        let encrypt = crypto::encrypt(key, reply.as_bytes(), &self.appid)
            .map_err(|e| anyhow::anyhow!("sealing the passive reply: {e}"))?;
        let timestamp = timestamp.to_string();
        let msg_signature =
            signature::sign_message(self.token.expose_secret(), &timestamp, nonce, &encrypt);
        // base64 and hex hold nothing XML treats specially.
        Ok(format!(
            "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA[{msg_signature}]]></MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce>{}</Nonce></xml>",
            escape(nonce)
        ))
    }

    /// [`Self::seal_reply`] now, with a fresh nonce.
    pub fn reply(&self, opened: &Opened, reply: &str) -> crate::error::Result<String> {
        if !opened.is_encrypted() {
            return Ok(reply.to_owned());
        }
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
        let nonce = (u64::from_le_bytes(random) % 10_000_000_000).to_string();
        // The platform checks the reply's time against its own clock: the system time.
        self.seal_reply(
            opened,
            reply,
            crate::clock::system_now().timestamp(),
            &nonce,
        )
    }
}

/// The `Encrypt` field of a 安全模式 body: XML (`<xml>…<Encrypt>…</Encrypt></xml>`, in
/// 兼容模式 beside the message in clear, which is ignored) or the JSON format's object.
fn envelope(body: &[u8]) -> Result<String, Refusal> {
    if body.len() > xml::MAX_BYTES {
        return Err(Refusal::MessageTooLarge);
    }
    let json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{');
    let encrypt = if json {
        serde_json::from_slice::<JsonEnvelope>(body)
            .map_err(|_| Refusal::MessageMalformed)?
            .encrypt
    } else {
        xml::fields(body, xml::MAX_BYTES)
            .map_err(|e| match e {
                XmlError::TooLarge => Refusal::MessageTooLarge,
                XmlError::DocType | XmlError::Malformed => {
                    tracing::warn!(problem = ?e, "pushed XML refused");
                    Refusal::MessageMalformed
                }
            })?
            .remove("Encrypt")
            .unwrap_or_default()
    };
    if encrypt.is_empty() {
        return Err(Refusal::MessageMalformed);
    }
    Ok(encrypt)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const NOW: i64 = 1_409_735_669;
    const SAMPLE_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const SAMPLE_ENCRYPT: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";

    fn sample_server() -> MessageServer {
        MessageServer {
            token: "spamtest".into(),
            keys: vec![AesKey::from_encoding_key(SAMPLE_KEY).unwrap()],
            appid: "wx2c2769f8efd9abc2".into(),
            replay_window_secs: 300,
        }
    }

    fn aes_query(msg_signature: &str) -> PushQuery {
        PushQuery {
            timestamp: Some("1409735669".into()),
            nonce: Some("1320562132".into()),
            encrypt_type: Some("aes".into()),
            msg_signature: Some(msg_signature.into()),
            ..PushQuery::default()
        }
    }

    #[test]
    fn the_platforms_sample_push_opens_and_its_reply_opens_with_the_same_key() {
        let server = sample_server();
        let body = format!(
            "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
        );
        let q = aes_query("5d197aaffba7e9b25a30732f161a50dee96bd5fa");
        let opened = server.open(&q, body.as_bytes(), NOW).unwrap();
        assert_eq!(opened.key, Some(0));
        assert!(
            std::str::from_utf8(&opened.message)
                .unwrap()
                .contains("<Content><![CDATA[abcdteT]]></Content>")
        );
        // The JSON format's envelope opens the same.
        let json =
            format!("{{\"ToUserName\":\"gh_10f6c3c3ac5a\",\"Encrypt\":\"{SAMPLE_ENCRYPT}\"}}");
        assert_eq!(server.open(&q, json.as_bytes(), NOW).unwrap(), opened);

        let sealed = server
            .seal_reply(&opened, "<xml>hi</xml>", NOW, "42")
            .unwrap();
        let fields = xml::fields(sealed.as_bytes(), xml::MAX_BYTES).unwrap();
        assert_eq!(fields["TimeStamp"], NOW.to_string());
        assert_eq!(fields["Nonce"], "42");
        assert_eq!(
            fields["MsgSignature"],
            signature::sign_message("spamtest", &NOW.to_string(), "42", &fields["Encrypt"])
        );
        let back = crypto::decrypt(&server.keys[0], &fields["Encrypt"]).unwrap();
        assert_eq!(back.message, b"<xml>hi</xml>");
        assert_eq!(back.appid, "wx2c2769f8efd9abc2");
    }

    #[test]
    fn a_wrong_msg_signature_a_plain_call_and_a_stale_timestamp_are_refused() {
        let server = sample_server();
        let body = format!("<xml><Encrypt>{SAMPLE_ENCRYPT}</Encrypt></xml>");
        assert_eq!(
            server.open(&aes_query(&"0".repeat(40)), body.as_bytes(), NOW),
            Err(Refusal::SignatureInvalid)
        );
        let q = aes_query("5d197aaffba7e9b25a30732f161a50dee96bd5fa");
        assert_eq!(
            server.open(&q, body.as_bytes(), NOW + 3600),
            Err(Refusal::TimestampOutOfWindow)
        );
        let plain = PushQuery {
            signature: Some(signature::sign("spamtest", "1409735669", "1320562132")),
            timestamp: Some("1409735669".into()),
            nonce: Some("1320562132".into()),
            ..PushQuery::default()
        };
        assert_eq!(
            server.open(&plain, b"<xml/>", NOW),
            Err(Refusal::SignatureInvalid)
        );
        // The URL check is plain in every mode.
        let check = PushQuery {
            echostr: Some("shr5ch".into()),
            ..plain
        };
        assert_eq!(server.verify_url(&check, NOW).unwrap(), "shr5ch");
    }

    #[test]
    fn another_appid_or_a_body_without_ciphertext_is_malformed() {
        let mut server = sample_server();
        server.appid = "wx0000000000000000".into();
        let body = format!("<xml><Encrypt>{SAMPLE_ENCRYPT}</Encrypt></xml>");
        let q = aes_query("5d197aaffba7e9b25a30732f161a50dee96bd5fa");
        assert_eq!(
            server.open(&q, body.as_bytes(), NOW),
            Err(Refusal::MessageMalformed)
        );
        for body in [
            "<xml><ToUserName>gh</ToUserName></xml>",
            "{}",
            "not xml",
            "",
        ] {
            assert_eq!(
                server.open(&q, body.as_bytes(), NOW),
                Err(Refusal::MessageMalformed),
                "{body}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_signed_ciphertext_or_body_is_opened_or_refused_never_panics(
            encrypt in "[A-Za-z0-9+/=]{0,400}",
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            let server = sample_server();
            let msg_signature =
                signature::sign_message("spamtest", "1409735669", "1320562132", &encrypt);
            let q = aes_query(&msg_signature);
            let wrapped = format!("<xml><Encrypt>{encrypt}</Encrypt></xml>");
            match server.open(&q, wrapped.as_bytes(), NOW) {
                Ok(opened) => proptest::prop_assert_eq!(opened.key, Some(0)),
                Err(r) => proptest::prop_assert_eq!(r, Refusal::MessageMalformed),
            }
            let _ = server.open(&q, &body, NOW);
        }
    }

    #[test]
    fn without_keys_plain_calls_pass_and_replies_go_back_as_they_are() {
        let mut server = sample_server();
        server.keys.clear();
        let q = PushQuery {
            signature: Some(signature::sign("spamtest", "1409735669", "n")),
            timestamp: Some("1409735669".into()),
            nonce: Some("n".into()),
            ..PushQuery::default()
        };
        let opened = server.open(&q, b"<xml/>", NOW).unwrap();
        assert_eq!(opened.message, b"<xml/>");
        assert_eq!(
            server.reply(&opened, "<xml>r</xml>").unwrap(),
            "<xml>r</xml>"
        );
    }
}
