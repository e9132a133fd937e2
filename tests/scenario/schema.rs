//! The committed JSON Schema of scenario files (`scenarios/scenario.schema.json`)
//! is the one generated from the Rust types, and it accepts every scenario
//! in `scenarios/` and refuses broken ones.
//!
//! To regenerate the file after changing the scenario types:
//!
//! ```text
//! FAULTLAB_WRITE_SCHEMA=1 cargo test --release --test integration scenario::schema::
//! ```

use std::path::{Path, PathBuf};

use faultlab::scenario::scenario_schema;
use serde_json::Value;

const REGENERATE: &str = "FAULTLAB_WRITE_SCHEMA=1 cargo test --release --test integration scenario::schema::";

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn schema_path() -> PathBuf {
    scenarios_dir().join("scenario.schema.json")
}

/// The generated schema as the file holds it: pretty-printed, one trailing newline.
fn schema_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a JSON value serialises");
    text.push('\n');
    text
}

#[test]
fn committed_schema_is_the_generated_one() {
    let generated = scenario_schema();
    let path = schema_path();
    if std::env::var_os("FAULTLAB_WRITE_SCHEMA").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, schema_text(&generated)).expect("write scenarios/scenario.schema.json");
        eprintln!("wrote {}", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {}: {e}\ngenerate it with: {REGENERATE}", path.display());
    });
    let committed: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON ({e}); regenerate it with: {REGENERATE}", path.display()));
    assert!(
        committed == generated,
        "{} is stale: the scenario types changed since it was generated.\nRegenerate it with: {REGENERATE}",
        path.display()
    );
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"), "the file ends with exactly one newline");
}

fn validator() -> jsonschema::Validator {
    let schema = scenario_schema();
    jsonschema::meta::validate(&schema).expect("the schema is a valid JSON Schema");
    jsonschema::draft7::new(&schema).expect("the schema compiles as draft-07")
}

/// TOML text as the JSON value an editor checks against the schema.
fn toml_to_json(text: &str) -> Value {
    toml::from_str::<Value>(text).expect("valid TOML")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_file_validates() {
    let validator = validator();
    let files = scenario_files();
    assert!(!files.is_empty(), "scenarios/ has .toml files");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // The loader accepts it too: the schema is checked against files
        // that are known to be valid.
        faultlab::scenario::parse(&text, &file).unwrap_or_else(|e| panic!("{e}"));
        let found = errors(&validator, &toml_to_json(&text));
        assert!(found.is_empty(), "{} does not validate against the schema:\n{}", file.display(), found.join("\n"));
    }
}

/// A small valid file; the invalid documents below change one thing each.
const MINIMAL: &str = r#"
name = "minimal"
description = "Every optional part, once."
observe = "Nothing."
seed = 0
repeat = 2

[workload]
messages = 10
rate = 2.5
partitions = 2
key = { spread = 4 }
payload_bytes = 0

[client]
"socket.timeout.ms" = 2000
"enable.idempotence" = false
"compression.type" = "lz4"
"retry.backoff.ms" = 1.5

[[producers]]
name = "plain"
preset = "plain"
settings = { "linger.ms" = 5 }

[[producers]]
name = "idempotent_2"
preset = "idempotent"

[[faults]]
type = "latency"
stream = "upstream"
toxicity = 0.5
at = "1.5s"
duration = "300ms"
name = "slow"
attributes = { latency = 3000, jitter = 10 }

[[faults]]
type = "timeout"
at = "0s"

[[faults]]
type = "slicer"
at = "2m"
attributes = { average_size = 10, size_variation = 2, delay = 5 }

[[expect]]
producer = "plain"
level = "demonstration"
duplicates = ">= 1"
lost = 0
acked = "1..10"
"#;

