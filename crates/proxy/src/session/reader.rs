//! A Kafka-mode link's reader: it replaces the byte reader of
//! [`crate::link`] and puts one chunk per frame into the chain.

use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Pending, Session, rewrite};
use crate::protocol::FrameInfo;
use crate::protocol::frame::{self, Framer};
use crate::stream::Stream;
use crate::stub::{Chunk, Queued, unless_ended};
use crate::sync::lock;

/// Read as the byte reader does, at most this much at once.
const READ_SIZE: usize = 32 * 1024;

/// Read frames from `source` into the chain until the stream ends. A
/// stream that is not Kafka frames (a size above [`frame::MAX_FRAME`] or
/// negative) is logged and ended, which closes the connection.
pub(crate) async fn read_loop(
    source: Arc<TcpStream>,
    closed: CancellationToken,
    head: mpsc::UnboundedSender<Queued>,
    stream: Stream,
    session: Arc<Session>,
    link_budget: usize,
) {
    let budget = Arc::new(Semaphore::new(link_budget));
    if stream == Stream::Downstream {
        session.responses_enter(&head);
    }
    let mut framer = Framer::default();
    loop {
        loop {
            let frame = match framer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("proxy {} closes a connection: its {stream:?} stream is not Kafka: {e}", session.proxy);
                    return;
                }
            };
            let (frame, info) = match stream {
                Stream::Upstream => (frame.clone(), session.on_request(&frame)),
                Stream::Downstream => session.on_response(frame).await,
            };
            // A frame takes budget for its size; one larger than the whole
            // budget takes all of it, so it still passes, alone.
            let wanted = frame.len().clamp(1, link_budget) as u32;
            let Some(Ok(permit)) = unless_ended(&closed, &head, budget.clone().acquire_many_owned(wanted)).await else { return };
            let mut chunk = Chunk::new(frame, tokio::time::Instant::now());
            chunk.budget = Some(permit);
            chunk.frame = info;
            let sent = match stream {
                Stream::Upstream => head.send(Box::new(chunk)).map_err(drop),
                Stream::Downstream => session.deliver(chunk, &head),
            };
            if sent.is_err() {
                return;
            }
        }
        let Some(Ok(())) = unless_ended(&closed, &head, source.readable()).await else { return };
        let buf = framer.buffer();
        buf.reserve(READ_SIZE);
        match source.try_read_buf(buf) {
            Ok(0) => {
                if let Err(e) = framer.finish() {
                    tracing::debug!("proxy {}: the {stream:?} stream ended inside a frame: {e}", session.proxy);
                }
                return;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

impl Session {
    /// A request read from the client: counted, and remembered until its
    /// response unless it expects none.
    fn on_request(&self, frame: &Bytes) -> Option<FrameInfo> {
        let Some(header) = frame::request_header(frame) else {
            tracing::warn!("proxy {}: a request frame of {} bytes has no Kafka header; forwarded as it is", self.proxy, frame.len());
            return None;
        };
        let client_id = self.client_id.get_or_init(|| header.client_id.clone());
        if let (Some(ledger), frame::PRODUCE) = (&self.ledger, header.api_key) {
            ledger.request(&self.proxy, self.connection, client_id.as_deref().unwrap_or_default(), header.correlation_id, frame);
        }
        if let Some(front) = self.front.as_ref().and_then(std::sync::Weak::upgrade) {
            front.count(&self.proxy, header.api_key, header.api_version);
        }
        if frame::expects_response(frame, &header) != Some(false) {
            let (correlation_id, api_key, api_version) = (header.correlation_id, header.api_key, header.api_version);
            lock(&self.pending).push_back(Pending { correlation_id, api_key, api_version, answer: None });
        }
        Some(FrameInfo { api_key: header.api_key, api_version: header.api_version, correlation_id: header.correlation_id, response: false })
    }

    /// A response read from the broker, matched to its request (which
    /// [`Session::deliver`] then forgets); rewritten if it names brokers.
    async fn on_response(&self, frame: Bytes) -> (Bytes, Option<FrameInfo>) {
        let Some(correlation_id) = frame::response_correlation_id(&frame) else {
            return (frame, None);
        };
        let request = lock(&self.pending).iter().find(|p| p.correlation_id == correlation_id).map(|p| (p.api_key, p.api_version));
        let Some((api_key, api_version)) = request else {
            tracing::warn!("proxy {}: a response with correlation id {correlation_id} answers no request seen", self.proxy);
            return (frame, None);
        };
        let info = Some(FrameInfo { api_key, api_version, correlation_id, response: true });
        if let (Some(ledger), frame::PRODUCE) = (&self.ledger, api_key) {
            ledger.response(&self.proxy, self.connection, correlation_id, api_version, &frame);
        }
        if !rewrite::rewritten(api_key) {
            return (frame, info);
        }
        let Some(front) = self.front.as_ref().and_then(std::sync::Weak::upgrade) else {
            return (frame, info);
        };
        match rewrite::rewrite(&frame, api_key, api_version, &front, self.advertise).await {
            Ok(Some(rewritten)) => (rewritten, info),
            Ok(None) => (frame, info),
            Err(e) => {
                tracing::warn!(
                    "proxy {}: response to API key {} v{} not rewritten, clients may bypass the proxy: {e}",
                    self.proxy,
                    api_key,
                    api_version
                );
                (frame, info)
            }
        }
    }
}
