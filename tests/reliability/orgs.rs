//! Many organisations: one organisation's fault beside a healthy one, and
//! reloads of the configuration file while Prometheus probes. The healthy
//! organisation is probed as Prometheus would (`/probe?target=healthy`, every
//! 100 ms, its timeout header sent); the faulty one is probed alongside at
//! the same pace.

use super::*;

use std::sync::atomic::Ordering;

use clap::Parser;
use genesys_cloud_simulator::SimConfig;
use genesys_eventbridge_exporter::config::{Cli, Config};

/// How long each case watches the fault.
const SPAN: Duration = Duration::from_secs(3);

struct Orgs {
    healthy: Simulator,
    faulty: Simulator,
    exp: Arc<Exporter>,
    path: PathBuf,
    entries: [String; 2],
    _dir: tempfile::TempDir,
}

fn sim_for(name: &str) -> SimConfig {
    SimConfig {
        client_id: format!("client-{name}"),
        client_secret: format!("secret-{name}"),
        ..sim_config(tutorial_rows())
    }
}

fn entry(dir: &Path, name: &str, sim: &Simulator) -> String {
    let secret = dir.join(format!("{name}.secret"));
    std::fs::write(&secret, format!("secret-{name}\n")).unwrap();
    format!(
        "  - name: {name}\n    api_url: {}\n    client_id: client-{name}\n    client_secret_file: {}\n    cache: {{ttl: 0s}}\n",
        sim.base_url(),
        secret.display()
    )
}

fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

impl Orgs {
    async fn start() -> Orgs {
        let dir = tempfile::tempdir().unwrap();
        let healthy = simulator(sim_for("healthy")).await;
        let faulty = simulator(sim_for("faulty")).await;
        let path = dir.path().join("orgs.yml");
        let entries = [
            entry(dir.path(), "healthy", &healthy),
            entry(dir.path(), "faulty", &faulty),
        ];
        write(&path, &format!("organizations:\n{}", entries.concat()));
        let cli = Cli::try_parse_from([
            "genesys-eventbridge-exporter",
            "--web.listen-address",
            "127.0.0.1:0",
            "--config.file",
            path.to_str().unwrap(),
        ])
        .unwrap();
        let exp = Exporter::start(Config::from_cli(cli, None).expect("valid")).await;
        Orgs {
            healthy,
            faulty,
            exp: Arc::new(exp),
            path,
            entries,
            _dir: dir,
        }
    }

    fn probe(&self, target: &str) -> Probe {
        Probe::at(&self.exp.url(&format!("/probe?target={target}")))
    }

    /// Probes the faulty organisation every [`INTERVAL`] until `stop`.
    fn probe_faulty_alongside(
        &self,
        stop: Arc<std::sync::atomic::AtomicBool>,
    ) -> tokio::task::JoinHandle<(usize, Slowest)> {
        let mut p = self.probe("faulty");
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let s = p.scrape().await;
                assert_eq!(s.up(), 0.0, "the faulty organisation fails:\n{}", s.body);
                n += 1;
                tokio::time::sleep(INTERVAL).await;
            }
            (n, p.slowest)
        })
    }
}

