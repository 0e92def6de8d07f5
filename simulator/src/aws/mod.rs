//! The AWS side of the delivery path, on the same port as the rest: Amazon
//! EventBridge in awsJson1.1 (`eventbridge`) and Amazon CloudWatch's
//! `GetMetricData` in Smithy RPC v2 CBOR (`cloudwatch`), each request
//! SigV4-signed (`sigv4`). A partner source or bus name
//! (`aws.partner/genesys.com/cloud/{organisationId}/{suffix}`) picks the
//! organisation whose account answers; the signer's account and region must
//! be that account's, as names are only visible in their own account and
//! region.

mod account;
mod cbor;
mod cloudwatch;
mod eventbridge;
mod sigv4;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, DATE, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};
use time::OffsetDateTime;
use time::macros::format_description;

pub use account::{
    AwsAccount, AwsCredentials, DEMO_ACCESS_KEY_ID, DEMO_AWS_ACCOUNT_ID, DEMO_AWS_REGION,
    DEMO_SECRET_ACCESS_KEY, EventBus, EventSource, EventSourceState, RetryPolicy, Rule,
    RuleFigures, RuleState, Target, partner_source_name,
};

use super::response::{SimBody, correlation_id};
use super::{Call, Endpoint, Org, Shared};
use sigv4::Refusal;

/// The header AWS answers carry their request id in.
const REQUEST_ID: &str = "x-amzn-requestid";

/// How many items one page of each paged operation holds at most. The
/// defaults are AWS's: 100 rules or targets (the most `Limit` asks for),
/// and every result of a `GetMetricData` call (at most 500 queries, one
/// datapoint each, is far below its datapoint limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AwsPaging {
    pub list_rules: usize,
    pub list_targets_by_rule: usize,
    pub get_metric_data: usize,
}

impl Default for AwsPaging {
    fn default() -> AwsPaging {
        AwsPaging {
            list_rules: 100,
            list_targets_by_rule: 100,
            get_metric_data: cloudwatch::MAX_QUERIES,
        }
    }
}

/// An AWS error before it is written in a service's protocol.
pub(crate) struct Failure {
    status: u16,
    code: String,
    message: String,
}

impl Failure {
    fn new(status: u16, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The two services, which name the same failures differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    EventBridge,
    CloudWatch,
}

impl Service {
    fn of(endpoint: Endpoint) -> Service {
        match endpoint {
            Endpoint::GetMetricData | Endpoint::CloudWatchOther => Service::CloudWatch,
            _ => Service::EventBridge,
        }
    }

    /// The service name in SigV4 credential scopes.
    fn signing_name(self) -> &'static str {
        match self {
            Service::EventBridge => "events",
            Service::CloudWatch => "monitoring",
        }
    }

    /// An error answer in this service's protocol.
    fn error(self, status: u16, code: &str, message: &str) -> Response<SimBody> {
        match self {
            Service::EventBridge => eventbridge::error(status, code, message),
            Service::CloudWatch => cloudwatch::error(status, code, message),
        }
    }

    /// A failure's answer in this service's protocol.
    fn answer(self, failure: Failure) -> Response<SimBody> {
        self.error(failure.status, &failure.code, &failure.message)
    }

    /// A refused signature, as this service names it.
    fn refusal(self, refusal: Refusal) -> Failure {
        const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
        let (status, code, message) = match (self, refusal) {
            (Service::EventBridge, Refusal::Missing) => (
                400,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".to_owned(),
            ),
            (Service::EventBridge, Refusal::Incomplete(m)) => {
                (400, "IncompleteSignatureException", m)
            }
            (Service::EventBridge, Refusal::UnknownKey) => {
                (400, "UnrecognizedClientException", INVALID_TOKEN.to_owned())
            }
            (Service::EventBridge, Refusal::Invalid(m)) => (400, "InvalidSignatureException", m),
            (Service::CloudWatch, Refusal::Missing) => (
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token".to_owned(),
            ),
            (Service::CloudWatch, Refusal::Incomplete(m)) => (400, "IncompleteSignature", m),
            (Service::CloudWatch, Refusal::UnknownKey) => {
                (403, "InvalidClientTokenId", INVALID_TOKEN.to_owned())
            }
            (Service::CloudWatch, Refusal::Invalid(m)) => (403, "SignatureDoesNotMatch", m),
        };
        Failure::new(status, code, message)
    }
}

/// The AWS endpoint a request is for, if any: EventBridge by its
/// `X-Amz-Target` on `/`, CloudWatch by its RPC v2 path.
pub(crate) fn endpoint(path: &str, headers: &HeaderMap) -> Option<Endpoint> {
    if path == "/" {
        let target = headers.get("x-amz-target")?.to_str().unwrap_or("");
        return Some(eventbridge::endpoint(target));
    }
    cloudwatch::endpoint(path)
}

/// An AWS request's answer: signature, then the operation.
pub(crate) fn answer(call: &Call<'_>, endpoint: Endpoint) -> Response<SimBody> {
    match Service::of(endpoint) {
        Service::EventBridge => eventbridge::answer(call, endpoint),
        Service::CloudWatch => cloudwatch::answer(call, endpoint),
    }
}

/// A queued AWS error, in the protocol of the endpoint it was queued on.
pub(crate) fn fault(
    endpoint: Endpoint,
    status: u16,
    code: &str,
    message: &str,
) -> Response<SimBody> {
    Service::of(endpoint).error(status, code, message)
}

