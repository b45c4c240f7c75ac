//! The annotated copy as a PDF, and checking one.
//!
//! [`pdf`] lays out the downloaded copy (the same fields, footer and annotation as the SVG)
//! on A4 pages with the annotation across every page, a QR code that opens the copy's online
//! check ([`check_url`]), and the signed JSON envelope attached as `envelope.json`, byte for
//! byte the answer of the JSON format.
//!
//! [`verify_pdf`] is what `yueju verify-copy` runs: it takes the attached envelope, checks its
//! signature with the published keys ([`annotated_copy::verify`]), then checks that every
//! page prints the annotation that was signed. It trusts nothing else in the file: the fields
//! printed are for people, the envelope is the record.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::Context;
use crate::consent::annotated_copy::{self, Printed, SignedCopy};
use crate::consent::grants::{GrantStatus, grant_status};
use crate::error::{Missing, Refusal, Result};
use crate::keys::signing::PublishedKey;

/// The largest PDF the checker reads, and the most any one stream may inflate to: far above
/// a copy (tens of kilobytes, the photo included), far below what would hurt.
pub const MAX_PDF_BYTES: usize = 20 * 1024 * 1024;
const MAX_STREAM_BYTES: usize = 20 * 1024 * 1024;
/// How deep the checker follows the name tree of attached files.
const MAX_NAME_TREE_DEPTH: usize = 8;

pub const QR_TITLE: &str = "扫码在线核验";
const QR_NOTE: &str = "扫描二维码可查询本加注件所依据的授权是否仍然有效。本文件附有签名数据 envelope.json（与 JSON 格式下载内容一致），可用 yueju verify-copy 命令或已公布的公钥离线核验签名与加注内容。";

/// The envelope as the JSON format answers it, byte for byte: what the PDF attaches.
pub fn envelope(signed: &SignedCopy) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(signed)?)
}

