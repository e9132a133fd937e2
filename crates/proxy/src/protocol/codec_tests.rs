//! The codec's own rules: versions, whole frames, batch headers.

use kafka_protocol::messages::MetadataRequest;

use super::*;

/// A record batch (magic 2) header and `body` bytes of records.
fn batch(producer_id: i64, epoch: i16, sequence: i32, records: i32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0i64.to_be_bytes()); // base offset
    b.extend(((BATCH_HEADER - LENGTH_AT - 4 + body.len()) as i32).to_be_bytes());
    b.extend(0i32.to_be_bytes()); // partition leader epoch
    b.push(2); // magic
    b.extend(0u32.to_be_bytes()); // crc
    b.extend(0i16.to_be_bytes()); // attributes
    b.extend((records - 1).to_be_bytes()); // last offset delta
    b.extend([0u8; 16]); // timestamps
    b.extend(producer_id.to_be_bytes());
    b.extend(epoch.to_be_bytes());
    b.extend(sequence.to_be_bytes());
    b.extend(records.to_be_bytes());
    b.extend(body);
    b
}

#[test]
fn batch_headers_are_read_without_the_records() {
    let mut records = batch(1000, 2, 40, 5, b"compressed records");
    records.extend(batch(-1, -1, -1, 1, b""));
    let headers = batch_headers(&records);
    assert_eq!(
        headers,
        [
            BatchHeader { producer_id: 1000, producer_epoch: 2, base_sequence: 40, records: 5 },
            BatchHeader { producer_id: -1, producer_epoch: -1, base_sequence: -1, records: 1 }
        ]
    );
    // A batch cut short, or an old message set (magic 0/1), stops the reading.
    assert_eq!(batch_headers(&records[..records.len() - 1]).len(), 1);
    let mut old = batch(1, 1, 1, 1, b"");
    old[MAGIC_AT] = 1;
    assert!(batch_headers(&old).is_empty());
    assert!(batch_headers(&[]).is_empty());
}

#[test]
fn versions_beyond_the_codec_are_errors_never_guesses() {
    assert_eq!(versions(3), Some(0..=13), "Metadata, as Apache Kafka 4.1 has it");
    assert_eq!(versions(0), Some(3..=13), "Produce (0-2 were removed in Kafka 4.0)");
    assert_eq!(versions(18), Some(0..=4));
    assert_eq!(versions(9999), None);
    let request = encode_request(3, 12, 1, "c", &RequestKind::Metadata(MetadataRequest::default()));
    assert!(decode_request(&request).is_ok());
    let mut beyond = request.to_vec();
    beyond[6..8].copy_from_slice(&14i16.to_be_bytes());
    let error = decode_request(&Bytes::from(beyond)).unwrap_err();
    assert!(error.contains("Metadata v14 is beyond the codec's versions (0-13)"), "{error}");
    let error = decode_response(&Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 1]), 9999, 0).unwrap_err();
    assert!(error.contains("API key 9999 is unknown"), "{error}");
}

#[test]
fn a_message_must_fill_its_frame() {
    let mut request = encode_request(3, 12, 1, "c", &RequestKind::Metadata(MetadataRequest::default())).to_vec();
    request.push(0);
    let size = (request.len() - 4) as i32;
    request[..4].copy_from_slice(&size.to_be_bytes());
    let error = decode_request(&Bytes::from(request)).unwrap_err();
    assert!(error.contains("1 bytes left over"), "{error}");
}
