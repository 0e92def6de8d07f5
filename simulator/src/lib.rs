//! A simulated Genesys Cloud: the login service's client-credentials token
//! endpoint (`auth`), the analytics events query (`analytics`), the
//! integrations listing and configurations (`integrations`) and the
//! organisation (`organization`); and the AWS side of the EventBridge
//! delivery path (`aws`: EventBridge and CloudWatch, SigV4-signed), on one
//! loopback HTTP/1.1 server; one module per API it serves, each answering
//! its own requests, and a route table (`Endpoint::of`) that sends them there.
//! Like a Genesys Cloud region, one server may host many organisations, each
//! with its own OAuth client, tokens, rate limits, data and faults
//! ([`Simulator::add_organization`]).
//!
//! Demo mode runs it in-process so the exporter has something live to query
//! without credentials or network; the integration tests run it with fault
//! switches (queued faults, paging modes, token revocation, rate limits) to
//! drive the client through every failure path. It checks requests strictly
//! (headers, body shape, date and filter syntax), so that a client which
//! passes against it sends what Genesys Cloud expects, and it answers as
//! Genesys Cloud does: its error bodies, correlation ids, rate-limit headers
//! and paging.
//!
//! The server runs on the tokio runtime that started it, until
//! [`Simulator::shutdown`] or until the last [`Simulator`] handle is dropped.

mod analytics;
mod auth;
mod aws;
mod clock;
mod data;
mod faults;
mod integrations;
mod organization;
mod paging;
mod ratelimit;
mod response;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use clock::Clock;

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use aws::{
    AwsAccount, AwsCredentials, AwsPaging, DEMO_ACCESS_KEY_ID, DEMO_AWS_ACCOUNT_ID,
    DEMO_AWS_REGION, DEMO_SECRET_ACCESS_KEY, EventBus, EventSource, EventSourceState, RetryPolicy,
    Rule, RuleFigures, RuleState, Target, partner_source_name,
};
pub use clock::SimClock;
pub use data::{DEMO_AUDIT, DEMO_PRIMARY, DEMO_SECONDARY, RowSource, demo_rows, org_rows};
pub use faults::Fault;
pub use integrations::{EVENTBRIDGE_TYPE, INTEGRATIONS_PATH, demo_integrations, integration};
pub use organization::{DEMO_ORGANIZATION_ID, ORGANIZATION_PATH, derived_organization_id};
pub use paging::PagingMode;

use auth::{TokenStatus, TokenStore};
use paging::Cursors;
use ratelimit::RateLimiter;
use response::{SimBody, api_error, set_header};

/// Where the login service issues tokens.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The analytics events query, as the exporter calls it by default.
pub const DEFAULT_QUERY_PATH: &str = "/api/v2/analytics/events/details/query";
/// Request bodies larger than this are refused with 413.
const MAX_BODY_BYTES: usize = 1 << 20;
/// Requests kept for [`Simulator::requests`]; older ones are forgotten so a
/// long demo run stays bounded. The counters stay exact.
const MAX_RECORDED: usize = 10_000;
/// How long connections get to finish a request in flight at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How the simulator, or one more organisation on it, is set up.
#[derive(Clone)]
pub struct SimConfig {
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of issued tokens; tokens stop working after it.
    pub token_lifetime: Duration,
    pub rows: RowSource,
    /// Query requests allowed per token and minute; more answer 429.
    pub rate_limit_per_minute: u32,
    /// The server's query path; that of an added organisation must be the same.
    pub query_path: String,
    /// What `GET /api/v2/integrations` lists (`Integration` objects).
    pub integrations: Vec<serde_json::Value>,
    /// `Organization.id`, which names the organisation's partner event
    /// sources; empty: one derived from the client id
    /// ([`derived_organization_id`]).
    pub organization_id: String,
    /// The organisation's AWS account: credentials, event sources, buses,
    /// rules and their CloudWatch figures.
    pub aws: AwsAccount,
}

impl SimConfig {
    /// The demo set-up: client `demo-client`/`demo-secret`, tokens for 24 h,
    /// generated rows, the platform's default 300 requests a minute,
    /// organisation [`DEMO_ORGANIZATION_ID`] and its AWS account
    /// ([`AwsAccount::demo`]).
    pub fn demo() -> SimConfig {
        SimConfig {
            client_id: "demo-client".into(),
            client_secret: "demo-secret".into(),
            token_lifetime: Duration::from_secs(86_400),
            rows: RowSource::Demo,
            rate_limit_per_minute: 300,
            query_path: DEFAULT_QUERY_PATH.into(),
            integrations: demo_integrations(),
            organization_id: DEMO_ORGANIZATION_ID.into(),
            aws: AwsAccount::demo(),
        }
    }

