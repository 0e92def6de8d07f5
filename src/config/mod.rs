//! Configuration: command-line flags (with their environment variables), the
//! YAML file, and the validated [`Config`] the rest of the program runs on.
//!
//! An organisation's settings are one type, [`OrgSettings`]: the flags make
//! the flags' organisation ([`flags`]), and each organisation of the file is
//! read over a copy of it ([`read`]), so that what it leaves out comes from
//! the flags. [`OrgSettings::check`] holds the rules both must meet.

pub mod aws;
pub mod duration;
pub mod error;
pub mod file;
pub mod flags;
pub mod groups;
pub mod read;
pub mod secret;
pub mod settings;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use aws::{AwsSettings, EventSourceSpec, RuleSpec};
pub use duration::{DurationError, format_duration, iso8601, parse_duration};
pub use error::{ConfigError, FileError, Invalid};
pub use file::FileConfig;
pub use flags::Cli;
pub use secret::{ClientSecret, Secret, SecretError};
pub use settings::{
    CacheConfig, Endpoints, FileUpstream, FlagSettings, OrgSettings, QueryConfig, Source, Upstream,
    at_most, login_from_api,
};

pub use crate::logging::{LogFormat, LogLevel};
use crate::web::ServerLimits;
use crate::web::config::WebConfig;
pub use groups::{GroupSpec, Thresholds};

/// The consumer groups demo mode configures, one per state it shows.
pub const DEMO_GROUPS: [&str; 3] = [
    "eventbridge-consumer-primary",
    "eventbridge-consumer-secondary",
    "eventbridge-consumer-audit",
];

/// The rules demo mode watches on its partner bus: the simulator's three,
/// and one it does not have, to show a rule missing.
pub const DEMO_RULES: [&str; 4] = [
    "genesys-to-sqs-orders",
    "genesys-to-lambda-analytics",
    "genesys-archive-replay",
    "genesys-to-kinesis-audit",
];

/// Largest page size accepted; Genesys analytics queries page at most this many rows.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The probe target name of the demo organisation.
pub const DEMO_ORG: &str = "demo";
/// How logs name the organisation the flags describe.
pub const FLAGS_ORG: &str = "default";

/// The longest settings taken: far past any real one, and short enough that
/// no date or deadline computed from them can overflow.
pub const MAX_WINDOW: Duration = Duration::from_secs(31 * 86_400);
pub const MAX_QUERY_TIMEOUT: Duration = Duration::from_secs(600);
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(86_400);
pub const MAX_CACHE_MAX_STALE: Duration = Duration::from_secs(7 * 86_400);
pub const MAX_THRESHOLD: Duration = Duration::from_secs(7 * 86_400);

/// The organisations in force: the flags' one (served on the telemetry
/// path) and those of `organizations:` (probe targets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Organizations {
    pub flags: Option<OrgSettings>,
    pub configured: Vec<OrgSettings>,
}

impl Organizations {
    /// The organisations that the flags' settings and a load of the file
    /// make; reads the secret file of each organisation of the file. The
    /// error is one line naming the organisation and the key, without the
    /// path.
    pub fn new(flags: &FlagSettings, file: &FileConfig) -> Result<Organizations, FileError> {
        let served = flags.upstream.clone().map(|upstream| {
            let groups = settings::merge_groups(&flags.groups, &file.consumer_groups);
            OrgSettings {
                groups,
                ..flags.clone()
            }
            .with_upstream(upstream)
        });
        let demo = flags.is_demo();
        let mut configured = Vec::with_capacity(file.organizations.len());
        for (index, org) in file.organizations.iter().enumerate() {
            let at = error::Entry {
                list: "organizations",
                index,
                name: Some(org.name.clone()),
            };
            let org = org.clone().resolve(demo).map_err(|e| FileError::Org {
                at,
                source: Box::new(e),
            })?;
            configured.push(org);
        }
        if served.is_none() && configured.is_empty() {
            return Err(FileError::NoOrganizations);
        }
        Ok(Organizations {
            flags: served,
            configured,
        })
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen_addresses: Vec<String>,
    /// `--web.systemd-socket`: serve on the sockets systemd passes, not
    /// on `listen_addresses`.
    pub systemd_socket: bool,
    pub telemetry_path: String,
    pub web_config_file: Option<PathBuf>,
    /// TLS, basic auth and headers from `--web.config.file`.
    pub web: WebConfig,
    /// Not a flag: the documented defaults, shortened by tests.
    pub limits: ServerLimits,
    /// Not a flag: each organisation runs one cycle at start, in the
    /// background. Tests that count requests from their first scrape, or
    /// queue faults for it, turn it off.
    pub first_cycle_at_start: bool,
    /// What the flags say, read once: every load of `--config.file` (at
    /// start and at each reload) is read over it. Its groups are the
    /// flags' own, without the file's.
    pub flags: FlagSettings,
    pub config_file: Option<PathBuf>,
    /// The file as read at start.
    pub file: FileConfig,
    pub orgs: Organizations,
    /// `--config.check`: validate and exit.
    pub check_only: bool,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
}

impl Config {
    /// Validates parsed flags. `secret_env` is the value of GENESYS_CLIENT_SECRET.
    pub fn from_cli(cli: Cli, secret_env: Option<String>) -> Result<Config, ConfigError> {
        cli.check_web()?;
        let web = cli.web_config()?;
        let mut flags = cli.settings()?;
        let file = match &cli.config_file {
            Some(path) => load_file(path, &flags)?,
            None => FileConfig::default(),
        };
        flags.groups = cli.groups(flags.default_thresholds)?;
        // With organisations in the file, the flags need name none.
        if flags.upstream.is_none() && (cli.client_id.is_some() || file.organizations.is_empty()) {
            flags.upstream = Some(Upstream::Remote(cli.endpoints(secret_env)?));
        }
        let orgs = Organizations::new(&flags, &file)
            .map_err(ConfigError::file(cli.config_file.as_deref()))?;
        Ok(Config {
            listen_addresses: cli.listen_addresses,
            systemd_socket: cli.systemd_socket,
            telemetry_path: cli.telemetry_path,
            web_config_file: cli.web_config_file,
            web,
            limits: ServerLimits {
                max_connections_per_ip: cli.max_connections_per_ip.get(),
                ..ServerLimits::default()
            },
            flags,
            config_file: cli.config_file,
            file,
            orgs,
            check_only: cli.config_check,
            first_cycle_at_start: true,
            log_level: cli.log_level,
            log_format: cli.log_format,
        })
    }
}

/// Reads `--config.file` over the flags' settings; the error names the file.
pub fn load_file(path: &Path, flags: &FlagSettings) -> Result<FileConfig, ConfigError> {
    file::load(path, flags).map_err(ConfigError::file(Some(path)))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

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
