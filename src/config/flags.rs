//! The command line: the flags (with their environment variables), and
//! the settings they make: the flags' organisation, which every
//! organisation of the file is read over.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::aws::{AwsSettings, EventSourceSpec, RuleSpec};
use super::error::{ConfigError, Invalid, Problem};
use super::groups::{GroupSpec, Thresholds};
use super::secret::{ClientSecret, Secret};
use super::settings::{
    CacheConfig, Collectors, Endpoints, FlagSettings, OrgSettings, QueryConfig, Source, Upstream,
    hosts,
};
use super::{DEMO_GROUPS, DEMO_ORG, DEMO_RULES, FLAGS_ORG, LogFormat, LogLevel, parse_duration};
use crate::web::config::{self as webconfig, WebConfig};

#[derive(Debug, Parser)]
#[command(
    name = "genesys-eventbridge-exporter",
    version,
    about = "Prometheus exporter for Genesys Cloud EventBridge delivery health and consumer lag",
    long_about = "Prometheus exporter for Genesys Cloud EventBridge delivery health and consumer lag.\n\n\
        Each scrape runs one cached, rate-limit-aware cycle per organisation: the analytics \
        query of consumer groups, the EventBridge integrations' states and, with --collector.aws, \
        the delivery path on AWS. The organisation of the flags is served on the telemetry path \
        (and as the probe target `default`); those of `organizations:` in --config.file on \
        /probe?target=NAME. The client secret is read from --genesys.client-secret-file or from \
        the environment variable GENESYS_CLIENT_SECRET, never from a flag."
)]
pub struct Cli {
    /// Address to listen on for HTTP requests (repeatable).
    #[arg(
        long = "web.listen-address",
        value_name = "ADDR",
        default_value = ":9864"
    )]
    pub listen_addresses: Vec<String>,

    /// Path under which to expose metrics.
    #[arg(
        long = "web.telemetry-path",
        value_name = "PATH",
        default_value = "/metrics"
    )]
    pub telemetry_path: String,

    /// Path to a web configuration file (TLS and basic auth, exporter-toolkit format);
    /// changes to it and to the files it names take effect without a restart.
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<PathBuf>,

    /// Use the listening sockets systemd passes (socket activation, a .socket unit) instead
    /// of binding --web.listen-address.
    #[arg(long = "web.systemd-socket")]
    pub systemd_socket: bool,

    /// Connections one client address may hold at once; past it, its new connections are closed.
    #[arg(long = "web.max-connections-per-ip", value_name = "N", default_value_t = std::num::NonZeroUsize::new(crate::web::limits::MAX_CONNECTIONS_PER_IP).unwrap())]
    pub max_connections_per_ip: std::num::NonZeroUsize,

    /// Genesys Cloud region domain: the API is https://api.DOMAIN, login https://login.DOMAIN.
    #[arg(
        long = "genesys.region",
        env = "GENESYS_REGION",
        value_name = "DOMAIN",
        default_value = "mypurecloud.com"
    )]
    pub region: String,

    /// API base URL, overriding the region.
    #[arg(long = "genesys.api-url", env = "GENESYS_BASE_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// Login (OAuth) base URL [default: the API URL with its `api.` host label replaced by `login.`].
    #[arg(
        long = "genesys.login-url",
        env = "GENESYS_LOGIN_URL",
        value_name = "URL"
    )]
    pub login_url: Option<String>,

    /// OAuth client id (client credentials grant). Required unless --demo, or unless
    /// --config.file lists `organizations:` (then the flags' organisation is optional).
    #[arg(
        long = "genesys.client-id",
        env = "GENESYS_CLIENT_ID",
        value_name = "ID"
    )]
    pub client_id: Option<String>,

    /// File holding the OAuth client secret (trailing newline ignored), read again for every
    /// token request. Alternatively set the environment variable GENESYS_CLIENT_SECRET to the
    /// secret itself. Required with --genesys.client-id (unless --demo).
    #[arg(long = "genesys.client-secret-file", value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// Consumer group to report (repeatable; the environment variable is comma-separated).
    /// None: no filter, every group the API returns is reported.
    #[arg(
        long = "consumer-group",
        env = "GENESYS_CONSUMER_GROUPS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub consumer_groups: Vec<String>,

    /// Default lag threshold (worst processing latency of a group).
    #[arg(long = "threshold.max-lag", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub max_lag: Duration,

    /// Default processing-latency threshold.
    #[arg(long = "threshold.max-processing-latency", value_name = "DURATION", default_value = "500ms", value_parser = parse_duration)]
    pub max_processing_latency: Duration,

    /// YAML file with `consumer_groups:` (`name`, optional `max_lag`, `max_processing_latency`)
    /// and `organizations:` (probe targets with their own credentials); reloaded on SIGHUP,
    /// POST /-/reload and when it changes.
    #[arg(long = "config.file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// Check the flags and --config.file, print the result, and exit (0 when valid, 2 when not).
    #[arg(long = "config.check")]
    pub config_check: bool,

    /// Path of the analytics query on the API host.
    #[arg(
        long = "query.path",
        value_name = "PATH",
        default_value = "/api/v2/analytics/events/details/query"
    )]
    pub query_path: String,

    /// Time window each query covers, ending now.
    #[arg(long = "query.window", value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub query_window: Duration,

    /// Rows per page requested from the API (1 to 1000).
    #[arg(long = "query.page-size", value_name = "N", default_value_t = 50)]
    pub page_size: u32,

    /// Most pages one query may read before it stops with a pagination error.
    #[arg(long = "query.max-pages", value_name = "N", default_value_t = 100)]
    pub max_pages: u32,

    /// Time budget of a query when Prometheus sends no X-Prometheus-Scrape-Timeout-Seconds.
    #[arg(long = "query.timeout", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub query_timeout: Duration,

    /// How long a query result is served before a scrape triggers a new query.
    #[arg(long = "cache.ttl", value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub cache_ttl: Duration,

    /// Per-group series are no longer exported once the latest good data is older than this.
    #[arg(long = "cache.max-stale", value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub cache_max_stale: Duration,

    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", value_name = "LEVEL", value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,

    /// Output format of log messages.
    #[arg(long = "log.format", value_name = "FORMAT", value_enum, default_value_t = LogFormat::Logfmt)]
    pub log_format: LogFormat,

    /// Run the analytics query of consumer groups (the tutorial's; absent from Genesys Cloud's
    /// public API, so an organisation may answer it 404).
    #[arg(
        long = "collector.analytics",
        overrides_with = "no_collector_analytics"
    )]
    pub collector_analytics: bool,

    /// Do not run the analytics query: no request is sent to the analytics API, and none of
    /// its series (genesys_eventbridge_up, the per-group series) are exported.
    #[arg(
        long = "no-collector.analytics",
        overrides_with = "collector_analytics"
    )]
    pub no_collector_analytics: bool,

    /// List the organisation's Amazon EventBridge integrations and their states with each
    /// query (GET /api/v2/integrations; needs the permission integrations:integration:view).
    #[arg(
        long = "collector.integrations",
        overrides_with = "no_collector_integrations"
    )]
    pub collector_integrations: bool,

    /// Do not list the EventBridge integrations: no request is sent to the integrations API.
    #[arg(
        long = "no-collector.integrations",
        overrides_with = "collector_integrations"
    )]
    pub no_collector_integrations: bool,

    /// Watch the delivery path on AWS: the integrations' partner event sources, their bus, its
    /// rules and their CloudWatch figures (AWS credentials from the SDK's default chain).
    #[arg(long = "collector.aws", overrides_with = "no_collector_aws")]
    pub collector_aws: bool,

    /// Do not ask AWS (the default).
    #[arg(long = "no-collector.aws", overrides_with = "collector_aws")]
    pub no_collector_aws: bool,

    /// AWS region of every event source [default: each integration's awsAccountRegion].
    #[arg(long = "aws.region", value_name = "REGION")]
    pub aws_region: Option<String>,

    /// IAM role to assume for AWS (through STS), with the default credential chain's identity.
    #[arg(long = "aws.role-arn", value_name = "ARN")]
    pub aws_role_arn: Option<String>,

    /// External id to assume --aws.role-arn with.
    #[arg(long = "aws.external-id", value_name = "ID")]
    pub aws_external_id: Option<String>,

    /// Partner event source to watch (repeatable); replaces discovery from the integrations.
    #[arg(long = "aws.event-source", value_name = "NAME")]
    pub aws_event_sources: Vec<String>,

    /// Rule of the event bus to watch (repeatable) [default: every rule on the bus].
    #[arg(long = "aws.rule", value_name = "NAME")]
    pub aws_rules: Vec<String>,

    /// How long AWS figures are served before a scrape asks AWS again (at least 1m).
    #[arg(long = "aws.cache.ttl", value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub aws_ttl: Duration,

    /// CloudWatch period the figures describe (whole minutes).
    #[arg(long = "aws.period", value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub aws_period: Duration,

    /// How long after a period ends before it is read (CloudWatch's figures arrive late).
    #[arg(long = "aws.delay", value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub aws_delay: Duration,

    /// Run against a built-in simulated Genesys Cloud; needs no credentials and no network.
    #[arg(long = "demo")]
    pub demo: bool,
}

