//! A link's chain of toxics, and how it changes while data flows.
//!
//! The chain is a list of slots, each a toxic over a [`Stub`] whose input
//! is the queue in front of it; slot 0 is a pass-through that is always
//! there (as in Toxiproxy), so the reader always has somewhere to put
//! chunks. When the proxy's toxics for this stream change, every stage is
//! interrupted; each puts back what it holds and returns its slot. The
//! queues themselves are untouched, so:
//! - a kept toxic resumes on the same queue, with its state (limit_data's
//!   count, timeout's clock) and its toxicity roll: held data is neither
//!   released early nor reordered;
//! - a removed toxic's queue is appended to the next one's (it holds the
//!   newer bytes), so its data goes on at once, as in Toxiproxy, unless it
//!   is a toxic that closes the stream when removed (timeout);
//! - a new toxic gets a fresh, empty queue in front of it, at its place.
//!
//! Toxiproxy only interrupts the toxics next to a change; restarting them
//! all is equivalent here because an interrupted toxic gives back what it
//! holds instead of passing it on.

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::connection::Connection;
use crate::pipe::{LinkState, Stream};
use crate::stub::{CloseMode, PipeEnd, Queued, Stub};
use crate::toxic::{Toxic, ToxicEntry, ToxicSet};
use crate::toxics::noop;

/// What the chain of one link needs.
pub(super) struct Setup {
    pub stream: Stream,
    pub toxics: watch::Receiver<Arc<ToxicSet>>,
    pub rng: SmallRng,
    pub connection: Arc<Connection>,
}

/// A toxic as it applies to this link.
pub(super) struct Member {
    id: u64,
    toxic: Toxic,
    /// Whether the toxicity roll made it apply to this connection.
    active: bool,
    state: LinkState,
    /// Removed, and closes the stream when it next runs.
    closing: Option<CloseMode>,
}

pub(super) struct Slot {
    /// `None` for the pass-through at the head.
    member: Option<Member>,
    stub: Stub,
}

/// A slot running as a task.
struct Stage {
    index: usize,
    interrupt: CancellationToken,
    kill: CancellationToken,
    task: AbortOnDropHandle<Option<Slot>>,
}

/// Run the chain from `head` to `tail` until the stream ends.
pub(super) async fn run(head: mpsc::UnboundedReceiver<Queued>, tail: mpsc::UnboundedSender<Queued>, setup: Setup) {
    let Setup { stream, mut toxics, mut rng, connection } = setup;
    let mut slots = vec![Slot { member: None, stub: Stub::new(head, tail, SmallRng::from_rng(&mut rng)) }];
    let set = toxics.borrow_and_update().clone();
    let mut applied = set.for_stream(stream);
    reconcile(&mut slots, &applied, &connection, &mut rng);
    connection.set_applied(stream, set.version);
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel();
    let mut stages = start(slots, 0, &connection, &ended_tx);
    let mut proxy_gone = false;
    loop {
        tokio::select! {
            changed = toxics.changed(), if !proxy_gone => {
                if changed.is_err() {
                    // The proxy is gone: keep forwarding through what we have.
                    proxy_gone = true;
                    continue;
                }
                let set = toxics.borrow_and_update().clone();
                let entries = set.for_stream(stream);
                if entries != applied {
                    match stop(stages, &connection, &ended_tx).await {
                        Ok(mut slots) => {
                            reconcile(&mut slots, &entries, &connection, &mut rng);
                            applied = entries;
                            stages = start(slots, 0, &connection, &ended_tx);
                        }
                        Err((rest, ended)) => {
                            connection.set_applied(stream, u64::MAX);
                            return wind_down(rest, ended).await;
                        }
                    }
                }
                connection.set_applied(stream, set.version);
            }
            Some(ended) = ended_rx.recv() => {
                connection.set_applied(stream, u64::MAX);
                return wind_down(stages, ended).await;
            }
        }
    }
}

fn start(slots: Vec<Slot>, base: usize, connection: &Arc<Connection>, ended: &mpsc::UnboundedSender<usize>) -> Vec<Stage> {
    let mut stages = Vec::with_capacity(slots.len());
    for (i, mut slot) in slots.into_iter().enumerate() {
        let index = base + i;
        slot.stub.interrupt = CancellationToken::new();
        let interrupt = slot.stub.interrupt.clone();
        let kill = CancellationToken::new();
        let task = tokio::spawn(run_stage(slot, index, kill.clone(), connection.clone(), ended.clone()));
        stages.push(Stage { index, interrupt, kill, task: AbortOnDropHandle::new(task) });
    }
    stages
}

/// Run one slot's toxic. It gives its slot back when interrupted; when its
/// stream ends it drops the slot, which closes its output, so the end of
/// the stream travels on to the writer after everything already passed on.
async fn run_stage(
    mut slot: Slot,
    index: usize,
    kill: CancellationToken,
    connection: Arc<Connection>,
    ended: mpsc::UnboundedSender<usize>,
) -> Option<Slot> {
    let end = tokio::select! {
        biased;
        _ = kill.cancelled() => return None,
        end = pipe(&mut slot) => end,
    };
    match end {
        PipeEnd::Interrupted => Some(slot),
        end => {
            if end == PipeEnd::Close(CloseMode::Reset) {
                connection.set_reset();
            }
            drop(slot);
            let _ = ended.send(index);
            None
        }
    }
}

