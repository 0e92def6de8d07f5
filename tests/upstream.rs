//! The exporter against a simulated Genesys Cloud over loopback HTTP: the
//! requests it sends, the figures it derives, tokens, paging, errors, cache.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use genesys_cloud_simulator::{Fault, PagingMode, Simulator};
use serde_json::{Value, json};

const PRIMARY: &str = "eventbridge-consumer-primary";
const SECONDARY: &str = "eventbridge-consumer-secondary";

fn ms_utc(text: &str) -> i128 {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::PrimitiveDateTime::parse(text, &format)
        .unwrap_or_else(|e| panic!("{text:?} is not RFC 3339 UTC with milliseconds: {e}"))
        .assume_utc()
        .unix_timestamp_nanos()
        / 1_000_000
}

#[tokio::test]
async fn the_request_matches_the_tutorial_field_by_field() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(
        &sim,
        &[
            "--consumer-group",
            PRIMARY,
            "--consumer-group",
            SECONDARY,
            "--consumer-group",
            "o'brien\\x",
        ],
    )
    .await;
    exp.scrape().await;

    let requests = analytics_requests(&sim);
    assert_eq!(requests.len(), 2, "one token request, one query");
    let token = &requests[0];
    assert_eq!(
        (token.method.as_str(), token.path.as_str()),
        ("POST", "/oauth/token")
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(
        header(&token.headers, "authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        header(&token.headers, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(token.body, b"grant_type=client_credentials");

    let query = &requests[1];
    assert_eq!(
        (query.method.as_str(), query.path.as_str()),
        ("POST", "/api/v2/analytics/events/details/query")
    );
    let auth = header(&query.headers, "authorization").unwrap();
    assert!(auth.starts_with("Bearer ") && auth.len() > 10, "{auth}");
    assert_eq!(
        header(&query.headers, "content-type"),
        Some("application/json")
    );
    let body: Value = serde_json::from_slice(&query.body).unwrap();
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = fields.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "dateFrom",
            "dateTo",
            "filter",
            "groupings",
            "interval",
            "metrics",
            "pageSize"
        ]
    );
    let (from, to) = (
        body["dateFrom"].as_str().unwrap(),
        body["dateTo"].as_str().unwrap(),
    );
    assert_eq!(ms_utc(to) - ms_utc(from), 3_600_000);
    assert_eq!(body["interval"], "PT1H");
    assert_eq!(body["metrics"], json!(["eventCount", "processingLatency"]));
    assert_eq!(body["groupings"], json!(["consumerGroup", "eventType"]));
    assert_eq!(
        body["filter"],
        r"consumerGroup IN ['eventbridge-consumer-primary', 'eventbridge-consumer-secondary', 'o\'brien\\x']"
    );
    assert_eq!(body["pageSize"], 50);
    exp.stop().await;
}

#[tokio::test]
async fn the_tutorial_response_gives_the_documented_figures() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &[]).await;
    let body = exp.scrape().await;
    let row = |g, t| [("consumer_group", g), ("event_type", t)];
    let group = |g| [("consumer_group", g)];
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_events",
            &row(PRIMARY, "conversation:created")
        ),
        Some(1450.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_event_processing_latency_seconds",
            &row(PRIMARY, "conversation:created")
        ),
        Some(0.24)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_lag_seconds",
            &group(PRIMARY)
        ),
        Some(0.24)
    );
    let throughput = sample(
        &body,
        "genesys_eventbridge_consumer_throughput_events_per_second",
        &group(PRIMARY),
    )
    .unwrap();
    assert!((throughput - 1450.0 / 3600.0).abs() < 1e-12, "{throughput}");
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_events",
            &row(SECONDARY, "routing:queue:member:added")
        ),
        Some(890.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_lag_seconds",
            &group(SECONDARY)
        ),
        Some(0.18)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_threshold_exceeded",
            &group(SECONDARY)
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_lag_threshold_seconds",
            &group(SECONDARY)
        ),
        Some(30.0)
    );
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert_eq!(
        sample(&body, "genesys_eventbridge_query_pages", &[]),
        Some(1.0)
    );
    exp.stop().await;
}

