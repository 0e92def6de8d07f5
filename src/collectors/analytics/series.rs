//! The analytics collector's series: per consumer group and event type from
//! the latest good query, and the query's own (up, duration, failures).

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::model::{Figures, GroupFigures};
use super::state::Record;
use crate::exposition::family::{counter, counters, flag, gauge, unix_seconds};
use crate::exposition::fast::{gauge_family, gauge_family_recording, write_value};
use crate::exposition::{Format, Metric, encode};

/// HELP of a per-group series, which says that it is cached, as the
/// exporter guidelines ask.
macro_rules! cached {
    ($help:literal) => {
        concat!(
            $help,
            " Cached: refreshed by a scrape at most once per --cache.ttl."
        )
    };
}

crate::families! {
    EVENTS = "genesys_eventbridge_events", Gauge, ["consumer_group", "event_type"], Group,
        cached!("Events processed in the query window, per consumer group and event type.");
    EVENT_PROCESSING_LATENCY_SECONDS = "genesys_eventbridge_event_processing_latency_seconds", Gauge, ["consumer_group", "event_type"], Group,
        cached!("Processing latency per consumer group and event type, in seconds.");
    CONSUMER_LAG_SECONDS = "genesys_eventbridge_consumer_lag_seconds", Gauge, ["consumer_group"], Group,
        cached!("Consumer lag: the worst processing latency over the group's event types, in seconds (0 for a missing group).");
    CONSUMER_PROCESSING_LATENCY_SECONDS = "genesys_eventbridge_consumer_processing_latency_seconds", Gauge, ["consumer_group"], Group,
        cached!("Event-weighted mean processing latency of the group, in seconds.");
    CONSUMER_THROUGHPUT_EVENTS_PER_SECOND = "genesys_eventbridge_consumer_throughput_events_per_second", Gauge, ["consumer_group"], Group,
        cached!("Events of the group in the query window divided by the window's length.");
    CONSUMER_BACKLOG_EVENTS = "genesys_eventbridge_consumer_backlog_events", Gauge, ["consumer_group"], Group,
        cached!("Estimated events in flight (Little's law: throughput times mean latency); an estimate, not a count.");
    CONSUMER_GROUP_MISSING = "genesys_eventbridge_consumer_group_missing", Gauge, ["consumer_group"], Group,
        cached!("1 when a configured consumer group returned no rows in the query window, else 0.");
    CONSUMER_LAG_THRESHOLD_SECONDS = "genesys_eventbridge_consumer_lag_threshold_seconds", Gauge, ["consumer_group"], Group,
        cached!("Lag threshold in force for the group, in seconds.");
    CONSUMER_PROCESSING_LATENCY_THRESHOLD_SECONDS = "genesys_eventbridge_consumer_processing_latency_threshold_seconds", Gauge, ["consumer_group"], Group,
        cached!("Processing-latency threshold in force for the group, in seconds.");
    CONSUMER_THRESHOLD_EXCEEDED = "genesys_eventbridge_consumer_threshold_exceeded", Gauge, ["consumer_group"], Group,
        cached!("1 when the group's lag exceeds its lag or its processing-latency threshold, else 0.");
    DATA_AGE_SECONDS = "genesys_eventbridge_data_age_seconds", Gauge, [], Query,
        "Age of the latest good per-group data, in seconds; exported past --cache.max-stale, when the per-group series no longer are.";
    UP = "genesys_eventbridge_up", Gauge, [], Query,
        "1 when the latest query of the Genesys Cloud analytics API succeeded, else 0.";
    LAST_SUCCESS_TIMESTAMP_SECONDS = "genesys_eventbridge_last_success_timestamp_seconds", Gauge, [], Query,
        "Unix time the latest successful query finished.";
    QUERY_DURATION_SECONDS = "genesys_eventbridge_query_duration_seconds", Gauge, [], Query,
        "Duration of the latest query, all pages and retries, in seconds.";
    QUERY_PAGES = "genesys_eventbridge_query_pages", Gauge, [], Query,
        "Pages read by the latest query.";
    QUERIES_TOTAL = "genesys_eventbridge_queries_total", Counter, [], Query,
        "Queries of the analytics API started by scrapes (cache hits and cooldowns start none).";
    QUERY_FAILURES_TOTAL = "genesys_eventbridge_query_failures_total", Counter, ["reason"], Query,
        "Failed queries by reason.";
}

