//! Audit events of the consumer groups: logged once per transition of a
//! group's state, not per scrape.

use std::collections::HashMap;
use std::sync::Arc;

use super::model::{Figures, GroupFigures};
use crate::logging::short;

#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent {
    LagThresholdExceeded(GroupFigures),
    LagThresholdRecovered(GroupFigures),
    ConsumerGroupMissing(String),
    ConsumerGroupReturned(String),
}

impl AuditEvent {
    pub fn name(&self) -> &'static str {
        match self {
            AuditEvent::LagThresholdExceeded(_) => "LAG_THRESHOLD_EXCEEDED",
            AuditEvent::LagThresholdRecovered(_) => "LAG_THRESHOLD_RECOVERED",
            AuditEvent::ConsumerGroupMissing(_) => "CONSUMER_GROUP_MISSING",
            AuditEvent::ConsumerGroupReturned(_) => "CONSUMER_GROUP_RETURNED",
        }
    }

    pub fn log(&self, org: &str) {
        let event = self.name();
        match self {
            AuditEvent::LagThresholdExceeded(g) | AuditEvent::LagThresholdRecovered(g) => {
                let message = if matches!(self, AuditEvent::LagThresholdExceeded(_)) {
                    "consumer group lag exceeds its threshold"
                } else {
                    "consumer group lag is back within its thresholds"
                };
                tracing::warn!(
                    org,
                    event,
                    consumer_group = %short(&g.name),
                    lag_seconds = g.lag_seconds,
                    mean_latency_seconds = g.mean_latency_seconds,
                    max_lag_seconds = g.thresholds.max_lag.as_secs_f64(),
                    max_processing_latency_seconds = g.thresholds.max_processing_latency.as_secs_f64(),
                    "{message}"
                );
            }
            AuditEvent::ConsumerGroupMissing(name) => {
                tracing::warn!(org, event, consumer_group = %short(name), "configured consumer group returned no rows")
            }
            AuditEvent::ConsumerGroupReturned(name) => {
                tracing::warn!(org, event, consumer_group = %short(name), "consumer group reports rows again")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct GroupState {
    exceeded: bool,
    missing: bool,
}

/// The state each group was last seen in.
#[derive(Debug, Default)]
pub struct Transitions {
    groups: HashMap<Arc<str>, GroupState>,
}

impl Transitions {
    /// The events that `figures` cause given what was seen before. A group
    /// first seen already in a bad state counts as a transition into it.
    pub fn observe(&mut self, figures: &Figures) -> Vec<AuditEvent> {
        let mut events = Vec::new();
        let mut next = HashMap::with_capacity(figures.groups.len());
        for g in &figures.groups {
            let now = GroupState {
                exceeded: g.exceeded,
                missing: g.missing,
            };
            let before = self.groups.get(&*g.name).copied().unwrap_or_default();
            match (before.missing, now.missing) {
                (false, true) => events.push(AuditEvent::ConsumerGroupMissing(g.name.to_string())),
                (true, false) => events.push(AuditEvent::ConsumerGroupReturned(g.name.to_string())),
                _ => {}
            }
            match (before.exceeded, now.exceeded) {
                (false, true) => events.push(AuditEvent::LagThresholdExceeded(g.clone())),
                (true, false) => events.push(AuditEvent::LagThresholdRecovered(g.clone())),
                _ => {}
            }
            next.insert(g.name.clone(), now);
        }
        self.groups = next;
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Thresholds;
    use std::time::Duration;

    fn group(name: &str, exceeded: bool, missing: bool) -> GroupFigures {
        GroupFigures {
            name: name.into(),
            events: 0.0,
            lag_seconds: if exceeded { 40.0 } else { 0.1 },
            mean_latency_seconds: 0.1,
            throughput: 0.0,
            backlog: 0.0,
            missing,
            thresholds: Thresholds {
                max_lag: Duration::from_secs(30),
                max_processing_latency: Duration::from_millis(500),
            },
            exceeded,
        }
    }

    fn names(events: Vec<AuditEvent>) -> Vec<&'static str> {
        events.iter().map(AuditEvent::name).collect()
    }

    #[test]
    fn events_fire_once_per_transition() {
        let mut t = Transitions::default();
        let figures = |groups| Figures {
            groups,
            ..Figures::default()
        };
        let bad = figures(vec![group("a", true, false), group("b", false, true)]);
        assert_eq!(
            names(t.observe(&bad)),
            ["LAG_THRESHOLD_EXCEEDED", "CONSUMER_GROUP_MISSING"]
        );
        assert!(
            t.observe(&bad).is_empty(),
            "no repeat while the state holds"
        );
        let good = figures(vec![group("a", false, false), group("b", false, false)]);
        assert_eq!(
            names(t.observe(&good)),
            ["LAG_THRESHOLD_RECOVERED", "CONSUMER_GROUP_RETURNED"]
        );
        assert!(t.observe(&good).is_empty());
    }
}
