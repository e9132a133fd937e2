//! The binary's one tracing subscriber. A process has one global
//! subscriber, and the tests of this binary share the process, so it is
//! installed once, by the first test that asks, with two outputs:
//! - faultlab's log lines (RUST_LOG, default `faultlab=info`) in the output
//!   of the test that wrote them, shown when it fails;
//! - the service's lines (`faultlab::serve` at info) kept in memory, for
//!   the tests that reconcile what `faultlab serve` logs with what it
//!   answers. Tests run side by side, so a test reads back only the lines
//!   of its own messages (by their ids).

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The service's lines written so far, by every test of the binary.
#[derive(Default)]
pub struct ServeLines(Mutex<Vec<u8>>);

impl ServeLines {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("log lines are UTF-8")
    }
}

/// A writer into [`ServeLines`].
struct Keep(&'static ServeLines);

impl Write for Keep {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Install the subscriber (once) and return the service's lines.
pub fn init() -> &'static ServeLines {
    static LINES: OnceLock<&'static ServeLines> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines: &'static ServeLines = Box::leak(Box::default());
        let shown = EnvFilter::try_from_default_env().unwrap_or_else(|_| "faultlab=info".into());
        let kept = EnvFilter::new("faultlab::serve=info");
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(shown))
            .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(move || Keep(lines)).with_filter(kept))
            .init();
        lines
    })
}
