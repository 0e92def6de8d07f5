//! Where result rows come from: fixed rows given by a test, or the demo
//! generator whose numbers move with the requested window.

use std::borrow::Cow;
use std::f64::consts::TAU;

use serde_json::{Value, json};

/// The rows a query answers with, before filtering and paging.
#[derive(Clone, Debug, PartialEq)]
pub enum RowSource {
    /// Generated rows for demo mode; see [`demo_rows`].
    Demo,
    /// These rows, returned as they are: they may be deliberately invalid.
    Fixed(Vec<Value>),
}

impl RowSource {
    /// The rows for the window `[from_ms, to_ms]` (Unix milliseconds).
    /// Fixed rows are lent, not copied: a page of a large result clones only
    /// its own rows.
    pub(crate) fn rows(&self, from_ms: i64, to_ms: i64) -> Cow<'_, [Value]> {
        match self {
            RowSource::Demo => Cow::Owned(demo_rows(from_ms, to_ms)),
            RowSource::Fixed(rows) => Cow::Borrowed(rows),
        }
    }
}

/// Keeps the rows whose `consumerGroup` is one of `groups`. Rows without a
/// string `consumerGroup` are kept, so invalid rows reach the client even
/// when it filters.
pub(crate) fn filter_rows<'a>(
    rows: Cow<'a, [Value]>,
    groups: Option<&[String]>,
) -> Cow<'a, [Value]> {
    let Some(groups) = groups else {
        return rows;
    };
    rows.iter()
        .filter(
            |row| match row.get("consumerGroup").and_then(Value::as_str) {
                Some(group) => groups.iter().any(|g| g == group),
                None => true,
            },
        )
        .cloned()
        .collect::<Vec<_>>()
        .into()
}

pub const DEMO_PRIMARY: &str = "eventbridge-consumer-primary";
pub const DEMO_SECONDARY: &str = "eventbridge-consumer-secondary";
/// Configured in demo mode but never answered for: it must show as missing.
pub const DEMO_AUDIT: &str = "eventbridge-consumer-audit";

/// One demo series: its mean rate and the band its latency moves in.
struct Series {
    group: &'static str,
    event_type: &'static str,
    /// Mean events per second.
    rate: f64,
    /// Latency centre and the amplitudes of its slow and fast swings (ms).
    latency: (f64, f64, f64),
    /// Hard bounds the latency is kept within (ms).
    bounds: (f64, f64),
}

const SERIES: [Series; 5] = [
    Series {
        group: DEMO_PRIMARY,
        event_type: "conversation:created",
        rate: 0.62,
        latency: (300.0, 100.0, 35.0),
        bounds: (150.0, 450.0),
    },
    Series {
        group: DEMO_PRIMARY,
        event_type: "conversation:ended",
        rate: 0.58,
        latency: (280.0, 90.0, 30.0),
        bounds: (150.0, 450.0),
    },
    Series {
        group: DEMO_PRIMARY,
        event_type: "routing:queue:member:added",
        rate: 0.27,
        latency: (320.0, 80.0, 30.0),
        bounds: (150.0, 450.0),
    },
    // The lagging group: its worst event type stays far above 30 s.
    Series {
        group: DEMO_SECONDARY,
        event_type: "routing:queue:member:added",
        rate: 0.24,
        latency: (47_500.0, 9_000.0, 2_500.0),
        bounds: (35_000.0, 60_000.0),
    },
    Series {
        group: DEMO_SECONDARY,
        event_type: "conversation:created",
        rate: 0.11,
        latency: (12_000.0, 4_000.0, 1_000.0),
        bounds: (5_000.0, 20_000.0),
    },
];

/// Demo rows for the window `[from_ms, to_ms]`. Values are a function of the
/// window alone (slow sines of its end time plus a little hashed jitter), so
/// they move with the clock yet every page of one query sees the same rows.
/// Counts are events in the window: rate × window length, so that
/// count / window is steady whatever window the client asks for.
pub fn demo_rows(from_ms: i64, to_ms: i64) -> Vec<Value> {
    let window_secs = (to_ms.saturating_sub(from_ms)).max(0) as f64 / 1000.0;
    let t = to_ms as f64 / 1000.0;
    SERIES
        .iter()
        .map(|s| {
            let key = hash(s.group) ^ hash(s.event_type).rotate_left(17);
            let phase = |salt: u64| (mix(key ^ salt) % 10_000) as f64 / 10_000.0 * TAU;
            // Second-granular jitter in [-1, 1], stable within one second.
            let jitter = |salt: u64| {
                (mix(key ^ salt ^ (t.floor() as i64 as u64)) % 2001) as f64 / 1000.0 - 1.0
            };

            let swing = 1.0
                + 0.3 * (TAU * t / 420.0 + phase(1)).sin()
                + 0.08 * (TAU * t / 97.0 + phase(2)).sin()
                + 0.02 * jitter(3);
            let count = (s.rate * swing * window_secs).round().max(0.0) as u64;

            let (centre, slow, fast) = s.latency;
            let latency = centre
                + slow * (TAU * t / 300.0 + phase(4)).sin()
                + fast * (TAU * t / 53.0 + phase(5)).sin()
                + 0.02 * centre * jitter(6);
            let latency = latency.clamp(s.bounds.0, s.bounds.1).round() as u64;

            json!({
                "consumerGroup": s.group,
                "eventType": s.event_type,
                "eventCount": count,
                "processingLatency": latency,
            })
        })
        .collect()
}

