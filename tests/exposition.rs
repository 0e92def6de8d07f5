//! What Prometheus and people see: formats, validity under real parsers,
//! escaping of any name, the HTTP endpoints, and demo mode.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use clap::Parser;
use common::*;
use genesys_eventbridge_exporter::config::{Cli, Config};
use serde_json::json;

/// Runs an external checker on `input`; `None` when it is missing outside
/// CI (see [`tools::present`]).
fn external(program: &str, args: &[&str], input: &str) -> Option<(bool, String)> {
    let mut child = Command::new(tools::program(program)?)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    // Written from a thread: a checker that stops reading early must not
    // block or fail the write; its verdict is in its output.
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

/// `promtool check metrics` must print nothing and succeed.
fn promtool_clean(body: &str) {
    if let Some((ok, findings)) = external("promtool", &["check", "metrics"], body) {
        assert!(
            ok && findings.trim().is_empty(),
            "promtool findings:\n{findings}\nbody:\n{body}"
        );
    }
}

const STRICT_PARSER: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(sys.stdin.read()))
print(len(families), sum(len(f.samples) for f in families))
"#;

/// The reference OpenMetrics parser (Python prometheus_client) must accept it.
fn openmetrics_strict(body: &str) -> Option<String> {
    let (ok, out) = external("python3", &["-c", STRICT_PARSER], body)?;
    let installed = !out.contains("No module named 'prometheus_client'");
    if !tools::present("python3 prometheus_client", installed) {
        return None;
    }
    assert!(
        ok,
        "strict OpenMetrics parser rejected the body:\n{out}\nbody:\n{body}"
    );
    Some(out)
}

async fn demo() -> Exporter {
    let cli = Cli::try_parse_from([
        "genesys-eventbridge-exporter",
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
    ])
    .unwrap();
    Exporter::start(Config::from_cli(cli, None).unwrap()).await
}

