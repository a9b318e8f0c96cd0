//! The organizer: calls, meetings, tasks and the other activities, the calendar (day, week,
//! month, a team's), my day, the workload of a team, the calendar feed — with their pages and
//! API. Adds the activity timeline to account, contact and deal pages, the reminders' job,
//! and the task a deal's new owner gets when a stage hands the deal over.

pub mod api;
pub mod calendar;
pub mod ics;
pub mod pages;
pub mod store;
pub mod team;

use karta_core::Entity;
use karta_webkit::plugins::{Panel, Slot, RECORD_PANELS, STYLES};
use karta_webkit::routes::Pages;
use karta_webkit::AppState;

/// The organizer pages and the calendar feed.
pub fn pages() -> Pages {
    pages::router().merge(calendar::router()).merge(team::router()).get("/calendar/{file}", ics::feed)
}

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::router()
}

/// This context's texts (`texts/{lang}.ftl`).
pub const TEXTS: karta_webkit::i18n::Ftl = karta_webkit::ftl!();

/// Registers texts, styles, the timeline panel, the reminder job and the hand-over task.
pub fn register() {
    karta_kernel::entities::ENTITIES.add(
        "activity",
        karta_kernel::entities::EntityInfo {
            entity: Entity::Activity,
            table: "activities",
            name_col: "subject",
            customizable: false,
            defaults: karta_core::Role::record_default,
        },
    );
    karta_webkit::i18n::register(TEXTS);
    STYLES.add("organizer", include_str!("../static/organizer.css"));
    RECORD_PANELS.add(
        "organizer.timeline",
        Panel {
            entities: &[Entity::Account, Entity::Contact, Entity::Deal],
            slot: Slot::Main,
            render: |st, u, req| Box::pin(pages::timeline_panel(st, u, req)),
        },
    );
    karta_kernel::notify::NOTIFIERS.add("activity.reminder_due", store::reminder_notice);
    karta_kernel::hooks::JOBS.add("remind", |tx, tenant, id, now| Box::pin(store::remind(tx, tenant, id, now)));
    karta_sales::hooks::DEAL_HANDED_OVER.add("organizer.handover_task", |tx, ctx, h| {
        Box::pin(store::handover_task(tx, ctx, h.now, h.owner, h.deal_id, h.account_id, h.title))
    });
}
