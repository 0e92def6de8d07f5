//! Amazon CloudWatch's `GetMetricData` in Smithy RPC v2 CBOR, as current
//! SDKs speak it: `POST /service/GraniteServiceVersion20100801/operation/GetMetricData`
//! with `smithy-protocol: rpc-v2-cbor` and a CBOR body, answered in CBOR
//! with the same header. CloudWatch is query-compatible: an error's body
//! holds its shape id in `__type`, and `x-amzn-query-error` holds the code
//! the query protocol used (`InvalidParameterValue;Sender`), which is the
//! code SDKs report.
//!
//! Each query is answered from its dimensions: `Events` by
//! `EventSourceName`, a rule's metrics by `EventBusName` and `RuleName`, in
//! namespace `AWS/Events`. A figure the account does not have is a result
//! without datapoints, as CloudWatch answers when nothing was sent.

use ciborium::Value;
use hyper::header::HeaderValue;
use hyper::{Method, Response};

use super::super::{Call, Endpoint, has_media_type};
use super::account::{AwsAccount, RuleFigures};
use super::cbor::{self, Item, integer, member, timestamp};
use super::{
    Caller, Failure, Service, authenticate, next_token, resolve_token, response, tenant,
    with_content_type,
};
use crate::response::SimBody;

/// The most queries one call may hold.
pub(crate) const MAX_QUERIES: usize = 500;
/// The most datapoints one call may ask for.
const MAX_DATAPOINTS: u64 = 100_800;
const SERVICE: &str = "GraniteServiceVersion20100801";
const MEDIA_TYPE: &str = "application/cbor";
const PROTOCOL: &str = "rpc-v2-cbor";
const NAMESPACE: &str = "AWS/Events";

/// The endpoint of an RPC v2 path: its last four segments are
/// `service/{service}/operation/{operation}`.
pub(crate) fn endpoint(path: &str) -> Option<Endpoint> {
    let segments: Vec<&str> = path.split('/').collect();
    let [.., "service", service, "operation", operation] = segments[..] else {
        return None;
    };
    if service != SERVICE && service != format!("com.amazonaws.cloudwatch.{SERVICE}") {
        return None;
    }
    Some(match operation {
        "GetMetricData" => Endpoint::GetMetricData,
        _ => Endpoint::CloudWatchOther,
    })
}

/// The dimension values of a request's queries, for routing.
pub(crate) fn names(body: &[u8]) -> Vec<String> {
    let Ok(input) = cbor::decode(body) else {
        return Vec::new();
    };
    let queries = member(&input, "MetricDataQueries").and_then(Value::as_array);
    queries
        .into_iter()
        .flatten()
        .filter_map(|q| {
            member(member(member(q, "MetricStat")?, "Metric")?, "Dimensions")?.as_array()
        })
        .flatten()
        .filter_map(|d| Some(member(d, "Value")?.as_text()?.to_owned()))
        .collect()
}

/// The shape id of an error whose query-protocol code is `code`.
fn shape_id(code: &str) -> String {
    let modeled = match code {
        "InternalServiceError" => "InternalServiceFault",
        "InvalidParameterValue" => "InvalidParameterValueException",
        "InvalidParameterCombination" => "InvalidParameterCombinationException",
        "MissingParameter" => "MissingRequiredParameterException",
        "InvalidNextToken" => "InvalidNextToken",
        "ValidationError" => "ValidationException",
        "LimitExceeded" => "LimitExceededFault",
        _ => "",
    };
    if !modeled.is_empty() {
        return format!("com.amazonaws.cloudwatch#{modeled}");
    }
    let common = match code {
        "Throttling" => return "com.amazon.coral.availability#ThrottlingException".into(),
        "InvalidClientTokenId" => "UnrecognizedClientException",
        "SignatureDoesNotMatch" => "InvalidSignatureException",
        "InvalidAction" => "UnknownOperationException",
        code if code.ends_with("Exception") => code,
        code => return format!("com.amazon.coral.service#{code}Exception"),
    };
    format!("com.amazon.coral.service#{common}")
}

/// An RPC v2 CBOR error answer in CloudWatch's query-compatible form.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Response<SimBody> {
    let body = Item::Map(vec![
        ("__type", Item::Text(shape_id(code))),
        ("message", Item::Text(message.to_owned())),
    ]);
    let mut answer = cbor_response(status, &body);
    let fault = if status >= 500 { "Receiver" } else { "Sender" };
    if let Ok(value) = HeaderValue::from_str(&format!("{code};{fault}")) {
        answer.headers_mut().insert("x-amzn-query-error", value);
    }
    answer
}

