//! The API's one error type: RFC 9457 problem+json with per-field messages. Internal errors
//! are logged and answered as a plain 500 that reveals nothing.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use karta_core::FieldError;
use karta_kernel::StoreError;
use serde_json::json;

/// An API failure.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with a message.
    BadRequest(String),
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409 with the conflicting field.
    Conflict(String),
    /// 412: the `If-Match` version is not the current one.
    PreconditionFailed {
        /// The current version.
        current: i64,
        /// What changed since.
        changes: Vec<karta_kernel::error::Change>,
    },
    /// 413.
    TooLarge,
    /// 422 with the failing fields.
    Invalid(Vec<FieldError>),
    /// 428: `If-Match` is required.
    PreconditionRequired,
    /// 429.
    TooManyRequests,
    /// 500; the cause is logged, never shown.
    Internal(anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Forbidden => Self::Forbidden,
            StoreError::Invalid(v) => Self::Invalid(v),
            StoreError::Stale { current, changes } => Self::PreconditionFailed { current, changes },
            StoreError::Conflict(f) => Self::Conflict(f),
            StoreError::Db(e) => Self::Internal(e.into()),
            StoreError::Other(e) => Self::Internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, extra) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request".to_string(), json!({"detail": m})),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "Authentication required".into(), json!({})),
            Self::Forbidden => (StatusCode::FORBIDDEN, "Not allowed for your role".into(), json!({})),
            Self::NotFound => (StatusCode::NOT_FOUND, "Not found".into(), json!({})),
            Self::Conflict(f) => (
                StatusCode::CONFLICT,
                "Conflict".into(),
                json!({"detail": format!("{f} is already taken"), "errors": [{"field": f, "code": "taken", "message": "already taken"}]}),
            ),
            Self::PreconditionFailed { current, changes } => (
                StatusCode::PRECONDITION_FAILED,
                "The record was changed by someone else".into(),
                json!({"detail": "reload the record and apply your change again", "current_version": current, "changes": changes}),
            ),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large".into(), json!({})),
            Self::Invalid(errs) => {
                let list: Vec<_> =
                    errs.iter().map(|e| json!({"field": e.field, "code": e.code, "message": e.message()})).collect();
                let detail = errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                (StatusCode::UNPROCESSABLE_ENTITY, "Invalid input".into(), json!({"detail": detail, "errors": list}))
            }
            Self::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "If-Match required".into(),
                json!({"detail": "send the record's ETag in If-Match so a concurrent change is not overwritten"}),
            ),
            Self::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "Too many requests".into(), json!({})),
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error".into(), json!({}))
            }
        };
        let mut body = json!({"type": "about:blank", "title": title, "status": status.as_u16()});
        if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                b.insert(k.clone(), v.clone());
            }
        }
        let mut r = (status, body.to_string()).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        r
    }
}

/// API results.
pub type ApiResult<T> = Result<T, ApiError>;