/// A fault on the faulty organisation, the healthy one probed through it.
async fn beside_a_fault(
    fault: Fault,
    n: usize,
    on_token: bool,
    bound_faulty: &str,
    max_faulty: impl Fn(usize) -> usize,
) -> Row {
    let orgs = Orgs::start().await;
    let mut healthy = orgs.probe("healthy");
    let good = good_scrape(&mut healthy).await;
    let mut faulty = orgs.probe("faulty");
    good_scrape(&mut faulty).await;
    let (h0, t0, f0) = (
        orgs.healthy.query_requests(),
        orgs.healthy.token_requests(),
        orgs.faulty.query_requests() + orgs.faulty.token_requests(),
    );
    if on_token {
        orgs.faulty.revoke_tokens();
        push_token(&orgs.faulty, &fault, n);
    } else {
        push_query(&orgs.faulty, &fault, n);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let alongside = orgs.probe_faulty_alongside(stop.clone());
    let during = healthy.scrape_for(SPAN).await;
    stop.store(true, Ordering::SeqCst);
    let (faulty_probes, alongside_slowest) = alongside.await.expect("the faulty probes answer");
    assert!(during.iter().all(|s| s.up() == 1.0 && s.has_data()));
    let healthy_queries = orgs.healthy.query_requests() - h0;
    assert_eq!(
        healthy_queries,
        during.len(),
        "one query per probe (TTL 0), no more"
    );
    assert_eq!(
        orgs.healthy.token_requests(),
        t0,
        "no new token for the healthy one"
    );
    let sent = orgs.faulty.query_requests() + orgs.faulty.token_requests() - f0;
    assert!(
        sent <= max_faulty(faulty_probes),
        "{sent} requests for {faulty_probes} probes"
    );
    orgs.faulty.clear_faults();
    let healed = Instant::now();
    let recovery = faulty.recover(healed, Duration::from_secs(5)).await;
    let mut slowest = healthy.slowest;
    for other in [faulty.slowest, alongside_slowest] {
        slowest.own = slowest.own.max(other.own);
        slowest.wall = slowest.wall.max(other.wall);
    }
    let row = Row {
        measured: format!(
            "healthy: {healthy_queries} query for {} probes; faulty: {sent} for {faulty_probes} probes",
            during.len()
        ),
        bound: format!("healthy: 1 query per probe, no token; faulty: {bound_faulty}"),
        served: format!("healthy: {}", served(&good, during.last().unwrap())),
        recovery: Some(recovery),
        recovery_bound: Some(Duration::from_secs(5)),
        slowest,
    };
    orgs.faulty.shutdown();
    row
}

pub async fn beside_a_hang() -> Row {
    beside_a_fault(Fault::Hang, 200, false, "≤ 1 query per probe", |p| p + 1).await
}

pub async fn beside_a_429_storm() -> Row {
    beside_a_fault(
        too_many_requests(Some("1")),
        200,
        false,
        "≤ 4 query in 3 s: one per `Retry-After: 1`",
        |_| 4,
    )
    .await
}

pub async fn beside_a_500_storm() -> Row {
    let per_probe = max_attempts(query_budget(BUDGET)) as usize;
    beside_a_fault(
        genesys_error(500, "internal.server.error", "boom"),
        1000,
        false,
        &format!("≤ {per_probe} query per probe (retries within its budget)"),
        |p| (p + 1) * per_probe,
    )
    .await
}

pub async fn beside_a_revoked_client() -> Row {
    beside_a_fault(
        respond(
            401,
            "application/json",
            r#"{"error":"invalid_client","description":"client revoked"}"#,
        ),
        1000,
        true,
        "≤ 2 requests per probe (the refused query, one token request)",
        |p| (p + 1) * 2,
    )
    .await
}

async fn reload(exp: &Exporter) -> u16 {
    http_client()
        .post(exp.url("/-/reload"))
        .send()
        .await
        .expect("reload answers")
        .status()
        .as_u16()
}

/// 200 reloads, valid and invalid in turn, while the healthy organisation
/// is probed: no probe fails and its token is kept.
pub async fn reloads_under_probes() -> Row {
    let orgs = Orgs::start().await;
    let mut healthy = orgs.probe("healthy");
    let good = good_scrape(&mut healthy).await;
    let t0 = orgs.healthy.token_requests();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let stop = stop.clone();
        let mut p = orgs.probe("healthy");
        tokio::spawn(async move {
            let mut scrapes = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                scrapes.push(p.scrape().await);
                tokio::time::sleep(INTERVAL).await;
            }
            (scrapes, p.slowest)
        })
    };
    let (mut accepted, mut refused) = (0, 0);
    let valid = format!("organizations:\n{}", orgs.entries.concat());
    for i in 0..200 {
        if i % 2 == 0 {
            write(&orgs.path, &valid);
            assert_eq!(reload(&orgs.exp).await, 200);
            accepted += 1;
        } else {
            write(&orgs.path, "organizations: [\n");
            assert_eq!(reload(&orgs.exp).await, 500);
            refused += 1;
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (scrapes, slowest) = prober.await.expect("the probes answer");
    assert!(scrapes.iter().all(|s| s.up() == 1.0 && s.has_data()));
    let tokens = orgs.healthy.token_requests() - t0;
    assert_eq!(tokens, 0, "an unchanged organisation keeps its token");
    Row {
        measured: format!(
            "{accepted} accepted, {refused} refused; {} probes, {tokens} new token",
            scrapes.len()
        ),
        bound: "every reload answered (200 or 500); no new token".into(),
        served: format!("healthy: {}", served(&good, scrapes.last().unwrap())),
        slowest,
        ..Row::default()
    }
}

/// A file that does not load, followed as it is written: refused, the
/// status gauge at 0, what runs stays; fixed, and taken.
pub async fn refused_file_then_fixed() -> Row {
    let orgs = Orgs::start().await;
    let mut healthy = orgs.probe("healthy");
    let good = good_scrape(&mut healthy).await;
    write(
        &orgs.path,
        "organizations:\n  - name: healthy\n    client_id: x\n",
    );
    let refused_at = Instant::now();
    let mut seen_refused = None;
    let mut during = Vec::new();
    while refused_at.elapsed() < Duration::from_secs(5) {
        during.push(healthy.scrape().await);
        let m = orgs.exp.scrape().await;
        if sample(&m, "genesys_eventbridge_config_last_reload_successful", &[]) == Some(0.0) {
            seen_refused = Some(refused_at.elapsed());
            break;
        }
        tokio::time::sleep(INTERVAL).await;
    }
    let refused_after = seen_refused.expect("the broken file is refused within 5 s");
    assert!(during.iter().all(|s| s.up() == 1.0 && s.has_data()));
    write(&orgs.path, &format!("organizations:\n{}", orgs.entries[0]));
    let fixed_at = Instant::now();
    let mut recovery = None;
    while fixed_at.elapsed() < Duration::from_secs(5) {
        let status = http_client()
            .get(orgs.exp.url("/probe?target=faulty"))
            .send()
            .await
            .expect("the probe answers")
            .status();
        if status == 400 {
            recovery = Some(fixed_at.elapsed());
            break;
        }
        tokio::time::sleep(INTERVAL).await;
    }
    let recovery = recovery.expect("the fixed file is taken within 5 s");
    let m = orgs.exp.scrape().await;
    assert_eq!(
        sample(&m, "genesys_eventbridge_config_last_reload_successful", &[]),
        Some(1.0)
    );
    Row {
        measured: format!("refused after {}", secs(refused_after)),
        bound: "refused within 5 s of the write; every probe of what runs answers".into(),
        served: format!("healthy: {}", served(&good, during.last().unwrap())),
        recovery: Some(recovery),
        recovery_bound: Some(Duration::from_secs(5)),
        slowest: healthy.slowest,
    }
}
