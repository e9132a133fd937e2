//! Scenario files: one valid file in full, then one test per kind of
//! mistake, each checking the line and the words a user needs.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod broker_faults;
mod errors;
mod java;
mod limits;

use super::kafka::{ErrorName, RequestType};
use super::*;
use crate::proxy::toxic::Stream;

const FULL: &str = r#"name = "response-delay"
description = "One paragraph."
observe = "What to look at in the report (for the class)."
seed = 42
repeat = 2

[workload]
messages = 1000
rate = 200
partitions = 3
key = { spread = 8 }
payload_bytes = 16

[client]
"socket.timeout.ms" = 2000
"message.timeout.ms" = 60000
"socket.keepalive.enable" = true
"retry.backoff.ms" = 1.5
"compression.type" = "lz4"

[[producers]]
name = "plain"
preset = "plain"
settings = { "linger.ms" = 5, "acks" = "0" }

[[producers]]
name = "idem_1"
preset = "idempotent"

[[producers]]
name = "bare"
preset = "none"

[[faults]]
type = "latency"
stream = "upstream"
toxicity = 0.5
at = "2s"
duration = "1.5s"
name = "slow-responses"
attributes = { latency = 3000, jitter = 10 }

[[faults]]
type = "latency"
at = "300ms"

[[expect]]
producer = "plain"
level = "demonstration"
duplicates = ">= 1"
lost = 0

[[expect]]
producer = "idem_1"
duplicates = "0"
reordered = "< 3"
acked = "990..1000"
"#;

fn parse_ok(text: &str) -> Scenario {
    match parse(text, Path::new("t.toml")) {
        Ok(s) => s,
        Err(e) => panic!("expected a valid scenario, got: {e}"),
    }
}

fn parse_err(text: &str) -> ScenarioError {
    match parse(text, Path::new("t.toml")) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    }
}

/// The error's line, field and message contain what a user needs.
#[track_caller]
fn assert_error(text: &str, line: usize, field: &str, words: &[&str]) -> ScenarioError {
    let e = parse_err(text);
    let shown = e.to_string();
    assert_eq!(e.line, Some(line), "line of: {shown}");
    assert!(e.column.is_some(), "column of: {shown}");
    assert_eq!(e.field.as_deref(), Some(field), "field of: {shown}");
    for w in words {
        assert!(shown.contains(w), "`{w}` missing from: {shown}");
    }
    assert!(shown.starts_with(&format!("t.toml:{line}:")), "{shown}");
    e
}

/// A small valid file; tests append to it or replace a line of it.
const BASE: &str = "name = \"x\"\ndescription = \"d\"\n[workload]\nmessages = 10\n[[producers]]\nname = \"plain\"\npreset = \"plain\"\n";

fn base_with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn full_file_parses_into_the_model() {
    let s = parse_ok(FULL);
    assert_eq!(s.name, "response-delay");
    assert_eq!(s.observe.as_deref(), Some("What to look at in the report (for the class)."));
    assert_eq!((s.seed, s.repeat), (Some(42), 2));
    assert_eq!(s.workload, Workload { messages: 1000, rate: Some(200.0), partitions: 3, key: KeyStrategy::Spread(8), payload_bytes: 16 });
    assert_eq!(s.client["socket.timeout.ms"], "2000");
    assert_eq!(s.client["socket.keepalive.enable"], "true");
    assert_eq!(s.client["retry.backoff.ms"], "1.5");
    assert_eq!(s.client["compression.type"], "lz4");
    let names: Vec<_> = s.producers.iter().map(|p| (p.name.as_str(), p.preset)).collect();
    assert_eq!(names, [("plain", Preset::Plain), ("idem_1", Preset::Idempotent), ("bare", Preset::None)]);

    let f = &s.faults[0];
    assert_eq!((f.name.as_str(), f.stream, f.toxicity), ("slow-responses", Stream::Upstream, 0.5));
    assert_eq!((f.at, f.duration), (Duration::from_secs(2), Some(Duration::from_millis(1500))));
    assert_eq!(f.kind.type_name(), "latency");
    let json = serde_json::to_value(&f.kind).unwrap();
    assert_eq!(json["attributes"]["latency"], 3000);
    assert_eq!(json["attributes"]["jitter"], 10);
    let toxic = f.toxic().expect("a latency fault is a toxic");
    assert_eq!((toxic.name.as_str(), toxic.stream, toxic.toxicity), ("slow-responses", Stream::Upstream, 0.5));
    // Defaults: downstream, full toxicity, until the end, "<type>_<stream>_<index>".
    let g = &s.faults[1];
    assert_eq!((g.name.as_str(), g.stream, g.toxicity, g.duration), ("latency_downstream_1", Stream::Downstream, 1.0, None));
    assert_eq!(g.at, Duration::from_millis(300));

    let expectations = s.expectations();
    let e: Vec<_> = expectations.iter().map(|e| (e.producer.as_str(), e.metric, e.bound, e.level)).collect();
    assert_eq!(
        e,
        [
            ("plain", Metric::Duplicates, Bound::AtLeast(1), Level::Demonstration),
            ("plain", Metric::Lost, Bound::Exactly(0), Level::Demonstration),
            ("idem_1", Metric::Duplicates, Bound::Exactly(0), Level::Required),
            ("idem_1", Metric::Reordered, Bound::AtMost(2), Level::Required),
            ("idem_1", Metric::Acked, Bound::Between(990, 1000), Level::Required),
        ]
    );
    assert_eq!(s.source, PathBuf::from("t.toml"));
}

