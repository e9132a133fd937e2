//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::harness::Backend;

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
    /// List the scenarios in files or directories: name and description.
    List {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Where the broker and the proxy come from.
    #[arg(long, value_enum, default_value_t = Backend::Embedded)]
    pub backend: Backend,
    /// Seed for every random choice (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// How many times to run each scenario (overrides the scenario's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: Option<u32>,
    /// Run only these producers (repeat the flag or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Write the full report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}
