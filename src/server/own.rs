//! The exporter's own series, on the telemetry path only: build, the
//! following of its configuration files, the web layer's counters and the
//! process' figures.

use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use crate::exposition::family::{counter, counters, flag, gauge, gauges, unix_seconds};
use crate::exposition::{Body, Encoded, Format, Kept, encode};
use crate::process::ProcessStats;
use crate::web::ReloadStatus;
use crate::web::stats::{Dropped, WebCounts};

crate::families! {
    EXPORTER_BUILD_INFO = "genesys_eventbridge_exporter_build_info", Gauge, ["version"], Exporter,
        "Build information of the exporter; always 1.";
    CONFIG_LAST_RELOAD_SUCCESSFUL = "genesys_eventbridge_config_last_reload_successful", Gauge, [], Exporter,
        "0 while a change to --config.file is refused, else 1.";
    CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS = "genesys_eventbridge_config_last_reload_success_timestamp_seconds", Gauge, [], Exporter,
        "Unix time the configuration file in force was loaded.";
    WEB_CONFIG_LAST_RELOAD_SUCCESSFUL = "genesys_eventbridge_web_config_last_reload_successful", Gauge, [], Exporter,
        "0 while a change to the web configuration file is refused, else 1.";
    WEB_CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS = "genesys_eventbridge_web_config_last_reload_success_timestamp_seconds", Gauge, [], Exporter,
        "Unix time the web configuration in force was loaded.";
    WEB_CONNECTIONS_ACCEPTED_TOTAL = "genesys_eventbridge_web_connections_accepted_total", Counter, [], Exporter,
        "TCP connections accepted on the listen addresses, those then refused included.";
    WEB_CONNECTIONS_DROPPED_TOTAL = "genesys_eventbridge_web_connections_dropped_total", Counter, ["reason"], Exporter,
        "Connections refused or closed before they were served, by reason: address_limit (--web.max-connections-per-ip), capacity (every slot serving a request), evicted (closed to let a newer one in), tls_handshake_error, tls_handshake_timeout, header_timeout.";
    WEB_FAILED_LOGINS_TOTAL = "genesys_eventbridge_web_failed_logins_total", Counter, [], Exporter,
        "Requests answered 401: missing, malformed or wrong basic auth credentials.";
    WEB_THROTTLED_LOGINS_TOTAL = "genesys_eventbridge_web_throttled_logins_total", Counter, [], Exporter,
        "Requests answered 429 without a password check: too many failed logins from their address.";
    PROCESS_CPU_SECONDS_TOTAL = "process_cpu_seconds_total", Counter, [], Exporter,
        "Total user and system CPU time spent in seconds.";
    PROCESS_RESIDENT_MEMORY_BYTES = "process_resident_memory_bytes", Gauge, [], Exporter,
        "Resident memory size in bytes.";
    PROCESS_VIRTUAL_MEMORY_BYTES = "process_virtual_memory_bytes", Gauge, [], Exporter,
        "Virtual memory size in bytes.";
    PROCESS_START_TIME_SECONDS = "process_start_time_seconds", Gauge, [], Exporter,
        "Start time of the process since unix epoch in seconds.";
    PROCESS_THREADS = "process_threads", Gauge, [], Exporter,
        "Number of OS threads in the process.";
    PROCESS_OPEN_FDS = "process_open_fds", Gauge, [], Exporter,
        "Number of open file descriptors.";
    PROCESS_MAX_FDS = "process_max_fds", Gauge, [], Exporter,
        "Maximum number of open file descriptors.";
}

/// The exporter's own series (not any organisation's), read per scrape of
/// the telemetry path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExporterView {
    /// The process' own figures; `None` where they cannot be read.
    pub process: Option<ProcessStats>,
    /// How following `--web.config.file` goes; `None` without one.
    pub web_config: Option<ReloadStatus>,
    /// How following `--config.file` goes; `None` without one.
    pub config: Option<ReloadStatus>,
    /// The web layer's counters: connections and logins.
    pub web: WebCounts,
}