    /// The organisation id, derived from the client id when none is set.
    fn effective_organization_id(&self) -> String {
        match self.organization_id.as_str() {
            "" => derived_organization_id(&self.client_id),
            id => id.to_owned(),
        }
    }
}

// By hand, so that the secret never reaches a log line.
impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_lifetime", &self.token_lifetime)
            .field("rows", &self.rows)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("query_path", &self.query_path)
            .field("organization_id", &self.organization_id)
            .field("aws", &self.aws)
            .finish()
    }
}

/// A request as the simulator received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The request target: path, and query string if there was one.
    pub path: String,
    /// Header names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Which endpoint a request is for: one per API operation the simulator
/// serves, each answered by its own module (`auth`, `analytics`,
/// `integrations`, `organization`, `aws`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Token = 0,
    Query = 1,
    Integrations = 2,
    IntegrationConfig = 3,
    Organization = 4,
    DescribeEventSource = 5,
    ListRules = 6,
    ListTargetsByRule = 7,
    GetMetricData = 8,
    /// Another EventBridge operation.
    EventBridgeOther = 9,
    /// Another CloudWatch operation.
    CloudWatchOther = 10,
    Other = 11,
}

/// Endpoints with faults and counters of their own (those before
/// `EventBridgeOther`).
const ENDPOINTS: usize = 9;
/// Every endpoint, `Other` included.
const ROUTES: usize = Endpoint::Other as usize + 1;

impl Endpoint {
    /// The route table: which endpoint a request is, by its path (and for
    /// EventBridge, its `X-Amz-Target`).
    fn of(path: &str, headers: &HeaderMap, query_path: &str) -> Endpoint {
        match path {
            TOKEN_PATH => Endpoint::Token,
            p if p == query_path => Endpoint::Query,
            INTEGRATIONS_PATH => Endpoint::Integrations,
            ORGANIZATION_PATH => Endpoint::Organization,
            p if integrations::config_id(p).is_some() => Endpoint::IntegrationConfig,
            p => aws::endpoint(p, headers).unwrap_or(Endpoint::Other),
        }
    }

    /// Its slot among the faults and counters.
    fn slot(self) -> Option<usize> {
        ((self as usize) < ENDPOINTS).then_some(self as usize)
    }

    /// Whether AWS answers it (rather than Genesys Cloud).
    fn is_aws(self) -> bool {
        matches!(
            self,
            Endpoint::DescribeEventSource
                | Endpoint::ListRules
                | Endpoint::ListTargetsByRule
                | Endpoint::GetMetricData
                | Endpoint::EventBridgeOther
                | Endpoint::CloudWatchOther
        )
    }
}

/// Everything of one organisation that changes while the server runs.
struct State {
    /// Per endpoint, the faults queued for its coming requests.
    faults: [VecDeque<Fault>; ENDPOINTS],
    integrations: Vec<serde_json::Value>,
    aws: AwsAccount,
    aws_paging: AwsPaging,
    paging: PagingMode,
    rows: RowSource,
    limiter: RateLimiter,
    cursors: Cursors,
    requests: VecDeque<RecordedRequest>,
    /// Whether requests are kept for [`Simulator::requests`].
    recording: bool,
}

/// One organisation: its OAuth client, its state and its counters.
struct Org {
    index: usize,
    organization_id: String,
    client: auth::Client,
    rate_limit_per_minute: u32,
    state: Mutex<State>,
    /// Per endpoint, the requests received, faulted ones included.
    received: [AtomicUsize; ENDPOINTS],
}

impl Org {
    fn new(index: usize, config: SimConfig) -> Org {
        Org {
            index,
            organization_id: config.effective_organization_id(),
            client: auth::Client {
                id: config.client_id,
                secret: config.client_secret,
                token_lifetime: config.token_lifetime,
            },
            rate_limit_per_minute: config.rate_limit_per_minute,
            state: Mutex::new(State {
                faults: Default::default(),
                integrations: config.integrations,
                aws: config.aws,
                aws_paging: AwsPaging::default(),
                paging: PagingMode::Normal,
                rows: config.rows,
                limiter: RateLimiter::default(),
                cursors: Cursors::default(),
                requests: VecDeque::new(),
                recording: true,
            }),
            received: Default::default(),
        }
    }

