//! Configuration: command-line flags (with their environment variables), the
//! YAML file, and the validated [`Config`] the rest of the program runs on.

pub mod duration;
pub mod file;
pub mod groups;
pub mod secret;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use reqwest::Url;

pub use duration::{format_duration, iso8601, parse_duration};
pub use file::{FileConfig, FileGroup};
pub use secret::{ClientSecret, Secret};

pub use crate::logging::{LogFormat, LogLevel};
use crate::web::ServerLimits;
use crate::web::config::{self as webconfig, WebConfig};
pub use groups::{GroupSpec, Thresholds};

/// The consumer groups demo mode configures, one per state it shows.
pub const DEMO_GROUPS: [&str; 3] = [
    "eventbridge-consumer-primary",
    "eventbridge-consumer-secondary",
    "eventbridge-consumer-audit",
];

/// Largest page size accepted; Genesys analytics queries page at most this many rows.
pub const MAX_PAGE_SIZE: u32 = 1000;

#[derive(Debug, Parser)]
#[command(
    name = "genesys-eventbridge-exporter",
    version,
    about = "Prometheus exporter for Genesys Cloud EventBridge consumer lag",
    long_about = "Prometheus exporter for Genesys Cloud EventBridge consumer lag.\n\n\
        Each scrape of the telemetry path runs one cached, rate-limit-aware query of the \
        Genesys Cloud analytics API. The client secret is read from --genesys.client-secret-file \
        or from the environment variable GENESYS_CLIENT_SECRET, never from a flag."
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

    /// OAuth client id (client credentials grant). Required unless --demo.
    #[arg(
        long = "genesys.client-id",
        env = "GENESYS_CLIENT_ID",
        value_name = "ID"
    )]
    pub client_id: Option<String>,

    /// File holding the OAuth client secret (trailing newline ignored), read again for every
    /// token request. Alternatively set the environment variable GENESYS_CLIENT_SECRET to the
    /// secret itself. Required unless --demo.
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

    /// Run against a built-in simulated Genesys Cloud; needs no credentials and no network.
    #[arg(long = "demo")]
    pub demo: bool,
}

/// Bad configuration: the message names the flag or file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn flag(flag: &str, what: impl std::fmt::Display) -> Self {
        ConfigError(format!("{flag}: {what}"))
    }

    /// The one-line reason.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// The probe target name of the demo organisation.
pub const DEMO_ORG: &str = "demo";
/// How logs name the organisation the flags describe.
pub const FLAGS_ORG: &str = "default";

/// Where queries go and with which credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum Upstream {
    /// Genesys Cloud (or anything speaking its API) at these URLs.
    Remote(Endpoints),
    /// The built-in simulator, started by the application on loopback.
    Demo,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    /// API base, without a trailing slash.
    pub api_url: String,
    /// Login base, without a trailing slash.
    pub login_url: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryConfig {
    pub path: String,
    pub window: Duration,
    pub page_size: u32,
    pub max_pages: u32,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    pub ttl: Duration,
    pub max_stale: Duration,
}

/// Everything one organisation's pipeline runs on. Two equal settings are
/// the same organisation: a reload keeps its token, cache and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSettings {
    pub name: String,
    pub upstream: Upstream,
    /// Configured groups in a stable order; empty means no filter.
    pub groups: Vec<GroupSpec>,
    pub default_thresholds: Thresholds,
    pub query: QueryConfig,
    pub cache: CacheConfig,
    /// List the EventBridge integrations with each query.
    pub integrations: bool,
}

/// The organisations in force: the flags' one (served on the telemetry
/// path) and those of `organizations:` (probe targets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Organizations {
    pub flags: Option<OrgSettings>,
    pub configured: Vec<OrgSettings>,
}