#[test]
fn a_file_with_every_optional_part_validates() {
    faultlab::scenario::parse(MINIMAL, Path::new("minimal.toml")).unwrap_or_else(|e| panic!("{e}"));
    let found = errors(&validator(), &toml_to_json(MINIMAL));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Each change makes the file invalid for the loader and for the schema.
#[test]
fn broken_files_do_not_validate() {
    let validator = validator();
    let cases: &[(&str, &str, &str)] = &[
        ("misspelt top-level field", "repeat = 2", "repaet = 2"),
        ("misspelt workload field", "messages = 10", "mesages = 10"),
        ("misspelt fault field", "toxicity = 0.5", "toxcity = 0.5"),
        ("misspelt metric", "duplicates = \">= 1\"", "dupliactes = \">= 1\""),
        ("unknown attribute", "jitter = 10", "jiter = 10"),
        ("attribute of another toxic type", "{ latency = 3000, jitter = 10 }", "{ latency = 3000, rate = 10 }"),
        ("messages as a string", "messages = 10", "messages = \"10\""),
        ("messages zero", "messages = 10", "messages = 0"),
        ("rate zero", "rate = 2.5", "rate = 0"),
        ("negative seed", "seed = 0", "seed = -1"),
        ("repeat zero", "repeat = 2", "repeat = 0"),
        ("duration as a number", "at = \"1.5s\"", "at = 1.5"),
        ("negative duration", "at = \"1.5s\"", "at = \"-1.5s\""),
        ("duration without unit", "at = \"1.5s\"", "at = \"1.5\""),
        ("zero-length fault", "duration = \"300ms\"", "duration = \"0ms\""),
        ("unknown toxic type", "type = \"latency\"", "type = \"latancy\""),
        ("proxy_down with a toxic's fields", "type = \"latency\"", "type = \"proxy_down\""),
        ("unknown stream", "stream = \"upstream\"", "stream = \"up\""),
        ("toxicity above 1", "toxicity = 0.5", "toxicity = 1.5"),
        ("slicer without average_size", "average_size = 10, ", ""),
        ("unknown preset", "preset = \"plain\"", "preset = \"plane\""),
        ("producer name with capitals", "name = \"plain\"", "name = \"Plain\""),
        ("scenario name with spaces", "name = \"minimal\"", "name = \"a minimal one\""),
        ("empty description", "description = \"Every optional part, once.\"", "description = \"\""),
        ("unknown level", "level = \"demonstration\"", "level = \"demo\""),
        ("bound in words", "duplicates = \">= 1\"", "duplicates = \"at least 1\""),
        ("negative bound", "lost = 0", "lost = -1"),
        ("bound as a boolean", "lost = 0", "lost = false"),
        ("unknown key strategy", "key = { spread = 4 }", "key = \"random\""),
        ("spread of zero keys", "key = { spread = 4 }", "key = { spread = 0 }"),
        ("client value as an array", "\"compression.type\" = \"lz4\"", "\"compression.type\" = [\"lz4\"]"),
        ("unquoted dotted client key", "\"socket.timeout.ms\" = 2000", "socket.timeout.ms = 2000"),
        ("expect without a metric", "duplicates = \">= 1\"\nlost = 0\nacked = \"1..10\"\n", ""),
    ];
    let mut documents: Vec<(&str, String)> = cases
        .iter()
        .map(|(what, from, to)| {
            assert!(MINIMAL.contains(from), "{what}: `{from}` is not in the base file");
            (*what, MINIMAL.replacen(from, to, 1))
        })
        .collect();
    let before_producers = &MINIMAL[..MINIMAL.find("[[producers]]").unwrap()];
    documents.push(("no producers", format!("producers = []\n{before_producers}")));
    documents.push(("no workload", MINIMAL.replacen("[workload]", "[workloads]", 1)));
    for (what, text) in documents {
        assert!(
            faultlab::scenario::parse(&text, Path::new("broken.toml")).is_err(),
            "{what}: the loader accepts it, so the schema should too; fix the case"
        );
        let doc = toml_to_json(&text);
        assert!(!validator.is_valid(&doc), "{what}: the schema accepts:\n{text}");
    }
}

/// An editor reports where the problem is: the error of a misspelt field
/// names it, and the error of an unknown toxic type is at the fault.
#[test]
fn schema_errors_point_at_the_field() {
    let validator = validator();
    let doc = toml_to_json(&MINIMAL.replacen("messages = 10", "mesages = 10", 1));
    let found = errors(&validator, &doc);
    assert!(found.iter().any(|e| e.contains("mesages") && e.contains("/workload")), "{found:?}");
    let doc = toml_to_json(&MINIMAL.replacen("type = \"latency\"", "type = \"latancy\"", 1));
    let found = errors(&validator, &doc);
    assert!(found.iter().any(|e| e.contains("latancy") && e.contains("/faults/0/type")), "{found:?}");
}

/// The directive editors use to find the schema is an ordinary comment to
/// the loader.
#[test]
fn schema_directive_is_a_comment() {
    let path = scenarios_dir().join("response-delay.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("#:schema ./scenario.schema.json\n"), "{}", path.display());
    faultlab::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
}
