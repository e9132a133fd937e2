//! `leader_change` on real brokers, with Kafka's own tools (its Admin
//! API): the partitions' replica lists are reordered so the target broker
//! is the preferred replica (`ReassignPartitionsCommand`; the replica set
//! stays the same when the target already holds a replica, so no data
//! moves), then a preferred-leader election runs (`LeaderElectionCommand`).
//! Undoing it puts the original order back and elects again.
//!
//! The tools reach the brokers on their BROKER listener, not through
//! Toxiproxy, so a fault in force cannot stop the fault's own undoing.
//! librdkafka has no AlterPartitionReassignments, hence the tools; each call
//! starts a JVM (about a second), which the fault window includes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;

use super::components::Components;

/// One partition's replicas, preferred (first) replica first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub topic: String,
    pub partition: i32,
    pub replicas: Vec<i32>,
}

/// Every partition of every topic but Kafka's internal ones, as the
/// cluster reports it now.
pub async fn current(bootstrap: &str) -> anyhow::Result<Vec<Assignment>> {
    let bootstrap = bootstrap.to_string();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", &bootstrap).create()?;
        let metadata = consumer.fetch_metadata(None, Duration::from_secs(10)).context("reading the cluster's metadata")?;
        let mut assignments = Vec::new();
        for topic in metadata.topics().iter().filter(|t| !t.name().starts_with("__")) {
            for partition in topic.partitions() {
                assignments.push(Assignment {
                    topic: topic.name().to_string(),
                    partition: partition.id(),
                    replicas: partition.replicas().to_vec(),
                });
            }
        }
        anyhow::Ok(assignments)
    })
    .await?
}

/// The assignments with `broker` first (on `partition` only, when given):
/// pure, so the plan is tested without a broker.
pub fn preferring(assignments: &[Assignment], broker: i32, partition: Option<i32>) -> Vec<Assignment> {
    assignments
        .iter()
        .filter(|a| partition.is_none_or(|p| p == a.partition) && a.replicas.first() != Some(&broker))
        .map(|a| {
            let mut replicas = vec![broker];
            replicas.extend(a.replicas.iter().copied().filter(|r| *r != broker));
            replicas.truncate(a.replicas.len().max(1));
            Assignment { replicas, ..a.clone() }
        })
        .collect()
}

/// Apply `assignments` to a cluster assigned as `now` (reassign, wait for
/// any new replica to catch up, elect the preferred leaders).
pub async fn apply(
    components: &Components,
    dir: &Path,
    bootstrap: &str,
    now: &[Assignment],
    assignments: &[Assignment],
) -> anyhow::Result<()> {
    if assignments.is_empty() {
        return Ok(());
    }
    let moves_data = assignments.iter().any(|a| {
        let before = now.iter().find(|n| n.topic == a.topic && n.partition == a.partition);
        before.is_none_or(|b| sorted(&b.replicas) != sorted(&a.replicas))
    });
    let partitions: Vec<_> = assignments
        .iter()
        .map(|a| json!({ "topic": a.topic, "partition": a.partition, "replicas": a.replicas, "log_dirs": a.replicas.iter().map(|_| "any").collect::<Vec<_>>() }))
        .collect();
    let reassignment = dir.join("reassignment.json");
    std::fs::write(&reassignment, json!({ "version": 1, "partitions": partitions }).to_string())?;
    let file = reassignment.to_string_lossy().into_owned();
    let reassign = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
    tool(components, dir, reassign, &["--bootstrap-server", bootstrap, "--reassignment-json-file", &file, "--execute"]).await?;
    // A reordering of the same replicas completes at once; a new replica
    // has to catch up first.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    if moves_data {
        loop {
            let verified =
                tool(components, dir, reassign, &["--bootstrap-server", bootstrap, "--reassignment-json-file", &file, "--verify"]).await?;
            if !verified.contains("still in progress") {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("the reassignment did not complete within 60 s:\n{verified}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let election = dir.join("election.json");
    let partitions: Vec<_> = assignments.iter().map(|a| json!({ "topic": a.topic, "partition": a.partition })).collect();
    std::fs::write(&election, json!({ "partitions": partitions }).to_string())?;
    let file = election.to_string_lossy().into_owned();
    let elect = ["--bootstrap-server", bootstrap, "--election-type", "PREFERRED", "--path-to-json-file", &file];
    tool(components, dir, "org.apache.kafka.tools.LeaderElectionCommand", &elect).await?;
    Ok(())
}

fn sorted(replicas: &[i32]) -> Vec<i32> {
    let mut replicas = replicas.to_vec();
    replicas.sort_unstable();
    replicas
}

/// Run one of Kafka's tools; its output, or an error with it.
async fn tool(components: &Components, dir: &Path, main: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(&components.java)
        .args(super::jvm_args(components, dir, super::TOOL_FLAGS))
        .arg(main)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {main}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        bail!("{main} failed ({}):\n{text}", output.status);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(partition: i32, replicas: &[i32]) -> Assignment {
        Assignment { topic: "t".into(), partition, replicas: replicas.to_vec() }
    }

    #[test]
    fn the_target_becomes_the_preferred_replica_of_the_same_set() {
        let now = [a(0, &[1, 2, 3]), a(1, &[2, 3, 1]), a(2, &[3, 1, 2])];
        assert_eq!(preferring(&now, 2, None), vec![a(0, &[2, 1, 3]), a(2, &[2, 3, 1])], "partition 1 is already led by 2");
        assert_eq!(preferring(&now, 3, Some(0)), vec![a(0, &[3, 1, 2])]);
    }

    #[test]
    fn a_broker_without_a_replica_takes_the_last_ones_place() {
        assert_eq!(preferring(&[a(0, &[1])], 2, None), vec![a(0, &[2])]);
        assert_eq!(preferring(&[a(0, &[1, 3])], 2, None), vec![a(0, &[2, 1])]);
    }
}
