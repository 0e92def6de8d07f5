//! The delivery path as the AWS collector last saw it: per partner event
//! source its state and events, per rule on its bus the rule's set-up and
//! the figures of one CloudWatch period. Plain data.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `state` labels of a source, in the order the exposition writes them;
/// `unknown` is added for a code the exporter does not know.
pub const STATES: [&str; 4] = ["ACTIVE", "PENDING", "DELETED", "not_found"];
pub const UNKNOWN: &str = "unknown";

/// The `integration_id` of a source named in `aws.event_sources`.
pub const NO_INTEGRATION: &str = "none";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// One of [`STATES`].
    Known(&'static str),
    /// A code the exporter does not know, kept for the log.
    Unknown(String),
}

impl SourceState {
    pub const NOT_FOUND: SourceState = SourceState::Known("not_found");

    pub fn from_code(code: &str) -> SourceState {
        match STATES[..3].iter().find(|s| **s == code) {
            Some(known) => SourceState::Known(known),
            None => SourceState::Unknown(code.to_string()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            SourceState::Known(s) => s,
            SourceState::Unknown(_) => UNKNOWN,
        }
    }

    /// As reported, even an unknown code.
    pub fn code(&self) -> &str {
        match self {
            SourceState::Known(s) => s,
            SourceState::Unknown(code) => code,
        }
    }
}

/// A source to watch: discovered from an integration or named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub name: String,
    /// [`NO_INTEGRATION`] for a named source.
    pub integration_id: String,
    /// The integration's name and reported state, when discovered.
    pub integration: Option<(String, String)>,
    /// From the integration, else from the source's ARN once described.
    pub account_id: Option<String>,
    pub region: String,
}

/// The counts of a rule per period, in the order of [`COUNTS`].
pub type Counts = [f64; 6];

/// CloudWatch's `AWS/Events` counts of a rule (statistic Sum), each a
/// series of its own.
pub const COUNTS: [&str; 6] = [
    "Invocations",
    "FailedInvocations",
    "RetryInvocationAttempts",
    "ThrottledRules",
    "InvocationsSentToDlq",
    "InvocationsFailedToBeSentToDlq",
];
pub const FAILED: usize = 1;
pub const DLQ_FAILED: usize = 5;

/// Ingestion to successful delivery, in milliseconds (Average, Maximum).
pub const LATENCY: &str = "IngestionToInvocationSuccessLatency";
/// Partner events ingested by a source (Sum).
pub const EVENTS: &str = "Events";

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub bus: String,
    pub name: String,
    pub enabled: bool,
    pub targets: u32,
    pub targets_without_dlq: u32,
    pub counts: Counts,
    /// Seconds; `None` without deliveries in the period.
    pub latency: Option<f64>,
    pub lag: Option<f64>,
    /// Seconds: the rule's `max_delivery_lag`, else the organisation's lag threshold.
    pub threshold: f64,
}

impl Rule {
    /// Events lost in the period: permanent failures or dead-letter failures.
    pub fn failing(&self) -> bool {
        self.counts[FAILED] > 0.0 || self.counts[DLQ_FAILED] > 0.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub watched: Watched,
    pub state: SourceState,
    /// A `PENDING` source's `ExpirationTime`.
    pub expiry: Option<SystemTime>,
    /// Events ingested in the period (0 without a datapoint); `None` for a
    /// source that does not exist.
    pub events: Option<f64>,
    /// `None` when its bus does not exist (a `PENDING` source has none).
    pub rules: Option<Vec<Rule>>,
}

/// A rule named in `aws.rules` and found on none of the buses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub bus: String,
    pub rule: String,
    pub missing: bool,
}

/// What one AWS cycle saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The end of the period the figures describe.
    pub period_end: SystemTime,
    pub sources: Vec<Source>,
    pub named_rules: Vec<Missing>,
}

/// The last whole `period` that ended at least `delay` before `now`, start
/// and end aligned to the period (CloudWatch's figures arrive late, and a
/// period not yet whole would read low).
pub fn period_at(now: SystemTime, period: Duration, delay: Duration) -> (SystemTime, SystemTime) {
    let p = period.as_secs().max(60);
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let end = since.as_secs().saturating_sub(delay.as_secs()) / p * p;
    let end = UNIX_EPOCH + Duration::from_secs(end);
    (end - Duration::from_secs(p), end)
}

/// The account an ARN names (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`),
/// if any: a partner event source's names none
/// (`arn:aws:events:REGION::event-source/aws.partner/...`), a rule's does.
pub fn account_of(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_read_from_a_rule_arn_not_a_partner_source_arn() {
        let rule = "arn:aws:events:us-east-1:123456789012:rule/aws.partner/genesys.com/cloud/org/prod/to-sqs";
        assert_eq!(account_of(rule).as_deref(), Some("123456789012"));
        let source =
            "arn:aws:events:us-east-1::event-source/aws.partner/genesys.com/cloud/org/prod";
        assert_eq!(account_of(source), None);
        assert_eq!(account_of("not an arn"), None);
    }

    #[test]
    fn the_period_is_the_last_whole_one_past_the_delay() {
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        let five = Duration::from_secs(300);
        let two = Duration::from_secs(120);
        // 12:07:59 less 2m is 12:05:59: the period 12:00 to 12:05.
        let now = at(43_679);
        assert_eq!(period_at(now, five, two), (at(43_200), at(43_500)));
        // 12:07:00 less 2m is exactly 12:05: that period has just ended.
        assert_eq!(period_at(at(43_620), five, two), (at(43_200), at(43_500)));
        assert_eq!(period_at(at(43_619), five, two), (at(42_900), at(43_200)));
        let one = Duration::from_secs(60);
        assert_eq!(
            period_at(at(43_679), one, Duration::ZERO),
            (at(43_560), at(43_620))
        );
    }

    #[test]
    fn states_keep_an_unknown_code() {
        assert_eq!(SourceState::from_code("PENDING").label(), "PENDING");
        let odd = SourceState::from_code("PAUSED");
        assert_eq!((odd.label(), odd.code()), ("unknown", "PAUSED"));
        assert_eq!(SourceState::from_code("not_found").label(), "unknown");
    }
}
