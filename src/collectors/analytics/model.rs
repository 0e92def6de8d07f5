//! The lag model: pure functions from the rows of one query to the figures
//! exported per event type and per consumer group.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

pub use crate::config::{GroupSpec, Thresholds};

/// One field of a row as it arrived.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Missing,
    Null,
    WrongType,
    /// A string that is valid JSON but no text, such as an unpaired surrogate.
    Undecodable,
    Value(T),
}

/// One row as it arrived. Names are shared (`Arc<str>`): the rows of a page
/// repeat a few names, each decoded once and then held by every row and
/// figure that carries it, not copied into each.
#[derive(Debug, Clone, PartialEq)]
pub enum RawRow {
    NotObject,
    Object {
        consumer_group: Field<Arc<str>>,
        event_type: Field<Arc<str>>,
        event_count: Field<f64>,
        processing_latency: Field<f64>,
    },
}

impl<T> Field<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Missing => Field::Missing,
            Field::Null => Field::Null,
            Field::WrongType => Field::WrongType,
            Field::Undecodable => Field::Undecodable,
            Field::Value(v) => Field::Value(f(v)),
        }
    }
}

/// A row that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub consumer_group: Arc<str>,
    pub event_type: Arc<str>,
    pub event_count: f64,
    /// Milliseconds, as the API reports it.
    pub processing_latency_ms: f64,
}

/// Why a row was skipped: the `reason` label of `invalid_rows_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidRow {
    NotObject,
    MissingField(&'static str),
    NullField(&'static str),
    WrongType(&'static str),
    InvalidValue(&'static str),
}

impl InvalidRow {
    pub fn reason(self) -> &'static str {
        match self {
            InvalidRow::NotObject => "not_object",
            InvalidRow::MissingField(_) => "missing_field",
            InvalidRow::NullField(_) => "null_field",
            InvalidRow::WrongType(_) => "wrong_type",
            InvalidRow::InvalidValue(_) => "invalid_value",
        }
    }
}

fn field<T>(f: Field<T>, name: &'static str) -> Result<T, InvalidRow> {
    match f {
        Field::Value(v) => Ok(v),
        Field::Missing => Err(InvalidRow::MissingField(name)),
        Field::Null => Err(InvalidRow::NullField(name)),
        Field::WrongType => Err(InvalidRow::WrongType(name)),
        Field::Undecodable => Err(InvalidRow::InvalidValue(name)),
    }
}

/// The longest consumer group or event type name taken, in bytes: each is
/// written into up to ten samples per format.
pub use crate::exposition::MAX_NAME_BYTES;

/// The largest event count taken as real: a million events a second for
/// thirty years, and still an exact integer in an f64.
pub const MAX_EVENT_COUNT: f64 = 1e15;
/// The largest processing latency taken as real, in milliseconds: thirty years.
pub const MAX_LATENCY_MS: f64 = 1e12;

/// Checks one row: every field present with its type, names non-empty,
/// numbers finite, not negative and within [`MAX_EVENT_COUNT`] and
/// [`MAX_LATENCY_MS`]: finite numbers beyond those, weighted and added up,
/// could overflow to an infinite or NaN figure.
pub fn validate(raw: RawRow) -> Result<Row, InvalidRow> {
    let RawRow::Object {
        consumer_group,
        event_type,
        event_count,
        processing_latency,
    } = raw
    else {
        return Err(InvalidRow::NotObject);
    };
    let mut row = Row {
        consumer_group: field(consumer_group, "consumerGroup")?,
        event_type: field(event_type, "eventType")?,
        event_count: field(event_count, "eventCount")?,
        processing_latency_ms: field(processing_latency, "processingLatency")?,
    };
    // An empty label value is no label at all to Prometheus.
    if blank(&row.consumer_group) {
        return Err(InvalidRow::InvalidValue("consumerGroup"));
    }
    if blank(&row.event_type) {
        return Err(InvalidRow::InvalidValue("eventType"));
    }
    if row.consumer_group.len() > MAX_NAME_BYTES {
        return Err(InvalidRow::InvalidValue("consumerGroup"));
    }
    if row.event_type.len() > MAX_NAME_BYTES {
        return Err(InvalidRow::InvalidValue("eventType"));
    }
    // `contains` is false for NaN; the infinities are out of range.
    if !(0.0..=MAX_EVENT_COUNT).contains(&row.event_count) {
        return Err(InvalidRow::InvalidValue("eventCount"));
    }
    if !(0.0..=MAX_LATENCY_MS).contains(&row.processing_latency_ms) {
        return Err(InvalidRow::InvalidValue("processingLatency"));
    }
    // -0.0 passes the range checks; adding 0.0 exports it as 0.
    row.event_count += 0.0;
    row.processing_latency_ms += 0.0;
    Ok(row)
}

/// Empty or only white space. A name that starts with a printable ASCII
/// character, as nearly every one does, is not scanned any further.
fn blank(name: &str) -> bool {
    match name.as_bytes().first() {
        Some(&b) if b.is_ascii_graphic() => false,
        _ => name.trim().is_empty(),
    }
}

/// One consumer group and event type.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesFigures {
    pub consumer_group: Arc<str>,
    pub event_type: Arc<str>,
    pub events: f64,
    pub latency_seconds: f64,
}

/// One consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFigures {
    pub name: Arc<str>,
    pub events: f64,
    /// Worst latency over the group's event types.
    pub lag_seconds: f64,
    /// Event-weighted mean latency.
    pub mean_latency_seconds: f64,
    pub throughput: f64,
    /// Little's law: throughput × mean latency.
    pub backlog: f64,
    pub missing: bool,
    pub thresholds: Thresholds,
    pub exceeded: bool,
}

