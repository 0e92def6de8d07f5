//! The analytics query body, with the tutorial's field names.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::config::iso8601;

pub const METRICS: [&str; 2] = ["eventCount", "processingLatency"];
pub const GROUPINGS: [&str; 2] = ["consumerGroup", "eventType"];

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryBody {
    pub date_from: String,
    pub date_to: String,
    pub interval: String,
    pub metrics: [&'static str; 2],
    pub groupings: [&'static str; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

impl QueryBody {
    /// The first page's body for the window ending at `now`.
    pub fn new(now: SystemTime, window: Duration, groups: &[String], page_size: u32) -> QueryBody {
        QueryBody {
            date_from: rfc3339_millis(now - window),
            date_to: rfc3339_millis(now),
            interval: iso8601(window),
            metrics: METRICS,
            groupings: GROUPINGS,
            filter: consumer_group_filter(groups),
            page_size,
            page_token: None,
        }
    }
}

/// `2023-10-25T12:00:00.000Z`: UTC, always three fraction digits.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from(t)
        .format(&format)
        .expect("a UTC time always formats")
}

/// `consumerGroup IN ['a', 'b']`, with `'` and `\` escaped by a backslash;
/// `None` when no group is configured (no filter: every group).
pub fn consumer_group_filter(groups: &[String]) -> Option<String> {
    if groups.is_empty() {
        return None;
    }
    let items: Vec<String> = groups
        .iter()
        .map(|g| {
            let mut quoted = String::with_capacity(g.len() + 2);
            quoted.push('\'');
            for c in g.chars() {
                if c == '\'' || c == '\\' {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('\'');
            quoted
        })
        .collect();
    Some(format!("consumerGroup IN [{}]", items.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_tutorial_payload() {
        // 2023-10-25T13:00:00Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_698_238_800);
        let groups = vec![
            "eventbridge-consumer-primary".to_string(),
            "eventbridge-consumer-secondary".to_string(),
        ];
        let body =
            serde_json::to_value(QueryBody::new(now, Duration::from_secs(3600), &groups, 20))
                .unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "dateFrom": "2023-10-25T12:00:00.000Z",
                "dateTo": "2023-10-25T13:00:00.000Z",
                "interval": "PT1H",
                "metrics": ["eventCount", "processingLatency"],
                "groupings": ["consumerGroup", "eventType"],
                "filter": "consumerGroup IN ['eventbridge-consumer-primary', 'eventbridge-consumer-secondary']",
                "pageSize": 20
            })
        );
    }

    #[test]
    fn filter_escapes_quotes_and_backslashes() {
        let groups = vec!["o'brien".to_string(), r"a\b".to_string()];
        assert_eq!(
            consumer_group_filter(&groups).unwrap(),
            r"consumerGroup IN ['o\'brien', 'a\\b']"
        );
        assert_eq!(consumer_group_filter(&[]), None);
    }

    #[test]
    fn dates_keep_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_698_238_800_123);
        assert_eq!(rfc3339_millis(t), "2023-10-25T13:00:00.123Z");
    }
}
