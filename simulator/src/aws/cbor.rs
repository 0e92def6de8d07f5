//! CBOR for Smithy RPC v2: requests are decoded with `ciborium` (definite
//! or indefinite lengths, tagged timestamps, any float width); answers are
//! written with `ciborium-ll`'s encoder, doubles always as 64-bit floats and
//! timestamps as tag 1 over integer epoch seconds, as the protocol advises.

use std::io;

use ciborium::Value;
use ciborium_ll::{Encoder, Header};

/// Epoch-based date/time (RFC 8949 section 3.4.2).
const TAG_EPOCH: u64 = 1;
/// The initial byte of a 64-bit float.
const FLOAT64: u8 = 0xfb;

/// Decodes one CBOR data item that must fill the body.
pub(crate) fn decode(body: &[u8]) -> Result<Value, String> {
    let mut reader = body;
    let value: Value = ciborium::de::from_reader(&mut reader).map_err(|e| e.to_string())?;
    if reader.is_empty() {
        Ok(value)
    } else {
        Err(format!(
            "{} bytes after the end of the body's item",
            reader.len()
        ))
    }
}

/// A map's member by its text key.
pub(crate) fn member<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

/// A tag-1 timestamp as epoch seconds (integer or float content).
pub(crate) fn timestamp(value: &Value) -> Option<f64> {
    match value {
        Value::Tag(TAG_EPOCH, inner) => match inner.as_ref() {
            Value::Integer(i) => Some(i128::from(*i) as f64),
            Value::Float(f) if f.is_finite() => Some(*f),
            _ => None,
        },
        _ => None,
    }
}

/// An integer member's value.
pub(crate) fn integer(value: &Value) -> Option<i128> {
    value.as_integer().map(i128::from)
}

/// What an answer is made of.
pub(crate) enum Item {
    Map(Vec<(&'static str, Item)>),
    Array(Vec<Item>),
    Text(String),
    /// Epoch seconds, as tag 1.
    Timestamp(i64),
    Double(f64),
}

/// The bytes of one item.
pub(crate) fn encode(item: &Item) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&mut out, item);
    out
}

fn header(out: &mut Vec<u8>, header: Header) -> io::Result<()> {
    Encoder::from(out).push(header)
}

fn write(out: &mut Vec<u8>, item: &Item) -> io::Result<()> {
    match item {
        Item::Map(members) => {
            header(out, Header::Map(Some(members.len())))?;
            for (key, value) in members {
                Encoder::from(&mut *out).text(key, None::<usize>)?;
                write(out, value)?;
            }
        }
        Item::Array(items) => {
            header(out, Header::Array(Some(items.len())))?;
            for item in items {
                write(out, item)?;
            }
        }
        Item::Text(text) => Encoder::from(out).text(text, None::<usize>)?,
        Item::Timestamp(secs) => {
            header(out, Header::Tag(TAG_EPOCH))?;
            header(
                out,
                match u64::try_from(*secs) {
                    Ok(n) => Header::Positive(n),
                    Err(_) => Header::Negative(secs.unsigned_abs() - 1),
                },
            )?;
        }
        Item::Double(x) => {
            // `Header::Float` would pick the narrowest exact width, half
            // precision included, which the protocol advises against.
            out.push(FLOAT64);
            out.extend_from_slice(&x.to_be_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_with_full_width_doubles() {
        let item = Item::Map(vec![
            ("Id", Item::Text("q1".into())),
            (
                "Timestamps",
                Item::Array(vec![Item::Timestamp(1_796_126_100)]),
            ),
            ("Values", Item::Array(vec![Item::Double(420.0)])),
        ]);
        let bytes = encode(&item);
        // 420.0 fits a half float; it must still be sent as a double.
        let at = bytes.windows(9).position(|w| w[0] == FLOAT64).unwrap();
        assert_eq!(
            f64::from_be_bytes(bytes[at + 1..at + 9].try_into().unwrap()),
            420.0
        );
        let value = decode(&bytes).unwrap();
        assert_eq!(member(&value, "Id").and_then(Value::as_text), Some("q1"));
        let stamps = member(&value, "Timestamps")
            .and_then(Value::as_array)
            .unwrap();
        assert_eq!(timestamp(&stamps[0]), Some(1_796_126_100.0));
    }

    #[test]
    fn indefinite_lengths_and_float_timestamps_decode() {
        // {_ "StartTime": 1(1796126100.5), "N": null} with an indefinite map.
        let mut bytes = vec![0xbf];
        bytes.extend([0x69]);
        bytes.extend(b"StartTime");
        bytes.extend([0xc1, 0xfb]);
        bytes.extend(1_796_126_100.5_f64.to_be_bytes());
        bytes.extend([0x61, b'N', 0xf6, 0xff]);
        let value = decode(&bytes).unwrap();
        assert_eq!(
            member(&value, "StartTime").and_then(timestamp),
            Some(1_796_126_100.5)
        );
        assert!(member(&value, "N").is_none(), "null is absent");
        assert!(decode(&[0xa0, 0x00]).is_err(), "trailing bytes");
        assert!(decode(b"{}").is_err());
    }
}