/// The most one format's encoding of a snapshot's per-group series may
/// take. A query whose figures would encode to more fails (reason
/// `pagination`, as its other budgets do), so that one snapshot holds at
/// most twice this (both formats) besides its figures.
pub const MAX_ENCODED_BYTES: usize = 64 * 1024 * 1024;

/// The bytes of a sample line around its label values: the longest metric
/// name of its kind, label names, quotes, braces, a value and the line end.
const SERIES_LINE_OVERHEAD: usize = 56 + 32 + 32;
const GROUP_LINE_OVERHEAD: usize = 66 + 20 + 32;

/// A name as the exposition writes it: `\`, `"` and a line break escaped.
fn escaped_len(name: &str) -> usize {
    name.len()
        + name
            .bytes()
            .filter(|b| matches!(b, b'\\' | b'"' | b'\n'))
            .count()
}

/// Everything one query yields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Sorted by group, then event type.
    pub series: Vec<SeriesFigures>,
    /// Sorted by name.
    pub groups: Vec<GroupFigures>,
    pub valid_rows: usize,
    pub invalid: BTreeMap<&'static str, u64>,
}

impl Figures {
    /// An upper bound of the bytes one format's per-group series take:
    /// two samples per series, eight per group.
    pub fn encoded_bytes(&self) -> usize {
        let series: usize = self
            .series
            .iter()
            .map(|s| {
                2 * (SERIES_LINE_OVERHEAD
                    + escaped_len(&s.consumer_group)
                    + escaped_len(&s.event_type))
            })
            .sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|g| 8 * (GROUP_LINE_OVERHEAD + escaped_len(&g.name)))
            .sum();
        series + groups + 32 * 1024
    }
}

