//! The simulated Genesys Cloud as a process of its own, for `scripts/bench`:
//! one or more organisations of N consumer groups × M event types on one
//! server, as in a Genesys Cloud region, request counters, and faults on
//! demand.
//!
//! ```text
//! cargo run --release --example sim_server -- --groups 5000 --event-types 20
//! cargo run --release --example sim_server -- --orgs 1000 --groups 3 --event-types 5
//! ```
//!
//! It prints `api http://127.0.0.1:PORT` (login and API base URL) and
//! `admin http://127.0.0.1:PORT`, then serves until SIGINT or SIGTERM.
//! Organisation K (from 1) has the client `bench-client-K` / `bench-secret-K`.
//! The AWS side (EventBridge and CloudWatch, on the API port) answers
//! requests signed with the demo's AWS key about each organisation's
//! account: with `--aws healthy`, the sources of its integrations, each
//! `ACTIVE` with a bus and a healthy rule (and `--aws-rules N` more rules on
//! each bus); with `--aws demo`, organisation 1 is the demo's organisation
//! with the demo's account and the others are healthy.
//! The admin port answers:
//!
//! - `GET /counters`: `token_requests N`, `query_requests N`,
//!   `integrations_requests N` and the other endpoints' counts ([`COUNTED`])
//!   over all organisations, one a line, then a line
//!   `org K token_requests N query_requests N ...` for each;
//! - `POST /fault/429?retry_after=SECONDS&orgs=A-B`: the next query of each of
//!   organisations A to B answers 429 with that `Retry-After` (20 s and
//!   organisation 1 when not given);
//! - `POST /fault/hang?orgs=A-B&count=N`: the next N requests of each of them
//!   to every endpoint hang until the server stops (N 1,000 when not given).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use genesys_cloud_simulator::{
    AwsAccount, DEFAULT_QUERY_PATH, DEMO_ORGANIZATION_ID, Fault, RowSource, SimConfig, Simulator,
    Tenant, derived_organization_id, org_rows, partner_source_name,
};

/// Each organisation's AWS account.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Aws {
    /// An account holding nothing.
    None,
    /// The sources of its integrations, each with a bus and a healthy rule.
    Healthy,
    /// Organisation 1 the demo's, with its account; the others healthy.
    Demo,
}

/// The simulated Genesys Cloud as a process of its own.
#[derive(clap::Parser)]
struct Args {
    /// API and login port (0: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Admin port (0: any free one).
    #[arg(long, default_value_t = 0)]
    admin_port: u16,
    /// Organisations on the server, each with its own client.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    orgs: u32,
    /// Consumer groups of each organisation.
    #[arg(long, default_value_t = 2)]
    groups: usize,
    /// Event types of each group.
    #[arg(long, default_value_t = 3)]
    event_types: usize,
    /// The organisations' AWS accounts.
    #[arg(long, value_enum, default_value_t = Aws::None)]
    aws: Aws,
    /// Healthy rules added to each bus of a healthy account: more
    /// CloudWatch queries than one GetMetricData call takes, say.
    #[arg(long, value_name = "N", default_value_t = 0)]
    aws_rules: usize,
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r
}

fn org_config(k: usize, rows: &[serde_json::Value], args: &Args) -> SimConfig {
    let client_id = format!("bench-client-{k}");
    let integrations = genesys_cloud_simulator::demo_integrations();
    let (organization_id, aws) = match args.aws {
        Aws::None => (String::new(), AwsAccount::default()),
        Aws::Demo if k == 1 => (DEMO_ORGANIZATION_ID.to_string(), AwsAccount::demo()),
        Aws::Healthy | Aws::Demo => {
            let id = derived_organization_id(&client_id);
            let suffixes: Vec<&str> = (integrations.iter())
                .filter_map(|i| i["name"].as_str())
                .collect();
            let mut account = AwsAccount::healthy(&id, &suffixes);
            for suffix in &suffixes {
                account.add_healthy_rules(&partner_source_name(&id, suffix), args.aws_rules);
            }
            (id, account)
        }
    };
    SimConfig {
        client_secret: format!("bench-secret-{k}"),
        client_id,
        token_lifetime: Duration::from_secs(86_400),
        rows: RowSource::Fixed(rows.to_vec()),
        // High enough that only the 429s asked for happen.
        rate_limit_per_minute: 1_000_000,
        query_path: DEFAULT_QUERY_PATH.into(),
        integrations,
        // Empty: derived from the client id.
        organization_id,
        aws,
    }
}

/// A counter of an organisation's requests.
type Counter = fn(&Tenant) -> usize;

