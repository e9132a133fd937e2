//! Fuzzing the scenario loader: the files in scenarios/, mutated the way a
//! hostile (or tired) user would (numbers replaced by extremes, lines
//! deleted, duplicated or inserted, bytes flipped), must
//!
//! 1. never make `validate` panic: every file is accepted or refused with
//!    an error naming a line; and
//! 2. whatever `validate` accepts, the run's set-up accepts: its plan
//!    (every number the run derives from the file) is computed without
//!    error, and librdkafka creates every direct producer.
//!
//! `cargo test` runs 600 cases (a few seconds); FAULTLAB_FUZZ_CASES=100000
//! runs longer. A failure prints the mutated file (proptest shrinks it).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use faultlab::run::producer::RecordingProducer;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The scenario files the mutations start from.
fn seeds() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the seed files are in scenarios/");
    files
}

/// Values a number or a string in a file can be replaced with: the edges of
/// every type and of every limit, and the inputs that once broke a run.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "-0.0",
    "1e-300",
    "1e300",
    "nan",
    "inf",
    "-inf",
    "0.009",
    "0.01",
    "1000000",
    "1000001",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "1000000000000",
    "100000",
    "1000",
    "1001",
    "900000",
    "900001",
    "2000000",
    "2000001",
    "3600000",
    "3600001",
    "\"18446744073709551615s\"",
    "\"5000000000000000h\"",
    "\"1h\"",
    "\"3600.000000001s\"",
    "\"60m\"",
    "\"0s\"",
    "\"0.000000001ns\"",
    "\"1e3s\"",
    "\"-1s\"",
    "\"\"",
    "\"x\"",
    "true",
    "[]",
    "{}",
    "\"all\"",
    "\"-1\"",
];

/// Lines inserted whole: settings librdkafka refuses or bounds, and tables
/// that repeat or contradict what the file has.
const LINES: &[&str] = &[
    "repeat = 4294967295",
    "repeat = 100",
    "brokers = 9",
    "[workload]\nmessages = 2000000\n",
    "partitions = 1000",
    "rate = 0.01",
    "payload_bytes = 900000",
    "[client]\n\"message.timeout.ms\" = 2147483647",
    "[client]\n\"linger.ms\" = \"soon\"",
    "[client]\n\"no.such.property\" = 1",
    "[client]\n\"acks\" = \"0\"",
    "[[producers]]\nname = \"extra\"\npreset = \"idempotent\"\nsettings = { acks = \"1\" }",
    "[[producers]]\nname = \"http\"\npreset = \"plain\"\ndriver = \"http\"",
    "[[faults]]\ntype = \"latency\"\nat = \"1h\"\nduration = \"1h\"\nattributes = { latency = 3600000, jitter = 3600000 }",
    "[[faults]]\ntype = \"timeout\"\nat = \"0s\"\nattributes = { timeout = 9223372036854775807 }",
    "[[faults]]\ntype = \"slicer\"\nat = \"0s\"\nattributes = { average_size = 1, delay = 3600000000 }",
    "[[faults]]\ntype = \"bandwidth\"\nat = \"0s\"\nattributes = { rate = 9223372036854775807 }",
    "[[faults]]\ntype = \"broker_rtt\"\nat = \"0s\"\nattributes = { broker = 1, rtt = 4294967295 }",
    "[[expect]]\nproducer = \"plain\"\nduplicates = \"0..18446744073709551615\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the n-th number or quoted string with an extreme.
    Replace(usize, &'static str),
    DeleteLine(usize),
    DuplicateLine(usize),
    InsertLine(usize, &'static str),
    /// Overwrite the byte at a position with a printable one.
    Flip(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), prop::sample::select(EXTREMES)).prop_map(|(n, v)| Mutation::Replace(n, v)),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        2 => (any::<usize>(), prop::sample::select(LINES)).prop_map(|(n, l)| Mutation::InsertLine(n, l)),
        1 => (any::<usize>(), 0x20u8..0x7f).prop_map(|(n, b)| Mutation::Flip(n, b)),
    ]
}

