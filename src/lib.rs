//! genesys-eventbridge-exporter: a Prometheus exporter for the consumer lag of
//! Genesys Cloud EventBridge consumer groups.
//!
//! Data flows one way: a scrape ([`server`]) asks the [`cache`] for a
//! snapshot; on a miss the [`pipeline`] runs the [`genesys`] client's query and
//! the [`model`] turns its rows into figures; the [`exposition`] encodes them.

pub mod app;
pub mod audit;
pub mod budget;
pub mod cache;
pub mod clock;
pub mod config;
pub mod exposition;
pub mod genesys;
pub mod integration;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod orgs;
pub mod pipeline;
pub mod process;
pub mod server;
pub mod telemetry;
pub mod web;