/// What the flags say, from which every load of `--config.file` (at start
/// and at each reload) makes the organisations: flags are read only once.
#[derive(Debug, Clone)]
pub struct Base {
    /// The flags' organisation's upstream, when the flags or the
    /// environment name credentials, or with `--demo`.
    pub flags_upstream: Option<Upstream>,
    pub demo: bool,
    pub flag_groups: Vec<String>,
    pub region: String,
    pub thresholds: Thresholds,
    pub query: QueryConfig,
    pub cache: CacheConfig,
    pub integrations: bool,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen_addresses: Vec<String>,
    pub telemetry_path: String,
    pub web_config_file: Option<PathBuf>,
    /// TLS, basic auth and headers from `--web.config.file`.
    pub web: WebConfig,
    /// Not a flag: the documented defaults, shortened by tests.
    pub limits: ServerLimits,
    pub base: Base,
    pub config_file: Option<PathBuf>,
    /// The file as read at start.
    pub file: FileConfig,
    pub orgs: Organizations,
    /// `--config.check`: validate and exit.
    pub check_only: bool,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
}

/// The longest settings taken: far past any real one, and short enough that
/// no date or deadline computed from them can overflow.
pub const MAX_WINDOW: Duration = Duration::from_secs(31 * 86_400);
pub const MAX_QUERY_TIMEOUT: Duration = Duration::from_secs(600);
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(86_400);
pub const MAX_CACHE_MAX_STALE: Duration = Duration::from_secs(7 * 86_400);
pub const MAX_THRESHOLD: Duration = Duration::from_secs(7 * 86_400);

/// `d` is no longer than `max`; the error names the bound.
pub fn at_most(d: Duration, max: Duration) -> Result<(), String> {
    match d > max {
        true => Err(format!(
            "{} is longer than {}, the most it may be",
            format_duration(d),
            format_duration(max)
        )),
        false => Ok(()),
    }
}

/// The query and cache settings checked alike for the flags and for each
/// organisation of the file; `key` names them as the flag or the file does.
fn check_settings(
    query: &QueryConfig,
    cache: &CacheConfig,
    key: impl Fn(&str) -> String,
) -> Result<(), String> {
    let bad = |k: &str, what: String| Err(format!("{}: {what}", key(k)));
    if !query.path.starts_with('/') {
        return bad("query.path", format!("{:?} must start with /", query.path));
    }
    if query.window < Duration::from_secs(1) || query.window.subsec_millis() != 0 {
        return bad(
            "query.window",
            "must be a whole number of seconds, at least 1s".into(),
        );
    }
    if query.page_size == 0 || query.page_size > MAX_PAGE_SIZE {
        return bad(
            "query.page-size",
            format!("{} is out of range (1 to {MAX_PAGE_SIZE})", query.page_size),
        );
    }
    if query.max_pages == 0 {
        return bad("query.max-pages", "must be at least 1".into());
    }
    if query.timeout < Duration::from_millis(100) {
        return bad("query.timeout", "must be at least 100ms".into());
    }
    for (k, d, max) in [
        ("query.window", query.window, MAX_WINDOW),
        ("query.timeout", query.timeout, MAX_QUERY_TIMEOUT),
        ("cache.ttl", cache.ttl, MAX_CACHE_TTL),
        ("cache.max-stale", cache.max_stale, MAX_CACHE_MAX_STALE),
    ] {
        if let Err(what) = at_most(d, max) {
            return bad(k, what);
        }
    }
    if cache.max_stale < cache.ttl {
        return bad(
            "cache.max-stale",
            format!(
                "{} is shorter than {} {}",
                format_duration(cache.max_stale),
                key("cache.ttl"),
                format_duration(cache.ttl)
            ),
        );
    }
    Ok(())
}

