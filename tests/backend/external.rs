//! The external backend: a cluster and a Toxiproxy that faultlab did not
//! start. Here the "user's" Toxiproxy is faultlab's own Toxiproxy-compatible
//! API server and the "user's" cluster an embedded tansu broker that
//! advertises the proxy, both started by the test as a user would start
//! theirs; faultlab reaches them only through --bootstrap and --toxiproxy.
//! The flag errors are checked on the binary: exit code 2, a message that
//! names what is missing, before anything starts.

use std::path::Path;
use std::process::{Command, Stdio};

use faultlab::env::Backend;
use faultlab::env::BackendConfig;
use faultlab::env::ProxyMode;
use faultlab::env::local::process::{Child, Spec};
use faultlab::harness::{self, Options};
use faultlab::scenario;
use faultlab::toxiproxy::Client;

const USAGE: i32 = 2;
const FAILED: i32 = 1;

fn faultlab(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(args)
        .env_remove("FAULTLAB_BOOTSTRAP")
        .env_remove("FAULTLAB_TOXIPROXY")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn external_without_bootstrap_names_it_and_exits_2() {
    let (code, stderr) = faultlab(&["run", "--backend", "external", "scenarios/response-delay.toml"]);
    assert_eq!(code, Some(USAGE), "{stderr}");
    assert!(stderr.contains("--backend external needs --bootstrap HOST:PORT"), "{stderr}");
    assert!(stderr.contains("--toxiproxy URL"), "{stderr}");
}

/// `--bootstrap` alone: faultlab fronts the cluster itself; with nothing
/// listening there, the run fails saying so, not with a usage error.
#[test]
fn external_with_only_bootstrap_and_no_broker_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bootstrap = format!("127.0.0.1:{port}");
    let (code, stderr) = faultlab(&["run", "--backend", "external", "--bootstrap", &bootstrap, "scenarios/response-delay.toml"]);
    assert_eq!(code, Some(FAILED), "{stderr}");
    assert!(stderr.contains(&format!("no broker of --bootstrap {bootstrap} accepts connections")), "{stderr}");
}

#[test]
fn external_with_a_toxiproxy_that_does_not_answer_says_so() {
    // A port that was free a moment ago: nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, stderr) =
        faultlab(&["run", "--backend", "external", "--bootstrap", "127.0.0.1:9092", "--toxiproxy", &url, "scenarios/response-delay.toml"]);
    assert_eq!(code, Some(FAILED), "{stderr}");
    assert!(stderr.contains(&format!("the Toxiproxy API at {url} does not answer")), "{stderr}");
}

