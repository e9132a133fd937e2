//! The embedded backend's proxy for real: in Kafka mode for a run with
//! Kafka toxics, plain otherwise; real librdkafka clients through it to
//! the in-process tansu broker.

use std::time::Duration;

use faultlab::env::{Backend, FaultControl, ProxyMode, embedded};

use super::{ack_loss, through};

/// A run with Kafka toxics: the proxy reads Kafka frames from the first
/// connection on, every message produced through it arrives, and a toxic
/// of bytes still acts on its links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_frames_carry_every_message_and_byte_toxics_still_act() {
    let env = embedded::start_with(5, ProxyMode::KafkaFrames).await.expect("the embedded backend starts");
    let FaultControl::Embedded(proxy) = &env.faults else { panic!("the embedded backend drives its proxy in process") };
    assert!(proxy.is_kafka(), "the proxy reads Kafka frames");
    assert!(env.info.proxy.contains("Kafka mode"), "{:?}", env.info);

    through::produce_and_consume(&env, "framed", 50).await;

    let producer = through::producer(&env);
    let before = through::send(&producer, "framed", "before").await;
    assert!(proxy.connection_count() >= 1, "the producer's connections go through the proxy");
    env.faults.add(&through::latency("slow", 1000)).await.expect("a latency toxic is added");
    let slowed = through::send(&producer, "framed", "slowed").await;
    env.faults.remove("slow").await.expect("the toxic is removed");
    let after = through::send(&producer, "framed", "after").await;
    eprintln!("acknowledged in {before:?}, then {slowed:?} with 1000 ms of latency on responses, then {after:?}");
    assert!(slowed >= Duration::from_millis(1000), "the latency toxic held the response: {slowed:?}");
    assert!(after < Duration::from_millis(1000), "the toxic is gone: {after:?}");
}

/// A run without Kafka toxics gets the plain proxy, as before Kafka mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_mode_keeps_the_plain_proxy() {
    let env = embedded::start_with(5, ProxyMode::Bytes).await.expect("the embedded backend starts");
    let FaultControl::Embedded(proxy) = &env.faults else { panic!("the embedded backend drives its proxy in process") };
    assert!(!proxy.is_kafka(), "no framing without a Kafka toxic");
    assert!(!env.info.proxy.contains("Kafka mode"), "{:?}", env.info);
    through::produce_and_consume(&env, "plain", 10).await;
}

/// Lost acknowledgements on tansu: exactly 3 duplicates for the plain
/// producer and none for the idempotent one, in 10 repeats of 10.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_loss_gives_exact_counts_ten_times_in_ten() {
    ack_loss::exact_counts(Backend::Embedded, 10).await;
}