impl Config {
    /// Validates parsed flags. `secret_env` is the value of GENESYS_CLIENT_SECRET.
    pub fn from_cli(cli: Cli, secret_env: Option<String>) -> Result<Config, ConfigError> {
        for address in &cli.listen_addresses {
            let port = address
                .rsplit_once(':')
                .map(|(_, port)| port.parse::<u16>());
            if !matches!(port, Some(Ok(_))) {
                return Err(ConfigError::flag(
                    "--web.listen-address",
                    format!("{address:?} is not [HOST]:PORT"),
                ));
            }
        }
        if !cli.telemetry_path.starts_with('/') || cli.telemetry_path.len() < 2 {
            return Err(ConfigError::flag(
                "--web.telemetry-path",
                format!(
                    "{:?} must start with / and name a path other than /",
                    cli.telemetry_path
                ),
            ));
        }
        if cli.telemetry_path.starts_with("/-/") || cli.telemetry_path == "/probe" {
            return Err(ConfigError::flag(
                "--web.telemetry-path",
                "/-/ and /probe are the exporter's own paths",
            ));
        }
        let web = match &cli.web_config_file {
            Some(path) => webconfig::load(path).map_err(|e| {
                ConfigError::flag("--web.config.file", format!("{}: {e}", path.display()))
            })?,
            None => WebConfig::default(),
        };
        let query = QueryConfig {
            path: cli.query_path.clone(),
            window: cli.query_window,
            page_size: cli.page_size,
            max_pages: cli.max_pages,
            timeout: cli.query_timeout,
        };
        let cache = CacheConfig {
            ttl: cli.cache_ttl,
            max_stale: cli.cache_max_stale,
        };
        check_settings(&query, &cache, |k| format!("--{k}")).map_err(ConfigError)?;
        for (flag, d) in [
            ("--threshold.max-lag", cli.max_lag),
            (
                "--threshold.max-processing-latency",
                cli.max_processing_latency,
            ),
        ] {
            if d.is_zero() {
                return Err(ConfigError::flag(flag, "must be greater than 0"));
            }
            at_most(d, MAX_THRESHOLD).map_err(|e| ConfigError::flag(flag, e))?;
        }
        let thresholds = Thresholds {
            max_lag: cli.max_lag,
            max_processing_latency: cli.max_processing_latency,
        };
        let file = match &cli.config_file {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        let mut flag_groups = Vec::new();
        for name in &cli.consumer_groups {
            let name = name.trim();
            if name.is_empty() {
                return Err(ConfigError::flag("--consumer-group", "empty group name"));
            }
            flag_groups.push(name.to_string());
        }
        if cli.demo {
            flag_groups.extend(DEMO_GROUPS.iter().map(|g| g.to_string()));
        }
        let flags_upstream = if cli.demo {
            Some(Upstream::Demo)
        } else if cli.client_id.is_none() && !file.organizations.is_empty() {
            // With organisations in the file, the flags need name none.
            None
        } else {
            Some(Upstream::Remote(flag_endpoints(&cli, secret_env)?))
        };
        let base = Base {
            flags_upstream,
            demo: cli.demo,
            flag_groups,
            region: cli.region.clone(),
            thresholds,
            query,
            cache,
            integrations: !cli.no_collector_integrations,
        };
        let orgs = match &cli.config_file {
            Some(path) => base
                .resolve(&file)
                .map_err(|e| ConfigError(format!("--config.file {}: {e}", path.display())))?,
            None => base.resolve(&file).map_err(ConfigError)?,
        };
        Ok(Config {
            listen_addresses: cli.listen_addresses,
            telemetry_path: cli.telemetry_path,
            web_config_file: cli.web_config_file,
            web,
            limits: ServerLimits {
                max_connections_per_ip: cli.max_connections_per_ip.get(),
                ..ServerLimits::default()
            },
            base,
            config_file: cli.config_file,
            file,
            orgs,
            check_only: cli.config_check,
            log_level: cli.log_level,
            log_format: cli.log_format,
        })
    }
}

/// Reads `--config.file`; the error names the file.
pub fn load_file(path: &std::path::Path) -> Result<FileConfig, ConfigError> {
    file::load(path).map_err(|e| ConfigError(format!("--config.file {}: {e}", path.display())))
}

impl Base {
    /// The organisations that the flags and `file` describe; the error is
    /// one line naming the organisation and the key, without the path.
    pub fn resolve(&self, file: &FileConfig) -> Result<Organizations, String> {
        let flags = self.flags_upstream.clone().map(|upstream| OrgSettings {
            name: if self.demo { DEMO_ORG } else { FLAGS_ORG }.to_string(),
            upstream,
            groups: merge_groups(&self.flag_groups, &file.consumer_groups, self.thresholds),
            default_thresholds: self.thresholds,
            query: self.query.clone(),
            cache: self.cache.clone(),
            integrations: self.integrations,
        });
        let mut configured = Vec::with_capacity(file.organizations.len());
        for (i, org) in file.organizations.iter().enumerate() {
            let at = format!("organizations[{i}] ({})", org.name);
            if self.demo && org.name == DEMO_ORG {
                return Err(format!(
                    "{at}: name: {DEMO_ORG:?} is the demo organisation's target"
                ));
            }
            configured.push(self.org(org).map_err(|e| format!("{at}: {e}"))?);
        }
        if flags.is_none() && configured.is_empty() {
            return Err(
                "organizations: none left, and the flags name no organisation (--genesys.client-id)"
                    .into(),
            );
        }
        Ok(Organizations { flags, configured })
    }

