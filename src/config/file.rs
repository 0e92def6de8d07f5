//! The YAML configuration file (`--config.file`): consumer groups with
//! optional per-group thresholds, and `organizations:`, each a probe target
//! with its own credentials, groups, thresholds, query and cache settings,
//! read over the flags' settings ([`read`](super::read)). Parsed strictly:
//! an unknown key is an error, and every error names the organisation and
//! the key.

use std::path::Path;

use serde::Deserialize;

use super::error::{Entry, FileError, OrgError};
use super::groups::GroupSpec;
use super::read::{self, RawGroup, yaml_error};
use super::settings::{FileUpstream, FlagSettings, OrgSettings};
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

/// The file as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileConfig {
    /// The top-level groups, the flags' organisation's; their thresholds
    /// default to the flags'.
    pub consumer_groups: Vec<GroupSpec>,
    /// Read over the flags' settings, not resolved yet.
    pub organizations: Vec<OrgSettings<FileUpstream>>,
    /// The file's stamp as read, for following it.
    pub stamp: Option<Stamp>,
}

/// Reads and validates the file over `defaults`, the flags' settings; the
/// error names what is wrong, the caller adds the path.
pub fn load(path: &Path, defaults: &FlagSettings) -> Result<FileConfig, FileError> {
    let bytes = read_capped(path, MAX_FILE_BYTES)?;
    let stamp = Ok(hash(&bytes));
    let text = String::from_utf8(bytes).map_err(|_| FileError::NotUtf8)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut file = parse(&text, dir, defaults)?;
    file.stamp = Some(stamp);
    Ok(file)
}

pub fn parse(text: &str, dir: &Path, defaults: &FlagSettings) -> Result<FileConfig, FileError> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile::default()
    } else {
        // The YAML parser's time grows with the square of the nesting.
        check_yaml_nesting(text, MAX_YAML_FLOW_DEPTH).map_err(FileError::Yaml)?;
        serde_yaml_ng::from_str(text).map_err(|e| FileError::Yaml(yaml_error(e)))?
    };
    let consumer_groups = read::groups(raw.consumer_groups, defaults.default_thresholds)?;
    let mut organizations: Vec<OrgSettings<FileUpstream>> =
        Vec::with_capacity(raw.organizations.len());
    for (index, value) in raw.organizations.into_iter().enumerate() {
        // The name first, so that every later error can give it.
        let name = value.get("name").and_then(|n| n.as_str());
        let at = Entry {
            list: "organizations",
            index,
            name: name.filter(|n| valid_org_name(n)).map(str::to_string),
        };
        let org = read::organisation(value, defaults, dir).map_err(|source| FileError::Org {
            at: at.clone(),
            source: Box::new(source),
        })?;
        if organizations.iter().any(|o| o.name == org.name) {
            let source = Box::new(OrgError::NameTwice(org.name));
            return Err(FileError::Org { at, source });
        }
        organizations.push(org);
    }
    Ok(FileConfig {
        consumer_groups,
        organizations,
        stamp: None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::config::Cli;

    /// The flags' settings with no flag given.
    fn defaults() -> FlagSettings {
        Cli::parse_from(["genesys-eventbridge-exporter"])
            .settings()
            .unwrap()
    }

    fn parse(text: &str) -> Result<FileConfig, String> {
        super::parse(text, Path::new("/etc/exporter"), &defaults()).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_groups_and_thresholds() {
        let file = parse(
            "consumer_groups:\n  - name: a\n    max_lag: 45s\n  - name: b\n    max_processing_latency: 1s\n",
        )
        .unwrap();
        let groups = file.consumer_groups;
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].thresholds.max_lag, Duration::from_secs(45));
        // Not given: the flags' threshold.
        assert_eq!(
            groups[0].thresholds.max_processing_latency,
            defaults().default_thresholds.max_processing_latency
        );
        assert_eq!(
            groups[1].thresholds.max_processing_latency,
            Duration::from_secs(1)
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
        // What a block leaves out comes from the flags' settings.
        let flags = defaults();
        assert_eq!(prod.name, "acme-prod");
        assert_eq!(prod.region, "mypurecloud.de");
        assert_eq!(
            prod.upstream.client_secret_file,
            Path::new("/etc/exporter/secrets/acme-prod")
        );
        assert_eq!(prod.default_thresholds.max_lag, Duration::from_secs(45));
        assert_eq!(prod.groups[0].thresholds.max_lag, Duration::from_secs(60));
        assert_eq!(prod.query.window, Duration::from_secs(1800));
        assert_eq!((prod.query.page_size, prod.query.max_pages), (100, 7));
        assert_eq!(prod.cache.max_stale, Duration::from_secs(600));
        assert_eq!(
            test.upstream.api_url.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(test.cache.ttl, flags.cache.ttl);
    }

    #[test]
    fn collectors_are_switched_per_organisation_over_the_flags() {
        let file = parse(
            "organizations:
  - name: a
    client_id: id
    client_secret_file: s
    collectors: {analytics: false}
  - name: b
    client_id: id
    client_secret_file: s
",
        )
        .unwrap();
        let [a, b] = &file.organizations[..] else {
            panic!("{file:?}")
        };
        assert!(!a.collectors.analytics);
        assert!(a.collectors.integrations, "left out: the flags' value");
        assert_eq!(b.collectors, defaults().collectors);
        let flags = Cli::parse_from([
            "genesys-eventbridge-exporter",
            "--no-collector.integrations",
            "--no-collector.analytics",
        ])
        .settings()
        .unwrap();
        assert!(!flags.collectors.analytics && !flags.collectors.integrations);
        for (block, wrong) in [
            ("{aws: true}", "unknown field `aws`"),
            ("{analytics: sometimes}", "invalid type"),
        ] {
            let error = parse(&format!(
                "organizations:\n  - name: a\n    client_id: id\n    client_secret_file: s\n    collectors: {block}\n"
            ))
            .unwrap_err();
            assert!(error.contains("organizations[0] (a)"), "{error}");
            assert!(error.contains(wrong), "{error}");
        }
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
