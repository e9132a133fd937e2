//! Unmodified Toxiproxy clients against faultlab's API: toxiproxy-python
//! (PyPI), toxiproxy-node-client (npm), Toxiproxy's own Go client (in the
//! program tests/clients/go) and toxiproxy-cli. `scripts/provision`
//! installs each and exports where it is; without it a test skips with the
//! reason, and under FAULTLAB_REQUIRE_LOCAL (CI) it fails.
//!
//! Each client creates a proxy, lists it, adds, reads, updates and removes
//! a latency toxic whose delay is measured on real echo round trips,
//! disables and enables the proxy (a refused connection, then an echo),
//! and (where the client can) populates and resets.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::TestApi;
use common::components::{provisioned, skip};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Run a command to completion (at most 60 s): whether it succeeded, and
/// its output; Err says why it could not run.
async fn run(command: &mut Command) -> Result<(bool, String), String> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .map_err(|_| "it did not finish within 60 s".to_string())?
        .map_err(|e| format!("it could not be started: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}

/// `var` prepended to the path list in the environment variable `list`.
fn search_path(dir: &Path, list: &str) -> String {
    match std::env::var(list) {
        Ok(rest) if !rest.is_empty() => format!("{}:{rest}", dir.display()),
        _ => dir.display().to_string(),
    }
}

/// Run a client's check to its end and assert it printed `ok` last.
async fn passes(what: &str, command: &mut Command) {
    let (ok, output) = match run(command).await {
        Ok(result) => result,
        // The interpreter is missing although the package is provisioned.
        Err(why) => return skip(&format!("{what} cannot run: {why}")),
    };
    assert!(ok && output.trim_end().ends_with("ok"), "{what} failed against faultlab's API:\n{output}");
}

#[tokio::test]
async fn toxiproxy_python_drives_our_api() {
    let lib = match provisioned("FAULTLAB_TOXIPROXY_PYTHONPATH", "toxiproxy-python 0.1.1 from PyPI") {
        Ok(lib) => lib,
        Err(why) => return skip(&why),
    };
    let api = TestApi::start().await;
    let echo = common::echo_server().await;
    let mut command = Command::new("python3");
    command.env("PYTHONPATH", search_path(&lib, "PYTHONPATH")).arg(script("python_client.py"));
    command.arg("127.0.0.1").arg(api.addr.port().to_string()).arg(echo.to_string());
    passes("toxiproxy-python (python3)", &mut command).await;
}

#[tokio::test]
async fn toxiproxy_node_client_drives_our_api() {
    let modules = match provisioned("FAULTLAB_TOXIPROXY_NODE_PATH", "toxiproxy-node-client 4.1.0 from npm") {
        Ok(modules) => modules,
        Err(why) => return skip(&why),
    };
    let api = TestApi::start().await;
    let echo = common::echo_server().await;
    let mut command = Command::new("node");
    command.env("NODE_PATH", search_path(&modules, "NODE_PATH")).arg(script("node_client.js"));
    command.arg(api.url("")).arg(echo.to_string());
    passes("toxiproxy-node-client (node)", &mut command).await;
}

#[tokio::test]
async fn toxiproxy_go_client_drives_our_api() {
    let program = match provisioned("FAULTLAB_TOXIPROXY_GO_CLIENT", "tests/clients/go built with Toxiproxy's Go client 2.12.0") {
        Ok(program) => program,
        Err(why) => return skip(&why),
    };
    let api = TestApi::start().await;
    let echo = common::echo_server().await;
    let mut command = Command::new(&program);
    command.arg(api.addr.to_string()).arg(echo.to_string());
    passes("Toxiproxy's Go client", &mut command).await;
}

/// toxiproxy-cli with `-h` at faultlab's API: its output, and whether it
/// exited 0.
async fn cli(program: &Path, api: &TestApi, args: &[&str]) -> (bool, String) {
    let mut command = Command::new(program);
    command.env_remove("TOXIPROXY_URL").arg("-h").arg(api.addr.to_string()).args(args);
    run(&mut command).await.unwrap_or_else(|why| panic!("toxiproxy-cli {args:?}: {why}"))
}

/// An echo round trip through `addr`: how long it took.
async fn round_trip(addr: &str) -> Duration {
    let mut client = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    client.set_nodelay(true).unwrap();
    let started = Instant::now();
    client.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut back)).await.expect("an echo within 5 s").unwrap();
    assert_eq!(&back, b"ping");
    started.elapsed()
}

