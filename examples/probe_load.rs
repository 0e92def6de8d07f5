//! Prometheus-like load on `/probe`, for `scripts/bench`: N targets
//! `org-0001` ... scraped every interval, each at its own offset within the
//! interval (as Prometheus spreads a job's targets), never two scrapes of one
//! target at once, with Prometheus' headers and its scrape timeout.
//!
//! ```text
//! cargo run --release --example probe_load -- --url http://127.0.0.1:9864 \
//!     --targets 1000 --interval-ms 5000 --duration-ms 40000 --out probes.tsv
//! ```
//!
//! It writes one line per scrape: target number, start (ms since the run
//! began), latency in ms, HTTP status (0 when the request failed or timed
//! out), body bytes.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::time::Instant;

const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Prometheus-like load on `/probe`.
#[derive(clap::Parser)]
struct Args {
    /// The exporter's base URL.
    #[arg(long)]
    url: String,
    /// Targets `org-0001` ... `org-N`.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    targets: u32,
    /// Scrape interval.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    interval_ms: u64,
    /// How long the load runs.
    #[arg(long, default_value_t = 40_000)]
    duration_ms: u64,
    /// Scrape timeout, at most the interval as in Prometheus.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Where the scrapes are written.
    #[arg(long, default_value = "probes.tsv")]
    out: String,
}

struct Scrape {
    target: usize,
    start_ms: f64,
    latency_ms: f64,
    status: u16,
    bytes: usize,
}

async fn scrape(client: &reqwest::Client, url: &str, timeout: Duration) -> (u16, usize) {
    let request = client
        .get(url)
        .header("Accept", ACCEPT)
        .header("Accept-Encoding", "gzip")
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", timeout.as_secs_f64()),
        )
        .timeout(timeout);
    let Ok(response) = request.send().await else {
        return (0, 0);
    };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(body) => (status, body.len()),
        Err(_) => (0, 0),
    }
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    if args.timeout_ms > args.interval_ms {
        eprintln!("probe_load: the scrape timeout may not exceed the interval, as in Prometheus");
        std::process::exit(2);
    }
    let (targets, out) = (args.targets as usize, args.out);
    let interval = Duration::from_millis(args.interval_ms);
    let timeout = Duration::from_millis(args.timeout_ms);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .expect("client builds");
    let began = Instant::now();
    let end = began + Duration::from_millis(args.duration_ms);
    let mut tasks = Vec::with_capacity(targets);
    for target in 1..=targets {
        let client = client.clone();
        let url = format!("{}/probe?target=org-{target:04}", args.url);
        let offset = interval.mul_f64((target - 1) as f64 / targets as f64);
        tasks.push(tokio::spawn(async move {
            let mut scrapes = Vec::new();
            let mut next = began + offset;
            while next < end {
                tokio::time::sleep_until(next).await;
                let start = Instant::now();
                let (status, bytes) = scrape(&client, &url, timeout).await;
                scrapes.push(Scrape {
                    target,
                    start_ms: (start - began).as_secs_f64() * 1000.0,
                    latency_ms: start.elapsed().as_secs_f64() * 1000.0,
                    status,
                    bytes,
                });
                next += interval;
            }
            scrapes
        }));
    }
    let mut lines = String::new();
    let mut count = 0;
    for task in tasks {
        for s in task.await.expect("scrape task") {
            count += 1;
            let _ = writeln!(
                lines,
                "{}\t{:.3}\t{:.3}\t{}\t{}",
                s.target, s.start_ms, s.latency_ms, s.status, s.bytes
            );
        }
    }
    if let Err(e) = std::fs::write(&out, lines) {
        eprintln!("probe_load: {out}: {e}");
        std::process::exit(1);
    }
    println!("probe_load: {count} scrapes written to {out}");
}
