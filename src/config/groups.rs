//! A consumer group's settings: the thresholds it is held to.

use std::time::Duration;

/// The thresholds a group is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub max_lag: Duration,
    pub max_processing_latency: Duration,
}

/// A configured consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub name: String,
    pub thresholds: Thresholds,
}