/// A Toxiproxy (faultlab's API) with a proxy "kafka" in front of a tansu
/// broker advertising it; returns the bootstrap address and the API URL.
/// Everything stops with the test's runtime.
async fn users_cluster() -> (String, String, impl Send) {
    let api = faultlab::proxy::api::bind("127.0.0.1:0".parse().unwrap(), 3).await.expect("the Toxiproxy API binds");
    let url = format!("http://{}", api.local_addr());
    let serving = tokio::spawn(api.serve(std::future::pending()));
    let client = Client::new(&url);
    let broker_port = faultlab::env::embedded::free_port().unwrap();
    let proxy = client.create_proxy("kafka", "127.0.0.1:0", &format!("127.0.0.1:{broker_port}")).await.expect("proxy created");
    let broker = faultlab::env::embedded::start_broker(broker_port, &proxy.listen).await.expect("tansu starts");
    (proxy.listen, url, (serving, broker))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_delay_through_the_users_toxiproxy() {
    let (bootstrap, url, _running) = users_cluster().await;
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig { bootstrap: Some(bootstrap.clone()), toxiproxy: Some(url.clone()), ..BackendConfig::default() },
        ..Options::default()
    };
    let report = harness::run_scenario(&scenario, &options).await.result().expect("the scenario runs on the external backend");
    assert_eq!(report.backend.backend, "external");
    assert!(report.backend.proxy.contains(&url) && report.backend.proxy.contains("kafka"), "{:?}", report.backend);
    assert_eq!(report.backend.proxy_version, concat!("faultlab-", env!("CARGO_PKG_VERSION")), "the version the API reports");
    assert!(
        !report.notes.iter().any(|n| n.contains("around the proxy")),
        "the broker advertises the proxy, so nothing bypasses it: {:?}",
        report.notes
    );
    let repeat = &report.repeats[0];
    let verdict = |name: &str| repeat.verdicts.iter().find(|v| v.producer == name).expect("producer ran").clone();
    let (plain, idempotent) = (verdict("plain"), verdict("idempotent"));
    eprintln!("plain: {plain:?}\nidempotent: {idempotent:?}");
    assert!(plain.duplicates > 0, "the toxic went through the user's Toxiproxy: the plain producer duplicated");
    assert_eq!(idempotent.duplicates, 0);
    // Nothing is left on the user's proxy.
    assert!(Client::new(&url).toxics("kafka").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_advertising_itself_is_reported_as_bypassing_toxiproxy() {
    let around = AroundTheProxy::start().await;
    let (url, broker_port) = (around.url.clone(), around.broker_port);
    let config = BackendConfig { bootstrap: Some(around.listen.clone()), toxiproxy: Some(url), ..BackendConfig::default() };
    let env = faultlab::env::external::start(&config, ProxyMode::Bytes, 3).await.expect("the environment starts");
    let note = env.notes.iter().find(|n| n.contains("around the proxy")).expect("a note about the bypass");
    assert!(note.contains(&format!("advertises 127.0.0.1:{broker_port}")), "{note}");
}

/// A scenario with Kafka toxics in front of a real Toxiproxy, which has
/// none: refused when the environment starts, before any run, with a
/// message naming the Toxiproxy and what to do instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_toxics_in_front_of_a_real_toxiproxy_are_refused_at_start() {
    let Some(server) = faultlab::env::local::components::find_toxiproxy() else {
        if std::env::var_os("FAULTLAB_REQUIRE_LOCAL").is_some_and(|v| !v.is_empty()) {
            panic!("FAULTLAB_REQUIRE_LOCAL is set and there is no toxiproxy-server (scripts/provision installs it)");
        }
        eprintln!("SKIPPED kafka_toxics_in_front_of_a_real_toxiproxy_are_refused_at_start: no toxiproxy-server");
        return;
    };
    let port = faultlab::env::embedded::free_port().unwrap();
    let spec = Spec {
        name: "Toxiproxy".into(),
        program: server,
        args: ["-host", "127.0.0.1", "-port", &port.to_string()].map(String::from).to_vec(),
        env: Vec::new(),
        ready_line: None,
    };
    let _toxiproxy = Child::spawn(&spec).expect("toxiproxy-server starts");
    let url = format!("http://127.0.0.1:{port}");
    let version = Client::new(&url).wait_ready(std::time::Duration::from_secs(30)).await.expect("Toxiproxy's API answers");
    // No broker is needed: the refusal comes first.
    let config = BackendConfig { bootstrap: Some("127.0.0.1:9".into()), toxiproxy: Some(url.clone()), ..BackendConfig::default() };
    let error = match faultlab::env::external::start(&config, ProxyMode::KafkaFrames, 3).await {
        Ok(_) => panic!("a Kafka-toxic run was let through to Toxiproxy {version}"),
        Err(e) => format!("{e:#}"),
    };
    for words in [url.as_str(), &format!("Toxiproxy {version}"), "Kafka toxics", "faultlab proxy --kafka", "--backend embedded"] {
        assert!(error.contains(words), "`{words}` missing from: {error}");
    }
}

/// The ack-loss scenario through the external backend in front of a
/// faultlab proxy in Kafka mode (`faultlab proxy --kafka`: a Kafka front,
/// its broker listeners created from the metadata) before a tansu broker
/// that advertises ITSELF: the toxics reach the broker's listener, and the
/// plain producer has exactly 3 duplicates in each repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_loss_through_a_users_faultlab_kafka_proxy_gives_exact_counts() {
    let api = faultlab::proxy::api::bind("127.0.0.1:0".parse().unwrap(), 3).await.unwrap();
    let url = format!("http://{}", api.local_addr());
    let broker_port = faultlab::env::embedded::free_port().unwrap();
    let _broker = faultlab::env::embedded::start_broker(broker_port, &format!("127.0.0.1:{broker_port}")).await.unwrap();
    let front = faultlab::proxy::kafka::KafkaFront::start("127.0.0.1:0", &format!("127.0.0.1:{broker_port}"), 3, Some(api.registry()))
        .await
        .expect("the Kafka front starts");
    let _serving = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(api.serve(std::future::pending())));
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig {
            bootstrap: Some(front.bootstrap().listen()),
            toxiproxy: Some(url.clone()),
            ..BackendConfig::default()
        },
        repeat: Some(3),
        only: vec!["plain".into()],
        ..Options::default()
    };
    let scenario = scenario::load(Path::new("scenarios/kafka-ack-loss.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &options).await.result().expect("the scenario runs on the external backend");
    assert!(!report.notes.iter().any(|n| n.contains("around the proxy")), "the front's listeners carry every broker: {:?}", report.notes);
    assert!(report.backend.proxy.contains("kafka-broker-0"), "the broker's listener is among the proxies used: {:?}", report.backend);
    let counts: Vec<(u64, u64, u64)> =
        report.repeats.iter().map(|r| (r.verdicts[0].sent, r.verdicts[0].duplicates, r.verdicts[0].lost)).collect();
    eprintln!("plain through the user's faultlab Kafka proxy, (sent, duplicates, lost) per repeat: {counts:?}");
    assert_eq!(counts, vec![(40, 3, 0); 3]);
    assert!(report.passed(), "{:#?}", report.expectations);
    assert!(Client::new(&url).toxics("kafka-broker-0").await.unwrap().is_empty(), "nothing left on the user's proxy");
}

/// The same scenario in front of a faultlab proxy that forwards bytes
/// (`faultlab proxy` without --kafka): the proxy refuses the Kafka toxic,
/// and the report's error names the toxic, the proxy and what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_toxic_refused_by_a_users_plain_proxy_says_what_to_do() {
    let (bootstrap, url, _running) = users_cluster().await;
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig { bootstrap: Some(bootstrap), toxiproxy: Some(url.clone()), ..BackendConfig::default() },
        ..Options::default()
    };
    let scenario = scenario::load(Path::new("scenarios/kafka-ack-loss.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &options).await;
    let window = report.repeats.first().and_then(|r| r.faults.first());
    let said = format!("{:?} {:?}", report.error, window.map(|w| &w.notes));
    for words in ["plain-5th", "kafka_ack_loss", "proxy kafka", "faultlab proxy --kafka", "--backend embedded"] {
        assert!(said.contains(words), "`{words}` missing from: {said}");
    }
    assert!(!report.passed(), "a run whose faults were refused does not pass");
    assert!(Client::new(&url).toxics("kafka").await.unwrap().is_empty(), "nothing left on the user's proxy");
}

/// `--bootstrap` alone, in front of a tansu broker that advertises ITSELF
/// (a cluster nobody reconfigured for a proxy): faultlab fronts it with
/// its own proxy in Kafka mode, and the ack-loss scenario gives its exact
/// counts in each repeat, every duplicate attributed to its lost
/// acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_bootstrap_fronts_the_cluster_as_it_is_with_exact_ack_loss_counts() {
    let broker_port = faultlab::env::embedded::free_port().unwrap();
    let bootstrap = format!("127.0.0.1:{broker_port}");
    let _broker = faultlab::env::embedded::start_broker(broker_port, &bootstrap).await.unwrap();
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig { bootstrap: Some(bootstrap.clone()), ..BackendConfig::default() },
        ..Options::default()
    };
    let report = super::ack_loss::exact_counts_with(options, 3).await;
    let proxy = &report.backend.proxy;
    assert!(proxy.contains(&format!("faultlab proxy in Kafka mode (in process, in front of {bootstrap})")), "{proxy}");
    assert!(proxy.contains("kafka-bootstrap") && proxy.contains("kafka-broker-"), "the front's listeners are the proxies: {proxy}");
    assert!(!report.notes.iter().any(|n| n.contains("around the proxy")), "the front rewrites every broker: {:?}", report.notes);
}

