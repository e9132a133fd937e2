//! The local backend for real: Apache Kafka brokers (KRaft) and a real
//! Toxiproxy as child processes, real librdkafka producers through
//! Toxiproxy, and the external backend in front of that same real
//! Toxiproxy.
//!
//! They need Java, Kafka's jars and toxiproxy-server (`scripts/provision`).
//! Where those are missing the tests say SKIPPED and why, unless
//! FAULTLAB_REQUIRE_LOCAL is set (`.ci/run` sets it): then a missing
//! component fails them, so CI proves them. They run one at a time (each
//! starts JVMs on a 2-core machine).

// Not every helper of it is used here (`plain_counts` is the mock's).
#[allow(dead_code)]
#[path = "backend/ack_loss.rs"]
mod ack_loss;
#[allow(dead_code)]
mod cli_support;
mod kafka_broker;
#[path = "backend/through.rs"]
mod through;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use faultlab::audit::Verdict;
use faultlab::env::Backend;
use faultlab::env::BackendConfig;
use faultlab::env::ProxyMode;
use faultlab::env::local;
use faultlab::harness::{self, Options};
use faultlab::report::ScenarioReport;
use faultlab::scenario;
use faultlab::toxiproxy::Client;

/// One test at a time: each starts Kafka.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether the components are here; panics when they must be.
fn components_here(test: &str) -> bool {
    components_here_for(test, ProxyMode::Bytes)
}

/// Whether the components a run with its proxy in `mode` needs are here.
fn components_here_for(test: &str, mode: ProxyMode) -> bool {
    match local::components::find_for(mode) {
        Ok(_) => true,
        Err(reason) if std::env::var_os("FAULTLAB_REQUIRE_LOCAL").is_some_and(|v| !v.is_empty()) => {
            panic!("FAULTLAB_REQUIRE_LOCAL is set and the local backend cannot start: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED {test}: {reason}");
            false
        }
    }
}

fn verdict<'a>(report: &'a ScenarioReport, producer: &str) -> &'a Verdict {
    report.repeats[0].verdicts.iter().find(|v| v.producer == producer).expect("the producer ran")
}

fn local() -> Options {
    Options { backend: Backend::Local, ..Options::default() }
}

/// The headline on Apache Kafka: plain duplicates, idempotent none, and
/// the report names Kafka's and Toxiproxy's versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_delay_on_apache_kafka_duplicates_plain_only() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("response_delay_on_apache_kafka_duplicates_plain_only") {
        return;
    }
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &local()).await.result().expect("the scenario runs on Apache Kafka");
    assert_eq!(report.backend.backend, "local");
    assert!(report.backend.broker.starts_with("Apache Kafka"), "{:?}", report.backend);
    assert!(report.backend.broker_version.starts_with("4."), "Kafka's version: {:?}", report.backend);
    assert!(report.backend.proxy.starts_with("Toxiproxy") && report.backend.proxy_version.starts_with("2."), "{:?}", report.backend);
    let (plain, idempotent) = (verdict(&report, "plain"), verdict(&report, "idempotent"));
    eprintln!("plain: {plain:?}\nidempotent: {idempotent:?}\nnotes: {:?}", report.notes);
    assert!(plain.duplicates >= 1, "the plain producer duplicates on Apache Kafka: {plain:?}");
    assert_eq!((idempotent.duplicates, idempotent.lost), (0, 0), "{idempotent:?}");
    // Apache Kafka answers a deduplicated retry with the original offset.
    assert_eq!((idempotent.acked_without_offset, idempotent.offset_mismatch), (0, 0), "{idempotent:?}");
    assert!(report.passed(), "{:#?}", report.expectations);
}

