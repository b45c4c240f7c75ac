//! Real files for uploads and keys: a minimal PDF, PNG and JPEG images, a PEM signing key.

/// The smallest PDF that parses with one page: catalog, page tree, one page, and an xref
/// whose offsets are exact.
pub const PDF: &[u8] = b"%PDF-1.4
1 0 obj
<< /Type /Catalog /Pages 2 0 R >>
endobj
2 0 obj
<< /Type /Pages /Kids [3 0 R] /Count 1 >>
endobj
3 0 obj
<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>
endobj
xref
0 4
0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \ntrailer
<< /Size 4 /Root 1 0 R >>
startxref
186
%%EOF
";

/// A small real PNG, a gradient so the encoder has something to compress.
pub fn png_image(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    gradient(width, height)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}

/// A small real JPEG.
pub fn jpeg_image(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    gradient(width, height)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .expect("encode jpeg");
    out
}

fn gradient(width: u32, height: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 128])
    }))
}

/// Writes a PKCS#8 PEM Ed25519 key made from `seed` and returns its path.
pub fn write_signing_key(dir: &std::path::Path, seed: u8) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    let path = dir.join(format!("signing-{seed}.pem"));
    std::fs::write(&path, pem.as_bytes()).unwrap();
    path.display().to_string()
}
