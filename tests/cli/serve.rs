//! The `faultlab` binary's `serve` and `up` commands, and the http driver's
//! scenario checks:
//! - `faultlab serve` with a bad flag or environment variable exits 2 with
//!   an error naming the flag, its variable and what is accepted;
//! - `faultlab up` starts for real: the printed bootstrap address takes
//!   messages, the printed Toxiproxy API controls the proxy in front of the
//!   broker, and SIGINT or SIGTERM stops it with exit code 0;
//! - a scenario's http producer fields are checked like the rest of the file
//!   (file:line:column, field, what is accepted).

#[allow(dead_code)] // each test file uses part of it
use crate::cli_support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::Outcome;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;

const USAGE: i32 = 2;

/// Longer than any failing invocation takes; a binary still running then
/// got past its checks (and `serve` would serve forever).
const GUARD: Duration = Duration::from_secs(30);

fn faultlab(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Outcome {
    let mut command = cli_support::command(args, dir);
    // The course's variables must not leak in from the environment running the tests.
    for name in [
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_REQUEST_TIMEOUT_MS",
        "KAFKA_DELIVERY_TIMEOUT_MS",
        "KAFKA_SOCKET_TIMEOUT_MS",
        "KAFKA_RETRIES",
        "KAFKA_RETRY_BACKOFF_MS",
        "KAFKA_LINGER_MS",
        "FAULTLAB_LISTEN",
        "FAULTLAB_STATUS_CAPACITY",
        "FAULTLAB_STATUS_TTL_MS",
        "FAULTLAB_SHUTDOWN_FLUSH_MS",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    cli_support::run(&mut command, GUARD, "it got past its checks")
}

#[test]
fn bad_serve_settings_exit_2_naming_the_flag_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[(&str, &str)], &[&str])] = &[
        (&["serve", "--linger-ms=-1"], &[], &["--linger-ms (or KAFKA_LINGER_MS)", "\"-1\"", "accepted: a whole number"]),
        (&["serve"], &[("KAFKA_RETRIES", "many")], &["--retries (or KAFKA_RETRIES)", "\"many\"", "accepted:"]),
        (&["serve", "--socket-timeout-ms", "5"], &[], &["--socket-timeout-ms", "from 10 to 300000"]),
        (&["serve", "--listen", "localhost"], &[], &["--listen (or FAULTLAB_LISTEN)", "accepted: an IP address and port"]),
        (&["serve"], &[("KAFKA_BOOTSTRAP_SERVERS", "kafka")], &["KAFKA_BOOTSTRAP_SERVERS", "host:port"]),
        (&["serve", "--librdkafka", "acks=0"], &[], &["--librdkafka", "belong to the mode"]),
        (&["serve", "--librdkafka", "novalue"], &[], &["--librdkafka", "KEY=VALUE"]),
        (&["serve", "--status-capacity", "0"], &[], &["--status-capacity", "from 1"]),
        (&["serve", "--shutdown-flush-ms", "0"], &[], &["--shutdown-flush-ms (or FAULTLAB_SHUTDOWN_FLUSH_MS)", "from 1 to 3600000"]),
        (&["serve"], &[("FAULTLAB_SHUTDOWN_FLUSH_MS", "-5")], &["FAULTLAB_SHUTDOWN_FLUSH_MS", "\"-5\""]),
        (&["serve", "--shutdown-flush-ms", "soon"], &[], &["--shutdown-flush-ms", "\"soon\"", "accepted: a whole number"]),
        (&["serve", "--shutdown-flush-ms", "3600001"], &[], &["--shutdown-flush-ms", "from 1 to 3600000"]),
        (&["serve", "--no-such-flag"], &[], &["unexpected argument '--no-such-flag'"]),
        (&["up", "--kafka-port", "70000"], &[], &["--kafka-port", "70000"]),
        (&["up", "--api-listen", "nowhere"], &[], &["--api-listen", "nowhere"]),
    ];
    for (args, env, words) in cases {
        let outcome = faultlab(args, env, dir.path());
        let shown = format!("faultlab {} {env:?}: exit {:?}\n{}", args.join(" "), outcome.code, outcome.stderr);
        assert_eq!(outcome.code, Some(USAGE), "{shown}");
        assert!(!outcome.stderr.contains("panicked"), "{shown}");
        assert!(outcome.stderr.starts_with("error:"), "{shown}");
        for word in *words {
            assert!(outcome.stderr.contains(word), "{shown}\nmissing: {word}");
        }
    }
}

