//! One test per kind of mistake in a scenario file: each checks the line,
//! the field path and the words a user needs to fix it.

use super::*;
use crate::proxy::toxic::ToxicKind;

#[test]
fn toml_syntax_error() {
    let e = parse_err("name = \"x\"\ndescription = \"d\n");
    assert_eq!((e.line, e.column, e.field.as_deref()), (Some(2), Some(17), None));
    assert!(e.to_string().starts_with("t.toml:2:17: "), "{e}");
    let e = parse_err("name = \"x\"\n[workload\n");
    assert_eq!((e.line, e.field), (Some(2), None));
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let e = parse_err("name = \"x\"\nname = \"y\"\n");
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("duplicate key"), "{e}");
}

#[test]
fn unknown_field_suggests_the_nearest() {
    let e = assert_error(
        &BASE.replace("messages = 10", "mesages = 10"),
        4,
        "workload.mesages",
        &["unknown field", "did you mean `messages`?", "accepted: messages, rate, partitions, key, payload_bytes"],
    );
    assert_eq!(e.column, Some(1));
    assert_error(&base_with("[[fault]]\ntype = \"latency\"\n"), 8, "fault", &["did you mean `faults`?"]);
    assert_error(&format!("bogus = 1\n{BASE}"), 1, "bogus", &["unknown field;", "accepted: name, description"]);
    assert_error(&base_with("bogus = 1\n"), 8, "producers[0].bogus", &["unknown field;", "accepted: name, preset, settings"]);
}

#[test]
fn unknown_field_inside_attributes() {
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\nattributes = { latncy = 3000 }\n");
    assert_error(&text, 11, "faults[0].attributes.latncy", &["did you mean `latency`?", "jitter"]);
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\n[faults.attributes]\nlatency = 1\njiter = 2\n");
    assert_error(&text, 13, "faults[0].attributes.jiter", &["did you mean `jitter`?"]);
}

#[test]
fn unknown_metric_in_expect() {
    let text = base_with("[[expect]]\nproducer = \"plain\"\ndupliactes = 1\n");
    assert_error(&text, 10, "expect[0].dupliactes", &["did you mean `duplicates`?", "possibly_persisted"]);
}

#[test]
fn wrong_types_say_what_is_accepted() {
    assert_error(&BASE.replace("messages = 10", "messages = \"ten\""), 4, "workload.messages", &["expected an integer", "string"]);
    assert_error(&BASE.replace("name = \"x\"", "name = 5"), 1, "name", &["expected a string"]);
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\nattributes = { latency = \"3s\" }\n");
    assert_error(&text, 11, "faults[0].attributes.latency", &["expected an integer"]);
    assert_error(
        &base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\ntoxicity = \"half\"\n"),
        11,
        "faults[0].toxicity",
        &["expected a number"],
    );
    assert_error(&base_with("[client]\n\"linger.ms\" = [1]\n"), 9, "client.\"linger.ms\"", &["string, integer, float or boolean"]);
}

#[test]
fn unquoted_dotted_client_key_is_explained() {
    assert_error(&base_with("[client]\nsocket.timeout.ms = 2000\n"), 9, "client.socket", &["quote the whole name"]);
}

#[test]
fn unknown_enum_values_list_the_accepted_ones() {
    assert_error(
        &BASE.replace("preset = \"plain\"", "preset = \"idempotant\""),
        7,
        "producers[0].preset",
        &["unknown value `idempotant`", "did you mean `idempotent`?", "plain, idempotent, none"],
    );
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\nstream = \"down\"\n");
    assert_error(&text, 11, "faults[0].stream", &["upstream, downstream"]);
    let text = base_with("[[expect]]\nproducer = \"plain\"\nlevel = \"optional\"\nlost = 0\n");
    assert_error(&text, 10, "expect[0].level", &["required, demonstration"]);
    assert_error(&BASE.replace("messages = 10", "messages = 10\nkey = \"id\""), 5, "workload.key", &["event-id", "spread"]);
    assert_error(
        &BASE.replace("messages = 10", "messages = 10\nkey = { fixd = \"a\" }"),
        5,
        "workload.key.fixd",
        &["did you mean `fixed`?"],
    );
}

