//! Talking to the Toxiproxy API in tests.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TestApi;

/// Send a request; the status and the body as JSON (or as a JSON string
/// when it is not JSON).
pub async fn call(api: &TestApi, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut request = crate::common::http_client().build().unwrap().request(method, api.url(path));
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Assert Toxiproxy's error body: `{"error": ..., "status": N}`.
pub fn assert_error(answer: (u16, Value), status: u16, message: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1["status"], json!(status), "{answer:?}");
    let error = answer.1["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(message), "error `{error}` should start with `{message}`");
}

/// Whether a ping through `addr` (a proxy in front of an echo server)
/// comes back.
pub async fn echoes(addr: &str) -> bool {
    let Ok(mut client) = TcpStream::connect(addr).await else { return false };
    if client.write_all(b"ping").await.is_err() {
        return false;
    }
    let mut back = [0u8; 4];
    matches!(tokio::time::timeout(Duration::from_secs(2), client.read_exact(&mut back)).await, Ok(Ok(_)))
}

/// Create an enabled proxy on a free port; the API's answer.
pub async fn create(api: &TestApi, name: &str, upstream: &str) -> Value {
    let body = json!({ "name": name, "listen": "127.0.0.1:0", "upstream": upstream }).to_string();
    let (status, proxy) = call(api, Method::POST, "/proxies", Some(&body)).await;
    assert_eq!(status, 201, "{proxy}");
    proxy
}
