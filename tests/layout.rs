//! The architecture of `docs/architecture.md` stays true: data flows one
//! way, so the top-level modules of `src/` import each other without a
//! cycle, the rooms below import only what is below them, and no collector
//! imports another (tests inside a module are left out: they may use
//! anything).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules its non-test code names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    // Only the top-level modules count: `crate::name!` names a macro.
    let modules: BTreeSet<String> = all.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in all {
        let module = module_of(&src, &file);
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) && name != module {
                edges.insert(name);
            }
        }
    }
    graph
}

/// A cycle, if the graph has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_import_each_other_without_a_cycle() {
    let graph = imports();
    assert!(graph.len() > 10, "{graph:?}");
    if let Some(c) = cycle(&graph) {
        panic!("import cycle: {}", c.join(" -> "));
    }
}

#[test]
fn the_leaves_stay_leaves() {
    let graph = imports();
    // Each room imports only the rooms below it: the web layer, the budget
    // arithmetic and the clock nothing; framing only the clock; the Genesys
    // transport no collector; the collectors neither the organisations nor
    // the server above them.
    for (leaf, may) in [
        ("web", &[][..]),
        ("budget", &[][..]),
        ("clock", &[][..]),
        ("exposition", &["clock"][..]),
        ("report", &["clock", "exposition"][..]),
        ("cache", &["budget", "exposition"][..]),
        ("config", &["web", "logging"][..]),
        ("discovery", &[][..]),
        (
            "genesys",
            &[
                "budget",
                "clock",
                "config",
                "exposition",
                "logging",
                "report",
            ][..],
        ),
        (
            "collectors",
            &[
                "cache",
                "clock",
                "config",
                "discovery",
                "exposition",
                "genesys",
                "logging",
                "report",
            ][..],
        ),
    ] {
        let uses: Vec<&String> = graph[leaf]
            .iter()
            .filter(|m| !may.contains(&m.as_str()))
            .collect();
        assert!(uses.is_empty(), "{leaf} imports {uses:?}");
    }
}

/// The collectors (folders of `src/collectors/`) that the non-test code of
/// collector `name`'s files names.
fn collector_imports(
    name: &str,
    files: &[(std::path::PathBuf, String)],
    all: &[String],
) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (path, text) in files {
        let code = text.split("#[cfg(test)]").next().unwrap();
        // From the collector's mod.rs `super::` is `collectors`; from a file
        // below it, `super::super::`.
        let up = if path.ends_with("mod.rs") {
            "super::"
        } else {
            "super::super::"
        };
        for other in all.iter().filter(|o| *o != name) {
            for prefix in [format!("collectors::{other}"), format!("{up}{other}")] {
                let named = code.match_indices(&prefix).any(|(at, _)| {
                    let next = code[at + prefix.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if named {
                    found.insert(other.clone());
                }
            }
        }
    }
    found
}

#[test]
fn no_collector_imports_another() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collectors");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    for name in &names {
        let mut paths = Vec::new();
        files(&root.join(name), &mut paths);
        assert!(
            paths.iter().any(|p| p.ends_with("mod.rs")),
            "{name}: a collector is a folder with a mod.rs"
        );
        let texts: Vec<_> = paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect();
        let uses = collector_imports(name, &texts, &names);
        assert!(uses.is_empty(), "collector {name} imports {uses:?}");
    }
}

#[test]
fn the_collector_rule_sees_an_import() {
    let all = ["aws".to_string(), "integrations".to_string()];
    let file = |path: &str, text: &str| (std::path::PathBuf::from(path), text.to_string());
    for (path, text) in [
        (
            "src/collectors/aws/mod.rs",
            "use crate::collectors::integrations::Seen;",
        ),
        ("src/collectors/aws/mod.rs", "use super::integrations;"),
        (
            "src/collectors/aws/sources.rs",
            "use super::super::integrations::LISTING;",
        ),
    ] {
        let found = collector_imports("aws", &[file(path, text)], &all);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["integrations"],
            "{text}"
        );
    }
    for (path, text) in [
        (
            "src/collectors/aws/mod.rs",
            "use super::{Collector, Cycle};",
        ),
        (
            "src/collectors/aws/mod.rs",
            "use crate::collectors::integrations_like;",
        ),
        (
            "src/collectors/aws/x.rs",
            "use super::model;\n#[cfg(test)]\nuse crate::collectors::integrations;",
        ),
    ] {
        let found = collector_imports("aws", &[file(path, text)], &all);
        assert!(found.is_empty(), "{text}: {found:?}");
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(cycle(&g).unwrap().join(">"), "a>b>c>a");
}
