//! The AWS collector's series: its own (up, requests, metrics requested),
//! encoded with its state, and those of the delivery path, encoded once
//! per AWS cycle and format.

use std::collections::BTreeMap;
use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::calls::Op;
use super::model::{self, COUNTS, Path, Rule, Source};
use crate::exposition::family::{counter, counters, flag, gauge, gauges, unix_seconds};
use crate::exposition::{Format, encode};

crate::families! {
    AWS_UP = "genesys_eventbridge_aws_up", Gauge, [], Query,
        "1 when the latest AWS cycle succeeded in every call, else 0.";
    AWS_REQUESTS_TOTAL = "genesys_eventbridge_aws_requests_total", Counter, ["service", "operation", "code"], Query,
        "AWS requests by service, operation and HTTP status (code error when no answer came).";
    AWS_CLOUDWATCH_METRICS_REQUESTED_TOTAL = "genesys_eventbridge_aws_cloudwatch_metrics_requested_total", Counter, [], Query,
        "Metrics requested from CloudWatch GetMetricData: what CloudWatch bills.";
    AWS_PERIOD_END_TIMESTAMP_SECONDS = "genesys_eventbridge_aws_period_end_timestamp_seconds", Gauge, [], Query,
        "Unix time the CloudWatch period described by the event source and rule figures ended (cached for --aws.cache.ttl).";
    EVENT_SOURCE_INFO = "genesys_eventbridge_event_source_info", Gauge, ["event_source", "integration_id", "aws_account_id", "region"], Query,
        "1 for each partner event source watched, with its integration (none when named in aws.event_sources), account and region.";
    EVENT_SOURCE_STATE = "genesys_eventbridge_event_source_state", Gauge, ["event_source", "state"], Query,
        "1 for the state AWS reports for the partner event source (PENDING: no bus associated, events are not delivered), or not_found; 0 for the others.";
    EVENT_SOURCE_EXPIRY_TIMESTAMP_SECONDS = "genesys_eventbridge_event_source_expiry_timestamp_seconds", Gauge, ["event_source"], Query,
        "Unix time a PENDING partner event source expires (ExpirationTime).";
    EVENT_SOURCE_EVENTS = "genesys_eventbridge_event_source_events", Gauge, ["event_source"], Query,
        "Events the partner event source ingested in the period (CloudWatch AWS/Events Events, Sum).";
    RULE_ENABLED = "genesys_eventbridge_rule_enabled", Gauge, ["event_bus", "rule"], Query,
        "1 when the rule is enabled, else 0.";
    RULE_TARGETS = "genesys_eventbridge_rule_targets", Gauge, ["event_bus", "rule"], Query,
        "Targets of the rule.";
    RULE_TARGETS_WITHOUT_DEAD_LETTER_QUEUE = "genesys_eventbridge_rule_targets_without_dead_letter_queue", Gauge, ["event_bus", "rule"], Query,
        "Targets of the rule without a dead-letter queue: events that fail delivery to them are lost.";
    RULE_INVOCATIONS = "genesys_eventbridge_rule_invocations", Gauge, ["event_bus", "rule"], Query,
        "Invocations of the rule's targets in the period (Invocations, Sum; 0 without a datapoint).";
    RULE_FAILED_INVOCATIONS = "genesys_eventbridge_rule_failed_invocations", Gauge, ["event_bus", "rule"], Query,
        "Invocations that failed permanently in the period (FailedInvocations, Sum).";
    RULE_RETRY_INVOCATION_ATTEMPTS = "genesys_eventbridge_rule_retry_invocation_attempts", Gauge, ["event_bus", "rule"], Query,
        "Invocation attempts retried in the period (RetryInvocationAttempts, Sum): an early sign of an undersized target.";
    RULE_THROTTLED = "genesys_eventbridge_rule_throttled", Gauge, ["event_bus", "rule"], Query,
        "Throttled invocations of the rule in the period (ThrottledRules, Sum).";
    RULE_DEAD_LETTER_INVOCATIONS = "genesys_eventbridge_rule_dead_letter_invocations", Gauge, ["event_bus", "rule"], Query,
        "Events sent to a dead-letter queue in the period (InvocationsSentToDlq, Sum).";
    RULE_DEAD_LETTER_FAILURES = "genesys_eventbridge_rule_dead_letter_failures", Gauge, ["event_bus", "rule"], Query,
        "Events that could not be sent to the dead-letter queue in the period, lost (InvocationsFailedToBeSentToDlq, Sum).";
    RULE_DELIVERY_LATENCY_SECONDS = "genesys_eventbridge_rule_delivery_latency_seconds", Gauge, ["event_bus", "rule"], Query,
        "Average time from ingestion to successful delivery in the period (IngestionToInvocationSuccessLatency, Average); absent without deliveries.";
    RULE_DELIVERY_LAG_SECONDS = "genesys_eventbridge_rule_delivery_lag_seconds", Gauge, ["event_bus", "rule"], Query,
        "Longest time from ingestion to successful delivery in the period (IngestionToInvocationSuccessLatency, Maximum); absent without deliveries.";
    RULE_DELIVERY_LAG_THRESHOLD_SECONDS = "genesys_eventbridge_rule_delivery_lag_threshold_seconds", Gauge, ["event_bus", "rule"], Query,
        "The rule's delivery lag threshold: its max_delivery_lag in aws.rules, else the organisation's lag threshold.";
    RULE_MISSING = "genesys_eventbridge_rule_missing", Gauge, ["event_bus", "rule"], Query,
        "1 when a rule named in aws.rules is on none of the watched buses, else 0.";
}

