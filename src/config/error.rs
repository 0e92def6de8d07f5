//! What can be wrong with the configuration, as one typed error: each layer
//! (the flag or the file, the organisation, the group, the key) adds its
//! context, and the whole prints as the one line that the exit status 2 goes
//! with.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::duration::{DurationError, format_duration};
use super::secret::SecretError;
use super::{DEMO_ORG, FLAGS_ORG, MAX_PAGE_SIZE};
use crate::web::config::WebConfigError;
use crate::web::files::ReadError;

/// Bad configuration: the message names the flag or file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A flag's value, or a setting of the flags' organisation.
    #[error(transparent)]
    Flag(#[from] Invalid),
    #[error("--web.config.file: {}: {source}", path.display())]
    WebConfig {
        path: PathBuf,
        source: WebConfigError,
    },
    /// `--config.file`, or (without one) the organisations the flags make.
    #[error("{}{source}", InFile(path))]
    File {
        path: Option<PathBuf>,
        source: Box<FileError>,
    },
}

impl ConfigError {
    /// `source`, about the file at `path` when there is one.
    pub fn file(path: Option<&std::path::Path>) -> impl FnOnce(FileError) -> ConfigError {
        let path = path.map(PathBuf::from);
        move |source| ConfigError::File {
            path,
            source: Box::new(source),
        }
    }
}

/// The `--config.file PATH: ` before what is wrong with the file.
struct InFile<'a>(&'a Option<PathBuf>);

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "--config.file {}: ", path.display()),
            None => Ok(()),
        }
    }
}

/// One setting's value is wrong; `key` names it as the flag or the file does.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct Invalid {
    pub key: &'static str,
    pub problem: Problem,
}

/// What is wrong with a value.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Duration(#[from] DurationError),
    #[error("must be greater than 0")]
    NotPositive,
    #[error("{} is longer than {}, the most it may be", format_duration(*.value), format_duration(*.max))]
    TooLong { value: Duration, max: Duration },
    #[error("{} is shorter than {ttl_key} {}", format_duration(*.max_stale), format_duration(*.ttl))]
    ShorterThanTtl {
        max_stale: Duration,
        ttl: Duration,
        ttl_key: &'static str,
    },
    #[error("{0:?} must start with /")]
    NotAbsolute(String),
    #[error("must be a whole number of seconds, at least 1s")]
    WindowNotWholeSeconds,
    #[error("{0} is out of range (1 to {MAX_PAGE_SIZE})")]
    PageSize(u32),
    #[error("must be at least 1")]
    NoPages,
    #[error("must be at least 100ms")]
    TimeoutTooShort,
    #[error("{0:?} is not a domain")]
    NotDomain(String),
    #[error("{text:?}: {reason}")]
    Url { text: String, reason: String },
    #[error("{0:?} is not an http(s) URL")]
    NotHttp(String),
    #[error("{0:?} must not have a query or fragment")]
    QueryOrFragment(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("missing")]
    Missing,
    #[error("empty")]
    Empty,
    #[error("{0:?} is not [HOST]:PORT")]
    NotHostPort(String),
    #[error("{0:?} must start with / and name a path other than /")]
    TelemetryPath(String),
    #[error("/-/ and /probe are the exporter's own paths")]
    ReservedPath,
    #[error("empty group name")]
    EmptyGroupName,
    #[error(
        "missing (set it or GENESYS_CLIENT_ID, give organizations: in --config.file, or run with --demo)"
    )]
    NoClientId,
    #[error(
        "missing client secret (give the flag or set GENESYS_CLIENT_SECRET, or run with --demo)"
    )]
    NoClientSecret,
    #[error("{0:?} is not an AWS region (such as eu-west-1)")]
    NotAwsRegion(String),
    #[error("{0:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")]
    NotRoleArn(String),
    #[error("needs aws.role_arn (--aws.role-arn)")]
    ExternalIdWithoutRole,
    #[error("must be 2 to 1224 characters")]
    ExternalIdLength,
    #[error("must be at least {}", format_duration(*.min))]
    TooShort { min: Duration },
    #[error("must be a whole number of minutes")]
    NotWholeMinutes,
    #[error("{0:?} is not a partner event source name (aws.partner/...)")]
    NotEventSource(String),
    #[error("{0:?} is not a rule name (letters, digits, . - _; at most 64)")]
    NotRuleName(String),
    #[error("name is used twice")]
    NameTwice,
    #[error("none given, and the integrations collector that discovers them is off")]
    NoSources,
    #[error("[{index}] ({name}): {problem}")]
    InEntry {
        index: usize,
        name: String,
        problem: Box<Problem>,
    },
}

impl Problem {
    /// This problem with the setting named `key`.
    pub fn of(self, key: &'static str) -> Invalid {
        Invalid { key, problem: self }
    }
}

/// What is wrong with `--config.file`; the caller names the file (at start)
/// or not (a refused reload, which names it in its own log fields).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read: {0}")]
    Read(#[from] ReadError),
    #[error("cannot read: not UTF-8")]
    NotUtf8,
    #[error("invalid YAML: {0}")]
    Yaml(String),
    #[error(transparent)]
    Group(#[from] GroupError),
    #[error("{at}: {source}")]
    Org { at: Entry, source: Box<OrgError> },
    #[error("organizations: none left, and the flags name no organisation (--genesys.client-id)")]
    NoOrganizations,
}

/// An entry of a list in the file: `organizations[1] (acme)`, or without
/// the name while it is missing or not a valid one.
#[derive(Debug, Clone)]
pub struct Entry {
    pub list: &'static str,
    pub index: usize,
    pub name: Option<String>,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.list, self.index)?;
        match &self.name {
            Some(name) => write!(f, " ({name})"),
            None => Ok(()),
        }
    }
}

/// What is wrong with an entry of a `consumer_groups:` list.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct GroupError {
    pub at: Entry,
    pub problem: GroupProblem,
}

#[derive(Debug, thiserror::Error)]
pub enum GroupProblem {
    #[error("name is empty")]
    NameEmpty,
    #[error("name is used twice")]
    NameTwice,
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// What is wrong with an organisation of the file.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// Not the shape of an organisation: an unknown key, a value of the
    /// wrong type (the value itself is not shown: it may be a secret).
    #[error("{0}")]
    Yaml(String),
    #[error("name: missing")]
    NameMissing,
    #[error("name: {0:?} is not a valid target name ([A-Za-z0-9][A-Za-z0-9._-]{{0,62}})")]
    NameInvalid(String),
    #[error("name: {0:?} is used twice")]
    NameTwice(String),
    #[error("name: {DEMO_ORG:?} is the demo organisation's target")]
    DemoName,
    #[error("name: {FLAGS_ORG:?} is the target of the organisation the flags describe")]
    FlagsName,
    #[error("region and api_url are both set; give one")]
    RegionAndApiUrl,
    #[error("client_secret_file: missing (a secret is never written into this file)")]
    NoSecretFile,
    #[error(transparent)]
    Group(#[from] GroupError),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}
