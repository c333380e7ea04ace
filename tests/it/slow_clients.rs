//! A body sent a byte at a time is cut off at its deadline (408, connection closed), and one
//! client address holds only so many requests in progress.

use crate::harness::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

async fn app() -> TestApp {
    TestApp::spawn_configured(|config| {
        config.body_deadline = Duration::from_secs(1);
        config.requests_per_client = 4;
    })
    .await
}

/// Opens a connection and sends the head of a form post whose body never comes in full.
async fn slow_post(app: &TestApp, path: &str) -> TcpStream {
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail="
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads until the server closes the connection (or 10 s pass), dripping a byte of body every
/// 200 ms meanwhile as a slow client would.
async fn drip_until_answered(stream: &mut TcpStream) -> String {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(10) {
        let _ = stream.write_all(b"a").await;
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[actix_web::test]
async fn a_body_that_comes_a_byte_at_a_time_is_cut_off_and_its_connection_closed() {
    let app = app().await;
    let mut stream = slow_post(&app, "/login").await;
    let started = Instant::now();
    let answer = drip_until_answered(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut off at its deadline and closed"
    );
}

/// Waits (up to 10 s) until the server answers on one of `streams`, and says which and what.
async fn first_answered(streams: &[TcpStream]) -> Option<(usize, String)> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(10) {
        for (index, stream) in streams.iter().enumerate() {
            if let Ok(n) = stream.try_read(&mut buffer) {
                return Some((index, String::from_utf8_lossy(&buffer[..n]).into_owned()));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[actix_web::test]
async fn one_address_holds_a_bounded_number_of_requests_in_progress() {
    let app = TestApp::spawn_configured(|config| {
        config.body_deadline = Duration::from_secs(5);
        config.requests_per_client = 4;
    })
    .await;
    // Five slow requests where four may be in progress: the server reads their heads in an
    // order of its own, so which one is refused is not known, but one is, at once (the others
    // are answered only at their deadline).
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(slow_post(&app, "/login").await);
    }
    let (index, answer) = first_answered(&held).await.expect("one is refused");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    held.remove(index);

    // With four in progress, any further request from the address is refused at once.
    let answer = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);

    // Once the held requests are cut off at their deadline, the address is served again.
    for stream in &mut held {
        let answer = drip_until_answered(stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let served = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(served.status(), reqwest::StatusCode::OK);
}