#[test]
fn full_file_round_trips_through_json() {
    let s = parse_ok(FULL);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["faults"][0]["at"], "2s");
    assert_eq!(json["faults"][0]["duration"], "1.5s");
    assert_eq!(json["faults"][0]["type"], "latency");
    assert_eq!(json["expect"][0]["duplicates"], ">= 1");
    assert_eq!(json["expect"][0]["level"], "demonstration");
    assert_eq!(json["workload"]["key"]["spread"], 8);
    // The file's path is not part of the scenario's form (a report writes
    // it next to the scenario).
    assert!(json.get("source").is_none(), "{json}");
    let back: Scenario = serde_json::from_value(json).unwrap();
    assert_eq!(Scenario { source: s.source.clone(), ..back }, s);
}

#[test]
fn defaults_of_a_minimal_file() {
    let s = parse_ok(BASE);
    assert_eq!((s.seed, s.repeat, s.observe.as_deref()), (None, 1, None));
    assert_eq!(s.workload, Workload { messages: 10, rate: None, partitions: 1, key: KeyStrategy::EventId, payload_bytes: 0 });
    assert!(s.client.is_empty() && s.faults.is_empty() && s.expect.is_empty());
    let s = parse_ok(&BASE.replace("messages = 10", "messages = 10\nkey = { fixed = \"account-7\" }"));
    assert_eq!(s.workload.key, KeyStrategy::Fixed("account-7".into()));
    let s = parse_ok(&BASE.replace("messages = 10", "messages = 10\nkey = \"event-id\""));
    assert_eq!(s.workload.key, KeyStrategy::EventId);
}

#[test]
fn effective_settings_are_preset_then_client_then_producer() {
    let s = parse_ok(FULL);
    let plain = s.effective_settings(&s.producers[0]);
    assert_eq!(plain["acks"], "0"); // producer settings win over the preset
    assert_eq!(plain["enable.idempotence"], "false");
    assert_eq!(plain["linger.ms"], "5");
    assert_eq!(plain["socket.timeout.ms"], "2000");
    let idem = s.effective_settings(&s.producers[1]);
    assert_eq!((idem["acks"].as_str(), idem["enable.idempotence"].as_str()), ("all", "true"));
    let bare = s.effective_settings(&s.producers[2]);
    assert!(!bare.contains_key("acks"));
    assert_eq!(bare.len(), s.client.len());
    let client_wins = parse_ok(&BASE.replace("[[producers]]", "[client]\nacks = \"all\"\n[[producers]]"));
    assert_eq!(client_wins.effective_settings(&client_wins.producers[0])["acks"], "all");
}

#[test]
fn every_metric_is_an_expect_key() {
    let keys: Vec<String> = Metric::EXPECTABLE.iter().map(|m| format!("{} = 0", m.name())).collect();
    let s = parse_ok(&base_with(&format!("[[expect]]\nproducer = \"plain\"\n{}\n", keys.join("\n"))));
    let metrics: Vec<Metric> = s.expectations().iter().map(|e| e.metric).collect();
    assert_eq!(metrics, Metric::EXPECTABLE);
    for m in Metric::EXPECTABLE {
        assert_eq!(Metric::from_name(m.name()), Some(m));
        assert_eq!(serde_json::to_value(m).unwrap(), m.name());
    }
}

// ---- durations, bounds, files --------------------------------------------

