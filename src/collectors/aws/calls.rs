//! The collector's AWS requests: the four operations of section 12 with
//! their paging, one retry loop for them all (5xx and connection errors
//! retried inside the budget; throttling starts the cooldown; an access
//! denial holds the operation back an hour), and the ledger of every
//! request for the series and the debug trace. Never a credential in it.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::operation::RequestId;
use aws_sdk_eventbridge::types::RuleState;
use tokio::time::Instant;

use super::errors::{self, Kind};
use super::model::{SourceState, account_of};
use super::sdk::Clients;
use crate::clock::Clock;
use crate::genesys::Gate;
use crate::genesys::backoff::Backoff;

/// CloudWatch's limit of queries per `GetMetricData` call.
pub const MAX_QUERIES: usize = 500;
/// Pages read of one listing before it is taken for a loop.
const MAX_PAGES: usize = 100;

/// Between attempts of a request that may pass: short, the budget is.
fn retry() -> Backoff {
    Backoff::new(Duration::from_millis(200), Duration::from_secs(2), 0.5).expect("a valid backoff")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    DescribeEventSource,
    ListRules,
    ListTargetsByRule,
    GetMetricData,
    /// The role's credentials, which the SDK asks STS for when it needs
    /// them (see `sdk`), not a call of the collector's.
    AssumeRole,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::DescribeEventSource,
        Op::ListRules,
        Op::ListTargetsByRule,
        Op::GetMetricData,
        Op::AssumeRole,
    ];

    pub fn service(self) -> &'static str {
        match self {
            Op::GetMetricData => "cloudwatch",
            Op::AssumeRole => "sts",
            _ => "eventbridge",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::DescribeEventSource => "DescribeEventSource",
            Op::ListRules => "ListRules",
            Op::ListTargetsByRule => "ListTargetsByRule",
            Op::GetMetricData => "GetMetricData",
            Op::AssumeRole => "AssumeRole",
        }
    }

    /// The IAM action it needs.
    pub fn action(self) -> &'static str {
        match self {
            Op::DescribeEventSource => "events:DescribeEventSource",
            Op::ListRules => "events:ListRules",
            Op::ListTargetsByRule => "events:ListTargetsByRule",
            Op::GetMetricData => "cloudwatch:GetMetricData",
            Op::AssumeRole => "sts:AssumeRole",
        }
    }
}

/// One request, for the debug trace.
#[derive(Debug, Clone)]
pub struct Traced {
    pub op: Op,
    /// What it asked about (a source, bus or rule; the number of queries).
    pub subject: String,
    /// `None` when no answer arrived.
    pub status: Option<u16>,
    pub duration: Duration,
    pub request_id: Option<String>,
    pub error: Option<String>,
}

/// Why a call gave no answer to use.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("no such resource")]
    NotFound,
    #[error("{} throttled: {message}", .op.name())]
    Throttled { op: Op, message: String },
    #[error("{} refused (it needs {}): {message}", .op.name(), .op.action())]
    Denied { op: Op, message: String },
    #[error("{} held back after it was refused", .op.name())]
    Held { op: Op },
    #[error("{} failed: {message}", .op.name())]
    Failed { op: Op, message: String },
    #[error("the event sources are not discovered: {0}")]
    NotDiscovered(String),
    #[error(
        "the AWS SDK's configuration (credential and region chains) did not load within the time budget"
    )]
    NotLoaded,
}

/// A bus's rules as `ListRules` lists them.
#[derive(Debug, Default)]
pub struct Listed {
    /// Each rule's name and whether it is enabled.
    pub rules: Vec<(String, bool)>,
    /// The bus's account, from its rules' ARNs.
    pub account: Option<String>,
}

/// Every request's count, the cycle's requests, and the operations held
/// back after a denial.
#[derive(Debug, Default)]
pub struct Ledger {
    pub requests: BTreeMap<(Op, String), u64>,
    pub metrics_requested: u64,
    pub trace: Vec<Traced>,
    denied: BTreeMap<Op, Gate>,
}

/// What the calls of one organisation share.
#[derive(Debug)]
pub struct Caller {
    pub ledger: Mutex<Ledger>,
    /// What durations are measured by (frozen in the golden files).
    clock: Clock,
}

impl Caller {
    pub fn new(clock: Clock) -> Caller {
        Caller {
            ledger: Mutex::default(),
            clock,
        }
    }

