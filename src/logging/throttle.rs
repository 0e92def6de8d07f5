//! A cap on log lines that any client can cause at will: a scan that sends
//! an IP address as TLS server name makes the TLS library warn once per
//! connection, and refused connections, failed handshakes and logins are
//! logged by the exporter itself. Each source (call site) of such lines may
//! log [`BURST`] lines per [`WINDOW`]; the rest are counted, and at the end
//! of the window one line says how many of each source were suppressed.
//!
//! The sources so limited are the libraries (whatever their target) and the
//! exporter's [`CLIENT_LOG_TARGET`]; the exporter's other lines, which
//! follow from its own work (queries, reloads), are never suppressed.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::layer::{Context, Layer};

use crate::web::CLIENT_LOG_TARGET;

/// Lines one source may log per window.
pub const BURST: u32 = 10;
/// How often the suppressed lines are counted out.
pub const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Source {
    /// Target and line, as the summary names the source.
    name: String,
    passed: u32,
    suppressed: u64,
}

/// The layer that lets lines through or counts them; see the module.
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    sources: Arc<Mutex<HashMap<u64, Source>>>,
}

/// Whether lines of `target` are limited.
fn limited(target: &str) -> bool {
    target.starts_with(CLIENT_LOG_TARGET)
        || !(target == env!("CARGO_CRATE_NAME")
            || target.starts_with(concat!(env!("CARGO_CRATE_NAME"), "::")))
}

impl Throttle {
    fn sources(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Source>> {
        self.sources.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the window: logs one line per source that had lines
    /// suppressed, with their number, and lets each source log again.
    pub fn flush(&self) {
        let suppressed: Vec<(String, u64)> = {
            let mut sources = self.sources();
            let counted = sources
                .values()
                .filter(|s| s.suppressed > 0)
                .map(|s| (s.name.clone(), s.suppressed))
                .collect();
            // Sources are call sites, so this table stays small; cleared
            // anyway so that it never outgrows one window's worth.
            sources.clear();
            counted
        };
        for (source, count) in suppressed {
            tracing::warn!(
                suppressed = count,
                source = %source,
                "log lines suppressed: this source logged more than {BURST} lines in {}s",
                WINDOW.as_secs()
            );
        }
    }

    /// Flushes every [`WINDOW`], on a thread of its own (logging starts
    /// before the async runtime and outlives it).
    pub fn start_flushing(&self) {
        let throttle = self.clone();
        let _ = std::thread::Builder::new()
            .name("log-throttle".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(WINDOW);
                    throttle.flush();
                }
            });
    }
}

impl<S: Subscriber> Layer<S> for Throttle {
    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        // A library's line through the `log` crate carries its real
        // target and line in its fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        if !limited(meta.target()) {
            return true;
        }
        let mut hasher = DefaultHasher::new();
        (meta.target(), meta.file(), meta.line()).hash(&mut hasher);
        let mut sources = self.sources();
        let source = sources.entry(hasher.finish()).or_insert_with(|| Source {
            name: match meta.line() {
                Some(line) => format!("{}:{line}", meta.target()),
                None => meta.target().to_string(),
            },
            passed: 0,
            suppressed: 0,
        });
        if source.passed < BURST {
            source.passed += 1;
            true
        } else {
            source.suppressed += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_flood_from_one_source_is_cut_to_the_burst_and_counted() {
        let (throttle, lines) = (Throttle::default(), Lines::default());
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(throttle.clone()).with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..500 {
                tracing::warn!(target: "rustls::msgs::handshake", "Illegal SNI");
                tracing::warn!(target: CLIENT_LOG_TARGET, "connection refused");
            }
            for _ in 0..20 {
                tracing::warn!("the exporter's own line");
            }
            throttle.flush();
            // A new window: the source may log again.
            tracing::warn!(target: "rustls::msgs::handshake", "Illegal SNI");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let count = |what: &str| text.lines().filter(|l| l.contains(what)).count();
        assert_eq!(count("Illegal SNI"), BURST as usize + 1);
        assert_eq!(count("connection refused"), BURST as usize);
        assert_eq!(count("the exporter's own line"), 20, "never suppressed");
        assert_eq!(count("log lines suppressed"), 2, "{text}");
        assert!(count("suppressed=490") == 2, "{text}");
    }
}
