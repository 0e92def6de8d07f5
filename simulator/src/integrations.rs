//! `GET /api/v2/integrations`: the platform's integrations listing
//! (`IntegrationEntityListing`), paged by `pageNumber` and `pageSize`,
//! filtered by `integrationType` as the platform filters it; and
//! `GET /api/v2/integrations/{id}/config/current`, one integration's current
//! configuration (`IntegrationConfiguration`), which names its AWS account,
//! region and event source suffix.

use hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::aws::{DEMO_AWS_ACCOUNT_ID, DEMO_AWS_REGION};
use super::organization::DEMO_ORGANIZATION_ID;
use super::response::{SimBody, api_error, bad_request, correlation_id, json_response};
use super::{Call, authorized, method_not_allowed};

/// Where the platform lists integrations.
pub const INTEGRATIONS_PATH: &str = "/api/v2/integrations";
/// The Amazon EventBridge integration's type id.
pub const EVENTBRIDGE_TYPE: &str = "amazon-eventbridge-source";
/// The largest page the simulator serves, as the platform caps it.
const MAX_PAGE_SIZE: usize = 100;

/// One integration as the platform describes it (`Integration`).
pub fn integration(
    id: &str,
    name: &str,
    intended: &str,
    code: &str,
    detail: Option<&str>,
    last_updated: &str,
) -> Value {
    let effective = match code {
        "ACTIVE" => "Active",
        "ERROR" => "Error",
        "INACTIVE" => "Inactive",
        "ACTIVATING" => "Activating",
        "DEACTIVATING" => "Deactivating",
        other => other,
    };
    let mut reported = json!({
        "code": code,
        "effective": effective,
        "lastUpdated": last_updated,
    });
    if let Some(message) = detail {
        reported["detail"] = json!({
            "localizableMessageCode": "integration.error",
            "message": message,
            "messageWithParams": message,
            "messageParams": {},
        });
    }
    json!({
        "id": id,
        "name": name,
        "integrationType": {
            "id": EVENTBRIDGE_TYPE,
            "name": "Amazon EventBridge Source",
            "description": "Sends Genesys Cloud events to Amazon EventBridge.",
            "provider": "genesys",
            "category": "Event Streaming",
        },
        "notes": "",
        "intendedState": intended,
        "config": {"current": {"id": id, "name": name, "version": 3,
            "properties": {"awsAccountId": DEMO_AWS_ACCOUNT_ID, "awsAccountRegion": DEMO_AWS_REGION,
                "eventSourceSuffix": name, "eventFilter": ["v2.analytics.flow.{id}.aggregates"]},
            "advanced": {}, "notes": "", "credentials": {},
            "selfUri": format!("{INTEGRATIONS_PATH}/{id}/config/current")}},
        "reportedState": reported,
        "attributes": {},
        "selfUri": format!("{INTEGRATIONS_PATH}/{id}"),
    })
}

/// The demo organisation's two integrations: one delivering, one in error.
pub fn demo_integrations() -> Vec<Value> {
    vec![
        integration(
            "6f0c2e1a-3b4d-4c5e-8f60-718293a4b5c6",
            "eventbridge-prod",
            "ENABLED",
            "ACTIVE",
            None,
            "2026-11-02T08:15:30.000Z",
        ),
        integration(
            "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d",
            "eventbridge-audit",
            "ENABLED",
            "ERROR",
            Some(&format!(
                "The event source aws.partner/genesys.com/cloud/{DEMO_ORGANIZATION_ID}/eventbridge-audit is not associated with an event bus in account {DEMO_AWS_ACCOUNT_ID} ({DEMO_AWS_REGION})."
            )),
            "2026-11-30T21:04:12.512Z",
        ),
    ]
}

/// The query parameters, checked as the platform checks them.
pub(crate) struct Listing {
    pub(crate) page_size: usize,
    pub(crate) page_number: usize,
    pub(crate) integration_type: Option<String>,
}

/// Reads `pageSize`, `pageNumber` and `integrationType`; the error is the
/// 400 message.
pub(crate) fn parse(query: Option<&str>) -> Result<Listing, String> {
    let mut listing = Listing {
        page_size: 25,
        page_number: 1,
        integration_type: None,
    };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{key}: {v:?} is not a whole number"))
        };
        match key {
            "pageSize" => listing.page_size = number(value)?,
            "pageNumber" => listing.page_number = number(value)?,
            "integrationType" => listing.integration_type = Some(value.to_string()),
            _ => {}
        }
    }
    if !(1..=MAX_PAGE_SIZE).contains(&listing.page_size) {
        return Err(format!("pageSize must be between 1 and {MAX_PAGE_SIZE}"));
    }
    if listing.page_number == 0 {
        return Err("pageNumber must be at least 1".into());
    }
    Ok(listing)
}