    fn org(&self, org: &file::FileOrg) -> Result<OrgSettings, String> {
        let thresholds = Thresholds {
            max_lag: org.max_lag.unwrap_or(self.thresholds.max_lag),
            max_processing_latency: org
                .max_processing_latency
                .unwrap_or(self.thresholds.max_processing_latency),
        };
        let query = QueryConfig {
            path: org.query_path.clone().unwrap_or(self.query.path.clone()),
            window: org.query_window.unwrap_or(self.query.window),
            page_size: org.page_size.unwrap_or(self.query.page_size),
            max_pages: org.max_pages.unwrap_or(self.query.max_pages),
            timeout: org.query_timeout.unwrap_or(self.query.timeout),
        };
        let cache = CacheConfig {
            ttl: org.cache_ttl.unwrap_or(self.cache.ttl),
            max_stale: org.cache_max_stale.unwrap_or(self.cache.max_stale),
        };
        check_settings(&query, &cache, |k| {
            k.replace("page-size", "page_size")
                .replace("max-pages", "max_pages")
                .replace("max-stale", "max_stale")
        })?;
        let (api_url, login_url) = hosts(
            org.region.as_deref().unwrap_or(&self.region),
            org.api_url.as_deref(),
            org.login_url.as_deref(),
            ["region", "api_url", "login_url"],
        )
        .map_err(|e| e.0)?;
        let client_secret = ClientSecret::from_file(org.client_secret_file.clone())
            .map_err(|e| format!("client_secret_file: {e}"))?;
        Ok(OrgSettings {
            name: org.name.clone(),
            upstream: Upstream::Remote(Endpoints {
                api_url,
                login_url,
                client_id: org.client_id.clone(),
                client_secret,
            }),
            groups: merge_groups(&[], &org.consumer_groups, thresholds),
            default_thresholds: thresholds,
            query,
            cache,
            integrations: self.integrations,
        })
    }
}

impl OrgSettings {
    /// Thresholds in force for a group, configured or merely seen.
    pub fn thresholds_for(&self, group: &str) -> Thresholds {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .map_or(self.default_thresholds, |g| g.thresholds)
    }
}

/// Flags and file merged, in first-seen order; the file's thresholds win.
fn merge_groups(flags: &[String], file: &[FileGroup], defaults: Thresholds) -> Vec<GroupSpec> {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: BTreeMap<String, Thresholds> = BTreeMap::new();
    for name in flags {
        if by_name.insert(name.clone(), defaults).is_none() {
            order.push(name.clone());
        }
    }
    for g in file {
        let thresholds = Thresholds {
            max_lag: g.max_lag.unwrap_or(defaults.max_lag),
            max_processing_latency: g
                .max_processing_latency
                .unwrap_or(defaults.max_processing_latency),
        };
        if by_name.insert(g.name.clone(), thresholds).is_none() {
            order.push(g.name.clone());
        }
    }
    order
        .into_iter()
        .map(|name| GroupSpec {
            thresholds: by_name[&name],
            name,
        })
        .collect()
}

fn flag_endpoints(cli: &Cli, secret_env: Option<String>) -> Result<Endpoints, ConfigError> {
    let client_id = match cli.client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => {
            return Err(ConfigError::flag(
                "--genesys.client-id",
                "missing (set it or GENESYS_CLIENT_ID, give organizations: in --config.file, or run with --demo)",
            ));
        }
    };
    let client_secret = match (&cli.client_secret_file, secret_env) {
        (Some(path), _) => ClientSecret::from_file(path.clone())
            .map_err(|e| ConfigError::flag("--genesys.client-secret-file", e))?,
        (None, Some(secret)) if !secret.trim_end_matches(['\r', '\n']).is_empty() => {
            ClientSecret::Value(Secret::new(secret.trim_end_matches(['\r', '\n'])))
        }
        _ => {
            return Err(ConfigError::flag(
                "--genesys.client-secret-file",
                "missing client secret (give the flag or set GENESYS_CLIENT_SECRET, or run with --demo)",
            ));
        }
    };
    let (api_url, login_url) = hosts(
        &cli.region,
        cli.api_url.as_deref(),
        cli.login_url.as_deref(),
        [
            "--genesys.region",
            "--genesys.api-url",
            "--genesys.login-url",
        ],
    )?;
    Ok(Endpoints {
        api_url,
        login_url,
        client_id,
        client_secret,
    })
}

