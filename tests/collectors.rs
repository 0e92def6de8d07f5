//! Collectors turned on and off (`--collector.NAME`, the file's
//! `collectors:`), and the analytics query answered 404, over loopback HTTP
//! against the simulated Genesys Cloud: a collector that is off sends no
//! request and exports none of its series; a 404 is counted as `not_found`
//! and the query is then held back.

mod common;

use common::*;
use genesys_cloud_simulator::{Fault, SimConfig, Simulator};
use serde_json::json;

async fn sim() -> Simulator {
    simulator(SimConfig {
        integrations: genesys_cloud_simulator::demo_integrations(),
        ..sim_config(tutorial_rows())
    })
    .await
}

/// The analytics collector's families, none of which may show when it is off.
const ANALYTICS: [&str; 9] = [
    "genesys_eventbridge_up ",
    "genesys_eventbridge_last_success_timestamp_seconds",
    "genesys_eventbridge_data_age_seconds",
    "genesys_eventbridge_query_duration_seconds",
    "genesys_eventbridge_query_pages",
    "genesys_eventbridge_queries_total",
    "genesys_eventbridge_query_failures_total",
    "genesys_eventbridge_consumer_",
    "genesys_eventbridge_events{",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_analytics_collector_no_query_is_sent_and_none_of_its_series_shows() {
    let sim = sim().await;
    let exporter = exporter(&sim, &["--cache.ttl", "0s", "--no-collector.analytics"]).await;
    for _ in 0..3 {
        let body = exporter.scrape().await;
        for family in ANALYTICS {
            assert!(!body.contains(family), "{family} in:\n{body}");
        }
        assert_eq!(
            sample(&body, "genesys_eventbridge_integrations_up", &[]),
            Some(1.0),
            "the other collector runs"
        );
        // Only the reasons of a collector that runs are declared.
        assert!(
            body.contains(
                "genesys_eventbridge_invalid_rows_total{reason=\"invalid_integration\"} 0"
            )
        );
        assert!(!body.contains("reason=\"missing_field\""), "{body}");
    }
    assert_eq!(sim.query_requests(), 0);
    assert_eq!(sim.integrations_requests(), 3);
    assert_eq!(sim.token_requests(), 1);
    let landing = get(exporter.url("/")).await.unwrap().text().await.unwrap();
    assert!(landing.contains("The analytics query is off"), "{landing}");
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_collector_off_nothing_is_sent() {
    let sim = sim().await;
    let exporter = exporter(
        &sim,
        &[
            "--cache.ttl",
            "0s",
            "--no-collector.analytics",
            "--no-collector.integrations",
        ],
    )
    .await;
    for _ in 0..3 {
        let body = exporter.scrape().await;
        assert!(!body.contains("genesys_eventbridge_up "), "{body}");
        assert!(
            !body.contains("genesys_eventbridge_integrations_up"),
            "{body}"
        );
        assert_eq!(cooldown(&body), 0.0);
    }
    assert_eq!(
        (
            sim.token_requests(),
            sim.query_requests(),
            sim.integrations_requests()
        ),
        (0, 0, 0),
        "not even a token"
    );
    exporter.stop().await;
}

fn not_found() -> Fault {
    Fault::Respond {
        status: 404,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json!({"message": "Resource not found", "code": "not.found", "status": 404, "contextId": "ctx"})
            .to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_on_the_query_counts_as_not_found_and_holds_the_query_back() {
    let sim = sim().await;
    sim.push_query_fault(not_found());
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    for _ in 0..5 {
        let body = exporter.scrape().await;
        assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
        assert_eq!(failures(&body, "not_found"), Some(1.0), "{body}");
        assert_eq!(failures(&body, "bad_request"), Some(0.0));
        assert_eq!(api_requests(&body, "query", "404"), Some(1.0));
        assert_eq!(
            sample(&body, "genesys_eventbridge_integrations_up", &[]),
            Some(1.0),
            "the listing goes on"
        );
    }
    assert_eq!(sim.query_requests(), 1, "not asked again within the hour");
    assert_eq!(sim.integrations_requests(), 5);
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_on_the_token_endpoint_is_not_found_and_does_not_hold_the_query_back() {
    let sim = sim().await;
    sim.push_token_fault(not_found());
    let exporter = exporter(&sim, &["--cache.ttl", "0s"]).await;
    let body = exporter.scrape().await;
    assert_eq!(failures(&body, "not_found"), Some(1.0), "{body}");
    let body = exporter.scrape().await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_up", &[]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(sim.query_requests(), 1);
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_of_the_file_turns_its_collectors_off_with_collectors() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), format!("{CLIENT_SECRET}\n")).unwrap();
    let path = dir.path().join("config.yml");
    let entry = |name: &str, collectors: &str| {
        format!(
            "  - name: {name}\n    api_url: {}\n    client_id: {CLIENT_ID}\n    client_secret_file: secret\n    collectors: {collectors}\n",
            sim.base_url()
        )
    };
    let text = format!(
        "organizations:\n{}{}",
        entry("no-analytics", "{analytics: false}"),
        entry("no-listing", "{integrations: false}")
    );
    std::fs::write(&path, text).unwrap();
    let args = [
        "genesys-eventbridge-exporter",
        "--web.listen-address",
        "127.0.0.1:0",
        "--config.file",
        path.to_str().unwrap(),
    ];
    let config = genesys_eventbridge_exporter::config::Config::from_cli(
        <genesys_eventbridge_exporter::config::Cli as clap::Parser>::try_parse_from(args).unwrap(),
        None,
    )
    .expect("config is valid");
    let exporter = Exporter::start(config).await;
    let probe = |target: &'static str| {
        let url = exporter.url(&format!("/probe?target={target}"));
        async move { get(url).await.unwrap().text().await.unwrap() }
    };
    let body = probe("no-analytics").await;
    assert!(!body.contains("genesys_eventbridge_up "), "{body}");
    assert_eq!(
        sample(&body, "genesys_eventbridge_integrations_up", &[]),
        Some(1.0)
    );
    assert_eq!(sim.query_requests(), 0);
    let body = probe("no-listing").await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_up", &[]),
        Some(1.0),
        "{body}"
    );
    assert!(
        !body.contains("genesys_eventbridge_integrations_up"),
        "{body}"
    );
    assert_eq!((sim.query_requests(), sim.integrations_requests()), (1, 1));
    exporter.stop().await;
}