    /// The state, even after a panic elsewhere poisoned the lock: the
    /// simulator must keep answering.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the server tasks and the handles share.
struct Shared {
    addr: SocketAddr,
    query_path: String,
    /// The first is the organisation of [`Simulator::start`]; requests that
    /// name no known client or token are its.
    orgs: RwLock<Vec<Arc<Org>>>,
    /// Organisations by client id.
    clients: RwLock<HashMap<String, usize>>,
    /// Organisations by organisation id.
    organizations: RwLock<HashMap<String, usize>>,
    /// Every issued token, with the organisation it was issued to.
    tokens: Mutex<TokenStore>,
    clock: Clock,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn org(&self, index: usize) -> Arc<Org> {
        self.orgs.read().unwrap_or_else(|e| e.into_inner())[index].clone()
    }

    /// Whose request this is: the client its Basic credentials name on the
    /// token endpoint, the organisation an AWS request names, the owner of
    /// its bearer token elsewhere.
    fn route(&self, endpoint: Endpoint, headers: &HeaderMap, body: &[u8]) -> Arc<Org> {
        let index = match endpoint {
            Endpoint::Token => auth::basic_credentials(headers).and_then(|(id, _)| {
                let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
                clients.get(&id).copied()
            }),
            e if e.is_aws() => aws::route(self, e, headers, body),
            _ => auth::bearer_token(headers).and_then(|t| self.tokens().owner(t)),
        };
        self.org(index.unwrap_or(0))
    }
}

/// Stops the server when the last handle goes away.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.shutdown.send_replace(true);
    }
}

/// A running simulator; clones are handles to the same server. It derefs to
/// its first organisation's switches and counters.
#[derive(Clone)]
pub struct Simulator {
    first: Tenant,
    _stop_on_drop: Arc<StopOnDrop>,
}

/// One organisation on a running simulator: its fault switches and counters.
#[derive(Clone)]
pub struct Tenant {
    org: Arc<Org>,
    shared: Arc<Shared>,
}

impl Deref for Simulator {
    type Target = Tenant;

    fn deref(&self) -> &Tenant {
        &self.first
    }
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.first.shared.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Binds `addr` (port 0 picks a free port) and serves on the current
    /// tokio runtime.
    pub async fn start(addr: SocketAddr, config: SimConfig) -> io::Result<Simulator> {
        Simulator::start_with_clock(addr, config, SimClock::System).await
    }

    /// [`Simulator::start`] on the given clock.
    pub async fn start_with_clock(
        addr: SocketAddr,
        config: SimConfig,
        clock: SimClock,
    ) -> io::Result<Simulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            addr,
            query_path: config.query_path.clone(),
            clients: RwLock::new(HashMap::from([(config.client_id.clone(), 0)])),
            organizations: RwLock::new(HashMap::from([(config.effective_organization_id(), 0)])),
            orgs: RwLock::new(vec![Arc::new(Org::new(0, config))]),
            tokens: Mutex::new(TokenStore::default()),
            clock: Clock::new(clock),
            shutdown,
        });
        tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Simulator {
            _stop_on_drop: Arc::new(StopOnDrop(shared.clone())),
            first: Tenant {
                org: shared.org(0),
                shared,
            },
        })
    }

    /// Hosts one more organisation on this server, reached with its own
    /// client credentials at the same URLs.
    ///
    /// # Panics
    /// When the client id or the organisation id is already taken or the
    /// query path differs from the server's: mistakes in the test that sets
    /// it up.
    pub fn add_organization(&self, config: SimConfig) -> Tenant {
        let shared = &self.first.shared;
        assert_eq!(
            config.query_path, shared.query_path,
            "an organisation's query path must be the server's"
        );
        let mut orgs = shared.orgs.write().unwrap_or_else(|e| e.into_inner());
        let mut clients = shared.clients.write().unwrap_or_else(|e| e.into_inner());
        let mut organizations = shared
            .organizations
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let index = orgs.len();
        let organization_id = config.effective_organization_id();
        assert!(
            !clients.contains_key(&config.client_id),
            "client id {:?} is taken",
            config.client_id
        );
        assert!(
            organizations
                .insert(organization_id.clone(), index)
                .is_none(),
            "organisation id {organization_id:?} is taken"
        );
        clients.insert(config.client_id.clone(), index);
        let org = Arc::new(Org::new(index, config));
        orgs.push(org.clone());
        Tenant {
            org,
            shared: shared.clone(),
        }
    }

    /// Stops accepting, and closes every connection: idle ones at once,
    /// hung ones at once, others after their response or a short grace.
    pub fn shutdown(&self) {
        self.first.shared.shutdown.send_replace(true);
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.first.shared.addr
    }

    /// `http://127.0.0.1:PORT`: both the login and the API base URL. An
    /// unspecified bind address is given as loopback, which reaches it.
    pub fn base_url(&self) -> String {
        let mut addr = self.first.shared.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        format!("http://{addr}")
    }
}

