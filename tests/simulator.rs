//! The simulated Genesys Cloud over real loopback HTTP; its AWS side with
//! the official AWS SDK's clients in `simulator/aws.rs`.

#[path = "simulator/aws.rs"]
mod aws;

use std::time::{Duration, Instant};

use genesys_cloud_simulator::{
    DEFAULT_QUERY_PATH, DEMO_ORGANIZATION_ID, Fault, ORGANIZATION_PATH, PagingMode, RowSource,
    SimConfig, Simulator, derived_organization_id,
};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const ID: &str = "test-client";
const SECRET: &str = "test-secret";

fn client() -> Client {
    // reqwest is built without a bundled crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().unwrap()
}

fn config(rows: Vec<Value>) -> SimConfig {
    SimConfig {
        client_id: ID.into(),
        client_secret: SECRET.into(),
        token_lifetime: Duration::from_secs(3600),
        rows: RowSource::Fixed(rows),
        rate_limit_per_minute: 300,
        query_path: DEFAULT_QUERY_PATH.into(),
        integrations: genesys_cloud_simulator::demo_integrations(),
        // Derived from the client id; an AWS account holding nothing.
        organization_id: String::new(),
        aws: genesys_cloud_simulator::AwsAccount::default(),
    }
}

async fn start(config: SimConfig) -> Simulator {
    Simulator::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .unwrap()
}

fn row(group: &str, event_type: &str) -> Value {
    json!({"consumerGroup": group, "eventType": event_type, "eventCount": 10, "processingLatency": 200})
}

fn rows(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| row(&format!("group-{i}"), "conversation:created"))
        .collect()
}

/// The tutorial's payload without filter, with an explicit page size.
fn body(page_size: u64) -> Value {
    json!({
        "dateFrom": "2023-10-25T12:00:00.000Z",
        "dateTo": "2023-10-25T13:00:00.000Z",
        "interval": "PT1H",
        "metrics": ["eventCount", "processingLatency"],
        "groupings": ["consumerGroup", "eventType"],
        "pageSize": page_size,
    })
}

fn token_request(
    client: &Client,
    sim: &Simulator,
    id: &str,
    secret: &str,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
}

