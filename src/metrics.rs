//! Every metric the exporter exposes, declared once: name, type, help and
//! labels. The encoders write from these declarations, and the tests hold
//! the exposition and the README's metric table to them.

/// How a metric is typed in the exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    /// Untyped; used as a gauge (see [`API_RATE_LIMIT_COUNT`]).
    Unknown,
}

/// Which part of a response a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Per consumer group (and event type), from the snapshot.
    Group,
    /// Per organisation, about its queries: on `/probe` and, for the flags'
    /// organisation, on the telemetry path.
    Query,
    /// The exporter itself: on the telemetry path only.
    Exporter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// As exposed in text format 0.0.4; counters end in `_total`.
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
    pub scope: Scope,
}

impl Metric {
    /// The name the encoder is given: it appends `_total` to counters itself.
    pub fn family(&self) -> &'static str {
        match self.kind {
            Kind::Counter => self.name.strip_suffix("_total").unwrap_or(self.name),
            _ => self.name,
        }
    }
}

macro_rules! metrics {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $kind:ident, [$($label:literal),*], $scope:ident, $help:expr;)*) => {
        $($(#[$doc])* pub const $id: Metric = Metric {
            name: $name,
            kind: Kind::$kind,
            help: $help,
            labels: &[$($label),*],
            scope: Scope::$scope,
        };)*
        /// Every metric, in the order of the exposition.
        pub const ALL: &[Metric] = &[$($id),*];
    };
}

