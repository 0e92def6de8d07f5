//! Decoding a page of the analytics response. Rows are read leniently: a row
//! with a missing or mistyped field still decodes, so that the model can skip
//! and count it while the rest of the page counts.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

use super::model::MAX_NAME_BYTES;
pub use super::model::{Field, RawRow};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Rows one page may hold. The API pages at most 1000 rows; a page of many
/// more is not one, and decoding it costs far more memory than its bytes: a
/// two-byte row such as `1,` takes 80 bytes decoded, so a body under the
/// 16 MiB cap could otherwise grow to hundreds of MiB.
pub const MAX_PAGE_ROWS: usize = 10_000;

/// One page of the response. Only a JSON object is a page: serde's derived
/// decoding would also take an array for a struct, field by field, so that a
/// body of `[]` read as a page with no rows.
#[derive(Debug)]
pub struct Page {
    pub page_token: Option<String>,
    pub next_page: Option<String>,
    /// Genesys leaves out empty arrays, so a page without `rows`, or with
    /// `rows: null` (as `pageToken` and `nextPage` may be), has none.
    pub rows: Vec<RawRow>,
}

impl<'de> Deserialize<'de> for Page {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PageVisitor)
    }
}

struct PageVisitor;

impl<'de> Visitor<'de> for PageVisitor {
    type Value = Page;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a page (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let mut page_token: Option<Option<String>> = None;
        let mut next_page: Option<Option<String>> = None;
        let mut rows: Option<BoundedRows> = None;
        while let Some(key) = map.next_key::<PageKey>()? {
            match key {
                PageKey::PageToken if page_token.is_some() => {
                    return Err(de::Error::duplicate_field("pageToken"));
                }
                PageKey::PageToken => page_token = Some(map.next_value()?),
                PageKey::NextPage if next_page.is_some() => {
                    return Err(de::Error::duplicate_field("nextPage"));
                }
                PageKey::NextPage => next_page = Some(map.next_value()?),
                PageKey::Rows if rows.is_some() => {
                    return Err(de::Error::duplicate_field("rows"));
                }
                PageKey::Rows => rows = Some(map.next_value()?),
                PageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Page {
            page_token: page_token.flatten(),
            next_page: next_page.flatten(),
            rows: rows.map(|r| r.0).unwrap_or_default(),
        })
    }
}

enum PageKey {
    PageToken,
    NextPage,
    Rows,
    Other,
}

impl<'de> Deserialize<'de> for PageKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = PageKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PageKey, E> {
                Ok(match v {
                    "pageToken" => PageKey::PageToken,
                    "nextPage" => PageKey::NextPage,
                    "rows" => PageKey::Rows,
                    _ => PageKey::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// `rows`: an array of at most [`MAX_PAGE_ROWS`] rows, or null. Counted while
/// decoding, so that an oversized page is refused before it is held.
struct BoundedRows(Vec<RawRow>);

impl<'de> Deserialize<'de> for BoundedRows {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RowsVisitor;
        impl<'de> Visitor<'de> for RowsVisitor {
            type Value = BoundedRows;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of rows")
            }

            fn visit_unit<E>(self) -> Result<BoundedRows, E> {
                Ok(BoundedRows(Vec::new()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BoundedRows, A::Error> {
                let mut rows = Vec::new();
                let mut names = Names::shared();
                while let Some(row) = seq.next_element_seed(RowSeed(&mut names))? {
                    if rows.len() == MAX_PAGE_ROWS {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_PAGE_ROWS} rows in one page"
                        )));
                    }
                    rows.push(row);
                }
                Ok(BoundedRows(rows))
            }
        }
        d.deserialize_any(RowsVisitor)
    }
}

/// A row on its own: its names are not shared with other rows.
impl<'de> Deserialize<'de> for RawRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RowSeed(&mut Names::unshared()).deserialize(d)
    }
}

/// A row of a page, its names taken from the page's [`Names`].
struct RowSeed<'a>(&'a mut Names);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = RawRow;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawRow, D::Error> {
        d.deserialize_any(RowVisitor(self.0))
    }
}

