//! The exposition: every metric of the exporter, encoded as OpenMetrics 1.0 or
//! Prometheus text 0.0.4 as the scraper's `Accept` header asks.
//!
//! A response is two parts: the exporter's own series, encoded per scrape
//! (they are few and move every second), and the per-group series of the
//! snapshot, encoded once per snapshot and format and then reused.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::cache::Snapshot;
use crate::model::Figures;
use crate::telemetry::TelemetryState;

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    Text,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Text => TEXT_CONTENT_TYPE,
        }
    }

    fn slot(self) -> usize {
        match self {
            Format::OpenMetrics => 0,
            Format::Text => 1,
        }
    }

    /// OpenMetrics when the `Accept` header ranks it at least as high as the
    /// text format (Prometheus asks for it first); text 0.0.4 otherwise.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let (mut openmetrics, mut text) = (0.0f64, 0.0f64);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// Values of the exporter's own series that are read at scrape time.
#[derive(Debug, Clone)]
pub struct ScrapeView {
    pub telemetry: TelemetryState,
    /// Age of the data served; `None` when none is served.
    pub data_age: Option<Duration>,
    pub cooldown: Option<Duration>,
}

/// The whole response body, as chunks to be sent in order.
pub fn render(format: Format, view: ScrapeView, snapshot: Option<&Snapshot>) -> Vec<Bytes> {
    let mut chunks = Vec::with_capacity(3);
    chunks.push(Bytes::from(encode(format, ExporterSeries(view))));
    if let Some(snapshot) = snapshot {
        let body = snapshot.bodies[format.slot()]
            .get_or_init(|| Bytes::from(encode(format, GroupSeries(snapshot.figures.clone()))));
        chunks.push(body.clone());
    }
    if format == Format::OpenMetrics {
        chunks.push(Bytes::from_static(b"# EOF\n"));
    }
    chunks
}

fn encode(format: Format, collector: impl Collector) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(collector));
    let mut out = String::new();
    let result = match format {
        Format::OpenMetrics => {
            prometheus_client::encoding::text::encode_registry(&mut out, &registry)
        }
        Format::Text => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry),
    };
    // Writing into a String cannot fail; the encoder only fails on a sink error.
    result.expect("encoding into a String");
    out
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, value: f64) -> fmt::Result {
    e.encode_descriptor(name, help, None, MetricType::Gauge)?
        .encode_gauge(&value)
}

fn gauges<L: EncodeLabelSet>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, f64)>,
) -> fmt::Result {
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return Ok(());
    }
    let mut metric = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        metric.encode_family(&labels)?.encode_gauge(&value)?;
    }
    Ok(())
}

/// `name` without `_total`: the encoder appends it.
fn counters<L: EncodeLabelSet>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> fmt::Result {
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return Ok(());
    }
    let mut metric = e.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        metric
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
    }
    Ok(())
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    e.encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

const CACHED: &str = "Cached: refreshed by a scrape at most once per --cache.ttl.";

/// The per-group series of one snapshot.
#[derive(Debug)]
struct GroupSeries(Arc<Figures>);

impl Collector for GroupSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let f = &self.0;
        let series = |s: &crate::model::SeriesFigures| {
            [
                ("consumer_group", s.consumer_group.clone()),
                ("event_type", s.event_type.clone()),
            ]
        };
        gauges(
            &mut e,
            "genesys_eventbridge_events",
            &format!(
                "Events processed in the query window, per consumer group and event type. {CACHED}"
            ),
            f.series.iter().map(|s| (series(s), s.events)),
        )?;
        gauges(
            &mut e,
            "genesys_eventbridge_event_processing_latency_seconds",
            &format!("Processing latency per consumer group and event type, in seconds. {CACHED}"),
            f.series.iter().map(|s| (series(s), s.latency_seconds)),
        )?;
        let per_group = |e: &mut DescriptorEncoder,
                         name: &str,
                         help: &str,
                         value: fn(&crate::model::GroupFigures) -> f64| {
            gauges(
                e,
                name,
                &format!("{help} {CACHED}"),
                f.groups
                    .iter()
                    .map(|g| ([("consumer_group", g.name.clone())], value(g))),
            )
        };
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_lag_seconds",
            "Consumer lag: the worst processing latency over the group's event types, in seconds (0 for a missing group).",
            |g| g.lag_seconds,
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_processing_latency_seconds",
            "Event-weighted mean processing latency of the group, in seconds.",
            |g| g.mean_latency_seconds,
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_throughput_events_per_second",
            "Events of the group in the query window divided by the window's length.",
            |g| g.throughput,
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_backlog_events",
            "Estimated events in flight (Little's law: throughput times mean latency); an estimate, not a count.",
            |g| g.backlog,
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_group_missing",
            "1 when a configured consumer group returned no rows in the query window, else 0.",
            |g| f64::from(u8::from(g.missing)),
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_lag_threshold_seconds",
            "Lag threshold in force for the group, in seconds.",
            |g| g.thresholds.max_lag.as_secs_f64(),
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_processing_latency_threshold_seconds",
            "Processing-latency threshold in force for the group, in seconds.",
            |g| g.thresholds.max_processing_latency.as_secs_f64(),
        )?;
        per_group(
            &mut e,
            "genesys_eventbridge_consumer_threshold_exceeded",
            "1 when the group's lag exceeds its lag or its processing-latency threshold, else 0.",
            |g| f64::from(u8::from(g.exceeded)),
        )
    }
}

