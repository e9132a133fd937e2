//! Running the `faultlab` binary from a test: both pipes are read on
//! threads (a chatty child cannot block on a full pipe), and a guard kills
//! the child if it runs longer than the test allows, so a command that got
//! further than it should fails the test instead of hanging it.

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Everything a failed assertion should show.
    pub fn shown(&self) -> String {
        format!("exit code {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// `faultlab ARGS` in `dir`, without the caller's RUST_LOG or RUST_BACKTRACE.
pub fn command(args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultlab"));
    command.args(args).current_dir(dir).env_remove("RUST_LOG").env_remove("RUST_BACKTRACE");
    command
}

/// Run `command` to its end; panics, after killing it, if it is still
/// running after `guard` (`why` says what that means for the test).
pub fn run(command: &mut Command, guard: Duration, why: &str) -> Outcome {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the faultlab binary");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            pipe.read_to_string(&mut s).map(|_| s)
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for faultlab") {
            break status;
        }
        if started.elapsed() > guard {
            child.kill().ok();
            child.wait().ok();
            panic!("`faultlab {:?}` still running after {guard:?}: {why}", command.get_args().collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        code: status.code(),
        stdout: out.join().unwrap().expect("stdout is UTF-8"),
        stderr: err.join().unwrap().expect("stderr is UTF-8"),
    }
}

/// Send `signal` to `child` and wait (at most `limit`) for it to exit; a
/// child still running then is killed and the test fails.
pub fn signal_and_wait(child: &mut std::process::Child, signal: libc::c_int, limit: Duration) -> std::process::ExitStatus {
    // SAFETY: kill(2) to a child this test started and has not reaped.
    unsafe { libc::kill(child.id() as i32, signal) };
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for faultlab") {
            return status;
        }
        if started.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("faultlab still running {limit:?} after signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
