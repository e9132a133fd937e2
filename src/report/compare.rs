//! Comparing two saved runs: per scenario and producer, every count before
//! → after with the difference, the expectations that changed state, and
//! the scenarios only one run has.

use std::fmt::Write;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::common::{self, Status};
use super::{RunReport, ScenarioReport};
use crate::audit::Metric;
use crate::check::ExpectationResult;

/// Terminal text saying what changed from `before` to `after`.
pub fn render(before: &RunReport, after: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "before: run of {} (faultlab {}), {}", before.started_at, before.faultlab_version, overall(before));
    let _ = writeln!(out, "after:  run of {} (faultlab {}), {}", after.started_at, after.faultlab_version, overall(after));

    let mut changed = 0;
    for new in &after.scenarios {
        if let Some(old) = before.scenarios.iter().find(|s| s.scenario.name == new.scenario.name) {
            changed += usize::from(render_scenario(&mut out, old, new));
        }
    }
    let only_before: Vec<&str> = names(before).into_iter().filter(|n| !names(after).contains(n)).collect();
    let only_after: Vec<&str> = names(after).into_iter().filter(|n| !names(before).contains(n)).collect();
    if !only_before.is_empty() {
        let _ = writeln!(out, "\nonly in before: {}", only_before.join(", "));
    }
    if !only_after.is_empty() {
        let _ = writeln!(out, "\nonly in after: {}", only_after.join(", "));
    }
    let common = after.scenarios.len() - only_after.len();
    let _ = writeln!(out, "\n{changed} of {common} scenarios in both runs changed");
    out
}

fn overall(report: &RunReport) -> String {
    let verdict = report.outcome().word().to_uppercase();
    let passed = report.scenarios_passed();
    format!("{verdict} ({passed} of {} scenarios)", report.scenarios.len())
}

fn names(report: &RunReport) -> Vec<&str> {
    report.scenarios.iter().map(|s| s.scenario.name.as_str()).collect()
}

/// One scenario in both runs; returns whether anything changed.
fn render_scenario(out: &mut String, old: &ScenarioReport, new: &ScenarioReport) -> bool {
    let (old_status, new_status) = (Status::of(old), Status::of(new));
    let status =
        if old_status == new_status { old_status.word().to_string() } else { format!("{} → {}", old_status.word(), new_status.word()) };
    let (runs_before, runs_after) = (old.repeats.len(), new.repeats.len());
    let runs = if runs_before == runs_after {
        format!("{runs_after} run{}", if runs_after == 1 { "" } else { "s" })
    } else {
        format!("runs {runs_before} → {runs_after}")
    };
    let _ = writeln!(out, "\n== {} ({status}; {runs})", new.scenario.name);
    if runs_before > 1 || runs_after > 1 {
        let _ = writeln!(out, "   counts are medians over the runs");
    }

    let mut producers = common::producers(new);
    for p in common::producers(old) {
        if !producers.contains(&p) {
            producers.push(p);
        }
    }
    let mut table = Builder::default();
    table.push_record(std::iter::once("".to_string()).chain(producers.iter().cloned()));
    let mut changed = old_status != new_status;
    for metric in Metric::SUMMARY {
        let cells: Vec<String> = producers
            .iter()
            .map(|p| {
                let (a, b) = (median(old, p, metric), median(new, p, metric));
                changed |= a != b;
                count_change(a, b)
            })
            .collect();
        table.push_record(std::iter::once(metric.label().to_string()).chain(cells));
    }
    let p99: Vec<String> = producers.iter().map(|p| latency_change(p99(old, p), p99(new, p))).collect();
    table.push_record(std::iter::once("ack ms p99".to_string()).chain(p99));
    let _ = writeln!(out, "{}", table.build().with(Style::rounded()));

    let key = |e: &ExpectationResult| (e.producer.clone(), e.metric, e.expected.clone());
    let mut lines = Vec::new();
    for e in &new.expectations {
        match old.expectations.iter().find(|o| key(o) == key(e)) {
            Some(o) if o.held != e.held => lines.push(format!(
                "   {} → {} {}: measured {} → {}",
                common::expectation_mark(o),
                common::expectation_mark(e),
                common::expectation_label(e),
                common::measured(o),
                common::measured(e)
            )),
            Some(_) => {}
            None => lines.push(format!(
                "   new expectation {} {}: measured {}",
                common::expectation_mark(e),
                common::expectation_label(e),
                common::measured(e)
            )),
        }
    }
    for o in old.expectations.iter().filter(|o| !new.expectations.iter().any(|e| key(e) == key(o))) {
        lines.push(format!(
            "   expectation gone: {} (was {}, measured {})",
            common::expectation_label(o),
            common::expectation_mark(o),
            common::measured(o)
        ));
    }
    if lines.is_empty() {
        let _ = writeln!(out, "   every expectation kept its state");
    } else {
        changed = true;
        let _ = writeln!(out, "   expectations that changed:");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    changed
}

fn median(report: &ScenarioReport, producer: &str, metric: Metric) -> Option<f64> {
    common::median(&common::per_repeat(report, producer, metric))
}

fn p99(report: &ScenarioReport, producer: &str) -> Option<f64> {
    common::median_f64(common::verdicts(report, producer).iter().map(|v| v.latency.p99_ms).collect())
}

/// `500`, `500 → 0 (-500)`, `500 → –` (the producer is only in before).
/// Medians of repeats may be halves: `1.5 → 0 (-1.5)`.
pub fn count_change(before: Option<f64>, after: Option<f64>) -> String {
    let n = common::number;
    match (before, after) {
        (Some(a), Some(b)) if a == b => n(a),
        (Some(a), Some(b)) => format!("{} → {} ({}{})", n(a), n(b), if b > a { "+" } else { "-" }, n((b - a).abs())),
        (Some(a), None) => format!("{} → –", n(a)),
        (None, Some(b)) => format!("– → {}", n(b)),
        (None, None) => "–".to_string(),
    }
}

/// Like [`count_change`], rounded to whole milliseconds.
fn latency_change(before: Option<f64>, after: Option<f64>) -> String {
    count_change(before.map(f64::round), after.map(f64::round))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_changes() {
        assert_eq!(count_change(Some(500.0), Some(0.0)), "500 → 0 (-500)");
        assert_eq!(count_change(Some(0.0), Some(3.0)), "0 → 3 (+3)");
        assert_eq!(count_change(Some(1.5), Some(0.0)), "1.5 → 0 (-1.5)");
        assert_eq!(count_change(Some(7.0), Some(7.0)), "7");
        assert_eq!(count_change(None, Some(7.0)), "– → 7");
        assert_eq!(latency_change(Some(2953.4), Some(700.2)), "2953 → 700 (-2253)");
    }
}
