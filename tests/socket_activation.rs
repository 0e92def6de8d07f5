//! `--web.systemd-socket`: the real binary started by systemd's own
//! `systemd-socket-activate` (which listens, passes the socket as systemd
//! does with `LISTEN_FDS` and `LISTEN_PID`, and starts the program at the
//! first connection), scraped with curl: plain, with TLS and basic auth from
//! `--web.config.file` as on a bound port, on two sockets at once; and
//! without a socket, one line and exit status 2.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::pki::{TLS, pki};
use common::{free_port, tools};

const BIN: &str = env!("CARGO_BIN_EXE_genesys-eventbridge-exporter");
const DEMO_GROUP: &str = "consumer_group=\"eventbridge-consumer-primary\"";

/// The exporter behind `systemd-socket-activate` on one loopback port per
/// entry of `ports`; its stderr (the activator's lines, then the
/// exporter's) goes to `log`.
struct Activated {
    child: Child,
    log: PathBuf,
}

impl Activated {
    fn start(activate: &Path, ports: &[u16], args: &[&str], log: PathBuf) -> Activated {
        let mut command = Command::new(activate);
        for port in ports {
            command.arg(format!("--listen=127.0.0.1:{port}"));
        }
        let mut child = command
            .arg(BIN)
            .args(["--demo", "--web.systemd-socket", "--no-collector.aws"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("systemd-socket-activate runs");
        // Listening once it says so for every socket; nothing runs the
        // exporter before the first connection.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Self::read(&log).matches("Listening on").count() < ports.len() {
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                panic!(
                    "systemd-socket-activate did not listen:\n{}",
                    Self::read(&log)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Activated { child, log }
    }

    fn read(log: &Path) -> String {
        std::fs::read_to_string(log).unwrap_or_default()
    }

    fn log(&self) -> String {
        Self::read(&self.log)
    }

    /// SIGTERM (the activator has become the exporter): its exit status.
    fn stop(mut self) -> Option<i32> {
        // SAFETY: a plain signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap().code()
    }
}

/// curl: status code printed last, after the body.
fn curl(curl: &Path, dir: &Path, url: &str, args: &[&str]) -> (String, String) {
    let out: Output = Command::new(curl)
        .args([
            "-sS",
            "--noproxy",
            "*",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .arg(url)
        .current_dir(dir)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (
        status.to_string(),
        format!("{body}{}", String::from_utf8_lossy(&out.stderr)),
    )
}

fn tools_present() -> Option<(PathBuf, PathBuf)> {
    Some((
        tools::program("systemd-socket-activate")?,
        tools::program("curl")?,
    ))
}

fn log_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("socket-activation");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}-{}.log", std::process::id()))
}

#[test]
fn serves_on_the_passed_socket_started_by_the_first_connection() {
    let Some((activate, curl_bin)) = tools_present() else {
        return;
    };
    let port = free_port();
    // --web.listen-address is ignored: the socket is systemd's.
    let exporter = Activated::start(
        &activate,
        &[port],
        &["--web.listen-address", "127.0.0.1:1"],
        log_file("plain"),
    );
    assert!(
        !exporter.log().contains("listening"),
        "the exporter ran before the first connection"
    );
    let url = format!("http://127.0.0.1:{port}/metrics");
    let (status, body) = curl(&curl_bin, Path::new("."), &url, &[]);
    assert_eq!(status, "200", "{body}\n{}", exporter.log());
    assert!(body.contains(DEMO_GROUP), "{body}");
    let log = exporter.log();
    let listening = log.lines().find(|l| l.contains("message=listening"));
    assert!(
        listening.is_some_and(|l| l.contains(&format!("address=127.0.0.1:{port}"))
            && l.contains("systemd_socket=true")),
        "{log}"
    );
    assert_eq!(exporter.stop(), Some(0), "SIGTERM ends it with status 0");
}

#[test]
fn tls_and_basic_auth_apply_on_the_passed_socket() {
    let Some((activate, curl_bin)) = tools_present() else {
        return;
    };
    let Some(pki) = pki() else { return };
    let hash = bcrypt::hash("correct horse", 4).unwrap();
    let web = pki.join("socket-activation.yml");
    std::fs::write(
        &web,
        format!("{TLS}basic_auth_users:\n  prometheus: '{hash}'\n"),
    )
    .unwrap();
    let port = free_port();
    let exporter = Activated::start(
        &activate,
        &[port],
        &["--web.config.file", web.to_str().unwrap()],
        log_file("tls"),
    );
    let https = format!("https://127.0.0.1:{port}/metrics");
    let ca = ["--cacert", "ca.crt"];
    let (status, body) = curl(
        &curl_bin,
        pki,
        &https,
        &[ca[0], ca[1], "-u", "prometheus:correct horse"],
    );
    assert_eq!(status, "200", "{body}\n{}", exporter.log());
    assert!(body.contains(DEMO_GROUP), "{body}");
    let (status, _) = curl(&curl_bin, pki, &https, &ca);
    assert_eq!(status, "401", "no credentials");
    let (status, _) = curl(
        &curl_bin,
        pki,
        &https,
        &[ca[0], ca[1], "-u", "prometheus:wrong"],
    );
    assert_eq!(status, "401", "a wrong password");
    // Plain HTTP on the TLS socket gets no HTTP answer.
    let (status, _) = curl(
        &curl_bin,
        pki,
        &format!("http://127.0.0.1:{port}/metrics"),
        &[],
    );
    assert_ne!(status, "200");
    assert!(
        exporter.log().contains("tls=true basic_auth=true"),
        "{}",
        exporter.log()
    );
    assert_eq!(exporter.stop(), Some(0));
}

#[test]
fn serves_on_every_passed_socket() {
    let Some((activate, curl_bin)) = tools_present() else {
        return;
    };
    let ports = [free_port(), free_port()];
    let exporter = Activated::start(&activate, &ports, &[], log_file("two"));
    for port in ports {
        let url = format!("http://127.0.0.1:{port}/-/healthy");
        let (status, body) = curl(&curl_bin, Path::new("."), &url, &[]);
        assert_eq!(status, "200", "port {port}: {body}\n{}", exporter.log());
    }
    assert_eq!(
        exporter.log().matches("message=listening").count(),
        2,
        "{}",
        exporter.log()
    );
    assert_eq!(exporter.stop(), Some(0));
}

#[test]
fn without_a_passed_socket_it_exits_2_with_one_line() {
    let out = Command::new(BIN)
        .args(["--demo", "--web.systemd-socket"])
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("--web.systemd-socket") && lines[0].contains("no socket"),
        "{stderr}"
    );
}

#[test]
fn sockets_meant_for_another_process_are_not_taken() {
    // LISTEN_PID names a process that is not this one: systemd's rule.
    let out = Command::new(BIN)
        .args(["--demo", "--web.systemd-socket"])
        .env("LISTEN_FDS", "1")
        .env("LISTEN_PID", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no socket"));
}
