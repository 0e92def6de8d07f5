//! The AWS collector's settings (contract section 12): which account and
//! region, which credentials, which sources and rules, and how often and
//! over which period CloudWatch is asked. The flags give the flags'
//! organisation's and the defaults of the file's `aws:` blocks.

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::error::{Invalid, Problem};
use super::settings::{Source, at_most, threshold};
use super::{MAX_CACHE_TTL, parse_duration};

/// The shortest `aws.cache.ttl`: CloudWatch's figures are per minute and
/// billed per metric requested.
pub const MIN_AWS_TTL: Duration = Duration::from_secs(60);
/// The longest `aws.period` and `aws.delay`.
pub const MAX_AWS_PERIOD: Duration = Duration::from_secs(86_400);

#[derive(Debug, Clone, PartialEq)]
pub struct AwsSettings {
    /// Overrides every discovered source's region.
    pub region: Option<String>,
    pub role_arn: Option<String>,
    /// Only with `role_arn`.
    pub external_id: Option<String>,
    /// Else the SDK's own (`AWS_ENDPOINT_URL`) or AWS's.
    pub endpoint_url: Option<String>,
    /// Replaces discovery when not empty.
    pub event_sources: Vec<EventSourceSpec>,
    /// Limits the rules watched when not empty.
    pub rules: Vec<RuleSpec>,
    pub ttl: Duration,
    pub period: Duration,
    pub delay: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            region: None,
            role_arn: None,
            external_id: None,
            endpoint_url: None,
            event_sources: Vec::new(),
            rules: Vec::new(),
            ttl: Duration::from_secs(300),
            period: Duration::from_secs(300),
            delay: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an event source (name, optional region)"
)]
pub struct EventSourceSpec {
    pub name: String,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    /// Else the organisation's lag threshold.
    pub max_delivery_lag: Option<Duration>,
}

/// A rule as the file writes it: the threshold is text, read in
/// [`AwsSettings::read_rules`] so that an error can name the rule.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule (name, optional max_delivery_lag)"
)]
pub struct RawRule {
    pub name: String,
    #[serde(default)]
    pub max_delivery_lag: Option<String>,
}

/// The settings whose name differs between the flags and the file.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Region,
    RoleArn,
    ExternalId,
    EndpointUrl,
    EventSources,
    Rules,
    Ttl,
    Period,
    Delay,
}

impl Key {
    pub fn of(self, source: Source) -> &'static str {
        let (flag, key) = match self {
            Key::Region => ("--aws.region", "aws.region"),
            Key::RoleArn => ("--aws.role-arn", "aws.role_arn"),
            Key::ExternalId => ("--aws.external-id", "aws.external_id"),
            Key::EndpointUrl => ("AWS_ENDPOINT_URL", "aws.endpoint_url"),
            Key::EventSources => ("--aws.event-source", "aws.event_sources"),
            Key::Rules => ("--aws.rule", "aws.rules"),
            Key::Ttl => ("--aws.cache.ttl", "aws.cache.ttl"),
            Key::Period => ("--aws.period", "aws.period"),
            Key::Delay => ("--aws.delay", "aws.delay"),
        };
        match source {
            Source::Flags => flag,
            Source::File => key,
        }
    }
}

impl AwsSettings {
    /// Every rule the settings must meet; `source` names them in errors.
    pub fn check(&self, source: Source) -> Result<(), Invalid> {
        let bad = |key: Key, problem: Problem| Err(problem.of(key.of(source)));
        if let Some(region) = &self.region
            && !is_region(region)
        {
            return bad(Key::Region, Problem::NotAwsRegion(region.clone()));
        }
        if let Some(arn) = &self.role_arn
            && !is_role_arn(arn)
        {
            return bad(Key::RoleArn, Problem::NotRoleArn(arn.clone()));
        }
        if let Some(id) = &self.external_id {
            if self.role_arn.is_none() {
                return bad(Key::ExternalId, Problem::ExternalIdWithoutRole);
            }
            if id.len() < 2 || id.len() > 1224 {
                return bad(Key::ExternalId, Problem::ExternalIdLength);
            }
        }
        if let Some(url) = &self.endpoint_url {
            check_url(url).map_err(|p| p.of(Key::EndpointUrl.of(source)))?;
        }
        self.check_durations(source)?;
        self.check_names(source)
    }

    fn check_durations(&self, source: Source) -> Result<(), Invalid> {
        let bad = |key: Key, problem: Problem| Err(problem.of(key.of(source)));
        if self.ttl < MIN_AWS_TTL {
            return bad(Key::Ttl, Problem::TooShort { min: MIN_AWS_TTL });
        }
        at_most(self.ttl, MAX_CACHE_TTL).map_err(|p| p.of(Key::Ttl.of(source)))?;
        if self.period.is_zero()
            || !self.period.as_secs().is_multiple_of(60)
            || self.period.subsec_nanos() != 0
        {
            return bad(Key::Period, Problem::NotWholeMinutes);
        }
        at_most(self.period, MAX_AWS_PERIOD).map_err(|p| p.of(Key::Period.of(source)))?;
        at_most(self.delay, MAX_AWS_PERIOD).map_err(|p| p.of(Key::Delay.of(source)))
    }

