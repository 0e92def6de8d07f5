//! The EventBridge integrations listing over loopback HTTP: the request on
//! the wire, paging, lenient decoding, and every failure of the listing
//! leaving the analytics series and `genesys_eventbridge_up` alone.

mod common;

use std::time::{Duration, Instant};

use common::*;
use genesys_cloud_simulator::{Fault, INTEGRATIONS_PATH, SimConfig, Simulator, integration};
use serde_json::json;

const UP: &str = "genesys_eventbridge_up";
const INTEGRATIONS_UP: &str = "genesys_eventbridge_integrations_up";

async fn sim_with(integrations: Vec<serde_json::Value>) -> Simulator {
    simulator(SimConfig {
        integrations,
        ..sim_config(tutorial_rows())
    })
    .await
}

fn state(body: &str, id: &str, state: &str) -> Option<f64> {
    let name = body
        .lines()
        .find(|l| l.contains(&format!("integration_id=\"{id}\"")))
        .and_then(|l| l.split("name=\"").nth(1))
        .and_then(|n| n.split('"').next())
        .unwrap_or_default()
        .to_string();
    sample(
        body,
        "genesys_eventbridge_integration_state",
        &[("integration_id", id), ("name", &name), ("state", state)],
    )
}

fn listing_requests(sim: &Simulator) -> Vec<genesys_cloud_simulator::RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path.starts_with(INTEGRATIONS_PATH))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_is_paged_and_read_leniently() {
    let mut all: Vec<serde_json::Value> = (0..248)
        .map(|i| {
            integration(
                &format!("id-{i:03}"),
                &format!("bridge-{i:03}"),
                "ENABLED",
                "ACTIVE",
                None,
                "2026-11-02T08:15:30.000Z",
            )
        })
        .collect();
    let mut odd = integration(
        "id-odd",
        "odd",
        "ENABLED",
        "MAINTENANCE",
        None,
        "2026-11-02T08:15:30Z",
    );
    odd["unexpectedField"] = json!({"nested": [1, 2]});
    all.push(odd);
    let mut silent = integration("id-silent", "silent", "DISABLED", "ACTIVE", None, "x");
    silent.as_object_mut().unwrap().remove("reportedState");
    all.push(silent);
    // Listed twice (an offset page moved by a change mid-listing): one series.
    all.push(integration(
        "id-000",
        "bridge-000",
        "ENABLED",
        "ACTIVE",
        None,
        "2026-11-02T08:15:30.000Z",
    ));
    // Malformed: no id; intendedState of the wrong type.
    all.push(json!({"name": "no-id", "intendedState": "ENABLED", "integrationType": {"id": "amazon-eventbridge-source"}}));
    all.push(json!({"id": "bad", "intendedState": 7, "integrationType": {"id": "amazon-eventbridge-source"}}));
    let sim = sim_with(all).await;
    let exporter = exporter(&sim, &[]).await;
    let body = exporter.scrape().await;
    assert_eq!(sample(&body, UP, &[]), Some(1.0));
    assert_eq!(sample(&body, INTEGRATIONS_UP, &[]), Some(1.0), "{body}");

    let requests = listing_requests(&sim);
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        (1..=3)
            .map(|n| format!("/api/v2/integrations?integrationType=amazon-eventbridge-source&pageSize=100&pageNumber={n}"))
            .collect::<Vec<_>>(),
        "paged while pageNumber < pageCount"
    );
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert!(r.header("authorization").unwrap().starts_with("Bearer "));
    }
    assert_eq!(
        sim.token_requests(),
        1,
        "one token for the query and the listing"
    );

    assert_eq!(state(&body, "id-000", "ACTIVE"), Some(1.0));
    assert_eq!(state(&body, "id-247", "ERROR"), Some(0.0));
    assert_eq!(
        state(&body, "id-odd", "unknown"),
        Some(1.0),
        "an unknown code"
    );
    assert_eq!(state(&body, "id-odd", "ACTIVE"), Some(0.0));
    assert_eq!(
        state(&body, "id-silent", "unknown"),
        Some(1.0),
        "no reportedState"
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_integration_enabled",
            &[("integration_id", "id-silent"), ("name", "silent")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_integration_state_changed_timestamp_seconds",
            &[("integration_id", "id-000"), ("name", "bridge-000")]
        ),
        Some(1793607330.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", "invalid_integration")]
        ),
        Some(3.0)
    );
    // 250 integrations with 5 state series each, plus the one unknown state each.
    let states = body
        .lines()
        .filter(|l| l.starts_with("genesys_eventbridge_integration_state{"))
        .count();
    assert_eq!(states, 250 * 5 + 2, "one series per id and state");
    exporter.stop().await;
}

