//! A `client = "java"` producer: Apache Kafka's Java producer
//! (kafka-clients) in a JVM of its own, driven over JSON lines, recording
//! into the same [`ProducerHistory`] a librdkafka producer fills.
//!
//! The JVM runs one Java file embedded here (`FaultlabProducer.java`, whose
//! head documents the protocol) in Java's source-file mode, with Kafka's
//! jars on the class path, found as the local backend finds them
//! (`env::local::components::find_java_client`). faultlab writes `send`
//! lines; the JVM answers one `acked` or `failed` line per record, from the
//! client's callback, with `possibly_persisted` where the Java client
//! cannot know whether the broker wrote it (the file says which errors).
//! The JVM is a child like the local backend's brokers
//! (`env::local::process`): in its own process group, killed with faultlab
//! however it dies, and killed and reaped when the producer is dropped.
//! Its stderr (the client's log) goes to faultlab's log, target
//! `faultlab::run::java`, and is counted into [`ClientEvents`].

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStderr, ChildStdin, ChildStdout};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::producer::{ClientEvents, Counts};
use crate::audit::history::{Outcome, ProducerHistory, SendRecord};
use crate::env::local::components;
use crate::env::local::process::{Child, Pipes, Spec};

/// The helper, written out under the cache directory to be run.
const SOURCE: &str = include_str!("FaultlabProducer.java");

/// The JVM's logging: the client's warnings, and the network client's
/// info lines (its disconnects and request timeouts, counted), to stderr.
const LOG4J2: &str = "\
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %p %c{1}: %m%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
logger.network.name = org.apache.kafka.clients.NetworkClient
logger.network.level = INFO
";

/// A short-lived client JVM starts faster with C1 only and a small serial heap.
const JVM_FLAGS: &[&str] = &["-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];

/// How long the JVM may take to compile the helper and create its producer.
const START_PATIENCE: Duration = Duration::from_secs(120);

/// Lines of the JVM's stderr kept for error messages.
const TAIL_LINES: usize = 20;

/// The client's log lines counted as [`ClientEvents`] (NetworkClient's).
const REQUEST_TIMEOUT_LINE: &str = "due to request timeout";
const DISCONNECT_LINE: &str = "disconnected.";
const SAMPLE_LINES: usize = 8;

/// A line from the JVM.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Reply {
    Hello { version: String },
    Acked { index: usize, partition: i32, offset: i64 },
    Failed { index: usize, error: String, possibly_persisted: bool },
    Error { message: String },
}

/// What the JVM's stderr said: its last lines and the counted events.
#[derive(Default)]
struct Log {
    tail: VecDeque<String>,
    events: ClientEvents,
}

/// A JVM that has created its producer and said hello: started before a
/// run's clock, since it takes seconds.
pub struct Launched {
    name: String,
    version: String,
    jvm: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    log: Arc<Mutex<Log>>,
    logging: JoinHandle<()>,
}

impl Launched {
    /// Start a JVM with the helper and a producer with `properties` (the
    /// Java client's names) plus bootstrap.servers and client.id (its
    /// name, unless the properties give one: what a Kafka toxic's
    /// `client_id` aims at), and wait for its hello, which comes once the
    /// producer has read `topic`'s metadata.
    pub async fn launch(name: &str, bootstrap: &str, topic: &str, properties: &BTreeMap<String, String>) -> anyhow::Result<Launched> {
        let client = components::find_java_client().map_err(|reason| anyhow::anyhow!("producer {name}: {reason}"))?;
        let dir = helper_dir().context("writing the Java producer's source file")?;
        let spec = Spec {
            name: format!("Java producer {name}"),
            program: client.java,
            args: JVM_FLAGS
                .iter()
                .map(|f| f.to_string())
                .chain([
                    format!("-Dlog4j2.configurationFile={}", dir.join("log4j2.properties").display()),
                    "-cp".into(),
                    format!("{}/*", client.kafka_libs.display()),
                    dir.join("FaultlabProducer.java").to_string_lossy().into_owned(),
                ])
                .collect(),
            env: Vec::new(),
            ready_line: None,
        };
        let (jvm, Pipes { mut stdin, stdout, stderr }) = Child::spawn_talking(&spec)?;
        let log = Arc::new(Mutex::new(Log::default()));
        let logging = tokio::spawn(read_log(stderr, name.to_string(), log.clone()));
        let mut properties = properties.clone();
        properties.insert("bootstrap.servers".into(), bootstrap.into());
        properties.entry("client.id".into()).or_insert_with(|| name.into());
        let config = serde_json::json!({ "type": "config", "properties": properties, "topic": topic });
        stdin_line(&mut stdin, &config).await.with_context(|| format!("starting the Java producer {name}"))?;
        let stdout = BufReader::new(stdout).lines();
        let mut launched = Launched { name: name.into(), version: String::new(), jvm, stdin, stdout, log, logging };
        let hello = tokio::time::timeout(START_PATIENCE, launched.next_reply()).await;
        match hello {
            Ok(Some(Reply::Hello { version })) => launched.version = version,
            Ok(Some(Reply::Error { message })) => bail!("the Java client refuses producer {name}'s properties: {message}"),
            Ok(_) => bail!("the Java producer {name} exited before it started:\n{}", launched.tail()),
            Err(_) => bail!("the Java producer {name} did not start within {START_PATIENCE:?}:\n{}", launched.tail()),
        }
        Ok(launched)
    }

