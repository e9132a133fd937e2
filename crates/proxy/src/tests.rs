//! Unit tests of the toxic model and of toxics driven through a bare stub.

use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::stub::{Chunk, CloseMode, PipeEnd, Queued, Stub};
use super::toxic::{LinkState, Pipe};
use super::toxics::{latency::Latency, limit_data::LimitData, slicer::Slicer, timeout::Timeout};
use super::{Stream, Toxic, ToxicKind};

#[test]
fn every_type_parses_with_zero_defaults_and_names_itself() {
    for name in ToxicKind::TYPE_NAMES {
        let kind: ToxicKind = serde_json::from_value(json!({ "type": name, "attributes": {} })).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kind.type_name(), *name);
        let attributes = serde_json::to_value(&kind).unwrap()["attributes"].clone();
        if kind.is_kafka() {
            // The aim's defaults: every Produce request.
            assert_eq!(
                (&attributes["api_key"], &attributes["nth"], &attributes["probability"]),
                (&json!("produce"), &json!(0), &json!(1.0))
            );
        } else {
            assert!(attributes.as_object().unwrap().values().all(|v| v == &json!(0)), "{name}: {attributes}");
        }
    }
}

/// The type names come from the variants (strum) and the tags from serde:
/// both say snake case, and this keeps them saying the same, in the same
/// order. serde's tags are read from the enum's JSON Schema (one branch
/// per variant, written by serde's attributes), so a variant strum would
/// name differently, or one missing from either, fails here.
#[test]
fn the_type_names_are_serdes_tags() {
    let schema = schemars::schema_for!(ToxicKind).to_value();
    let tags: Vec<&str> = schema["oneOf"]
        .as_array()
        .expect("one branch per variant")
        .iter()
        .map(|branch| branch.pointer("/properties/type/const").and_then(|t| t.as_str()).expect("each branch's type tag"))
        .collect();
    assert_eq!(tags, ToxicKind::TYPE_NAMES);
    for name in ToxicKind::TYPE_NAMES {
        let kind: ToxicKind = serde_json::from_value(json!({ "type": name, "attributes": {} })).unwrap();
        assert_eq!(serde_json::to_value(&kind).unwrap()["type"], json!(name), "{name} written back under its own name");
        assert_eq!(Toxic::default_name(&kind, Stream::Upstream), format!("{name}_upstream"));
    }
}

#[test]
fn a_toxic_serialises_like_toxiproxys() {
    let toxic: Toxic = serde_json::from_value(json!({
        "name": "slow", "type": "latency", "attributes": { "latency": 10 }
    }))
    .unwrap();
    assert_eq!((toxic.stream, toxic.toxicity), (Stream::Downstream, 1.0), "Toxiproxy's defaults");
    let back = serde_json::to_value(&toxic).unwrap();
    assert_eq!(
        back,
        json!({
            "name": "slow", "type": "latency", "stream": "downstream", "toxicity": 1.0,
            "attributes": { "latency": 10, "jitter": 0 }
        })
    );
}

#[test]
fn unknown_attributes_are_refused() {
    let error = serde_json::from_value::<ToxicKind>(json!({ "type": "timeout", "attributes": { "timout": 5 } })).unwrap_err();
    assert!(error.to_string().contains("unknown field `timout`"), "{error}");
}

#[test]
fn streams_parse_in_any_case() {
    assert_eq!(Stream::parse("UpStream"), Some(Stream::Upstream));
    assert_eq!(Stream::parse("downstream"), Some(Stream::Downstream));
    assert_eq!(Stream::parse(""), None);
}

#[test]
fn values_toxiproxy_cannot_run_are_refused() {
    let slicer = |average_size, size_variation| ToxicKind::Slicer(Slicer { average_size, size_variation, delay: 0 });
    assert!(slicer(0, 0).validate().unwrap_err().starts_with("attributes.average_size"));
    assert!(slicer(10, 11).validate().unwrap_err().starts_with("attributes.size_variation"));
    assert!(slicer(10, 10).validate().is_ok());
    let bandwidth = |rate| ToxicKind::Bandwidth(super::toxics::bandwidth::Bandwidth { rate });
    assert!(bandwidth(-1).validate().is_err());
    assert!(bandwidth(0).validate().is_ok());
    assert!(ToxicKind::Latency(Latency { latency: -5, jitter: -1 }).validate().is_ok(), "Go treats these as no delay");
}

/// A stub with its input sender and output receiver.
fn stub() -> (Stub, mpsc::UnboundedSender<Queued>, mpsc::UnboundedReceiver<Queued>) {
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    (Stub::new(in_rx, out_tx, SmallRng::seed_from_u64(1)), in_tx, out_rx)
}

fn chunk(data: &'static [u8]) -> Chunk {
    Chunk::new(Bytes::from_static(data), Instant::now())
}

fn drain(out: &mut mpsc::UnboundedReceiver<Queued>) -> Vec<u8> {
    let mut got = Vec::new();
    while let Ok(chunk) = out.try_recv() {
        got.extend_from_slice(&chunk.data);
    }
    got
}

#[tokio::test]
async fn an_interrupted_latency_puts_its_chunk_back_with_its_arrival() {
    let (mut stub, input, mut output) = stub();
    let held = chunk(b"held");
    let arrived = held.arrived;
    input.send(Box::new(held)).unwrap();
    let interrupt = stub.interrupt.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        interrupt.cancel();
    });
    let latency = Latency { latency: 10_000, jitter: 0 };
    assert_eq!(latency.pipe(&mut stub, &mut LinkState::default()).await, PipeEnd::Interrupted);
    assert!(drain(&mut output).is_empty(), "not released early");
    let back = stub.unread.pop_front().expect("put back");
    assert_eq!((back.data.as_ref(), back.arrived), (&b"held"[..], arrived));
}

#[tokio::test]
async fn limit_data_counts_across_restarts_and_cuts_exactly() {
    let (mut stub, input, mut output) = stub();
    let mut state = LinkState::default();
    let limit = LimitData { bytes: 6 };
    input.send(Box::new(chunk(b"abcd"))).unwrap();
    stub.interrupt.cancel();
    // Interrupted before reading: nothing counted.
    assert_eq!(limit.pipe(&mut stub, &mut state).await, PipeEnd::Interrupted);
    stub.interrupt = tokio_util::sync::CancellationToken::new();
    input.send(Box::new(chunk(b"efgh"))).unwrap();
    assert_eq!(limit.pipe(&mut stub, &mut state).await, PipeEnd::Close(CloseMode::Graceful));
    assert_eq!(drain(&mut output), b"abcdef");
    assert_eq!(state.bytes, 6);
}

#[tokio::test]
async fn timeout_drops_data_and_closes_at_its_deadline() {
    let (mut stub, input, mut output) = stub();
    let mut state = LinkState::default();
    input.send(Box::new(chunk(b"gone"))).unwrap();
    let started = Instant::now();
    let end = Timeout { timeout: 50 }.pipe(&mut stub, &mut state).await;
    assert_eq!(end, PipeEnd::Close(CloseMode::Graceful));
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert!(drain(&mut output).is_empty(), "dropped, as in Toxiproxy");
}

#[tokio::test]
async fn the_end_of_the_input_ends_a_pipe() {
    let (mut stub, input, mut output) = stub();
    input.send(Box::new(chunk(b"last"))).unwrap();
    drop(input);
    let slicer = Slicer { average_size: 1, size_variation: 0, delay: 0 };
    assert_eq!(slicer.pipe(&mut stub, &mut LinkState::default()).await, PipeEnd::InputClosed);
    assert_eq!(drain(&mut output), b"last");
}
