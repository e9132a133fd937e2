//! The report's JSON form with the chart series, and the fixture the other
//! report tests build on.

#[allow(dead_code)]
mod report_support;

use faultlab::report::RunReport;
use report_support as fixture;

#[test]
fn fixture_is_what_the_tests_assume() {
    let report = fixture::report();
    let held: Vec<Vec<bool>> = report.scenarios.iter().map(|s| s.expectations.iter().map(|e| e.held).collect()).collect();
    assert_eq!(held, vec![vec![true, true, true], vec![false, false], vec![false]]);
    assert_eq!(report.scenarios.iter().map(|s| s.passed()).collect::<Vec<_>>(), vec![true, false, false]);
}

#[test]
fn series_survive_json_and_old_reports_still_read() {
    let report = fixture::report();
    let json = serde_json::to_value(&report).unwrap();
    let back: RunReport = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.scenarios[0].repeats[0].series, report.scenarios[0].repeats[0].series);
    assert_eq!(back.scenarios[0].repeats[0].series[0].duplicates.len(), 100);

    // A report saved before `series` existed.
    let mut old = json;
    for scenario in old["scenarios"].as_array_mut().unwrap() {
        for repeat in scenario["repeats"].as_array_mut().unwrap() {
            repeat.as_object_mut().unwrap().remove("series");
        }
    }
    let back: RunReport = serde_json::from_value(old).unwrap();
    assert!(back.scenarios[0].repeats[0].series.is_empty());
}