#[tokio::test]
async fn the_token_is_refreshed_ahead_of_expiry_not_per_scrape() {
    let mut config = sim_config(tutorial_rows());
    config.token_lifetime = Duration::from_secs(5);
    let sim = simulator(config).await;
    let exp = exporter(&sim, &["--cache.ttl", "0s"]).await;
    exp.scrape().await;
    exp.scrape().await;
    assert_eq!(sim.token_requests(), 1, "a valid token is reused");
    // Refresh is due 0.5 s before the 5 s lifetime ends.
    tokio::time::sleep(Duration::from_millis(4600)).await;
    let body = exp.scrape().await;
    assert_eq!(sim.token_requests(), 2);
    assert_eq!(
        sim.query_requests(),
        3,
        "no query was refused for an expired token"
    );
    assert_eq!(
        sample(&body, "genesys_eventbridge_token_requests_total", &[]),
        Some(2.0)
    );
    assert!(
        sample(
            &body,
            "genesys_eventbridge_token_expiry_timestamp_seconds",
            &[]
        )
        .unwrap()
            > 1.7e9
    );
    exp.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_and_the_query_retried_once() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "0s"]).await;
    exp.scrape().await;
    sim.revoke_tokens();
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert_eq!(sim.token_requests(), 2);
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_api_requests_total",
            &[("endpoint", "query"), ("code", "401")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_api_requests_total",
            &[("endpoint", "query"), ("code", "200")]
        ),
        Some(2.0)
    );
    exp.stop().await;
}

#[tokio::test]
async fn a_refused_client_is_not_retried_and_says_unauthorized() {
    let mut config = sim_config(tutorial_rows());
    config.client_secret = "another-secret".into();
    let sim = simulator(config).await;
    let exp = exporter(&sim, &["--cache.ttl", "0s"]).await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert_eq!(failures(&body, "unauthorized"), Some(1.0));
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.query_requests(), 0);
    exp.stop().await;
}

#[tokio::test]
async fn a_rotated_secret_file_is_used_without_a_restart() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("client-secret");
    std::fs::write(&file, "the-old-secret\n").unwrap();
    let exp = exporter(
        &sim,
        &[
            "--cache.ttl",
            "0s",
            "--genesys.client-secret-file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert_eq!(failures(&body, "unauthorized"), Some(1.0));

    // The operator writes the new secret; the next token request reads it.
    std::fs::write(&file, format!("{CLIENT_SECRET}\n")).unwrap();
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert_eq!(sim.token_requests(), 2);
    assert_eq!(sim.query_requests(), 1);
    exp.stop().await;
}

#[tokio::test]
async fn fifty_parallel_scrapes_share_one_token_request_and_one_query() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    sim.push_query_fault(Fault::Delay(Duration::from_millis(300)));
    let exp = std::sync::Arc::new(exporter(&sim, &[]).await);
    let scrapes: Vec<_> = (0..50)
        .map(|_| {
            let exp = exp.clone();
            tokio::spawn(async move { exp.scrape().await })
        })
        .collect();
    for s in scrapes {
        let body = s.await.unwrap();
        assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    }
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.query_requests(), 1);
}

fn many_rows(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"consumerGroup": format!("g{}", i % 3), "eventType": format!("t{i}"), "eventCount": 10 * i, "processingLatency": 100 + i}))
        .collect()
}

#[tokio::test]
async fn pages_are_followed_to_the_end() {
    let sim = simulator(sim_config(many_rows(7))).await;
    let exp = exporter(&sim, &["--query.page-size", "3"]).await;
    let body = exp.scrape().await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_query_pages", &[]),
        Some(3.0)
    );
    assert_eq!(sim.query_requests(), 3);
    for i in 0..7 {
        let labels = [
            ("consumer_group", format!("g{}", i % 3)),
            ("event_type", format!("t{i}")),
        ];
        let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            sample(&body, "genesys_eventbridge_events", &labels),
            Some(10.0 * i as f64)
        );
    }
    // Each later page repeats the first body with the previous page's token.
    let bodies: Vec<Value> = analytics_requests(&sim)
        .iter()
        .skip(1)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(bodies[0].get("pageToken").is_none());
    assert!(bodies[1]["pageToken"].is_string() && bodies[2]["pageToken"].is_string());
    assert_eq!(bodies[1]["dateFrom"], bodies[0]["dateFrom"]);
    exp.stop().await;
}

#[tokio::test]
async fn a_repeating_page_token_stops_with_reason_pagination() {
    let sim = simulator(sim_config(many_rows(7))).await;
    sim.set_paging(PagingMode::RepeatToken);
    let exp = exporter(&sim, &["--query.page-size", "3"]).await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert_eq!(failures(&body, "pagination"), Some(1.0));
    assert_eq!(sim.query_requests(), 2, "stopped at the first repeat");
    exp.stop().await;
}

#[tokio::test]
async fn endless_paging_stops_at_max_pages() {
    let sim = simulator(sim_config(many_rows(7))).await;
    sim.set_paging(PagingMode::Endless);
    let exp = exporter(&sim, &["--query.page-size", "3", "--query.max-pages", "5"]).await;
    let body = exp.scrape().await;
    assert_eq!(failures(&body, "pagination"), Some(1.0));
    assert_eq!(sim.query_requests(), 5);
    exp.stop().await;
}

