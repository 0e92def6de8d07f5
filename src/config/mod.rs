//! Configuration: command-line flags (with their environment variables), the
//! YAML file, and the validated [`Config`] the rest of the program runs on.

pub mod duration;
pub mod file;
pub mod secret;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use reqwest::Url;

pub use duration::{format_duration, iso8601, parse_duration};
pub use secret::{ClientSecret, Secret};

use crate::model::{GroupSpec, Thresholds};
use crate::web::ServerLimits;
use crate::web::config::{self as webconfig, WebConfig};

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

    /// YAML file with `consumer_groups:` entries (`name`, optional `max_lag`, `max_processing_latency`).
    #[arg(long = "config.file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

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

    /// Run against a built-in simulated Genesys Cloud; needs no credentials and no network.
    #[arg(long = "demo")]
    pub demo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// Bad configuration: the message names the flag or file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn flag(flag: &str, what: impl std::fmt::Display) -> Self {
        ConfigError(format!("{flag}: {what}"))
    }
}

/// Where queries go and with which credentials.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// Genesys Cloud (or anything speaking its API) at these URLs.
    Remote(Endpoints),
    /// The built-in simulator, started by the application on loopback.
    Demo,
}

#[derive(Debug, Clone)]
pub struct Endpoints {
    /// API base, without a trailing slash.
    pub api_url: String,
    /// Login base, without a trailing slash.
    pub login_url: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
}

#[derive(Debug, Clone)]
pub struct QueryConfig {
    pub path: String,
    pub window: Duration,
    pub page_size: u32,
    pub max_pages: u32,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub ttl: Duration,
    pub max_stale: Duration,
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
    pub upstream: Upstream,
    /// Configured groups in a stable order; empty means no filter.
    pub groups: Vec<GroupSpec>,
    pub default_thresholds: Thresholds,
    pub query: QueryConfig,
    pub cache: CacheConfig,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
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
        if cli.telemetry_path.starts_with("/-/") {
            return Err(ConfigError::flag(
                "--web.telemetry-path",
                "/-/ is reserved for health endpoints",
            ));
        }
        let web = match &cli.web_config_file {
            Some(path) => webconfig::load(path).map_err(|e| {
                ConfigError::flag("--web.config.file", format!("{}: {e}", path.display()))
            })?,
            None => WebConfig::default(),
        };
        if !cli.query_path.starts_with('/') {
            return Err(ConfigError::flag(
                "--query.path",
                format!("{:?} must start with /", cli.query_path),
            ));
        }
        if cli.query_window < Duration::from_secs(1) || cli.query_window.subsec_millis() != 0 {
            return Err(ConfigError::flag(
                "--query.window",
                "must be a whole number of seconds, at least 1s",
            ));
        }
        if cli.page_size == 0 || cli.page_size > MAX_PAGE_SIZE {
            return Err(ConfigError::flag(
                "--query.page-size",
                format!("{} is out of range (1 to {MAX_PAGE_SIZE})", cli.page_size),
            ));
        }
        if cli.max_pages == 0 {
            return Err(ConfigError::flag("--query.max-pages", "must be at least 1"));
        }
        if cli.query_timeout < Duration::from_millis(100) {
            return Err(ConfigError::flag(
                "--query.timeout",
                "must be at least 100ms",
            ));
        }
        if cli.cache_max_stale < cli.cache_ttl {
            return Err(ConfigError::flag(
                "--cache.max-stale",
                format!(
                    "{} is shorter than --cache.ttl {}",
                    format_duration(cli.cache_max_stale),
                    format_duration(cli.cache_ttl)
                ),
            ));
        }
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
        }

        let defaults = Thresholds {
            max_lag: cli.max_lag,
            max_processing_latency: cli.max_processing_latency,
        };
        let file_groups = match &cli.config_file {
            Some(path) => file::load(path)
                .map_err(|e| ConfigError(format!("--config.file {}: {e}", path.display())))?,
            None => Vec::new(),
        };
        let mut flag_groups = cli.consumer_groups.clone();
        if cli.demo {
            flag_groups.extend(DEMO_GROUPS.iter().map(|g| g.to_string()));
        }
        let groups = merge_groups(&flag_groups, &file_groups, defaults)?;

        let upstream = if cli.demo {
            Upstream::Demo
        } else {
            Upstream::Remote(endpoints(&cli, secret_env)?)
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
            upstream,
            groups,
            default_thresholds: defaults,
            query: QueryConfig {
                path: cli.query_path,
                window: cli.query_window,
                page_size: cli.page_size,
                max_pages: cli.max_pages,
                timeout: cli.query_timeout,
            },
            cache: CacheConfig {
                ttl: cli.cache_ttl,
                max_stale: cli.cache_max_stale,
            },
            log_level: cli.log_level,
            log_format: cli.log_format,
        })
    }

    /// Thresholds in force for a group, configured or merely seen.
    pub fn thresholds_for(&self, group: &str) -> Thresholds {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .map_or(self.default_thresholds, |g| g.thresholds)
    }
}

/// Flags and file merged, in first-seen order; the file's thresholds win.
fn merge_groups(
    flags: &[String],
    file: &[file::FileGroup],
    defaults: Thresholds,
) -> Result<Vec<GroupSpec>, ConfigError> {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: BTreeMap<String, Thresholds> = BTreeMap::new();
    for name in flags {
        let name = name.trim();
        if name.is_empty() {
            return Err(ConfigError::flag("--consumer-group", "empty group name"));
        }
        if by_name.insert(name.to_string(), defaults).is_none() {
            order.push(name.to_string());
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
    Ok(order
        .into_iter()
        .map(|name| GroupSpec {
            thresholds: by_name[&name],
            name,
        })
        .collect())
}

fn endpoints(cli: &Cli, secret_env: Option<String>) -> Result<Endpoints, ConfigError> {
    let client_id = match cli.client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => {
            return Err(ConfigError::flag(
                "--genesys.client-id",
                "missing (set it or GENESYS_CLIENT_ID, or run with --demo)",
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
    let api_url = match &cli.api_url {
        Some(url) => base_url("--genesys.api-url", url)?,
        None => {
            let region = cli.region.trim().trim_matches('.');
            if region.is_empty() || region.contains(['/', ':', ' ']) {
                return Err(ConfigError::flag(
                    "--genesys.region",
                    format!("{:?} is not a domain", cli.region),
                ));
            }
            base_url("--genesys.region", &format!("https://api.{region}"))?
        }
    };
    let login_url = match &cli.login_url {
        Some(url) => base_url("--genesys.login-url", url)?,
        None if cli.api_url.is_none() => base_url(
            "--genesys.region",
            &format!("https://login.{}", cli.region.trim().trim_matches('.')),
        )?,
        None => login_from_api(&api_url),
    };
    Ok(Endpoints {
        api_url,
        login_url,
        client_id,
        client_secret,
    })
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

    fn remote(c: &Config) -> &Endpoints {
        match &c.upstream {
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
        let names: Vec<_> = c.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(c.thresholds_for("b").max_lag, Duration::from_secs(45));
        assert_eq!(c.thresholds_for("a").max_lag, Duration::from_secs(30));
        assert_eq!(
            c.thresholds_for("unseen").max_processing_latency,
            Duration::from_millis(500)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn demo_needs_no_credentials_and_configures_its_groups() {
        let c = Config::from_cli(cli(&["--demo"]), None).unwrap();
        assert!(matches!(c.upstream, Upstream::Demo));
        assert_eq!(c.groups.len(), 3);
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
