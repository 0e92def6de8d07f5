//! Upstream faults survived. Each case runs the exporter (in process, or the
//! real binary) against the fault-injecting simulator over loopback HTTP and
//! proves that `/metrics` answers 200 within Prometheus' scrape timeout, that
//! `genesys_eventbridge_up` and the failure `reason` tell the truth, that the
//! requests sent upstream stay within a stated bound, and that the exporter
//! recovers on its own once upstream heals (measured, and bounded).
//!
//! The cases spend most of their time waiting, so they run concurrently on
//! the runner of `tests/common/runner.rs`, which `tests/hostile.rs` shares:
//! the whole run takes about as long as its longest case.
//!
//! Every case records what it measured as one JSON file under
//! `$RELIABILITY_DIR` (default `<target dir>/reliability`);
//! `scripts/reliability-report` turns them into `docs/reliability.md`, and
//! `scripts/reliability-report --check` fails when that page no longer
//! matches the cases, bounds and outcomes measured here.

mod common;
#[path = "reliability/orgs.rs"]
mod orgs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::runner::{self, Case, CaseFuture, Outcome, Outcome::*, Rows, Suite, stalled};
use common::*;
use genesys_cloud_simulator::{
    DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, Fault, PagingMode, Simulator,
};
use genesys_eventbridge_exporter::budget::query_budget;
use genesys_eventbridge_exporter::collectors::analytics::{MAX_PAGE_ROWS, MAX_QUERY_ROWS};
use genesys_eventbridge_exporter::genesys::{MAX_BODY_BYTES, MAX_QUERY_BYTES, max_attempts};
use serde_json::{Value, json};

/// Sent as `X-Prometheus-Scrape-Timeout-Seconds`: the budget is 0.5 s less.
const PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(3);
const BUDGET: Duration = Duration::from_millis(2500);
/// How often a case scrapes while it watches a fault or waits for recovery.
const INTERVAL: Duration = Duration::from_millis(100);
/// Recovery when nothing holds the exporter back: the next scrape queries
/// again and succeeds. One second covers the probe interval with room for a
/// loaded machine.
const NEXT_SCRAPE: Duration = Duration::from_secs(2);

const PRIMARY: &str = "eventbridge-consumer-primary";
const REASONS: [&str; 9] = [
    "rate_limited",
    "unauthorized",
    "forbidden",
    "bad_request",
    "http",
    "timeout",
    "connect",
    "decode",
    "pagination",
];
const INVALID: [&str; 5] = [
    "not_object",
    "missing_field",
    "null_field",
    "wrong_type",
    "invalid_value",
];

// ---------------------------------------------------------------------------
// What a case reports.

/// One line of `docs/reliability.md`. `bound`, `served` and
/// `recovery_bound` are asserted and must match the page exactly; the
/// measured columns vary from run to run within those bounds.
#[derive(Default)]
struct Row {
    measured: String,
    bound: String,
    served: String,
    recovery: Option<Duration>,
    recovery_bound: Option<Duration>,
    slowest: Slowest,
}

/// The slowest scrape of a case: its wall time, and that time less the
/// time the machine did not run this test at all (see [`stalled`](fn@stalled)).
#[derive(Default, Clone, Copy)]
struct Slowest {
    own: Duration,
    wall: Duration,
}

/// No scrape may take longer than this, stalls or not.
const WALL_LIMIT: Duration = Duration::from_secs(10);

impl runner::Row for Row {
    fn summary(&self) -> String {
        format!(
            "{}; recovery {}; slowest scrape {}",
            self.measured,
            self.recovery.map_or("—".into(), secs),
            secs(self.slowest.own)
        )
    }
    fn fields(&self) -> Value {
        json!({
            "measured": self.measured,
            "bound": self.bound,
            "served": self.served,
            "recovery_s": duration_text(self.recovery),
            "recovery_bound_s": duration_text(self.recovery_bound),
            "slowest_scrape_s": duration_text(Some(self.slowest.own)),
            "slowest_scrape_wall_s": duration_text(Some(self.slowest.wall)),
        })
    }
}

fn duration_text(d: Option<Duration>) -> Value {
    d.map_or(Value::Null, |d| {
        json!((d.as_secs_f64() * 100.0).round() / 100.0)
    })
}

// ---------------------------------------------------------------------------
// Scraping and reading the answer.

struct Scrape {
    body: String,
    /// Wall time, less the stall during it.
    took: Duration,
    wall: Duration,
}

impl Scrape {
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        sample(&self.body, name, labels)
    }
    fn up(&self) -> f64 {
        self.get("genesys_eventbridge_up", &[])
            .expect("up is exported")
    }
    fn failures(&self, reason: &str) -> f64 {
        self.get(
            "genesys_eventbridge_query_failures_total",
            &[("reason", reason)],
        )
        .expect("every reason is exported")
    }
    fn invalid(&self, reason: &str) -> f64 {
        self.get(
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", reason)],
        )
        .expect("every invalid-row reason is exported")
    }
    fn cooldown(&self) -> f64 {
        self.get("genesys_eventbridge_rate_limit_cooldown_seconds", &[])
            .expect("cooldown is exported")
    }
    fn requests(&self, endpoint: &str, code: &str) -> f64 {
        self.get(
            "genesys_eventbridge_api_requests_total",
            &[("endpoint", endpoint), ("code", code)],
        )
        .unwrap_or(0.0)
    }
    fn token_requests(&self) -> f64 {
        self.get("genesys_eventbridge_token_requests_total", &[])
            .expect("token requests are exported")
    }
    fn has_data(&self) -> bool {
        self.body
            .contains("genesys_eventbridge_consumer_lag_seconds{")
    }
    fn aws_up(&self) -> f64 {
        self.get("genesys_eventbridge_aws_up", &[])
            .expect("aws_up is exported")
    }
    /// The delivery path's figures are served (fresh or the last good ones).
    fn has_aws_data(&self) -> bool {
        self.body.contains("genesys_eventbridge_rule_invocations{")
    }
    fn aws_requests(&self, operation: &str, code: &str) -> f64 {
        let service = if operation == "GetMetricData" {
            "cloudwatch"
        } else {
            "eventbridge"
        };
        self.get(
            "genesys_eventbridge_aws_requests_total",
            &[
                ("service", service),
                ("operation", operation),
                ("code", code),
            ],
        )
        .unwrap_or(0.0)
    }
    fn group_missing(&self) -> bool {
        self.get(
            "genesys_eventbridge_consumer_group_missing",
            &[("consumer_group", PRIMARY)],
        ) == Some(1.0)
    }
}

