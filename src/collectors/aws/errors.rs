//! What an AWS error means for the collector, from its code and status:
//! the codes AWS's services use for throttling and for refusals differ by
//! service and protocol, so they are listed here once.

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A source or bus that does not exist: a state, not an error.
    NotFound,
    /// Start the cooldown: no request until it ends.
    Throttled,
    /// The identity may not: logged once, the operation held back an hour.
    Denied,
    /// May pass on a retry: 5xx, no answer, a broken connection.
    Transient,
    /// Will not pass on a retry.
    Permanent,
}

const THROTTLED: [&str; 6] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "LimitExceededException",
    "RequestLimitExceeded",
    "ThrottledException",
];

const DENIED: [&str; 7] = [
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "NotAuthorized",
    "ExpiredTokenException",
];

/// `code` is the error's AWS code, `status` its HTTP status (`None`
/// without an answer); `connection` says that no answer came because of
/// the connection (refused, reset, timed out), not because the request
/// could not be made (credentials that cannot be resolved, say).
pub fn kind(code: Option<&str>, status: Option<u16>, connection: bool) -> Kind {
    match (code, status) {
        (Some(c), _) if THROTTLED.contains(&c) => Kind::Throttled,
        (_, Some(429)) => Kind::Throttled,
        (Some(c), _) if DENIED.contains(&c) => Kind::Denied,
        (Some("ResourceNotFoundException"), _) => Kind::NotFound,
        (_, Some(s)) if s >= 500 => Kind::Transient,
        (_, Some(403)) => Kind::Denied,
        (_, None) if connection => Kind::Transient,
        _ => Kind::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_say_what_to_do() {
        assert_eq!(
            kind(Some("ThrottlingException"), Some(400), false),
            Kind::Throttled
        );
        assert_eq!(kind(None, Some(429), false), Kind::Throttled);
        assert_eq!(kind(Some("AccessDenied"), Some(403), false), Kind::Denied);
        assert_eq!(
            kind(Some("AccessDeniedException"), Some(400), false),
            Kind::Denied
        );
        assert_eq!(
            kind(Some("ResourceNotFoundException"), Some(400), false),
            Kind::NotFound
        );
        assert_eq!(
            kind(Some("InternalException"), Some(500), false),
            Kind::Transient
        );
        assert_eq!(kind(None, None, true), Kind::Transient);
        assert_eq!(kind(None, None, false), Kind::Permanent);
        assert_eq!(
            kind(Some("ValidationException"), Some(400), false),
            Kind::Permanent
        );
    }
}