fn too_many_requests(retry_after: Option<&str>) -> Fault {
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let Some(r) = retry_after {
        headers.push(("Retry-After".to_string(), r.to_string()));
    }
    Fault::Respond {
        status: 429,
        headers,
        body: r#"{"message":"Rate limit exceeded the maximum. Retry the request in [3] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"c0ffee","details":[],"errors":[]}"#.into(),
    }
}

#[tokio::test]
async fn a_429_stops_all_requests_until_retry_after_has_passed() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "0s"]).await;
    exp.scrape().await;
    sim.push_query_fault(too_many_requests(Some("3")));
    let body = exp.scrape().await;
    let limited_at = std::time::Instant::now();
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert_eq!(failures(&body, "rate_limited"), Some(1.0));
    assert!(
        sample(
            &body,
            "genesys_eventbridge_rate_limit_cooldown_seconds",
            &[]
        )
        .unwrap()
            > 2.0
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_events",
            &[
                ("consumer_group", PRIMARY),
                ("event_type", "conversation:created")
            ]
        ),
        Some(1450.0),
        "the last good data is still served"
    );
    let sent = analytics_requests(&sim).len();
    while limited_at.elapsed() < Duration::from_millis(2500) {
        let body = exp.scrape().await;
        assert!(
            sample(
                &body,
                "genesys_eventbridge_rate_limit_cooldown_seconds",
                &[]
            )
            .unwrap()
                > 0.0
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        analytics_requests(&sim).len(),
        sent,
        "no request during the cooldown"
    );
    tokio::time::sleep(Duration::from_millis(3200).saturating_sub(limited_at.elapsed())).await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_rate_limit_cooldown_seconds",
            &[]
        ),
        Some(0.0)
    );
    assert_eq!(analytics_requests(&sim).len(), sent + 1);
    exp.stop().await;
}

#[tokio::test]
async fn two_503s_then_a_200_succeed_within_the_budget() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    for _ in 0..2 {
        sim.push_query_fault(Fault::Respond {
            status: 503,
            headers: vec![],
            body: r#"{"message":"Service Unavailable","code":"service.unavailable","status":503,"contextId":"x"}"#.into(),
        });
    }
    let exp = exporter(&sim, &[]).await;
    let (_, _, body) = exp
        .scrape_with(&[("X-Prometheus-Scrape-Timeout-Seconds", "10")])
        .await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_api_requests_total",
            &[("endpoint", "query"), ("code", "503")]
        ),
        Some(2.0)
    );
    assert_eq!(sim.query_requests(), 3);
    exp.stop().await;
}

#[tokio::test]
async fn a_forbidden_query_is_not_retried() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    sim.push_query_fault(Fault::Respond {
        status: 403,
        headers: vec![],
        body: r#"{"message":"Missing permission analytics:events:read","code":"missing.any.permissions","status":403,"contextId":"y"}"#.into(),
    });
    let exp = exporter(&sim, &[]).await;
    let body = exp.scrape().await;
    assert_eq!(failures(&body, "forbidden"), Some(1.0));
    assert_eq!(sim.query_requests(), 1);
    exp.stop().await;
}

#[tokio::test]
async fn the_ttl_is_respected() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "60s"]).await;
    for _ in 0..5 {
        exp.scrape().await;
    }
    assert_eq!(sim.query_requests(), 1);
    let body = exp.scrape().await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_queries_total", &[]),
        Some(1.0)
    );
    exp.stop().await;
}

#[tokio::test]
async fn data_older_than_max_stale_is_not_exported_but_its_age_is_and_up_is_0() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "0s", "--cache.max-stale", "1s"]).await;
    let body = exp.scrape().await;
    assert!(body.contains("genesys_eventbridge_consumer_lag_seconds{"));
    for _ in 0..3 {
        sim.push_query_fault(Fault::Respond {
            status: 400,
            headers: vec![],
            body: r#"{"message":"bad","code":"bad.request","status":400}"#.into(),
        });
    }
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert!(
        body.contains("genesys_eventbridge_consumer_lag_seconds{"),
        "still fresh enough"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert!(
        !body.contains("consumer_group="),
        "no per-group series once stale:\n{body}"
    );
    // The age goes on being exported past max-stale (contract section 4), so
    // that an alert on stale data can fire however old the data gets.
    let age = sample(&body, "genesys_eventbridge_data_age_seconds", &[]).expect("data age");
    assert!(age > 1.0, "the age grows past max-stale: {age}\n{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = exp.scrape().await;
    let grown = sample(&later, "genesys_eventbridge_data_age_seconds", &[]).expect("data age");
    assert!(grown >= age + 0.4, "it keeps growing: {age} then {grown}");
    assert!(
        sample(
            &later,
            "genesys_eventbridge_last_success_timestamp_seconds",
            &[]
        )
        .is_some()
    );
    assert_eq!(failures(&body, "bad_request"), Some(2.0));
    exp.stop().await;
}

#[tokio::test]
async fn invalid_rows_are_counted_by_reason_and_the_rest_kept() {
    let mut rows = tutorial_rows();
    rows.push(
        json!({"consumerGroup": "g", "eventType": "a", "eventCount": "12", "processingLatency": 5}),
    );
    rows.push(json!({"consumerGroup": "g", "eventType": "b", "eventCount": 12, "processingLatency": null}));
    rows.push(json!({"eventType": "c", "eventCount": 12, "processingLatency": 5}));
    let sim = simulator(sim_config(rows)).await;
    let exp = exporter(&sim, &[]).await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", "wrong_type")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", "null_field")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", "missing_field")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_lag_seconds",
            &[("consumer_group", PRIMARY)]
        ),
        Some(0.24)
    );
    assert!(
        !body.contains("consumer_group=\"g\""),
        "group g had only invalid rows"
    );
    exp.stop().await;
}

