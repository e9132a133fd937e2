//! Toxiproxy's HTTP API over real HTTP: the toxic routes, their defaults,
//! status codes and error bodies, and that toxics added over HTTP act on
//! the traffic.

use crate::common;

use std::time::{Duration, Instant};

use common::TestApi;
use common::http::{assert_error, call, create};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn api_with_proxy() -> (TestApi, String) {
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    let proxy = create(&api, "p", &up).await;
    (api, proxy["listen"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn create_a_toxic_with_toxiproxys_defaults() {
    let (api, _) = api_with_proxy().await;
    assert_eq!(call(&api, Method::GET, "/proxies/p/toxics", None).await, (200, json!([])));

    let (status, toxic) = call(&api, Method::POST, "/proxies/p/toxics", Some(r#"{"type": "latency"}"#)).await;
    assert_eq!(status, 200, "Toxiproxy answers 200 to a new toxic");
    let expected = json!({
        "name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1,
        "attributes": { "latency": 0, "jitter": 0 }
    });
    assert_eq!(toxic, expected);
    assert_eq!(call(&api, Method::GET, "/proxies/p/toxics/latency_downstream", None).await, (200, expected.clone()));

    // Every type, with its attributes and their zero defaults.
    let defaults = [
        ("bandwidth", json!({ "rate": 0 })),
        ("slow_close", json!({ "delay": 0 })),
        ("timeout", json!({ "timeout": 0 })),
        ("reset_peer", json!({ "timeout": 0 })),
        ("limit_data", json!({ "bytes": 0 })),
    ];
    for (kind, attributes) in defaults {
        let body = json!({ "type": kind, "stream": "upstream", "toxicity": 0 }).to_string();
        let (status, toxic) = call(&api, Method::POST, "/proxies/p/toxics", Some(&body)).await;
        assert_eq!(status, 200, "{toxic}");
        assert_eq!(toxic["name"], json!(format!("{kind}_upstream")));
        assert_eq!(toxic["attributes"], attributes, "{kind}");
    }
    let slicer = r#"{"type": "slicer", "attributes": {"average_size": 64, "size_variation": 8, "delay": 10}}"#;
    let (status, toxic) = call(&api, Method::POST, "/proxies/p/toxics", Some(slicer)).await;
    assert_eq!((status, &toxic["attributes"]), (200, &json!({ "average_size": 64, "size_variation": 8, "delay": 10 })));

    let (_, list) = call(&api, Method::GET, "/proxies/p/toxics", None).await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "bandwidth_upstream", "upstream toxics are listed first, as by Toxiproxy: {names:?}");
    assert_eq!(names.len(), 7);
    let (_, proxy) = call(&api, Method::GET, "/proxies/p", None).await;
    assert_eq!(proxy["toxics"], list, "the proxy shows the same toxics");
}

#[tokio::test]
async fn toxic_errors_have_toxiproxys_codes_and_name_the_field() {
    let (api, _) = api_with_proxy().await;
    let post = |body: &'static str| {
        let api = &api;
        async move { call(api, Method::POST, "/proxies/p/toxics", Some(body)).await }
    };
    assert_eq!(post(r#"{"type": "latency", "name": "l"}"#).await.0, 200);
    assert_error(post(r#"{"type": "latency", "name": "l"}"#).await, 409, "toxic already exists");
    assert_error(post(r#"{"type": "latency", "name": "l", "stream": "up"}"#).await, 400, "stream was invalid");
    assert_error(post(r#"{"type": "lag"}"#).await, 400, "invalid toxic type");
    assert_error(post(r#"{"name": "x"}"#).await, 400, "invalid toxic type");
    assert_error(
        post(r#"{"type": "latency", "name": "x", "attributes": {"delay": 5}}"#).await,
        400,
        "bad request body: attributes.delay: unknown field",
    );
    assert_error(
        post(r#"{"type": "latency", "name": "x", "attributes": {"latency": "5"}}"#).await,
        400,
        "bad request body: attributes.latency: invalid type",
    );
    assert_error(
        post(r#"{"type": "latency", "name": "x", "toxicity": 1.5}"#).await,
        400,
        "bad request body: toxicity: `1.5` is out of range",
    );
    assert_error(
        post(r#"{"type": "latency", "name": "x", "toxicity": "all"}"#).await,
        400,
        "bad request body: toxicity: expected a number",
    );
    assert_error(post(r#"{"type": "slicer", "name": "x"}"#).await, 400, "bad request body: attributes.average_size");
    assert_error(post(r#"{"type": "bandwidth", "name": "x", "attributes": {"rate": -1}}"#).await, 400, "bad request body: attributes.rate");
    assert_error(post(r#"{"type": "latency", "#).await, 400, "bad request body: ");
    assert_error(call(&api, Method::POST, "/proxies/q/toxics", Some("{}")).await, 404, "proxy not found");
    assert_error(call(&api, Method::GET, "/proxies/q/toxics", None).await, 404, "proxy not found");
    assert_error(call(&api, Method::GET, "/proxies/p/toxics/nope", None).await, 404, "toxic not found");
    assert_error(call(&api, Method::PATCH, "/proxies/p/toxics/nope", Some("{}")).await, 404, "toxic not found");
    assert_error(call(&api, Method::DELETE, "/proxies/p/toxics/nope", None).await, 404, "toxic not found");
    assert_error(
        call(&api, Method::PATCH, "/proxies/p/toxics/l", Some(r#"{"attributes": []}"#)).await,
        400,
        "bad request body: attributes: expected an object",
    );
    let (_, list) = call(&api, Method::GET, "/proxies/p/toxics", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "no failed request left a toxic behind");
}

#[tokio::test]
async fn update_and_delete_a_toxic_acting_on_live_traffic() {
    let (api, listen) = api_with_proxy().await;
    let mut client = TcpStream::connect(&listen).await.unwrap();
    client.set_nodelay(true).unwrap();
    let body = r#"{"name": "slow", "type": "latency", "attributes": {"latency": 300, "jitter": 0}}"#;
    assert_eq!(call(&api, Method::POST, "/proxies/p/toxics", Some(body)).await.0, 200);
    assert!(round_trip(&mut client).await >= Duration::from_millis(300), "the toxic applies to an open connection");

    let (status, toxic) = call(&api, Method::PATCH, "/proxies/p/toxics/slow", Some(r#"{"attributes": {"latency": 50}}"#)).await;
    assert_eq!(status, 200);
    assert_eq!(toxic["attributes"], json!({ "latency": 50, "jitter": 0 }), "attributes not given stay");
    let took = round_trip(&mut client).await;
    assert!(took >= Duration::from_millis(50) && took < Duration::from_millis(250), "the update applies: {took:?}");

    let (status, toxic) = call(&api, Method::POST, "/proxies/p/toxics/slow", Some(r#"{"toxicity": 0, "name": "ignored"}"#)).await;
    assert_eq!((status, &toxic["toxicity"], &toxic["name"]), (200, &json!(0), &json!("slow")), "{toxic}");
    assert!(round_trip(&mut client).await < Duration::from_millis(50), "toxicity 0: spared");

    assert_eq!(call(&api, Method::DELETE, "/proxies/p/toxics/slow", None).await.0, 204);
    assert_eq!(call(&api, Method::GET, "/proxies/p/toxics", None).await, (200, json!([])));
    assert_error(call(&api, Method::DELETE, "/proxies/p/toxics/slow", None).await, 404, "toxic not found");
}

async fn round_trip(client: &mut TcpStream) -> Duration {
    let started = Instant::now();
    client.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut back)).await.unwrap().unwrap();
    started.elapsed()
}

/// What a ping through `client` gets back within `limit`: the echo, or
/// nothing (`None`: still open, nothing came). A closed or reset
/// connection fails the test: it would mean the link's task died.
async fn echo_within(client: &mut TcpStream, limit: Duration) -> Option<[u8; 4]> {
    let mut back = [0u8; 4];
    match tokio::time::timeout(limit, client.read_exact(&mut back)).await {
        Err(_) => None,
        Ok(Ok(_)) => Some(back),
        Ok(Err(e)) => panic!("the connection ended ({e}): the link's task is gone"),
    }
}

/// Attributes at the edge of int64 (delays of 292 million years, a rate
/// near i64::MAX KB/s) are accepted; the toxic then waits "forever" where
/// it waits at all, with the link alive (a dead link task would close the
/// connection); removing it releases what it held; the API and other
/// proxies keep serving throughout.
#[tokio::test]
async fn toxics_with_int64_edge_values_are_accepted_and_the_proxy_keeps_serving() {
    const MAX: i64 = i64::MAX;
    // (type, attributes, whether the ping comes back while the toxic is on)
    let cases = [
        ("latency", json!({ "latency": MAX, "jitter": MAX }), false),
        ("latency", json!({ "latency": MAX }), false),
        ("timeout", json!({ "timeout": MAX }), false),
        ("reset_peer", json!({ "timeout": MAX }), false),
        ("slow_close", json!({ "delay": MAX }), true),
        ("bandwidth", json!({ "rate": MAX }), true),
        ("slicer", json!({ "average_size": MAX, "size_variation": MAX, "delay": MAX }), true),
        ("limit_data", json!({ "bytes": MAX }), true),
    ];
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    let other = create(&api, "other", &up).await["listen"].as_str().unwrap().to_string();
    for (i, (kind, attributes, passes)) in cases.into_iter().enumerate() {
        let name = format!("p{i}");
        let listen = create(&api, &name, &up).await["listen"].as_str().unwrap().to_string();
        let body = json!({ "name": "edge", "type": kind, "stream": "upstream", "attributes": attributes }).to_string();
        let (status, toxic) = call(&api, Method::POST, &format!("/proxies/{name}/toxics"), Some(&body)).await;
        assert_eq!(status, 200, "{kind}: {toxic}");
        for (key, value) in attributes.as_object().unwrap() {
            assert_eq!(&toxic["attributes"][key], value, "{kind}: {toxic}");
        }

        let mut client = TcpStream::connect(&listen).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let got = echo_within(&mut client, Duration::from_millis(300)).await;
        assert_eq!(got.is_some(), passes, "{kind} {attributes}: {got:?}");

        // Another proxy of the same API still echoes at once.
        let mut bystander = TcpStream::connect(&other).await.unwrap();
        bystander.write_all(b"pong").await.unwrap();
        assert_eq!(echo_within(&mut bystander, Duration::from_secs(2)).await, Some(*b"pong"), "{kind}: the other proxy");

        let (status, _) = call(&api, Method::DELETE, &format!("/proxies/{name}/toxics/edge"), None).await;
        assert_eq!(status, 204, "{kind}");
        match kind {
            // Removing a timeout closes what it held (Toxiproxy's Cleanup);
            // reset_peer's wait, once started, ends in a reset whatever
            // happens to the toxic (Toxiproxy's too): both end the link.
            "timeout" | "reset_peer" => {}
            _ if !passes => {
                assert_eq!(echo_within(&mut client, Duration::from_secs(2)).await, Some(*b"ping"), "{kind}: released on removal")
            }
            _ => {
                client.write_all(b"more").await.unwrap();
                assert_eq!(echo_within(&mut client, Duration::from_secs(2)).await, Some(*b"more"), "{kind}: after removal");
            }
        }
    }
}
