//! Shared test harness: a simulated Genesys Cloud and an exporter pointed at
//! it, both on loopback, and helpers to scrape and read samples; the
//! certificates of the TLS tests ([`pki`]), the outside tools some tests
//! need ([`tools`]), the runner of the tests with a `main` of their own
//! ([`runner`]) and the stderr of the real binary they start ([`stderr`]).
#![allow(dead_code)]

pub mod pki;
pub mod runner;
pub mod stderr;
pub mod tools;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use genesys_cloud_simulator::{RowSource, SimConfig, Simulator};
use genesys_eventbridge_exporter::app::{self, Running};
use genesys_eventbridge_exporter::config::{Cli, Config};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-6f1d2c";
pub const OPENMETRICS: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

/// The rows of the tutorial's realistic response.
pub fn tutorial_rows() -> Vec<Value> {
    vec![
        json!({"consumerGroup": "eventbridge-consumer-primary", "eventType": "conversation:created", "eventCount": 1450, "processingLatency": 240}),
        json!({"consumerGroup": "eventbridge-consumer-secondary", "eventType": "routing:queue:member:added", "eventCount": 890, "processingLatency": 180}),
    ]
}

pub fn sim_config(rows: Vec<Value>) -> SimConfig {
    SimConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        token_lifetime: Duration::from_secs(3600),
        rows: RowSource::Fixed(rows),
        rate_limit_per_minute: 100_000,
        query_path: "/api/v2/analytics/events/details/query".into(),
        integrations: genesys_cloud_simulator::demo_integrations(),
        // Derived from the client id; an AWS account holding nothing.
        organization_id: String::new(),
        aws: genesys_cloud_simulator::AwsAccount::default(),
    }
}

pub async fn simulator(config: SimConfig) -> Simulator {
    Simulator::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("simulator starts")
}

/// An exporter against `sim` with extra flags (after the defaults, so they win).
pub async fn exporter(sim: &Simulator, extra: &[&str]) -> Exporter {
    exporter_at(&sim.base_url(), extra).await
}

/// An exporter against whatever answers (or does not) at `base`.
pub async fn exporter_at(base: &str, extra: &[&str]) -> Exporter {
    Exporter::start(config_at(base, extra)).await
}

/// A demo-mode configuration on a loopback port, with extra flags; tests
/// change it (server limits, say) before starting an [`Exporter`].
pub fn demo_config(extra: &[&str]) -> Config {
    let mut args = vec![
        "genesys-eventbridge-exporter",
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).expect("flags parse");
    Config::from_cli(cli, None).expect("config is valid")
}

/// The configuration [`exporter`] starts with.
pub fn config(sim: &Simulator, extra: &[&str]) -> Config {
    config_at(&sim.base_url(), extra)
}

/// The configuration of an exporter against `base`.
pub fn config_at(base: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "genesys-eventbridge-exporter",
        "--web.listen-address",
        "127.0.0.1:0",
        "--genesys.api-url",
        base,
        "--genesys.client-id",
        CLIENT_ID,
    ];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).expect("flags parse");
    Config::from_cli(cli, Some(CLIENT_SECRET.into())).expect("config is valid")
}

pub struct Exporter {
    pub running: Running,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

impl Exporter {
    /// Starts `config` without the first cycle at start, so that the
    /// first scrape sends the first requests (tests count them, and queue
    /// faults for them after starting).
    pub async fn start(mut config: Config) -> Exporter {
        config.first_cycle_at_start = false;
        Exporter::start_as_configured(config).await
    }

    /// Starts `config` as the binary would: each organisation's first
    /// cycle runs at start.
    pub async fn start_as_configured(config: Config) -> Exporter {
        let running = app::start(config).await.expect("exporter starts");
        let addr = running.addresses[0];
        Exporter {
            running,
            addr,
            http: http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Scrapes the telemetry path in text format; panics unless it answers 200.
    pub async fn scrape(&self) -> String {
        self.scrape_with(&[]).await.2
    }

    /// Scrapes with extra headers; returns status, content type and body.
    pub async fn scrape_with(&self, headers: &[(&str, &str)]) -> (u16, String, String) {
        let mut req = self.http.get(self.url("/metrics"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("scrape answers");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "scrape status; body:\n{body}");
        (status, ctype, body)
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// A plain HTTP client for talking to the exporter (reqwest is built without
/// a bundled crypto provider, so one is installed first).
/// A loopback port free a moment ago, for a process the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// GET a URL with [`http_client`].
pub async fn get(url: impl AsRef<str>) -> reqwest::Result<reqwest::Response> {
    http_client().get(url.as_ref()).send().await
}

fn escape_label(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// The value of the sample `name{labels}` in a text exposition, if present.
pub fn sample(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut prefix = name.to_string();
    if !labels.is_empty() {
        let inner: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
            .collect();
        prefix.push('{');
        prefix.push_str(&inner.join(","));
        prefix.push('}');
    }
    prefix.push(' ');
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.split_whitespace().next().unwrap().parse().unwrap())
}

/// `genesys_eventbridge_query_failures_total{reason}` in a text exposition.
pub fn failures(body: &str, reason: &str) -> Option<f64> {
    sample(
        body,
        "genesys_eventbridge_query_failures_total",
        &[("reason", reason)],
    )
}

/// `genesys_eventbridge_rate_limit_cooldown_seconds` in a text exposition.
pub fn cooldown(body: &str) -> f64 {
    sample(body, "genesys_eventbridge_rate_limit_cooldown_seconds", &[])
        .expect("the cooldown is exported")
}

/// `genesys_eventbridge_api_requests_total{endpoint,code}` in a text exposition.
pub fn api_requests(body: &str, endpoint: &str, code: &str) -> Option<f64> {
    sample(
        body,
        "genesys_eventbridge_api_requests_total",
        &[("endpoint", endpoint), ("code", code)],
    )
}

/// The header value of a recorded request.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Polls `check` every 50 ms for up to `limit`.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}
