//! One direction of one proxied connection: a reader, a chain of toxics, a
//! writer.
//!
//! ```text
//! socket ─read─▶ [toxic 1] ─▶ [toxic 2] ─▶ … ─write─▶ socket
//! ```
//! Every stage is its own task joined to the next by a channel of
//! [`Chunk`]s, as in Toxiproxy, so a slow toxic never stalls reading: a
//! latency toxic delays each chunk from its own arrival. When the proxy's
//! toxics change, the chain is stopped stage by stage from the head (each
//! passes on what it held), the chunks still queued between stages are moved
//! along, and a new chain is built on the same head and tail. No byte is lost
//! or reordered by a change.
//!
//! Memory is bounded by a byte budget per link: the reader takes budget for
//! what it reads and the chunk gives it back when written or dropped, so a
//! toxic that holds data makes the reader stop, and TCP pushes back on the
//! sender as it would on a slow network.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use super::connection::Connection;
use super::stub::{Chunk, PipeEnd, Stub};
use super::toxic::{Stream, Toxic, ToxicKind};
use super::toxics::noop;

/// Largest single read, and so the largest chunk a toxic sees.
const READ_SIZE: usize = 32 * 1024;
/// Bytes one link may hold between reading and writing.
const LINK_BUDGET: usize = 4 * 1024 * 1024;

/// What the link needs to know to build its chain.
pub(super) struct LinkSetup {
    pub stream: Stream,
    pub toxics: watch::Receiver<Arc<Vec<Toxic>>>,
    pub rng: SmallRng,
    pub connection: Arc<Connection>,
}

/// Run one direction until it ends or the connection closes.
pub(super) async fn run(source: Arc<TcpStream>, dest: Arc<TcpStream>, setup: LinkSetup) {
    let (head_tx, head_rx) = mpsc::unbounded_channel();
    let (tail_tx, tail_rx) = mpsc::unbounded_channel();
    let connection = setup.connection.clone();
    let closing = connection.closing.clone();
    let reader = read_loop(source, head_tx, connection.clone());
    let chain = run_chain(head_rx, tail_tx, setup);
    let writer = write_loop(dest, tail_rx, connection);
    tokio::select! {
        _ = async { tokio::join!(reader, chain, writer) } => {}
        _ = closing.cancelled() => {}
    }
}

async fn read_loop(source: Arc<TcpStream>, head: mpsc::UnboundedSender<Chunk>, connection: Arc<Connection>) {
    let budget = Arc::new(Semaphore::new(LINK_BUDGET));
    loop {
        let Ok(mut permit) = budget.clone().acquire_many_owned(READ_SIZE as u32).await else { return };
        if source.readable().await.is_err() {
            return connection.close_after_error();
        }
        // The buffer lives only between readiness and the read, so an idle
        // connection holds none.
        let mut buf = [0u8; READ_SIZE];
        match source.try_read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let kept = permit.split(n);
                let mut chunk = Chunk::new(bytes::Bytes::copy_from_slice(&buf[..n]), tokio::time::Instant::now());
                chunk.budget = kept;
                if head.send(chunk).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return connection.close_after_error(),
        }
    }
}

async fn write_loop(dest: Arc<TcpStream>, mut tail: mpsc::UnboundedReceiver<Chunk>, connection: Arc<Connection>) {
    while let Some(chunk) = tail.recv().await {
        if write_all(&dest, &chunk.data).await.is_err() {
            return connection.close_after_error();
        }
    }
    // Everything before the end of the stream is written: pass the FIN on.
    let _ = socket2::SockRef::from(dest.as_ref()).shutdown(std::net::Shutdown::Write);
    connection.direction_done();
}

