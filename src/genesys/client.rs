//! The Genesys Cloud client, transport only: one pooled HTTP client, the
//! token, and the error table of the contract (what is retried, what waits).
//! What is asked and how its answers are read belong to the collectors.

use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

use super::auth::{TokenCache, TokenResponse};
use super::backoff::Backoff;
use super::error::{ApiErrorDetail, QueryError};
use super::ratelimit::{Cooldown, parse_retry_after};
use super::telemetry::{Endpoint, RateLimitHeaders, Telemetry, TracedRequest};
use crate::budget::{RETRY_MIN_TIME, retry_fits};
use crate::clock::Clock;
use crate::config::{ClientSecret, Endpoints, Secret};

/// Largest response body read; a real page is well under 1 MiB, so anything
/// beyond this is refused as undecodable rather than held in memory.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Response bytes one paged read (a query, a listing) may take over all its
/// pages, whatever its page limit says. With [`MAX_BODY_BYTES`] per page it
/// bounds what one read holds: at most 64 MiB of text and one body in
/// flight, where 100 pages × `MAX_BODY_BYTES` alone would allow 1.6 GiB. A
/// read that takes more stops with reason `pagination`.
pub const MAX_QUERY_BYTES: usize = 64 * 1024 * 1024;

/// Retries of 5xx answers and transport errors, inside the scrape's budget.
const RETRY_BASE: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(2);
fn retry_backoff() -> Backoff {
    Backoff::new(RETRY_BASE, RETRY_MAX, 0.5).expect("constant backoff settings are valid")
}

/// The most requests one page or token request can cost within `budget`:
/// the first, then a retry after each backoff delay, taken at its shortest
/// and with requests that take no time, while it leaves [`RETRY_MIN_TIME`]
/// before the deadline.
pub fn max_attempts(budget: Duration) -> u32 {
    let backoff = retry_backoff();
    let mut attempts = 1;
    let mut elapsed = Duration::ZERO;
    loop {
        elapsed += backoff.shortest(attempts - 1);
        if elapsed + RETRY_MIN_TIME >= budget {
            return attempts;
        }
        attempts += 1;
    }
}

/// What became of one attempt.
enum Verdict {
    Done(Result<Answer, QueryError>),
    Retry(QueryError),
}

/// A response that arrived in full.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The HTTP clients every organisation shares: the pool keys connections by
/// host, so organisations on different hosts never share a connection, and
/// a request that hangs holds only its own. Built once each: a build loads
/// the TLS roots again, about a tenth of a megabyte per organisation
/// otherwise. `tls_url` is an HTTPS endpoint the client must verify; without
/// one (the demo's simulator, a local test server) no trust roots are loaded,
/// so a machine or an image without a CA bundle runs it.
pub fn http_client(tls_url: Option<&str>) -> Result<reqwest::Client, ClientBuildError> {
    static PLAIN: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    static VERIFIED: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let cell = if tls_url.is_some() { &VERIFIED } else { &PLAIN };
    if let Some(client) = cell.get() {
        return Ok(client.clone());
    }
    // reqwest is built without a bundled crypto provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!(
            "genesys-eventbridge-exporter/",
            env!("CARGO_PKG_VERSION")
        ))
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none());
    if tls_url.is_none() {
        builder = builder.tls_certs_only(std::iter::empty());
    }
    let client = builder.build().map_err(|error| match tls_url {
        Some(url) if lacks_ca_certificates(&error) => ClientBuildError::NoCaCertificates {
            url: url.to_string(),
            looked_in: ca_locations(),
        },
        _ => ClientBuildError::Http(error),
    })?;
    Ok(cell.get_or_init(|| client).clone())
}

