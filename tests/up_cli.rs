//! `faultlab up` stops on SIGTERM (what `docker stop` and CI runners send)
//! as it does on Ctrl-C: exit 0, its ports free again.

mod cli_support;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

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

    let status = cli_support::signal_and_wait(&mut child, libc::SIGTERM, Duration::from_secs(30));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(stderr.contains("faultlab up: stopped") && !stderr.contains("panicked"), "{stderr}");
    TcpListener::bind(&bootstrap).unwrap_or_else(|e| panic!("{bootstrap} still taken after SIGTERM: {e}"));
}