struct RowVisitor<'a>(&'a mut Names);

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = RawRow;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRow, A::Error> {
        let names = self.0;
        let mut consumer_group = Field::Missing;
        let mut event_type = Field::Missing;
        let mut event_count = Field::Missing;
        let mut processing_latency = Field::Missing;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::ConsumerGroup => consumer_group = map.next_value_seed(NameSeed(names))?,
                Key::EventType => event_type = map.next_value_seed(NameSeed(names))?,
                Key::EventCount => {
                    event_count = map.next_value::<Lenient<Number>>()?.0.map(|n| n.0)
                }
                Key::ProcessingLatency => {
                    processing_latency = map.next_value::<Lenient<Number>>()?.0.map(|n| n.0)
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawRow::Object {
            consumer_group,
            event_type,
            event_count,
            processing_latency,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawRow, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawRow::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<RawRow, E> {
        Ok(RawRow::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<RawRow, E> {
        Ok(RawRow::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<RawRow, E> {
        Ok(RawRow::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<RawRow, E> {
        Ok(RawRow::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<RawRow, E> {
        Ok(RawRow::NotObject)
    }
    fn visit_unit<E>(self) -> Result<RawRow, E> {
        Ok(RawRow::NotObject)
    }
}

enum Key {
    ConsumerGroup,
    EventType,
    EventCount,
    ProcessingLatency,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "consumerGroup" => Key::ConsumerGroup,
                    "eventType" => Key::EventType,
                    "eventCount" => Key::EventCount,
                    "processingLatency" => Key::ProcessingLatency,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// Any JSON value, sorted into value, null or wrong type for `T`.
struct Lenient<T>(Field<T>);

/// Marker target for [`Lenient`].
struct Number(f64);

macro_rules! wrong_type {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(Lenient(Field::WrongType))
        }
    )*};
}

macro_rules! skip_compound {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Lenient(Field::WrongType))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Lenient(Field::WrongType))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Lenient(Field::Null))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Lenient(Field::Null))
        }
    };
}

/// The names of one page's rows, each distinct name decoded once and then
/// shared: a page repeats a few names over its rows. A small cache of
/// recently seen names, two per slot, rather than a map of every name: a
/// page of distinct names (or of names chosen to collide) costs what it
/// would without it, one copy a name, and the cache stays the same size.
struct Names {
    slots: Vec<[Option<Arc<str>>; 2]>,
}

impl Names {
    /// Slots of the cache: few enough to set up cheaply for every page,
    /// many enough that a page's names seldom evict each other.
    const SLOTS: usize = 256;

    fn shared() -> Names {
        Names {
            slots: vec![[None, None]; Names::SLOTS],
        }
    }

    /// Every name its own copy.
    fn unshared() -> Names {
        Names { slots: Vec::new() }
    }

    /// The string whose JSON text (quotes included) is `raw`, shared when it
    /// is in the cache or goes into it; `None` when it cannot be decoded.
    fn decode(&mut self, raw: &str) -> Option<Arc<str>> {
        let text = &raw[1..raw.len() - 1];
        // Over-long names are invalid rows, not worth a place.
        let slot = (!self.slots.is_empty() && text.len() <= MAX_NAME_BYTES).then(|| slot_of(text));
        // Only names written without escapes are cached, as they stand: a
        // name that matches one has none either, and is not searched.
        if let Some(slot) = slot.map(|i| &mut self.slots[i]) {
            if let Some(name) = slot[0].as_ref().filter(|n| &***n == text) {
                return Some(name.clone());
            }
            if slot[1].as_deref() == Some(text) {
                slot.swap(0, 1);
                return slot[0].clone();
            }
        }
        if text.contains('\\') {
            return serde_json::from_str::<String>(raw).ok().map(Arc::from);
        }
        let name: Arc<str> = text.into();
        if let Some(slot) = slot.map(|i| &mut self.slots[i]) {
            // The older of the two makes room.
            slot[1] = slot[0].replace(name.clone());
        }
        Some(name)
    }
}

/// A name's slot in [`Names`], from its length and its first and last eight
/// bytes: names that differ only in between share a slot, which costs at
/// worst a copy, while hashing every byte of every name cost more than the
/// copies it saves.
fn slot_of(text: &str) -> usize {
    let bytes = text.as_bytes();
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let (head, tail) = if bytes.len() >= 8 {
        (word(0), word(bytes.len() - 8))
    } else {
        let mut short = [0; 8];
        short[..bytes.len()].copy_from_slice(bytes);
        (u64::from_le_bytes(short), 0)
    };
    let h = (head ^ tail.rotate_left(29) ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - Names::SLOTS.trailing_zeros())) as usize
}

/// A name field, kept as the raw JSON text first: a string that cannot be
/// decoded (an unpaired surrogate escape such as `"\ud800"`, valid JSON
/// grammar) would otherwise fail the whole page, where it only makes its
/// row invalid. Unescaped text, nearly every name, is taken as it stands.
struct NameSeed<'a>(&'a mut Names);

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = Field<Arc<str>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let raw = <&'de serde_json::value::RawValue>::deserialize(d)?.get();
        Ok(match raw.as_bytes().first() {
            Some(b'"') => self.0.decode(raw).map_or(Field::Undecodable, Field::Value),
            Some(b'n') => Field::Null,
            _ => Field::WrongType,
        })
    }
}

