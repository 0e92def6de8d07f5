//! The binary as an operator runs it: bad input, logs, signals.

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use genesys_cloud_simulator::Fault;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_genesys-eventbridge-exporter");

/// Runs the binary to completion with a clean environment plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    // Inside the target folder, not the system's temporary one.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Arguments, environment, and what the error line must name.
type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_input_exits_2_with_one_line_naming_it() {
    let creds: &[(&str, &str)] = &[("GENESYS_CLIENT_ID", "id"), ("GENESYS_CLIENT_SECRET", "s")];
    let bad_yaml = temp_file(
        "bad.yml",
        "consumer_groups:\n  - name: a\n    colour: blue\n",
    );
    let bad_yaml = bad_yaml.to_str().unwrap();
    // `default` is the probe target of the flags' organisation.
    let taken = temp_file(
        "taken.yml",
        "organizations:\n  - name: default\n    client_id: x\n    client_secret_file: /dev/null\n",
    );
    let taken = taken.to_str().unwrap();
    let cases: Vec<Case> = vec![
        (vec!["--config.file", taken], creds, "\"default\""),
        (vec!["--no-such-flag"], creds, "--no-such-flag"),
        (vec!["--cache.ttl", "soon"], creds, "--cache.ttl"),
        (
            vec!["--threshold.max-lag", "30"],
            creds,
            "--threshold.max-lag",
        ),
        (vec![], &[], "--genesys.client-id"),
        (
            vec![],
            &[("GENESYS_CLIENT_ID", "id")],
            "GENESYS_CLIENT_SECRET",
        ),
        (
            vec!["--genesys.client-secret-file", "/nonexistent/secret"],
            &[("GENESYS_CLIENT_ID", "id")],
            "--genesys.client-secret-file",
        ),
        (
            vec!["--config.file", "/nonexistent/config.yml"],
            creds,
            "--config.file",
        ),
        (vec!["--config.file", bad_yaml], creds, "colour"),
        (vec!["--query.page-size", "0"], creds, "--query.page-size"),
        (vec!["--consumer-group", ""], creds, "--consumer-group"),
        (
            vec![],
            &[
                ("GENESYS_CLIENT_ID", "id"),
                ("GENESYS_CLIENT_SECRET", "s"),
                ("GENESYS_CONSUMER_GROUPS", "a,,b"),
            ],
            "--consumer-group",
        ),
        (vec!["--log.level", "loud"], creds, "--log.level"),
        (
            vec!["--web.listen-address", "nowhere"],
            creds,
            "--web.listen-address",
        ),
    ];
    for (args, env, named) in cases {
        let (code, stderr) = run(&args, env);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?} printed more than one line:\n{stderr}"
        );
        assert!(
            stderr.contains(named),
            "{args:?}: {stderr:?} does not name {named}"
        );
    }
}

#[test]
fn help_lists_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--web.listen-address",
        "--web.telemetry-path",
        "--web.config.file",
        "--genesys.region",
        "--genesys.api-url",
        "--genesys.login-url",
        "--genesys.client-id",
        "--genesys.client-secret-file",
        "--consumer-group",
        "--threshold.max-lag",
        "--threshold.max-processing-latency",
        "--config.file",
        "--query.path",
        "--query.window",
        "--query.page-size",
        "--query.max-pages",
        "--query.timeout",
        "--cache.ttl",
        "--cache.max-stale",
        "--log.level",
        "--log.format",
        "--demo",
        "GENESYS_CLIENT_SECRET",
        "GENESYS_BASE_URL",
        "GENESYS_CONSUMER_GROUPS",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

struct Process {
    child: Child,
    port: u16,
}

