//! The client matrix (issue 26): unmodified Kafka producers of five client
//! libraries, each through faultlab's Kafka front (`KafkaFront`, what
//! `faultlab proxy --kafka` runs) before an untouched Apache Kafka broker,
//! with `kafka_ack_loss` dropping the acknowledgement of the client's 5th,
//! 15th and 25th Produce request on every broker listener. A client that
//! really goes through the front writes exactly 3 duplicates as a plain
//! producer and none as an idempotent one; a client that slips past the
//! front (connects to the broker's own address) writes none either way,
//! and the matrix says so.
//!
//! The programs and their contract: tests/kafka_clients/README.md. They
//! need Java and Kafka's jars, and the clients `scripts/provision`
//! installs; a missing one is SKIPPED with the reason, unless
//! FAULTLAB_REQUIRE_LOCAL is set (CI): then it fails the test.
//! FAULTLAB_CLIENT_MATRIX=java,kafkajs runs only those rows.

mod kafka_broker;
mod kafka_clients;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use faultlab::env::ProxyMode;
use faultlab::env::local::components::{self, Components};
use faultlab::proxy::kafka::{self, KafkaFront};
use kafka_clients::{Client, Contract, Mode, Outcome};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{Value, json};
use tokio_util::task::AbortOnDropHandle;
use tracing_subscriber::EnvFilter;

/// One test at a time: each row starts Kafka. (tokio's: it is held across awaits.)
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MESSAGES: usize = 40;
/// The client's Produce requests (retries included) whose acknowledgement is lost.
const LOST_ACKS: [usize; 3] = [5, 15, 25];

fn required() -> bool {
    std::env::var_os("FAULTLAB_REQUIRE_LOCAL").is_some_and(|v| !v.is_empty())
}

/// Java and Kafka's jars, or None once the test has said why it skips
/// (as tests/backend_local.rs's `components_here_for`).
fn kafka_here(test: &str) -> Option<Components> {
    match components::find_for(ProxyMode::KafkaFrames) {
        Ok(found) => Some(found),
        Err(reason) if required() => panic!("FAULTLAB_REQUIRE_LOCAL is set and Apache Kafka cannot start: {reason}"),
        Err(reason) => {
            eprintln!("SKIPPED {test}: {reason}");
            None
        }
    }
}

/// The rows FAULTLAB_CLIENT_MATRIX names, or every row.
fn selected() -> Vec<Client> {
    match std::env::var("FAULTLAB_CLIENT_MATRIX") {
        Ok(names) if !names.trim().is_empty() => {
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            let known: Vec<&str> = Client::ALL.iter().map(|c| c.name()).collect();
            let unknown: Vec<&&str> = names.iter().filter(|n| !known.contains(n)).collect();
            assert!(unknown.is_empty(), "FAULTLAB_CLIENT_MATRIX names {unknown:?}; the clients are {known:?}");
            Client::ALL.into_iter().filter(|c| names.contains(&c.name())).collect()
        }
        _ => Client::ALL.to_vec(),
    }
}

/// The front with faultlab's Toxiproxy API over its listeners, as
/// `faultlab proxy --kafka` serves them; all stop when dropped.
struct Fronted {
    front: KafkaFront,
    api: String,
    _serving: AbortOnDropHandle<()>,
}

async fn front(bootstrap: &str) -> Fronted {
    let server = faultlab::proxy::api::bind("127.0.0.1:0".parse().unwrap(), 26).await.unwrap();
    let api = format!("http://{}", server.local_addr());
    let front = KafkaFront::start("127.0.0.1:0", bootstrap, 26, Some(server.registry())).await.unwrap();
    let serving = tokio::spawn(async move {
        let _ = server.serve(std::future::pending()).await;
    });
    Fronted { front, api, _serving: AbortOnDropHandle::new(serving) }
}

impl Fronted {
    fn bootstrap(&self) -> String {
        self.front.bootstrap().listen().to_string()
    }

    /// Produce requests read so far by the broker listeners.
    async fn produce_requests(&self) -> u64 {
        self.front.brokers().await.values().map(|proxy| self.front.requests(proxy.name(), kafka::PRODUCE)).sum()
    }

    /// The broker listeners the Toxiproxy API lists.
    async fn broker_listeners(&self) -> Vec<String> {
        let proxies = http(reqwest::Method::GET, &format!("{}/proxies", self.api), None).await;
        let names = proxies.as_object().expect("GET /proxies answers an object").keys();
        names.filter(|name| name.starts_with("kafka-broker-")).cloned().collect()
    }

