//! `GET /api/v2/organizations/me`: the platform's `Organization` of the
//! token's organisation, whose `id` names its EventBridge partner sources.

use hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::response::{SimBody, correlation_id, json_response};
use super::{Call, authorized, method_not_allowed};

/// Where the platform describes the caller's organisation.
pub const ORGANIZATION_PATH: &str = "/api/v2/organizations/me";
/// The demo organisation's id.
pub const DEMO_ORGANIZATION_ID: &str = "5f0c8a2e-7b1d-4c3e-9a6f-2d4b6e8f0a1c";

/// A UUID-shaped organisation id derived from a client id, the same on
/// every run, for organisations set up without one.
pub fn derived_organization_id(client_id: &str) -> String {
    let key = super::data::hash(client_id);
    let hi = super::data::mix(key);
    let lo = super::data::mix(key ^ 0x9e37_79b9_7f4a_7c15);
    super::response::uuid_v4(hi, lo)
}

/// The `Organization` object of an organisation whose OAuth client is
/// `client_id`; its short name is the client id without a `-client` suffix.
pub(crate) fn organization(id: &str, client_id: &str) -> Value {
    let short = client_id.strip_suffix("-client").unwrap_or(client_id);
    json!({
        "id": id,
        "name": short,
        "defaultLanguage": "en-us",
        "defaultCountryCode": "US",
        "thirdPartyOrgName": short,
        "domain": short,
        "version": 12,
        "state": "active",
        "voicemailEnabled": true,
        "productPlatform": "GenesysCloud",
        "features": {},
        "selfUri": format!("/api/v2/organizations/{id}"),
    })
}

/// GET, bearer token and rate limit, then the organisation.
pub(crate) fn answer(call: &Call<'_>) -> Response<SimBody> {
    if call.method != Method::GET {
        return method_not_allowed(call.method, "GET");
    }
    authorized(call, |_| {
        let body = organization(&call.org.organization_id, &call.org.client.id);
        json_response(StatusCode::OK, &correlation_id(), &body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_uuids_per_client() {
        let id = derived_organization_id("acme-client");
        assert_eq!(id, derived_organization_id("acme-client"));
        assert_ne!(id, derived_organization_id("other-client"));
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4");
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn organization_names_follow_the_client() {
        let org = organization(DEMO_ORGANIZATION_ID, "demo-client");
        assert_eq!(org["id"], DEMO_ORGANIZATION_ID);
        assert_eq!(org["thirdPartyOrgName"], "demo");
        assert_eq!(
            org["selfUri"],
            format!("/api/v2/organizations/{DEMO_ORGANIZATION_ID}")
        );
    }
}
