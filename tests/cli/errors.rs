//! The `faultlab` binary on broken scenario files and bad flags: exit code 2,
//! and an error on stderr that names the file, the line and column, the
//! field and what is accepted. Nothing here starts a broker: every case
//! fails while the files are read, before `run` starts anything (a guard
//! kills the binary if one ever gets further).

use crate::cli_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_support::Outcome;

use tempfile::TempDir;

const USAGE: i32 = 2;

/// How long a failing invocation may take; reading a file takes
/// milliseconds, so reaching this means the binary started a run.
const GUARD: Duration = Duration::from_secs(60);

fn faultlab(args: &[&str], dir: &Path) -> Outcome {
    cli_support::run(&mut cli_support::command(args, dir), GUARD, "it got past reading the files")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small valid scenario; each case changes one line of it.
const VALID: &str = r#"name = "valid"
description = "A valid scenario."

[workload]
messages = 10

[[producers]]
name = "plain"
preset = "plain"

[[faults]]
type = "latency"
at = "1s"
duration = "2s"
attributes = { latency = 3000 }
"#;

/// One broken file: the change, and what its error must say.
struct Case {
    what: &'static str,
    from: &'static str,
    to: &'static str,
    /// 1-based line of the mistake.
    line: usize,
    field: &'static str,
    /// Words of the message, including what would be accepted.
    words: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        what: "misspelt field",
        from: "messages = 10",
        to: "mesages = 10",
        line: 5,
        field: "workload.mesages",
        words: &["unknown field", "did you mean `messages`?", "accepted: messages, rate, partitions"],
    },
    Case {
        what: "wrong type",
        from: "messages = 10",
        to: "messages = \"ten\"",
        line: 5,
        field: "workload.messages",
        words: &["wrong type", "expected an integer", "found string"],
    },
    Case {
        what: "negative duration",
        from: "at = \"1s\"",
        to: "at = \"-1s\"",
        line: 13,
        field: "faults[0].at",
        words: &["cannot be negative", "accepted:", "\"1.5s\""],
    },
    Case {
        what: "negative duration as a number",
        from: "duration = \"2s\"",
        to: "duration = -2",
        line: 14,
        field: "faults[0].duration",
        words: &["cannot be negative", "accepted:", "\"300ms\""],
    },
    Case {
        what: "unknown fault type",
        from: "type = \"latency\"",
        to: "type = \"latancy\"",
        line: 12,
        field: "faults[0].type",
        words: &["unknown fault type `latancy`", "did you mean `latency`?", "accepted: latency, bandwidth"],
    },
    // Issue 13's item 1: each of these once passed validate and then
    // panicked or failed the run.
    Case {
        what: "a rate too slow for a Duration",
        from: "messages = 10",
        to: "messages = 10\nrate = 1e-300",
        line: 6,
        field: "workload.rate",
        words: &["`1e-300`", "accepted: a number from 0.01 to 1000000"],
    },
    Case {
        what: "a start time beyond the clock",
        from: "at = \"1s\"",
        to: "at = \"18446744073709551615s\"",
        line: 13,
        field: "faults[0].at",
        words: &["longer than a run may be", "accepted: at most \"1h\""],
    },
    Case {
        what: "a start time in hours beyond the clock",
        from: "at = \"1s\"",
        to: "at = \"5000000000000000h\"",
        line: 13,
        field: "faults[0].at",
        words: &["accepted: at most \"1h\""],
    },
    Case {
        what: "a setting librdkafka refuses",
        from: "preset = \"plain\"",
        to: "preset = \"plain\"\nsettings = { \"linger.ms\" = \"soon\" }",
        line: 10,
        field: "producers[0].settings.\"linger.ms\"",
        words: &["librdkafka refuses", "queue.buffering.max.ms", "CONFIGURATION.md"],
    },
    // Item 2: no bounds on the work.
    Case {
        what: "too many messages",
        from: "messages = 10",
        to: "messages = 1000000000000",
        line: 5,
        field: "workload.messages",
        words: &["accepted: at most 2000000 messages in a run"],
    },
    Case {
        what: "too many partitions",
        from: "messages = 10",
        to: "messages = 10\npartitions = 100000",
        line: 6,
        field: "workload.partitions",
        words: &["accepted: an integer from 1 to 1000"],
    },
];

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn broken(case: &Case) -> String {
    assert!(VALID.contains(case.from), "{}: `{}` is not in the valid file", case.what, case.from);
    VALID.replacen(case.from, case.to, 1)
}

