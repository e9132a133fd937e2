//! The mock, external and docker backends end to end (the local one, which starts Kafka, is
//! tests/backend_local.rs).
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

mod ack_loss;
mod docker;
mod embedded;
mod external;
mod mock;
mod through;
