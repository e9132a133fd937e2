//! `faultlab up` stops on SIGTERM (what `docker stop` and CI runners send)
//! as it does on Ctrl-C: exit 0, its ports free again.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn sigterm_stops_up_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultlab"))
        .args(["up", "--kafka-port", "0", "--api-listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start faultlab up");
    // Its instructions end with the line naming Ctrl-C; the addresses come before.
    let mut bootstrap = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Kafka bootstrap:") {
            bootstrap = Some(rest.trim().to_string());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let bootstrap = bootstrap.expect("a bootstrap address");

    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            panic!("faultlab up still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(stderr.contains("faultlab up: stopped") && !stderr.contains("panicked"), "{stderr}");
    TcpListener::bind(&bootstrap).unwrap_or_else(|e| panic!("{bootstrap} still taken after SIGTERM: {e}"));
}
