//! A metric family's declaration (name, type, HELP, labels, where it is
//! served) and the encoder calls that write families from declarations.
//! Each owner of series declares its families with the `families!` macro;
//! the catalogue (`src/metrics.rs`) is assembled from their declarations.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeLabelSet, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::Format;

/// How a metric is typed in the exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    /// Untyped; used as a gauge (the rate-limit count, whose fixed name ends
    /// in a suffix Prometheus reserves for histograms).
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

/// Declares metrics as constants and `ALL`, the module's families in the
/// order its owner writes them.
#[macro_export]
macro_rules! families {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $kind:ident, [$($label:literal),*], $scope:ident, $help:expr;)*) => {
        $($(#[$doc])* pub const $id: $crate::exposition::Metric = $crate::exposition::Metric {
            name: $name,
            kind: $crate::exposition::Kind::$kind,
            help: $help,
            labels: &[$($label),*],
            scope: $crate::exposition::Scope::$scope,
        };)*
        /// Every metric declared here, in the order of the exposition.
        pub const ALL: &[$crate::exposition::Metric] = &[$($id),*];
    };
}

/// The families `collectors` write, encoded in order.
pub fn encode_all(format: Format, collectors: Vec<Box<dyn Collector>>) -> String {
    let mut registry = Registry::default();
    for collector in collectors {
        registry.register_collector(collector);
    }
    let mut out = String::new();
    let result = match format {
        Format::OpenMetrics => {
            prometheus_client::encoding::text::encode_registry(&mut out, &registry)
        }
        Format::Text => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry),
    };
    // Writing into a String cannot fail; the encoder only fails on a sink error.
    result.expect("encoding into a String");
    out
}

pub fn encode(format: Format, collector: impl Collector) -> String {
    encode_all(format, vec![Box::new(collector)])
}

fn metric_type(m: &Metric) -> MetricType {
    match m.kind {
        Kind::Gauge => MetricType::Gauge,
        Kind::Counter => MetricType::Counter,
        Kind::Unknown => MetricType::Unknown,
    }
}

/// One unlabelled sample of a gauge-like metric (`Gauge` or `Unknown`).
pub fn gauge(e: &mut DescriptorEncoder, m: &Metric, value: f64) -> fmt::Result {
    debug_assert!(m.kind != Kind::Counter && m.labels.is_empty(), "{}", m.name);
    e.encode_descriptor(m.family(), m.help, None, metric_type(m))?
        .encode_gauge(&value)
}

pub fn gauges<L: EncodeLabelSet>(
    e: &mut DescriptorEncoder,
    m: &Metric,
    samples: impl IntoIterator<Item = (L, f64)>,
) -> fmt::Result {
    debug_assert_eq!(m.kind, Kind::Gauge, "{}", m.name);
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return Ok(());
    }
    let mut metric = e.encode_descriptor(m.family(), m.help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        metric.encode_family(&labels)?.encode_gauge(&value)?;
    }
    Ok(())
}

pub fn counters<L: EncodeLabelSet>(
    e: &mut DescriptorEncoder,
    m: &Metric,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> fmt::Result {
    debug_assert_eq!(m.kind, Kind::Counter, "{}", m.name);
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return Ok(());
    }
    let mut metric = e.encode_descriptor(m.family(), m.help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        metric
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
    }
    Ok(())
}

pub fn counter(
    e: &mut DescriptorEncoder,
    m: &Metric,
    value: impl EncodeCounterValue,
) -> fmt::Result {
    debug_assert_eq!(m.kind, Kind::Counter, "{}", m.name);
    e.encode_descriptor(m.family(), m.help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

/// 1 or 0.
pub fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

pub fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The HELP and TYPE lines of a gauge family.
#[derive(Debug)]
pub struct Descriptor {
    name: &'static str,
    help: &'static str,
}

impl Descriptor {
    pub fn of(m: &Metric) -> Descriptor {
        Descriptor {
            name: m.name,
            help: m.help,
        }
    }
}

impl Collector for Descriptor {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        e.encode_descriptor(self.name, self.help, None, MetricType::Gauge)
            .map(drop)
    }
}
