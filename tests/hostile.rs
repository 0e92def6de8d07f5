//! Hostile clients and broken input. Each case runs the real exporter
//! binary (so that the attack, run from this process, competes with it for
//! the CPU as another program would) and attacks it over loopback: slow
//! connections hogging the slots, password floods, timing probes for user
//! names, log floods, and files without end. Attackers bind their sockets
//! to 127.0.0.2 and up, the Prometheus-like scraper to 127.0.0.1 (Linux
//! routes all of 127/8 to the loopback interface).
//!
//! Like `tests/reliability.rs`, this test runs on the runner of
//! `tests/common/runner.rs`, in stages (see `CASES`). Each case records one
//! JSON row under `$HOSTILE_DIR` (default `<target dir>/hostile`) for
//! `scripts/reliability-report`, which renders them into
//! `docs/reliability.md`.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::pki::{TLS, pki};
use common::runner::{self, ALL, Case, CaseFuture, Outcome, Outcome::*, Rows, Suite};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The exporter under test; `HOSTILE_BINARY` runs the cases against
/// another build (an older one, to see each case fail there).
fn binary() -> PathBuf {
    std::env::var_os("HOSTILE_BINARY").map_or_else(
        || env!("CARGO_BIN_EXE_genesys-eventbridge-exporter").into(),
        PathBuf::from,
    )
}
const SCRAPER: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// How long the hogs hold and reopen their connections, as the issue asks.
const HOG_TIME: Duration = Duration::from_secs(30);
/// Slow connections the hogs keep open.
const HOG_CONNECTIONS: usize = 600;
/// Each scrape must answer 200 within this, while the hogs run.
const SCRAPE_BOUND: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------
// What a case reports.

/// One line of the hostile-clients table in `docs/reliability.md`: `bound`
/// and `seen` are asserted and must match the page exactly; `measured`
/// varies from run to run within the bound.
struct Row {
    measured: String,
    bound: String,
    seen: String,
}

impl runner::Row for Row {
    fn summary(&self) -> String {
        self.measured.clone()
    }
    fn fields(&self) -> Value {
        json!({"measured": self.measured, "bound": self.bound, "seen": self.seen})
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

// ---------------------------------------------------------------------------
// Certificates: those of tests/common/pki.rs.

/// Writes a web configuration next to the certificates.
fn web_config(name: &str, yaml: &str) -> Option<PathBuf> {
    let dir = pki()?;
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    Some(path)
}

// ---------------------------------------------------------------------------
// The exporter binary.

struct Exporter {
    child: Child,
    addr: SocketAddr,
    tls: bool,
    /// Every line it has logged.
    log: Arc<Mutex<Vec<String>>>,
}

/// No case may let the exporter take more than this of memory: a file read
/// without end fails the case instead of the machine.
const MEMORY_LIMIT: u64 = 2 << 30;

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .args([
            "--demo",
            "--web.listen-address",
            "127.0.0.1:0",
            "--log.format",
            "json",
        ])
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let limit = libc::rlimit {
        rlim_cur: MEMORY_LIMIT,
        rlim_max: MEMORY_LIMIT,
    };
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        command.pre_exec(move || match libc::setrlimit(libc::RLIMIT_AS, &limit) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
    command
}

impl Exporter {
    fn start(args: &[&str]) -> Exporter {
        let tls = args.windows(2).any(|w| {
            w[0] == "--web.config.file"
                && std::fs::read_to_string(w[1]).is_ok_and(|t| t.contains("tls_server_config"))
        });
        let mut child = command(args).spawn().expect("the exporter binary starts");
        let followed = common::stderr::follow(&mut child, |_, _| true);
        let addr = followed.address().parse::<SocketAddr>().unwrap();
        let log = followed.lines;
        Exporter {
            child,
            addr,
            tls,
            log,
        }
    }

    fn log_lines(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// A client as Prometheus is one: from 127.0.0.1, a new connection per
    /// scrape (the harder case: each must be let in), trusting the CA.
    fn scraper(&self) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .local_address(IpAddr::V4(SCRAPER))
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(10));
        if self.tls {
            let ca = std::fs::read(pki().unwrap().join("ca.crt")).unwrap();
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        }
        builder.build().unwrap()
    }

    /// `name{labels}` from a scrape.
    async fn metric(&self, name: &str, labels: &str) -> f64 {
        let body = self
            .scraper()
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let prefix = format!("{name}{labels} ");
        body.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{prefix} in\n{body}"))
            .parse()
            .unwrap()
    }

    async fn dropped(&self, reason: &str) -> f64 {
        self.metric(
            "genesys_eventbridge_web_connections_dropped_total",
            &format!("{{reason=\"{reason}\"}}"),
        )
        .await
    }

    fn assert_healthy(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the exporter exited"
        );
        let log = self.log.lock().unwrap();
        assert!(
            !log.iter().any(|l| l.contains("panicked")),
            "the exporter panicked:\n{}",
            log.join("\n")
        );
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection from `source`.
async fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(to).await
}

fn attacker(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n as u8))
}