/// Event types of [`org_rows`], as Genesys Cloud names its topics.
const ORG_EVENT_TYPES: [&str; 20] = [
    "conversation:created",
    "conversation:ended",
    "conversation:transferred",
    "conversation:wrapup",
    "routing:queue:member:added",
    "routing:queue:member:removed",
    "routing:queue:updated",
    "user:presence:changed",
    "user:routing:status:changed",
    "user:station:changed",
    "analytics:conversation:metrics",
    "analytics:flow:metrics",
    "architect:flow:published",
    "callback:scheduled",
    "email:received",
    "message:received",
    "outbound:campaign:progress",
    "quality:evaluation:released",
    "recording:available",
    "workforce:schedule:published",
];

/// Rows of a large organisation: `groups` consumer groups times `event_types`
/// event types (at most 20 distinct names, then numbered ones), with counts and
/// latencies spread deterministically. For load and size tests.
pub fn org_rows(groups: usize, event_types: usize) -> Vec<Value> {
    let mut rows = Vec::with_capacity(groups.saturating_mul(event_types));
    for g in 0..groups {
        let group = format!("eventbridge-consumer-{g:05}");
        for e in 0..event_types {
            let event_type = match ORG_EVENT_TYPES.get(e) {
                Some(name) => (*name).to_string(),
                None => format!("custom:event:{e}"),
            };
            let key = mix(((g as u64) << 20) ^ e as u64);
            rows.push(json!({
                "consumerGroup": group,
                "eventType": event_type,
                "eventCount": key % 50_000,
                "processingLatency": (key >> 20) % 60_000,
            }));
        }
    }
    rows
}

/// FNV-1a: a fixed hash, so the demo looks the same on every run.
pub(crate) fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64 finaliser: spreads nearby inputs over the whole range.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(row: &Value, name: &str) -> f64 {
        row[name].as_f64().unwrap()
    }

    #[test]
    fn demo_shows_every_state_at_any_time() {
        let hour = 3_600_000;
        for step in 0..2_000_i64 {
            let to = 1_700_000_000_000 + step * 7_919;
            let rows = demo_rows(to - hour, to);
            let mut secondary_worst = 0.0_f64;
            for row in &rows {
                let group = row["consumerGroup"].as_str().unwrap();
                let latency = field(row, "processingLatency");
                let count = field(row, "eventCount");
                assert_ne!(group, DEMO_AUDIT);
                if group == DEMO_PRIMARY {
                    assert!((150.0..=450.0).contains(&latency), "{latency}");
                    assert!((100.0..=5_000.0).contains(&count), "{count}");
                } else {
                    assert_eq!(group, DEMO_SECONDARY);
                    secondary_worst = secondary_worst.max(latency);
                }
            }
            assert!((35_000.0..=60_000.0).contains(&secondary_worst));
        }
    }

    #[test]
    fn counts_scale_with_the_window() {
        let to = 1_700_000_123_000;
        let hour = demo_rows(to - 3_600_000, to);
        let five = demo_rows(to - 300_000, to);
        for (h, f) in hour.iter().zip(&five) {
            let ratio = field(h, "eventCount") / field(f, "eventCount");
            assert!((ratio - 12.0).abs() < 0.5, "{ratio}");
        }
    }

    #[test]
    fn org_rows_are_one_per_group_and_event_type() {
        let rows = org_rows(3, 22);
        assert_eq!(rows.len(), 66);
        let mut keys: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                assert!(r["eventCount"].is_u64() && r["processingLatency"].is_u64());
                (
                    r["consumerGroup"].as_str().unwrap().to_owned(),
                    r["eventType"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 66, "no repeated group and event type");
        assert_eq!(org_rows(3, 22), rows, "deterministic");
    }

    #[test]
    fn filtering_keeps_invalid_rows() {
        let rows = vec![
            json!({"consumerGroup": "a"}),
            json!({"consumerGroup": "b"}),
            json!({"eventType": "x"}),
            json!(7),
        ];
        let kept = filter_rows(rows.into(), Some(&["a".to_string()]));
        assert_eq!(kept.len(), 3);
    }
}
