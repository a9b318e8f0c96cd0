//! The catalogue: products and services with their prices, the pages and the API.

pub mod api;
pub mod pages;
pub mod store;

use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// The catalogue pages.
pub fn pages() -> Pages {
    use pages as p;
    Pages::new()
        .get("/products", p::list)
        .post("/products", p::create)
        .get("/products/new", p::new_form)
        .get("/products/{id}", p::view)
        .post("/products/{id}", p::update)
        .get("/products/{id}/edit", p::edit_form)
}

/// The catalogue's own texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers the catalogue's entity and texts.
pub fn register() {
    karta_webkit::i18n::register(TEXTS);
    karta_kernel::entities::ENTITIES.add(
        "product",
        karta_kernel::entities::EntityInfo {
            entity: karta_core::Entity::Product,
            table: "products",
            name_col: "name_en",
            customizable: false,
            defaults: karta_core::Role::reference_default,
        },
    );
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router()
}
