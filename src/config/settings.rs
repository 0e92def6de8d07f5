//! One organisation's settings, whoever gives them: the flags make the
//! flags' organisation, and every organisation of the file is read over a
//! copy of it ([`read`](super::read)). The rules a setting must meet are
//! here, once, for both.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::aws::{AwsSettings, Key as AwsKey};
use super::error::{Invalid, OrgError, Problem};
use super::groups::{GroupSpec, Thresholds};
use super::secret::ClientSecret;
use super::{
    MAX_CACHE_MAX_STALE, MAX_CACHE_TTL, MAX_PAGE_SIZE, MAX_QUERY_TIMEOUT, MAX_THRESHOLD, MAX_WINDOW,
};

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

/// An upstream as an organisation of the file gives it; made an
/// [`Upstream`] by [`OrgSettings::resolve`], which reads the secret file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileUpstream {
    /// Else the region's hosts.
    pub api_url: Option<String>,
    pub login_url: Option<String>,
    pub client_id: String,
    /// Relative paths resolved against the file's folder.
    pub client_secret_file: PathBuf,
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

/// Everything one organisation's cycle runs on. Two equal settings are
/// the same organisation: a reload keeps its token, cache and counters.
///
/// `U` is where its queries go: an [`Upstream`] for every organisation in
/// force. The flags' settings ([`FlagSettings`]) may name none: with
/// `organizations:` in the file the flags need no credentials, and then
/// they are only what the file's organisations are read over. An
/// organisation of the file is read with a [`FileUpstream`], whose secret
/// file is read when the organisations are put together.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSettings<U = Upstream> {
    pub name: String,
    /// The region domain, whose hosts serve the organisation unless an API
    /// URL names others.
    pub region: String,
    pub upstream: U,
    /// Configured groups in a stable order; empty means no filter.
    pub groups: Vec<GroupSpec>,
    pub default_thresholds: Thresholds,
    pub query: QueryConfig,
    pub cache: CacheConfig,
    /// Which collectors run (contract section 13).
    pub collectors: Collectors,
    /// The AWS collector's settings, whether it runs or not: an
    /// organisation of the file reads its `aws:` block over the flags'.
    pub aws: AwsSettings,
}

/// Which collectors an organisation runs: `--collector.NAME` for the
/// flags' organisation, `collectors:` for one of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collectors {
    /// The tutorial's analytics query of consumer groups.
    pub analytics: bool,
    /// The EventBridge integrations listing.
    pub integrations: bool,
    /// The delivery path on AWS: `--collector.aws`, or an `aws:` block.
    pub aws: bool,
}

/// The flags' settings: served on the telemetry path when they name an
/// upstream, and in any case the defaults of the file's organisations.
pub type FlagSettings = OrgSettings<Option<Upstream>>;

impl FlagSettings {
    /// `--demo`: the flags' organisation is the simulator's.
    pub fn is_demo(&self) -> bool {
        self.upstream == Some(Upstream::Demo)
    }
}

impl<U> OrgSettings<U> {
    /// The same settings, with their queries going to `upstream`.
    pub fn with_upstream<V>(self, upstream: V) -> OrgSettings<V> {
        let OrgSettings {
            name,
            region,
            upstream: _,
            groups,
            default_thresholds,
            query,
            cache,
            collectors,
            aws,
        } = self;
        OrgSettings {
            name,
            region,
            upstream,
            groups,
            default_thresholds,
            query,
            cache,
            collectors,
            aws,
        }
    }

    /// Thresholds in force for a group, configured or merely seen.
    pub fn thresholds_for(&self, group: &str) -> Thresholds {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .map_or(self.default_thresholds, |g| g.thresholds)
    }

    /// Every rule the settings must meet, whether the flags or the file
    /// gave them; `source` names them in the error as it does.
    pub fn check(&self, source: Source) -> Result<(), Invalid> {
        use Setting::*;
        let (query, cache) = (&self.query, &self.cache);
        let bad = |setting: Setting, problem: Problem| Err(problem.of(source.key(setting)));
        if !query.path.starts_with('/') {
            return bad(QueryPath, Problem::NotAbsolute(query.path.clone()));
        }
        if query.window < Duration::from_secs(1) || query.window.subsec_millis() != 0 {
            return bad(QueryWindow, Problem::WindowNotWholeSeconds);
        }
        if query.page_size == 0 || query.page_size > MAX_PAGE_SIZE {
            return bad(PageSize, Problem::PageSize(query.page_size));
        }
        if query.max_pages == 0 {
            return bad(MaxPages, Problem::NoPages);
        }
        if query.timeout < Duration::from_millis(100) {
            return bad(QueryTimeout, Problem::TimeoutTooShort);
        }
        for (setting, d, max) in [
            (QueryWindow, query.window, MAX_WINDOW),
            (QueryTimeout, query.timeout, MAX_QUERY_TIMEOUT),
            (CacheTtl, cache.ttl, MAX_CACHE_TTL),
            (CacheMaxStale, cache.max_stale, MAX_CACHE_MAX_STALE),
        ] {
            at_most(d, max).map_err(|p| p.of(source.key(setting)))?;
        }
        if cache.max_stale < cache.ttl {
            return bad(
                CacheMaxStale,
                Problem::ShorterThanTtl {
                    max_stale: cache.max_stale,
                    ttl: cache.ttl,
                    ttl_key: source.key(CacheTtl),
                },
            );
        }
        let thresholds = &self.default_thresholds;
        threshold(thresholds.max_lag).map_err(|p| p.of(source.key(MaxLag)))?;
        threshold(thresholds.max_processing_latency)
            .map_err(|p| p.of(source.key(MaxProcessingLatency)))?;
        if !self.collectors.aws {
            return Ok(());
        }
        self.aws.check(source)?;
        if !self.collectors.integrations && self.aws.event_sources.is_empty() {
            // The sources are found through the integrations listing.
            return Err(Problem::NoSources.of(AwsKey::EventSources.of(source)));
        }
        if self.aws.ttl > cache.max_stale {
            // Figures older than max-stale are not exported: they would
            // vanish between two AWS cycles.
            return bad(
                CacheMaxStale,
                Problem::ShorterThanTtl {
                    max_stale: cache.max_stale,
                    ttl: self.aws.ttl,
                    ttl_key: AwsKey::Ttl.of(source),
                },
            );
        }
        Ok(())
    }
}

