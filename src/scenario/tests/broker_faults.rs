//! Broker faults, `brokers` and `backends`: each fault type parses into
//! the model, and each mistake is refused at its line with what to write.

use super::*;

/// BASE with `top` before its first line and `fault` after its last.
fn with(top: &str, fault: &str) -> String {
    format!("{top}{BASE}{fault}")
}

fn only_fault(text: &str) -> BackendFault {
    match parse_ok(text).faults.remove(0).kind {
        FaultKind::Backend(fault) => fault,
        other => panic!("not a backend fault: {other:?}"),
    }
}

#[test]
fn brokers_default_to_one_and_backends_to_every_one() {
    let s = parse_ok(BASE);
    assert_eq!(s.brokers, 1);
    assert!(s.backends.is_empty());
    assert!(s.runs_on("embedded") && s.runs_on("docker"));
    let s = parse_ok(&with("brokers = 3\nbackends = [\"mock\", \"docker\", \"mock\"]\n", ""));
    assert_eq!(s.brokers, 3);
    assert_eq!(s.backends, ["mock", "docker"]);
    assert!(s.runs_on("mock") && !s.runs_on("embedded") && !s.runs_on("external"));
}

#[test]
fn each_broker_fault_parses() {
    let f = |t: &str, a: &str| format!("[[faults]]\ntype = \"{t}\"\nat = \"1s\"\nduration = \"2s\"\nattributes = {a}\n");
    let three = "brokers = 3\n";
    assert_eq!(only_fault(&with(three, &f("broker_down", "{ broker = 2 }"))), BackendFault::BrokerDown(BrokerTarget { broker: 2 }));
    assert_eq!(only_fault(&with("", &f("broker_pause", "{ broker = 1 }"))), BackendFault::BrokerPause(BrokerTarget { broker: 1 }));
    assert_eq!(
        only_fault(&with(three, &f("broker_rtt", "{ broker = 3, rtt = 500 }"))),
        BackendFault::BrokerRtt(BrokerRtt { broker: 3, rtt: 500 })
    );
    // Kafka's own spelling is taken too.
    assert_eq!(
        only_fault(&with(
            "",
            &f("request_errors", "{ request = \"Produce\", errors = [\"NOT_LEADER_OR_FOLLOWER\", \"request_timed_out\"] }")
        )),
        BackendFault::RequestErrors(RequestErrors {
            request: RequestType::Produce,
            errors: vec![ErrorName::NotLeaderOrFollower, ErrorName::RequestTimedOut]
        })
    );
    assert_eq!(
        only_fault(&with(three, &f("leader_change", "{ broker = 2 }"))),
        BackendFault::LeaderChange(LeaderChange { broker: 2, partition: None })
    );
    let s = parse_ok(&with(three, &f("leader_change", "{ broker = 2, partition = 0 }")));
    assert_eq!(s.faults[0].name, "leader_change_0");
    assert_eq!(s.faults[0].kind, FaultKind::Backend(BackendFault::LeaderChange(LeaderChange { broker: 2, partition: Some(0) })));
    // The model round-trips through its JSON form (a saved report).
    // A fault that is not a toxic is written without a stream and a
    // toxicity, as a file writes it.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["faults"][0],
        serde_json::json!({
            "name": "leader_change_0", "type": "leader_change", "attributes": { "broker": 2, "partition": 0 }, "at": "1s", "duration": "2s"
        })
    );
    let back: Scenario = serde_json::from_value(json).unwrap();
    assert_eq!(Scenario { source: s.source.clone(), ..back }, s);
}

#[test]
fn an_unknown_attribute_gets_a_suggestion() {
    let text = with("", "[[faults]]\ntype = \"broker_down\"\nat = \"1s\"\nattributes = { brokr = 1 }\n");
    let e = parse_err(&text);
    let shown = e.to_string();
    assert_eq!(e.line, Some(11), "{shown}");
    assert!(shown.contains("did you mean `broker`?"), "{shown}");
}

#[test]
fn a_broker_out_of_range_is_refused_at_the_broker() {
    let fault = "[[faults]]\ntype = \"broker_down\"\nat = \"1s\"\nattributes = { broker = 4 }\n";
    assert_error(&with("brokers = 3\n", fault), 12, "faults[0].attributes.broker", &["no broker 4", "3 brokers", "accepted: 1 to 3"]);
    assert_error(&with("", fault), 11, "faults[0].attributes.broker", &["1 broker (`brokers = 1`)", "raise `brokers`"]);
    let zero = "[[faults]]\ntype = \"broker_rtt\"\nat = \"1s\"\nattributes = { broker = 0, rtt = 5 }\n";
    assert_error(&with("", zero), 11, "faults[0].attributes.broker", &["no broker 0"]);
}