async fn token(client: &Client, sim: &Simulator, id: &str, secret: &str) -> String {
    let response = token_request(client, sim, id, secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn query(client: &Client, sim: &Simulator, token: &str, body: &Value) -> Response {
    client
        .post(format!("{}{}", sim.base_url(), DEFAULT_QUERY_PATH))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn is_uuid_like(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A Genesys error body whose `contextId` is the correlation header; returns it.
async fn error_body(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let correlation = header(&response, "inin-correlation-id").unwrap().to_owned();
    assert!(is_uuid_like(&correlation), "{correlation}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["contextId"], correlation.as_str());
    assert_eq!(body["details"], json!([]));
    assert_eq!(body["errors"], json!([]));
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

/// A login-service error body (which has no `contextId`).
async fn oauth_error(response: Response, status: u16, error: &str) {
    assert_eq!(response.status().as_u16(), status);
    assert!(header(&response, "inin-correlation-id").is_some_and(is_uuid_like));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
}

#[tokio::test]
async fn token_happy_path() {
    let sim = start(config(vec![])).await;
    let client = client();
    let response = token_request(&client, &sim, ID, SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(is_uuid_like(
        header(&response, "inin-correlation-id").unwrap()
    ));
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);

    assert_eq!(sim.token_requests(), 1);
    let recorded = sim.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/oauth/token");
    assert_eq!(recorded[0].body, b"grant_type=client_credentials");
    assert!(
        recorded[0]
            .header("Authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(
        recorded[0]
            .headers
            .iter()
            .all(|(n, _)| *n == n.to_lowercase())
    );

    // Each grant is a fresh token, and both work.
    let second = token(&client, &sim, ID, SECRET).await;
    let first = body["access_token"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(
        query(&client, &sim, first, &body_default()).await.status(),
        200
    );
    assert_eq!(
        query(&client, &sim, &second, &body_default())
            .await
            .status(),
        200
    );
}

fn body_default() -> Value {
    let mut b = body(50);
    b.as_object_mut().unwrap().remove("pageSize");
    b
}

#[tokio::test]
async fn token_rejections() {
    let sim = start(config(vec![])).await;
    let client = client();
    let url = format!("{}/oauth/token", sim.base_url());

    let wrong_secret = token_request(&client, &sim, ID, "nope")
        .send()
        .await
        .unwrap();
    oauth_error(wrong_secret, 401, "invalid_client").await;
    let wrong_id = token_request(&client, &sim, "other", SECRET)
        .send()
        .await
        .unwrap();
    oauth_error(wrong_id, 401, "invalid_client").await;

    let no_auth = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    oauth_error(no_auth, 401, "invalid_client").await;

    // The tutorial's way: credentials in the form body, no Basic header.
    let in_body = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={ID}&client_secret={SECRET}&grant_type=client_credentials"
        ))
        .send()
        .await
        .unwrap();
    oauth_error(in_body, 401, "invalid_client").await;

    let extra_field = token_request(&client, &sim, ID, SECRET)
        .body(format!(
            "grant_type=client_credentials&client_secret={SECRET}"
        ))
        .send()
        .await
        .unwrap();
    oauth_error(extra_field, 400, "invalid_request").await;

    let wrong_grant = token_request(&client, &sim, ID, SECRET)
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    oauth_error(wrong_grant, 400, "unsupported_grant_type").await;

    let wrong_type = client
        .post(&url)
        .basic_auth(ID, Some(SECRET))
        .header("content-type", "application/json")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    oauth_error(wrong_type, 400, "invalid_request").await;
    // Two Content-Type headers are refused too.
    let two_types = token_request(&client, &sim, ID, SECRET)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    oauth_error(two_types, 400, "invalid_request").await;

    let get = client.get(&url).send().await.unwrap();
    error_body(get, 405, "method.not.allowed").await;
    assert_eq!(sim.token_requests(), 9);
}

#[tokio::test]
async fn query_body_validation_names_the_field() {
    let sim = start(config(rows(2))).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;

    let accepted = query(&client, &sim, &token, &body_default()).await;
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["pageSize"], 50, "default page size");

    let cases: Vec<(&str, Value)> = vec![
        ("dateFrom", json!("2023-10-25T12:00:00Z")),
        ("dateFrom", json!("2023-10-25T12:00:00.000+00:00")),
        ("dateTo", json!("2023-10-25T13:00:00.00Z")),
        ("dateTo", json!(1_698_238_800_000_u64)),
        ("interval", json!("PT2H")),
        ("interval", json!("1h")),
        ("metrics", json!(["eventCount"])),
        ("groupings", json!(["consumerGroup"])),
        ("filter", json!("consumerGroup IN {'a'}")),
        ("filter", json!("consumerGroup IN ['a','b']")),
        ("filter", json!("consumerGroup IN ['o'brien']")),
        ("pageSize", json!(0)),
        ("pageSize", json!(1001)),
        ("pageSize", json!("50")),
        ("pageToken", json!(7)),
        ("pageToken", json!("never-issued")),
        ("unexpected", json!(true)),
    ];
    for (field, value) in cases {
        let mut b = body(50);
        b[field] = value.clone();
        let response = query(&client, &sim, &token, &b).await;
        let error = error_body(response, 400, "bad.request").await;
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(field), "{field}={value}: {message}");
    }
    for field in ["dateFrom", "dateTo", "interval", "metrics", "groupings"] {
        let mut b = body(50);
        b.as_object_mut().unwrap().remove(field);
        let error = error_body(query(&client, &sim, &token, &b).await, 400, "bad.request").await;
        assert!(error["message"].as_str().unwrap().contains(field));
    }
    // dateFrom must come first.
    let mut b = body(50);
    b["dateFrom"] = json!("2023-10-25T13:00:00.000Z");
    b["interval"] = json!("PT0S");
    error_body(query(&client, &sim, &token, &b).await, 400, "bad.request").await;

    // Other windows, as long as the interval matches.
    for (from, interval) in [
        ("2023-10-25T12:30:00.000Z", "PT30M"),
        ("2023-10-24T13:00:00.000Z", "P1D"),
        ("2023-10-25T12:58:30.000Z", "PT90S"),
        ("2023-10-25T11:30:00.000Z", "PT1H30M"),
        ("2023-10-25T12:59:58.500Z", "PT1.500S"),
    ] {
        let mut b = body(50);
        b["dateFrom"] = json!(from);
        b["interval"] = json!(interval);
        assert_eq!(
            query(&client, &sim, &token, &b).await.status(),
            200,
            "{interval}"
        );
    }

    let url = format!("{}{}", sim.base_url(), DEFAULT_QUERY_PATH);
    let not_json = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    error_body(not_json, 400, "bad.request").await;
    let wrong_type = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(body(50).to_string())
        .send()
        .await
        .unwrap();
    error_body(wrong_type, 415, "unsupported.media.type").await;
    let no_token = client.post(&url).json(&body(50)).send().await.unwrap();
    error_body(no_token, 401, "authentication.required").await;
    let bad_token = query(&client, &sim, "forged", &body(50)).await;
    error_body(bad_token, 401, "bad.credentials").await;
    let get = client.get(&url).bearer_auth(&token).send().await.unwrap();
    error_body(get, 405, "method.not.allowed").await;
    let elsewhere = client
        .post(format!("{}/api/v2/elsewhere", sim.base_url()))
        .send()
        .await
        .unwrap();
    error_body(elsewhere, 404, "not.found").await;
}

#[tokio::test]
async fn filter_with_quote_and_backslash() {
    let sim = start(config(vec![
        row("o'brien", "conversation:created"),
        row(r"back\slash", "conversation:created"),
        row("other", "conversation:created"),
        row("o'brien", "conversation:ended"),
        json!({"eventType": "no group at all"}),
    ]))
    .await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;
    let mut b = body(50);
    b["filter"] = json!(r"consumerGroup IN ['o\'brien', 'back\\slash', 'absent']");
    let response = query(&client, &sim, &token, &b).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    let groups: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["consumerGroup"].as_str())
        .collect();
    assert_eq!(groups, ["o'brien", r"back\slash", "o'brien"]);
    // The invalid row passes the filter untouched.
    assert_eq!(page["totalCount"], 4);

    // An unescaped backslash is no valid filter.
    b["filter"] = json!(r"consumerGroup IN ['back\slash']");
    error_body(query(&client, &sim, &token, &b).await, 400, "bad.request").await;
}

#[tokio::test]
async fn paging_over_three_pages() {
    let all = rows(7);
    let sim = start(config(all.clone())).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;

    let mut b = body(3);
    let mut seen = Vec::new();
    let mut tokens = Vec::new();
    for expected in [3, 3, 1] {
        let response = query(&client, &sim, &token, &b).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["totalCount"], 7);
        assert_eq!(page["pageSize"], 3);
        assert_eq!(page["entity"], "event");
        assert_eq!(page["interval"], "PT1H");
        assert_eq!(page["dateFrom"], "2023-10-25T12:00:00.000Z");
        assert_eq!(page["dateTo"], "2023-10-25T13:00:00.000Z");
        assert_eq!(page["metrics"], json!(["eventCount", "processingLatency"]));
        assert_eq!(page["groupings"], json!(["consumerGroup", "eventType"]));
        assert_eq!(page["columns"].as_array().unwrap().len(), 4);
        let page_rows = page["rows"].as_array().unwrap();
        assert_eq!(page_rows.len(), expected);
        seen.extend(page_rows.iter().cloned());
        match page["pageToken"].as_str() {
            Some(next) => {
                assert!(page["nextPage"].as_str().is_some_and(|n| n.contains(next)));
                tokens.push(next.to_owned());
                b["pageToken"] = json!(next);
            }
            None => {
                assert_eq!(page["pageToken"], Value::Null);
                assert_eq!(page["nextPage"], Value::Null);
            }
        }
    }
    assert_eq!(seen, all);
    assert_eq!(tokens.len(), 2);
    assert_eq!(sim.query_requests(), 3);

    // A page may be fetched again (a client retrying after a failure).
    b["pageToken"] = json!(tokens[0]);
    let again: Value = query(&client, &sim, &token, &b).await.json().await.unwrap();
    assert_eq!(again["rows"].as_array().unwrap()[..], all[3..6]);

    // A token only works with the query it was issued for.
    b["dateFrom"] = json!("2023-10-25T12:00:01.000Z");
    b["interval"] = json!("PT59M59S");
    let error = error_body(query(&client, &sim, &token, &b).await, 400, "bad.request").await;
    assert!(error["message"].as_str().unwrap().contains("pageToken"));
}

#[tokio::test]
async fn paging_modes() {
    let sim = start(config(rows(5))).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;
    let fetch = |b: Value| {
        let (client, sim, token) = (client.clone(), sim.clone(), token.clone());
        async move {
            let response = query(&client, &sim, &token, &b).await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    // No rows at all: one empty last page.
    sim.set_rows(vec![]);
    let empty = fetch(body(2)).await;
    assert_eq!(empty["rows"], json!([]));
    assert_eq!(empty["totalCount"], 0);
    assert_eq!(empty["pageToken"], Value::Null);
    sim.set_rows(rows(5));

    sim.set_paging(PagingMode::RepeatToken);
    let first = fetch(body(2)).await;
    let repeated = first["pageToken"].as_str().unwrap().to_owned();
    assert!(first["nextPage"].as_str().is_some_and(|n| !n.is_empty()));
    let mut b = body(2);
    b["pageToken"] = json!(repeated);
    for _ in 0..3 {
        let page = fetch(b.clone()).await;
        assert_eq!(page["pageToken"], repeated.as_str());
        assert!(page["nextPage"].as_str().is_some_and(|n| !n.is_empty()));
    }

    sim.set_paging(PagingMode::Endless);
    let mut b = body(2);
    let mut tokens = std::collections::HashSet::new();
    for _ in 0..6 {
        let page = fetch(b.clone()).await;
        let next = page["pageToken"].as_str().unwrap().to_owned();
        assert!(page["nextPage"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(tokens.insert(next.clone()), "tokens must be fresh");
        b["pageToken"] = json!(next);
    }

    sim.set_paging(PagingMode::NextPageWithoutToken);
    let page = fetch(body(2)).await;
    assert_eq!(page["pageToken"], Value::Null);
    assert!(page["nextPage"].as_str().is_some_and(|n| !n.is_empty()));
    let single = fetch(body(50)).await;
    assert_eq!(single["pageToken"], Value::Null);
    assert!(single["nextPage"].as_str().is_some_and(|n| !n.is_empty()));

    sim.set_paging(PagingMode::Normal);
    let last = fetch(body(50)).await;
    assert_eq!(last["nextPage"], Value::Null);
}

#[tokio::test]
async fn respond_faults_are_exact_and_consumed_once() {
    let sim = start(config(rows(1))).await;
    let client = client();
    sim.push_token_fault(Fault::Respond {
        status: 503,
        headers: vec![("X-Upstream".into(), "maintenance".into())],
        body: "down for maintenance".into(),
    });
    let faulted = token_request(&client, &sim, ID, SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(faulted.status(), 503);
    assert_eq!(header(&faulted, "x-upstream"), Some("maintenance"));
    assert_eq!(header(&faulted, "inin-correlation-id"), None);
    assert_eq!(faulted.text().await.unwrap(), "down for maintenance");
    let token = token(&client, &sim, ID, SECRET).await;
    assert_eq!(sim.token_requests(), 2);

    let limited = r#"{"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"c0ffee00-0000-4000-8000-000000000000","details":[],"errors":[]}"#;
    sim.push_query_fault(Fault::Respond {
        status: 429,
        headers: vec![
            ("Retry-After".into(), "42".into()),
            (
                "ININ-Correlation-Id".into(),
                "c0ffee00-0000-4000-8000-000000000000".into(),
            ),
        ],
        body: limited.into(),
    });
    sim.push_query_fault(Fault::Respond {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: "{truncated".into(),
    });
    let first = query(&client, &sim, &token, &body(50)).await;
    assert_eq!(first.status(), 429);
    assert_eq!(header(&first, "retry-after"), Some("42"));
    assert_eq!(first.text().await.unwrap(), limited);
    let second = query(&client, &sim, &token, &body(50)).await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.text().await.unwrap(), "{truncated");
    let third = query(&client, &sim, &token, &body(50)).await;
    assert_eq!(third.status(), 200);
    assert!(third.json::<Value>().await.unwrap()["rows"].is_array());
    assert_eq!(sim.query_requests(), 3);

    // A status that is no HTTP status still answers, as a 500.
    sim.push_query_fault(Fault::Respond {
        status: 42,
        headers: vec![("bad header\n".into(), "x".into())],
        body: String::new(),
    });
    assert_eq!(query(&client, &sim, &token, &body(50)).await.status(), 500);
}

#[tokio::test]
async fn delay_fault_then_normal_answer() {
    let sim = start(config(rows(1))).await;
    let client = client();
    sim.push_token_fault(Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let token = token(&client, &sim, ID, SECRET).await;
    assert!(started.elapsed() >= Duration::from_millis(300));

    sim.push_query_fault(Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let response = query(&client, &sim, &token, &body(50)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_fault_blocks_only_its_own_connection() {
    let sim = start(config(rows(1))).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;

    sim.push_query_fault(Fault::Hang);
    let hung = {
        let (client, sim, token) = (client.clone(), sim.clone(), token.clone());
        tokio::spawn(async move {
            client
                .post(format!("{}{}", sim.base_url(), DEFAULT_QUERY_PATH))
                .bearer_auth(token)
                .json(&body(50))
                .send()
                .await
        })
    };
    // Give the hung request time to be taken by the server.
    while sim.query_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..3 {
        let other = query(&client, &sim, &token, &body(50)).await;
        assert_eq!(other.status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!hung.is_finished(), "a hung request must not be answered");

    // A client timeout ends it from the client's side.
    sim.push_query_fault(Fault::Hang);
    let timed_out = client
        .post(format!("{}{}", sim.base_url(), DEFAULT_QUERY_PATH))
        .bearer_auth(&token)
        .json(&body(50))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(timed_out.is_timeout());

    // Shutdown aborts the hung connection.
    let started = Instant::now();
    sim.shutdown();
    let result = tokio::time::timeout(Duration::from_secs(5), hung)
        .await
        .expect("shutdown must end a hung request")
        .unwrap();
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn reset_mid_body_fault() {
    let sim = start(config(rows(1))).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;
    sim.push_query_fault(Fault::ResetMidBody);
    let response = query(&client, &sim, &token, &body(50)).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.is_err(),
        "the body must fail mid-way"
    );
    // The next request (on a new connection) is answered normally.
    assert_eq!(query(&client, &sim, &token, &body(50)).await.status(), 200);

    sim.push_token_fault(Fault::ResetMidBody);
    let response = token_request(&client, &sim, ID, SECRET)
        .send()
        .await
        .unwrap();
    assert!(response.json::<Value>().await.is_err());
    assert_eq!(sim.token_requests(), 2);
    assert_eq!(sim.query_requests(), 2);
}

#[tokio::test]
async fn revoked_and_expired_tokens_answer_401() {
    let mut cfg = config(rows(1));
    cfg.token_lifetime = Duration::from_secs(1);
    let sim = start(cfg).await;
    let client = client();

    let response = token_request(&client, &sim, ID, SECRET)
        .send()
        .await
        .unwrap();
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["expires_in"], 1);
    let token = grant["access_token"].as_str().unwrap().to_owned();
    assert_eq!(query(&client, &sim, &token, &body(50)).await.status(), 200);
    sim.revoke_tokens();
    error_body(
        query(&client, &sim, &token, &body(50)).await,
        401,
        "bad.credentials",
    )
    .await;

    let fresh = self::token(&client, &sim, ID, SECRET).await;
    assert_eq!(query(&client, &sim, &fresh, &body(50)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    error_body(
        query(&client, &sim, &fresh, &body(50)).await,
        401,
        "bad.credentials",
    )
    .await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let mut cfg = config(rows(1));
    cfg.rate_limit_per_minute = 2;
    let sim = start(cfg).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;

    for n in 1..=2 {
        let ok = query(&client, &sim, &token, &body(50)).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(
            header(&ok, "inin-ratelimit-count"),
            Some(n.to_string().as_str())
        );
        assert_eq!(header(&ok, "inin-ratelimit-allowed"), Some("2"));
        let reset: u64 = header(&ok, "inin-ratelimit-reset")
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&reset));
        assert!(is_uuid_like(header(&ok, "inin-correlation-id").unwrap()));
    }
    let limited = query(&client, &sim, &token, &body(50)).await;
    let retry_after: u64 = header(&limited, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(header(&limited, "inin-ratelimit-allowed"), Some("2"));
    let error = error_body(limited, 429, "too.many.requests.retry.after").await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("[{retry_after}]"))
    );

    // The limit is per token.
    let other = self::token(&client, &sim, ID, SECRET).await;
    assert_eq!(query(&client, &sim, &other, &body(50)).await.status(), 200);
}

fn demo_body(window_secs: u64, interval: &str, filter: Option<&str>) -> Value {
    let to = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let format = |secs: u64| {
        let t = time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let mut b = json!({
        "dateFrom": format(to - window_secs),
        "dateTo": format(to),
        "interval": interval,
        "metrics": ["eventCount", "processingLatency"],
        "groupings": ["consumerGroup", "eventType"],
    });
    if let Some(filter) = filter {
        b["filter"] = json!(filter);
    }
    b
}

#[tokio::test]
async fn demo_data_shows_every_state() {
    let demo = SimConfig::demo();
    assert_eq!(demo.client_id, "demo-client");
    assert_eq!(demo.client_secret, "demo-secret");
    assert_eq!(demo.token_lifetime, Duration::from_secs(86_400));
    assert_eq!(demo.rate_limit_per_minute, 300);
    assert_eq!(demo.query_path, DEFAULT_QUERY_PATH);
    assert!(!format!("{demo:?}").contains("demo-secret"));

    let sim = start(demo).await;
    let client = client();
    let response = token_request(&client, &sim, "demo-client", "demo-secret")
        .send()
        .await
        .unwrap();
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["expires_in"], 86_400);
    let token = grant["access_token"].as_str().unwrap();

    let filter = "consumerGroup IN ['eventbridge-consumer-primary', \
                  'eventbridge-consumer-secondary', 'eventbridge-consumer-audit']";
    let hour = demo_body(3600, "PT1H", Some(filter));
    let response = query(&client, &sim, token, &hour).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    let rows = page["rows"].as_array().unwrap().clone();

    let of = |group: &str| -> Vec<(String, f64, f64)> {
        rows.iter()
            .filter(|r| r["consumerGroup"] == group)
            .map(|r| {
                (
                    r["eventType"].as_str().unwrap().to_owned(),
                    r["eventCount"].as_f64().unwrap(),
                    r["processingLatency"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let primary = of("eventbridge-consumer-primary");
    assert_eq!(primary.len(), 3);
    for (_, count, latency) in &primary {
        assert!((150.0..=450.0).contains(latency), "{latency}");
        assert!((100.0..10_000.0).contains(count), "{count}");
    }
    let secondary = of("eventbridge-consumer-secondary");
    assert_eq!(secondary.len(), 2);
    let worst = secondary.iter().map(|s| s.2).fold(0.0, f64::max);
    assert!((35_000.0..=60_000.0).contains(&worst), "{worst}");
    assert!(of("eventbridge-consumer-audit").is_empty());

    // Counts are per window: five minutes hold about a twelfth of an hour.
    let five = demo_body(300, "PT5M", None);
    let short: Value = query(&client, &sim, token, &five)
        .await
        .json()
        .await
        .unwrap();
    let total = |rows: &Value| -> f64 {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["eventCount"].as_f64().unwrap())
            .sum()
    };
    let ratio = total(&page["rows"]) / total(&short["rows"]);
    assert!((11.0..=13.0).contains(&ratio), "{ratio}");
    assert_eq!(short["rows"].as_array().unwrap().len(), 5);

    // Demo rows page like any others, and every page sees the same rows.
    let mut paged = demo_body(3600, "PT1H", None);
    paged["pageSize"] = json!(2);
    let mut collected = Vec::new();
    loop {
        let page: Value = query(&client, &sim, token, &paged)
            .await
            .json()
            .await
            .unwrap();
        collected.extend(page["rows"].as_array().unwrap().iter().cloned());
        match page["pageToken"].as_str() {
            Some(next) => paged["pageToken"] = json!(next),
            None => break,
        }
    }
    paged.as_object_mut().unwrap().remove("pageToken");
    paged["pageSize"] = json!(50);
    let whole: Value = query(&client, &sim, token, &paged)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&collected, whole["rows"].as_array().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_connections() {
    let sim = start(config(rows(3))).await;
    let token = token(&client(), &sim, ID, SECRET).await;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        // A client each: separate connections, several requests each.
        let client = client();
        let (sim, token) = (sim.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                let response = query(&client, &sim, &token, &body(2)).await;
                assert_eq!(response.status(), 200);
                let page: Value = response.json().await.unwrap();
                assert_eq!(page["rows"].as_array().unwrap().len(), 2);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(sim.query_requests(), 192);
}

#[tokio::test]
async fn garbage_input_never_stops_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = start(config(rows(1))).await;
    for junk in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"POST /oauth/token HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nabc",
        b"POST /api/v2/analytics/events/details/query HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nAuthorization: Bearer \xff\xfe\r\n\r\n{}{",
        b"GET / HTTP/1.1\r\n",
    ] {
        let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
        let _ = stream.write_all(junk).await;
        let _ = stream.shutdown().await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut sink)).await;
    }
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;
    assert_eq!(query(&client, &sim, &token, &body(50)).await.status(), 200);

    // An oversized body is refused, not buffered.
    let huge = "x".repeat(2 << 20);
    let response = client
        .post(format!("{}{}", sim.base_url(), DEFAULT_QUERY_PATH))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let sim = start(config(vec![])).await;
    let addr = sim.addr();
    assert_eq!(sim.base_url(), format!("http://127.0.0.1:{}", addr.port()));
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let sim = start(config(vec![])).await;
    let addr = sim.addr();
    drop(sim);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn custom_query_path_and_recording_order() {
    let mut cfg = config(rows(1));
    cfg.query_path = "/custom/query".into();
    let sim = start(cfg).await;
    let client = client();
    let token = token(&client, &sim, ID, SECRET).await;
    let response = client
        .post(format!("{}/custom/query", sim.base_url()))
        .bearer_auth(&token)
        .json(&body(50))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["rows"].as_array().unwrap().len(), 1);
    let default_path = query(&client, &sim, &token, &body(50)).await;
    assert_eq!(default_path.status(), 404);
    let recorded = sim.requests();
    let paths: Vec<&str> = recorded.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/oauth/token", "/custom/query", DEFAULT_QUERY_PATH]);
    assert_eq!(sim.query_requests(), 1);
    let sent: Value = serde_json::from_slice(&recorded[1].body).unwrap();
    assert_eq!(sent, body(50));
    assert_eq!(
        recorded[1].header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
}

#[tokio::test]
async fn requests_are_counted_but_not_kept_when_recording_is_off() {
    let sim = start(config(rows(1))).await;
    let client = client();
    token(&client, &sim, ID, SECRET).await;
    assert_eq!(sim.requests().len(), 1);
    sim.record_requests(false);
    assert!(sim.requests().is_empty(), "forgotten when switched off");
    let t = token(&client, &sim, ID, SECRET).await;
    assert_eq!(
        query(&client, &sim, &t, &body(50)).await.status(),
        StatusCode::OK
    );
    assert!(sim.requests().is_empty());
    assert_eq!((sim.token_requests(), sim.query_requests()), (2, 1));
    sim.record_requests(true);
    token(&client, &sim, ID, SECRET).await;
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn organisations_on_one_server_are_apart() {
    let sim = start(config(vec![row("first-group", "a")])).await;
    let second = sim.add_organization(SimConfig {
        client_id: "second-client".into(),
        client_secret: "second-secret".into(),
        ..config(vec![row("second-group", "a"), row("second-group", "b")])
    });
    assert_eq!(second.client_id(), "second-client");
    let client = client();

    // Each client's credentials are its own.
    oauth_error(
        token_request(&client, &sim, "second-client", SECRET)
            .send()
            .await
            .unwrap(),
        401,
        "invalid_client",
    )
    .await;
    let first_token = token(&client, &sim, ID, SECRET).await;
    let second_token = token(&client, &sim, "second-client", "second-secret").await;

    // Each token reads its own organisation's rows, at the same URL.
    let groups = |page: Value| -> Vec<String> {
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["consumerGroup"].as_str().unwrap().to_owned())
            .collect()
    };
    let page = query(&client, &sim, &first_token, &body(50)).await;
    assert_eq!(groups(page.json().await.unwrap()), ["first-group"]);
    let page = query(&client, &sim, &second_token, &body(50)).await;
    assert_eq!(
        groups(page.json().await.unwrap()),
        ["second-group", "second-group"]
    );

    // Faults, revocations and counters are per organisation.
    second.push_query_fault(Fault::Respond {
        status: 503,
        headers: vec![],
        body: String::new(),
    });
    assert_eq!(
        query(&client, &sim, &first_token, &body(50)).await.status(),
        200
    );
    assert_eq!(
        query(&client, &sim, &second_token, &body(50))
            .await
            .status(),
        503
    );
    second.revoke_tokens();
    error_body(
        query(&client, &sim, &second_token, &body(50)).await,
        401,
        "bad.credentials",
    )
    .await;
    assert_eq!(
        query(&client, &sim, &first_token, &body(50)).await.status(),
        200
    );
    // The refused login named the second client, so it is the second's.
    assert_eq!((sim.token_requests(), sim.query_requests()), (1, 3));
    assert_eq!((second.token_requests(), second.query_requests()), (2, 3));
    assert_eq!(sim.requests().len(), 4);
    assert!(second.requests().iter().all(|r| r.path == "/oauth/token"
        || r.header("authorization") == Some(&format!("Bearer {second_token}"))));
}

async fn get(client: &Client, sim: &Simulator, path: &str, token: Option<&str>) -> Response {
    let mut request = client.get(format!("{}{path}", sim.base_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

const PROD_INTEGRATION: &str = "6f0c2e1a-3b4d-4c5e-8f60-718293a4b5c6";

#[tokio::test]
async fn organization_and_integration_config_discover_the_sources() {
    let sim = start(config(vec![])).await;
    let client = client();
    let config_path = format!("/api/v2/integrations/{PROD_INTEGRATION}/config/current");

    // Both need the bearer token, as every platform API does.
    for path in [ORGANIZATION_PATH, config_path.as_str()] {
        error_body(
            get(&client, &sim, path, None).await,
            401,
            "authentication.required",
        )
        .await;
    }
    let token = token(&client, &sim, ID, SECRET).await;

    // Without an id of its own, the organisation's is derived from its client.
    let response = get(&client, &sim, ORGANIZATION_PATH, Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "inin-correlation-id").is_some_and(is_uuid_like));
    let org: Value = response.json().await.unwrap();
    assert_eq!(org["id"], derived_organization_id(ID));
    assert_eq!(org["id"], sim.organization_id());
    assert!(is_uuid_like(org["id"].as_str().unwrap()));
    for field in [
        "name",
        "defaultLanguage",
        "thirdPartyOrgName",
        "domain",
        "state",
        "selfUri",
    ] {
        assert!(org[field].is_string(), "{field}: {org}");
    }
    assert!(org["version"].is_u64());

    // The configuration the listing holds, with what names the source.
    let response = get(&client, &sim, &config_path, Some(&token)).await;
    assert_eq!(response.status(), 200);
    let current: Value = response.json().await.unwrap();
    assert_eq!(current["id"], PROD_INTEGRATION);
    assert_eq!(current["name"], "eventbridge-prod");
    assert_eq!(current["properties"]["awsAccountId"], "123456789012");
    assert_eq!(current["properties"]["awsAccountRegion"], "us-east-1");
    assert_eq!(
        current["properties"]["eventSourceSuffix"],
        "eventbridge-prod"
    );
    assert_eq!(current["selfUri"], config_path);
    for field in ["version", "advanced", "notes", "credentials"] {
        assert!(current.get(field).is_some(), "{field}: {current}");
    }
    let unknown = "/api/v2/integrations/00000000-0000-4000-8000-000000000000/config/current";
    error_body(
        get(&client, &sim, unknown, Some(&token)).await,
        404,
        "not.found",
    )
    .await;

    // Faults and counters of their own.
    sim.push_organization_fault(Fault::Respond {
        status: 503,
        headers: vec![],
        body: String::new(),
    });
    sim.push_integration_config_fault(Fault::Respond {
        status: 429,
        headers: vec![("retry-after".into(), "3".into())],
        body: String::new(),
    });
    assert_eq!(
        get(&client, &sim, ORGANIZATION_PATH, Some(&token))
            .await
            .status(),
        503
    );
    assert_eq!(
        get(&client, &sim, ORGANIZATION_PATH, Some(&token))
            .await
            .status(),
        200
    );
    let limited = get(&client, &sim, &config_path, Some(&token)).await;
    assert_eq!(
        (limited.status().as_u16(), header(&limited, "retry-after")),
        (429, Some("3"))
    );
    assert_eq!(
        (
            sim.organization_requests(),
            sim.integration_config_requests()
        ),
        (4, 4)
    );
    assert_eq!(sim.integrations_requests(), 0);
}

#[tokio::test]
async fn the_demo_organisation_names_its_sources() {
    let sim = start(SimConfig::demo()).await;
    let client = client();
    let token = token(&client, &sim, "demo-client", "demo-secret").await;
    let org: Value = get(&client, &sim, ORGANIZATION_PATH, Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org["id"], DEMO_ORGANIZATION_ID);
    // The audit integration's error names its real source.
    let listing: Value = get(&client, &sim, "/api/v2/integrations", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let detail = listing["entities"][1]["reportedState"]["detail"]["message"]
        .as_str()
        .unwrap();
    let source = format!("aws.partner/genesys.com/cloud/{DEMO_ORGANIZATION_ID}/eventbridge-audit");
    assert!(detail.contains(&source), "{detail}");
}
