//! The login service: `POST /oauth/token` (client credentials grant) and the
//! store of issued bearer tokens that the query endpoint checks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::header::AUTHORIZATION;
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::json;

use super::response::{SimBody, correlation_id, json_response, oauth_error};

/// Issued tokens. A revoked one is kept until it would have expired, so that
/// requests still bearing it are known to be its organisation's.
#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, Issued>,
}

struct Issued {
    org: usize,
    expiry: Instant,
    revoked: bool,
}

/// What the query endpoint learns about a presented bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenStatus {
    Valid,
    Expired,
    Unknown,
}

impl TokenStore {
    pub(crate) fn issue(&mut self, org: usize, lifetime: Duration, now: Instant) -> String {
        // Expired tokens are dropped here so a long demo run stays bounded.
        self.tokens.retain(|_, issued| issued.expiry > now);
        let token = random_token(48);
        let expiry = now.checked_add(lifetime).unwrap_or(now);
        let issued = Issued {
            org,
            expiry,
            revoked: false,
        };
        self.tokens.insert(token.clone(), issued);
        token
    }

    pub(crate) fn status(&self, token: &str, now: Instant) -> TokenStatus {
        match self.tokens.get(token) {
            Some(issued) if issued.revoked => TokenStatus::Unknown,
            Some(issued) if issued.expiry > now => TokenStatus::Valid,
            Some(_) => TokenStatus::Expired,
            None => TokenStatus::Unknown,
        }
    }

    /// The organisation a token was issued to, revoked or expired or not.
    pub(crate) fn owner(&self, token: &str) -> Option<usize> {
        self.tokens.get(token).map(|issued| issued.org)
    }

    /// Invalidates every token of one organisation.
    pub(crate) fn revoke(&mut self, org: usize) {
        for issued in self.tokens.values_mut().filter(|i| i.org == org) {
            issued.revoked = true;
        }
    }
}

/// An opaque token in the base64url alphabet, like the real ones.
pub(crate) fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// The configured OAuth client.
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) token_lifetime: Duration,
}

/// `POST /oauth/token`.
pub(crate) fn answer(call: &super::Call<'_>) -> Response<SimBody> {
    if call.method != hyper::Method::POST {
        return super::method_not_allowed(call.method, "POST");
    }
    token_endpoint(
        call.headers,
        call.body,
        &call.org.client,
        call.org.index,
        &mut call.shared.tokens(),
        call.shared.clock.now(),
    )
}

/// Answers a request to `/oauth/token` (method already checked).
fn token_endpoint(
    headers: &HeaderMap,
    body: &[u8],
    client: &Client,
    org: usize,
    store: &mut TokenStore,
    now: Instant,
) -> Response<SimBody> {
    match basic_credentials(headers) {
        Some((id, secret)) if id == client.id && secret == client.secret => {}
        Some(_) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client id or secret is not valid",
            );
        }
        None => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication with an Authorization: Basic header is required",
            );
        }
    }
    if !super::has_media_type(headers, "application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    if let Err((error, description)) = check_grant(body) {
        return oauth_error(StatusCode::BAD_REQUEST, error, &description);
    }
    let token = store.issue(org, client.token_lifetime, now);
    let body = json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": client.token_lifetime.as_secs(),
    });
    json_response(StatusCode::OK, &correlation_id(), &body)
}

/// Why a token request body was refused: the OAuth `error` code and its
/// description.
type GrantError = (&'static str, String);

/// The body must be the form `grant_type=client_credentials` and nothing else.
fn check_grant(body: &[u8]) -> Result<(), GrantError> {
    let invalid = |description: String| Err(("invalid_request", description));
    let Ok(text) = std::str::from_utf8(body) else {
        return invalid("request body is not UTF-8".into());
    };
    let mut grant = None;
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(name), Some(value)) = (form_decode(name), form_decode(value)) else {
            return invalid("request body is not valid form encoding".into());
        };
        if name != "grant_type" {
            return invalid(format!("unsupported parameter {name}"));
        }
        if grant.replace(value).is_some() {
            return invalid("grant_type is given more than once".into());
        }
    }
    match grant.as_deref() {
        Some("client_credentials") => Ok(()),
        Some(other) => Err((
            "unsupported_grant_type",
            format!("grant type {other} is not supported"),
        )),
        None => invalid("grant_type is required".into()),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `(client_id, client_secret)` from `Authorization: Basic ...`.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The token of `Authorization: Bearer TOKEN`, if that is the header's form.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a%20b+c").as_deref(), Some("a b c"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%"), None);
    }

    #[test]
    fn grant_body_is_strict() {
        assert!(check_grant(b"grant_type=client_credentials").is_ok());
        assert!(check_grant(b"grant_type=client%5Fcredentials").is_ok());
        assert!(check_grant(b"grant_type=password").is_err());
        assert!(check_grant(b"grant_type=client_credentials&client_id=x").is_err());
        assert!(
            check_grant(b"grant_type=client_credentials&grant_type=client_credentials").is_err()
        );
        assert!(check_grant(b"").is_err());
        assert!(check_grant(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn tokens_expire_and_revoke() {
        let mut store = TokenStore::default();
        let live = store.issue(0, Duration::from_secs(60), Instant::now());
        let other = store.issue(1, Duration::from_secs(60), Instant::now());
        let dead = store.issue(0, Duration::ZERO, Instant::now());
        assert_eq!(store.status(&live, Instant::now()), TokenStatus::Valid);
        assert_eq!(store.status(&dead, Instant::now()), TokenStatus::Expired);
        assert_eq!(store.status("nope", Instant::now()), TokenStatus::Unknown);
        assert_eq!(
            (store.owner(&live), store.owner(&other)),
            (Some(0), Some(1))
        );
        store.revoke(0);
        assert_eq!(store.status(&live, Instant::now()), TokenStatus::Unknown);
        assert_eq!(store.owner(&live), Some(0));
        assert_eq!(store.status(&other, Instant::now()), TokenStatus::Valid);
    }
}
