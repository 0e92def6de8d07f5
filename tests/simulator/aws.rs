//! The simulator's AWS side as the official AWS SDK for Rust sees it:
//! EventBridge (awsJson1.1) and CloudWatch (Smithy RPC v2 CBOR) clients,
//! unmodified, with static credentials and the simulator as endpoint.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch as cloudwatch;
use aws_sdk_eventbridge as eventbridge;
use cloudwatch::primitives::DateTime;
use cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat};
use eventbridge::error::ProvideErrorMetadata;
use eventbridge::operation::RequestId;
use eventbridge::types::{EventSourceState, RuleState};
use genesys_cloud_simulator::{
    AwsAccount, AwsCredentials, AwsPaging, DEMO_ACCESS_KEY_ID, DEMO_AWS_REGION,
    DEMO_ORGANIZATION_ID, DEMO_SECRET_ACCESS_KEY, Fault, SimClock, SimConfig, Simulator,
    partner_source_name,
};

use super::start;

/// 2026-12-01T11:50:00Z to 11:55:00Z: one whole five-minute period.
const PERIOD_START: i64 = 1_796_125_800;
const PERIOD: i32 = 300;

fn prod() -> String {
    partner_source_name(DEMO_ORGANIZATION_ID, "eventbridge-prod")
}

fn audit() -> String {
    partner_source_name(DEMO_ORGANIZATION_ID, "eventbridge-audit")
}

/// What both clients are built with; retries off unless asked, so that
/// each fault is seen once.
struct Setup<'a> {
    sim: &'a Simulator,
    key: &'a str,
    secret: &'a str,
    retries: bool,
    timeout: Option<Duration>,
}

impl<'a> Setup<'a> {
    fn demo(sim: &'a Simulator) -> Setup<'a> {
        Setup {
            sim,
            key: DEMO_ACCESS_KEY_ID,
            secret: DEMO_SECRET_ACCESS_KEY,
            retries: false,
            timeout: None,
        }
    }

    /// One SDK configuration for both clients, as an application loads it.
    fn config(&self) -> aws_config::SdkConfig {
        use aws_config::{retry::RetryConfig, timeout::TimeoutConfig};
        use eventbridge::config::{Credentials, SharedCredentialsProvider};
        let mut timeouts = TimeoutConfig::builder();
        if let Some(t) = self.timeout {
            timeouts = timeouts.operation_timeout(t);
        }
        let key = Credentials::new(self.key, self.secret, None, None, "test");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(DEMO_AWS_REGION))
            .credentials_provider(SharedCredentialsProvider::new(key))
            .endpoint_url(self.sim.base_url())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(match self.retries {
                true => RetryConfig::standard(),
                false => RetryConfig::disabled(),
            })
            .timeout_config(timeouts.build())
            .build()
    }

    fn eventbridge(&self) -> eventbridge::Client {
        eventbridge::Client::new(&self.config())
    }

    fn cloudwatch(&self) -> cloudwatch::Client {
        cloudwatch::Client::new(&self.config())
    }
}

/// The HTTP status and error code of a failed SDK call.
fn refusal<E: ProvideErrorMetadata>(
    err: &eventbridge::error::SdkError<E, eventbridge::config::http::HttpResponse>,
) -> (u16, String) {
    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
    (status, err.code().unwrap_or_default().to_owned())
}

fn secs(t: &DateTime) -> i64 {
    t.secs()
}

