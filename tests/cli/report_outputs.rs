//! The report files of `faultlab run`, end to end with the real binary on
//! the embedded backend: checked before anything runs, every one written
//! even when another fails, `-` as standard output, special files written
//! in place, PASSED only once they exist, and SIGTERM's interrupted run
//! said so in every format.

use crate::cli_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cli_support::{Outcome, command, run};

/// A short scenario: 300 messages, a 300 ms latency toxic, about 2 s.
const SHORT: &str = r#"
name = "outputs"
description = "A short run whose reports are written."
[workload]
messages = 300
rate = 300
[[producers]]
name = "plain"
preset = "plain"
[[faults]]
type = "latency"
at = "200ms"
duration = "500ms"
attributes = { latency = 300 }
[[expect]]
producer = "plain"
lost = 0
"#;

fn scenario(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn faultlab_run(dir: &Path, args: &[&str]) -> Outcome {
    let path = scenario(dir, SHORT);
    let mut all = vec!["run", path.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&mut command(&all, dir), Duration::from_secs(120), "a 2 s scenario")
}

fn last_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap_or("")
}

#[test]
fn outputs_are_checked_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let outcome = faultlab_run(dir.path(), &["--json", "/nonexistent/dir/r.json", "--junit", "a.xml", "--html", "a.html"]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.shown());
    assert!(outcome.stderr.contains("--json /nonexistent/dir/r.json"), "{}", outcome.shown());
    assert!(outcome.stderr.contains("/nonexistent/dir does not exist"), "{}", outcome.shown());
    assert!(started.elapsed() < Duration::from_secs(10), "refused only after {:?}", started.elapsed());
    assert!(!outcome.stdout.contains("PASSED") && !dir.path().join("a.xml").exists());

    let twice = faultlab_run(dir.path(), &["--json", "-", "--junit", "-"]);
    assert_eq!(twice.code, Some(2), "{}", twice.shown());
    assert!(twice.stderr.contains("--junit -: --json writes there too"), "{}", twice.shown());

    let directory = faultlab_run(dir.path(), &["--html", dir.path().to_str().unwrap()]);
    assert_eq!(directory.code, Some(2), "{}", directory.shown());
    assert!(directory.stderr.contains("is a directory"), "{}", directory.shown());
}

/// /dev/full refuses every write (ENOSPC): the JUnit report fails, the
/// other two are written, and the run does not say PASSED.
#[test]
fn one_failing_output_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = faultlab_run(dir.path(), &["--junit", "/dev/full", "--html", "a.html", "--json", "a.json"]);
    assert_eq!(outcome.code, Some(1), "{}", outcome.shown());
    assert!(outcome.stderr.contains("--junit /dev/full"), "{}", outcome.shown());
    assert!(dir.path().join("a.html").exists() && dir.path().join("a.json").exists(), "{}", outcome.shown());
    let verdict = last_line(&outcome.stdout);
    assert!(verdict.starts_with("FAILED") && verdict.contains("1 report file could not be written"), "{}", outcome.shown());
    assert!(!outcome.stdout.contains("PASSED"), "{}", outcome.shown());
}

/// `--json -` is standard output (the summary moves to stderr); a FIFO
/// gets the JUnit report through it and stays a FIFO; /dev/null stays a
/// character device.
#[test]
fn stdout_fifos_and_devices_are_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("junit.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let outcome = faultlab_run(dir.path(), &["--json", "-", "--junit", fifo.to_str().unwrap(), "--html", "/dev/null"]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.shown());
    let json: serde_json::Value = serde_json::from_str(&outcome.stdout).expect("stdout is the JSON report alone");
    assert_eq!(json["scenarios"][0]["scenario"]["name"], "outputs");
    assert!(last_line(&outcome.stderr).starts_with("PASSED"), "{}", outcome.shown());
    let junit = reader.join().unwrap();
    assert!(junit.starts_with("<?xml") && junit.contains("testsuite name=\"outputs\""), "{junit}");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

/// SIGTERM (what a CI runner sends on cancel) in the middle of a run: exit
/// 130, and every report says the run was interrupted.
#[test]
fn sigterm_mid_run_is_interrupted_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), &SHORT.replace("messages = 300", "messages = 6000"));
    let args = ["run", path.to_str().unwrap(), "--json", "r.json", "--junit", "r.xml", "--markdown", "r.md", "--html", "r.html"];
    let mut child = command(&args, dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let status = cli_support::signal_and_wait(&mut child, libc::SIGTERM, Duration::from_secs(60));
    assert_eq!(status.code(), Some(130));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["interrupted"], true);
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(junit.contains(r#"<property name="interrupted" value="true"/>"#), "{junit}");
    assert!(junit.contains(r#"type="interrupted""#), "{junit}");
    let markdown = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(markdown.contains("interrupted"), "{markdown}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("interrupted"), "the HTML report does not say interrupted");
}
