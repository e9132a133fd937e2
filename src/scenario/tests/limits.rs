//! The limits of `scenario::limits`, each refused at its line with what is
//! accepted, and each edge accepted.

use super::*;

fn fault(lines: &str) -> String {
    base_with(&format!("[[faults]]\n{lines}\n"))
}

#[test]
fn messages_are_bounded_per_run() {
    let at_limit = BASE.replace("messages = 10", "messages = 2000000");
    parse_ok(&at_limit);
    assert_error(&BASE.replace("messages = 10", "messages = 2000001"), 4, "workload.messages", &["at most 2000000 messages in a run"]);
    assert_error(&BASE.replace("messages = 10", "messages = 1000000000000"), 4, "workload.messages", &["at most 2000000"]);
    let two = at_limit.replace("messages = 2000000", "messages = 1000001") + "[[producers]]\nname = \"idem\"\npreset = \"idempotent\"\n";
    assert_error(&two, 4, "workload.messages", &["2 producers: at most 1000000 each"]);
}

#[test]
fn payload_is_bounded_per_message_and_per_run() {
    parse_ok(&BASE.replace("messages = 10", "messages = 1000\npayload_bytes = 900000"));
    assert_error(
        &BASE.replace("messages = 10", "messages = 10\npayload_bytes = 900001"),
        5,
        "workload.payload_bytes",
        &["from 0 to 900000"],
    );
    assert_error(
        &BASE.replace("messages = 10", "messages = 2000\npayload_bytes = 900000"),
        5,
        "workload.payload_bytes",
        &["1716 MiB of payload", "at most 1024 MiB in a run"],
    );
}

#[test]
fn rate_and_sending_time_are_bounded() {
    parse_ok(&BASE.replace("messages = 10", "messages = 36\nrate = 0.01"));
    assert_error(&BASE.replace("messages = 10", "messages = 37\nrate = 0.01"), 5, "workload.rate", &["take 3700 s", "at most 3600 s"]);
    assert_error(&BASE.replace("messages = 10", "messages = 10\nrate = 1e-300"), 5, "workload.rate", &["`1e-300`", "from 0.01 to 1000000"]);
    assert_error(&BASE.replace("messages = 10", "messages = 10\nrate = 1000001"), 5, "workload.rate", &["from 0.01 to 1000000"]);
}

#[test]
fn partitions_producers_and_repeats_are_bounded() {
    parse_ok(&BASE.replace("messages = 10", "messages = 10\npartitions = 1000"));
    assert_error(&BASE.replace("messages = 10", "messages = 10\npartitions = 100000"), 5, "workload.partitions", &["from 1 to 1000"]);
    assert_error(&format!("repeat = 101\n{BASE}"), 1, "repeat", &["from 1 to 100"]);
    let many: String = (0..17).map(|i| format!("[[producers]]\nname = \"p{i}\"\npreset = \"plain\"\n")).collect();
    assert_error(&format!("{BASE}{many}"), 5, "producers", &["at most 16 [[producers]]"]);
}

#[test]
fn fault_times_are_bounded() {
    parse_ok(&fault("type = \"latency\"\nat = \"1h\"\nduration = \"1h\""));
    assert_error(&fault("type = \"latency\"\nat = \"18446744073709551615s\""), 10, "faults[0].at", &["at most \"1h\""]);
    assert_error(&fault("type = \"latency\"\nat = \"5000000000000000h\""), 10, "faults[0].at", &["at most \"1h\""]);
    assert_error(&fault("type = \"latency\"\nat = \"0s\"\nduration = \"61m\""), 11, "faults[0].duration", &["\"61m\"", "at most \"1h\""]);
}

#[test]
fn delays_are_bounded() {
    parse_ok(&fault("type = \"latency\"\nat = \"0s\"\nattributes = { latency = 3600000, jitter = 3600000 }"));
    let latency = fault("type = \"latency\"\nat = \"0s\"\nattributes = { latency = 9223372036854775807 }");
    let e = assert_error(&latency, 11, "faults[0].attributes.latency", &["at most 3600000 (one hour)"]);
    assert_eq!(e.column, Some(26));
    assert_error(
        &fault("type = \"timeout\"\nat = \"0s\"\nattributes = { timeout = 3600001 }"),
        11,
        "faults[0].attributes.timeout",
        &["milliseconds"],
    );
    assert_error(
        &fault("type = \"slicer\"\nat = \"0s\"\nattributes = { average_size = 10, delay = 3600000001 }"),
        11,
        "faults[0].attributes.delay",
        &["microseconds", "at most 3600000000"],
    );
    // Negative delays are no delay, as in Toxiproxy.
    parse_ok(&fault("type = \"latency\"\nat = \"0s\"\nattributes = { latency = -5 }"));
}
