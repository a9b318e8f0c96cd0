//! Parties: accounts and contacts — their store, links between them, notes, duplicates and
//! merge with undo, mass update — with their pages and API.

pub mod api;
pub mod dedup;
pub mod hooks;
pub mod links;
pub mod mass;
pub mod merge;
pub mod merge_api;
pub mod merge_pages;
pub mod notes;
pub mod pages;
pub mod parties;
pub mod texts_merge;

use axum::routing::{get, post};
use axum::Router;
use karta_webkit::AppState;

/// The pages of accounts and contacts (`/{kind}` matches after every other context's own
/// paths, which are static).
pub fn pages() -> Router<AppState> {
    use pages as p;
    Router::new()
        .merge(merge_pages::router())
        .route("/search", get(p::search_page))
        .route("/search/suggest", get(p::suggest))
        .route("/notes/{id}", post(p::edit_note))
        .route("/notes/{id}/delete", post(p::delete_note))
        .route("/{kind}", get(p::list).post(p::create))
        .route("/{kind}/new", get(p::new_form))
        .route("/{kind}/bulk", post(p::bulk))
        .route("/{kind}/{id}", get(p::view).post(p::update))
        .route("/{kind}/{id}/edit", get(p::edit_form))
        .route("/{kind}/{id}/delete", post(p::delete))
        .route("/{kind}/{id}/restore", post(p::restore))
        .route("/{kind}/{id}/purge", post(p::purge))
        .route("/{kind}/{id}/notes", post(p::add_note))
        .route("/{kind}/{id}/links", post(p::link))
        .route("/{kind}/{id}/links/{other}/delete", post(p::unlink))
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router().merge(merge_api::router())
}

/// Registers the context's texts, mass updaters and trash list.
pub fn register() {
    karta_webkit::i18n::register(texts_merge::TEXTS);
    mass::register();
    karta_webkit::plugins::TRASH.add("parties", |st, u| Box::pin(pages::trashed(st, u)));
}