/// Broker faults on three real brokers: one stopped with SIGTERM and
/// started again, one frozen with SIGSTOP, leadership moved with Kafka's
/// tools and back, one broker's responses delayed; each played without a
/// problem, the idempotent producer losing nothing, every required
/// expectation holding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_brokers_survive_every_broker_fault() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("three_brokers_survive_every_broker_fault") {
        return;
    }
    for file in ["scenarios/broker-down.toml", "scenarios/broker-pause.toml", "scenarios/leader-change.toml", "scenarios/slow-broker.toml"]
    {
        let scenario = scenario::load(Path::new(file)).expect("the scenario file is valid");
        assert_eq!(scenario.brokers, 3);
        let report = harness::run_scenario(&scenario, &local()).await.result().unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(report.backend.broker.contains("3 brokers"), "{:?}", report.backend);
        let window = &report.repeats[0].faults[0];
        let (added, removed) = (window.added_at.expect("played"), window.removed_at.expect("undone"));
        assert!(removed > added && window.notes.is_empty(), "{window:?}");
        for producer in ["plain", "idempotent"] {
            let v = verdict(&report, producer);
            eprintln!("{file} {producer}: {v:?}");
            assert_eq!(v.sent, scenario.workload.messages, "{file}: {v:?}");
        }
        // acks=all: an acknowledgement means the in-sync replicas have it.
        // (acks=1 can lose a few when a leader goes: broker-down shows it.)
        assert_eq!(verdict(&report, "idempotent").lost, 0, "{file}");
        assert!(report.passed(), "{file}: {:#?}", report.expectations);
    }
}

/// The external backend in front of a real Toxiproxy (the local backend's,
/// used as a user's): the headline holds, and no toxic is left behind even
/// though real Toxiproxy can be slow to remove one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_backend_in_front_of_real_toxiproxy_passes_the_headline() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("external_backend_in_front_of_real_toxiproxy_passes_the_headline") {
        return;
    }
    let users = local::start(1, 7, ProxyMode::Bytes).await.expect("Kafka and Toxiproxy start");
    let api = users.toxiproxy_api.clone().expect("the local backend has a Toxiproxy API");
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig {
            bootstrap: Some(users.bootstrap.clone()),
            toxiproxy: Some(api.clone()),
            ..BackendConfig::default()
        },
        ..Options::default()
    };
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &options).await.result().expect("the scenario runs on the external backend");
    let (plain, idempotent) = (verdict(&report, "plain"), verdict(&report, "idempotent"));
    eprintln!("plain: {plain:?}\nidempotent: {idempotent:?}\nnotes: {:?}", report.notes);
    assert!(report.notes.iter().all(|n| !n.contains("around the proxy")), "every broker advertises its proxy: {:?}", report.notes);
    assert!(plain.duplicates >= 1 && idempotent.duplicates == 0, "{plain:?} {idempotent:?}");
    assert!(report.passed(), "{:#?}", report.expectations);
    let client = Client::new(&api);
    for (name, proxy) in client.proxies().await.expect("the API answers") {
        assert!(proxy.toxics.is_empty(), "proxy {name} still has toxics: {:?}", proxy.toxics);
        assert!(proxy.enabled, "proxy {name} left disabled");
    }
}

/// Dropping the environment stops every child and frees every port; a
/// seed of any size starts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outlives_the_environment() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("nothing_outlives_the_environment") {
        return;
    }
    // A seed above i64::MAX (half of all random seeds): Toxiproxy's -seed
    // is an int64 and once refused it.
    let env = local::start(1, u64::MAX - 6, ProxyMode::Bytes).await.expect("Kafka and Toxiproxy start");
    let api = env.toxiproxy_api.clone().expect("an API");
    let ports: Vec<u16> = std::iter::once(api.rsplit(':').next().unwrap().to_string())
        .chain(env.bootstrap.split(',').map(|b| b.rsplit(':').next().unwrap().to_string()))
        .map(|p| p.parse().unwrap())
        .collect();
    let children = children_of(std::process::id());
    assert!(children.len() >= 2, "a broker and Toxiproxy run as children: {children:?}");
    drop(env);
    for pid in &children {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "child {pid} still exists after the environment was dropped");
    }
    for port in ports {
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(), "port {port} still taken");
    }
}

