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

struct Args {
    url: String,
    targets: usize,
    interval: Duration,
    duration: Duration,
    timeout: Duration,
    out: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        targets: 1000,
        interval: Duration::from_secs(5),
        duration: Duration::from_secs(40),
        timeout: Duration::from_secs(5),
        out: "probes.tsv".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v:?}: {e}"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--targets" => args.targets = number(&value)? as usize,
            "--interval-ms" => args.interval = Duration::from_millis(number(&value)?),
            "--duration-ms" => args.duration = Duration::from_millis(number(&value)?),
            "--timeout-ms" => args.timeout = Duration::from_millis(number(&value)?),
            "--out" => args.out = value,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.url.is_empty() || args.targets == 0 || args.interval.is_zero() {
        return Err("--url, --targets >= 1 and --interval-ms >= 1 are needed".into());
    }
    if args.timeout > args.interval {
        return Err("the scrape timeout may not exceed the interval, as in Prometheus".into());
    }
    Ok(args)
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
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("probe_load: {e}");
            std::process::exit(2);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .expect("client builds");
    let began = Instant::now();
    let end = began + args.duration;
    let mut tasks = Vec::with_capacity(args.targets);
    for target in 1..=args.targets {
        let client = client.clone();
        let url = format!("{}/probe?target=org-{target:04}", args.url);
        let offset = args
            .interval
            .mul_f64((target - 1) as f64 / args.targets as f64);
        let (interval, timeout) = (args.interval, args.timeout);
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
    let mut out = String::new();
    let mut count = 0;
    for task in tasks {
        for s in task.await.expect("scrape task") {
            count += 1;
            let _ = writeln!(
                out,
                "{}\t{:.3}\t{:.3}\t{}\t{}",
                s.target, s.start_ms, s.latency_ms, s.status, s.bytes
            );
        }
    }
    if let Err(e) = std::fs::write(&args.out, out) {
        eprintln!("probe_load: {}: {e}", args.out);
        std::process::exit(1);
    }
    println!("probe_load: {count} scrapes written to {}", args.out);
}
