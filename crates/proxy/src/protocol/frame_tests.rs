use super::*;

/// A request frame as a client writes it: header v1 (or v2 when
/// `flexible`, with an empty tagged-field section), then `body`.
fn request(api_key: i16, api_version: i16, correlation_id: i32, client_id: Option<&str>, flexible: bool, body: &[u8]) -> Vec<u8> {
    let mut inner = Vec::new();
    inner.extend_from_slice(&api_key.to_be_bytes());
    inner.extend_from_slice(&api_version.to_be_bytes());
    inner.extend_from_slice(&correlation_id.to_be_bytes());
    match client_id {
        None => inner.extend_from_slice(&(-1i16).to_be_bytes()),
        Some(id) => {
            inner.extend_from_slice(&(id.len() as i16).to_be_bytes());
            inner.extend_from_slice(id.as_bytes());
        }
    }
    if flexible {
        inner.push(0);
    }
    inner.extend_from_slice(body);
    let mut frame = (inner.len() as i32).to_be_bytes().to_vec();
    frame.extend(inner);
    frame
}

fn feed(framer: &mut Framer, bytes: &[u8]) -> Vec<Bytes> {
    framer.buffer().extend_from_slice(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = framer.next_frame().unwrap() {
        frames.push(frame);
    }
    frames
}

#[test]
fn a_frame_split_across_reads_comes_out_whole_once_complete() {
    let frame = request(3, 12, 7, Some("rdkafka"), true, &[1, 2, 3]);
    let mut framer = Framer::default();
    for (i, byte) in frame.iter().enumerate() {
        let out = feed(&mut framer, &[*byte]);
        if i + 1 < frame.len() {
            assert!(out.is_empty(), "a frame came out after {} of {} bytes", i + 1, frame.len());
        } else {
            assert_eq!(out, vec![Bytes::from(frame.clone())]);
        }
    }
    framer.finish().unwrap();
}

#[test]
fn several_frames_in_one_read_come_out_in_order() {
    let frames: Vec<Vec<u8>> = (0..3).map(|i| request(18, 3, i, None, true, &[i as u8; 5])).collect();
    let mut framer = Framer::default();
    let mut read = frames.concat();
    let first_of_next = request(0, 9, 99, Some("x"), true, &[0; 10]);
    read.extend_from_slice(&first_of_next[..6]);
    let out = feed(&mut framer, &read);
    assert_eq!(out, frames.into_iter().map(Bytes::from).collect::<Vec<_>>());
    // The partial fourth frame waits, and comes out with its rest.
    assert_eq!(framer.finish(), Err(FrameError::Truncated(6)));
    assert_eq!(feed(&mut framer, &first_of_next[6..]), vec![Bytes::from(first_of_next)]);
}

#[test]
fn an_oversize_or_negative_size_is_an_error() {
    let mut framer = Framer::default();
    framer.buffer().extend_from_slice(&((MAX_FRAME + 1) as i32).to_be_bytes());
    assert_eq!(framer.next_frame(), Err(FrameError::TooLarge(MAX_FRAME + 1)));
    // "GET " read as a size: an HTTP client on a Kafka port.
    let mut framer = Framer::default();
    framer.buffer().extend_from_slice(b"GET / HTTP/1.1\r\n");
    assert!(matches!(framer.next_frame(), Err(FrameError::TooLarge(_))));
    let mut framer = Framer::default();
    framer.buffer().extend_from_slice(&(-5i32).to_be_bytes());
    assert_eq!(framer.next_frame(), Err(FrameError::Negative(-5)));
    // The largest accepted size is accepted (it waits for its bytes).
    let mut framer = Framer::default();
    framer.buffer().extend_from_slice(&(MAX_FRAME as i32).to_be_bytes());
    assert_eq!(framer.next_frame(), Ok(None));
}

#[test]
fn a_stream_ending_inside_a_frame_is_truncated() {
    let frame = request(3, 1, 1, None, false, &[]);
    let mut framer = Framer::default();
    assert!(feed(&mut framer, &frame[..frame.len() - 1]).is_empty());
    assert_eq!(framer.finish(), Err(FrameError::Truncated(frame.len() - 1)));
    let mut framer = Framer::default();
    assert!(feed(&mut framer, &[0, 0]).is_empty());
    assert_eq!(framer.finish(), Err(FrameError::Truncated(2)));
}

#[test]
fn the_request_header_is_read_with_and_without_a_client_id() {
    let frame = request(10, 4, 1234, Some("producer-1"), true, &[9, 9]);
    let header = request_header(&frame).unwrap();
    assert_eq!(header, RequestHeader { api_key: 10, api_version: 4, correlation_id: 1234, client_id: Some("producer-1".into()) });
    let frame = request(3, 1, -7, None, false, &[]);
    assert_eq!(request_header(&frame).unwrap(), RequestHeader { api_key: 3, api_version: 1, correlation_id: -7, client_id: None });
    // Too short, or a client id longer than the frame.
    assert_eq!(request_header(&frame[..10]), None);
    let mut lying = request(3, 1, 1, Some("abc"), false, &[]);
    lying[13] = 50;
    assert_eq!(request_header(&lying), None);
}

#[test]
fn a_response_correlation_id_is_its_first_four_bytes() {
    assert_eq!(response_correlation_id(&[0, 0, 0, 5, 0, 0, 1, 2, 0]), Some(258));
    assert_eq!(response_correlation_id(&[0, 0, 0, 2, 0, 0]), None);
}

#[test]
fn produce_with_acks_zero_expects_no_response() {
    for acks in [0i16, 1, -1] {
        // v2: acks first.
        let mut body = acks.to_be_bytes().to_vec();
        body.extend_from_slice(&[0, 0, 0x75, 0x30]);
        let frame = request(PRODUCE, 2, 1, Some("c"), false, &body);
        assert_eq!(expects_response(&frame, &request_header(&frame).unwrap()), Some(acks != 0), "v2 acks={acks}");
        // v3..v8: a nullable transactional id, then acks.
        let mut body = 4i16.to_be_bytes().to_vec();
        body.extend_from_slice(b"txn1");
        body.extend_from_slice(&acks.to_be_bytes());
        let frame = request(PRODUCE, 7, 1, Some("c"), false, &body);
        assert_eq!(expects_response(&frame, &request_header(&frame).unwrap()), Some(acks != 0), "v7 acks={acks}");
        // v9+: header tagged fields, a compact nullable transactional id (0 = null), then acks.
        let mut body = vec![0u8];
        body.extend_from_slice(&acks.to_be_bytes());
        let frame = request(PRODUCE, 11, 1, Some("c"), true, &body);
        assert_eq!(expects_response(&frame, &request_header(&frame).unwrap()), Some(acks != 0), "v11 acks={acks}");
    }
    // Any other API expects a response; a cut-off Produce cannot tell.
    let frame = request(3, 12, 1, None, true, &[]);
    assert_eq!(expects_response(&frame, &request_header(&frame).unwrap()), Some(true));
    let frame = request(PRODUCE, 11, 1, None, true, &[]);
    assert_eq!(expects_response(&frame, &request_header(&frame).unwrap()), None);
}
