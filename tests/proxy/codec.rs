//! The front's codec on Apache Kafka's own answers: every version of every
//! response the front rewrites (and of Produce, which the ledger reads),
//! asked of a real Apache Kafka 4.1 broker, must decode and encode back to
//! the very bytes the broker sent. tansu-sans-io, the codec the front used
//! before, is tried on the same bytes, and both are timed; the table it
//! prints is the evidence in docs/kafka-proxy.md ("The codec").

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use faultlab::proxy::kafka::codec;
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiVersionsRequest, DescribeClusterRequest, FindCoordinatorRequest, MetadataRequest, ProduceRequest, RequestKind, ResponseKind,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::kafka_support::{apache, client};

const TOPIC: &str = "codec-round-trip";
const API_VERSIONS: i16 = 18;
const METADATA: i16 = 3;
const FIND_COORDINATOR: i16 = 10;
const DESCRIBE_CLUSTER: i16 = 60;
const PRODUCE: i16 = 0;

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// Send one request and read its response frame (size prefix included).
async fn exchange(stream: &mut TcpStream, request: &Bytes) -> Bytes {
    stream.write_all(request).await.unwrap();
    let size = stream.read_i32().await.unwrap();
    let mut frame = BytesMut::zeroed(4 + size as usize);
    frame[..4].copy_from_slice(&size.to_be_bytes());
    stream.read_exact(&mut frame[4..]).await.unwrap();
    frame.freeze()
}

/// One record batch (magic 2, no compression) holding one record.
fn records() -> Bytes {
    let record = Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp: 0,
        key: None,
        value: Some(Bytes::from_static(b"round trip")),
        headers: IndexMap::new(),
    };
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(&mut buf, [&record], &RecordEncodeOptions { version: 2, compression: Compression::None }).unwrap();
    buf.freeze()
}

/// The request of `api_key` at `version`, with only the fields that version has.
fn request(api_key: i16, version: i16, topic_id: uuid::Uuid) -> RequestKind {
    match api_key {
        API_VERSIONS => RequestKind::ApiVersions(if version >= 3 {
            ApiVersionsRequest::default().with_client_software_name(text("faultlab")).with_client_software_version(text("0.1.0"))
        } else {
            ApiVersionsRequest::default()
        }),
        METADATA => {
            let topic = kafka_protocol::messages::metadata_request::MetadataRequestTopic::default().with_name(Some(TopicName(text(TOPIC))));
            let request = MetadataRequest::default().with_topics(Some(vec![topic]));
            RequestKind::Metadata(if version >= 4 { request.with_allow_auto_topic_creation(false) } else { request })
        }
        FIND_COORDINATOR => RequestKind::FindCoordinator(if version >= 4 {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![text("codec-group")])
        } else {
            FindCoordinatorRequest::default().with_key(text("codec-group"))
        }),
        DESCRIBE_CLUSTER => RequestKind::DescribeCluster(DescribeClusterRequest::default()),
        PRODUCE => {
            let partition = PartitionProduceData::default().with_index(0).with_records(Some(records()));
            let topic = if version >= 13 {
                TopicProduceData::default().with_topic_id(topic_id)
            } else {
                TopicProduceData::default().with_name(TopicName(text(TOPIC)))
            };
            let topic = topic.with_partition_data(vec![partition]);
            RequestKind::Produce(ProduceRequest::default().with_acks(1).with_timeout_ms(10_000).with_topic_data(vec![topic]))
        }
        _ => unreachable!(),
    }
}

/// Decode and encode `frame` `rounds` times with each codec: whether each
/// gave back the same bytes (an error otherwise), and the time per round.
struct Tried {
    kafka_protocol: Result<Duration, String>,
    tansu: Result<Duration, String>,
}

