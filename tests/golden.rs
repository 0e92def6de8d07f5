//! Golden output: what the demo answers with its clock frozen, held byte for
//! byte to the files in `tests/data/golden/` (node_exporter's
//! `e2e-output.txt` is the model). A difference is a change users see: make
//! it on purpose, regenerate the files with
//! `GOLDEN_UPDATE=1 cargo test --test golden`, and say why in the commit.
//!
//! Left out, as node_exporter leaves them out: the `process_*` families (the
//! test process' own memory and CPU) and `genesys_eventbridge_api_rate_limit_count`
//! (the count of whichever of the query and the listing, sent side by side,
//! was answered last), and the request ids of `ListTargetsByRule` in the
//! debug trace (the simulator numbers requests as they arrive, and a bus's
//! rules are asked about side by side).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use genesys_eventbridge_exporter::app;
use genesys_eventbridge_exporter::clock::Clock;

/// 2026-12-01T12:00:00Z.
const FROZEN_AT: u64 = 1_796_126_400;

/// Families whose values depend on the machine or on scheduling.
fn volatile(name: &str) -> bool {
    name.starts_with("process_") || name == "genesys_eventbridge_api_rate_limit_count"
}

/// The metric family a line of an exposition belongs to, if it is one.
fn family_of(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("# HELP ")
        .or_else(|| line.strip_prefix("# TYPE "))
        .or_else(|| line.strip_prefix("# UNIT "))
        .unwrap_or(line);
    let end = rest.find([' ', '{']).unwrap_or(rest.len());
    let name = &rest[..end];
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        .then_some(name)
}

fn without_volatile(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let name = family_of(line.trim_start());
        if !name.is_some_and(|n| volatile(n.strip_suffix("_total").unwrap_or(n)) || volatile(n)) {
            out.push_str(line);
        }
    }
    out
}

/// The trace without the request ids of requests sent side by side.
fn without_concurrent_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match (
            line.starts_with("  eventbridge ListTargetsByRule "),
            line.find(", request id "),
        ) {
            (true, Some(at)) => {
                let id_end = line[at + 13..]
                    .find([':', '\n'])
                    .map_or(line.len(), |e| at + 13 + e);
                out.push_str(&line[..at]);
                out.push_str(", request id (concurrent)");
                out.push_str(&line[id_end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// Compares `actual` with the golden file `name`, or writes it when
/// `GOLDEN_UPDATE` is set. Returns the failure, with a unified diff.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = golden_path(name);
    if std::env::var_os("GOLDEN_UPDATE").is_some() {
        std::fs::write(&path, actual).expect("golden file written");
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .context_radius(3)
        .header(&format!("tests/data/golden/{name}"), "actual")
        .to_string();
    Some(format!(
        "{name} differs from the golden file:\n{diff}\n\
         If the change is meant, regenerate with `GOLDEN_UPDATE=1 cargo test --test golden` \
         and say why in the commit.\n"
    ))
}

/// One request on a connection of its own, so that the web layer's counters
/// count the same connections in every run.
async fn get(addr: std::net::SocketAddr, path: &str, accept: Option<&str>) -> String {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut req = client.get(format!("http://{addr}{path}"));
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let resp = req.send().await.expect("the exporter answers");
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn the_demo_answers_as_the_golden_files_say() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(FROZEN_AT);
    let running = app::start_with_clock(common::demo_config(&[]), Clock::Frozen(at))
        .await
        .expect("the demo starts");
    let addr = running.addresses[0];
    // In this order: the first scrape runs the demo's one query.
    let answers = [
        ("metrics.txt", get(addr, "/metrics", None).await),
        (
            "metrics.openmetrics.txt",
            get(addr, "/metrics", Some(common::OPENMETRICS)).await,
        ),
        (
            "probe-demo.txt",
            get(addr, "/probe?target=demo", None).await,
        ),
        (
            "probe-demo-debug.txt",
            get(addr, "/probe?target=demo&debug=true", None).await,
        ),
        ("landing.html", get(addr, "/", None).await),
    ];
    running.stop().await;
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|(name, body)| check(name, &without_concurrent_ids(&without_volatile(body))))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn only_the_ids_of_concurrent_requests_are_left_out() {
    let text = "  eventbridge ListTargetsByRule r -> 200 in 0 ms, request id 1-2\n\
        \x20 eventbridge ListTargetsByRule s -> 400 in 0 ms, request id 3: Denied\n\
        \x20 eventbridge ListRules b -> 200 in 0 ms, request id 4\n";
    assert_eq!(
        without_concurrent_ids(text),
        "  eventbridge ListTargetsByRule r -> 200 in 0 ms, request id (concurrent)\n\
        \x20 eventbridge ListTargetsByRule s -> 400 in 0 ms, request id (concurrent): Denied\n\
        \x20 eventbridge ListRules b -> 200 in 0 ms, request id 4\n"
    );
}

#[test]
fn only_the_volatile_families_are_left_out() {
    let text = "# HELP process_cpu_seconds_total CPU.\n# TYPE process_cpu_seconds_total counter\n\
        process_cpu_seconds_total 1.5\ngenesys_eventbridge_up 1\n\
        genesys_eventbridge_api_rate_limit_count 2\ngenesys_eventbridge_api_rate_limit_allowed 300\n\
        Organisation demo\n";
    assert_eq!(
        without_volatile(text),
        "genesys_eventbridge_up 1\ngenesys_eventbridge_api_rate_limit_allowed 300\nOrganisation demo\n"
    );
}

#[test]
fn a_missing_golden_file_is_a_difference() {
    if std::env::var_os("GOLDEN_UPDATE").is_some() {
        return;
    }
    let failure = check("no-such-file.txt", "a\n").expect("a difference");
    assert!(failure.contains("+a"), "{failure}");
    assert!(failure.contains("GOLDEN_UPDATE=1"), "{failure}");
}
