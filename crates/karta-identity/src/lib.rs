//! Identity: signing in and out, the user's settings (language, API tokens, the calendar
//! feed's link), the admin's users, teams and roles, notifications, and the identity API
//! (`/me`, tokens, roles). Users, sessions, tokens and roles are stored by the kernel, which
//! authenticates every request.

pub mod admin;
pub mod api;
pub mod notifications;
pub mod roles;
pub mod session;
pub mod settings;

use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// This context's texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers the identity's texts, styles and the notifications consumer of the outbox.
pub fn register() {
    karta_webkit::i18n::register(TEXTS);
    karta_webkit::plugins::STYLES.add("identity", include_str!("../static/identity.css"));
    karta_kernel::events::CONSUMERS.add("notifications", karta_kernel::notify::CONSUMER);
}

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
        .post("/admin/company/time-zone", admin::company_zone)
        .get("/admin/roles", roles::page)
        .post("/admin/roles", roles::create)
        .get("/admin/roles/new", roles::new_page)
        .get("/admin/roles/{id}", roles::edit_page)
        .post("/admin/roles/{id}", roles::save)
        .post("/admin/roles/{id}/delete", roles::delete)
        .post("/settings/language", settings::language)
        .post("/settings/time-zone", settings::time_zone)
        .post("/settings/tokens", settings::create_token)
        .post("/settings/tokens/{id}/revoke", settings::revoke_token)
        .get("/notifications", notifications::page)
        .post("/notifications/read", notifications::read_all)
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router().merge(notifications::api()).merge(roles::api())
}
