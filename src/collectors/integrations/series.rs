//! The integrations collector's series: the enum pattern of
//! kube-state-metrics for each integration's state (one series per state, 1
//! for the one reported), whether it is meant to run, and when its state
//! last changed.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::Seen;
use super::integration::{self, Integration};
use crate::exposition::family::{flag, gauge, gauges, unix_seconds};

crate::families! {
    INTEGRATIONS_UP = "genesys_eventbridge_integrations_up", Gauge, [], Query,
        "1 when the latest listing of the organisation's EventBridge integrations succeeded, else 0.";
    INTEGRATION_STATE = "genesys_eventbridge_integration_state", Gauge, ["integration_id", "name", "state"], Query,
        "1 for the state the EventBridge integration reports, 0 for each other state; a code the exporter does not know is state unknown.";
    INTEGRATION_ENABLED = "genesys_eventbridge_integration_enabled", Gauge, ["integration_id", "name"], Query,
        "1 when the EventBridge integration is meant to run (intendedState ENABLED), else 0.";
    INTEGRATION_STATE_CHANGED_TIMESTAMP_SECONDS = "genesys_eventbridge_integration_state_changed_timestamp_seconds", Gauge, ["integration_id", "name"], Query,
        "Unix time the EventBridge integration's reported state last changed (lastUpdated).";
}

#[derive(Debug)]
pub(super) struct State(pub(super) Seen);

impl Collector for State {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let seen = &self.0;
        gauge(&mut e, &INTEGRATIONS_UP, flag(seen.up))?;
        let list = seen.list.as_slice();
        let ids = |i: &Integration| [("integration_id", i.id.clone()), ("name", i.name.clone())];
        gauges(
            &mut e,
            &INTEGRATION_STATE,
            list.iter().flat_map(|i| {
                let reported = i.state.label();
                let unknown = (reported == integration::UNKNOWN).then_some(integration::UNKNOWN);
                integration::STATES
                    .iter()
                    .copied()
                    .chain(unknown)
                    .map(move |state| {
                        let [id, name] = ids(i);
                        (
                            [id, name, ("state", state.to_string())],
                            flag(state == reported),
                        )
                    })
            }),
        )?;
        gauges(
            &mut e,
            &INTEGRATION_ENABLED,
            list.iter().map(|i| (ids(i), flag(i.enabled))),
        )?;
        gauges(
            &mut e,
            &INTEGRATION_STATE_CHANGED_TIMESTAMP_SECONDS,
            list.iter()
                .filter_map(|i| i.state_changed.map(|t| (ids(i), unix_seconds(t)))),
        )
    }
}
