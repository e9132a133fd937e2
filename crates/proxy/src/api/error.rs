//! Toxiproxy's error body: `{"error": "...", "status": N}` with that status.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ListenError, ProxyError, RegistryError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    /// Toxiproxy's `bad request body: <why>`.
    pub fn bad_body(why: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, format!("bad request body: {why}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
        (self.status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> ApiError {
        let status = match &error {
            RegistryError::NotFound => StatusCode::NOT_FOUND,
            RegistryError::Exists => StatusCode::CONFLICT,
            RegistryError::MissingField(_) => StatusCode::BAD_REQUEST,
            RegistryError::Listen(e) => return e.into(),
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<&ListenError> for ApiError {
    /// An address that is not `host:port` is the request's fault (400;
    /// Toxiproxy answers 500 for every listen failure); one that cannot be
    /// bound is the server's (500, as Toxiproxy).
    fn from(error: &ListenError) -> ApiError {
        let status = match error {
            ListenError::Address(..) => StatusCode::BAD_REQUEST,
            ListenError::Bind(..) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<ListenError> for ApiError {
    fn from(error: ListenError) -> ApiError {
        (&error).into()
    }
}

impl From<ProxyError> for ApiError {
    fn from(error: ProxyError) -> ApiError {
        match error {
            ProxyError::ToxicExists => ApiError::new(StatusCode::CONFLICT, error.to_string()),
            ProxyError::ToxicNotFound => ApiError::new(StatusCode::NOT_FOUND, error.to_string()),
            ProxyError::InvalidToxicity(_) | ProxyError::InvalidAttribute(_) | ProxyError::NotKafka(..) => ApiError::bad_body(error),
        }
    }
}