async fn pipe(slot: &mut Slot) -> PipeEnd {
    match &mut slot.member {
        Some(Member { closing: Some(mode), .. }) => PipeEnd::Close(*mode),
        Some(member) if member.active => member.toxic.kind.pipe(&mut slot.stub, &mut member.state).await,
        _ => noop::pipe(&mut slot.stub).await,
    }
}

/// Interrupt every stage and take the slots back. If a stage's stream
/// ended meanwhile, the chain cannot change any more: the stages after it
/// run again as they were, to deliver what they hold, and the index of the
/// first ended stage is returned with them.
async fn stop(
    stages: Vec<Stage>,
    connection: &Arc<Connection>,
    ended: &mpsc::UnboundedSender<usize>,
) -> Result<Vec<Slot>, (Vec<Stage>, usize)> {
    for stage in &stages {
        stage.interrupt.cancel();
    }
    let mut slots = Vec::with_capacity(stages.len());
    for stage in stages {
        slots.push(stage.task.await.ok().flatten());
    }
    match slots.iter().position(Option::is_none) {
        None => Ok(slots.into_iter().flatten().collect()),
        Some(first_ended) => {
            let after: Vec<Slot> = slots.into_iter().skip(first_ended + 1).flatten().collect();
            Err((start(after, first_ended + 1, connection, ended), first_ended))
        }
    }
}

/// The stream ended at stage `ended`: stop the stages before it (what they
/// read can go nowhere; Toxiproxy's block), and let the ones after it
/// deliver what they hold and pass the end on.
async fn wind_down(stages: Vec<Stage>, ended: usize) {
    let (before, after): (Vec<Stage>, Vec<Stage>) = stages.into_iter().partition(|s| s.index < ended);
    for stage in &before {
        stage.kill.cancel();
    }
    drop(before);
    for stage in after {
        let _ = stage.task.await;
    }
}

/// Bring the slots in line with the proxy's toxics on this stream.
pub(super) fn reconcile(slots: &mut Vec<Slot>, entries: &[ToxicEntry], connection: &Connection, rng: &mut SmallRng) {
    // Keep the members still listed, in an order consistent with the list
    // (a toxic removed and added again may now come later); a member that
    // is closing stays to close.
    let mut last = None;
    let mut removed = Vec::new();
    for (i, slot) in slots.iter().enumerate().skip(1) {
        let Some(member) = &slot.member else { continue };
        if member.closing.is_some() {
            continue;
        }
        match entries.iter().position(|e| e.id == member.id) {
            Some(p) if last.is_none_or(|l| p > l) => last = Some(p),
            _ => removed.push(i),
        }
    }
    for &i in removed.iter().rev() {
        remove(slots, i);
    }
    let mut cursor = 0;
    for entry in entries {
        let found = slots.iter().position(|s| s.member.as_ref().is_some_and(|m| m.id == entry.id && m.closing.is_none()));
        match found {
            Some(i) => {
                if let Some(member) = slots[i].member.as_mut() {
                    update(member, &entry.toxic, connection);
                }
                cursor = i;
            }
            None => {
                let (tx, rx) = mpsc::unbounded_channel();
                let output = std::mem::replace(&mut slots[cursor].stub.output, tx);
                let member = Member {
                    id: entry.id,
                    toxic: entry.toxic.clone(),
                    active: connection.roll(entry.toxic.toxicity),
                    state: LinkState { tally: entry.tally.clone(), session: connection.kafka.clone(), ..LinkState::default() },
                    closing: None,
                };
                slots.insert(cursor + 1, Slot { member: Some(member), stub: Stub::new(rx, output, SmallRng::from_rng(&mut *rng)) });
                cursor += 1;
            }
        }
    }
}

/// Take slot `i` out of the chain. Its queue goes on to the next slot, and
/// the slot before it now feeds the next one directly; a toxic that closes
/// the stream when removed stays, marked to close.
fn remove(slots: &mut Vec<Slot>, i: usize) {
    if let Some(member) = slots[i].member.as_mut()
        && let (true, Some(mode)) = (member.active, member.toxic.kind.on_removed())
    {
        member.closing = Some(mode);
        return;
    }
    let mut slot = slots.remove(i);
    slot.stub.flush_queue();
    slots[i - 1].stub.output = slot.stub.output;
}

/// A kept toxic's settings changed: new attributes restart its clock (not
/// its byte count); a new toxicity is rolled again.
fn update(member: &mut Member, toxic: &Toxic, connection: &Connection) {
    if member.toxic.kind != toxic.kind {
        member.state.deadline = None;
    }
    if member.toxic.toxicity != toxic.toxicity {
        member.active = connection.roll(toxic.toxicity);
    }
    member.toxic = toxic.clone();
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
