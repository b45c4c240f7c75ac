//! `GET /metrics` in the Prometheus text format, on a listener of its own
//! (`YUEJU_METRICS_BIND`): an operator's network reaches it, the public never does, and the
//! public port answers 404 for the path. The series are named in [`service::metrics`]; this
//! module installs the recorder that holds them, times every HTTP request by route pattern,
//! and reads the database gauges when Prometheus scrapes.
//!
//! The recorder is the process's one global recorder (the `metrics` facade has one): several
//! servers in one process (tests) share it. Without `YUEJU_METRICS_BIND` none is installed
//! and recording costs nothing but the check.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use service::Context;
use service::metrics as names;

/// Upper bounds of the request-duration buckets: a verification answers in a millisecond,
/// the alert is at 50 ms, an upload may take seconds.
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Calls to the platform and the data exchange: tens of milliseconds to the deadline.
const CALL_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Scrapes closer together than this (several Prometheus replicas, a reload) answer the
/// database figures of the last read instead of reading again.
const MIN_READ_INTERVAL: Duration = Duration::from_secs(1);
/// A database read that takes longer is given up; the scrape answers the last figures.
const READ_DEADLINE: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
static RECORDING: AtomicBool = AtomicBool::new(false);

/// Installs the process's recorder (once; later calls answer the same handle) and describes
/// every series.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = RECORDER.get_or_init(|| {
        let installed = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(names::HTTP_REQUEST_DURATION.into()),
                &HTTP_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(names::PLATFORM_CALL_DURATION.into()),
                    &CALL_BUCKETS,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(names::GOVDATA_CALL_DURATION.into()),
                    &CALL_BUCKETS,
                )
            })
            .and_then(PrometheusBuilder::install_recorder)
            .map_err(|e| e.to_string())?;
        names::describe();
        RECORDING.store(true, Ordering::Release);
        // Histograms keep their samples in buckets until drained; upkeep drains them even
        // when nobody scrapes for a while.
        let upkeep = installed.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(installed)
    });
    handle
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))
}

/// Times one HTTP request: the route pattern (never the path, which holds ids), the method
/// and the status.
pub fn http_request(req: &HttpRequest, status: StatusCode, elapsed: Duration) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    };
    metrics::histogram!(
        names::HTTP_REQUEST_DURATION,
        "route" => route,
        "method" => method,
        "status" => status.as_u16().to_string()
    )
    .record(elapsed);
}

/// What the metrics listener's handler needs: the renderer and the service for the gauges.
struct Scrape {
    handle: PrometheusHandle,
    context: web::Data<Context>,
    last_read: tokio::sync::Mutex<Option<Instant>>,
}

/// The second server: `GET /metrics` and nothing else, on one worker.
pub fn server(listener: TcpListener, context: web::Data<Context>) -> anyhow::Result<Server> {
    let scrape = web::Data::new(Scrape {
        handle: install()?,
        context,
        last_read: tokio::sync::Mutex::new(None),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(scrape.clone())
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    .listen(listener)
    .context("listening for metrics")?
    .run();
    Ok(server)
}

/// `GET /metrics`: the database gauges read now (at most once a second), then every series.
async fn render(scrape: web::Data<Scrape>) -> HttpResponse {
    {
        let mut last = scrape.last_read.lock().await;
        if last.is_none_or(|t| t.elapsed() >= MIN_READ_INTERVAL) {
            match tokio::time::timeout(
                READ_DEADLINE,
                service::metrics::read_gauges(&scrape.context),
            )
            .await
            {
                Ok(Ok(())) => *last = Some(Instant::now()),
                Ok(Err(e)) => {
                    tracing::warn!(error = ?e, "metrics: the database figures could not be read");
                    metrics::counter!(names::METRICS_READ_FAILURES).increment(1);
                }
                Err(_) => {
                    tracing::warn!("metrics: reading the database figures timed out");
                    metrics::counter!(names::METRICS_READ_FAILURES).increment(1);
                }
            }
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(scrape.handle.render())
}