/// The front's environment without Kafka toxics: its listeners behind a
/// Toxiproxy API that lists them, no ledger, every broker reached through
/// it; and once dropped, nothing listens on its ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_lists_its_listeners_and_closes_them_when_dropped() {
    let broker_port = faultlab::env::embedded::free_port().unwrap();
    let address = format!("127.0.0.1:{broker_port}");
    let _broker = faultlab::env::embedded::start_broker(broker_port, &address).await.unwrap();
    // A first address where nothing listens: the next one is fronted.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = BackendConfig { bootstrap: Some(format!("{dead},{address}")), ..BackendConfig::default() };
    let env = faultlab::env::external::start(&config, ProxyMode::Bytes, 3).await.expect("the front starts");
    assert!(env.ledger.is_none(), "no Kafka toxic, no ledger");
    assert!(env.notes.is_empty(), "{:?}", env.notes);
    let api = env.toxiproxy_api.clone().expect("the front's Toxiproxy API");
    let proxies = Client::new(&api).proxies().await.expect("the API lists the proxies");
    let broker = proxies.keys().find(|name| name.starts_with("kafka-broker-")).expect("a listener per broker");
    assert_eq!(proxies[broker].upstream, address, "the broker's listener forwards to the address it advertises");
    assert_eq!(proxies["kafka-bootstrap"].listen, env.bootstrap);
    let listening: Vec<String> = proxies.values().map(|p| p.listen.clone()).collect();
    for listen in &listening {
        tokio::net::TcpStream::connect(listen).await.unwrap_or_else(|e| panic!("{listen} listens while the environment runs: {e}"));
    }
    drop(env);
    // Listeners and the API stop on their tasks: soon, not this instant.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    for listen in &listening {
        while tokio::net::TcpStream::connect(listen).await.is_ok() {
            assert!(tokio::time::Instant::now() < deadline, "{listen} still listens 5 s after the environment was dropped");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    while Client::new(&api).version().await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "the API still answers 5 s after the environment was dropped");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A front that cannot rewrite a response naming brokers fails the
