//! The AWS collector against the simulator's AWS side, over loopback HTTP
//! with the official SDK signing every request: paging, more than 500
//! CloudWatch queries, throttling and its cooldown, an access denial held
//! back, 5xx retried and a hang cut at the budget, source states, counts
//! without datapoints, the period's alignment, and no credential in the
//! trace. Each test drives one organisation's collector directly, with a TTL
//! of 0 so that every refresh is a cycle (the flags allow at least 1m).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use common::sample;
use genesys_cloud_simulator::{
    AwsPaging, DEMO_ACCESS_KEY_ID, DEMO_AWS_REGION, DEMO_ORGANIZATION_ID, DEMO_SECRET_ACCESS_KEY,
    EventSource, EventSourceState, Fault, SimConfig, Simulator, partner_source_name,
};
use genesys_eventbridge_exporter::clock::Clock;
use genesys_eventbridge_exporter::collectors::Collector;
use genesys_eventbridge_exporter::collectors::aws::Aws;
use genesys_eventbridge_exporter::collectors::aws::sdk::Access;
use genesys_eventbridge_exporter::config::{Cli, Upstream};
use genesys_eventbridge_exporter::discovery::Discovery;
use genesys_eventbridge_exporter::exposition::{
    Body, Encoding, Format, Series, StatePart, render_org, to_string,
};
use genesys_eventbridge_exporter::report::Report;

const BUDGET: Duration = Duration::from_secs(5);

fn source(suffix: &str) -> String {
    partner_source_name(DEMO_ORGANIZATION_ID, suffix)
}

/// The demo's AWS account on a simulator of its own.
async fn sim() -> Simulator {
    Simulator::start(([127, 0, 0, 1], 0).into(), SimConfig::demo())
        .await
        .unwrap()
}

/// One organisation's AWS collector watching `sources`, against `sim`.
fn collector(sim: &Simulator, sources: &[&str], extra: &[&str]) -> Aws {
    let mut args = vec!["exporter", "--collector.aws", "--aws.region", "us-east-1"];
    for s in sources {
        args.extend(["--aws.event-source", s]);
    }
    args.extend(extra);
    let mut settings = Cli::try_parse_from(args)
        .unwrap()
        .settings()
        .unwrap()
        .with_upstream(Upstream::Demo);
    settings.aws.ttl = Duration::ZERO;
    let access = Access {
        endpoint_url: Some(sim.base_url()),
        static_key: Some((DEMO_ACCESS_KEY_ID.into(), DEMO_SECRET_ACCESS_KEY.into())),
        region: Some(DEMO_AWS_REGION.into()),
    };
    let discovery = Arc::new(Discovery::default());
    Aws::new(&settings, "test".into(), discovery, access, Clock::System)
}

/// A scrape's part of the collector: a refresh, then its series.
async fn scrape(aws: &Aws) -> String {
    aws.refresh(BUDGET).await;
    let mut body = Body::new(Encoding::Identity);
    render_org(
        Format::Text,
        &StatePart::default(),
        &[aws as &dyn Series],
        Clock::System,
        &mut body,
    );
    to_string(&body.into_chunks())
}

fn rule(bus: &str, rule: &str) -> Vec<(&'static str, String)> {
    vec![("event_bus", bus.to_string()), ("rule", rule.to_string())]
}