/// Exit code 2, no panic, and one error line that starts with
/// `<path>:<line>:<column>:` and names the field and the words.
#[track_caller]
fn assert_points_at(outcome: &Outcome, path: &Path, case: &Case) {
    let shown = outcome.shown();
    assert_eq!(outcome.code, Some(USAGE), "{}: {shown}", case.what);
    assert_no_panic(outcome);
    let errors: Vec<&str> = outcome.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}: one error line: {shown}", case.what);
    let error = errors[0].strip_prefix("error: ").unwrap();
    let location = format!("{}:{}:", path.display(), case.line);
    let rest =
        error.strip_prefix(&location).unwrap_or_else(|| panic!("{}: the error does not start with `{location}`: {shown}", case.what));
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    assert!(!column.is_empty() && rest[column.len()..].starts_with(": "), "{}: no column after `{location}`: {shown}", case.what);
    assert!(error.contains(&format!("field `{}`", case.field)), "{}: field `{}` not named: {shown}", case.what, case.field);
    for word in case.words {
        assert!(error.contains(word), "{}: `{word}` missing: {shown}", case.what);
    }
}

#[track_caller]
fn assert_no_panic(outcome: &Outcome) {
    for text in [&outcome.stdout, &outcome.stderr] {
        assert!(!text.contains("panicked") && !text.contains("RUST_BACKTRACE") && !text.contains("stack backtrace"), "{}", outcome.shown());
    }
}

#[test]
fn the_valid_file_is_valid() {
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "valid.toml", VALID);
    let outcome = faultlab(&["validate", path.to_str().unwrap()], dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.shown());
    assert!(outcome.stdout.contains("valid.toml"), "{}", outcome.shown());
}

#[test]
fn validate_points_at_the_line_field_and_what_is_accepted() {
    let dir = TempDir::new().unwrap();
    for (i, case) in CASES.iter().enumerate() {
        let path = write(dir.path(), &format!("broken-{i}.toml"), &broken(case));
        let outcome = faultlab(&["validate", path.to_str().unwrap()], dir.path());
        assert_points_at(&outcome, &path, case);
        assert!(outcome.stdout.is_empty(), "{}: {}", case.what, outcome.shown());
    }
}

#[test]
fn run_points_at_the_line_and_prints_nothing_on_stdout() {
    let dir = TempDir::new().unwrap();
    for (i, case) in CASES.iter().enumerate() {
        let path = write(dir.path(), &format!("broken-{i}.toml"), &broken(case));
        let outcome = faultlab(&["run", path.to_str().unwrap()], dir.path());
        assert_points_at(&outcome, &path, case);
        assert!(outcome.stdout.is_empty(), "{}: {}", case.what, outcome.shown());
    }
}

/// A relative path is shown as given, so the location can be clicked in a
/// terminal opened where the command ran.
#[test]
fn relative_paths_are_shown_as_given() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write(&dir.path().join("sub"), "typo.toml", &broken(&CASES[0]));
    let outcome = faultlab(&["validate", "sub/typo.toml"], dir.path());
    assert_points_at(&outcome, Path::new("sub/typo.toml"), &CASES[0]);
}

#[test]
fn nonexistent_path() {
    let dir = TempDir::new().unwrap();
    for command in ["validate", "run", "list"] {
        let outcome = faultlab(&[command, "no-such-scenario.toml"], dir.path());
        let shown = outcome.shown();
        assert_eq!(outcome.code, Some(USAGE), "{command}: {shown}");
        assert_no_panic(&outcome);
        assert!(outcome.stderr.contains("error: no-such-scenario.toml: no such file or directory"), "{command}: {shown}");
        assert!(outcome.stdout.is_empty(), "{command}: {shown}");
    }
}