/// The query's own series that change only with its record.
#[derive(Debug)]
pub(super) struct State(pub(super) Record);

impl Collector for State {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let r = &self.0;
        let up = r.last_query.as_ref().is_some_and(|q| q.outcome.is_ok());
        gauge(&mut e, &UP, flag(up))?;
        if let Some(at) = r.last_success {
            gauge(&mut e, &LAST_SUCCESS_TIMESTAMP_SECONDS, unix_seconds(at))?;
        }
        if let Some(q) = &r.last_query {
            gauge(&mut e, &QUERY_DURATION_SECONDS, q.duration.as_secs_f64())?;
            gauge(&mut e, &QUERY_PAGES, f64::from(q.pages))?;
        }
        counter(&mut e, &QUERIES_TOTAL, r.queries)?;
        counters(
            &mut e,
            &QUERY_FAILURES_TOTAL,
            r.failures
                .iter()
                .map(|(r, n)| ([("reason", r.as_str())], *n)),
        )
    }
}

/// The age of the data served, which moves with the clock.
#[derive(Debug)]
pub(super) struct Age(pub(super) f64);

impl Collector for Age {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        gauge(&mut e, &DATA_AGE_SECONDS, self.0)
    }
}

/// The per-group gauges and how each is read from a group's figures.
type PerGroup = (&'static Metric, fn(&GroupFigures) -> f64);
pub(super) const PER_GROUP: [PerGroup; 8] = [
    (&CONSUMER_LAG_SECONDS, |g| g.lag_seconds),
    (&CONSUMER_PROCESSING_LATENCY_SECONDS, |g| {
        g.mean_latency_seconds
    }),
    (&CONSUMER_THROUGHPUT_EVENTS_PER_SECOND, |g| g.throughput),
    (&CONSUMER_BACKLOG_EVENTS, |g| g.backlog),
    (&CONSUMER_GROUP_MISSING, |g| flag(g.missing)),
    (&CONSUMER_LAG_THRESHOLD_SECONDS, |g| {
        g.thresholds.max_lag.as_secs_f64()
    }),
    (&CONSUMER_PROCESSING_LATENCY_THRESHOLD_SECONDS, |g| {
        g.thresholds.max_processing_latency.as_secs_f64()
    }),
    (&CONSUMER_THRESHOLD_EXCEEDED, |g| flag(g.exceeded)),
];

/// The per-group series of one snapshot, written sample by sample (the
/// encoder writes only each family's HELP and TYPE lines).
pub fn encode_groups(format: Format, f: &Figures) -> String {
    // About 110 bytes a sample; a good guess saves copies as the text grows.
    let mut out = String::with_capacity(110 * (2 * f.series.len() + 8 * f.groups.len()));
    let mut labels = Vec::with_capacity(f.series.len());
    gauge_family_recording(
        &mut out,
        format,
        &EVENTS,
        f.series
            .iter()
            .map(|s| ([&*s.consumer_group, &*s.event_type], s.events)),
        Some(&mut labels),
    );
    // Same label sets in the same order: copied from the family above rather
    // than escaped and assembled again.
    if !f.series.is_empty() {
        let m = &EVENT_PROCESSING_LATENCY_SECONDS;
        out.push_str(&encode(
            format,
            crate::exposition::family::Descriptor::of(m),
        ));
        for (s, labels) in f.series.iter().zip(labels) {
            out.push_str(m.name);
            out.extend_from_within(labels);
            write_value(&mut out, format, s.latency_seconds);
        }
    }
    for (m, value) in PER_GROUP {
        gauge_family(
            &mut out,
            format,
            m,
            f.groups.iter().map(|g| ([&*g.name], value(g))),
        );
    }
    out
}
