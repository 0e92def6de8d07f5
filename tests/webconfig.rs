//! `--web.config.file`: TLS with certificates made by `openssl` at run time,
//! client certificates, protocol versions, basic auth and response headers,
//! checked with real `curl` over loopback; and strict parsing as an operator
//! meets it (exit 2, one line).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::pki::{TLS, pki};
use common::*;
use genesys_eventbridge_exporter::config::Config;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_genesys-eventbridge-exporter");

/// Writes a web configuration next to the certificates (so that its
/// relative paths name them) and starts a demo exporter with it.
async fn exporter_with(
    pki: &Path,
    name: &str,
    yaml: &str,
    change: impl FnOnce(&mut Config),
) -> Exporter {
    let path = pki.join(name);
    std::fs::write(&path, yaml).unwrap();
    let mut config = demo_config(&["--web.config.file", path.to_str().unwrap()]);
    change(&mut config);
    Exporter::start(config).await
}

struct Answer {
    /// curl's exit code: 0 when an HTTP answer came, else why not.
    exit: i32,
    status: u16,
    head: String,
    body: String,
    stderr: String,
}

/// One request with curl (from a blocking thread: the exporter runs on this
/// test's runtime). `args` go before the URL.
async fn curl(pki: &Path, url: String, args: &[&str]) -> Option<Answer> {
    // Each call its own body file: tests run in parallel in one folder.
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let body_file = format!("body-{}.out", CALLS.fetch_add(1, Ordering::Relaxed));
    let mut argv: Vec<String> = ["-sS", "--noproxy", "*", "--max-time", "5", "-D", "-", "-o"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.push(body_file.clone());
    argv.extend(args.iter().map(|s| s.to_string()));
    argv.push(url);
    let curl = tools::program("curl")?;
    let dir = pki.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(curl)
            .args(argv)
            .current_dir(dir)
            .output()
            .expect("curl runs")
    })
    .await
    .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = std::fs::read_to_string(pki.join(&body_file)).unwrap_or_default();
    let _ = std::fs::remove_file(pki.join(&body_file));
    Some(Answer {
        exit: out.status.code().unwrap_or(-1),
        status,
        head: head.to_ascii_lowercase(),
        body,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn https(exp: &Exporter, path: &str) -> String {
    format!("https://{}{path}", exp.addr)
}

#[tokio::test]
async fn tls_serves_the_configured_certificate_and_plain_http_is_refused() {
    let Some(pki) = pki() else { return };
    let exp = exporter_with(pki, "tls.yml", TLS, |_| {}).await;

    let ok = curl(pki, https(&exp, "/-/healthy"), &["--cacert", "ca.crt"])
        .await
        .unwrap();
    assert_eq!((ok.exit, ok.status), (0, 200), "{}", ok.stderr);
    assert_eq!(ok.body, "Healthy\n");

    // Without the CA the certificate is not trusted (curl: 60).
    let untrusted = curl(pki, https(&exp, "/-/healthy"), &[]).await.unwrap();
    assert_eq!(untrusted.exit, 60, "{}", untrusted.stderr);

    // Plain HTTP to the TLS port fails: no HTTP answer at all.
    let plain = curl(pki, format!("http://{}/-/healthy", exp.addr), &[])
        .await
        .unwrap();
    assert_ne!(plain.exit, 0);
    assert_eq!(plain.status, 0, "{}", plain.head);

    // And the server is none the worse for it.
    let again = curl(pki, https(&exp, "/metrics"), &["--cacert", "ca.crt"])
        .await
        .unwrap();
    assert_eq!(again.status, 200, "{}", again.stderr);
    assert!(again.body.contains("genesys_eventbridge_up 1"));
    exp.stop().await;
}

#[tokio::test]
async fn basic_auth_lets_in_only_a_known_user_with_the_right_password() {
    let Some(pki) = pki() else { return };
    let hash = bcrypt::hash("correct horse", 4).unwrap();
    let yaml = format!("{TLS}basic_auth_users:\n  prometheus: '{hash}'\n");
    let exp = exporter_with(pki, "auth.yml", &yaml, |_| {}).await;
    let ca = ["--cacert", "ca.crt"];
    let with = |user: &'static str| [ca[0], ca[1], "-u", user];

    for path in ["/metrics", "/-/healthy", "/"] {
        let ok = curl(pki, https(&exp, path), &with("prometheus:correct horse"))
            .await
            .unwrap();
        assert_eq!(ok.status, 200, "{path}: {}", ok.stderr);
    }
    let refused: [(&str, &[&str]); 4] = [
        ("wrong password", &with("prometheus:wrong")),
        ("no password", &ca),
        ("unknown user", &with("grafana:correct horse")),
        ("empty user", &with(":correct horse")),
    ];
    for (case, args) in refused {
        for path in ["/metrics", "/-/healthy", "/nope"] {
            let r = curl(pki, https(&exp, path), args).await.unwrap();
            assert_eq!(r.status, 401, "{case} {path}");
            assert!(
                r.head.contains("\r\nwww-authenticate: basic\r\n"),
                "{case}: {}",
                r.head
            );
            assert_eq!(r.body, "Unauthorized\n", "{case}");
        }
    }
    exp.stop().await;
}

#[tokio::test]
async fn configured_headers_are_on_every_response() {
    let Some(pki) = pki() else { return };
    let hash = bcrypt::hash("pw", 4).unwrap();
    let yaml = format!(
        "{TLS}http_server_config:\n  http2: true\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n    Strict-Transport-Security: max-age=31536000\nbasic_auth_users:\n  p: '{hash}'\n"
    );
    let exp = exporter_with(pki, "headers.yml", &yaml, |_| {}).await;
    let cases: [(&str, &[&str], u16); 3] = [
        ("/-/healthy", &["--cacert", "ca.crt", "-u", "p:pw"], 200),
        ("/nope", &["--cacert", "ca.crt", "-u", "p:pw"], 404),
        ("/metrics", &["--cacert", "ca.crt"], 401),
    ];
    for (path, args, status) in cases {
        let r = curl(pki, https(&exp, path), args).await.unwrap();
        assert_eq!(r.status, status, "{path}");
        for header in [
            "x-frame-options: deny",
            "x-content-type-options: nosniff",
            "strict-transport-security: max-age=31536000",
        ] {
            assert!(
                r.head.contains(header),
                "{path} lacks {header}:\n{}",
                r.head
            );
        }
    }
    exp.stop().await;
}

#[tokio::test]
async fn a_required_client_certificate_must_be_given_and_signed_by_the_client_ca() {
    let Some(pki) = pki() else { return };
    let yaml =
        format!("{TLS}  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n");
    let exp = exporter_with(pki, "mtls.yml", &yaml, |_| {}).await;
    let url = https(&exp, "/-/healthy");

    let none = curl(pki, url.clone(), &["--cacert", "ca.crt"])
        .await
        .unwrap();
    assert_ne!(none.exit, 0, "no client certificate was accepted");
    assert_eq!(none.status, 0);

    let rogue = [
        "--cacert",
        "ca.crt",
        "--cert",
        "rogue-client.crt",
        "--key",
        "rogue-client.key",
    ];
    let rogue = curl(pki, url.clone(), &rogue).await.unwrap();
    assert_ne!(rogue.exit, 0, "a certificate from another CA was accepted");
    assert_eq!(rogue.status, 0);

    let good = [
        "--cacert",
        "ca.crt",
        "--cert",
        "client.crt",
        "--key",
        "client.key",
    ];
    let good = curl(pki, url, &good).await.unwrap();
    assert_eq!((good.exit, good.status), (0, 200), "{}", good.stderr);
    exp.stop().await;
}

#[tokio::test]
async fn optional_and_unverified_client_certificate_modes_behave_as_in_go() {
    let Some(pki) = pki() else { return };
    let good = [
        "--cacert",
        "ca.crt",
        "--cert",
        "client.crt",
        "--key",
        "client.key",
    ];
    let rogue = [
        "--cacert",
        "ca.crt",
        "--cert",
        "rogue-client.crt",
        "--key",
        "rogue-client.key",
    ];
    let none = ["--cacert", "ca.crt"];

    // VerifyClientCertIfGiven: none is fine, a given one must verify.
    let yaml =
        format!("{TLS}  client_ca_file: ca.crt\n  client_auth_type: VerifyClientCertIfGiven\n");
    let exp = exporter_with(pki, "verify-if-given.yml", &yaml, |_| {}).await;
    let url = https(&exp, "/-/healthy");
    assert_eq!(curl(pki, url.clone(), &none).await.unwrap().status, 200);
    assert_eq!(curl(pki, url.clone(), &good).await.unwrap().status, 200);
    assert_eq!(curl(pki, url, &rogue).await.unwrap().status, 0);
    exp.stop().await;

    // RequireAnyClientCert: one must be given, any one will do.
    let yaml = format!("{TLS}  client_auth_type: RequireAnyClientCert\n");
    let exp = exporter_with(pki, "require-any.yml", &yaml, |_| {}).await;
    let url = https(&exp, "/-/healthy");
    assert_eq!(curl(pki, url.clone(), &none).await.unwrap().status, 0);
    assert_eq!(curl(pki, url, &rogue).await.unwrap().status, 200);
    exp.stop().await;
}

#[tokio::test]
async fn tls_versions_are_enforced_and_inline_pem_works() {
    let Some(pki) = pki() else { return };
    let indent = |text: String| text.replace('\n', "\n    ");
    let cert = indent(std::fs::read_to_string(pki.join("server.crt")).unwrap());
    let key = indent(std::fs::read_to_string(pki.join("server.key")).unwrap());
    let yaml = format!(
        "tls_server_config:\n  cert: |\n    {cert}\n  key: |\n    {key}\n  min_version: TLS13\n"
    );
    let exp = exporter_with(pki, "tls13.yml", &yaml, |_| {}).await;
    let url = https(&exp, "/-/healthy");
    let old = curl(
        pki,
        url.clone(),
        &["--cacert", "ca.crt", "--tls-max", "1.2"],
    )
    .await
    .unwrap();
    assert_ne!(old.exit, 0, "a TLS 1.2 client was served");
    assert_eq!(old.status, 0);
    let new = curl(pki, url, &["--cacert", "ca.crt"]).await.unwrap();
    assert_eq!(new.status, 200, "{}", new.stderr);
    exp.stop().await;

    let yaml = format!(
        "{TLS}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [CurveP256]\n"
    );
    let exp = exporter_with(pki, "tls12.yml", &yaml, |_| {}).await;
    let url = https(&exp, "/-/healthy");
    let tls13 = curl(pki, url.clone(), &["--cacert", "ca.crt", "--tlsv1.3"])
        .await
        .unwrap();
    assert_eq!(tls13.status, 0, "a TLS 1.3-only client was served");
    let other_suite = [
        "--cacert",
        "ca.crt",
        "--ciphers",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
    ];
    assert_eq!(
        curl(pki, url.clone(), &other_suite).await.unwrap().status,
        0
    );
    let tls12 = curl(pki, url, &["--cacert", "ca.crt"]).await.unwrap();
    assert_eq!(tls12.status, 200, "{}", tls12.stderr);
    exp.stop().await;
}

#[tokio::test]
async fn a_silent_tls_client_is_dropped_and_does_not_delay_shutdown() {
    let Some(pki) = pki() else { return };
    let exp = exporter_with(pki, "handshake.yml", TLS, |c| {
        c.limits.tls_handshake_timeout = Duration::from_secs(1);
    })
    .await;
    let mut silent = TcpStream::connect(exp.addr).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(4), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "a client that never starts its handshake was not dropped: {read:?}"
    );

    // A client in its handshake at shutdown does not hold the exporter up
    // for the handshake timeout (here the default 10 s).
    let exp2 = exporter_with(pki, "handshake2.yml", TLS, |_| {}).await;
    let _stalled = TcpStream::connect(exp2.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    exp2.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop waited {:?} for a stalled handshake",
        started.elapsed()
    );
    exp.stop().await;
}

/// Polls a request every 100 ms for up to 8 s (two reload checks, a second
/// apart, and room for a loaded machine) until `done` holds of its answer.
async fn until(pki: &Path, url: &str, args: &[&str], done: impl Fn(&Answer) -> bool) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let answer = curl(pki, url.to_string(), args).await.unwrap();
        if done(&answer) || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Replaces a file the way deployment tools do: write aside, rename over.
fn replace(path: &Path, contents: &[u8]) {
    let aside = path.with_extension("new");
    std::fs::write(&aside, contents).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

#[tokio::test]
async fn changed_users_and_a_rotated_certificate_take_effect_without_a_restart() {
    let Some(pki) = pki() else { return };
    let read = |name: &str| std::fs::read(pki.join(name)).unwrap();
    let dir = pki.join("rotation");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tls.crt"), read("server.crt")).unwrap();
    std::fs::write(dir.join("tls.key"), read("server.key")).unwrap();
    let tls = "tls_server_config:\n  cert_file: rotation/tls.crt\n  key_file: rotation/tls.key\n";
    let config = |user: &str, password: &str| {
        let hash = bcrypt::hash(password, 4).unwrap();
        format!("{tls}basic_auth_users:\n  {user}: '{hash}'\n")
    };
    let exp = exporter_with(pki, "rotation.yml", &config("p", "old"), |_| {}).await;
    let url = https(&exp, "/-/healthy");
    let old = ["--cacert", "ca.crt", "-u", "p:old"];
    let new = ["--cacert", "ca.crt", "-u", "p:new"];
    assert_eq!(curl(pki, url.clone(), &old).await.unwrap().status, 200);

    // A new password: in force within two checks, the old one refused.
    replace(&pki.join("rotation.yml"), config("p", "new").as_bytes());
    let answer = until(pki, &url, &new, |a| a.status == 200).await;
    assert_eq!(answer.status, 200, "the new password was never accepted");
    assert_eq!(curl(pki, url.clone(), &old).await.unwrap().status, 401);

    // A certificate from another CA, key and certificate renamed in one
    // after the other: new connections get it once both are in place.
    replace(&dir.join("tls.key"), &read("server-next.key"));
    replace(&dir.join("tls.crt"), &read("server-next.crt"));
    let rotated = ["--cacert", "rogue-ca.crt", "-u", "p:new"];
    let answer = until(pki, &url, &rotated, |a| a.status == 200).await;
    assert_eq!(
        answer.status, 200,
        "never served the new certificate: {}",
        answer.stderr
    );
    // The old CA no longer vouches for what is served (curl: 60).
    assert_eq!(curl(pki, url.clone(), &new).await.unwrap().exit, 60);

    // Turning TLS off, dropping the users or changing what is asked of
    // clients is refused while running: the metric says so, the running
    // configuration stays, and taking the change back clears it.
    let metrics = https(&exp, "/metrics");
    let reloaded = |value: f64| {
        move |a: &Answer| {
            sample(
                &a.body,
                "genesys_eventbridge_web_config_last_reload_successful",
                &[],
            ) == Some(value)
        }
    };
    let users_only = config("p", "new").replace(tls, "");
    let client_certs = config("p", "new").replace(
        tls,
        &format!("{tls}  client_ca_file: ca.crt\n  client_auth_type: VerifyClientCertIfGiven\n"),
    );
    let good = std::fs::read(pki.join("rotation.yml")).unwrap();
    for refused in [users_only.as_str(), tls, client_certs.as_str()] {
        std::fs::write(pki.join("rotation.yml"), refused).unwrap();
        let answer = until(pki, &metrics, &rotated, reloaded(0.0)).await;
        assert!(reloaded(0.0)(&answer), "not refused: {refused}");
        let anonymous = curl(pki, url.clone(), &["--cacert", "rogue-ca.crt"])
            .await
            .unwrap();
        assert_eq!(anonymous.status, 401, "{refused}: {}", anonymous.stderr);
        std::fs::write(pki.join("rotation.yml"), &good).unwrap();
        let answer = until(pki, &metrics, &rotated, reloaded(1.0)).await;
        assert!(
            reloaded(1.0)(&answer),
            "still refused after taking back {refused}"
        );
    }
    exp.stop().await;
}

#[tokio::test]
async fn a_removed_user_is_refused_on_a_connection_kept_alive() {
    let Some(pki) = pki() else { return };
    use tokio::io::AsyncWriteExt;
    let hash = bcrypt::hash("pw", 4).unwrap();
    let users = |names: &[&str]| {
        let lines: String = names.iter().map(|n| format!("  {n}: '{hash}'\n")).collect();
        format!("basic_auth_users:\n{lines}")
    };
    let exp = exporter_with(pki, "keepalive.yml", &users(&["p", "q"]), |_| {}).await;
    let mut conn = TcpStream::connect(exp.addr).await.unwrap();
    // p:pw in base64.
    let request = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cDpwdw==\r\n\r\n";
    let answer = async |conn: &mut TcpStream| {
        conn.write_all(request).await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !(head.ends_with(b"Healthy\n") || head.ends_with(b"Unauthorized\n")) {
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
                .await
                .expect("an answer on the kept connection")
                .unwrap();
            assert_ne!(n, 0, "the connection was closed");
            head.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(head).unwrap()
    };
    assert!(answer(&mut conn).await.starts_with("HTTP/1.1 200"));
    replace(&pki.join("keepalive.yml"), users(&["q"]).as_bytes());
    // In force once new connections are refused.
    let healthy = format!("http://{}/-/healthy", exp.addr);
    let refused = until(pki, &healthy, &["-u", "p:pw"], |a| a.status == 401).await;
    assert_eq!(refused.status, 401, "the user was never removed");
    let after = answer(&mut conn).await;
    assert!(after.starts_with("HTTP/1.1 401"), "{after}");

    // Switching TLS on needs a restart: plain HTTP goes on being served.
    let tls = format!("{TLS}{}", users(&["q"]));
    std::fs::write(pki.join("keepalive.yml"), tls).unwrap();
    let metrics = format!("http://{}/metrics", exp.addr);
    let answer = until(pki, &metrics, &["-u", "q:pw"], |a| {
        sample(
            &a.body,
            "genesys_eventbridge_web_config_last_reload_successful",
            &[],
        ) == Some(0.0)
    })
    .await;
    assert_eq!(answer.status, 200, "{}", answer.stderr);
    assert!(
        answer
            .body
            .contains("genesys_eventbridge_web_config_last_reload_successful 0")
    );
    exp.stop().await;
}

/// Runs the binary with a web configuration; returns exit code and stderr.
fn run_with(pki: &Path, name: &str, yaml: &str) -> (Option<i32>, String, String) {
    let path = pki.join(name);
    std::fs::write(&path, yaml).unwrap();
    let path = path.to_str().unwrap().to_string();
    let out = Command::new(BIN)
        .args([
            "--demo",
            "--web.listen-address",
            "127.0.0.1:0",
            "--web.config.file",
            &path,
        ])
        .env_clear()
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        path,
    )
}

#[test]
fn a_bad_web_config_exits_2_with_one_line_naming_file_and_problem() {
    let Some(pki) = pki() else { return };
    let cases = [
        (
            "unknown-key.yml",
            format!("{TLS}  cert_fil: x\n"),
            "unknown field `cert_fil`",
        ),
        (
            "unknown-top.yml",
            "basic_auth_user:\n  a: b\n".to_string(),
            "unknown field `basic_auth_user`",
        ),
        (
            "bad-hash.yml",
            "basic_auth_users:\n  alice: hunter2\n".to_string(),
            "\"alice\": not a bcrypt hash",
        ),
        (
            "no-cert.yml",
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n".to_string(),
            "missing.crt: No such file",
        ),
        (
            "no-key.yml",
            "tls_server_config:\n  cert_file: server.crt\n".to_string(),
            "missing one of key or key_file",
        ),
        (
            "wrong-key.yml",
            "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n".to_string(),
            "certificate and key",
        ),
        (
            "tls11.yml",
            format!("{TLS}  min_version: TLS11\n"),
            "min_version: TLS11 is not supported",
        ),
        (
            "ca-no-auth.yml",
            format!("{TLS}  client_ca_file: ca.crt\n"),
            "client_auth_type",
        ),
        (
            "verify-no-ca.yml",
            format!("{TLS}  client_auth_type: RequireAndVerifyClientCert\n"),
            "needs client_ca_file",
        ),
        (
            "bad-header.yml",
            "http_server_config:\n  headers:\n    Server: x\n".to_string(),
            "headers: Server: cannot be configured",
        ),
        (
            "rate-limit.yml",
            "rate_limit:\n  interval: 1s\n  burst: 1\n".to_string(),
            "rate_limit: not supported",
        ),
        (
            "bad-yaml.yml",
            "tls_server_config: [\n".to_string(),
            "tls_server_config",
        ),
    ];
    for (name, yaml, named) in cases {
        let (code, stderr, path) = run_with(pki, name, &yaml);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{name}: more than one line:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("--web.config.file: {path}: ")),
            "{name}: {stderr:?} does not name the file"
        );
        assert!(
            stderr.contains(named),
            "{name}: {stderr:?} does not name {named:?}"
        );
    }
    // A key's content never appears in an error.
    let key = std::fs::read_to_string(pki.join("client.key")).unwrap();
    let yaml = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key: |\n    {}\n",
        key.replace('\n', "\n    ")
    );
    let (code, stderr, _) = run_with(pki, "inline-wrong-key.yml", &yaml);
    assert_eq!(code, Some(2), "{stderr}");
    let body_line = key.lines().nth(1).unwrap();
    assert!(!stderr.contains(body_line), "the key was printed: {stderr}");
}
