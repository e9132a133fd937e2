//! Kafka's own names that a scenario file uses: the request types a
//! `request_errors` fault can fail (with their API keys, from Kafka's
//! protocol) and the errors it can answer with. They belong to the file
//! format; each backend that plays such a fault maps them (the mock to
//! librdkafka's error codes).

/// Request types by the name a scenario uses (Kafka's API name in
/// snake_case), with their API key.
pub const REQUEST_TYPES: &[(&str, i16)] = &[
    ("produce", 0),
    ("fetch", 1),
    ("list_offsets", 2),
    ("metadata", 3),
    ("find_coordinator", 10),
    ("api_versions", 18),
    ("init_producer_id", 22),
];

/// Errors by the name a scenario uses: Kafka's error names in lower case,
/// and `transport` (the connection dropped instead of an answer).
pub const ERROR_NAMES: &[&str] = &[
    "transport",
    "corrupt_message",
    "unknown_topic_or_partition",
    "leader_not_available",
    "not_leader_or_follower",
    "request_timed_out",
    "network_exception",
    "not_enough_replicas",
    "not_enough_replicas_after_append",
    "out_of_order_sequence_number",
    "throttling_quota_exceeded",
];

/// The API key of a request type named as in [`REQUEST_TYPES`].
pub fn api_key(name: &str) -> Option<i16> {
    REQUEST_TYPES.iter().find(|(n, _)| *n == name).map(|(_, key)| *key)
}