/// The collector's own series.
#[derive(Debug)]
pub(super) struct Own {
    pub up: bool,
    pub requests: BTreeMap<(Op, String), u64>,
    pub metrics_requested: u64,
}

impl Collector for Own {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        gauge(&mut e, &AWS_UP, flag(self.up))?;
        counters(
            &mut e,
            &AWS_REQUESTS_TOTAL,
            self.requests.iter().map(|((op, code), n)| {
                let labels = [
                    ("service", op.service().to_string()),
                    ("operation", op.name().to_string()),
                    ("code", code.clone()),
                ];
                (labels, *n)
            }),
        )?;
        counter(
            &mut e,
            &AWS_CLOUDWATCH_METRICS_REQUESTED_TOTAL,
            self.metrics_requested,
        )
    }
}

/// The delivery path's series, once per AWS cycle and format.
pub fn encode_path(format: Format, path: &Path) -> String {
    encode(format, PathSeries(path.clone()))
}

#[derive(Debug)]
struct PathSeries(Path);

type RuleLabels = [(&'static str, String); 2];

fn rule_labels(r: &Rule) -> RuleLabels {
    [("event_bus", r.bus.clone()), ("rule", r.name.clone())]
}

impl Collector for PathSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let path = &self.0;
        gauge(
            &mut e,
            &AWS_PERIOD_END_TIMESTAMP_SECONDS,
            unix_seconds(path.period_end),
        )?;
        sources(&mut e, &path.sources)?;
        let rules: Vec<&Rule> = path
            .sources
            .iter()
            .flat_map(|s| s.rules.iter().flatten())
            .collect();
        let each = |f: fn(&Rule) -> Option<f64>| {
            rules
                .iter()
                .filter_map(move |r| f(r).map(|v| (rule_labels(r), v)))
        };
        gauges(&mut e, &RULE_ENABLED, each(|r| Some(flag(r.enabled))))?;
        gauges(&mut e, &RULE_TARGETS, each(|r| Some(f64::from(r.targets))))?;
        gauges(
            &mut e,
            &RULE_TARGETS_WITHOUT_DEAD_LETTER_QUEUE,
            each(|r| Some(f64::from(r.targets_without_dlq))),
        )?;
        let counts = [
            &RULE_INVOCATIONS,
            &RULE_FAILED_INVOCATIONS,
            &RULE_RETRY_INVOCATION_ATTEMPTS,
            &RULE_THROTTLED,
            &RULE_DEAD_LETTER_INVOCATIONS,
            &RULE_DEAD_LETTER_FAILURES,
        ];
        debug_assert_eq!(counts.len(), COUNTS.len());
        for (k, metric) in counts.into_iter().enumerate() {
            gauges(
                &mut e,
                metric,
                rules.iter().map(|r| (rule_labels(r), r.counts[k])),
            )?;
        }
        gauges(&mut e, &RULE_DELIVERY_LATENCY_SECONDS, each(|r| r.latency))?;
        gauges(&mut e, &RULE_DELIVERY_LAG_SECONDS, each(|r| r.lag))?;
        gauges(
            &mut e,
            &RULE_DELIVERY_LAG_THRESHOLD_SECONDS,
            each(|r| Some(r.threshold)),
        )?;
        gauges(
            &mut e,
            &RULE_MISSING,
            path.named_rules.iter().map(|m| {
                let labels = [("event_bus", m.bus.clone()), ("rule", m.rule.clone())];
                (labels, flag(m.missing))
            }),
        )
    }
}

fn sources(e: &mut DescriptorEncoder, sources: &[Source]) -> fmt::Result {
    let name = |s: &Source| ("event_source", s.watched.name.clone());
    gauges(
        e,
        &EVENT_SOURCE_INFO,
        sources.iter().map(|s| {
            let w = &s.watched;
            let labels = [
                name(s),
                ("integration_id", w.integration_id.clone()),
                (
                    "aws_account_id",
                    w.account_id
                        .clone()
                        .unwrap_or_else(|| model::UNKNOWN.into()),
                ),
                ("region", w.region.clone()),
            ];
            (labels, 1.0)
        }),
    )?;
    gauges(
        e,
        &EVENT_SOURCE_STATE,
        sources.iter().flat_map(|s| {
            let reported = s.state.label();
            let unknown = (reported == model::UNKNOWN).then_some(model::UNKNOWN);
            let states = model::STATES.iter().copied().chain(unknown);
            states.map(move |state| {
                (
                    [name(s), ("state", state.to_string())],
                    flag(state == reported),
                )
            })
        }),
    )?;
    gauges(
        e,
        &EVENT_SOURCE_EXPIRY_TIMESTAMP_SECONDS,
        sources
            .iter()
            .filter_map(|s| s.expiry.map(|t| ([name(s)], unix_seconds(t)))),
    )?;
    gauges(
        e,
        &EVENT_SOURCE_EVENTS,
        sources
            .iter()
            .filter_map(|s| s.events.map(|n| ([name(s)], n))),
    )
}