#[test]
fn missing_required_fields() {
    assert_error(&BASE.replace("messages = 10", "rate = 5"), 3, "workload.messages", &["required field is missing", "integer >= 1"]);
    assert_error(&BASE.replace("name = \"x\"\n", ""), 1, "name", &["required field is missing"]);
    assert_error(&base_with("[[faults]]\ntype = \"latency\"\n"), 8, "faults[0].at", &["missing", "\"2s\""]);
    assert_error(&BASE.replace("preset = \"plain\"\n", ""), 5, "producers[0].preset", &["missing", "idempotent"]);
}

#[test]
fn duration_without_unit() {
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = 2\n");
    assert_error(&text, 10, "faults[0].at", &["write a unit", "\"2s\"", "\"2ms\""]);
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"2\"\n");
    assert_error(&text, 10, "faults[0].at", &["no unit", "\"2s\""]);
}

#[test]
fn negative_duration() {
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"-1s\"\n");
    assert_error(&text, 10, "faults[0].at", &["cannot be negative"]);
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\nduration = -3\n");
    assert_error(&text, 11, "faults[0].duration", &["cannot be negative"]);
}

#[test]
fn duration_with_unknown_unit_or_zero_length() {
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1sec\"\n");
    assert_error(&text, 10, "faults[0].at", &["unknown unit `sec`", "ms, s, m"]);
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\nduration = \"0s\"\n");
    assert_error(&text, 11, "faults[0].duration", &["cannot last 0s"]);
}

#[test]
fn duplicate_producer_names() {
    let text = base_with("[[producers]]\nname = \"plain\"\npreset = \"idempotent\"\n");
    assert_error(&text, 9, "producers[1].name", &["duplicate producer name `plain`", "line 6"]);
}

#[test]
fn invalid_producer_name() {
    assert_error(&BASE.replace("name = \"plain\"", "name = \"Plain One\""), 6, "producers[0].name", &["a-z", "`_`"]);
}

#[test]
fn no_producers() {
    let text = "name = \"x\"\ndescription = \"d\"\nproducers = []\n[workload]\nmessages = 10\n";
    assert_error(text, 3, "producers", &["at least one producer"]);
    let text = "name = \"x\"\ndescription = \"d\"\n[workload]\nmessages = 10\n";
    assert_error(text, 1, "producers", &["missing", "[[producers]]"]);
}

#[test]
fn expectation_for_unknown_producer() {
    let text = base_with("[[producers]]\nname = \"idem\"\npreset = \"idempotent\"\n[[expect]]\nproducer = \"idempotent\"\nlost = 0\n");
    assert_error(&text, 12, "expect[0].producer", &["unknown producer `idempotent`", "plain, idem"]);
}

#[test]
fn expectation_without_metric() {
    let text = base_with("[[expect]]\nproducer = \"plain\"\nlevel = \"required\"\n");
    assert_error(&text, 8, "expect[0]", &["no metric", "duplicates, lost"]);
}

#[test]
fn toxicity_out_of_range() {
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\ntoxicity = 1.5\n");
    assert_error(&text, 11, "faults[0].toxicity", &["`1.5` is out of range", "0.0 to 1.0"]);
    let text = base_with("[[faults]]\ntype = \"latency\"\nat = \"1s\"\ntoxicity = nan\n");
    assert_error(&text, 11, "faults[0].toxicity", &["out of range"]);
}

#[test]
fn unknown_toxic_type() {
    let text = base_with("[[faults]]\ntype = \"latancy\"\nat = \"1s\"\n");
    let accepted = format!("accepted: {}", ToxicKind::TYPE_NAMES.join(", "));
    assert_error(&text, 9, "faults[0].type", &["unknown fault type `latancy`", "did you mean `latency`?", &accepted]);
}

