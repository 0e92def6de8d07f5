//! Query processing: the exporter's CPU work on one full query, against bare
//! `serde_json` parsing of the same bytes into plain typed rows.
//!
//! The pages are fetched once from the simulator (100,000 rows, pages of 500)
//! and kept as the bytes it sent, so the network plays no part. Then, in
//! alternating rounds on one thread, it measures the thread's CPU time of
//!
//! - bare: `serde_json::from_slice` of every page into `{ rows: Vec<TypedRow> }`;
//! - exporter: every page decoded as the collector does (`analytics::response::Page`,
//!   lenient rows), `model::compute`, and the first scrape's encoding of the
//!   snapshot as OpenMetrics (what Prometheus asks for), as a scrape renders it.
//!
//! Both drop what they built inside the timed part. `cargo bench` runs the
//! full size; `cargo test` (no `--bench` argument) a small one, as a check
//! that it works.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::Deserialize;

use genesys_cloud_simulator::{DEFAULT_QUERY_PATH, RowSource, SimConfig, Simulator, org_rows};
use std::sync::Arc;

use genesys_eventbridge_exporter::cache::Snapshot;
use genesys_eventbridge_exporter::collectors::analytics::model::{self, RawRow};
use genesys_eventbridge_exporter::collectors::analytics::request::QueryBody;
use genesys_eventbridge_exporter::collectors::analytics::response::Page;
use genesys_eventbridge_exporter::collectors::analytics::series;
use genesys_eventbridge_exporter::exposition::{Encoded, Format};

mod common;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct TypedRow {
    consumer_group: String,
    event_type: String,
    event_count: f64,
    processing_latency: f64,
}

#[derive(Deserialize)]
struct TypedPage {
    rows: Vec<TypedRow>,
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn cpu<T>(f: impl FnOnce() -> T) -> Duration {
    let start = thread_cpu();
    drop(black_box(f()));
    thread_cpu() - start
}

/// Every page of one query, as the simulator sent them.
async fn fetch_pages(groups: usize, event_types: usize, page_size: u32) -> Vec<Bytes> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = SimConfig {
        client_id: "bench-client".into(),
        client_secret: "bench-secret".into(),
        token_lifetime: Duration::from_secs(3600),
        rows: RowSource::Fixed(org_rows(groups, event_types)),
        rate_limit_per_minute: 1_000_000,
        query_path: DEFAULT_QUERY_PATH.into(),
        integrations: genesys_cloud_simulator::demo_integrations(),
        // Derived from the client id; an AWS account holding nothing.
        organization_id: String::new(),
        aws: genesys_cloud_simulator::AwsAccount::default(),
    };
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("simulator starts");
    let base = sim.base_url();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth("bench-client", Some("bench-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token body");
    let token = token["access_token"].as_str().expect("access_token");
    let mut body = QueryBody::new(SystemTime::now(), common::WINDOW, &[], page_size);
    let mut pages = Vec::new();
    loop {
        let response = http
            .post(format!("{base}{DEFAULT_QUERY_PATH}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("query request");
        assert!(response.status().is_success(), "{}", response.status());
        let bytes = response.bytes().await.expect("query body");
        let page: Page = serde_json::from_slice(&bytes).expect("page decodes");
        pages.push(bytes);
        match page.next_page.filter(|n| !n.is_empty()) {
            None => break,
            Some(_) => body.page_token = page.page_token,
        }
    }
    sim.shutdown();
    pages
}

fn bare(pages: &[Bytes]) -> Vec<TypedRow> {
    let mut rows = Vec::new();
    for page in pages {
        let page: TypedPage = serde_json::from_slice(page).expect("typed page");
        rows.extend(page.rows);
    }
    rows
}

fn decode(pages: &[Bytes]) -> Vec<RawRow> {
    let mut rows = Vec::new();
    for page in pages {
        let page: Page = serde_json::from_slice(page).expect("page");
        rows.extend(page.rows);
    }
    rows
}

fn exporter(pages: &[Bytes]) -> Arc<Encoded> {
    let figures = model::compute(decode(pages), common::WINDOW, &[], common::thresholds());
    encode(Snapshot::new(figures))
}

/// The first scrape's encoding of a snapshot's per-group series, made once
/// and kept by the snapshot as a scrape makes it; the snapshot is dropped
/// with it, inside the timed part, as the bare parse drops its rows.
fn encode(snapshot: Snapshot<model::Figures>) -> Arc<Encoded> {
    let format = Format::OpenMetrics;
    snapshot.encoded(format, |f| series::encode_groups(format, f))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (groups, rounds) = if full { (5_000, 9) } else { (50, 1) };
    let page_size = 500;
    let pages = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(fetch_pages(groups, 20, page_size));
    let bytes: usize = pages.iter().map(Bytes::len).sum();
    let rows = bare(&pages).len();
    assert_eq!(rows, groups * 20);
    println!(
        "query_processing rows={rows} pages={} page_size={page_size} bytes={bytes} rounds={rounds}",
        pages.len()
    );

    // Warm-up: page faults of the first large allocations, caches.
    let _ = cpu(|| bare(&pages));
    let _ = cpu(|| exporter(&pages));

    let (mut b, mut e, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut parse, mut compute, mut encoded) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let tb = ms(cpu(|| bare(&pages)));
        let te = ms(cpu(|| exporter(&pages)));
        println!(
            "round {round} bare_cpu_ms={tb:.2} exporter_cpu_ms={te:.2} ratio={:.3}",
            te / tb
        );
        b.push(tb);
        e.push(te);
        ratios.push(te / tb);

        // Where the exporter's time goes, stage by stage.
        let mut raw = None;
        parse.push(ms(cpu(|| raw = Some(decode(&pages)))));
        let mut figures = None;
        let raw = raw.expect("decoded");
        compute.push(ms(cpu(|| {
            figures = Some(model::compute(
                raw,
                common::WINDOW,
                &[],
                common::thresholds(),
            ))
        })));
        let snapshot = Snapshot::new(figures.expect("computed"));
        encoded.push(ms(cpu(|| encode(snapshot))));
    }
    println!(
        "median bare_cpu_ms={:.2} exporter_cpu_ms={:.2} ratio={:.3}",
        median(b),
        median(e),
        median(ratios)
    );
    println!(
        "stages decode_ms={:.2} compute_ms={:.2} encode_openmetrics_ms={:.2}",
        median(parse),
        median(compute),
        median(encoded)
    );
}
