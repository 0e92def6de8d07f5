//! The exposition: every metric of the exporter, encoded as OpenMetrics 1.0 or
//! Prometheus text 0.0.4 as the scraper's `Accept` header asks.
//!
//! A response is three parts, each encoded only as often as it changes: the
//! exporter's own series, encoded once per telemetry change and format; those
//! that move with the clock (data age, cooldown, the process' figures),
//! encoded per scrape; and
//! the per-group series of the snapshot, encoded once per snapshot and format.
//! A cached part is sent as it is (a reference-counted `Bytes`), never copied.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeLabelSet, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::cache::{Deflated, Encoded, Snapshot, kept};
use crate::integration::{self, Integration};
use crate::metrics::{self, Kind, Metric};
use crate::model::Figures;
use crate::process::ProcessStats;
use crate::telemetry::{IntegrationsSeen, Telemetry, TelemetryState};
use crate::web::ReloadStatus;
use crate::web::stats::{Dropped, WebCounts};

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    Text,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Text => TEXT_CONTENT_TYPE,
        }
    }

    fn slot(self) -> usize {
        match self {
            Format::OpenMetrics => 0,
            Format::Text => 1,
        }
    }

    /// OpenMetrics when the `Accept` header ranks it at least as high as the
    /// text format (Prometheus asks for it first); text 0.0.4 otherwise.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let (mut openmetrics, mut text) = (0.0f64, 0.0f64);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// Values of one organisation's series that move with the clock, read at
/// scrape time.
#[derive(Debug, Clone, Copy)]
pub struct ScrapeView {
    /// Age of the data served; `None` when none is served.
    pub data_age: Option<Duration>,
    pub cooldown: Option<Duration>,
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

/// The exporter's own series that depend on telemetry alone, kept encoded per
/// format until the telemetry changes: between queries a scrape re-encodes
/// only the two clock-driven series.
#[derive(Debug, Default)]
pub struct OwnSeries(Kept<u64>);

impl OwnSeries {
    fn get(&self, format: Format, telemetry: &Telemetry) -> Arc<Encoded> {
        // A change after the generation was read only makes the next scrape
        // encode again.
        self.0.get(format, telemetry.generation(), || {
            encode(format, OrgSeries(telemetry.read()))
        })
    }
}

/// A part kept encoded per format while what it was made from is the same.
#[derive(Debug)]
struct Kept<K> {
    slots: [Mutex<Option<Made<K>>>; 2],
}

/// A part and what it was made from.
type Made<K> = (K, Arc<Encoded>);

impl<K> Default for Kept<K> {
    fn default() -> Self {
        Kept {
            slots: [Mutex::new(None), Mutex::new(None)],
        }
    }
}

impl<K: PartialEq> Kept<K> {
    fn get(&self, format: Format, key: K, make: impl FnOnce() -> String) -> Arc<Encoded> {
        let mut slot = self.slots[format.slot()]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((seen, part)) = &*slot
            && *seen == key
        {
            return part.clone();
        }
        let part = Arc::new(Encoded::text(make()));
        *slot = Some((key, part.clone()));
        part
    }
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

/// How a body is sent: as it is, or gzip-compressed (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    /// gzip when the `Accept-Encoding` header takes it (`gzip` or `*` with a
    /// q-value above 0); as it is otherwise.
    pub fn negotiate(accept_encoding: Option<&str>) -> Encoding {
        let Some(header) = accept_encoding else {
            return Encoding::Identity;
        };
        let (mut gzip, mut any) = (None, None);
        for coding in header.split(',') {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0);
            match name.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
        match gzip.or(any) {
            Some(q) if q > 0.0 => Encoding::Gzip,
            _ => Encoding::Identity,
        }
    }

    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
        }
    }
}

/// gzip level of the parts kept between scrapes: the per-group part is
/// compressed once per snapshot and format, so it may take the time a
/// smaller body needs. The parts that move with every scrape are a few
/// hundred bytes to a few KiB; setting up a compressor for them costs more
/// than the bytes it would save, so they are sent as stored blocks.
const CACHED_LEVEL: u32 = 6;

/// `plain` as stored (uncompressed) DEFLATE blocks. Each starts on a byte
/// boundary, as every part ends on one, and so ends on one too.
fn stored(plain: &[u8]) -> Deflated {
    const MAX_STORED: usize = u16::MAX as usize;
    let mut blocks = Vec::with_capacity(plain.len() + 5 * (plain.len() / MAX_STORED + 1));
    for chunk in plain.chunks(MAX_STORED) {
        let len = chunk.len() as u16;
        // BFINAL 0, BTYPE 00 (stored), padded to the byte; LEN and NLEN.
        blocks.push(0);
        blocks.extend_from_slice(&len.to_le_bytes());
        blocks.extend_from_slice(&(!len).to_le_bytes());
        blocks.extend_from_slice(chunk);
    }
    let mut crc = flate2::Crc::new();
    crc.update(plain);
    Deflated {
        blocks: Bytes::from(blocks),
        crc,
    }
}