#[tokio::test]
async fn eventbridge_describes_the_demo_sources() {
    let sim = Simulator::start_with_clock(
        ([127, 0, 0, 1], 0).into(),
        SimConfig::demo(),
        SimClock::Frozen,
    )
    .await
    .unwrap();
    let client = Setup::demo(&sim).eventbridge();

    let source = client
        .describe_event_source()
        .name(prod())
        .send()
        .await
        .unwrap();
    assert_eq!(source.name(), Some(prod().as_str()));
    assert_eq!(
        source.arn(),
        Some(format!("arn:aws:events:us-east-1::event-source/{}", prod()).as_str())
    );
    assert_eq!(source.created_by(), Some("genesys.com"));
    assert_eq!(source.creation_time().map(secs), Some(1_793_607_000));
    assert_eq!(source.expiration_time(), None);
    assert_eq!(source.state(), Some(&EventSourceState::Active));
    // A request id per endpoint, counting up on a frozen clock.
    assert_eq!(
        source.request_id(),
        Some("00000000-0000-4000-8005-000000000001")
    );

    let pending = client
        .describe_event_source()
        .name(audit())
        .send()
        .await
        .unwrap();
    assert_eq!(pending.state(), Some(&EventSourceState::Pending));
    assert_eq!(pending.creation_time().map(secs), Some(1_796_072_280));
    assert_eq!(pending.expiration_time().map(secs), Some(1_797_281_880));

    let missing = partner_source_name(DEMO_ORGANIZATION_ID, "eventbridge-nope");
    let err = client
        .describe_event_source()
        .name(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "ResourceNotFoundException".into()));
    assert!(err.into_service_error().is_resource_not_found_exception());
    // Another organisation's source is no source of this account.
    let foreign = partner_source_name("00000000-0000-4000-8000-00000000ffff", "x");
    let err = client
        .describe_event_source()
        .name(foreign)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let err = client
        .describe_event_source()
        .name("not-a-partner")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "ValidationException".into()));
    assert_eq!(sim.describe_event_source_requests(), 5);
}

#[tokio::test]
async fn eventbridge_lists_the_demo_rules() {
    let sim = start(SimConfig::demo()).await;
    let client = Setup::demo(&sim).eventbridge();

    let listed = client
        .list_rules()
        .event_bus_name(prod())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.next_token(), None);
    let rules = listed.rules();
    let names: Vec<&str> = rules.iter().filter_map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "genesys-archive-replay",
            "genesys-to-lambda-analytics",
            "genesys-to-sqs-orders"
        ]
    );
    let states: Vec<&RuleState> = rules.iter().filter_map(|r| r.state()).collect();
    assert_eq!(
        states,
        [
            &RuleState::Disabled,
            &RuleState::Enabled,
            &RuleState::Enabled
        ]
    );
    for rule in rules {
        assert_eq!(rule.event_bus_name(), Some(prod().as_str()));
        let arn = format!(
            "arn:aws:events:us-east-1:123456789012:rule/{}/{}",
            prod(),
            rule.name().unwrap()
        );
        assert_eq!(rule.arn(), Some(arn.as_str()));
        assert!(
            rule.event_pattern()
                .is_some_and(|p| p.contains("aws.partner/genesys.com"))
        );
    }
    // The bus may be named by its ARN too.
    let arn = format!("arn:aws:events:us-east-1:123456789012:event-bus/{}", prod());
    let by_arn = client
        .list_rules()
        .event_bus_name(arn)
        .name_prefix("genesys-to-")
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.rules().len(), 2);

    // The audit source has no bus.
    let err = client
        .list_rules()
        .event_bus_name(audit())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "ResourceNotFoundException".into()));
    assert!(err.into_service_error().is_resource_not_found_exception());
    assert_eq!(sim.list_rules_requests(), 3);
}

#[tokio::test]
async fn eventbridge_lists_the_demo_targets() {
    let sim = start(SimConfig::demo()).await;
    let client = Setup::demo(&sim).eventbridge();
    let targets = |rule: &'static str| {
        let client = client.clone();
        async move {
            let out = client
                .list_targets_by_rule()
                .rule(rule)
                .event_bus_name(prod())
                .send()
                .await
                .unwrap();
            out.targets().to_vec()
        }
    };
    let sqs = targets("genesys-to-sqs-orders").await;
    assert_eq!(sqs.len(), 1);
    assert_eq!(
        sqs[0].arn(),
        "arn:aws:sqs:us-east-1:123456789012:orders-events"
    );
    assert!(sqs[0].dead_letter_config().and_then(|d| d.arn()).is_some());
    let lambda = targets("genesys-to-lambda-analytics").await;
    let dlqs: Vec<bool> = lambda
        .iter()
        .map(|t| t.dead_letter_config().is_some())
        .collect();
    assert_eq!(dlqs, [true, false]);
    let policy = lambda[0].retry_policy().unwrap();
    assert_eq!(policy.maximum_event_age_in_seconds(), Some(86_400));
    let archive = targets("genesys-archive-replay").await;
    assert!(archive.len() == 1 && archive[0].dead_letter_config().is_none());
    let err = client
        .list_targets_by_rule()
        .rule("no-such-rule")
        .event_bus_name(prod())
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    assert_eq!(sim.list_targets_by_rule_requests(), 4);
}

