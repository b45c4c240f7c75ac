//! What recording metrics adds to a request: `POST /api/v1/verify` through the real route
//! table and the same timing middleware as the server, and the verification counter, each
//! measured before and after the Prometheus recorder is installed (the difference is the
//! cost of recording; before, every call returns at its first check).
//! Run with `cargo bench -p api --bench metrics`.
//!
//! The request stops at the handler's first extractor (no service context here, so an
//! answer 500): the routing, the middleware and the recording are the real ones, the
//! verification itself is measured in `service`'s benches.
// Benchmarks build their fixtures with the system time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use actix_web::dev::Service as _;
use actix_web::{App, test};
use criterion::{Criterion, criterion_group, criterion_main};
use service::verify::verification::{Verdict, VerifyReason};

fn verdict() -> Verdict {
    Verdict {
        valid: false,
        reason: Some(VerifyReason::PermitRevoked),
        status: Some("revoked"),
        permit: None,
        status_list: None,
        code_expires_at: None,
        kid: Some("k1".into()),
        checked_at: chrono::Utc::now(),
    }
}

fn recording(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(test::init_service(
        App::new()
            .wrap_fn(|req, srv| {
                let started = Instant::now();
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    api::metrics::http_request(res.request(), res.status(), started.elapsed());
                    Ok(res)
                }
            })
            .configure(|cfg| api::routes::register(cfg, 1 << 20)),
    ));
    let request = || {
        test::TestRequest::post()
            .uri("/api/v1/verify")
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"token":"x"}"#)
            .to_request()
    };
    let mut g = c.benchmark_group("metrics");
    for installed in [false, true] {
        if installed {
            api::metrics::install().unwrap();
        }
        let when = if installed { "recorded" } else { "off" };
        g.bench_function(format!("post_verify_routed_{when}"), |b| {
            b.iter(|| rt.block_on(test::call_service(&app, black_box(request()))))
        });
        let v = verdict();
        g.bench_function(format!("verification_counted_{when}"), |b| {
            b.iter(|| rt.block_on(service::metrics::verified(async { black_box(v.clone()) })))
        });
    }
    g.finish();
}

criterion_group!(benches, recording);
criterion_main!(benches);
