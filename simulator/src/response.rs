//! Response building: the body type the server sends, Genesys error bodies
//! and correlation ids.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// Header Genesys puts on every response; equal to the error body's `contextId`.
pub(crate) const CORRELATION_ID: &str = "inin-correlation-id";

/// How long a truncated body waits after its partial chunk before failing,
/// so that the chunk is flushed to the socket before the connection drops.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(50);

/// The response body: either complete, or a chunk followed by an error that
/// makes hyper abort the connection (a reset in the middle of a body).
pub(crate) struct SimBody {
    state: BodyState,
}

enum BodyState {
    Full(Option<Bytes>),
    Truncated {
        chunk: Option<Bytes>,
        pause: Pin<Box<tokio::time::Sleep>>,
    },
    Done,
}

impl SimBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> SimBody {
        let bytes = bytes.into();
        let state = if bytes.is_empty() {
            BodyState::Done
        } else {
            BodyState::Full(Some(bytes))
        };
        SimBody { state }
    }

    pub(crate) fn truncated(chunk: impl Into<Bytes>) -> SimBody {
        SimBody {
            state: BodyState::Truncated {
                chunk: Some(chunk.into()),
                pause: Box::pin(tokio::time::sleep(TRUNCATE_PAUSE)),
            },
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        match &mut this.state {
            BodyState::Full(bytes) => {
                let out = bytes.take().map(|b| Ok(Frame::data(b)));
                this.state = BodyState::Done;
                Poll::Ready(out)
            }
            BodyState::Truncated { chunk, pause } => {
                if let Some(chunk) = chunk.take() {
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                match pause.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => {
                        this.state = BodyState::Done;
                        Poll::Ready(Some(Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "simulated connection reset in the middle of a body",
                        ))))
                    }
                }
            }
            BodyState::Done => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, BodyState::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            BodyState::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            BodyState::Full(None) | BodyState::Done => SizeHint::with_exact(0),
            BodyState::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// A random id in the UUID v4 layout, as Genesys uses for `contextId`.
pub(crate) fn correlation_id() -> String {
    uuid_v4(fastrand::u64(..), fastrand::u64(..))
}

/// 128 bits in the UUID v4 layout.
pub(crate) fn uuid_v4(hi: u64, lo: u64) -> String {
    // Version 4 and the RFC 4122 variant bits, so that it parses as a UUID.
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & !(0xc000_u64 << 48)) | (0x8000_u64 << 48);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// A JSON response carrying the given correlation id.
pub(crate) fn json_response(
    status: StatusCode,
    correlation: &str,
    body: &Value,
) -> Response<SimBody> {
    let text = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(SimBody::full(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(correlation) {
        headers.insert(CORRELATION_ID, value);
    }
    response
}

/// The platform API error body (`ErrorBody`), with a fresh correlation id
/// that is both the `contextId` and the `ININ-Correlation-Id` header.
pub(crate) fn api_error(status: StatusCode, code: &str, message: &str) -> Response<SimBody> {
    let correlation = correlation_id();
    let body = json!({
        "message": message,
        "code": code,
        "status": status.as_u16(),
        "contextId": correlation,
        "details": [],
        "errors": [],
    });
    json_response(status, &correlation, &body)
}

/// A 400 whose message names the offending field.
pub(crate) fn bad_request(message: &str) -> Response<SimBody> {
    api_error(StatusCode::BAD_REQUEST, "bad.request", message)
}

/// The login service's error body, which differs from the platform API's.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response<SimBody> {
    let body = json!({
        "error": error,
        "description": description,
        "error_description": description,
    });
    json_response(status, &correlation_id(), &body)
}

/// Sets a header whose value is known to be valid ASCII.
pub(crate) fn set_header(response: &mut Response<SimBody>, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}
