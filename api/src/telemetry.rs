//! Structured logs with tracing: readable in dev, JSON in production. Every line logged
//! inside a request carries its request id (from `TracingLogger`'s root span). Personal data
//! and secrets are never logged: settings, ID numbers and credentials have redacting `Debug`,
//! and SQL statement logging (which would print bound values) is off.

use service::config::LogFormat;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    // A subscriber may already be set (tests start many apps in one process).
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
    };
}