impl Process {
    async fn spawn(args: &[&str], env: &[(&str, &str)]) -> Process {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(BIN)
            .args(["--web.listen-address", &listen])
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let p = Process { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !get(p.url("/-/ready"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(Instant::now() < deadline, "exporter did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        p
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn scrape(&self) -> String {
        get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// SIGTERM, then the exit status and everything logged.
    fn terminate(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        let mut logs = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut logs)
            .unwrap();
        (code, logs)
    }
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_logs_and_sigterm_exits_0() {
    let mut rows = tutorial_rows();
    rows.push(json!({"consumerGroup": "lagging", "eventType": "x", "eventCount": 10, "processingLatency": 45000}));
    rows.push(json!({"consumerGroup": "bad", "eventType": "x", "eventCount": "ten", "processingLatency": 1}));
    let sim = simulator(sim_config(rows)).await;
    let base = sim.base_url();
    let p = Process::spawn(
        &[
            "--log.level",
            "debug",
            "--cache.ttl",
            "0s",
            "--genesys.api-url",
            &base,
            "--consumer-group",
            "lagging",
            "--consumer-group",
            "gone",
        ],
        &[
            ("GENESYS_CLIENT_ID", CLIENT_ID),
            ("GENESYS_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
    .await;
    p.scrape().await;
    sim.revoke_tokens();
    p.scrape().await;
    sim.push_query_fault(Fault::Respond {
        status: 500,
        headers: vec![],
        body: "<html>oops</html>".into(),
    });
    p.scrape().await;
    sim.push_token_fault(Fault::Respond {
        status: 401,
        headers: vec![],
        body: r#"{"error":"invalid_client","description":"bad","error_description":"bad"}"#.into(),
    });
    sim.revoke_tokens();
    let body = p.scrape().await;
    assert!(body.contains("genesys_eventbridge_up"));
    let (code, logs) = p.terminate();
    assert_eq!(code, Some(0), "SIGTERM exits 0; logs:\n{logs}");

    let tokens: Vec<String> = sim
        .requests()
        .iter()
        .filter_map(|r| {
            header(&r.headers, "authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
                .map(str::to_owned)
        })
        .collect();
    assert!(!tokens.is_empty());
    assert!(
        !logs.contains(CLIENT_SECRET),
        "the client secret was logged:\n{logs}"
    );
    for t in &tokens {
        assert!(!logs.contains(t.as_str()), "a token was logged:\n{logs}");
    }
    for expected in [
        "QUERY_COMPLETE",
        "LAG_THRESHOLD_EXCEEDED",
        "CONSUMER_GROUP_MISSING",
        "reason=unauthorized",
        "invalid_client",
    ] {
        assert!(logs.contains(expected), "logs lack {expected}:\n{logs}");
    }
    assert_eq!(
        logs.matches("LAG_THRESHOLD_EXCEEDED").count(),
        1,
        "audit events once per transition:\n{logs}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let p = Process::spawn(
        &["--demo", "--log.format", "json", "--log.level", "debug"],
        &[],
    )
    .await;
    p.scrape().await;
    let (code, logs) = p.terminate();
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines.len() >= 3, "{logs}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert!(
            v.get("level").is_some() && v.get("timestamp").is_some(),
            "{line}"
        );
    }
    assert!(logs.contains("\"event\":\"QUERY_COMPLETE\""), "{logs}");
}

#[tokio::test]
async fn several_listen_addresses_are_served() {
    let second = free_port();
    let second_addr = format!("127.0.0.1:{second}");
    let p = Process::spawn(&["--demo", "--web.listen-address", &second_addr], &[]).await;
    let other = get(format!("http://{second_addr}/-/healthy"))
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let (code, _) = p.terminate();
    assert_eq!(code, Some(0));
}

#[test]
fn config_check_validates_and_exits() {
    let secret = temp_file("check.secret", "s3cret\n");
    let good = temp_file(
        "check-good.yml",
        &format!(
            "organizations:\n  - name: acme-prod\n    region: mypurecloud.de\n    client_id: id\n    client_secret_file: {}\n",
            secret.display()
        ),
    );
    let out = Command::new(BIN)
        .args(["--config.file", good.to_str().unwrap(), "--config.check"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 organisation(s): acme-prod"));
    let bad = temp_file(
        "check-bad.yml",
        "organizations:\n  - name: acme-prod\n    client_id: id\n",
    );
    let (code, stderr) = run(
        &["--config.file", bad.to_str().unwrap(), "--config.check"],
        &[],
    );
    assert_eq!(code, Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("check-bad.yml: organizations[0] (acme-prod): client_secret_file: missing"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sighup_reloads_the_configuration_file() {
    let sim = genesys_cloud_simulator::Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        genesys_cloud_simulator::SimConfig {
            client_id: "hup-client".into(),
            client_secret: "hup-secret".into(),
            ..genesys_cloud_simulator::SimConfig::demo()
        },
    )
    .await
    .unwrap();
    let secret = temp_file("hup.secret", "hup-secret\n");
    let config = temp_file("hup.yml", "consumer_groups: [{name: extra}]\n");
    let p = Process::spawn(&["--demo", "--config.file", config.to_str().unwrap()], &[]).await;
    let probe = |target: &str| get(p.url(&format!("/probe?target={target}")));
    assert_eq!(probe("hup").await.unwrap().status(), 400);
    std::fs::write(
        &config,
        format!(
            "organizations:\n  - name: hup\n    api_url: {}\n    client_id: hup-client\n    client_secret_file: {}\n",
            sim.base_url(),
            secret.display()
        ),
    )
    .unwrap();
    let hup = |p: &Process| {
        let status = Command::new("kill")
            .args(["-HUP", &p.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    let org = |extra: &str| {
        format!(
            "organizations:\n  - name: hup\n    api_url: {}\n    client_id: hup-client\n    client_secret_file: {}\n{extra}",
            sim.base_url(),
            secret.display()
        )
    };
    let until = |target: &'static str, done: fn(u16, &str) -> bool| {
        let url = p.url(&format!("/probe?target={target}"));
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let r = get(&url).await.unwrap();
                let status = r.status().as_u16();
                if done(status, &r.text().await.unwrap()) {
                    return;
                }
                assert!(Instant::now() < deadline, "not reloaded");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    // Added.
    std::fs::write(&config, org("")).unwrap();
    hup(&p);
    until("hup", |status, body| {
        status == 200 && body.contains("genesys_eventbridge_up 1")
    })
    .await;
    // Changed: a threshold.
    std::fs::write(&config, org("    thresholds: {max_lag: 45s}\n")).unwrap();
    hup(&p);
    until("hup", |_, body| {
        body.contains("genesys_eventbridge_consumer_lag_threshold_seconds{consumer_group=\"eventbridge-consumer-primary\"} 45.0")
    })
    .await;
    // Removed.
    std::fs::write(&config, "consumer_groups: [{name: extra}]\n").unwrap();
    hup(&p);
    until("hup", |status, _| status == 400).await;
    let (code, logs) = p.terminate();
    assert_eq!(code, Some(0));
    let by_hup = logs
        .lines()
        .filter(|l| l.contains("configuration reloaded") && l.contains("trigger=SIGHUP"))
        .count();
    assert_eq!(by_hup, 3, "{logs}");
    assert_eq!(logs.matches("SIGHUP received").count(), 3, "{logs}");
    sim.shutdown();
}

/// The lines of `logs` (logfmt) whose message is `message`.
fn lines_with<'a>(logs: &'a str, message: &str) -> Vec<&'a str> {
    logs.lines().filter(|l| l.contains(message)).collect()
}

/// At start, before anything scrapes, the organisation's first cycle runs
/// and says how it went, naming the hosts; a failed query is one warn
/// line, its retries at debug.
#[tokio::test]
async fn an_unreachable_organisation_is_said_at_start_in_one_line_per_failure() {
    let closed = free_port();
    let api = format!("http://127.0.0.1:{closed}");
    let p = Process::spawn(
        &["--genesys.api-url", &api, "--query.timeout", "2s"],
        &[
            ("GENESYS_CLIENT_ID", CLIENT_ID),
            ("GENESYS_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
    .await;
    // Nothing scrapes: the cycle at start runs out of its 2 s budget.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let (_, logs) = p.terminate();
    let starts = lines_with(&logs, "first cycle: asking");
    assert_eq!(starts.len(), 1, "the first cycle says it starts:\n{logs}");
    assert!(starts[0].contains(&format!("login_host=127.0.0.1:{closed}")));
    let first = lines_with(&logs, "first cycle: no");
    assert_eq!(first.len(), 1, "and how it ended, once:\n{logs}");
    for expected in [
        "level=warn",
        &format!("login_host=127.0.0.1:{closed}"),
        "reason=connect",
        "no access token",
    ] {
        assert!(first[0].contains(expected), "{expected:?} in {}", first[0]);
    }
    let failed = lines_with(&logs, "query failed");
    assert_eq!(failed.len(), 1, "one line per failed query:\n{logs}");
    for expected in [
        "endpoint=token",
        &format!("host=127.0.0.1:{closed}"),
        "attempts=",
        "duration_seconds=",
    ] {
        assert!(
            failed[0].contains(expected),
            "{expected:?} in {}",
            failed[0]
        );
    }
    let attempts: u32 = failed[0]
        .split("attempts=")
        .nth(1)
        .and_then(|a| a.split(' ').next())
        .and_then(|a| a.parse().ok())
        .unwrap();
    assert!(
        attempts > 1,
        "refused connections are retried: {}",
        failed[0]
    );
    assert_eq!(
        logs.lines().filter(|l| l.contains("level=warn")).count(),
        2,
        "no warn line per retry:\n{logs}"
    );
}

/// A TLS server in front of `upstream` whose certificate `pki`'s `ca`
/// signed; counts the connections it accepts.
async fn tls_in_front_of(
    pki: &std::path::Path,
    upstream: std::net::SocketAddr,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs = CertificateDer::pem_file_iter(pki.join("server.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    (port, accepted)
}

/// A certificate the exporter does not trust is its own reason, not
/// retried, said with how to trust a private CA; and what that says works.
#[tokio::test]
async fn an_untrusted_certificate_is_not_retried_and_says_how_to_trust_a_private_ca() {
    let Some(pki) = common::pki::pki() else {
        return;
    };
    let sim = simulator(sim_config(tutorial_rows())).await;
    let (port, accepted) = tls_in_front_of(pki, sim.addr()).await;
    let api = format!("https://127.0.0.1:{port}");
    let run = |bundle: std::path::PathBuf| {
        let api = api.clone();
        async move {
            let bundle = bundle.to_string_lossy().into_owned();
            let empty = pki.join("no-certs");
            std::fs::create_dir_all(&empty).unwrap();
            let empty = empty.to_string_lossy().into_owned();
            Process::spawn(
                &["--genesys.api-url", &api, "--no-collector.integrations"],
                &[
                    ("GENESYS_CLIENT_ID", CLIENT_ID),
                    ("GENESYS_CLIENT_SECRET", CLIENT_SECRET),
                    ("SSL_CERT_FILE", &bundle),
                    ("SSL_CERT_DIR", &empty),
                ],
            )
            .await
        }
    };
    // Trusting another CA only: the server's certificate does not verify.
    let p = run(pki.join("rogue-ca.crt")).await;
    let body = p.scrape().await;
    let (_, logs) = p.terminate();
    assert_eq!(failures(&body, "tls"), Some(1.0), "{logs}");
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("level=warn") || l.contains("level=error"))
            .count(),
        2,
        "the failed query and the first cycle, each said once:\n{logs}"
    );
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "not retried"
    );
    let failed = lines_with(&logs, "query failed");
    assert_eq!(failed.len(), 1, "{logs}");
    for expected in [
        "reason=tls",
        &format!("host=127.0.0.1:{port}"),
        "TLS certificate of the server is not trusted",
        "SSL_CERT_FILE",
    ] {
        assert!(
            failed[0].contains(expected),
            "{expected:?} in {}",
            failed[0]
        );
    }
    // As the line says: SSL_CERT_FILE naming the private CA.
    let p = run(pki.join("ca.crt")).await;
    let body = p.scrape().await;
    assert_eq!(
        sample(&body, "genesys_eventbridge_up", &[]),
        Some(1.0),
        "{body}"
    );
    p.terminate();
}

/// An integration's detail message is shown whole, escaped, in the log, on
/// the landing page and in the debug trace: the part an operator acts on
/// comes last.
#[tokio::test]
async fn detail_messages_are_whole_and_escaped_in_log_landing_page_and_trace() {
    let detail = "The event source aws.partner/genesys.com/cloud/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/prod-orders is \"not\" associated\nwith an event bus in account 123456789012 (eu-west-1) <check the partner event sources>.";
    let sim = simulator(genesys_cloud_simulator::SimConfig {
        integrations: vec![genesys_cloud_simulator::integration(
            "0a1b2c3d-0000-4000-8000-000000000001",
            "eventbridge-orders",
            "ENABLED",
            "ERROR",
            Some(detail),
            "2026-01-01T00:00:00Z",
        )],
        ..sim_config(tutorial_rows())
    })
    .await;
    let p = Process::spawn(
        &["--genesys.api-url", &sim.base_url()],
        &[
            ("GENESYS_CLIENT_ID", CLIENT_ID),
            ("GENESYS_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
    .await;
    // The probe waits for the cycle (the one at start, or its own).
    let trace = get(p.url("/probe?target=default&debug=true"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let landing = get(p.url("/")).await.unwrap().text().await.unwrap();
    let (_, logs) = p.terminate();
    let changed = lines_with(&logs, "INTEGRATION_STATE_CHANGED");
    assert_eq!(changed.len(), 1, "{logs}");
    let escaped = detail.escape_debug().to_string();
    assert!(changed[0].contains(&escaped), "{escaped} in {}", changed[0]);
    let html = detail
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(landing.contains(&html), "{html} in {landing}");
    let one_line = detail.replace('\n', "\\n");
    assert!(trace.contains(&one_line), "{one_line} in {trace}");
}