/// Attribute values the proxy would refuse when the fault starts are
/// refused while the file is read, at the attribute.
#[test]
fn attributes_the_proxy_cannot_run() {
    let text = base_with("[[faults]]\ntype = \"bandwidth\"\nat = \"1s\"\nattributes = { rate = -5 }\n");
    assert_error(&text, 11, "faults[0].attributes.rate", &["-5", "accepted"]);
    let text = base_with("[[faults]]\ntype = \"slicer\"\nat = \"1s\"\n\n[faults.attributes]\naverage_size = 10\nsize_variation = 20\n");
    assert_error(&text, 14, "faults[0].attributes.size_variation", &["20", "accepted"]);
    // Left out, the attributes are their defaults; the error is at the fault.
    let text = base_with("[[faults]]\ntype = \"slicer\"\nat = \"1s\"\n");
    assert_error(&text, 8, "faults[0].attributes.average_size", &["accepted: 1 or more"]);
}

#[test]
fn duplicate_fault_names() {
    let fault = "[[faults]]\ntype = \"latency\"\nat = \"1s\"\nname = \"slow\"\n";
    assert_error(&base_with(&format!("{fault}{fault}")), 12, "faults[1].name", &["duplicate fault name `slow`", "faults[0]"]);
}

#[test]
fn messages_zero() {
    assert_error(&BASE.replace("messages = 10", "messages = 0"), 4, "workload.messages", &["`0` is out of range", ">= 1"]);
    assert_error(&BASE.replace("messages = 10", "messages = -5"), 4, "workload.messages", &[">= 1"]);
}

#[test]
fn partitions_below_one() {
    let text = BASE.replace("messages = 10", "messages = 10\npartitions = 0");
    assert_error(&text, 5, "workload.partitions", &["out of range", "from 1 to 1000"]);
}

#[test]
fn other_workload_ranges() {
    assert_error(&BASE.replace("messages = 10", "messages = 10\nrate = 0"), 5, "workload.rate", &["`0`", "from 0.01 to 1000000"]);
    assert_error(&BASE.replace("messages = 10", "messages = 10\nkey = { spread = 0 }"), 5, "workload.key.spread", &[">= 1"]);
    assert_error(&BASE.replace("messages = 10", "messages = 10\npayload_bytes = -1"), 5, "workload.payload_bytes", &["from 0"]);
    assert_error(&BASE.replace("name = \"x\"", "name = \"x\"\nseed = -1"), 2, "seed", &[">= 0"]);
}

#[test]
fn bound_that_does_not_parse() {
    let text = base_with("[[expect]]\nproducer = \"plain\"\nduplicates = \"at least 1\"\n");
    assert_error(&text, 10, "expect[0].duplicates", &["not a bound", "\">= N\"", "\"N..M\""]);
    let text = base_with("[[expect]]\nproducer = \"plain\"\nlost = -1\n");
    assert_error(&text, 10, "expect[0].lost", &["cannot be negative"]);
    let text = base_with("[[expect]]\nproducer = \"plain\"\nlost = true\n");
    assert_error(&text, 10, "expect[0].lost", &["expected an integer N"]);
}

#[test]
fn range_with_min_above_max() {
    let text = base_with("[[expect]]\nproducer = \"plain\"\nacked = \"10..5\"\n");
    assert_error(&text, 10, "expect[0].acked", &["minimum 10 is greater than its maximum 5"]);
}

#[test]
fn repeat_zero() {
    assert_error(&BASE.replace("name = \"x\"", "name = \"x\"\nrepeat = 0"), 2, "repeat", &["out of range", "from 1"]);
}

#[test]
fn name_with_invalid_characters() {
    assert_error(&BASE.replace("name = \"x\"", "name = \"Response Delay\""), 1, "name", &["`Response Delay`", "a-z", "topic names"]);
    assert_error(&BASE.replace("description = \"d\"", "description = \" \""), 2, "description", &["must not be empty"]);
}

#[test]
fn no_input_panics() {
    // Every prefix of a valid file, and a few oddities, give a result, not a panic.
    for end in 0..=FULL.len() {
        if FULL.is_char_boundary(end) {
            let _ = parse(&FULL[..end], Path::new("t.toml"));
        }
    }
    for text in [
        "",
        "\u{feff}",
        "é = 1",
        "[[producers]]\n[[producers]]",
        "faults = 3",
        "faults = [1]",
        "expect = [{}]",
        "workload = 1",
        "[workload]\nmessages = 9223372036854775807\nrate = inf",
        "a = { b = { c = { d = 1 } } }",
    ] {
        let e = parse(text, Path::new("t.toml")).unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }
}

