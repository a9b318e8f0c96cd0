//! The catalogue: products and services with their prices, the pages and the API.

pub mod api;
pub mod pages;
pub mod store;

use axum::routing::get;
use axum::Router;
use karta_webkit::AppState;

/// The catalogue pages.
pub fn pages() -> Router<AppState> {
    use pages as p;
    Router::new()
        .route("/products", get(p::list).post(p::create))
        .route("/products/new", get(p::new_form))
        .route("/products/{id}", get(p::view).post(p::update))
        .route("/products/{id}/edit", get(p::edit_form))
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router()
}
