//! The brokers tests/proxy/kafka.rs fronts, each advertising ITSELF (not a
//! proxy): the embedded tansu broker, in this process, and one Apache
//! Kafka broker started as the local backend starts it. Each stops when
//! dropped (and on panic). And the front the tests put before them, with
//! faultlab's Toxiproxy API over its listeners.

use faultlab::proxy::kafka::KafkaFront;
use rdkafka::ClientConfig;
use serde_json::Value;
use tokio_util::task::AbortOnDropHandle;

/// The Toxiproxy API with a Kafka front on its registry; all stop when dropped.
pub struct Fronted {
    pub front: KafkaFront,
    pub api: String,
    _serving: AbortOnDropHandle<()>,
}

pub async fn front(bootstrap: &str) -> Fronted {
    // The proxy's warnings (a response not rewritten, a frame refused) in the test's output.
    crate::logs::init();
    let server = faultlab::proxy::api::bind("127.0.0.1:0".parse().unwrap(), 7).await.unwrap();
    let api = format!("http://{}", server.local_addr());
    let front = KafkaFront::start("127.0.0.1:0", bootstrap, 7, Some(server.registry())).await.unwrap();
    let serving = tokio::spawn(async move {
        let _ = server.serve(std::future::pending()).await;
    });
    Fronted { front, api, _serving: AbortOnDropHandle::new(serving) }
}

pub fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap).set("socket.timeout.ms", "10000");
    // librdkafka's own debug contexts, to look into a failure (e.g. "broker,protocol").
    if let Ok(debug) = std::env::var("FAULTLAB_TEST_RDKAFKA_DEBUG") {
        config.set("debug", debug);
    }
    config
}

pub async fn get(url: &str) -> Value {
    let response = faultlab::http_client().build().unwrap().get(url).send().await.unwrap();
    assert!(response.status().is_success(), "GET {url}: {}", response.status());
    response.json().await.unwrap()
}

pub async fn post(url: &str, body: &Value) {
    let response = faultlab::http_client().build().unwrap().post(url).json(body).send().await.unwrap();
    assert!(response.status().is_success(), "POST {url}: {}: {}", response.status(), response.text().await.unwrap_or_default());
}

pub async fn delete(url: &str) {
    let response = faultlab::http_client().build().unwrap().delete(url).send().await.unwrap();
    assert!(response.status().is_success(), "DELETE {url}: {}", response.status());
}

pub mod tansu {
    //! The embedded broker, built as faultlab's, advertising itself.

    use std::time::Duration;

    use tansu_broker::broker::Broker;
    use tansu_broker::coordinator::group::administrator::Controller;
    use tansu_storage::StorageContainer;
    use tokio_util::task::AbortOnDropHandle;
    use url::Url;

    pub struct Tansu {
        pub bootstrap: String,
        _serving: AbortOnDropHandle<()>,
    }

    pub async fn start() -> Tansu {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = Url::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
        let mut broker = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
            .node_id(111)
            .cluster_id(format!("proxy-kafka-{}", uuid::Uuid::new_v4().simple()))
            .incarnation_id(uuid::Uuid::new_v4())
            .advertised_listener(address.clone())
            .storage(Url::parse("memory://tansu/").unwrap())
            .listener(address)
            .silent(true)
            .build()
            .await
            .expect("building the tansu broker");
        let serving = AbortOnDropHandle::new(tokio::spawn(async move {
            let _ = broker.serve(tokio::time::Instant::now()).await;
        }));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "tansu did not listen within 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Tansu { bootstrap: format!("127.0.0.1:{port}"), _serving: serving }
    }
}

pub mod apache {
    pub use crate::kafka_broker::{Kafka, start};

    /// A broker from FAULTLAB_KAFKA_LIBS, or None once the test has said
    /// why it skips (under FAULTLAB_REQUIRE_LOCAL a missing one fails it).
    pub async fn start_provisioned() -> Option<Kafka> {
        if let Err(e) = crate::common::components::provisioned("FAULTLAB_KAFKA_LIBS", "Apache Kafka's jars") {
            crate::common::components::skip(&e);
            return None;
        }
        let components = faultlab::env::local::components::find().unwrap_or_else(|e| panic!("the local backend's components: {e}"));
        Some(start(&components).await)
    }
}
