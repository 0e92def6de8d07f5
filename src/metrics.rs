//! The metric catalogue: every family the exporter exposes, assembled from
//! the declarations of their owners (each collector, the Genesys client, the
//! server's own series). Tests hold the exposition and the README's metric
//! table to it.

use std::sync::LazyLock;

pub use crate::exposition::{Kind, Metric, Scope};

/// Every metric: the collectors', the Genesys client's and the server's own.
pub static ALL: LazyLock<Vec<Metric>> = LazyLock::new(|| {
    let owners = [crate::genesys::series::ALL, crate::server::own::ALL];
    let collectors = crate::collectors::FAMILIES;
    collectors
        .iter()
        .chain(&owners)
        .flat_map(|f| f.iter())
        .copied()
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_conventions() {
        let mut names = std::collections::HashSet::new();
        for m in ALL.iter() {
            assert!(names.insert(m.name), "{} declared twice", m.name);
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
            assert!(
                m.name.starts_with("genesys_eventbridge_") || m.name.starts_with("process_"),
                "{}",
                m.name
            );
            assert!(m.help.ends_with('.'), "{}", m.name);
            assert_eq!(
                m.scope == Scope::Group,
                m.labels.contains(&"consumer_group"),
                "{}",
                m.name
            );
        }
    }
}