/// The counters `/counters` reports, by name.
const COUNTED: [(&str, Counter); 9] = [
    ("token_requests", Tenant::token_requests),
    ("query_requests", Tenant::query_requests),
    ("integrations_requests", Tenant::integrations_requests),
    (
        "integration_config_requests",
        Tenant::integration_config_requests,
    ),
    ("organization_requests", Tenant::organization_requests),
    (
        "describe_event_source_requests",
        Tenant::describe_event_source_requests,
    ),
    ("list_rules_requests", Tenant::list_rules_requests),
    (
        "list_targets_by_rule_requests",
        Tenant::list_targets_by_rule_requests,
    ),
    ("get_metric_data_requests", Tenant::get_metric_data_requests),
];

fn counters(orgs: &[Tenant]) -> String {
    let mut out = String::new();
    for (name, count) in COUNTED {
        out += &format!("{name} {}\n", orgs.iter().map(count).sum::<usize>());
    }
    for (i, org) in orgs.iter().enumerate() {
        out += &format!("org {}", i + 1);
        for (name, count) in COUNTED {
            out += &format!(" {name} {}", count(org));
        }
        out.push('\n');
    }
    out
}

/// The value of `name` in a query string.
fn param<'a>(req: &'a Request<hyper::body::Incoming>, name: &str) -> Option<&'a str> {
    req.uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// The organisations `orgs=A-B` (or `orgs=K`) names, 1 when not given.
fn selected<'a>(
    orgs: &'a [Tenant],
    req: &Request<hyper::body::Incoming>,
) -> Result<&'a [Tenant], String> {
    let spec = param(req, "orgs").unwrap_or("1");
    let (a, b) = spec.split_once('-').unwrap_or((spec, spec));
    let bound = |v: &str| {
        v.parse::<usize>()
            .map_err(|e| format!("orgs {spec:?}: {e}"))
    };
    let (a, b) = (bound(a)?, bound(b)?);
    if a < 1 || a > b || b > orgs.len() {
        return Err(format!("orgs {spec:?}: not within 1-{}", orgs.len()));
    }
    Ok(&orgs[a - 1..b])
}

fn admin(orgs: &[Tenant], req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let selection = match (req.method(), req.uri().path()) {
        (&Method::GET, "/counters") => return text(StatusCode::OK, counters(orgs)),
        (&Method::POST, "/fault/429" | "/fault/hang") => selected(orgs, req),
        _ => return text(StatusCode::NOT_FOUND, "not found\n".into()),
    };
    let selection = match selection {
        Ok(s) => s,
        Err(e) => return text(StatusCode::BAD_REQUEST, e + "\n"),
    };
    if req.uri().path() == "/fault/hang" {
        let Ok(count) = param(req, "count").unwrap_or("1000").parse::<usize>() else {
            return text(StatusCode::BAD_REQUEST, "count is not a number\n".into());
        };
        for org in selection {
            for _ in 0..count {
                org.push_token_fault(Fault::Hang);
                org.push_query_fault(Fault::Hang);
                org.push_integrations_fault(Fault::Hang);
            }
        }
        return text(
            StatusCode::OK,
            format!("{} organisations hang\n", selection.len()),
        );
    }
    let retry_after = param(req, "retry_after").unwrap_or("20").to_string();
    for org in selection {
        org.push_query_fault(Fault::Respond {
            status: 429,
            headers: vec![
                ("Retry-After".into(), retry_after.clone()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: format!(
                r#"{{"message":"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds","code":"too.many.requests.retry.after","status":429}}"#
            ),
        });
    }
    text(
        StatusCode::OK,
        format!(
            "429 queued for {} organisations, retry-after {retry_after}\n",
            selection.len()
        ),
    )
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    let rows = org_rows(args.groups, args.event_types);
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], args.port)),
        org_config(1, &rows, &args),
    )
    .await
    .expect("simulator binds");
    let orgs: Vec<Tenant> = std::iter::once(Tenant::clone(&sim))
        .chain((2..=args.orgs as usize).map(|k| sim.add_organization(org_config(k, &rows, &args))))
        .collect();
    drop(rows);
    // Only the counters are read; long runs should not accumulate requests.
    for org in &orgs {
        org.record_requests(false);
    }
    let orgs = std::sync::Arc::new(orgs);
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.admin_port)))
        .await
        .expect("admin port binds");
    println!("api {}", sim.base_url());
    println!("admin http://{}", listener.local_addr().expect("bound"));

    let serve_admin = {
        let orgs = orgs.clone();
        async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let orgs = orgs.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let response = admin(&orgs, &req);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    tokio::select! {
        () = serve_admin => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprint!(
        "sim_server: {}",
        counters(&orgs)
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
            + "\n"
    );
    sim.shutdown();
}
