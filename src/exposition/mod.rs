//! The exposition, framing only: content negotiation (OpenMetrics 1.0 or
//! Prometheus text 0.0.4, gzip or not), the parts a response is made of and
//! how long each is kept, and the gzip stream they are spliced into. What the
//! series say belongs to their owners: the collectors, the Genesys client,
//! the server's own.
//!
//! An organisation's answer is three parts, each encoded only as often as it
//! changes: the series that depend on its owners' state, encoded once per
//! change and format; those that move with the clock (data age, cooldown),
//! encoded per scrape; and the series of the data served, encoded once per
//! snapshot and format. A cached part is sent as it is (a reference-counted
//! `Bytes`), never copied.

pub mod family;
pub mod fast;
pub mod gzip;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use prometheus_client::collector::Collector;

use crate::clock::Clock;
pub use family::{Kind, Metric, Scope, encode, encode_all};
pub use fast::MAX_NAME_BYTES;
pub use gzip::{Body, Deflated, Encoded, kept};

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

    pub fn slot(self) -> usize {
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
        for (media, q) in weighted(accept) {
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

/// The items of an `Accept` or `Accept-Encoding` header, lowercased, each
/// with its q-value (1 when it gives none).
fn weighted(header: &str) -> impl Iterator<Item = (String, f64)> + '_ {
    header.split(',').map(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .find_map(|q| q.parse::<f64>().ok())
            .unwrap_or(1.0);
        (name, q)
    })
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
        for (name, q) in weighted(header) {
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

/// A part kept encoded per format while what it was made from is the same.
#[derive(Debug)]
pub struct Kept<K> {
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
    pub fn get(&self, format: Format, key: K, make: impl FnOnce() -> String) -> Arc<Encoded> {
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

/// What one owner of an organisation's series (a collector, the Genesys
/// client) adds to its answer. Each part is optional.
pub trait Series: Send + Sync {
    /// Bumped by every change of what [`Series::state`] encodes.
    fn generation(&self) -> u64 {
        0
    }

    /// Its series that change only with its state: kept encoded while the
    /// generations of an organisation's owners hold.
    fn state(&self) -> Option<Box<dyn Collector>> {
        None
    }

    /// Its series that move with the clock, encoded per scrape.
    fn moving(&self, _clock: Clock) -> Option<Box<dyn Collector>> {
        None
    }

    /// Its series of the data it serves, encoded once per snapshot and format.
    fn snapshot(&self, _format: Format) -> Option<Arc<Encoded>> {
        None
    }
}

/// The state part of one organisation, kept encoded per format until one of
/// its owners' state changes.
#[derive(Debug, Default)]
pub struct StatePart(Kept<u64>);

/// One organisation's series, as parts sent in order: its owners' state,
/// what moves with the clock, and each owner's data served.
pub fn render_org(
    format: Format,
    kept: &StatePart,
    owners: &[&dyn Series],
    clock: Clock,
    body: &mut Body,
) {
    // A change after a generation was read only makes the next scrape
    // encode again.
    let generation = owners.iter().map(|s| s.generation()).sum();
    let state = kept.0.get(format, generation, || {
        encode_all(format, owners.iter().filter_map(|s| s.state()).collect())
    });
    body.cached(&state);
    body.moving(encode_all(
        format,
        owners.iter().filter_map(|s| s.moving(clock)).collect(),
    ));
    for owner in owners {
        if let Some(part) = owner.snapshot(format) {
            body.cached(&part);
        }
    }
}

/// Ends a body: OpenMetrics closes with `# EOF`.
pub fn finish(format: Format, body: &mut Body) {
    static EOF: OnceLock<Encoded> = OnceLock::new();
    if format == Format::OpenMetrics {
        body.cached(EOF.get_or_init(|| Encoded::new(Bytes::from_static(b"# EOF\n"))));
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
    use crate::exposition::family::{counter, gauge};
    use crate::exposition::gzip::GZIP_HEADER;
    use crate::exposition::gzip::tests::{assert_one_stream, gunzip};
    use prometheus_client::encoding::DescriptorEncoder;
    use std::fmt;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[allow(dead_code)]
    mod declared {
        crate::families! {
        COUNT = "x_total", Counter, [], Query, "A count.";
        AGE = "x_age_seconds", Gauge, [], Query, "An age.";
        DATA = "x_data", Gauge, [], Group, "Data.";
        }
    }
    use declared::{AGE, COUNT, DATA};

    /// An owner of series with a counter for state, an age that moves with
    /// the clock and a snapshot part kept per format.
    #[derive(Default)]
    struct Owner {
        count: AtomicU64,
        age: AtomicU64,
        parts: [OnceLock<Arc<Encoded>>; 2],
    }

    #[derive(Debug)]
    struct Count(u64);
    impl Collector for Count {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            counter(&mut e, &COUNT, self.0)
        }
    }
    #[derive(Debug)]
    struct Age(u64);
    impl Collector for Age {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauge(&mut e, &AGE, self.0 as f64)
        }
    }
    #[derive(Debug)]
    struct Data;
    impl Collector for Data {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauge(&mut e, &DATA, 3.0)
        }
    }

    impl Series for Owner {
        fn generation(&self) -> u64 {
            self.count.load(Ordering::SeqCst)
        }
        fn state(&self) -> Option<Box<dyn Collector>> {
            Some(Box::new(Count(self.count.load(Ordering::SeqCst))))
        }
        fn moving(&self, _clock: Clock) -> Option<Box<dyn Collector>> {
            Some(Box::new(Age(self.age.load(Ordering::SeqCst))))
        }
        fn snapshot(&self, format: Format) -> Option<Arc<Encoded>> {
            let part = self.parts[format.slot()]
                .get_or_init(|| Arc::new(Encoded::text(encode(format, Data).repeat(50))));
            Some(part.clone())
        }
    }

    /// Scrapes of one owner, as many as a test makes, by format, encoding
    /// and age: the parts they share live as long as it does.
    fn scrapes() -> (Arc<Owner>, impl Fn(Format, Encoding, u64) -> Vec<Bytes>) {
        let owner = Arc::new(Owner::default());
        let kept = StatePart::default();
        let o = owner.clone();
        (owner, move |format, encoding, age| {
            o.age.store(age, Ordering::SeqCst);
            let mut body = Body::new(encoding);
            render_org(format, &kept, &[&*o], Clock::System, &mut body);
            finish(format, &mut body);
            body.into_chunks()
        })
    }

    #[test]
    fn cached_parts_are_sent_as_they_are_and_the_clock_part_is_fresh() {
        let (_, rendered) = scrapes();
        for format in [Format::OpenMetrics, Format::Text] {
            let first = rendered(format, Encoding::Identity, 1);
            let second = rendered(format, Encoding::Identity, 2);
            // The same buffers, not copies and not new encodings.
            assert_eq!(first[0].as_ptr(), second[0].as_ptr(), "{format:?}");
            assert_eq!(first[2].as_ptr(), second[2].as_ptr(), "{format:?}");
            assert!(to_string(&first).contains("x_age_seconds 1"));
            assert!(to_string(&second).contains("x_age_seconds 2"));
            assert!(to_string(&second).contains("x_data 3"));
            assert_eq!(
                to_string(&second).ends_with("# EOF\n"),
                format == Format::OpenMetrics
            );
        }
    }

    #[test]
    fn gzip_bodies_decode_to_the_plain_body_and_cached_parts_are_compressed_once() {
        let (_, rendered) = scrapes();
        for format in [Format::OpenMetrics, Format::Text] {
            let plain = rendered(format, Encoding::Identity, 1);
            let first = rendered(format, Encoding::Gzip, 1);
            let second = rendered(format, Encoding::Gzip, 2);
            assert_eq!(gunzip(&first), to_string(&plain), "{format:?}");
            assert_one_stream(&first, to_string(&plain).as_bytes());
            assert!(gunzip(&second).contains("x_age_seconds 2"));
            // One stream: the header, then the state part and the data
            // part as the very same buffers in every scrape.
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
                "{format:?}: the data part compresses"
            );
        }
    }

    #[test]
    fn the_state_part_follows_every_change_of_an_owner() {
        let (owner, rendered) = scrapes();
        let before = to_string(&rendered(Format::Text, Encoding::Identity, 0));
        assert!(before.contains("x_total 0\n"), "{before}");
        owner.count.fetch_add(1, Ordering::SeqCst);
        let after = to_string(&rendered(Format::Text, Encoding::Identity, 0));
        assert!(after.contains("x_total 1\n"), "{after}");
    }

    #[test]
    fn owners_are_written_in_order() {
        let (a, b) = (Owner::default(), Owner::default());
        b.count.store(7, Ordering::SeqCst);
        let mut body = Body::new(Encoding::Identity);
        render_org(
            Format::Text,
            &StatePart::default(),
            &[&a, &b],
            Clock::System,
            &mut body,
        );
        let text = to_string(&body.into_chunks());
        let zero = text.find("x_total 0").unwrap();
        let seven = text.find("x_total 7").unwrap();
        assert!(zero < seven, "{text}");
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
}
