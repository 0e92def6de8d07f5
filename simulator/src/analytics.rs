//! The analytics events query (`POST` on the query path): strict validation
//! of its body (the fields, their formats and the filter syntax the
//! exporter must send; every rejection message names the offending field),
//! then one page of the organisation's rows.

use hyper::{HeaderMap, Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::response::{SimBody, api_error, bad_request, correlation_id, json_response};
use super::{Call, Shared, State, authorized, data, has_media_type, method_not_allowed};
use time::PrimitiveDateTime;
use time::macros::format_description;

pub(crate) const METRICS: [&str; 2] = ["eventCount", "processingLatency"];
pub(crate) const GROUPINGS: [&str; 2] = ["consumerGroup", "eventType"];
const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 1000;
const FILTER_PREFIX: &str = "consumerGroup IN [";

/// A validated query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) date_from: String,
    pub(crate) date_to: String,
    pub(crate) interval: String,
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
    /// The consumer groups of the filter; `None` without a filter.
    pub(crate) groups: Option<Vec<String>>,
    pub(crate) page_size: usize,
    pub(crate) page_token: Option<String>,
}

impl Query {
    /// Everything that must stay the same from page to page; a page token
    /// is only accepted with the query that it was issued for.
    pub(crate) fn fingerprint(&self) -> String {
        serde_json::json!([
            self.date_from,
            self.date_to,
            self.interval,
            self.groups,
            self.page_size
        ])
        .to_string()
    }
}

/// Parses and checks a query body; `Err` holds the 400 message.
pub(crate) fn parse_query(body: &[u8]) -> Result<Query, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
    let Value::Object(fields) = value else {
        return Err("the request body must be a JSON object".into());
    };
    const KNOWN: [&str; 8] = [
        "dateFrom",
        "dateTo",
        "interval",
        "metrics",
        "groupings",
        "filter",
        "pageSize",
        "pageToken",
    ];
    if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown}"));
    }

    let date_from = required_str(&fields, "dateFrom")?;
    let from_ms = parse_timestamp(date_from).ok_or_else(|| {
        format!("dateFrom {date_from:?} is not of the form YYYY-MM-DDTHH:MM:SS.mmmZ")
    })?;
    let date_to = required_str(&fields, "dateTo")?;
    let to_ms = parse_timestamp(date_to)
        .ok_or_else(|| format!("dateTo {date_to:?} is not of the form YYYY-MM-DDTHH:MM:SS.mmmZ"))?;
    if from_ms >= to_ms {
        return Err("dateFrom must be earlier than dateTo".into());
    }

    let interval = required_str(&fields, "interval")?;
    let interval_ms = parse_iso8601_duration(interval)
        .ok_or_else(|| format!("interval {interval:?} is not an ISO-8601 duration such as PT1H"))?;
    if i128::from(interval_ms) != i128::from(to_ms) - i128::from(from_ms) {
        return Err(format!(
            "interval {interval} does not equal dateTo - dateFrom ({} ms)",
            i128::from(to_ms) - i128::from(from_ms)
        ));
    }

    expect_list(&fields, "metrics", &METRICS)?;
    expect_list(&fields, "groupings", &GROUPINGS)?;

    let groups = match fields.get("filter") {
        None | Some(Value::Null) => None,
        Some(Value::String(filter)) => Some(parse_filter(filter).map_err(|e| {
            format!("filter must have the form consumerGroup IN ['name', ...]: {e}")
        })?),
        Some(_) => return Err("filter must be a string".into()),
    };

    let page_size = match fields.get("pageSize") {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| format!("pageSize must be an integer from 1 to {MAX_PAGE_SIZE}"))?,
    };

    let page_token = match fields.get("pageToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if !t.is_empty() => Some(t.clone()),
        Some(_) => return Err("pageToken must be a non-empty string".into()),
    };

    Ok(Query {
        date_from: date_from.to_owned(),
        date_to: date_to.to_owned(),
        interval: interval.to_owned(),
        from_ms,
        to_ms,
        groups,
        page_size: page_size as usize,
        page_token,
    })
}

fn required_str<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match fields.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{name} must be a string")),
        None => Err(format!("{name} is required")),
    }
}

