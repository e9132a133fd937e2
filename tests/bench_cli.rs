//! `faultlab bench` runs for real (the audit benchmark, the cheapest) and
//! prints its table with a ratio and the machine it ran on.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn quick_audit_bench_prints_a_ratio() {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(["bench", "--quick", "--only", "audit"])
        .output()
        .expect("faultlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("1M messages audited"), "{stdout}");
    assert!(stdout.contains("baseline (direct)") && stdout.contains("msg/s"), "{stdout}");
    // A measured ratio such as "7.912x" in the audit row.
    let row = stdout.lines().find(|l| l.contains("1M messages audited")).unwrap();
    let ratio = row.split('│').map(str::trim).find(|cell| cell.ends_with('x') && cell[..cell.len() - 1].parse::<f64>().is_ok());
    assert!(ratio.is_some(), "no ratio in {row}");
    assert!(stdout.contains("machine:") && stdout.contains("cores"), "{stdout}");
    assert!(!stdout.contains("proxy "), "only the audit ran: {stdout}");
    assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());
}

#[test]
fn markdown_table_and_unknown_benchmark() {
    let output = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(["bench", "--quick", "--only", "audit", "--markdown"])
        .output()
        .expect("faultlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("| benchmark"), "{stdout}");

    let output = Command::new(env!("CARGO_BIN_EXE_faultlab")).args(["bench", "--only", "nope"]).output().expect("faultlab runs");
    assert_eq!(output.status.code(), Some(2), "clap rejects an unknown benchmark");
}
