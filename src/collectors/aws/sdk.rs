//! The AWS SDK's clients of one organisation: one pair (EventBridge,
//! CloudWatch) per region, built at the first AWS cycle (never at start-up:
//! resolving credentials must not delay readiness), on one HTTPS client
//! shared by every organisation, with the organisation's credentials (the
//! default chain, or a role assumed through STS). Organisations that reach
//! AWS alike (endpoint, key, role) share the loaded configuration and the
//! clients: each costs some 85 KB, which 1,000 organisations made 85 MB. The
//! SDK's own retries are off: the collector retries within its budget and
//! owns the throttling cooldown, which SDK retries would defeat by sending
//! more requests. The SDK asks STS for a role's credentials on its own, when
//! they are needed: those requests are recorded from the HTTPS client of STS
//! alone, in the ledger of the organisation that names the role (so an
//! organisation with a role shares its configuration with none).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_eventbridge::config::{Credentials, SharedCredentialsProvider, SharedHttpClient};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::OnceCell;

use super::calls::{Caller, Op, Traced};
use crate::clock::Clock;
use crate::config::AwsSettings;

/// What a request may take at most, whatever the budget: connecting,
/// waiting for a byte, one attempt. A scrape's budget bounds it further.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The name of the session a role is assumed in, as CloudTrail shows it.
const SESSION_NAME: &str = "genesys-eventbridge-exporter";

/// One HTTPS client (connection pool) for every organisation.
static HTTP: LazyLock<SharedHttpClient> = LazyLock::new(|| {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
});

/// Where an organisation's AWS requests go and whose credentials sign them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Access {
    /// Overrides `AWS_ENDPOINT_URL` and AWS's own endpoints.
    pub endpoint_url: Option<String>,
    /// Static credentials (the demo's, for the simulator), else the chain.
    pub static_key: Option<(String, String)>,
    /// A region of its own (the demo's), so that the SDK's region chain,
    /// which ends at the instance metadata address, is not asked.
    pub region: Option<String>,
}

// By hand, so that the secret never reaches a log line or a panic.
impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("endpoint_url", &self.endpoint_url)
            .field("region", &self.region)
            .field(
                "static_key",
                &self.static_key.as_ref().map(|(id, _)| (id, "<redacted>")),
            )
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Clients {
    pub events: aws_sdk_eventbridge::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

/// The SDK's clock: the exporter's.
#[derive(Debug)]
struct ClockSource(Clock);

impl aws_smithy_async::time::TimeSource for ClockSource {
    fn now(&self) -> SystemTime {
        self.0.now()
    }
}

/// What decides how an organisation reaches AWS: organisations that agree
/// on it share one [`Shared`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reach {
    access: Access,
    role: Option<(String, Option<String>)>,
    clock: Clock,
}

/// The loaded configuration (credential chain and its cache, region) and the
/// clients by region, of every organisation that reaches AWS alike.
struct Shared {
    reach: Reach,
    /// The ledger a role's STS requests go in: the one organisation's.
    sts: Option<Arc<Caller>>,
    base: OnceCell<SdkConfig>,
    by_region: Mutex<HashMap<String, Clients>>,
}

/// Every [`Shared`] in use; weak, so that one goes with the last
/// organisation using it (a reload that changes the reach).
static IN_USE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// `caller` is the organisation's ledger, for a role's STS requests.
fn shared(reach: Reach, caller: Arc<Caller>) -> Arc<Shared> {
    let mut in_use = IN_USE.lock().unwrap_or_else(|e| e.into_inner());
    in_use.retain(|w| w.strong_count() > 0);
    let alike = (in_use.iter())
        .filter_map(Weak::upgrade)
        .find(|s| s.reach == reach && s.sts.is_none());
    if let Some(found) = alike.filter(|_| reach.role.is_none()) {
        return found;
    }
    let sts = reach.role.is_some().then_some(caller);
    let made = Arc::new(Shared {
        reach,
        sts,
        base: OnceCell::new(),
        by_region: Mutex::new(HashMap::new()),
    });
    in_use.push(Arc::downgrade(&made));
    made
}

pub struct Sdk {
    shared: Arc<Shared>,
}

impl Sdk {
    /// `caller` counts the role's STS requests.
    pub fn new(settings: &AwsSettings, access: Access, clock: Clock, caller: Arc<Caller>) -> Sdk {
        let endpoint_url = settings.endpoint_url.clone().or(access.endpoint_url);
        let reach = Reach {
            access: Access {
                endpoint_url,
                ..access
            },
            role: (settings.role_arn.clone()).map(|arn| (arn, settings.external_id.clone())),
            clock,
        };
        Sdk {
            shared: shared(reach, caller),
        }
    }

    /// The region the SDK's own chain gives (`AWS_REGION`, the profile),
    /// for a source that names none.
    pub async fn default_region(&self) -> Option<String> {
        self.base().await.region().map(|r| r.to_string())
    }