impl Tenant {
    /// The client id this organisation's tokens are issued to.
    pub fn client_id(&self) -> &str {
        &self.org.client.id
    }

    fn push_fault(&self, endpoint: Endpoint, f: Fault) {
        if let Some(slot) = endpoint.slot() {
            self.org.state().faults[slot].push_back(f);
        }
    }

    fn received(&self, endpoint: Endpoint) -> usize {
        endpoint
            .slot()
            .map_or(0, |slot| self.org.received[slot].load(Ordering::SeqCst))
    }

    /// Queues a fault for a coming token request; each request takes one.
    pub fn push_token_fault(&self, f: Fault) {
        self.push_fault(Endpoint::Token, f);
    }

    /// Queues a fault for a coming query request; each request takes one.
    pub fn push_query_fault(&self, f: Fault) {
        self.push_fault(Endpoint::Query, f);
    }

    /// Queues a fault for a coming integrations request; each request takes one.
    pub fn push_integrations_fault(&self, f: Fault) {
        self.push_fault(Endpoint::Integrations, f);
    }

    /// Queues a fault for a coming `/api/v2/integrations/{id}/config/current`
    /// request; each request takes one.
    pub fn push_integration_config_fault(&self, f: Fault) {
        self.push_fault(Endpoint::IntegrationConfig, f);
    }

    /// Queues a fault for a coming `/api/v2/organizations/me` request.
    pub fn push_organization_fault(&self, f: Fault) {
        self.push_fault(Endpoint::Organization, f);
    }

    /// Queues a fault for a coming EventBridge `DescribeEventSource` request
    /// about this organisation's sources.
    pub fn push_describe_event_source_fault(&self, f: Fault) {
        self.push_fault(Endpoint::DescribeEventSource, f);
    }

    /// Queues a fault for a coming EventBridge `ListRules` request.
    pub fn push_list_rules_fault(&self, f: Fault) {
        self.push_fault(Endpoint::ListRules, f);
    }

    /// Queues a fault for a coming EventBridge `ListTargetsByRule` request.
    pub fn push_list_targets_by_rule_fault(&self, f: Fault) {
        self.push_fault(Endpoint::ListTargetsByRule, f);
    }

    /// Queues a fault for a coming CloudWatch `GetMetricData` request.
    pub fn push_get_metric_data_fault(&self, f: Fault) {
        self.push_fault(Endpoint::GetMetricData, f);
    }

    /// Drops every queued fault of every endpoint: the upstream heals.
    pub fn clear_faults(&self) {
        for faults in &mut self.org.state().faults {
            faults.clear();
        }
    }

    /// Lists exactly these integrations from now on.
    pub fn set_integrations(&self, integrations: Vec<serde_json::Value>) {
        self.org.state().integrations = integrations;
    }

    /// Requests received on `/api/v2/integrations`, faulted ones included.
    pub fn integrations_requests(&self) -> usize {
        self.received(Endpoint::Integrations)
    }

    /// Requests received on `/api/v2/integrations/{id}/config/current`.
    pub fn integration_config_requests(&self) -> usize {
        self.received(Endpoint::IntegrationConfig)
    }

    /// Requests received on `/api/v2/organizations/me`.
    pub fn organization_requests(&self) -> usize {
        self.received(Endpoint::Organization)
    }

    /// EventBridge `DescribeEventSource` requests about this organisation
    /// (by the source name; else signed with its credentials), faulted and
    /// refused ones included; so are the counters below.
    pub fn describe_event_source_requests(&self) -> usize {
        self.received(Endpoint::DescribeEventSource)
    }

    /// EventBridge `ListRules` requests about this organisation.
    pub fn list_rules_requests(&self) -> usize {
        self.received(Endpoint::ListRules)
    }

    /// EventBridge `ListTargetsByRule` requests about this organisation.
    pub fn list_targets_by_rule_requests(&self) -> usize {
        self.received(Endpoint::ListTargetsByRule)
    }

