//! Decoding the integrations listing (`IntegrationEntityListing`). Lenient
//! as real APIs need: unknown fields are ignored, an unknown state code is
//! kept as unknown, and a malformed entity is skipped and counted while the
//! others count.

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

use super::integration::{Integration, Reported};
use crate::exposition::MAX_NAME_BYTES;

/// Where the platform lists integrations, and the EventBridge type's id.
pub const PATH: &str = "/api/v2/integrations";
pub const EVENTBRIDGE_TYPE: &str = "amazon-eventbridge-source";
/// Entities asked for per page: the platform's largest page.
pub const PAGE_SIZE: u32 = 100;
/// Pages one listing may read: 5,000 integrations, far past any real
/// organisation's EventBridge integrations.
pub const MAX_PAGES: u32 = 50;

/// One page, its entities still raw so that a malformed one spoils only itself.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<'a> {
    #[serde(borrow, default)]
    pub entities: Option<Vec<&'a RawValue>>,
    pub page_number: Option<u32>,
    pub page_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    id: String,
    name: Option<String>,
    intended_state: String,
    reported_state: Option<Status>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    code: Option<String>,
    detail: Option<Detail>,
    last_updated: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Detail {
    message: Option<String>,
}

/// One entity, or `None` when it is malformed (no `id`, no
/// `intendedState`, a field of the wrong type).
pub fn entity(raw: &RawValue) -> Option<Integration> {
    let e: Entity = serde_json::from_str(raw.get()).ok()?;
    // Names go into labels of several series each, as consumer group names
    // do: the same bound.
    if e.id.trim().is_empty() || e.id.len() > MAX_NAME_BYTES {
        return None;
    }
    if e.name.as_ref().is_some_and(|n| n.len() > MAX_NAME_BYTES) {
        return None;
    }
    let status = e.reported_state;
    let (code, detail, last_updated) = match status {
        Some(s) => (s.code, s.detail.and_then(|d| d.message), s.last_updated),
        None => (None, None, None),
    };
    Some(Integration {
        // A name is optional in the API; the id stands in, so that the
        // label is never empty.
        name: e
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(e.id.clone()),
        id: e.id,
        enabled: e.intended_state == "ENABLED",
        state: Reported::from_code(code.as_deref()),
        detail: detail.filter(|d| !d.trim().is_empty()).map(bounded),
        state_changed: last_updated.as_deref().and_then(timestamp),
    })
}

/// The longest detail message kept whole, in bytes: real ones are a
/// sentence; every integration holds its own between cycles.
pub const MAX_DETAIL_BYTES: usize = 2048;

/// A detail message as shown on the landing page and in the debug trace:
/// whole, unless it is longer than [`MAX_DETAIL_BYTES`].
fn bounded(mut detail: String) -> String {
    if detail.len() > MAX_DETAIL_BYTES {
        let mut at = MAX_DETAIL_BYTES;
        while !detail.is_char_boundary(at) {
            at -= 1;
        }
        detail.truncate(at);
        detail.push('…');
    }
    detail
}

/// `lastUpdated` in the ISO-8601 forms Genesys writes: with or without
/// fractions, `Z` or an offset (with or without its colon).
pub fn timestamp(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .ok()
        .map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn timestamps_in_the_forms_genesys_writes() {
        let at = |s| timestamp(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64());
        assert_eq!(at("2023-10-25T12:00:00Z"), Some(1698235200.0));
        assert_eq!(at("2023-10-25T12:00:00.250Z"), Some(1698235200.25));
        assert_eq!(at("2023-10-25T14:00:00+02:00"), Some(1698235200.0));
        assert_eq!(at("2023-10-25T14:00:00.000+0200"), Some(1698235200.0));
        assert_eq!(at("yesterday"), None);
    }

    #[test]
    fn entities_are_read_leniently() {
        let page: Page = serde_json::from_str(
            r#"{"entities":[
                {"id":"a","name":"prod","intendedState":"ENABLED","reportedState":{"code":"ACTIVE","lastUpdated":"2023-10-25T12:00:00Z"},"extra":{"x":[1]}},
                {"id":"b","name":"odd","intendedState":"DISABLED","reportedState":{"code":"MAINTENANCE"}},
                {"id":"c","intendedState":"ENABLED"},
                {"name":"no id","intendedState":"ENABLED"},
                {"id":"d","intendedState":"ENABLED","reportedState":"ERROR"},
                7
            ],"pageNumber":1,"pageCount":1,"total":6}"#,
        )
        .unwrap();
        let decoded: Vec<Option<Integration>> =
            page.entities.unwrap().into_iter().map(entity).collect();
        let a = decoded[0].as_ref().unwrap();
        assert_eq!(
            (a.name.as_str(), a.enabled, a.state.label()),
            ("prod", true, "ACTIVE")
        );
        assert!(a.state_changed.is_some());
        let b = decoded[1].as_ref().unwrap();
        assert_eq!(
            (b.enabled, b.state.label(), b.state.code()),
            (false, "unknown", "MAINTENANCE")
        );
        let c = decoded[2].as_ref().unwrap();
        assert_eq!(
            (c.name.as_str(), c.state.label()),
            ("c", "unknown"),
            "no reportedState"
        );
        assert!(decoded[3].is_none() && decoded[4].is_none() && decoded[5].is_none());
        let long = format!(
            r#"{{"id":"x","name":"{}","intendedState":"ENABLED"}}"#,
            "n".repeat(MAX_NAME_BYTES + 1)
        );
        let raw: &RawValue = serde_json::from_str(&long).unwrap();
        assert!(entity(raw).is_none(), "an over-long name is malformed");
    }

    #[test]
    fn detail_messages_are_kept_whole_up_to_a_bound() {
        let entity_with = |message: &str| {
            let text = serde_json::json!({
                "id": "x", "name": "n", "intendedState": "ENABLED",
                "reportedState": {"code": "ERROR", "detail": {"message": message}}
            })
            .to_string();
            let raw: Box<RawValue> = serde_json::from_str(&text).unwrap();
            entity(&raw).unwrap().detail
        };
        let sentence = "The event source aws.partner/genesys.com/cloud/demo/eventbridge-audit is not associated with an event bus in account 123456789012 (us-east-1).";
        assert_eq!(entity_with(sentence).as_deref(), Some(sentence));
        let long = "é".repeat(MAX_DETAIL_BYTES);
        let kept = entity_with(&long).unwrap();
        assert!(
            kept.len() <= MAX_DETAIL_BYTES + '…'.len_utf8(),
            "{}",
            kept.len()
        );
        assert!(kept.ends_with('…') && long.starts_with(kept.trim_end_matches('…')));
        assert_eq!(entity_with("  "), None);
    }
}
