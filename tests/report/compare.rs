//! Comparing two saved runs.

#[allow(dead_code)]
use super::report_support;
use report_support as fixture;

use faultlab::check::check;
use faultlab::report::{RunReport, ScenarioReport, compare};

/// Recheck the expectations after a test changed the verdicts.
fn recheck(scenario: &mut ScenarioReport) {
    let verdicts: Vec<_> = scenario.repeats.iter().map(|r| r.verdicts.clone()).collect();
    scenario.expectations = check(&scenario.scenario.expectations(), &verdicts);
}

/// After: plain's duplicates vanish in response-delay, the idempotent
/// producer loses nothing in course-request-timeout any more, never-ran is
/// gone and a new scenario appears.
fn after() -> RunReport {
    let mut after = fixture::report();
    let delay = &mut after.scenarios[0];
    delay.repeats[0].verdicts[0].duplicates = 0;
    delay.repeats[0].verdicts[0].latency.p99_ms = 700.0;
    recheck(delay);
    let course = &mut after.scenarios[1];
    course.repeats[1].verdicts[1].lost = 0;
    course.repeats[1].verdicts[1].offset_mismatch = 0;
    recheck(course);
    after.scenarios[2].scenario.name = "brand-new".into();
    after
}

#[test]
fn counts_show_before_arrow_after_with_the_difference() {
    let text = compare::render(&fixture::report(), &after());
    assert!(text.contains("500 → 0 (-500)"), "{text}");
    assert!(text.contains("2953 → 700 (-2253)"), "{text}");
    // Unchanged counts are shown once.
    let delay = section(&text, "response-delay");
    let sent = delay.lines().find(|l| l.contains(" sent ")).unwrap();
    assert!(sent.contains("1000") && !sent.contains('→'), "{sent}");
}

#[test]
fn expectations_that_changed_state_are_listed() {
    let text = compare::render(&fixture::report(), &after());
    let delay = section(&text, "response-delay");
    assert!(delay.contains("✅ → ⚠️ plain: duplicates >= 1: measured 500 → 0"), "{delay}");
    assert!(delay.contains("(passed → passed with warnings;"), "{delay}");
    let course = section(&text, "course-request-timeout");
    assert!(course.contains("❌ → ✅ idempotent: lost 0: measured 0, 3 → 0, 0"), "{course}");
    assert!(course.contains("(failed → passed with warnings;"), "{course}");
    // The median of the two runs' losses (0 and 3).
    let lost = course.lines().find(|l| l.contains(" lost ")).unwrap();
    assert!(lost.contains("1.5 → 0 (-1.5)"), "{lost}");
    assert!(!course.contains("plain|acks=1: duplicates >= 1: measured"), "unchanged state listed: {course}");
}

#[test]
fn scenarios_in_one_run_only_are_named() {
    let text = compare::render(&fixture::report(), &after());
    assert!(text.contains("only in before: never-ran"), "{text}");
    assert!(text.contains("only in after: brand-new"), "{text}");
    assert!(text.contains("2 of 2 scenarios in both runs changed"), "{text}");
}

#[test]
fn comparing_a_run_with_itself_changes_nothing() {
    let report = fixture::report();
    let text = compare::render(&report, &report);
    assert!(!text.contains('→'), "{text}");
    assert!(text.contains("0 of 3 scenarios in both runs changed"), "{text}");
    assert!(!text.contains("only in"));
}

/// The text of one scenario's section, up to the next.
fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text.find(&format!("== {name} ")).unwrap_or_else(|| panic!("no section {name} in {text}"));
    let rest = &text[start..];
    let end = rest[3..].find("\n== ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}
