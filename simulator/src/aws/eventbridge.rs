//! Amazon EventBridge in awsJson1.1: `POST /` with `X-Amz-Target:
//! AWSEvents.<Operation>` and a JSON body, answered with
//! `application/x-amz-json-1.1`; errors are `{"__type", "message"}` with
//! status 400 (500 for `InternalException`). Three read operations of the
//! customer's side: `DescribeEventSource`, `ListRules`, `ListTargetsByRule`,
//! with AWS's input constraints and `NextToken` paging.

use hyper::{Method, Response};
use serde_json::{Map, Value, json};

use super::super::{Call, Endpoint, has_media_type};
use super::account::{EventSource, PARTNER, Rule, Target};
use super::{
    Caller, Failure, Service, authenticate, next_token, resolve_token, response, tenant,
    with_content_type,
};
use crate::response::SimBody;

const TARGET_PREFIX: &str = "AWSEvents.";
const MEDIA_TYPE: &str = "application/x-amz-json-1.1";
/// The most items `Limit` may ask for.
const MAX_LIMIT: u64 = 100;
/// The bus every account has; rules on it are no partner's.
const DEFAULT_BUS: &str = "default";

/// The endpoint of an `X-Amz-Target`.
pub(crate) fn endpoint(target: &str) -> Endpoint {
    match target.strip_prefix(TARGET_PREFIX) {
        Some("DescribeEventSource") => Endpoint::DescribeEventSource,
        Some("ListRules") => Endpoint::ListRules,
        Some("ListTargetsByRule") => Endpoint::ListTargetsByRule,
        _ => Endpoint::EventBridgeOther,
    }
}

/// The source or bus names a request body holds, for routing.
pub(crate) fn names(body: &[u8]) -> Vec<String> {
    let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    ["Name", "EventBusName"]
        .iter()
        .filter_map(|key| input.get(*key)?.as_str())
        .map(|name| bus_of_arn(name).unwrap_or(name).to_owned())
        .collect()
}

/// An awsJson error answer.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Response<SimBody> {
    let body = json!({"__type": code, "message": message});
    with_content_type(response(status, body.to_string().into_bytes()), MEDIA_TYPE)
}

fn ok(body: &Value) -> Response<SimBody> {
    with_content_type(response(200, body.to_string().into_bytes()), MEDIA_TYPE)
}

/// AWS's message for an input that breaks a constraint of the model.
fn invalid(field: &str, value: Option<&str>, constraint: &str) -> Failure {
    let value = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
    Failure::new(
        400,
        "ValidationException",
        format!(
            "1 validation error detected: Value {value} at '{field}' failed to satisfy \
             constraint: {constraint}"
        ),
    )
}

fn not_found(message: String) -> Failure {
    Failure::new(400, "ResourceNotFoundException", message)
}

/// An EventBridge request: method, media type, signature, body, operation.
pub(crate) fn answer(call: &Call<'_>, endpoint: Endpoint) -> Response<SimBody> {
    if endpoint == Endpoint::EventBridgeOther || call.method != Method::POST {
        let target = call
            .headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok());
        return error(
            400,
            "UnknownOperationException",
            &format!(
                "{} {} is not an operation of this service.",
                call.method,
                target.unwrap_or("")
            ),
        );
    }
    if !has_media_type(call.headers, MEDIA_TYPE) {
        return error(
            400,
            "SerializationException",
            &format!("Content-Type must be {MEDIA_TYPE}"),
        );
    }
    let caller = match authenticate(call, Service::EventBridge) {
        Ok(caller) => caller,
        Err(refused) => return Service::EventBridge.answer(refused),
    };
    let input = match serde_json::from_slice::<Value>(call.body) {
        Ok(Value::Object(input)) => input,
        _ => {
            return error(
                400,
                "SerializationException",
                "The request body is not a JSON object.",
            );
        }
    };
    let answered = match endpoint {
        Endpoint::DescribeEventSource => describe_event_source(call, &caller, &input),
        Endpoint::ListRules => list_rules(call, &caller, &input),
        _ => list_targets_by_rule(call, &caller, &input),
    };
    answered.unwrap_or_else(|failure| Service::EventBridge.answer(failure))
}