    /// kafka-clients' version, as the JVM reported it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The next protocol line; other lines on stdout are logged. `None` at
    /// the end of its output.
    async fn next_reply(&mut self) -> Option<Reply> {
        next_reply(&mut self.stdout, &self.name).await
    }

    fn tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Start recording, with the run's clock.
    pub fn into_producer(self, started: Instant) -> JavaProducer {
        let Launched { name, version, jvm, stdin, stdout, log, logging } = self;
        let shared = Arc::new(Shared {
            started,
            sends: Mutex::default(),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            gone: AtomicBool::new(false),
            log,
        });
        let reading = tokio::spawn(read_replies(stdout, name.clone(), shared.clone()));
        JavaProducer { name, version, stdin: tokio::sync::Mutex::new(stdin), shared, reading: Task(reading), logging: Task(logging), jvm }
    }
}

struct Shared {
    started: Instant,
    sends: Mutex<Vec<SendRecord>>,
    acked: AtomicU64,
    failed: AtomicU64,
    /// The JVM's output ended: no more delivery reports will come.
    gone: AtomicBool,
    log: Arc<Mutex<Log>>,
}

impl Shared {
    fn finish(&self, index: usize, outcome: Outcome) {
        let mut sends = self.sends.lock().unwrap_or_else(|e| e.into_inner());
        let Some(record) = sends.get_mut(index).filter(|r| r.outcome == Outcome::Unknown) else { return };
        match outcome {
            Outcome::Acked { .. } => self.acked.fetch_add(1, Ordering::Relaxed),
            Outcome::Failed { .. } => self.failed.fetch_add(1, Ordering::Relaxed),
            Outcome::Unknown => 0,
        };
        record.done_at = self.started.elapsed();
        record.outcome = outcome;
    }
}

/// One Java producer of a run.
pub struct JavaProducer {
    name: String,
    version: String,
    stdin: tokio::sync::Mutex<ChildStdin>,
    shared: Arc<Shared>,
    reading: Task,
    logging: Task,
    /// Killed and reaped when the producer is dropped.
    jvm: Child,
}

impl JavaProducer {
    /// Hand one message to the Java client; waits while the JVM does not
    /// read (its send blocks while the client's buffer is full).
    pub async fn send(&self, topic: &str, seq: u64, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let value = std::str::from_utf8(value).context("a message value that is not UTF-8")?;
        let index = {
            let mut sends = self.shared.sends.lock().unwrap_or_else(|e| e.into_inner());
            let sent_at = self.shared.started.elapsed();
            sends.push(SendRecord { seq, sent_at, done_at: sent_at, outcome: Outcome::Unknown });
            sends.len() - 1
        };
        let line = serde_json::json!({ "type": "send", "index": index, "topic": topic, "key": key, "value": value });
        if let Err(error) = stdin_line(&mut *self.stdin.lock().await, &line).await {
            let tail = self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).tail.iter().cloned().collect::<Vec<_>>().join("\n");
            return Err(error).with_context(|| format!("the Java producer {} is gone:\n{tail}", self.name));
        }
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// kafka-clients' version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Messages handed over with no delivery report yet.
    pub fn in_flight(&self) -> i32 {
        let Counts { sent, acked, failed } = self.counts();
        i32::try_from(sent.saturating_sub(acked + failed)).unwrap_or(i32::MAX)
    }

