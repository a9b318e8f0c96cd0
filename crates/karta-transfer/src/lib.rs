//! Data in and out: imports of CSV, XLSX and vCard files into accounts and contacts (the
//! wizard, the API and the engine behind `karta import`), and exports of lists to CSV, XLSX
//! and vCard. The file formats themselves are `karta-formats`'.

pub mod api;
pub mod columns;
pub mod export;
pub mod import;
pub mod pages;

use karta_webkit::plugins::STYLES;
use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// The import wizard's pages and the list pages' export.
pub fn pages() -> Pages {
    pages::router()
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router()
}

/// This context's texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers texts, styles and the export formats (CSV, XLSX, vCard).
pub fn register() {
    export::register();
    karta_webkit::i18n::register(TEXTS);
    STYLES.add("imports", include_str!("../static/imports.css"));
}
