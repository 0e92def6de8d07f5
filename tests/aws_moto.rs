//! The AWS collector (contract section 12) against moto, an implementation
//! of AWS's APIs written apart from the exporter and its simulator: the real
//! binary, its AWS SDK and its signatures, on loopback. Each call the
//! collector makes is answered by moto at least once: `DescribeEventSource`,
//! `ListRules`, `ListTargetsByRule`, `GetMetricData` (Smithy RPC v2 CBOR) and
//! STS `AssumeRole`. What moto holds is seeded with boto3 beside the
//! assertions, and each case checks every series of the delivery path, not
//! a sample of them, against it.
//!
//! moto and boto3 run from the virtual environment `scripts/test` makes
//! (pinned in `tests/aws/requirements.txt`); without it these tests are
//! skipped, except in CI. `tests/aws/moto_server.py` serves moto with its
//! corrections; it stops when this process ends and its standard input
//! closes. The cases share one moto and its seed, and run concurrently.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::stderr::Followed;
use common::{eventually, get, tools};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_genesys-eventbridge-exporter");

/// moto's account for any access key it did not issue.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const SOURCE: &str = "aws.partner/genesys.com/cloud/5f0c8a2e-7b1d-4c3e-9a6f-2d4b6e8f0a1c/prod";
/// Where the exporter is told Genesys Cloud is: nothing listens there.
const GENESYS: &str = "http://127.0.0.1:9";
/// `--aws.period`, with `--aws.delay 0s`.
const PERIOD: u64 = 60;
/// The default `--threshold.max-lag`: every rule's threshold here.
const LAG_THRESHOLD: f64 = 30.0;

/// One access key per client, so that moto's record tells whose each
/// request was.
const SEED_KEY: &str = "AKIAMOTOSEED";

/// The partner event source's bus's rules: name, enabled, targets, targets
/// without a dead-letter queue.
const RULES: [(&str, bool, u32, u32); 2] = [("to-sqs", true, 2, 1), ("archive", false, 1, 1)];

/// What CloudWatch holds for `to-sqs` in the period, by metric: the Sums,
/// in the order of the rule's count series.
const COUNTS: [(&str, &str, f64); 6] = [
    ("Invocations", "genesys_eventbridge_rule_invocations", 42.0),
    (
        "FailedInvocations",
        "genesys_eventbridge_rule_failed_invocations",
        3.0,
    ),
    (
        "RetryInvocationAttempts",
        "genesys_eventbridge_rule_retry_invocation_attempts",
        7.0,
    ),
    ("ThrottledRules", "genesys_eventbridge_rule_throttled", 1.0),
    (
        "InvocationsSentToDlq",
        "genesys_eventbridge_rule_dead_letter_invocations",
        2.0,
    ),
    (
        "InvocationsFailedToBeSentToDlq",
        "genesys_eventbridge_rule_dead_letter_failures",
        1.0,
    ),
];
/// `IngestionToInvocationSuccessLatency` of `to-sqs`'s deliveries, in ms,
/// and what the exporter makes of them: Average and Maximum in seconds.
const LATENCIES_MS: [f64; 3] = [1200.0, 1800.0, 3000.0];
const LATENCY_AVERAGE: f64 = 2.0;
const LATENCY_MAXIMUM: f64 = 3.0;
/// Events the source ingested in the period, sent as two datapoints.
const EVENTS: [f64; 2] = [100.0, 20.0];

/// moto, serving and seeded.
struct Moto {
    url: String,
    python: PathBuf,
    /// Kept for its standard input: moto stops when it closes.
    _server: Child,
    /// The ends of the period an exporter asks for in the minute moto was
    /// seeded, and of the next: both hold the same figures, so a minute that
    /// turns before an exporter asks changes nothing.
    ends: [u64; 2],
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The shared moto, started and seeded by the first case that asks; `None`
/// when its virtual environment is missing (a failure in CI).
fn moto() -> Option<&'static Moto> {
    let python = venv_python()?;
    Some(MOTO.get_or_init(|| Moto::start(python)))
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir")
        .to_path_buf()
}

fn aws_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws")
}

/// The virtual environment's python, when `scripts/test` made it from the
/// current pins (it copies them into it once installed).
fn venv_python() -> Option<PathBuf> {
    let venv = target_dir().join("aws-moto/venv");
    let wanted = std::fs::read(aws_dir().join("requirements.txt")).unwrap();
    let made = std::fs::read(venv.join("requirements.txt")).ok();
    let found = made.as_ref() == Some(&wanted);
    tools::present(
        "moto and boto3 (target/aws-moto/venv, from tests/aws/requirements.txt)",
        found,
    )
    .then(|| venv.join("bin/python"))
}