#[test]
fn other_attribute_mistakes_are_refused_at_the_value() {
    let f = |a: &str| format!("[[faults]]\ntype = \"request_errors\"\nat = \"1s\"\nattributes = {a}\n");
    assert_error(
        &with("", &f("{ request = \"prodce\", errors = [\"transport\"] }")),
        11,
        "faults[0].attributes.request",
        &["unknown request type `prodce`", "did you mean `produce`?", "list_offsets"],
    );
    assert_error(
        &with("", &f("{ request = \"produce\", errors = [\"transport\", \"not_leader\"] }")),
        11,
        "faults[0].attributes.errors[1]",
        &["unknown error `not_leader`", "not_leader_or_follower"],
    );
    assert_error(&with("", &f("{ request = \"produce\", errors = [] }")), 11, "faults[0].attributes.errors", &["one or more"]);
    let leader = "[[faults]]\ntype = \"leader_change\"\nat = \"1s\"\nattributes = { broker = 1, partition = 1 }\n";
    assert_error(&with("", leader), 11, "faults[0].attributes.partition", &["no partition 1", "`workload.partitions`"]);
    let streamed = "[[faults]]\ntype = \"broker_down\"\nat = \"1s\"\nstream = \"upstream\"\nattributes = { broker = 1 }\n";
    assert_error(&with("", streamed), 11, "faults[0].stream", &["toxics only"]);
}

#[test]
fn brokers_and_backends_mistakes() {
    assert_error(&with("brokers = 0\n", ""), 1, "brokers", &["from 1 to 9"]);
    assert_error(&with("brokers = 10\n", ""), 1, "brokers", &["from 1 to 9"]);
    assert_error(&with("backends = [\"mock\", \"dokcer\"]\n", ""), 1, "backends[1]", &["did you mean `docker`?", "embedded, mock"]);
    assert_error(&with("backends = []\n", ""), 1, "backends", &["runs nowhere"]);
    let pause = "[[faults]]\ntype = \"broker_pause\"\nat = \"1s\"\nattributes = { broker = 1 }\n";
    assert_error(
        &with("backends = [\"mock\", \"docker\"]\n", pause),
        10,
        "faults[0].type",
        &["`broker_pause` cannot be played on the mock backend", "backends that can play it: docker"],
    );
    assert_error(&with("brokers = 3\nbackends = [\"embedded\", \"mock\"]\n", ""), 1, "brokers", &["embedded backend", "one broker"]);
    // Whichever place the backend with too few brokers has in the list.
    assert_error(&with("brokers = 3\nbackends = [\"mock\", \"embedded\"]\n", ""), 1, "brokers", &["embedded backend", "one broker"]);
}

#[test]
fn capabilities_per_backend() {
    // Every type of backend fault is played somewhere (who plays what is
    // `env::backend`'s own test).
    for type_name in BackendFault::TYPE_NAMES {
        assert!(!crate::env::Backend::playing(type_name).is_empty(), "no backend plays {type_name}");
    }
    let s = parse_ok(&with(
        "",
        "[[faults]]\ntype = \"latency\"\nat = \"1s\"\n[[faults]]\ntype = \"broker_pause\"\nat = \"1s\"\nattributes = { broker = 1 }\n",
    ));
    assert_eq!(s.unplayable_on("docker"), None, "toxics play everywhere");
    assert_eq!(s.unplayable_on("mock").map(|f| f.name.as_str()), Some("broker_pause_1"));
    assert_eq!(s.unplayable_on("embedded").map(|f| f.name.as_str()), Some("broker_pause_1"));
}

#[test]
fn an_expectation_can_be_meant_for_some_backends() {
    let expect = |on: &str| base_with(&format!("[[expect]]\nproducer = \"plain\"\nlost = 0\n{on}"));
    let everywhere = parse_ok(&expect(""));
    assert!(everywhere.expectations()[0].backends.is_empty() && everywhere.expectations()[0].applies_on("mock"));
    let kafka = parse_ok(&expect("backends = [\"local\", \"docker\"]\n"));
    assert_eq!(kafka.expectations()[0].backends, ["local", "docker"]);
    let repeated = parse_ok(&expect("backends = [\"local\", \"local\"]\n"));
    assert_eq!(repeated.expectations()[0].backends, ["local"], "repeats are dropped");
    assert!(kafka.expectations()[0].applies_on("local") && !kafka.expectations()[0].applies_on("embedded"));
    let e = parse_err(&expect("backends = [\"lokal\"]\n"));
    let shown = e.to_string();
    assert_eq!(e.line, Some(11), "{shown}");
    assert!(shown.contains("expect[0].backends[0]") && shown.contains("did you mean `local`?"), "{shown}");
    let shown = parse_err(&expect("backends = []\n")).to_string();
    assert!(shown.contains("expect[0].backends") && shown.contains("an empty list runs nowhere"), "{shown}");
}
