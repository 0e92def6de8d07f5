//! Decoding a page of the analytics response. Rows are read leniently: a row
//! with a missing or mistyped field still decodes, so that the model can skip
//! and count it while the rest of the page counts.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Rows one page may hold. The API pages at most 1000 rows; a page of many
/// more is not one, and decoding it costs far more memory than its bytes: a
/// two-byte row such as `1,` takes 80 bytes decoded, so a body under the
/// 16 MiB cap could otherwise grow to hundreds of MiB.
pub const MAX_PAGE_ROWS: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default)]
    pub next_page: Option<String>,
    /// Genesys leaves out empty arrays, so a page without `rows`, or with
    /// `rows: null` (as `pageToken` and `nextPage` may be), has none.
    #[serde(default, deserialize_with = "bounded_rows")]
    pub rows: Vec<RawRow>,
}

/// `rows`: an array of at most [`MAX_PAGE_ROWS`] rows, or null. Counted while
/// decoding, so that an oversized page is refused before it is held.
fn bounded_rows<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawRow>, D::Error> {
    struct RowsVisitor;
    impl<'de> Visitor<'de> for RowsVisitor {
        type Value = Vec<RawRow>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of rows")
        }

        fn visit_unit<E>(self) -> Result<Vec<RawRow>, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<RawRow>, A::Error> {
            let mut rows = Vec::new();
            while let Some(row) = seq.next_element::<RawRow>()? {
                if rows.len() == MAX_PAGE_ROWS {
                    return Err(de::Error::custom(format_args!(
                        "more than {MAX_PAGE_ROWS} rows in one page"
                    )));
                }
                rows.push(row);
            }
            Ok(rows)
        }
    }
    d.deserialize_any(RowsVisitor)
}

/// One field of a row as it arrived.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Missing,
    Null,
    WrongType,
    Value(T),
}

/// One row as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum RawRow {
    NotObject,
    Object {
        consumer_group: Field<String>,
        event_type: Field<String>,
        event_count: Field<f64>,
        processing_latency: Field<f64>,
    },
}

impl<'de> Deserialize<'de> for RawRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowVisitor)
    }
}

struct RowVisitor;

impl<'de> Visitor<'de> for RowVisitor {
    type Value = RawRow;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRow, A::Error> {
        let mut consumer_group = Field::Missing;
        let mut event_type = Field::Missing;
        let mut event_count = Field::Missing;
        let mut processing_latency = Field::Missing;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::ConsumerGroup => {
                    consumer_group = map.next_value::<Lenient<Text>>()?.0.map(|t| t.0)
                }
                Key::EventType => event_type = map.next_value::<Lenient<Text>>()?.0.map(|t| t.0),
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

impl<T> Field<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Missing => Field::Missing,
            Field::Null => Field::Null,
            Field::WrongType => Field::WrongType,
            Field::Value(v) => Field::Value(f(v)),
        }
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

/// Marker targets for [`Lenient`].
struct Text(String);
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

impl<'de> Deserialize<'de> for Lenient<Text> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<Text>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient(Field::Value(Text(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient(Field::Value(Text(v))))
            }
            wrong_type!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);
            skip_compound!();
        }
        d.deserialize_any(V)
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
    fn a_page_without_rows_has_none() {
        let page: Page = serde_json::from_str(r#"{"totalCount":0}"#).unwrap();
        assert!(page.rows.is_empty());
        let page: Page =
            serde_json::from_str(r#"{"rows":null,"pageToken":null,"nextPage":null}"#).unwrap();
        assert!(page.rows.is_empty());
        assert!(serde_json::from_str::<Page>("<html>").is_err());
        assert!(serde_json::from_str::<Page>(r#"{"rows":{"a":1}}"#).is_err());
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
}
