//! Identity: signing in and out, the user's settings (language, API tokens, the calendar
//! feed's link), the admin's users and teams, and the identity API (`/me`, tokens). Users,
//! sessions and tokens are stored by the kernel, which authenticates every request.

pub mod admin;
pub mod api;
pub mod notifications;
pub mod session;
pub mod settings;

use axum::routing::{get, post};
use axum::Router;
use karta_webkit::AppState;

/// The identity pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/settings", get(settings::page))
        .route("/admin/users", get(admin::page).post(admin::add))
        .route("/admin/users/{id}", post(admin::change))
        .route("/admin/teams", post(admin::add_team))
        .route("/settings/language", post(settings::language))
        .route("/settings/tokens", post(settings::create_token))
        .route("/settings/tokens/{id}/revoke", post(settings::revoke_token))
        .route("/notifications", get(notifications::page))
        .route("/notifications/read", post(notifications::read_all))
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router().merge(notifications::api())
}