/// scenario with an error that names the request and its version, never
/// a warning on a log while clients go around it. Between the front and
/// the broker, a relay appends one byte to every Metadata response: the
/// codec reads the message and finds a byte left over, so the front
/// refuses to pass it on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_that_cannot_rewrite_fails_the_scenario_naming_the_request() {
    let broker_port = faultlab::env::embedded::free_port().unwrap();
    let address = format!("127.0.0.1:{broker_port}");
    let _broker = faultlab::env::embedded::start_broker(broker_port, &address).await.unwrap();
    let relay = spoiling_metadata(&address).await;
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig { bootstrap: Some(relay.address.clone()), ..BackendConfig::default() },
        repeat: Some(1),
        ..Options::default()
    };
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &options).await;
    let error = report.error.clone().expect("the scenario fails");
    assert!(error.contains("failed client connections rather than pass on responses it could not rewrite"), "{error}");
    assert!(error.contains("a metadata v") && error.contains(" response could not be rewritten"), "names the request and version: {error}");
    assert!(error.contains("1 bytes left over"), "says what failed: {error}");
    assert!(report.repeats.is_empty() && !report.passed(), "nothing is counted as a pass");
    assert!(relay.spoiled.load(std::sync::atomic::Ordering::Relaxed) > 0, "the relay spoiled a Metadata response");
}

/// A TCP relay to `upstream` that appends one byte to the body of every
/// Metadata response (API key 3), and passes everything else as it came.
struct Relay {
    address: String,
    spoiled: std::sync::Arc<std::sync::atomic::AtomicU64>,
    _task: tokio_util::task::AbortOnDropHandle<()>,
}