#[test]
fn proxy_down_takes_no_stream_toxicity_or_attributes() {
    let fault = "[[faults]]\ntype = \"proxy_down\"\nat = \"1s\"\n";
    assert_error(
        &base_with(&format!("{fault}stream = \"upstream\"\n")),
        11,
        "faults[0].stream",
        &["applies to toxics only", "`proxy_down` is not one", "leave it out"],
    );
    assert_error(&base_with(&format!("{fault}toxicity = 0.5\n")), 11, "faults[0].toxicity", &["toxics only"]);
    let e = parse_err(&base_with(&format!("{fault}attributes = {{ latency = 1 }}\n")));
    assert_eq!(e.line, Some(11), "{e}");
    assert!(e.field.as_deref().is_some_and(|f| f.starts_with("faults[0]")), "{e}");
}

#[test]
fn unknown_fault_type_lists_toxics_and_proxy_down() {
    let text = base_with("[[faults]]\ntype = \"proxy_dwn\"\nat = \"1s\"\n");
    assert_error(
        &text,
        9,
        "faults[0].type",
        &["did you mean `proxy_down`?", "latency", "limit_data, kafka_ack_loss", "kafka_latency, proxy_down"],
    );
}

#[test]
fn a_fault_is_read_whatever_the_order_of_its_keys() {
    // `type` last: the attributes and a toxic's own keys are still read
    // against it, and their errors still point at them.
    let text = base_with("[[faults]]\nattributes = { latncy = 3000 }\nat = \"1s\"\ntype = \"latency\"\n");
    assert_error(&text, 9, "faults[0].attributes.latncy", &["did you mean `latency`?"]);
    let text = base_with("[[faults]]\nstream = \"upstream\"\nat = \"1s\"\ntype = \"proxy_down\"\n");
    assert_error(&text, 9, "faults[0].stream", &["applies to toxics only", "`proxy_down` is not one"]);
    let s = parse_ok(&base_with("[[faults]]\nattributes = { latency = 5 }\nstream = \"upstream\"\nat = \"1s\"\ntype = \"latency\"\n"));
    assert_eq!(s.faults[0].toxic().map(|t| (t.stream, t.kind)), Some((Stream::Upstream, latency(5))));
}

fn latency(latency: i64) -> ToxicKind {
    ToxicKind::Latency(crate::proxy::toxics::latency::Latency { latency, jitter: 0 })
}

#[test]
fn a_saved_fault_is_read_as_strictly_as_a_file() {
    // A report's JSON may put the attributes before the type: they wait for it.
    let fault = serde_json::json!({ "attributes": { "latency": 5 }, "type": "latency", "name": "l", "at": "1s", "stream": "upstream" });
    let fault: Fault = serde_json::from_value(fault).unwrap();
    assert_eq!((fault.kind, fault.stream, fault.toxicity, fault.duration), (FaultKind::Toxic(latency(5)), Stream::Upstream, 1.0, None));
    // What a file may not say, a report may not either.
    let refused = [
        (serde_json::json!({ "type": "proxy_down", "name": "p", "at": "1s", "stream": "upstream" }), "applies to toxics only"),
        (serde_json::json!({ "toxicity": 0.5, "type": "proxy_down", "name": "p", "at": "1s" }), "applies to toxics only"),
        (serde_json::json!({ "type": "latency", "name": "l", "at": "1s", "duration": "0s" }), "cannot last 0s"),
        (serde_json::json!({ "type": "latency", "at": "1s" }), "missing field `name`"),
        (serde_json::json!({ "type": "latncy", "name": "l", "at": "1s" }), "did you mean `latency`?"),
        (serde_json::json!({ "type": "latency", "name": "l", "at": "1s", "colour": 1 }), "unknown field `colour`"),
    ];
    for (json, words) in refused {
        let e = serde_json::from_value::<Fault>(json.clone()).unwrap_err().to_string();
        assert!(e.contains(words), "{json}: {e}");
    }
}