metrics! {
    EVENTS = "genesys_eventbridge_events", Gauge, ["consumer_group", "event_type"], Group,
        "Events processed in the query window, per consumer group and event type. Cached: refreshed by a scrape at most once per --cache.ttl.";
    EVENT_PROCESSING_LATENCY_SECONDS = "genesys_eventbridge_event_processing_latency_seconds", Gauge, ["consumer_group", "event_type"], Group,
        "Processing latency per consumer group and event type, in seconds. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_LAG_SECONDS = "genesys_eventbridge_consumer_lag_seconds", Gauge, ["consumer_group"], Group,
        "Consumer lag: the worst processing latency over the group's event types, in seconds (0 for a missing group). Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_PROCESSING_LATENCY_SECONDS = "genesys_eventbridge_consumer_processing_latency_seconds", Gauge, ["consumer_group"], Group,
        "Event-weighted mean processing latency of the group, in seconds. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_THROUGHPUT_EVENTS_PER_SECOND = "genesys_eventbridge_consumer_throughput_events_per_second", Gauge, ["consumer_group"], Group,
        "Events of the group in the query window divided by the window's length. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_BACKLOG_EVENTS = "genesys_eventbridge_consumer_backlog_events", Gauge, ["consumer_group"], Group,
        "Estimated events in flight (Little's law: throughput times mean latency); an estimate, not a count. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_GROUP_MISSING = "genesys_eventbridge_consumer_group_missing", Gauge, ["consumer_group"], Group,
        "1 when a configured consumer group returned no rows in the query window, else 0. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_LAG_THRESHOLD_SECONDS = "genesys_eventbridge_consumer_lag_threshold_seconds", Gauge, ["consumer_group"], Group,
        "Lag threshold in force for the group, in seconds. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_PROCESSING_LATENCY_THRESHOLD_SECONDS = "genesys_eventbridge_consumer_processing_latency_threshold_seconds", Gauge, ["consumer_group"], Group,
        "Processing-latency threshold in force for the group, in seconds. Cached: refreshed by a scrape at most once per --cache.ttl.";
    CONSUMER_THRESHOLD_EXCEEDED = "genesys_eventbridge_consumer_threshold_exceeded", Gauge, ["consumer_group"], Group,
        "1 when the group's lag exceeds its lag or its processing-latency threshold, else 0. Cached: refreshed by a scrape at most once per --cache.ttl.";
    DATA_AGE_SECONDS = "genesys_eventbridge_data_age_seconds", Gauge, [], Query,
        "Age of the per-group data served, in seconds.";
    RATE_LIMIT_COOLDOWN_SECONDS = "genesys_eventbridge_rate_limit_cooldown_seconds", Gauge, [], Query,
        "Seconds until the exporter calls the API again after a 429; 0 when none.";
    UP = "genesys_eventbridge_up", Gauge, [], Query,
        "1 when the latest query of the Genesys Cloud analytics API succeeded, else 0.";
    LAST_SUCCESS_TIMESTAMP_SECONDS = "genesys_eventbridge_last_success_timestamp_seconds", Gauge, [], Query,
        "Unix time the latest successful query finished.";
    QUERY_DURATION_SECONDS = "genesys_eventbridge_query_duration_seconds", Gauge, [], Query,
        "Duration of the latest query, all pages and retries, in seconds.";
    QUERY_PAGES = "genesys_eventbridge_query_pages", Gauge, [], Query,
        "Pages read by the latest query.";
    QUERIES_TOTAL = "genesys_eventbridge_queries_total", Counter, [], Query,
        "Queries of the analytics API started by scrapes (cache hits and cooldowns start none).";
    QUERY_FAILURES_TOTAL = "genesys_eventbridge_query_failures_total", Counter, ["reason"], Query,
        "Failed queries by reason.";
    API_REQUESTS_TOTAL = "genesys_eventbridge_api_requests_total", Counter, ["endpoint", "code"], Query,
        "HTTP responses from the Genesys Cloud API by endpoint and status code.";
    API_RATE_LIMIT_ALLOWED = "genesys_eventbridge_api_rate_limit_allowed", Gauge, [], Query,
        "Requests allowed in the current rate-limit window (inin-ratelimit-allowed of the latest response that had it).";
    /// Untyped: the fixed name ends in a suffix that Prometheus reserves for
    /// histogram and summary parts, and typing it gauge makes `promtool check
    /// metrics` reject the exposition. Queries treat it exactly like a gauge.
    API_RATE_LIMIT_COUNT = "genesys_eventbridge_api_rate_limit_count", Unknown, [], Query,
        "Requests counted in the current rate-limit window (inin-ratelimit-count of the latest response that had it); untyped, use it as a gauge.";
    API_RATE_LIMIT_RESET_SECONDS = "genesys_eventbridge_api_rate_limit_reset_seconds", Gauge, [], Query,
        "Seconds until the rate-limit window resets (inin-ratelimit-reset of the latest response that had it).";
    TOKEN_EXPIRY_TIMESTAMP_SECONDS = "genesys_eventbridge_token_expiry_timestamp_seconds", Gauge, [], Query,
        "Unix time the current access token expires.";
    TOKEN_REQUESTS_TOTAL = "genesys_eventbridge_token_requests_total", Counter, [], Query,
        "Requests sent to the OAuth token endpoint.";
    INVALID_ROWS_TOTAL = "genesys_eventbridge_invalid_rows_total", Counter, ["reason"], Query,
        "Rows of the API response skipped as invalid, by reason.";
    INTEGRATIONS_UP = "genesys_eventbridge_integrations_up", Gauge, [], Query,
        "1 when the latest listing of the organisation's EventBridge integrations succeeded, else 0.";
    INTEGRATION_STATE = "genesys_eventbridge_integration_state", Gauge, ["integration_id", "name", "state"], Query,
        "1 for the state the EventBridge integration reports, 0 for each other state; a code the exporter does not know is state unknown.";
    INTEGRATION_ENABLED = "genesys_eventbridge_integration_enabled", Gauge, ["integration_id", "name"], Query,
        "1 when the EventBridge integration is meant to run (intendedState ENABLED), else 0.";
    INTEGRATION_STATE_CHANGED_TIMESTAMP_SECONDS = "genesys_eventbridge_integration_state_changed_timestamp_seconds", Gauge, ["integration_id", "name"], Query,
        "Unix time the EventBridge integration's reported state last changed (lastUpdated).";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_conventions() {
        let mut names = std::collections::HashSet::new();
        for m in ALL {
            assert!(names.insert(m.name), "{} declared twice", m.name);
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
            assert!(
                m.name.starts_with("genesys_eventbridge_") || m.name.starts_with("process_"),
                "{}",
                m.name
            );
            assert!(m.help.ends_with('.'), "{}", m.name);
            assert_eq!(
                m.scope == Scope::Group,
                m.labels.contains(&"consumer_group"),
                "{}",
                m.name
            );
        }
    }
}