    /// Ask the client to send what lingers, then wait until every message
    /// has its delivery report, or `patience` runs out, or the JVM is gone.
    pub async fn flush(&self, patience: Duration) {
        let _ = stdin_line(&mut *self.stdin.lock().await, &serde_json::json!({ "type": "flush" })).await;
        let deadline = Instant::now() + patience;
        while self.in_flight() > 0 && Instant::now() < deadline && !self.shared.gone.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn counts(&self) -> Counts {
        Counts {
            sent: self.shared.sends.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            acked: self.shared.acked.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
        }
    }

    /// Stop (the JVM is killed and reaped here) and hand over what was
    /// recorded; messages with no delivery report are left [`Outcome::Unknown`].
    pub fn finish(self) -> (ProducerHistory, ClientEvents) {
        let JavaProducer { name, shared, reading, logging, jvm, .. } = self;
        drop(reading);
        drop(jvm);
        drop(logging);
        let sends = std::mem::take(&mut *shared.sends.lock().unwrap_or_else(|e| e.into_inner()));
        let events = std::mem::take(&mut shared.log.lock().unwrap_or_else(|e| e.into_inner()).events);
        (ProducerHistory { name, topic: String::new(), sends }, events)
    }
}

/// A task stopped when its owner is dropped.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Write one JSON line to the JVM.
async fn stdin_line(stdin: &mut ChildStdin, line: &serde_json::Value) -> std::io::Result<()> {
    let mut text = line.to_string();
    text.push('\n');
    stdin.write_all(text.as_bytes()).await?;
    stdin.flush().await
}

async fn next_reply(stdout: &mut Lines<BufReader<ChildStdout>>, name: &str) -> Option<Reply> {
    while let Ok(Some(line)) = stdout.next_line().await {
        match serde_json::from_str::<Reply>(&line) {
            Ok(reply) => return Some(reply),
            Err(_) => tracing::debug!(target: "faultlab::run::java", "{name} (stdout): {line}"),
        }
    }
    None
}

/// Record every delivery report until the JVM's output ends.
async fn read_replies(mut stdout: Lines<BufReader<ChildStdout>>, name: String, shared: Arc<Shared>) {
    while let Some(reply) = next_reply(&mut stdout, &name).await {
        match reply {
            Reply::Acked { index, partition, offset } => {
                shared.finish(index, Outcome::Acked { partition, offset: (offset >= 0).then_some(offset) })
            }
            Reply::Failed { index, error, possibly_persisted } => {
                if error.starts_with("TimeoutException") {
                    shared.log.lock().unwrap_or_else(|e| e.into_inner()).events.message_timeouts += 1;
                }
                shared.finish(index, Outcome::Failed { error, possibly_persisted })
            }
            Reply::Hello { .. } | Reply::Error { .. } => {
                tracing::warn!(target: "faultlab::run::java", "{name}: unexpected {reply:?}")
            }
        }
    }
    shared.gone.store(true, Ordering::Relaxed);
}

/// The JVM's stderr into faultlab's log, counted and its tail kept.
async fn read_log(stderr: ChildStderr, name: String, log: Arc<Mutex<Log>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "faultlab::run::java", "{name}: {line}");
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        if line.contains(REQUEST_TIMEOUT_LINE) {
            log.events.request_timeouts += 1;
        } else if line.contains(DISCONNECT_LINE) {
            log.events.disconnects += 1;
        }
        if line.starts_with("WARN") && log.events.samples.len() < SAMPLE_LINES {
            log.events.samples.push(line.clone());
        }
        if log.tail.len() == TAIL_LINES {
            log.tail.pop_front();
        }
        log.tail.push_back(line);
    }
}

/// The directory holding the helper and its logging configuration:
/// `<cache>/java-producer/<hash of both>/`, written once (atomically, so
/// concurrent runs agree); under the temporary directory without a cache.
fn helper_dir() -> std::io::Result<PathBuf> {
    let base = components::cache_dir().unwrap_or_else(std::env::temp_dir);
    let dir = base.join("java-producer").join(format!("{:016x}", fnv1a(&[SOURCE, LOG4J2])));
    for (file, text) in [("FaultlabProducer.java", SOURCE), ("log4j2.properties", LOG4J2)] {
        let path = dir.join(file);
        if std::fs::read_to_string(&path).is_ok_and(|written| written == text) {
            continue;
        }
        std::fs::create_dir_all(&dir)?;
        let partial = dir.join(format!("{file}.{}.partial", std::process::id()));
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)?;
    }
    Ok(dir)
}

/// FNV-1a, 64 bits: a stable name for a version of the helper's files.
fn fnv1a(texts: &[&str]) -> u64 {
    texts.iter().flat_map(|t| t.bytes()).fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}