/// A directory is read whole before anything runs: one broken file stops
/// it, the error names that file and not the valid one.
#[test]
fn directory_with_a_valid_and_a_broken_file() {
    let dir = TempDir::new().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "a-valid.toml", VALID);
    let broken_path = write(&scenarios, "b-broken.toml", &broken(&CASES[4]));
    for command in ["validate", "run", "list"] {
        let outcome = faultlab(&[command, scenarios.to_str().unwrap()], dir.path());
        assert_points_at(&outcome, &broken_path, &CASES[4]);
        assert!(!outcome.stderr.contains("a-valid.toml"), "{command}: {}", outcome.shown());
        assert!(outcome.stdout.is_empty(), "{command}: {}", outcome.shown());
    }
}

#[test]
fn every_broken_file_of_a_directory_is_reported() {
    let dir = TempDir::new().unwrap();
    let paths: Vec<PathBuf> = CASES.iter().enumerate().map(|(i, case)| write(dir.path(), &format!("{i}.toml"), &broken(case))).collect();
    let outcome = faultlab(&["validate", dir.path().to_str().unwrap()], dir.path());
    assert_eq!(outcome.code, Some(USAGE), "{}", outcome.shown());
    assert_no_panic(&outcome);
    for (path, case) in paths.iter().zip(CASES) {
        let location = format!("error: {}:{}:", path.display(), case.line);
        assert!(outcome.stderr.contains(&location), "{}: `{location}` missing: {}", case.what, outcome.shown());
    }
}

#[test]
fn bundled_scenarios_validate() {
    let outcome = faultlab(&["validate", "scenarios/"], &repo());
    assert_eq!(outcome.code, Some(0), "{}", outcome.shown());
    assert_no_panic(&outcome);
    assert!(!outcome.stderr.contains("error"), "{}", outcome.shown());
    let files = faultlab::scenario::collect(&[repo().join("scenarios")]).unwrap();
    assert!(!files.is_empty());
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(outcome.stdout.lines().any(|l| l.starts_with("ok") && l.contains(name)), "{name}: {}", outcome.shown());
    }
}

#[test]
fn list_prints_every_scenario_name() {
    let outcome = faultlab(&["list", "scenarios/"], &repo());
    assert_eq!(outcome.code, Some(0), "{}", outcome.shown());
    assert_no_panic(&outcome);
    let files = faultlab::scenario::collect(&[repo().join("scenarios")]).unwrap();
    for file in files {
        let scenario = faultlab::scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            outcome.stdout.lines().any(|l| l.split_whitespace().next() == Some(scenario.name.as_str())),
            "`{}` not listed: {}",
            scenario.name,
            outcome.shown()
        );
    }
}

/// Bad flags are clap's errors: exit code 2, naming the flag and the value.
#[test]
fn bad_flags_name_the_flag() {
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "x.toml", VALID);
    let path = path.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["run", "--repeat", "0", path], &["--repeat", "'0'", "1.."]),
        (&["run", "--backend", "nope", path], &["--backend", "'nope'", "possible values", "embedded"]),
        (&["run", "--seed=-3", path], &["--seed", "'-3'"]),
        (&["run", "--seed", "many", path], &["--seed", "'many'"]),
        (&["run", "--repat", "2", path], &["--repat", "--repeat"]),
        (&["validate"], &["<PATHS>"]),
        (&["frobnicate"], &["frobnicate"]),
    ];
    for (args, words) in cases {
        let outcome = faultlab(args, dir.path());
        let shown = format!("faultlab {}: {}", args.join(" "), outcome.shown());
        assert_eq!(outcome.code, Some(USAGE), "{shown}");
        assert_no_panic(&outcome);
        assert!(outcome.stderr.starts_with("error: "), "{shown}");
        for word in *words {
            assert!(outcome.stderr.contains(word), "`{word}` missing: {shown}");
        }
        assert!(outcome.stdout.is_empty(), "{shown}");
    }
}
