//! `client = "java"`: the translation of librdkafka's settings to the Java
//! client's (one table, `scenario::java`), and the mistakes a file can make
//! with it, each named where it is written.

use std::collections::BTreeMap;

use super::*;
use crate::scenario::java::{JAVA_NAMES, java_name, java_properties};

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn librdkafka_names_become_the_java_clients() {
    let translated = java_properties(&settings(&[
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("message.timeout.ms", "60000"),
        ("socket.timeout.ms", "2000"),
        ("request.timeout.ms", "2000"),
        ("queue.buffering.max.ms", "5"),
        ("max.in.flight", "1"),
        ("retries", "10"),
        ("retry.backoff.ms", "100"),
        ("batch.size", "1"),
    ]))
    .unwrap();
    assert_eq!(
        translated,
        settings(&[
            ("acks", "all"),
            ("enable.idempotence", "true"),
            ("delivery.timeout.ms", "60000"),
            ("request.timeout.ms", "2000"),
            ("linger.ms", "5"),
            ("max.in.flight.requests.per.connection", "1"),
            ("retries", "10"),
            ("retry.backoff.ms", "100"),
            ("batch.size", "1"),
        ])
    );
    assert_eq!(java_name("linger.ms"), Some("linger.ms"));
    assert_eq!(java_name("batch.num.messages"), None);
    // Each librdkafka name is in the table once.
    let mut names: Vec<&str> = JAVA_NAMES.iter().map(|(librdkafka, _)| *librdkafka).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), JAVA_NAMES.len());
}

#[test]
fn a_setting_without_a_java_counterpart_is_refused_naming_what_is_accepted() {
    let refused = java_properties(&settings(&[("acks", "1"), ("batch.num.messages", "1")])).unwrap_err();
    assert_eq!(refused.setting, "batch.num.messages");
    assert!(refused.message.contains("no counterpart in the Java client"), "{}", refused.message);
    assert!(refused.message.contains("accepted for client = \"java\": acks,"), "{}", refused.message);
    let typo = java_properties(&settings(&[("linger.sm", "5")])).unwrap_err();
    assert!(typo.message.contains("did you mean `linger.ms`?"), "{}", typo.message);
}

#[test]
fn two_settings_of_one_java_property_must_agree() {
    let refused = java_properties(&settings(&[("request.timeout.ms", "30000"), ("socket.timeout.ms", "2000")])).unwrap_err();
    assert_eq!(refused.setting, "socket.timeout.ms");
    assert!(refused.message.contains("`request.timeout.ms` = \"30000\" and `socket.timeout.ms` = \"2000\""), "{}", refused.message);
    assert!(refused.message.contains("the same value for both"), "{}", refused.message);
}

const JAVA: &str = "name = \"x\"\ndescription = \"d\"\n[workload]\nmessages = 10\n[[producers]]\nname = \"plain\"\npreset = \"plain\"\nclient = \"java\"\n";

#[test]
fn a_java_producer_is_read_and_librdkafka_is_the_default() {
    let s = parse_ok(JAVA);
    assert_eq!(s.producers[0].client, Client::Java);
    assert_eq!(s.java_settings(&s.producers[0]).unwrap(), settings(&[("acks", "1"), ("enable.idempotence", "false")]));
    assert_eq!(parse_ok(BASE).producers[0].client, Client::Librdkafka);
}

#[test]
fn an_unknown_client_names_the_accepted_ones() {
    assert_error(
        &BASE.replace("preset = \"plain\"", "preset = \"plain\"\nclient = \"jvm\""),
        8,
        "producers[0].client",
        &["jvm", "librdkafka", "java"],
    );
}

#[test]
fn java_with_the_http_driver_is_refused() {
    let text = format!("{JAVA}driver = \"http\"\n");
    assert_error(&text, 8, "producers[0].client", &["driver = \"http\"", "accepted: driver = \"direct\"", "with client = \"java\""]);
}

#[test]
fn an_untranslatable_setting_is_named_where_it_is_written() {
    let own = format!("{JAVA}settings = {{ \"batch.num.messages\" = 1 }}\n");
    assert_error(&own, 9, "producers[0].settings.\"batch.num.messages\"", &["no counterpart in the Java client", "batch.size"]);
    let shared = JAVA.replace("[[producers]]", "[client]\n\"queue.buffering.max.messages\" = 10\n[[producers]]");
    assert_error(&shared, 6, "client.\"queue.buffering.max.messages\"", &["no counterpart in the Java client"]);
    // The same [client] setting is fine for a librdkafka producer.
    parse_ok(&BASE.replace("[[producers]]", "[client]\n\"queue.buffering.max.messages\" = 10\n[[producers]]"));
    let clash = format!("{JAVA}settings = {{ \"socket.timeout.ms\" = 2000, \"request.timeout.ms\" = 3000 }}\n");
    assert_error(&clash, 9, "producers[0].settings.\"socket.timeout.ms\"", &["both the Java client's `request.timeout.ms`"]);
}

#[test]
fn librdkafka_still_checks_a_java_producers_values() {
    let text = format!("{JAVA}settings = {{ \"linger.ms\" = \"soon\" }}\n");
    assert_error(&text, 9, "producers[0].settings.\"linger.ms\"", &["librdkafka refuses"]);
}