fn try_both(frame: &Bytes, api_key: i16, version: i16, rounds: u32) -> Tried {
    let kafka_protocol = || -> Result<Bytes, String> {
        let (header, body) = codec::decode_response(frame, api_key, version)?;
        codec::encode_response(&header, &body, api_key, version)
    };
    let tansu = || -> Result<Bytes, String> {
        use tansu_sans_io::Frame;
        let decoded = Frame::response_from_bytes(&frame[..], api_key, version).map_err(|e| e.to_string())?;
        Frame::response(decoded.header, decoded.body, api_key, version).map_err(|e| e.to_string())
    };
    let timed = |round: &dyn Fn() -> Result<Bytes, String>| -> Result<Duration, String> {
        let again = round()?;
        if again != *frame {
            return Err(format!("encoded {} bytes, not the broker's {}", again.len(), frame.len()));
        }
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(round()?);
        }
        Ok(started.elapsed() / rounds)
    };
    Tried { kafka_protocol: timed(&kafka_protocol), tansu: timed(&tansu) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_version_the_front_reads_round_trips_on_apache_kafkas_answers() {
    let Some(kafka) = apache::start_provisioned().await else { return };
    let admin: AdminClient<_> = client(&kafka.bootstrap).create().unwrap();
    let created = admin
        .create_topics(
            [&NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("CreateTopics");
    for result in created {
        result.expect("the topic is created");
    }

    let mut stream = TcpStream::connect(&kafka.bootstrap).await.unwrap();
    let mut correlation = 0;
    let mut ask = async |stream: &mut TcpStream, api_key: i16, version: i16, topic_id: uuid::Uuid| {
        correlation += 1;
        let frame = codec::encode_request(api_key, version, correlation, "faultlab-codec-test", &request(api_key, version, topic_id));
        exchange(stream, &frame).await
    };
    // The broker's versions, and the topic's id (Produce v13 names it so).
    let answer = ask(&mut stream, API_VERSIONS, 3, uuid::Uuid::nil()).await;
    let (_, offered, _) = codec::decode_api_versions(&answer, 3).unwrap();
    let answer = ask(&mut stream, METADATA, 12, uuid::Uuid::nil()).await;
    let (_, ResponseKind::Metadata(metadata)) = codec::decode_response(&answer, METADATA, 12).unwrap() else { panic!() };
    let topic_id = metadata.topics[0].topic_id;
    assert!(!topic_id.is_nil(), "the broker gives topic ids");

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for api_key in [API_VERSIONS, METADATA, FIND_COORDINATOR, DESCRIBE_CLUSTER, PRODUCE] {
        let broker = offered.api_keys.iter().find(|k| k.api_key == api_key).expect("the broker offers it");
        let ours = codec::versions(api_key).unwrap();
        let versions: Vec<i16> = (broker.min_version.max(*ours.start())..=broker.max_version.min(*ours.end())).collect();
        assert!(!versions.is_empty(), "API key {api_key}: no version in common");
        let (mut ours_ok, mut tansu_ok, mut ours_time, mut tansu_time, mut tansu_failed) =
            (0, 0, Duration::ZERO, Duration::ZERO, Vec::new());
        for &version in &versions {
            let answer = ask(&mut stream, api_key, version, topic_id).await;
            let tried = try_both(&answer, api_key, version, 200);
            match tried.kafka_protocol {
                Ok(time) => (ours_ok, ours_time) = (ours_ok + 1, ours_time + time),
                Err(e) => failures.push(format!("API key {api_key} v{version}: {e}")),
            }
            match tried.tansu {
                Ok(time) => (tansu_ok, tansu_time) = (tansu_ok + 1, tansu_time + time),
                Err(e) => tansu_failed.push(format!("v{version} ({})", e.chars().take(60).collect::<String>())),
            }
        }
        let per =
            |time: Duration, n: u32| if n == 0 { "-".to_string() } else { format!("{:.1} µs", time.as_secs_f64() * 1e6 / f64::from(n)) };
        rows.push(format!(
            "| {} | {}-{} (broker {}-{}) | {ours_ok}/{n}, {} | {tansu_ok}/{n}, {}{} |",
            faultlab::proxy::kafka::names::ApiKey(api_key),
            versions[0],
            versions[versions.len() - 1],
            broker.min_version,
            broker.max_version,
            per(ours_time, ours_ok),
            per(tansu_time, tansu_ok),
            if tansu_failed.is_empty() { String::new() } else { format!("; failed: {}", tansu_failed.join(", ")) },
            n = versions.len(),
        ));
    }
    eprintln!(
        "Apache Kafka's answers, decoded and encoded back (byte-identical / versions asked, time per round trip):\n\
         | API | versions asked | kafka-protocol 0.18 | tansu-sans-io 0.6 |\n|---|---|---|---|\n{}",
        rows.join("\n")
    );
    assert!(failures.is_empty(), "the codec must give back the broker's very bytes:\n{}", failures.join("\n"));
}
