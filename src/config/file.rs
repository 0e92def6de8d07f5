//! The YAML configuration file (`--config.file`): consumer groups with optional
//! per-group thresholds.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::duration::parse_duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    consumer_groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    max_lag: Option<String>,
    max_processing_latency: Option<String>,
}

/// One consumer group as the file declares it; `None` thresholds fall back
/// to the command-line ones.
#[derive(Debug, Clone, PartialEq)]
pub struct FileGroup {
    pub name: String,
    pub max_lag: Option<Duration>,
    pub max_processing_latency: Option<Duration>,
}

/// Reads and validates the file; the error text names what is wrong, the
/// caller adds the path.
pub fn load(path: &Path) -> Result<Vec<FileGroup>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Vec<FileGroup>, String> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile {
            consumer_groups: Vec::new(),
        }
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?
    };
    raw.consumer_groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            if g.name.trim().is_empty() {
                return Err(format!("consumer_groups[{i}]: name is empty"));
            }
            let field = |value: Option<String>, key: &str| {
                value
                    .map(|v| parse_duration(&v))
                    .transpose()
                    .map_err(|e| format!("consumer_groups[{i}] ({}): {key}: {e}", g.name))
            };
            Ok(FileGroup {
                max_lag: field(g.max_lag.clone(), "max_lag")?,
                max_processing_latency: field(
                    g.max_processing_latency.clone(),
                    "max_processing_latency",
                )?,
                name: g.name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups_and_thresholds() {
        let groups = parse(
            "consumer_groups:\n  - name: a\n    max_lag: 45s\n  - name: b\n    max_processing_latency: 1s\n",
        )
        .unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].max_lag, Some(Duration::from_secs(45)));
        assert_eq!(groups[0].max_processing_latency, None);
        assert_eq!(
            groups[1].max_processing_latency,
            Some(Duration::from_secs(1))
        );
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
        assert!(parse("").unwrap().is_empty());
    }
}