/// Adds what every AWS answer carries: its request id (counting up per
/// endpoint on a frozen clock) and a `Date` by the simulator's clock, which
/// SDKs compare with their own to correct a skewed clock.
pub(crate) fn finish(shared: &Shared, endpoint: Endpoint, response: &mut Response<SimBody>) {
    let id = shared
        .clock
        .correlation_id(endpoint as usize)
        .unwrap_or_else(correlation_id);
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let date = OffsetDateTime::from(shared.clock.wall())
        .format(&format)
        .unwrap_or_default();
    let headers = response.headers_mut();
    for (name, value) in [(REQUEST_ID, id), (DATE.as_str(), date)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// Whose account signed a request, and for which region.
pub(crate) struct Caller {
    account_id: String,
    region: String,
}

/// Checks the request's signature against every organisation's credentials.
fn authenticate(call: &Call<'_>, service: Service) -> Result<Caller, Failure> {
    let keys = credentials(call.shared);
    let request = sigv4::Signed {
        method: call.method.as_str(),
        path: call.path,
        query: call.query,
        headers: call.headers,
        body: call.body,
    };
    let secrets_of = |key: &str| {
        keys.iter()
            .filter(|(c, _)| c.access_key_id == key)
            .map(|(c, _)| c.secret_access_key.clone())
            .collect()
    };
    let verified = sigv4::verify(
        &request,
        service.signing_name(),
        call.shared.clock.wall(),
        secrets_of,
    )
    .map_err(|refusal| service.refusal(refusal))?;
    let account_id = keys
        .iter()
        .filter(|(c, _)| c.access_key_id == verified.access_key_id)
        .nth(verified.matched)
        .map(|(_, account)| account.clone())
        .unwrap_or_default();
    Ok(Caller {
        account_id,
        region: verified.region,
    })
}

/// Every organisation's credentials, with the account they belong to.
fn credentials(shared: &Shared) -> Vec<(AwsCredentials, String)> {
    let orgs = shared
        .orgs
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    orgs.iter()
        .map(|org| {
            let state = org.state();
            (state.aws.credentials.clone(), state.aws.account_id.clone())
        })
        .collect()
}

/// The organisation whose account holds `name` (a partner source or bus),
/// if the caller may see it: same account, same region.
fn tenant(shared: &Shared, name: &str, caller: &Caller) -> Option<Arc<Org>> {
    let org = shared.org(organization_index(shared, name)?);
    let visible = {
        let state = org.state();
        state.aws.account_id == caller.account_id && state.aws.region == caller.region
    };
    visible.then_some(org)
}

fn organization_index(shared: &Shared, name: &str) -> Option<usize> {
    let org = account::organization_of(name)?;
    let ids = shared
        .organizations
        .read()
        .unwrap_or_else(|e| e.into_inner());
    ids.get(org).copied()
}

/// Which organisation an AWS request is about, for its counters and
/// faults: the one its first partner name names, else the first whose
/// credentials signed it.
pub(crate) fn route(
    shared: &Shared,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<usize> {
    let names = match Service::of(endpoint) {
        Service::EventBridge => eventbridge::names(body),
        Service::CloudWatch => cloudwatch::names(body),
    };
    names
        .iter()
        .find_map(|name| organization_index(shared, name))
        .or_else(|| {
            let key = signing_key_id(headers)?;
            let orgs = shared.orgs.read().unwrap_or_else(|e| e.into_inner());
            orgs.iter()
                .position(|org| org.state().aws.credentials.access_key_id == key)
        })
}

/// The access key id an `Authorization` header names, unchecked.
fn signing_key_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let credential = value.split("Credential=").nth(1)?;
    Some(credential.split('/').next()?.to_owned())
}

/// A page token: where the next page starts, bound to what was asked so
/// that it is refused with another question. Stateless, so a client may
/// repeat a page and the simulator keeps nothing.
fn next_token(offset: usize, question: &str) -> String {
    STANDARD.encode(format!("{offset}:{:016x}", super::data::hash(question)))
}

/// The offset of a page token issued for `question`.
fn resolve_token(token: &str, question: &str) -> Option<usize> {
    let text = String::from_utf8(STANDARD.decode(token).ok()?).ok()?;
    let (offset, hash) = text.split_once(':')?;
    (hash == format!("{:016x}", super::data::hash(question)))
        .then(|| offset.parse().ok())
        .flatten()
}

/// Sets the content type of an answer's body.
fn with_content_type(
    mut response: Response<SimBody>,
    media_type: &'static str,
) -> Response<SimBody> {
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

/// A response with this status and body.
fn response(status: u16, body: Vec<u8>) -> Response<SimBody> {
    let mut response = Response::new(SimBody::full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_are_bound_to_their_question() {
        let token = next_token(40, "bus-a|prefix");
        assert_eq!(resolve_token(&token, "bus-a|prefix"), Some(40));
        assert_eq!(resolve_token(&token, "bus-b|prefix"), None);
        assert_eq!(resolve_token("not a token", "bus-a|prefix"), None);
    }

    #[test]
    fn aws_endpoints_are_told_apart() {
        let mut headers = HeaderMap::new();
        assert!(endpoint("/", &headers).is_none());
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSEvents.ListRules"),
        );
        assert!(endpoint("/", &headers) == Some(Endpoint::ListRules));
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSEvents.PutRule"),
        );
        assert!(endpoint("/", &headers) == Some(Endpoint::EventBridgeOther));
        let path = "/service/GraniteServiceVersion20100801/operation/GetMetricData";
        assert!(endpoint(path, &HeaderMap::new()) == Some(Endpoint::GetMetricData));
        let other = "/service/GraniteServiceVersion20100801/operation/ListMetrics";
        assert!(endpoint(other, &HeaderMap::new()) == Some(Endpoint::CloudWatchOther));
        assert!(endpoint("/service/Other/operation/GetMetricData", &HeaderMap::new()).is_none());
    }
}