/// A small valid scenario with one http producer; each case changes it.
const VALID: &str = r#"name = "http-valid"
description = "A valid scenario."

[workload]
messages = 10

[client]
"linger.ms" = 5

[[producers]]
name = "web"
preset = "plain"
driver = "http"
"#;

#[test]
fn http_producer_mistakes_point_at_the_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, VALID).unwrap();
    let outcome = faultlab(&["validate", path.to_str().unwrap()], &[], dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);

    // (what, from, to, line, field, words)
    let cases: &[(&str, &str, &str, usize, &str, &[&str])] = &[
        (
            "url on a direct producer",
            "driver = \"http\"",
            "url = \"http://127.0.0.1:8080\"",
            13,
            "producers[0].url",
            &["applies to driver = \"http\" only"],
        ),
        (
            "send_mode on a direct producer",
            "driver = \"http\"",
            "send_mode = \"async\"",
            13,
            "producers[0].send_mode",
            &["applies to driver = \"http\" only"],
        ),
        ("unknown driver", "driver = \"http\"", "driver = \"grpc\"", 13, "producers[0].driver", &["direct", "http"]),
        (
            "unknown send mode",
            "driver = \"http\"",
            "driver = \"http\"\nsend_mode = \"later\"",
            14,
            "producers[0].send_mode",
            &["sync", "async"],
        ),
        ("preset none", "preset = \"plain\"", "preset = \"none\"", 12, "producers[0].preset", &["\"plain\" or \"idempotent\""]),
        (
            "own settings",
            "driver = \"http\"",
            "driver = \"http\"\nsettings = { \"linger.ms\" = 1 }",
            14,
            "producers[0].settings",
            &["the service owns its producer"],
        ),
        (
            "not a URL",
            "driver = \"http\"",
            "driver = \"http\"\nurl = \"localhost:8080\"",
            14,
            "producers[0].url",
            &["accepted: \"embedded\"", "http://127.0.0.1:8080"],
        ),
        (
            "URL with a query",
            "driver = \"http\"",
            "driver = \"http\"\nurl = \"http://h:1/?mode=plain\"",
            14,
            "producers[0].url",
            &["without query"],
        ),
        ("acks for the in-process service", "\"linger.ms\" = 5", "acks = \"all\"", 7, "client", &["[client] \"acks\"", "from their mode"]),
        (
            "bad timeout for the in-process service",
            "\"linger.ms\" = 5",
            "\"socket.timeout.ms\" = 1",
            7,
            "client",
            &["socket.timeout.ms", "from 10 to 300000"],
        ),
        (
            "padding through a service",
            "messages = 10",
            "messages = 10\npayload_bytes = 100",
            6,
            "workload.payload_bytes",
            &["without padding", "accepted: 0"],
        ),
    ];
    for (i, (what, from, to, line, field, words)) in cases.iter().enumerate() {
        assert!(VALID.contains(from), "{what}");
        let path = dir.path().join(format!("broken-{i}.toml"));
        std::fs::write(&path, VALID.replacen(from, to, 1)).unwrap();
        let outcome = faultlab(&["validate", path.to_str().unwrap()], &[], dir.path());
        let shown = format!("{what}: exit {:?}\n{}", outcome.code, outcome.stderr);
        assert_eq!(outcome.code, Some(USAGE), "{shown}");
        let location = format!("error: {}:{line}:", path.display());
        assert!(outcome.stderr.starts_with(&location), "{shown}\nexpected to start with {location}");
        assert!(outcome.stderr.contains(&format!("field `{field}`")), "{shown}\nexpected field {field}");
        for word in *words {
            assert!(outcome.stderr.contains(word), "{shown}\nmissing: {word}");
        }
    }
}

/// `faultlab up` as a child process, killed on drop if still running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
}

/// `faultlab up` on free ports, with `extra` flags; its stdout is piped
/// for [`read_addresses`].
fn start_up(extra: &[&str], stderr: Stdio) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(["up", "--kafka-port", "0", "--api-listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start faultlab up");
    Running(child)
}

