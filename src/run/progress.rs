//! Live progress on the terminal while a scenario runs: sent and acked per
//! producer, and the faults in force. Drawn on stderr only when it is a
//! terminal, so CI logs and pipes stay clean.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::driver::RunProducer;
use crate::scenario::Fault;

/// The progress lines of one run of one scenario.
pub struct Progress {
    multi: MultiProgress,
    producers: Vec<ProgressBar>,
    faults: ProgressBar,
}

impl Progress {
    /// One line per producer (`messages` each) and one for the faults.
    pub fn new(title: &str, producers: &[&str], messages: u64) -> Progress {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} sent, {msg}")
            .expect("a valid template")
            .progress_chars("=> ");
        let header = multi.add(ProgressBar::new_spinner().with_message(title.to_string()));
        header.finish();
        let producers = producers
            .iter()
            .map(|name| multi.add(ProgressBar::new(messages).with_style(style.clone()).with_prefix(name.to_string())))
            .collect();
        let faults = multi.add(ProgressBar::new_spinner().with_prefix("faults"));
        faults.set_style(ProgressStyle::with_template("{prefix:>14} {msg}").expect("a valid template"));
        Progress { multi, producers, faults }
    }

    /// Redraw every 200 ms until `stop` is cancelled.
    pub async fn track(&self, producers: &[&RunProducer], faults: &[Fault], started: Instant, stop: CancellationToken) {
        loop {
            for (bar, producer) in self.producers.iter().zip(producers) {
                let counts = producer.counts();
                bar.set_position(counts.sent);
                bar.set_message(format!("{} acked, {} failed", counts.acked, counts.failed));
            }
            self.faults.set_message(active_faults(faults, started.elapsed()));
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }

    /// Remove the lines: the report follows.
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}

/// The faults the timeline has in force at `elapsed`, as the scenario plans them.
fn active_faults(faults: &[Fault], elapsed: Duration) -> String {
    let active: Vec<&str> =
        faults.iter().filter(|f| f.at <= elapsed && f.duration.is_none_or(|d| elapsed < f.at + d)).map(|f| f.name.as_str()).collect();
    if active.is_empty() { "none in force".to_string() } else { active.join(", ") }
}
