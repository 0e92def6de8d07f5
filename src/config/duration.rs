//! Prometheus-style durations (`500ms`, `30s`, `5m`, `1h`, `1h30m`), as every
//! exporter flag in the ecosystem takes them.

use std::time::Duration;

/// A duration that does not parse; the text is quoted so that a stray space
/// or an empty value shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration (use e.g. 500ms, 30s, 5m, 1h)")]
    Empty,
    #[error("invalid duration {0:?} (use e.g. 500ms, 30s, 5m, 1h)")]
    Invalid(String),
    #[error("duration {0:?} is too large")]
    TooLarge(String),
    #[error("duration {0:?} lacks a unit (ms, s, m, h or d)")]
    NoUnit(String),
    #[error("duration {text:?} has unknown unit {unit:?}")]
    UnknownUnit { text: String, unit: String },
}

/// Parses a duration such as `500ms`, `30s`, `5m`, `1h`, `2d` or `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let too_large = || DurationError::TooLarge(text.to_string());
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Invalid(text.to_string()));
        }
        let value: u64 = rest[..digits].parse().map_err(|_| too_large())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(DurationError::NoUnit(text.to_string())),
            other => {
                return Err(DurationError::UnknownUnit {
                    text: text.to_string(),
                    unit: other.to_string(),
                });
            }
        };
        let millis = value.checked_mul(millis_per_unit).ok_or_else(too_large)?;
        total = total
            .checked_add(Duration::from_millis(millis))
            .ok_or_else(too_large)?;
    }
    Ok(total)
}

/// Formats a duration the way [`parse_duration`] reads it, for help and logs.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// The window as an ISO-8601 duration, the `interval` field of the query body.
pub fn iso8601(d: Duration) -> String {
    let total_ms = d.as_millis();
    let (days, rem) = (total_ms / 86_400_000, total_ms % 86_400_000);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rem > 0 || days == 0 {
        out.push('T');
        let (h, rem) = (rem / 3_600_000, rem % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if rem > 0 || (h == 0 && m == 0) {
            if rem % 1000 == 0 {
                out.push_str(&format!("{}S", rem / 1000));
            } else {
                out.push_str(&format!("{}.{:03}S", rem / 1000, rem % 1000));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_bad_forms_with_a_reason() {
        assert!(
            parse_duration("")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            parse_duration("30")
                .unwrap_err()
                .to_string()
                .contains("lacks a unit")
        );
        assert!(
            parse_duration("30x")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert!(
            parse_duration("abc")
                .unwrap_err()
                .to_string()
                .contains("invalid")
        );
        assert!(
            parse_duration("-5s")
                .unwrap_err()
                .to_string()
                .contains("invalid")
        );
        assert!(
            parse_duration("99999999999999999999h")
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
    }

    #[test]
    fn iso8601_intervals() {
        assert_eq!(iso8601(Duration::from_secs(3600)), "PT1H");
        assert_eq!(iso8601(Duration::from_secs(5400)), "PT1H30M");
        assert_eq!(iso8601(Duration::from_secs(90)), "PT1M30S");
        assert_eq!(iso8601(Duration::from_secs(86_400)), "P1D");
        assert_eq!(iso8601(Duration::from_secs(90_000)), "P1DT1H");
        assert_eq!(iso8601(Duration::from_millis(1500)), "PT1.500S");
    }

    #[test]
    fn format_round_trips() {
        for text in ["500ms", "30s", "5m", "1h", "1h30m", "1m0s500ms"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