    /// The client's acknowledgements of `LOST_ACKS` lost, on every broker listener.
    async fn lose_acks(&self, listeners: &[String], client_id: &str) {
        for listener in listeners {
            for nth in LOST_ACKS {
                let toxic = json!({
                    "name": format!("{client_id}-ack-{nth}"),
                    "type": "kafka_ack_loss",
                    "stream": "downstream",
                    "attributes": {"client_id": client_id, "nth": nth},
                });
                http(reqwest::Method::POST, &format!("{}/proxies/{listener}/toxics", self.api), Some(&toxic)).await;
            }
        }
    }
}

async fn http(method: reqwest::Method, url: &str, body: Option<&Value>) -> Value {
    let mut request = faultlab::http_client().build().unwrap().request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{method} {url}: {status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn rdkafka_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap).set("socket.timeout.ms", "10000");
    config
}

/// Topics of one partition, created on the broker itself.
async fn create_topics(broker: &str, names: &[String]) {
    let admin: AdminClient<_> = rdkafka_config(broker).create().unwrap();
    let new: Vec<NewTopic> = names.iter().map(|name| NewTopic::new(name, 1, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new, &options).await.expect("CreateTopics on the broker") {
        result.expect("the topic is created");
    }
}

/// The node ids in the metadata read from `bootstrap` (which makes the
/// front, when it is the front, create their listeners).
async fn node_ids(bootstrap: &str) -> Vec<i32> {
    let consumer: BaseConsumer = rdkafka_config(bootstrap).create().unwrap();
    let metadata = tokio::task::spawn_blocking(move || consumer.fetch_metadata(None, Duration::from_secs(30)))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("metadata from {bootstrap}: {e}"));
    metadata.brokers().iter().map(|b| b.id()).collect()
}

/// Every value in `topic`, read from the broker itself up to its end.
async fn read_back(broker: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer =
        rdkafka_config(broker).set("group.id", format!("read-{topic}")).set("enable.partition.eof", "true").create().unwrap();
    let topic = topic.to_string();
    tokio::task::spawn_blocking(move || {
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(&topic, 0, Offset::Beginning).unwrap();
        consumer.assign(&assignment).unwrap();
        let mut values = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(500)) {
                Some(Ok(message)) => values.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()),
                Some(Err(KafkaError::PartitionEOF(_))) => return values,
                Some(Err(e)) => panic!("reading {topic} back: {e}"),
                None => {}
            }
        }
        panic!("{topic} not read to its end in 60 s ({} records so far)", values.len())
    })
    .await
    .unwrap()
}

/// What one run of a client left: what it was told and what the topic holds.
#[derive(Debug)]
struct Run {
    outcome: Outcome,
    records: usize,
    /// Copies beyond the first, per message.
    duplicates: usize,
    duplicated: Vec<String>,
    /// Messages the client sent that the topic does not hold.
    lost: usize,
    /// Records that are no message of the run.
    strangers: usize,
    /// Produce requests the broker listeners read during the run.
    produce_through_front: u64,
}

fn audit(contract: &Contract, outcome: Outcome, values: &[String], produce_through_front: u64) -> Run {
    let mut copies = BTreeMap::<&str, usize>::new();
    for value in values {
        *copies.entry(value).or_default() += 1;
    }
    let sent: Vec<String> = (1..=contract.messages).map(|i| contract.value(i)).collect();
    let lost = sent.iter().filter(|v| !copies.contains_key(v.as_str())).count();
    let strangers = copies.iter().filter(|(v, _)| !sent.iter().any(|s| s == *v)).map(|(_, n)| n).sum();
    let duplicated: Vec<String> = copies.iter().filter(|(_, n)| **n > 1).map(|(v, n)| format!("{v} x{n}")).collect();
    let duplicates = copies.values().map(|n| n - 1).sum();
    Run { outcome, records: values.len(), duplicates, duplicated, lost, strangers, produce_through_front }
}

