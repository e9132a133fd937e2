//! `faultlab up`: the embedded broker (tansu, in memory) behind faultlab's
//! proxy, with Toxiproxy's HTTP API over that same proxy (named "kafka"),
//! so `faultlab serve` and the course's curl commands can be tried by hand
//! with no Docker. The broker advertises the proxy's address, so every
//! client byte passes through it and toxics added through the API apply.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use tokio_util::task::AbortOnDropHandle;

use crate::env::{self, embedded};
use crate::proxy::api::{self, ApiServer};
use crate::proxy::registry::ProxySpec;

/// The name of the proxy in front of the broker, as in the course's
/// Toxiproxy set-up.
pub const PROXY_NAME: &str = "kafka";

/// Everything `faultlab up` runs; stops when dropped.
pub struct Up {
    /// Where Kafka clients connect: the proxy.
    pub bootstrap: SocketAddr,
    /// The Toxiproxy API.
    pub api: SocketAddr,
    pub topic: String,
    pub partitions: i32,
    server: ApiServer,
    _broker: AbortOnDropHandle<()>,
}

/// Start the API, the proxy "kafka" and the broker behind it, and create the topic.
/// What `faultlab up` starts: where the API and Kafka's proxy listen, the
/// topic to create, and the proxy's seed.
#[derive(Debug, Clone)]
pub struct UpConfig {
    pub api_listen: std::net::SocketAddr,
    /// 0 picks a free port.
    pub kafka_port: u16,
    pub topic: String,
    pub partitions: i32,
    pub seed: u64,
}

pub async fn start(args: &UpConfig) -> anyhow::Result<Up> {
    let server = api::bind(args.api_listen, args.seed)
        .await
        .context("is another Toxiproxy (or faultlab up) running? choose another address with --api-listen, e.g. 127.0.0.1:0")?;
    let broker_port = embedded::free_port()?;
    let listen = format!("127.0.0.1:{}", args.kafka_port);
    let proxy = server
        .registry()
        .create(ProxySpec {
            name: PROXY_NAME.to_string(),
            listen: listen.clone(),
            upstream: format!("127.0.0.1:{broker_port}"),
            enabled: true,
        })
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "listening for Kafka clients on {listen}: {e}; is a Kafka broker already running there? \
                 choose another port with --kafka-port (0 picks a free one)"
            )
        })?;
    let bootstrap = proxy.listen_addr();
    let broker = embedded::start_broker(broker_port, &bootstrap.to_string()).await?;
    env::create_topic(&bootstrap.to_string(), &args.topic, args.partitions, 1, &[]).await?;
    Ok(Up { bootstrap, api: server.local_addr(), topic: args.topic.clone(), partitions: args.partitions, server, _broker: broker })
}

impl Up {
    /// What to print: the addresses, the `faultlab serve` line and curl examples.
    pub fn instructions(&self) -> String {
        let (kafka, api) = (self.bootstrap, self.api);
        let (topic, partitions) = (&self.topic, self.partitions);
        let service = "http://127.0.0.1:8080";
        format!(
            "faultlab up: Kafka (tansu, in memory) behind faultlab's proxy, with the Toxiproxy API\n\
             \n\
             Kafka bootstrap: {kafka}\n\
             Toxiproxy API:   http://{api}\n\
             Proxy:           {PROXY_NAME} ({kafka} -> the broker; the broker advertises {kafka})\n\
             Topic:           {topic} ({partitions} partitions)\n\
             \n\
             Start the producer service in another terminal:\n\
             \x20 faultlab serve --bootstrap-servers {kafka} --listen 127.0.0.1:8080 --socket-timeout-ms 2000\n\
             \n\
             Then:\n\
             \x20 curl -s {service}/health\n\
             \x20 curl -s -X POST '{service}/api/v1/send?mode=plain&eventId=evt-1'\n\
             \x20 curl -s -X POST '{service}/api/v1/send?mode=idempotent&eventId=evt-2&sendMode=async'\n\
             \x20 curl -s '{service}/api/v1/status?requestId=<requestId from the answer>'\n\
             \x20 curl -s http://{api}/proxies\n\
             \x20 curl -s -X POST http://{api}/proxies/{PROXY_NAME}/toxics -d '{{\"name\": \"delay\", \"type\": \"latency\", \"stream\": \"downstream\", \"attributes\": {{\"latency\": 3500}}}}'\n\
             \x20 curl -s -X POST http://{api}/reset\n\
             \n\
             Ctrl-C (or SIGTERM) stops it.\n"
        )
    }

    /// Serve the Toxiproxy API until `shutdown`, then stop the proxy and the broker.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Up { server, _broker, .. } = self;
        let served = server.serve(shutdown).await;
        drop(_broker);
        served
    }
}
