//! Child processes of the local backend (Kafka brokers, Toxiproxy) that
//! never outlive faultlab.
//!
//! - Each child runs in its own process group, so the terminal's Ctrl-C
//!   reaches faultlab only: faultlab decides when its brokers stop (after
//!   reading the topics back), not the keyboard.
//! - Each child gets SIGKILL from the kernel when faultlab dies, however it
//!   dies (`PR_SET_PDEATHSIG`), so not even a `kill -9` of faultlab leaves
//!   a broker running.
//! - Dropping a [`Child`] kills it and reaps it before returning.
//! - A child that is talked to (a Java producer's JVM, [`Child::spawn_talking`])
//!   is the same, with its pipes handed to the caller.
//! - Its output is drained line by line (a full pipe would stall it): kept
//!   in a short tail for error messages, and watched for a ready line.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

/// Lines of output kept for error messages.
const TAIL_LINES: usize = 40;

/// The pids of every live child, for [`kill_all`].
static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// SIGKILL every live child: for an exit that cannot wait for drops.
/// Returns how many there were.
pub fn kill_all() -> usize {
    let pids = std::mem::take(&mut *live());
    for pid in &pids {
        // SAFETY: kill(2) on pids of our own children, not yet reaped.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    pids.len()
}

/// How to start a child: the same spec starts it again after a stop.
#[derive(Debug, Clone)]
pub struct Spec {
    /// For messages: "broker 2", "Toxiproxy".
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// A line of its output that says it is ready, if it prints one.
    pub ready_line: Option<String>,
}

/// A running child process.
pub struct Child {
    spec: Spec,
    child: tokio::process::Child,
    /// Kept: tokio forgets the pid once the child has been waited for.
    pid: Option<i32>,
    tail: Arc<Mutex<VecDeque<String>>>,
    ready: watch::Receiver<bool>,
}

/// The pipes of a child that is talked to ([`Child::spawn_talking`]).
pub struct Pipes {
    pub stdin: tokio::process::ChildStdin,
    pub stdout: tokio::process::ChildStdout,
    pub stderr: tokio::process::ChildStderr,
}

impl Child {
    pub fn spawn(spec: &Spec) -> anyhow::Result<Child> {
        let mut child = start(spec, Stdio::null())?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (ready_tx, ready) = watch::channel(false);
        let ready_tx = Arc::new(ready_tx);
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(drain(stdout, spec.clone(), tail.clone(), ready_tx.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(drain(stderr, spec.clone(), tail.clone(), ready_tx));
        }
        Ok(Child::register(spec, child, tail, ready))
    }

    /// Start a child that is talked to: its stdin, stdout and stderr are
    /// the caller's to write and read (a full pipe stalls it, so read
    /// both); it dies with faultlab and on drop like any other.
    pub fn spawn_talking(spec: &Spec) -> anyhow::Result<(Child, Pipes)> {
        let mut child = start(spec, Stdio::piped())?;
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = (stdin, stdout, stderr) else { bail!("{}: its pipes were not opened", spec.name) };
        let (_, ready) = watch::channel(false);
        Ok((Child::register(spec, child, Arc::default(), ready), Pipes { stdin, stdout, stderr }))
    }

    fn register(spec: &Spec, child: tokio::process::Child, tail: Arc<Mutex<VecDeque<String>>>, ready: watch::Receiver<bool>) -> Child {
        let pid = child.id().and_then(|id| i32::try_from(id).ok());
        if let Some(pid) = pid {
            live().insert(pid);
        }
        Child { spec: spec.clone(), child, pid, tail, ready }
    }

    /// Its pid while it has not been reaped.
    pub fn pid(&self) -> Option<i32> {
        self.child.id().and(self.pid)
    }

    /// The last lines it printed, for an error message.
    pub fn tail(&self) -> String {
        self.tail.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Wait until it prints its ready line; an error if it exits first or
    /// takes longer than `patience`, with the end of its output.
    pub async fn ready(&mut self, patience: Duration) -> anyhow::Result<()> {
        let mut ready = self.ready.clone();
        let outcome = tokio::time::timeout(patience, async {
            tokio::select! {
                status = self.child.wait() => Err(status),
                changed = ready.wait_for(|r| *r) => Ok(changed.is_ok()),
            }
        })
        .await;
        match outcome {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => bail!("{} closed its output before it was ready:\n{}", self.spec.name, self.tail()),
            Ok(Err(status)) => {
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                bail!("{} exited ({status}) before it was ready:\n{}", self.spec.name, self.tail())
            }
            Err(_) => bail!("{} was not ready within {patience:?}:\n{}", self.spec.name, self.tail()),
        }
    }

    /// Resolves when it exits, with how it ended.
    pub async fn exited(&mut self) -> String {
        self.child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
    }

    /// Send `signal` (SIGSTOP, SIGCONT, SIGTERM) to it.
    pub fn signal(&self, signal: libc::c_int) -> anyhow::Result<()> {
        let pid = self.pid().ok_or_else(|| anyhow::anyhow!("{} has already exited", self.spec.name))?;
        // SAFETY: kill(2) with the pid of our own unreaped child.
        if unsafe { libc::kill(pid, signal) } != 0 {
            return Err(std::io::Error::last_os_error()).with_context(|| format!("signalling {}", self.spec.name));
        }
        Ok(())
    }

    /// Stop it cleanly: SIGTERM (continuing it first, if stopped), then
    /// SIGKILL after `patience`. Returns once it has exited.
    pub async fn terminate(mut self, patience: Duration) -> anyhow::Result<()> {
        let _ = self.signal(libc::SIGCONT);
        // Dropped at the end, which reaps it if it has not exited.
        self.signal(libc::SIGTERM)?;
        if tokio::time::timeout(patience, self.child.wait()).await.is_err() {
            tracing::warn!("{} did not stop within {patience:?} of SIGTERM: killed", self.spec.name);
            self.child.kill().await.with_context(|| format!("killing {}", self.spec.name))?;
        }
        Ok(())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            live().remove(&pid);
        }
        // SIGKILL, then reap it here, so that when the environment is gone
        // so is the process (and its ports).
        if self.child.start_kill().is_ok() {
            for _ in 0..200 {
                match self.child.try_wait() {
                    Ok(Some(_)) | Err(_) => return,
                    Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            tracing::warn!("{} did not exit within 2 s of SIGKILL", self.spec.name);
        }
    }
}

/// Spawn `spec` in its own process group, killed when faultlab dies or the
/// child is dropped, with stdout and stderr piped.
fn start(spec: &Spec, stdin: Stdio) -> anyhow::Result<tokio::process::Child> {
    let mut command = tokio::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: prctl is async-signal-safe and touches no memory of the
    // parent; this runs in the forked child before exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().with_context(|| format!("starting {} ({})", spec.name, spec.program.display()))
}

/// Read `output` to its end, keeping a tail and flagging the ready line.
async fn drain(output: impl AsyncRead + Unpin, spec: Spec, tail: Arc<Mutex<VecDeque<String>>>, ready: Arc<watch::Sender<bool>>) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "faultlab::env::local::output", "{}: {line}", spec.name);
        if spec.ready_line.as_deref().is_some_and(|r| line.contains(r)) {
            ready.send_replace(true);
        }
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}
