//! What one organisation's AWS account holds: its credentials, the partner
//! event sources Genesys Cloud created in it, the partner event buses with
//! their rules and targets, and the CloudWatch figures of one period.

use std::fmt;

use super::super::organization::DEMO_ORGANIZATION_ID;

/// The demo's AWS account.
pub const DEMO_AWS_ACCOUNT_ID: &str = "123456789012";
/// The demo account's region.
pub const DEMO_AWS_REGION: &str = "us-east-1";
/// The access key id of the demo's AWS credentials.
pub const DEMO_ACCESS_KEY_ID: &str = "AKIAGENESYSDEMO00001";
/// The secret of the demo's AWS credentials.
pub const DEMO_SECRET_ACCESS_KEY: &str = "demo/secret/access/key/for/the/simulator";

/// Who Genesys Cloud's partner sources say created them.
pub(crate) const PARTNER: &str = "genesys.com";

/// The name of a Genesys Cloud partner event source (and of its bus).
pub fn partner_source_name(organization_id: &str, suffix: &str) -> String {
    format!("aws.partner/genesys.com/cloud/{organization_id}/{suffix}")
}

/// The organisation id a Genesys Cloud partner source or bus name holds.
pub(crate) fn organization_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("aws.partner/genesys.com/cloud/")?;
    let (org, suffix) = rest.split_once('/')?;
    (!org.is_empty() && !suffix.is_empty()).then_some(org)
}

/// An IAM user's access key: what requests are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

// By hand, so that the secret never reaches a log line.
impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl AwsCredentials {
    /// The demo's credentials.
    pub fn demo() -> AwsCredentials {
        AwsCredentials {
            access_key_id: DEMO_ACCESS_KEY_ID.into(),
            secret_access_key: DEMO_SECRET_ACCESS_KEY.into(),
        }
    }
}

/// A partner event source's state, as `DescribeEventSource` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSourceState {
    /// A bus of the same name exists and is active: events are delivered.
    Active,
    /// No bus of that name, or it is deactivated: events are not delivered.
    Pending,
    /// Genesys Cloud deleted the source; the bus's rules receive nothing.
    Deleted,
}

impl EventSourceState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventSourceState::Active => "ACTIVE",
            EventSourceState::Pending => "PENDING",
            EventSourceState::Deleted => "DELETED",
        }
    }
}

/// A partner event source, with its `Events` figure.
#[derive(Clone, Debug, PartialEq)]
pub struct EventSource {
    pub name: String,
    pub state: EventSourceState,
    /// Unix seconds.
    pub creation_time: i64,
    /// Unix seconds; `PENDING` sources expire.
    pub expiration_time: Option<i64>,
    /// `Events` (Sum) in one period; `None`: no datapoint.
    pub events: Option<f64>,
}

/// A rule's state, as `ListRules` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleState {
    Enabled,
    Disabled,
    EnabledWithAllCloudtrailManagementEvents,
}

impl RuleState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
            RuleState::EnabledWithAllCloudtrailManagementEvents => {
                "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
            }
        }
    }
}

/// A target's retry policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
}

/// A rule's target: a consumer.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub id: String,
    pub arn: String,
    /// The ARN of the dead-letter queue; `None`: failed events are lost.
    pub dead_letter_arn: Option<String>,
    pub retry_policy: Option<RetryPolicy>,
}

/// A rule's CloudWatch figures for one period; `None` is no datapoint
/// (AWS sends several of these only when they are not zero).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RuleFigures {
    pub invocations: Option<f64>,
    pub failed_invocations: Option<f64>,
    pub retry_invocation_attempts: Option<f64>,
    pub throttled_rules: Option<f64>,
    pub invocations_sent_to_dlq: Option<f64>,
    pub invocations_failed_to_be_sent_to_dlq: Option<f64>,
    /// `IngestionToInvocationSuccessLatency` Average, milliseconds.
    pub latency_average_ms: Option<f64>,
    /// `IngestionToInvocationSuccessLatency` Maximum, milliseconds.
    pub latency_maximum_ms: Option<f64>,
}

/// A rule on an event bus.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    pub state: RuleState,
    pub event_pattern: String,
    pub description: Option<String>,
    pub targets: Vec<Target>,
    pub figures: RuleFigures,
}

/// An event bus and its rules.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBus {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One organisation's AWS account, region and data.
#[derive(Clone, Debug, PartialEq)]
pub struct AwsAccount {
    pub account_id: String,
    pub region: String,
    pub credentials: AwsCredentials,
    pub event_sources: Vec<EventSource>,
    pub event_buses: Vec<EventBus>,
}

