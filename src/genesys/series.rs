//! The Genesys client's own series: API responses, rate-limit headers, the
//! token, the invalid rows its collectors skipped, and the 429 cooldown.

use std::fmt::{self, Write as _};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::GenesysClient;
use super::telemetry::TelemetryState;
use crate::clock::Clock;
use crate::exposition::Series;
use crate::exposition::family::{counter, counters, gauge, unix_seconds};
use crate::report::Report;

crate::families! {
    API_REQUESTS_TOTAL = "genesys_eventbridge_api_requests_total", Counter, ["endpoint", "code"], Query,
        "HTTP responses from the Genesys Cloud API by endpoint and status code.";
    API_RATE_LIMIT_ALLOWED = "genesys_eventbridge_api_rate_limit_allowed", Gauge, [], Query,
        "Requests allowed in the current rate-limit window (inin-ratelimit-allowed of the latest response that had it).";
    /// Untyped: the fixed name ends in a suffix that Prometheus reserves for
    /// histogram and summary parts, and typing it gauge makes `promtool check
    /// metrics` reject the exposition. Queries treat it exactly like a gauge.
    API_RATE_LIMIT_COUNT = "genesys_eventbridge_api_rate_limit_count", Unknown, [], Query,
        "Requests counted in the current rate-limit window (inin-ratelimit-count of the latest response that had it); untyped, use it as a gauge.";
    API_RATE_LIMIT_RESET_SECONDS = "genesys_eventbridge_api_rate_limit_reset_seconds", Gauge, [], Query,
        "Seconds until the rate-limit window resets (inin-ratelimit-reset of the latest response that had it).";
    TOKEN_EXPIRY_TIMESTAMP_SECONDS = "genesys_eventbridge_token_expiry_timestamp_seconds", Gauge, [], Query,
        "Unix time the current access token expires.";
    TOKEN_REQUESTS_TOTAL = "genesys_eventbridge_token_requests_total", Counter, [], Query,
        "Requests sent to the OAuth token endpoint.";
    INVALID_ROWS_TOTAL = "genesys_eventbridge_invalid_rows_total", Counter, ["reason"], Query,
        "Rows of the API response skipped as invalid, by reason.";
    RATE_LIMIT_COOLDOWN_SECONDS = "genesys_eventbridge_rate_limit_cooldown_seconds", Gauge, [], Query,
        "Seconds until the exporter calls the API again after a 429; 0 when none.";
}

#[derive(Debug)]
struct State(TelemetryState);

impl Collector for State {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let t = &self.0;
        counters(
            &mut e,
            &API_REQUESTS_TOTAL,
            t.api_requests.iter().map(|((endpoint, code), n)| {
                (
                    [
                        ("endpoint", endpoint.as_str().to_string()),
                        ("code", code.to_string()),
                    ],
                    *n,
                )
            }),
        )?;
        let limits = t.rate_limit;
        for (m, value) in [
            (&API_RATE_LIMIT_ALLOWED, limits.allowed),
            (&API_RATE_LIMIT_COUNT, limits.count),
            (&API_RATE_LIMIT_RESET_SECONDS, limits.reset_seconds),
        ] {
            if let Some(v) = value {
                gauge(&mut e, m, v)?;
            }
        }
        if let Some(expiry) = t.token_expiry {
            gauge(
                &mut e,
                &TOKEN_EXPIRY_TIMESTAMP_SECONDS,
                unix_seconds(expiry),
            )?;
        }
        counter(&mut e, &TOKEN_REQUESTS_TOTAL, t.token_requests)?;
        counters(
            &mut e,
            &INVALID_ROWS_TOTAL,
            t.invalid_rows.iter().map(|(r, n)| ([("reason", *r)], *n)),
        )
    }
}

#[derive(Debug)]
struct Cooldown(f64);

impl Collector for Cooldown {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        gauge(&mut e, &RATE_LIMIT_COOLDOWN_SECONDS, self.0)
    }
}

impl Series for GenesysClient {
    fn generation(&self) -> u64 {
        self.telemetry().generation()
    }

    fn state(&self) -> Option<Box<dyn Collector>> {
        Some(Box::new(State(self.telemetry().read())))
    }

    fn moving(&self, _clock: Clock) -> Option<Box<dyn Collector>> {
        let left = self.cooldown_remaining();
        Some(Box::new(Cooldown(left.map_or(0.0, |d| d.as_secs_f64()))))
    }
}

impl Report for GenesysClient {
    fn status(&self, html: &mut String, _clock: Clock) {
        if let Some(c) = self.cooldown_remaining() {
            let _ = write!(
                html,
                "<p class=\"failed\">Rate limited: no request for another {:.0}s.</p>",
                c.as_secs_f64()
            );
        }
    }
}
