//! Toxiproxy's HTTP API over real HTTP: the proxy routes, /populate,
//! /reset, /version, status codes and error bodies.

use crate::common;

use common::TestApi;
use common::http::{assert_error, call, create, echoes};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn create_show_list_and_delete_a_proxy() {
    let api = TestApi::start().await;
    let echo = common::echo_server().await.to_string();
    assert_eq!(call(&api, Method::GET, "/proxies", None).await, (200, json!({})));

    let proxy = create(&api, "kafka", &echo).await;
    let listen = proxy["listen"].as_str().unwrap().to_string();
    assert!(listen.starts_with("127.0.0.1:") && !listen.ends_with(":0"), "port 0 reports the port it got: {listen}");
    assert_eq!(proxy, json!({ "name": "kafka", "listen": listen, "upstream": echo, "enabled": true, "toxics": [] }));
    assert!(echoes(&listen).await, "it proxies");

    assert_eq!(call(&api, Method::GET, "/proxies/kafka", None).await, (200, proxy.clone()));
    assert_eq!(call(&api, Method::GET, "/proxies", None).await, (200, json!({ "kafka": proxy })));

    assert_eq!(call(&api, Method::DELETE, "/proxies/kafka", None).await.0, 204);
    assert!(!echoes(&listen).await, "a deleted proxy stops listening");
    assert_error(call(&api, Method::DELETE, "/proxies/kafka", None).await, 404, "proxy not found");
    assert_error(call(&api, Method::GET, "/proxies/kafka", None).await, 404, "proxy not found");
}

#[tokio::test]
async fn create_errors_name_what_is_wrong() {
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    let post = |body: String| {
        let api = &api;
        async move { call(api, Method::POST, "/proxies", Some(&body)).await }
    };
    assert_error(post(json!({ "listen": "127.0.0.1:0", "upstream": up }).to_string()).await, 400, "missing required field: name");
    assert_error(post(json!({ "name": "a", "listen": "127.0.0.1:0" }).to_string()).await, 400, "missing required field: upstream");
    assert_error(post("{not json".into()).await, 400, "bad request body: ");
    assert_error(post("".into()).await, 400, "bad request body: ");
    assert_error(post("[1, 2]".into()).await, 400, "bad request body: proxy: expected an object");
    let wrong = post(json!({ "name": "a", "upstream": up, "enabled": "yes" }).to_string()).await;
    assert_error(wrong, 400, "bad request body: enabled: expected true or false");
    assert_error(post(json!({ "name": "a", "listen": "local373", "upstream": up }).to_string()).await, 400, "listen tcp local373:");

    let taken = create(&api, "a", &up).await;
    assert_error(post(json!({ "name": "a", "listen": "127.0.0.1:0", "upstream": up }).to_string()).await, 409, "proxy already exists");
    let in_use = json!({ "name": "b", "listen": taken["listen"], "upstream": up }).to_string();
    assert_error(post(in_use).await, 500, &format!("listen tcp {}: bind:", taken["listen"].as_str().unwrap()));
    assert_eq!(call(&api, Method::GET, "/proxies", None).await.1.as_object().unwrap().len(), 1, "no proxy left behind");
}

