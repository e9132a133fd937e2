//! The mock, external and docker backends end to end (the local one, which starts Kafka, is
//! tests/backend_local.rs).

mod ack_loss;
mod docker;
mod embedded;
mod external;
mod mock;
mod through;