impl Cli {
    /// The listen addresses and the telemetry path.
    pub fn check_web(&self) -> Result<(), Invalid> {
        for address in &self.listen_addresses {
            let port = address
                .rsplit_once(':')
                .map(|(_, port)| port.parse::<u16>());
            if !matches!(port, Some(Ok(_))) {
                return Err(Problem::NotHostPort(address.clone()).of("--web.listen-address"));
            }
        }
        let path = &self.telemetry_path;
        if !path.starts_with('/') || path.len() < 2 {
            return Err(Problem::TelemetryPath(path.clone()).of("--web.telemetry-path"));
        }
        if path.starts_with("/-/") || path == "/probe" {
            return Err(Problem::ReservedPath.of("--web.telemetry-path"));
        }
        Ok(())
    }

    /// `--web.config.file` as read at start.
    pub fn web_config(&self) -> Result<WebConfig, ConfigError> {
        match &self.web_config_file {
            Some(path) => webconfig::load(path).map_err(|source| ConfigError::WebConfig {
                path: path.clone(),
                source,
            }),
            None => Ok(WebConfig::default()),
        }
    }

    /// The flags' settings, checked: the defaults of every organisation.
    /// Their upstream is the simulator's with `--demo`, else added by
    /// [`endpoints`](Self::endpoints) when the flags name an organisation;
    /// their groups are added by [`groups`](Self::groups).
    pub fn settings(&self) -> Result<FlagSettings, Invalid> {
        let settings = OrgSettings {
            name: if self.demo { DEMO_ORG } else { FLAGS_ORG }.to_string(),
            region: self.region.clone(),
            upstream: self.demo.then_some(Upstream::Demo),
            groups: Vec::new(),
            default_thresholds: Thresholds {
                max_lag: self.max_lag,
                max_processing_latency: self.max_processing_latency,
            },
            query: QueryConfig {
                path: self.query_path.clone(),
                window: self.query_window,
                page_size: self.page_size,
                max_pages: self.max_pages,
                timeout: self.query_timeout,
            },
            cache: CacheConfig {
                ttl: self.cache_ttl,
                max_stale: self.cache_max_stale,
            },
            collectors: Collectors {
                analytics: !self.no_collector_analytics,
                integrations: !self.no_collector_integrations,
                // On in the demo, against the simulator, unless turned off.
                aws: (self.collector_aws || self.demo) && !self.no_collector_aws,
            },
            aws: self.aws_settings(),
        };
        settings.check(Source::Flags)?;
        Ok(settings)
    }

