//! The reports: JSON, Markdown, HTML, JUnit, charts, comparisons, and that they agree.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

mod report_support;

mod agree;
mod compare;
mod html;
mod json;
mod junit;
mod markdown;
mod series;
mod wire;