async fn spoiling_metadata(upstream: &str) -> Relay {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn frame(from: &mut (impl AsyncReadExt + Unpin)) -> Option<Vec<u8>> {
        let size = from.read_i32().await.ok()?;
        let mut body = vec![0; usize::try_from(size).ok()?];
        from.read_exact(&mut body).await.ok()?;
        Some(body)
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let spoiled = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (upstream, counter) = (upstream.to_string(), spoiled.clone());
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(broker) = tokio::net::TcpStream::connect(&upstream).await else { continue };
            let ((mut client_in, mut client_out), (mut broker_in, mut broker_out)) = (client.into_split(), broker.into_split());
            // Correlation id -> API key of each request.
            let keys: Arc<Mutex<HashMap<i32, i16>>> = Arc::default();
            let (requests, counter) = (keys.clone(), counter.clone());
            tokio::spawn(async move {
                while let Some(body) = frame(&mut client_in).await {
                    let (key, correlation) = (i16::from_be_bytes([body[0], body[1]]), i32::from_be_bytes(body[4..8].try_into().unwrap()));
                    requests.lock().unwrap().insert(correlation, key);
                    let size = (body.len() as i32).to_be_bytes();
                    if broker_out.write_all(&size).await.is_err() || broker_out.write_all(&body).await.is_err() {
                        return;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some(mut body) = frame(&mut broker_in).await {
                    let correlation = i32::from_be_bytes(body[0..4].try_into().unwrap());
                    if keys.lock().unwrap().remove(&correlation) == Some(3) {
                        body.push(0);
                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let size = (body.len() as i32).to_be_bytes();
                    if client_out.write_all(&size).await.is_err() || client_out.write_all(&body).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Relay { address, spoiled, _task: tokio_util::task::AbortOnDropHandle::new(task) }
}

/// The guard on the TCP path: a broker advertised at no listen port of the
/// user's proxies while faults are in force. The producers' traffic to it
/// never crossed the proxy, so the scenario fails saying so, naming the
/// broker, instead of reporting counts no fault shaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_over_traffic_around_the_proxy_fail_the_scenario() {
    let around = AroundTheProxy::start().await;
    let (url, broker_port) = (around.url.clone(), around.broker_port);
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig { bootstrap: Some(around.listen.clone()), toxiproxy: Some(url.clone()), ..BackendConfig::default() },
        repeat: Some(1),
        ..Options::default()
    };
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &options).await;
    let error = report.error.clone().expect("the scenario fails");
    assert!(error.contains(&format!("advertises 127.0.0.1:{broker_port}, the listen port of no proxy")), "{error}");
    assert!(error.contains("around the proxy, so the faults in force never touched that traffic"), "{error}");
    assert!(!report.passed());
    assert!(Client::new(&url).toxics("kafka").await.unwrap().is_empty(), "nothing is left on the user's proxy");
}

/// The mistake the README warns about: a user's Toxiproxy API (faultlab's)
/// with proxy `kafka` in front of a broker that advertises its own port,
/// not the proxy's. Everything stops when dropped.
struct AroundTheProxy {
    url: String,
    /// The proxy's listen address, the bootstrap a user would give.
    listen: String,
    broker_port: u16,
    _serving: tokio_util::task::AbortOnDropHandle<()>,
    _broker: tokio_util::task::AbortOnDropHandle<()>,
}

impl AroundTheProxy {
    async fn start() -> AroundTheProxy {
        let api = faultlab::proxy::api::bind("127.0.0.1:0".parse().unwrap(), 3).await.unwrap();
        let url = format!("http://{}", api.local_addr());
        let serving = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
            let _ = api.serve(std::future::pending()).await;
        }));
        let broker_port = faultlab::env::embedded::free_port().unwrap();
        let proxy = Client::new(&url).create_proxy("kafka", "127.0.0.1:0", &format!("127.0.0.1:{broker_port}")).await.unwrap();
        let broker = faultlab::env::embedded::start_broker(broker_port, &format!("127.0.0.1:{broker_port}")).await.unwrap();
        AroundTheProxy { url, listen: proxy.listen, broker_port, _serving: serving, _broker: broker }
    }
}
