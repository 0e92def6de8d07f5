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