/// The HTTPS endpoint of `endpoints` that needs verifying, if any.
pub fn tls_url(endpoints: &Endpoints) -> Option<&str> {
    [&endpoints.api_url, &endpoints.login_url]
        .into_iter()
        .find(|url| !url.starts_with("http://"))
        .map(String::as_str)
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    /// HTTPS endpoints, and no CA certificate found to verify them with.
    #[error(
        "no CA certificates to verify {url}: none found in {looked_in}; install a CA bundle \
         (Debian, Ubuntu: package ca-certificates) or point SSL_CERT_FILE at a PEM file of CA \
         certificates"
    )]
    NoCaCertificates { url: String, looked_in: String },
    #[error("{}", error_chain(.0))]
    Http(reqwest::Error),
}

/// Whether building failed because the system's trust store held no CA
/// certificate (rustls-platform-verifier's only general error on Unix).
fn lacks_ca_certificates(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(rustls::Error::General(message)) = cause.downcast_ref::<rustls::Error>() {
            return message.contains("CA certificates");
        }
        source = cause.source();
    }
    false
}

/// Where the system's trust store was looked for: `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` alone when either is set, else the usual bundle files and
/// folders (openssl-probe's list, which rustls-native-certs searches).
fn ca_locations() -> String {
    let set: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .into_iter()
        .filter_map(|name| {
            std::env::var_os(name).map(|value| format!("{name}={}", value.to_string_lossy()))
        })
        .collect();
    if !set.is_empty() {
        return set.join(" and ");
    }
    if cfg!(target_os = "linux") {
        "/etc/ssl/certs/ca-certificates.crt, /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem, \
         /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/ca-bundle.pem, /etc/pki/tls/cacert.pem, \
         /etc/ssl/cert.pem, /etc/ssl/certs/, /etc/pki/tls/certs/ (SSL_CERT_FILE and SSL_CERT_DIR \
         unset)"
            .to_owned()
    } else {
        "the system's certificate store (SSL_CERT_FILE and SSL_CERT_DIR unset)".to_owned()
    }
}

/// The transport every collector of an organisation shares: one HTTP
/// client, the token, retries with backoff inside the budget, the 429
/// cooldown, and the record of each request and response.
pub struct GenesysClient {
    http: reqwest::Client,
    token_url: String,
    api_url: String,
    /// The hosts (with a port other than the scheme's) of the token URL and
    /// the API: what a failure names.
    login_host: Arc<str>,
    api_host: Arc<str>,
    client_id: String,
    client_secret: ClientSecret,
    tokens: TokenCache<QueryError>,
    cooldown: Cooldown,
    retry: Backoff,
    telemetry: Arc<Telemetry>,
    /// The organisation, for log lines.
    org: Arc<str>,
    /// The requests of the cycle under way (one at a time: the cache's
    /// single flight), for the debug trace.
    trace: Mutex<Vec<TracedRequest>>,
    /// What times and durations are shown by.
    clock: Clock,
}

impl GenesysClient {
    pub fn new(
        endpoints: &Endpoints,
        telemetry: Arc<Telemetry>,
        org: Arc<str>,
        clock: Clock,
    ) -> Result<GenesysClient, ClientBuildError> {
        let http = http_client(tls_url(endpoints))?;
        Ok(GenesysClient {
            http,
            token_url: format!("{}/oauth/token", endpoints.login_url),
            api_url: endpoints.api_url.clone(),
            login_host: host_of(&endpoints.login_url),
            api_host: host_of(&endpoints.api_url),
            client_id: endpoints.client_id.clone(),
            client_secret: endpoints.client_secret.clone(),
            tokens: TokenCache::default(),
            cooldown: Cooldown::new(),
            retry: retry_backoff(),
            telemetry,
            org,
            trace: Mutex::new(Vec::new()),
            clock,
        })
    }

    /// Time left in a 429 cooldown; no request is sent while there is any.
    pub fn cooldown_remaining(&self) -> Option<Duration> {
        self.cooldown.remaining()
    }

    /// The API base, without a trailing slash.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The host a request to `endpoint` goes to: the login host for the
    /// token, the API host for the others.
    pub fn host(&self, endpoint: Endpoint) -> &Arc<str> {
        match endpoint {
            Endpoint::TOKEN => &self.login_host,
            _ => &self.api_host,
        }
    }