/// The run's departures from what a client through the front must give.
fn departures(mode: Mode, run: &Run) -> Vec<String> {
    let (records, duplicates) = match mode {
        Mode::Plain => (MESSAGES + LOST_ACKS.len(), LOST_ACKS.len()),
        Mode::Idempotent => (MESSAGES, 0),
    };
    let checks = [
        ("acked", run.outcome.acked, MESSAGES),
        ("failed", run.outcome.failed, 0),
        ("records", run.records, records),
        ("duplicates", run.duplicates, duplicates),
        ("lost", run.lost, 0),
        ("records of no message", run.strangers, 0),
    ];
    let mut found: Vec<String> =
        checks.iter().filter(|(_, got, want)| got != want).map(|(what, got, want)| format!("{what} {got}, expected {want}")).collect();
    if run.produce_through_front < MESSAGES as u64 {
        found.push(format!(
            "only {} Produce requests went through the broker listeners, expected at least {MESSAGES} (the client bypassed the front)",
            run.produce_through_front
        ));
    }
    found
}

struct Row {
    client: Client,
    version: String,
    runs: Vec<(Mode, Result<Run, String>)>,
    /// Why the row is wrong, empty when it is right.
    failures: Vec<String>,
    skipped: Option<String>,
}

/// One client through a fresh broker and front, plain then idempotent.
async fn row(client: Client, components: &Components) -> Row {
    let mut row = Row { client, version: String::new(), runs: Vec::new(), failures: Vec::new(), skipped: None };
    let program = match client.program(components) {
        Ok(program) => program,
        Err(reason) if required() => {
            row.failures.push(format!("FAULTLAB_REQUIRE_LOCAL is set and {reason}"));
            return row;
        }
        Err(reason) => {
            eprintln!("SKIPPED every_client_through_the_front_duplicates_only_when_plain, row {}: {reason}", client.name());
            row.skipped = Some(reason);
            return row;
        }
    };
    let broker = kafka_broker::start(components).await;
    let topic = |mode: Mode| format!("matrix-{}-{}", client.name(), mode.name());
    create_topics(&broker.bootstrap, &[topic(Mode::Plain), topic(Mode::Idempotent)]).await;
    let fronted = front(&broker.bootstrap).await;
    // Metadata through the front makes a listener for every broker it names.
    node_ids(&fronted.bootstrap()).await;
    let listeners = fronted.broker_listeners().await;
    for id in node_ids(&broker.bootstrap).await {
        if !listeners.contains(&kafka::broker_proxy_name(id)) {
            row.failures.push(format!("broker {id} has no listener {} (listed: {listeners:?})", kafka::broker_proxy_name(id)));
        }
    }

    for mode in [Mode::Plain, Mode::Idempotent] {
        let contract = Contract {
            bootstrap: fronted.bootstrap(),
            topic: topic(mode),
            messages: MESSAGES,
            mode,
            client_id: format!("{}-{}", client.name(), mode.name()),
        };
        fronted.lose_acks(&listeners, &contract.client_id).await;
        let before = fronted.produce_requests().await;
        let outcome = match &program {
            Some(program) => program.run(&contract).await,
            None => kafka_clients::rdkafka::run(&contract).await,
        };
        let run = match outcome {
            Ok(outcome) => {
                row.version = outcome.version.clone();
                let produced = fronted.produce_requests().await - before;
                Ok(audit(&contract, outcome, &read_back(&broker.bootstrap, &contract.topic).await, produced))
            }
            Err(e) => Err(e),
        };
        match &run {
            Ok(run) if run.outcome.client != client.name() => {
                row.failures.push(format!("{}: the result line names client {:?}", mode.name(), run.outcome.client))
            }
            Ok(run) => row.failures.extend(departures(mode, run).into_iter().map(|d| format!("{}: {d}", mode.name()))),
            Err(e) => row.failures.push(format!("{}: the client did not run: {e}", mode.name())),
        }
        row.runs.push((mode, run));
    }
    row
}

fn cell(row: &Row, mode: Mode, show: impl Fn(&Run) -> String) -> String {
    match row.runs.iter().find(|(m, _)| *m == mode) {
        Some((_, Ok(run))) => show(run),
        Some((_, Err(_))) => "did not run".into(),
        None => "-".into(),
    }
}

