//! The forwarder limit: the least work any forwarding proxy can do on this
//! machine, for the bulk throughput row's scale.
//!
//! Each direction moves bytes socket -> pipe -> socket with splice(2), so
//! they never enter user space (SPLICE_F_MOVE: the pipe takes page
//! references, no copy into a user buffer and back). It has no toxics, no
//! queues, no chunks: what is left is the second TCP hop itself.
//!
//! The pipe is larger than a proxied link's (1 MiB, Linux's default most):
//! this is the best this machine allows, not a product setting.
//!
//! Driven by tokio's readiness rather than two blocking threads per
//! connection: it then shares the runtime's two worker threads with the
//! client, the server and faultlab's proxy exactly as faultlab's proxy
//! does, so the comparison is between forwarding work, not between thread
//! layouts (and SPLICE_F_NONBLOCK lets a would-block socket clear its
//! readiness instead of parking a thread).

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use tokio::io::Interest;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::AbortOnDropHandle;

use crate::proxy::splice::{Pipe, splice};

/// Bytes a pipe may hold (Linux's default `pipe-max-size`); the default
/// 64 KiB would mean sixteen times the splice calls.
const PIPE_SIZE: usize = 1 << 20;

/// A splice forwarder to `upstream`, running until dropped.
pub struct Forwarder {
    pub addr: SocketAddr,
    _task: AbortOnDropHandle<()>,
}

impl Forwarder {
    pub async fn start(upstream: SocketAddr) -> io::Result<Forwarder> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let _ = tokio::join!(forward(&client, &server), forward(&server, &client));
                    }
                });
            }
        });
        Ok(Forwarder { addr, _task: AbortOnDropHandle::new(task) })
    }
}

/// Move `from`'s bytes to `to` until `from` ends, then end `to`'s write
/// half, as a proxy passes on an end of stream.
async fn forward(from: &TcpStream, to: &TcpStream) -> io::Result<()> {
    let pipe = Pipe::new(PIPE_SIZE)?;
    loop {
        // The pipe is empty here, so a would-block is the socket's: it
        // clears the socket's readiness and waits.
        let n = from.async_io(Interest::READABLE, || splice(from.as_raw_fd(), pipe.write.as_raw_fd(), pipe.size)).await?;
        if n == 0 {
            let _ = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write);
            return Ok(());
        }
        let mut left = n;
        while left > 0 {
            // The pipe holds `left` bytes, so a would-block is `to`'s.
            left -= to.async_io(Interest::WRITABLE, || splice(pipe.read.as_raw_fd(), to.as_raw_fd(), left)).await?;
        }
    }
}
