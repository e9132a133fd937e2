//! The terminal report: producers side by side, one table per scenario.

use std::fmt::Write;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::{RunOutcome, RunReport, ScenarioReport, common};
use crate::audit::Metric;
use crate::scenario::{Level, format_duration};

pub fn render(report: &RunReport) -> String {
    scenarios(report) + verdict(report, 0).as_str()
}

/// Every scenario's section, without the verdict line.
pub fn scenarios(report: &RunReport) -> String {
    let mut out = String::new();
    for scenario in &report.scenarios {
        render_scenario(&mut out, scenario);
    }
    out
}

/// The last line: the run's outcome; a run whose report files could not
/// all be written (`unwritten` of them) has not passed, whatever it measured.
pub fn verdict(report: &RunReport, unwritten: usize) -> String {
    let outcome = match report.outcome() {
        RunOutcome::Passed if unwritten > 0 => RunOutcome::Failed,
        outcome => outcome,
    };
    let unwritten = match unwritten {
        0 => String::new(),
        1 => ", but 1 report file could not be written".to_string(),
        n => format!(", but {n} report files could not be written"),
    };
    format!(
        "{}: {} of {} scenarios met every required expectation{unwritten}\n",
        outcome.word().to_uppercase(),
        report.scenarios_passed(),
        report.scenarios.len()
    )
}

fn render_scenario(out: &mut String, report: &ScenarioReport) {
    let scenario = &report.scenario;
    let backend = &report.backend;
    if report.skipped() {
        let _ = writeln!(out, "\n== {} (skipped on {})", scenario.name, backend.backend);
        for note in &report.notes {
            let _ = writeln!(out, "   note: {note}");
        }
        return;
    }
    let _ = writeln!(
        out,
        "\n== {} ({} run{}, seed {})",
        scenario.name,
        report.repeats.len(),
        if report.repeats.len() == 1 { "" } else { "s" },
        report.seed
    );
    let _ = writeln!(
        out,
        "   backend {}: {} {}, proxy: {}, client: {}",
        backend.backend, backend.broker, backend.broker_version, backend.proxy, backend.client
    );
    for window in report.repeats.first().map(|r| r.faults.as_slice()).unwrap_or_default() {
        let fault = &window.fault;
        let attributes = common::fault_attributes(fault);
        let ms = |d: std::time::Duration| format_duration(std::time::Duration::from_millis(d.as_millis() as u64));
        let when = match (window.added_at, window.removed_at) {
            (Some(added), Some(removed)) => format!("{} → {}", ms(added), ms(removed)),
            (Some(added), None) => format!("from {}", ms(added)),
            _ => "not played (producing ended first)".to_string(),
        };
        let attributes = if attributes.is_empty() { String::new() } else { format!(" {attributes}") };
        let requests = common::fault_requests(window).map(|r| format!("; {r}")).unwrap_or_default();
        let _ = writeln!(out, "   fault {} [{}]{attributes}: {when}{requests}", fault.name, fault.describe());
    }
    for note in &report.notes {
        let _ = writeln!(out, "   note: {note}");
    }
    if let Some((headline, why)) = report.failure() {
        let _ = writeln!(out, "   ERROR: {headline}: {why}");
        if report.repeats.is_empty() {
            return;
        }
    }

    let producers: Vec<&str> = report.repeats.first().map(|r| r.verdicts.iter().map(|v| v.producer.as_str()).collect()).unwrap_or_default();
    let mut table = Builder::default();
    table.push_record(std::iter::once("").chain(producers.iter().copied()));
    table.push_record(std::iter::once("client".to_string()).chain(producers.iter().map(|p| common::client(report, p))));
    for metric in Metric::SUMMARY {
        let cells = producers.iter().map(|p| summarize(&common::per_repeat(report, p, metric)));
        table.push_record(std::iter::once(metric.label().to_string()).chain(cells));
    }
    let latency = producers.iter().map(|p| {
        let first = report.repeats.first().and_then(|r| r.verdicts.iter().find(|v| v.producer == *p));
        first.map(|v| format!("{:.0} / {:.0} / {:.0}", v.latency.p50_ms, v.latency.p99_ms, v.latency.max_ms)).unwrap_or_default()
    });
    table.push_record(std::iter::once("ack ms p50 / p99 / max".to_string()).chain(latency));
    let timeouts = producers.iter().map(|p| {
        let events = report.repeats.first().and_then(|r| r.producers.iter().find(|x| x.name == *p)).map(|x| &x.events);
        events.map(|e| format!("{} / {}", e.request_timeouts, e.message_timeouts)).unwrap_or_default()
    });
    table.push_record(std::iter::once("timeouts: request / message".to_string()).chain(timeouts));
    let _ = writeln!(out, "{}", table.build().with(Style::rounded()));
    for summary in common::wire(report) {
        let _ = writeln!(out, "   duplicates by cause, {}: {}", summary.producer, summary.line());
        if let Some((heading, attempts)) = summary.example_lines() {
            let _ = writeln!(out, "     example, {heading}");
            for (i, attempt) in attempts.iter().enumerate() {
                let _ = writeln!(out, "       {}. {attempt}", i + 1);
            }
        }
    }

    for result in &report.expectations {
        let mark = match (result.held, result.level) {
            (true, _) => "✔",
            (false, Level::Required) => "✘",
            (false, Level::Demonstration) => "⚠",
        };
        let measured: Vec<String> = result.measured.iter().map(u64::to_string).collect();
        let level = if result.level == Level::Demonstration { " (demonstration)" } else { "" };
        let _ =
            writeln!(out, "   {mark} {} {} {}{level}: measured {}", result.producer, result.metric, result.expected, measured.join(", "));
    }
}

/// One value, or min–max with the median when repeats differ (the same
/// median as every other report: [`common::median`]).
pub fn summarize(values: &[u64]) -> String {
    match (values.iter().min(), values.iter().max(), common::median(values)) {
        (Some(min), Some(max), _) if min == max => min.to_string(),
        (Some(min), Some(max), Some(median)) => format!("{min}–{max} (median {})", common::number(median)),
        _ => "-".to_string(),
    }
}