fn cbor_response(status: u16, body: &Item) -> Response<SimBody> {
    let mut answer = with_content_type(response(status, cbor::encode(body)), MEDIA_TYPE);
    answer
        .headers_mut()
        .insert("smithy-protocol", HeaderValue::from_static(PROTOCOL));
    answer
}

/// A CloudWatch request: method, protocol headers, signature, body, answer.
pub(crate) fn answer(call: &Call<'_>, endpoint: Endpoint) -> Response<SimBody> {
    let operation = call.path.rsplit('/').next().unwrap_or("");
    if endpoint != Endpoint::GetMetricData || call.method != Method::POST {
        let message = format!("Could not find operation {operation} for version 2010-08-01");
        return error(400, "InvalidAction", &message);
    }
    let protocol = call
        .headers
        .get("smithy-protocol")
        .and_then(|v| v.to_str().ok());
    // The protocol forbids these headers: they would select awsJson.
    let targeted =
        call.headers.contains_key("x-amz-target") || call.headers.contains_key("x-amzn-target");
    if protocol != Some(PROTOCOL) || targeted || !has_media_type(call.headers, MEDIA_TYPE) {
        let message = format!(
            "RPC v2 CBOR requests need smithy-protocol: {PROTOCOL} and Content-Type: {MEDIA_TYPE}, \
             and no X-Amz-Target"
        );
        return error(400, "SerializationException", &message);
    }
    let caller = match authenticate(call, Service::CloudWatch) {
        Ok(caller) => caller,
        Err(refused) => return Service::CloudWatch.answer(refused),
    };
    let question = match cbor::decode(call.body) {
        Ok(input) => parse(&input),
        Err(e) => Err(Failure::new(
            400,
            "SerializationException",
            format!("The body is not CBOR: {e}"),
        )),
    };
    match question.and_then(|q| get_metric_data(call, &caller, &q)) {
        Ok(answer) => answer,
        Err(failure) => Service::CloudWatch.answer(failure),
    }
}

/// One `MetricStat` query.
struct Query {
    id: String,
    label: Option<String>,
    namespace: String,
    metric_name: String,
    dimensions: Vec<(String, String)>,
    period: u64,
    stat: String,
    return_data: bool,
}

/// A checked `GetMetricData` input.
struct Question {
    queries: Vec<Query>,
    start: f64,
    end: f64,
    next_token: Option<String>,
    ascending: bool,
}

fn missing(name: &str) -> Failure {
    Failure::new(
        400,
        "MissingParameter",
        format!("The parameter {name} is required."),
    )
}

fn text_member(map: &Value, key: &str) -> Option<String> {
    Some(member(map, key)?.as_text()?.to_owned())
}

/// Checks the input as CloudWatch does; the error is the answer.
fn parse(input: &Value) -> Result<Question, Failure> {
    let queries = member(input, "MetricDataQueries")
        .and_then(Value::as_array)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| missing("MetricDataQueries"))?;
    if queries.len() > MAX_QUERIES {
        let message = format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        );
        return Err(Failure::new(400, "ValidationError", message));
    }
    let start = member(input, "StartTime").ok_or_else(|| missing("StartTime"))?;
    let end = member(input, "EndTime").ok_or_else(|| missing("EndTime"))?;
    let (Some(start), Some(end)) = (timestamp(start), timestamp(end)) else {
        return Err(Failure::new(
            400,
            "SerializationException",
            "StartTime and EndTime must be timestamps (tag 1).",
        ));
    };
    if start >= end {
        let message = "The parameter StartTime must be less than the parameter EndTime.";
        return Err(Failure::new(400, "InvalidParameterValue", message));
    }
    let queries = queries
        .iter()
        .enumerate()
        .map(|(i, q)| parse_query(i + 1, q))
        .collect::<Result<Vec<Query>, _>>()?;
    let mut ids: Vec<&str> = queries.iter().map(|q| q.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        let message = "The values for parameter id in MetricDataQueries are not unique.";
        return Err(Failure::new(400, "ValidationError", message));
    }
    Ok(Question {
        queries,
        start,
        end,
        next_token: text_member(input, "NextToken"),
        ascending: text_member(input, "ScanBy").as_deref() == Some("TimestampAscending"),
    })
}

