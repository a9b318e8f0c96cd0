//! Customization: custom fields (the admin page and the API; the engine is the kernel's) and
//! saved views with mass update (the API; the list pages' views panel is the web kit's).

pub mod fields_api;
pub mod fields_page;
pub mod views_api;

use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// The custom-field admin pages.
pub fn pages() -> Pages {
    Pages::new()
        .get("/admin/fields", fields_page::page)
        .post("/admin/fields", fields_page::create)
        .post("/admin/fields/{id}", fields_page::update)
        .post("/admin/fields/{id}/move", fields_page::move_field)
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    fields_api::router().merge(views_api::router())
}

/// This context's texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers the texts.
pub fn register() {
    karta_webkit::i18n::register(TEXTS);
}
