//! The audit on histories of 1 and 10 million messages built in memory,
//! as a real run records them: two producers, six partitions each, every
//! message acked and read back once, with a few injected faults so that
//! every code path (lost, duplicates, reorders) is exercised.
//!
//! The baseline is one plain pass over the same sends and records (what
//! any audit must at least read). Bytes per message: the input's size by
//! accounting (vectors and the strings' heap blocks), and the most the
//! resident set grows while the audit runs (its working memory).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::Row;
use super::measure::{self, bytes, rate};
use crate::audit::audit;
use crate::audit::history::{History, Observed, ObservedRecord, Outcome, ProducerHistory, SendRecord};

const TARGET: Duration = Duration::from_secs(5);
const TARGET_MESSAGES: u64 = 10_000_000;
const PRODUCERS: u64 = 2;
const PARTITIONS: u64 = 6;
/// One message in this many is lost, duplicated, or swapped with the next.
const FAULT_EVERY: u64 = 10_007;

pub fn run(quick: bool, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let sizes: &[u64] = if quick { &[1_000_000] } else { &[1_000_000, TARGET_MESSAGES] };
    for &n in sizes {
        one(n, report)?;
    }
    Ok(())
}

fn millions(n: u64) -> String {
    format!("{}M", n / 1_000_000)
}

fn one(n: u64, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    measure::trim_heap();
    let (history, observed, injected) = build(n);
    let input = input_bytes(&history, &observed);

    let started = Instant::now();
    black_box(scan(black_box(&history), black_box(&observed)));
    let scan_time = started.elapsed();

    measure::reset_peak();
    let at_start = measure::rss();
    let started = Instant::now();
    let verdicts = audit(black_box(&history), black_box(&observed));
    let took = started.elapsed();
    let working = measure::peak_rss().saturating_sub(at_start);

    let found = verdicts.iter().map(|v| v.lost + v.duplicates + v.reordered).sum::<u64>();
    if found != injected.0 + injected.1 + injected.2 {
        bail!("the audit found {found} faults, {injected:?} (lost, duplicates, reorders) were injected");
    }
    drop((history, observed, verdicts));
    measure::trim_heap();

    let per_second = n as f64 / took.as_secs_f64();
    let scan_per_second = n as f64 / scan_time.as_secs_f64();
    let mut row = Row::new("audit", &format!("{} messages audited", millions(n))).figure(
        format!("{:.2} s ({})", took.as_secs_f64(), rate(per_second, "msg")),
        format!("{:.2} s (one plain pass, {})", scan_time.as_secs_f64(), rate(scan_per_second, "msg")),
        took.as_secs_f64() / scan_time.as_secs_f64(),
    );
    if n == TARGET_MESSAGES {
        row = row.target(format!("< {} s", TARGET.as_secs()), took < TARGET);
    }
    report(row);
    report(Row::new("audit", &format!("bytes per message, {}", millions(n))).figure(
        format!("{} audit peak", bytes(working as f64 / n as f64)),
        format!("{} input (History + Observed, accounted)", bytes(input as f64 / n as f64)),
        working as f64 / input as f64,
    ));
    Ok(())
}

/// The heap a string's buffer takes: glibc's chunk, at least 32 bytes.
fn heap_block(capacity: usize) -> usize {
    if capacity == 0 { 0 } else { (capacity + 8).next_multiple_of(16).max(32) }
}

/// The input's size: its vectors' capacity and the strings' heap blocks.
fn input_bytes(history: &History, observed: &Observed) -> u64 {
    let sends: usize = history.producers.iter().map(|p| p.sends.capacity() * size_of::<SendRecord>()).sum();
    let records = observed.records.capacity() * size_of::<ObservedRecord>();
    let names: usize = observed.records.iter().map(|r| heap_block(r.producer.capacity())).sum();
    (sends + records + names) as u64
}

/// What any audit must do at least: read every send and every record.
fn scan(history: &History, observed: &Observed) -> u64 {
    let mut sum = 0u64;
    for producer in &history.producers {
        for send in &producer.sends {
            sum = sum.wrapping_add(send.seq ^ send.done_at.as_nanos() as u64);
            if let Outcome::Acked { partition, offset } = send.outcome {
                sum = sum.wrapping_add(partition as u64 ^ offset.unwrap_or(0) as u64);
            }
        }
    }
    for record in &observed.records {
        sum = sum.wrapping_add(record.seq ^ record.offset as u64 ^ record.producer.len() as u64 ^ u64::from(record.topic));
    }
    sum
}

