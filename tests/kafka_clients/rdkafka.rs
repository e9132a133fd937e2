//! librdkafka (the rdkafka crate, faultlab's own producers' client) under
//! the programs' contract, in this process: the same settings, one message
//! at a time, the same result.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use super::{Contract, Mode, Outcome};

const MAX_ERRORS: usize = 5;

pub async fn run(contract: &Contract) -> Result<Outcome, String> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &contract.bootstrap)
        .set("client.id", &contract.client_id)
        .set("linger.ms", "0")
        .set("max.in.flight", "1")
        .set("retries", "2147483647")
        .set("retry.backoff.ms", "100")
        // librdkafka's request.timeout.ms is the broker's; socket.timeout.ms
        // is how long the client waits for a response.
        .set("request.timeout.ms", "2000")
        .set("socket.timeout.ms", "2000")
        .set("message.timeout.ms", "60000");
    match contract.mode {
        Mode::Plain => config.set("acks", "1").set("enable.idempotence", "false"),
        Mode::Idempotent => config.set("acks", "all").set("enable.idempotence", "true"),
    };
    let producer: FutureProducer = config.create().map_err(|e| format!("creating the producer: {e}"))?;
    // The cluster must answer before anything is sent: a setup error otherwise.
    let client = producer.clone();
    let topic = contract.topic.clone();
    tokio::task::spawn_blocking(move || client.client().fetch_metadata(Some(&topic), Duration::from_secs(30)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("no metadata for {} from {}: {e}", contract.topic, contract.bootstrap))?;

    let mut outcome = Outcome {
        client: "librdkafka".into(),
        version: rdkafka::util::get_rdkafka_version().1,
        sent: contract.messages,
        acked: 0,
        failed: 0,
        errors: Vec::new(),
    };
    for i in 1..=contract.messages {
        let (key, value) = (format!("k{i}"), contract.value(i));
        let record = FutureRecord::to(&contract.topic).key(&key).payload(&value);
        match producer.send(record, Timeout::After(Duration::from_secs(60))).await {
            Ok(_) => outcome.acked += 1,
            Err((e, _)) => {
                outcome.failed += 1;
                if outcome.errors.len() < MAX_ERRORS {
                    outcome.errors.push(format!("message {i}: {e}"));
                }
            }
        }
    }
    let flushing = producer.clone();
    let _ = tokio::task::spawn_blocking(move || flushing.flush(Duration::from_secs(10))).await;
    Ok(outcome)
}
