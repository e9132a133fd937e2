//! The faultlab binary as a user runs it: exit codes, error messages, signals, report files.

mod bench;
mod errors;
mod proxy;
mod report_outputs;
mod response_delay;
mod serve;
