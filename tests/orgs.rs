//! Many organisations from one exporter, over loopback HTTP: each on its own
//! simulator with its own client, probed through `/probe?target=`, isolated
//! from the others' faults, and reloaded while serving.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::Parser;
use common::*;
use genesys_cloud_simulator::{Fault, SimConfig, Simulator};
use genesys_eventbridge_exporter::config::{Cli, Config};
use serde_json::json;

/// One organisation's simulator, with a client of its own.
struct Org {
    name: String,
    sim: Simulator,
    client_id: String,
}

fn rows_of(name: &str) -> Vec<serde_json::Value> {
    vec![
        json!({"consumerGroup": format!("{name}-primary"), "eventType": "conversation:created", "eventCount": 100, "processingLatency": 200}),
        json!({"consumerGroup": format!("{name}-secondary"), "eventType": "routing:queue:member:added", "eventCount": 10, "processingLatency": 40_000}),
    ]
}

async fn org(name: &str) -> Org {
    let client_id = format!("client-of-{name}");
    let config = SimConfig {
        client_id: client_id.clone(),
        client_secret: format!("secret-of-{name}"),
        ..sim_config(rows_of(name))
    };
    Org {
        name: name.into(),
        sim: simulator(config).await,
        client_id,
    }
}

/// The `organizations:` entry of `org`, its secret written beside the file.
fn entry(dir: &Path, org: &Org, extra: &str) -> String {
    let secret = dir.join(format!("{}.secret", org.name));
    std::fs::write(&secret, format!("secret-of-{}\n", org.name)).unwrap();
    format!(
        "  - name: {}\n    api_url: {}\n    client_id: {}\n    client_secret_file: {}\n{extra}",
        org.name,
        org.sim.base_url(),
        org.client_id,
        secret.display()
    )
}

