//! The simulated Genesys Cloud as a process of its own, for `scripts/bench`:
//! an organisation of N consumer groups × M event types, request counters,
//! and 429s on demand.
//!
//! ```text
//! cargo run --release --example sim_server -- --groups 5000 --event-types 20
//! ```
//!
//! It prints `api http://127.0.0.1:PORT` (login and API base URL) and
//! `admin http://127.0.0.1:PORT`, then serves until SIGINT or SIGTERM. The
//! client is `bench-client` / `bench-secret`. The admin port answers:
//!
//! - `GET /counters`: `token_requests N` and `query_requests N`, one a line;
//! - `POST /fault/429?retry_after=SECONDS`: the next query answers 429 with
//!   that `Retry-After` (20 s when not given).

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
    DEFAULT_QUERY_PATH, Fault, RowSource, SimConfig, Simulator, org_rows,
};

struct Args {
    port: u16,
    admin_port: u16,
    groups: usize,
    event_types: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        admin_port: 0,
        groups: 2,
        event_types: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v:?}: {e}"));
        match flag.as_str() {
            "--port" => args.port = number(&value)? as u16,
            "--admin-port" => args.admin_port = number(&value)? as u16,
            "--groups" => args.groups = number(&value)?,
            "--event-types" => args.event_types = number(&value)?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(args)
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r
}

fn admin(sim: &Simulator, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/counters") => text(
            StatusCode::OK,
            format!(
                "token_requests {}\nquery_requests {}\n",
                sim.token_requests(),
                sim.query_requests()
            ),
        ),
        (&Method::POST, "/fault/429") => {
            let retry_after = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("retry_after="))
                .unwrap_or("20")
                .to_string();
            sim.push_query_fault(Fault::Respond {
                status: 429,
                headers: vec![
                    ("Retry-After".into(), retry_after.clone()),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: format!(
                    r#"{{"message":"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds","code":"too.many.requests.retry.after","status":429}}"#
                ),
            });
            text(
                StatusCode::OK,
                format!("429 queued, retry-after {retry_after}\n"),
            )
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sim_server: {e}");
            std::process::exit(2);
        }
    };
    let config = SimConfig {
        client_id: "bench-client".into(),
        client_secret: "bench-secret".into(),
        token_lifetime: Duration::from_secs(86_400),
        rows: RowSource::Fixed(org_rows(args.groups, args.event_types)),
        // High enough that only the 429s asked for happen.
        rate_limit_per_minute: 1_000_000,
        query_path: DEFAULT_QUERY_PATH.into(),
        integrations: genesys_cloud_simulator::demo_integrations(),
    };
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], args.port)), config)
        .await
        .expect("simulator binds");
    // Only the counters are read; long runs should not accumulate requests.
    sim.record_requests(false);
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.admin_port)))
        .await
        .expect("admin port binds");
    println!("api {}", sim.base_url());
    println!("admin http://{}", listener.local_addr().expect("bound"));

    let serve_admin = {
        let sim = sim.clone();
        async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let sim = sim.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let response = admin(&sim, &req);
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
    eprintln!(
        "sim_server: token_requests {} query_requests {}",
        sim.token_requests(),
        sim.query_requests()
    );
    sim.shutdown();
}
