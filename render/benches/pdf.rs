//! How long drawing one annotated copy takes, as SVG and as PDF (font subsetting, shaping,
//! compression and the attached envelope included), with a 300×375 PNG photo.
//!
//! `cargo bench -p render --bench pdf`. On the 2-core machine, 2026-12-01 (other builds
//! running): SVG 175 µs, PDF 24 ms a copy (median of 20 samples).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use render::{AnnotatedCopy, PdfDate, PdfExtras, Photo, annotated_copy_pdf, annotated_copy_svg};

fn photo() -> Vec<u8> {
    let (w, h) = (300u32, 375u32);
    let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(&pixels);
    }
    out
}

fn copy(photo: &[u8]) -> AnnotatedCopy<'_> {
    AnnotatedCopy {
        fields: vec![
            ("证件编号", "4401002026000123".to_owned()),
            ("姓名", "陈志强".to_owned()),
            ("公民身份号码", "440511199003071234".to_owned()),
            (
                "居住地址",
                "广东省广州市天河区天河路385号太古汇一座2801室".to_owned(),
            ),
            ("有效期限", "2029-01-14".to_owned()),
        ],
        photo: Some(Photo {
            mime: "image/png",
            bytes: photo,
        }),
        watermark: "仅供广州市天河区社会保险基金管理局用于办理社保卡，2026年12月31日前有效",
        details: vec![
            ("用证部门", "广州市天河区社会保险基金管理局".to_owned()),
            ("用途", "办理社保卡".to_owned()),
            (
                "授权编号",
                "63c4357b-401d-4eb4-a060-b16cbada9959".to_owned(),
            ),
            ("下载时间", "2026-12-01T07:55:29Z".to_owned()),
        ],
        key_id: "yueju-sign-2026-01",
        signature_b64: "MEUCIQDx3kPqZ9a2BnT7uVw0Lr8sYh4JcF6mE1oKdG5pXy2AbCdEfGh==",
    }
}

fn bench(c: &mut Criterion) {
    let photo = photo();
    let copy = copy(&photo);
    let envelope = vec![b'x'; 40_000];
    let extras = PdfExtras {
        qr_payload: "https://yueju.example.gov.cn/api/v1/annotated-copies/63c4357b-401d-4eb4-a060-b16cbada9959/1",
        qr_title: "扫码在线核验",
        qr_note: "扫描二维码可查询本加注件所依据的授权是否仍然有效。",
        envelope: &envelope,
        made_at: PdfDate {
            year: 2026,
            month: 12,
            day: 1,
            hour: 15,
            minute: 55,
            second: 29,
        },
        fallback_font: None,
    };
    c.bench_function("annotated_copy_svg", |b| {
        b.iter(|| annotated_copy_svg(black_box(&copy)))
    });
    c.bench_function("annotated_copy_pdf", |b| {
        b.iter(|| annotated_copy_pdf(black_box(&copy), black_box(&extras)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