/// One page of the listing.
pub(crate) fn page(all: &[Value], listing: &Listing) -> Value {
    let matching: Vec<&Value> = all
        .iter()
        .filter(|i| match &listing.integration_type {
            Some(t) => i["integrationType"]["id"].as_str() == Some(t.as_str()),
            None => true,
        })
        .collect();
    let total = matching.len();
    let page_count = total.div_ceil(listing.page_size).max(1);
    let start = (listing.page_number - 1) * listing.page_size;
    let entities: Vec<&Value> = matching
        .into_iter()
        .skip(start)
        .take(listing.page_size)
        .collect();
    let uri = |n: usize| {
        let filter = listing
            .integration_type
            .as_ref()
            .map_or(String::new(), |t| format!("&integrationType={t}"));
        format!(
            "{INTEGRATIONS_PATH}?pageSize={}&pageNumber={n}{filter}",
            listing.page_size
        )
    };
    let mut body = json!({
        "entities": entities,
        "pageSize": listing.page_size,
        "pageNumber": listing.page_number,
        "total": total,
        "firstUri": uri(1),
        "selfUri": uri(listing.page_number),
        "lastUri": uri(page_count),
        "pageCount": page_count,
    });
    if listing.page_number < page_count {
        body["nextUri"] = json!(uri(listing.page_number + 1));
    }
    if listing.page_number > 1 {
        body["previousUri"] = json!(uri(listing.page_number - 1));
    }
    body
}

/// A listing: GET, bearer token and rate limit, one page.
pub(crate) fn answer(call: &Call<'_>) -> Response<SimBody> {
    if call.method != Method::GET {
        return method_not_allowed(call.method, "GET");
    }
    authorized(call, |state| match parse(call.query) {
        Err(message) => bad_request(&message),
        Ok(listing) => json_response(
            StatusCode::OK,
            &correlation_id(),
            &page(&state.integrations, &listing),
        ),
    })
}

/// The integration id of `/api/v2/integrations/{id}/config/current`.
pub(crate) fn config_id(path: &str) -> Option<&str> {
    let id = path
        .strip_prefix(INTEGRATIONS_PATH)?
        .strip_prefix('/')?
        .strip_suffix("/config/current")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// One integration's current configuration: GET, bearer token and rate
/// limit, then the `config.current` the listing holds, or 404.
pub(crate) fn answer_config(call: &Call<'_>, id: &str) -> Response<SimBody> {
    if call.method != Method::GET {
        return method_not_allowed(call.method, "GET");
    }
    authorized(call, |state| {
        let found = state
            .integrations
            .iter()
            .find(|i| i["id"].as_str() == Some(id));
        match found {
            Some(integration) => json_response(
                StatusCode::OK,
                &correlation_id(),
                &integration["config"]["current"],
            ),
            None => api_error(
                StatusCode::NOT_FOUND,
                "not.found",
                &format!("Integration {id} was not found."),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_page_number_and_count() {
        let all: Vec<Value> = (0..250)
            .map(|i| {
                integration(
                    &format!("id-{i}"),
                    "x",
                    "ENABLED",
                    "ACTIVE",
                    None,
                    "2026-01-01T00:00:00Z",
                )
            })
            .collect();
        let listing = |n| {
            parse(Some(&format!(
                "integrationType={EVENTBRIDGE_TYPE}&pageSize=100&pageNumber={n}"
            )))
            .unwrap()
        };
        let first = page(&all, &listing(1));
        assert_eq!(first["pageCount"], 3);
        assert_eq!(first["entities"].as_array().unwrap().len(), 100);
        assert!(first["nextUri"].is_string());
        let last = page(&all, &listing(3));
        assert_eq!(last["entities"].as_array().unwrap().len(), 50);
        assert!(last.get("nextUri").is_none());
        assert!(parse(Some("pageSize=101")).is_err());
        assert!(parse(Some("pageNumber=0")).is_err());
        let other = parse(Some("integrationType=purecloud-data-actions")).unwrap();
        assert_eq!(page(&all, &other)["total"], 0);
    }

    #[test]
    fn config_paths_name_one_integration() {
        assert_eq!(
            config_id("/api/v2/integrations/abc/config/current"),
            Some("abc")
        );
        assert_eq!(config_id("/api/v2/integrations//config/current"), None);
        assert_eq!(config_id("/api/v2/integrations/a/b/config/current"), None);
        assert_eq!(config_id("/api/v2/integrations/abc/config"), None);
        assert_eq!(config_id(INTEGRATIONS_PATH), None);
    }
}
