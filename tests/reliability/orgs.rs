//! Many organisations: one organisation's fault beside a healthy one, and
//! reloads of the configuration file while Prometheus probes. The healthy
//! organisation is probed as Prometheus would (`/probe?target=healthy`, every
//! 100 ms, its timeout header sent); the faulty one is probed alongside at
//! the same pace.

use super::*;

use std::sync::atomic::Ordering;

use clap::Parser;
use genesys_cloud_simulator::{AwsAccount, SimConfig};
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
        let exp = Exporter::start(file_config(&path)).await;
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

// ---------------------------------------------------------------------------
// The AWS side of several organisations: one's fault beside two healthy ones.

/// The AWS cases' organisations: the healthy ones, then the faulty one.
const AWS_ORGS: [&str; 3] = ["healthy-a", "healthy-b", "faulty"];
/// Each account's sources: those of the organisation's two integrations.
const SUFFIXES: [&str; 2] = ["eventbridge-prod", "eventbridge-audit"];
/// A healthy AWS cycle: per source a DescribeEventSource, a ListRules and a
/// ListTargetsByRule (one rule each), then one GetMetricData for all.
const AWS_PER_CYCLE: usize = 7;
/// How long the probes' usual time is taken, before the fault and after
/// the recovery, so that a machine getting busier or quieter during the case
/// shows on both sides of the fault.
const USUAL: Duration = Duration::from_millis(1500);
/// How much slower, by their medians, the healthy organisations' probes may
/// be during the fault than usually. A probe held up by the fault would wait
/// for its retries or its hang, a second or more against about 20 ms: ten
/// times and more. Other work on a busy 2-core machine (the suite's static
/// build, the other cases) moves the medians by up to half.
const SLOWER_AT_MOST: f64 = 3.0;