/// Where the QR code leads: the public check of this download of the copy, under `base`
/// (scheme and host, e.g. `https://yueju.gd.gov.cn`).
pub fn check_url(base: &str, signed: &SignedCopy) -> String {
    let annotation = signed.copy.get("annotation");
    let grant = annotation
        .and_then(|a| a.get("authorization_id"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let download_no = annotation
        .and_then(|a| a.get("download_no"))
        .and_then(Value::as_i64)
        .unwrap_or_default();
    format!(
        "{}/api/v1/annotated-copies/{grant}/{download_no}",
        base.trim_end_matches('/')
    )
}

/// The copy as a PDF: `envelope` is attached as `envelope.json`, the QR code carries
/// `qr_url`. Dated with the copy's download time in China Standard Time.
pub fn pdf(
    signed: &SignedCopy,
    photo: Option<&render::OwnedPhoto>,
    envelope: &[u8],
    qr_url: &str,
    fallback_font: Option<&render::FallbackFont>,
) -> anyhow::Result<Vec<u8>> {
    let printed = Printed::of(signed);
    let made_at = signed
        .copy
        .get("annotation")
        .and_then(|a| a.get("downloaded_at"))
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow::anyhow!("the copy has no download time"))?;
    let local = made_at.with_timezone(&chrono_tz::Asia::Shanghai);
    let extras = render::PdfExtras {
        qr_payload: qr_url,
        qr_title: QR_TITLE,
        qr_note: QR_NOTE,
        envelope,
        made_at: render::PdfDate {
            year: u16::try_from(local.year()).unwrap_or(0),
            month: local.month() as u8,
            day: local.day() as u8,
            hour: local.hour() as u8,
            minute: local.minute() as u8,
            second: local.second() as u8,
        },
        fallback_font,
    };
    render::annotated_copy_pdf(&printed.copy(signed, photo), &extras)
        .map_err(|e| anyhow::anyhow!("drawing the PDF copy: {e}"))
}

/// The online check the QR code leads to: whether copy number `download_no` was made under
/// the grant, and whether the grant still stands, with what the copy should print beside it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AnnotatedCopyCheck)]
pub struct OnlineCheck {
    /// The grant still allows the copy's use: not revoked and not past its expiry.
    pub valid: bool,
    pub status: GrantStatus,
    pub authorization_id: uuid::Uuid,
    pub download_no: i32,
    pub permit_no: String,
    pub agency: String,
    pub purpose: String,
    pub expires_at: chrono::DateTime<Utc>,
    pub revoked_at: Option<chrono::DateTime<Utc>>,
}

/// Looks up a copy by its grant and download number. Anyone holding the copy may ask (the
/// grant id is printed on it, and unguessable); the answer names no person, only the
/// permit number printed on the copy. A grant for a residence proof made no copy.
pub async fn online_check(
    ctx: &Context,
    grant_id: uuid::Uuid,
    download_no: i32,
) -> Result<OnlineCheck> {
    use sea_orm::EntityTrait as _;
    let not_found = || Refusal::NotFound(Missing::Authorization);
    let grant = entity::authorization::Entity::find_by_id(grant_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(not_found)?;
    if grant.proof_city.is_some() || download_no < 1 || download_no > grant.downloads {
        return Err(not_found().into());
    }
    let agency = entity::agency::Entity::find_by_id(grant.agency_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("agency {} vanished", grant.agency_id))?;
    let permit = entity::permit::Entity::find_by_id(grant.permit_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(not_found)?;
    let status = grant_status(&grant, ctx.clock.now());
    Ok(OnlineCheck {
        // Using up the downloads does not end the use of the copies made.
        valid: matches!(status, GrantStatus::Active | GrantStatus::Exhausted),
        status,
        authorization_id: grant.id,
        download_no,
        permit_no: permit.permit_no,
        agency: agency.name,
        purpose: grant.purpose,
        expires_at: grant.expires_at,
        revoked_at: grant.revoked_at,
    })
}

/// Why a PDF is not a valid annotated copy. The codes are stable: `yueju verify-copy` prints
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PdfProblem {
    /// Not a PDF, or one that cannot be read.
    NotAPdf,
    /// No attached `envelope.json`.
    NoEnvelope,
    /// The attachment is not a signed copy's envelope.
    MalformedEnvelope,
    /// The envelope names a key that is not published.
    UnknownKey,
    /// The envelope's signature does not hold: it was changed, or never signed by us.
    BadSignature,
    /// A page does not print the annotation that was signed.
    AnnotationMismatch,
}

/// The verdict on a PDF: valid with the envelope it carries, or not valid with the reason.
#[derive(Debug, Clone)]
pub enum PdfVerdict {
    Valid { copy: Box<SignedCopy>, pages: usize },
    Invalid(PdfProblem),
}

/// What `yueju verify-copy` prints.
#[derive(Debug, Serialize)]
pub struct PdfReport {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<PdfProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
}

impl PdfVerdict {
    pub fn report(&self) -> PdfReport {
        match self {
            PdfVerdict::Valid { copy, pages } => PdfReport {
                valid: true,
                reason: None,
                kid: Some(copy.kid.clone()),
                permit_no: copy
                    .copy
                    .get("permit_no")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                annotation: annotation_of(copy).map(str::to_owned),
                pages: Some(*pages),
            },
            PdfVerdict::Invalid(problem) => PdfReport {
                valid: false,
                reason: Some(*problem),
                kid: None,
                permit_no: None,
                annotation: None,
                pages: None,
            },
        }
    }
}

fn annotation_of(signed: &SignedCopy) -> Option<&str> {
    signed.copy.get("annotation")?.get("text")?.as_str()
}

/// Checks a PDF copy with the published keys alone: the attached envelope's signature, then
/// the annotation printed on every page against the signed one.
pub fn verify_pdf(published: &[PublishedKey], bytes: &[u8]) -> PdfVerdict {
    match check(published, bytes) {
        Ok((copy, pages)) => PdfVerdict::Valid {
            copy: Box::new(copy),
            pages,
        },
        Err(problem) => PdfVerdict::Invalid(problem),
    }
}

fn check(published: &[PublishedKey], bytes: &[u8]) -> Result<(SignedCopy, usize), PdfProblem> {
    if bytes.len() > MAX_PDF_BYTES || !bytes.starts_with(b"%PDF-") {
        return Err(PdfProblem::NotAPdf);
    }
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..Default::default()
    };
    let doc =
        lopdf::Document::load_mem_with_options(bytes, options).map_err(|_| PdfProblem::NotAPdf)?;
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(PdfProblem::NotAPdf);
    }
    let envelope = attached(&doc, render::ENVELOPE_NAME).ok_or(PdfProblem::NoEnvelope)?;
    let copy: SignedCopy =
        serde_json::from_slice(&envelope).map_err(|_| PdfProblem::MalformedEnvelope)?;
    let signed_text = annotation_of(&copy)
        .map(printable)
        .filter(|t| !t.is_empty())
        .ok_or(PdfProblem::MalformedEnvelope)?;
    if !published.iter().any(|k| k.kid == copy.kid) {
        return Err(PdfProblem::UnknownKey);
    }
    if !annotated_copy::verify(published, &copy) {
        return Err(PdfProblem::BadSignature);
    }
    for page in pages.keys() {
        let text = doc
            .extract_text_with_limit(&[*page], MAX_STREAM_BYTES)
            .map_err(|_| PdfProblem::AnnotationMismatch)?;
        if !printable(&text).contains(&signed_text) {
            return Err(PdfProblem::AnnotationMismatch);
        }
    }
    Ok((copy, pages.len()))
}

/// Text as the page can print it: no whitespace (line breaks fall anywhere in Chinese), no
/// control or direction-override characters (the renderer drops those).
fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// The attached `envelope.json` of a PDF, as it was attached; `None` when there is none or
/// the bytes are not a readable PDF.
pub fn attached_envelope(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() > MAX_PDF_BYTES {
        return None;
    }
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..Default::default()
    };
    let doc = lopdf::Document::load_mem_with_options(bytes, options).ok()?;
    attached(&doc, render::ENVELOPE_NAME)
}