    fn check_names(&self, source: Source) -> Result<(), Invalid> {
        let in_entry = |index: usize, name: &str, problem: Problem| Problem::InEntry {
            index,
            name: name.to_string(),
            problem: Box::new(problem),
        };
        for (index, s) in self.event_sources.iter().enumerate() {
            let problem = if !is_event_source(&s.name) {
                Some(Problem::NotEventSource(s.name.clone()))
            } else if self.event_sources[..index].iter().any(|o| o.name == s.name) {
                Some(Problem::NameTwice)
            } else {
                s.region
                    .as_ref()
                    .filter(|r| !is_region(r))
                    .map(|r| Problem::NotAwsRegion(r.clone()))
            };
            if let Some(problem) = problem {
                return Err(in_entry(index, &s.name, problem).of(Key::EventSources.of(source)));
            }
        }
        for (index, r) in self.rules.iter().enumerate() {
            let problem = if !is_rule_name(&r.name) {
                Some(Problem::NotRuleName(r.name.clone()))
            } else if self.rules[..index].iter().any(|o| o.name == r.name) {
                Some(Problem::NameTwice)
            } else {
                r.max_delivery_lag.and_then(|d| threshold(d).err())
            };
            if let Some(problem) = problem {
                return Err(in_entry(index, &r.name, problem).of(Key::Rules.of(source)));
            }
        }
        Ok(())
    }

    /// `aws.rules` as the file gives them.
    pub fn read_rules(raw: Vec<RawRule>) -> Result<Vec<RuleSpec>, Invalid> {
        let key = Key::Rules.of(Source::File);
        raw.into_iter()
            .enumerate()
            .map(|(index, r)| {
                let max_delivery_lag = match r.max_delivery_lag {
                    None => None,
                    Some(text) => Some(parse_duration(&text).map_err(|e| {
                        Problem::InEntry {
                            index,
                            name: r.name.clone(),
                            problem: Box::new(Problem::from(e)),
                        }
                        .of(key)
                    })?),
                };
                Ok(RuleSpec {
                    name: r.name,
                    max_delivery_lag,
                })
            })
            .collect()
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, as IAM writes a role's ARN.
fn is_role_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    let fields: [Option<&str>; 6] = std::array::from_fn(|_| parts.next());
    let [
        Some("arn"),
        Some(partition),
        Some("iam"),
        Some(""),
        Some(account),
        Some(resource),
    ] = fields
    else {
        return false;
    };
    let name = resource.strip_prefix("role/").unwrap_or("");
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

/// EventBridge's pattern for an event source name:
/// `aws.partner(/[\.\-_A-Za-z0-9]+){2,}`, at most 256 characters.
fn is_event_source(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("aws.partner/") else {
        return false;
    };
    s.len() <= 256
        && rest.split('/').count() >= 2
        && rest.split('/').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b))
        })
}

/// EventBridge's pattern for a rule name: `[\.\-_A-Za-z0-9]+`, at most 64.
fn is_rule_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b))
}

fn check_url(text: &str) -> Result<(), Problem> {
    let url = Url::parse(text).map_err(|e| Problem::Url {
        text: text.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Problem::NotHttp(text.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_held_to_aws_patterns() {
        assert!(is_region("us-east-1") && is_region("us-gov-west-1"));
        assert!(!is_region("us-east") && !is_region("US-EAST-1") && !is_region(""));
        assert!(is_role_arn(
            "arn:aws:iam::123456789012:role/ops/genesys-eventbridge-exporter"
        ));
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "role/x",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
        assert!(is_event_source(
            "aws.partner/genesys.com/cloud/5f0c8a2e-7b1d-4c3e-9a6f-2d4b6e8f0a1c/prod"
        ));
        assert!(!is_event_source("aws.partner/genesys.com"));
        assert!(!is_event_source("my-bus"));
        assert!(is_rule_name("genesys-to-sqs") && !is_rule_name("a b"));
    }

    #[test]
    fn errors_name_the_setting_and_the_entry() {
        let mut s = AwsSettings {
            external_id: Some("acme".into()),
            ..AwsSettings::default()
        };
        assert_eq!(
            s.check(Source::File).unwrap_err().to_string(),
            "aws.external_id: needs aws.role_arn (--aws.role-arn)"
        );
        s.external_id = None;
        s.rules = vec![
            RuleSpec {
                name: "a".into(),
                max_delivery_lag: None,
            },
            RuleSpec {
                name: "a".into(),
                max_delivery_lag: None,
            },
        ];
        assert_eq!(
            s.check(Source::Flags).unwrap_err().to_string(),
            "--aws.rule: [1] (a): name is used twice"
        );
        s.rules.clear();
        s.ttl = Duration::from_secs(30);
        assert_eq!(
            s.check(Source::File).unwrap_err().to_string(),
            "aws.cache.ttl: must be at least 1m"
        );
        s.ttl = Duration::from_secs(300);
        s.period = Duration::from_secs(90);
        assert_eq!(
            s.check(Source::Flags).unwrap_err().to_string(),
            "--aws.period: must be a whole number of minutes"
        );
    }
}