/// The demo's account, region and credentials, holding nothing.
impl Default for AwsAccount {
    fn default() -> AwsAccount {
        AwsAccount {
            account_id: DEMO_AWS_ACCOUNT_ID.into(),
            region: DEMO_AWS_REGION.into(),
            credentials: AwsCredentials::demo(),
            event_sources: Vec::new(),
            event_buses: Vec::new(),
        }
    }
}

/// The pattern of rules that take every Genesys Cloud event.
const GENESYS_PATTERN: &str = r#"{"source":[{"prefix":"aws.partner/genesys.com"}]}"#;

/// 2026-11-02T08:10:00Z, when the demo's production source was created.
const DEMO_PROD_CREATED: i64 = 1_793_607_000;
/// 2026-11-30T20:58:00Z, when the demo's audit source was created.
const DEMO_AUDIT_CREATED: i64 = 1_796_072_280;
/// Two weeks: how long a `PENDING` source waits for its bus.
const PENDING_LIFETIME: i64 = 14 * 86_400;

impl AwsAccount {
    /// The demo account: `eventbridge-prod`'s source `ACTIVE` with a healthy
    /// rule, a rule whose target retries, fails some deliveries and lags
    /// about 45 s, and a disabled rule; `eventbridge-audit`'s source
    /// `PENDING`, without a bus.
    pub fn demo() -> AwsAccount {
        let prod = partner_source_name(DEMO_ORGANIZATION_ID, "eventbridge-prod");
        let audit = partner_source_name(DEMO_ORGANIZATION_ID, "eventbridge-audit");
        let account = AwsAccount::default();
        let rules = demo_rules(&account);
        AwsAccount {
            event_sources: vec![
                EventSource {
                    name: prod.clone(),
                    state: EventSourceState::Active,
                    creation_time: DEMO_PROD_CREATED,
                    expiration_time: None,
                    events: Some(7250.0),
                },
                EventSource {
                    name: audit,
                    state: EventSourceState::Pending,
                    creation_time: DEMO_AUDIT_CREATED,
                    expiration_time: Some(DEMO_AUDIT_CREATED + PENDING_LIFETIME),
                    events: None,
                },
            ],
            event_buses: vec![EventBus { name: prod, rules }],
            ..account
        }
    }

    /// A healthy account for `organization_id`: per suffix, an `ACTIVE`
    /// source, its bus, and one rule delivering every event in about 350 ms
    /// to an SQS queue with a dead-letter queue.
    pub fn healthy(organization_id: &str, suffixes: &[&str]) -> AwsAccount {
        let mut account = AwsAccount::default();
        for suffix in suffixes {
            let name = partner_source_name(organization_id, suffix);
            account.event_sources.push(EventSource {
                name: name.clone(),
                state: EventSourceState::Active,
                creation_time: DEMO_PROD_CREATED,
                expiration_time: None,
                events: Some(1000.0),
            });
            account.event_buses.push(EventBus {
                name,
                rules: Vec::new(),
            });
            account.add_healthy_rules(&partner_source_name(organization_id, suffix), 1);
        }
        account
    }

    /// Adds `count` healthy rules (`rule-0001`, ...) to the bus `bus`, made
    /// if it is not there: for callers that need many rules, such as more
    /// metric queries than one `GetMetricData` call takes.
    pub fn add_healthy_rules(&mut self, bus: &str, count: usize) {
        let sqs = self.arn("sqs", "genesys-events");
        let dlq = self.arn("sqs", "genesys-events-dlq");
        let index = match self.event_buses.iter().position(|b| b.name == bus) {
            Some(index) => index,
            None => {
                self.event_buses.push(EventBus {
                    name: bus.to_owned(),
                    rules: Vec::new(),
                });
                self.event_buses.len() - 1
            }
        };
        let rules = &mut self.event_buses[index].rules;
        let first = rules.len() + 1;
        rules.extend((first..first + count).map(|n| Rule {
            name: format!("rule-{n:04}"),
            state: RuleState::Enabled,
            event_pattern: GENESYS_PATTERN.into(),
            description: None,
            targets: vec![Target {
                id: "sqs".into(),
                arn: sqs.clone(),
                dead_letter_arn: Some(dlq.clone()),
                retry_policy: None,
            }],
            figures: RuleFigures {
                invocations: Some(1000.0),
                latency_average_ms: Some(350.0),
                latency_maximum_ms: Some(900.0),
                ..RuleFigures::default()
            },
        }));
    }

