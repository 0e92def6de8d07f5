//! Audit events of the integrations: `INTEGRATION_STATE_CHANGED`, logged
//! once per change of an integration's reported state.

use std::collections::HashMap;

use super::integration::Integration;
use crate::logging::short;

/// From the state before (`None`: not seen before) to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChanged {
    pub from: Option<String>,
    pub to: Integration,
}

impl StateChanged {
    pub const NAME: &'static str = "INTEGRATION_STATE_CHANGED";

    pub fn log(&self, org: &str) {
        let to = &self.to;
        tracing::warn!(
            org,
            event = Self::NAME,
            integration_id = %short(&to.id),
            name = %short(&to.name),
            from = self.from.as_deref().unwrap_or("unseen"),
            to = to.state.code(),
            enabled = to.enabled,
            // Whole: the part an operator acts on ("not associated with an
            // event bus in account ...") is at its end. Bounded when decoded
            // (2 KiB); the log format escapes quotes and newlines.
            detail = to.detail.as_deref().unwrap_or(""),
            "EventBridge integration changed state"
        );
    }
}

/// Integration id → the code it last reported.
#[derive(Debug, Default)]
pub struct Transitions {
    integrations: HashMap<String, String>,
}

impl Transitions {
    /// The events a listing causes: one per integration whose state code
    /// changed. One first seen in a state other than `ACTIVE` counts as a
    /// change into it, as a group first seen lagging does.
    pub fn observe(&mut self, list: &[Integration]) -> Vec<StateChanged> {
        let mut events = Vec::new();
        let mut next = HashMap::with_capacity(list.len());
        for i in list {
            let code = i.state.code().to_string();
            let before = self.integrations.get(&i.id);
            let changed = match before {
                Some(b) => *b != code,
                None => code != "ACTIVE",
            };
            if changed {
                events.push(StateChanged {
                    from: before.cloned(),
                    to: i.clone(),
                });
            }
            next.insert(i.id.clone(), code);
        }
        self.integrations = next;
        events
    }
}