async fn write_all(dest: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        dest.writable().await?;
        match dest.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A toxic as it applies to this link: its own copy (toxics may keep state
/// per link) and whether the toxicity roll made it active here.
struct Member {
    name: String,
    kind: ToxicKind,
    active: bool,
}

/// A member running as a task over its stub.
struct Stage {
    interrupt: CancellationToken,
    task: AbortOnDropHandle<(Option<Member>, Stub, PipeEnd)>,
}

async fn run_chain(head: mpsc::UnboundedReceiver<Chunk>, tail: mpsc::UnboundedSender<Chunk>, setup: LinkSetup) {
    let LinkSetup { stream, mut toxics, mut rng, connection } = setup;
    let mut members = Vec::new();
    sync_members(&mut members, &toxics.borrow_and_update(), stream, &connection);
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel();
    let mut ends = (head, tail);
    loop {
        let stages = start_stages(std::mem::take(&mut members), ends, &mut rng, &ended_tx);
        tokio::select! {
            changed = toxics.changed() => {
                let Some(stopped) = stop_stages(stages, &connection).await else { return };
                (members, ends) = stopped;
                if changed.is_err() {
                    // The proxy is gone: keep forwarding through what we have.
                    let _ = wind_down(start_stages(members, ends, &mut rng, &ended_tx), &connection).await;
                    return;
                }
                sync_members(&mut members, &toxics.borrow_and_update(), stream, &connection);
            }
            Some(()) = ended_rx.recv() => {
                // A stage ended on its own: the stream closed or a toxic closes the connection.
                return wind_down(stages, &connection).await;
            }
        }
    }
}

/// Bring the members in line with the proxy's toxics on this stream: keep
/// the ones still there (with their state and toxicity roll), add new ones
/// with a fresh roll, drop removed ones, honouring a toxic that closes the
/// connection when it is removed.
fn sync_members(members: &mut Vec<Member>, toxics: &[Toxic], stream: Stream, connection: &Connection) {
    let mut next = Vec::new();
    for toxic in toxics.iter().filter(|t| t.stream == stream) {
        match members.iter().position(|m| m.name == toxic.name) {
            Some(i) => {
                let mut member = members.remove(i);
                if member.kind != toxic.kind {
                    member.kind = toxic.kind.clone();
                }
                next.push(member);
            }
            None => next.push(Member {
                name: toxic.name.clone(),
                kind: toxic.kind.clone(),
                active: connection.roll(toxic.toxicity),
            }),
        }
    }
    for removed in members.drain(..) {
        if removed.active {
            if let Some(mode) = removed.kind.on_removed() {
                connection.close(mode);
            }
        }
    }
    *members = next;
}

fn start_stages(
    members: Vec<Member>,
    (head, tail): (mpsc::UnboundedReceiver<Chunk>, mpsc::UnboundedSender<Chunk>),
    rng: &mut SmallRng,
    ended: &mpsc::UnboundedSender<()>,
) -> Vec<Stage> {
    // An empty chain still needs one stage to carry bytes from head to tail.
    let members: Vec<Option<Member>> =
        if members.is_empty() { vec![None] } else { members.into_iter().map(Some).collect() };
    let count = members.len();
    let mut input = Some(head);
    let mut tail = Some(tail);
    let mut stages = Vec::with_capacity(count);
    for (i, member) in members.into_iter().enumerate() {
        let (output, next_input) = if i + 1 == count {
            (tail.take().expect("tail used once"), None)
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            (tx, Some(rx))
        };
        let interrupt = CancellationToken::new();
        let stub = Stub {
            input: input.take().expect("each input used once"),
            output,
            interrupt: interrupt.clone(),
            rng: SmallRng::from_rng(&mut *rng),
        };
        input = next_input;
        let ended = ended.clone();
        let task = tokio::spawn(async move {
            let (member, mut stub) = (member, stub);
            let mut member = member;
            let end = match member.as_mut() {
                Some(m) if m.active => m.kind.pipe(&mut stub).await,
                _ => noop::pipe(&mut stub).await,
            };
            if end != PipeEnd::Interrupted {
                let _ = ended.send(());
            }
            (member, stub, end)
        });
        stages.push(Stage { interrupt, task: AbortOnDropHandle::new(task) });
    }
    stages
}

/// Stop every stage from the head on and recover the chain's ends. `None`
/// when the connection is closing instead.
async fn stop_stages(stages: Vec<Stage>, connection: &Connection) -> Option<(Vec<Member>, (mpsc::UnboundedReceiver<Chunk>, mpsc::UnboundedSender<Chunk>))> {
    let count = stages.len();
    let mut members = Vec::new();
    let mut head = None;
    let mut tail = None;
    for (i, stage) in stages.into_iter().enumerate() {
        stage.interrupt.cancel();
        let Ok((member, mut stub, end)) = stage.task.await else {
            connection.close_after_error();
            return None;
        };
        if let PipeEnd::Close(mode) = end {
            connection.close(mode);
            return None;
        }
        // Everything before this stage has stopped: what is queued for it
        // is final, and moves on unchanged.
        while let Ok(chunk) = stub.input.try_recv() {
            stub.send(chunk);
        }
        members.extend(member);
        if i == 0 {
            head = Some(stub.input);
        }
        if i + 1 == count {
            tail = Some(stub.output);
        }
    }
    Some((members, (head?, tail?)))
}

/// Let the chain finish on its own after a stage ended: each stage's ends
/// are dropped as it returns, so the end of the stream travels down the
/// chain to the writer; a stage that closes the connection closes it now.
async fn wind_down(stages: Vec<Stage>, connection: &Connection) {
    let mut running: FuturesUnordered<_> = stages.into_iter().map(|stage| stage.task).collect();
    while let Some(result) = running.next().await {
        match result {
            Ok((_, _, PipeEnd::Close(mode))) => return connection.close(mode),
            Ok(_) => {}
            Err(_) => return connection.close_after_error(),
        }
    }
}