fn value(body: &str, name: &str, labels: &[(&'static str, String)]) -> Option<f64> {
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sample(body, name, &labels)
}

/// `event_source_state` of `source` in `state`.
fn state(body: &str, source: &str, state: &str) -> Option<f64> {
    let labels = [
        ("event_source", source.to_string()),
        ("state", state.to_string()),
    ];
    value(body, "genesys_eventbridge_event_source_state", &labels)
}

fn requests(body: &str, operation: &str, code: &str) -> f64 {
    let labels = [("operation", operation), ("code", code)];
    let matching = body.lines().filter(|l| {
        l.starts_with("genesys_eventbridge_aws_requests_total{")
            && labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
    });
    matching
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_path_is_exported_with_counts_without_datapoints_as_0_and_no_latency() {
    let sim = sim().await;
    let (prod, audit) = (source("eventbridge-prod"), source("eventbridge-audit"));
    let aws = collector(&sim, &[&prod, &audit], &[]);
    let body = scrape(&aws).await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_aws_up", &[]),
        Some(1.0),
        "{body}"
    );
    let state = |s: &str, st: &str| state(&body, s, st);
    assert_eq!(state(&prod, "ACTIVE"), Some(1.0));
    assert_eq!(state(&audit, "PENDING"), Some(1.0));
    assert_eq!(state(&audit, "ACTIVE"), Some(0.0));
    let info = [
        ("event_source", prod.clone()),
        ("integration_id", "none".into()),
        ("aws_account_id", "123456789012".into()),
        ("region", "us-east-1".into()),
    ];
    assert_eq!(
        value(&body, "genesys_eventbridge_event_source_info", &info),
        Some(1.0),
        "the account of its bus's rules"
    );
    let sqs = rule(&prod, "genesys-to-sqs-orders");
    let lambda = rule(&prod, "genesys-to-lambda-analytics");
    let archive = rule(&prod, "genesys-archive-replay");
    assert_eq!(
        value(&body, "genesys_eventbridge_rule_failed_invocations", &sqs),
        Some(0.0),
        "no datapoint: 0"
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_failed_invocations",
            &lambda
        ),
        Some(12.0)
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_delivery_lag_seconds",
            &lambda
        ),
        Some(45.3)
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_delivery_latency_seconds",
            &sqs
        ),
        Some(0.42)
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_delivery_lag_seconds",
            &archive
        ),
        None,
        "no deliveries, no lag"
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_targets_without_dead_letter_queue",
            &lambda
        ),
        Some(1.0)
    );
    // The period: whole, aligned, ended at least the delay ago.
    let end = sample(
        &body,
        "genesys_eventbridge_aws_period_end_timestamp_seconds",
        &[],
    )
    .unwrap() as u64;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(end % 300, 0);
    assert!(end <= now - 120 && end > now - 420, "{end} against {now}");
    // No credential in the trace; the request ids are.
    let mut trace = String::new();
    aws.trace(&mut trace);
    assert!(
        !trace.contains(DEMO_SECRET_ACCESS_KEY) && !trace.contains("Signature="),
        "{trace}"
    );
    assert!(trace.contains("GetMetricData 26 queries -> 200"), "{trace}");
    assert!(
        !format!(
            "{:?}",
            Access {
                endpoint_url: None,
                static_key: Some(("id".into(), DEMO_SECRET_ACCESS_KEY.into())),
                region: None,
            }
        )
        .contains(DEMO_SECRET_ACCESS_KEY)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_listings_and_more_than_500_queries_are_read_whole_in_the_fewest_calls() {
    let sim = sim().await;
    let prod = source("eventbridge-prod");
    let mut account = genesys_cloud_simulator::AwsAccount::demo();
    // 3 demo rules + 70: 1 + 73 × 8 = 585 queries, two calls.
    account.add_healthy_rules(&prod, 70);
    sim.set_aws(account);
    sim.set_aws_paging(AwsPaging {
        list_rules: 10,
        list_targets_by_rule: 1,
        get_metric_data: 100,
    });
    let aws = collector(&sim, &[&prod], &[]);
    let body = scrape(&aws).await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_aws_up", &[]),
        Some(1.0),
        "{body}"
    );
    let rules = body
        .lines()
        .filter(|l| l.starts_with("genesys_eventbridge_rule_enabled{"))
        .count();
    assert_eq!(rules, 73);
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_aws_cloudwatch_metrics_requested_total",
            &[]
        ),
        Some(585.0)
    );
    assert_eq!(sim.list_rules_requests(), 8, "73 rules, 10 a page");
    // The lambda rule's two targets are two pages.
    assert_eq!(sim.list_targets_by_rule_requests(), 74);
    // 500 + 85 queries, 100 results a page: 5 + 1 pages.
    assert_eq!(sim.get_metric_data_requests(), 6);
    let lambda = rule(&prod, "genesys-to-lambda-analytics");
    assert_eq!(
        value(&body, "genesys_eventbridge_rule_targets", &lambda),
        Some(2.0)
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_invocations",
            &rule(&prod, "rule-0070")
        )
        .map(|v| v > 0.0),
        Some(true),
        "a query of the second call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_starts_a_cooldown_without_requests_and_the_last_figures_are_served() {
    let sim = sim().await;
    let prod = source("eventbridge-prod");
    let aws = collector(&sim, &[&prod], &[]);
    let first = scrape(&aws).await;
    assert_eq!(sample(&first, "genesys_eventbridge_aws_up", &[]), Some(1.0));
    sim.push_describe_event_source_fault(Fault::aws(400, "ThrottlingException", "Rate exceeded"));
    let throttled = scrape(&aws).await;
    assert_eq!(
        sample(&throttled, "genesys_eventbridge_aws_up", &[]),
        Some(0.0)
    );
    let lambda = rule(&prod, "genesys-to-lambda-analytics");
    assert_eq!(
        value(&throttled, "genesys_eventbridge_rule_invocations", &lambda),
        Some(7180.0),
        "the last figures"
    );
    let sent = sim.describe_event_source_requests();
    for _ in 0..3 {
        scrape(&aws).await;
    }
    assert_eq!(
        sim.describe_event_source_requests(),
        sent,
        "no request in the cooldown"
    );
    assert_eq!(requests(&throttled, "DescribeEventSource", "400"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_denial_holds_that_operation_back_and_the_others_go_on() {
    let sim = sim().await;
    let prod = source("eventbridge-prod");
    let aws = collector(&sim, &[&prod], &[]);
    sim.push_get_metric_data_fault(Fault::aws(
        403,
        "AccessDenied",
        "not authorized to perform: cloudwatch:GetMetricData",
    ));
    let denied = scrape(&aws).await;
    assert_eq!(
        sample(&denied, "genesys_eventbridge_aws_up", &[]),
        Some(0.0)
    );
    assert_eq!(requests(&denied, "GetMetricData", "403"), 1.0);
    let mut trace = String::new();
    aws.trace(&mut trace);
    assert!(trace.contains("cloudwatch:GetMetricData"), "{trace}");
    let (metrics, described) = (
        sim.get_metric_data_requests(),
        sim.describe_event_source_requests(),
    );
    scrape(&aws).await;
    assert_eq!(
        sim.get_metric_data_requests(),
        metrics,
        "held back for an hour"
    );
    assert_eq!(
        sim.describe_event_source_requests(),
        described + 1,
        "the rest is still asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_within_the_budget_and_a_hang_is_cut_at_it() {
    let sim = sim().await;
    let prod = source("eventbridge-prod");
    let aws = collector(&sim, &[&prod], &[]);
    sim.push_list_rules_fault(Fault::aws(500, "InternalException", "internal error"));
    let body = scrape(&aws).await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_aws_up", &[]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(requests(&body, "ListRules", "500"), 1.0);
    assert_eq!(requests(&body, "ListRules", "200"), 1.0);
    sim.push_describe_event_source_fault(Fault::Hang);
    let started = Instant::now();
    let body = scrape(&aws).await;
    let took = started.elapsed();
    assert!(took < BUDGET + Duration::from_secs(2), "{took:?}");
    assert_eq!(sample(&body, "genesys_eventbridge_aws_up", &[]), Some(0.0));
    assert_eq!(requests(&body, "DescribeEventSource", "error"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_absent_sources_are_states_and_a_named_rule_absent_is_missing() {
    let sim = sim().await;
    let prod = source("eventbridge-prod");
    let mut account = genesys_cloud_simulator::AwsAccount::demo();
    account.event_sources.push(EventSource {
        name: source("eventbridge-old"),
        state: EventSourceState::Deleted,
        creation_time: 1_790_000_000,
        expiration_time: None,
        events: None,
    });
    sim.set_aws(account);
    let (old, gone) = (source("eventbridge-old"), source("never-created"));
    let aws = collector(
        &sim,
        &[&prod, &old, &gone],
        &[
            "--aws.rule",
            "genesys-to-sqs-orders",
            "--aws.rule",
            "genesys-to-kinesis",
        ],
    );
    let body = scrape(&aws).await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_aws_up", &[]),
        Some(1.0),
        "{body}"
    );
    let state = |s: &str, st: &str| state(&body, s, st);
    assert_eq!(state(&old, "DELETED"), Some(1.0));
    assert_eq!(state(&gone, "not_found"), Some(1.0));
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_missing",
            &rule(&prod, "genesys-to-kinesis")
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &body,
            "genesys_eventbridge_rule_missing",
            &rule(&prod, "genesys-to-sqs-orders")
        ),
        Some(0.0)
    );
    let watched = body
        .lines()
        .filter(|l| l.starts_with("genesys_eventbridge_rule_enabled{"))
        .count();
    assert_eq!(watched, 1, "only the named rules are watched");
}
