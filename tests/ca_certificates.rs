//! Trust roots as the container image meets them: none at all. Plain-HTTP
//! endpoints (the demo) need none; HTTPS endpoints without any stop the
//! exporter with a line naming the missing CA certificates and where they were
//! looked for.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_genesys-eventbridge-exporter");

/// An empty CA bundle and an empty CA folder, inside the target folder. With
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` set, the system's locations are not read,
/// so the exporter sees no CA certificate, as in an image without a bundle.
fn no_ca_certificates(name: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("ca-certificates")
        .join(name);
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let bundle = dir.join("empty.pem");
    std::fs::write(&bundle, "").unwrap();
    (bundle, certs)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One plain HTTP/1.1 GET: status and body.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[test]
fn demo_runs_without_any_ca_certificate() {
    let (bundle, dir) = no_ca_certificates("demo");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "--demo",
            "--web.listen-address",
            &format!("127.0.0.1:{port}"),
        ])
        .env_clear()
        .env("SSL_CERT_FILE", &bundle)
        .env("SSL_CERT_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the demo exited with {status} without CA certificates");
        }
        if let Ok((200, body)) = get(port, "/metrics") {
            break body;
        }
        assert!(Instant::now() < deadline, "the demo did not serve /metrics");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        body.contains(r#"consumer_group="eventbridge-consumer-primary""#),
        "no demo data in:\n{body}"
    );
    assert!(body.contains("genesys_eventbridge_up 1"), "{body}");
}

#[test]
fn https_without_ca_certificates_names_them_and_where_they_were_looked_for() {
    let (bundle, dir) = no_ca_certificates("https");
    let out = Command::new(BIN)
        .args(["--genesys.region", "mypurecloud.de"])
        .args([
            "--web.listen-address",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .env_clear()
        .env("GENESYS_CLIENT_ID", "id")
        .env("GENESYS_CLIENT_SECRET", "secret")
        .env("SSL_CERT_FILE", &bundle)
        .env("SSL_CERT_DIR", &dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{logs}");
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("CA certificates"))
        .collect();
    assert_eq!(lines.len(), 1, "one line about CA certificates in:\n{logs}");
    let line = lines[0];
    for expected in [
        "https://api.mypurecloud.de",
        &format!("SSL_CERT_FILE={}", bundle.display()),
        &format!("SSL_CERT_DIR={}", dir.display()),
        "ca-certificates",
    ] {
        assert!(line.contains(expected), "{expected:?} missing from: {line}");
    }
    assert!(!line.contains("secret"), "{line}");
}
