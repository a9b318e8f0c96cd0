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

/// A page handler's failure, so handlers use `?` on store calls: shown as the error page in
/// the user's language by [`page_errors`] (which knows the language); a database or other
/// internal error is logged with its cause and shown plainly, never as an empty section.
#[derive(Debug)]
pub struct PageError(pub StoreError);

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self(e)
    }
}

/// What a failed page carries to [`page_errors`].
#[derive(Debug, Clone)]
pub enum PageFailure {
    /// 404.
    NotFound,
    /// 403.
    Forbidden,
    /// 422 with the failing fields.
    Invalid(Vec<FieldError>),
    /// 409: someone else changed the record, or a value is taken.
    Conflict,
    /// 500; the cause is logged.
    Internal,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, failure) = match self.0 {
            StoreError::NotFound => (StatusCode::NOT_FOUND, PageFailure::NotFound),
            StoreError::Forbidden => (StatusCode::FORBIDDEN, PageFailure::Forbidden),
            StoreError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, PageFailure::Invalid(v)),
            StoreError::Stale { .. } | StoreError::Conflict(_) => (StatusCode::CONFLICT, PageFailure::Conflict),
            other => {
                tracing::error!(error = %other, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, PageFailure::Internal)
            }
        };
        let mut r = status.into_response();
        r.extensions_mut().insert(failure);
        r
    }
}

/// Renders a [`PageFailure`] as the error page in the language of the signed-in user (or of
/// the browser).
pub async fn page_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    // The API answers problems of its own; only pages need the language.
    if req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let pref = req.extensions().get::<crate::auth::Authed>().map(|a| a.p.user.locale.clone()).unwrap_or_default();
    let al = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let res = next.run(req).await;
    let Some(failure) = res.extensions().get::<PageFailure>().cloned() else { return res };
    let t = crate::i18n::Tr::pick(&pref, &al);
    let message = match &failure {
        PageFailure::NotFound => t.s("error.not_found").to_string(),
        PageFailure::Forbidden => t.s("error.forbidden").to_string(),
        PageFailure::Invalid(errs) => errs
            .iter()
            .map(|e| format!("{}: {}", t.s(&format!("f.{}", crate::ui::list::base_field(&e.field))), t.err(e.code)))
            .collect::<Vec<_>>()
            .join("; "),
        PageFailure::Conflict => t.s("error.conflict").to_string(),
        PageFailure::Internal => t.s("error.internal").to_string(),
    };
    crate::ui::pages::message_page(t, res.status(), &message)
}

/// Page results.
pub type PageResult<T = Response> = Result<T, PageError>;