impl<'de> Deserialize<'de> for Lenient<Number> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<Number>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Lenient(Field::Value(Number(v as f64))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Lenient(Field::Value(Number(v as f64))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Lenient(Field::Value(Number(v))))
            }
            wrong_type!(visit_bool: bool, visit_str: &str);
            skip_compound!();
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_tutorial_response() {
        let page: Page = serde_json::from_str(
            r#"{"totalCount":2,"pageSize":20,"pageToken":null,"nextPage":null,
            "rows":[{"consumerGroup":"p","eventType":"conversation:created","eventCount":1450,"processingLatency":240}]}"#,
        )
        .unwrap();
        assert_eq!(page.page_token, None);
        assert_eq!(
            page.rows[0],
            RawRow::Object {
                consumer_group: Field::Value("p".into()),
                event_type: Field::Value("conversation:created".into()),
                event_count: Field::Value(1450.0),
                processing_latency: Field::Value(240.0),
            }
        );
    }

    #[test]
    fn bad_rows_still_decode() {
        let page: Page = serde_json::from_str(
            r#"{"rows":[{"eventType":"x","eventCount":"12","processingLatency":null,"extra":{"a":[1]}}, 5, [1,2]]}"#,
        )
        .unwrap();
        assert_eq!(
            page.rows[0],
            RawRow::Object {
                consumer_group: Field::Missing,
                event_type: Field::Value("x".into()),
                event_count: Field::WrongType,
                processing_latency: Field::Null,
            }
        );
        assert_eq!(page.rows[1], RawRow::NotObject);
        assert_eq!(page.rows[2], RawRow::NotObject);
    }

    #[test]
    fn an_undecodable_string_spoils_its_row_not_the_page() {
        let body = br#"{"rows":[
            {"consumerGroup":"a","eventType":"x","eventCount":1,"processingLatency":2},
            {"consumerGroup":"b\ud800","eventType":"x","eventCount":1,"processingLatency":2},
            {"consumerGroup":"c","eventType":"\ud800\u0041","eventCount":1,"processingLatency":2},
            {"consumerGroup":"d\u00e9\"q","eventType":"x","eventCount":1,"processingLatency":2,"other":"\udfff"}
        ]}"#;
        let page: Page = serde_json::from_slice(body).unwrap();
        let groups: Vec<_> = page
            .rows
            .iter()
            .map(|r| match r {
                RawRow::Object { consumer_group, .. } => consumer_group.clone(),
                RawRow::NotObject => Field::Missing,
            })
            .collect();
        assert_eq!(
            groups,
            [
                Field::Value("a".into()),
                Field::Undecodable,
                Field::Value("c".into()),
                Field::Value("d\u{e9}\"q".into()),
            ]
        );
        assert!(matches!(
            &page.rows[2],
            RawRow::Object {
                event_type: Field::Undecodable,
                ..
            }
        ));
    }

    type Name = Field<Arc<str>>;

    /// Each row's group and event type.
    fn names(page: &Page) -> Vec<(Name, Name)> {
        page.rows
            .iter()
            .map(|r| match r {
                RawRow::Object {
                    consumer_group,
                    event_type,
                    ..
                } => (consumer_group.clone(), event_type.clone()),
                RawRow::NotObject => (Field::Missing, Field::Missing),
            })
            .collect()
    }

    fn value(text: &str) -> Name {
        Field::Value(text.into())
    }

    #[test]
    fn escaped_and_plain_names_decode_to_the_same_name() {
        let body = r#"{"rows":[
            {"consumerGroup":"g-\u00e9","eventType":"a\/b"},
            {"consumerGroup":"g-\u00e9","eventType":"a/b"},
            {"consumerGroup":"g-\u00c3\u00a9","eventType":"\"q\"\\\n"},
            {"consumerGroup":"g-é","eventType":"a\u002fb"}
        ]}"#;
        let page: Page = serde_json::from_str(body).unwrap();
        assert_eq!(
            names(&page),
            [
                (value("g-é"), value("a/b")),
                (value("g-é"), value("a/b")),
                (value("g-\u{c3}\u{a9}"), value("\"q\"\\\n")),
                (value("g-é"), value("a/b")),
            ]
        );
    }

    #[test]
    fn a_pages_rows_share_each_name() {
        let row = |g: &str, t: &str| {
            format!(
                r#"{{"consumerGroup":"{g}","eventType":"{t}","eventCount":1,"processingLatency":1}}"#
            )
        };
        let rows: Vec<String> = (0..3)
            .flat_map(|g| ["created", "ended"].map(move |t| row(&format!("group-{g}"), t)))
            .collect();
        let page: Page =
            serde_json::from_str(&format!(r#"{{"rows":[{}]}}"#, rows.join(","))).unwrap();
        let name = |f: &Name| match f {
            Field::Value(name) => name.clone(),
            other => panic!("{other:?}"),
        };
        let names: Vec<_> = names(&page)
            .iter()
            .map(|(g, t)| (name(g), name(t)))
            .collect();
        for (i, (group, event_type)) in names.iter().enumerate() {
            assert_eq!(**group, format!("group-{}", i / 2));
            assert_eq!(&**event_type, ["created", "ended"][i % 2]);
            // Decoded once: the same allocation as the name's first row.
            assert!(Arc::ptr_eq(group, &names[i / 2 * 2].0));
            assert!(Arc::ptr_eq(event_type, &names[i % 2].1));
        }
    }

    /// Names that fill and overflow the cache, or that look alike to it
    /// (same length, start and end), each still decode to themselves.
    #[test]
    fn names_the_cache_cannot_tell_apart_or_hold_decode_as_they_are() {
        let names_in: Vec<String> = (0..3 * Names::SLOTS)
            .map(|i| format!("consumer-{i:06}-x-prod"))
            .chain(
                (0..40).map(|i| format!("consumer-group-{}-production", (b'a' + i % 26) as char)),
            )
            .chain([
                "l".repeat(MAX_NAME_BYTES + 1),
                "l".repeat(MAX_NAME_BYTES),
                "short".into(),
                String::new(),
            ])
            .collect();
        // Each name three times, interleaved, so that slots are revisited.
        let order: Vec<&String> = names_in
            .iter()
            .chain(&names_in)
            .chain(names_in.iter().rev())
            .collect();
        let rows: Vec<String> = order
            .iter()
            .map(|n| format!(r#"{{"consumerGroup":"{n}","eventType":"{n}"}}"#))
            .collect();
        let page: Page =
            serde_json::from_str(&format!(r#"{{"rows":[{}]}}"#, rows.join(","))).unwrap();
        let decoded = names(&page);
        assert_eq!(decoded.len(), order.len());
        for ((group, event_type), expected) in decoded.iter().zip(&order) {
            assert_eq!(*group, value(expected));
            assert_eq!(*event_type, value(expected));
        }
    }

    #[test]
    fn names_of_another_type_are_wrong_types_and_null_is_null() {
        let page: Page = serde_json::from_str(
            r#"{"rows":[
                {"consumerGroup":1,"eventType":true},
                {"consumerGroup":["g"],"eventType":{"name":"e"}},
                {"consumerGroup":null,"eventType":-0.5},
                {"consumerGroup":"g","eventType":null}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            names(&page),
            [
                (Field::WrongType, Field::WrongType),
                (Field::WrongType, Field::WrongType),
                (Field::Null, Field::WrongType),
                (value("g"), Field::Null),
            ]
        );
    }

    /// Bytes that are no UTF-8 in a name refuse the page, as a body that is
    /// not JSON text does; in a field the rows do not read, they pass.
    #[test]
    fn invalid_utf8_in_a_name_refuses_the_page() {
        let page = |field: &str| {
            let mut body = format!(r#"{{"rows":[{{"{field}":"a"#).into_bytes();
            body.extend_from_slice(b"\xff\xfe");
            body.extend_from_slice(br#"b","eventCount":1}]}"#);
            serde_json::from_slice::<Page>(&body)
        };
        assert!(page("consumerGroup").is_err());
        assert!(page("eventType").is_err());
        let other = page("other").unwrap();
        assert_eq!(names(&other), [(Field::Missing, Field::Missing)]);
    }

    #[test]
    fn a_page_without_rows_has_none() {
        let page: Page = serde_json::from_str(r#"{"totalCount":0}"#).unwrap();
        assert!(page.rows.is_empty());
        let page: Page =
            serde_json::from_str(r#"{"rows":null,"pageToken":null,"nextPage":null}"#).unwrap();
        assert!(page.rows.is_empty());
        assert!(serde_json::from_str::<Page>("<html>").is_err());
        assert!(serde_json::from_str::<Page>(r#"{"rows":{"a":1}}"#).is_err());
        // serde would read a struct from an array, field by field.
        assert!(serde_json::from_str::<Page>("[]").is_err());
        assert!(serde_json::from_str::<Page>(r#"[null,null,[]]"#).is_err());
    }

    #[test]
    fn pages_past_the_row_cap_are_refused() {
        let rows = |n: usize| format!(r#"{{"rows":[{}]}}"#, vec!["1"; n].join(","));
        let page: Page = serde_json::from_str(&rows(MAX_PAGE_ROWS)).unwrap();
        assert_eq!(page.rows.len(), MAX_PAGE_ROWS);
        let err = serde_json::from_str::<Page>(&rows(MAX_PAGE_ROWS + 1)).unwrap_err();
        assert!(
            err.to_string().contains("more than 10000 rows in one page"),
            "{err}"
        );
    }

    /// Any input in, no panic: bytes, arbitrary JSON, and page-shaped JSON
    /// whose rows are anything, each row sorted exactly as a reference
    /// reading of the same text says.
    mod properties {
        use super::super::*;
        use proptest::prelude::*;
        use serde_json::{Map, Value};

        const KEYS: [&str; 8] = [
            "rows",
            "pageToken",
            "nextPage",
            "totalCount",
            "consumerGroup",
            "eventType",
            "eventCount",
            "processingLatency",
        ];
        const ROW_KEYS: [&str; 4] = [
            "consumerGroup",
            "eventType",
            "eventCount",
            "processingLatency",
        ];

        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_filter_map("JSON has no NaN or inf", |f| {
                    serde_json::Number::from_f64(f).map(Value::Number)
                }),
                any::<String>().prop_map(Value::String),
                prop::sample::select(vec!["", "g", "é\n\"\\", "1", "null"])
                    .prop_map(|s| Value::String(s.into())),
            ]
        }

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => prop::sample::select(KEYS.to_vec()).prop_map(String::from),
                1 => any::<String>(),
            ]
        }

        fn json() -> impl Strategy<Value = Value> {
            leaf().prop_recursive(4, 64, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::vec((key(), inner), 0..6)
                        .prop_map(|kv| Value::Object(kv.into_iter().collect())),
                ]
            })
        }

        /// A row: anything, or an object whose four fields are each absent,
        /// null, of the right type or of another.
        fn row() -> impl Strategy<Value = Value> {
            prop_oneof![
                1 => json(),
                3 => prop::collection::vec(prop::option::of(json()), 4).prop_map(|fields| {
                    let mut m = Map::new();
                    for (k, v) in ROW_KEYS.iter().zip(fields) {
                        if let Some(v) = v {
                            m.insert((*k).to_string(), v);
                        }
                    }
                    Value::Object(m)
                }),
            ]
        }

        /// An object shaped like a page; any of its fields may be wrong.
        fn page() -> impl Strategy<Value = Value> {
            (
                prop::collection::vec((key(), json()), 0..3),
                prop::option::of(json()),
                prop::option::of(json()),
                prop_oneof![
                    1 => Just(None),
                    1 => json().prop_map(Some),
                    4 => prop::collection::vec(row(), 0..12).prop_map(|r| Some(Value::Array(r))),
                ],
            )
                .prop_map(|(extra, token, next, rows)| {
                    let mut m: Map<String, Value> = extra.into_iter().collect();
                    for (k, v) in [("pageToken", token), ("nextPage", next), ("rows", rows)] {
                        match v {
                            Some(v) => m.insert(k.to_string(), v),
                            None => m.remove(k),
                        };
                    }
                    Value::Object(m)
                })
        }

        fn text(v: Option<&Value>) -> Field<Arc<str>> {
            match v {
                None => Field::Missing,
                Some(Value::Null) => Field::Null,
                Some(Value::String(s)) => Field::Value(s.as_str().into()),
                Some(_) => Field::WrongType,
            }
        }

        fn number(v: Option<&Value>) -> Field<f64> {
            match v {
                None => Field::Missing,
                Some(Value::Null) => Field::Null,
                Some(Value::Number(n)) => Field::Value(n.as_f64().unwrap()),
                Some(_) => Field::WrongType,
            }
        }

        fn reference_row(v: &Value) -> RawRow {
            match v {
                Value::Object(m) => RawRow::Object {
                    consumer_group: text(m.get("consumerGroup")),
                    event_type: text(m.get("eventType")),
                    event_count: number(m.get("eventCount")),
                    processing_latency: number(m.get("processingLatency")),
                },
                _ => RawRow::NotObject,
            }
        }

        fn optional_text(v: Option<&Value>) -> bool {
            matches!(v, None | Some(Value::Null) | Some(Value::String(_)))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                if let Ok(page) = serde_json::from_slice::<Page>(&bytes) {
                    prop_assert!(page.rows.len() <= MAX_PAGE_ROWS);
                }
            }

            #[test]
            fn damaged_pages_never_panic(
                page in page(),
                cut in any::<prop::sample::Index>(),
                at in any::<prop::sample::Index>(),
                byte in any::<u8>(),
            ) {
                let mut bytes = serde_json::to_vec(&page).unwrap();
                let i = at.index(bytes.len());
                bytes[i] = byte;
                bytes.truncate(cut.index(bytes.len() + 1).max(1));
                let _ = serde_json::from_slice::<Page>(&bytes);
            }

            #[test]
            fn arbitrary_json_never_panics(value in json()) {
                let text = serde_json::to_vec(&value).unwrap();
                let decoded = serde_json::from_slice::<Page>(&text);
                prop_assert!(decoded.is_err() || value.is_object());
            }

            #[test]
            fn every_row_is_read_as_the_reference_reads_it(page in page()) {
                let text = serde_json::to_string(&page).unwrap();
                // The reference reads the same text, with the same number parser.
                let seen: Value = serde_json::from_str(&text).unwrap();
                let fields = seen.as_object().unwrap();
                let rows_ok = match fields.get("rows") {
                    None | Some(Value::Null) => true,
                    Some(Value::Array(rows)) => rows.len() <= MAX_PAGE_ROWS,
                    Some(_) => false,
                };
                let valid = rows_ok
                    && optional_text(fields.get("pageToken"))
                    && optional_text(fields.get("nextPage"));
                match serde_json::from_str::<Page>(&text) {
                    Ok(decoded) => {
                        prop_assert!(valid, "accepted {text}");
                        let expected: Vec<RawRow> = match fields.get("rows") {
                            Some(Value::Array(rows)) => rows.iter().map(reference_row).collect(),
                            _ => Vec::new(),
                        };
                        prop_assert_eq!(decoded.rows, expected);
                        prop_assert_eq!(
                            decoded.page_token.as_deref(),
                            fields.get("pageToken").and_then(Value::as_str)
                        );
                    }
                    Err(e) => prop_assert!(!valid, "refused {text}: {e}"),
                }
            }
        }
    }
}