/// `plain` as DEFLATE blocks that end byte-aligned (a sync flush), so that
/// the next part's blocks can follow them in the same stream.
fn deflate(plain: &[u8], level: u32) -> Deflated {
    let mut compress = flate2::Compress::new(flate2::Compression::new(level), false);
    let mut blocks = Vec::with_capacity(plain.len() / 4 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        // Into memory, from memory: the only error is a bug in the caller.
        compress
            .compress_vec(&plain[consumed..], &mut blocks, flate2::FlushCompress::Sync)
            .expect("compressing into memory");
        // The flush is complete once it left room in the output.
        if compress.total_in() as usize == plain.len() && blocks.len() < blocks.capacity() {
            break;
        }
        blocks.reserve(blocks.capacity().max(4096));
    }
    let mut crc = flate2::Crc::new();
    crc.update(plain);
    Deflated {
        blocks: kept(blocks),
        crc,
    }
}

/// The gzip header (RFC 1952): deflate, no name, no time, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty final DEFLATE block (fixed Huffman codes), which ends the stream.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// A response body being assembled, part by part, in its encoding. With
/// gzip it is one stream: the header, each part's blocks (the cached ones as
/// they were compressed), and a trailer whose CRC-32 combines the parts'.
#[derive(Debug)]
pub struct Body {
    encoding: Encoding,
    chunks: Vec<Bytes>,
    crc: flate2::Crc,
}