/// Read the child's stdout up to its "Ctrl-C" line (bounded), returning
/// (bootstrap, api URL, everything read).
fn read_addresses(child: &mut Child) -> (String, String, String) {
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let (mut bootstrap, mut api, mut text) = (None, None, String::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !text.contains("Ctrl-C") {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines_rx.recv_timeout(left) {
            Ok(Ok(line)) => line,
            other => panic!("faultlab up printed no addresses within 60 s ({other:?}); printed:\n{text}"),
        };
        text.push_str(&line);
        text.push('\n');
        if let Some(rest) = line.strip_prefix("Kafka bootstrap:") {
            bootstrap = Some(rest.trim().to_string());
        }
        if let Some(rest) = line.strip_prefix("Toxiproxy API:") {
            api = Some(rest.trim().to_string());
        }
    }
    match (bootstrap, api) {
        (Some(bootstrap), Some(api)) => (bootstrap, api, text),
        _ => panic!("no bootstrap or API address in:\n{text}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_kafka_through_the_proxy_the_api_controls() {
    let mut up = start_up(&["--partitions", "2"], Stdio::piped());
    let (bootstrap, api, text) = read_addresses(&mut up.0);
    assert!(text.contains(&format!("faultlab serve --bootstrap-servers {bootstrap}")), "{text}");
    assert!(text.contains("curl"), "{text}");

    // The API lists the proxy "kafka" listening where clients bootstrap.
    let client = faultlab::http_client().timeout(Duration::from_secs(10)).build().unwrap();
    let proxies: Value = client.get(format!("{api}/proxies")).send().await.unwrap().json().await.unwrap();
    assert_eq!(proxies["kafka"]["listen"], Value::from(bootstrap.clone()), "{proxies}");
    assert_eq!(proxies["kafka"]["enabled"], Value::Bool(true), "{proxies}");

    // Kafka answers through it: a message to the course's topic (created at start) is acknowledged.
    let producer: FutureProducer =
        ClientConfig::new().set("bootstrap.servers", &bootstrap).set("message.timeout.ms", "20000").create().unwrap();
    let delivered = producer
        .send(FutureRecord::to("bhf-transactions").key("k").payload("v").partition(1), Duration::from_secs(20))
        .await
        .map_err(|(e, _)| e)
        .expect("the message is delivered through the proxy");
    assert_eq!(delivered.partition, 1);

    // A toxic added through the API is on the proxy the clients use: the
    // connection established above now sees every response 1.5 s late.
    let toxic = serde_json::json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 1500}});
    let added = client.post(format!("{api}/proxies/kafka/toxics")).json(&toxic).send().await.unwrap();
    assert_eq!(added.status().as_u16(), 200, "{}", added.text().await.unwrap());
    let started = Instant::now();
    producer
        .send(FutureRecord::to("bhf-transactions").key("k").payload("v2").partition(1), Duration::from_secs(20))
        .await
        .map_err(|(e, _)| e)
        .expect("delivered, late");
    assert!(started.elapsed() >= Duration::from_millis(1400), "the toxic applied: took {:?}", started.elapsed());
    let reset = client.post(format!("{api}/reset")).send().await.unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    drop(producer);

    // SIGINT stops it cleanly.
    let pid = up.0.id().to_string();
    let signalled = Command::new("kill").args(["-INT", &pid]).status().expect("run kill");
    assert!(signalled.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = up.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "faultlab up still running 30 s after SIGINT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    up.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// SIGTERM (what `docker stop` and CI runners send) stops `faultlab up` as
/// SIGINT does: exit 0, its Kafka port free again. Sent right after the
/// instructions, which are printed once the handler is installed.
#[test]
fn sigterm_stops_up_cleanly() {
    let mut up = start_up(&[], Stdio::piped());
    let (bootstrap, _, _) = read_addresses(&mut up.0);
    let status = cli_support::signal_and_wait(&mut up.0, libc::SIGTERM, Duration::from_secs(30));
    let mut stderr = String::new();
    up.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(stderr.contains("faultlab up: stopped") && !stderr.contains("panicked"), "{stderr}");
    std::net::TcpListener::bind(&bootstrap).unwrap_or_else(|e| panic!("{bootstrap} still taken after SIGTERM: {e}"));
}

#[test]
fn up_refuses_a_taken_kafka_port_with_advice() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let outcome = faultlab(&["up", "--kafka-port", &port, "--api-listen", "127.0.0.1:0"], &[], dir.path());
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("--kafka-port"), "{}", outcome.stderr);
    assert!(!outcome.stderr.contains("panicked"), "{}", outcome.stderr);
}

