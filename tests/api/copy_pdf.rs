//! The annotated copy as PDF (`?format=pdf`) and `yueju verify-copy`.

use std::path::Path;

use serde_json::{Value, json};
use service::consent::annotated_copy::{self, SignedCopy};
use service::consent::copy_pdf::{self, PdfProblem, PdfVerdict};
use service::keys::signing::PublishedKey;
use tokio::process::Command;

use crate::helpers::*;

async fn published(app: &TestApp) -> Vec<PublishedKey> {
    serde_json::from_value(app.get("/api/v1/keys", None).await.body["keys"].clone()).unwrap()
}

fn copy_path(grant_id: &str) -> String {
    format!("/api/v1/agency/authorizations/{grant_id}/annotated-copy")
}

/// Chen holds a permit; a social-security office asked for his name, ID number and address
/// and he approved. Answers the agency and the grant's id.
async fn approved_grant(app: &TestApp, chen: &Tokens) -> (AgencyClient, String) {
    let agency = app
        .agency(
            21,
            "广州市天河区社会保险基金管理局",
            &["permit:verify", "permit:download"],
            &[
                "name",
                "id_number",
                "residence_address",
                "valid_until",
                "photo",
            ],
        )
        .await;
    let code = app.code(&chen.access).await;
    let r = app.ask_access(&agency, &code, "办理社保卡", 30).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = app
        .decide(&chen.access, r.body["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    (agency, g.body["id"].as_str().unwrap().to_owned())
}

/// `GET …/annotated-copy?format=pdf`: the status, the content type and the body.
async fn download_pdf(
    app: &TestApp,
    agency: &AgencyClient,
    grant_id: &str,
) -> (u16, String, Vec<u8>) {
    let res = app
        .client
        .get(app.url(&format!("{}?format=pdf", copy_path(grant_id))))
        .bearer_auth(&agency.token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, res.bytes().await.unwrap().to_vec())
}

async fn genuine_pdf(app: &TestApp) -> (Vec<u8>, SignedCopy) {
    let chen = app.chen_with_permit().await;
    let (agency, grant_id) = approved_grant(app, &chen).await;
    let (status, content_type, pdf) = download_pdf(app, &agency, &grant_id).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    let envelope = copy_pdf::attached_envelope(&pdf).expect("an attached envelope.json");
    let signed: SignedCopy = serde_json::from_slice(&envelope).unwrap();
    (pdf, signed)
}

/// `yueju verify-copy FILE --keys KEYS` (or other arguments): exit code and the JSON printed.
async fn verify_copy(dir: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yueju"))
        .arg("verify-copy")
        .args(args)
        .env("YUEJU_DATA_DIR", dir)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let printed = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), printed, stderr)
}

