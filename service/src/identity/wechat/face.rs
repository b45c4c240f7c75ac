//! Face verification 2.0 (人脸核身 2.0) of the mini-programs. `getverifyid` opens a session for
//! a name, an ID number and the user's openid; the mini-program runs `wx.requestFacialVerify`
//! with it; `queryverifyinfo` then tells the server what really happened. Both calls take the
//! access token of the mini-program the openid belongs to.

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Account, MiniApp, PlatformError, WechatClient};
use crate::error::{Refusal, Result};

/// The platform's certificate type of a resident identity card.
pub const CERT_TYPE: &str = "IDENTITY_CARD";
/// The `verify_ret` of a face that matched the identity.
pub const VERIFY_PASSED: i64 = 10000;
/// The platform's default lifetime of a verify_id, used when it names none.
const DEFAULT_EXPIRES_IN: u64 = 3600;
/// The platform's verify_ids have at most 256 characters.
pub const MAX_VERIFY_ID_CHARS: usize = 256;

const GET_VERIFY_ID: &str = "face/getverifyid";
const QUERY_VERIFY_INFO: &str = "face/queryverifyinfo";

/// The digest `queryverifyinfo` checks against the identity the session was opened for:
/// lower-hex SHA-256 of `cert_type=<b64>&cert_name=<b64>&cert_no=<b64>`, each value the
/// standard base64 of its UTF-8 text.
pub fn cert_hash(cert_type: &str, cert_name: &str, cert_no: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let text = format!(
        "cert_type={}&cert_name={}&cert_no={}",
        b64(cert_type),
        b64(cert_name),
        b64(cert_no)
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A session the platform opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub verify_id: String,
    /// Seconds the verify_id can start a face check.
    pub expires_in: u64,
}

/// What the platform says of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceResult {
    /// errcode 0 and verify_ret 10000: the face matched the identity.
    Passed,
    /// errcode 0 and another verify_ret (cancelled, device unsupported, timed out, …).
    NotPassed(i64),
    /// An errcode about the session that asking again would meet again (it is unknown,
    /// expired, or was opened for another identity or user).
    Refused(i64),
}

/// The identity a session is opened for.
#[derive(Debug, Clone, Copy)]
pub struct Cert<'a> {
    pub name: &'a str,
    pub id_number: &'a str,
}

impl Cert<'_> {
    pub fn hash(&self) -> String {
        cert_hash(CERT_TYPE, self.name, self.id_number)
    }
}

/// A failed call as a refusal: the platform slow, away or busy is 503 (429 for its rate
/// limits); the errcode is logged, the personal data never.
fn unavailable(app: MiniApp, call: &'static str, e: &PlatformError) -> Refusal {
    tracing::warn!(
        app = app.as_str(),
        call,
        errcode = e.errcode(),
        error = %e,
        "face verification call failed"
    );
    match e.errcode() {
        Some(45009 | 45011) => Refusal::PlatformRateLimited,
        _ => Refusal::PlatformUnavailable,
    }
}

impl WechatClient {
    /// `getverifyid`: opens a face-verification session for `cert` and the user `openid` of
    /// the mini-program `app`, under the caller's fresh `out_seq_no`.
    pub async fn get_verify_id(
        &self,
        app: MiniApp,
        out_seq_no: &str,
        cert: Cert<'_>,
        openid: &str,
    ) -> Result<Started> {
        let body = json!({
            "out_seq_no": out_seq_no,
            "cert_info": {"cert_type": CERT_TYPE, "cert_name": cert.name, "cert_no": cert.id_number},
            "openid": openid,
        });
        let answer = self
            .post_json(
                Account::Mini(app),
                GET_VERIFY_ID,
                "/cityservice/face/identify/getverifyid",
                &body,
            )
            .await
            .map_err(|e| unavailable(app, GET_VERIFY_ID, &e))?;
        let verify_id = answer
            .get("verify_id")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && v.chars().count() <= MAX_VERIFY_ID_CHARS)
            .ok_or_else(|| {
                unavailable(app, GET_VERIFY_ID, &PlatformError::NotJson(GET_VERIFY_ID))
            })?;
        let expires_in = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_EXPIRES_IN)
            // A day at most: the row is kept no longer than that after it expires.
            .min(86_400);
        Ok(Started {
            verify_id: verify_id.to_owned(),
            expires_in,
        })
    }

    /// `queryverifyinfo`: what became of the session, asked with exactly what opened it.
    /// Transient failures are refusals (503/429), so the session can be asked about again.
    pub async fn query_verify_info(
        &self,
        app: MiniApp,
        verify_id: &str,
        out_seq_no: &str,
        cert: Cert<'_>,
        openid: &str,
    ) -> Result<FaceResult> {
        let body = json!({
            "verify_id": verify_id,
            "out_seq_no": out_seq_no,
            "cert_hash": cert.hash(),
            "openid": openid,
        });
        let answer = match self
            .post_json(
                Account::Mini(app),
                QUERY_VERIFY_INFO,
                "/cityservice/face/identify/queryverifyinfo",
                &body,
            )
            .await
        {
            Ok(answer) => answer,
            Err(PlatformError::Refused { code, message }) if about_the_session(code) => {
                tracing::warn!(
                    app = app.as_str(),
                    errcode = code,
                    errmsg = %message,
                    "queryverifyinfo refused"
                );
                return Ok(FaceResult::Refused(code));
            }
            Err(e) => return Err(unavailable(app, QUERY_VERIFY_INFO, &e).into()),
        };
        match answer.get("verify_ret").and_then(Value::as_i64) {
            Some(VERIFY_PASSED) => Ok(FaceResult::Passed),
            Some(ret) => {
                tracing::info!(
                    app = app.as_str(),
                    verify_ret = ret,
                    "face verification not passed"
                );
                Ok(FaceResult::NotPassed(ret))
            }
            None => Err(unavailable(
                app,
                QUERY_VERIFY_INFO,
                &PlatformError::NotJson(QUERY_VERIFY_INFO),
            )
            .into()),
        }
    }
}

/// Whether an errcode of `queryverifyinfo` is the platform's word on the session (unknown,
/// expired, opened for another identity or user), as opposed to a passing fault or our own
/// credentials (40001/40014/42001 token, 48001 API not authorised), which must not spend it.
fn about_the_session(code: i64) -> bool {
    let transient = PlatformError::Refused {
        code,
        message: String::new(),
    }
    .is_transient();
    !transient && !matches!(code, 40001 | 40014 | 42001 | 48001)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cert_hash_of_the_platforms_published_example() {
        // The example of the face verification 2.0 documentation, digit for digit.
        assert_eq!(
            cert_hash("IDENTITY_CARD", "张三", "310101199801011234"),
            "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"
        );
    }

    #[test]
    fn the_cert_hash_changes_with_each_field() {
        let base = cert_hash(CERT_TYPE, "张三", "310101199801011234");
        assert_ne!(base, cert_hash(CERT_TYPE, "张四", "310101199801011234"));
        assert_ne!(base, cert_hash(CERT_TYPE, "张三", "310101199801011235"));
        assert_eq!(base.len(), 64);
        assert!(
            base.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
