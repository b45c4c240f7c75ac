//! Structured logs with tracing: readable in dev, JSON in production. Every line logged
//! inside a request carries its request id (from `TracingLogger`'s root span). Personal data
//! and secrets are never logged: settings, ID numbers and credentials have redacting `Debug`,
//! and SQL statement logging (which would print bound values) is off.
//!
//! With `YUEJU_OTLP_ENDPOINT` the same spans also go to an OpenTelemetry collector over
//! OTLP/HTTP (protobuf), in batches from a thread of their own. Their names match the metrics
//! (see [`service::metrics`]): a request's span is named `{method} {route}` with `http.route`
//! the `route` label of `yueju_http_request_duration_seconds`, and `yueju_platform_call`,
//! `yueju_govdata_call`, `yueju_verifications`, `yueju_applications` and `yueju_deliveries`
//! carry the labels of their series as fields.

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use service::config::LogFormat;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt, prelude::*};

const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// What [`init`] set up that must be flushed before the process ends.
#[must_use = "call shutdown() before the process ends, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still queued for the collector (waiting at most the exporter's timeout).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("yueju: exporting the last spans failed: {e}");
        }
    }
}

/// Sets up logs, and the span export when `otlp_endpoint` is given (the collector's base URL;
/// spans go to `{otlp_endpoint}/v1/traces`).
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let provider = otlp_endpoint.map(tracer_provider).transpose()?;
    let export = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("yueju")));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => fmt::layer().boxed(),
    };
    // A subscriber may already be set (tests start many apps in one process).
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(export)
        .with(filter)
        .try_init();
    Ok(Telemetry { provider })
}

/// How long one export to the collector may take: spans go out in batches on the exporter's
/// own thread, so a slow collector costs a dropped batch, never a request.
const OTLP_EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn tracer_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(OTLP_EXPORT_TIMEOUT)
        .build()
        .with_context(|| format!("YUEJU_OTLP_ENDPOINT {endpoint}: building the span exporter"))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("yueju").build())
        .build())
}
