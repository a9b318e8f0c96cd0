//! Identity: signing in and out, the user's settings (language, API tokens, the calendar
//! feed's link), the admin's users and teams, and the identity API (`/me`, tokens). Users,
//! sessions and tokens are stored by the kernel, which authenticates every request.

pub mod admin;
pub mod api;
pub mod notifications;
pub mod session;
pub mod settings;

use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// The identity pages.
pub fn pages() -> Pages {
    Pages::new()
        .get("/login", session::login_page)
        .post("/login", session::login)
        .post("/logout", session::logout)
        .get("/settings", settings::page)
        .get("/admin/users", admin::page)
        .post("/admin/users", admin::add)
        .post("/admin/users/{id}", admin::change)
        .post("/admin/teams", admin::add_team)
        .post("/settings/language", settings::language)
        .post("/settings/tokens", settings::create_token)
        .post("/settings/tokens/{id}/revoke", settings::revoke_token)
        .get("/notifications", notifications::page)
        .post("/notifications/read", notifications::read_all)
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router().merge(notifications::api())
}
