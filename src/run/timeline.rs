//! The fault timeline: each fault is played `at` its time after producing
//! starts (a toxic added, the proxy taken down) and undone after its
//! `duration`, or when producing ends.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::env::FaultControl;
use crate::scenario::{Fault, FaultKind};

/// When a fault was actually in force, for the report and its charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    pub fault: Fault,
    /// Since the start of producing; `None` if producing ended first.
    /// Milliseconds in JSON, like every other time in the report.
    #[serde(rename = "added_ms", with = "millis")]
    pub added_at: Option<Duration>,
    #[serde(rename = "removed_ms", with = "millis")]
    pub removed_at: Option<Duration>,
    /// What went wrong playing or removing it (a removal that had to be
    /// retried, a fault that could not be played): the run goes on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A Kafka toxic on faultlab's proxy: the frames it saw, matched and
    /// acted on while it was in force (summed over its proxies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<crate::proxy::Requests>,
}

/// `Option<Duration>` as fractional milliseconds (`1501.25`) or `null`.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let ms = Option::<f64>::deserialize(d)?;
        ms.map(|ms| Duration::try_from_secs_f64(ms / 1e3).map_err(serde::de::Error::custom)).transpose()
    }
}

/// One step of the timeline: fault `i` (in the file's order) is played or undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Add(usize),
    Remove(usize),
}

/// A timeline being played.
pub struct Timeline {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Vec<FaultWindow>>,
}

/// The steps of `faults` in the order they happen, each with its time
/// after producing starts. Fails when a time is beyond the clock (`at +
/// duration` overflows, which `validate` prevents with its limits).
pub fn schedule(faults: &[Fault]) -> anyhow::Result<Vec<(Duration, Step)>> {
    let mut steps: Vec<(Duration, Step)> = Vec::new();
    for (i, fault) in faults.iter().enumerate() {
        steps.push((fault.at, Step::Add(i)));
        if let Some(duration) = fault.duration {
            let end = fault.at.checked_add(duration).filter(|end| Instant::now().checked_add(*end).is_some());
            let end = end.ok_or_else(|| anyhow::anyhow!("fault `{}` ends beyond the clock (at + duration)", fault.name))?;
            steps.push((end, Step::Remove(i)));
        }
    }
    if let Some((_, Step::Add(i))) = steps.iter().find(|(at, _)| Instant::now().checked_add(*at).is_none()) {
        anyhow::bail!("fault `{}` starts beyond the clock (at)", faults[*i].name);
    }
    // Stable: at equal times, steps keep the file's order.
    steps.sort_by_key(|(at, _)| *at);
    Ok(steps)
}

impl Timeline {
    /// Start playing `faults` against `control` at the times of `steps`
    /// (their [`schedule`]), timed from `started`.
    pub fn play(faults: &[Fault], steps: Vec<(Duration, Step)>, control: FaultControl, started: Instant) -> Timeline {
        let mut windows: Vec<FaultWindow> = faults
            .iter()
            .map(|f| FaultWindow { fault: f.clone(), added_at: None, removed_at: None, notes: Vec::new(), requests: None })
            .collect();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        // A fault that cannot be played or removed is noted on its window
        // and the timeline goes on: one fault never loses the run.
        let task = tokio::spawn(async move {
            for (at, step) in steps {
                tokio::select! {
                    _ = stopped.cancelled() => break,
                    _ = sleep_until(started + at) => {}
                }
                match step {
                    Step::Add(i) => play(&control, &mut windows[i], started).await,
                    Step::Remove(i) => undo(&control, &mut windows[i], started).await,
                }
            }
            // Producing is over: whatever is still in force goes now
            // (a removal that failed on schedule is tried again).
            stopped.cancelled().await;
            for window in windows.iter_mut() {
                undo(&control, window, started).await;
            }
            windows
        });
        Timeline { stop, task }
    }

    /// End the timeline: remove every toxic still in force and report when
    /// each fault was in force.
    pub async fn finish(self) -> anyhow::Result<Vec<FaultWindow>> {
        self.stop.cancel();
        Ok(self.task.await?)
    }
}

/// Put `window`'s fault in force and note when.
async fn play(control: &FaultControl, window: &mut FaultWindow, started: Instant) {
    let played = match &window.fault.kind {
        FaultKind::Toxic(kind) => control.add(&window.fault.toxic_of(kind)).await,
        FaultKind::Backend(backend_fault) => control.begin(backend_fault).await,
    };
    match played {
        Ok(()) => window.added_at = Some(started.elapsed()),
        Err(e) => window.notes.push(format!("could not be played: {e:#}")),
    }
}

/// End `window`'s fault if it is in force, and note when it ended: when
/// the backend says it is gone, however long that took.
async fn undo(control: &FaultControl, window: &mut FaultWindow, started: Instant) {
    if window.added_at.is_none() || window.removed_at.is_some() {
        return;
    }
    let undone = match &window.fault.kind {
        FaultKind::Toxic(_) => control.remove(&window.fault.name).await.map(|removed| (removed.ended, removed.notes, removed.requests)),
        FaultKind::Backend(backend_fault) => control.end(backend_fault).await.map(|()| (Instant::now(), Vec::new(), None)),
    };
    match undone {
        Ok((ended, notes, requests)) => {
            window.removed_at = Some(ended.saturating_duration_since(started));
            window.notes.extend(notes);
            window.requests = requests;
        }
        Err(e) => window.notes.push(format!("could not be removed at {:.1} s: {e:#}", started.elapsed().as_secs_f64())),
    }
}