/// What a scrape served, as the page states it: `up`, the failure reasons
/// counted since `before`, and which data.
fn served(before: &Scrape, after: &Scrape) -> String {
    let mut parts = vec![format!("up {}", after.up())];
    let reasons: Vec<String> = REASONS
        .iter()
        .filter(|r| after.failures(r) > before.failures(r))
        .map(|r| format!("`{r}`"))
        .collect();
    if !reasons.is_empty() {
        parts.push(format!("reason {}", reasons.join(" + ")));
    }
    parts.push(
        match (after.up() == 1.0, after.has_data()) {
            (true, _) if after.group_missing() => "fresh data, configured group missing",
            (true, _) => "fresh data",
            (false, true) => "last good data",
            (false, false) => "no per-group series",
        }
        .into(),
    );
    let invalid: Vec<String> = INVALID
        .iter()
        .filter_map(|r| {
            let n = after.invalid(r) - before.invalid(r);
            (n > 0.0).then(|| format!("`{r}` +{n}"))
        })
        .collect();
    if !invalid.is_empty() {
        parts.push(format!("invalid rows {}", invalid.join(", ")));
    }
    if after.cooldown() > 0.0 {
        parts.push("cooldown counting down".into());
    }
    parts.join(", ")
}

/// Scrapes one exporter as Prometheus would, keeping the slowest answer.
struct Probe {
    url: String,
    http: reqwest::Client,
    slowest: Slowest,
}

impl Probe {
    fn new(exp: &Exporter) -> Probe {
        Probe::at(&exp.url("/metrics"))
    }

    fn at(url: &str) -> Probe {
        Probe {
            url: url.to_string(),
            http: http_client(),
            slowest: Slowest::default(),
        }
    }

    /// One scrape; it must answer 200 before Prometheus would give up.
    async fn scrape(&mut self) -> Scrape {
        let started = Instant::now();
        let stalled_before = stalled();
        let response = self
            .http
            .get(&self.url)
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                PROMETHEUS_TIMEOUT.as_secs().to_string(),
            )
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("the exporter answers");
        let status = response.status().as_u16();
        let body = response.text().await.expect("the body arrives");
        let wall = started.elapsed();
        let took = wall.saturating_sub(stalled() - stalled_before);
        assert_eq!(status, 200, "scrape status; body:\n{body}");
        assert!(
            took < PROMETHEUS_TIMEOUT,
            "the scrape took {took:?} ({wall:?} of wall time), past Prometheus' timeout"
        );
        assert!(wall < WALL_LIMIT, "the scrape took {wall:?}");
        self.slowest.own = self.slowest.own.max(took);
        self.slowest.wall = self.slowest.wall.max(wall);
        Scrape { body, took, wall }
    }

    /// Scrapes every [`INTERVAL`] for `span`.
    async fn scrape_for(&mut self, span: Duration) -> Vec<Scrape> {
        let started = Instant::now();
        let mut scrapes = Vec::new();
        while started.elapsed() < span {
            scrapes.push(self.scrape().await);
            tokio::time::sleep(INTERVAL).await;
        }
        scrapes
    }

    /// Scrapes every [`INTERVAL`] until `up` is 1 with data; the time since
    /// `healed` (less any stall), which must stay under `limit`.
    async fn recover(&mut self, healed: Instant, limit: Duration) -> Duration {
        let stalled_before = stalled();
        let since = || healed.elapsed().saturating_sub(stalled() - stalled_before);
        loop {
            let s = self.scrape().await;
            if s.up() == 1.0 && s.has_data() {
                let took = since();
                assert!(took <= limit, "recovered after {took:?}, bound {limit:?}");
                return took;
            }
            assert!(
                since() <= limit,
                "not recovered {limit:?} after upstream healed; last scrape:\n{}",
                s.body
            );
            tokio::time::sleep(INTERVAL).await;
        }
    }
}

// ---------------------------------------------------------------------------
// Set-up and faults.

async fn setup(extra: &[&str]) -> (Simulator, Exporter) {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &with_ttl_0(extra)).await;
    (sim, exp)
}

/// Every scrape queries (no caching), so that a fault is met at once.
fn with_ttl_0<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--cache.ttl", "0s"];
    args.extend_from_slice(extra);
    args
}

/// A first scrape that succeeds, so that "last good data" has something to show.
async fn good_scrape(probe: &mut Probe) -> Scrape {
    let s = probe.scrape().await;
    assert_eq!(s.up(), 1.0, "healthy upstream first:\n{}", s.body);
    assert!(s.has_data());
    s
}

fn respond(status: u16, content_type: &str, body: impl Into<String>) -> Fault {
    Fault::Respond {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.into(),
    }
}

fn genesys_error(status: u16, code: &str, message: &str) -> Fault {
    respond(
        status,
        "application/json",
        json!({"message": message, "code": code, "status": status, "contextId": "5b5c1bb5-reliability"})
            .to_string(),
    )
}

fn too_many_requests(retry_after: Option<&str>) -> Fault {
    let mut fault = genesys_error(
        429,
        "too.many.requests.retry.after",
        "Rate limit exceeded the maximum. Retry the request later",
    );
    if let (Some(r), Fault::Respond { headers, .. }) = (retry_after, &mut fault) {
        headers.push(("Retry-After".into(), r.into()));
    }
    fault
}

fn push_query(sim: &Simulator, fault: &Fault, n: usize) {
    for _ in 0..n {
        sim.push_query_fault(fault.clone());
    }
}

