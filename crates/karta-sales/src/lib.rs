//! Sales: pipelines and their stages, deals (lines, contacts, the negotiation log, stage
//! history), the board, mass update of deals — with their pages and API. Adds the deals card
//! to account and contact pages and the deals to the trash.

pub mod api;
pub mod board;
pub mod columns;
pub mod deals;
pub mod hooks;
pub mod mass;
pub mod pages;
pub mod panels;
pub mod pipelines;
pub mod pipelines_admin;

use axum::http::header;
use axum::response::IntoResponse;
use karta_core::Entity;
use karta_webkit::plugins::{Panel, Slot, RECORD_PANELS, STYLES, TRASH};
use karta_webkit::routes::Pages;
use karta_webkit::AppState;

async fn board_js() -> axum::response::Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/board.js"),
    )
        .into_response()
}

/// The sales pages.
pub fn pages() -> Pages {
    use pipelines_admin as pa;
    pages::router()
        .get("/board", board::page)
        .get("/static/board.js", board_js)
        .get("/admin/pipelines", pa::page)
        .post("/admin/pipelines", pa::create)
        .post("/admin/pipelines/{id}", pa::update)
        .post("/admin/pipelines/{id}/stages", pa::add_stage)
        .post("/admin/stages/{id}", pa::update_stage)
        .post("/admin/stages/{id}/move", pa::move_stage)
        .post("/admin/stages/{id}/delete", pa::remove_stage)
        .post("/admin/lost-reasons", pa::add_reason)
        .post("/admin/lost-reasons/{id}", pa::set_reason)
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router()
}

/// This context's texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers texts, styles, the mass updater, the deals card, the trash list and the
/// listener that keeps deals' search text in step with their accounts' names.
pub fn register() {
    karta_kernel::notify::NOTIFIERS.add("deal.handed_over", deals::handover_notice);
    karta_kernel::entities::ENTITIES.add(
        "deal",
        karta_kernel::entities::EntityInfo {
            entity: Entity::Deal,
            table: "deals",
            name_col: "title",
            customizable: true,
            defaults: karta_core::Role::record_default,
        },
    );
    karta_kernel::listq::COLUMNS.add("sales", columns::FIELDS);
    karta_webkit::i18n::register(TEXTS);
    STYLES.add("sales", include_str!("../static/sales.css"));
    STYLES.add("board", include_str!("../static/board.css"));
    mass::register();
    RECORD_PANELS.add(
        "sales.deals",
        Panel {
            entities: &[Entity::Account, Entity::Contact],
            slot: Slot::Side,
            render: |st, u, req| Box::pin(panels::deals_of_party(st, u, req)),
        },
    );
    TRASH.add("sales", |st, u| Box::pin(panels::trashed(st, u)));
    karta_webkit::plugins::TIMELINE.add(
        "sales.closed_deals",
        karta_webkit::plugins::TimelineKind {
            entities: &[Entity::Account, Entity::Contact],
            entries: |st, u, e, id, limit| Box::pin(panels::closed_deals(st, u, e, id, limit)),
        },
    );
    // Deals are found by title; their hits carry no contact details, and no phone finds one.
    let table = karta_kernel::search::TableSearch {
        entity: Entity::Deal,
        name_col: "t.title AS name",
        key_col: "title_key",
        details: "'' AS primary_email, '' AS primary_phone, '' AS city",
    };
    karta_kernel::search::PROVIDERS.add("deal", karta_kernel::search::Provider { table, phones: false });
    karta_parties::hooks::ACCOUNTS_RENAMED
        .add("sales.deal_search", |tx, db, ctx, ids| Box::pin(deals::refresh_account_search(tx, db, ctx, ids)));
}
