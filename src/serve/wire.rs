//! Every error answer is an RFC 7807 problem document, including the ones
//! the router makes on its own (405 for a known path with another method)
//! and requests too big to be sensible (414, 431).
//!
//! hyper refuses a request line or header block beyond its own limits
//! (a URI over 65534 bytes, headers over ~400 KiB or more than 100 of them)
//! with an empty 414 or 431 before any service sees it; nothing can change
//! that answer. The service's own limits sit well below hyper's, so every
//! request a client can reasonably send that is too big gets a document.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::{PROBLEM_JSON, Problem};

/// The longest path and query accepted, in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The largest header block accepted: the names, values and ": " and CRLF
/// of each line, as on the wire.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most header lines accepted.
pub const MAX_HEADERS: usize = 64;

pub async fn problems(request: Request, next: Next) -> Response {
    let uri = request.uri().path_and_query().map(|pq| pq.as_str().len()).unwrap_or(0);
    if uri > MAX_URI_BYTES {
        return Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "The request's URI is too long",
            format!("the path and query are {uri} bytes; accepted: at most {MAX_URI_BYTES}"),
        )
        .into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if header_bytes > MAX_HEADER_BYTES || headers.len() > MAX_HEADERS {
        return Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "The request's headers are too large",
            format!(
                "{} header lines of {header_bytes} bytes; accepted: at most {MAX_HEADERS} lines and {MAX_HEADER_BYTES} bytes",
                headers.len()
            ),
        )
        .into_response();
    }
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t == PROBLEM_JSON);
    if !(response.status().is_client_error() || response.status().is_server_error()) || is_problem {
        return response;
    }
    // An answer axum made below the handlers: keep its status and Allow.
    let status = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    let reason = status.canonical_reason().unwrap_or("Error");
    let (kind, detail) = match (status, &allow) {
        (StatusCode::METHOD_NOT_ALLOWED, Some(allow)) => (
            "method-not-allowed".to_string(),
            format!("{method} is not accepted on {path}; accepted: {}", allow.to_str().unwrap_or("see GET /openapi.json")),
        ),
        _ => (reason.to_lowercase().replace(' ', "-"), format!("{method} {path}: {reason}")),
    };
    let mut problem = Problem::new(status, &kind, reason, detail).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem.headers_mut().entry(header::CONTENT_TYPE).or_insert(HeaderValue::from_static(PROBLEM_JSON));
    problem
}
