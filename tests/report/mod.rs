//! The reports: JSON, Markdown, HTML, JUnit, charts, comparisons, and that they agree.

mod report_support;

mod agree;
mod compare;
mod html;
mod json;
mod junit;
mod markdown;
mod series;
mod wire;