/// The spans of the values in `text` a `Replace` can hit: numbers, and
/// quoted strings after `=`.
fn values(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let after_equals = i >= 2 && text[..i].trim_end().ends_with('=');
        if bytes[i] == b'"' && after_equals {
            let end = text[i + 1..].find('"').map_or(bytes.len(), |e| i + e + 2);
            spans.push(i..end);
            i = end;
        } else if bytes[i].is_ascii_digit() && after_equals {
            let end = text[i..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_')).map_or(bytes.len(), |e| i + e);
            spans.push(i..end);
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    match *mutation {
        Mutation::Replace(n, value) => {
            let spans = values(text);
            if spans.is_empty() {
                return text.to_string();
            }
            let span = spans[n % spans.len()].clone();
            format!("{}{value}{}", &text[..span.start], &text[span.end..])
        }
        Mutation::DeleteLine(n) => {
            lines.remove(n % lines.len());
            lines.join("\n")
        }
        Mutation::DuplicateLine(n) => {
            let i = n % lines.len();
            lines.insert(i, lines[i]);
            lines.join("\n")
        }
        Mutation::InsertLine(n, line) => {
            lines.insert(n % (lines.len() + 1), line);
            lines.join("\n")
        }
        Mutation::Flip(n, byte) => {
            let mut bytes = text.as_bytes().to_vec();
            let i = n % bytes.len();
            bytes[i] = byte;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// Validate `text`; if accepted, set the run up as far as it goes without
/// a broker. Err describes what broke the promise.
fn check(source: &Path, text: &str) -> Result<bool, String> {
    let loaded = catch_unwind(AssertUnwindSafe(|| faultlab::scenario::parse(text, source))).map_err(|_| "validate panicked".to_string())?;
    let scenario = match loaded {
        Ok(scenario) => scenario,
        Err(error) if error.line.is_some() => return Ok(false),
        Err(error) => return Err(format!("refused without a line: {error}")),
    };
    faultlab::run::plan(&scenario).map_err(|e| format!("validate accepted it, the run's plan refused it: {e:#}"))?;
    for producer in scenario.producers.iter().filter(|p| p.http().is_none()) {
        let settings: BTreeMap<String, String> = scenario.effective_settings(producer);
        let started = tokio::time::Instant::now();
        RecordingProducer::new(&producer.name, "", &settings, started)
            .map_err(|e| format!("validate accepted it, librdkafka refused producer {}: {e:#}", producer.name))?;
    }
    Ok(true)
}

#[test]
fn every_seed_file_is_accepted_and_set_up() {
    for (path, text) in seeds() {
        assert_eq!(check(&path, &text), Ok(true), "{}", path.display());
    }
}

#[test]
fn mutated_scenarios_never_panic_and_what_validate_accepts_runs() {
    let cases = std::env::var("FAULTLAB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let seeds = seeds();
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let accepted = std::cell::Cell::new(0u32);
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..4));
    // A panic inside validate is caught and reported as a failure, with the file.
    let result = runner.run(&strategy, |(seed, mutations)| {
        let (path, text) = &seeds[seed];
        let mutated = mutations.iter().fold(text.clone(), |t, m| apply(&t, m));
        let outcome = check(path, &mutated);
        prop_assert!(outcome.is_ok(), "{}\n--- {} mutated by {mutations:?} ---\n{mutated}", outcome.unwrap_err(), path.display());
        accepted.set(accepted.get() + u32::from(outcome == Ok(true)));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Mutations that keep a file valid must be a real share of the cases,
    // or the second promise is never exercised.
    println!("{cases} cases, {} accepted by validate", accepted.get());
    assert!(accepted.get() >= cases / 10, "only {} of {cases} mutated files were accepted", accepted.get());
}
