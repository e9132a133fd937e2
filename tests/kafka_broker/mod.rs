//! One Apache Kafka broker (KRaft, combined broker and controller) as
//! the local backend runs it, its client listener advertising itself: a
//! cluster nobody reconfigured for a proxy. Shared by tests/proxy/ and
//! tests/backend_local.rs (each binary includes this file).

use std::time::Duration;

use faultlab::env::kraft::{self, Node};
use faultlab::env::local::components::Components;
use faultlab::env::local::process::{Child, Spec};

pub struct Kafka {
    pub bootstrap: String,
    // Fields drop in order: the broker, then its data.
    _broker: Child,
    _dir: tempfile::TempDir,
}

fn jvm(components: &Components, dir: &std::path::Path, flags: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    args.push(format!("-Dlog4j2.configurationFile={}", dir.join("log4j2.properties").display()));
    args.push("-cp".into());
    args.push(format!("{}/*", components.kafka_libs.display()));
    args
}

pub async fn start(components: &Components) -> Kafka {
    let dir = tempfile::Builder::new().prefix("faultlab-proxy-kafka-").tempdir().unwrap();
    let held: Vec<std::net::TcpListener> = (0..3).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let ports: Vec<u16> = held.iter().map(|l| l.local_addr().unwrap().port()).collect();
    drop(held);
    let node = Node {
        id: 1,
        bind: "127.0.0.1".into(),
        host: "127.0.0.1".into(),
        client_port: ports[0],
        broker_port: ports[1],
        controller_port: ports[2],
    };
    let bootstrap = format!("127.0.0.1:{}", ports[0]);
    // The broker advertises its own client listener: untouched by faultlab.
    let mut properties = kraft::properties(std::slice::from_ref(&node), 1, Some(&bootstrap));
    properties.insert("log.dirs".into(), dir.path().join("data").to_string_lossy().into_owned());
    let file = dir.path().join("server.properties");
    std::fs::write(&file, kraft::properties_file(&properties)).unwrap();
    std::fs::write(dir.path().join("log4j2.properties"), "rootLogger.level = INFO\nappender.out.type = Console\nappender.out.name = OUT\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = %m%n\nrootLogger.appenderRef.out.ref = OUT\n").unwrap();
    let file = file.to_string_lossy().into_owned();
    let flags = ["-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"];
    let format = tokio::process::Command::new(&components.java)
        .args(jvm(components, dir.path(), &flags))
        .args(["kafka.tools.StorageTool", "format", "--cluster-id", &kraft::cluster_id("proxy-kafka"), "--config", &file])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(format.status.success(), "formatting Kafka's storage: {}", String::from_utf8_lossy(&format.stderr));
    let mut args = jvm(components, dir.path(), &["-Xms256m", "-Xmx768m", "-XX:+UseG1GC"]);
    args.push("kafka.Kafka".into());
    args.push(file);
    let spec = Spec {
        name: "broker 1".into(),
        program: components.java.clone(),
        args,
        env: Vec::new(),
        ready_line: Some("Kafka Server started".into()),
    };
    let mut broker = Child::spawn(&spec).unwrap();
    broker.ready(Duration::from_secs(120)).await.unwrap_or_else(|e| panic!("Kafka did not start: {e:#}"));
    Kafka { bootstrap, _broker: broker, _dir: dir }
}
