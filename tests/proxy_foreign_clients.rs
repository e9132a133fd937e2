//! Unmodified Toxiproxy clients from other languages against faultlab's
//! API: `toxiproxy-python` (PyPI) and `toxiproxy-node-client` (npm). Each
//! test runs its script under tests/clients/ when the interpreter and the
//! package are installed, and otherwise says why it skipped.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::TestApi;
use tokio::process::Command;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Run a command to completion (at most 60 s): whether it succeeded, and
/// its output.
async fn run(command: &mut Command) -> Option<(bool, String)> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output()).await.ok()?.ok()?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Some((output.status.success(), text))
}

#[tokio::test]
async fn toxiproxy_python_drives_our_api() {
    match run(Command::new("python3").args(["-c", "import toxiproxy"])).await {
        Some((true, _)) => {}
        Some((false, why)) => return println!("skipped: the toxiproxy-python package is not importable ({})", why.trim()),
        None => return println!("skipped: python3 is not installed"),
    }
    let api = TestApi::start().await;
    let echo = common::echo_server().await;
    let mut command = Command::new("python3");
    command.arg(script("python_client.py")).arg("127.0.0.1").arg(api.addr.port().to_string()).arg(echo.to_string());
    let (ok, output) = run(&mut command).await.expect("the script finishes within 60 s");
    assert!(ok && output.trim_end().ends_with("ok"), "toxiproxy-python failed against our API:\n{output}");
}

#[tokio::test]
async fn toxiproxy_node_client_drives_our_api() {
    // Global packages are not on node's search path by default.
    let global = Command::new("npm").args(["root", "-g"]).stderr(Stdio::null()).output().await;
    let node_path = match global {
        Ok(out) if out.status.success() => {
            let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
            std::env::var("NODE_PATH").map_or(root.clone(), |p| format!("{p}:{root}"))
        }
        _ => std::env::var("NODE_PATH").unwrap_or_default(),
    };
    let probe = Command::new("node").env("NODE_PATH", &node_path).args(["-e", "require('toxiproxy-node-client')"]).output().await;
    match probe {
        Ok(output) if output.status.success() => {}
        Ok(_) => return println!("skipped: the toxiproxy-node-client package is not installed (npm install -g toxiproxy-node-client)"),
        Err(_) => return println!("skipped: node is not installed"),
    }
    let api = TestApi::start().await;
    let echo = common::echo_server().await;
    let mut command = Command::new("node");
    command.env("NODE_PATH", &node_path).arg(script("node_client.js")).arg(api.url("")).arg(echo.to_string());
    let (ok, output) = run(&mut command).await.expect("the script finishes within 60 s");
    assert!(ok && output.trim_end().ends_with("ok"), "toxiproxy-node-client failed against our API:\n{output}");
}
