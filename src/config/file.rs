//! The YAML configuration file (`--config.file`): consumer groups with
//! optional per-group thresholds, and `organizations:`, each a probe target
//! with its own credentials, groups, thresholds, query and cache settings.
//! Parsed strictly: an unknown key is an error, and every error names the
//! organisation and the key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::duration::parse_duration;
use super::{MAX_THRESHOLD, at_most};
use crate::web::config::{hide_values, one_line};
use crate::web::files::{MAX_FILE_BYTES, MAX_YAML_FLOW_DEPTH, check_yaml_nesting, read_capped};
use crate::web::follow::{Stamp, hash};

/// The characters of a probe target name; also what a `target` parameter
/// must look like before it is looked up.
pub fn valid_org_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of configuration settings")]
struct RawFile {
    #[serde(default)]
    consumer_groups: Vec<RawGroup>,
    /// Read one by one, so that an error can name the organisation.
    #[serde(default)]
    organizations: Vec<serde_yaml_ng::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a consumer group (name, max_lag, max_processing_latency)"
)]
struct RawGroup {
    name: String,
    max_lag: Option<String>,
    max_processing_latency: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an organisation")]
struct RawOrg {
    name: Option<String>,
    region: Option<String>,
    api_url: Option<String>,
    login_url: Option<String>,
    client_id: Option<String>,
    client_secret_file: Option<PathBuf>,
    thresholds: Option<RawThresholds>,
    #[serde(default)]
    consumer_groups: Vec<RawGroup>,
    query: Option<RawQuery>,
    cache: Option<RawCache>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "thresholds (max_lag, max_processing_latency)"
)]
struct RawThresholds {
    max_lag: Option<String>,
    max_processing_latency: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "query settings (path, window, page_size, max_pages, timeout)"
)]
struct RawQuery {
    path: Option<String>,
    window: Option<String>,
    page_size: Option<u32>,
    max_pages: Option<u32>,
    timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "cache settings (ttl, max_stale)")]
struct RawCache {
    ttl: Option<String>,
    max_stale: Option<String>,
}

/// One consumer group as the file declares it; `None` thresholds fall back
/// to the organisation's or the command line's.
#[derive(Debug, Clone, PartialEq)]
pub struct FileGroup {
    pub name: String,
    pub max_lag: Option<Duration>,
    pub max_processing_latency: Option<Duration>,
}

/// One organisation as the file declares it; what it leaves out comes from
/// the flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileOrg {
    pub name: String,
    pub region: Option<String>,
    pub api_url: Option<String>,
    pub login_url: Option<String>,
    pub client_id: String,
    /// Relative paths resolved against the file's folder.
    pub client_secret_file: PathBuf,
    pub max_lag: Option<Duration>,
    pub max_processing_latency: Option<Duration>,
    pub consumer_groups: Vec<FileGroup>,
    pub query_path: Option<String>,
    pub query_window: Option<Duration>,
    pub page_size: Option<u32>,
    pub max_pages: Option<u32>,
    pub query_timeout: Option<Duration>,
    pub cache_ttl: Option<Duration>,
    pub cache_max_stale: Option<Duration>,
}

/// The file as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileConfig {
    pub consumer_groups: Vec<FileGroup>,
    pub organizations: Vec<FileOrg>,
    /// The file's stamp as read, for following it.
    pub stamp: Option<Stamp>,
}

/// Reads and validates the file; the error text names what is wrong, the
/// caller adds the path.
pub fn load(path: &Path) -> Result<FileConfig, String> {
    let bytes = read_capped(path, MAX_FILE_BYTES).map_err(|e| format!("cannot read: {e}"))?;
    let stamp = Ok(hash(&bytes));
    let text = String::from_utf8(bytes).map_err(|_| "cannot read: not UTF-8".to_string())?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut file = parse(&text, dir)?;
    file.stamp = Some(stamp);
    Ok(file)
}

fn yaml_error(e: impl std::fmt::Display) -> String {
    hide_values(&one_line(&e.to_string()))
}

pub fn parse(text: &str, dir: &Path) -> Result<FileConfig, String> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile::default()
    } else {
        // The YAML parser's time grows with the square of the nesting.
        check_yaml_nesting(text, MAX_YAML_FLOW_DEPTH).map_err(|e| format!("invalid YAML: {e}"))?;
        serde_yaml_ng::from_str(text).map_err(|e| format!("invalid YAML: {}", yaml_error(e)))?
    };
    let consumer_groups = groups(raw.consumer_groups, "consumer_groups")?;
    let mut organizations: Vec<FileOrg> = Vec::with_capacity(raw.organizations.len());
    for (i, value) in raw.organizations.into_iter().enumerate() {
        // The name first, so that every later error can give it.
        let name = value
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_string);
        let at = match &name {
            Some(n) if valid_org_name(n) => format!("organizations[{i}] ({n})"),
            _ => format!("organizations[{i}]"),
        };
        let org = org(value, dir).map_err(|e| format!("{at}: {e}"))?;
        if organizations.iter().any(|o| o.name == org.name) {
            return Err(format!("{at}: name: {:?} is used twice", org.name));
        }
        organizations.push(org);
    }
    Ok(FileConfig {
        consumer_groups,
        organizations,
        stamp: None,
    })
}

