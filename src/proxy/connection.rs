//! One accepted client connection and its server connection: the state the
//! two links of a connection share, and how the pair is closed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rand::Rng;
use rand::rngs::SmallRng;
use std::sync::Mutex;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::stub::CloseMode;

pub(super) struct Connection {
    pub client: Arc<TcpStream>,
    pub server: Arc<TcpStream>,
    /// Cancelled when the connection must close now; every task of both
    /// links stops and drops its socket handles, which closes the sockets.
    pub closing: CancellationToken,
    /// Directions that finished writing (FIN passed on).
    done: AtomicU8,
    /// This connection's own random source for toxicity rolls.
    rng: Mutex<SmallRng>,
}

impl Connection {
    pub fn new(client: TcpStream, server: TcpStream, rng: SmallRng) -> Arc<Self> {
        Arc::new(Connection {
            client: Arc::new(client),
            server: Arc::new(server),
            closing: CancellationToken::new(),
            done: AtomicU8::new(0),
            rng: Mutex::new(rng),
        })
    }

    /// Toxiproxy's toxicity: the toxic applies to this connection with this
    /// probability, decided once.
    pub fn roll(&self, toxicity: f32) -> bool {
        if toxicity >= 1.0 {
            return true;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.random::<f32>() < toxicity
    }

    /// Close both sockets now. With [`CloseMode::Reset`] they are closed
    /// with SO_LINGER 0, so each peer gets an RST instead of a FIN.
    pub fn close(&self, mode: CloseMode) {
        if mode == CloseMode::Reset {
            for socket in [&self.client, &self.server] {
                let _ = socket2::SockRef::from(socket.as_ref()).set_linger(Some(std::time::Duration::ZERO));
            }
        }
        self.closing.cancel();
    }

    /// A socket failed (the peer reset it, or went away): close the other side too.
    pub fn close_after_error(&self) {
        self.close(CloseMode::Graceful);
    }

    /// One direction passed its FIN on; when both have, the connection is over.
    pub fn direction_done(&self) {
        if self.done.fetch_add(1, Ordering::AcqRel) + 1 == 2 {
            self.closing.cancel();
        }
    }
}
