//! Every report format gives the same figure for the same count: the
//! terminal, Markdown and HTML summaries of a multi-repeat run show the
//! same minimum, median and maximum, and they are the JSON's per-repeat
//! values. (The terminal once took the upper middle value as the median of
//! an even count, where the others took the mean of the middle two.)

use super::report_support;

use faultlab::audit::Metric;
use faultlab::report::{html, markdown, terminal};
use serde_json::Value;

/// The median as the reports print it: the mean of the middle two of an
/// even count, one decimal when it is not whole.
fn median(mut values: Vec<u64>) -> String {
    values.sort_unstable();
    let n = values.len();
    let m = if n % 2 == 1 { values[n / 2] as f64 } else { (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0 };
    if m.fract() == 0.0 { format!("{m:.0}") } else { format!("{m:.1}") }
}

#[test]
fn terminal_markdown_html_and_json_agree_on_every_count_of_every_repeat() {
    let report = report_support::report();
    let json: Value = serde_json::to_value(&report).unwrap();
    let (text, md, page) = (terminal::render(&report), markdown::render(&report), html::render(&report));
    let mut checked = 0;
    for scenario in json["scenarios"].as_array().unwrap() {
        let repeats = scenario["repeats"].as_array().unwrap();
        if repeats.len() < 2 {
            continue;
        }
        let producers: Vec<&str> = repeats[0]["verdicts"].as_array().unwrap().iter().map(|v| v["producer"].as_str().unwrap()).collect();
        for producer in producers {
            for metric in Metric::SUMMARY {
                let values: Vec<u64> = repeats
                    .iter()
                    .map(|r| {
                        r["verdicts"].as_array().unwrap().iter().find(|v| v["producer"] == producer).unwrap()[metric.name()]
                            .as_u64()
                            .unwrap()
                    })
                    .collect();
                let (min, max) = (values.iter().min().unwrap(), values.iter().max().unwrap());
                if min == max {
                    continue;
                }
                let med = median(values.clone());
                let in_terminal = format!("{min}–{max} (median {med})");
                let in_tables = format!("{min} / {med} / {max}");
                assert!(text.contains(&in_terminal), "terminal lacks {in_terminal} for {producer} {metric}:\n{text}");
                assert!(md.contains(&in_tables), "Markdown lacks {in_tables} for {producer} {metric}");
                assert!(page.contains(&in_tables), "HTML lacks {in_tables} for {producer} {metric}");
                checked += 1;
            }
        }
    }
    // The fixture's course scenario: two repeats, the idempotent producer lost 0 then 3.
    assert!(checked >= 1, "the fixture has a count that differs between repeats");
    assert!(text.contains("0–3 (median 1.5)"), "{text}");
}