#[test]
fn duration_parser() {
    let ok = |s: &str| parse_duration(s).unwrap();
    assert_eq!(ok("1.5s"), Duration::from_millis(1500));
    assert_eq!(ok("300ms"), Duration::from_millis(300));
    assert_eq!(ok("2m"), Duration::from_secs(120));
    assert_eq!(ok("0s"), Duration::ZERO);
    assert_eq!(ok("1500us"), Duration::from_micros(1500));
    assert_eq!(ok("1h"), Duration::from_secs(3600));
    assert_eq!(ok("0.1s"), Duration::from_millis(100));
    assert_eq!(ok(".5s"), Duration::from_millis(500));
    assert_eq!(ok(" 2 s "), Duration::from_secs(2));
    assert_eq!(ok("250ns"), Duration::from_nanos(250));
    for bad in ["", "s", "1", "-1s", "1.2.3s", "1sec", "1 s s", "abc", "1e3ms", "99999999999999999999999999h", "."] {
        assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
    }
    assert!(parse_duration("-1s").unwrap_err().0.contains("cannot be negative"));
    assert!(parse_duration("5").unwrap_err().0.contains("no unit"));
}

#[test]
fn duration_format_round_trips() {
    assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(format_duration(Duration::from_millis(300)), "300ms");
    assert_eq!(format_duration(Duration::ZERO), "0s");
    assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
    assert_eq!(format_duration(Duration::from_micros(20)), "20us");
    for nanos in [1, 999, 1_000, 1_234_567, 999_999_999, 1_000_000_001, 61_500_000_000, 7_200_000_000_000, u64::MAX] {
        let d = Duration::from_nanos(nanos);
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{}", format_duration(d));
    }
}

#[test]
fn bound_parsing_display_and_holds() {
    let p = |s: &str| Bound::parse(s).unwrap();
    assert_eq!(p("3"), Bound::Exactly(3));
    assert_eq!(p(">= 1"), Bound::AtLeast(1));
    assert_eq!(p(">0"), Bound::AtLeast(1));
    assert_eq!(p("<= 5"), Bound::AtMost(5));
    assert_eq!(p("< 5"), Bound::AtMost(4));
    assert_eq!(p("1..5"), Bound::Between(1, 5));
    assert_eq!(p(" 2 ..= 2 "), Bound::Between(2, 2));
    for bad in ["", ">=", "x", "< 0", "-1", ">= -1", "5..1", "1..", "1...5", "1..5..6"] {
        assert!(Bound::parse(bad).is_err(), "{bad:?} should be refused");
    }
    for (b, shown) in [(Bound::Exactly(0), "0"), (Bound::AtLeast(1), ">= 1"), (Bound::AtMost(5), "<= 5"), (Bound::Between(1, 5), "1..5")] {
        assert_eq!(b.to_string(), shown);
        assert_eq!(Bound::parse(shown).unwrap(), b);
    }
    assert!(Bound::Exactly(0).holds(0) && !Bound::Exactly(0).holds(1));
    assert!(Bound::AtLeast(1).holds(1) && !Bound::AtLeast(1).holds(0));
    assert!(Bound::AtMost(5).holds(5) && !Bound::AtMost(5).holds(6));
    assert!(Bound::Between(1, 5).holds(1) && Bound::Between(1, 5).holds(5));
    assert!(!Bound::Between(1, 5).holds(0) && !Bound::Between(1, 5).holds(6));
}

#[test]
fn collect_expands_directories_sorted() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["b.toml", "a.toml", "notes.md"] {
        std::fs::write(dir.path().join(name), BASE).unwrap();
    }
    std::fs::create_dir(dir.path().join("sub.toml")).unwrap(); // a directory, not a file
    let single = dir.path().join("notes.md");
    let files = collect(&[dir.path().to_path_buf(), single.clone()]).unwrap();
    assert_eq!(files, [dir.path().join("a.toml"), dir.path().join("b.toml"), single]);

    let missing = dir.path().join("missing.toml");
    let e = collect(std::slice::from_ref(&missing)).unwrap_err();
    assert_eq!((e.file, e.line), (missing.clone(), None));
    let empty = tempfile::tempdir().unwrap();
    assert!(collect(&[empty.path().to_path_buf()]).unwrap_err().message.contains("no .toml"));

    assert!(load(&missing).unwrap_err().message.contains("not found"));
    let s = load(&dir.path().join("a.toml")).unwrap();
    assert_eq!(s.source, dir.path().join("a.toml"));
}

#[test]
fn every_shipped_scenario_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    if !dir.is_dir() {
        return;
    }
    for file in collect(&[dir]).unwrap() {
        if let Err(e) = load(&file) {
            panic!("{e}");
        }
    }
}
