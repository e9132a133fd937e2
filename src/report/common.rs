//! What several renderings share: a scenario's result, the fault timeline's
//! words, the per-repeat numbers and the effective settings.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::ScenarioReport;
use crate::audit::{Metric, Verdict};
use crate::check::ExpectationResult;
use crate::run::timeline::FaultWindow;
use crate::scenario::{Fault, FaultKind, Level, format_duration};

/// A scenario's result, as the summaries show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// Every required expectation held; a demonstration did not show.
    Warning,
    /// A required expectation failed, or the scenario never ran.
    Failed,
    /// Not meant for this run's backend (its `backends` leaves it out).
    Skipped,
}

impl Status {
    pub fn of(report: &ScenarioReport) -> Status {
        if report.skipped() {
            Status::Skipped
        } else if !report.passed() {
            Status::Failed
        } else if report.expectations.iter().any(|e| !e.held) {
            Status::Warning
        } else {
            Status::Passed
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Status::Passed => "✅",
            Status::Warning => "⚠️",
            Status::Failed => "❌",
            Status::Skipped => "⏭️",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Warning => "passed with warnings",
            Status::Failed => "failed",
            Status::Skipped => "skipped (not for this backend)",
        }
    }
}

/// The mark of one expectation: held, failed (required) or not shown
/// (demonstration).
pub fn expectation_mark(result: &ExpectationResult) -> &'static str {
    match (result.held, result.level) {
        (true, _) => "✅",
        (false, Level::Required) => "❌",
        (false, Level::Demonstration) => "⚠️",
    }
}

/// `plain: duplicates >= 1`
pub fn expectation_label(result: &ExpectationResult) -> String {
    format!("{}: {} {}", result.producer, result.metric, result.expected)
}

/// The measured values of every repeat, `500` or `500, 0, 3`.
pub fn measured(result: &ExpectationResult) -> String {
    if result.measured.is_empty() {
        return "nothing (no run)".to_string();
    }
    result.measured.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// The fault's attributes as JSON, `{"jitter":0,"latency":3000}` (empty
/// when it has none).
pub fn fault_attributes(fault: &Fault) -> String {
    serde_json::to_value(&fault.kind).ok().and_then(|v| v.get("attributes").cloned()).map(|a| a.to_string()).unwrap_or_default()
}

/// `1.501s → 4.5s`, or why the fault never played; a Kafka toxic's count
/// of requests follows.
pub fn fault_when(window: &FaultWindow) -> String {
    let ms = |d: Duration| format_duration(Duration::from_millis(d.as_millis() as u64));
    let when = match (window.added_at, window.removed_at) {
        (Some(added), Some(removed)) => format!("{} → {}", ms(added), ms(removed)),
        (Some(added), None) => format!("{} → end", ms(added)),
        _ => "not played (producing ended first)".to_string(),
    };
    match fault_requests(window) {
        Some(requests) => format!("{when}; {requests}"),
        None => when,
    }
}

/// A Kafka toxic's count, `frames seen 120, matched 40, acted on 3`.
pub fn fault_requests(window: &FaultWindow) -> Option<String> {
    let r = window.requests?;
    Some(format!("frames seen {}, matched {}, acted on {}", r.seen, r.matched, r.acted))
}

/// The producers' names: the first repeat's verdicts, or the scenario's
/// producers when nothing ran.
pub fn producers(report: &ScenarioReport) -> Vec<String> {
    match report.repeats.first() {
        Some(repeat) => repeat.verdicts.iter().map(|v| v.producer.clone()).collect(),
        None => report.scenario.producers.iter().map(|p| p.name.clone()).collect(),
    }
}

/// One producer's verdict in each repeat it ran in.
pub fn verdicts<'a>(report: &'a ScenarioReport, producer: &str) -> Vec<&'a Verdict> {
    report.repeats.iter().filter_map(|r| r.verdicts.iter().find(|v| v.producer == producer)).collect()
}

pub fn per_repeat(report: &ScenarioReport, producer: &str, metric: Metric) -> Vec<u64> {
    verdicts(report, producer).into_iter().map(|v| v.get(metric)).collect()
}

/// The median of the values (the mean of the middle two of an even count).
pub fn median(values: &[u64]) -> Option<f64> {
    median_f64(values.iter().map(|&v| v as f64).collect())
}

