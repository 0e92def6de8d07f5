//! Fault injection: queued per endpoint, one consumed by each request.

use std::time::Duration;

use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use super::response::{CORRELATION_ID, SimBody, api_error, correlation_id};

/// What the next request on an endpoint gets instead of (or before) the
/// normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Exactly this response: status, headers and body as given, nothing
    /// added but what HTTP/1.1 framing needs (`content-length`, `date`).
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Read the request and never answer, until the simulator shuts down.
    Hang,
    /// Send `200` headers and part of a JSON body, then abort the connection.
    ResetMidBody,
    /// An AWS error in the protocol of the AWS endpoint it is queued on:
    /// awsJson `{"__type", "message"}` for EventBridge (`ThrottlingException`,
    /// `AccessDeniedException`, `InternalException` with 500, ...); for
    /// CloudWatch, RPC v2 CBOR with `code` as the query-protocol code SDKs
    /// report (`Throttling`, `AccessDenied`, `InternalServiceError` with
    /// 500, ...). With a request id and a `Date`, as AWS answers.
    AwsError {
        status: u16,
        code: String,
        message: String,
    },
}

impl Fault {
    /// [`Fault::AwsError`] from borrowed text.
    pub fn aws(status: u16, code: &str, message: &str) -> Fault {
        Fault::AwsError {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// The canned response of [`Fault::Respond`]. An unusable status answers
/// 500 and an unusable header is left out, so a bad fault cannot panic.
pub(crate) fn canned_response(
    status: u16,
    headers: &[(String, String)],
    body: &str,
) -> Response<SimBody> {
    let Ok(status) = StatusCode::from_u16(status) else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal.server.error",
            &format!("the configured fault status {status} is not an HTTP status"),
        );
    };
    let mut response = Response::new(SimBody::full(body.to_owned()));
    *response.status_mut() = status;
    for (name, value) in headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::warn!(header = %name, "fault header is not valid HTTP; left out"),
        }
    }
    response
}

/// A `200` that promises a whole JSON page and delivers only its start.
pub(crate) fn reset_mid_body() -> Response<SimBody> {
    let promised = br#"{"totalCount":1,"pageSize":50,"pageToken":null,"nextPage":null,"entity":"event","rows":[{"consumerGroup":"eventbridge-consumer-primary","eventType":"conversation:created","eventCount":1450,"processingLatency":240}]}"#;
    let sent = &promised[..promised.len() / 2];
    let mut response = Response::new(SimBody::truncated(sent.to_vec()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // The full length is announced, so a client sees a short body, not a
    // chunked one that merely ended early.
    headers.insert(CONTENT_LENGTH, HeaderValue::from(promised.len()));
    if let Ok(value) = HeaderValue::from_str(&correlation_id()) {
        headers.insert(CORRELATION_ID, value);
    }
    response
}
