//! `faultlab proxy` as a user starts it: `--listen 127.0.0.1:0` says which
//! port it bound, the API answers there, and SIGTERM stops it cleanly.

use crate::cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn an_ephemeral_port_is_printed_and_sigterm_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cli_support::command(&["proxy", "--listen", "127.0.0.1:0"], dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr =
        line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_else(|| panic!("no address in: {line}"));
    let port: u16 = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    assert_ne!(port, 0, "{line}");

    let mut api = TcpStream::connect(addr).unwrap();
    api.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    api.write_all(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    api.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"version\""), "{answer}");

    let status = cli_support::signal_and_wait(&mut child, libc::SIGTERM, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");
}
