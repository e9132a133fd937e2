//! `faultlab bench`: what faultlab costs, each figure measured against the
//! direct path in the same run (issue 8; results in BENCHMARKS.md).
//!
//! One module per benchmark, each giving [`Row`]s of a figure, its
//! baseline, their ratio and the target, and for the proxy and producing
//! the same figure through a real Toxiproxy in the same run ([`peer`]):
//! - [`proxy`]: bulk throughput and 100-byte round trips through the proxy
//!   against direct loopback and against a splice(2) forwarder (the
//!   limit, [`splice`]), the error of a 10 ms latency toxic ([`latency`]),
//!   the memory an idle proxied connection holds ([`idle`]), and Kafka
//!   mode's cost on a link against the plain proxy ([`kafka_link`]);
//! - [`produce`]: an rdkafka producer through the proxy against direct to
//!   an identical embedded broker;
//! - [`audit`]: histories of 1 and 10 million messages audited, against a
//!   plain pass over the same data;
//! - [`service`]: `faultlab serve` sends per second against rdkafka
//!   producing directly with the same settings.
//!
//! Everything is bounded in count and time: the whole run takes a few
//! minutes at most, `--quick` well under one.

pub mod audit;
mod broker;
mod idle;
mod kafka_link;
mod latency;
mod measure;
mod peer;
pub mod produce;
pub mod proxy;
pub mod service;
mod splice;

use std::fmt;
use std::time::Instant;

use anyhow::Context;
use tabled::settings::Style;
use tabled::{Table, Tabled};

/// What `faultlab bench` runs (cli.rs builds it from the flags).
#[derive(Debug, Clone, Default)]
pub struct BenchConfig {
    /// These benchmarks only; all when empty.
    pub only: Vec<Part>,
    /// Fewer and shorter measurements: a smoke run.
    pub quick: bool,
}

/// The benchmarks ([`Part::ALL`] gives the order they run in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Proxy,
    Produce,
    Audit,
    Service,
}

impl Part {
    /// The proxy first: its idle-connection memory is read from the
    /// resident set, which is only clean before a large heap (the audit's
    /// 10 million messages) has been grown and freed. The audit's input
    /// is counted by size, so its place does not matter.
    pub const ALL: [Part; 4] = [Part::Proxy, Part::Produce, Part::Audit, Part::Service];

    pub fn name(self) -> &'static str {
        match self {
            Part::Proxy => "proxy",
            Part::Produce => "produce",
            Part::Audit => "audit",
            Part::Service => "service",
        }
    }

    pub fn from_name(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Whether a figure meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// No target: the figure is for information.
    Info,
}

impl Verdict {
    pub fn of(met: bool) -> Verdict {
        if met { Verdict::Met } else { Verdict::Missed }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Met => "met",
            Verdict::Missed => "MISSED",
            Verdict::Info => "-",
        })
    }
}

/// One measured figure.
#[derive(Debug, Clone, Tabled)]
pub struct Row {
    #[tabled(rename = "benchmark")]
    pub bench: String,
    #[tabled(rename = "measure")]
    pub measure: String,
    #[tabled(rename = "figure")]
    pub figure: String,
    #[tabled(rename = "baseline (direct)")]
    pub baseline: String,
    #[tabled(rename = "ratio", display = "show_ratio")]
    pub ratio: Option<f64>,
    /// The same figure through Toxiproxy in the same run, with its ratio
    /// to direct; "-" where there is no peer (see `peer_note`).
    #[tabled(rename = "Toxiproxy")]
    pub peer: String,
    /// How far faultlab is ahead of Toxiproxy (>1: ahead; for times and
    /// bytes, Toxiproxy's over faultlab's).
    #[tabled(rename = "vs Toxiproxy")]
    pub versus: String,
    /// Why the peer column is empty, printed once under the table.
    #[tabled(skip)]
    pub peer_note: Option<String>,
    #[tabled(rename = "target")]
    pub target: String,
    #[tabled(rename = "verdict")]
    pub verdict: Verdict,
}

fn show_ratio(ratio: &Option<f64>) -> String {
    match ratio {
        Some(r) if *r >= 100.0 => format!("{r:.0}x"),
        Some(r) if *r >= 10.0 => format!("{r:.1}x"),
        Some(r) => format!("{r:.3}x"),
        None => "-".into(),
    }
}

impl Row {
    pub fn new(bench: &str, measure: &str) -> Row {
        Row {
            bench: bench.into(),
            measure: measure.into(),
            figure: String::new(),
            baseline: String::new(),
            ratio: None,
            peer: "-".into(),
            versus: "-".into(),
            peer_note: None,
            target: "-".into(),
            verdict: Verdict::Info,
        }
    }

    pub fn figure(mut self, figure: impl Into<String>, baseline: impl Into<String>, ratio: f64) -> Row {
        self.figure = figure.into();
        self.baseline = baseline.into();
        self.ratio = ratio.is_finite().then_some(ratio);
        self
    }

