//! In-process benchmarks: the raw work behind the HTTP routes, measured with criterion.
//! Run with `cargo bench -p service --bench inprocess` (or `bench/run` for everything).
//! `bench/run` reads the estimates criterion writes under `target/criterion/` to compute
//! the HTTP/in-process ratios.
// Benchmarks build their fixtures with the system time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::hint::black_box;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use service::domain::IdNumber;
use service::keys::signing::{Alg, KeyRing, PrivateKey, canonical_json, signed_message};
use service::permit::permits::{PermitDocument, SIGNATURE_PURPOSE};
use service::verify::codes;

fn ring() -> KeyRing {
    KeyRing::from_keys(vec![SigningKey::from_bytes(&[7u8; 32])], vec![]).unwrap()
}

/// A ring with both algorithms, `alg` signing.
fn ring_of(alg: Alg) -> KeyRing {
    KeyRing::local(
        vec![
            PrivateKey::from(SigningKey::from_bytes(&[7u8; 32])),
            PrivateKey::sm2_from_bytes(&[7u8; 32]).unwrap(),
        ],
        vec![],
        alg,
    )
    .unwrap()
}

/// Signing goes through the async signer port; with the keys in the process its future is
/// ready at once, and this runtime only polls it (well under a microsecond).
fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        })
        .block_on(future)
}

fn document() -> PermitDocument {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    PermitDocument {
        doc_type: "guangdong-residence-permit".into(),
        licence_id: "44000020260000000000000001".into(),
        permit_no: "440100202600001".into(),
        version: 1,
        kind: "issue".into(),
        previous_licence_id: None,
        name: "陈志强".into(),
        gender: "男".into(),
        ethnicity: "汉".into(),
        id_number: "440511199003071234".into(),
        photo_sha256: Some("ab".repeat(32)),
        hukou_address: "广东省汕头市金平区".into(),
        residence_address: "广东省广州市天河区天河路385号501房".into(),
        residence_since: None,
        issuing_authority: "广州市公安局天河区分局".into(),
        issued_on: d(2026, 3, 1),
        valid_from: d(2026, 3, 1),
        valid_until: d(2029, 3, 1),
        endorsement_due: d(2027, 3, 1),
        continuous_since: d(2024, 1, 15),
        signed_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
    }
}

fn ed25519(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let verifying = key.verifying_key();
    let message = [0x5au8; 109];
    let signature = key.sign(&message);
    let mut g = c.benchmark_group("ed25519");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| b.iter(|| key.sign(black_box(&message))));
    g.bench_function("verify_strict", |b| {
        b.iter(|| verifying.verify_strict(black_box(&message), black_box(&signature)))
    });
    g.finish();
}

/// SM2 with SM3 (user id 1234567812345678) beside Ed25519 on the same 109-byte message: the
/// signature of a code, as the ring makes it.
fn sm2(c: &mut Criterion) {
    let key = PrivateKey::sm2_from_bytes(&[7u8; 32]).unwrap();
    let public = key.public();
    let message = [0x5au8; 109];
    let signature = key.sign(&message);
    let mut g = c.benchmark_group("sm2");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| b.iter(|| key.sign(black_box(&message))));
    g.bench_function("verify", |b| {
        b.iter(|| public.verify(black_box(&message), black_box(&signature)))
    });
    g.finish();
}

fn code_token(c: &mut Criterion) {
    let keys = ring();
    let valid_until = NaiveDate::from_ymd_opt(2029, 3, 1).unwrap();
    let subject = codes::CodeSubject {
        permit_no: "440100202600001",
        name: "陈志强",
        valid_until,
        endorsement_due: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
        place: service::verify::status_list::Place {
            list_id: 1,
            idx: 77_777,
        },
    };
    let now = Utc::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (token, _) = rt
        .block_on(codes::issue(&keys, &subject, 120, now))
        .unwrap();
    // The QR version the token needs (error correction M, as the server renders it).
    let qr =
        qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M).unwrap();
    let version = match qr.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
    };
    println!(
        "code token: {} characters, QR version {version} (target <= 7)",
        token.len()
    );
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    if std::fs::create_dir_all(&out).is_ok() {
        let _ = std::fs::write(
            out.join("token.txt"),
            format!("length={}\nqr_version={version}\n", token.len()),
        );
    }
    let mut g = c.benchmark_group("code");
    g.throughput(Throughput::Elements(1));
    g.bench_function("issue", |b| {
        b.iter(|| {
            rt.block_on(codes::issue(&keys, black_box(&subject), 120, now))
                .unwrap()
        })
    });
    g.bench_function("verify", |b| {
        b.iter(|| codes::verify(&keys, black_box(&token), now).unwrap())
    });
    // The work of GET /me/code without the database: sign a code, encode it, draw the SVG.
    g.bench_function("issue_qr_svg", |b| {
        b.iter(|| {
            let (t, _) = rt
                .block_on(codes::issue(&keys, &subject, 120, now))
                .unwrap();
            render::qr_svg(&t).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("qr");
    g.throughput(Throughput::Elements(1));
    g.bench_function("svg", |b| {
        b.iter(|| render::qr_svg(black_box(&token)).unwrap())
    });
    g.bench_function("png", |b| {
        b.iter(|| render::qr_png(black_box(&token), 8).unwrap())
    });
    g.finish();
}

fn permit_document(c: &mut Criterion) {
    let doc = document();
    let mut g = c.benchmark_group("permit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("canonical_json", |b| {
        b.iter(|| {
            let value = serde_json::to_value(black_box(&doc)).unwrap();
            canonical_json(&value)
        })
    });
    g.bench_function("signed_message", |b| {
        b.iter(|| {
            let value = serde_json::to_value(black_box(&doc)).unwrap();
            signed_message(SIGNATURE_PURPOSE, &value)
        })
    });
    g.finish();
}

/// A code signed and verified by each algorithm (what GET /me/code and POST /verify do
/// around the database): `code_by_alg/{EdDSA,SM2}/{issue,verify}`.
fn code_by_alg(c: &mut Criterion) {
    let subject = codes::CodeSubject {
        permit_no: "440100202600001",
        name: "陈志强",
        valid_until: NaiveDate::from_ymd_opt(2029, 3, 1).unwrap(),
        endorsement_due: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
        place: service::verify::status_list::Place {
            list_id: 1,
            idx: 77_777,
        },
    };
    let now = Utc::now();
    let mut g = c.benchmark_group("code_by_alg");
    g.throughput(Throughput::Elements(1));
    for alg in Alg::ALL {
        let keys = ring_of(alg);
        let (token, _) = block(codes::issue(&keys, &subject, 120, now)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        g.bench_function(format!("{alg}/issue"), |b| {
            b.iter(|| {
                rt.block_on(codes::issue(&keys, black_box(&subject), 120, now))
                    .unwrap()
            })
        });
        g.bench_function(format!("{alg}/verify"), |b| {
            b.iter(|| codes::verify(&keys, black_box(&token), now).unwrap())
        });
    }
    g.finish();
}

fn id_number(c: &mut Criterion) {
    let mut g = c.benchmark_group("id_number");
    g.throughput(Throughput::Elements(1));
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    g.bench_function("parse", |b| {
        b.iter(|| IdNumber::parse_at(black_box("440511199003071234"), today).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    ed25519,
    sm2,
    code_token,
    code_by_alg,
    permit_document,
    id_number
);
criterion_main!(benches);