fn groups(raw: Vec<RawGroup>, at: &str) -> Result<Vec<FileGroup>, String> {
    let mut out: Vec<FileGroup> = Vec::with_capacity(raw.len());
    for (i, g) in raw.into_iter().enumerate() {
        let name = g.name.trim().to_string();
        if name.is_empty() {
            return Err(format!("{at}[{i}]: name is empty"));
        }
        let field = |value: Option<String>, key: &str| {
            threshold(value).map_err(|e| format!("{at}[{i}] ({name}): {key}: {e}"))
        };
        let group = FileGroup {
            max_lag: field(g.max_lag, "max_lag")?,
            max_processing_latency: field(g.max_processing_latency, "max_processing_latency")?,
            name: name.clone(),
        };
        if out.iter().any(|o| o.name == group.name) {
            return Err(format!("{at}[{i}] ({name}): name is used twice"));
        }
        out.push(group);
    }
    Ok(out)
}

/// A threshold, when given: positive, and at most [`MAX_THRESHOLD`].
fn threshold(value: Option<String>) -> Result<Option<Duration>, String> {
    let d = duration(value)?;
    if let Some(d) = d {
        at_most(d, MAX_THRESHOLD)?;
    }
    Ok(d)
}

/// A positive duration, when given.
fn duration(value: Option<String>) -> Result<Option<Duration>, String> {
    value
        .map(|v| match parse_duration(&v).map_err(|e| e.to_string())? {
            d if d.is_zero() => Err("must be greater than 0".to_string()),
            d => Ok(d),
        })
        .transpose()
}

