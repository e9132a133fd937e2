//! Components the tests take from `scripts/provision` (real Toxiproxy, its
//! CLI, the foreign clients): found through the environment, or the test
//! skips with the reason; under `FAULTLAB_REQUIRE_LOCAL` (CI) it fails.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// Whether CI asked for every provisioned component to be there.
pub fn required() -> bool {
    std::env::var_os("FAULTLAB_REQUIRE_LOCAL").is_some_and(|v| !v.is_empty())
}

/// The test cannot run: under FAULTLAB_REQUIRE_LOCAL that is a failure,
/// otherwise a skip (printed, with the reason). Call as `return skip(..)`.
pub fn skip(reason: &str) {
    if required() {
        panic!("FAULTLAB_REQUIRE_LOCAL is set and {reason}");
    }
    println!("SKIPPED: {reason}");
}

/// The existing path named by the environment variable `var` (which
/// `eval "$(scripts/provision)"` exports), or why there is none.
pub fn provisioned(var: &str, what: &str) -> Result<PathBuf, String> {
    match std::env::var_os(var) {
        None => Err(format!("{var} is not set ({what}; `eval \"$(scripts/provision)\"` exports it)")),
        Some(path) => {
            let path = PathBuf::from(path);
            if path.exists() { Ok(path) } else { Err(format!("{var}={} does not exist ({what}; run scripts/provision)", path.display())) }
        }
    }
}

/// A real `toxiproxy-server` on a free loopback port; killed when dropped.
pub struct ToxiproxyServer {
    pub addr: SocketAddr,
    _child: Child,
}

impl ToxiproxyServer {
    /// Start the server at `program` and wait until its API answers.
    pub async fn start(program: &PathBuf) -> ToxiproxyServer {
        // A port that was free a moment ago may be taken by the time the
        // server binds it (tests run in parallel): try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(program)
                .args(["-host", "127.0.0.1", "-port", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("exited with {status} on port {port}");
                    break;
                }
                let url = format!("http://{addr}/version");
                if let Ok(response) = crate::common::http_client().build().unwrap().get(&url).send().await
                    && response.status().is_success()
                {
                    return ToxiproxyServer { addr, _child: child };
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if last.is_empty() {
                last = format!("its API on port {port} did not answer within 10 s");
            }
        }
        panic!("toxiproxy-server ({}) did not start: {last}", program.display());
    }
}

impl ToxiproxyServer {
    /// Whether the server process has ended (e.g. a toxic panicked it).
    pub fn has_exited(&mut self) -> bool {
        matches!(self._child.try_wait(), Ok(Some(_)))
    }
}

/// A loopback port that is free now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}