fn aws_requests(sim: &Simulator) -> usize {
    sim.describe_event_source_requests()
        + sim.list_rules_requests()
        + sim.list_targets_by_rule_requests()
        + sim.get_metric_data_requests()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

struct AwsOrgs {
    /// In the order of [`AWS_ORGS`].
    sims: Vec<Simulator>,
    exp: Arc<Exporter>,
    _dir: tempfile::TempDir,
}

/// What one window of probes saw, per organisation in the order of
/// [`AWS_ORGS`].
type Window = Vec<(Vec<Scrape>, Slowest)>;

impl AwsOrgs {
    /// Three organisations of the file with the AWS collector on, each with
    /// a simulator of its own whose account holds its integrations' sources.
    async fn start() -> AwsOrgs {
        let dir = tempfile::tempdir().unwrap();
        let mut file = String::from("organizations:\n");
        let mut sims = Vec::new();
        for name in AWS_ORGS {
            let sim = simulator(sim_for(name)).await;
            sim.set_aws(AwsAccount::healthy(sim.organization_id(), &SUFFIXES));
            file += &entry(dir.path(), name, &sim);
            file += &format!("    aws: {{endpoint_url: '{}'}}\n", sim.base_url());
            sims.push(sim);
        }
        let path = dir.path().join("orgs.yml");
        write(&path, &file);
        let mut config = file_config(&path);
        // Every probe asks AWS, as every probe queries Genesys Cloud here;
        // the file allows 1m at least.
        for org in &mut config.orgs.configured {
            org.aws.ttl = Duration::ZERO;
        }
        let exp = Exporter::start(config).await;
        AwsOrgs {
            sims,
            exp: Arc::new(exp),
            _dir: dir,
        }
    }

    fn healthy(&self) -> &[Simulator] {
        &self.sims[..2]
    }

    fn faulty(&self) -> &Simulator {
        &self.sims[2]
    }

    fn probe(&self, target: &str) -> Probe {
        Probe::at(&self.exp.url(&format!("/probe?target={target}")))
    }

    /// Probes every organisation every [`INTERVAL`] for `span`, side by side.
    async fn window(&self, span: Duration) -> Window {
        let tasks: Vec<_> = AWS_ORGS
            .iter()
            .map(|name| {
                let mut p = self.probe(name);
                tokio::spawn(async move {
                    let scrapes = p.scrape_for(span).await;
                    (scrapes, p.slowest)
                })
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("the probes answer"));
        }
        out
    }
}

/// Every probe of a healthy organisation answered with fresh data and
/// figures from an AWS cycle of its own: its DescribeEventSource count rose
/// by one a source from the probe before.
fn fresh_throughout(scrapes: &[Scrape], before: &Scrape) {
    let described = |s: &Scrape| s.aws_requests("DescribeEventSource", "200");
    let mut last = described(before);
    for s in scrapes {
        assert!(s.up() == 1.0 && s.has_data(), "{}", s.body);
        assert!(s.aws_up() == 1.0 && s.has_aws_data(), "{}", s.body);
        assert_eq!(described(s), last + SUFFIXES.len() as f64, "{}", s.body);
        last = described(s);
    }
}

/// The healthy organisations' probe times in these windows.
fn healthy_times(windows: &[&Window]) -> Vec<Duration> {
    (windows.iter())
        .flat_map(|w| w[..2].iter())
        .flat_map(|(scrapes, _)| scrapes.iter().map(|s| s.took))
        .collect()
}

fn slowest_of(windows: &[&Window], also: &[Slowest]) -> Slowest {
    let mut slowest = Slowest::default();
    let all = windows.iter().flat_map(|w| w.iter().map(|(_, s)| *s));
    for s in all.chain(also.iter().copied()) {
        slowest.own = slowest.own.max(s.own);
        slowest.wall = slowest.wall.max(s.wall);
    }
    slowest
}

/// `fault` for every AWS request to `sim` for the rest of the case.
fn every_aws_request(sim: &Simulator, fault: &Fault) {
    for _ in 0..1000 {
        sim.push_describe_event_source_fault(fault.clone());
        sim.push_list_rules_fault(fault.clone());
        sim.push_list_targets_by_rule_fault(fault.clone());
        sim.push_get_metric_data_fault(fault.clone());
    }
}

/// The healthy organisations during the fault: fresh throughout, one AWS
/// cycle a probe (`sent_before`: their simulators' AWS requests when it
/// began). Their AWS requests in all.
fn healthy_throughout(
    orgs: &AwsOrgs,
    before: &Window,
    during: &Window,
    sent_before: &[usize],
) -> usize {
    let mut all = 0;
    for (k, sim) in orgs.healthy().iter().enumerate() {
        let (scrapes, _) = &during[k];
        fresh_throughout(scrapes, before[k].0.last().expect("probed before"));
        let sent = aws_requests(sim) - sent_before[k];
        assert_eq!(sent, AWS_PER_CYCLE * scrapes.len(), "one AWS cycle a probe");
        all += sent;
    }
    all
}

/// How an AWS fault is made, and what the faulty organisation may send.
struct AwsFault {
    fault: Fault,
    /// Watched from the faulty organisation's first probe after the fault.
    bound_faulty: &'static str,
    /// The requests the faulty organisation sent, its probes during the
    /// fault and the first of them: `measured` for the page, or a failure.
    check_faulty: fn(usize, &[Scrape], &Scrape) -> String,
}

/// The fault on the faulty organisation's AWS side, the healthy ones probed
/// beside it: before, during (after the faulty one's first probe met the
/// fault) and after its recovery.
async fn beside_an_aws_fault(how: AwsFault) -> Row {
    let orgs = AwsOrgs::start().await;
    let mut probes: Vec<Probe> = AWS_ORGS.iter().map(|n| orgs.probe(n)).collect();
    let mut good = Vec::new();
    for p in &mut probes {
        let s = good_scrape(p).await;
        assert_eq!(s.aws_up(), 1.0, "healthy AWS first:\n{}", s.body);
        good.push(s);
    }
    let usual_before = orgs.window(USUAL).await;
    every_aws_request(orgs.faulty(), &how.fault);
    let f0 = aws_requests(orgs.faulty());
    let first = probes[2].scrape().await;
    let h0: Vec<usize> = orgs.healthy().iter().map(aws_requests).collect();
    let during = orgs.window(SPAN).await;
    let faulty_sent = aws_requests(orgs.faulty()) - f0;
    let healthy_sent = healthy_throughout(&orgs, &usual_before, &during, &h0);
    let faulty_probes = &during[2].0;
    let faulty_measured = (how.check_faulty)(faulty_sent, faulty_probes, &first);
    for s in std::iter::once(&first).chain(faulty_probes) {
        assert!(
            s.up() == 1.0 && s.has_data(),
            "Genesys unchanged:\n{}",
            s.body
        );
        assert!(s.aws_up() == 0.0 && s.has_aws_data(), "{}", s.body);
    }
    orgs.faulty().clear_faults();
    let healed = Instant::now();
    let recovery = recover_aws(&mut probes[2], healed, Duration::from_secs(5)).await;
    let usual_after = orgs.window(USUAL).await;
    let usual = median(healthy_times(&[&usual_before, &usual_after]));
    let slowed = median(healthy_times(&[&during]));
    let ratio = slowed.as_secs_f64() / usual.as_secs_f64().max(1e-6);
    assert!(
        ratio <= SLOWER_AT_MOST,
        "the healthy probes took {slowed:?} against {usual:?} usually"
    );
    let probes_during: usize = during[..2].iter().map(|(s, _)| s.len()).sum();
    let slowest = slowest_of(
        &[&usual_before, &during, &usual_after],
        &probes.iter().map(|p| p.slowest).collect::<Vec<_>>(),
    );
    for sim in &orgs.sims {
        sim.shutdown();
    }
    Row {
        measured: format!(
            "healthy: {healthy_sent} AWS requests for {probes_during} probes, median probe {} against {} usually ({ratio:.2} x); faulty: {faulty_measured}",
            ms(slowed),
            ms(usual)
        ),
        bound: format!(
            "healthy: one AWS cycle ({AWS_PER_CYCLE} requests) per probe, median probe ≤ {SLOWER_AT_MOST} x the usual; faulty: {}",
            how.bound_faulty
        ),
        served: format!(
            "healthy: {}, AWS up 1 with each probe's own figures; faulty: {}, AWS up 0 with the last AWS figures",
            served(&good[0], during[0].0.last().unwrap()),
            served(&good[2], faulty_probes.last().unwrap_or(&first)),
        ),
        recovery: Some(recovery),
        recovery_bound: Some(Duration::from_secs(5)),
        slowest,
    }
}

/// Probes every [`INTERVAL`] until `aws_up` is 1 with a cycle of its own;
/// the time since `healed` (less any stall), which must stay under `limit`.
async fn recover_aws(probe: &mut Probe, healed: Instant, limit: Duration) -> Duration {
    let stalled_before = stalled();
    let since = || healed.elapsed().saturating_sub(stalled() - stalled_before);
    loop {
        let s = probe.scrape().await;
        if s.aws_up() == 1.0 && s.has_aws_data() {
            let took = since();
            assert!(took <= limit, "recovered after {took:?}, bound {limit:?}");
            return took;
        }
        assert!(
            since() <= limit,
            "AWS not recovered {limit:?} after it healed; last probe:\n{}",
            s.body
        );
        tokio::time::sleep(INTERVAL).await;
    }
}

fn hung_probes(sent: usize, probes: &[Scrape], first: &Scrape) -> String {
    let all: Vec<&Scrape> = std::iter::once(first).chain(probes).collect();
    for s in &all {
        assert!(
            s.took <= BUDGET,
            "a probe of the hanging organisation took {:?}, past its budget",
            s.took
        );
    }
    // The first probe's requests were sent before `f0` was read after it.
    let per_probe = SUFFIXES.len();
    assert!(
        sent <= per_probe * (all.len()),
        "{sent} AWS requests for {} probes",
        all.len()
    );
    let slowest = all.iter().map(|s| s.took).max().unwrap_or_default();
    format!(
        "{sent} AWS requests for {} probes, slowest {}",
        all.len(),
        secs(slowest)
    )
}

fn throttled_probes(sent: usize, probes: &[Scrape], first: &Scrape) -> String {
    assert_eq!(
        first.aws_requests("DescribeEventSource", "400"),
        SUFFIXES.len() as f64,
        "the probe that met the throttling sent one request a source"
    );
    assert_eq!(sent, SUFFIXES.len(), "no AWS request during the cooldown");
    format!(
        "{sent} AWS requests (the throttled ones), then 0 in {} for {} probes",
        secs(SPAN),
        probes.len()
    )
}

pub async fn beside_an_aws_hang() -> Row {
    beside_an_aws_fault(AwsFault {
        fault: Fault::Hang,
        bound_faulty: "≤ 2 AWS requests per probe (one a source, no retry past the budget), every probe within its 2.5 s budget",
        check_faulty: hung_probes,
    })
    .await
}

pub async fn beside_aws_throttling() -> Row {
    beside_an_aws_fault(AwsFault {
        fault: Fault::aws(400, "ThrottlingException", "Rate exceeded"),
        bound_faulty: "2 AWS requests (one a source) when throttled, then none in the 4–5 s cooldown",
        check_faulty: throttled_probes,
    })
    .await
}

/// The exporter's configuration with `path` as its file, on any free port.
fn file_config(path: &std::path::Path) -> Config {
    let cli = Cli::try_parse_from([
        "genesys-eventbridge-exporter",
        "--web.listen-address",
        "127.0.0.1:0",
        "--config.file",
        path.to_str().unwrap(),
    ])
    .unwrap();
    Config::from_cli(cli, None).expect("valid")
}
