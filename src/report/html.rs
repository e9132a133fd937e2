//! The HTML report: one self-contained file (inline CSS and SVG, no
//! scripts, nothing fetched) to open in a browser, show in class or print.
//!
//! Per scenario: its description and what to look at, the producers side
//! by side, the expectations, the fault timeline, two charts (see
//! [`charts`](super::charts)), the notes and the effective settings.

use std::fmt::Write;

use super::charts;
use super::common::{self, Status};
use super::{RunOutcome, RunReport, ScenarioReport};
use crate::audit::Metric;
use crate::check::ExpectationResult;
use crate::scenario::Level;

pub use super::charts::FAULT_SHADE_SVG;

const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; background: #fff;
  max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { margin-bottom: .2em; }
h2 { border-bottom: 2px solid #333; padding-bottom: .2em; margin-top: 2em; }
h3 { margin: 1.4em 0 .4em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #999; padding: .25em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #eee; }
.meta { color: #444; font-size: .92em; }
.observe { border-left: 4px solid #666; padding: .3em .8em; margin: 1em 0; }
.status { display: inline-block; border: 2px solid; border-radius: 4px; padding: 0 .4em; font-size: .8em;
  vertical-align: middle; font-weight: bold; }
.passed { color: #17692b; } .warning { color: #8a5a00; } .failed { color: #b00020; } .skipped { color: #555; }
ul.expectations { list-style: none; padding-left: 0; }
figure { margin: 1em 0; } figcaption { color: #444; font-size: .9em; }
svg { max-width: 100%; height: auto; border: 1px solid #ccc; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  section.scenario { break-before: page; }
  figure, table { break-inside: avoid; }
  thead th { background: #fff; }
}
"#;

/// The whole report as one HTML document.
pub fn render(report: &RunReport) -> String {
    let outcome = report.outcome();
    let outcome_class = match outcome {
        RunOutcome::Interrupted => "warning",
        RunOutcome::Passed => "passed",
        RunOutcome::Failed => "failed",
    };
    let verdict = (outcome_class, outcome.word().to_uppercase());
    let passed = report.scenarios_passed();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>faultlab report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        verdict.1
    );
    let _ = writeln!(out, "<header>\n<h1>faultlab report</h1>");
    let _ = writeln!(
        out,
        "<p><span class=\"status {}\">{}</span> {passed} of {} scenarios met every required expectation.</p>",
        verdict.0,
        verdict.1,
        report.scenarios.len()
    );
    let _ =
        writeln!(out, "<p class=\"meta\">Started {}, faultlab {}.</p>\n</header>", esc(&report.started_at), esc(&report.faultlab_version));

    if !report.scenarios.is_empty() {
        out.push_str("<table class=\"summary\">\n<thead><tr><th>scenario</th><th>backend</th><th>runs</th><th>result</th><th>expectations</th></tr></thead>\n<tbody>\n");
        for s in &report.scenarios {
            let status = Status::of(s);
            let expectations: Vec<String> =
                s.expectations.iter().map(|e| format!("{} {}", mark(e), esc(&common::expectation_label(e)))).collect();
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td class=\"{}\">{} {}</td><td>{}</td></tr>",
                anchor(&s.scenario.name),
                esc(&s.scenario.name),
                esc(&s.backend.backend),
                s.repeats.len(),
                class(status),
                status_mark(status),
                status.word(),
                expectations.join("<br>")
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    for scenario in &report.scenarios {
        render_scenario(&mut out, scenario);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn render_scenario(out: &mut String, report: &ScenarioReport) {
    let scenario = &report.scenario;
    let status = Status::of(report);
    let _ = writeln!(out, "<section class=\"scenario\" id=\"{}\">", anchor(&scenario.name));
    let _ = writeln!(
        out,
        "<h2>{} <span class=\"status {}\">{} {}</span></h2>",
        esc(&scenario.name),
        class(status),
        status_mark(status),
        status.word()
    );
    let b = &report.backend;
    let runs: Vec<String> = report.repeats.iter().map(|r| esc(&r.run_id)).collect();
    let _ = writeln!(
        out,
        "<p class=\"meta\">Backend <strong>{}</strong>: {} {}; proxy {} {}; client {}. Seed {}; {} run{}{}.</p>",
        esc(&b.backend),
        esc(&b.broker),
        esc(&b.broker_version),
        esc(&b.proxy),
        esc(&b.proxy_version),
        esc(&b.client),
        report.seed,
        report.repeats.len(),
        if report.repeats.len() == 1 { "" } else { "s" },
        if runs.is_empty() { String::new() } else { format!(" ({})", runs.join(", ")) }
    );
    out.push_str(&paragraphs(&scenario.description, ""));
    if let Some(observe) = scenario.observe.as_deref().filter(|o| !o.trim().is_empty()) {
        let _ = writeln!(out, "<div class=\"observe\"><strong>What to look at</strong>\n{}</div>", paragraphs(observe, ""));
    }

    let producers = common::producers(report);
    if let Some((headline, why)) = report.failure() {
        let _ = writeln!(out, "<p class=\"failed\"><strong>{headline}</strong>: {}</p>", esc(&why));
    }
    if !report.repeats.is_empty() {
        out.push_str("<h3>Producers side by side</h3>\n");
        if report.repeats.len() > 1 {
            let _ = writeln!(
                out,
                "<p class=\"meta\">Counts are min / median / max over the {} runs; latencies are medians.</p>",
                report.repeats.len()
            );
        }
        out.push_str("<table class=\"compare\">\n<thead><tr><th></th>");
        for p in &producers {
            let _ = write!(out, "<th>{}</th>", esc(p));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        let mut row = |label: &str, cells: Vec<String>| {
            let _ = write!(out, "<tr><th>{}</th>", esc(label));
            for c in cells {
                let _ = write!(out, "<td class=\"num\">{}</td>", esc(&c));
            }
            out.push_str("</tr>\n");
        };
        row("client", producers.iter().map(|p| common::client(report, p)).collect());
        for metric in Metric::SUMMARY {
            row(metric.label(), producers.iter().map(|p| common::spread(&common::per_repeat(report, p, metric))).collect());
        }
        row("ack ms p50 / p99 / max", producers.iter().map(|p| common::latency(report, p)).collect());
        row("timeouts: request / message", producers.iter().map(|p| common::timeouts(report, p)).collect());
        out.push_str("</tbody>\n</table>\n");
    }

    if !report.expectations.is_empty() {
        out.push_str("<h3>Expectations</h3>\n<ul class=\"expectations\">\n");
        for e in &report.expectations {
            let _ = writeln!(out, "<li>{}</li>", expectation(e));
        }
        out.push_str("</ul>\n");
    }

    let wire = common::wire(report);
    if !wire.is_empty() {
        out.push_str("<h3>Duplicates by cause</h3>\n<p>From the proxy's record of every Produce batch it forwarded.</p>\n<ul>\n");
        for summary in &wire {
            let _ = write!(out, "<li><strong>{}</strong>: {}", esc(&summary.producer), esc(&summary.line()));
            if let Some((heading, attempts)) = summary.example_lines() {
                let _ = write!(out, "<br>example, {}<ol>", esc(&heading));
                for attempt in attempts {
                    let _ = write!(out, "<li>{}</li>", esc(&attempt));
                }
                out.push_str("</ol>");
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }

    out.push_str("<h3>Fault timeline</h3>\n");
    let faults = common::fault_rows(report);
    if faults.is_empty() {
        out.push_str("<p>No fault was played.</p>\n");
    } else {
        out.push_str("<table class=\"faults\">\n<thead><tr><th>fault</th><th>type</th><th>stream</th><th>toxicity</th><th>attributes</th><th>from → to (since producing started; one line per run)</th></tr></thead>\n<tbody>\n");
        for (fault, when) in faults {
            let when: Vec<String> = when.iter().map(|w| esc(w)).collect();
            let (stream, toxicity) = common::stream_and_toxicity(fault);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&fault.name),
                esc(fault.kind.type_name()),
                stream,
                toxicity,
                esc(&common::fault_attributes(fault)),
                when.join("<br>")
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }

    if let Some(first) = report.repeats.first() {
        let title = match report.repeats.len() {
            1 => "Acknowledgements over time".to_string(),
            n => format!("Acknowledgements over time (run 1 of {n})"),
        };
        figure(
            out,
            charts::timeline(first, &title),
            &format!(
                "Acknowledgements per time bucket of run {}, by the time the client was told. Grey bands: a fault in force. \
                 Markers along the top: messages the topic holds more than once, at the time they were sent.",
                first.run_id
            ),
        );
        let worst = if report.repeats.len() > 1 { " With several runs, each bar is the largest count of any run." } else { "" };
        figure(out, charts::anomalies(report), &format!("Anomalies per producer; each bar is labelled with its count.{worst}"));
    }

    if !report.notes.is_empty() {
        out.push_str("<h3>Notes</h3>\n<ul>\n");
        for note in &report.notes {
            let _ = writeln!(out, "<li>{}</li>", esc(note));
        }
        out.push_str("</ul>\n");
    }

    // A plain table rather than <details>: a collapsed section would not print.
    out.push_str("<h3>Effective producer settings</h3>\n");
    let (keys, per_producer) = common::settings(report);
    if keys.is_empty() {
        out.push_str("<p>No settings recorded.</p>\n");
    } else {
        out.push_str("<table class=\"settings\">\n<thead><tr><th>setting</th>");
        for (name, _) in &per_producer {
            let _ = write!(out, "<th>{}</th>", esc(name));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for key in &keys {
            let _ = write!(out, "<tr><td><code>{}</code></td>", esc(key));
            for (_, settings) in &per_producer {
                let _ = write!(out, "<td><code>{}</code></td>", settings.get(key).map_or("–".to_string(), |v| esc(v)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}

fn figure(out: &mut String, svg: Result<String, String>, caption: &str) {
    match svg {
        Ok(svg) => {
            // The SVG backend writes no XML prolog; strip one if a later
            // version does, since it is not allowed inside HTML.
            let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
            let _ = writeln!(out, "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>", svg.trim_end(), esc(caption));
        }
        Err(error) => {
            let _ = writeln!(out, "<p class=\"failed\">The chart could not be drawn: {}</p>", esc(&error));
        }
    }
}

fn expectation(e: &ExpectationResult) -> String {
    let note = match (e.held, e.level) {
        (true, Level::Required) => "",
        (true, Level::Demonstration) => " (demonstration)",
        (false, Level::Required) => " — <strong>failed</strong>",
        (false, Level::Demonstration) => " — demonstration did not show (a warning, not a failure)",
    };
    format!("{} {}: measured {}{note}", mark(e), esc(&common::expectation_label(e)), esc(&common::measured(e)))
}

/// A mark that reads without colour: a symbol and its class.
fn mark(e: &ExpectationResult) -> &'static str {
    match (e.held, e.level) {
        (true, _) => "<span class=\"passed\">✔</span>",
        (false, Level::Required) => "<span class=\"failed\">✘</span>",
        (false, Level::Demonstration) => "<span class=\"warning\">⚠</span>",
    }
}

fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Passed => "✔",
        Status::Warning => "⚠",
        Status::Failed => "✘",
        Status::Skipped => "⏭",
    }
}

fn class(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Warning => "warning",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
    }
}

/// An id from a scenario name (names are `[a-z0-9-]`; anything else is
/// replaced so the attribute stays valid).
fn anchor(name: &str) -> String {
    let id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    format!("scenario-{id}")
}

/// Free text as paragraphs (split at blank lines).
fn paragraphs(text: &str, class: &str) -> String {
    let class = if class.is_empty() { String::new() } else { format!(" class=\"{class}\"") };
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|p| format!("<p{class}>{}</p>\n", esc(p))).collect()
}

/// Escape text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