    /// An ARN of a resource of this account (`sqs`, `lambda`, ...).
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.account_id
        )
    }
}

/// The demo's three rules on `eventbridge-prod`'s bus.
fn demo_rules(account: &AwsAccount) -> Vec<Rule> {
    let dlq = account.arn("sqs", "genesys-dead-letters");
    vec![
        Rule {
            name: "genesys-to-sqs-orders".into(),
            state: RuleState::Enabled,
            event_pattern: GENESYS_PATTERN.into(),
            description: Some("Conversation events to the order service's queue".into()),
            targets: vec![Target {
                id: "orders-queue".into(),
                arn: account.arn("sqs", "orders-events"),
                dead_letter_arn: Some(dlq.clone()),
                retry_policy: None,
            }],
            figures: RuleFigures {
                invocations: Some(7250.0),
                latency_average_ms: Some(420.0),
                latency_maximum_ms: Some(1150.0),
                ..RuleFigures::default()
            },
        },
        Rule {
            name: "genesys-to-lambda-analytics".into(),
            state: RuleState::Enabled,
            event_pattern: GENESYS_PATTERN.into(),
            description: Some("Analytics events to the reporting function and partner".into()),
            targets: vec![
                Target {
                    id: "analytics-function".into(),
                    arn: account.arn("lambda", "function:genesys-analytics"),
                    dead_letter_arn: Some(dlq),
                    retry_policy: Some(RetryPolicy {
                        maximum_retry_attempts: 185,
                        maximum_event_age_in_seconds: 86_400,
                    }),
                },
                Target {
                    id: "reporting-partner".into(),
                    arn: format!(
                        "arn:aws:events:{}:{}:api-destination/reporting-partner/5e1a7c2d-0b3f-4d6e-8a9c-1f2e3d4c5b6a",
                        account.region, account.account_id
                    ),
                    dead_letter_arn: None,
                    retry_policy: None,
                },
            ],
            figures: RuleFigures {
                invocations: Some(7180.0),
                failed_invocations: Some(12.0),
                retry_invocation_attempts: Some(340.0),
                throttled_rules: Some(25.0),
                invocations_sent_to_dlq: Some(9.0),
                invocations_failed_to_be_sent_to_dlq: None,
                latency_average_ms: Some(8200.0),
                latency_maximum_ms: Some(45_300.0),
            },
        },
        Rule {
            name: "genesys-archive-replay".into(),
            state: RuleState::Disabled,
            event_pattern: GENESYS_PATTERN.into(),
            description: Some("Archive replays; switched on by hand".into()),
            targets: vec![Target {
                id: "archive-bucket-writer".into(),
                arn: account.arn("lambda", "function:genesys-archive-writer"),
                dead_letter_arn: None,
                retry_policy: None,
            }],
            figures: RuleFigures::default(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_organization() {
        let name = partner_source_name("org-1", "prod");
        assert_eq!(name, "aws.partner/genesys.com/cloud/org-1/prod");
        assert_eq!(organization_of(&name), Some("org-1"));
        assert_eq!(organization_of("aws.partner/genesys.com/cloud/org-1"), None);
        assert_eq!(organization_of("aws.partner/other.com/x/y"), None);
        assert_eq!(organization_of("default"), None);
    }

    #[test]
    fn demo_times_are_the_documented_ones() {
        use time::OffsetDateTime;
        use time::macros::datetime;
        let at = |t: i64| OffsetDateTime::from_unix_timestamp(t).unwrap();
        assert_eq!(at(DEMO_PROD_CREATED), datetime!(2026-11-02 08:10:00 UTC));
        assert_eq!(at(DEMO_AUDIT_CREATED), datetime!(2026-11-30 20:58:00 UTC));
        let audit = &AwsAccount::demo().event_sources[1];
        assert_eq!(
            at(audit.expiration_time.unwrap()),
            datetime!(2026-12-14 20:58:00 UTC)
        );
    }

    #[test]
    fn many_rules_can_be_added() {
        let mut account = AwsAccount::healthy("org-1", &["a", "b"]);
        assert_eq!(account.event_sources.len(), 2);
        let bus = partner_source_name("org-1", "a");
        account.add_healthy_rules(&bus, 70);
        let rules = &account.event_buses[0].rules;
        assert_eq!(rules.len(), 71);
        assert_eq!(rules[70].name, "rule-0071");
        assert!(format!("{account:?}").contains("<redacted>"));
        assert!(!format!("{account:?}").contains(DEMO_SECRET_ACCESS_KEY));
    }
}