fn error(status: u16, code: &str, message: &str) -> Fault {
    Fault::Respond {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json!({"message": message, "code": code, "status": status, "contextId": "ctx"})
            .to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_is_asked_again_only_after_an_hour() {
    let sim = sim_with(genesys_cloud_simulator::demo_integrations()).await;
    sim.push_integrations_fault(error(403, "missing.permissions", "Unable to perform the requested action. You are missing the following permission(s): integrations:integration:view"));
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    for _ in 0..5 {
        let body = exporter.scrape().await;
        assert_eq!(sample(&body, UP, &[]), Some(1.0), "the query is unaffected");
        assert_eq!(sample(&body, INTEGRATIONS_UP, &[]), Some(0.0));
        assert!(body.contains("genesys_eventbridge_consumer_lag_seconds{"));
    }
    assert_eq!(sim.query_requests(), 5, "a query per scrape");
    assert_eq!(
        sim.integrations_requests(),
        1,
        "the 403 is not asked again within the hour"
    );
    let body = exporter.scrape().await;
    assert_eq!(api_requests(&body, "integrations", "403"), Some(1.0));
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_the_listing_starts_the_shared_cooldown() {
    let sim = sim_with(genesys_cloud_simulator::demo_integrations()).await;
    let mut fault = error(429, "too.many.requests.retry.after", "Rate limit exceeded");
    if let Fault::Respond { headers, .. } = &mut fault {
        headers.push(("Retry-After".into(), "30".into()));
    }
    sim.push_integrations_fault(fault);
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    let first = exporter.scrape().await;
    assert_eq!(sample(&first, UP, &[]), Some(1.0), "{first}");
    assert_eq!(sample(&first, INTEGRATIONS_UP, &[]), Some(0.0));
    let (queries, listings) = (sim.query_requests(), sim.integrations_requests());
    for _ in 0..5 {
        let body = exporter.scrape().await;
        assert_eq!(sample(&body, UP, &[]), Some(1.0));
        assert!(cooldown(&body) > 20.0);
        assert!(
            body.contains("genesys_eventbridge_consumer_lag_seconds{"),
            "last good data"
        );
    }
    assert_eq!(
        sim.query_requests(),
        queries,
        "no analytics request in the cooldown either"
    );
    assert_eq!(sim.integrations_requests(), listings);
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_gets_a_new_token_and_5xx_are_retried() {
    let sim = sim_with(genesys_cloud_simulator::demo_integrations()).await;
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    exporter.scrape().await;
    sim.revoke_tokens();
    let body = exporter.scrape().await;
    assert_eq!(sample(&body, INTEGRATIONS_UP, &[]), Some(1.0), "{body}");
    assert_eq!(sample(&body, UP, &[]), Some(1.0));
    assert_eq!(
        sim.token_requests(),
        2,
        "one new token, shared by the query and the listing"
    );

    let before = sim.integrations_requests();
    for _ in 0..2 {
        sim.push_integrations_fault(error(503, "service.unavailable", "try again"));
    }
    let body = exporter.scrape().await;
    assert_eq!(
        sample(&body, INTEGRATIONS_UP, &[]),
        Some(1.0),
        "retried past two 503s"
    );
    assert_eq!(sim.integrations_requests() - before, 3);
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_listing_keeps_within_the_budget_and_spares_the_query() {
    let sim = sim_with(genesys_cloud_simulator::demo_integrations()).await;
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    let good = exporter.scrape().await;
    assert_eq!(
        state(&good, "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d", "ERROR"),
        Some(1.0)
    );
    sim.push_integrations_fault(Fault::Hang);
    let started = Instant::now();
    let (status, _, body) = exporter
        .scrape_with(&[("X-Prometheus-Scrape-Timeout-Seconds", "3")])
        .await;
    assert_eq!(status, 200);
    // The query done, the scrape waits at most a second for the listing,
    // which goes on within the cycle's budget (2.3 s).
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sample(&body, UP, &[]), Some(1.0), "{body}");
    assert_eq!(
        sample(&body, INTEGRATIONS_UP, &[]),
        Some(1.0),
        "the latest listing that ended"
    );
    assert!(body.contains("genesys_eventbridge_consumer_lag_seconds{"));
    tokio::time::sleep(Duration::from_millis(2500).saturating_sub(started.elapsed())).await;
    let debug = get(exporter.url("/")).await.unwrap().text().await.unwrap();
    assert!(
        debug.contains("The latest listing of the EventBridge integrations failed."),
        "the hung listing ended within the cycle's budget: {debug}"
    );
    let body = exporter.scrape().await;
    assert_eq!(
        state(&body, "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d", "ERROR"),
        Some(1.0),
        "the last listing stays while it is younger than --cache.max-stale"
    );
    exporter.stop().await;
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_collector_nothing_is_listed() {
    let sim = sim_with(genesys_cloud_simulator::demo_integrations()).await;
    let exporter = exporter(&sim, &["--cache.ttl", "0s", "--no-collector.integrations"]).await;
    for _ in 0..3 {
        let body = exporter.scrape().await;
        assert_eq!(sample(&body, UP, &[]), Some(1.0));
        assert!(!body.contains("genesys_eventbridge_integration"), "{body}");
    }
    assert_eq!(sim.integrations_requests(), 0);
    exporter.stop().await;
}

/// The listing answering 5xx retries within the cycle's budget, but holds
/// no scrape for it: a scrape answers about a second after the query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_listing_holds_a_scrape_at_most_a_second_after_the_query() {
    let sim = sim_with(genesys_cloud_simulator::demo_integrations()).await;
    for _ in 0..200 {
        sim.push_integrations_fault(error(503, "service.unavailable", "try again"));
    }
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    let scrape = || async {
        let started = Instant::now();
        let (_, _, body) = exporter
            .scrape_with(&[("X-Prometheus-Scrape-Timeout-Seconds", "10")])
            .await;
        eprintln!(
            "a scrape with the listing answering 503: {:?}",
            started.elapsed()
        );
        (started.elapsed(), body)
    };
    let (took, body) = scrape().await;
    assert_eq!(sample(&body, UP, &[]), Some(1.0), "{body}");
    assert!(took < Duration::from_millis(1800), "{took:?}");
    // The cycle's listing goes on retrying within its budget (9.3 s) ...
    let listings = sim.integrations_requests();
    assert!(
        eventually(Duration::from_secs(4), || sim.integrations_requests()
            > listings)
        .await,
        "the listing went on retrying after the scrape answered"
    );
    // ... and a scrape that joins that cycle answers at once, with the
    // query's figures.
    let (took, body) = scrape().await;
    assert_eq!(sample(&body, UP, &[]), Some(1.0), "{body}");
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_eq!(sim.query_requests(), 1, "the cycle is still the first");
    exporter.stop().await;
}