// ---------------------------------------------------------------------------
// Connection hogs.

/// `HOG_CONNECTIONS` slow connections from `addresses` attacker addresses,
/// each sending the start of a request (plain) or a TLS record header
/// (TLS) and nothing more, reopened as soon as the exporter closes it,
/// for `HOG_TIME`; meanwhile a scrape from 127.0.0.1 every second.
async fn hog(addresses: usize, tls: bool) -> Outcome<Row> {
    let args: Vec<String> = match tls {
        false => vec![],
        true => match web_config(&format!("hog-{addresses}.yml"), TLS) {
            Some(path) => vec!["--web.config.file".into(), path.display().to_string()],
            None => return Skipped("openssl not available".into()),
        },
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut exp = Exporter::start(&args);
    let scraper = exp.scraper();
    // Warm: the first scrape runs the demo query.
    let first = scraper.get(exp.url("/metrics")).send().await.unwrap();
    assert_eq!(first.status(), 200);

    let started = Instant::now();
    let deadline = started + HOG_TIME;
    let opened = Arc::new(AtomicU64::new(0));
    let mut hogs = tokio::task::JoinSet::new();
    for i in 0..HOG_CONNECTIONS {
        let (source, to, opened) = (attacker(i % addresses), exp.addr, opened.clone());
        hogs.spawn(async move {
            let start: &[u8] = match tls {
                false => b"GET /metrics HTTP/1.1\r\nHost: x\r\n",
                true => &[0x16, 0x03, 0x01, 0x02, 0x00],
            };
            while Instant::now() < deadline {
                opened.fetch_add(1, Ordering::Relaxed);
                let Ok(mut conn) = connect_from(source, to).await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = conn.write_all(start).await;
                let mut buf = [0u8; 256];
                let left = deadline.saturating_duration_since(Instant::now());
                // Held until the exporter closes it (or the attack ends).
                let _ = tokio::time::timeout(left, async {
                    while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
                })
                .await;
            }
        });
    }
    // Let the hogs take the slots first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    while Instant::now() + Duration::from_secs(1) < deadline {
        let tick = Instant::now();
        let sent = Instant::now();
        match scraper.get(exp.url("/metrics")).send().await {
            Ok(r) if r.status() == 200 => match r.bytes().await {
                Ok(_) => latencies.push(sent.elapsed()),
                Err(e) => failures.push(format!("body: {e:?}")),
            },
            Ok(r) => failures.push(format!("status {}", r.status())),
            Err(e) => failures.push(format!("{e:?}")),
        }
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed())).await;
    }
    while hogs.join_next().await.is_some() {}
    exp.assert_healthy();
    let scrapes = latencies.len() + failures.len();
    let slowest = latencies.iter().max().copied().unwrap_or_default();
    let median_latency = median(&mut latencies.clone());
    let tried = opened.load(Ordering::Relaxed);
    println!(
        "  hog {addresses} address(es), tls {tls}: {scrapes} scrapes, {} failed {failures:?}; slowest {slowest:?}, median {median_latency:?}; {tried} connections tried",
        failures.len(),
    );
    assert!(
        failures.is_empty(),
        "scrapes failed under the hog: {failures:?}"
    );
    assert!(
        slowest < SCRAPE_BOUND,
        "a scrape took {slowest:?} under the hog"
    );
    assert!(
        scrapes as u64 >= HOG_TIME.as_secs() - 3,
        "only {scrapes} scrapes"
    );
    let (limit, evicted) = (
        exp.dropped("address_limit").await,
        exp.dropped("evicted").await,
    );
    println!(
        "  hog {addresses} address(es), tls {tls}: dropped: address_limit {limit}, evicted {evicted}"
    );
    // What the operator sees: the per-address limit for one address; the
    // cap and evictions for eight.
    let seen = if addresses == 1 {
        assert!(limit > 0.0, "the address limit was never reached");
        "`connections_dropped_total{reason=\"address_limit\"}` rises"
    } else {
        assert!(evicted > 0.0, "no connection was evicted");
        "`connections_dropped_total{reason=\"evicted\"}` rises"
    };
    Ran(Row {
        measured: format!(
            "{scrapes} scrapes: slowest {}, median {}; {tried} hog connections tried, {limit} refused at the address limit, {evicted} evicted",
            ms(slowest),
            ms(median_latency),
        ),
        bound: format!(
            "every scrape 200 within {} s, one a second for {} s",
            SCRAPE_BOUND.as_secs(),
            HOG_TIME.as_secs()
        ),
        seen: seen.into(),
    })
}