    /// Ends a cycle's trace: requests by operation and subject, each one's
    /// attempts in the order sent (requests run side by side, and the order
    /// their answers came in says nothing).
    pub fn sort_trace(&self) {
        self.lock()
            .trace
            .sort_by(|a, b| (a.op, &a.subject).cmp(&(b.op, &b.subject)));
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn record(&self, traced: Traced) {
        let code = traced.status.map_or("error".to_string(), |s| s.to_string());
        let mut ledger = self.lock();
        *ledger.requests.entry((traced.op, code)).or_default() += 1;
        ledger.trace.push(traced);
    }

    /// Sends `op` with `make`, retrying what may pass (5xx, connection
    /// errors) until `deadline`.
    async fn send<T, E, F, Fut>(
        &self,
        op: Op,
        subject: &str,
        deadline: Instant,
        make: F,
    ) -> Result<T, CallError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E>>>,
        T: RequestId,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if !self
            .lock()
            .denied
            .get(&op)
            .is_none_or(|g| g.allows(Instant::now()))
        {
            return Err(CallError::Held { op });
        }
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let answer = tokio::time::timeout_at(deadline, make()).await;
            let mut traced = Traced {
                op,
                subject: subject.to_string(),
                status: None,
                duration: self.clock.since(started),
                request_id: None,
                error: None,
            };
            let error = match answer {
                Err(_) => {
                    traced.error = Some("no answer within the time budget".into());
                    self.record(traced);
                    let message = "no answer within the time budget".into();
                    return Err(CallError::Failed { op, message });
                }
                Ok(Ok(out)) => {
                    traced.status = Some(200);
                    traced.request_id = out.request_id().map(str::to_string);
                    self.record(traced);
                    if let Some(gate) = self.lock().denied.get_mut(&op) {
                        gate.answered();
                    }
                    return Ok(out);
                }
                Ok(Err(error)) => error,
            };
            let status = error.raw_response().map(|r| r.status().as_u16());
            traced.status = status;
            traced.request_id = error.request_id().map(str::to_string);
            let message = describe(&error);
            traced.error = Some(message.clone());
            self.record(traced);
            match errors::kind(error.code(), status, connection(&error)) {
                Kind::NotFound => return Err(CallError::NotFound),
                Kind::Throttled => return Err(CallError::Throttled { op, message }),
                Kind::Denied => {
                    let first = (self.lock().denied.entry(op).or_default()).refused(Instant::now());
                    return Err(match first {
                        true => CallError::Denied { op, message },
                        false => CallError::Held { op },
                    });
                }
                Kind::Transient => {
                    let delay = retry().delay(attempt);
                    if Instant::now() + delay >= deadline {
                        return Err(CallError::Failed { op, message });
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Kind::Permanent => return Err(CallError::Failed { op, message }),
            }
        }
    }

    /// `DescribeEventSource`: the state, the expiry and the ARN.
    pub async fn describe(
        &self,
        clients: &Clients,
        name: &str,
        deadline: Instant,
    ) -> Result<(SourceState, Option<SystemTime>, Option<String>), CallError> {
        let send = || clients.events.describe_event_source().name(name).send();
        match self
            .send(Op::DescribeEventSource, name, deadline, send)
            .await
        {
            Ok(out) => Ok((
                out.state().map_or(SourceState::from_code(""), |s| {
                    SourceState::from_code(s.as_str())
                }),
                out.expiration_time()
                    .and_then(|t| SystemTime::try_from(*t).ok()),
                out.arn().map(str::to_string),
            )),
            Err(CallError::NotFound) => Ok((SourceState::NOT_FOUND, None, None)),
            Err(e) => Err(e),
        }
    }

    /// `ListRules` on `bus`, every page. `None` when the bus does not exist.
    pub async fn rules(
        &self,
        clients: &Clients,
        bus: &str,
        deadline: Instant,
    ) -> Result<Option<Listed>, CallError> {
        let mut listed = Listed::default();
        let mut pages = Pages::default();
        loop {
            let token = pages.token.clone();
            let send = || {
                (clients.events.list_rules())
                    .event_bus_name(bus)
                    .set_next_token(token.clone())
                    .send()
            };
            let out = match self.send(Op::ListRules, bus, deadline, send).await {
                Ok(out) => out,
                Err(CallError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            if listed.account.is_none() {
                listed.account = out
                    .rules()
                    .iter()
                    .find_map(|r| r.arn().and_then(account_of));
            }
            listed.rules.extend(out.rules().iter().filter_map(|r| {
                let enabled = matches!(
                    r.state(),
                    Some(RuleState::Enabled | RuleState::EnabledWithAllCloudtrailManagementEvents)
                );
                r.name().map(|n| (n.to_string(), enabled))
            }));
            if !pages.next(out.next_token(), Op::ListRules)? {
                return Ok(Some(listed));
            }
        }
    }

    /// `ListTargetsByRule`, every page: the targets, and those without a
    /// dead-letter queue.
    pub async fn targets(
        &self,
        clients: &Clients,
        bus: &str,
        rule: &str,
        deadline: Instant,
    ) -> Result<(u32, u32), CallError> {
        let (mut all, mut without_dlq) = (0, 0);
        let mut pages = Pages::default();
        loop {
            let token = pages.token.clone();
            let send = || {
                (clients.events.list_targets_by_rule())
                    .event_bus_name(bus)
                    .rule(rule)
                    .set_next_token(token.clone())
                    .send()
            };
            let out = match self.send(Op::ListTargetsByRule, rule, deadline, send).await {
                Ok(out) => out,
                // Deleted between the listing and now: no targets.
                Err(CallError::NotFound) => return Ok((all, without_dlq)),
                Err(e) => return Err(e),
            };
            for target in out.targets() {
                all += 1;
                if target.dead_letter_config().and_then(|d| d.arn()).is_none() {
                    without_dlq += 1;
                }
            }
            if !pages.next(out.next_token(), Op::ListTargetsByRule)? {
                return Ok((all, without_dlq));
            }
        }
    }

    /// `GetMetricData` for `queries` over [start, end), as few calls as the
    /// limit allows, every page: each query's first value, by its index.
    pub async fn figures(
        &self,
        clients: &Clients,
        queries: &[Query],
        (start, end): (SystemTime, SystemTime),
        deadline: Instant,
    ) -> Result<Vec<Option<f64>>, CallError> {
        let mut values = vec![None; queries.len()];
        let period = end.duration_since(start).unwrap_or_default().as_secs() as i32;
        for (chunk_at, chunk) in queries.chunks(MAX_QUERIES).enumerate() {
            let built: Vec<MetricDataQuery> = (chunk.iter().enumerate())
                .map(|(i, q)| q.build(i, period))
                .collect();
            self.lock().metrics_requested += chunk.len() as u64;
            let subject = format!("{} queries", chunk.len());
            let mut pages = Pages::default();
            loop {
                let token = pages.token.clone();
                let send = || {
                    (clients.cloudwatch.get_metric_data())
                        .set_metric_data_queries(Some(built.clone()))
                        .start_time(DateTime::from(start))
                        .end_time(DateTime::from(end))
                        .set_next_token(token.clone())
                        .send()
                };
                let out = self
                    .send(Op::GetMetricData, &subject, deadline, send)
                    .await?;
                for result in out.metric_data_results() {
                    let index = result.id().and_then(|id| id.strip_prefix('q'));
                    let at = index.and_then(|i| i.parse::<usize>().ok());
                    if let (Some(at), Some(value)) = (at, result.values().first())
                        && at < chunk.len()
                    {
                        values[chunk_at * MAX_QUERIES + at] = Some(*value);
                    }
                }
                if !pages.next(out.next_token(), Op::GetMetricData)? {
                    break;
                }
            }
        }
        Ok(values)
    }
}

/// Whether no answer came because of the connection (refused, reset,
/// timed out) rather than because the request could not be made.
fn connection<E>(error: &SdkError<E>) -> bool {
    match error {
        SdkError::DispatchFailure(d) => d.is_io() || d.is_timeout(),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        _ => false,
    }
}

/// Paging by `NextToken`, guarded against a token that repeats.
#[derive(Default)]
struct Pages {
    token: Option<String>,
    seen: HashSet<String>,
}

impl Pages {
    /// Whether there is a next page to ask for.
    fn next(&mut self, token: Option<&str>, op: Op) -> Result<bool, CallError> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(false);
        };
        if !self.seen.insert(token.to_string()) || self.seen.len() >= MAX_PAGES {
            let message = format!("paging did not end after {} pages", self.seen.len());
            return Err(CallError::Failed { op, message });
        }
        self.token = Some(token.to_string());
        Ok(true)
    }
}

/// One CloudWatch query: a metric of `AWS/Events`, its dimensions and
/// statistic.
#[derive(Debug, Clone)]
pub struct Query {
    pub metric: &'static str,
    pub stat: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
}

impl Query {
    /// Its id in a call is `q` and its place there, as CloudWatch wants
    /// ids (a lowercase letter first).
    fn build(&self, at: usize, period: i32) -> MetricDataQuery {
        let dimensions = (self.dimensions.iter())
            .map(|(name, value)| Dimension::builder().name(*name).value(value).build())
            .collect();
        let metric = Metric::builder()
            .namespace("AWS/Events")
            .metric_name(self.metric)
            .set_dimensions(Some(dimensions))
            .build();
        let stat = MetricStat::builder()
            .metric(metric)
            .period(period)
            .stat(self.stat)
            .build();
        MetricDataQuery::builder()
            .id(format!("q{at}"))
            .metric_stat(stat)
            .return_data(true)
            .build()
    }
}

/// How the error reads in a log line and the trace: AWS's code and
/// message for an answer, else the SDK's whole chain, which names the cause
/// of a connection failure.
pub fn describe<E>(error: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(answer) => {
            let e = answer.err();
            let code = e.code().unwrap_or("error");
            match e.message() {
                Some(message) => format!("{code}: {message}"),
                None => code.to_string(),
            }
        }
        other => DisplayErrorContext(other).to_string(),
    }
}
