//! Inputs shared by the benchmarks: a large organisation's rows and figures.
#![allow(dead_code)]

use std::time::Duration;

use std::sync::Arc;

use bytes::Bytes;
use clap::Parser;
use genesys_cloud_simulator::org_rows;
use genesys_eventbridge_exporter::clock::Clock;
use genesys_eventbridge_exporter::collectors::analytics::Analytics;
use genesys_eventbridge_exporter::collectors::analytics::model::{
    self, Figures, RawRow, Thresholds,
};
use genesys_eventbridge_exporter::config::{Cli, ClientSecret, Config, Endpoints, Secret};
use genesys_eventbridge_exporter::exposition::{
    Body, Encoding, Format, Series, StatePart, finish, render_org,
};
use genesys_eventbridge_exporter::genesys::{GenesysClient, Telemetry};

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

/// One organisation as a scrape renders it: the analytics collector serving
/// given figures and the Genesys client's own series, with no network.
pub struct Org {
    analytics: Analytics,
    client: Arc<GenesysClient>,
    kept: StatePart,
}

impl Org {
    pub fn new() -> Org {
        let cli = Cli::try_parse_from(["exporter", "--demo"]).expect("flags parse");
        let config = Config::from_cli(cli, None).expect("config is valid");
        let settings = config.orgs.flags.expect("the demo organisation");
        let endpoints = Endpoints {
            api_url: "http://127.0.0.1:9".into(),
            login_url: "http://127.0.0.1:9".into(),
            client_id: "bench".into(),
            client_secret: ClientSecret::Value(Secret::new("bench")),
        };
        let name: Arc<str> = "bench".into();
        let telemetry = Arc::new(Telemetry::new());
        let client = GenesysClient::new(&endpoints, telemetry, name.clone(), Clock::System)
            .expect("client builds");
        Org {
            analytics: Analytics::new(&settings, name, Clock::System),
            client: Arc::new(client),
            kept: StatePart::default(),
        }
    }

    /// Serves `figures` from now on, as a new snapshot: its first scrape
    /// encodes it.
    pub fn serve(&self, figures: Figures) {
        self.analytics.keep(figures);
    }

    /// One scrape's body.
    pub fn scrape(&self, format: Format, encoding: Encoding) -> Vec<Bytes> {
        let mut body = Body::new(encoding);
        let owners: [&dyn Series; 2] = [&self.analytics, &*self.client];
        render_org(format, &self.kept, &owners, Clock::System, &mut body);
        finish(format, &mut body);
        body.into_chunks()
    }
}
