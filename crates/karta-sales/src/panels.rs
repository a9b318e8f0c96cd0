//! What sales adds to other contexts' pages: the deals of an account or contact, and the
//! deals in the trash.

use crate::{deals, pipelines};
use askama::Template;
use karta_core::{Action, Entity};
use karta_kernel::listq::ListQuery;
use karta_kernel::StoreError;
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::plugins::{PanelReq, TrashRow};
use karta_webkit::AppState;

#[derive(Template)]
#[template(path = "deals_panel.html")]
struct DealsPanel {
    t: Tr,
    id: String,
    is_account: bool,
    deals: Vec<(String, String, String)>,
    can_deal: bool,
}

/// The deals card of an account's or a contact's page.
///
/// # Errors
/// Database errors.
pub async fn deals_of_party(st: &AppState, u: &PageUser, req: PanelReq<'_>) -> Result<Option<String>, StoreError> {
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let deals = match deals::for_party(db, ctx, st.clock.now(), req.entity, req.id, 50).await {
        Ok(d) => d,
        // A role without deals sees no deals card.
        Err(StoreError::Forbidden) => return Ok(None),
        Err(e) => return Err(e),
    };
    let pipes = pipelines::list(db, ctx).await?;
    let deals = deals
        .into_iter()
        .map(|d| {
            let stage = pipes
                .iter()
                .flat_map(|p| p.stages.iter())
                .find(|s| s.id == d.stage_id)
                .map(|s| s.name(t.code()).to_string())
                .unwrap_or_default();
            let status = if d.status == "open" { stage } else { t.s(&format!("deal.status.{}", d.status)).to_string() };
            let amount = d.money().map(|m| m.format(t.code())).unwrap_or_default();
            (format!("/deals/{}", d.id), d.title, format!("{status} · {amount}"))
        })
        .collect();
    let panel = DealsPanel {
        t,
        id: req.id.to_string(),
        is_account: req.entity == Entity::Account,
        deals,
        can_deal: ctx.scope(Entity::Deal, Action::Create).is_ok(),
    };
    panel.render().map(Some).map_err(|e| StoreError::Other(e.into()))
}

/// The deals in the trash that the caller may see.
///
/// # Errors
/// Database errors.
pub async fn trashed(st: &AppState, u: &PageUser) -> Result<Vec<TrashRow>, StoreError> {
    let lq = ListQuery { trash: true, limit: 200, sort: Some("updated_at".into()), desc: true, ..ListQuery::default() };
    match deals::list(&st.db, &u.p.ctx, st.clock.now(), &lq).await {
        Ok(page) => Ok(page
            .items
            .into_iter()
            .map(|d| TrashRow {
                url: format!("/deals/{}", d.id),
                name: d.title,
                what: u.t.s("rec.deals").to_string(),
                deleted_at: d.deleted_at.unwrap_or_default(),
            })
            .collect()),
        Err(StoreError::Forbidden) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The deals of an account or contact won or lost, as entries of its timeline.
///
/// # Errors
/// Database errors.
pub async fn closed_deals(
    st: &AppState,
    u: &PageUser,
    entity: Entity,
    id: &str,
    limit: i64,
) -> Result<Vec<karta_webkit::plugins::TimelineEntry>, StoreError> {
    let t = u.t;
    // Only the closed ones, newest first: many open deals must not crowd them out.
    let deals = deals::closed_for_party(&st.db, &u.p.ctx, st.clock.now(), entity, id, limit).await?;
    Ok(deals
        .into_iter()
        .filter_map(|d| {
            let at = d.closed_at?;
            let (icon, key) = match d.status.as_str() {
                "won" => ("🏆", "deal.tl.won"),
                "lost" => ("✖", "deal.tl.lost"),
                _ => return None,
            };
            Some(karta_webkit::plugins::TimelineEntry {
                at,
                icon,
                kind: t.s(key).to_string(),
                detail: d.money().map(|m| m.format(t.code())).unwrap_or_default(),
                url: format!("/deals/{}", d.id),
                title: d.title,
            })
        })
        .collect())
}