fn write_config(path: &Path, entries: &[String]) {
    let text = format!("organizations:\n{}", entries.concat());
    // Written whole, then renamed: a reload never reads half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn config_for(path: &Path, extra: &[&str]) -> Config {
    let mut args = vec![
        "genesys-eventbridge-exporter",
        "--web.listen-address",
        "127.0.0.1:0",
        "--config.file",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Config::from_cli(Cli::try_parse_from(args).unwrap(), None).expect("config is valid")
}

async fn probe(exporter: &Exporter, query: &str) -> (u16, String) {
    let resp = exporter
        .http
        .get(exporter.url(&format!("/probe?{query}")))
        .header("x-prometheus-scrape-timeout-seconds", "3")
        .send()
        .await
        .expect("probe answers");
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn basic_user(header: Option<&str>) -> Option<String> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.0.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_organisations_each_with_its_own_client_groups_and_single_query() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("orgs.yml");
    let orgs = [
        org("acme-prod").await,
        org("acme-test").await,
        org("globex").await,
    ];
    let entries: Vec<String> = orgs.iter().map(|o| entry(temp.path(), o, "")).collect();
    write_config(&path, &entries);
    // 150 probes at once from one address: past its share of the
    // connections (64), which it may go past while others are free.
    let exporter = Arc::new(Exporter::start(config_for(&path, &[])).await);

    // 50 concurrent probes of each organisation.
    let mut probes = Vec::new();
    for o in &orgs {
        for _ in 0..50 {
            let (exporter, query) = (exporter.clone(), format!("target={}", o.name));
            probes.push((
                o.name.clone(),
                tokio::spawn(async move { probe(&exporter, &query).await }),
            ));
        }
    }
    for (name, p) in probes {
        let (status, body) = p.await.unwrap();
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
        let own = format!("{name}-primary");
        assert!(
            sample(
                &body,
                "genesys_eventbridge_consumer_lag_seconds",
                &[("consumer_group", &own)]
            )
            .is_some(),
            "{name}"
        );
        for other in orgs.iter().filter(|o| o.name != name) {
            assert!(!body.contains(&other.name), "{name} shows {}", other.name);
        }
        assert!(!body.contains("organization"), "no organisation label");
        assert!(!body.contains("process_") && !body.contains("build_info"));
    }
    for o in &orgs {
        assert_eq!(o.sim.token_requests(), 1, "{}", o.name);
        assert_eq!(o.sim.query_requests(), 1, "{}", o.name);
        for r in o.sim.requests() {
            if r.path == "/oauth/token" {
                assert_eq!(
                    basic_user(r.header("authorization")),
                    Some(o.client_id.clone())
                );
            } else {
                // The simulator answers 401 to a token it did not issue; every
                // query succeeded, so each carried its own organisation's token.
                assert!(r.header("authorization").unwrap().starts_with("Bearer "));
            }
        }
    }
    // Without flag credentials, /metrics has the exporter's own series only.
    let metrics = exporter.scrape().await;
    assert!(metrics.contains("genesys_eventbridge_exporter_build_info"));
    assert!(!metrics.contains("genesys_eventbridge_up"));
    assert_eq!(
        sample(
            &metrics,
            "genesys_eventbridge_config_last_reload_successful",
            &[]
        ),
        Some(1.0)
    );
    Arc::try_unwrap(exporter).ok().unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_target_gets_400_and_costs_no_request() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("orgs.yml");
    let o = org("acme").await;
    write_config(&path, &[entry(temp.path(), &o, "")]);
    let exporter = Exporter::start(config_for(&path, &[])).await;
    let long = format!("target={}", "a".repeat(10 * 1024));
    for query in [
        "",
        "target=",
        "target=acme&target=acme",
        "target=unknown",
        // No flags' organisation here.
        "target=default",
        "target=http%3A%2F%2F127.0.0.1%3A1%2F",
        "target=127.0.0.1:9",
        long.as_str(),
    ] {
        let (status, body) = probe(&exporter, query).await;
        assert_eq!(status, 400, "{query:.40}: {body}");
        assert_eq!(body.lines().count(), 1, "{query:.40}: {body}");
        assert!(body.len() < 200, "{query:.40}: {body}");
    }
    // An unknown name is told which names there are.
    let (_, body) = probe(&exporter, "target=acme-prod").await;
    assert_eq!(
        body,
        "unknown target \"acme-prod\"; the targets are: acme\n"
    );
    assert_eq!(o.sim.token_requests() + o.sim.query_requests(), 0);
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_organisation_hanging_throttled_or_failing_leaves_the_others_alone() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("orgs.yml");
    let healthy = org("healthy").await;
    let hangs = org("hangs").await;
    let throttled = org("throttled").await;
    let failing = org("failing").await;
    for _ in 0..20 {
        hangs.sim.push_query_fault(Fault::Hang);
        failing.sim.push_query_fault(Fault::Respond {
            status: 500,
            headers: vec![],
            body: r#"{"message":"boom","code":"internal.server.error","status":500}"#.into(),
        });
    }
    throttled.sim.push_query_fault(Fault::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), "60".into())],
        body: r#"{"message":"Rate limit exceeded","code":"too.many.requests.retry.after","status":429}"#.into(),
    });
    let entries: Vec<String> = [&healthy, &hangs, &throttled, &failing]
        .iter()
        .map(|o| entry(temp.path(), o, "    cache: {ttl: 0s}\n"))
        .collect();
    write_config(&path, &entries);
    let exporter = Arc::new(Exporter::start(config_for(&path, &[])).await);

    for round in 0..3 {
        let faulty: Vec<_> = ["hangs", "throttled", "failing"]
            .into_iter()
            .map(|name| {
                let exporter = exporter.clone();
                tokio::spawn(async move { probe(&exporter, &format!("target={name}")).await })
            })
            .collect();
        // The healthy organisation answers at once while the others struggle.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let (status, body) = probe(&exporter, "target=healthy").await;
        let took = started.elapsed();
        assert_eq!(status, 200);
        assert_eq!(
            sample(&body, "genesys_eventbridge_up", &[]),
            Some(1.0),
            "{body}"
        );
        assert!(took < Duration::from_secs(1), "round {round}: {took:?}");
        for f in faulty {
            let (status, body) = f.await.unwrap();
            assert_eq!(status, 200, "a failed query never fails the probe");
            assert_eq!(
                sample(&body, "genesys_eventbridge_up", &[]),
                Some(0.0),
                "{body}"
            );
        }
    }
    // One query and one token per probe of the healthy one (TTL 0), no more.
    assert_eq!(healthy.sim.query_requests(), 3);
    assert_eq!(healthy.sim.token_requests(), 1);
    // The throttled one was asked once; its cooldown held the rest back.
    assert_eq!(throttled.sim.query_requests(), 1);
    let (_, body) = probe(&exporter, "target=throttled").await;
    assert!(cooldown(&body) > 50.0);
    // The failing one retried within each probe's budget only.
    let max = genesys_eventbridge_exporter::genesys::max_attempts(
        genesys_eventbridge_exporter::budget::query_budget(Duration::from_millis(2500)),
    ) as usize;
    assert!(
        failing.sim.query_requests() <= 3 * max,
        "{}",
        failing.sim.query_requests()
    );
    assert!(hangs.sim.query_requests() <= 3 * max);
    Arc::try_unwrap(exporter).ok().unwrap().stop().await;
    hangs.sim.shutdown();
}

