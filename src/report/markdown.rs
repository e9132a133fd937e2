//! The Markdown report (GitHub-flavoured), made to be appended to
//! `$GITHUB_STEP_SUMMARY`: a summary table across scenarios, then each
//! scenario's producers side by side, its fault timeline, notes and the
//! effective producer settings in a collapsible section.
//!
//! Every piece of text that comes from a scenario file or a run is escaped
//! ([`escape`]), so a `|` in a producer name cannot break a table and a `<`
//! cannot open an HTML tag; every row of a table has its header's column
//! count.

use std::fmt::Write;

use super::common::{self, Status};
use super::{RunOutcome, RunReport, ScenarioReport};
use crate::audit::Metric;
use crate::check::ExpectationResult;
use crate::scenario::Level;

/// The whole report as Markdown.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let passed = report.scenarios_passed();
    let verdict = report.outcome().word();
    let mark = match report.outcome() {
        RunOutcome::Interrupted => "⚠️",
        RunOutcome::Passed => "✅",
        RunOutcome::Failed => "❌",
    };
    let _ =
        writeln!(out, "## {mark} faultlab: {verdict}, {passed} of {} scenarios met every required expectation\n", report.scenarios.len());
    let _ = writeln!(out, "Started {} with faultlab {}.\n", escape(&report.started_at), escape(&report.faultlab_version));
    if report.scenarios.is_empty() {
        out.push_str("No scenario ran.\n");
        return out;
    }

    let mut summary = Table::new(&["scenario", "backend", "runs", "result", "expectations"]);
    for scenario in &report.scenarios {
        let status = Status::of(scenario);
        let expectations: Vec<String> = scenario
            .expectations
            .iter()
            .map(|e| {
                format!("{} {} (measured {})", common::expectation_mark(e), escape(&common::expectation_label(e)), common::measured(e))
            })
            .collect();
        summary.row(vec![
            escape(&scenario.scenario.name),
            escape(&scenario.backend.backend),
            scenario.repeats.len().to_string(),
            format!("{} {}", status.emoji(), status.word()),
            if expectations.is_empty() { "none".to_string() } else { expectations.join("<br>") },
        ]);
    }
    out.push_str(&summary.render());
    for scenario in &report.scenarios {
        render_scenario(&mut out, scenario);
    }
    out
}

fn render_scenario(out: &mut String, report: &ScenarioReport) {
    let scenario = &report.scenario;
    let status = Status::of(report);
    let _ = writeln!(out, "\n### {} {}\n", status.emoji(), escape(&scenario.name));
    if !scenario.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", prose(&scenario.description));
    }
    if let Some(observe) = scenario.observe.as_deref().filter(|o| !o.trim().is_empty()) {
        let _ = writeln!(out, "> **What to look at:** {}\n", prose(observe).replace("\n\n", "\n>\n> "));
    }
    let backend = &report.backend;
    let runs: Vec<String> = report.repeats.iter().map(|r| escape(&r.run_id)).collect();
    let _ = writeln!(
        out,
        "Backend **{}**: {} {}, proxy {} {}, client {}. Seed {}, {} run{}{}.\n",
        escape(&backend.backend),
        escape(&backend.broker),
        escape(&backend.broker_version),
        escape(&backend.proxy),
        escape(&backend.proxy_version),
        escape(&backend.client),
        report.seed,
        report.repeats.len(),
        if report.repeats.len() == 1 { "" } else { "s" },
        if runs.is_empty() { String::new() } else { format!(" ({})", runs.join(", ")) },
    );

    let producers = common::producers(report);
    if let Some((headline, why)) = report.failure() {
        let _ = writeln!(out, "**{headline}**: {}\n", escape(&why));
    }
    if !report.repeats.is_empty() {
        if report.repeats.len() > 1 {
            let _ = writeln!(out, "Each count is *min / median / max* over the {} runs; latencies are medians.\n", report.repeats.len());
        }
        let mut header = vec!["metric".to_string()];
        header.extend(producers.iter().map(|p| escape(p)));
        let mut table = Table::with_header(header);
        table.row(std::iter::once("client".to_string()).chain(producers.iter().map(|p| escape(&common::client(report, p)))).collect());
        for metric in Metric::SUMMARY {
            let cells = producers.iter().map(|p| common::spread(&common::per_repeat(report, p, metric)));
            table.row(std::iter::once(metric.label().to_string()).chain(cells).collect());
        }
        table.row(
            std::iter::once("ack ms p50 / p99 / max".to_string()).chain(producers.iter().map(|p| common::latency(report, p))).collect(),
        );
        table.row(
            std::iter::once("timeouts: request / message".to_string())
                .chain(producers.iter().map(|p| common::timeouts(report, p)))
                .collect(),
        );
        out.push_str(&table.render());
    }

    if !report.expectations.is_empty() {
        out.push_str("\n#### Expectations\n\n");
        for result in &report.expectations {
            let _ = writeln!(out, "- {}", expectation_line(result));
        }
    }

    let wire = common::wire(report);
    if !wire.is_empty() {
        out.push_str("\n#### Duplicates by cause\n\nFrom the proxy's record of every Produce batch it forwarded.\n\n");
        for summary in &wire {
            let _ = writeln!(out, "- **{}**: {}", escape(&summary.producer), escape(&summary.line()));
            if let Some((heading, attempts)) = summary.example_lines() {
                let _ = writeln!(out, "  - example, {}", escape(&heading));
                for (i, attempt) in attempts.iter().enumerate() {
                    let _ = writeln!(out, "    {}. {}", i + 1, escape(attempt));
                }
            }
        }
    }

    out.push_str("\n#### Fault timeline\n\n");
    let faults = common::fault_rows(report);
    if faults.is_empty() {
        out.push_str("No fault was played.\n");
    } else {
        out.push_str("Times are since producing started; one line per run.\n\n");
        let mut table = Table::new(&["fault", "type", "stream", "toxicity", "attributes", "from → to"]);
        for (fault, when) in faults {
            let (stream, toxicity) = common::stream_and_toxicity(fault);
            table.row(vec![
                escape(&fault.name),
                escape(fault.kind.type_name()),
                stream,
                toxicity,
                escape(&common::fault_attributes(fault)),
                when.iter().map(|w| escape(w)).collect::<Vec<_>>().join("<br>"),
            ]);
        }
        out.push_str(&table.render());
    }

    if !report.notes.is_empty() {
        out.push_str("\n#### Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {}", escape(note));
        }
    }

    let (keys, per_producer) = common::settings(report);
    out.push_str("\n<details>\n<summary>Effective producer settings</summary>\n\n");
    if keys.is_empty() {
        out.push_str("No settings recorded.\n");
    } else {
        let mut header = vec!["setting".to_string()];
        header.extend(per_producer.iter().map(|(name, _)| escape(name)));
        let mut table = Table::with_header(header);
        for key in &keys {
            let values = per_producer.iter().map(|(_, s)| s.get(key).map_or("–".to_string(), |v| escape(v)));
            table.row(std::iter::once(escape(key)).chain(values).collect());
        }
        out.push_str(&table.render());
    }
    out.push_str("\n</details>\n");
}

