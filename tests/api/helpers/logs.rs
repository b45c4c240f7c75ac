//! Every log line of every server in this test process, for tests that check what is never
//! logged.

use std::sync::Mutex;

/// Every log line of every server in this test process, as JSON lines.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = LOG.lock() {
            log.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a subscriber like production's, at debug level for our crates, that writes
/// into [`LOG`]; tests search it for what must never be logged.
pub fn capture_logs() {
    use tracing_subscriber::prelude::*;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::new("info,api=debug,service=debug,yueju=debug");
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(|| LogWriter);
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .try_init();
    });
}

pub fn captured_log() -> String {
    String::from_utf8_lossy(&LOG.lock().map(|l| l.clone()).unwrap_or_default()).into_owned()
}