    /// CloudWatch `GetMetricData` requests about this organisation (by the
    /// first query naming one of its sources or buses).
    pub fn get_metric_data_requests(&self) -> usize {
        self.received(Endpoint::GetMetricData)
    }

    /// The organisation id (`Organization.id`).
    pub fn organization_id(&self) -> &str {
        &self.org.organization_id
    }

    /// Answers AWS requests about this organisation from this account from
    /// now on: its credentials, sources, buses, rules and figures.
    pub fn set_aws(&self, account: AwsAccount) {
        self.org.state().aws = account;
    }

    /// Pages `ListRules`, `ListTargetsByRule` and `GetMetricData` answers
    /// about this organisation at most this many items at a time.
    pub fn set_aws_paging(&self, paging: AwsPaging) {
        self.org.state().aws_paging = paging;
    }

    pub fn set_paging(&self, m: PagingMode) {
        self.org.state().paging = m;
    }

    /// Answers queries with exactly these rows from now on.
    pub fn set_rows(&self, rows: Vec<serde_json::Value>) {
        self.set_row_source(RowSource::Fixed(rows));
    }

    pub fn set_row_source(&self, rows: RowSource) {
        self.org.state().rows = rows;
    }

    /// Invalidates every token issued to this organisation so far: queries
    /// with them answer 401.
    pub fn revoke_tokens(&self) {
        self.shared.tokens().revoke(self.org.index);
        self.org.state().limiter.clear();
    }

    /// Requests received on `/oauth/token`, faulted ones included.
    pub fn token_requests(&self) -> usize {
        self.received(Endpoint::Token)
    }

    /// Requests received on the query path, faulted ones included.
    pub fn query_requests(&self) -> usize {
        self.received(Endpoint::Query)
    }

    /// Every request received, in order (the latest 10,000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.org.state().requests.iter().cloned().collect()
    }

    /// Keeps requests for [`Simulator::requests`] (the default) or not, and
    /// forgets those kept so far when switched off. Demo mode, which never
    /// reads them, switches it off: otherwise every query would add a
    /// kilobyte or so until 10,000 were kept. The counters count either way.
    pub fn record_requests(&self, on: bool) {
        let mut state = self.org.state();
        state.recording = on;
        if !on {
            state.requests = VecDeque::new();
        }
    }
}

/// Resolves once shutdown is signalled.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut stop = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, shared.clone()));
            }
            Err(e) => {
                // Typically out of file descriptors: wait rather than spin.
                tracing::warn!(error = %e, "simulator: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::debug!("simulator: stopped accepting");
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut stop = shared.shutdown.subscribe();
    let service_state = shared.clone();
    let service = service_fn(move |req| handle(service_state.clone(), req));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "simulator: connection ended with an error");
            }
            return;
        }
        _ = stopped(&mut stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
}

/// One request: read it whole, record it, apply a queued fault, answer.
async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, io::Error> {
    let (parts, body) = req.into_parts();
    let endpoint = Endpoint::of(parts.uri.path(), &parts.headers, &shared.query_path);
    let (body, body_error) = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => (collected.to_bytes(), None),
        Err(e) => (bytes::Bytes::new(), Some(e)),
    };
    let org = shared.route(endpoint, &parts.headers, &body);
    let fault = org.received(endpoint, &parts, &body);
    if let Some(e) = body_error {
        if e.downcast_ref::<LengthLimitError>().is_some() {
            return Ok(api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request.entity.too.large",
                "the request body is too large",
            ));
        }
        // The client went away mid-body; there is no one to answer.
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()));
    }
    if let Some(answered) = apply(&shared, endpoint, fault).await? {
        return Ok(answered);
    }
    let call = Call {
        shared: &shared,
        org: &org,
        method: &parts.method,
        path: parts.uri.path(),
        headers: &parts.headers,
        body: &body,
        query: parts.uri.query(),
    };
    let mut response = answer(&call, endpoint);
    if endpoint.is_aws() {
        aws::finish(&shared, endpoint, &mut response);
    } else if let Some(id) = shared.clock.correlation_id(endpoint as usize) {
        set_header(&mut response, response::CORRELATION_ID, id);
    }
    tracing::debug!(
        method = %parts.method,
        path = %parts.uri.path(),
        status = response.status().as_u16(),
        "simulator: answered"
    );
    Ok(response)
}

