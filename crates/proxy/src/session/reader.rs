//! A Kafka-mode link's reader: it replaces the byte reader of
//! [`crate::link`] and puts one chunk per frame into the chain.

use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Pending, Session, rewrite};
use crate::protocol::frame::{self, Framer};
use crate::protocol::{API_VERSIONS, FrameInfo, METADATA, codec, topics};
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
                Stream::Upstream => match session.on_request(&frame) {
                    Read::Forward(info) => (frame, info),
                    Read::Answered => continue,
                },
                Stream::Downstream => match session.on_response(frame).await {
                    Ok(read) => read,
                    Err(refusal) => return session.refuse(&refusal),
                },
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

/// What becomes of a request read from the client.
enum Read {
    /// Into the chain, towards the broker.
    Forward(Option<FrameInfo>),
    /// The proxy answered it itself; the broker never sees it.
    Answered,
}

impl Session {
    /// A request read from the client: counted, and remembered until its
    /// response unless it expects none. An ApiVersions request of a
    /// version beyond the codec's is answered here, as a broker answers a
    /// version it does not know (the client asks again at one it does).
    fn on_request(&self, frame: &Bytes) -> Read {
        let Some(header) = frame::request_header(frame) else {
            tracing::warn!("proxy {}: a request frame of {} bytes has no Kafka header; forwarded as it is", self.proxy, frame.len());
            return Read::Forward(None);
        };
        let client_id = self.client_id.get_or_init(|| header.client_id.clone());
        if let (Some(ledger), frame::PRODUCE) = (&self.ledger, header.api_key) {
            ledger.request(&self.proxy, self.connection, client_id.as_deref().unwrap_or_default(), header.correlation_id, frame);
        }
        if let Some(front) = self.front.as_ref().and_then(std::sync::Weak::upgrade) {
            front.count(&self.proxy, header.api_key, header.api_version);
        }
        let (correlation_id, api_key, api_version) = (header.correlation_id, header.api_key, header.api_version);
        if frame::expects_response(frame, &header) != Some(false) {
            lock(&self.pending).push_back(Pending { correlation_id, api_key, api_version, answer: None });
        }
        if api_key == API_VERSIONS && codec::versions(api_key).is_some_and(|known| api_version > *known.end()) {
            match codec::api_versions_unsupported(correlation_id).map(|answer| self.answer(correlation_id, answer)) {
                Ok(true) => {
                    tracing::debug!("proxy {}: ApiVersions v{api_version} is beyond the codec's, answered UNSUPPORTED_VERSION", self.proxy);
                    return Read::Answered;
                }
                Ok(false) => {}
                Err(e) => tracing::error!("proxy {}: answering ApiVersions v{api_version}: {e}", self.proxy),
            }
        }
        Read::Forward(Some(FrameInfo { api_key, api_version, correlation_id, response: false }))
    }

    /// A response read from the broker, matched to its request (which
    /// [`Session::deliver`] then forgets); rewritten if it names brokers,
    /// and ApiVersions lowered to the codec's versions. Behind a front, a
    /// response that cannot be rewritten is refused: passed on, it would
    /// lead the client around the proxy.
    async fn on_response(&self, frame: Bytes) -> Result<(Bytes, Option<FrameInfo>), rewrite::Refusal> {
        let Some(correlation_id) = frame::response_correlation_id(&frame) else {
            return Ok((frame, None));
        };
        let request = lock(&self.pending).iter().find(|p| p.correlation_id == correlation_id).map(|p| (p.api_key, p.api_version));
        let Some((api_key, api_version)) = request else {
            tracing::warn!("proxy {}: a response with correlation id {correlation_id} answers no request seen", self.proxy);
            return Ok((frame, None));
        };
        let info = Some(FrameInfo { api_key, api_version, correlation_id, response: true });
        if let (Some(ledger), frame::PRODUCE) = (&self.ledger, api_key) {
            ledger.response(&self.proxy, self.connection, correlation_id, api_version, &frame);
        }
        let front = self.front.as_ref().and_then(std::sync::Weak::upgrade);
        let rewritten = if api_key == API_VERSIONS {
            rewrite::lower(&frame, api_version)
        } else if let Some(front) = front.as_ref().filter(|_| rewrite::names_brokers(api_key, api_version)) {
            rewrite::rewrite(&frame, api_key, api_version, front, self.advertise).await
        } else {
            if api_key == METADATA {
                // No front: nothing to rewrite, but Produce v13 names
                // topics by the ids Metadata gives.
                if let Ok((_, kafka_protocol::messages::ResponseKind::Metadata(metadata))) =
                    codec::decode_response(&frame, api_key, api_version)
                {
                    topics::learn(&metadata);
                }
            }
            Ok(None)
        };
        match rewritten {
            Ok(Some(rewritten)) => Ok((rewritten, info)),
            Ok(None) => Ok((frame, info)),
            Err(refusal) if front.is_some() => Err(refusal),
            Err(refusal) => {
                // Without a front nothing leads a client elsewhere.
                tracing::warn!("proxy {}: forwarded as it came: {refusal}", self.proxy);
                Ok((frame, info))
            }
        }
    }

    /// Fail the connection rather than pass on `refusal`'s response: said
    /// on the log and to the front, which reports it to the run.
    fn refuse(&self, refusal: &rewrite::Refusal) {
        tracing::error!("proxy {} closes a connection of client {:?}: {refusal}", self.proxy, self.client_id().unwrap_or("?"));
        if let Some(front) = self.front.as_ref().and_then(std::sync::Weak::upgrade) {
            front.refused(&self.proxy, self.client_id(), refusal);
        }
    }
}