async fn keys_file(app: &TestApp, dir: &Path) -> String {
    let path = dir.join("keys.json");
    std::fs::write(&path, app.get("/api/v1/keys", None).await.text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The one link of the PDF: the target of its QR code.
fn qr_link(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut uris = Vec::new();
    for page in doc.get_pages().values() {
        let Ok(annots) = doc.get_dictionary(*page).unwrap().get(b"Annots") else {
            continue;
        };
        let annots = match annots {
            lopdf::Object::Reference(id) => doc.get_object(*id).unwrap().as_array().unwrap(),
            other => other.as_array().unwrap(),
        };
        for annot in annots {
            let annot = match annot {
                lopdf::Object::Reference(id) => doc.get_dictionary(*id).unwrap(),
                other => other.as_dict().unwrap(),
            };
            let uri = annot
                .get(b"A")
                .unwrap()
                .as_dict()
                .unwrap()
                .get(b"URI")
                .unwrap();
            uris.push(String::from_utf8(uri.as_str().unwrap().to_vec()).unwrap());
        }
    }
    assert_eq!(uris.len(), 1, "{uris:?}");
    uris.remove(0)
}

fn annotation(signed: &SignedCopy) -> String {
    signed.copy["annotation"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_agency_downloads_a_pdf_copy_that_verifies_with_the_command() {
    let app = spawn_app().await;
    let (pdf, signed) = genuine_pdf(&app).await;
    assert!(pdf.starts_with(b"%PDF-"));

    // The attachment is the signed envelope, serialised exactly as the JSON format answers.
    let keys = published(&app).await;
    assert!(annotated_copy::verify(&keys, &signed));
    let attached = copy_pdf::attached_envelope(&pdf).unwrap();
    assert_eq!(attached, serde_json::to_vec(&signed).unwrap());
    assert_eq!(signed.copy["permit"]["name"], CHEN_NAME);
    assert_eq!(signed.copy["annotation"]["download_no"], 1);
    assert!(annotation(&signed).starts_with("仅供广州市天河区社会保险基金管理局用于办理社保卡，"));

    let PdfVerdict::Valid { copy, pages } = copy_pdf::verify_pdf(&keys, &pdf) else {
        panic!("the genuine PDF does not verify");
    };
    assert_eq!(copy.signature, signed.signature);
    assert_eq!(pages, 1);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let keys = keys_file(&app, dir.path()).await;
    let (code, printed, stderr) =
        verify_copy(dir.path(), &[file.to_str().unwrap(), "--keys", &keys]).await;
    assert_eq!(code, Some(0), "{printed} {stderr}");
    assert_eq!(printed["valid"], true);
    assert_eq!(printed["annotation"], annotation(&signed).as_str());
    assert_eq!(printed["kid"], signed.kid.as_str());
    assert_eq!(printed["permit_no"], signed.copy["permit_no"]);
}

#[tokio::test]
async fn a_pdf_download_counts_like_the_other_formats_and_a_revoked_grant_gives_none() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let (agency, grant_id) = approved_grant(&app, &chen).await;
    let (status, _, _) = download_pdf(&app, &agency, &grant_id).await;
    assert_eq!(status, 200);
    let json = app.get(&copy_path(&grant_id), Some(&agency.token)).await;
    assert_eq!(json.body["copy"]["annotation"]["download_no"], 2);

    let log = app.get("/api/v1/me/access-log", Some(&chen.access)).await;
    let downloads: Vec<&Value> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "download")
        .collect();
    assert_eq!(downloads.len(), 2, "{}", log.text);
    assert_eq!(downloads[0]["detail"]["download_no"], 1);

    let revoked = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/authorizations/{grant_id}"),
            &json!({}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let (status, _, body) = download_pdf(&app, &agency, &grant_id).await;
    assert_eq!(status, 403);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "AUTHORIZATION_REVOKED", "{body}");

    app.get(
        &format!("{}?format=docx", copy_path(&grant_id)),
        Some(&agency.token),
    )
    .await
    .assert_error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn a_pdf_whose_envelope_was_altered_does_not_verify() {
    let app = spawn_app().await;
    let (_, signed) = genuine_pdf(&app).await;
    let mut altered = signed.clone();
    altered.copy["permit"]["residence_address"] = json!("广州市越秀区某路1号");
    let envelope = copy_pdf::envelope(&altered).unwrap();
    let forged =
        copy_pdf::pdf(&altered, None, &envelope, "https://example.invalid/x", None).unwrap();
    let keys = published(&app).await;
    assert!(matches!(
        copy_pdf::verify_pdf(&keys, &forged),
        PdfVerdict::Invalid(PdfProblem::BadSignature)
    ));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forged.pdf");
    std::fs::write(&file, &forged).unwrap();
    let keys = keys_file(&app, dir.path()).await;
    let (code, printed, _) =
        verify_copy(dir.path(), &[file.to_str().unwrap(), "--keys", &keys]).await;
    assert_eq!(code, Some(1));
    assert_eq!(printed["valid"], false);
    assert_eq!(printed["reason"], "BAD_SIGNATURE");
}

#[tokio::test]
async fn a_pdf_that_prints_another_annotation_than_the_signed_one_does_not_verify() {
    let app = spawn_app().await;
    let (_, signed) = genuine_pdf(&app).await;
    // The genuine envelope attached, but the pages print a wider use.
    let envelope = copy_pdf::envelope(&signed).unwrap();
    let mut printed_other = signed.clone();
    printed_other.copy["annotation"]["text"] =
        json!("仅供广州市天河区社会保险基金管理局用于任何用途，2099年12月31日前有效");
    let forged = copy_pdf::pdf(
        &printed_other,
        None,
        &envelope,
        "https://example.invalid/x",
        None,
    )
    .unwrap();
    let keys = published(&app).await;
    assert!(matches!(
        copy_pdf::verify_pdf(&keys, &forged),
        PdfVerdict::Invalid(PdfProblem::AnnotationMismatch)
    ));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forged.pdf");
    std::fs::write(&file, &forged).unwrap();
    let keys = keys_file(&app, dir.path()).await;
    let (code, printed, _) =
        verify_copy(dir.path(), &[file.to_str().unwrap(), "--keys", &keys]).await;
    assert_eq!(code, Some(1));
    assert_eq!(printed["reason"], "ANNOTATION_MISMATCH");
}

#[tokio::test]
async fn a_file_that_is_not_a_pdf_fails_cleanly_and_a_missing_one_is_a_usage_error() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_file(&app, dir.path()).await;
    let text = dir.path().join("copy.pdf");
    std::fs::write(&text, "这不是PDF文件").unwrap();
    let (code, printed, _) =
        verify_copy(dir.path(), &[text.to_str().unwrap(), "--keys", &keys]).await;
    assert_eq!(code, Some(1));
    assert_eq!(printed["valid"], false);
    assert_eq!(printed["reason"], "NOT_A_PDF");

    // A PDF with no envelope attached.
    let bare = dir.path().join("bare.pdf");
    std::fs::write(
        &bare,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    )
    .unwrap();
    let (code, printed, _) =
        verify_copy(dir.path(), &[bare.to_str().unwrap(), "--keys", &keys]).await;
    assert_eq!(code, Some(1), "{printed}");
    assert_eq!(printed["reason"], "NO_ENVELOPE");

    let missing = dir.path().join("missing.pdf");
    let (code, _, stderr) =
        verify_copy(dir.path(), &[missing.to_str().unwrap(), "--keys", &keys]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot read"), "{stderr}");
    let (code, _, _) = verify_copy(dir.path(), &[]).await;
    assert_eq!(code, Some(2));
    let (code, _, stderr) = verify_copy(dir.path(), &["--help"]).await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test]
async fn without_a_keys_file_verify_copy_checks_against_this_installations_own_keys() {
    let app = spawn_app().await;
    let (pdf, _) = genuine_pdf(&app).await;
    let file = app.data_dir.path().join("copy.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let (code, printed, stderr) = verify_copy(app.data_dir.path(), &[file.to_str().unwrap()]).await;
    assert_eq!(code, Some(0), "{printed} {stderr}");
    assert_eq!(printed["valid"], true);

    // Another installation's ring does not hold the key that signed it.
    let other = spawn_app().await;
    let (code, printed, stderr) =
        verify_copy(other.data_dir.path(), &[file.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{printed} {stderr}");
    assert_eq!(printed["reason"], "UNKNOWN_KEY");
}

#[tokio::test]
async fn a_purpose_or_an_agency_name_the_copy_cannot_print_is_refused_up_front() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let (agency, _) = approved_grant(&app, &chen).await;
    let code = app.code(&chen.access).await;
    // U+20BB7 is beyond the embedded font: the printed annotation could not be read back.
    let r = app.ask_access(&agency, &code, "办理𠮷祥社保卡", 30).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "VALIDATION_FAILED");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("用途") && message.contains("生僻字"),
        "{message}"
    );
    // An emoji is not in the font either.
    let r = app.ask_access(&agency, &code, "办理社保卡😀", 30).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let requests = app
        .get("/api/v1/me/authorization-requests", Some(&chen.access))
        .await;
    // Only the request approved above is listed: the refused one left no record behind.
    let items = requests.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", requests.text);
    assert!(
        items.iter().all(|i| i["purpose"] != "办理𠮷祥社保卡"),
        "{}",
        requests.text
    );

    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/agencies",
            &json!({"name": "𠮷安市公安局", "credit_code": crate::helpers::credit_code(22),
                    "contact": "020-87654321", "scopes": ["permit:verify"], "fields": ["name"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("生僻字"),
        "{}",
        r.text
    );
}

#[tokio::test]
#[ignore = "needs pdftoppm and pdftotext (Debian poppler-utils); .ci/run installs them"]
async fn the_pdf_renders_to_a_page_that_is_not_blank_and_carries_the_annotation() {
    let app = spawn_app().await;
    let (pdf, signed) = genuine_pdf(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.pdf");
    std::fs::write(&file, &pdf).unwrap();

    let prefix = dir.path().join("page");
    let out = Command::new("pdftoppm")
        .args(["-r", "60", "-png", "-singlefile"])
        .arg(&file)
        .arg(&prefix)
        .output()
        .await
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = image::open(dir.path().join("page.png")).unwrap().to_luma8();
    // A4 at 60 dpi (595.28 × 841.89 pt), give or take the rounding of a pixel.
    assert!(image.width().abs_diff(496) <= 1 && image.height().abs_diff(702) <= 1);
    let inked = image.pixels().filter(|p| p.0[0] < 200).count();
    let share = inked as f64 / (image.width() * image.height()) as f64;
    assert!(
        share > 0.05,
        "only {:.1} % of the page is inked",
        share * 100.0
    );

    // -raw: in the order drawn, so that each rotated copy of the annotation reads whole.
    let out = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .await
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let signed_text: String = annotation(&signed)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(text.contains(&signed_text), "{signed_text} not in {text}");
    assert!(text.contains(CHEN_NAME));
}

#[tokio::test]
async fn the_qr_code_on_the_pdf_opens_the_online_check_of_that_copy() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let (agency, grant_id) = approved_grant(&app, &chen).await;
    let (_, _, pdf) = download_pdf(&app, &agency, &grant_id).await;
    let signed: SignedCopy =
        serde_json::from_slice(&copy_pdf::attached_envelope(&pdf).unwrap()).unwrap();
    // What the QR code carries (the page links it too), as the PDF was made for this server
    // in dev, where no public address is configured.
    let url = qr_link(&pdf);
    assert_eq!(url, copy_pdf::check_url(&app.address, &signed));
    assert_eq!(
        url,
        app.url(&format!("/api/v1/annotated-copies/{grant_id}/1"))
    );

    // Anyone may open it: no token.
    let check = app
        .get(&format!("/api/v1/annotated-copies/{grant_id}/1"), None)
        .await;
    assert_eq!(check.status, 200, "{}", check.text);
    assert_eq!(check.body["valid"], true);
    assert_eq!(check.body["status"], "active");
    assert_eq!(check.body["agency"], "广州市天河区社会保险基金管理局");
    assert_eq!(check.body["purpose"], "办理社保卡");
    assert_eq!(check.body["permit_no"], signed.copy["permit_no"]);
    assert!(!check.text.contains(CHEN_NAME));
    assert!(!check.text.contains(CHEN_ID));

    // A copy that was never made, or an unknown grant, is not found.
    app.get(&format!("/api/v1/annotated-copies/{grant_id}/2"), None)
        .await
        .assert_error(404, "AUTHORIZATION_NOT_FOUND");
    for no in ["0", "-1", "x", "99999999999"] {
        app.get(&format!("/api/v1/annotated-copies/{grant_id}/{no}"), None)
            .await
            .assert_error(404, "AUTHORIZATION_NOT_FOUND");
    }
    app.get(
        &format!("/api/v1/annotated-copies/{}/1", uuid::Uuid::new_v4()),
        None,
    )
    .await
    .assert_error(404, "AUTHORIZATION_NOT_FOUND");

    // Once the holder revokes, the copy no longer stands.
    let revoked = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/authorizations/{grant_id}"),
            &json!({}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let check = app
        .get(&format!("/api/v1/annotated-copies/{grant_id}/1"), None)
        .await;
    assert_eq!(check.body["valid"], false);
    assert_eq!(check.body["status"], "revoked");
    assert!(check.body["revoked_at"].is_string());
}

#[tokio::test]
async fn with_a_public_url_the_qr_code_leads_there_whatever_host_the_request_named() {
    let app = spawn_app_with(&[("YUEJU_PUBLIC_URL", "https://yueju.example.gov.cn/")]).await;
    let chen = app.chen_with_permit().await;
    let (agency, grant_id) = approved_grant(&app, &chen).await;
    let res = app
        .client
        .get(app.url(&format!("{}?format=pdf", copy_path(&grant_id))))
        .bearer_auth(&agency.token)
        .header("Host", "attacker.example.com")
        .header("X-Forwarded-Host", "attacker.example.com")
        .header("Forwarded", "host=attacker.example.com;proto=http")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let pdf = res.bytes().await.unwrap();
    assert_eq!(
        qr_link(&pdf),
        format!("https://yueju.example.gov.cn/api/v1/annotated-copies/{grant_id}/1")
    );
}

/// Debian's fonts-hanazono: HanaMinB covers CJK Extension B.
const HANAZONO_B: &str = "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf";

/// Every page's text, whitespace left out.
fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
#[ignore = "needs HanaMinB.ttf (Debian fonts-hanazono); .ci/run installs it"]
async fn with_a_fallback_font_a_holder_whose_name_has_a_rare_character_gets_it_printed() {
    let app = spawn_app_with(&[("YUEJU_PDF_FALLBACK_FONT", HANAZONO_B)]).await;
    let name = "吉𠮷祥";
    let (tokens, _) = app.named_resident_with_permit("rare-name", 901, name).await;
    let (agency, grant_id) = approved_grant(&app, &tokens).await;
    let (status, _, pdf) = download_pdf(&app, &agency, &grant_id).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));

    let text = pdf_text(&pdf);
    assert!(text.contains(name), "{text}");
    let keys = published(&app).await;
    assert!(matches!(
        copy_pdf::verify_pdf(&keys, &pdf),
        PdfVerdict::Valid { .. }
    ));
}

#[tokio::test]
async fn a_fallback_font_file_that_is_missing_or_not_a_font_stops_the_start_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_font = dir.path().join("font.ttf");
    std::fs::write(&not_a_font, b"not a font").unwrap();
    for path in [dir.path().join("missing.ttf"), not_a_font] {
        let out = Command::new(env!("CARGO_BIN_EXE_yueju"))
            .env("YUEJU_DATA_DIR", dir.path())
            .env("YUEJU_BIND", "127.0.0.1:0")
            .env("YUEJU_PDF_FALLBACK_FONT", &path)
            .env_remove("DATABASE_URL")
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
            .await
            .expect("the server stops at once")
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("YUEJU_PDF_FALLBACK_FONT"), "{stderr}");
    }
}