/// The route table's other half: which module answers an endpoint.
fn answer(call: &Call<'_>, endpoint: Endpoint) -> Response<SimBody> {
    match endpoint {
        Endpoint::Token => auth::answer(call),
        Endpoint::Query => analytics::answer(call),
        Endpoint::Integrations => integrations::answer(call),
        Endpoint::IntegrationConfig => match integrations::config_id(call.path) {
            Some(id) => integrations::answer_config(call, id),
            None => not_found(call.path),
        },
        Endpoint::Organization => organization::answer(call),
        e if e.is_aws() => aws::answer(call, e),
        _ => not_found(call.path),
    }
}

fn not_found(path: &str) -> Response<SimBody> {
    api_error(
        StatusCode::NOT_FOUND,
        "not.found",
        &format!("no resource at {path}"),
    )
}

/// A request as an API's module answers it.
pub(crate) struct Call<'a> {
    shared: &'a Shared,
    org: &'a Org,
    method: &'a Method,
    /// The path as sent, still percent-encoded.
    path: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    /// The query string, if any.
    query: Option<&'a str>,
}

impl Org {
    /// Records and counts a request, and takes the fault queued for it.
    fn received(
        &self,
        endpoint: Endpoint,
        parts: &hyper::http::request::Parts,
        body: &[u8],
    ) -> Option<Fault> {
        let mut state = self.state();
        if state.requests.len() >= MAX_RECORDED {
            state.requests.pop_front();
        }
        let record = state.recording.then(|| RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        });
        state.requests.extend(record);
        endpoint.slot().and_then(|slot| {
            self.received[slot].fetch_add(1, Ordering::SeqCst);
            state.faults[slot].pop_front()
        })
    }
}

/// What a queued fault makes of a request: an answer of its own, or none
/// (after a delay) so that the request is answered as usual.
async fn apply(
    shared: &Shared,
    endpoint: Endpoint,
    fault: Option<Fault>,
) -> io::Result<Option<Response<SimBody>>> {
    match fault {
        None => Ok(None),
        Some(Fault::AwsError {
            status,
            code,
            message,
        }) => {
            let mut response = aws::fault(endpoint, status, &code, &message);
            aws::finish(shared, endpoint, &mut response);
            Ok(Some(response))
        }
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => Ok(Some(faults::canned_response(status, &headers, &body))),
        Some(Fault::ResetMidBody) => Ok(Some(faults::reset_mid_body())),
        Some(Fault::Delay(delay)) => {
            let mut stop = shared.shutdown.subscribe();
            tokio::select! {
                _ = tokio::time::sleep(delay) => Ok(None),
                _ = stopped(&mut stop) => Err(aborted()),
            }
        }
        Some(Fault::Hang) => {
            let mut stop = shared.shutdown.subscribe();
            stopped(&mut stop).await;
            Err(aborted())
        }
    }
}

fn aborted() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "simulator shut down")
}

/// 405 for a method other than `allowed`.
pub(crate) fn method_not_allowed(method: &Method, allowed: &str) -> Response<SimBody> {
    api_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        &format!("method {method} is not allowed here; use {allowed}"),
    )
}

/// Whether the one `Content-Type` header names this media type
/// (parameters such as `charset` ignored).
pub(crate) fn has_media_type(headers: &HeaderMap, media_type: &str) -> bool {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type)),
        _ => false,
    }
}

/// A platform API request: its bearer token checked and counted against the
/// token's rate limit (with the `inin-ratelimit-*` headers), then `answer`.
pub(crate) fn authorized(
    call: &Call<'_>,
    answer: impl FnOnce(&mut State) -> Response<SimBody>,
) -> Response<SimBody> {
    let (shared, org, headers) = (call.shared, call.org, call.headers);
    let Some(token) = auth::bearer_token(headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        );
    };
    let status = shared.tokens().status(token, shared.clock.now());
    match status {
        TokenStatus::Valid => {}
        TokenStatus::Expired => {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "bad.credentials",
                "The access token has expired.",
            );
        }
        TokenStatus::Unknown => {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "bad.credentials",
                "Invalid login credentials.",
            );
        }
    }
    let mut state = org.state();
    let rate = state
        .limiter
        .count(token, org.rate_limit_per_minute, shared.clock.now());
    let mut response = if rate.exceeded() {
        let mut response = api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too.many.requests.retry.after",
            &format!(
                "Rate limit exceeded the maximum. Retry the request in [{}] seconds",
                rate.reset_secs
            ),
        );
        set_header(&mut response, "retry-after", rate.reset_secs.to_string());
        response
    } else {
        answer(&mut state)
    };
    rate.apply(&mut response);
    response
}
