//! genesys-eventbridge-exporter: a Prometheus exporter for the consumer lag of
//! Genesys Cloud EventBridge consumer groups.

pub mod simulator;
