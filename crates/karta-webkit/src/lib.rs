//! Karta's web kit: what every context's pages and API share — the app state, the
//! authentication and CSRF middleware with its extractors, the error responses, the JSON
//! API's machinery, i18n, the page layout and list toolbox, and the registries through
//! which contexts contribute to each other's pages (record panels, styles, texts).

pub mod api;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod ops;
pub mod plugins;
pub mod routes;
pub mod tz;
pub mod ui;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use karta_kernel::users::SessionPolicy;
use karta_kernel::Db;
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

/// What no route matches: a problem under `/api/`, the not-found page elsewhere.
async fn not_found(req: Request) -> Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/api/") {
        return error::ApiError::NotFound.into_response();
    }
    let al = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let pref = req.extensions().get::<auth::Authed>().map(|a| a.p.user.locale.clone()).unwrap_or_default();
    let t = i18n::Tr::pick(&pref, al);
    ui::pages::message_page(t, axum::http::StatusCode::NOT_FOUND, t.s("error.not_found"))
}

/// The whole application router: the contexts' `pages` and `api` routes (the latter with
/// their full `/api/v1/…` paths) with the web kit's own, behind authentication, CSRF, body
/// limits, security headers and request metrics.
pub fn app(state: AppState, pages: routes::Pages, api: Router<AppState>) -> Router {
    i18n::register_own();
    Router::new()
        .merge(ui::router().merge(pages).into_router())
        .merge(api)
        .fallback(not_found)
        .merge(ops::router())
        // Inside authentication, so a failed page is rendered in the user's language.
        .layer(middleware::from_fn(error::page_errors))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), ops::track))
        .with_state(state)
}
