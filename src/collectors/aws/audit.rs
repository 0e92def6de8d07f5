//! Audit events of the delivery path: `EVENT_SOURCE_STATE_CHANGED` once per
//! change of a source's state, `RULE_DELIVERY_FAILING` and
//! `RULE_DELIVERY_RECOVERED` once per change of whether a rule lost events
//! in the period (permanent failures or dead-letter failures).

use std::collections::HashMap;

use super::model::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    SourceStateChanged {
        source: String,
        from: Option<String>,
        to: String,
    },
    RuleFailing {
        bus: String,
        rule: String,
        failed: f64,
        dead_letter_failures: f64,
    },
    RuleRecovered {
        bus: String,
        rule: String,
    },
}

impl Event {
    pub fn log(&self, org: &str) {
        match self {
            Event::SourceStateChanged { source, from, to } => tracing::warn!(
                org,
                event = "EVENT_SOURCE_STATE_CHANGED",
                event_source = %source,
                from = from.as_deref().unwrap_or("unseen"),
                to = %to,
                "partner event source changed state"
            ),
            Event::RuleFailing {
                bus,
                rule,
                failed,
                dead_letter_failures,
            } => tracing::warn!(
                org,
                event = "RULE_DELIVERY_FAILING",
                event_bus = %bus,
                rule = %rule,
                failed_invocations = failed,
                dead_letter_failures,
                "rule lost events: deliveries failed for good"
            ),
            Event::RuleRecovered { bus, rule } => tracing::info!(
                org,
                event = "RULE_DELIVERY_RECOVERED",
                event_bus = %bus,
                rule = %rule,
                "rule delivers again without losing events"
            ),
        }
    }
}

/// What the previous cycle saw: each source's state, each rule's failing.
#[derive(Debug, Default)]
pub struct Transitions {
    sources: HashMap<String, String>,
    failing: HashMap<(String, String), bool>,
}

impl Transitions {
    /// The events a cycle causes. A source first seen in a state other than
    /// `ACTIVE`, or a rule first seen failing, counts as a change into it.
    pub fn observe(&mut self, path: &Path) -> Vec<Event> {
        let mut events = Vec::new();
        let mut sources = HashMap::new();
        let mut failing = HashMap::new();
        for source in &path.sources {
            let to = source.state.code().to_string();
            let from = self.sources.get(&source.watched.name).cloned();
            if from.as_deref().map_or(to != "ACTIVE", |f| f != to) {
                events.push(Event::SourceStateChanged {
                    source: source.watched.name.clone(),
                    from,
                    to: to.clone(),
                });
            }
            sources.insert(source.watched.name.clone(), to);
            for rule in source.rules.iter().flatten() {
                let key = (rule.bus.clone(), rule.name.clone());
                let now = rule.failing();
                let before = self.failing.get(&key).copied().unwrap_or(false);
                if now && !before {
                    events.push(Event::RuleFailing {
                        bus: rule.bus.clone(),
                        rule: rule.name.clone(),
                        failed: rule.counts[super::model::FAILED],
                        dead_letter_failures: rule.counts[super::model::DLQ_FAILED],
                    });
                } else if before && !now {
                    events.push(Event::RuleRecovered {
                        bus: rule.bus.clone(),
                        rule: rule.name.clone(),
                    });
                }
                failing.insert(key, now);
            }
        }
        self.sources = sources;
        self.failing = failing;
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::aws::model::{Rule, Source, SourceState, Watched};
    use std::time::UNIX_EPOCH;

    fn path(state: &str, failed: f64) -> Path {
        let rule = Rule {
            bus: "b".into(),
            name: "r".into(),
            enabled: true,
            targets: 1,
            targets_without_dlq: 0,
            counts: [10.0, failed, 0.0, 0.0, 0.0, 0.0],
            latency: None,
            lag: None,
            threshold: 30.0,
        };
        let watched = Watched {
            name: "b".into(),
            integration_id: "none".into(),
            integration: None,
            account_id: None,
            region: "us-east-1".into(),
        };
        Path {
            period_end: UNIX_EPOCH,
            sources: vec![Source {
                watched,
                state: SourceState::from_code(state),
                expiry: None,
                events: Some(1.0),
                rules: Some(vec![rule]),
            }],
            named_rules: vec![],
        }
    }

    #[test]
    fn each_transition_is_one_event() {
        let mut t = Transitions::default();
        assert!(
            t.observe(&path("ACTIVE", 0.0)).is_empty(),
            "first seen ACTIVE and delivering"
        );
        assert!(t.observe(&path("ACTIVE", 0.0)).is_empty());
        let failing = t.observe(&path("ACTIVE", 3.0));
        assert!(
            matches!(failing[..], [Event::RuleFailing { failed: 3.0, .. }]),
            "{failing:?}"
        );
        assert!(
            t.observe(&path("ACTIVE", 5.0)).is_empty(),
            "still failing: no news"
        );
        let changed = t.observe(&path("PENDING", 0.0));
        assert!(
            matches!(&changed[..], [Event::SourceStateChanged { to, .. }, Event::RuleRecovered { .. }] if to == "PENDING"),
            "{changed:?}"
        );
    }
}
