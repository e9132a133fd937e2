//! The report's JSON form with the chart series, and the fixture the other
//! report tests build on.

#[allow(dead_code)]
use super::report_support;

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

/// Every field of the JSON report is documented in docs/report-json.md, and
/// every documented field exists: a field added, renamed or dropped without
/// the document fails here. The scenario, the settings and the fault are
/// described as wholes there (their fields are the scenario file's), so
/// the walk stops at them.
#[test]
fn every_field_is_documented_and_every_documented_field_exists() {
    const WHOLES: &[&str] = &["scenarios[].scenario", "scenarios[].repeats[].producers[].settings", "scenarios[].repeats[].faults[].fault"];
    fn walk(value: &serde_json::Value, path: String, out: &mut std::collections::BTreeSet<String>) {
        if !path.is_empty() {
            out.insert(path.clone());
        }
        if WHOLES.contains(&path.as_str()) {
            return;
        }
        match value {
            serde_json::Value::Object(fields) => {
                for (name, field) in fields {
                    walk(field, if path.is_empty() { name.clone() } else { format!("{path}.{name}") }, out);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut report = fixture::report();
    // The fixture has no warning lines; one makes `samples[]` appear.
    report.scenarios[0].repeats[0].producers[0].events.samples.push("REQTMOUT".into());
    // Nor a fault that went wrong, nor a scenario that could not run.
    report.scenarios[0].repeats[0].faults[0].notes.push("removing toxic x from proxy kafka-1 took 30.0 s".into());
    // Nor a Kafka toxic's count of requests.
    report.scenarios[0].repeats[0].faults[0].requests = Some(faultlab::proxy::Requests { seen: 9, matched: 4, acted: 1 });
    report.scenarios[2].error = Some("starting the local backend: no java".into());
    let mut in_report = std::collections::BTreeSet::new();
    walk(&serde_json::to_value(&report).unwrap(), String::new(), &mut in_report);

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report-json.md")).unwrap();
    let documented: std::collections::BTreeSet<String> = doc
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(path, _)| path.to_string())
        .collect();
    let undocumented: Vec<_> = in_report.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&in_report).collect();
    assert!(undocumented.is_empty(), "fields missing from docs/report-json.md: {undocumented:?}");
    assert!(missing.is_empty(), "documented but not in the report: {missing:?}");
}

/// A saved run of another schema version is refused by name, not with
/// whichever field moved first.
#[test]
fn another_schema_version_is_refused_with_both_versions() {
    let mut json = serde_json::to_value(fixture::report()).unwrap();
    json["schema_version"] = 1.into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let error = faultlab::report::json::read(&path).unwrap_err().to_string();
    assert!(error.contains("schema version 1"), "{error}");
    assert!(error.contains(&format!("reads version {}", faultlab::report::SCHEMA_VERSION)), "{error}");
}
