//! One direction of one proxied connection: a reader, a chain of toxics, a
//! writer.
//!
//! ```text
//! socket ─read─▶ [noop] ─▶ [toxic 1] ─▶ [toxic 2] ─▶ … ─write─▶ socket
//! ```
//! Every stage is its own task joined to the next by a queue of
//! [`Chunk`]s, as in Toxiproxy, so a slow toxic never stalls reading: a
//! latency toxic delays each chunk from its own arrival. How the chain
//! changes while data flows is in [`super::chain`].
//!
//! While the stream has no toxic, the link runs its fast path instead
//! ([`super::splice`]: splice(2) from socket to socket) and hands over to
//! the chain at the first toxic.
//!
//! In Kafka mode ([`super::kafka`]) the reader reads whole frames, one
//! chunk per frame, and the fast path is never taken.
//!
//! The link ends when its writer does: after the chain delivered the end of
//! the stream (the source closed or failed, or a toxic closed the stream)
//! or when writing fails. It then closes the destination socket, which ends
//! the other link too (see [`super::connection`]).
//!
//! Memory is bounded by a byte budget per link: the reader takes budget for
//! what it reads and the chunk gives it back when written or dropped, so a
//! toxic that holds data makes the reader stop, and TCP pushes back on the
//! sender as it would on a slow network.

use std::sync::Arc;

use rand::rngs::SmallRng;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_util::sync::CancellationToken;

use futures::future::Either;

use crate::chain;
use crate::connection::{Connection, Side};
use crate::splice::{self, Handover};
use crate::stream::Stream;
use crate::stub::{Chunk, Queued, unless_ended};
use crate::toxic::ToxicSet;

/// Largest single read, and so the largest chunk a toxic sees.
const READ_SIZE: usize = 32 * 1024;
/// Bytes one link may hold between reading and writing.
const LINK_BUDGET: usize = 4 * 1024 * 1024;

/// Run the link of `stream` until it ends or the connection is killed.
/// A Kafka-mode link (its connection has a session) reads frames and
/// never takes the fast path.
pub(super) async fn run(connection: Arc<Connection>, stream: Stream, mut toxics: watch::Receiver<Arc<ToxicSet>>, rng: SmallRng) {
    let kafka = connection.kafka.clone();
    let (source_side, dest_side) = Side::ends(stream);
    let (Some(source), Some(dest)) = (connection.stream(source_side), connection.stream(dest_side)) else {
        connection.set_applied(stream, u64::MAX);
        return;
    };
    let source_closed = connection.closed(source_side);
    if kafka.is_none()
        && let Handover::Ended = splice::run(&connection, stream, (&source, &dest), &source_closed, &mut toxics).await
    {
        // As the writer does when the stream ends (a no-op once killed).
        connection.close_socket(dest_side);
        connection.set_applied(stream, u64::MAX);
        return;
    }
    let (head_tx, head_rx) = mpsc::unbounded_channel();
    let (tail_tx, tail_rx) = mpsc::unbounded_channel();
    let reader = match kafka {
        None => Either::Left(read_loop(source, connection.closed(source_side), head_tx)),
        Some(session) => {
            Either::Right(crate::session::read_loop(source, connection.closed(source_side), head_tx, stream, session, LINK_BUDGET))
        }
    };
    let chain = chain::run(head_rx, tail_tx, chain::Setup { stream, toxics, rng, connection: connection.clone() });
    let writer = async {
        write_loop(dest, tail_rx).await;
        connection.close_socket(dest_side);
    };
    let feeding = async { tokio::join!(reader, chain) };
    tokio::pin!(writer, feeding);
    let mut fed = false;
    loop {
        tokio::select! {
            _ = connection.killed.cancelled() => break,
            _ = &mut writer => break,
            _ = &mut feeding, if !fed => fed = true,
        }
    }
    connection.set_applied(stream, u64::MAX);
}

/// Copy the source into the chain. A read error ends the stream like an
/// end of stream does (Go's `io.Copy` returning), as does the source socket
/// being closed by the other link.
async fn read_loop(source: Arc<TcpStream>, closed: CancellationToken, head: mpsc::UnboundedSender<Queued>) {
    let budget = Arc::new(Semaphore::new(LINK_BUDGET));
    loop {
        let Some(Ok(mut permit)) = unless_ended(&closed, &head, budget.clone().acquire_many_owned(READ_SIZE as u32)).await else {
            return;
        };
        let Some(Ok(())) = unless_ended(&closed, &head, source.readable()).await else { return };
        // The buffer lives only between readiness and the read, so an idle
        // connection holds none.
        let mut buf = [0u8; READ_SIZE];
        match source.try_read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let mut chunk = Chunk::new(bytes::Bytes::copy_from_slice(&buf[..n]), tokio::time::Instant::now());
                chunk.budget = permit.split(n);
                if head.send(Box::new(chunk)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

/// Write what the chain delivers until it delivers the end of the stream or
/// a write fails.
async fn write_loop(dest: Arc<TcpStream>, mut tail: mpsc::UnboundedReceiver<Queued>) {
    while let Some(chunk) = tail.recv().await {
        if write_all(&dest, &chunk.data).await.is_err() {
            return;
        }
    }
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