fn org(value: serde_yaml_ng::Value, dir: &Path) -> Result<FileOrg, String> {
    let raw: RawOrg = serde_yaml_ng::from_value(value).map_err(yaml_error)?;
    let name = match raw.name {
        None => return Err("name: missing".into()),
        Some(n) if !valid_org_name(&n) => {
            return Err(format!(
                "name: {:?} is not a valid target name ([A-Za-z0-9][A-Za-z0-9._-]{{0,62}})",
                crate::logging::short(&n)
            ));
        }
        Some(n) => n,
    };
    let client_id = match raw.client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        Some(_) => return Err("client_id: empty".into()),
        None => return Err("client_id: missing".into()),
    };
    let client_secret_file = match raw.client_secret_file {
        Some(p) if p.as_os_str().is_empty() => return Err("client_secret_file: empty".into()),
        Some(p) if p.is_relative() => dir.join(p),
        Some(p) => p,
        None => {
            return Err(
                "client_secret_file: missing (a secret is never written into this file)".into(),
            );
        }
    };
    if raw.region.is_some() && raw.api_url.is_some() {
        return Err("region and api_url are both set; give one".into());
    }
    let keyed =
        |key: &str, value: Option<String>| duration(value).map_err(|e| format!("{key}: {e}"));
    let (max_lag, max_processing_latency) = match raw.thresholds {
        Some(t) => (
            threshold(t.max_lag).map_err(|e| format!("thresholds.max_lag: {e}"))?,
            threshold(t.max_processing_latency)
                .map_err(|e| format!("thresholds.max_processing_latency: {e}"))?,
        ),
        None => (None, None),
    };
    let query = raw.query.unwrap_or(RawQuery {
        path: None,
        window: None,
        page_size: None,
        max_pages: None,
        timeout: None,
    });
    let cache = raw.cache.unwrap_or(RawCache {
        ttl: None,
        max_stale: None,
    });
    Ok(FileOrg {
        consumer_groups: groups(raw.consumer_groups, "consumer_groups")?,
        region: raw.region,
        api_url: raw.api_url,
        login_url: raw.login_url,
        client_id,
        client_secret_file,
        max_lag,
        max_processing_latency,
        query_path: query.path,
        query_window: keyed("query.window", query.window)?,
        page_size: query.page_size,
        max_pages: query.max_pages,
        query_timeout: keyed("query.timeout", query.timeout)?,
        cache_ttl: match cache.ttl {
            // A TTL of 0 is allowed: every scrape queries.
            Some(v) => Some(parse_duration(&v).map_err(|e| format!("cache.ttl: {e}"))?),
            None => None,
        },
        cache_max_stale: keyed("cache.max_stale", cache.max_stale)?,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileConfig, String> {
        super::parse(text, Path::new("/etc/exporter"))
    }

    #[test]
    fn reads_groups_and_thresholds() {
        let file = parse(
            "consumer_groups:\n  - name: a\n    max_lag: 45s\n  - name: b\n    max_processing_latency: 1s\n",
        )
        .unwrap();
        let groups = file.consumer_groups;
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].max_lag, Some(Duration::from_secs(45)));
        assert_eq!(groups[0].max_processing_latency, None);
        assert_eq!(
            groups[1].max_processing_latency,
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn reads_organizations() {
        let file = parse(
            "organizations:
  - name: acme-prod
    region: mypurecloud.de
    client_id: id-1
    client_secret_file: secrets/acme-prod
    thresholds: {max_lag: 45s, max_processing_latency: 1s}
    consumer_groups:
      - name: eventbridge-consumer-primary
        max_lag: 60s
    query: {path: /q, window: 30m, page_size: 100, max_pages: 7, timeout: 5s}
    cache: {ttl: 30s, max_stale: 10m}
  - name: acme_test.2
    api_url: http://127.0.0.1:9000
    client_id: id-2
    client_secret_file: /run/secrets/t
",
        )
        .unwrap();
        let [prod, test] = &file.organizations[..] else {
            panic!("{file:?}")
        };
        assert_eq!(prod.name, "acme-prod");
        assert_eq!(prod.region.as_deref(), Some("mypurecloud.de"));
        assert_eq!(
            prod.client_secret_file,
            Path::new("/etc/exporter/secrets/acme-prod")
        );
        assert_eq!(prod.max_lag, Some(Duration::from_secs(45)));
        assert_eq!(
            prod.consumer_groups[0].max_lag,
            Some(Duration::from_secs(60))
        );
        assert_eq!(prod.query_window, Some(Duration::from_secs(1800)));
        assert_eq!((prod.page_size, prod.max_pages), (Some(100), Some(7)));
        assert_eq!(prod.cache_max_stale, Some(Duration::from_secs(600)));
        assert_eq!(test.api_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(test.cache_ttl, None);
    }

    #[test]
    fn names_the_organisation_and_the_key() {
        let org = |extra: &str| {
            parse(&format!(
                "organizations:\n  - name: ok\n    client_id: a\n    client_secret_file: s\n  - name: acme\n    client_id: b\n    client_secret_file: s\n{extra}"
            ))
            .unwrap_err()
        };
        let cases = [
            (
                "    colour: red\n",
                "organizations[1] (acme): unknown field `colour`",
            ),
            (
                "    query: {window: soon}\n",
                "organizations[1] (acme): query.window",
            ),
            (
                "    cache: {max_stale: 0s}\n",
                "organizations[1] (acme): cache.max_stale: must be greater than 0",
            ),
            (
                "    thresholds: {max_lag: x}\n",
                "organizations[1] (acme): thresholds.max_lag",
            ),
            (
                "    thresholds: {max_lag: 30d}\n",
                "thresholds.max_lag: 720h is longer than 168h, the most it may be",
            ),
            (
                "    consumer_groups: [{name: g, max_processing_latency: 8d}]\n",
                "consumer_groups[0] (g): max_processing_latency: 192h is longer than 168h",
            ),
            (
                "    region: a\n    api_url: http://b\n",
                "region and api_url are both set",
            ),
            (
                "    consumer_groups: [{name: g}, {name: g}]\n",
                "organizations[1] (acme): consumer_groups[1] (g): name is used twice",
            ),
        ];
        for (extra, expected) in cases {
            let err = org(extra);
            assert!(err.contains(expected), "{extra}: {err}");
        }
        let whole = |text: &str| parse(text).unwrap_err();
        assert_eq!(
            whole(
                "organizations:\n  - name: a\n    client_id: x\n    client_secret_file: s\n  - name: a\n    client_id: y\n    client_secret_file: s\n"
            ),
            "organizations[1] (a): name: \"a\" is used twice"
        );
        assert_eq!(
            whole("organizations:\n  - name: a\n    client_id: x\n"),
            "organizations[0] (a): client_secret_file: missing (a secret is never written into this file)"
        );
        assert_eq!(
            whole("organizations:\n  - name: a\n    client_secret_file: s\n"),
            "organizations[0] (a): client_id: missing"
        );
        assert_eq!(
            whole("organizations:\n  - client_id: x\n    client_secret_file: s\n"),
            "organizations[0]: name: missing"
        );
        for bad in ["-a", "a/b", "http://x", "", "a b", &"a".repeat(64)] {
            let err = whole(&format!(
                "organizations:\n  - name: '{bad}'\n    client_id: x\n    client_secret_file: s\n"
            ));
            assert!(err.starts_with("organizations[0]: name:"), "{bad}: {err}");
        }
        assert!(valid_org_name(&"a".repeat(63)));
        // A secret put inline is refused by name, and its value is not echoed.
        let err =
            whole("organizations:\n  - name: a\n    client_id: x\n    client_secret: hunter2\n");
        assert!(
            err.contains("unknown field `client_secret`") && !err.contains("hunter2"),
            "{err}"
        );
        let err = whole(
            "organizations:\n  - name: a\n    client_id: [hunter2]\n    client_secret_file: s\n",
        );
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(
            parse("consumer_group: []")
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            parse("consumer_groups:\n  - name: a\n    max_lag: soon\n")
                .unwrap_err()
                .contains("max_lag")
        );
        assert!(
            parse("consumer_groups:\n  - name: ''\n")
                .unwrap_err()
                .contains("name is empty")
        );
        assert!(
            parse("consumer_groups: [")
                .unwrap_err()
                .contains("invalid YAML")
        );
        assert_eq!(parse("").unwrap(), FileConfig::default());
    }
}