impl Body {
    pub fn new(encoding: Encoding) -> Body {
        let mut chunks = Vec::with_capacity(8);
        if encoding == Encoding::Gzip {
            chunks.push(Bytes::from_static(&GZIP_HEADER));
        }
        Body {
            encoding,
            chunks,
            crc: flate2::Crc::new(),
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// A part made for this scrape.
    fn moving(&mut self, plain: String) {
        match self.encoding {
            Encoding::Identity => self.chunks.push(Bytes::from(plain)),
            Encoding::Gzip => {
                let part = stored(plain.as_bytes());
                self.crc.combine(&part.crc);
                self.chunks.push(part.blocks);
            }
        }
    }

    /// A part kept between scrapes, compressed at most once.
    fn cached(&mut self, part: &Encoded) {
        match self.encoding {
            Encoding::Identity => self.chunks.push(part.plain.clone()),
            Encoding::Gzip => {
                let deflated = part.gzip.get_or_init(|| deflate(&part.plain, CACHED_LEVEL));
                self.crc.combine(&deflated.crc);
                self.chunks.push(deflated.blocks.clone());
            }
        }
    }

    pub fn into_chunks(mut self) -> Vec<Bytes> {
        if self.encoding == Encoding::Gzip {
            let mut trailer = Vec::with_capacity(10);
            trailer.extend_from_slice(&FINAL_BLOCK);
            trailer.extend_from_slice(&self.crc.sum().to_le_bytes());
            trailer.extend_from_slice(&self.crc.amount().to_le_bytes());
            self.chunks.push(Bytes::from(trailer));
        }
        self.chunks
    }
}

/// One organisation's series, as parts to be sent in order: per query,
/// clock-driven, and per group (when data is served).
pub fn render_org(
    format: Format,
    own: &OwnSeries,
    telemetry: &Telemetry,
    view: ScrapeView,
    snapshot: Option<&Snapshot>,
    body: &mut Body,
) {
    body.cached(&own.get(format, telemetry));
    body.moving(encode(format, ClockSeries(view)));
    if let Some(snapshot) = snapshot {
        let part = snapshot.bodies[format.slot()]
            .get_or_init(|| Encoded::text(encode_groups(format, &snapshot.figures)));
        body.cached(part);
    }
}

/// The exporter's own series.
pub fn render_exporter(format: Format, part: &ExporterPart, view: ExporterView, body: &mut Body) {
    body.cached(&part.get(format, view));
}

/// Ends a body: OpenMetrics closes with `# EOF`.
pub fn finish(format: Format, body: &mut Body) {
    static EOF: OnceLock<Encoded> = OnceLock::new();
    if format == Format::OpenMetrics {
        body.cached(EOF.get_or_init(|| Encoded::new(Bytes::from_static(b"# EOF\n"))));
    }
}

/// A whole body of one organisation and the exporter's own series, as the
/// telemetry path serves it.
pub fn render(
    format: Format,
    encoding: Encoding,
    own: &OwnSeries,
    telemetry: &Telemetry,
    view: ScrapeView,
    snapshot: Option<&Snapshot>,
) -> Vec<Bytes> {
    let mut body = Body::new(encoding);
    render_org(format, own, telemetry, view, snapshot, &mut body);
    finish(format, &mut body);
    body.into_chunks()
}

fn encode(format: Format, collector: impl Collector) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(collector));
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

fn metric_type(m: &Metric) -> MetricType {
    match m.kind {
        Kind::Gauge => MetricType::Gauge,
        Kind::Counter => MetricType::Counter,
        Kind::Unknown => MetricType::Unknown,
    }
}

/// One unlabelled sample of a gauge-like metric (`Gauge` or `Unknown`).
fn gauge(e: &mut DescriptorEncoder, m: &Metric, value: f64) -> fmt::Result {
    debug_assert!(m.kind != Kind::Counter && m.labels.is_empty(), "{}", m.name);
    e.encode_descriptor(m.family(), m.help, None, metric_type(m))?
        .encode_gauge(&value)
}

fn gauges<L: EncodeLabelSet>(
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

fn counters<L: EncodeLabelSet>(
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

fn counter(e: &mut DescriptorEncoder, m: &Metric, value: impl EncodeCounterValue) -> fmt::Result {
    debug_assert_eq!(m.kind, Kind::Counter, "{}", m.name);
    e.encode_descriptor(m.family(), m.help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The per-group gauges and how each is read from a group's figures.
type PerGroup = (&'static Metric, fn(&crate::model::GroupFigures) -> f64);
const PER_GROUP: [PerGroup; 8] = [
    (&metrics::CONSUMER_LAG_SECONDS, |g| g.lag_seconds),
    (&metrics::CONSUMER_PROCESSING_LATENCY_SECONDS, |g| {
        g.mean_latency_seconds
    }),
    (&metrics::CONSUMER_THROUGHPUT_EVENTS_PER_SECOND, |g| {
        g.throughput
    }),
    (&metrics::CONSUMER_BACKLOG_EVENTS, |g| g.backlog),
    (&metrics::CONSUMER_GROUP_MISSING, |g| {
        f64::from(u8::from(g.missing))
    }),
    (&metrics::CONSUMER_LAG_THRESHOLD_SECONDS, |g| {
        g.thresholds.max_lag.as_secs_f64()
    }),
    (
        &metrics::CONSUMER_PROCESSING_LATENCY_THRESHOLD_SECONDS,
        |g| g.thresholds.max_processing_latency.as_secs_f64(),
    ),
    (&metrics::CONSUMER_THRESHOLD_EXCEEDED, |g| {
        f64::from(u8::from(g.exceeded))
    }),
];

/// The per-group series of one snapshot. The encoder writes each family's
/// HELP and TYPE lines; the samples are written by [`write_gauge_sample`].
fn encode_groups(format: Format, f: &Figures) -> String {
    // About 110 bytes a sample; a good guess saves copies as the text grows.
    let mut out = String::with_capacity(110 * (2 * f.series.len() + 8 * f.groups.len()));
    fn series(s: &crate::model::SeriesFigures) -> [&str; 2] {
        [&*s.consumer_group, &*s.event_type]
    }
    let mut labels = Vec::with_capacity(f.series.len());
    gauge_family_recording(
        &mut out,
        format,
        &metrics::EVENTS,
        f.series.iter().map(|s| (series(s), s.events)),
        Some(&mut labels),
    );
    // Same label sets in the same order: copied from the family above rather
    // than escaped and assembled again.
    if !f.series.is_empty() {
        let m = &metrics::EVENT_PROCESSING_LATENCY_SECONDS;
        out.push_str(&encode(
            format,
            Descriptor {
                name: m.name,
                help: m.help,
            },
        ));
        for (s, labels) in f.series.iter().zip(labels) {
            out.push_str(m.name);
            out.extend_from_within(labels);
            write_value(&mut out, format, s.latency_seconds);
        }
    }
    for (m, value) in PER_GROUP {
        gauge_family(
            &mut out,
            format,
            m,
            f.groups.iter().map(|g| ([&*g.name], value(g))),
        );
    }
    out
}

/// One gauge family: HELP and TYPE from the encoder, then the samples,
/// `name{key="value",...} value`, written directly, byte for byte as the
/// encoder writes them in either format (the tests hold them to that). The
/// encoder's generic path, about 150 ns a sample, was most of a large
/// organisation's query time: 200,000 samples. Nothing without samples.
fn gauge_family<'a, const N: usize>(
    out: &mut String,
    format: Format,
    m: &Metric,
    samples: impl IntoIterator<Item = ([&'a str; N], f64)>,
) {
    gauge_family_recording(out, format, m, samples, None);
}

/// [`gauge_family`], noting in `labels` where each sample's label set
/// (`{...} `, between the name and the value) was written.
fn gauge_family_recording<'a, const N: usize>(
    out: &mut String,
    format: Format,
    m: &Metric,
    samples: impl IntoIterator<Item = ([&'a str; N], f64)>,
    mut labels: Option<&mut Vec<std::ops::Range<usize>>>,
) {
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return;
    }
    let (name, keys) = (m.name, m.labels);
    assert_eq!(
        keys.len(),
        N,
        "{name}: label values for every declared label"
    );
    out.push_str(&encode(format, Descriptor { name, help: m.help }));
    // The constant text between the label values, made once per family:
    // `name{k1="`, `",k2="`, ..., and `"} ` before the value.
    let joints: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| match i {
            0 => format!("{name}{{{key}=\""),
            _ => format!("\",{key}=\""),
        })
        .collect();
    let before_value = if N == 0 { " " } else { "\"} " };
    for (values, value) in samples {
        let start = out.len() + name.len();
        if N == 0 {
            out.push_str(name);
        }
        for (joint, label) in joints.iter().zip(values) {
            out.push_str(joint);
            escape_label_value(out, label);
        }
        out.push_str(before_value);
        if let Some(labels) = labels.as_deref_mut() {
            labels.push(start..out.len());
        }
        write_value(out, format, value);
    }
}

/// The HELP and TYPE lines of a gauge family.
#[derive(Debug)]
struct Descriptor {
    name: &'static str,
    help: &'static str,
}

impl Collector for Descriptor {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        e.encode_descriptor(self.name, self.help, None, MetricType::Gauge)
            .map(drop)
    }
}

/// A gauge value and the line's end, as the encoder prints them.
fn write_value(out: &mut String, format: Format, value: f64) {
    // Whole numbers (event counts, flags) as the encoder prints them, `12.0`,
    // by the much cheaper integer formatting; -0.0 keeps its sign below.
    let whole = value as i64;
    if whole as f64 == value && value.abs() < 1e15 && (value != 0.0 || value.is_sign_positive()) {
        out.push_str(itoa::Buffer::new().format(whole));
        out.push_str(".0\n");
        return;
    }
    if let Some(thousandths) = thousandths(value) {
        out.push_str(itoa::Buffer::new().format(thousandths / 1000));
        out.push('.');
        // The fraction's digits up to its last non-zero one, the shortest.
        let (mut rest, mut unit) = (thousandths % 1000, 100);
        while rest != 0 {
            out.push(char::from(b'0' + (rest / unit) as u8));
            (rest, unit) = (rest % unit, unit / 10);
        }
        out.push('\n');
        return;
    }
    let mut digits = dtoa::Buffer::new();
    out.push_str(if value.is_finite() {
        digits.format_finite(value)
    } else {
        match format {
            Format::OpenMetrics => digits.format(value),
            Format::Text if value.is_nan() => "NaN",
            Format::Text if value > 0.0 => "+Inf",
            Format::Text => "-Inf",
        }
    });
    out.push('\n');
}

/// `value` as a whole number of thousandths, when those are exactly the
/// digits the encoder writes: latencies are milliseconds written as seconds,
/// and integer formatting costs a fraction of float formatting. The
/// encoder's algorithm (Grisu2) writes the fewest digits within the value's
/// rounding interval, narrowed by its own rounding error of a few parts in
/// 2^64. A value within 63/64 of half an ulp of `n / 1000` has that decimal
/// well inside the narrowed interval; below 2^33 the interval is far
/// narrower than a thousandth, so no other decimal as short lies in it.
/// Anything else is left to the encoder's algorithm.
fn thousandths(value: f64) -> Option<u64> {
    if !(1e-3..8_589_934_592.0).contains(&value) {
        return None;
    }
    let bits = value.to_bits();
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // A power of two has a lopsided interval: left to the encoder.
    if mantissa == 1 << 52 {
        return None;
    }
    // value = mantissa / 2^shift, shift between 20 and 62 in this range.
    let shift = 1075 - ((bits >> 52) & 0x7ff) as u32;
    let scaled = 1000 * u128::from(mantissa);
    let n = (scaled + (1 << (shift - 1))) >> shift;
    // 1000 × value - n, in units of 2^-shift (one ulp of the value).
    let off = scaled.abs_diff(n << shift);
    // |value - n/1000| <= ulp/2 × 63/64, that is off/1000 <= 63/128.
    (off <= 492 && !n.is_multiple_of(1000)).then_some(n as u64)
}

/// Backslash, double quote and newline escaped, as both formats want.
fn escape_label_value(out: &mut String, value: &str) {
    // A fold rather than `any`: no early exit, so the check vectorises.
    let special = value
        .bytes()
        .fold(false, |found, b| found | matches!(b, b'\\' | b'"' | b'\n'));
    if !special {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// The exporter's own series that move with the clock.
#[derive(Debug)]
struct ClockSeries(ScrapeView);

impl Collector for ClockSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let view = &self.0;
        if let Some(age) = view.data_age {
            gauge(&mut e, &metrics::DATA_AGE_SECONDS, age.as_secs_f64())?;
        }
        gauge(
            &mut e,
            &metrics::RATE_LIMIT_COOLDOWN_SECONDS,
            view.cooldown.map_or(0.0, |d| d.as_secs_f64()),
        )?;
        Ok(())
    }
}

/// The web layer's counters, encoded per scrape with the exporter's own
/// series: they move with every connection. All are exported from the
/// start, at 0.
fn encode_web_counts(e: &mut DescriptorEncoder, w: &WebCounts) -> fmt::Result {
    counter(e, &metrics::WEB_CONNECTIONS_ACCEPTED_TOTAL, w.accepted)?;
    counters(
        e,
        &metrics::WEB_CONNECTIONS_DROPPED_TOTAL,
        Dropped::ALL.map(|r| ([("reason", r.as_str())], w.dropped(r))),
    )?;
    counter(e, &metrics::WEB_FAILED_LOGINS_TOTAL, w.failed_logins)?;
    counter(e, &metrics::WEB_THROTTLED_LOGINS_TOTAL, w.throttled_logins)
}

/// One organisation's series that depend on its telemetry alone.
#[derive(Debug)]
struct OrgSeries(TelemetryState);

impl Collector for OrgSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let t = &self.0;
        let up = t.last_query.as_ref().is_some_and(|q| q.outcome.is_ok());
        gauge(&mut e, &metrics::UP, f64::from(u8::from(up)))?;
        if let Some(at) = t.last_success {
            gauge(
                &mut e,
                &metrics::LAST_SUCCESS_TIMESTAMP_SECONDS,
                unix_seconds(at),
            )?;
        }
        if let Some(q) = &t.last_query {
            gauge(
                &mut e,
                &metrics::QUERY_DURATION_SECONDS,
                q.duration.as_secs_f64(),
            )?;
            gauge(&mut e, &metrics::QUERY_PAGES, f64::from(q.pages))?;
        }
        counter(&mut e, &metrics::QUERIES_TOTAL, t.queries)?;
        counters(
            &mut e,
            &metrics::QUERY_FAILURES_TOTAL,
            t.failures
                .iter()
                .map(|(r, n)| ([("reason", r.as_str())], *n)),
        )?;
        counters(
            &mut e,
            &metrics::API_REQUESTS_TOTAL,
            t.api_requests.iter().map(|((endpoint, code), n)| {
                (
                    [
                        ("endpoint", endpoint.as_str().to_string()),
                        ("code", code.to_string()),
                    ],
                    *n,
                )
            }),
        )?;
        let limits = t.rate_limit;
        for (m, value) in [
            (&metrics::API_RATE_LIMIT_ALLOWED, limits.allowed),
            (&metrics::API_RATE_LIMIT_COUNT, limits.count),
            (&metrics::API_RATE_LIMIT_RESET_SECONDS, limits.reset_seconds),
        ] {
            if let Some(v) = value {
                gauge(&mut e, m, v)?;
            }
        }
        if let Some(expiry) = t.token_expiry {
            gauge(
                &mut e,
                &metrics::TOKEN_EXPIRY_TIMESTAMP_SECONDS,
                unix_seconds(expiry),
            )?;
        }
        counter(&mut e, &metrics::TOKEN_REQUESTS_TOTAL, t.token_requests)?;
        counters(
            &mut e,
            &metrics::INVALID_ROWS_TOTAL,
            t.invalid_rows.iter().map(|(r, n)| ([("reason", *r)], *n)),
        )?;
        match &t.integrations {
            Some(seen) => integration_series(&mut e, seen),
            None => Ok(()),
        }
    }
}

/// The EventBridge integrations: the enum pattern of kube-state-metrics for
/// the state (one series per state, 1 for the one reported).
fn integration_series(e: &mut DescriptorEncoder, seen: &IntegrationsSeen) -> fmt::Result {
    gauge(e, &metrics::INTEGRATIONS_UP, f64::from(u8::from(seen.up)))?;
    let list = seen.list.as_slice();
    let ids = |i: &Integration| [("integration_id", i.id.clone()), ("name", i.name.clone())];
    gauges(
        e,
        &metrics::INTEGRATION_STATE,
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
                        f64::from(u8::from(state == reported)),
                    )
                })
        }),
    )?;
    gauges(
        e,
        &metrics::INTEGRATION_ENABLED,
        list.iter()
            .map(|i| (ids(i), f64::from(u8::from(i.enabled)))),
    )?;
    gauges(
        e,
        &metrics::INTEGRATION_STATE_CHANGED_TIMESTAMP_SECONDS,
        list.iter()
            .filter_map(|i| i.state_changed.map(|t| (ids(i), unix_seconds(t)))),
    )
}

