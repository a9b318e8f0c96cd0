//! The store's precise error enum; the web layer maps each variant to a status.

use karta_core::FieldError;

/// A field changed by someone else since the version a writer started from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    /// The field.
    pub field: String,
    /// Who changed it.
    pub by: String,
    /// When (ms since the epoch).
    pub at: i64,
    /// Its value now.
    pub now: serde_json::Value,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record in the caller's tenant and scope.
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// Input failed validation.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The record changed since the version the caller had.
    #[error("the record was changed by someone else (now version {current})")]
    Stale {
        /// The current version.
        current: i64,
        /// What changed since the caller's version.
        changes: Vec<Change>,
    },
    /// A uniqueness rule was broken.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Something else failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl StoreError {
    /// One invalid field.
    #[must_use]
    pub fn field(field: &str, code: &'static str) -> Self {
        Self::Invalid(vec![FieldError::new(field, code)])
    }
}

/// Store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
