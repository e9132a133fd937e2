//! Kafka's framing and request header, parsed by hand: a frame is a
//! 4-byte big-endian size and that many bytes; a request header starts with
//! 8 fixed bytes (API key, API version, correlation id) and a nullable
//! string (client id), and a response header with the correlation id. That
//! is all the proxy reads of most frames, so a codec would only cost time.

use bytes::{Buf, Bytes, BytesMut};

/// The largest frame accepted, body included: Kafka's own default for
/// `socket.request.max.bytes` (100 MiB), and librdkafka's for
/// `receive.message.max.bytes` is about the same. A larger size is not a
/// Kafka frame (a TLS or HTTP client, or a corrupted stream).
pub const MAX_FRAME: usize = 100 * 1024 * 1024;

/// Why a stream is not Kafka frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame of {0} bytes is larger than the largest accepted ({MAX_FRAME} bytes, Kafka's socket.request.max.bytes)")]
    TooLarge(usize),
    #[error("a frame size of {0} is negative")]
    Negative(i32),
    /// The stream ended inside a frame.
    #[error("the stream ended {0} bytes into a frame")]
    Truncated(usize),
}

/// Bytes read from a socket, cut into whole frames (size prefix included).
#[derive(Debug, Default)]
pub struct Framer {
    buf: BytesMut,
}

impl Framer {
    /// Where the next read goes.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The next whole frame, size prefix included, if it has all arrived.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let size = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        let size = usize::try_from(size).map_err(|_| FrameError::Negative(size))?;
        if size > MAX_FRAME {
            return Err(FrameError::TooLarge(size));
        }
        if self.buf.len() < 4 + size {
            // Room for the rest of the frame, so it is read in few reads.
            self.buf.reserve(4 + size - self.buf.len());
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(4 + size).freeze()))
    }

    /// At the end of the stream: an error if part of a frame is left.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buf.is_empty() { Ok(()) } else { Err(FrameError::Truncated(self.buf.len())) }
    }
}

/// What the proxy knows of a request from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    pub client_id: Option<String>,
}

/// The header of a request frame (size prefix included), or None if the
/// frame is too short to be a request.
pub fn request_header(frame: &[u8]) -> Option<RequestHeader> {
    let mut body = frame.get(4..)?;
    if body.len() < 10 {
        return None;
    }
    let api_key = body.get_i16();
    let api_version = body.get_i16();
    let correlation_id = body.get_i32();
    let len = body.get_i16();
    let client_id = match usize::try_from(len) {
        Err(_) => None,
        Ok(len) => Some(String::from_utf8_lossy(body.get(..len)?).into_owned()),
    };
    Some(RequestHeader { api_key, api_version, correlation_id, client_id })
}

/// The correlation id of a response frame (size prefix included).
pub fn response_correlation_id(frame: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(frame.get(4..8)?.try_into().ok()?))
}

/// Produce's API key.
pub const PRODUCE: i16 = 0;
/// Produce is flexible (compact strings, tagged fields) from version 9.
const PRODUCE_FLEXIBLE: i16 = 9;

/// Whether a request expects a response: every request does except a
/// Produce with `acks=0`. None if the frame is too short to tell.
pub fn expects_response(frame: &[u8], header: &RequestHeader) -> Option<bool> {
    if header.api_key != PRODUCE {
        return Some(true);
    }
    // After the header: 8 fixed bytes, the client id, then (flexible
    // versions) the header's tagged fields.
    let client_id_len = header.client_id.as_ref().map_or(0, String::len);
    let mut body = frame.get(4 + 10 + client_id_len..)?;
    let flexible = header.api_version >= PRODUCE_FLEXIBLE;
    if flexible {
        skip_tagged_fields(&mut body)?;
    }
    // transactional_id, from version 3: a nullable (compact when flexible) string.
    if header.api_version >= 3 {
        let len = if flexible {
            // Compact: length + 1, 0 for null.
            (varint(&mut body)? as usize).saturating_sub(1)
        } else {
            usize::try_from(take_i16(&mut body)?).unwrap_or(0)
        };
        body = body.get(len..)?;
    }
    Some(take_i16(&mut body)? != 0)
}

fn take_i16(body: &mut &[u8]) -> Option<i16> {
    if body.len() < 2 {
        return None;
    }
    Some(body.get_i16())
}

/// An unsigned varint (Kafka's, as protobuf's).
fn varint(body: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = body.split_first()?;
        *body = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn skip_tagged_fields(body: &mut &[u8]) -> Option<()> {
    for _ in 0..varint(body)? {
        let _tag = varint(body)?;
        let size = usize::try_from(varint(body)?).ok()?;
        *body = body.get(size..)?;
    }
    Some(())
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