/// The exporter's own series: build, process, and the following of its files.
#[derive(Debug)]
struct ExporterSeries(ExporterView);

impl Collector for ExporterSeries {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let view = &self.0;
        gauges(
            &mut e,
            &metrics::EXPORTER_BUILD_INFO,
            [([("version", env!("CARGO_PKG_VERSION"))], 1.0)],
        )?;
        if let Some(config) = view.config {
            gauge(
                &mut e,
                &metrics::CONFIG_LAST_RELOAD_SUCCESSFUL,
                f64::from(u8::from(config.successful)),
            )?;
            gauge(
                &mut e,
                &metrics::CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
                unix_seconds(config.last_success),
            )?;
        }
        if let Some(web) = view.web_config {
            gauge(
                &mut e,
                &metrics::WEB_CONFIG_LAST_RELOAD_SUCCESSFUL,
                f64::from(u8::from(web.successful)),
            )?;
            gauge(
                &mut e,
                &metrics::WEB_CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
                unix_seconds(web.last_success),
            )?;
        }
        encode_web_counts(&mut e, &view.web)?;
        let Some(p) = view.process else {
            return Ok(());
        };
        // Names and HELP as in the Prometheus client libraries.
        counter(&mut e, &metrics::PROCESS_CPU_SECONDS_TOTAL, p.cpu_seconds)?;
        for (m, value) in [
            (
                &metrics::PROCESS_RESIDENT_MEMORY_BYTES,
                Some(p.resident_memory_bytes as f64),
            ),
            (
                &metrics::PROCESS_VIRTUAL_MEMORY_BYTES,
                Some(p.virtual_memory_bytes as f64),
            ),
            (
                &metrics::PROCESS_START_TIME_SECONDS,
                Some(p.start_time_seconds),
            ),
            (&metrics::PROCESS_THREADS, Some(p.threads as f64)),
            (&metrics::PROCESS_OPEN_FDS, p.open_fds.map(|n| n as f64)),
            (&metrics::PROCESS_MAX_FDS, p.max_fds.map(|n| n as f64)),
        ] {
            if let Some(v) = value {
                gauge(&mut e, m, v)?;
            }
        }
        Ok(())
    }
}