/// The per-group figures of a query over `window`. Configured groups without
/// a row come out missing; groups only seen use the default thresholds. Rows
/// repeating a group and event type are merged (counts added, latency
/// event-weighted), so that every series is exported once.
pub fn compute(
    rows: impl IntoIterator<Item = RawRow>,
    window: Duration,
    configured: &[GroupSpec],
    defaults: Thresholds,
) -> Figures {
    let mut invalid: BTreeMap<&'static str, u64> = BTreeMap::new();
    let rows = rows.into_iter();
    let mut valid: Vec<Row> = Vec::with_capacity(rows.size_hint().0);
    for raw in rows {
        match validate(raw) {
            Ok(row) => valid.push(row),
            Err(reason) => *invalid.entry(reason.reason()).or_default() += 1,
        }
    }
    let valid_rows = valid.len();
    // Sorting brings repeats of a group and event type together, in arrival
    // order (the sorts are stable): no hashing of 100,000 name pairs. Rows
    // usually arrive grouped and in order, as the API sends them; then one
    // pass finds the groups, nothing is sorted but each group's few event
    // types, and each long group name is compared once.
    let mut starts = group_starts(&valid);
    let ordered = starts
        .windows(2)
        .all(|w| valid[w[0]].consumer_group < valid[w[1]].consumer_group);
    if !ordered {
        valid.sort_by(|a, b| a.consumer_group.cmp(&b.consumer_group));
        starts = group_starts(&valid);
    }
    starts.push(valid.len());

    let thresholds: HashMap<&str, Thresholds> = configured
        .iter()
        .map(|g| (g.name.as_str(), g.thresholds))
        .collect();
    let window_seconds = window.as_secs_f64();
    let mut series: Vec<SeriesFigures> = Vec::with_capacity(valid.len());
    let mut groups: Vec<GroupFigures> = Vec::with_capacity(starts.len());
    // Each group's rows sorted by event type first, then consumed in one
    // pass: the names move into the figures, and the rows merged away drop.
    for bounds in starts.windows(2) {
        valid[bounds[0]..bounds[1]].sort_by(|a, b| a.event_type.cmp(&b.event_type));
    }
    let mut rows = valid.into_iter();
    for bounds in starts.windows(2) {
        let first = series.len();
        merge_event_types(rows.by_ref().take(bounds[1] - bounds[0]), &mut series);
        let name = series[first].consumer_group.clone();
        let thresholds = thresholds.get(&*name).copied().unwrap_or(defaults);
        groups.push(group_figures(
            name,
            &series[first..],
            window_seconds,
            thresholds,
        ));
    }
    for g in configured {
        if groups.binary_search_by(|f| (*f.name).cmp(&g.name)).is_err() {
            groups.push(GroupFigures {
                name: g.name.as_str().into(),
                events: 0.0,
                lag_seconds: 0.0,
                mean_latency_seconds: 0.0,
                throughput: 0.0,
                backlog: 0.0,
                missing: true,
                thresholds: g.thresholds,
                exceeded: false,
            });
            groups.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    Figures {
        series,
        groups,
        valid_rows,
        invalid,
    }
}

/// Where each run of rows of one group starts.
fn group_starts(rows: &[Row]) -> Vec<usize> {
    (0..rows.len())
        .filter(|&i| i == 0 || rows[i - 1].consumer_group != rows[i].consumer_group)
        .collect()
}

/// One series per event type of a group's rows (sorted by event type):
/// counts added, latency event-weighted in arrival order. The names are
/// moved out of the rows, not copied.
fn merge_event_types(rows: impl Iterator<Item = Row>, series: &mut Vec<SeriesFigures>) {
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        let (mut events, mut latency) = (row.event_count, row.processing_latency_ms);
        while let Some(next) = rows.next_if(|next| next.event_type == row.event_type) {
            let total = events + next.event_count;
            latency = if total > 0.0 {
                (latency * events + next.processing_latency_ms * next.event_count) / total
            } else {
                latency.max(next.processing_latency_ms)
            };
            events = total;
        }
        series.push(SeriesFigures {
            consumer_group: row.consumer_group,
            event_type: row.event_type,
            events,
            latency_seconds: latency / 1000.0,
        });
    }
}

fn group_figures(
    name: Arc<str>,
    series: &[SeriesFigures],
    window_seconds: f64,
    thresholds: Thresholds,
) -> GroupFigures {
    let events: f64 = series.iter().map(|s| s.events).sum();
    let lag_seconds = series.iter().map(|s| s.latency_seconds).fold(0.0, f64::max);
    // With no events at all the weights vanish; the plain mean keeps the
    // figure defined (never NaN).
    let mean_latency_seconds = if events > 0.0 {
        series
            .iter()
            .map(|s| s.latency_seconds * s.events)
            .sum::<f64>()
            / events
    } else {
        series.iter().map(|s| s.latency_seconds).sum::<f64>() / series.len() as f64
    };
    let throughput = events / window_seconds;
    GroupFigures {
        name,
        events,
        lag_seconds,
        mean_latency_seconds,
        throughput,
        backlog: throughput * mean_latency_seconds,
        missing: false,
        // The two comparisons the alert rules make.
        exceeded: lag_seconds > thresholds.max_lag.as_secs_f64()
            || mean_latency_seconds > thresholds.max_processing_latency.as_secs_f64(),
        thresholds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &str, event_type: &str, count: f64, latency: f64) -> RawRow {
        RawRow::Object {
            consumer_group: Field::Value(group.into()),
            event_type: Field::Value(event_type.into()),
            event_count: Field::Value(count),
            processing_latency: Field::Value(latency),
        }
    }

    fn defaults() -> Thresholds {
        Thresholds {
            max_lag: Duration::from_secs(30),
            max_processing_latency: Duration::from_millis(500),
        }
    }

    fn configured(names: &[&str]) -> Vec<GroupSpec> {
        names
            .iter()
            .map(|n| GroupSpec {
                name: n.to_string(),
                thresholds: defaults(),
            })
            .collect()
    }

    #[test]
    fn the_tutorial_response() {
        let f = compute(
            [
                row(
                    "eventbridge-consumer-primary",
                    "conversation:created",
                    1450.0,
                    240.0,
                ),
                row(
                    "eventbridge-consumer-secondary",
                    "routing:queue:member:added",
                    890.0,
                    180.0,
                ),
            ],
            Duration::from_secs(3600),
            &[],
            defaults(),
        );
        let p = &f.groups[0];
        assert_eq!(&*p.name, "eventbridge-consumer-primary");
        assert_eq!(p.lag_seconds, 0.24);
        assert_eq!(p.mean_latency_seconds, 0.24);
        assert_eq!(p.throughput, 1450.0 / 3600.0);
        assert_eq!(p.backlog, 1450.0 / 3600.0 * 0.24);
        assert!(!p.exceeded && !p.missing);
        assert_eq!(f.series[1].events, 890.0);
        assert_eq!(f.series[1].latency_seconds, 0.18);
    }

    #[test]
    fn lag_is_the_worst_and_latency_is_event_weighted() {
        let f = compute(
            [row("g", "a", 300.0, 100.0), row("g", "b", 100.0, 40_000.0)],
            Duration::from_secs(600),
            &[],
            defaults(),
        );
        let g = &f.groups[0];
        assert_eq!(g.lag_seconds, 40.0);
        assert_eq!(g.mean_latency_seconds, (300.0 * 0.1 + 100.0 * 40.0) / 400.0);
        assert_eq!(g.throughput, 400.0 / 600.0);
        assert!(g.exceeded);
    }

    #[test]
    fn exceeded_compares_lag_and_mean_latency_as_the_alerts_do() {
        let exceeded = |rows: Vec<RawRow>| {
            compute(rows, Duration::from_secs(60), &[], defaults()).groups[0].exceeded
        };
        // Mean 0.6 s over the 500 ms latency threshold, lag far under 30 s.
        assert!(exceeded(vec![row("g", "a", 1.0, 600.0)]));
        assert!(!exceeded(vec![row("g", "a", 1.0, 400.0)]));
        // One slow event type among many fast events: the lag (worst, 5 s) is
        // under 30 s and the mean (about 0.1 s) under 500 ms, so nothing is
        // exceeded, where comparing the lag with 500 ms said it was.
        assert!(!exceeded(vec![
            row("g", "fast", 1000.0, 100.0),
            row("g", "slow", 1.0, 5000.0)
        ]));
        // Lag over 30 s exceeds whatever the mean.
        assert!(exceeded(vec![
            row("g", "fast", 100_000.0, 10.0),
            row("g", "slow", 1.0, 31_000.0)
        ]));
    }

    #[test]
    fn over_long_names_are_invalid_rows() {
        let long = "g".repeat(MAX_NAME_BYTES + 1);
        let longest = "g".repeat(MAX_NAME_BYTES);
        let f = compute(
            [
                row(&long, "e", 1.0, 1.0),
                row("g", &long, 1.0, 1.0),
                row(&longest, &longest, 1.0, 1.0),
            ],
            Duration::from_secs(60),
            &[],
            defaults(),
        );
        assert_eq!(f.valid_rows, 1);
        assert_eq!(f.invalid.get("invalid_value"), Some(&2));
    }

    #[test]
    fn empty_or_blank_names_are_invalid_rows() {
        let f = compute(
            [
                row("g", "", 1.0, 1.0),
                row("g", "  \t", 1.0, 1.0),
                row(" ", "e", 1.0, 1.0),
                row("g", "e", 1.0, 1.0),
            ],
            Duration::from_secs(60),
            &[],
            defaults(),
        );
        assert_eq!(f.valid_rows, 1);
        assert_eq!(f.invalid.get("invalid_value"), Some(&3));
        assert_eq!(f.series.len(), 1);
    }

    #[test]
    fn blank_is_any_white_space_and_nothing_else() {
        for name in ["", " ", "\t\n", "\u{b}", "\u{a0}", "\u{3000} \u{2003}"] {
            assert!(blank(name), "{name:?}");
        }
        for name in ["g", " g", "\u{a0}g", "é", "\u{1}", "-", "g "] {
            assert!(!blank(name), "{name:?}");
        }
    }

    #[test]
    fn configured_groups_without_rows_are_missing() {
        let f = compute(
            [row("b", "a", 1.0, 1.0)],
            Duration::from_secs(60),
            &configured(&["c", "a", "b"]),
            defaults(),
        );
        let names: Vec<_> = f.groups.iter().map(|g| (&*g.name, g.missing)).collect();
        assert_eq!(names, [("a", true), ("b", false), ("c", true)]);
        assert_eq!(f.groups[0].throughput, 0.0);
    }

    #[test]
    fn invalid_rows_are_counted_and_the_rest_kept() {
        let f = compute(
            [
                row("g", "a", 10.0, 100.0),
                RawRow::Object {
                    consumer_group: Field::Value("g".into()),
                    event_type: Field::Value("b".into()),
                    event_count: Field::WrongType,
                    processing_latency: Field::Value(1.0),
                },
                RawRow::Object {
                    consumer_group: Field::Value("g".into()),
                    event_type: Field::Value("c".into()),
                    event_count: Field::Value(1.0),
                    processing_latency: Field::Null,
                },
                RawRow::Object {
                    consumer_group: Field::Missing,
                    event_type: Field::Value("d".into()),
                    event_count: Field::Value(1.0),
                    processing_latency: Field::Value(1.0),
                },
                row("g", "e", -1.0, 1.0),
                RawRow::NotObject,
            ],
            Duration::from_secs(60),
            &[],
            defaults(),
        );
        assert_eq!(f.valid_rows, 1);
        assert_eq!(f.series.len(), 1);
        let expected: BTreeMap<&str, u64> = [
            ("wrong_type", 1),
            ("null_field", 1),
            ("missing_field", 1),
            ("invalid_value", 1),
            ("not_object", 1),
        ]
        .into();
        assert_eq!(f.invalid, expected);
    }

    #[test]
    fn numbers_past_any_real_figure_are_invalid() {
        let f = compute(
            [
                row("g", "a", MAX_EVENT_COUNT, MAX_LATENCY_MS),
                row("g", "b", MAX_EVENT_COUNT * 2.0, 1.0),
                row("g", "c", 1.0, MAX_LATENCY_MS * 2.0),
                row("g", "d", -0.0, -0.0),
            ],
            Duration::from_secs(1),
            &[],
            defaults(),
        );
        assert_eq!(f.invalid.get("invalid_value"), Some(&2));
        assert!(f.groups[0].backlog.is_finite());
        assert!(f.series[1].events.is_sign_positive());
    }

    #[test]
    fn repeated_rows_merge_into_one_series() {
        let f = compute(
            [row("g", "a", 100.0, 100.0), row("g", "a", 300.0, 300.0)],
            Duration::from_secs(60),
            &[],
            defaults(),
        );
        assert_eq!(f.series.len(), 1);
        assert_eq!(f.series[0].events, 400.0);
        assert_eq!(f.series[0].latency_seconds, 0.25);
    }

    #[test]
    fn rows_in_any_order_merge_and_come_out_sorted() {
        let f = compute(
            [
                row("h", "b", 1.0, 10.0),
                row("g", "b", 100.0, 100.0),
                row("h", "a", 2.0, 20.0),
                row("g", "a", 1.0, 1.0),
                row("g", "b", 300.0, 300.0),
                row("h", "b", 3.0, 30.0),
            ],
            Duration::from_secs(60),
            &[],
            defaults(),
        );
        let series: Vec<_> = f
            .series
            .iter()
            .map(|s| (&*s.consumer_group, &*s.event_type, s.events))
            .collect();
        assert_eq!(
            series,
            [
                ("g", "a", 1.0),
                ("g", "b", 400.0),
                ("h", "a", 2.0),
                ("h", "b", 4.0)
            ]
        );
        assert_eq!(f.series[1].latency_seconds, 0.25);
        assert_eq!(
            f.series[3].latency_seconds,
            (10.0 + 3.0 * 30.0) / 4.0 / 1000.0
        );
        assert_eq!(f.valid_rows, 6);
        let groups: Vec<_> = f.groups.iter().map(|g| &*g.name).collect();
        assert_eq!(groups, ["g", "h"]);
    }

    #[test]
    fn no_events_gives_no_nan() {
        let f = compute(
            [row("g", "a", 0.0, 100.0), row("g", "b", 0.0, 300.0)],
            Duration::from_secs(60),
            &[],
            defaults(),
        );
        assert_eq!(f.groups[0].mean_latency_seconds, 0.2);
        assert_eq!(f.groups[0].backlog, 0.0);
    }

    /// Any rows in, no panic: every row is either counted in the figures or
    /// counted by reason, no figure is NaN or infinite, every series and
    /// group is exported once, and every configured group is there.
    mod properties {
        use super::super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        /// Few names, so that rows collide and merge.
        const NAMES: [&str; 5] = ["a", "b", "", "g\"\\\n", "é"];

        fn text() -> impl Strategy<Value = Field<Arc<str>>> {
            prop_oneof![
                1 => Just(Field::Missing),
                1 => Just(Field::Null),
                1 => Just(Field::WrongType),
                4 => prop::sample::select(NAMES.to_vec()).prop_map(|s| Field::Value(s.into())),
            ]
        }

        fn number() -> impl Strategy<Value = Field<f64>> {
            prop_oneof![
                1 => Just(Field::Missing),
                1 => Just(Field::Null),
                1 => Just(Field::WrongType),
                3 => any::<f64>().prop_map(Field::Value),
                3 => prop::sample::select(vec![
                    0.0, -0.0, 1.0, 240.0, 1e15, 1e300, f64::MAX, f64::MIN_POSITIVE,
                    5e-324, -1.0, f64::INFINITY, f64::NAN,
                ])
                .prop_map(Field::Value),
            ]
        }

        fn raw_row() -> impl Strategy<Value = RawRow> {
            prop_oneof![
                1 => Just(RawRow::NotObject),
                9 => (text(), text(), number(), number()).prop_map(|(g, t, c, l)| RawRow::Object {
                    consumer_group: g,
                    event_type: t,
                    event_count: c,
                    processing_latency: l,
                }),
            ]
        }

        fn configured() -> impl Strategy<Value = Vec<GroupSpec>> {
            prop::collection::btree_set(prop::sample::select(NAMES.to_vec()), 0..4).prop_map(
                |names| {
                    names
                        .into_iter()
                        .filter(|n| !n.is_empty())
                        .map(|n| GroupSpec {
                            name: n.to_string(),
                            thresholds: Thresholds {
                                max_lag: Duration::from_secs(30),
                                max_processing_latency: Duration::from_millis(500),
                            },
                        })
                        .collect()
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_rows_give_figures_or_counted_reasons(
                rows in prop::collection::vec(raw_row(), 0..40),
                window in 1u64..=7 * 86_400,
                configured in configured(),
            ) {
                let n = rows.len() as u64;
                let f = compute(rows, Duration::from_secs(window), &configured, super::defaults());
                prop_assert_eq!(f.valid_rows as u64 + f.invalid.values().sum::<u64>(), n);

                let finite = |x: f64| x.is_finite() && x.is_sign_positive();
                for s in &f.series {
                    prop_assert!(finite(s.events) && finite(s.latency_seconds), "{:?}", s);
                }
                for g in &f.groups {
                    prop_assert!(
                        [g.events, g.lag_seconds, g.mean_latency_seconds, g.throughput, g.backlog]
                            .into_iter()
                            .all(finite),
                        "{:?}",
                        g
                    );
                }
                // Sorted and unique: each series and each group exported once.
                let series_sorted = f.series.windows(2).all(|w| {
                    (&w[0].consumer_group, &w[0].event_type)
                        < (&w[1].consumer_group, &w[1].event_type)
                });
                prop_assert!(series_sorted);
                prop_assert!(f.groups.windows(2).all(|w| w[0].name < w[1].name));
                let with_rows: BTreeSet<&str> =
                    f.series.iter().map(|s| &*s.consumer_group).collect();
                for g in &f.groups {
                    prop_assert_eq!(g.missing, !with_rows.contains(&*g.name));
                }
                for c in &configured {
                    prop_assert!(f.groups.iter().any(|g| *g.name == c.name));
                }
                prop_assert_eq!(f.groups.len(), {
                    let mut names = with_rows.clone();
                    names.extend(configured.iter().map(|c| c.name.as_str()));
                    names.len()
                });
            }
        }
    }
}
