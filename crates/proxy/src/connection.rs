//! One accepted client connection and its server connection: the state the
//! two links of a connection share, and how its sockets close.
//!
//! Closing follows Toxiproxy (link.go, proxy.go): when a link's stream ends
//! (its source reached end of stream or failed, or a toxic closed it), the
//! link writes what its chain still delivers and then closes its
//! destination socket *fully*, not just its write half. The other link,
//! which reads that socket, stops reading there, so its own stream ends,
//! and it in turn closes its destination once its chain is flushed. Closing
//! one side therefore closes both, with no half-open connection left, and a
//! socket closed with unread data sends an RST, as in Go. A disabled or
//! deleted proxy closes both sockets at once, dropping what is in flight.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rand::Rng;
use rand::rngs::SmallRng;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::session::Session;
use crate::stream::Stream;
use crate::sync::lock;

/// The two sockets of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Client = 0,
    Server = 1,
}

impl Side {
    /// The socket a stream reads from and the one it writes to.
    pub fn ends(stream: Stream) -> (Side, Side) {
        match stream {
            Stream::Upstream => (Side::Client, Side::Server),
            Stream::Downstream => (Side::Server, Side::Client),
        }
    }
}

struct Socket {
    /// The connection's handle; taken when the socket is closed. The links'
    /// own handles go when they see `closed`, and the last one to go closes
    /// the file descriptor.
    stream: Mutex<Option<Arc<TcpStream>>>,
    /// Cancelled when the socket is closed: whoever reads it stops.
    closed: CancellationToken,
}

pub(super) struct Connection {
    sockets: [Socket; 2],
    /// Cancelled to stop both links at once (proxy disabled or deleted).
    pub killed: CancellationToken,
    reset: AtomicBool,
    /// This connection's own random source for toxicity rolls.
    rng: Mutex<SmallRng>,
    /// Per stream, the version of the proxy's toxics the link has applied
    /// (`u64::MAX` once the link no longer changes); see `Proxy::settled`.
    applied: [AtomicU64; 2],
    settle: Arc<Notify>,
    /// In Kafka mode, what the two links know of the requests in flight.
    pub kafka: Option<Arc<Session>>,
}

impl Connection {
    pub fn new(client: TcpStream, server: TcpStream, rng: SmallRng, settle: Arc<Notify>, kafka: Option<Arc<Session>>) -> Arc<Self> {
        let socket = |stream| Socket { stream: Mutex::new(Some(Arc::new(stream))), closed: CancellationToken::new() };
        Arc::new(Connection {
            sockets: [socket(client), socket(server)],
            killed: CancellationToken::new(),
            reset: AtomicBool::new(false),
            rng: Mutex::new(rng),
            applied: [AtomicU64::new(0), AtomicU64::new(0)],
            settle,
            kafka,
        })
    }

    /// The socket, unless it is closed already.
    pub fn stream(&self, side: Side) -> Option<Arc<TcpStream>> {
        lock(&self.sockets[side as usize].stream).clone()
    }

    /// Cancelled when `side` is closed.
    pub fn closed(&self, side: Side) -> CancellationToken {
        self.sockets[side as usize].closed.clone()
    }

    /// Toxiproxy's toxicity: the toxic applies to this connection with this
    /// probability.
    pub fn roll(&self, toxicity: f32) -> bool {
        if toxicity >= 1.0 {
            return true;
        }
        lock(&self.rng).random::<f32>() < toxicity
    }

    /// Close one socket, as Go's `Close()`: a FIN, or an RST if the
    /// connection was reset or unread data is left in it.
    pub fn close_socket(&self, side: Side) {
        let socket = &self.sockets[side as usize];
        let stream = lock(&socket.stream).take();
        if let Some(stream) = &stream
            && self.reset.load(Ordering::Acquire)
        {
            set_linger_zero(stream);
        }
        socket.closed.cancel();
    }

    /// From now on every close of this connection is an RST (SO_LINGER 0
    /// on both sockets), as Toxiproxy arranges for reset_peer.
    pub fn set_reset(&self) {
        self.reset.store(true, Ordering::Release);
        for socket in &self.sockets {
            if let Some(stream) = lock(&socket.stream).as_ref() {
                set_linger_zero(stream);
            }
        }
    }

    /// Close both sockets now; whatever the links hold is dropped.
    pub fn kill(&self) {
        for side in [Side::Client, Side::Server] {
            self.close_socket(side);
        }
        self.killed.cancel();
    }

    /// The link of `stream` has applied the proxy's toxics up to `version`.
    pub fn set_applied(&self, stream: Stream, version: u64) {
        self.applied[stream as usize].store(version, Ordering::Release);
        self.settle.notify_waiters();
    }

    /// Whether both links have applied `version` (or no longer change).
    pub fn has_applied(&self, version: u64) -> bool {
        self.applied.iter().all(|a| a.load(Ordering::Acquire) >= version)
    }
}

fn set_linger_zero(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(std::time::Duration::ZERO));
}
