//! Materials are accepted only when they decode as what they claim, images are stored
//! re-encoded, and staff download them as attachments with a fixed type.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

async fn li_needing_materials(app: &TestApp) -> (Tokens, String) {
    let tokens = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号", "residence_since": "2025-09-01", "basis": "employment"});
    let r = app.apply(&tokens.access, &body, None).await;
    assert_eq!(r.body["status"], "needs_materials", "{}", r.text);
    (tokens, r.body["id"].as_str().unwrap().to_owned())
}

/// Uploads as Li's employment proof; answers the reply and, when stored, the staff download.
async fn upload_and_download(
    app: &TestApp,
    bytes: &[u8],
    file_name: &str,
) -> (Reply, Option<reqwest::Response>) {
    let (tokens, id) = li_needing_materials(app).await;
    let r = app
        .upload(&tokens.access, &id, "employment_proof", bytes, file_name)
        .await;
    if r.status != 201 {
        return (r, None);
    }
    let material_id = r.body["materials"][0]["id"].as_str().unwrap().to_owned();
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let file = app
        .client
        .get(app.url(&format!(
            "/api/v1/staff/applications/{id}/materials/{material_id}"
        )))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    (r, Some(file))
}

/// A PNG chunk: length, type, data and the CRC-32 over type and data.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in kind.iter().chain(data) {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&(!crc).to_be_bytes());
    out
}

#[tokio::test]
async fn a_real_jpeg_png_and_pdf_are_each_accepted_as_what_they_are() {
    let cases = [
        (jpeg_image(16, 12), "photo.jpg", "image/jpeg"),
        (png_image(16, 12), "scan.png", "image/png"),
        (PDF.to_vec(), "contract.pdf", "application/pdf"),
    ];
    for (bytes, name, mime) in cases {
        let app = spawn_app().await;
        let (r, file) = upload_and_download(&app, &bytes, name).await;
        assert_eq!(r.status, 201, "{name}: {}", r.text);
        assert_eq!(r.body["status"], "pending_review");
        assert_eq!(r.body["materials"][0]["mime"], mime);
        let stored = file.unwrap().bytes().await.unwrap();
        assert_eq!(r.body["materials"][0]["size_bytes"], stored.len());
        if mime == "application/pdf" {
            // PDFs are kept exactly as uploaded.
            assert_eq!(stored.as_ref(), PDF);
        } else {
            let back = image::load_from_memory(&stored).unwrap();
            assert_eq!((back.width(), back.height()), (16, 12), "{name}");
        }
    }
}

#[tokio::test]
async fn a_signature_followed_by_html_is_refused_for_png_and_pdf() {
    let app = spawn_app().await;
    let (tokens, id) = li_needing_materials(&app).await;
    let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
    for signature in [&b"\x89PNG\r\n\x1a\n"[..], &b"%PDF-1.7\n"[..]] {
        let polyglot = [signature, &html[..]].concat();
        app.upload(&tokens.access, &id, "employment_proof", &polyglot, "x.pdf")
            .await
            .assert_error(415, "UNSUPPORTED_FILE_TYPE");
    }
    // A PDF that parses but has no page is no document either.
    let pageless =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    app.upload(&tokens.access, &id, "employment_proof", pageless, "x.pdf")
        .await
        .assert_error(415, "UNSUPPORTED_FILE_TYPE");
    let mine = app
        .get(&format!("/api/v1/applications/{id}"), Some(&tokens.access))
        .await;
    assert_eq!(mine.body["status"], "needs_materials");
    assert_eq!(mine.body["materials"], json!([]));
}

#[tokio::test]
async fn a_jpeg_is_stored_without_the_bytes_appended_after_it_or_its_metadata() {
    let app = spawn_app().await;
    let jpeg = jpeg_image(16, 12);
    // EXIF with a GPS position right after the start-of-image marker.
    let exif_payload = b"Exif\0\0GPSLatitude 23.1291N GPSLongitude 113.2644E";
    let mut bytes = jpeg[..2].to_vec();
    bytes.extend_from_slice(&[0xFF, 0xE1]);
    bytes.extend_from_slice(&((exif_payload.len() + 2) as u16).to_be_bytes());
    bytes.extend_from_slice(exif_payload);
    bytes.extend_from_slice(&jpeg[2..]);
    let appended = b"<html><script>alert(1)</script></html>";
    bytes.extend_from_slice(appended);

    let (r, file) = upload_and_download(&app, &bytes, "photo.jpg").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let stored = file.unwrap().bytes().await.unwrap();
    assert!(stored.starts_with(&[0xFF, 0xD8]));
    assert!(
        stored.ends_with(&[0xFF, 0xD9]),
        "nothing after end-of-image"
    );
    assert!(!stored.windows(6).any(|w| w == b"<html>"));
    assert!(!stored.windows(11).any(|w| w == b"GPSLatitude"));
    let back = image::load_from_memory(&stored).unwrap();
    assert_eq!((back.width(), back.height()), (16, 12));
}

#[tokio::test]
async fn a_png_claiming_ten_billion_pixels_is_refused_before_decoding() {
    let app = spawn_app().await;
    let (tokens, id) = li_needing_materials(&app).await;
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA: 40 GB of pixels
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.extend(png_chunk(b"IHDR", &ihdr));
    // A valid zlib stream of one empty stored block: far too little data, never inflated.
    bomb.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF],
    ));
    bomb.extend(png_chunk(b"IEND", &[]));
    let started = Instant::now();
    app.upload(&tokens.access, &id, "employment_proof", &bomb, "bomb.png")
        .await
        .assert_error(413, "FILE_TOO_LARGE");
    // Allocating and filling 40 GB could not answer this fast.
    assert!(started.elapsed() < Duration::from_secs(5));
    // The server is still there.
    let r = app
        .upload(
            &tokens.access,
            &id,
            "employment_proof",
            &png_image(8, 8),
            "ok.png",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn staff_download_a_material_as_an_attachment_with_a_fixed_type_and_nosniff() {
    let app = spawn_app().await;
    // Named like a PDF: the stored kind decides the type and the file name, not the upload.
    let (r, file) = upload_and_download(&app, &png_image(8, 8), "scan.pdf").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let material_id = r.body["materials"][0]["id"].as_str().unwrap();
    let file = file.unwrap();
    let headers = file.headers();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"material-{material_id}.png\"").as_str()
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
}
