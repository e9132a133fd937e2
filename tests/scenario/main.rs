//! Scenario files: the JSON Schema, and the fuzz test of validation.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

mod fuzz;
mod schema;