type Answer = Result<Response<SimBody>, Failure>;

/// A string member, absent or null as `None`, another type refused.
fn string<'a>(input: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Failure> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Failure::new(
            400,
            "SerializationException",
            format!("{key} must be a string."),
        )),
    }
}

/// Whether every character is one of `[.\-_A-Za-z0-9]` (and `/` if allowed).
fn name_chars(text: &str, slash: bool) -> bool {
    !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || (slash && c == '/')
        })
}

fn describe_event_source(call: &Call<'_>, caller: &Caller, input: &Map<String, Value>) -> Answer {
    const PATTERN: &str = r"aws\.partner(/[\.\-_A-Za-z0-9]+){2,}";
    let name =
        string(input, "Name")?.ok_or_else(|| invalid("name", None, "Member must not be null"))?;
    let segments: Vec<&str> = name.split('/').collect();
    let valid = name.len() <= 256
        && segments[0] == "aws.partner"
        && segments.len() >= 3
        && segments[1..].iter().all(|s| name_chars(s, false));
    if !valid {
        let constraint = format!("Member must satisfy regular expression pattern: {PATTERN}");
        return Err(invalid("name", Some(name), &constraint));
    }
    let source: Option<EventSource> = tenant(call.shared, name, caller).and_then(|org| {
        org.state()
            .aws
            .event_sources
            .iter()
            .find(|s| s.name == name)
            .cloned()
    });
    let Some(source) = source else {
        return Err(not_found(format!("Event source {name} does not exist.")));
    };
    let mut body = json!({
        "Arn": format!("arn:aws:events:{}::event-source/{}", caller.region, source.name),
        "CreatedBy": PARTNER,
        "CreationTime": source.creation_time,
        "Name": source.name,
        "State": source.state.as_str(),
    });
    if let Some(expiry) = source.expiration_time {
        body["ExpirationTime"] = json!(expiry);
    }
    Ok(ok(&body))
}

/// The bus name of an event bus ARN.
fn bus_of_arn(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("arn:aws")?;
    let (_, resource) = rest.split_once(":event-bus/")?;
    Some(resource)
}

/// The bus a request names: `default` when none, a name or an ARN of the
/// caller's account and region (another's is never found).
fn bus(input: &Map<String, Value>, caller: &Caller) -> Result<(String, bool), Failure> {
    let Some(given) = string(input, "EventBusName")? else {
        return Ok((DEFAULT_BUS.to_owned(), true));
    };
    let name = bus_of_arn(given).unwrap_or(given);
    let own_arn = format!(
        "arn:aws:events:{}:{}:event-bus/",
        caller.region, caller.account_id
    );
    let visible = given == name || given.starts_with(&own_arn);
    if given.len() > 1600 || !name_chars(name, true) {
        let constraint = r"Member must satisfy regular expression pattern: (arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+";
        return Err(invalid("eventBusName", Some(given), constraint));
    }
    Ok((name.to_owned(), visible))
}

/// `Limit`, 1 to 100, and the page size it makes with the simulator's.
fn page_size(input: &Map<String, Value>, simulated: usize) -> Result<usize, Failure> {
    let limit = match input.get("Limit") {
        None | Some(Value::Null) => MAX_LIMIT,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                let text = v.to_string();
                let constraint = "Member must have value between 1 and 100";
                return Err(invalid("limit", Some(&text), constraint));
            }
        },
    };
    Ok((limit as usize).min(simulated).max(1))
}

/// The page of `items` a `NextToken` (or its absence) asks for, and the
/// token of the next page.
fn page<T: Clone>(
    items: &[T],
    input: &Map<String, Value>,
    size: usize,
    question: &str,
) -> Result<(Vec<T>, Option<String>), Failure> {
    let offset = match string(input, "NextToken")? {
        None => 0,
        Some(token) => resolve_token(token, question).ok_or_else(|| {
            Failure::new(
                400,
                "ValidationException",
                "The NextToken provided is not valid.",
            )
        })?,
    };
    let start = offset.min(items.len());
    let end = offset.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| next_token(end, question));
    Ok((items[start..end].to_vec(), next))
}