fn push_token(sim: &Simulator, fault: &Fault, n: usize) {
    for _ in 0..n {
        sim.push_token_fault(fault.clone());
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

// ---------------------------------------------------------------------------
// 429.

async fn rate_limited_with_retry_after() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(&sim, &too_many_requests(Some("1")), 200);
    let storm = p.scrape_for(Duration::from_secs(3)).await;
    let sent = sim.query_requests() - q0;
    // One request per Retry-After: at 0 s, after 1 s, after 2 s (after 3 s at the edge).
    assert!((2..=4).contains(&sent), "{sent} requests in 3 s");
    assert!(storm.iter().all(|s| s.up() == 0.0 && s.has_data()));
    let last = storm.last().unwrap();
    assert_eq!(
        last.failures("rate_limited") - good.failures("rate_limited"),
        sent as f64,
        "each 429 is one failure; scrapes during the cooldown start no query"
    );
    let first = &storm[0];
    assert!(first.cooldown() > 0.0 && first.cooldown() <= 1.0);
    sim.clear_faults();
    let healed = Instant::now();
    let recovery = p.recover(healed, Duration::from_secs(2)).await;
    Row {
        measured: format!("{sent} query in 3 s"),
        bound: "≤ 4 query in 3 s: one per `Retry-After: 1`".into(),
        served: served(&good, first),
        recovery: Some(recovery),
        recovery_bound: Some(Duration::from_secs(2)),
        slowest: p.slowest,
    }
}

async fn rate_limited_without_retry_after() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(&sim, &too_many_requests(None), 200);
    let storm = p.scrape_for(Duration::from_secs(2)).await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 1, "nothing is sent during the cooldown");
    let first = &storm[0];
    // 5 s less up to 20 % jitter.
    assert!(
        first.cooldown() > 3.8 && first.cooldown() <= 5.0,
        "cooldown {}",
        first.cooldown()
    );
    let last = storm.last().unwrap();
    assert!(last.cooldown() > 1.5 && last.cooldown() < first.cooldown());
    assert!(storm.iter().all(|s| s.up() == 0.0 && s.has_data()));
    let cooldown = first.cooldown();
    sim.clear_faults();
    let healed = Instant::now();
    // The cooldown began at least 2 s before the heal and lasts at most 5 s.
    let recovery = p.recover(healed, Duration::from_secs(4)).await;
    Row {
        measured: format!("1 query in 2 s; cooldown {cooldown:.1} s"),
        bound: "1 query per cooldown: 4–5 s, doubling to 5 min".into(),
        served: served(&good, first),
        recovery: Some(recovery),
        recovery_bound: Some(Duration::from_secs(4)),
        slowest: p.slowest,
    }
}

async fn rate_limited_longer_than_the_budget() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(&sim, &too_many_requests(Some("4")), 200);
    let storm = p.scrape_for(Duration::from_secs(2)).await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 1);
    let first = &storm[0];
    assert!(
        first.took < Duration::from_secs(1),
        "the scrape does not wait out Retry-After: {:?}",
        first.took
    );
    assert!(first.cooldown() > 3.5 && first.cooldown() <= 4.0);
    assert!(storm.iter().all(|s| s.up() == 0.0 && s.has_data()));
    sim.clear_faults();
    let healed = Instant::now();
    let recovery = p.recover(healed, Duration::from_secs(3)).await;
    Row {
        measured: format!("1 query in 2 s; first scrape {}", secs(first.took)),
        bound: "1 query per `Retry-After: 4`; the scrape does not wait for it".into(),
        served: served(&good, first),
        recovery: Some(recovery),
        recovery_bound: Some(Duration::from_secs(3)),
        slowest: p.slowest,
    }
}

// ---------------------------------------------------------------------------
// 5xx.

/// At most this many requests fit in one 2.5 s budget: the first, then
/// retries after at least 0.1, 0.2, 0.4 and 0.8 s (200 ms doubling, less up
/// to half of jitter); the next would start past the query's deadline.
const ATTEMPTS_PER_SCRAPE: usize = 5;

/// The bound agrees with the exporter's own retry settings.
fn attempts_per_scrape_is_the_clients() {
    assert_eq!(
        max_attempts(query_budget(BUDGET)) as usize,
        ATTEMPTS_PER_SCRAPE
    );
}

async fn server_errors(fault: Fault) -> Row {
    attempts_per_scrape_is_the_clients();
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(&sim, &fault, 100);
    let first = p.scrape().await;
    let sent_first = sim.query_requests() - q0;
    let second = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert!(
        (2..=ATTEMPTS_PER_SCRAPE).contains(&sent_first),
        "{sent_first} requests in one scrape"
    );
    assert!(
        sent <= 2 * ATTEMPTS_PER_SCRAPE,
        "{sent} requests in two scrapes"
    );
    for s in [&first, &second] {
        assert_eq!(s.up(), 0.0);
        assert!(s.has_data());
    }
    sim.clear_faults();
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    Row {
        measured: format!("{sent} query in 2 scrapes"),
        bound: format!("≤ {ATTEMPTS_PER_SCRAPE} query per scrape (retries with backoff in 2.5 s)"),
        served: served(&good, &first),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn status_500() -> Row {
    server_errors(genesys_error(
        500,
        "internal.server.error",
        "The server encountered an unexpected condition",
    ))
    .await
}

async fn status_502_html() -> Row {
    server_errors(respond(
        502,
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
    ))
    .await
}

async fn status_503() -> Row {
    server_errors(genesys_error(
        503,
        "service.unavailable",
        "Service Unavailable",
    ))
    .await
}

async fn status_503_absorbed() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(
        &sim,
        &genesys_error(503, "service.unavailable", "Service Unavailable"),
        2,
    );
    let s = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 3, "two 503s, then the answer");
    assert_eq!(s.up(), 1.0);
    assert_eq!(s.requests("query", "503"), 2.0);
    Row {
        measured: format!("{sent} query in 1 scrape"),
        bound: format!("≤ {ATTEMPTS_PER_SCRAPE} query per scrape"),
        served: served(&good, &s),
        slowest: p.slowest,
        ..Row::default()
    }
}

// ---------------------------------------------------------------------------
// Connections.

async fn bind_again(addr: std::net::SocketAddr) -> Simulator {
    let started = Instant::now();
    loop {
        match Simulator::start(addr, sim_config(tutorial_rows())).await {
            Ok(sim) => return sim,
            Err(e) if started.elapsed() < Duration::from_secs(2) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("cannot bind {addr} again: {e}"),
        }
    }
}

