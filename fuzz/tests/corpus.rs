//! Every seed corpus once through its target, on stable: the targets build
//! and the seeds (and any crash once found and added) stay harmless.

use std::path::Path;

use genesys_eventbridge_exporter_fuzz::TARGETS;

#[test]
fn every_seed_goes_through_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in seeds {
            let data = std::fs::read(&seed).unwrap();
            target(&data);
        }
        println!("{name}: seeds ok");
    }
}
