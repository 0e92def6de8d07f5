//! Signature Version 4, checked for real: the canonical request and the
//! signature are recomputed from the request as received (HMAC-SHA256 and
//! SHA-256 from `ring`), independently of any SDK's signer, so that a client
//! which passes here signs as AWS expects. Secrets are only ever used as
//! HMAC keys: no refusal names one.

use std::time::{Duration, SystemTime};

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use ring::{digest, hmac};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
/// How far a request's `X-Amz-Date` may be from the service's clock.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// A request as its signature covers it.
pub(crate) struct Signed<'a> {
    pub(crate) method: &'a str,
    /// The path as sent, still percent-encoded.
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// Who signed a request that verified, and for which region.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verified {
    pub(crate) access_key_id: String,
    pub(crate) region: String,
    /// Which of the key's secrets the signature was made with.
    pub(crate) matched: usize,
}

/// Why a request was refused; each service names these in its own way.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization` header at all.
    Missing,
    /// An `Authorization` header AWS cannot read.
    Incomplete(String),
    /// An access key id no account has.
    UnknownKey,
    /// A readable signature that is wrong: its scope, its time, or its value.
    Invalid(String),
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

/// Checks a request's signature for `service` against the wall clock `now`;
/// `secrets_of` gives the secrets an access key id may have (none: unknown).
pub(crate) fn verify(
    request: &Signed<'_>,
    service: &str,
    now: SystemTime,
    secrets_of: impl Fn(&str) -> Vec<String>,
) -> Result<Verified, Refusal> {
    let header = request
        .headers
        .get(AUTHORIZATION)
        .ok_or(Refusal::Missing)?
        .to_str()
        .map_err(|_| Refusal::Incomplete("Authorization header is not ASCII.".into()))?;
    let auth = parse_authorization(header)?;
    let amz_date = request
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Refusal::Incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            )
        })?;
    if !auth.signed_headers.split(';').any(|h| h == "host") {
        return Err(Refusal::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let secrets = secrets_of(auth.access_key_id);
    if secrets.is_empty() {
        return Err(Refusal::UnknownKey);
    }
    check_scope(&auth, service, amz_date)?;
    check_skew(amz_date, now)?;
    let scope = format!(
        "{}/{}/{}/{}",
        auth.date, auth.region, auth.service, auth.terminator
    );
    let canonical = canonical_request(request, auth.signed_headers);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let matched = secrets.iter().position(|secret| {
        let key = signing_key(secret, auth.date, auth.region, auth.service);
        hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref()) == auth.signature
    });
    let Some(matched) = matched else {
        return Err(Refusal::Invalid(format!(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.\n\nThe Canonical String for this request should have \
             been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
        )));
    };
    Ok(Verified {
        access_key_id: auth.access_key_id.to_owned(),
        region: auth.region.to_owned(),
        matched,
    })
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, Refusal> {
    let (algorithm, rest) = header.trim().split_once(' ').unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(Refusal::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let missing: Vec<String> = [
        ("Credential", credential.is_none()),
        ("Signature", signature.is_none()),
        ("SignedHeaders", signed_headers.is_none()),
    ]
    .iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| format!("Authorization header requires '{name}' parameter."))
    .collect();
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(Refusal::Incomplete(format!(
            "{} Authorization={header}",
            missing.join(" ")
        )));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(Refusal::Incomplete(format!(
            "Credential should be scoped to a valid region, not '{credential}'."
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers,
        signature,
    })
}

fn check_scope(auth: &Authorization<'_>, service: &str, amz_date: &str) -> Result<(), Refusal> {
    if auth.service != service {
        return Err(Refusal::Invalid(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    if auth.terminator != TERMINATOR {
        return Err(Refusal::Invalid(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
            auth.terminator
        )));
    }
    if auth.region.is_empty() {
        return Err(Refusal::Invalid(
            "Credential should be scoped to a valid region. ".into(),
        ));
    }
    let day = amz_date.get(..8).unwrap_or(amz_date);
    if auth.date != day {
        return Err(Refusal::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{day}', from '{amz_date}'.",
            auth.date
        )));
    }
    Ok(())
}

/// `X-Amz-Date` within [`MAX_SKEW`] of `now`, or AWS's message saying how far.
fn check_skew(amz_date: &str, now: SystemTime) -> Result<(), Refusal> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let signed = PrimitiveDateTime::parse(amz_date, &format)
        .map_err(|_| {
            Refusal::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See \
                 http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })?
        .assume_utc();
    let now = OffsetDateTime::from(now);
    let skew = time::Duration::try_from(MAX_SKEW).unwrap_or(time::Duration::ZERO);
    let text = |t: OffsetDateTime| t.format(&format).unwrap_or_default();
    if signed < now - skew {
        return Err(Refusal::Invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            text(now - skew),
            text(now)
        )));
    }
    if signed > now + skew {
        return Err(Refusal::Invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            text(now + skew),
            text(now)
        )));
    }
    Ok(())
}

/// The canonical request: method, path, query, the signed headers, their
/// names, and the payload's hash.
fn canonical_request(request: &Signed<'_>, signed_headers: &str) -> String {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .get_all(name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{}\n{}\n{headers}\n{signed_headers}\n{}",
        request.method,
        encode(&normalize_path(request.path), true),
        canonical_query(request.query.unwrap_or("")),
        hex(digest::digest(&digest::SHA256, request.body).as_ref())
    )
}