fn expect_list(fields: &Map<String, Value>, name: &str, expected: &[&str]) -> Result<(), String> {
    let matches = fields
        .get(name)
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.len() == expected.len()
                && items
                    .iter()
                    .zip(expected)
                    .all(|(item, want)| item.as_str() == Some(*want))
        });
    if matches {
        Ok(())
    } else {
        Err(format!("{name} must be {expected:?}"))
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` to Unix milliseconds; exactly that shape.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 24 {
        return None;
    }
    let shape_ok = bytes.iter().enumerate().all(|(i, b)| match i {
        4 | 7 => *b == b'-',
        10 => *b == b'T',
        13 | 16 => *b == b':',
        19 => *b == b'.',
        23 => *b == b'Z',
        _ => b.is_ascii_digit(),
    });
    if !shape_ok {
        return None;
    }
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let time = PrimitiveDateTime::parse(text, &format).ok()?.assume_utc();
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An ISO-8601 duration of weeks, days, hours, minutes and (fractional,
/// to the millisecond) seconds, in milliseconds: `PT1H`, `PT1H30M`, `P1D`,
/// `PT1.500S`. Years and months have no fixed length and are refused.
pub(crate) fn parse_iso8601_duration(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    let (date_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let (mut total, mut components) =
        scan_components(date_part, &[('W', 604_800_000), ('D', 86_400_000)])?;
    if let Some(time_part) = time_part {
        let (ms, n) = scan_components(time_part, &[('H', 3_600_000), ('M', 60_000), ('S', 1000)])?;
        if n == 0 {
            return None; // "P1DT" has a T with nothing after it
        }
        total = total.checked_add(ms)?;
        components += n;
    }
    (components > 0).then_some(total)
}

/// Sums `<number><unit>` components (units in the given order, each at most
/// once); returns the milliseconds and how many components there were.
fn scan_components(part: &str, units: &[(char, u64)]) -> Option<(u64, usize)> {
    let mut total: u64 = 0;
    let mut components = 0;
    let mut number = String::new();
    let mut next_unit = 0;
    for c in part.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let index = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
        let unit_ms = units[index].1;
        next_unit = index + 1;
        let ms = if let Some((whole, frac)) = number.split_once('.') {
            // Only seconds may be fractional, to at most milliseconds.
            if c != 'S' || whole.is_empty() || frac.is_empty() || frac.len() > 3 {
                return None;
            }
            let frac_ms: u64 = format!("{frac:0<3}").parse().ok()?;
            whole
                .parse::<u64>()
                .ok()?
                .checked_mul(1000)?
                .checked_add(frac_ms)?
        } else {
            number.parse::<u64>().ok()?.checked_mul(unit_ms)?
        };
        total = total.checked_add(ms)?;
        components += 1;
        number.clear();
    }
    number.is_empty().then_some((total, components))
}

/// The names in `consumerGroup IN ['a', 'b']`. Inside quotes, `\'` and `\\`
/// stand for `'` and `\`; items are separated by exactly `, `.
pub(crate) fn parse_filter(filter: &str) -> Result<Vec<String>, String> {
    let mut rest = filter
        .strip_prefix(FILTER_PREFIX)
        .ok_or_else(|| format!("it must start with {FILTER_PREFIX:?}"))?;
    let mut names = Vec::new();
    loop {
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, '\'')) => {}
            Some((_, ']')) if names.is_empty() => return Err("it lists no consumer group".into()),
            _ => return Err(format!("expected a quoted name at {rest:?}")),
        }
        let mut name = String::new();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, c @ ('\'' | '\\'))) => name.push(c),
                    Some((_, c)) => return Err(format!("unknown escape \\{c}")),
                    None => return Err("it ends inside a quoted name".into()),
                },
                Some((i, '\'')) => break i + 1,
                Some((_, c)) => name.push(c),
                None => return Err("it ends inside a quoted name".into()),
            }
        };
        names.push(name);
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix(", ") {
            rest = after;
        } else if rest == "]" {
            return Ok(names);
        } else {
            return Err(format!("expected \", \" or a final \"]\" at {rest:?}"));
        }
    }
}

/// A query: POST, bearer token and rate limit, body, one page.
pub(crate) fn answer(call: &Call<'_>) -> Response<SimBody> {
    if call.method != Method::POST {
        return method_not_allowed(call.method, "POST");
    }
    authorized(call, |state| {
        answer_query(call.shared, state, call.headers, call.body)
    })
}