    fn aws_settings(&self) -> AwsSettings {
        AwsSettings {
            region: self.aws_region.clone(),
            role_arn: self.aws_role_arn.clone(),
            external_id: self.aws_external_id.clone(),
            endpoint_url: None,
            event_sources: (self.aws_event_sources.iter())
                .map(|name| EventSourceSpec {
                    name: name.trim().to_string(),
                    region: None,
                })
                .collect(),
            rules: (self.aws_rules.iter().map(String::as_str))
                .chain(
                    DEMO_RULES
                        .into_iter()
                        .filter(|_| self.demo && self.aws_rules.is_empty()),
                )
                .map(|name| RuleSpec {
                    name: name.trim().to_string(),
                    max_delivery_lag: None,
                })
                .collect(),
            ttl: self.aws_ttl,
            period: self.aws_period,
            delay: self.aws_delay,
        }
    }

    /// `--consumer-group` (and the demo's groups), held to `defaults`; a
    /// name given twice counts once.
    pub fn groups(&self, defaults: Thresholds) -> Result<Vec<GroupSpec>, Invalid> {
        let demo = DEMO_GROUPS.iter().filter(|_| self.demo);
        let mut groups: Vec<GroupSpec> = Vec::new();
        for name in self
            .consumer_groups
            .iter()
            .map(String::as_str)
            .chain(demo.copied())
        {
            let name = name.trim();
            if name.is_empty() {
                return Err(Problem::EmptyGroupName.of("--consumer-group"));
            }
            if !groups.iter().any(|g| g.name == name) {
                groups.push(GroupSpec {
                    name: name.to_string(),
                    thresholds: defaults,
                });
            }
        }
        Ok(groups)
    }

    /// The flags' organisation's upstream. `secret_env` is the value of
    /// GENESYS_CLIENT_SECRET.
    pub fn endpoints(&self, secret_env: Option<String>) -> Result<Endpoints, Invalid> {
        let client_id = match self.client_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => return Err(Problem::NoClientId.of("--genesys.client-id")),
        };
        const SECRET_FLAG: &str = "--genesys.client-secret-file";
        let client_secret = match (&self.client_secret_file, secret_env) {
            (Some(path), _) => ClientSecret::from_file(path.clone())
                .map_err(|e| Problem::Secret(e).of(SECRET_FLAG))?,
            (None, Some(secret)) if !secret.trim_end_matches(['\r', '\n']).is_empty() => {
                ClientSecret::Value(Secret::new(secret.trim_end_matches(['\r', '\n'])))
            }
            _ => return Err(Problem::NoClientSecret.of(SECRET_FLAG)),
        };
        let (api_url, login_url) = hosts(
            &self.region,
            self.api_url.as_deref(),
            self.login_url.as_deref(),
            Source::Flags,
        )?;
        Ok(Endpoints {
            api_url,
            login_url,
            client_id,
            client_secret,
        })
    }
}