/// A header value trimmed, with each run of whitespace made one space.
fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path without empty, `.` and `..` segments, as the SDKs normalise it
/// for every service but S3.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut normalized = format!("/{}", segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        normalized.push('/');
    }
    normalized
}

/// The query's pairs, decoded, encoded again strictly and sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                encode(&percent_decode(key), false),
                encode(&percent_decode(value), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-decodes; malformed escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// SigV4's URI encoding: everything but unreserved characters (and `/` in
/// a path) as `%XX`. A path is encoded as sent, so its escapes are encoded
/// twice, as SigV4 wants for every service but S3.
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            b'/' if keep_slash => out.push('/'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), region);
    let k_service = step(k_region.as_ref(), service);
    let k_signing = step(k_service.as_ref(), TERMINATOR);
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    // AWS's published SigV4 test suite: its example credentials, date,
    // region and service "service".
    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";
    const AT: u64 = 1_440_938_160;

    fn headers(pairs: &[(&str, &str)], signed: &str, signature: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        map.insert("x-amz-date", HeaderValue::from_static(DATE));
        for (name, value) in pairs {
            map.append(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let auth = format!(
            "{ALGORITHM} Credential={KEY}/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={signed}, Signature={signature}"
        );
        map.insert(AUTHORIZATION, HeaderValue::from_str(&auth).unwrap());
        map
    }

    fn check(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Verified, Refusal> {
        let request = Signed {
            method,
            path,
            query,
            headers,
            body,
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(AT);
        verify(&request, "service", now, |key| {
            if key == KEY {
                vec![SECRET.to_owned()]
            } else {
                vec![]
            }
        })
    }

    #[test]
    fn the_test_suite_signatures_verify() {
        let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let h = headers(&[], "host;x-amz-date", vanilla);
        assert!(check("GET", "/", None, &h, b"").is_ok());

        let sorted = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500";
        let h = headers(&[], "host;x-amz-date", sorted);
        assert!(check("GET", "/", Some("Param2=value2&Param1=value1"), &h, b"").is_ok());

        let utf8 = "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04";
        let h = headers(&[], "host;x-amz-date", utf8);
        assert!(check("GET", "/", Some("%E1%88%B4=bar"), &h, b"").is_ok());

        let trim = "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736";
        let pairs = [("my-header1", "value1"), ("my-header2", "\"a   b   c\"")];
        let h = headers(&pairs, "host;my-header1;my-header2;x-amz-date", trim);
        assert!(check("GET", "/", None, &h, b"").is_ok());

        let form = "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422";
        let pairs = [
            ("content-length", "13"),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            (
                "x-amz-content-sha256",
                "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            ),
        ];
        let signed = "content-length;content-type;host;x-amz-content-sha256;x-amz-date";
        let h = headers(&pairs, signed, form);
        assert!(check("POST", "/", None, &h, b"Param1=value1").is_ok());
    }

    #[test]
    fn refusals_say_why() {
        let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let h = headers(&[], "host;x-amz-date", vanilla);
        // Another method, another signature.
        let Err(Refusal::Invalid(message)) = check("POST", "/", None, &h, b"") else {
            panic!("a wrong signature verified");
        };
        assert!(message.contains("does not match"));
        assert!(!message.contains(SECRET));
        let h = headers(&[], "x-amz-date", vanilla);
        assert!(matches!(
            check("GET", "/", None, &h, b""),
            Err(Refusal::Incomplete(_))
        ));
        let mut h = headers(&[], "host;x-amz-date", vanilla);
        h.insert(AUTHORIZATION, HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=NOPE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00"));
        assert_eq!(check("GET", "/", None, &h, b""), Err(Refusal::UnknownKey));
        h.remove(AUTHORIZATION);
        assert_eq!(check("GET", "/", None, &h, b""), Err(Refusal::Missing));
    }

    #[test]
    fn skew_and_scope_are_checked() {
        let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let h = headers(&[], "host;x-amz-date", vanilla);
        let request = Signed {
            method: "GET",
            path: "/",
            query: None,
            headers: &h,
            body: b"",
        };
        let secrets = |_: &str| vec![SECRET.to_owned()];
        let late = SystemTime::UNIX_EPOCH + Duration::from_secs(AT + 16 * 60);
        let Err(Refusal::Invalid(message)) = verify(&request, "service", late, secrets) else {
            panic!("a stale signature verified");
        };
        assert_eq!(
            message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z \
             (20150830T125200Z - 15 min.)"
        );
        let early = SystemTime::UNIX_EPOCH + Duration::from_secs(AT - 16 * 60);
        let Err(Refusal::Invalid(message)) = verify(&request, "service", early, secrets) else {
            panic!("a future signature verified");
        };
        assert!(message.starts_with("Signature not yet current: 20150830T123600Z"));
        let within = SystemTime::UNIX_EPOCH + Duration::from_secs(AT + 14 * 60);
        assert!(verify(&request, "service", within, secrets).is_ok());
        let Err(Refusal::Invalid(message)) = verify(&request, "events", within, secrets) else {
            panic!("a signature for another service verified");
        };
        assert!(message.contains("'events'"));
    }

    #[test]
    fn paths_are_normalised_and_encoded() {
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(encode("/example%20space/", true), "/example%2520space/");
        assert_eq!(canonical_query("b=2&a=%7e&a=1&c"), "a=1&a=~&b=2&c=");
    }
}