#[tokio::test]
async fn a_configured_group_without_rows_is_missing() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(
        &sim,
        &[
            "--consumer-group",
            PRIMARY,
            "--consumer-group",
            "eventbridge-consumer-audit",
        ],
    )
    .await;
    let body = exp.scrape().await;
    let missing = |g| {
        sample(
            &body,
            "genesys_eventbridge_consumer_group_missing",
            &[("consumer_group", g)],
        )
    };
    assert_eq!(missing("eventbridge-consumer-audit"), Some(1.0));
    assert_eq!(missing(PRIMARY), Some(0.0));
    assert_eq!(missing(SECONDARY), None, "filtered out upstream");
    exp.stop().await;
}

/// The requests of the token endpoint and the analytics query, in order:
/// the integrations listing that goes alongside has tests of its own.
fn analytics_requests(sim: &Simulator) -> Vec<genesys_cloud_simulator::RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| {
            !r.path
                .starts_with(genesys_cloud_simulator::INTEGRATIONS_PATH)
        })
        .collect()
}

/// Scrapes `/metrics` as Prometheus does: on a fixed schedule every
/// `interval` from `offset` (a late scrape does not move the next), with
/// its timeout header, its `Accept` and gzip. Returns the data age each
/// scrape was served.
async fn prometheus_like(exp: &Exporter, interval: Duration, offset: Duration, n: u32) -> Vec<f64> {
    let start = tokio::time::Instant::now() + offset;
    let mut ages = Vec::new();
    for k in 0..n {
        tokio::time::sleep_until(start + interval * k).await;
        let (_, _, body) = exp
            .scrape_with(&[
                ("X-Prometheus-Scrape-Timeout-Seconds", "10"),
                ("Accept", OPENMETRICS),
                ("Accept-Encoding", "gzip"),
            ])
            .await;
        ages.push(sample(&body, "genesys_eventbridge_data_age_seconds", &[]).unwrap_or(f64::NAN));
    }
    ages
}

/// The TTL of the Prometheus-like cases: its slack (300 ms) absorbs the
/// scheduling jitter of a loaded machine.
const TTL: Duration = Duration::from_secs(3);

#[tokio::test]
async fn scrapes_every_ttl_cause_one_query_per_scrape() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "3s"]).await;
    let ages = prometheus_like(&exp, TTL, Duration::ZERO, 4).await;
    assert_eq!(
        sim.query_requests(),
        4,
        "one query per scrape; ages {ages:?}"
    );
    assert!(
        ages.iter().all(|a| *a < 1.0),
        "fresh data at every scrape: {ages:?}"
    );
    exp.stop().await;
}

#[tokio::test]
async fn scrapes_every_half_ttl_cause_one_query_every_other_scrape() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "3s"]).await;
    let ages = prometheus_like(&exp, TTL / 2, Duration::ZERO, 6).await;
    assert_eq!(sim.query_requests(), 3, "ages {ages:?}");
    assert!(
        ages.iter().all(|a| *a < TTL.as_secs_f64()),
        "data never older than the TTL: {ages:?}"
    );
    exp.stop().await;
}

#[tokio::test]
async fn two_scrapers_at_different_offsets_share_one_query_per_ttl() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--cache.ttl", "3s"]).await;
    let (a, b) = tokio::join!(
        prometheus_like(&exp, TTL, Duration::ZERO, 3),
        prometheus_like(&exp, TTL, Duration::from_millis(1100), 3),
    );
    assert_eq!(sim.query_requests(), 3, "ages {a:?} and {b:?}");
    assert!(
        a.iter().all(|a| *a < 1.0),
        "the first scraper queries: {a:?}"
    );
    assert!(
        b.iter().all(|b| (1.0..2.0).contains(b)),
        "the second is served the first's data: {b:?}"
    );
    exp.stop().await;
}