    /// The clients for `region`.
    pub async fn clients(&self, region: &str) -> Clients {
        let base = self.base().await;
        let by_region = &self.shared.by_region;
        let mut by_region = by_region.lock().unwrap_or_else(|e| e.into_inner());
        by_region
            .entry(region.to_string())
            .or_insert_with(|| {
                let region = Region::new(region.to_string());
                let events = aws_sdk_eventbridge::config::Builder::from(base)
                    .region(region.clone())
                    .build();
                let cloudwatch = aws_sdk_cloudwatch::config::Builder::from(base)
                    .region(region)
                    .build();
                Clients {
                    events: aws_sdk_eventbridge::Client::from_conf(events),
                    cloudwatch: aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
                }
            })
            .clone()
    }

    async fn base(&self) -> &SdkConfig {
        let shared = &self.shared;
        (shared.base)
            .get_or_init(|| load(&shared.reach, shared.sts.clone()))
            .await
    }
}

async fn load(reach: &Reach, sts: Option<Arc<Caller>>) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(HTTP.clone())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::disabled())
        .time_source(ClockSource(reach.clock));
    if let Some(url) = &reach.access.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = &reach.access.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some((key, secret)) = &reach.access.static_key {
        let static_key = Credentials::new(key, secret, None, None, "demo");
        loader = loader.credentials_provider(static_key);
    }
    let config = loader.load().await;
    let (Some((arn, external_id)), Some(caller)) = (&reach.role, sts) else {
        return config;
    };
    let recorded = Recorded {
        caller,
        role: arn.clone(),
    };
    let sts = (config.clone().into_builder())
        .http_client(SharedHttpClient::new(recorded))
        .build();
    let mut role = aws_config::sts::AssumeRoleProvider::builder(arn)
        .session_name(SESSION_NAME)
        .configure(&sts);
    if let Some(id) = external_id {
        role = role.external_id(id);
    }
    if config.region().is_none() {
        // STS answers in every region; one is needed to sign.
        role = role.region(Region::from_static("us-east-1"));
    }
    let role = role.build().await;
    config
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(role))
        .build()
}

/// The HTTPS client of STS: the shared one, each request recorded in the
/// ledger as `AssumeRole` with its status and request id.
#[derive(Debug)]
struct Recorded {
    caller: Arc<Caller>,
    /// The role's ARN, what the trace says it asked about.
    role: String,
}

impl HttpClient for Recorded {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordedConnector {
            inner: HTTP.http_connector(settings, components),
            caller: self.caller.clone(),
            role: self.role.clone(),
        })
    }
}

#[derive(Debug)]
struct RecordedConnector {
    inner: SharedHttpConnector,
    caller: Arc<Caller>,
    role: String,
}

impl HttpConnector for RecordedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let started = Instant::now();
        let answer = self.inner.call(request);
        let (caller, role) = (self.caller.clone(), self.role.clone());
        HttpConnectorFuture::new(async move {
            let answer = answer.await;
            let response = answer.as_ref().ok();
            caller.record(Traced {
                op: Op::AssumeRole,
                subject: role,
                status: response.map(|r| r.status().as_u16()),
                duration: started.elapsed(),
                request_id: (response.and_then(|r| r.headers().get("x-amzn-requestid")))
                    .map(str::to_string),
                error: answer.as_ref().err().map(|e| e.to_string()),
            });
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk(endpoint: &str, role_arn: Option<&str>) -> Sdk {
        let settings = AwsSettings {
            role_arn: role_arn.map(str::to_string),
            ..AwsSettings::default()
        };
        let access = Access {
            endpoint_url: Some(endpoint.to_string()),
            ..Access::default()
        };
        Sdk::new(
            &settings,
            access,
            Clock::System,
            Arc::new(Caller::new(Clock::System)),
        )
    }

    #[test]
    fn organisations_that_reach_aws_alike_share_one_configuration_until_the_last_goes() {
        let url = "http://sharing.invalid:1";
        let (a, b) = (sdk(url, None), sdk(url, None));
        assert!(
            Arc::ptr_eq(&a.shared, &b.shared),
            "one load, one set of clients"
        );
        let elsewhere = sdk("http://sharing.invalid:2", None);
        let role = sdk(url, Some("arn:aws:iam::123456789012:role/other"));
        let same_role = sdk(url, Some("arn:aws:iam::123456789012:role/other"));
        for other in [&elsewhere, &role, &same_role] {
            assert!(!Arc::ptr_eq(&a.shared, &other.shared));
        }
        assert!(
            !Arc::ptr_eq(&role.shared, &same_role.shared),
            "a role's STS requests are its organisation's"
        );
        let weak = Arc::downgrade(&a.shared);
        drop((a, b));
        assert!(weak.upgrade().is_none(), "released with the last user");
    }
}
