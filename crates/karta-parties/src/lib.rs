//! Parties: accounts and contacts — their store, links between them, notes, duplicates and
//! merge with undo, mass update — with their pages and API.

pub mod api;
pub mod columns;
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
pub mod phone_check;

use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// The pages of accounts and contacts (`/{kind}` matches after every other context's own
/// paths, which are static).
pub fn pages() -> Pages {
    use pages as p;
    Pages::new()
        .merge(merge_pages::router())
        .get("/{kind}/phone-check", phone_check::page)
        .post("/{kind}/phone-check", phone_check::dismiss_number)
        .get("/search", p::search_page)
        .get("/search/suggest", p::suggest)
        .post("/notes/{id}", p::edit_note)
        .post("/notes/{id}/delete", p::delete_note)
        .get("/{kind}", p::list)
        .post("/{kind}", p::create)
        .get("/{kind}/new", p::new_form)
        .post("/{kind}/bulk", p::bulk)
        .get("/{kind}/{id}", p::view)
        .post("/{kind}/{id}", p::update)
        .get("/{kind}/{id}/edit", p::edit_form)
        .post("/{kind}/{id}/delete", p::delete)
        .post("/{kind}/{id}/restore", p::restore)
        .post("/{kind}/{id}/purge", p::purge)
        .post("/{kind}/{id}/notes", p::add_note)
        .post("/{kind}/{id}/links", p::link)
        .post("/{kind}/{id}/links/{other}/delete", p::unlink)
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router().merge(merge_api::router())
}

/// This context's texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers the context's texts, mass updaters and trash list.
pub fn register() {
    use karta_kernel::entities::{EntityInfo, ENTITIES};
    for (entity, table) in [(karta_core::Entity::Contact, "contacts"), (karta_core::Entity::Account, "accounts")] {
        ENTITIES.add(
            entity.as_str(),
            EntityInfo {
                entity,
                table,
                name_col: "name",
                customizable: true,
                defaults: karta_core::Role::record_default,
            },
        );
    }
    karta_kernel::listq::COLUMNS.add("parties", columns::FIELDS);
    karta_webkit::i18n::register(TEXTS);
    mass::register();
    karta_webkit::plugins::TRASH.add("parties", |st, u| Box::pin(pages::trashed(st, u)));
    for entity in [karta_core::Entity::Account, karta_core::Entity::Contact] {
        let table = karta_kernel::search::TableSearch {
            entity,
            name_col: "t.name",
            key_col: "name_key",
            details: "t.primary_email, t.primary_phone, t.city",
        };
        karta_kernel::search::PROVIDERS.add(entity.as_str(), karta_kernel::search::Provider { table, phones: true });
    }
}