/// A run with Kafka toxics: the local backend serves faultlab's proxy in
/// Kafka mode in place of Toxiproxy, behind the same Toxiproxy API (its
/// client lists the proxies), no toxiproxy-server runs, every message
/// produced through it arrives, a toxic of bytes added through the API
/// still acts, and once the environment is dropped the API port and the
/// listeners are closed and the broker is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_toxic_runs_get_faultlab_proxies_behind_the_api_and_leave_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here_for("kafka_toxic_runs_get_faultlab_proxies_behind_the_api_and_leave_nothing", ProxyMode::KafkaFrames) {
        return;
    }
    let env = local::start(1, 11, ProxyMode::KafkaFrames).await.expect("Kafka and faultlab's proxy start");
    assert!(env.info.proxy.starts_with("faultlab proxy in Kafka mode"), "{:?}", env.info);
    assert_eq!(env.info.proxy_version, concat!("faultlab-", env!("CARGO_PKG_VERSION")), "{:?}", env.info);
    assert!(env.notes.iter().any(|n| n.contains("Toxiproxy has no Kafka toxics")), "{:?}", env.notes);
    let api = env.toxiproxy_api.clone().expect("an API");
    let client = Client::new(&api);
    assert_eq!(client.version().await.expect("the API answers"), env.info.proxy_version);
    let proxies = client.proxies().await.expect("GET /proxies answers");
    assert_eq!(proxies.keys().collect::<Vec<_>>(), ["kafka-1"], "{proxies:?}");
    assert_eq!(proxies["kafka-1"].listen, env.bootstrap, "the broker is reached through proxy kafka-1");
    assert!(proxies["kafka-1"].enabled);
    let children = children_of(std::process::id());
    let names: Vec<String> = children.iter().map(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default()).collect();
    assert!(!names.iter().any(|n| n.contains("toxiproxy")), "no toxiproxy-server runs: {names:?}");
    assert!(!children.is_empty(), "the broker runs as a child: {children:?}");

    through::produce_and_consume(&env, "framed", 50).await;
    let producer = through::producer(&env);
    let before = through::send(&producer, "framed", "before").await;
    client.add_toxic("kafka-1", &through::latency("slow", 1000)).await.expect("a latency toxic is added through the API");
    let slowed = through::send(&producer, "framed", "slowed").await;
    client.remove_toxic("kafka-1", "slow").await.expect("the toxic is removed through the API");
    let after = through::send(&producer, "framed", "after").await;
    eprintln!("acknowledged in {before:?}, then {slowed:?} with 1000 ms of latency on responses, then {after:?}");
    assert!(slowed >= Duration::from_millis(1000), "the latency toxic held the response: {slowed:?}");
    assert!(after < Duration::from_millis(1000), "the toxic is gone: {after:?}");
    drop(producer);

    let ports: Vec<u16> = std::iter::once(api.rsplit(':').next().unwrap().to_string())
        .chain(env.bootstrap.split(',').map(|b| b.rsplit(':').next().unwrap().to_string()))
        .map(|p| p.parse().unwrap())
        .collect();
    drop(env);
    for pid in &children {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "child {pid} still exists after the environment was dropped");
    }
    // The listeners close at once; the API's on its serving task, promptly.
    let deadline = Instant::now() + Duration::from_secs(5);
    for port in ports {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(Instant::now() < deadline, "port {port} still accepts connections 5 s after the environment was dropped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(), "port {port} still taken");
    }
}

/// Lost acknowledgements on Apache Kafka, through faultlab's proxy in
/// Kafka mode: exactly 3 duplicates for the plain producer and none for
/// the idempotent one, in 10 repeats of 10.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_loss_on_apache_kafka_gives_exact_counts_ten_times_in_ten() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here_for("ack_loss_on_apache_kafka_gives_exact_counts_ten_times_in_ten", ProxyMode::KafkaFrames) {
        return;
    }
    ack_loss::exact_counts(Backend::Local, 10).await;
}