/// The exporter's own series, kept encoded per format while what they show
/// is unchanged: the process' figures are read at most once a second and
/// the web layer's counters move per connection, not per scrape, so most
/// scrapes send the part made for an earlier one.
#[derive(Debug, Default)]
pub struct ExporterPart(Kept<ExporterView>);

impl ExporterPart {
    fn get(&self, format: Format, view: ExporterView) -> Arc<Encoded> {
        self.0
            .get(format, view, || encode(format, ExporterSeries(view)))
    }
}

/// The exporter's own series, into `body`.
pub fn render(format: Format, part: &ExporterPart, view: ExporterView, body: &mut Body) {
    body.cached(&part.get(format, view));
}

/// The web layer's counters, encoded per scrape with the exporter's own
/// series: they move with every connection. All are exported from the
/// start, at 0.
fn encode_web_counts(e: &mut DescriptorEncoder, w: &WebCounts) -> fmt::Result {
    counter(e, &WEB_CONNECTIONS_ACCEPTED_TOTAL, w.accepted)?;
    counters(
        e,
        &WEB_CONNECTIONS_DROPPED_TOTAL,
        Dropped::ALL.map(|r| ([("reason", r.as_str())], w.dropped(r))),
    )?;
    counter(e, &WEB_FAILED_LOGINS_TOTAL, w.failed_logins)?;
    counter(e, &WEB_THROTTLED_LOGINS_TOTAL, w.throttled_logins)
}

/// The exporter's own series: build, process, and the following of its files.
#[derive(Debug)]
struct ExporterSeries(ExporterView);

impl Collector for ExporterSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let view = &self.0;
        gauges(
            &mut e,
            &EXPORTER_BUILD_INFO,
            [([("version", env!("CARGO_PKG_VERSION"))], 1.0)],
        )?;
        if let Some(config) = view.config {
            gauge(
                &mut e,
                &CONFIG_LAST_RELOAD_SUCCESSFUL,
                flag(config.successful),
            )?;
            gauge(
                &mut e,
                &CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
                unix_seconds(config.last_success),
            )?;
        }
        if let Some(web) = view.web_config {
            gauge(
                &mut e,
                &WEB_CONFIG_LAST_RELOAD_SUCCESSFUL,
                flag(web.successful),
            )?;
            gauge(
                &mut e,
                &WEB_CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
                unix_seconds(web.last_success),
            )?;
        }
        encode_web_counts(&mut e, &view.web)?;
        let Some(p) = view.process else {
            return Ok(());
        };
        // Names and HELP as in the Prometheus client libraries.
        counter(&mut e, &PROCESS_CPU_SECONDS_TOTAL, p.cpu_seconds)?;
        for (m, value) in [
            (
                &PROCESS_RESIDENT_MEMORY_BYTES,
                Some(p.resident_memory_bytes as f64),
            ),
            (
                &PROCESS_VIRTUAL_MEMORY_BYTES,
                Some(p.virtual_memory_bytes as f64),
            ),
            (&PROCESS_START_TIME_SECONDS, Some(p.start_time_seconds)),
            (&PROCESS_THREADS, Some(p.threads as f64)),
            (&PROCESS_OPEN_FDS, p.open_fds.map(|n| n as f64)),
            (&PROCESS_MAX_FDS, p.max_fds.map(|n| n as f64)),
        ] {
            if let Some(v) = value {
                gauge(&mut e, m, v)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::Encoding;
    use crate::exposition::gzip::tests::gunzip;

    #[test]
    fn the_exporters_own_series_are_encoded_again_only_when_they_change() {
        let part = ExporterPart::default();
        let rendered = |view| {
            let mut body = Body::new(Encoding::Gzip);
            render(Format::OpenMetrics, &part, view, &mut body);
            body.into_chunks()
        };
        let first = rendered(ExporterView::default());
        let second = rendered(ExporterView::default());
        assert_eq!(first[1].as_ptr(), second[1].as_ptr(), "the same blocks");
        let mut moved = ExporterView::default();
        moved.web.accepted = 7;
        let third = rendered(moved);
        assert!(
            gunzip(&third).contains("genesys_eventbridge_web_connections_accepted_total 7"),
            "{}",
            gunzip(&third)
        );
        assert_eq!(gunzip(&first), gunzip(&second));
    }
}
