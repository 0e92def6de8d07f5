//! genesys-eventbridge-exporter: a Prometheus exporter for the consumer lag of
//! Genesys Cloud EventBridge consumer groups.
//!
//! Data flows one way: a scrape ([`server`]) asks an organisation ([`orgs`])
//! for its series; its [`cache`] may start a cycle, which runs the
//! organisation's [`collectors`] side by side on the shared [`genesys`]
//! client; each collector keeps what it found and writes its own series,
//! which the [`exposition`] frames. `docs/architecture.md` is the map.

pub mod app;
pub mod budget;
pub mod cache;
pub mod clock;
pub mod collectors;
pub mod config;
pub mod discovery;
pub mod exposition;
pub mod genesys;
pub mod logging;
pub mod metrics;
pub mod orgs;
pub mod process;
pub mod report;
pub mod server;
pub mod web;
