//! Typed failures of a query, each mapped to the `reason` label operators alert on.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::telemetry::Endpoint;

/// The `reason` label of `genesys_eventbridge_query_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureReason {
    RateLimited,
    Unauthorized,
    Forbidden,
    BadRequest,
    /// The endpoint does not exist (404): the analytics query's, in an
    /// organisation whose API lacks it.
    NotFound,
    Http,
    Timeout,
    Connect,
    /// The server's TLS certificate is not trusted: not retried.
    Tls,
    Decode,
    Pagination,
    /// A bug: the query panicked.
    Internal,
}

impl FailureReason {
    pub const ALL: [FailureReason; 12] = [
        FailureReason::RateLimited,
        FailureReason::Unauthorized,
        FailureReason::Forbidden,
        FailureReason::BadRequest,
        FailureReason::NotFound,
        FailureReason::Http,
        FailureReason::Timeout,
        FailureReason::Connect,
        FailureReason::Tls,
        FailureReason::Decode,
        FailureReason::Pagination,
        FailureReason::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::RateLimited => "rate_limited",
            FailureReason::Unauthorized => "unauthorized",
            FailureReason::Forbidden => "forbidden",
            FailureReason::BadRequest => "bad_request",
            FailureReason::NotFound => "not_found",
            FailureReason::Http => "http",
            FailureReason::Timeout => "timeout",
            FailureReason::Connect => "connect",
            FailureReason::Tls => "tls",
            FailureReason::Decode => "decode",
            FailureReason::Pagination => "pagination",
            FailureReason::Internal => "internal",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn reason_of_status(status: u16) -> FailureReason {
    match status {
        401 => FailureReason::Unauthorized,
        403 => FailureReason::Forbidden,
        404 => FailureReason::NotFound,
        429 => FailureReason::RateLimited,
        400..=499 => FailureReason::BadRequest,
        _ => FailureReason::Http,
    }
}

/// What a Genesys error body and headers say about a failure. Genesys API
/// errors carry `message`/`code`/`contextId`; the login service answers
/// OAuth-style `error`/`error_description`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiErrorDetail {
    pub message: Option<String>,
    pub code: Option<String>,
    pub context_id: Option<String>,
    pub correlation_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    message: Option<String>,
    code: Option<String>,
    context_id: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    description: Option<String>,
}

/// Longest message kept from an error body, so a huge HTML page cannot flood the logs.
const MAX_MESSAGE_CHARS: usize = 300;

impl ApiErrorDetail {
    pub fn parse(body: &[u8], correlation_id: Option<String>) -> ApiErrorDetail {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let clip = |s: String| -> String {
            if s.chars().count() > MAX_MESSAGE_CHARS {
                let mut t: String = s.chars().take(MAX_MESSAGE_CHARS).collect();
                t.push('…');
                t
            } else {
                s
            }
        };
        match parsed {
            Some(b) => ApiErrorDetail {
                message: b
                    .message
                    .or(b.error_description)
                    .or(b.description)
                    .map(clip),
                code: b.code.or(b.error).map(clip),
                context_id: b.context_id.map(clip),
                correlation_id,
            },
            None => ApiErrorDetail {
                message: (!body.is_empty()).then(|| {
                    clip(
                        String::from_utf8_lossy(body)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                }),
                correlation_id,
                ..ApiErrorDetail::default()
            },
        }
    }
}

impl fmt::Display for ApiErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = " (";
        for (key, value) in [
            ("code", &self.code),
            ("message", &self.message),
            ("contextId", &self.context_id),
            ("correlationId", &self.correlation_id),
        ] {
            if let Some(v) = value {
                write!(f, "{sep}{key}={v:?}")?;
                sep = ", ";
            }
        }
        if sep == ", " {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// How to make the exporter trust a private CA, as this build loads its
/// trust roots (rustls-native-certs through rustls-platform-verifier).
pub const PRIVATE_CA_HINT: &str = "to trust a private CA, point SSL_CERT_FILE at a PEM file \
     holding it and the public CAs (when SSL_CERT_FILE or SSL_CERT_DIR is set, only they are \
     read), or add it to the trust store of the system (Debian, Ubuntu: /usr/local/share/ca-certificates/, \
     then update-ca-certificates), and restart the exporter";

/// A failed query or token request. Those of one request name the host it
/// went to, so that a log line says where the failure is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    #[error("{} endpoint at {host} answered HTTP {status}{detail}", endpoint.as_str())]
    Status {
        endpoint: Endpoint,
        host: Arc<str>,
        status: u16,
        /// Boxed: most errors carry none, and every result carries the
        /// error's size.
        detail: Box<ApiErrorDetail>,
    },
    #[error("rate limited by the API: no request is sent for another {:.1}s", remaining.as_secs_f64())]
    CoolingDown { remaining: Duration },
    #[error("{} request to {host} timed out (time budget {:.1}s)", endpoint.as_str(), budget.as_secs_f64())]
    Timeout {
        endpoint: Endpoint,
        host: Arc<str>,
        budget: Duration,
    },
    #[error("{} request to {host} failed: {message}", endpoint.as_str())]
    Transport {
        endpoint: Endpoint,
        host: Arc<str>,
        message: String,
    },
    /// The server's certificate did not verify: asking again will not
    /// change that, so it is not retried.
    #[error(
        "{} request to {host}: the TLS certificate of the server is not trusted ({message}); {hint}",
        endpoint.as_str(),
        hint = PRIVATE_CA_HINT
    )]
    Tls {
        endpoint: Endpoint,
        host: Arc<str>,
        message: String,
    },
    #[error("cannot decode the {} response: {message}", endpoint.as_str())]
    Decode { endpoint: Endpoint, message: String },
    #[error("pagination stopped: {0}")]
    Pagination(String),
    /// The token request another request of the cycle sent, and this one
    /// waited for, failed.
    #[error("{failed} (this request waited for that token request, sent for another)")]
    WaitedForToken { failed: Box<QueryError> },
}

