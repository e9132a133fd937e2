//! `faultlab bench` runs for real (the audit benchmark, the cheapest) and
//! prints its table with a ratio and the machine it ran on.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn quick_audit_bench_prints_a_ratio() {
    let started = Instant::now();
    let output =
        Command::new(env!("CARGO_BIN_EXE_faultlab")).args(["bench", "--quick", "--only", "audit"]).output().expect("faultlab runs");
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
    // No proxy row (the header's "Toxiproxy" column is not one).
    assert!(!stdout.lines().any(|l| l.split('│').nth(1).is_some_and(|cell| cell.trim() == "proxy")), "only the audit ran: {stdout}");
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

/// With a Toxiproxy binary (FAULTLAB_TOXIPROXY_SERVER, as `scripts/provision`
/// exports it) every proxy row carries Toxiproxy's figure from the same
/// run; without one the column says "-" and the table says why. Under
/// FAULTLAB_REQUIRE_LOCAL=1 (CI) a missing Toxiproxy fails the test.
#[test]
fn quick_proxy_bench_fills_the_toxiproxy_column() {
    let server = match std::env::var_os("FAULTLAB_TOXIPROXY_SERVER").filter(|v| !v.is_empty()) {
        Some(server) => server,
        None if std::env::var("FAULTLAB_REQUIRE_LOCAL").as_deref() == Ok("1") => {
            panic!("FAULTLAB_REQUIRE_LOCAL=1 but FAULTLAB_TOXIPROXY_SERVER is not set: `eval \"$(scripts/provision --print)\"` exports it")
        }
        None => {
            eprintln!("skipped: FAULTLAB_TOXIPROXY_SERVER is not set (scripts/provision exports it)");
            return;
        }
    };
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(["bench", "--quick", "--only", "proxy"])
        .env("FAULTLAB_TOXIPROXY_SERVER", &server)
        .output()
        .expect("faultlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}\n{stdout}\n{stderr}", output.status);
    let header = stdout.lines().find(|l| l.contains("benchmark")).expect("a table header");
    let columns: Vec<&str> = header.split('│').map(str::trim).collect();
    let peer = columns.iter().position(|c| *c == "Toxiproxy").expect("a Toxiproxy column");
    let versus = columns.iter().position(|c| *c == "vs Toxiproxy").expect("a vs Toxiproxy column");
    for measure in [
        "bulk TCP throughput (128 MiB x 2)",
        "against the forwarder limit",
        "round trip p50",
        "round trip p99",
        "latency toxic",
        "memory per idle",
    ] {
        let row = stdout.lines().find(|l| l.contains(measure)).unwrap_or_else(|| panic!("no {measure} row in\n{stdout}"));
        let cells: Vec<&str> = row.split('│').map(str::trim).collect();
        // A figure with a unit, then its ratio to direct, e.g. "654 MB/s (0.248x)".
        let figure = cells[peer];
        assert!(
            figure.chars().next().is_some_and(|c| c.is_ascii_digit()) && figure.ends_with("x)"),
            "{measure}: Toxiproxy cell {figure:?}"
        );
        assert!(cells[versus].starts_with("ahead ") || cells[versus].starts_with("BEHIND "), "{measure}: {:?}", cells[versus]);
    }
    let limit = stdout.lines().find(|l| l.contains("forwarder limit (splice(2)")).expect("the forwarder limit row");
    assert!(limit.contains("GB/s") || limit.contains("MB/s"), "{limit}");
    assert!(stdout.contains("Toxiproxy: 2."), "the version Toxiproxy answered: {stdout}");
    // Kafka mode against the plain proxy: a ratio each, no Toxiproxy figure.
    let ratio = columns.iter().position(|c| *c == "ratio").expect("a ratio column");
    for measure in ["Kafka frame round trip p50", "Kafka frame round trip p99", "1 MiB Kafka frames echoed"] {
        let row = stdout.lines().find(|l| l.contains(measure)).unwrap_or_else(|| panic!("no {measure} row in\n{stdout}"));
        let cells: Vec<&str> = row.split('│').map(str::trim).collect();
        assert!(cells[ratio].ends_with('x') && cells[ratio].starts_with(|c: char| c.is_ascii_digit()), "{measure}: {row}");
        assert_eq!(cells[peer], "-", "{measure}: {row}");
    }
    assert!(stdout.contains("Toxiproxy has no Kafka mode"), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());

    // Without a binary: the column says "-" and one line says why.
    let output = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(["bench", "--quick", "--only", "proxy"])
        .env("FAULTLAB_TOXIPROXY_SERVER", "/nonexistent/toxiproxy-server")
        .output()
        .expect("faultlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let row = stdout.lines().find(|l| l.contains("round trip p50")).expect("a round trip row");
    assert_eq!(row.split('│').map(str::trim).nth(peer), Some("-"), "{row}");
    assert!(stdout.contains("Toxiproxy: FAULTLAB_TOXIPROXY_SERVER=/nonexistent/toxiproxy-server is not a file"), "{stdout}");
}

/// The producing benchmark, quick: faultlab's proxy against direct, and
/// Kafka mode (`proxy --kafka`) against the plain proxy. The bench itself
/// fails when Kafka mode read no Produce request (the producers went around
/// it), so a ratio here means the producers went through it.
#[test]
fn quick_produce_bench_measures_kafka_mode() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_faultlab")).args(["bench", "--quick", "--only", "produce"]).output().expect("faultlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}\n{stdout}\n{stderr}", output.status);
    let row = stdout.lines().find(|l| l.contains("through Kafka mode")).unwrap_or_else(|| panic!("no Kafka mode row: {stdout}"));
    assert!(row.contains("msg/s") && row.contains("(plain proxy)"), "{row}");
    let ratio = row.split('│').map(str::trim).find(|cell| cell.ends_with('x') && cell[..cell.len() - 1].parse::<f64>().is_ok());
    assert!(ratio.is_some(), "no ratio in {row}");
}