fn table(rows: &[Row], kafka_version: &str) -> String {
    let mut out = format!(
        "client matrix: Apache Kafka {kafka_version} behind faultlab's Kafka front, {MESSAGES} messages one at a time, \
         kafka_ack_loss on each client's Produce requests {LOST_ACKS:?}\n"
    );
    let header = ["client", "version", "plain dups", "idempotent dups", "acked/records/lost", "Produce via front", "result"];
    let mut lines = vec![header.map(String::from).to_vec()];
    for row in rows {
        let both = |show: fn(&Run) -> String| format!("{} | {}", cell(row, Mode::Plain, show), cell(row, Mode::Idempotent, show));
        let result = match (&row.skipped, row.failures.is_empty()) {
            (Some(_), _) => "SKIPPED".to_string(),
            (None, true) => "ok".to_string(),
            (None, false) => "FAILED".to_string(),
        };
        lines.push(vec![
            row.client.name().to_string(),
            row.version.clone(),
            cell(row, Mode::Plain, |r| r.duplicates.to_string()),
            cell(row, Mode::Idempotent, |r| r.duplicates.to_string()),
            both(|r| format!("{}/{}/{}", r.outcome.acked, r.records, r.lost)),
            both(|r| r.produce_through_front.to_string()),
            result,
        ]);
    }
    let widths: Vec<usize> = (0..header.len()).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    for line in lines {
        let cells: Vec<String> = line.iter().zip(&widths).map(|(text, width)| format!("{text:<width$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Every client through the front: 3 duplicates exactly when plain, none
/// when idempotent, nothing lost, its Produce requests read by the
/// broker listeners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_through_the_front_duplicates_only_when_plain() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(components) = kafka_here("every_client_through_the_front_duplicates_only_when_plain") else { return };
    // The proxy's warnings (a response not rewritten, a frame refused), shown when the test fails.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("faultlab_proxy=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    let mut rows = Vec::new();
    for client in selected() {
        let started = Instant::now();
        let row = row(client, &components).await;
        eprintln!("{} row: {:.0?}", client.name(), started.elapsed());
        rows.push(row);
    }
    let mut report = table(&rows, &components.kafka_version);
    for row in rows.iter().filter(|r| !r.failures.is_empty() || r.runs.iter().any(|(_, r)| r.is_ok())) {
        for (mode, run) in row.runs.iter().filter_map(|(m, r)| r.as_ref().ok().map(|r| (m, r))) {
            report.push_str(&format!(
                "  {} {}: sent {} acked {} failed {}, duplicated {:?}, Produce requests via the front {}{}\n",
                row.client.name(),
                mode.name(),
                run.outcome.sent,
                run.outcome.acked,
                run.outcome.failed,
                run.duplicated,
                run.produce_through_front,
                if run.outcome.errors.is_empty() { String::new() } else { format!(", errors {:?}", run.outcome.errors) },
            ));
        }
        for failure in &row.failures {
            report.push_str(&format!("  {} FAILED {failure}\n", row.client.name()));
        }
    }
    // Straight to stderr, not through the test harness's capture: the
    // matrix is shown whether the test passes or not.
    let _ = std::io::stderr().write_all(report.as_bytes());
    let failed: Vec<&str> = rows.iter().filter(|r| !r.failures.is_empty()).map(|r| r.client.name()).collect();
    assert!(failed.is_empty(), "clients that did not give the expected counts through the front: {failed:?} (the matrix and why: above)");
}

/// Every program refuses a command line outside the contract with exit
/// code 2 before it connects anywhere.
#[tokio::test]
async fn every_program_refuses_a_command_line_outside_the_contract() {
    let Some(components) = kafka_here("every_program_refuses_a_command_line_outside_the_contract") else { return };
    let contract =
        Contract { bootstrap: "127.0.0.1:9".into(), topic: "t".into(), messages: 1, mode: Mode::Plain, client_id: "usage".into() };
    let mut wrong_mode = contract.args();
    wrong_mode[7] = "exactly-once".into();
    let missing_topic: Vec<String> = contract.args().into_iter().filter(|a| a != "--topic" && a != "t").collect();
    for client in selected() {
        let program = match client.program(&components) {
            Ok(Some(program)) => program,
            Ok(None) => continue,
            Err(reason) if required() => panic!("FAULTLAB_REQUIRE_LOCAL is set and {reason}"),
            Err(reason) => {
                eprintln!("SKIPPED every_program_refuses_a_command_line_outside_the_contract, {}: {reason}", client.name());
                continue;
            }
        };
        for args in [&wrong_mode, &missing_topic] {
            let (code, stdout, stderr) = program.run_with(args).await.unwrap();
            assert_eq!(code, Some(2), "{} {args:?}: stdout {stdout:?} stderr {stderr}", client.name());
            assert!(stdout.trim().is_empty(), "{} prints no result line on a usage error: {stdout:?}", client.name());
        }
    }
}