fn expectation_line(result: &ExpectationResult) -> String {
    let note = match (result.held, result.level) {
        (true, Level::Required) => "",
        (true, Level::Demonstration) => " (demonstration)",
        (false, Level::Required) => " — **failed**",
        (false, Level::Demonstration) => " — demonstration did not show (a warning, not a failure)",
    };
    format!(
        "{} {}: measured {}{note}",
        common::expectation_mark(result),
        escape(&common::expectation_label(result)),
        common::measured(result)
    )
}

/// A GFM table whose rows always have the header's column count.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        Table::with_header(header.iter().map(|h| h.to_string()).collect())
    }

    fn with_header(header: Vec<String>) -> Table {
        Table { header, rows: Vec::new() }
    }

    /// Cells must be escaped already. Missing cells are left empty, extra
    /// ones are dropped, so the table stays valid whatever the data.
    fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        out.push_str(&line(&vec!["---".to_string(); self.header.len()]));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Escape text for a Markdown table cell or inline text: every character
/// that Markdown or the HTML GitHub allows in it could interpret is
/// backslash-escaped (CommonMark allows a backslash before any ASCII
/// punctuation), and line breaks become `<br>`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~' | '&' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' => out.push_str("<br>"),
            _ => out.push(c),
        }
    }
    out
}

/// Free text (a description): paragraphs kept (blank lines), lines inside a
/// paragraph joined, and a paragraph never starts a list or a heading.
fn prose(text: &str) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|p| {
            let escaped = escape(&p);
            let digits = escaped.chars().take_while(char::is_ascii_digit).count();
            let starts_block = escaped.starts_with(['-', '+', '=']) || (digits > 0 && escaped[digits..].starts_with(['.', ')']));
            if starts_block && digits == 0 {
                format!("\\{escaped}")
            } else if starts_block {
                format!("{}\\{}", &escaped[..digits], &escaped[digits..])
            } else {
                escaped
            }
        })
        .collect();
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_pipes_and_html() {
        assert_eq!(escape("a|b <i> *x*"), "a\\|b \\<i\\> \\*x\\*");
        assert_eq!(escape("one\ntwo"), "one<br>two");
    }

    #[test]
    fn prose_never_starts_a_list() {
        assert_eq!(prose("- not a list"), "\\- not a list");
        assert_eq!(prose("1. first\nline\n\nsecond"), "1\\. first line\n\nsecond");
    }
}