/// Concatenates rendered chunks, for tests and callers that want one buffer.
pub fn to_string(chunks: &[Bytes]) -> String {
    let mut s = String::new();
    for c in chunks {
        let _ = s.write_str(&String::from_utf8_lossy(c));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Scope;
    use crate::model::SeriesFigures;

    const fn test_metric(help: &'static str, labels: &'static [&'static str]) -> Metric {
        Metric {
            name: "x_seconds",
            kind: Kind::Gauge,
            help,
            labels,
            scope: Scope::Group,
        }
    }
    const ODD: Metric = test_metric(
        "Help \\ with \"odd\" text\n.",
        &["consumer_group", "event_type"],
    );
    const ONE: Metric = test_metric("Help.", &["consumer_group"]);
    const NONE: Metric = test_metric("Help.", &[]);
    const ANY: Metric = test_metric("Help.", &["a"]);

    fn snapshot() -> Snapshot {
        Snapshot::new(Figures {
            series: vec![SeriesFigures {
                consumer_group: "g".into(),
                event_type: "e".into(),
                events: 3.0,
                latency_seconds: 0.5,
            }],
            valid_rows: 1,
            ..Figures::default()
        })
    }

    fn view(age: u64) -> ScrapeView {
        ScrapeView {
            data_age: Some(Duration::from_secs(age)),
            cooldown: None,
        }
    }

    /// Scrapes of one snapshot, as many as a test makes, by format,
    /// encoding and data age: the parts they share live as long as it does.
    fn scrapes() -> impl Fn(Format, Encoding, u64) -> Vec<Bytes> {
        let (own, telemetry, snapshot) = (OwnSeries::default(), Telemetry::new(), snapshot());
        move |format, encoding, age| {
            render(
                format,
                encoding,
                &own,
                &telemetry,
                view(age),
                Some(&snapshot),
            )
        }
    }

    #[test]
    fn cached_parts_are_sent_as_they_are_and_the_clock_part_is_fresh() {
        let rendered = scrapes();
        for format in [Format::OpenMetrics, Format::Text] {
            let first = rendered(format, Encoding::Identity, 1);
            let second = rendered(format, Encoding::Identity, 2);
            // The same buffers, not copies and not new encodings.
            assert_eq!(first[0].as_ptr(), second[0].as_ptr(), "{format:?}");
            assert_eq!(first[2].as_ptr(), second[2].as_ptr(), "{format:?}");
            assert!(to_string(&first).contains("genesys_eventbridge_data_age_seconds 1.0"));
            assert!(to_string(&second).contains("genesys_eventbridge_data_age_seconds 2.0"));
            assert!(to_string(&second).contains("genesys_eventbridge_events{"));
            assert_eq!(
                to_string(&second).ends_with("# EOF\n"),
                format == Format::OpenMetrics
            );
        }
    }

    /// A gauge family written by the encoder itself, as the reference.
    #[derive(Debug)]
    struct Reference(Vec<([(&'static str, String); 2], f64)>);

    impl Collector for Reference {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauges(
                &mut e,
                &ODD,
                self.0.iter().map(|([(k1, v1), (k2, v2)], value)| {
                    ([(*k1, v1.as_str()), (*k2, v2.as_str())], *value)
                }),
            )
        }
    }

    #[derive(Debug)]
    struct Reference1(Vec<(String, f64)>);

    impl Collector for Reference1 {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauges(
                &mut e,
                &ONE,
                self.0
                    .iter()
                    .map(|(v, x)| ([("consumer_group", v.as_str())], *x)),
            )
        }
    }

    #[derive(Debug)]
    struct Reference0(Vec<f64>);

    impl Collector for Reference0 {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauges(
                &mut e,
                &NONE,
                self.0.iter().map(|x| ([] as [(&str, &str); 0], *x)),
            )
        }
    }

    #[test]
    fn samples_are_written_exactly_as_the_encoder_writes_them() {
        let names = [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "new\nline",
            "ünïcødé ☃",
            "",
            "all \\\"\n of them\\",
        ];
        let values = [
            0.0,
            -0.0,
            1.0,
            -2.5,
            0.1,
            1234.0,
            -1234.0,
            999_999_999_999_999.0,
            4503599627370497.0,
            1e15,
            1e16,
            1e21,
            1.5e-7,
            12345.678,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut samples = Vec::new();
        for (i, name) in names.iter().enumerate() {
            for (j, value) in values.iter().enumerate() {
                let event_type = names[(i + j) % names.len()];
                samples.push((
                    [
                        ("consumer_group", name.to_string()),
                        ("event_type", event_type.to_string()),
                    ],
                    *value,
                ));
            }
        }
        for format in [Format::OpenMetrics, Format::Text] {
            let expected = encode(format, Reference(samples.clone()));
            let mut written = String::new();
            gauge_family(
                &mut written,
                format,
                &ODD,
                samples
                    .iter()
                    .map(|([(_, v1), (_, v2)], value)| ([v1.as_str(), v2.as_str()], *value)),
            );
            assert_eq!(written, expected, "{format:?}");

            // One label, and none.
            let one = Reference1(
                samples
                    .iter()
                    .map(|([(_, v), _], x)| (v.clone(), *x))
                    .collect(),
            );
            let mut written = String::new();
            gauge_family(
                &mut written,
                format,
                &ONE,
                one.0.iter().map(|(v, x)| ([v.as_str()], *x)),
            );
            assert_eq!(written, encode(format, one), "{format:?}");
            let none = Reference0(values.to_vec());
            let mut written = String::new();
            gauge_family(&mut written, format, &NONE, none.0.iter().map(|x| ([], *x)));
            assert_eq!(written, encode(format, none), "{format:?}");

            let mut empty = String::new();
            gauge_family::<1>(&mut empty, format, &ANY, []);
            assert_eq!(empty, "");
        }
    }

    /// Thousandths written by integer formatting are exactly what the
    /// encoder's float formatting writes: every multiple of a thousandth up
    /// to 200, spread ones up to the path's bound with their neighbouring
    /// floats, and values that are no thousandths at all.
    #[test]
    fn thousandths_are_written_as_the_float_formatting_writes_them() {
        // Whether the integer path took it.
        let check = |value: f64| {
            let mut written = String::new();
            write_value(&mut written, Format::OpenMetrics, value);
            let expected = format!("{}\n", dtoa::Buffer::new().format_finite(value));
            assert_eq!(written, expected, "{value:e} ({:#x})", value.to_bits());
            thousandths(value).is_some()
        };
        let taken = (1..=200_000u32)
            .filter(|&n| check(f64::from(n) / 1000.0))
            .count();
        assert!(taken > 195_000, "{taken}");
        // A fixed generator (SplitMix64), so that a failure repeats.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for _ in 0..40_000 {
            // Up to past the path's bound of 2^33 seconds.
            let n = next() % 10_000_000_000_000;
            let value = n as f64 / 1000.0;
            for d in [-2i64, -1, 0, 1, 2] {
                check(f64::from_bits(value.to_bits().wrapping_add_signed(d)));
            }
            // Merged latencies: event-weighted means of milliseconds.
            let (a, b) = ((next() % 50_000) as f64, (next() % 50_000) as f64 + 1.0);
            let (x, y) = ((next() % 60_000) as f64, (next() % 60_000) as f64);
            check((x * a + y * b) / (a + b) / 1000.0);
            // Any float from about 1e-5 to about 1e12.
            let bits = (next() & ((1 << 52) - 1)) | ((1006 + next() % 50) << 52);
            check(f64::from_bits(bits));
        }
        for value in [
            1e-3,
            0.5,
            0.999_999,
            2.0,
            0.1 + 0.2,
            8_589_934_591.999,
            8_589_934_592.001,
        ] {
            check(value);
        }
    }

    /// The per-group series as the encoder itself writes them.
    #[derive(Debug)]
    struct ReferenceGroups(Figures);

    impl Collector for ReferenceGroups {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            let f = &self.0;
            let series = |s: &crate::model::SeriesFigures| {
                [
                    ("consumer_group", s.consumer_group.clone()),
                    ("event_type", s.event_type.clone()),
                ]
            };
            gauges(
                &mut e,
                &metrics::EVENTS,
                f.series.iter().map(|s| (series(s), s.events)),
            )?;
            gauges(
                &mut e,
                &metrics::EVENT_PROCESSING_LATENCY_SECONDS,
                f.series.iter().map(|s| (series(s), s.latency_seconds)),
            )?;
            for (m, v) in PER_GROUP {
                gauges(
                    &mut e,
                    m,
                    f.groups
                        .iter()
                        .map(|g| ([("consumer_group", g.name.clone())], v(g))),
                )?;
            }
            Ok(())
        }
    }

    #[test]
    fn the_group_series_are_what_the_encoder_would_write() {
        let rows = ["a\\b", "q\"uote", "new\nline", "plain", "ünï"]
            .iter()
            .enumerate()
            .flat_map(|(i, group)| {
                ["x", "y\"z", "w"]
                    .iter()
                    .enumerate()
                    .map(move |(j, event_type)| crate::model::RawRow::Object {
                        consumer_group: crate::model::Field::Value((*group).into()),
                        event_type: crate::model::Field::Value((*event_type).into()),
                        event_count: crate::model::Field::Value((i * 7 + j) as f64),
                        processing_latency: crate::model::Field::Value(
                            (i * 1000 + j * 37) as f64 + 0.25,
                        ),
                    })
            })
            .collect::<Vec<_>>();
        let thresholds = crate::model::Thresholds {
            max_lag: Duration::from_secs(30),
            max_processing_latency: Duration::from_millis(500),
        };
        let configured = [crate::model::GroupSpec {
            name: "missing \"one\"".into(),
            thresholds,
        }];
        let figures =
            crate::model::compute(rows, Duration::from_secs(3600), &configured, thresholds);
        for format in [Format::OpenMetrics, Format::Text] {
            assert_eq!(
                encode_groups(format, &figures),
                encode(format, ReferenceGroups(figures.clone())),
                "{format:?}"
            );
            assert_eq!(encode_groups(format, &Figures::default()), "");
        }
    }

    fn gunzip(chunks: &[Bytes]) -> String {
        use std::io::Read as _;
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let mut out = String::new();
        flate2::read::MultiGzDecoder::new(joined.as_slice())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    /// One gzip stream, not several members: the header once, DEFLATE
    /// data that ends exactly at the trailer, and a trailer holding the
    /// CRC-32 and length of the whole text (what curl checks).
    fn assert_one_stream(chunks: &[Bytes], plain: &[u8]) {
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(&joined[..10], &GZIP_HEADER);
        let (data, trailer) = joined[10..].split_at(joined.len() - 18);
        let mut inflate = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(plain.len() + 64);
        let status = inflate
            .decompress_vec(data, &mut out, flate2::FlushDecompress::Finish)
            .unwrap();
        assert_eq!(status, flate2::Status::StreamEnd);
        assert_eq!(
            inflate.total_in() as usize,
            data.len(),
            "nothing after the stream"
        );
        assert_eq!(out, plain);
        let mut crc = flate2::Crc::new();
        crc.update(plain);
        assert_eq!(&trailer[..4], &crc.sum().to_le_bytes());
        assert_eq!(&trailer[4..], &(plain.len() as u32).to_le_bytes());
    }

    #[test]
    fn gzip_bodies_decode_to_the_plain_body_and_cached_parts_are_compressed_once() {
        let rendered = scrapes();
        for format in [Format::OpenMetrics, Format::Text] {
            let plain = rendered(format, Encoding::Identity, 1);
            let first = rendered(format, Encoding::Gzip, 1);
            let second = rendered(format, Encoding::Gzip, 2);
            assert_eq!(gunzip(&first), to_string(&plain), "{format:?}");
            assert_one_stream(&first, to_string(&plain).as_bytes());
            assert!(gunzip(&second).contains("genesys_eventbridge_data_age_seconds 2.0"));
            // One stream: the header, then the telemetry part and the
            // per-group part as the very same buffers in every scrape.
            assert_eq!(&first[0][..], &GZIP_HEADER);
            assert_eq!(first[1].as_ptr(), second[1].as_ptr(), "{format:?}");
            assert_eq!(first[3].as_ptr(), second[3].as_ptr(), "{format:?}");
            assert_eq!(
                first[2][5..],
                plain[1],
                "the moving part is stored as it is"
            );
            assert!(
                first[3].len() * 2 < plain[2].len(),
                "{format:?}: the per-group part compresses"
            );
        }
    }

    #[test]
    fn the_exporters_own_series_are_encoded_again_only_when_they_change() {
        let part = ExporterPart::default();
        let rendered = |view| {
            let mut body = Body::new(Encoding::Gzip);
            render_exporter(Format::OpenMetrics, &part, view, &mut body);
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

    #[test]
    fn stored_parts_of_any_length_make_one_stream() {
        for len in [0, 1, 65_535, 65_536, 200_000] {
            let plain: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let mut body = Body::new(Encoding::Gzip);
            body.moving(plain.clone());
            body.moving("and a second part".into());
            assert_one_stream(
                &body.into_chunks(),
                (plain + "and a second part").as_bytes(),
            );
        }
    }

    #[test]
    fn gzip_is_sent_when_asked_for() {
        for (header, expected) in [
            (None, Encoding::Identity),
            (Some("gzip"), Encoding::Gzip),
            (Some("gzip, deflate, br"), Encoding::Gzip),
            (Some("identity"), Encoding::Identity),
            (Some("br;q=1.0, gzip;q=0.8"), Encoding::Gzip),
            (Some("gzip;q=0"), Encoding::Identity),
            (Some("*"), Encoding::Gzip),
            (Some("*;q=0.5, gzip;q=0"), Encoding::Identity),
            (Some("x-gzip"), Encoding::Gzip),
        ] {
            assert_eq!(Encoding::negotiate(header), expected, "{header:?}");
        }
    }

    #[test]
    fn the_model_bounds_the_encoding_from_above() {
        let name = |i: usize, len: usize| {
            let mut s = format!("{i}\"\\\n");
            while s.len() < len {
                s.push('x');
            }
            s
        };
        for len in [8, 100, crate::model::MAX_NAME_BYTES] {
            let rows = (0..300).map(|i| crate::model::RawRow::Object {
                consumer_group: crate::model::Field::Value(name(i % 40, len).into()),
                event_type: crate::model::Field::Value(name(i, len).into()),
                event_count: crate::model::Field::Value(i as f64 * 1.5),
                processing_latency: crate::model::Field::Value(f64::MAX / 1e300),
            });
            let thresholds = crate::model::Thresholds {
                max_lag: Duration::from_secs(30),
                max_processing_latency: Duration::from_millis(500),
            };
            let f = crate::model::compute(rows, Duration::from_secs(3600), &[], thresholds);
            for format in [Format::OpenMetrics, Format::Text] {
                let actual = encode_groups(format, &f).len();
                let bound = f.encoded_bytes();
                assert!(actual <= bound, "{len}: {actual} > {bound}");
                assert!(
                    bound < 2 * actual + 64 * 1024,
                    "{len}: {bound} is no tight bound of {actual}"
                );
            }
        }
    }

    #[test]
    fn the_own_series_follow_every_telemetry_change() {
        let (own, telemetry) = (OwnSeries::default(), Telemetry::new());
        let before = to_string(&render(
            Format::Text,
            Encoding::Identity,
            &own,
            &telemetry,
            view(0),
            None,
        ));
        assert!(before.contains("genesys_eventbridge_token_requests_total 0\n"));
        telemetry.token_requested();
        let after = to_string(&render(
            Format::Text,
            Encoding::Identity,
            &own,
            &telemetry,
            view(0),
            None,
        ));
        assert!(after.contains("genesys_eventbridge_token_requests_total 1\n"));
    }

    #[test]
    fn prometheus_accept_header_gets_openmetrics() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("text/plain;version=0.0.4")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("text/plain;q=1,application/openmetrics-text;q=0.5")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
    }
}