#[tokio::test]
async fn demo_shows_every_state_and_passes_promtool() {
    let exp = demo().await;
    let (_, ctype, body) = exp.scrape_with(&[]).await;
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    let group = |g| [("consumer_group", g)];
    let lag = |g| sample(&body, "genesys_eventbridge_consumer_lag_seconds", &group(g)).unwrap();
    assert!(
        lag("eventbridge-consumer-primary") < 0.5,
        "primary is healthy"
    );
    assert!(
        lag("eventbridge-consumer-secondary") > 30.0,
        "secondary lags"
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_threshold_exceeded",
            &group("eventbridge-consumer-secondary")
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_group_missing",
            &group("eventbridge-consumer-audit")
        ),
        Some(1.0)
    );
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    assert!(sample(&body, "genesys_eventbridge_api_rate_limit_allowed", &[]).is_some());
    // The standard process metrics, read at scrape time (from /proc).
    if cfg!(target_os = "linux") {
        assert!(sample(&body, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
        assert!(sample(&body, "process_start_time_seconds", &[]).unwrap() > 1.7e9);
        assert!(sample(&body, "process_cpu_seconds_total", &[]).is_some());
    }
    // Untyped, so that the contract's `_count` name passes promtool's linter.
    assert!(sample(&body, "genesys_eventbridge_api_rate_limit_count", &[]).is_some());
    assert!(body.contains("# TYPE genesys_eventbridge_api_rate_limit_count untyped\n"));
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_exporter_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    promtool_clean(&body);
    exp.stop().await;
}

#[tokio::test]
async fn openmetrics_is_served_when_asked_and_ends_with_eof() {
    let exp = demo().await;
    let (_, ctype, body) = exp.scrape_with(&[("Accept", OPENMETRICS)]).await;
    assert_eq!(
        ctype,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(body.matches("# EOF").count(), 1);
    assert!(body.contains(
        "# TYPE genesys_eventbridge_queries counter\ngenesys_eventbridge_queries_total 1\n"
    ));
    assert!(body.contains("# TYPE genesys_eventbridge_api_rate_limit_count unknown\n"));
    if let Some(counts) = openmetrics_strict(&body) {
        assert!(
            counts
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
                >= 20,
            "{counts}"
        );
    }
    exp.stop().await;
}

#[tokio::test]
async fn any_group_name_yields_valid_exposition() {
    let names = [
        "quote\"d",
        "back\\slash",
        "new\nline",
        "brace}{=,",
        "ünïcødé-グループ",
        "o'brien",
        // The longest taken: its event type, `type-` and it, is 256 bytes too.
        &"x".repeat(251),
    ];
    let mut rows: Vec<_> = names
        .iter()
        .map(|n| json!({"consumerGroup": n, "eventType": format!("type-{n}"), "eventCount": 5, "processingLatency": 100}))
        .collect();
    // Past 256 bytes a name is an invalid row, counted, not exported.
    rows.push(json!({"consumerGroup": "x".repeat(10_000), "eventType": "t", "eventCount": 5, "processingLatency": 100}));
    let sim = simulator(sim_config(rows)).await;
    let exp = exporter(&sim, &[]).await;
    let text = exp.scrape().await;
    promtool_clean(&text);
    for n in names {
        assert_eq!(
            sample(
                &text,
                "genesys_eventbridge_consumer_lag_seconds",
                &[("consumer_group", n)]
            ),
            Some(0.1),
            "{n:?}"
        );
    }
    assert_eq!(
        sample(
            &text,
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", "invalid_value")]
        ),
        Some(1.0)
    );
    assert!(!text.contains(&"x".repeat(300)));
    let (_, _, om) = exp.scrape_with(&[("Accept", OPENMETRICS)]).await;
    openmetrics_strict(&om);
    exp.stop().await;
}

#[tokio::test]
async fn a_failed_query_still_answers_200_with_up_0() {
    let mut config = sim_config(tutorial_rows());
    config.client_secret = "not-ours".into();
    let sim = simulator(config).await;
    let exp = exporter(&sim, &[]).await;
    let body = exp.scrape().await;
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(0.0));
    assert!(!body.contains("consumer_group="));
    promtool_clean(&body);
    let (_, _, om) = exp.scrape_with(&[("Accept", OPENMETRICS)]).await;
    openmetrics_strict(&om);
    exp.stop().await;
}

#[tokio::test]
async fn endpoints_answer_as_documented() {
    let exp = demo().await;
    let get = |path: &str| exp.http.get(exp.url(path)).send();
    let healthy = get("/-/healthy").await.unwrap();
    assert_eq!(healthy.status(), 200);
    assert_eq!(get("/-/ready").await.unwrap().status(), 200);
    assert_eq!(get("/nope").await.unwrap().status(), 404);
    let post = exp.http.post(exp.url("/metrics")).send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    let head = exp.http.head(exp.url("/metrics")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    exp.scrape().await;
    let landing = get("/").await.unwrap();
    assert_eq!(landing.status(), 200);
    assert!(
        landing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = landing.text().await.unwrap();
    assert!(html.contains("Genesys EventBridge Exporter"));
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    assert!(html.contains("href=\"/metrics\""));
    assert!(html.contains("Latest query succeeded"), "{html}");
    exp.stop().await;
}

#[tokio::test]
async fn a_custom_telemetry_path_moves_the_metrics() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exp = exporter(&sim, &["--web.telemetry-path", "/probe/metrics"]).await;
    assert_eq!(
        exp.http
            .get(exp.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let r = exp
        .http
        .get(exp.url("/probe/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("genesys_eventbridge_up 1"));
    exp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_is_served_when_asked_and_real_clients_decode_it() {
    use std::io::Read as _;
    let exp = demo().await;
    let plain = exp.scrape().await;
    let resp = exp
        .http
        .get(exp.url("/metrics"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(resp.headers()["vary"], "Accept-Encoding");
    let compressed = resp.bytes().await.unwrap();
    let mut body = String::new();
    flate2::read::MultiGzDecoder::new(&compressed[..])
        .read_to_string(&mut body)
        .unwrap();
    let groups = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("consumer_group="))
            .map(str::to_string)
            .collect()
    };
    assert!(!groups(&plain).is_empty());
    assert_eq!(groups(&body), groups(&plain), "the same per-group series");
    promtool_clean(&body);
    // Without the header: plain, and still Vary.
    let resp = exp.http.get(exp.url("/metrics")).send().await.unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    assert_eq!(resp.headers()["vary"], "Accept-Encoding");
    // curl, as an operator would ask, decodes the series of gzip members.
    let url = exp.url("/probe?target=demo");
    let curl =
        tokio::task::spawn_blocking(move || external("curl", &["-s", "--compressed", &url], ""))
            .await
            .unwrap();
    if let Some((ok, out)) = curl {
        assert!(ok);
        assert_eq!(groups(&out), groups(&plain), "curl --compressed");
    }
    exp.stop().await;
}