impl OrgSettings<FileUpstream> {
    /// An organisation of the file as it will run: its settings checked,
    /// its hosts made and its secret file read. `demo` says that the flags'
    /// organisation is the demo's, whose target name it may not take.
    pub fn resolve(self, demo: bool) -> Result<OrgSettings, OrgError> {
        if demo && self.name == super::DEMO_ORG {
            return Err(OrgError::DemoName);
        }
        if self.name == super::FLAGS_ORG {
            return Err(OrgError::FlagsName);
        }
        self.check(Source::File)?;
        let upstream = &self.upstream;
        let (api_url, login_url) = hosts(
            &self.region,
            upstream.api_url.as_deref(),
            upstream.login_url.as_deref(),
            Source::File,
        )?;
        let client_secret = ClientSecret::from_file(upstream.client_secret_file.clone())
            .map_err(|e| Problem::Secret(e).of("client_secret_file"))?;
        let client_id = upstream.client_id.clone();
        Ok(self.with_upstream(Upstream::Remote(Endpoints {
            api_url,
            login_url,
            client_id,
            client_secret,
        })))
    }
}

/// Who gave a setting, which says how errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flags,
    File,
}

/// The settings whose name differs between the flags and the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    QueryPath,
    QueryWindow,
    PageSize,
    MaxPages,
    QueryTimeout,
    CacheTtl,
    CacheMaxStale,
    MaxLag,
    MaxProcessingLatency,
    Region,
    ApiUrl,
    LoginUrl,
}

impl Source {
    /// The flag, or the key of an organisation of the file, that sets `setting`.
    pub fn key(self, setting: Setting) -> &'static str {
        use Setting::*;
        let (flag, key) = match setting {
            QueryPath => ("--query.path", "query.path"),
            QueryWindow => ("--query.window", "query.window"),
            PageSize => ("--query.page-size", "query.page_size"),
            MaxPages => ("--query.max-pages", "query.max_pages"),
            QueryTimeout => ("--query.timeout", "query.timeout"),
            CacheTtl => ("--cache.ttl", "cache.ttl"),
            CacheMaxStale => ("--cache.max-stale", "cache.max_stale"),
            MaxLag => ("--threshold.max-lag", "thresholds.max_lag"),
            MaxProcessingLatency => (
                "--threshold.max-processing-latency",
                "thresholds.max_processing_latency",
            ),
            Region => ("--genesys.region", "region"),
            ApiUrl => ("--genesys.api-url", "api_url"),
            LoginUrl => ("--genesys.login-url", "login_url"),
        };
        match self {
            Source::Flags => flag,
            Source::File => key,
        }
    }
}

/// `d` is no longer than `max`; the problem names the bound.
pub fn at_most(d: Duration, max: Duration) -> Result<(), Problem> {
    match d > max {
        true => Err(Problem::TooLong { value: d, max }),
        false => Ok(()),
    }
}

/// A threshold, a group's or an organisation's: positive, and at most
/// [`MAX_THRESHOLD`].
pub fn threshold(d: Duration) -> Result<(), Problem> {
    if d.is_zero() {
        return Err(Problem::NotPositive);
    }
    at_most(d, MAX_THRESHOLD)
}

/// Groups in first-seen order; a later one's thresholds win (the file's
/// over the flags').
pub fn merge_groups(first: &[GroupSpec], then: &[GroupSpec]) -> Vec<GroupSpec> {
    let mut out: Vec<GroupSpec> = Vec::with_capacity(first.len() + then.len());
    for group in first.iter().chain(then) {
        match out.iter_mut().find(|g| g.name == group.name) {
            Some(seen) => seen.thresholds = group.thresholds,
            None => out.push(group.clone()),
        }
    }
    out
}

/// The API and login bases from a region or URLs, as section 2 of the
/// contract says; `source` names the three settings in errors.
pub fn hosts(
    region: &str,
    api_url: Option<&str>,
    login_url: Option<&str>,
    source: Source,
) -> Result<(String, String), Invalid> {
    let [region_key, api_key, login_key] =
        [Setting::Region, Setting::ApiUrl, Setting::LoginUrl].map(|s| source.key(s));
    let region = region.trim().trim_matches('.');
    let api = match api_url {
        Some(url) => base_url(api_key, url)?,
        None => {
            if region.is_empty() || region.contains(['/', ':', ' ']) {
                return Err(Problem::NotDomain(region.to_string()).of(region_key));
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
fn base_url(key: &'static str, text: &str) -> Result<String, Invalid> {
    let bad = |problem: Problem| Err(problem.of(key));
    let url = match Url::parse(text.trim()) {
        Ok(url) => url,
        Err(e) => {
            return bad(Problem::Url {
                text: text.to_string(),
                reason: e.to_string(),
            });
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return bad(Problem::NotHttp(text.to_string()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return bad(Problem::QueryOrFragment(text.to_string()));
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
