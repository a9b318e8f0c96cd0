//! Karta's HTTP surface: the server-rendered UI and the JSON API over the same store calls.

pub mod api;
pub mod auth;
pub mod error;
pub mod fields_api;
pub mod i18n;
pub mod ics;
pub mod merge_api;
pub mod ops;
pub mod organizer_api;
pub mod sales_api;
pub mod texts_board;
pub mod texts_fields;
pub mod texts_import;
pub mod texts_merge;
pub mod texts_organizer;
pub mod texts_sales;
pub mod texts_views;
pub mod transfer_api;
pub mod tz;
pub mod ui;
pub mod views_api;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use karta_store::users::SessionPolicy;
use karta_store::Db;
use std::sync::Arc;

/// Largest form body accepted.
pub const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// Settings the web layer needs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Where uploaded import files are kept.
    pub imports_dir: std::path::PathBuf,
    /// Woken when an import is queued, so the worker starts it at once.
    pub imports_wake: Arc<tokio::sync::Notify>,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<ops::Metrics>,
    /// The clock time-dependent rules read.
    pub clock: karta_core::Clock,
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    res
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(ui::router())
        .nest("/api/v1", api::router())
        .merge(ops::router())
        .route("/calendar/{file}", axum::routing::get(ics::feed))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), ops::track))
        .with_state(state)
}
