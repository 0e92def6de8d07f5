//! The body of every fuzz target, one function each, so that the targets
//! (`fuzz_targets/`, run by libFuzzer) and the corpus test (`tests/`, run
//! on stable) feed the same code. Each must never panic, whatever the
//! input; where the code promises more, it is asserted.

use std::path::Path;
use std::time::Duration;

use genesys_eventbridge_exporter::budget::scrape_budget;
use genesys_eventbridge_exporter::config::parse_duration;
use genesys_eventbridge_exporter::exposition::Format;
use genesys_eventbridge_exporter::genesys::ApiErrorDetail;
use genesys_eventbridge_exporter::genesys::auth::TokenResponse;
use genesys_eventbridge_exporter::genesys::ratelimit::parse_retry_after;
use genesys_eventbridge_exporter::collectors::analytics::response::Page;
use genesys_eventbridge_exporter::web::auth::credentials;
use genesys_eventbridge_exporter::web::config::parse as parse_web_config;
use hyper::header::HeaderValue;

/// A target's body: never panics, whatever `data` holds.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus test.
pub const TARGETS: [(&str, Target); 9] = [
    ("page", page),
    ("token", token),
    ("error_body", error_body),
    ("web_config", web_config),
    ("duration", duration),
    ("accept", accept),
    ("retry_after", retry_after),
    ("scrape_budget", budget),
    ("basic_auth", basic_auth),
];

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A page of the analytics query, as the client decodes it.
pub fn page(data: &[u8]) {
    let _ = serde_json::from_slice::<Page>(data);
}

/// The token endpoint's answer.
pub fn token(data: &[u8]) {
    let _ = serde_json::from_slice::<TokenResponse>(data);
}

/// An API error body (any status).
pub fn error_body(data: &[u8]) {
    let _ = ApiErrorDetail::parse(data, Some("correlation".into()));
}

/// The web configuration file. Inputs that could name a file (a path, or an
/// escape that could spell one) are skipped: a `cert_file: /dev/stdin`
/// would wait for input forever, which is not a bug of the parser.
pub fn web_config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if text.contains(['/', '\\']) {
        return;
    }
    let _ = parse_web_config(text, Path::new("/nonexistent"));
}

/// Durations as flags and files spell them.
pub fn duration(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = parse_duration(text);
    }
}

/// The scraper's `Accept` header.
pub fn accept(data: &[u8]) {
    let _ = Format::negotiate(text(data));
}

/// A 429's `Retry-After`.
pub fn retry_after(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = parse_retry_after(text);
    }
}

/// Prometheus' scrape-timeout header.
pub fn budget(data: &[u8]) {
    let _ = scrape_budget(text(data), Duration::from_secs(10));
}

/// A basic auth `Authorization` header: never a user name with a colon
/// (basic auth splits on the first).
pub fn basic_auth(data: &[u8]) {
    let Ok(header) = HeaderValue::from_bytes(data) else {
        return;
    };
    if let Some((user, _password)) = credentials(&header) {
        assert!(!user.contains(':'), "{user:?}");
    }
}
