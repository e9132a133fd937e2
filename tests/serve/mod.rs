//! `faultlab serve`, the course's producer service, over real HTTP to a real broker.

mod http;
mod http_driver;
mod shutdown;
mod shutdown_account;