/// The rules of a bus of the caller's, or `None` when there is no such bus.
fn rules_of(call: &Call<'_>, caller: &Caller, bus: &str, visible: bool) -> Option<Vec<Rule>> {
    if bus == DEFAULT_BUS {
        return visible.then(Vec::new);
    }
    let org = tenant(call.shared, bus, caller).filter(|_| visible)?;
    let state = org.state();
    let found = state.aws.event_buses.iter().find(|b| b.name == bus)?;
    Some(found.rules.clone())
}

fn list_rules(call: &Call<'_>, caller: &Caller, input: &Map<String, Value>) -> Answer {
    let (bus, visible) = bus(input, caller)?;
    let prefix = string(input, "NamePrefix")?.unwrap_or("");
    if prefix.len() > 64 || !(prefix.is_empty() || name_chars(prefix, false)) {
        let constraint = r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+";
        return Err(invalid("namePrefix", Some(prefix), constraint));
    }
    let size = page_size(input, call.org.state().aws_paging.list_rules)?;
    let Some(mut rules) = rules_of(call, caller, &bus, visible) else {
        return Err(not_found(format!("Event bus {bus} does not exist.")));
    };
    rules.retain(|r| r.name.starts_with(prefix));
    rules.sort_by(|a, b| a.name.cmp(&b.name));
    let (rules, next) = page(&rules, input, size, &format!("ListRules|{bus}|{prefix}"))?;
    let rules: Vec<Value> = rules.iter().map(|r| rule_json(r, &bus, caller)).collect();
    let mut body = json!({"Rules": rules});
    if let Some(token) = next {
        body["NextToken"] = json!(token);
    }
    Ok(ok(&body))
}

fn rule_json(rule: &Rule, bus: &str, caller: &Caller) -> Value {
    let path = match bus {
        DEFAULT_BUS => rule.name.clone(),
        bus => format!("{bus}/{}", rule.name),
    };
    let mut value = json!({
        "Name": rule.name,
        "Arn": format!("arn:aws:events:{}:{}:rule/{path}", caller.region, caller.account_id),
        "EventPattern": rule.event_pattern,
        "State": rule.state.as_str(),
        "EventBusName": bus,
    });
    if let Some(description) = &rule.description {
        value["Description"] = json!(description);
    }
    value
}

fn list_targets_by_rule(call: &Call<'_>, caller: &Caller, input: &Map<String, Value>) -> Answer {
    let (bus, visible) = bus(input, caller)?;
    let rule =
        string(input, "Rule")?.ok_or_else(|| invalid("rule", None, "Member must not be null"))?;
    if rule.len() > 64 || !name_chars(rule, false) {
        let constraint = r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+";
        return Err(invalid("rule", Some(rule), constraint));
    }
    let size = page_size(input, call.org.state().aws_paging.list_targets_by_rule)?;
    let targets = rules_of(call, caller, &bus, visible)
        .and_then(|rules| rules.into_iter().find(|r| r.name == rule))
        .map(|r| r.targets);
    let Some(targets) = targets else {
        return Err(not_found(format!(
            "Rule {rule} does not exist on EventBus {bus}."
        )));
    };
    let question = format!("ListTargetsByRule|{bus}|{rule}");
    let (targets, next) = page(&targets, input, size, &question)?;
    let targets: Vec<Value> = targets.iter().map(target_json).collect();
    let mut body = json!({"Targets": targets});
    if let Some(token) = next {
        body["NextToken"] = json!(token);
    }
    Ok(ok(&body))
}

fn target_json(target: &Target) -> Value {
    let mut value = json!({"Id": target.id, "Arn": target.arn});
    if let Some(arn) = &target.dead_letter_arn {
        value["DeadLetterConfig"] = json!({"Arn": arn});
    }
    if let Some(policy) = target.retry_policy {
        value["RetryPolicy"] = json!({
            "MaximumRetryAttempts": policy.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": policy.maximum_event_age_in_seconds,
        });
    }
    value
}