#[tokio::test]
async fn toxiproxy_cli_drives_our_api() {
    let program = match provisioned("FAULTLAB_TOXIPROXY_CLI", "toxiproxy-cli 2.12.0") {
        Ok(program) => program,
        Err(why) => return skip(&why),
    };
    let api = TestApi::start().await;
    let echo = common::echo_server().await.to_string();

    let (ok, out) = cli(&program, &api, &["create", "--listen", "127.0.0.1:0", "--upstream", &echo, "cli"]).await;
    assert!(ok && out.contains("Created new proxy cli"), "{out}");
    // Not on a terminal, `list` prints `name listen upstream enabled toxics`.
    let (ok, out) = cli(&program, &api, &["list"]).await;
    let row: Vec<&str> = out.lines().find(|l| l.starts_with("cli")).unwrap_or_default().split_whitespace().collect();
    assert!(ok && row.len() == 5 && row[2] == echo && row[3] == "enabled" && row[4] == "0", "{out}");
    let listen = row[1].to_string();
    assert!(!listen.ends_with(":0"), "{out}");
    assert!(round_trip(&listen).await < Duration::from_millis(200));

    let (ok, out) = cli(&program, &api, &["toxic", "add", "--type", "latency", "--attribute", "latency=300", "cli"]).await;
    assert!(ok && out.contains("Added downstream latency toxic 'latency_downstream' on proxy 'cli'"), "{out}");
    assert!(round_trip(&listen).await >= Duration::from_millis(300));
    let (ok, out) = cli(&program, &api, &["inspect", "cli"]).await;
    assert!(ok && out.contains("latency_downstream") && out.contains("latency=300"), "{out}");

    let (ok, out) = cli(&program, &api, &["toxic", "update", "--toxicName", "latency_downstream", "-a", "latency=20", "cli"]).await;
    assert!(ok && out.contains("Updated toxic 'latency_downstream'"), "{out}");
    let took = round_trip(&listen).await;
    assert!(took >= Duration::from_millis(20) && took < Duration::from_millis(250), "{took:?}");
    let (ok, out) = cli(&program, &api, &["toxic", "remove", "--toxicName", "latency_downstream", "cli"]).await;
    assert!(ok && out.contains("Removed toxic 'latency_downstream'"), "{out}");
    let (ok, out) = cli(&program, &api, &["toxic", "remove", "--toxicName", "latency_downstream", "cli"]).await;
    assert!(!ok && out.contains("toxic not found"), "{out}");
    let (ok, out) = cli(&program, &api, &["toxic", "add", "--type", "nonsense", "cli"]).await;
    assert!(!ok && out.contains("invalid toxic type"), "{out}");

    let (ok, out) = cli(&program, &api, &["toggle", "cli"]).await;
    assert!(ok && out.contains("is now disabled"), "{out}");
    assert!(TcpStream::connect(&listen).await.is_err(), "disabled: refused");
    let (ok, out) = cli(&program, &api, &["toggle", "cli"]).await;
    assert!(ok && out.contains("is now enabled"), "{out}");
    assert!(round_trip(&listen).await < Duration::from_millis(200), "enabled again");

    let (ok, out) = cli(&program, &api, &["delete", "cli"]).await;
    assert!(ok && out.contains("Deleted proxy cli"), "{out}");
    let (ok, out) = cli(&program, &api, &["inspect", "cli"]).await;
    assert!(!ok && out.contains("proxy not found"), "{out}");
}