/// The bytes of the attached file named `name` (the catalog's `EmbeddedFiles` name tree).
fn attached(doc: &lopdf::Document, name: &str) -> Option<Vec<u8>> {
    let names = doc
        .catalog()
        .ok()?
        .get_deref(b"Names", doc)
        .ok()?
        .as_dict()
        .ok()?;
    let tree = names
        .get_deref(b"EmbeddedFiles", doc)
        .ok()?
        .as_dict()
        .ok()?;
    let spec = find_in_name_tree(doc, tree, name.as_bytes(), 0)?;
    let files = spec.get_deref(b"EF", doc).ok()?.as_dict().ok()?;
    let stream = files
        .get_deref(b"UF", doc)
        .or_else(|_| files.get_deref(b"F", doc))
        .ok()?
        .as_stream()
        .ok()?;
    stream
        .decompressed_content_with_limit(MAX_STREAM_BYTES)
        .ok()
}

fn find_in_name_tree<'d>(
    doc: &'d lopdf::Document,
    node: &'d lopdf::Dictionary,
    name: &[u8],
    depth: usize,
) -> Option<&'d lopdf::Dictionary> {
    if depth > MAX_NAME_TREE_DEPTH {
        return None;
    }
    if let Ok(pairs) = node
        .get_deref(b"Names", doc)
        .and_then(lopdf::Object::as_array)
    {
        for pair in pairs.chunks(2) {
            if let [key, value] = pair
                && key.as_str().ok() == Some(name)
            {
                return doc.dereference(value).ok()?.1.as_dict().ok();
            }
        }
    }
    let kids = node.get_deref(b"Kids", doc).ok()?.as_array().ok()?;
    kids.iter().find_map(|kid| {
        let kid = doc.dereference(kid).ok()?.1.as_dict().ok()?;
        find_in_name_tree(doc, kid, name, depth + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_drops_whitespace_and_direction_overrides() {
        assert_eq!(
            printable("仅供 某局\n用于\u{202E}办事，\t2026年前有效"),
            "仅供某局用于办事，2026年前有效"
        );
    }

    #[test]
    fn bytes_that_are_not_a_pdf_are_not_a_pdf() {
        for bytes in [
            &b""[..],
            b"{\"copy\": {}}",
            b"%PDF-1.7\n<html></html>",
            b"\x89PNG\r\n\x1a\n",
        ] {
            assert!(matches!(
                verify_pdf(&[], bytes),
                PdfVerdict::Invalid(PdfProblem::NotAPdf)
            ));
        }
    }

    #[test]
    fn the_check_url_names_the_grant_and_the_download() {
        let signed = SignedCopy {
            copy: serde_json::json!({"annotation": {"authorization_id": "a-b", "download_no": 2}}),
            alg: "EdDSA".into(),
            kid: "k".into(),
            signature: "s".into(),
        };
        assert_eq!(
            check_url("https://yueju.example.gov.cn/", &signed),
            "https://yueju.example.gov.cn/api/v1/annotated-copies/a-b/2"
        );
    }
}
