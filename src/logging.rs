//! Logs: logfmt or JSON lines on stderr, with what clients can cause at
//! will rate-limited ([`throttle`]).

pub mod throttle;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use std::borrow::Cow;

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// Longest name written into a log line whole.
const SHORT_NAME_CHARS: usize = 80;

/// A name as a log line shows it: an upstream name can be any length, a
/// log line should not be.
pub fn short(name: &str) -> Cow<'_, str> {
    match name.char_indices().nth(SHORT_NAME_CHARS) {
        None => Cow::Borrowed(name),
        Some((at, _)) => Cow::Owned(format!("{}…({} bytes)", &name[..at], name.len())),
    }
}

fn level(l: LogLevel) -> LevelFilter {
    match l {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    }
}

/// Installs the global subscriber. The exporter logs at the chosen level;
/// libraries only from warn up, so that their debug output (connection
/// details, headers) never reaches the log; and both are rate-limited where
/// a client could otherwise fill the log.
pub fn init(log_level: LogLevel, format: LogFormat) {
    let ours = level(log_level);
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), ours)
        // Its error line on a certificate that does not verify names no
        // host; the exporter's own line says it all, with the host and how
        // to trust a private CA.
        .with_target("rustls_platform_verifier", LevelFilter::OFF)
        .with_default(ours.min(LevelFilter::WARN));
    let throttle = throttle::Throttle::default();
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(throttle.clone());
    let result = match format {
        LogFormat::Logfmt => registry
            .with(
                tracing_logfmt::builder()
                    .with_span_name(false)
                    .with_span_path(false)
                    .layer()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // A second init (tests running the app in-process) keeps the first subscriber.
    if result.is_ok() {
        throttle.start_flushing();
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn long_names_are_shortened() {
        assert_eq!(
            short("eventbridge-consumer-primary"),
            "eventbridge-consumer-primary"
        );
        let long = "é".repeat(500);
        let s = short(&long);
        assert!(
            s.starts_with(&"é".repeat(80)) && s.ends_with("…(1000 bytes)"),
            "{s}"
        );
    }
}