#[tokio::test]
async fn update_disables_enables_and_moves_a_proxy() {
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    let proxy = create(&api, "db", &up).await;
    let listen = proxy["listen"].as_str().unwrap().to_string();

    let (status, off) = call(&api, Method::POST, "/proxies/db", Some(r#"{"enabled": false}"#)).await;
    assert_eq!((status, &off["enabled"], &off["listen"]), (200, &json!(false), &json!(listen)));
    assert!(!echoes(&listen).await, "disabled: refused");

    let (status, on) = call(&api, Method::PATCH, "/proxies/db", Some(r#"{"enabled": true}"#)).await;
    assert_eq!((status, &on["enabled"], &on["listen"]), (200, &json!(true), &json!(listen)));
    assert!(echoes(&listen).await, "enabled again on the same address");

    let other = common::echo_server().await.to_string();
    let body = json!({ "upstream": other, "listen": "127.0.0.1:0" }).to_string();
    let (status, moved) = call(&api, Method::PATCH, "/proxies/db", Some(&body)).await;
    assert_eq!((status, &moved["upstream"], &moved["enabled"]), (200, &json!(other), &json!(true)));
    assert_ne!(moved["listen"], json!(listen), "a new listen address restarts it there");
    assert!(echoes(moved["listen"].as_str().unwrap()).await);

    assert_error(call(&api, Method::PATCH, "/proxies/nope", Some("{}")).await, 404, "proxy not found");
    assert_error(call(&api, Method::PATCH, "/proxies/db", Some(r#"{"enabled": 1}"#)).await, 400, "bad request body: enabled");
    assert_error(call(&api, Method::POST, "/proxies/db", Some("nope")).await, 400, "bad request body: ");
}

#[tokio::test]
async fn populate_creates_keeps_and_replaces_per_toxiproxys_rules() {
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    let other = common::echo_server().await.to_string();
    let one = create(&api, "one", &up).await;
    let toxic = r#"{"type": "latency", "attributes": {"latency": 10}}"#;
    assert_eq!(call(&api, Method::POST, "/proxies/one/toxics", Some(toxic)).await.0, 200);
    let two = create(&api, "two", &up).await;

    let body = json!([
        { "name": "one", "listen": one["listen"], "upstream": up },
        { "name": "two", "listen": two["listen"], "upstream": other },
        { "name": "three", "listen": "127.0.0.1:0", "upstream": up, "enabled": false },
    ]);
    let (status, answer) = call(&api, Method::POST, "/populate", Some(&body.to_string())).await;
    assert_eq!(status, 201, "{answer}");
    let proxies = answer["proxies"].as_array().unwrap();
    let names: Vec<&str> = proxies.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["one", "two", "three"], "in the order given");
    assert_eq!(proxies[0]["toxics"].as_array().unwrap().len(), 1, "same listen and upstream: kept, toxics and all");
    assert_eq!(proxies[1]["upstream"], json!(other), "different upstream: replaced");
    assert_eq!(proxies[2]["enabled"], json!(false), "created disabled");
    assert!(echoes(proxies[1]["listen"].as_str().unwrap()).await);

    let bad = json!([{ "name": "four", "upstream": up }, { "upstream": up }]).to_string();
    assert_error(call(&api, Method::POST, "/populate", Some(&bad)).await, 400, "missing required field: name at proxy 2");
    assert_error(call(&api, Method::GET, "/proxies/four", None).await, 404, "proxy not found");

    let clash = json!([
        { "name": "five", "listen": "127.0.0.1:0", "upstream": up },
        { "name": "six", "listen": proxies[1]["listen"], "upstream": up },
    ]);
    let (status, answer) = call(&api, Method::POST, "/populate", Some(&clash.to_string())).await;
    assert_eq!((status, &answer["status"]), (500, &json!(500)), "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("bind"), "{answer}");
    assert_eq!(answer["proxies"].as_array().unwrap().len(), 1, "the proxies done before the failure: {answer}");
    assert_error(call(&api, Method::POST, "/populate", Some("{}")).await, 400, "bad request body: expected an array");
}

#[tokio::test]
async fn reset_version_and_browsers() {
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    create(&api, "a", &up).await;
    let toxic = r#"{"type": "timeout", "stream": "upstream"}"#;
    assert_eq!(call(&api, Method::POST, "/proxies/a/toxics", Some(toxic)).await.0, 200);
    assert_eq!(call(&api, Method::POST, "/proxies/a", Some(r#"{"enabled": false}"#)).await.0, 200);
    assert_eq!(call(&api, Method::POST, "/reset", None).await.0, 204);
    let (_, a) = call(&api, Method::GET, "/proxies/a", None).await;
    assert_eq!((&a["enabled"], &a["toxics"]), (&json!(true), &json!([])), "{a}");

    let response = reqwest::get(api.url("/version")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json;charset=utf-8");
    let version: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(version["version"].as_str().unwrap().starts_with("faultlab-"), "{version}");

    let browser = crate::common::http_client()
        .build()
        .unwrap()
        .get(api.url("/proxies"))
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 403, "browsers are refused, as by Toxiproxy");
    assert_eq!(call(&api, Method::PUT, "/proxies", None).await.0, 405);
}

#[tokio::test]
async fn stopping_the_api_stops_its_proxies() {
    let api = TestApi::start().await;
    let up = common::echo_server().await.to_string();
    let listen = create(&api, "a", &up).await["listen"].as_str().unwrap().to_string();
    assert!(echoes(&listen).await);
    let addr = api.addr;
    drop(api);
    for _ in 0..50 {
        if !echoes(&listen).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!echoes(&listen).await, "the proxy stopped with the API");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the API stopped listening");
}
