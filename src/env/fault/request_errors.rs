//! `request_errors`: the next requests of one type are answered with
//! Kafka errors; its names are [`super::kafka`]'s.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Backend, Stage, kafka};

pub const NAME: &str = "request_errors";
/// Only the mock answers requests with errors of its choosing.
pub const BACKENDS: &[Backend] = &[Backend::Mock];

/// `{ request = "produce", errors = ["not_leader_or_follower"] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestErrors {
    /// The request type (Kafka's API name, snake_case).
    pub request: kafka::RequestType,
    /// Error codes (Kafka's names, lower case), one per request, in turn; `transport` drops the connection.
    #[schemars(length(min = 1))]
    pub errors: Vec<kafka::ErrorName>,
}

pub fn broker(_: &RequestErrors) -> Option<i32> {
    None
}

pub async fn begin(stage: &dyn Stage, req: &RequestErrors) -> anyhow::Result<()> {
    stage.push_request_errors(NAME, req.request, &req.errors).await
}

/// Leftovers are dropped.
pub async fn end(stage: &dyn Stage, req: &RequestErrors) -> anyhow::Result<()> {
    stage.clear_request_errors(NAME, req.request).await
}