/// `n` messages over [`PRODUCERS`] producers and [`PARTITIONS`] partitions,
/// each producer on its own topic; every message is acked at the offset
/// it is read back at, except the injected faults. Returns the history,
/// what was read back, and (lost, duplicates, reorders) injected.
fn build(n: u64) -> (History, Observed, (u64, u64, u64)) {
    let per_producer = n / PRODUCERS;
    let mut history = History::default();
    let mut observed = Observed::default();
    let (mut lost, mut duplicates, mut reorders) = (0, 0, 0);
    for p in 0..PRODUCERS {
        let name = format!("p{p}");
        let topic = format!("bench-{p}");
        observed.topics.push(topic.clone());
        let mut sends = Vec::with_capacity(per_producer as usize);
        // Per partition, the seqs in the order they are written.
        let mut written: Vec<Vec<u64>> = vec![Vec::with_capacity((per_producer / PARTITIONS + 1) as usize); PARTITIONS as usize];
        for seq in 0..per_producer {
            let partition = (seq % PARTITIONS) as usize;
            let sent_at = Duration::from_micros(seq);
            // The offset is filled in below, where the message is written.
            sends.push(SendRecord {
                seq,
                sent_at,
                done_at: sent_at + Duration::from_micros(1500 + seq % 700),
                outcome: Outcome::Acked { partition: partition as i32, offset: None },
            });
            written[partition].push(seq);
        }
        let records = &mut observed.records;
        records.reserve(per_producer as usize + per_producer as usize / 1000);
        for (partition, seqs) in written.iter().enumerate() {
            let mut offset = 0i64;
            let mut i = 0;
            // Put `seq` at the next offset: acked there and/or present there.
            let mut write = |seq: u64, ack: bool, present: bool, offset: &mut i64| {
                if present {
                    records.push(ObservedRecord {
                        topic: p as u32,
                        producer: name.clone(),
                        seq,
                        partition: partition as i32,
                        offset: *offset,
                    });
                }
                if ack {
                    sends[seq as usize].outcome = Outcome::Acked { partition: partition as i32, offset: Some(*offset) };
                }
                *offset += 1;
            };
            while i < seqs.len() {
                let seq = seqs[i];
                match (seq + 1) % FAULT_EVERY {
                    // Lost: acked at an offset that stays empty.
                    0 => {
                        write(seq, true, false, &mut offset);
                        lost += 1;
                    }
                    // A retry's extra copy right after the first.
                    1 => {
                        write(seq, true, true, &mut offset);
                        write(seq, false, true, &mut offset);
                        duplicates += 1;
                    }
                    // Written swapped with the next message of its partition
                    // (acked where each landed).
                    2 if i + 1 < seqs.len() && (seqs[i + 1] + 1) % FAULT_EVERY > 2 => {
                        write(seqs[i + 1], true, true, &mut offset);
                        write(seq, true, true, &mut offset);
                        reorders += 1;
                        i += 1;
                    }
                    _ => write(seq, true, true, &mut offset),
                }
                i += 1;
            }
        }
        history.producers.push(ProducerHistory { name, topic, sends });
    }
    (history, observed, (lost, duplicates, reorders))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_history_audits_to_exactly_the_injected_faults() {
        let (history, observed, (lost, duplicates, reorders)) = build(100_000);
        assert!(lost > 0 && duplicates > 0 && reorders > 0, "{lost} {duplicates} {reorders}");
        let verdicts = audit(&history, &observed);
        assert_eq!(verdicts.len(), 2);
        let sum = |f: fn(&crate::audit::Verdict) -> u64| verdicts.iter().map(f).sum::<u64>();
        assert_eq!(sum(|v| v.sent), 100_000);
        assert_eq!(sum(|v| v.lost), lost);
        assert_eq!(sum(|v| v.duplicates), duplicates);
        assert_eq!(sum(|v| v.reordered), reorders);
        assert_eq!(sum(|v| v.phantom + v.unexpected), 0);
    }

    #[test]
    fn a_small_run_reports_rate_and_bytes() {
        let mut rows = Vec::new();
        one(200_000, &mut |row| rows.push(row)).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].ratio.is_some_and(|r| r > 0.0), "{rows:?}");
        assert!(rows[0].figure.contains("msg/s"), "{rows:?}");
        assert!(rows[1].baseline.contains(" B input"), "{rows:?}");
    }
}