async fn hog_one_plain() -> Outcome<Row> {
    hog(1, false).await
}
async fn hog_eight_plain() -> Outcome<Row> {
    hog(8, false).await
}
async fn hog_one_tls() -> Outcome<Row> {
    hog(1, true).await
}
async fn hog_eight_tls() -> Outcome<Row> {
    hog(8, true).await
}

// ---------------------------------------------------------------------------
// Passwords.

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// One request on a new connection from `source`; the status and the time
/// to the status line.
async fn request(source: IpAddr, to: SocketAddr, authorization: &str) -> (u16, Duration) {
    let mut conn = connect_from(source, to).await.expect("connects");
    let head = format!(
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {authorization}\r\n\r\n"
    );
    let sent = Instant::now();
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let mut got = 0;
    while got < 12 {
        match conn.read(&mut buf[got..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let took = sent.elapsed();
    let status = std::str::from_utf8(&buf[..got])
        .ok()
        .and_then(|t| t.get(9..12))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, took)
}

const FLOOD: usize = 150;

async fn password_flood() -> Row {
    let hash = bcrypt::hash("right", 10).unwrap();
    let path = std::env::temp_dir().join(format!("hostile-flood-{}.yml", std::process::id()));
    std::fs::write(
        &path,
        format!("basic_auth_users:\n  prometheus: '{hash}'\n"),
    )
    .unwrap();
    // The flood's 150 connections all reach HTTP: the login limit is what is tested.
    let mut exp = Exporter::start(&[
        "--web.config.file",
        path.to_str().unwrap(),
        "--web.max-connections-per-ip",
        "200",
    ]);
    let to = exp.addr;
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..FLOOD {
        flood.spawn(async move {
            request(attacker(0), to, &basic("prometheus", "wrong"))
                .await
                .0
        });
    }
    // The flood is in before the login.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, login) = request(IpAddr::V4(SCRAPER), to, &basic("prometheus", "right")).await;
    let mut statuses = Vec::new();
    while let Some(s) = flood.join_next().await {
        statuses.push(s.unwrap());
    }
    let count = |code| statuses.iter().filter(|&&s| s == code).count();
    let (denied, throttled) = (count(401), count(429));
    println!(
        "  password flood: correct login {status} in {login:?}; flood: {denied} × 401, {throttled} × 429"
    );
    assert_eq!(status, 200);
    assert!(login < SCRAPE_BOUND, "the correct login took {login:?}");
    let metric = |name: &'static str| {
        let exp = &exp;
        async move {
            let body = exp
                .scraper()
                .get(exp.url("/metrics"))
                .header("authorization", basic("prometheus", "right"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            body.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap()
        }
    };
    let counted = (
        metric("genesys_eventbridge_web_failed_logins_total ").await,
        metric("genesys_eventbridge_web_throttled_logins_total ").await,
    );
    exp.assert_healthy();
    println!(
        "  password flood: correct login {status} in {login:?}; flood: {denied} × 401, {throttled} × 429; counted {counted:?}"
    );
    assert_eq!(status, 200);
    assert!(login < SCRAPE_BOUND, "the correct login took {login:?}");
    assert_eq!(denied + throttled, FLOOD, "{statuses:?}");
    assert_eq!(
        denied, 10,
        "wrong passwords checked: the burst of the login limit"
    );
    assert_eq!(counted, (denied as f64, throttled as f64));
    let _ = std::fs::remove_file(&path);
    Row {
        measured: format!(
            "correct login in {}; flood: {denied} × 401, {throttled} × 429",
            ms(login)
        ),
        bound: format!(
            "the correct login within {} s; at most 10 checked, the rest 429",
            SCRAPE_BOUND.as_secs()
        ),
        seen: "`failed_logins_total` +10, `throttled_logins_total` +140".into(),
    }
}

/// Wrong password for an existing user against an unknown user, each
/// request from an address of its own (so that the login limit never
/// answers instead), alternating, at each cost.
async fn timing() -> Row {
    let mut figures = Vec::new();
    for (cost, pairs) in [(5u32, 40usize), (10, 20), (12, 12)] {
        let hash = bcrypt::hash("right", cost).unwrap();
        let path =
            std::env::temp_dir().join(format!("hostile-timing-{cost}-{}.yml", std::process::id()));
        std::fs::write(
            &path,
            format!("basic_auth_users:\n  prometheus: '{hash}'\n"),
        )
        .unwrap();
        let mut exp = Exporter::start(&["--web.config.file", path.to_str().unwrap()]);
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for i in 0..pairs * 2 + 2 {
            let source = IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, 1 + (i % 250) as u8));
            let (user, into) = if i % 2 == 0 {
                ("prometheus", &mut known)
            } else {
                ("nobody", &mut unknown)
            };
            let (status, took) = request(source, exp.addr, &basic(user, "wrong")).await;
            assert_eq!(status, 401);
            // The first pair warms the connection path up.
            if i >= 2 {
                into.push(took);
            }
        }
        exp.assert_healthy();
        let (k, u) = (median(&mut known), median(&mut unknown));
        let ratio = u.as_secs_f64() / k.as_secs_f64();
        println!(
            "  timing at cost {cost}: existing user, wrong password {k:?}; unknown user {u:?}; ratio {ratio:.3} ({pairs} pairs)"
        );
        figures.push((cost, k, u, ratio));
        let _ = std::fs::remove_file(&path);
    }
    // Within a quarter: an unknown user answered without a bcrypt run
    // would be a thousand times quicker, and a dummy hash of another cost
    // a power of two off per step of cost; the pairs alternate, so that
    // other work on the machine weighs on both sides alike.
    for (cost, k, u, ratio) in &figures {
        assert!(
            (0.8..=1.25).contains(ratio),
            "cost {cost}: existing {k:?}, unknown {u:?}"
        );
    }
    let each: Vec<String> = figures
        .iter()
        .map(|(cost, k, u, _)| format!("cost {cost}: {} / {}", ms_or_micro(*k), ms_or_micro(*u)))
        .collect();
    Row {
        measured: format!("median, existing user / unknown user: {}", each.join("; ")),
        bound: "medians within a quarter (0.8–1.25 x) at each cost".into(),
        seen: "nothing: neither is told apart".into(),
    }
}

fn ms_or_micro(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------
// Log floods.

/// A ClientHello naming an IP address as server name (RFC 6066 forbids it;
/// scanners send it), which makes the TLS library warn.
fn client_hello_with_ip_sni() -> Vec<u8> {
    let name = b"127.0.0.1";
    let mut sni = Vec::new();
    sni.extend(((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend((name.len() as u16).to_be_bytes());
    sni.extend(name);
    let mut extensions = vec![0, 0];
    extensions.extend((sni.len() as u16).to_be_bytes());
    extensions.extend(sni);
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.push(0);
    body.extend([0, 2, 0xc0, 0x2b, 1, 0]);
    body.extend((extensions.len() as u16).to_be_bytes());
    body.extend(extensions);
    let mut handshake = vec![1];
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, 3, 1];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

const LOG_FLOOD: usize = 300;
/// Lines the log may gain: ten per source and a few other lines.
const LOG_BOUND: usize = 40;

async fn log_flood() -> Outcome<Row> {
    let Some(path) = web_config("logs.yml", TLS) else {
        return Skipped("openssl not available".into());
    };
    let mut exp = Exporter::start(&["--web.config.file", path.to_str().unwrap()]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = exp.log_lines();
    let hello = client_hello_with_ip_sni();
    for i in 0..LOG_FLOOD * 2 {
        let Ok(mut conn) = connect_from(attacker(i % 4), exp.addr).await else {
            continue;
        };
        let garbage: &[u8] = b"\x16\x03\x01\x00\x05hello, this is not TLS\r\n\r\n";
        let _ = conn
            .write_all(if i % 2 == 0 { &hello } else { garbage })
            .await;
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    exp.assert_healthy();
    let lines: Vec<String> = exp.log.lock().unwrap()[before..].to_vec();
    let sni = lines.iter().filter(|l| l.contains("Illegal SNI")).count();
    println!(
        "  log flood: {} handshakes; the log gained {} lines, {sni} of them the SNI warning",
        LOG_FLOOD * 2,
        lines.len()
    );
    assert!(sni >= 1, "the IP-as-SNI warning never came: {lines:?}");
    assert!(
        lines.len() <= LOG_BOUND,
        "{} lines, the first: {}",
        lines.len(),
        lines[0]
    );
    let dropped = exp.dropped("tls_handshake_error").await;
    Ran(Row {
        measured: format!(
            "{} lines logged, {sni} of them the SNI warning; {dropped} handshakes failed",
            lines.len()
        ),
        bound: format!("at most {LOG_BOUND} lines for {} handshakes", LOG_FLOOD * 2),
        seen: "`log lines suppressed` with the count, once a minute; `tls_handshake_error` rises"
            .into(),
    })
}

// ---------------------------------------------------------------------------
// Files without end, and costs no scrape can afford.

async fn files() -> Outcome<Row> {
    let Some(dir) = pki() else {
        return Skipped("openssl not available".into());
    };
    let big = dir.join("big.pem");
    let mut pem = std::fs::read(dir.join("server.crt")).unwrap();
    while pem.len() <= 2 << 20 {
        pem.extend_from_slice(b"# padding: 2 MiB in all\n");
    }
    std::fs::write(&big, &pem).unwrap();
    let big_yaml = dir.join("big.yml");
    std::fs::write(&big_yaml, "# a comment\n".repeat(200_000)).unwrap();
    let cost_31 = "$2b$31$hnQy4GzehK8SlpGUuUWX3u.1pVnXgOCIkA7AH8zu9A9o.vQPGagrm";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "cert_file /dev/zero",
            "tls_server_config:\n  cert_file: /dev/zero\n  key_file: server.key\n".into(),
            "cert_file /dev/zero: larger than 1 MiB",
        ),
        (
            "key_file of 2 MiB",
            format!(
                "tls_server_config:\n  cert_file: server.crt\n  key_file: {}\n",
                big.display()
            ),
            "big.pem: larger than 1 MiB",
        ),
        (
            "client_ca_file /dev/zero",
            format!(
                "{TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: /dev/zero\n"
            ),
            "client_ca_file /dev/zero: larger than 1 MiB",
        ),
        (
            "bcrypt cost 31",
            format!("basic_auth_users:\n  alice: '{cost_31}'\n"),
            "bcrypt cost 31 is above 14",
        ),
        (
            "YAML nested 100,000 deep",
            format!("basic_auth_users: {}", "[".repeat(100_000)),
            "nested deeper than 32 levels",
        ),
    ];
    let mut outcomes = Vec::new();
    let run = |config: &Path| -> (Option<i32>, String, Duration) {
        let started = Instant::now();
        let mut child = command(&["--web.config.file", config.to_str().unwrap()])
            .spawn()
            .unwrap();
        // A read without end would take all memory (up to the limit) or hang.
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
        (status.code(), stderr, started.elapsed())
    };
    let mut slowest = Duration::ZERO;
    for (what, yaml, expected) in &cases {
        let path = dir.join(format!("files-{}.yml", outcomes.len()));
        std::fs::write(&path, yaml).unwrap();
        let (code, stderr, took) = tokio::task::block_in_place(|| run(&path));
        slowest = slowest.max(took);
        println!("  {what}: exit {code:?} in {took:?}: {}", stderr.trim());
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.lines().count() == 1,
            "{what}: {stderr:?} does not say {expected:?}"
        );
        outcomes.push(*what);
    }
    // The configuration file, secret files and durations, the same way.
    let secret = dir.join("org.secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let org = |secret_file: &str| {
        format!(
            "organizations:\n  - name: acme\n    region: mypurecloud.de\n    client_id: id\n    client_secret_file: {secret_file}\n"
        )
    };
    let nested = dir.join("nested.yml");
    std::fs::write(&nested, format!("consumer_groups: {}", "[".repeat(100_000))).unwrap();
    let zero_secret = dir.join("zero-secret.yml");
    std::fs::write(&zero_secret, org("/dev/zero")).unwrap();
    let long_window = dir.join("long-window.yml");
    std::fs::write(
        &long_window,
        org(&secret.display().to_string()) + "    query: {window: 4500000d}\n",
    )
    .unwrap();
    let repeated = "1000000h".repeat(2000);
    for (what, args, expected) in [
        (
            "--config.file /dev/zero",
            vec!["--config.file", "/dev/zero"],
            "cannot read: larger than 1 MiB",
        ),
        (
            "--config.file nested 100,000 deep",
            vec!["--config.file", nested.to_str().unwrap()],
            "nested deeper than 32 levels",
        ),
        (
            "client_secret_file /dev/zero",
            vec!["--config.file", zero_secret.to_str().unwrap()],
            "client_secret_file: /dev/zero: larger than 64 KiB",
        ),
        (
            "query.window 4500000d in the file",
            vec!["--config.file", long_window.to_str().unwrap()],
            "query.window: 108000000h is longer than 744h",
        ),
        (
            "--query.window 4500000d",
            vec!["--query.window", "4500000d"],
            "--query.window: 108000000h is longer than 744h",
        ),
        (
            "--query.timeout of 2,000 repeated units",
            vec!["--query.timeout", repeated.as_str()],
            "--query.timeout: 2000000000h is longer than 10m",
        ),
    ] {
        let started = Instant::now();
        let out = tokio::task::block_in_place(|| command(&args).output().unwrap());
        let took = started.elapsed();
        slowest = slowest.max(took);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!(
            "  {what}: exit {:?} in {took:?}: {}",
            out.status.code(),
            stderr.trim()
        );
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.lines().count() == 1,
            "{what}: {stderr:?} does not say {expected:?}"
        );
        outcomes.push(what);
    }
    for (what, config) in [
        ("web config /dev/zero", PathBuf::from("/dev/zero")),
        ("web config of 2.3 MiB", big_yaml),
    ] {
        let (code, stderr, took) = tokio::task::block_in_place(|| run(&config));
        slowest = slowest.max(took);
        println!("  {what}: exit {code:?} in {took:?}: {}", stderr.trim());
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains("cannot read: larger than 1 MiB (the most this file may hold)"),
            "{what}: {stderr}"
        );
        outcomes.push(what);
    }
    Ran(Row {
        measured: format!("each refused at start; slowest in {}", ms(slowest)),
        bound: "exit 2 with one line naming the file or flag and the limit (1 MiB, 64 KiB for secrets, cost 14, 32 levels, 31 days, 10 min)"
            .into(),
        seen: format!("refused: {}", outcomes.join(", ")),
    })
}

// ---------------------------------------------------------------------------
// The cases.

macro_rules! cases {
    ($($id:literal, $stage:literal, $title:literal => $f:ident;)*) => {
        [$(Case { id: $id, stage: $stage, group: "", title: $title, run: || Box::pin(async { $f().await.into() }) as CaseFuture<Row> },)*]
    };
}

static CASES: [Case<Row>; 8] = cases! {
    "timing", 0, "user enumeration by timing: wrong password against unknown user, users at cost 5, 10 and 12" => timing;
    "hog-1", 2, "600 slow connections (partial request line) from one address, held and reopened" => hog_one_plain;
    "hog-8", 2, "600 slow connections (partial request line) from 8 addresses, held and reopened" => hog_eight_plain;
    "hog-1-tls", 3, "600 slow TLS connections (a record header) from one address, held and reopened" => hog_one_tls;
    "hog-8-tls", 3, "600 slow TLS connections (a record header) from 8 addresses, held and reopened" => hog_eight_tls;
    "password-flood", 1, "150 parallel wrong passwords from one address, then a correct login from another (cost 10)" => password_flood;
    "log-flood", 1, "300 ClientHellos with an IP address as server name and 300 garbage handshakes" => log_flood;
    "files", 1, "endless and oversized certificate, key, CA, web configuration, configuration and secret files; bcrypt cost 31; YAML nested 100,000 deep; windows and timeouts past any real one" => files;
};

// The timing case runs alone: it times single requests. The hogs keep two
// cores busy (each stage is an attacker and an exporter at full tilt), so
// they run a pair at a time, after the password flood, whose 1 s bound on
// one bcrypt check would otherwise measure the hogs.

fn main() -> ExitCode {
    runner::main(Suite {
        name: "hostile-client cases",
        cases: &CASES,
        at_once: &[ALL; 4],
        rows: Rows {
            env: "HOSTILE_DIR",
            name: "hostile",
        },
        canary: false,
    })
}