    /// The requests sent to `endpoint` in the cycle under way, retries and
    /// pages included.
    pub fn attempts(&self, endpoint: Endpoint) -> usize {
        let trace = self.trace.lock().unwrap_or_else(|e| e.into_inner());
        trace.iter().filter(|r| r.endpoint == endpoint).count()
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// The organisation, for log lines.
    pub fn org(&self) -> &Arc<str> {
        &self.org
    }

    /// The requests sent since the last call, in order.
    pub fn take_trace(&self) -> Vec<TracedRequest> {
        std::mem::take(&mut *self.trace.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn traced(&self, request: TracedRequest) {
        let mut trace = self.trace.lock().unwrap_or_else(|e| e.into_inner());
        // A query is bounded in pages and retries; the bound here only keeps
        // a trace that nobody takes from growing.
        if trace.len() < 10_000 {
            trace.push(request);
        }
    }

    /// Holds a token (fetching one if needed) before requests go out side by
    /// side: they then share it, and a token endpoint that fails is asked
    /// once per cycle, not once per request.
    pub async fn ensure_token(&self, deadline: Instant) -> Result<(), QueryError> {
        self.tokens
            .get(|| self.fetch_token(deadline), QueryError::waited_for_token)
            .await
            .map(drop)
    }

    /// A platform API request with the organisation's token: on a 401 (the
    /// token revoked or expired early), one retry with a new token.
    pub async fn with_token(
        &self,
        endpoint: Endpoint,
        deadline: Instant,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<Answer, QueryError> {
        let mut renewed = false;
        loop {
            let token = self
                .tokens
                .get(|| self.fetch_token(deadline), QueryError::waited_for_token)
                .await?;
            match self
                .send(endpoint, deadline, || {
                    build(&self.http, token.value.expose())
                })
                .await
            {
                Err(QueryError::Status { status: 401, .. }) if !renewed => {
                    tracing::info!(
                        org = %self.org,
                        endpoint = endpoint.as_str(),
                        host = %self.host(endpoint),
                        "answered 401; fetching a new token and retrying once"
                    );
                    self.tokens.invalidate(token.id).await;
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    async fn fetch_token(&self, deadline: Instant) -> Result<(Secret, Duration), QueryError> {
        let client_secret = self.client_secret.current(&self.org);
        let answer = self
            .send(Endpoint::TOKEN, deadline, || {
                self.http
                    .post(&self.token_url)
                    .basic_auth(&self.client_id, Some(client_secret.expose()))
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body("grant_type=client_credentials")
            })
            .await?;
        let decode_error = |message: String| QueryError::Decode {
            endpoint: Endpoint::TOKEN,
            message,
        };
        // The error text of serde names the field, never the token's value.
        let response: TokenResponse =
            serde_json::from_slice(&answer.body).map_err(|e| decode_error(e.to_string()))?;
        if response.access_token.is_empty() {
            return Err(decode_error("empty access_token".into()));
        }
        if !(response.expires_in.is_finite() && response.expires_in > 0.0) {
            return Err(decode_error(format!(
                "expires_in {} is not a positive number",
                response.expires_in
            )));
        }
        let lifetime = Duration::from_secs_f64(response.expires_in.min(1e9));
        self.telemetry.token_issued(self.clock.now() + lifetime);
        tracing::info!(
            org = %self.org,
            expires_in_seconds = response.expires_in,
            token_type = response.token_type.as_deref().unwrap_or(""),
            "access token obtained"
        );
        Ok((Secret::new(response.access_token), lifetime))
    }

    /// Sends a request, retrying 5xx answers and transport errors with jittered
    /// backoff while the budget allows; a 429 starts the cooldown instead.
    async fn send(
        &self,
        endpoint: Endpoint,
        deadline: Instant,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, QueryError> {
        let mut attempt = 0;
        loop {
            if let Some(remaining) = self.cooldown.remaining() {
                return Err(QueryError::CoolingDown { remaining });
            }
            let budget = deadline.saturating_duration_since(Instant::now());
            if budget.is_zero() {
                let host = self.host(endpoint).clone();
                return Err(QueryError::Timeout {
                    endpoint,
                    host,
                    budget,
                });
            }
            let executed = self.attempt(endpoint, budget, &build).await?;
            let retryable = match self.judge(endpoint, executed) {
                Verdict::Done(result) => return result,
                Verdict::Retry(error) => error,
            };
            let delay = self.retry.delay(attempt);
            attempt += 1;
            if !retry_fits(delay, deadline) {
                return Err(retryable);
            }
            // One warn line per failed query, from its collector; the
            // attempts at debug.
            tracing::debug!(
                org = %self.org,
                endpoint = endpoint.as_str(),
                host = %self.host(endpoint),
                attempt,
                retry_in_seconds = delay.as_secs_f64(),
                error = %retryable,
                "request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt within `budget`, recorded for the debug trace; the outer
    /// error only when the request could not even be built.
    async fn attempt(
        &self,
        endpoint: Endpoint,
        budget: Duration,
        build: &impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Result<Answer, QueryError>, QueryError> {
        if endpoint == Endpoint::TOKEN {
            self.telemetry.token_requested();
        }
        let started = Instant::now();
        let request = build()
            .timeout(budget)
            .build()
            .map_err(|e| QueryError::Transport {
                endpoint,
                host: self.host(endpoint).clone(),
                message: error_chain(&e),
            })?;
        let method = if request.method() == reqwest::Method::GET {
            "GET"
        } else {
            "POST"
        };
        let path = request.url().path().to_string();
        let executed = self.execute(endpoint, request, budget).await;
        self.traced(TracedRequest {
            endpoint,
            method,
            path,
            status: executed.as_ref().ok().map(|a| a.status),
            duration: self.clock.since(started),
            correlation_id: executed
                .as_ref()
                .ok()
                .and_then(|a| header_str(&a.headers, "inin-correlation-id"))
                .map(str::to_owned),
            error: executed.as_ref().err().map(|e| e.to_string()),
        });
        Ok(executed)
    }

    /// What an attempt's outcome means: an answer, a failure, or a failure
    /// worth retrying (5xx, a transport error, a timeout that left budget).
    fn judge(&self, endpoint: Endpoint, executed: Result<Answer, QueryError>) -> Verdict {
        let answer = match executed {
            Ok(answer) => answer,
            // A timeout leaves budget only when it was the connect
            // timeout (5 s) inside a longer budget: that is retried too.
            Err(err @ (QueryError::Transport { .. } | QueryError::Timeout { .. })) => {
                return Verdict::Retry(err);
            }
            Err(err) => return Verdict::Done(Err(err)),
        };
        self.telemetry.api_response(endpoint, answer.status);
        if let Some(headers) = rate_limit_headers(&answer.headers) {
            self.telemetry.rate_limit_headers(headers);
        }
        if answer.status == 429 {
            return Verdict::Done(Err(self.rate_limited(endpoint, &answer)));
        }
        self.cooldown.answered();
        if (200..300).contains(&answer.status) {
            return Verdict::Done(Ok(answer));
        }
        let err = status_error(endpoint, self.host(endpoint), &answer);
        match answer.status >= 500 && answer.status != 501 {
            true => Verdict::Retry(err),
            false => Verdict::Done(Err(err)),
        }
    }

    /// A 429: the cooldown starts, for `Retry-After` when it says how long.
    fn rate_limited(&self, endpoint: Endpoint, answer: &Answer) -> QueryError {
        let retry_after =
            header_str(&answer.headers, RETRY_AFTER.as_str()).and_then(parse_retry_after);
        let wait = self.cooldown.rate_limited(retry_after);
        let err = status_error(endpoint, self.host(endpoint), answer);
        tracing::warn!(
            org = %self.org,
            endpoint = endpoint.as_str(),
            host = %self.host(endpoint),
            cooldown_seconds = wait.as_secs_f64(),
            retry_after = retry_after.map(|d| d.as_secs_f64()),
            error = %err,
            "rate limited; no request will be sent until the cooldown ends"
        );
        err
    }

    /// Sends one request and reads its body, refusing bodies over the cap.
    async fn execute(
        &self,
        endpoint: Endpoint,
        request: reqwest::Request,
        budget: Duration,
    ) -> Result<Answer, QueryError> {
        let host = self.host(endpoint);
        let transport = |e: reqwest::Error| {
            let host = host.clone();
            if e.is_timeout() {
                QueryError::Timeout {
                    endpoint,
                    host,
                    budget,
                }
            } else if let Some(problem) = certificate_problem(&e) {
                QueryError::Tls {
                    endpoint,
                    host,
                    message: problem.to_string(),
                }
            } else {
                QueryError::Transport {
                    endpoint,
                    host,
                    message: error_chain(&e),
                }
            }
        };
        let mut response = self.http.execute(request).await.map_err(transport)?;
        let status = response.status().as_u16();
        let announced = response.content_length();
        if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large(endpoint));
        }
        // Sized once from Content-Length (checked against the cap above), so
        // the buffer is not grown by doubling to up to twice the body.
        let mut body = BytesMut::with_capacity(announced.map_or(0, |n| n as usize));
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large(endpoint));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers: std::mem::take(response.headers_mut()),
            body: body.freeze(),
        })
    }
}

fn too_large(endpoint: Endpoint) -> QueryError {
    QueryError::Decode {
        endpoint,
        message: format!(
            "response body exceeds {} MiB",
            MAX_BODY_BYTES / (1024 * 1024)
        ),
    }
}

fn status_error(endpoint: Endpoint, host: &Arc<str>, answer: &Answer) -> QueryError {
    QueryError::Status {
        endpoint,
        host: host.clone(),
        status: answer.status,
        detail: Box::new(ApiErrorDetail::parse(
            &answer.body,
            header_str(&answer.headers, "inin-correlation-id").map(str::to_owned),
        )),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn rate_limit_headers(headers: &HeaderMap) -> Option<RateLimitHeaders> {
    let number = |name| {
        header_str(headers, name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    let found = RateLimitHeaders {
        allowed: number("inin-ratelimit-allowed"),
        count: number("inin-ratelimit-count"),
        reset_seconds: number("inin-ratelimit-reset"),
    };
    (found != RateLimitHeaders::default()).then_some(found)
}

/// The host of `url`, with its port when it names one: what a failure
/// names ("api.mypurecloud.de", "127.0.0.1:8080").
fn host_of(url: &str) -> Arc<str> {
    match reqwest::Url::parse(url) {
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}").into(),
            (Some(host), None) => host.into(),
            (None, _) => url.as_str().into(),
        },
        Err(_) => url.into(),
    }
}

/// What was wrong with the server's certificate, when that is why the
/// connection failed. rustls' error travels inside an `io::Error` (itself
/// inside another), whose `source` skips what it wraps, so each `io::Error`
/// of the chain is opened too.
fn certificate_problem(e: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source = e.source();
    while let Some(cause) = source {
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(cause);
        while let Some(candidate) = inner {
            if let Some(
                tls @ (rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType),
            ) = candidate.downcast_ref::<rustls::Error>()
            {
                return Some(tls);
            }
            inner = (candidate.downcast_ref::<std::io::Error>())
                .and_then(|io| io.get_ref())
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
        }
        source = cause.source();
    }
    None
}

/// The error and its causes on one line: reqwest's own text hides the cause
/// (connection refused, reset) that an operator needs.
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::query_budget;

    #[test]
    fn retries_fit_the_budget() {
        // The numbers the README and docs/reliability.md state.
        assert_eq!(max_attempts(query_budget(Duration::from_millis(2500))), 5);
        assert_eq!(max_attempts(query_budget(Duration::from_secs(10))), 13);
        assert_eq!(max_attempts(Duration::from_millis(50)), 1);
    }
}
