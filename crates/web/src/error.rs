//! [`ApiError`]: every failure of the API as a status and a JSON body `{"error": "..."}`.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sg_spool::SpoolError;

/// An API failure: the HTTP status and a short message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status to answer with.
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 401: no token, or the wrong one.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (Authorization: Bearer <token>)",
        )
    }

    /// 500 for a failure of ours (a task that died, say).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<SpoolError> for ApiError {
    fn from(e: SpoolError) -> ApiError {
        match e {
            SpoolError::NotFound { id, area } => {
                ApiError::new(StatusCode::NOT_FOUND, format!("no message {id} in {area}"))
            }
            SpoolError::InvalidId { value } => ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{value:?} is not a queue id (20 hex digits)"),
            ),
            e => {
                tracing::error!(error = %e, "spool operation failed");
                ApiError::internal(format!("spool error: {e}"))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        if self.status == StatusCode::UNAUTHORIZED {
            return (self.status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (self.status, body).into_response()
    }
}