/// `faultlab serve` started as a child with stderr read line by line.
struct Served {
    child: Running,
    base: String,
    lines: std::sync::mpsc::Receiver<String>,
}

fn start_serve(bootstrap: &str) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args([
            "serve",
            "--bootstrap-servers",
            bootstrap,
            "--listen",
            "127.0.0.1:0",
            "--socket-timeout-ms",
            "2000",
            "--shutdown-flush-ms",
            "1000",
        ])
        .env_remove("RUST_LOG")
        .env_remove("FAULTLAB_SHUTDOWN_FLUSH_MS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start faultlab serve");
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(30)).expect("faultlab serve prints its address");
    let address =
        first.strip_prefix("faultlab serve: http://").and_then(|rest| rest.split(' ').next()).unwrap_or_else(|| panic!("{first}"));
    Served { child: Running(child), base: format!("http://{address}"), lines }
}

/// SIGTERM, then (exit code, everything printed), bounded.
async fn terminate(served: &mut Served) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let signalled = Command::new("kill").args(["-TERM", &served.child.0.id().to_string()]).status().expect("run kill");
    assert!(signalled.success());
    let status = loop {
        if let Some(status) = served.child.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "faultlab serve still running 30 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed();
    let mut text = String::new();
    while let Ok(line) = served.lines.recv_timeout(Duration::from_secs(2)) {
        text.push_str(&line);
        text.push('\n');
    }
    (status.code(), text, took)
}

/// The binary's exit status is its account: 0 with every accepted message
/// delivered; 1 when a 3000 ms latency (over the 2000 ms socket timeout)
/// keeps the acknowledgements away, after the 1 s flush, with a line per
/// message naming its requestId.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exits_with_its_account() {
    let mut up = start_up(&[], Stdio::null());
    let (bootstrap, api, _) = read_addresses(&mut up.0);
    let client = faultlab::http_client().timeout(Duration::from_secs(30)).build().unwrap();

    let mut clean = start_serve(&bootstrap);
    let sent = client.post(format!("{}/api/v1/send?mode=plain&eventId=cli-1", clean.base)).send().await.unwrap();
    assert_eq!(sent.status().as_u16(), 200);
    let (code, text, _) = terminate(&mut clean).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("faultlab serve: stopped; all 1 accepted messages delivered"), "{text}");

    let mut stuck = start_serve(&bootstrap);
    let warm = client.post(format!("{}/api/v1/send?mode=idempotent&eventId=cli-warm", stuck.base)).send().await.unwrap();
    assert_eq!(warm.status().as_u16(), 200);
    let toxic = serde_json::json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 3000}});
    assert_eq!(client.post(format!("{api}/proxies/kafka/toxics")).json(&toxic).send().await.unwrap().status().as_u16(), 200);
    let mut request_ids = Vec::new();
    for i in 0..6 {
        let mode = if i % 2 == 0 { "plain" } else { "idempotent" };
        let url = format!("{}/api/v1/send?mode={mode}&eventId=cli-stuck-{i}&sendMode=async", stuck.base);
        let accepted: Value = client.post(url).send().await.unwrap().json().await.unwrap();
        request_ids.push(accepted["requestId"].as_str().unwrap().to_string());
    }
    let (code, text, took) = terminate(&mut stuck).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(took < Duration::from_secs(10), "bounded by the 1 s flush: {took:?}\n{text}");
    assert!(text.contains("error: 6 of 7 accepted messages were not delivered"), "{text}");
    for (i, request_id) in request_ids.iter().enumerate() {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("requestId={request_id} ")))
            .unwrap_or_else(|| panic!("no line for {request_id}:\n{text}"));
        assert!(line.contains("message undelivered") && line.contains(&format!("eventId=\"cli-stuck-{i}\"")), "{line}");
    }
    assert!(!text.contains("panicked"), "{text}");
}
