//! The JUnit XML report, for CI test-result views: one test suite per
//! scenario (named after it), one test case per expectation, named
//! `<producer>: <metric> <bound>` (`plain: duplicates >= 1`) with the
//! scenario's name as class name, and one test case `run` per scenario: an
//! error when the scenario could not run to its end (what went wrong is
//! its message, `interrupted` when SIGINT or SIGTERM stopped it), a
//! failure when no repeat completed. An interrupted run's suites carry the
//! property `interrupted = true`.

use std::time::Duration;

use anyhow::Context;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::common;
use super::{RunReport, ScenarioReport};
use crate::check::ExpectationResult;
use crate::scenario::Level;

/// The whole report as JUnit XML.
pub fn render(report: &RunReport) -> anyhow::Result<String> {
    let mut junit = Report::new("faultlab");
    let mut total = Duration::ZERO;
    let last = report.scenarios.len().saturating_sub(1);
    for (i, scenario) in report.scenarios.iter().enumerate() {
        // The run stops at the scenario it was in; the ones before finished.
        let suite = suite(scenario, report.interrupted, report.interrupted && i == last);
        total += suite.time.unwrap_or_default();
        junit.add_test_suite(suite);
    }
    junit.set_time(total);
    junit.to_string().context("writing the JUnit XML report")
}

fn suite(report: &ScenarioReport, run_interrupted: bool, stopped_here: bool) -> TestSuite {
    let name = &report.scenario.name;
    let mut suite = TestSuite::new(name.as_str());
    // The time producers spent producing, over every repeat. It belongs to
    // the suite and to its `run` case; the expectation cases check numbers
    // of that same run and take no time of their own, so a tool that adds
    // up case times does not count the run once per expectation.
    let producing = Duration::from_millis(report.repeats.iter().map(|r| r.producing_ms).sum());
    suite.set_time(producing);
    let backend = &report.backend;
    suite.add_properties([
        Property::new("seed", report.seed.to_string()),
        Property::new("backend", backend.backend.as_str()),
        Property::new("broker", format!("{} {}", backend.broker, backend.broker_version)),
        Property::new("proxy", format!("{} {}", backend.proxy, backend.proxy_version)),
        Property::new("client", backend.client.as_str()),
        Property::new("runs", report.repeats.len().to_string()),
        Property::new("interrupted", run_interrupted.to_string()),
    ]);

    let mut run = if stopped_here {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message("interrupted (SIGINT or SIGTERM) before the scenario finished: its numbers cover what was written until then");
        status.set_type("interrupted");
        TestCase::new("run", status)
    } else if report.skipped() {
        let mut status = TestCaseStatus::skipped();
        status.set_message("not meant for this backend (the scenario's `backends` leaves it out)");
        TestCase::new("run", status)
    } else if let Some((headline, why)) = report.failure() {
        // An error when something broke (no expectation was found wanting:
        // the scenario could not be run to its end), else a failure.
        let kind = if report.error.is_some() { NonSuccessKind::Error } else { NonSuccessKind::Failure };
        let mut status = TestCaseStatus::non_success(kind);
        status.set_message(format!("{headline}: {why}"));
        status.set_type(if report.repeats.is_empty() { "not run" } else { "stopped" });
        TestCase::new("run", status)
    } else {
        TestCase::new("run", TestCaseStatus::success())
    };
    run.set_classname(name.as_str());
    run.set_time(producing);
    let mut out: Vec<String> = report
        .repeats
        .iter()
        .enumerate()
        .map(|(i, r)| format!("run {} ({}): produced for {} ms", i + 1, r.run_id, r.producing_ms))
        .collect();
    out.extend(report.notes.iter().map(|n| format!("note: {n}")));
    if !out.is_empty() {
        run.set_system_out(out.join("\n"));
    }
    suite.add_test_case(run);

    for result in &report.expectations {
        suite.add_test_case(case(name, result, report));
    }
    suite
}

fn case(scenario: &str, result: &ExpectationResult, report: &ScenarioReport) -> TestCase {
    let measured = common::measured(result);
    let mut case = if result.fails_run() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(format!("{} {}: measured {measured}, expected {}", result.producer, result.metric, result.expected));
        status.set_type("expectation");
        status.set_description(per_run(result, report));
        TestCase::new(common::expectation_label(result), status)
    } else {
        TestCase::new(common::expectation_label(result), TestCaseStatus::success())
    };
    case.set_classname(scenario);
    if !result.held && result.level == Level::Demonstration {
        // A demonstration that did not show stays a passing case, with the
        // warning in its output. It is not a failure: the run's exit code
        // does not fail on it either (timing on a loaded machine can hide
        // it), and CI must agree with the exit code. It is not "skipped"
        // either: skipped means "not run", but this check ran and measured
        // a value, and test-result views hide or discount skipped cases.
        case.set_system_out(format!(
            "demonstration did not show: measured {measured}, expected {} (a warning, not a failure)\n{}",
            result.expected,
            per_run(result, report)
        ));
    }
    case
}

/// One line per repeat: its run id and the measured value.
fn per_run(result: &ExpectationResult, report: &ScenarioReport) -> String {
    if result.measured.is_empty() {
        return "no run completed".to_string();
    }
    result
        .measured
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let id = report.repeats.get(i).map(|r| r.run_id.as_str()).unwrap_or("?");
            format!("run {} ({id}): {} {} = {value}, expected {}", i + 1, result.producer, result.metric, result.expected)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