impl QueryError {
    pub fn reason(&self) -> FailureReason {
        match self {
            QueryError::Status { status, .. } => reason_of_status(*status),
            QueryError::CoolingDown { .. } => FailureReason::RateLimited,
            QueryError::Timeout { .. } => FailureReason::Timeout,
            QueryError::Transport { .. } => FailureReason::Connect,
            QueryError::Tls { .. } => FailureReason::Tls,
            QueryError::Decode { .. } => FailureReason::Decode,
            QueryError::Pagination(_) => FailureReason::Pagination,
            QueryError::WaitedForToken { failed } => failed.reason(),
        }
    }

    /// The endpoint whose request failed, when one did.
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            QueryError::Status { endpoint, .. }
            | QueryError::Timeout { endpoint, .. }
            | QueryError::Transport { endpoint, .. }
            | QueryError::Tls { endpoint, .. }
            | QueryError::Decode { endpoint, .. } => Some(*endpoint),
            QueryError::WaitedForToken { failed } => failed.endpoint(),
            QueryError::CoolingDown { .. } | QueryError::Pagination(_) => None,
        }
    }

    /// `failed`, as a request that waited for that token request sees it.
    pub fn waited_for_token(failed: QueryError) -> QueryError {
        QueryError::WaitedForToken {
            failed: Box::new(failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesys_error_bodies_are_read() {
        let body = br#"{"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"abc-123","details":[],"errors":[]}"#;
        let d = ApiErrorDetail::parse(body, Some("abc-123".into()));
        assert_eq!(d.code.as_deref(), Some("too.many.requests.retry.after"));
        assert_eq!(d.context_id.as_deref(), Some("abc-123"));
        let err = QueryError::Status {
            endpoint: Endpoint::new(1, "query"),
            host: "api.example.com".into(),
            status: 429,
            detail: Box::new(d),
        };
        assert_eq!(err.reason(), FailureReason::RateLimited);
        assert!(
            err.to_string()
                .contains("code=\"too.many.requests.retry.after\"")
        );
    }

    #[test]
    fn oauth_error_bodies_are_read() {
        let body = br#"{"error":"invalid_client","description":"client not found","error_description":"client not found"}"#;
        let d = ApiErrorDetail::parse(body, None);
        assert_eq!(d.code.as_deref(), Some("invalid_client"));
        assert_eq!(d.message.as_deref(), Some("client not found"));
    }

    #[test]
    fn statuses_map_to_reasons() {
        let reason = |status| {
            QueryError::Status {
                endpoint: Endpoint::new(1, "query"),
                host: "api.example.com".into(),
                status,
                detail: Box::default(),
            }
            .reason()
        };
        assert_eq!(reason(401), FailureReason::Unauthorized);
        assert_eq!(reason(403), FailureReason::Forbidden);
        assert_eq!(reason(400), FailureReason::BadRequest);
        assert_eq!(reason(404), FailureReason::NotFound);
        assert_eq!(reason(410), FailureReason::BadRequest);
        assert_eq!(reason(503), FailureReason::Http);
    }

    #[test]
    fn html_bodies_are_clipped() {
        let body = format!("<html>{}</html>", "x".repeat(5000));
        let d = ApiErrorDetail::parse(body.as_bytes(), None);
        assert!(d.message.unwrap().chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
