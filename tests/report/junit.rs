//! The JUnit report, read back with quick-junit's own deserializer.

#[allow(dead_code)]
use super::report_support;
use report_support as fixture;

use std::time::Duration;

use faultlab::report::junit;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus};

fn parsed() -> Report {
    let xml = junit::render(&fixture::report()).expect("renders");
    Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("not JUnit XML: {e}\n{xml}"))
}

fn case<'a>(report: &'a Report, suite: &str, name: &str) -> &'a TestCase {
    let suite = report.test_suites.iter().find(|s| s.name.as_str() == suite).unwrap_or_else(|| panic!("no suite {suite}"));
    suite.test_cases.iter().find(|c| c.name.as_str() == name).unwrap_or_else(|| panic!("no case {name} in {}", suite.name.as_str()))
}

fn failed(case: &TestCase) -> bool {
    matches!(case.status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, .. })
}

#[test]
fn one_suite_per_scenario_one_case_per_expectation_and_a_run_case() {
    let report = parsed();
    let suites: Vec<(&str, usize)> = report.test_suites.iter().map(|s| (s.name.as_str(), s.test_cases.len())).collect();
    assert_eq!(suites, vec![("response-delay", 4), ("course-request-timeout", 3), ("never-ran", 2)]);
    let cases: Vec<&TestCase> = report.test_suites.iter().flat_map(|s| &s.test_cases).collect();
    assert_eq!(cases.len(), 9);
    let failures: Vec<String> = report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter().filter(|c| failed(c)).map(|c| format!("{}/{}", s.name.as_str(), c.name.as_str())))
        .collect();
    assert_eq!(failures, vec!["course-request-timeout/idempotent: lost 0", "never-ran/run", "never-ran/plain: lost 0"]);
    assert_eq!((report.tests, report.failures, report.errors, report.skipped), (9, 3, 0, 0));
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some(suite.name.as_str()));
        }
    }
}

#[test]
fn a_failure_carries_the_measured_values_and_the_bound() {
    let report = parsed();
    let lost = case(&report, "course-request-timeout", "idempotent: lost 0");
    let TestCaseStatus::NonSuccess { message, description, .. } = &lost.status else { panic!("{lost:?}") };
    let message = message.as_ref().unwrap().as_str();
    assert!(message.contains("measured 0, 3"), "{message}");
    assert!(message.contains("expected 0"), "{message}");
    let description = description.as_ref().unwrap().as_str();
    assert!(description.contains("run 2 (run00002): idempotent lost = 3, expected 0"), "{description}");
}

#[test]
fn a_demonstration_that_did_not_show_passes_with_a_note() {
    let report = parsed();
    let demo = case(&report, "course-request-timeout", "plain|acks=1: duplicates >= 1");
    assert!(matches!(demo.status, TestCaseStatus::Success { .. }), "{demo:?}");
    let out = demo.system_out.as_ref().expect("a note").as_str();
    assert!(out.starts_with("demonstration did not show: measured 0, 0, expected >= 1"), "{out}");
    // One that did show has no note.
    let shown = case(&report, "response-delay", "plain: duplicates >= 1");
    assert!(matches!(shown.status, TestCaseStatus::Success { .. }) && shown.system_out.is_none());
}

#[test]
fn run_case_fails_without_repeats_and_carries_the_producing_time() {
    let report = parsed();
    let never = case(&report, "never-ran", "run");
    let TestCaseStatus::NonSuccess { message, .. } = &never.status else { panic!("{never:?}") };
    assert!(message.as_ref().unwrap().as_str().contains("did not run"));
    let course = case(&report, "course-request-timeout", "run");
    assert!(!failed(course));
    assert_eq!(course.time, Some(Duration::from_millis(1200 + 1350)));
    let suite = report.test_suites.iter().find(|s| s.name.as_str() == "response-delay").unwrap();
    assert_eq!(suite.time, Some(Duration::from_millis(5230)));
    assert!(suite.properties.iter().any(|p| p.name.as_str() == "seed" && p.value.as_str() == "7"));
}

/// A scenario meant for another backend is a skipped test in JUnit (so a
/// CI job does not go red for it) and says "skipped" in Markdown.
#[test]
fn a_scenario_for_another_backend_is_skipped_not_failed() {
    let mut report = fixture::report();
    let never_ran = report.scenarios.iter_mut().find(|s| s.scenario.name == "never-ran").unwrap();
    never_ran.scenario.backends = vec!["mock".into()];
    never_ran.expectations.clear();
    assert!(never_ran.repeats.is_empty() && never_ran.backend.backend != "mock");

    let xml = junit::render(&report).expect("renders");
    let parsed = Report::deserialize_from_str(&xml).unwrap();
    let run = case(&parsed, "never-ran", "run");
    assert!(matches!(run.status, TestCaseStatus::Skipped { .. }), "{:?}", run.status);

    let markdown = faultlab::report::markdown::render(&report);
    assert!(markdown.contains("⏭️ skipped (not for this backend)"), "{markdown}");
}