async fn reload(exporter: &Exporter) -> (u16, String) {
    let resp = exporter
        .http
        .post(exporter.url("/-/reload"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// How a test makes the exporter read its configuration file again.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// `POST /-/reload`.
    Post,
    /// Nothing: the exporter follows the file.
    FileChange,
}

fn reload_status(metrics: &str) -> (Option<f64>, Option<f64>) {
    (
        sample(
            metrics,
            "genesys_eventbridge_config_last_reload_successful",
            &[],
        ),
        sample(
            metrics,
            "genesys_eventbridge_config_last_reload_success_timestamp_seconds",
            &[],
        ),
    )
}

/// Fires `trigger` after the file was written; returns once the exporter
/// has read it: 200 or 500 for a POST, the reload status changing for a
/// file change. `Ok` when the file was taken, `Err` with the reason shown.
async fn reread(exporter: &Exporter, trigger: Trigger) -> Result<(), String> {
    match trigger {
        Trigger::Post => match reload(exporter).await {
            (200, _) => Ok(()),
            (500, body) => Err(body),
            other => panic!("{other:?}"),
        },
        Trigger::FileChange => {
            let before = reload_status(&exporter.scrape().await);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let now = reload_status(&exporter.scrape().await);
                // Loaded anew, or a refused change taken back (then nothing
                // is loaded: the configuration in force is the file again).
                if now.1 != before.1 || (before.0 == Some(0.0) && now.0 == Some(1.0)) {
                    return Ok(());
                }
                if now.0 == Some(0.0) && before.0 != Some(0.0) {
                    return Err("refused".into());
                }
                assert!(
                    Instant::now() < deadline,
                    "{trigger:?}: the file was not read"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn reload_scenario(trigger: Trigger) {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("orgs.yml");
    let (a, b, c) = (org("a").await, org("b").await, org("c").await);
    write_config(
        &path,
        &[entry(temp.path(), &a, ""), entry(temp.path(), &b, "")],
    );
    let exporter = Exporter::start(config_for(&path, &[])).await;
    assert_eq!(probe(&exporter, "target=a").await.0, 200);
    assert_eq!(probe(&exporter, "target=b").await.0, 200);
    assert_eq!(probe(&exporter, "target=c").await.0, 400);

    // c added, b's threshold changed, a unchanged.
    write_config(
        &path,
        &[
            entry(temp.path(), &a, ""),
            entry(temp.path(), &b, "    thresholds: {max_lag: 45s}\n"),
            entry(temp.path(), &c, ""),
        ],
    );
    reread(&exporter, trigger)
        .await
        .expect("a valid file is taken");
    let (status, body) = probe(&exporter, "target=c").await;
    assert_eq!(
        status, 200,
        "{trigger:?}: an added organisation answers its first probe"
    );
    assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
    let (_, body) = probe(&exporter, "target=b").await;
    assert_eq!(
        sample(
            &body,
            "genesys_eventbridge_consumer_lag_threshold_seconds",
            &[("consumer_group", "b-primary")]
        ),
        Some(45.0),
        "{trigger:?}: a changed threshold is in force"
    );
    assert_eq!(
        b.sim.token_requests(),
        2,
        "a changed organisation starts afresh"
    );
    let (_, body) = probe(&exporter, "target=a").await;
    assert_eq!(
        a.sim.token_requests(),
        1,
        "an unchanged one keeps its token"
    );
    assert_eq!(
        sample(&body, "genesys_eventbridge_queries_total", &[]),
        Some(1.0)
    );

    // Refused files: the reason, the gauge at 0, and what runs stays.
    for (text, reason) in [
        ("organizations: [\n".to_string(), "invalid YAML"),
        (
            format!(
                "organizations:\n{}{}",
                entry(temp.path(), &a, ""),
                entry(temp.path(), &a, "")
            ),
            "is used twice",
        ),
        (
            format!(
                "organizations:\n  - name: x\n    api_url: {}\n    client_id: y\n",
                a.sim.base_url()
            ),
            "client_secret_file: missing",
        ),
    ] {
        write_config(
            &path,
            std::slice::from_ref(&text.replace("organizations:\n", "")),
        );
        std::fs::write(&path, &text).unwrap();
        let refusal = reread(&exporter, trigger).await.expect_err("refused");
        if let Trigger::Post = trigger {
            assert!(refusal.contains(reason), "{refusal}");
            assert_eq!(refusal.lines().count(), 1);
        }
        let metrics = exporter.scrape().await;
        assert_eq!(
            reload_status(&metrics).0,
            Some(0.0),
            "{trigger:?}: {reason}"
        );
        assert_eq!(probe(&exporter, "target=c").await.0, 200, "what runs stays");
        // Back to a good file, so that the next refusal is a change again.
        write_config(
            &path,
            &[
                entry(temp.path(), &a, ""),
                entry(temp.path(), &b, "    thresholds: {max_lag: 45s}\n"),
                entry(temp.path(), &c, ""),
            ],
        );
        reread(&exporter, trigger).await.expect("taken back");
        assert_eq!(reload_status(&exporter.scrape().await).0, Some(1.0));
    }

    // b and c removed.
    write_config(&path, &[entry(temp.path(), &a, "")]);
    reread(&exporter, trigger)
        .await
        .expect("a valid file is taken");
    assert_eq!(
        probe(&exporter, "target=b").await.0,
        400,
        "a removed organisation stops"
    );
    assert_eq!(probe(&exporter, "target=c").await.0, 400);
    assert_eq!(probe(&exporter, "target=a").await.0, 200);
    assert_eq!(a.sim.token_requests(), 1);
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_reload_adds_changes_and_removes_organisations_and_refuses_bad_files() {
    reload_scenario(Trigger::Post).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_change_adds_changes_and_removes_organisations_and_refuses_bad_files() {
    reload_scenario(Trigger::FileChange).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_reloads_under_probes_lose_no_scrape_and_keep_the_token() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("orgs.yml");
    let (a, b) = (org("steady").await, org("moving").await);
    let steady = entry(temp.path(), &a, "");
    write_config(&path, std::slice::from_ref(&steady));
    let exporter = Arc::new(Exporter::start(config_for(&path, &[])).await);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (exporter, stop) = (exporter.clone(), stop.clone());
        tokio::spawn(async move {
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (status, body) = probe(&exporter, "target=steady").await;
                assert_eq!(status, 200);
                assert_eq!(sample(&body, "genesys_eventbridge_up", &[]), Some(1.0));
                answered += 1;
            }
            answered
        })
    };
    let moving = entry(temp.path(), &b, "");
    for i in 0..200 {
        if i % 2 == 0 {
            write_config(&path, &[steady.clone(), moving.clone()]);
            assert_eq!(reload(&exporter).await.0, 200, "reload {i}");
        } else {
            std::fs::write(&path, "organizations: {").unwrap();
            assert_eq!(reload(&exporter).await.0, 500, "reload {i}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let answered = prober.await.unwrap();
    assert!(answered > 10, "{answered} probes");
    assert_eq!(
        a.sim.token_requests(),
        1,
        "no new token for an unchanged organisation"
    );
    Arc::try_unwrap(exporter).ok().unwrap().stop().await;
}

/// The per-group part of a text exposition: every line about a consumer group.
fn per_group(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| {
            l.contains("consumer_group=")
                || l.contains("_consumer_")
                || l.contains("genesys_eventbridge_event")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_probe_equals_the_per_group_part_of_metrics() {
    let exporter = Exporter::start(demo_config(&[])).await;
    let metrics = exporter.scrape().await;
    let (status, probed) = probe(&exporter, "target=demo").await;
    assert_eq!(status, 200);
    assert!(!per_group(&metrics).is_empty());
    assert_eq!(
        per_group(&metrics),
        per_group(&probed),
        "one snapshot, two views"
    );
    let (_, trace) = probe(&exporter, "target=demo&debug=true").await;
    assert!(
        trace.contains("POST /oauth/token (token) -> 200"),
        "{trace}"
    );
    assert!(trace.contains("POST /api/v2/analytics/events/details/query (query) -> 200"));
    assert!(trace.contains("eventbridge-consumer-secondary: lag"));
    assert!(!trace.contains("demo-secret") && !trace.to_lowercase().contains("bearer"));
    exporter.stop().await;
}

/// The flags' organisation is the probe target `default`: its probe, its
/// debug trace, and the landing page's links to both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flags_organisation_is_the_target_default() {
    let sim = simulator(sim_config(tutorial_rows())).await;
    let exporter = exporter(&sim, &[]).await;
    let metrics = exporter.scrape().await;
    let (status, probed) = probe(&exporter, "target=default").await;
    assert_eq!(status, 200, "{probed}");
    assert!(!per_group(&metrics).is_empty());
    assert_eq!(per_group(&metrics), per_group(&probed));
    let (status, trace) = probe(&exporter, "target=default&debug=true").await;
    assert_eq!(status, 200, "{trace}");
    assert!(trace.starts_with("Organisation default\n"), "{trace}");
    assert!(
        trace.contains("POST /oauth/token (token) -> 200"),
        "{trace}"
    );
    assert_eq!(sim.query_requests(), 1, "one cycle for all three");
    let landing = get(exporter.url("/")).await.unwrap().text().await.unwrap();
    assert!(
        landing.contains("href=\"/probe?target=default&amp;debug=true\""),
        "{landing}"
    );
    exporter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_row_and_blank_event_types_are_skipped_and_counted() {
    let sim = simulator(sim_config(vec![])).await;
    let body = r#"{"rows":[
        {"consumerGroup":"good","eventType":"x","eventCount":1,"processingLatency":100},
        {"consumerGroup":"bad\ud800","eventType":"x","eventCount":1,"processingLatency":100},
        {"consumerGroup":"good","eventType":"","eventCount":1,"processingLatency":100},
        {"consumerGroup":"good","eventType":"  ","eventCount":1,"processingLatency":100}
    ]}"#;
    sim.push_query_fault(Fault::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.into(),
    });
    let exporter = exporter(&sim, &[]).await;
    let metrics = exporter.scrape().await;
    assert_eq!(
        sample(&metrics, "genesys_eventbridge_up", &[]),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "genesys_eventbridge_invalid_rows_total",
            &[("reason", "invalid_value")]
        ),
        Some(3.0)
    );
    assert!(metrics.contains(r#"consumer_group="good",event_type="x""#));
    assert!(!metrics.contains(r#"event_type="""#));
    exporter.stop().await;
}