/// A `MetricStat` query of `AWS/Events` for one five-minute period.
fn query(id: &str, metric: &str, stat: &str, dimensions: &[(&str, &str)]) -> MetricDataQuery {
    let mut m = Metric::builder()
        .namespace("AWS/Events")
        .metric_name(metric);
    for (name, value) in dimensions {
        m = m.dimensions(Dimension::builder().name(*name).value(*value).build());
    }
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(m.build())
                .period(PERIOD)
                .stat(stat)
                .build(),
        )
        .build()
}

/// The eight queries of one rule, ids `{prefix}_{n}`.
fn rule_queries(prefix: &str, bus: &str, rule: &str) -> Vec<MetricDataQuery> {
    let dims = [("EventBusName", bus), ("RuleName", rule)];
    [
        ("Invocations", "Sum"),
        ("FailedInvocations", "Sum"),
        ("RetryInvocationAttempts", "Sum"),
        ("ThrottledRules", "Sum"),
        ("InvocationsSentToDlq", "Sum"),
        ("InvocationsFailedToBeSentToDlq", "Sum"),
        ("IngestionToInvocationSuccessLatency", "Average"),
        ("IngestionToInvocationSuccessLatency", "Maximum"),
    ]
    .iter()
    .enumerate()
    .map(|(n, (metric, stat))| query(&format!("{prefix}_{n}"), metric, stat, &dims))
    .collect()
}

async fn metric_data(
    client: &cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    token: Option<String>,
) -> Result<
    cloudwatch::operation::get_metric_data::GetMetricDataOutput,
    cloudwatch::error::SdkError<cloudwatch::operation::get_metric_data::GetMetricDataError>,
> {
    client
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(DateTime::from_secs(PERIOD_START))
        .end_time(DateTime::from_secs(PERIOD_START + i64::from(PERIOD)))
        .set_next_token(token)
        .send()
        .await
}

/// A result's one value, `None` when it has no datapoint.
fn value(results: &[MetricDataResult], id: &str) -> Option<f64> {
    let result = results.iter().find(|r| r.id() == Some(id)).unwrap();
    assert_eq!(
        result.status_code(),
        Some(&cloudwatch::types::StatusCode::Complete)
    );
    assert_eq!(result.timestamps().len(), result.values().len());
    match result.values() {
        [] => None,
        [v] => {
            assert_eq!(
                result.timestamps()[0].secs(),
                PERIOD_START,
                "the period's start"
            );
            Some(*v)
        }
        more => panic!("{id}: {more:?}"),
    }
}

#[tokio::test]
async fn cloudwatch_answers_the_demo_figures() {
    let sim = start(SimConfig::demo()).await;
    let client = Setup::demo(&sim).cloudwatch();
    let bus = prod();
    let mut queries = vec![
        query("prod_events", "Events", "Sum", &[("EventSourceName", &bus)]),
        query(
            "audit_events",
            "Events",
            "Sum",
            &[("EventSourceName", &audit())],
        ),
    ];
    queries.extend(rule_queries("sqs", &bus, "genesys-to-sqs-orders"));
    queries.extend(rule_queries("lambda", &bus, "genesys-to-lambda-analytics"));
    queries.extend(rule_queries("archive", &bus, "genesys-archive-replay"));
    let out = metric_data(&client, queries, None).await.unwrap();
    assert_eq!(out.next_token(), None);
    assert!(out.messages().is_empty());
    let r = out.metric_data_results();
    assert_eq!(r.len(), 26);
    assert_eq!(r[0].label(), Some("Events"));
    assert_eq!(value(r, "prod_events"), Some(7250.0));
    assert_eq!(value(r, "audit_events"), None);
    let sqs: Vec<Option<f64>> = (0..8).map(|n| value(r, &format!("sqs_{n}"))).collect();
    assert_eq!(
        sqs,
        [
            Some(7250.0),
            None,
            None,
            None,
            None,
            None,
            Some(420.0),
            Some(1150.0)
        ]
    );
    let lambda: Vec<Option<f64>> = (0..8).map(|n| value(r, &format!("lambda_{n}"))).collect();
    assert_eq!(
        lambda,
        [
            Some(7180.0),
            Some(12.0),
            Some(340.0),
            Some(25.0),
            Some(9.0),
            None,
            Some(8200.0),
            Some(45_300.0)
        ]
    );
    assert!((0..8).all(|n| value(r, &format!("archive_{n}")).is_none()));
    assert_eq!(sim.get_metric_data_requests(), 1);
}