/// The exporter's own series.
#[derive(Debug)]
struct ExporterSeries(ScrapeView);

impl Collector for ExporterSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let view = &self.0;
        let t = &view.telemetry;
        let up = t.last_query.as_ref().is_some_and(|q| q.outcome.is_ok());
        gauge(
            &mut e,
            "genesys_eventbridge_up",
            "1 when the latest query of the Genesys Cloud analytics API succeeded, else 0.",
            f64::from(u8::from(up)),
        )?;
        if let Some(at) = t.last_success {
            gauge(
                &mut e,
                "genesys_eventbridge_last_success_timestamp_seconds",
                "Unix time the latest successful query finished.",
                unix_seconds(at),
            )?;
        }
        if let Some(age) = view.data_age {
            gauge(
                &mut e,
                "genesys_eventbridge_data_age_seconds",
                "Age of the per-group data served, in seconds.",
                age.as_secs_f64(),
            )?;
        }
        if let Some(q) = &t.last_query {
            gauge(
                &mut e,
                "genesys_eventbridge_query_duration_seconds",
                "Duration of the latest query, all pages and retries, in seconds.",
                q.duration.as_secs_f64(),
            )?;
            gauge(
                &mut e,
                "genesys_eventbridge_query_pages",
                "Pages read by the latest query.",
                f64::from(q.pages),
            )?;
        }
        counter(
            &mut e,
            "genesys_eventbridge_queries",
            "Queries of the analytics API started by scrapes (cache hits and cooldowns start none).",
            t.queries,
        )?;
        counters(
            &mut e,
            "genesys_eventbridge_query_failures",
            "Failed queries by reason.",
            t.failures
                .iter()
                .map(|(r, n)| ([("reason", r.as_str())], *n)),
        )?;
        counters(
            &mut e,
            "genesys_eventbridge_api_requests",
            "HTTP responses from the Genesys Cloud API by endpoint and status code.",
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
        gauge(
            &mut e,
            "genesys_eventbridge_rate_limit_cooldown_seconds",
            "Seconds until the exporter calls the API again after a 429; 0 when none.",
            view.cooldown.map_or(0.0, |d| d.as_secs_f64()),
        )?;
        let limits = t.rate_limit;
        for (name, help, value) in [
            (
                "genesys_eventbridge_api_rate_limit_allowed",
                "Requests allowed in the current rate-limit window (inin-ratelimit-allowed of the latest response that had it).",
                limits.allowed,
            ),
            (
                "genesys_eventbridge_api_rate_limit_count",
                "Requests counted in the current rate-limit window (inin-ratelimit-count of the latest response that had it).",
                limits.count,
            ),
            (
                "genesys_eventbridge_api_rate_limit_reset_seconds",
                "Seconds until the rate-limit window resets (inin-ratelimit-reset of the latest response that had it).",
                limits.reset_seconds,
            ),
        ] {
            if let Some(v) = value {
                gauge(&mut e, name, help, v)?;
            }
        }
        if let Some(expiry) = t.token_expiry {
            gauge(
                &mut e,
                "genesys_eventbridge_token_expiry_timestamp_seconds",
                "Unix time the current access token expires.",
                unix_seconds(expiry),
            )?;
        }
        counter(
            &mut e,
            "genesys_eventbridge_token_requests",
            "Requests sent to the OAuth token endpoint.",
            t.token_requests,
        )?;
        counters(
            &mut e,
            "genesys_eventbridge_invalid_rows",
            "Rows of the API response skipped as invalid, by reason.",
            t.invalid_rows.iter().map(|(r, n)| ([("reason", *r)], *n)),
        )?;
        gauges(
            &mut e,
            "genesys_eventbridge_exporter_build_info",
            "Build information of the exporter; always 1.",
            [([("version", env!("CARGO_PKG_VERSION"))], 1.0)],
        )
    }
}

/// Concatenates rendered chunks, for tests and callers that want one buffer.
pub fn to_string(chunks: &[Bytes]) -> String {
    let mut s = String::new();
    for c in chunks {
        let _ = s.write_str(&String::from_utf8_lossy(c));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_accept_header_gets_openmetrics() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("text/plain;version=0.0.4")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("text/plain;q=1,application/openmetrics-text;q=0.5")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
    }
}
