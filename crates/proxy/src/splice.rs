//! A link's fast path while its stream has no toxic: bytes go socket ->
//! pipe -> socket with splice(2), never entering user space (no read
//! buffer, no chunk, no queue, no task per stage).
//!
//! The contract of a link still holds:
//! - the first toxic on the stream hands the link over to its chain
//!   ([`super::chain`]) between two splices, with the pipe empty: every
//!   byte read before the change has been written, every byte after it is
//!   read by the chain's reader, so nothing is lost or reordered, and the
//!   toxic applies from the next byte read, as a toxic added to a running
//!   chain does (bytes already past the chain's head go on without it
//!   there too, up to its byte budget; here up to one pipe);
//! - the end of the stream, a read or write error, and the other link
//!   closing the source socket end the link as the chain's reader and
//!   writer do: the destination socket is then closed (see
//!   [`super::connection`]); a killed connection just stops;
//! - an idle connection holds no pipe: it is made at the first byte.
//!
//! Driven by tokio's readiness with SPLICE_F_NONBLOCK, not a blocking
//! thread per link: a would-block clears the socket's readiness and the
//! task waits, so thousands of links cost no threads.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::connection::Connection;
use crate::stream::Stream;
use crate::toxic::ToxicSet;

/// What a link's pipe may hold: Linux's default largest (pipe-max-size).
/// Measured on the 2-core machine, 256 KiB reached 0.63x of the forwarder
/// limit (bench) and 1 MiB 0.82-0.89x: fewer, larger splices. The pages are
/// only held while bytes are in flight; past the per-user pipe allowance
/// (pipe-user-pages-soft) Linux gives smaller pipes, which still work.
const LINK_PIPE: usize = 1024 * 1024;

/// How the fast path ended.
pub(super) enum Handover {
    /// A toxic appeared on the stream (or no pipe could be made): the
    /// chain takes over, the pipe empty.
    Chain,
    /// The link is over (its destination closed, unless killed).
    Ended,
}

/// Forward `source` to `dest` while the stream has no toxic.
pub(super) async fn run(
    connection: &Connection,
    stream: Stream,
    (source, dest): (&TcpStream, &TcpStream),
    source_closed: &CancellationToken,
    toxics: &mut watch::Receiver<Arc<ToxicSet>>,
) -> Handover {
    let mut pipe: Option<Pipe> = None;
    let mut proxy_gone = false;
    loop {
        let set = toxics.borrow_and_update().clone();
        if !set.for_stream(stream).is_empty() {
            return Handover::Chain;
        }
        connection.set_applied(stream, set.version);
        loop {
            let spliced = tokio::select! {
                _ = connection.killed.cancelled() => return Handover::Ended,
                _ = source_closed.cancelled() => return Handover::Ended,
                changed = toxics.changed(), if !proxy_gone => {
                    // The proxy is gone: keep forwarding as we are.
                    proxy_gone = changed.is_err();
                    break;
                }
                ready = source.readable() => ready,
            };
            if spliced.is_err() {
                return Handover::Ended;
            }
            if pipe.is_none() {
                match Pipe::new(LINK_PIPE) {
                    Ok(made) => pipe = Some(made),
                    Err(_) => return Handover::Chain,
                }
            }
            let Some(pipe) = &pipe else { return Handover::Chain };
            let n = match source.try_io(Interest::READABLE, || splice(source.as_raw_fd(), pipe.write.as_raw_fd(), pipe.size)) {
                Ok(0) => return Handover::Ended,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return Handover::Ended,
            };
            let drained = tokio::select! {
                _ = connection.killed.cancelled() => return Handover::Ended,
                drained = drain(pipe, dest, n) => drained,
            };
            if drained.is_err() {
                return Handover::Ended;
            }
        }
    }
}

/// Write the `n` bytes the pipe holds to `dest`.
async fn drain(pipe: &Pipe, dest: &TcpStream, mut n: usize) -> io::Result<()> {
    while n > 0 {
        // The pipe holds `n` bytes, so a would-block is `dest`'s.
        n -= dest.async_io(Interest::WRITABLE, || splice(pipe.read.as_raw_fd(), dest.as_raw_fd(), n)).await?;
    }
    Ok(())
}

/// The two ends of a pipe.
pub struct Pipe {
    pub read: OwnedFd,
    pub write: OwnedFd,
    /// What it may hold.
    pub size: usize,
}

impl Pipe {
    /// A non-blocking pipe holding up to `size` bytes if Linux allows
    /// (else its default, 64 KiB).
    pub fn new(size: usize) -> io::Result<Pipe> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 fills the two descriptors, which we then own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both were just created by pipe2 and belong to nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl on a descriptor we own.
        let set = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, size as libc::c_int) };
        // SAFETY: as above.
        let actual = if set > 0 { set } else { unsafe { libc::fcntl(write.as_raw_fd(), libc::F_GETPIPE_SZ) } };
        Ok(Pipe { read, write, size: if actual > 0 { actual as usize } else { 64 * 1024 } })
    }
}

/// One splice(2) of up to `len` bytes, never blocking.
pub fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the call; no offsets (sockets
    // and pipes have none).
    let n =
        unsafe { libc::splice(from, std::ptr::null_mut(), to, std::ptr::null_mut(), len, libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

#[cfg(test)]
#[path = "splice_tests.rs"]
mod tests;
