//! The Markdown report: valid GFM tables, escaped names, the settings in a
//! collapsible section, and the results the fixture implies.

#[allow(dead_code)]
use super::report_support;
use report_support as fixture;

use faultlab::report::markdown;

/// The cells of a table row, split at unescaped pipes (a backslash escapes
/// the character after it, so `\\|` is an escaped backslash and a pipe).
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    assert!(row.starts_with('|') && row.ends_with('|') && !row.ends_with("\\|"), "not a table row: {row}");
    let mut cells = vec![String::new()];
    let mut chars = row[1..row.len() - 1].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cells.last_mut().unwrap().push(c);
                cells.last_mut().unwrap().extend(chars.next());
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Every table: its rows' cells, header first (the delimiter row checked
/// and left out).
fn tables(markdown: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in markdown.lines().chain(std::iter::once("")) {
        if line.starts_with('|') {
            current.push(line);
        } else if !current.is_empty() {
            assert!(current.len() >= 3, "a table needs a header, a delimiter and a row: {current:?}");
            let delimiter = cells(current[1]);
            assert!(delimiter.iter().all(|c| c.trim_matches(':').chars().all(|x| x == '-') && c.contains("---")), "{current:?}");
            let mut rows = vec![cells(current[0])];
            rows.extend(current[2..].iter().map(|r| cells(r)));
            assert_eq!(delimiter.len(), rows[0].len(), "delimiter row of {current:?}");
            tables.push(rows);
            current.clear();
        }
    }
    tables
}

#[test]
fn every_table_row_has_its_header_column_count() {
    let md = markdown::render(&fixture::report());
    let tables = tables(&md);
    // summary; response-delay: producers, faults, settings; course:
    // producers, faults, settings; never-ran: settings.
    assert_eq!(tables.len(), 8, "{md}");
    for table in &tables {
        for row in table {
            assert_eq!(row.len(), table[0].len(), "row {row:?} of table with header {:?}", table[0]);
        }
    }
    let widths: Vec<usize> = tables.iter().map(|t| t[0].len()).collect();
    assert_eq!(widths, vec![5, 3, 6, 3, 3, 6, 3, 2]);
}

#[test]
fn summary_says_which_scenario_passed_and_lists_expectations() {
    let md = markdown::render(&fixture::report());
    let summary = &tables(&md)[0];
    assert_eq!(summary[0], vec!["scenario", "backend", "runs", "result", "expectations"]);
    let rows: Vec<(&str, &str, &str)> = summary[1..].iter().map(|r| (r[0].as_str(), r[2].as_str(), r[3].as_str())).collect();
    assert_eq!(
        rows,
        vec![("response-delay", "1", "✅ passed"), ("course-request-timeout", "2", "❌ failed"), ("never-ran", "0", "❌ failed"),]
    );
    let course = &summary[2][4];
    assert!(course.contains("⚠️ plain\\|acks=1: duplicates \\>= 1 (measured 0, 0)"), "{course}");
    assert!(course.contains("❌ idempotent: lost 0 (measured 0, 3)"), "{course}");
    assert!(md.starts_with("## ❌ faultlab: failed, 1 of 3 scenarios"), "{md}");
}

#[test]
fn pipes_in_names_and_notes_are_escaped() {
    let md = markdown::render(&fixture::report());
    assert!(md.contains("plain\\|acks=1"));
    assert!(!md.replace("\\|", "").contains("plain|acks"), "an unescaped pipe in a name");
    assert!(md.contains("transactional producers \\| beware"));
}

#[test]
fn producers_side_by_side_show_min_median_max_over_repeats() {
    let md = markdown::render(&fixture::report());
    let tables = tables(&md);
    let single = &tables[1];
    assert_eq!(single[0], vec!["metric", "plain", "idempotent"]);
    assert!(single.contains(&vec!["duplicates".to_string(), "500".to_string(), "0".to_string()]), "{single:?}");
    let repeated = &tables[4];
    assert_eq!(repeated[0], vec!["metric", "plain\\|acks=1", "idempotent"]);
    let lost = repeated.iter().find(|r| r[0] == "lost").unwrap();
    assert_eq!(lost[1..], ["0 / 0 / 0".to_string(), "0 / 1.5 / 3".to_string()]);
}

#[test]
fn fault_timeline_lists_each_run() {
    let md = markdown::render(&fixture::report());
    let faults = &tables(&md)[5];
    assert_eq!(faults[0], vec!["fault", "type", "stream", "toxicity", "attributes", "from → to"]);
    assert_eq!(faults[1][1], "latency");
    assert_eq!(faults[1][2], "downstream");
    assert!(faults[1][4].contains("\"latency\":1500"), "{:?}", faults[1]);
    assert_eq!(faults[1][5], "1s → 3s<br>1s → 3s");
}

#[test]
fn details_block_holds_the_effective_settings() {
    let md = markdown::render(&fixture::report());
    let blocks: Vec<&str> = md.split("<details>").skip(1).map(|b| b.split("</details>").next().unwrap()).collect();
    assert_eq!(blocks.len(), 3);
    assert_eq!(md.matches("</details>").count(), 3);
    let first = blocks[0];
    assert!(first.contains("<summary>Effective producer settings</summary>"));
    let settings = tables(first);
    assert_eq!(settings[0][0], vec!["setting", "plain", "idempotent"]);
    let row = |key: &str| settings[0].iter().find(|r| r[0] == key).cloned().unwrap_or_else(|| panic!("no {key} in {first}"));
    assert_eq!(row("acks"), vec!["acks", "1", "all"]);
    assert_eq!(row("enable.idempotence"), vec!["enable.idempotence", "false", "true"]);
    assert_eq!(row("socket.timeout.ms"), vec!["socket.timeout.ms", "2000", "2000"]);
    // A blank line after <summary> and before </details>, or GitHub shows
    // the table as text.
    assert!(first.contains("</summary>\n\n|") && first.ends_with("|\n\n"), "{first:?}");
}

#[test]
fn demonstration_and_failure_are_told_apart() {
    let md = markdown::render(&fixture::report());
    assert!(md.contains("- ⚠️ plain\\|acks=1: duplicates \\>= 1: measured 0, 0 — demonstration did not show"));
    assert!(md.contains("- ❌ idempotent: lost 0: measured 0, 3 — **failed**"));
    assert!(md.contains("**The scenario did not run**"));
}