pub fn median_f64(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// A count or a median of counts: `3`, `1.5`.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// One value per repeat: `500` for one repeat, `min / median / max` for more.
pub fn spread(values: &[u64]) -> String {
    match (values.iter().min(), median(values), values.iter().max()) {
        (Some(min), Some(median), Some(max)) if values.len() > 1 => format!("{min} / {} / {max}", number(median)),
        (Some(one), _, _) => one.to_string(),
        _ => "–".to_string(),
    }
}

/// Ack latency `p50 / p99 / max` in ms; with repeats, the median of each.
pub fn latency(report: &ScenarioReport, producer: &str) -> String {
    let verdicts = verdicts(report, producer);
    if verdicts.is_empty() {
        return "–".to_string();
    }
    let med = |read: fn(&Verdict) -> f64| median_f64(verdicts.iter().map(|v| read(v)).collect()).unwrap_or_default();
    format!("{:.0} / {:.0} / {:.0}", med(|v| v.latency.p50_ms), med(|v| v.latency.p99_ms), med(|v| v.latency.max_ms))
}

/// librdkafka's `request / message` timeouts, per repeat.
pub fn timeouts(report: &ScenarioReport, producer: &str) -> String {
    let events: Vec<_> = report.repeats.iter().filter_map(|r| r.producers.iter().find(|p| p.name == producer)).collect();
    let request: Vec<u64> = events.iter().map(|p| p.events.request_timeouts).collect();
    let message: Vec<u64> = events.iter().map(|p| p.events.message_timeouts).collect();
    if events.is_empty() {
        return "–".to_string();
    }
    if events.len() == 1 {
        format!("{} / {}", request[0], message[0])
    } else {
        format!("request {}; message {}", spread(&request), spread(&message))
    }
}

/// The client library and version a producer ran with (the first
/// repeat's: every repeat runs the same).
pub fn client(report: &ScenarioReport, producer: &str) -> String {
    let run = report.repeats.first().and_then(|r| r.producers.iter().find(|p| p.name == producer));
    run.map_or_else(|| "–".to_string(), |p| p.client_label())
}

/// Every producer's effective settings, in its client's names: the keys (sorted) and
/// each producer's values. From the first repeat (what actually ran), or
/// from the scenario when nothing ran.
pub fn settings(report: &ScenarioReport) -> (Vec<String>, Vec<(String, BTreeMap<String, String>)>) {
    let per_producer: Vec<(String, BTreeMap<String, String>)> = match report.repeats.first() {
        Some(repeat) => repeat.producers.iter().map(|p| (p.name.clone(), p.settings.clone())).collect(),
        None => report.scenario.producers.iter().map(|p| (p.name.clone(), report.scenario.effective_settings(p))).collect(),
    };
    let keys: BTreeSet<String> = per_producer.iter().flat_map(|(_, s)| s.keys().cloned()).collect();
    (keys.into_iter().collect(), per_producer)
}

/// A toxic's stream and toxicity for a table; blanks for other faults,
/// which have neither.
pub fn stream_and_toxicity(fault: &Fault) -> (String, String) {
    match fault.kind {
        FaultKind::Toxic(_) => (fault.stream.to_string(), fault.toxicity.to_string()),
        FaultKind::Backend(_) => (String::new(), String::new()),
    }
}

/// For fault `i` of the scenario, its window in each repeat.
pub fn fault_rows(report: &ScenarioReport) -> Vec<(&Fault, Vec<String>)> {
    let Some(first) = report.repeats.first() else { return Vec::new() };
    first
        .faults
        .iter()
        .enumerate()
        .map(|(i, window)| {
            let when = report.repeats.iter().filter_map(|r| r.faults.get(i)).map(fault_when).collect();
            (&window.fault, when)
        })
        .collect()
}

/// What the proxy's ledger says of one producer's duplicates, over every run.
pub struct WireSummary {
    pub producer: String,
    /// The runs it sums.
    pub runs: usize,
    /// Duplicates by cause, summed over the runs.
    pub by_cause: BTreeMap<String, u64>,
    pub deduplicated_retries: u64,
    pub attempts: u64,
    /// A duplicated batch attempt by attempt: (run id, example).
    pub example: Option<(String, crate::audit::wire::Example)>,
}

/// [`WireSummary`] per producer (in the report's order), over the runs
/// that kept a ledger; empty when none did.
pub fn wire(report: &ScenarioReport) -> Vec<WireSummary> {
    let mut summaries = Vec::new();
    for producer in producers(report) {
        let mut summary = WireSummary {
            producer: producer.clone(),
            runs: 0,
            by_cause: BTreeMap::new(),
            deduplicated_retries: 0,
            attempts: 0,
            example: None,
        };
        for repeat in &report.repeats {
            let Some(attribution) = repeat.wire.get(&producer) else { continue };
            summary.runs += 1;
            for (cause, n) in &attribution.duplicates_by_cause {
                *summary.by_cause.entry(cause.clone()).or_default() += n;
            }
            summary.deduplicated_retries += attribution.deduplicated_retries;
            summary.attempts += attribution.attempts;
            if summary.example.is_none() {
                summary.example = attribution.example.clone().map(|e| (repeat.run_id.clone(), e));
            }
        }
        if summary.runs > 0 {
            summaries.push(summary);
        }
    }
    summaries
}

impl WireSummary {
    /// "3 duplicates: 3 acknowledgement lost (kafka_ack_loss); 0 retries
    /// the broker deduplicated; 43 batch attempts".
    pub fn line(&self) -> String {
        let duplicates: u64 = self.by_cause.values().sum();
        let causes: Vec<String> = self.by_cause.iter().map(|(cause, n)| format!("{n} {cause}")).collect();
        let causes = if causes.is_empty() { String::new() } else { format!(": {}", causes.join(", ")) };
        let over = if self.runs > 1 { format!("over {} runs, ", self.runs) } else { String::new() };
        format!(
            "{over}{duplicates} duplicate(s){causes}; {} retr{} the broker deduplicated; {} batch attempts",
            self.deduplicated_retries,
            if self.deduplicated_retries == 1 { "y" } else { "ies" },
            self.attempts
        )
    }

    /// The example: a heading, then one line per attempt.
    pub fn example_lines(&self) -> Option<(String, Vec<String>)> {
        let (run, example) = self.example.as_ref()?;
        let offsets: Vec<String> = example.written_at.iter().map(i64::to_string).collect();
        let heading =
            format!("run {run}, partition {}: a record written at offsets {}, its batch sent as:", example.partition, offsets.join(", "));
        Some((heading, example.attempts.iter().map(|a| a.describe()).collect()))
    }
}
