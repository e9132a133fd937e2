//! The client matrix's producers (tests/kafka_clients/README.md): each an
//! unmodified Kafka client under one command-line contract, run as a
//! child process, except librdkafka, faultlab's own client, which runs in
//! this process under the same contract (`rdkafka.rs`).

pub mod rdkafka;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use faultlab::env::local::components::Components;
use serde::Deserialize;

/// How long one run of a program may take: 40 messages one at a time,
/// three lost acknowledgements each retried at once (the connection
/// closes), and a JVM's start; far above what any run needs.
const PATIENCE: Duration = Duration::from_secs(240);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Idempotent,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Idempotent => "idempotent",
        }
    }
}

/// One run's command line: every program takes exactly these options.
#[derive(Debug, Clone)]
pub struct Contract {
    pub bootstrap: String,
    pub topic: String,
    pub messages: usize,
    pub mode: Mode,
    pub client_id: String,
}

impl Contract {
    pub fn args(&self) -> Vec<String> {
        [
            ("--bootstrap", self.bootstrap.clone()),
            ("--topic", self.topic.clone()),
            ("--messages", self.messages.to_string()),
            ("--mode", self.mode.name().to_string()),
            ("--client-id", self.client_id.clone()),
        ]
        .into_iter()
        .flat_map(|(option, value)| [option.to_string(), value])
        .collect()
    }

    /// The value of message `i` (1..=messages): unique, so duplicates are counted by value.
    pub fn value(&self, i: usize) -> String {
        format!("{}-{i}", self.client_id)
    }
}

/// The line a program prints at the end.
#[derive(Debug, Clone, Deserialize)]
pub struct Outcome {
    pub client: String,
    pub version: String,
    pub sent: usize,
    pub acked: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Librdkafka,
    Java,
    FranzGo,
    KafkaPython,
    KafkaJs,
}

impl Client {
    pub const ALL: [Client; 5] = [Client::Librdkafka, Client::Java, Client::FranzGo, Client::KafkaPython, Client::KafkaJs];

    /// As the program names itself in its result line.
    pub fn name(self) -> &'static str {
        match self {
            Client::Librdkafka => "librdkafka",
            Client::Java => "java",
            Client::FranzGo => "franz-go",
            Client::KafkaPython => "kafka-python",
            Client::KafkaJs => "kafkajs",
        }
    }

    /// The program that runs this client, or why it cannot run here.
    /// librdkafka has none: it runs in this process.
    pub fn program(self, components: &Components) -> Result<Option<Program>, String> {
        let source = |file: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kafka_clients").join(file).display().to_string();
        Ok(Some(match self {
            Client::Librdkafka => return Ok(None),
            Client::Java => Program {
                program: components.java.clone(),
                args: vec!["-cp".into(), format!("{}/*", components.kafka_libs.display()), source("java/Producer.java")],
                env: Vec::new(),
            },
            Client::FranzGo => {
                Program { program: provisioned("FAULTLAB_KAFKA_CLIENT_GO", "the franz-go producer")?, args: Vec::new(), env: Vec::new() }
            }
            Client::KafkaPython => Program {
                program: on_path("python3")?,
                args: vec![source("python/producer.py")],
                env: vec![("PYTHONPATH", provisioned("FAULTLAB_KAFKA_CLIENT_PYTHONPATH", "kafka-python")?)],
            },
            Client::KafkaJs => Program {
                program: on_path("node")?,
                args: vec![source("node/producer.js")],
                env: vec![("NODE_PATH", provisioned("FAULTLAB_KAFKA_CLIENT_NODE_PATH", "kafkajs")?)],
            },
        }))
    }
}

/// A client's program, the arguments before the contract's, and its environment.
#[derive(Debug, Clone)]
pub struct Program {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(&'static str, PathBuf)>,
}

impl Program {
    /// Run it with `args` to its end; its exit code, stdout and stderr.
    pub async fn run_with(&self, args: &[String]) -> Result<(Option<i32>, String, String), String> {
        let child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .args(args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.program.display()))?;
        // On a timeout the future, and with it the child, is dropped: killed.
        let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
            .await
            .map_err(|_| format!("{} still running after {PATIENCE:?}; killed", self.program.display()))?
            .map_err(|e| format!("waiting for {}: {e}", self.program.display()))?;
        let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
        Ok((output.status.code(), text(output.stdout), text(output.stderr)))
    }

    /// Run it under `contract`: its result line, or what went wrong with
    /// the end of its stderr.
    pub async fn run(&self, contract: &Contract) -> Result<Outcome, String> {
        let (code, stdout, stderr) = self.run_with(&contract.args()).await?;
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        match (code, serde_json::from_str::<Outcome>(last)) {
            (Some(0), Ok(outcome)) => Ok(outcome),
            (code, parsed) => Err(format!(
                "exit code {code:?}, result line {last:?} ({}); stderr ends:\n{}",
                parsed.err().map_or("parsed".into(), |e| e.to_string()),
                tail(&stderr, 15)
            )),
        }
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The existing path named by `var`, which `eval "$(scripts/provision)"` exports.
fn provisioned(var: &str, what: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| format!("{var} is not set ({what}; `eval \"$(scripts/provision)\"` exports it)"))?;
    if path.exists() { Ok(path) } else { Err(format!("{var}={} does not exist ({what}; run scripts/provision)", path.display())) }
}

fn on_path(program: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("`{program}` is not on PATH"))
}