/// The external backend given only `--bootstrap`, in front of an Apache
/// Kafka broker that advertises ITSELF (started as a user would, no proxy
/// in mind): faultlab fronts it in process, and the ack-loss scenario
/// gives its exact counts in each of 3 repeats, every duplicate attributed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_backend_fronts_apache_kafka_as_it_is() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here_for("external_backend_fronts_apache_kafka_as_it_is", ProxyMode::KafkaFrames) {
        return;
    }
    let components = local::components::find().expect("the local backend's components");
    let kafka = kafka_broker::start(&components).await;
    let options = Options {
        backend: Backend::External,
        backend_config: BackendConfig { bootstrap: Some(kafka.bootstrap.clone()), ..BackendConfig::default() },
        ..Options::default()
    };
    let report = ack_loss::exact_counts_with(options, 3).await;
    let proxy = &report.backend.proxy;
    assert!(proxy.contains(&format!("in front of {}", kafka.bootstrap)) && proxy.contains("kafka-broker-1"), "{proxy}");
    assert!(report.notes.iter().all(|n| !n.contains("around the proxy")), "the front rewrites every broker: {:?}", report.notes);
}

/// Ctrl-C in the middle of a run: exit 130, a report saying interrupted,
/// no child process and no data directory left.
#[test]
fn ctrl_c_mid_run_leaves_a_partial_report_and_nothing_running() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("ctrl_c_mid_run_leaves_a_partial_report_and_nothing_running") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command =
        cli_support::command(&["run", "--backend", "local", "scenarios/response-delay.toml", "--json", json.to_str().unwrap()], root);
    // Says when producing starts.
    command.env("RUST_LOG", "warn,faultlab::harness=info").env("TMPDIR", dir.path());
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let (started_tx, started) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("run 1/1") {
                let _ = started_tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let producing = started.recv_timeout(Duration::from_secs(180));
    let children = children_of(pid);
    if producing.is_err() {
        let _ = child.kill();
        panic!("the run never started producing:\n{}", reader.join().unwrap());
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(children.len() >= 2, "Kafka and Toxiproxy run as children of faultlab: {children:?}");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "faultlab still running 120 s after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report is written")).unwrap();
    assert_eq!(saved["interrupted"], true);
    assert_eq!(saved["scenarios"][0]["backend"]["backend"], "local");
    for pid in &children {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "child {pid} still exists after faultlab exited:\n{stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).filter(|n| n != "run.json").collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

/// The headline on both clients side by side, on Apache Kafka: each plain
/// producer duplicates, each idempotent one does not, whichever client
/// sent; nothing is lost; the report names the Java client and its
/// version, and shows its properties in the Java client's names; no JVM of
/// a producer outlives the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_delay_java_duplicates_plain_producers_on_both_clients() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("response_delay_java_duplicates_plain_producers_on_both_clients") {
        return;
    }
    let scenario = scenario::load(Path::new("scenarios/response-delay-java.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &local()).await.result().expect("the scenario runs on Apache Kafka");
    for producer in ["plain", "idempotent", "plain-java", "idempotent-java"] {
        let v = verdict(&report, producer);
        eprintln!("{producer}: {v:?}");
        assert_eq!((v.sent, v.lost), (scenario.workload.messages, 0), "{producer}: {v:?}");
    }
    let (plain, idempotent) = (verdict(&report, "plain-java"), verdict(&report, "idempotent-java"));
    assert!(plain.duplicates >= 1, "the plain Java producer duplicates on Apache Kafka: {plain:?}");
    assert_eq!(idempotent.duplicates, 0, "{idempotent:?}");
    let runs = &report.repeats[0].producers;
    let java = runs.iter().find(|p| p.name == "plain-java").expect("the producer ran");
    assert_eq!(java.client, Some(scenario::Client::Java), "{java:?}");
    assert!(java.client_version.starts_with("4.1."), "kafka-clients' version: {java:?}");
    assert_eq!(java.settings.get("delivery.timeout.ms").map(String::as_str), Some("60000"), "{java:?}");
    assert_eq!(java.settings.get("request.timeout.ms").map(String::as_str), Some("2000"), "{java:?}");
    assert!(!java.settings.contains_key("socket.timeout.ms"), "{java:?}");
    eprintln!("plain-java events: {:?}", java.events);
    let librdkafka = runs.iter().find(|p| p.name == "plain").expect("the producer ran");
    assert_eq!(librdkafka.client, Some(scenario::Client::Librdkafka), "{librdkafka:?}");
    let terminal = faultlab::report::terminal::render(&faultlab::report::RunReport::new(vec![report.clone()], String::new()));
    assert!(terminal.contains(&format!("java {}", java.client_version)), "{terminal}");
    assert!(report.passed(), "{:#?}", report.expectations);
    let left = producer_jvms(std::process::id());
    assert!(left.is_empty(), "Java producers outlived the run: {left:?}");
}

/// Lost acknowledgements on Apache Kafka, on both clients: exactly 3
/// duplicates for each plain producer and none for each idempotent one,
/// in each repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_ack_loss_java_gives_exact_counts_on_both_clients() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here_for("kafka_ack_loss_java_gives_exact_counts_on_both_clients", ProxyMode::KafkaFrames) {
        return;
    }
    let scenario = scenario::load(Path::new("scenarios/kafka-ack-loss-java.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &local()).await.result().expect("the scenario runs on Apache Kafka");
    for repeat in &report.repeats {
        for v in &repeat.verdicts {
            eprintln!("run {}: {}: {v:?}", repeat.run_id, v.producer);
        }
        for (producer, duplicates) in [("plain", 3), ("idempotent", 0), ("plain-java", 3), ("idempotent-java", 0)] {
            let v = repeat.verdicts.iter().find(|v| v.producer == producer).expect("the producer ran");
            assert_eq!((v.duplicates, v.lost), (duplicates, 0), "run {}: {producer}: {v:?}", repeat.run_id);
        }
    }
    assert!(report.passed(), "{:#?}", report.expectations);
}

/// A Java producer's JVM is a child of faultlab while the producer lives,
/// delivers through the proxy, and is gone (killed and reaped) once the
/// producer is dropped, with the environment still up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_java_producers_jvm_is_gone_once_the_producer_is() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !components_here("a_java_producers_jvm_is_gone_once_the_producer_is") {
        return;
    }
    let env = local::start(1, 5, ProxyMode::Bytes).await.expect("Kafka and Toxiproxy start");
    env.create_topic("jvm-check", 1).await.expect("the topic is created");
    let properties = [("acks", "all"), ("enable.idempotence", "true")].map(|(k, v)| (k.to_string(), v.to_string())).into();
    let launched =
        faultlab::run::java::Launched::launch("jvm-check", &env.bootstrap, "jvm-check", &properties).await.expect("the JVM starts");
    assert!(launched.version().starts_with("4."), "{}", launched.version());
    let producer = launched.into_producer(tokio::time::Instant::now());
    let jvms = producer_jvms(std::process::id());
    assert_eq!(jvms.len(), 1, "one JVM for the producer: {jvms:?}");
    producer.send("jvm-check", 0, "k", b"{\"eventId\":\"x\"}").await.expect("the JVM takes the message");
    producer.flush(Duration::from_secs(60)).await;
    assert_eq!((producer.counts().acked, producer.in_flight()), (1, 0), "{:?}", producer.counts());
    drop(producer);
    assert!(!Path::new(&format!("/proc/{}", jvms[0])).exists(), "the JVM {} outlived its producer", jvms[0]);
    assert!(producer_jvms(std::process::id()).is_empty());
}

/// The children of `parent` that run faultlab's Java producer.
fn producer_jvms(parent: u32) -> Vec<u32> {
    children_of(parent)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("FaultlabProducer.java"))
        })
        .collect()
}

/// The pids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Field 4, after the parenthesised command name.
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok()) == Some(parent)
        })
        .collect()
}
