//! The metric declarations of `src/metrics.rs` against what is served and
//! what the README documents: every family exposed is declared (name, type,
//! HELP, labels, where it is served), and the README's table lists exactly
//! the declared metrics.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use genesys_eventbridge_exporter::metrics::{ALL, Kind, Metric, Scope};

fn declared(name: &str) -> &'static Metric {
    ALL.iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is exposed but not declared in src/metrics.rs"))
}

/// Families of a text 0.0.4 body: name → (type, help, label names seen).
fn families(body: &str) -> BTreeMap<String, (String, String, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (String, String, BTreeSet<String>)> = BTreeMap::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            out.entry(name.into()).or_default().1 = help.replace("\\\\", "\\");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            out.entry(name.into()).or_default().0 = kind.into();
        } else if !line.starts_with('#') && !line.is_empty() {
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            let labels: BTreeSet<String> = match line[name_end..].strip_prefix('{') {
                Some(rest) => rest
                    .split("\",")
                    .filter_map(|kv| kv.split_once("=\"").map(|(k, _)| k.to_string()))
                    .collect(),
                None => BTreeSet::new(),
            };
            out.entry(name.into()).or_default().2.extend(labels);
        }
    }
    out
}

fn check(body: &str, allowed: &[Scope]) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    for (name, (kind, help, labels)) in families(body) {
        let m = declared(&name);
        let expected = match m.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Unknown => "untyped",
        };
        assert_eq!(kind, expected, "{name}");
        assert_eq!(help, m.help, "{name}");
        let declared: BTreeSet<String> = m.labels.iter().map(|l| l.to_string()).collect();
        assert_eq!(labels, declared, "{name}");
        assert!(
            allowed.contains(&m.scope),
            "{name} ({:?}) is not served here",
            m.scope
        );
        seen.insert(m.name);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_served_is_declared_and_served_where_declared() {
    let exporter = Exporter::start(demo_config(&[])).await;
    let metrics = exporter.scrape().await;
    let on_metrics = check(&metrics, &[Scope::Group, Scope::Query, Scope::Exporter]);
    let probe = get(exporter.url("/probe?target=demo"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let on_probe = check(&probe, &[Scope::Group, Scope::Query]);
    // Everything but what needs a file, a token error or a rate-limit header
    // appears in the demo; the rest is checked where it appears.
    for m in ALL.iter() {
        let optional = m.name.contains("config_last_reload");
        if !optional {
            assert!(on_metrics.contains(m.name), "{} is never served", m.name);
        }
        if m.scope != Scope::Exporter {
            assert!(on_probe.contains(m.name), "{} missing from /probe", m.name);
        }
    }
    exporter.stop().await;
}

#[test]
fn the_readme_table_lists_exactly_the_declared_metrics() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Metrics\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Metrics section");
    let mut listed = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let metric = cells[0].trim_matches('`');
        let (name, labels) = match metric.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}').split(',').collect::<Vec<_>>()),
            None => (metric, Vec::new()),
        };
        listed.insert(
            name.to_string(),
            (labels, cells[1].to_string(), cells[2].to_string()),
        );
    }
    let names: BTreeSet<&str> = ALL.iter().map(|m| m.name).collect();
    let in_readme: BTreeSet<&str> = listed.keys().map(String::as_str).collect();
    assert_eq!(in_readme, names, "README table against src/metrics.rs");
    for m in ALL.iter() {
        let (labels, kind, scope) = &listed[m.name];
        assert_eq!(labels.as_slice(), m.labels, "{}", m.name);
        let expected = match m.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Unknown => "untyped",
        };
        assert_eq!(kind, expected, "{}", m.name);
        let where_ = match m.scope {
            Scope::Group => "per group",
            Scope::Query => "per organisation",
            Scope::Exporter => "exporter",
        };
        assert_eq!(scope, where_, "{}", m.name);
    }
}
