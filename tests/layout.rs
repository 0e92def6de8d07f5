//! The architecture at a glance stays true: data flows one way, so the
//! top-level modules of `src/` import each other without a cycle (tests
//! inside a module are left out: they may use anything).

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
            if !name.is_empty() && name != module {
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
    // The web layer, the model, the integrations' data, telemetry and the
    // budget arithmetic depend on no other module of the exporter but these few.
    for (leaf, may) in [
        ("web", &[][..]),
        ("model", &[][..]),
        ("telemetry", &["integration"][..]),
        ("integration", &[][..]),
        ("budget", &[][..]),
        ("metrics", &[][..]),
        ("config", &["model", "web", "logging"][..]),
    ] {
        let uses: Vec<&String> = graph[leaf]
            .iter()
            .filter(|m| !may.contains(&m.as_str()))
            .collect();
        assert!(uses.is_empty(), "{leaf} imports {uses:?}");
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