#[tokio::test]
async fn eventbridge_pages_by_next_token() {
    let sim = start(SimConfig::demo()).await;
    sim.set_aws_paging(AwsPaging {
        list_rules: 1,
        list_targets_by_rule: 1,
        ..AwsPaging::default()
    });
    let events = Setup::demo(&sim).eventbridge();
    let (mut rules, mut token) = (Vec::new(), None);
    loop {
        let page = events
            .list_rules()
            .event_bus_name(prod())
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.rules().len(), 1);
        rules.extend(
            page.rules()
                .iter()
                .filter_map(|r| r.name().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(rules.len(), 3);
    let first = events
        .list_targets_by_rule()
        .rule("genesys-to-lambda-analytics")
        .event_bus_name(prod())
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_owned();
    let second = events
        .list_targets_by_rule()
        .rule("genesys-to-lambda-analytics")
        .event_bus_name(prod())
        .next_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (first.targets()[0].id(), second.targets()[0].id()),
        ("analytics-function", "reporting-partner")
    );
    assert_eq!(second.next_token(), None);
    // A token is good only for the question it was issued for.
    let err = events
        .list_rules()
        .event_bus_name(prod())
        .next_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "ValidationException".into()));
    // Limit makes pages smaller still, never larger.
    sim.set_aws_paging(AwsPaging::default());
    let limited = events
        .list_rules()
        .event_bus_name(prod())
        .limit(2)
        .send()
        .await
        .unwrap();
    assert!(limited.rules().len() == 2 && limited.next_token().is_some());
}

#[tokio::test]
async fn cloudwatch_pages_by_next_token() {
    let sim = start(SimConfig::demo()).await;
    sim.set_aws_paging(AwsPaging {
        get_metric_data: 3,
        ..AwsPaging::default()
    });
    let metrics = Setup::demo(&sim).cloudwatch();
    let queries = rule_queries("lambda", &prod(), "genesys-to-lambda-analytics");
    let (mut ids, mut token) = (Vec::new(), None);
    for _ in 0..3 {
        let page = metric_data(&metrics, queries.clone(), token).await.unwrap();
        ids.extend(
            page.metric_data_results()
                .iter()
                .filter_map(|r| r.id().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
    }
    assert_eq!(token, None);
    assert_eq!(
        ids,
        (0..8).map(|n| format!("lambda_{n}")).collect::<Vec<_>>()
    );
    let err = metric_data(&metrics, queries, Some("bm90IGEgdG9rZW4=".into()))
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "InvalidNextToken".into()));
    assert!(err.into_service_error().is_invalid_next_token());
}

