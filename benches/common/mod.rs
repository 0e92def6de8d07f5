//! Inputs shared by the benchmarks: a large organisation's rows and figures.
#![allow(dead_code)]

use std::time::Duration;

use genesys_cloud_simulator::org_rows;
use genesys_eventbridge_exporter::genesys::RawRow;
use genesys_eventbridge_exporter::model::Thresholds;
use genesys_eventbridge_exporter::model::{self, Figures};

pub const WINDOW: Duration = Duration::from_secs(3600);

pub fn thresholds() -> Thresholds {
    Thresholds {
        max_lag: Duration::from_secs(30),
        max_processing_latency: Duration::from_millis(500),
    }
}

/// `groups` × `event_types` rows as the client decodes them.
pub fn raw_rows(groups: usize, event_types: usize) -> Vec<RawRow> {
    // From text, as the client decodes them: string fields are read as raw JSON.
    let text = serde_json::Value::Array(org_rows(groups, event_types)).to_string();
    serde_json::from_str(&text).expect("rows decode")
}

pub fn figures(groups: usize, event_types: usize) -> Figures {
    model::compute(raw_rows(groups, event_types), WINDOW, &[], thresholds())
}