/// A query within the rate limit: validate, then one page of rows.
fn answer_query(
    shared: &Shared,
    state: &mut State,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<SimBody> {
    if !has_media_type(headers, "application/json") {
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported.media.type",
            "Content-Type must be application/json",
        );
    }
    let query = match parse_query(body) {
        Ok(q) => q,
        Err(message) => return bad_request(&message),
    };
    let fingerprint = query.fingerprint();
    let offset = match &query.page_token {
        None => 0,
        Some(token) => match state.cursors.resolve(token, &fingerprint) {
            Ok(offset) => offset,
            Err(message) => return bad_request(&message),
        },
    };
    let rows = data::filter_rows(
        state.rows.rows(query.from_ms, query.to_ms),
        query.groups.as_deref(),
    );
    let page = state.cursors.page(
        state.paging,
        &rows,
        offset,
        query.page_size,
        &fingerprint,
        &shared.query_path,
    );
    let body = json!({
        "totalCount": page.total,
        "pageSize": query.page_size,
        "pageToken": page.page_token,
        "nextPage": page.next_page,
        "metrics": METRICS,
        "entity": "event",
        "interval": query.interval,
        "dateFrom": query.date_from,
        "dateTo": query.date_to,
        "groupings": GROUPINGS,
        "columns": [
            {"name": "consumerGroup", "type": "string"},
            {"name": "eventType", "type": "string"},
            {"name": "eventCount", "type": "number"},
            {"name": "processingLatency", "type": "number"},
        ],
        "rows": page.rows,
    });
    json_response(StatusCode::OK, &correlation_id(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_timestamp("2023-10-25T13:00:00.000Z"),
            Some(1_698_238_800_000)
        );
        assert_eq!(
            parse_timestamp("2023-10-25T13:00:00.123Z"),
            Some(1_698_238_800_123)
        );
        for bad in [
            "2023-10-25T13:00:00Z",
            "2023-10-25T13:00:00.00Z",
            "2023-10-25T13:00:00.0000Z",
            "2023-10-25T13:00:00.000+00:00",
            "2023-10-25 13:00:00.000Z",
            "2023-13-25T13:00:00.000Z",
            "2023-02-30T13:00:00.000Z",
            "2023-10-25T13:00:00.000z",
            "２023-10-25T13:00:00.000Z",
            "",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("PT1H", 3_600_000),
            ("PT30M", 1_800_000),
            ("PT90S", 90_000),
            ("PT1M30S", 90_000),
            ("P1D", 86_400_000),
            ("P1DT1H", 90_000_000),
            ("PT1H30M", 5_400_000),
            ("PT1.500S", 1_500),
            ("PT0.5S", 500),
            ("P1W", 604_800_000),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_iso8601_duration(text), Some(ms), "{text}");
        }
        for bad in [
            "",
            "P",
            "PT",
            "P1DT",
            "1H",
            "PT1",
            "PT1M1H",
            "PT1H1H",
            "P1Y",
            "P1M",
            "PT1.5M",
            "PT1.2345S",
            "PT.5S",
            "PT1.S",
            "pt1h",
            "PT-1H",
            "PT99999999999999999999S",
        ] {
            assert_eq!(parse_iso8601_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn filters() {
        assert_eq!(
            parse_filter("consumerGroup IN ['a', 'b']").unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            parse_filter(r"consumerGroup IN ['o\'brien', 'a\\b', 'x, y]']").unwrap(),
            vec!["o'brien", r"a\b", "x, y]"]
        );
        assert_eq!(parse_filter("consumerGroup IN ['é']").unwrap(), vec!["é"]);
        for bad in [
            "consumerGroup IN []",
            "consumerGroup IN ['a','b']",
            "consumerGroup IN ['a' , 'b']",
            "consumerGroup IN ['a', 'b'] ",
            "consumerGroup IN ['a', 'b'",
            "consumerGroup IN ['a",
            r"consumerGroup IN ['a\n']",
            r"consumerGroup IN ['a\",
            "consumerGroup IN {'a'}",
            "consumerGroup in ['a']",
            "consumerGroup IN [a]",
            "consumerGroup IN ['a', ]",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    fn body(extra: &[(&str, Value)]) -> Vec<u8> {
        let mut v = serde_json::json!({
            "dateFrom": "2023-10-25T12:00:00.000Z",
            "dateTo": "2023-10-25T13:00:00.000Z",
            "interval": "PT1H",
            "metrics": ["eventCount", "processingLatency"],
            "groupings": ["consumerGroup", "eventType"],
        });
        for (k, val) in extra {
            if val.is_null() {
                v.as_object_mut().unwrap().remove(*k);
            } else {
                v[*k] = val.clone();
            }
        }
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn bodies() {
        let q = parse_query(&body(&[])).unwrap();
        assert_eq!(q.page_size, 50);
        assert_eq!(q.groups, None);
        assert_eq!(q.page_token, None);
        use serde_json::json;
        let rejected = [
            ("dateFrom", json!("2023-10-25T12:00:00Z")),
            ("dateTo", json!(5)),
            ("dateFrom", Value::Null),
            ("interval", json!("PT2H")),
            ("metrics", json!(["eventCount"])),
            ("groupings", json!(["eventType", "consumerGroup"])),
            ("filter", json!("consumerGroup IN {'a'}")),
            ("filter", json!(3)),
            ("pageSize", json!(0)),
            ("pageSize", json!(1001)),
            ("pageSize", json!(20.0)),
            ("pageSize", json!("20")),
            ("pageToken", json!(1)),
            ("extra", json!(1)),
        ];
        for (field, value) in rejected {
            let err = parse_query(&body(&[(field, value.clone())])).unwrap_err();
            assert!(err.contains(field), "{field}={value}: {err}");
        }
        assert!(parse_query(b"[]").is_err());
        assert!(parse_query(b"{").is_err());
        assert!(
            parse_query(&body(&[("dateFrom", json!("2023-10-25T13:00:00.000Z"))]))
                .unwrap_err()
                .contains("dateFrom")
        );
    }
}