async fn connection_refused() -> Row {
    // A port nobody listens on: bound, then closed again.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let exp = exporter_at(&format!("http://{addr}"), &with_ttl_0(&[])).await;
    let mut p = Probe::new(&exp);
    let first = p.scrape().await;
    let second = p.scrape().await;
    // Refused before any HTTP: the exporter's own count of token attempts.
    let attempts = second.token_requests() as usize;
    assert!(
        (2..=2 * ATTEMPTS_PER_SCRAPE).contains(&attempts),
        "{attempts} attempts in two scrapes"
    );
    for s in [&first, &second] {
        assert_eq!(s.up(), 0.0);
        assert!(!s.has_data());
    }
    assert_eq!(second.failures("connect"), 2.0);
    let sim = bind_again(addr).await;
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    assert_eq!(sim.token_requests(), 1);
    let before = Scrape {
        body: exp_zero_body(),
        took: Duration::ZERO,
        wall: Duration::ZERO,
    };
    Row {
        measured: format!("{attempts} connection attempts in 2 scrapes"),
        bound: format!(
            "≤ {ATTEMPTS_PER_SCRAPE} attempts per scrape (retries with backoff in 2.5 s)"
        ),
        served: served(&before, &second),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

/// The counters of an exporter that has done nothing yet.
fn exp_zero_body() -> String {
    let mut body = String::from("genesys_eventbridge_up 0\n");
    for r in REASONS {
        body.push_str(&format!(
            "genesys_eventbridge_query_failures_total{{reason=\"{r}\"}} 0\n"
        ));
    }
    for r in INVALID {
        body.push_str(&format!(
            "genesys_eventbridge_invalid_rows_total{{reason=\"{r}\"}} 0\n"
        ));
    }
    body.push_str("genesys_eventbridge_rate_limit_cooldown_seconds 0\n");
    body
}

async fn upstream_restarted() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let addr = sim.addr();
    sim.shutdown();
    drop(sim);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let down = p.scrape().await;
    assert_eq!(down.up(), 0.0);
    assert!(down.has_data());
    assert_eq!(down.failures("connect"), 1.0);
    let sim = bind_again(addr).await;
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    // The new server does not know the old token: one 401, a new token, the
    // retry. The integrations listing runs beside the query with the same
    // token: when its 401 comes first, the query may start with the new
    // token already, and needs no retry.
    let (tokens, queries) = (sim.token_requests(), sim.query_requests());
    assert!(
        tokens == 1 && (1..=2).contains(&queries),
        "{tokens} token, {queries} query"
    );
    Row {
        measured: format!("after the restart: {tokens} token + {queries} query"),
        bound: "1 token + at most 2 query: the old token's 401 (the query's or the listing's beside it) renews it once".into(),
        served: served(&good, &down),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn reset_mid_body() -> Row {
    server_errors(Fault::ResetMidBody).await
}

/// A request that takes the whole budget: one per scrape, no retry left.
async fn spends_the_budget(fault: Fault) -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(&sim, &fault, 2);
    let first = p.scrape().await;
    let second = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 2, "one request per scrape");
    for s in [&first, &second] {
        assert!(
            s.wall >= BUDGET.mul_f64(0.8),
            "the scrape waited for the query: {:?}",
            s.wall
        );
        assert_eq!(s.up(), 0.0, "the scrape that ran out of time says so");
        assert!(s.has_data());
    }
    assert_eq!(first.failures("timeout") - good.failures("timeout"), 1.0);
    sim.clear_faults();
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    Row {
        measured: format!("{sent} query in 2 scrapes"),
        bound: "1 query per scrape: the timeout spends the budget".into(),
        served: served(&good, &first),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn never_answers() -> Row {
    spends_the_budget(Fault::Hang).await
}

async fn slower_than_the_budget() -> Row {
    spends_the_budget(Fault::Delay(Duration::from_secs(4))).await
}

// ---------------------------------------------------------------------------
// Bodies.

/// A 200 whose body cannot be used: one request per scrape, no retry.
async fn bad_body(fault: Fault) -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    push_query(&sim, &fault, 2);
    let first = p.scrape().await;
    let second = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 2, "an unusable answer is not retried");
    for s in [&first, &second] {
        assert_eq!(s.up(), 0.0);
        assert!(s.has_data());
    }
    sim.clear_faults();
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    Row {
        measured: format!("{sent} query in 2 scrapes"),
        bound: "1 query per scrape".into(),
        served: served(&good, &second),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn truncated_json() -> Row {
    bad_body(respond(
        200,
        "application/json",
        r#"{"totalCount":2,"pageSize":50,"rows":[{"consumerGroup":"eventbridge-consumer-primary","eventType":"conversation:cre"#,
    ))
    .await
}

async fn html_page() -> Row {
    bad_body(respond(
        200,
        "text/html",
        "<!DOCTYPE html><html><head><title>Scheduled maintenance</title></head><body><h1>We'll be back soon</h1></body></html>",
    ))
    .await
}

async fn wrong_types_in_the_page() -> Row {
    bad_body(respond(
        200,
        "application/json",
        r#"{"totalCount":"2","pageToken":7,"nextPage":true,"rows":{"consumerGroup":"x"}}"#,
    ))
    .await
}

async fn body_over_the_cap() -> Row {
    let size = MAX_BODY_BYTES + 1024 * 1024;
    let body = format!(
        r#"{{"rows":[],"pad":"{}"}}"#,
        "x".repeat(size - r#"{"rows":[],"pad":""}"#.len())
    );
    assert_eq!(body.len(), size);
    bad_body(respond(200, "application/json", body)).await
}

async fn page_of_too_many_rows() -> Row {
    let rows = vec!["1"; MAX_PAGE_ROWS + 1].join(",");
    bad_body(respond(
        200,
        "application/json",
        format!(r#"{{"rows":[{rows}]}}"#),
    ))
    .await
}

/// A 200 that decodes: the rows that are valid count, the others are
/// counted by reason.
async fn rows_as_given(extra: &[&str], page: Option<&str>, rows: Option<Vec<Value>>) -> Row {
    let (sim, exp) = setup(extra).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    if let Some(page) = page {
        push_query(&sim, &respond(200, "application/json", page), 2);
    }
    if let Some(rows) = rows {
        sim.set_rows(rows);
    }
    let first = p.scrape().await;
    let second = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 2);
    for s in [&first, &second] {
        assert_eq!(s.up(), 1.0, "{}", s.body);
    }
    Row {
        measured: format!("{sent} query in 2 scrapes"),
        bound: "1 query per scrape".into(),
        served: served(&good, &first),
        slowest: p.slowest,
        ..Row::default()
    }
}

async fn invalid_rows() -> Row {
    let mut rows = tutorial_rows();
    rows.extend([
        json!({"consumerGroup": 5, "eventType": "a", "eventCount": 1, "processingLatency": 1}),
        json!({"consumerGroup": "g", "eventType": "b", "eventCount": "12", "processingLatency": 1}),
        json!({"consumerGroup": "g", "eventType": null, "eventCount": 1, "processingLatency": 1}),
        json!({"consumerGroup": "g", "eventType": "c", "processingLatency": 1}),
        json!({"consumerGroup": "g", "eventType": "d", "eventCount": -1, "processingLatency": 1}),
        // Blank, and longer than 256 bytes: no label, and no ten copies of it.
        json!({"consumerGroup": "g", "eventType": " ", "eventCount": 1, "processingLatency": 1}),
        json!({"consumerGroup": "g".repeat(10_000), "eventType": "e", "eventCount": 1, "processingLatency": 1}),
        json!("a string"),
        Value::Null,
    ]);
    let row = rows_as_given(&[], None, Some(rows)).await;
    assert_eq!(
        row.served,
        "up 1, fresh data, invalid rows `not_object` +2, `missing_field` +1, `null_field` +1, `wrong_type` +2, `invalid_value` +3"
    );
    row
}

async fn nulls_in_the_page() -> Row {
    rows_as_given(
        &[],
        Some(
            r#"{"totalCount":null,"pageSize":null,"pageToken":null,"nextPage":null,"rows":[
            {"consumerGroup":"eventbridge-consumer-primary","eventType":"conversation:created","eventCount":1450,"processingLatency":240},
            {"consumerGroup":null,"eventType":"x","eventCount":1,"processingLatency":1},
            null]}"#,
        ),
        None,
    )
    .await
}

async fn rows_null() -> Row {
    rows_as_given(
        &["--consumer-group", PRIMARY],
        Some(r#"{"totalCount":0,"pageToken":null,"nextPage":null,"rows":null}"#),
        None,
    )
    .await
}

async fn rows_missing() -> Row {
    rows_as_given(
        &["--consumer-group", PRIMARY],
        Some(r#"{"totalCount":0,"pageSize":50}"#),
        None,
    )
    .await
}

// ---------------------------------------------------------------------------
// Paging.

async fn paging(mode: PagingMode, per_scrape: usize, extra: &[&str], bound: &str) -> Row {
    let (sim, exp) = setup(extra).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    sim.set_paging(mode);
    let first = p.scrape().await;
    let second = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, 2 * per_scrape);
    for s in [&first, &second] {
        assert_eq!(s.up(), 0.0);
        assert!(s.has_data());
    }
    sim.set_paging(PagingMode::Normal);
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    Row {
        measured: format!("{sent} query in 2 scrapes"),
        bound: bound.into(),
        served: served(&good, &second),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn endless_paging() -> Row {
    paging(
        PagingMode::Endless,
        5,
        &["--query.max-pages", "5"],
        "5 query per scrape: `--query.max-pages 5`",
    )
    .await
}

async fn repeating_page_token() -> Row {
    paging(
        PagingMode::RepeatToken,
        2,
        &[],
        "2 query per scrape: stops at the first repeat",
    )
    .await
}

async fn next_page_without_token() -> Row {
    paging(
        PagingMode::NextPageWithoutToken,
        1,
        &[],
        "1 query per scrape",
    )
    .await
}

/// Pages that each pass, but together exceed a per-query budget.
async fn over_a_query_budget(pages: Vec<String>, bound: &str) -> Row {
    let (sim, exp) = setup(&["--query.max-pages", "1000"]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let q0 = sim.query_requests();
    let n = pages.len();
    for page in pages {
        sim.push_query_fault(respond(200, "application/json", page));
    }
    let s = p.scrape().await;
    let sent = sim.query_requests() - q0;
    assert_eq!(sent, n, "stopped at the page that went over");
    assert_eq!(s.up(), 0.0);
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    Row {
        measured: format!("{sent} query in 1 scrape"),
        bound: bound.into(),
        served: served(&good, &s),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn too_many_rows_in_all() -> Row {
    let rows = vec!["{}"; MAX_PAGE_ROWS].join(",");
    let pages = MAX_QUERY_ROWS / MAX_PAGE_ROWS + 1;
    let pages = (1..=pages)
        .map(|i| format!(r#"{{"pageToken":"p{i}","nextPage":"/next","rows":[{rows}]}}"#))
        .collect();
    over_a_query_budget(
        pages,
        &format!(
            "{} query: the page that passes {MAX_QUERY_ROWS} rows is the last",
            MAX_QUERY_ROWS / MAX_PAGE_ROWS + 1
        ),
    )
    .await
}

async fn too_many_bytes_in_all() -> Row {
    let page_bytes = MAX_BODY_BYTES - 1024 * 1024;
    let n = MAX_QUERY_BYTES / page_bytes + 1;
    let pad = "x".repeat(page_bytes);
    let pages = (1..=n)
        .map(|i| format!(r#"{{"pageToken":"p{i}","nextPage":"/next","rows":[],"pad":"{pad}"}}"#))
        .collect();
    over_a_query_budget(
        pages,
        &format!(
            "{n} query of 15 MiB: the page that passes {} MiB is the last",
            MAX_QUERY_BYTES >> 20
        ),
    )
    .await
}

// ---------------------------------------------------------------------------
// Tokens.

/// The token endpoint fails; the exporter has no token yet.
async fn token_fault(fault: Fault, per_scrape: usize, bound: &str) -> Row {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &with_ttl_0(&[])).await;
    let mut p = Probe::new(&exp);
    push_token(&sim, &fault, 100);
    let first = p.scrape().await;
    let second = p.scrape().await;
    let tokens = sim.token_requests();
    assert!(
        (2..=2 * per_scrape).contains(&tokens),
        "{tokens} token requests"
    );
    assert_eq!(sim.query_requests(), 0);
    for s in [&first, &second] {
        assert_eq!(s.up(), 0.0);
        assert!(!s.has_data());
    }
    sim.clear_faults();
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    let before = Scrape {
        body: exp_zero_body(),
        took: Duration::ZERO,
        wall: Duration::ZERO,
    };
    Row {
        measured: format!("{tokens} token in 2 scrapes"),
        bound: bound.into(),
        served: served(&before, &second),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

async fn token_invalid_client() -> Row {
    token_fault(
        respond(
            401,
            "application/json",
            r#"{"error":"invalid_client","description":"client not found","error_description":"client not found"}"#,
        ),
        1,
        "1 token per scrape: a refused client is not retried",
    )
    .await
}

async fn token_500() -> Row {
    token_fault(
        genesys_error(500, "internal.server.error", "Internal Server Error"),
        ATTEMPTS_PER_SCRAPE,
        &format!("≤ {ATTEMPTS_PER_SCRAPE} token per scrape (retries with backoff in 2.5 s)"),
    )
    .await
}

async fn token_never_answers() -> Row {
    token_fault(
        Fault::Hang,
        1,
        "1 token per scrape: the timeout spends the budget",
    )
    .await
}

async fn token_lifetime(
    lifetime: Duration,
    span: Duration,
) -> (Simulator, Exporter, Probe, Vec<Scrape>) {
    let mut config = sim_config(tutorial_rows());
    config.token_lifetime = lifetime;
    let sim = simulator(config).await;
    let exp = exporter(&sim, &with_ttl_0(&[])).await;
    let mut p = Probe::new(&exp);
    let scrapes = p.scrape_for(span).await;
    for s in &scrapes {
        assert_eq!(s.up(), 1.0, "{}", s.body);
    }
    (sim, exp, p, scrapes)
}

async fn token_lifetime_1s() -> Row {
    let span = Duration::from_millis(3500);
    let (sim, _exp, p, scrapes) = token_lifetime(Duration::from_secs(1), span).await;
    let tokens = sim.token_requests();
    let last = scrapes.last().unwrap();
    // Renewed 0.1 s before each expiry: one token per 0.9 s, and the first.
    // A query slower than that margin on a loaded machine may still meet an
    // expired token: it is renewed and retried once (up stays 1), which
    // costs one more token.
    let refused = last.requests("query", "401") as usize;
    let limit = (span.as_secs_f64() / 0.9).ceil() as usize + 1;
    assert!(refused <= 1, "{refused} queries refused");
    assert!(
        (3..=limit + refused).contains(&tokens),
        "{tokens} tokens, {refused} refused"
    );
    let before = Scrape {
        body: exp_zero_body(),
        took: Duration::ZERO,
        wall: Duration::ZERO,
    };
    Row {
        measured: format!(
            "{tokens} token, {} query in {:.1} s; {refused} refused",
            sim.query_requests(),
            span.as_secs_f64()
        ),
        bound: format!("≤ {limit} token in 3.5 s: one per 0.9 s, up 1 throughout"),
        served: served(&before, last),
        slowest: p.slowest,
        ..Row::default()
    }
}

async fn token_lifetime_48h() -> Row {
    let lifetime = Duration::from_secs(48 * 3600);
    let (sim, _exp, p, scrapes) = token_lifetime(lifetime, Duration::from_secs(2)).await;
    assert_eq!(sim.token_requests(), 1);
    let last = scrapes.last().unwrap();
    let expiry = last
        .get("genesys_eventbridge_token_expiry_timestamp_seconds", &[])
        .unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let ahead = expiry - now;
    assert!(
        (lifetime.as_secs_f64() - 60.0..=lifetime.as_secs_f64()).contains(&ahead),
        "expiry {ahead} s ahead"
    );
    let before = Scrape {
        body: exp_zero_body(),
        took: Duration::ZERO,
        wall: Duration::ZERO,
    };
    Row {
        measured: format!(
            "1 token, {} query in 2 s; expiry {:.1} h ahead",
            sim.query_requests(),
            ahead / 3600.0
        ),
        bound: "1 token until 5 min before the 48 h expiry".into(),
        served: served(&before, last),
        slowest: p.slowest,
        ..Row::default()
    }
}

async fn token_revoked() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let (t0, q0) = (sim.token_requests(), sim.query_requests());
    sim.revoke_tokens();
    let s = p.scrape().await;
    let (tokens, queries) = (sim.token_requests() - t0, sim.query_requests() - q0);
    assert_eq!((tokens, queries), (1, 2));
    assert_eq!(s.up(), 1.0);
    Row {
        measured: format!("{tokens} token + {queries} query in 1 scrape"),
        bound: "1 token + 2 query: 401, new token, one retry".into(),
        served: served(&good, &s),
        slowest: p.slowest,
        ..Row::default()
    }
}

async fn token_refused_after_renewal() -> Row {
    let (sim, exp) = setup(&[]).await;
    let mut p = Probe::new(&exp);
    let good = good_scrape(&mut p).await;
    let (t0, q0) = (sim.token_requests(), sim.query_requests());
    push_query(
        &sim,
        &genesys_error(401, "bad.credentials", "Invalid login credentials."),
        2,
    );
    let s = p.scrape().await;
    let (tokens, queries) = (sim.token_requests() - t0, sim.query_requests() - q0);
    assert_eq!((tokens, queries), (1, 2));
    assert_eq!(s.up(), 0.0);
    let healed = Instant::now();
    let recovery = p.recover(healed, NEXT_SCRAPE).await;
    Row {
        measured: format!("{tokens} token + {queries} query in 1 scrape"),
        bound: "1 token + 2 query: the retry is not retried".into(),
        served: served(&good, &s),
        recovery: Some(recovery),
        recovery_bound: Some(NEXT_SCRAPE),
        slowest: p.slowest,
    }
}

// ---------------------------------------------------------------------------
// The real binary: memory and the wall clock.

const BINARY: &str = env!("CARGO_BIN_EXE_genesys-eventbridge-exporter");

/// The exporter binary, running until dropped; its stderr is kept.
struct Process {
    child: Child,
    url: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Process {
    fn spawn(sim: &Simulator, extra: &[&str], env: &[(&str, &str)]) -> Process {
        let mut child = Command::new(BINARY)
            .args([
                "--web.listen-address",
                "127.0.0.1:0",
                "--genesys.api-url",
                &sim.base_url(),
                "--genesys.client-id",
                CLIENT_ID,
                "--log.format",
                "json",
            ])
            .args(extra)
            .env("GENESYS_CLIENT_SECRET", CLIENT_SECRET)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the exporter binary starts");
        // Only the start and any panic matter; keep memory flat.
        let followed = common::stderr::follow(&mut child, |kept, line| {
            kept.len() < 1000 || line.contains("panicked")
        });
        let address = followed.address();
        let stderr = followed.lines;
        Process {
            child,
            url: format!("http://{address}/metrics"),
            stderr,
        }
    }

    fn status(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status is readable");
        let line = text
            .lines()
            .find(|l| l.starts_with(field))
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"));
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("a number of kB");
        kib * 1024
    }

    fn assert_healthy(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the exporter exited"
        );
        let stderr = self.stderr.lock().unwrap();
        assert!(
            !stderr.iter().any(|l| l.contains("panicked")),
            "the exporter panicked:\n{}",
            stderr.join("\n")
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MIB: u64 = 1024 * 1024;
/// Peak resident memory allowed over the whole run.
const PEAK_RSS: u64 = 128 * MIB;
/// Resident memory the last scrapes may add over the first ones.
const RSS_GROWTH: u64 = 16 * MIB;

async fn memory_under_faults() -> Row {
    const SCRAPES: usize = 240;
    const WARM: usize = 40;
    let sim = simulator(sim_config(tutorial_rows())).await;
    let mut proc = Process::spawn(&sim, &["--cache.ttl", "0s"], &[]);
    let mut p = Probe::at(&proc.url);
    // The faults that make the exporter hold the most: a page just under the
    // body cap made of the smallest rows there are, a body over the cap, a
    // body cut short; then a good answer.
    let tiny_rows = {
        let n = (MAX_BODY_BYTES - 1024) / 2;
        format!(r#"{{"rows":[{}1]}}"#, "1,".repeat(n - 1))
    };
    let faults = [
        respond(200, "application/json", tiny_rows),
        respond(
            200,
            "application/json",
            format!(
                r#"{{"pad":"{}"}}"#,
                "x".repeat(MAX_BODY_BYTES + MIB as usize)
            ),
        ),
        respond(200, "application/json", r#"{"rows":[{"consumerGroup":"#),
    ];
    let mut start_rss = 0;
    let mut failed = 0.0;
    let mut good = 0;
    for i in 0..SCRAPES {
        if let Some(fault) = faults.get(i % 4) {
            sim.push_query_fault(fault.clone());
        }
        let s = p.scrape().await;
        if s.up() == 1.0 {
            good += 1;
        }
        failed = s.failures("decode");
        if i + 1 == WARM {
            start_rss = proc.status("VmRSS:");
        }
    }
    let end_rss = proc.status("VmRSS:");
    let peak = proc.status("VmHWM:");
    proc.assert_healthy();
    assert_eq!(good, SCRAPES / 4, "every fourth scrape is healthy");
    assert_eq!(failed as usize, SCRAPES - SCRAPES / 4);
    assert!(peak <= PEAK_RSS, "peak RSS {} MiB", peak / MIB);
    assert!(
        end_rss <= start_rss + RSS_GROWTH,
        "RSS grew from {} to {} MiB",
        start_rss / MIB,
        end_rss / MIB
    );
    let mib = |b: u64| b as f64 / MIB as f64;
    Row {
        measured: format!(
            "RSS {:.0} → {:.0} MiB over scrapes {WARM}–{SCRAPES}; peak {:.0} MiB",
            mib(start_rss),
            mib(end_rss),
            mib(peak)
        ),
        bound: format!(
            "peak ≤ {} MiB; growth ≤ {} MiB",
            PEAK_RSS / MIB,
            RSS_GROWTH / MIB
        ),
        served: format!(
            "up 0, reason `decode` ({} of {SCRAPES}); up 1 on the others",
            SCRAPES - SCRAPES / 4
        ),
        slowest: p.slowest,
        ..Row::default()
    }
}

/// The `dateTo` of the latest query, against this process' wall clock.
fn date_to_offset(sim: &Simulator) -> f64 {
    let request = sim
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.starts_with("/api/v2/analytics/"))
        .expect("a query was sent");
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let sent = time::PrimitiveDateTime::parse(body["dateTo"].as_str().unwrap(), &format)
        .unwrap()
        .assume_utc();
    (sent - time::OffsetDateTime::now_utc()).as_seconds_f64()
}

async fn wall_clock_jumps() -> Outcome<Row> {
    let Some(lib) = common::tools::libfaketime() else {
        return Skipped("libfaketime is not installed (scripts/test installs it)".into());
    };
    let dir = ROWS.dir();
    std::fs::create_dir_all(&dir).unwrap();
    let clock = dir.join(format!("faketime-{}.txt", std::process::id()));
    let set_clock = |offset: &str| std::fs::write(&clock, format!("{offset}\n")).unwrap();
    set_clock("+0");
    let sim = simulator(sim_config(tutorial_rows())).await;
    let clock_path = clock.to_str().unwrap().to_string();
    let lib = lib.to_str().unwrap().to_string();
    let mut proc = Process::spawn(
        &sim,
        &["--cache.ttl", "3s"],
        &[
            ("LD_PRELOAD", &lib),
            ("FAKETIME_TIMESTAMP_FILE", &clock_path),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    let mut p = Probe::at(&proc.url);

    // TTL: the first query, then the wall clock jumps two days ahead and
    // one hour back; the cache holds until 3 s of monotonic time passed.
    let first = p.scrape().await;
    let queried = Instant::now();
    assert_eq!(first.up(), 1.0);
    assert_eq!(sim.query_requests(), 1);
    let mut held = 0;
    for offset in ["+2d", "-1h", "+2d"] {
        set_clock(offset);
        let s = p.scrape().await;
        assert_eq!(
            sim.query_requests(),
            1,
            "the cache holds after a jump of {offset}"
        );
        let age = s.get("genesys_eventbridge_data_age_seconds", &[]).unwrap();
        assert!((0.0..3.0).contains(&age), "data age {age} after {offset}");
        held += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    set_clock("-1h");
    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(queried.elapsed())).await;
    let s = p.scrape().await;
    assert_eq!(
        sim.query_requests(),
        2,
        "the TTL ended on the monotonic clock"
    );
    assert_eq!(s.up(), 1.0);
    // The process did see the jump: its query window ends an hour ago.
    let offset = date_to_offset(&sim);
    assert!(
        (-3610.0..-3590.0).contains(&offset),
        "dateTo {offset} s off"
    );

    // Cooldown: a 429 with Retry-After 3 (the TTL, for which a failed query
    // is cached too), then two days ahead and one day back.
    sim.push_query_fault(too_many_requests(Some("3")));
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let limited = p.scrape().await;
    let cooled = Instant::now();
    assert_eq!(sim.query_requests(), 3);
    assert_eq!(limited.up(), 0.0);
    set_clock("+2d");
    let during = p.scrape_for(Duration::from_millis(1000)).await;
    assert_eq!(sim.query_requests(), 3, "no request during the cooldown");
    for s in &during {
        assert!(
            s.cooldown() > 0.0 && s.cooldown() <= 3.0,
            "{}",
            s.cooldown()
        );
    }
    set_clock("-1d");
    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(cooled.elapsed())).await;
    let healed = p.scrape().await;
    assert_eq!(
        healed.up(),
        1.0,
        "the cooldown ended on the monotonic clock"
    );
    assert_eq!(sim.query_requests(), 4);
    // The 1 h token was never taken for expired.
    assert_eq!(sim.token_requests(), 1);
    proc.assert_healthy();
    let _ = std::fs::remove_file(&clock);
    Ran(Row {
        measured: format!(
            "{} query, {} token over {held} jumps of −1 h … +2 d",
            sim.query_requests(),
            sim.token_requests()
        ),
        bound: "TTL (3 s), cooldown (3 s) and token (1 h) follow the monotonic clock".into(),
        served: "cache served through the jumps; no request during the cooldown".into(),
        slowest: p.slowest,
        ..Row::default()
    })
}

// ---------------------------------------------------------------------------
// The cases.

macro_rules! cases {
    ($($id:literal, $stage:expr, $group:literal, $title:literal => $f:path;)*) => {
        [$(Case { id: $id, stage: $stage, group: $group, title: $title, run: || Box::pin(async { $f().await.into() }) as CaseFuture<Row> },)*]
    };
}

/// The stage of the cases that run first, each alone: they move and decode
/// bodies of many MiB, which in a debug build keeps the runtime's workers
/// busy, would starve the others' timers, and every case asserts how long
/// its scrapes take.
const ALONE: usize = 0;
/// The stage of the others, which mostly wait, so they run together, but
/// not all at once: each scrapes every 100 ms, and on two busy cores that
/// many probes at a time delay each other's answers.
const TOGETHER: usize = 1;
/// Cases of [`TOGETHER`] that run at the same time.
const AT_ONCE: usize = 12;

static CASES: [Case<Row>; 43] = cases! {
    "429-retry-after", TOGETHER, "Rate limits", "429 storm with `Retry-After: 1`" => rate_limited_with_retry_after;
    "429-no-retry-after", TOGETHER, "Rate limits", "429 storm without `Retry-After`" => rate_limited_without_retry_after;
    "429-long-retry-after", TOGETHER, "Rate limits", "429 with `Retry-After: 4`, longer than the 2.5 s budget" => rate_limited_longer_than_the_budget;
    "500", TOGETHER, "Server errors", "500 storm" => status_500;
    "502-html", TOGETHER, "Server errors", "502 storm with an HTML page" => status_502_html;
    "503", TOGETHER, "Server errors", "503 storm" => status_503;
    "503-burst", TOGETHER, "Server errors", "503 × 2, then healthy" => status_503_absorbed;
    "refused", TOGETHER, "Connections", "connection refused (upstream not up yet)" => connection_refused;
    "restart", TOGETHER, "Connections", "upstream shut down, restarted on the same port" => upstream_restarted;
    "reset", TOGETHER, "Connections", "connection reset mid-body" => reset_mid_body;
    "hang", TOGETHER, "Connections", "accepts and never answers" => never_answers;
    "slow", TOGETHER, "Connections", "answers after 4 s, past the 2.5 s budget" => slower_than_the_budget;
    "truncated", TOGETHER, "Bodies", "truncated JSON" => truncated_json;
    "html", TOGETHER, "Bodies", "HTML page with status 200" => html_page;
    "wrong-types", TOGETHER, "Bodies", "wrong types in the page (`rows` an object, `pageToken` a number)" => wrong_types_in_the_page;
    "invalid-rows", TOGETHER, "Bodies", "wrong types, nulls, missing fields, blank and over-long names and non-objects in rows" => invalid_rows;
    "nulls", TOGETHER, "Bodies", "nulls in the page (`totalCount`, tokens, a row, a field)" => nulls_in_the_page;
    "rows-null", TOGETHER, "Bodies", "`rows: null`" => rows_null;
    "rows-missing", TOGETHER, "Bodies", "no `rows` field" => rows_missing;
    "body-17mib", ALONE, "Bodies", "17 MiB body, over the 16 MiB cap" => body_over_the_cap;
    "page-rows", ALONE, "Bodies", "one page of 10,001 rows, over the per-page cap" => page_of_too_many_rows;
    "endless", TOGETHER, "Paging", "paging that never ends" => endless_paging;
    "repeat-token", TOGETHER, "Paging", "repeating page token" => repeating_page_token;
    "next-without-token", TOGETHER, "Paging", "`nextPage` without `pageToken`" => next_page_without_token;
    "query-rows", ALONE, "Paging", "pages beyond the 100,000-row query budget" => too_many_rows_in_all;
    "query-bytes", ALONE, "Paging", "pages beyond the 64 MiB query budget" => too_many_bytes_in_all;
    "token-401", TOGETHER, "Token", "token endpoint 401 `invalid_client`" => token_invalid_client;
    "token-500", TOGETHER, "Token", "token endpoint 500 storm" => token_500;
    "token-hang", TOGETHER, "Token", "token endpoint never answers" => token_never_answers;
    "token-1s", TOGETHER, "Token", "`expires_in` 1 s" => token_lifetime_1s;
    "token-48h", TOGETHER, "Token", "`expires_in` 48 h" => token_lifetime_48h;
    "token-revoked", TOGETHER, "Token", "token revoked mid-run (401 on the query)" => token_revoked;
    "token-refused-again", TOGETHER, "Token", "query 401 again after the renewal" => token_refused_after_renewal;
    "memory", ALONE, "Memory", "240 scrapes of oversized, tiny-row and cut bodies (real binary)" => memory_under_faults;
    "clock", TOGETHER, "Clock", "wall clock jumps −1 h and +2 d (real binary, libfaketime)" => wall_clock_jumps;
    "org-hang", TOGETHER, "Organisations", "one organisation accepts and never answers, another probed beside it" => orgs::beside_a_hang;
    "org-429", TOGETHER, "Organisations", "one organisation in a 429 storm (`Retry-After: 1`), another probed beside it" => orgs::beside_a_429_storm;
    "org-500", TOGETHER, "Organisations", "one organisation in a 500 storm, another probed beside it" => orgs::beside_a_500_storm;
    "org-revoked", TOGETHER, "Organisations", "one organisation's client revoked (401 on query and token)" => orgs::beside_a_revoked_client;
    "org-aws-hang", TOGETHER, "Organisations", "one organisation's AWS side accepts and never answers, two others probed beside it" => orgs::beside_an_aws_hang;
    "org-aws-throttled", TOGETHER, "Organisations", "one organisation's AWS side throttled (`ThrottlingException`), two others probed beside it" => orgs::beside_aws_throttling;
    "reload-200", TOGETHER, "Reload", "200 reloads, valid and invalid in turn, under probes" => orgs::reloads_under_probes;
    "reload-refused", TOGETHER, "Reload", "a file that does not load, followed as written, then fixed" => orgs::refused_file_then_fixed;
};

const ROWS: Rows = Rows {
    env: "RELIABILITY_DIR",
    name: "reliability",
};

fn main() -> ExitCode {
    // The AWS cases' organisations sign with the simulator's credentials,
    // which the SDK's chain reads from the environment (the organisations
    // of the file name no key). The other cases leave the AWS collector off.
    for (key, value) in [
        ("AWS_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DEMO_SECRET_ACCESS_KEY),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        // SAFETY: no other thread runs yet: the runtime starts below.
        unsafe { std::env::set_var(key, value) };
    }
    runner::main(Suite {
        name: "fault cases",
        cases: &CASES,
        at_once: &[1, AT_ONCE],
        rows: ROWS,
        canary: true,
    })
}