/// The API and login bases from a region or URLs, as section 2 of the
/// contract says; `keys` name the three settings in errors.
fn hosts(
    region: &str,
    api_url: Option<&str>,
    login_url: Option<&str>,
    [region_key, api_key, login_key]: [&str; 3],
) -> Result<(String, String), ConfigError> {
    let region = region.trim().trim_matches('.');
    let api = match api_url {
        Some(url) => base_url(api_key, url)?,
        None => {
            if region.is_empty() || region.contains(['/', ':', ' ']) {
                return Err(ConfigError::flag(
                    region_key,
                    format!("{region:?} is not a domain"),
                ));
            }
            base_url(region_key, &format!("https://api.{region}"))?
        }
    };
    let login = match login_url {
        Some(url) => base_url(login_key, url)?,
        None if api_url.is_none() => base_url(region_key, &format!("https://login.{region}"))?,
        None => login_from_api(&api),
    };
    Ok((api, login))
}

/// Validates a base URL and drops any trailing slash.
fn base_url(flag: &str, text: &str) -> Result<String, ConfigError> {
    let url =
        Url::parse(text.trim()).map_err(|e| ConfigError::flag(flag, format!("{text:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::flag(
            flag,
            format!("{text:?} is not an http(s) URL"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::flag(
            flag,
            format!("{text:?} must not have a query or fragment"),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The SDKs' rule: a leading `api.` host label becomes `login.`; a host
/// without one (a local server) serves login itself.
pub fn login_from_api(api_url: &str) -> String {
    match Url::parse(api_url) {
        Ok(mut url) => match url.host_str().and_then(|h| h.strip_prefix("api.")) {
            Some(rest) => {
                let host = format!("login.{rest}");
                if url.set_host(Some(&host)).is_ok() {
                    url.as_str().trim_end_matches('/').to_string()
                } else {
                    api_url.to_string()
                }
            }
            None => api_url.to_string(),
        },
        Err(_) => api_url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["genesys-eventbridge-exporter"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap()
    }

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        Config::from_cli(cli(args), Some("s3cret".into()))
    }

    fn flags_org(c: &Config) -> &OrgSettings {
        c.orgs.flags.as_ref().expect("the flags' organisation")
    }

    fn remote(c: &Config) -> &Endpoints {
        match &flags_org(c).upstream {
            Upstream::Remote(e) => e,
            Upstream::Demo => panic!("expected remote"),
        }
    }

    #[test]
    fn region_gives_api_and_login_hosts() {
        let c = config(&[
            "--genesys.client-id",
            "id",
            "--genesys.region",
            "mypurecloud.de",
        ])
        .unwrap();
        assert_eq!(remote(&c).api_url, "https://api.mypurecloud.de");
        assert_eq!(remote(&c).login_url, "https://login.mypurecloud.de");
    }

    #[test]
    fn login_url_follows_the_api_url() {
        assert_eq!(
            login_from_api("https://api.usw2.pure.cloud"),
            "https://login.usw2.pure.cloud"
        );
        assert_eq!(
            login_from_api("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            login_from_api("http://localhost:8080/base"),
            "http://localhost:8080/base"
        );
        let c = config(&[
            "--genesys.client-id",
            "id",
            "--genesys.api-url",
            "http://127.0.0.1:9/",
        ])
        .unwrap();
        assert_eq!(remote(&c).api_url, "http://127.0.0.1:9");
        assert_eq!(remote(&c).login_url, "http://127.0.0.1:9");
    }

    #[test]
    fn groups_merge_and_the_file_thresholds_win() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let path = dir.join("groups.yml");
        std::fs::write(
            &path,
            "consumer_groups:\n  - name: b\n    max_lag: 45s\n  - name: c\n",
        )
        .unwrap();
        let c = config(&[
            "--genesys.client-id",
            "id",
            "--consumer-group",
            "a",
            "--consumer-group",
            "b",
            "--config.file",
            path.to_str().unwrap(),
        ])
        .unwrap();
        let org = flags_org(&c);
        let names: Vec<_> = org.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(org.thresholds_for("b").max_lag, Duration::from_secs(45));
        assert_eq!(org.thresholds_for("a").max_lag, Duration::from_secs(30));
        assert_eq!(
            org.thresholds_for("unseen").max_processing_latency,
            Duration::from_millis(500)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn demo_needs_no_credentials_and_configures_its_groups() {
        let c = Config::from_cli(cli(&["--demo"]), None).unwrap();
        assert!(matches!(flags_org(&c).upstream, Upstream::Demo));
        assert_eq!(flags_org(&c).groups.len(), 3);
        assert_eq!(flags_org(&c).name, DEMO_ORG);
    }

    #[test]
    fn bad_values_name_their_flag() {
        let err = |args: &[&str]| config(args).unwrap_err().to_string();
        assert!(err(&["--query.page-size", "0"]).starts_with("--query.page-size"));
        assert!(
            err(&["--genesys.client-id", "id", "--consumer-group", ""])
                .starts_with("--consumer-group")
        );
        assert!(err(&["--query.max-pages", "0"]).starts_with("--query.max-pages"));
        // Durations past any real setting, such as would overflow a date.
        for (flag, value) in [
            ("--query.window", "4500000d"),
            ("--query.window", "32d"),
            ("--query.timeout", "11m"),
            ("--cache.ttl", "25h"),
            ("--cache.max-stale", "8d"),
            ("--threshold.max-lag", "8d"),
            ("--threshold.max-processing-latency", "8d"),
        ] {
            let e = err(&["--genesys.client-id", "id", flag, value]);
            assert!(
                e.starts_with(flag) && e.contains("the most it may be"),
                "{flag} {value}: {e}"
            );
        }
        // Thousands of repeated units, and numbers past u64: refused by name.
        let repeated = "1000000h".repeat(2000);
        assert!(
            err(&["--genesys.client-id", "id", "--query.timeout", &repeated])
                .starts_with("--query.timeout")
        );
        let parsed = Cli::try_parse_from(["x", "--query.timeout", &"9".repeat(30)]);
        assert!(parsed.unwrap_err().to_string().contains("too large"));
        assert!(err(&["--cache.ttl", "20m"]).starts_with("--cache.max-stale"));
        assert!(
            Config::from_cli(cli(&[]), Some("x".into()))
                .unwrap_err()
                .to_string()
                .starts_with("--genesys.client-id")
        );
        assert!(
            Config::from_cli(cli(&["--genesys.client-id", "id"]), None)
                .unwrap_err()
                .to_string()
                .contains("GENESYS_CLIENT_SECRET")
        );
        assert!(
            err(&["--genesys.client-id", "id", "--genesys.api-url", "ftp://x"])
                .starts_with("--genesys.api-url")
        );
    }
}