/// A scratch folder of this test's.
fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("aws-moto");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An environment with AWS credentials and nothing else: no profile, no
/// instance metadata, whatever the machine has.
fn aws_env(command: &mut Command, key: &str) {
    let none = scratch().join("no-such-file");
    command
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", "moto-secret")
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Moto {
    fn start(python: PathBuf) -> Moto {
        let log = scratch().join("moto.log");
        let mut command = Command::new(&python);
        command.arg(aws_dir().join("moto_server.py"));
        aws_env(&mut command, "unused");
        let mut server = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("moto starts");
        let mut port = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        let port: u16 = port.trim().parse().unwrap_or_else(|_| {
            panic!(
                "moto prints its port; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        // The last whole period as the exporter computes it (ended
        // `--aws.delay` 0s ago, aligned to the period), and the next one, in
        // case a minute turns before an exporter asks.
        let end = unix_now() / PERIOD * PERIOD;
        let moto = Moto {
            url: format!("http://127.0.0.1:{port}"),
            python,
            _server: server,
            ends: [end, end + PERIOD],
        };
        moto.seed();
        moto
    }

    /// The partner's event source and the customer's bus, rules, targets
    /// and CloudWatch figures.
    fn seed(&self) {
        let mut calls = vec![
            // The partner's side: the source, offered to the account.
            json!(["events", "create_partner_event_source", {"Name": SOURCE, "Account": ACCOUNT}]),
            // The customer's: the partner event bus of the same name.
            json!(["events", "create_event_bus", {"Name": SOURCE, "EventSourceName": SOURCE}]),
        ];
        let queue = |name: &str| format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
        for (rule, enabled, _, _) in RULES {
            calls.push(json!(["events", "put_rule", {
                "Name": rule,
                "EventBusName": SOURCE,
                "EventPattern": r#"{"source": [{"prefix": "aws.partner/genesys.com"}]}"#,
                "State": if enabled { "ENABLED" } else { "DISABLED" },
            }]));
        }
        calls.push(json!(["events", "put_targets", {
            "Rule": "to-sqs",
            "EventBusName": SOURCE,
            "Targets": [
                {
                    "Id": "consumer",
                    "Arn": queue("consumer"),
                    "DeadLetterConfig": {"Arn": queue("consumer-dlq")},
                },
                // Without a dead-letter queue: its failed events are lost.
                {"Id": "audit", "Arn": queue("audit")},
            ],
        }]));
        calls.push(json!(["events", "put_targets", {
            "Rule": "archive",
            "EventBusName": SOURCE,
            "Targets": [{"Id": "archive", "Arn": queue("archive")}],
        }]));
        let source = json!([{"Name": "EventSourceName", "Value": SOURCE}]);
        let rule = json!([
            {"Name": "EventBusName", "Value": SOURCE},
            {"Name": "RuleName", "Value": "to-sqs"},
        ]);
        // A rule of the default bus is dimensioned by RuleName alone: not
        // this one's figures.
        let default_bus = json!([{"Name": "RuleName", "Value": "to-sqs"}]);
        let datum = |metric: &str, dimensions: &Value, at: u64, value: f64| {
            json!({
                "MetricName": metric,
                "Dimensions": dimensions,
                "Timestamp": at,
                "Value": value,
            })
        };
        let mut data = Vec::new();
        for end in self.ends {
            let at = end - PERIOD + 10;
            data.extend(EVENTS.map(|value| datum("Events", &source, at, value)));
            data.extend(COUNTS.map(|(metric, _, value)| datum(metric, &rule, at, value)));
            data.push(json!({
                "MetricName": "IngestionToInvocationSuccessLatency",
                "Dimensions": rule,
                "Timestamp": at,
                "Values": LATENCIES_MS,
                "Unit": "Milliseconds",
            }));
            data.push(datum("Invocations", &default_bus, at, 1000.0));
        }
        // Not the period's: the one before it.
        let before = self.ends[0] - 2 * PERIOD + 10;
        data.push(datum("Invocations", &rule, before, 500.0));
        calls.push(json!([
            "cloudwatch",
            "put_metric_data",
            {"Namespace": "AWS/Events", "MetricData": data},
        ]));

        let mut command = Command::new(&self.python);
        command.arg(aws_dir().join("seed.py")).arg(&self.url);
        aws_env(&mut command, SEED_KEY);
        let mut seeding = command
            .env("AWS_DEFAULT_REGION", REGION)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the seed starts");
        serde_json::to_writer(seeding.stdin.take().unwrap(), &calls).unwrap();
        let out = seeding.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "seeding moto failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The requests moto answered, in order.
    async fn record(&self) -> Vec<Value> {
        let url = format!("{}/_requests", self.url);
        get(url).await.unwrap().json().await.unwrap()
    }

    /// The requests moto answered that `key` signed: (service, operation),
    /// sorted.
    async fn requests_signed_by(&self, key: &str) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = (self.record().await.iter())
            .filter(|r| r["key"] == key)
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap().to_string();
                (s("service"), s("operation"))
            })
            .collect();
        found.sort();
        found
    }

    /// The temporary access key STS issued to a role assumed with `key`.
    async fn key_issued_to(&self, key: &str) -> String {
        let record = self.record().await;
        let issued = record
            .iter()
            .find(|r| r["key"] == key && r["operation"] == "AssumeRole")
            .and_then(|r| r["issued"].as_str());
        issued.expect("STS issued a key").to_string()
    }
}

/// The real exporter against moto, signing with `key`, with the Genesys
/// collectors off: no Genesys Cloud is needed.
struct Exporter {
    child: Child,
    addr: String,
    logs: Followed,
}

impl Exporter {
    /// The flags' organisation, its AWS collector on with `flags`.
    fn flags(moto: &Moto, key: &str, flags: &[&str]) -> Exporter {
        let mut command = Command::new(BIN);
        aws_env(&mut command, key);
        command
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("GENESYS_CLIENT_SECRET", common::CLIENT_SECRET)
            .args(["--genesys.api-url", GENESYS])
            .args(["--genesys.client-id", common::CLIENT_ID])
            .args(["--no-collector.analytics", "--no-collector.integrations"])
            .args(["--collector.aws", "--aws.region", REGION])
            .args(["--aws.period", "1m", "--aws.delay", "0s"])
            .args(flags);
        Exporter::spawn(command)
    }

    /// The organisations of the configuration file at `path` alone.
    fn file(key: &str, path: &Path) -> Exporter {
        let mut command = Command::new(BIN);
        aws_env(&mut command, key);
        command.arg("--config.file").arg(path);
        Exporter::spawn(command)
    }

    fn spawn(mut command: Command) -> Exporter {
        command
            .args([
                "--web.listen-address",
                "127.0.0.1:0",
                "--log.format",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the exporter starts");
        let logs = common::stderr::follow(&mut child, |_, _| true);
        let addr = logs.address();
        Exporter { child, addr, logs }
    }

    /// `/metrics` once the AWS cycle has run (the first scrape starts it).
    async fn scrape(&self) -> String {
        self.scrape_path("/metrics").await
    }

    /// `path` once it shows the AWS cycle's figures.
    async fn scrape_path(&self, path: &str) -> String {
        let url = format!("http://{}{path}", self.addr);
        let mut body = String::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            body = get(&url).await.unwrap().text().await.unwrap();
            if body.contains("\ngenesys_eventbridge_aws_period_end_timestamp_seconds ") {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no AWS figures on {path} within 20 s:\n{body}\nlogs:\n{}",
            self.logs.lines.lock().unwrap().join("\n")
        );
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The collector's series in a scrape, `name{labels}` to value.
fn aws_series(body: &str) -> BTreeMap<String, f64> {
    const FAMILIES: [&str; 3] = [
        "genesys_eventbridge_aws_",
        "genesys_eventbridge_event_source_",
        "genesys_eventbridge_rule_",
    ];
    body.lines()
        .filter(|l| FAMILIES.iter().any(|f| l.starts_with(f)))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// What the series must be, built up per case.
#[derive(Default)]
struct Expected(BTreeMap<String, f64>);

impl Expected {
    fn set(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> &mut Self {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let series = match labels.is_empty() {
            true => name.to_string(),
            false => format!("{name}{{{}}}", labels.join(",")),
        };
        self.0.insert(series, value);
        self
    }

    /// A cycle in which every call succeeded, and `calls` answered with
    /// `code` (service, operation, count).
    fn cycle(&mut self, calls: &[(&str, &str, &str, f64)], metrics_requested: f64) -> &mut Self {
        self.set("genesys_eventbridge_aws_up", &[], 1.0);
        for (service, operation, code, n) in calls {
            self.set(
                "genesys_eventbridge_aws_requests_total",
                &[
                    ("service", service),
                    ("operation", operation),
                    ("code", code),
                ],
                *n,
            );
        }
        self.set(
            "genesys_eventbridge_aws_cloudwatch_metrics_requested_total",
            &[],
            metrics_requested,
        )
    }

    /// A source AWS describes as `state`, named in the settings.
    fn source(&mut self, name: &str, account: &str, state: &str) -> &mut Self {
        let info = [
            ("event_source", name),
            ("integration_id", "none"),
            ("aws_account_id", account),
            ("region", REGION),
        ];
        self.set("genesys_eventbridge_event_source_info", &info, 1.0);
        for s in ["ACTIVE", "PENDING", "DELETED", "not_found"] {
            let labels = [("event_source", name), ("state", s)];
            let value = if s == state { 1.0 } else { 0.0 };
            self.set("genesys_eventbridge_event_source_state", &labels, value);
        }
        self
    }

    /// `SOURCE`, with its events and the rules of [`RULES`] named in `rules`.
    fn seeded(&mut self, rules: &[&str]) -> &mut Self {
        self.source(SOURCE, ACCOUNT, "ACTIVE");
        let events = EVENTS.iter().sum();
        self.set(
            "genesys_eventbridge_event_source_events",
            &[("event_source", SOURCE)],
            events,
        );
        for (rule, enabled, targets, without_dlq) in RULES {
            if !rules.contains(&rule) {
                continue;
            }
            let labels = [("event_bus", SOURCE), ("rule", rule)];
            let figures = rule == "to-sqs";
            self.set(
                "genesys_eventbridge_rule_enabled",
                &labels,
                f64::from(u8::from(enabled)),
            )
            .set("genesys_eventbridge_rule_targets", &labels, targets.into())
            .set(
                "genesys_eventbridge_rule_targets_without_dead_letter_queue",
                &labels,
                without_dlq.into(),
            )
            .set(
                "genesys_eventbridge_rule_delivery_lag_threshold_seconds",
                &labels,
                LAG_THRESHOLD,
            );
            // A count without a datapoint is 0.
            for (_, series, value) in COUNTS {
                self.set(series, &labels, if figures { value } else { 0.0 });
            }
            // A latency without one is absent: no deliveries, no latency.
            if figures {
                self.set(
                    "genesys_eventbridge_rule_delivery_latency_seconds",
                    &labels,
                    LATENCY_AVERAGE,
                )
                .set(
                    "genesys_eventbridge_rule_delivery_lag_seconds",
                    &labels,
                    LATENCY_MAXIMUM,
                );
            }
        }
        self
    }

    /// Checks every series of the collector in `body` against these, and
    /// the period's end against `moto`'s.
    fn check(&mut self, moto: &Moto, body: &str) {
        let mut found = aws_series(body);
        let end = found
            .remove("genesys_eventbridge_aws_period_end_timestamp_seconds")
            .expect("the period's end is exported") as u64;
        assert!(
            moto.ends.contains(&end),
            "the period ends at {end}, not at {:?} (the seeded periods); \
             was the exporter started more than a minute after moto was seeded?",
            moto.ends
        );
        let expected = &self.0;
        let diff: Vec<String> = (expected.keys().chain(found.keys()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|k| expected.get(*k) != found.get(*k))
            .map(|k| {
                format!(
                    "  {k}: expected {:?}, found {:?}",
                    expected.get(k),
                    found.get(k)
                )
            })
            .collect();
        assert!(
            diff.is_empty(),
            "the collector's series differ from what moto holds:\n{}\n\nscrape:\n{body}",
            diff.join("\n")
        );
    }
}

/// The exporter asked Genesys Cloud for nothing, not even a token: its
/// collectors are off.
fn no_genesys_request(body: &str) {
    let tokens = common::sample(body, "genesys_eventbridge_token_requests_total", &[]);
    assert_eq!(tokens, Some(0.0), "token requests");
    let sent: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("genesys_eventbridge_api_requests_total{"))
        .collect();
    assert!(sent.is_empty(), "Genesys requests: {sent:?}");
}

/// The four operations of one cycle on `SOURCE` with `rules` rules watched,
/// as moto records them.
fn one_cycle(rules: usize) -> Vec<(String, String)> {
    let mut calls = vec![
        ("events", "DescribeEventSource"),
        ("events", "ListRules"),
        ("monitoring", "GetMetricData"),
    ];
    calls.extend(std::iter::repeat_n(("events", "ListTargetsByRule"), rules));
    let mut calls: Vec<(String, String)> = (calls.into_iter())
        .map(|(s, o)| (s.to_string(), o.to_string()))
        .collect();
    calls.sort();
    calls
}

/// The seeded source and both its rules: every figure exactly as seeded,
/// each of the four calls answered 200 once per cycle (ListTargetsByRule
/// once per rule), and moto saw those calls and no other.
#[tokio::test]
async fn the_delivery_path_is_exported_as_aws_holds_it() {
    let Some(moto) = moto() else { return };
    let key = "AKIAMOTOFIGURES";
    let exporter = Exporter::flags(moto, key, &["--aws.event-source", SOURCE]);
    let body = exporter.scrape().await;
    Expected::default()
        .cycle(
            &[
                ("eventbridge", "DescribeEventSource", "200", 1.0),
                ("eventbridge", "ListRules", "200", 1.0),
                ("eventbridge", "ListTargetsByRule", "200", 2.0),
                ("cloudwatch", "GetMetricData", "200", 1.0),
            ],
            // Events, then 6 counts and 2 latencies per rule.
            17.0,
        )
        .seeded(&["to-sqs", "archive"])
        .check(moto, &body);
    no_genesys_request(&body);
    assert_eq!(moto.requests_signed_by(key).await, one_cycle(2));
}

/// A role assumed through STS: one `AssumeRole` signed with the exporter's
/// own key, counted as `sts`, and every other call signed with the role's
/// temporary key.
#[tokio::test]
async fn a_role_is_assumed_through_sts() {
    let Some(moto) = moto() else { return };
    let key = "AKIAMOTOROLE";
    let role = format!("arn:aws:iam::{ACCOUNT}:role/genesys-eventbridge-exporter");
    let flags = ["--aws.event-source", SOURCE, "--aws.role-arn", &role];
    let exporter = Exporter::flags(moto, key, &flags);
    let body = exporter.scrape().await;
    Expected::default()
        .cycle(
            &[
                ("sts", "AssumeRole", "200", 1.0),
                ("eventbridge", "DescribeEventSource", "200", 1.0),
                ("eventbridge", "ListRules", "200", 1.0),
                ("eventbridge", "ListTargetsByRule", "200", 2.0),
                ("cloudwatch", "GetMetricData", "200", 1.0),
            ],
            17.0,
        )
        .seeded(&["to-sqs", "archive"])
        .check(moto, &body);
    signed_as_the_role(moto, key).await;
}

/// `key` signed one request, `AssumeRole`, and the key STS issued to it one
/// cycle's requests.
async fn signed_as_the_role(moto: &Moto, key: &str) {
    let own = moto.requests_signed_by(key).await;
    assert_eq!(own, [("sts".to_string(), "AssumeRole".to_string())]);
    let issued = moto.key_issued_to(key).await;
    assert_eq!(moto.requests_signed_by(&issued).await, one_cycle(2));
}

/// An organisation of the configuration file: its `aws:` block's role (with
/// an external id) and endpoint, its series on `/probe`, and its debug
/// trace, which lists each AWS request of the cycle, STS's among them, with
/// moto's request id, and no credential.
#[tokio::test]
async fn a_file_organisation_has_its_role_endpoint_and_trace() {
    let Some(moto) = moto() else { return };
    let key = "AKIAMOTOFILE";
    let role = format!("arn:aws:iam::{ACCOUNT}:role/genesys-eventbridge-exporter");
    let secret = scratch().join("acme-secret");
    std::fs::write(&secret, common::CLIENT_SECRET).unwrap();
    let config = scratch().join("acme.yml");
    let yaml = format!(
        "organizations:
  - name: acme
    api_url: {GENESYS}
    client_id: {}
    client_secret_file: {}
    collectors: {{analytics: false, integrations: false}}
    aws:
      region: {REGION}
      role_arn: {role}
      external_id: acme
      endpoint_url: {}
      event_sources: [{{name: {SOURCE}}}]
      period: 1m
      delay: 0s
",
        common::CLIENT_ID,
        secret.display(),
        moto.url
    );
    std::fs::write(&config, yaml).unwrap();
    // No AWS_ENDPOINT_URL: the organisation's endpoint_url is moto.
    let exporter = Exporter::file(key, &config);
    let body = exporter.scrape_path("/probe?target=acme").await;
    Expected::default()
        .cycle(
            &[
                ("sts", "AssumeRole", "200", 1.0),
                ("eventbridge", "DescribeEventSource", "200", 1.0),
                ("eventbridge", "ListRules", "200", 1.0),
                ("eventbridge", "ListTargetsByRule", "200", 2.0),
                ("cloudwatch", "GetMetricData", "200", 1.0),
            ],
            17.0,
        )
        .seeded(&["to-sqs", "archive"])
        .check(moto, &body);
    signed_as_the_role(moto, key).await;

    let url = format!("http://{}/probe?target=acme&debug=true", exporter.addr);
    let trace = get(url).await.unwrap().text().await.unwrap();
    for (service, operation, subject) in [
        ("sts", "AssumeRole", role.as_str()),
        ("eventbridge", "DescribeEventSource", SOURCE),
        ("eventbridge", "ListRules", SOURCE),
        ("eventbridge", "ListTargetsByRule", "to-sqs"),
        ("eventbridge", "ListTargetsByRule", "archive"),
        ("cloudwatch", "GetMetricData", "17 queries"),
    ] {
        let line = format!("  {service} {operation} {subject} -> 200 in ");
        let found: Vec<&str> = trace.lines().filter(|l| l.starts_with(&line)).collect();
        assert_eq!(found.len(), 1, "one line {line:?} in the trace:\n{trace}");
        assert!(found[0].contains(" ms, request id "), "{}", found[0]);
    }
    let issued = moto.key_issued_to(key).await;
    for credential in [key, "moto-secret", &issued] {
        assert!(
            !trace.contains(credential),
            "{credential} in the trace:\n{trace}"
        );
    }
}

/// `--aws.rule`: only the rules named are watched, and one that is not on
/// the bus is missing.
#[tokio::test]
async fn a_named_rule_absent_from_the_bus_is_missing() {
    let Some(moto) = moto() else { return };
    let key = "AKIAMOTORULES";
    let flags = [
        ["--aws.event-source", SOURCE],
        ["--aws.rule", "to-sqs"],
        ["--aws.rule", "to-lambda"],
    ];
    let exporter = Exporter::flags(moto, key, flags.as_flattened());
    let body = exporter.scrape().await;
    let missing = |rule| [("event_bus", SOURCE), ("rule", rule)];
    Expected::default()
        .cycle(
            &[
                ("eventbridge", "DescribeEventSource", "200", 1.0),
                ("eventbridge", "ListRules", "200", 1.0),
                ("eventbridge", "ListTargetsByRule", "200", 1.0),
                ("cloudwatch", "GetMetricData", "200", 1.0),
            ],
            9.0,
        )
        .seeded(&["to-sqs"])
        .set("genesys_eventbridge_rule_missing", &missing("to-sqs"), 0.0)
        .set(
            "genesys_eventbridge_rule_missing",
            &missing("to-lambda"),
            1.0,
        )
        .check(moto, &body);
    assert_eq!(moto.requests_signed_by(key).await, one_cycle(1));
}

/// A source the account does not have is a state, not a failure: AWS
/// answers `ResourceNotFoundException` (HTTP 400), and nothing more is
/// asked about it.
#[tokio::test]
async fn a_source_that_does_not_exist_is_not_found() {
    let Some(moto) = moto() else { return };
    let key = "AKIAMOTOGONE";
    let gone = "aws.partner/genesys.com/cloud/5f0c8a2e-7b1d-4c3e-9a6f-2d4b6e8f0a1c/gone";
    let exporter = Exporter::flags(moto, key, &["--aws.event-source", gone]);
    let body = exporter.scrape().await;
    Expected::default()
        .cycle(&[("eventbridge", "DescribeEventSource", "400", 1.0)], 0.0)
        .source(gone, "unknown", "not_found")
        .check(moto, &body);
    let asked = moto.requests_signed_by(key).await;
    let describe = ("events".to_string(), "DescribeEventSource".to_string());
    assert_eq!(asked, [describe]);
    // Shown once, at warn, as a state change.
    assert!(
        eventually(Duration::from_secs(5), || {
            (exporter.logs.lines.lock().unwrap().iter())
                .any(|l| l.contains("EVENT_SOURCE_STATE_CHANGED") && l.contains("not_found"))
        })
        .await
    );
}