    /// Toxiproxy's figure, its ratio to direct, and faultlab's lead over
    /// it (`ahead_by` > 1 when faultlab does better).
    pub fn peer(mut self, figure: impl Into<String>, ratio: f64, ahead_by: f64) -> Row {
        self.peer = format!("{} ({})", figure.into(), show_ratio(&ratio.is_finite().then_some(ratio)));
        let lead = show_ratio(&ahead_by.is_finite().then_some(ahead_by));
        self.versus = if ahead_by > 1.0 { format!("ahead {lead}") } else { format!("BEHIND {lead}") };
        self
    }

    /// No peer figure for this row, and why.
    pub fn no_peer(mut self, why: &str) -> Row {
        self.peer_note = Some(why.to_string());
        self
    }

    pub fn target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = target.into();
        self.verdict = Verdict::of(met);
        self
    }
}

/// Run the chosen benchmarks; `progress` sees each row as it is measured.
pub fn run(args: &BenchConfig, mut progress: impl FnMut(&Row)) -> anyhow::Result<Vec<Row>> {
    let parts: Vec<Part> = Part::ALL.into_iter().filter(|p| args.only.is_empty() || args.only.contains(p)).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let mut rows = Vec::new();
    for part in parts {
        let started = Instant::now();
        eprintln!("bench {}: measuring{}", part.name(), if args.quick { " (quick)" } else { "" });
        let mut report = |row: Row| {
            progress(&row);
            rows.push(row);
        };
        let outcome = match part {
            Part::Proxy => runtime.block_on(proxy::run(args.quick, &mut report)),
            Part::Produce => runtime.block_on(produce::run(args.quick, &mut report)),
            // Pure CPU work: no runtime threads competing with it.
            Part::Audit => audit::run(args.quick, &mut report),
            Part::Service => runtime.block_on(service::run(args.quick, &mut report)),
        };
        outcome.with_context(|| format!("benchmark {}", part.name()))?;
        eprintln!("bench {}: done in {:.1} s", part.name(), started.elapsed().as_secs_f64());
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(rows)
}

/// The table of results, as text or GitHub Markdown.
pub fn render(rows: &[Row], markdown: bool) -> String {
    let mut table = Table::new(rows);
    if markdown {
        table.with(Style::markdown());
    } else {
        table.with(Style::sharp());
    }
    let mut text = format!("{table}\n");
    let mut notes: Vec<&str> = rows.iter().filter_map(|r| r.peer_note.as_deref()).collect();
    notes.dedup();
    for note in notes {
        text.push_str(&format!("Toxiproxy: {note}\n"));
    }
    text
}

/// A line for the machine the figures were taken on: cores, CPU model and
/// load average (the figures are only comparable between quiet runs).
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into());
    format!("{cores} cores, {model}, load average {load}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_shown_with_sensible_precision() {
        assert_eq!(show_ratio(&Some(0.93456)), "0.935x");
        assert_eq!(show_ratio(&Some(12.34)), "12.3x");
        assert_eq!(show_ratio(&Some(1234.0)), "1234x");
        assert_eq!(show_ratio(&None), "-");
        assert_eq!(Row::new("a", "b").figure("1", "2", f64::NAN).ratio, None);
    }

    #[test]
    fn table_has_every_column_and_the_verdict() {
        let rows = vec![
            Row::new("proxy", "throughput").figure("1 GB/s", "2 GB/s", 0.5).target(">= 0.9x", false),
            Row::new("audit", "rate").figure("1", "1", 1.0),
        ];
        let text = render(&rows, false);
        for word in ["benchmark", "baseline (direct)", "ratio", "0.500x", "MISSED", "1.000x"] {
            assert!(text.contains(word), "{word} in\n{text}");
        }
        assert!(render(&rows, true).starts_with("| benchmark"));
        assert!(!text.contains("Toxiproxy: "), "no note without a reason:\n{text}");
    }

    #[test]
    fn peer_column_says_ahead_or_behind_and_why_it_is_empty() {
        let rows = vec![
            Row::new("proxy", "throughput").figure("1 GB/s", "2 GB/s", 0.5).peer("400 MB/s", 0.2, 2.5),
            Row::new("proxy", "memory").figure("15 kB", "1 kB", 15.0).peer("30 kB", 30.0, 0.5),
            Row::new("proxy", "rtt").figure("1", "1", 1.0).no_peer("no toxiproxy-server"),
            Row::new("produce", "rate").figure("1", "1", 1.0).no_peer("no toxiproxy-server"),
        ];
        let text = render(&rows, false);
        for word in ["Toxiproxy", "vs Toxiproxy", "400 MB/s (0.200x)", "ahead 2.500x", "BEHIND 0.500x"] {
            assert!(text.contains(word), "{word} in\n{text}");
        }
        assert_eq!(text.matches("Toxiproxy: no toxiproxy-server").count(), 1, "{text}");
    }

    #[test]
    fn machine_line_names_cores_and_load() {
        let line = machine();
        assert!(line.contains("cores") && line.contains("load average"), "{line}");
    }
}
