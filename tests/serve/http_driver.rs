//! The http driver against a service at a URL: `faultlab serve` in front of
//! a broker, and a scenario whose http producers name its URL (sync and
//! async) next to a direct producer, run on that broker and audited. Every
//! message sent through the service is found in the topic exactly once,
//! with the partition and offset the service answered.

use crate::serve_support;

use std::path::Path;

use faultlab::audit::audit;
use faultlab::audit::history::Outcome;
use faultlab::run::run_once;
use faultlab::scenario;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_producers_at_a_url_are_audited_like_direct_ones() {
    let mut service = serve_support::start(11, &[], |_| {}).await;
    let base = service.base.as_str().trim_end_matches('/').to_string();
    let text = format!(
        r#"name = "http-at-a-url"
description = "Two http producers through a service at a URL, and a direct one."

[workload]
messages = 150
partitions = 3
key = {{ spread = 5 }}

[[producers]]
name = "web-sync"
preset = "plain"
driver = "http"
url = "{base}"

[[producers]]
name = "web-async"
preset = "idempotent"
driver = "http"
url = "{base}/"
send_mode = "async"

[[producers]]
name = "direct"
preset = "idempotent"
"#
    );
    let scenario = scenario::parse(&text, Path::new("inline.toml")).unwrap_or_else(|e| panic!("{e}"));
    let http = scenario.producers[1].http().expect("web-async is an http producer");
    assert_eq!(http.send_mode, scenario::HttpSendMode::Async);

    let output = run_once(&scenario, &service.env, "t35ab1e2", None, &CancellationToken::new()).await.expect("the run completes");
    assert!(!output.interrupted);
    let verdicts = audit(&output.history, &output.observed);
    assert_eq!(output.observed.unreadable, 0, "every record was recognised");
    for verdict in &verdicts {
        let name = &verdict.producer;
        assert_eq!((verdict.sent, verdict.acked), (150, 150), "{name}: {verdict:?}");
        assert_eq!((verdict.duplicates, verdict.lost, verdict.phantom, verdict.failed), (0, 0, 0, 0), "{name}: {verdict:?}");
    }
    // Keys spread over the topic's partitions, and every ack carries the
    // partition and offset the record is found at.
    for history in &output.history.producers {
        let topic = output.observed.topics.iter().position(|t| *t == history.topic).unwrap() as u32;
        let mut partitions = std::collections::BTreeSet::new();
        for send in &history.sends {
            let Outcome::Acked { partition, offset: Some(offset) } = send.outcome else {
                panic!("{}: seq {} was {:?}", history.name, send.seq, send.outcome);
            };
            partitions.insert(partition);
            let found = output.observed.records.iter().find(|r| r.topic == topic && r.partition == partition && r.offset == offset);
            let found =
                found.unwrap_or_else(|| panic!("{}: seq {} acked at {partition}/{offset}, not in the topic", history.name, send.seq));
            assert_eq!((found.producer.as_str(), found.seq), (history.name.as_str(), send.seq));
        }
        assert!(partitions.len() > 1, "{}: keys spread over partitions: {partitions:?}", history.name);
    }
    // The report shows the mode's settings for an http producer at a URL.
    assert_eq!(output.producers[0].settings.get("acks").map(String::as_str), Some("1"));
    assert_eq!(output.producers[1].settings.get("enable.idempotence").map(String::as_str), Some("true"));
    service.shutdown().await.expect("the service stops cleanly");
}
