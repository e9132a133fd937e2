//! Scenario files: the JSON Schema, the fuzz test of validation, and the
//! curated library run end to end.

mod curated;
mod fuzz;
mod schema;
