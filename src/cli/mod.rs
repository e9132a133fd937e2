//! The command line: clap's flags, each command's turned into the plain
//! config struct of the layer that runs it (`env::BackendConfig`,
//! `report::outputs::Outputs`, `up::UpConfig`, `serve::ServeConfig`,
//! `bench::BenchConfig`), so nothing below this module knows of clap.

mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::bench::{BenchConfig, Part};
use crate::env::Backend;
pub use serve::ServeArgs;

#[derive(Debug, Parser)]
#[command(name = "faultlab", version, about = "Fault-injection test harness for Kafka producers")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenario files (or every *.toml in a directory) and report.
    Run(RunArgs),
    /// Check scenario files without running them.
    Validate {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Serve Toxiproxy's HTTP API over faultlab's proxy, so Toxiproxy
    /// clients in any language can drive it.
    Proxy {
        /// Address of the HTTP API (Toxiproxy's default is 127.0.0.1:8474).
        #[arg(long, default_value = "127.0.0.1:8474")]
        listen: std::net::SocketAddr,
        /// Seed for toxicity rolls and other random choices.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Front a Kafka cluster as it is: one broker's address, HOST:PORT.
        /// Clients bootstrap to `--kafka-listen`; every broker they learn of
        /// gets a listener `kafka-broker-<node id>` in the API's proxies.
        #[arg(long, value_name = "BOOTSTRAP")]
        kafka: Option<String>,
        /// Where Kafka clients connect with `--kafka` (port 0 picks one; the
        /// address is printed). Broker listeners bind the same host.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0", requires = "kafka")]
        kafka_listen: String,
    },
    /// The course's HTTP producer service (POST /api/v1/send, /api/v1/status,
    /// /health, /metrics, /openapi.json). Settings come from the course's
    /// KAFKA_* environment variables; flags override them.
    Serve(ServeArgs),
    /// Start the embedded broker behind faultlab's proxy, with the Toxiproxy
    /// API over that proxy ("kafka"), and print their addresses, for trying
    /// `faultlab serve` and the course's requests by hand with no Docker.
    Up(UpArgs),
    /// Re-render saved JSON runs, or compare two of them.
    Report {
        /// Saved runs (written by `faultlab run --json`).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Show what changed from the first run to the second.
        #[arg(long)]
        compare: bool,
        #[command(flatten)]
        outputs: OutputFlags,
    },
    /// List the scenarios in files or directories: name and description.
    List {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Measure what faultlab costs against the direct path (proxy, producing,
    /// audit, service) and print figures, baselines, ratios and targets.
    Bench(BenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Where the broker and the proxy come from.
    #[arg(long, value_parser = backends(), default_value = "embedded")]
    pub backend: Backend,
    #[command(flatten)]
    pub backend_flags: BackendFlags,
    /// Seed for every random choice (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// How many times to run each scenario, 1 to 100 (overrides the scenario's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=crate::scenario::limits::MAX_REPEAT))]
    pub repeat: Option<u32>,
    /// Run only these producers (repeat the flag or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    #[command(flatten)]
    pub outputs: OutputFlags,
}

/// `faultlab bench`'s flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BenchArgs {
    /// Run only these benchmarks (repeat the flag or separate with commas).
    #[arg(long, value_delimiter = ',', value_parser = parts())]
    pub only: Vec<Part>,
    /// Fewer and shorter measurements: a smoke run (figures are rougher).
    #[arg(long)]
    pub quick: bool,
    /// Print the table as Markdown (as pasted into BENCHMARKS.md).
    #[arg(long)]
    pub markdown: bool,
}

impl BenchArgs {
    pub fn config(&self) -> BenchConfig {
        BenchConfig { only: self.only.clone(), quick: self.quick }
    }
}

/// `faultlab up`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// Address of the Toxiproxy HTTP API.
    #[arg(long, default_value = "127.0.0.1:8474", value_name = "ADDR")]
    pub api_listen: std::net::SocketAddr,
    /// Port on 127.0.0.1 where Kafka clients connect (the proxy "kafka"; the
    /// broker advertises it). 0 picks a free port.
    #[arg(long, default_value_t = 9092, value_name = "PORT")]
    pub kafka_port: u16,
    /// Topic to create at start (the course's), with --partitions partitions.
    #[arg(long, default_value = crate::serve::DEFAULT_TOPIC, value_name = "NAME")]
    pub topic: String,
    /// Partitions of --topic.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=10_000), value_name = "N")]
    pub partitions: i32,
    /// Seed for the proxy's random choices (toxicity rolls, jitter).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Flags of the docker and external backends.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackendFlags {
    /// external: your cluster's bootstrap servers, HOST:PORT[,HOST:PORT...],
    /// which faultlab fronts with its own proxy; with --toxiproxy, the
    /// Toxiproxy listener(s) in front of your brokers.
    #[arg(long, env = "FAULTLAB_BOOTSTRAP", value_name = "HOST:PORT")]
    pub bootstrap: Option<String>,
    /// external: your Toxiproxy's HTTP API, e.g. http://127.0.0.1:8474
    /// (default: none; faultlab fronts the cluster itself).
    #[arg(long, env = "FAULTLAB_TOXIPROXY", value_name = "URL")]
    pub toxiproxy: Option<String>,
    /// external: the proxies to play toxics on, one per broker (repeat or
    /// separate with commas; default: every proxy; faultlab's front names
    /// them kafka-bootstrap and kafka-broker-<node id>).
    #[arg(long = "toxiproxy-proxy", value_name = "NAME", value_delimiter = ',')]
    pub toxiproxy_proxies: Vec<String>,
    /// docker: the Kafka image, NAME:TAG (default: the pinned apache/kafka).
    #[arg(long, env = "FAULTLAB_KAFKA_IMAGE", value_name = "IMAGE")]
    pub kafka_image: Option<String>,
    /// docker: the Toxiproxy image, NAME:TAG (default: the pinned ghcr.io/shopify/toxiproxy).
    #[arg(long, env = "FAULTLAB_TOXIPROXY_IMAGE", value_name = "IMAGE")]
    pub toxiproxy_image: Option<String>,
}

impl OutputFlags {
    pub fn outputs(&self) -> crate::report::outputs::Outputs {
        crate::report::outputs::Outputs {
            json: self.json.clone(),
            markdown: self.markdown.clone(),
            junit: self.junit.clone(),
            html: self.html.clone(),
        }
    }
}

impl UpArgs {
    pub fn config(&self) -> crate::up::UpConfig {
        crate::up::UpConfig {
            api_listen: self.api_listen,
            kafka_port: self.kafka_port,
            topic: self.topic.clone(),
            partitions: self.partitions,
            seed: self.seed,
        }
    }
}

impl BackendFlags {
    pub fn config(&self) -> crate::env::BackendConfig {
        crate::env::BackendConfig {
            bootstrap: self.bootstrap.clone(),
            toxiproxy: self.toxiproxy.clone(),
            toxiproxy_proxies: self.toxiproxy_proxies.clone(),
            kafka_image: self.kafka_image.clone(),
            toxiproxy_image: self.toxiproxy_image.clone(),
        }
    }
}

/// Report files to write, in addition to the terminal table.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputFlags {
    /// Write the full report as JSON (the saved run; see `faultlab report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Append the report as GitHub-flavoured Markdown (works with $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write JUnit XML: one test case per scenario, producer and expectation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write one self-contained HTML file with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `--only` of bench: the benchmarks' names, in the order they run.
fn parts() -> impl clap::builder::TypedValueParser<Value = Part> {
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(Part::ALL.map(Part::name)).try_map(|name| Part::from_name(&name).ok_or(format!("unknown benchmark {name}")))
}

/// `--backend`: the names and one-line descriptions of `env::Backend`, so
/// `--help` lists them and a wrong name is refused with the list.
fn backends() -> impl clap::builder::TypedValueParser<Value = Backend> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let names = Backend::ALL.map(|b| PossibleValue::new(b.name()).help(b.about()));
    PossibleValuesParser::new(names).try_map(|name| Backend::from_name(&name).ok_or(format!("unknown backend {name}")))
}