#[tokio::test]
async fn signatures_are_checked_for_real() {
    let sim = start(SimConfig::demo()).await;
    let wrong_secret = Setup {
        secret: "not/the/secret/of/the/demo/access/key/00",
        ..Setup::demo(&sim)
    };
    let err = wrong_secret
        .eventbridge()
        .describe_event_source()
        .name(prod())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "InvalidSignatureException".into()));
    let message = err.message().unwrap_or_default().to_owned();
    assert!(
        message.contains("does not match the signature"),
        "{message}"
    );
    assert!(!message.contains(DEMO_SECRET_ACCESS_KEY) && !message.contains(wrong_secret.secret));
    let err = metric_data(
        &wrong_secret.cloudwatch(),
        rule_queries("q", &prod(), "genesys-to-sqs-orders"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(refusal(&err), (403, "SignatureDoesNotMatch".into()));

    let unknown_key = Setup {
        key: "AKIAUNKNOWNKEY000000",
        ..Setup::demo(&sim)
    };
    let err = unknown_key
        .eventbridge()
        .list_rules()
        .event_bus_name(prod())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "UnrecognizedClientException".into()));
    let err = metric_data(
        &unknown_key.cloudwatch(),
        rule_queries("q", &prod(), "genesys-to-sqs-orders"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(refusal(&err), (403, "InvalidClientTokenId".into()));
    // Refused requests still count, as AWS bills them too.
    assert_eq!(
        (
            sim.describe_event_source_requests(),
            sim.get_metric_data_requests()
        ),
        (1, 2)
    );
}

#[tokio::test]
async fn signatures_outside_fifteen_minutes_of_the_clock_are_refused() {
    // The simulator's clock an hour ahead of the SDK's.
    let ahead = SystemTime::now() + Duration::from_secs(3600);
    let sim = Simulator::start_with_clock(
        ([127, 0, 0, 1], 0).into(),
        SimConfig::demo(),
        SimClock::FrozenAt(ahead),
    )
    .await
    .unwrap();
    let err = Setup::demo(&sim)
        .eventbridge()
        .describe_event_source()
        .name(prod())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "InvalidSignatureException".into()));
    assert!(
        err.message()
            .is_some_and(|m| m.starts_with("Signature expired: ")),
        "{err:?}"
    );
    let err = metric_data(
        &Setup::demo(&sim).cloudwatch(),
        rule_queries("q", &prod(), "genesys-to-sqs-orders"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(refusal(&err), (403, "SignatureDoesNotMatch".into()));
    // The SDK learns the skew from the answers' Date, as from AWS's, and
    // its retry signs by the simulator's clock.
    let retrying = Setup {
        retries: true,
        ..Setup::demo(&sim)
    };
    let source = retrying
        .eventbridge()
        .describe_event_source()
        .name(prod())
        .send()
        .await
        .unwrap();
    assert_eq!(source.state(), Some(&EventSourceState::Active));
}

#[tokio::test]
async fn more_than_500_queries_are_refused_as_cloudwatch_refuses_them() {
    let sim = start(SimConfig::demo()).await;
    let bus = partner_source_name(DEMO_ORGANIZATION_ID, "eventbridge-bulk");
    let mut account = AwsAccount::demo();
    account.add_healthy_rules(&bus, 63);
    sim.set_aws(account);
    let client = Setup::demo(&sim).cloudwatch();
    let queries: Vec<MetricDataQuery> = (1..=63)
        .flat_map(|n| rule_queries(&format!("r{n}"), &bus, &format!("rule-{n:04}")))
        .collect();
    assert_eq!(queries.len(), 504);
    let err = metric_data(&client, queries.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "ValidationError".into()));
    assert_eq!(
        err.message(),
        Some("The collection MetricDataQueries must not have a size greater than 500.")
    );
    let out = metric_data(&client, queries[..500].to_vec(), None)
        .await
        .unwrap();
    let results = out.metric_data_results();
    assert_eq!(results.len(), 500);
    assert_eq!(value(results, "r63_0"), Some(1000.0));
    assert_eq!(value(results, "r62_6"), Some(350.0));
    assert_eq!(value(results, "r63_1"), None);
}

#[tokio::test]
async fn eventbridge_faults_and_counters() {
    let sim = start(SimConfig::demo()).await;
    let events = Setup::demo(&sim).eventbridge();

    sim.push_describe_event_source_fault(Fault::aws(400, "ThrottlingException", "Rate exceeded"));
    let err = events
        .describe_event_source()
        .name(prod())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "ThrottlingException".into()));
    assert_eq!(err.message(), Some("Rate exceeded"));
    assert!(
        events
            .describe_event_source()
            .name(prod())
            .send()
            .await
            .is_ok(),
        "one request per fault"
    );

    sim.push_list_rules_fault(Fault::aws(
        400,
        "AccessDeniedException",
        "not authorized to perform: events:ListRules",
    ));
    let err = events
        .list_rules()
        .event_bus_name(prod())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (400, "AccessDeniedException".into()));

    sim.push_list_targets_by_rule_fault(Fault::aws(500, "InternalException", "internal"));
    let err = events
        .list_targets_by_rule()
        .rule("genesys-to-sqs-orders")
        .event_bus_name(prod())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), (500, "InternalException".into()));
    assert!(err.into_service_error().is_internal_exception());
    assert_eq!(sim.describe_event_source_requests(), 2);
    assert_eq!(sim.list_rules_requests(), 1);
    assert_eq!(sim.list_targets_by_rule_requests(), 1);
    assert_eq!(sim.get_metric_data_requests(), 0);
}

