//! The HTML report: self-contained, well-formed, two charts per scenario
//! that ran, with the faults shaded and the legends naming the producers.

#[allow(dead_code)]
use super::report_support;
use report_support as fixture;

use faultlab::report::html;

const SVG_NS: &str = "xmlns=\"http://www.w3.org/2000/svg\"";

/// Elements that have no end tag in HTML.
const VOID: &[&str] = &["meta", "br", "hr", "img", "input", "link", "col", "wbr"];

/// Check that every start tag is closed in order; returns the number of
/// elements per name seen.
fn check_balanced(html: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').unwrap_or_else(|| panic!("unclosed tag at {:?}", &after[..after.len().min(80)]));
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue; // <!DOCTYPE html>, comments, an XML prolog
        }
        assert!(!tag.contains('<'), "a '<' inside a tag: {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name.trim(), "</{name}> closes <{open}>");
            continue;
        }
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap().to_ascii_lowercase();
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()), "odd tag {tag:?}");
        *counts.entry(name.clone()).or_default() += 1;
        if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "never closed: {stack:?}");
    counts
}

/// Whether an SVG has a `<text>` element saying exactly `text`.
fn has_text(svg: &str, text: &str) -> bool {
    svg.split("<text")
        .skip(1)
        .any(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")).is_some_and(|(content, _)| content.trim() == text))
}

/// The inline SVG documents, in order.
fn svgs(html: &str) -> Vec<&str> {
    html.match_indices("<svg").map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap() + 6]).collect()
}

#[test]
fn is_well_formed_with_two_charts_per_scenario_that_ran() {
    let html = html::render(&fixture::report());
    let counts = check_balanced(&html);
    // response-delay and course-request-timeout ran; never-ran did not.
    assert_eq!(counts.get("svg"), Some(&4));
    assert_eq!(html.matches("<svg").count(), 4);
    assert_eq!(counts.get("section"), Some(&3));
    assert_eq!(counts.get("figure"), Some(&4));
    assert!(html.starts_with("<!DOCTYPE html>"));
}

#[test]
fn needs_nothing_from_the_network_and_runs_no_script() {
    let html = html::render(&fixture::report());
    let without_ns = html.replace(SVG_NS, "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"), "an external reference");
    assert!(!without_ns.contains("//"), "a protocol-relative reference");
    for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "url(", " src=", "onload="] {
        assert!(!html.contains(forbidden), "{forbidden} in the report");
    }
}

#[test]
fn timeline_shades_fault_windows_and_names_producers_in_its_legend() {
    let html = html::render(&fixture::report());
    let svgs = svgs(&html);
    let (timeline, anomalies) = (svgs[0], svgs[1]);
    let shade = format!("fill=\"{}\"", html::FAULT_SHADE_SVG);
    // The window's band and the legend's swatch.
    assert_eq!(timeline.matches(&shade).count(), 2, "{timeline}");
    assert!(has_text(timeline, "fault in force"));
    assert!(has_text(timeline, "latency_downstream_0"), "the band is labelled with its toxic");
    for name in ["plain", "idempotent"] {
        assert!(has_text(timeline, &format!("{name}: acks")), "{name} in the legend");
        assert!(has_text(anomalies, name), "{name} in the bar legend");
    }
    assert!(has_text(timeline, "plain: duplicated"), "plain has duplicates: no '(none)'");
    assert!(has_text(timeline, "seconds since producing started"));
    assert!(has_text(timeline, "acks per 100 ms"));
    // The course scenario's producer with a pipe in its name.
    assert!(has_text(svgs[2], "plain|acks=1: acks"));
    assert!(has_text(svgs[3], "plain|acks=1"));
    // The anomaly bars: every class named, plain's 500 duplicates labelled.
    for class in ["duplicates", "lost", "phantom", "reordered", "offset mismatch", "failed", "possibly persisted"] {
        assert!(has_text(anomalies, class), "{class}");
    }
    assert!(has_text(anomalies, "500"));
    assert!(has_text(svgs[3], "Anomalies per producer (worst of 2 runs)"));
    assert!(has_text(svgs[0], "idempotent: duplicated (none)"));
}

#[test]
fn lines_differ_by_dash_as_well_as_colour() {
    let html = html::render(&fixture::report());
    let timeline = svgs(&html)[0];
    // plain is one solid polyline; idempotent is dashed, many short ones.
    assert!(timeline.matches("<polyline").count() > 10, "no dashes");
}

#[test]
fn each_scenario_has_its_texts_tables_and_settings() {
    let html = html::render(&fixture::report());
    assert!(html.contains("<p>Broker responses are delayed past the socket timeout.</p>"));
    assert!(html.contains("<strong>What to look at</strong>\n<p>Compare the duplicates row.</p>"));
    assert!(html.contains("<th>plain|acks=1</th>"));
    assert!(html.contains("<tr><th>duplicates</th><td class=\"num\">500</td><td class=\"num\">0</td></tr>"));
    assert!(html.contains("<tr><th>lost</th><td class=\"num\">0 / 0 / 0</td><td class=\"num\">0 / 1.5 / 3</td></tr>"));
    assert!(html.contains("<td><code>socket.timeout.ms</code></td><td><code>2000</code></td>"));
    assert!(html.contains("transactional producers | beware"));
    assert!(html.contains("The scenario did not run"));
    assert!(html.contains("@media print"));
}

#[test]
fn text_from_a_report_is_escaped() {
    let mut report = fixture::report();
    report.scenarios[0].scenario.description = "a <b>bold</b> & \"quoted\" claim".into();
    report.scenarios[0].notes.push("</section><script>".into());
    let html = html::render(&report);
    assert!(html.contains("a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; claim"));
    assert!(!html.contains("<script>"));
    check_balanced(&html);
}
