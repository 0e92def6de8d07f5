//! What one client can hold of the server: header time and size limits, the
//! connection cap and the per-address limit, and the methods and paths it
//! answers. Raw TCP, so that a
//! client can misbehave in ways an HTTP library will not.

mod common;

use std::time::{Duration, Instant};

use common::*;
use genesys_eventbridge_exporter::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Everything the server sends until it closes the connection, or `None`
/// when it is still open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            // A reset is a close too.
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into()),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

async fn start(change: impl FnOnce(&mut Config)) -> Exporter {
    let mut config = demo_config(&[]);
    change(&mut config);
    Exporter::start(config).await
}

#[tokio::test]
async fn a_silent_client_is_disconnected_after_the_header_timeout() {
    let exp = start(|c| c.limits.header_read_timeout = Duration::from_secs(1)).await;
    let mut silent = TcpStream::connect(exp.addr).await.unwrap();
    let received = read_until_closed(&mut silent, Duration::from_secs(4))
        .await
        .expect("a client that sends nothing is disconnected");
    assert!(!received.contains("200 OK"), "{received}");
    exp.stop().await;
}

#[tokio::test]
async fn a_client_sending_headers_slowly_is_disconnected_after_the_header_timeout() {
    let exp = start(|c| c.limits.header_read_timeout = Duration::from_secs(1)).await;
    let mut slow = TcpStream::connect(exp.addr).await.unwrap();
    slow.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One header byte every 100 ms: each arrives well within any per-read
    // timeout, the whole head never within the header timeout.
    let started = Instant::now();
    let mut cut_off = false;
    while started.elapsed() < Duration::from_secs(4) {
        if slow.write_all(b"X").await.is_err() {
            cut_off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut buf = [0u8; 1024];
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await
        {
            let text = String::from_utf8_lossy(&buf[..read.unwrap_or(0)]).to_string();
            assert!(!text.contains("200 OK"), "{text}");
            cut_off = true;
            break;
        }
    }
    assert!(
        cut_off,
        "a client trickling its headers was not disconnected"
    );
    exp.stop().await;
}

#[tokio::test]
async fn request_headers_over_the_size_cap_are_refused() {
    let exp = start(|_| {}).await;
    // Over the cap, within the connection's buffer (the exporter's own
    // check), and past the buffer (hyper's).
    for kib in [17, 20, 100] {
        let mut big = TcpStream::connect(exp.addr).await.unwrap();
        let filler = "a".repeat(kib * 1024);
        let request = format!("GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n");
        // The server may close while we are still writing; its answer is what counts.
        let _ = big.write_all(request.as_bytes()).await;
        let received = read_until_closed(&mut big, Duration::from_secs(4))
            .await
            .expect("the connection is closed");
        assert!(
            (kib > 64 && received.is_empty()) || status_line(&received).contains(" 431 "),
            "{kib} KiB: {received}"
        );
    }

    // A head just under the cap is still served.
    let mut fits = TcpStream::connect(exp.addr).await.unwrap();
    let filler = "a".repeat(15 * 1024);
    let request = format!(
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Filler: {filler}\r\n\r\n"
    );
    fits.write_all(request.as_bytes()).await.unwrap();
    let received = read_until_closed(&mut fits, Duration::from_secs(4))
        .await
        .unwrap();
    assert!(status_line(&received).contains(" 200 "), "{received}");
    exp.stop().await;
}

#[tokio::test]
async fn only_get_and_head_are_answered_and_unknown_paths_are_404() {
    let exp = start(|_| {}).await;
    let http = &exp.http;
    for path in ["/", "/metrics", "/-/healthy", "/-/ready"] {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let r = http
                .request(method.clone(), exp.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 405, "{method} {path}");
            assert_eq!(r.headers()["allow"], "GET, HEAD", "{method} {path}");
        }
        let head = http.head(exp.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has a body"
        );
    }
    for path in ["/nope", "/metrics/", "/-/", "/-/healthy/x"] {
        assert_eq!(
            http.get(exp.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    exp.stop().await;
}

/// A connection from `source` (any 127/8 address: Linux routes them all
/// to the loopback interface).
async fn connect_from(source: [u8; 4], to: std::net::SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    socket.connect(to).await.unwrap()
}

const HEALTHY: &[u8] = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn beyond_the_cap_the_oldest_connection_without_a_request_makes_room() {
    let exp = start(|c| c.limits.max_connections = 2).await;
    // Two idle connections take both slots (the header timeout, 10 s, is
    // longer than this test); the server sees them in this order.
    let mut first = TcpStream::connect(exp.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut second = TcpStream::connect(exp.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut third = TcpStream::connect(exp.addr).await.unwrap();
    third.write_all(HEALTHY).await.unwrap();
    let received = read_until_closed(&mut third, Duration::from_secs(4))
        .await
        .expect("the new connection is served at once");
    assert!(status_line(&received).contains(" 200 "), "{received}");
    assert_eq!(
        read_until_closed(&mut first, Duration::from_secs(1)).await,
        Some(String::new()),
        "the oldest idle connection was closed to make room"
    );
    assert_eq!(
        read_until_closed(&mut second, Duration::from_millis(300)).await,
        None,
        "only one was closed"
    );

    // And the server goes on serving.
    let mut fourth = TcpStream::connect(exp.addr).await.unwrap();
    fourth.write_all(HEALTHY).await.unwrap();
    let received = read_until_closed(&mut fourth, Duration::from_secs(4))
        .await
        .unwrap();
    assert!(status_line(&received).contains(" 200 "), "{received}");
    let metrics = exp.scrape().await;
    assert_eq!(
        sample(
            &metrics,
            "genesys_eventbridge_web_connections_dropped_total",
            &[("reason", "evicted")]
        ),
        Some(1.0),
        "{metrics}"
    );
    exp.stop().await;
}

#[tokio::test]
async fn an_address_over_its_connection_limit_is_refused_and_others_are_served() {
    // Four slots in all, so that the two left when the address holds its
    // share are no more than a share.
    let exp = start(|c| {
        c.limits.max_connections = 4;
        c.limits.max_connections_per_ip = 2;
    })
    .await;
    let _held: Vec<TcpStream> = vec![
        connect_from([127, 0, 0, 2], exp.addr).await,
        connect_from([127, 0, 0, 2], exp.addr).await,
    ];
    let mut over = connect_from([127, 0, 0, 2], exp.addr).await;
    let _ = over.write_all(HEALTHY).await;
    let received = read_until_closed(&mut over, Duration::from_secs(2))
        .await
        .expect("the third connection of the address is closed at once");
    assert!(received.is_empty(), "{received}");

    let mut other = connect_from([127, 0, 0, 3], exp.addr).await;
    other.write_all(HEALTHY).await.unwrap();
    let received = read_until_closed(&mut other, Duration::from_secs(4))
        .await
        .unwrap();
    assert!(status_line(&received).contains(" 200 "), "{received}");
    let metrics = exp.scrape().await;
    assert_eq!(
        sample(
            &metrics,
            "genesys_eventbridge_web_connections_dropped_total",
            &[("reason", "address_limit")]
        ),
        Some(1.0),
        "{metrics}"
    );
    exp.stop().await;
}