#[tokio::test]
async fn cloudwatch_faults_and_counters() {
    let sim = start(SimConfig::demo()).await;
    let metrics = Setup {
        timeout: Some(Duration::from_millis(500)),
        ..Setup::demo(&sim)
    }
    .cloudwatch();
    let queries = rule_queries("q", &prod(), "genesys-to-sqs-orders");
    sim.push_get_metric_data_fault(Fault::aws(
        403,
        "AccessDenied",
        "not authorized to perform: cloudwatch:GetMetricData",
    ));
    sim.push_get_metric_data_fault(Fault::aws(500, "InternalServiceError", "internal"));
    sim.push_get_metric_data_fault(Fault::aws(400, "Throttling", "Rate exceeded"));
    for expected in [
        (403, "AccessDenied"),
        (500, "InternalServiceError"),
        (400, "Throttling"),
    ] {
        let err = metric_data(&metrics, queries.clone(), None)
            .await
            .unwrap_err();
        assert_eq!(refusal(&err), (expected.0, expected.1.into()));
    }
    sim.push_get_metric_data_fault(Fault::Hang);
    let started = std::time::Instant::now();
    let err = metric_data(&metrics, queries.clone(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, cloudwatch::error::SdkError::TimeoutError(_)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(metric_data(&metrics, queries, None).await.is_ok());
    assert_eq!(sim.get_metric_data_requests(), 5);
    assert_eq!(sim.describe_event_source_requests(), 0);
}

#[tokio::test]
async fn organisations_and_accounts_are_apart() {
    let sim = start(SimConfig::demo()).await;
    let acme_id = "0b5e2c1d-9a8f-4e7d-8c6b-5a4f3e2d1c0b";
    let acme_credentials = AwsCredentials {
        access_key_id: "AKIAACMEACCOUNT00001".into(),
        secret_access_key: "acme/secret/access/key/of/another/acct00".into(),
    };
    let acme = sim.add_organization(SimConfig {
        client_id: "acme-client".into(),
        client_secret: "acme-secret".into(),
        organization_id: acme_id.into(),
        aws: AwsAccount {
            account_id: "210987654321".into(),
            credentials: acme_credentials.clone(),
            ..AwsAccount::healthy(acme_id, &["eventbridge-prod"])
        },
        ..SimConfig::demo()
    });
    let acme_source = partner_source_name(acme_id, "eventbridge-prod");
    let own = Setup {
        key: &acme_credentials.access_key_id,
        secret: &acme_credentials.secret_access_key,
        ..Setup::demo(&sim)
    };
    let source = own
        .eventbridge()
        .describe_event_source()
        .name(&acme_source)
        .send()
        .await
        .unwrap();
    assert_eq!(source.state(), Some(&EventSourceState::Active));
    // The demo account cannot see another account's source.
    let err = Setup::demo(&sim)
        .eventbridge()
        .describe_event_source()
        .name(&acme_source)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let queries = rule_queries("q", &acme_source, "rule-0001");
    let out = metric_data(&own.cloudwatch(), queries.clone(), None)
        .await
        .unwrap();
    assert_eq!(value(out.metric_data_results(), "q_0"), Some(1000.0));
    let out = metric_data(&Setup::demo(&sim).cloudwatch(), queries, None)
        .await
        .unwrap();
    assert_eq!(value(out.metric_data_results(), "q_0"), None);
    // Counted where the names point, never on the demo organisation.
    assert_eq!(
        (
            acme.describe_event_source_requests(),
            acme.get_metric_data_requests()
        ),
        (2, 2)
    );
    assert_eq!(
        (
            sim.describe_event_source_requests(),
            sim.get_metric_data_requests()
        ),
        (0, 0)
    );
}

#[tokio::test]
async fn requests_outside_the_protocols_are_refused_in_them() {
    let sim = start(SimConfig::demo()).await;
    let client = super::client();
    let unsigned = client
        .post(format!("{}/", sim.base_url()))
        .header("x-amz-target", "AWSEvents.DescribeEventSource")
        .header("content-type", "application/x-amz-json-1.1")
        .body(format!(r#"{{"Name":"{}"}}"#, prod()))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    assert!(
        unsigned.headers().contains_key("x-amzn-requestid")
            && unsigned.headers().contains_key("date")
    );
    let body: serde_json::Value = unsigned.json().await.unwrap();
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    let unknown = client
        .post(format!("{}/", sim.base_url()))
        .header("x-amz-target", "AWSEvents.PutRule")
        .header("content-type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");
    let cbor = client
        .post(format!(
            "{}/service/GraniteServiceVersion20100801/operation/GetMetricData",
            sim.base_url()
        ))
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor")
        .body(vec![0xa0])
        .send()
        .await
        .unwrap();
    assert_eq!(cbor.status(), 403);
    assert_eq!(cbor.headers()["smithy-protocol"], "rpc-v2-cbor");
    assert_eq!(cbor.headers()["content-type"], "application/cbor");
    assert_eq!(
        cbor.headers()["x-amzn-query-error"],
        "MissingAuthenticationToken;Sender"
    );
}