/// Whether an id is a lowercase letter then letters, digits and `_`.
fn valid_id(id: &str) -> bool {
    id.len() <= 255
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_query(n: usize, query: &Value) -> Result<Query, Failure> {
    let at = format!("MetricDataQueries.member.{n}");
    let id = text_member(query, "Id").ok_or_else(|| missing(&format!("{at}.Id")))?;
    if !valid_id(&id) {
        let message = format!(
            "The value {id} for parameter {at}.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores."
        );
        return Err(Failure::new(400, "ValidationError", message));
    }
    if member(query, "Expression").is_some() {
        let message = format!(
            "{at}.Expression: math expressions and Metrics Insights queries are not answered here; use MetricStat."
        );
        return Err(Failure::new(400, "InvalidParameterValue", message));
    }
    let stat = member(query, "MetricStat").ok_or_else(|| {
        let message = format!(
            "Exactly one element of the metricStat or the expression must be present in {at}."
        );
        Failure::new(400, "ValidationError", message)
    })?;
    let metric =
        member(stat, "Metric").ok_or_else(|| missing(&format!("{at}.MetricStat.Metric")))?;
    let metric_name = text_member(metric, "MetricName")
        .ok_or_else(|| missing(&format!("{at}.MetricStat.Metric.MetricName")))?;
    let period = member(stat, "Period")
        .and_then(integer)
        .ok_or_else(|| missing(&format!("{at}.MetricStat.Period")))?;
    let high_resolution = [1, 5, 10, 20, 30].contains(&period);
    if period <= 0 || !(high_resolution || period % 60 == 0) {
        let message = format!("The parameter {at}.MetricStat.Period must be a multiple of 60.");
        return Err(Failure::new(400, "InvalidParameterValue", message));
    }
    let dimensions = member(metric, "Dimensions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| Some((text_member(d, "Name")?, text_member(d, "Value")?)))
        .collect();
    Ok(Query {
        id,
        label: text_member(query, "Label"),
        namespace: text_member(metric, "Namespace").unwrap_or_default(),
        metric_name,
        dimensions,
        period: period as u64,
        stat: text_member(stat, "Stat").ok_or_else(|| missing(&format!("{at}.MetricStat.Stat")))?,
        return_data: !matches!(member(query, "ReturnData"), Some(Value::Bool(false))),
    })
}

/// The start of each period of `query` in `[start, end)`: the start rounded
/// down to the whole minute (to the period below one), then a period apart.
fn periods(query: &Query, start: f64, end: f64) -> Vec<i64> {
    let step = query.period as i64;
    let unit = step.min(60);
    let first = (start as i64).div_euclid(unit) * unit;
    (0..)
        .map(|k| first + k * step)
        .take_while(|t| (*t as f64) < end)
        .collect()
}

fn get_metric_data(
    call: &Call<'_>,
    caller: &Caller,
    question: &Question,
) -> Result<Response<SimBody>, Failure> {
    let requested: u64 = question
        .queries
        .iter()
        .map(|q| ((question.end - question.start) / q.period as f64).ceil() as u64)
        .sum();
    if requested > MAX_DATAPOINTS {
        let message = format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of {MAX_DATAPOINTS}."
        );
        return Err(Failure::new(400, "InvalidParameterCombination", message));
    }
    let returned: Vec<&Query> = question.queries.iter().filter(|q| q.return_data).collect();
    let fingerprint = format!(
        "GetMetricData|{}|{}|{}",
        question.start,
        question.end,
        returned
            .iter()
            .map(|q| q.id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let offset = match &question.next_token {
        None => 0,
        Some(token) => match resolve_token(token, &fingerprint) {
            Some(offset) => offset,
            None => {
                let message = "The NextToken provided is not valid.";
                return Err(Failure::new(400, "InvalidNextToken", message));
            }
        },
    };
    let size = call.org.state().aws_paging.get_metric_data.max(1);
    let start = offset.min(returned.len());
    let end = offset.saturating_add(size).min(returned.len());
    let results = returned[start..end]
        .iter()
        .map(|q| result(call, caller, question, q))
        .collect();
    let mut body = vec![
        ("MetricDataResults", Item::Array(results)),
        ("Messages", Item::Array(Vec::new())),
    ];
    if end < returned.len() {
        body.push(("NextToken", Item::Text(next_token(end, &fingerprint))));
    }
    Ok(cbor_response(200, &Item::Map(body)))
}

/// One `MetricDataResult`: the figure at every period asked, or nothing.
fn result(call: &Call<'_>, caller: &Caller, question: &Question, query: &Query) -> Item {
    let value = figure(call, caller, query);
    let mut stamps = match value {
        Some(_) => periods(query, question.start, question.end),
        None => Vec::new(),
    };
    if !question.ascending {
        stamps.reverse();
    }
    let values = stamps
        .iter()
        .filter_map(|_| value.map(Item::Double))
        .collect();
    Item::Map(vec![
        ("Id", Item::Text(query.id.clone())),
        (
            "Label",
            Item::Text(
                query
                    .label
                    .clone()
                    .unwrap_or_else(|| query.metric_name.clone()),
            ),
        ),
        (
            "Timestamps",
            Item::Array(stamps.into_iter().map(Item::Timestamp).collect()),
        ),
        ("Values", Item::Array(values)),
        ("StatusCode", Item::Text("Complete".into())),
    ])
}

/// The account's figure for a query, if it has one.
fn figure(call: &Call<'_>, caller: &Caller, query: &Query) -> Option<f64> {
    if query.namespace != NAMESPACE {
        return None;
    }
    let mut dims: Vec<(&str, &str)> = query
        .dimensions
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    dims.sort_unstable();
    let (key, dims) = match dims[..] {
        [("EventSourceName", source)] => (source, Dims::Source(source)),
        [("EventBusName", bus), ("RuleName", rule)] => (bus, Dims::Rule(bus, rule)),
        _ => return None,
    };
    let org = tenant(call.shared, key, caller)?;
    let state = org.state();
    lookup(&state.aws, dims, &query.metric_name, &query.stat)
}

enum Dims<'a> {
    Source(&'a str),
    Rule(&'a str, &'a str),
}

fn lookup(account: &AwsAccount, dims: Dims<'_>, metric: &str, stat: &str) -> Option<f64> {
    match dims {
        Dims::Source(name) if metric == "Events" && stat == "Sum" => {
            account
                .event_sources
                .iter()
                .find(|s| s.name == name)?
                .events
        }
        Dims::Source(_) => None,
        Dims::Rule(bus, rule) => {
            let bus = account.event_buses.iter().find(|b| b.name == bus)?;
            let rule = bus.rules.iter().find(|r| r.name == rule)?;
            rule_figure(&rule.figures, metric, stat)
        }
    }
}

fn rule_figure(f: &RuleFigures, metric: &str, stat: &str) -> Option<f64> {
    match (metric, stat) {
        ("Invocations", "Sum") => f.invocations,
        ("FailedInvocations", "Sum") => f.failed_invocations,
        ("RetryInvocationAttempts", "Sum") => f.retry_invocation_attempts,
        ("ThrottledRules", "Sum") => f.throttled_rules,
        ("InvocationsSentToDlq", "Sum") => f.invocations_sent_to_dlq,
        ("InvocationsFailedToBeSentToDlq", "Sum") => f.invocations_failed_to_be_sent_to_dlq,
        ("IngestionToInvocationSuccessLatency", "Average") => f.latency_average_ms,
        ("IngestionToInvocationSuccessLatency", "Maximum") => f.latency_maximum_ms,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(period: u64) -> Query {
        Query {
            id: "q".into(),
            label: None,
            namespace: NAMESPACE.into(),
            metric_name: "Events".into(),
            dimensions: Vec::new(),
            period,
            stat: "Sum".into(),
            return_data: true,
        }
    }

    #[test]
    fn one_datapoint_per_period_at_its_start() {
        let (start, end) = (1_796_126_100.0, 1_796_126_400.0);
        assert_eq!(periods(&query(300), start, end), [1_796_126_100]);
        assert_eq!(periods(&query(60), start, end).len(), 5);
        // A start inside a minute is rounded down to it.
        assert_eq!(periods(&query(300), start + 17.0, end), [1_796_126_100]);
    }

    #[test]
    fn errors_carry_their_query_code() {
        let answer = error(400, "InvalidParameterValue", "bad");
        assert_eq!(
            answer.headers()["x-amzn-query-error"],
            "InvalidParameterValue;Sender"
        );
        assert_eq!(answer.headers()["smithy-protocol"], PROTOCOL);
        let answer = error(500, "InternalServiceError", "oops");
        assert_eq!(
            answer.headers()["x-amzn-query-error"],
            "InternalServiceError;Receiver"
        );
        assert_eq!(
            shape_id("ValidationError"),
            "com.amazonaws.cloudwatch#ValidationException"
        );
        assert_eq!(
            shape_id("AccessDenied"),
            "com.amazon.coral.service#AccessDeniedException"
        );
        assert_eq!(
            shape_id("Throttling"),
            "com.amazon.coral.availability#ThrottlingException"
        );
    }

    #[test]
    fn query_ids_follow_the_model() {
        assert!(valid_id("q_0"));
        assert!(!valid_id("Q0"));
        assert!(!valid_id("0q"));
        assert!(!valid_id("q-0"));
    }
}
