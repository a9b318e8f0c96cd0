//! Registries through which a context contributes to pages it does not own: panels on a
//! record page (the organizer's timeline and the deals of an account), style sheets. A
//! context registers at start (its `register`, called by the app); registering a key again
//! replaces the entry.

use crate::auth::PageUser;
use crate::AppState;
use axum::http::HeaderMap;
use futures_util::future::BoxFuture;
use karta_core::Entity;
use karta_kernel::hooks::Registry;
use karta_kernel::StoreError;

/// What a panel is asked with: the request's headers (the user's time zone) and query
/// (a panel's own filters), the record's entity and id.
#[derive(Debug, Clone, Copy)]
pub struct PanelReq<'a> {
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The page's query parameters.
    pub query: &'a [(String, String)],
    /// The record's entity.
    pub entity: Entity,
    /// The record's id.
    pub id: &'a str,
}

impl PanelReq<'_> {
    /// A query parameter, or empty.
    #[must_use]
    pub fn param(&self, key: &str) -> &str {
        self.query.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }
}

/// Renders a panel for a record as HTML (escaped by its template), or `None` when it has
/// nothing to show there.
pub type PanelFn =
    for<'a> fn(&'a AppState, &'a PageUser, PanelReq<'a>) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

/// Where on a record page a panel goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The main column, after the profile.
    Main,
    /// The side column, after the related records.
    Side,
}

/// A panel another context adds to a record page.
#[derive(Debug, Clone, Copy)]
pub struct Panel {
    /// The record pages it appears on.
    pub entities: &'static [Entity],
    /// Where.
    pub slot: Slot,
    /// Renders it.
    pub render: PanelFn,
}

/// Record-page panels, in registration order.
pub static RECORD_PANELS: Registry<Panel> = Registry::new();

/// The panels of a record page, rendered: `(main column, side column)`. A failing panel
/// fails the page (a database error shows the error page, never a silently empty section).
///
/// # Errors
/// What a panel returns.
pub async fn record_panels(
    st: &AppState,
    u: &PageUser,
    req: PanelReq<'_>,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let (mut main, mut side) = (Vec::new(), Vec::new());
    for p in RECORD_PANELS.all().into_iter().filter(|p| p.entities.contains(&req.entity)) {
        if let Some(html) = (p.render)(st, u, req).await? {
            match p.slot {
                Slot::Main => main.push(html),
                Slot::Side => side.push(html),
            }
        }
    }
    Ok((main, side))
}

/// Style sheets of the contexts, served after the web kit's own in `/static/app.css`.
pub static STYLES: Registry<&'static str> = Registry::new();

/// The whole style sheet.
#[must_use]
pub fn stylesheet() -> String {
    let mut css = String::from(include_str!("../static/app.css"));
    css.push_str(include_str!("../static/views.css"));
    for s in STYLES.all() {
        css.push_str(s);
    }
    css
}

/// A record in the trash, as the trash page lists it.
#[derive(Debug, Clone)]
pub struct TrashRow {
    /// The record's page.
    pub url: String,
    /// Its name.
    pub name: String,
    /// What it is, in the user's language.
    pub what: String,
    /// When it was deleted (ms).
    pub deleted_at: i64,
}

/// Lists what a context has in the trash that the caller may see.
pub type TrashFn = for<'a> fn(&'a AppState, &'a PageUser) -> BoxFuture<'a, Result<Vec<TrashRow>, StoreError>>;

/// The contexts' trash lists, in registration order.
pub static TRASH: Registry<TrashFn> = Registry::new();

/// Something that happened to a record, shown in its timeline among the activities (a deal
/// won, later a mail received). Its texts are escaped by the timeline's template.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    /// When (ms).
    pub at: i64,
    /// A symbol for the kind.
    pub icon: &'static str,
    /// What kind of thing, in the user's language.
    pub kind: String,
    /// The title, linked to `url`.
    pub title: String,
    /// Where the thing is (a same-site path).
    pub url: String,
    /// A line below the title (an amount, a sender), or empty.
    pub detail: String,
}

/// The entries a context has for the record `(entity, id)`, newest first, as many as it likes
/// up to `limit`.
pub type TimelineFn = for<'a> fn(
    &'a AppState,
    &'a PageUser,
    Entity,
    &'a str,
    i64,
) -> BoxFuture<'a, Result<Vec<TimelineEntry>, StoreError>>;

/// A kind of timeline entry another context adds.
#[derive(Debug, Clone, Copy)]
pub struct TimelineKind {
    /// The records whose timeline has them.
    pub entities: &'static [Entity],
    /// Reads them.
    pub entries: TimelineFn,
}

/// Timeline entry kinds, in registration order.
pub static TIMELINE: Registry<TimelineKind> = Registry::new();

/// Every registered kind's entries for a record, newest first.
///
/// # Errors
/// What a kind returns.
pub async fn timeline_entries(
    st: &AppState,
    u: &PageUser,
    entity: Entity,
    id: &str,
    limit: i64,
) -> Result<Vec<TimelineEntry>, StoreError> {
    let mut out = Vec::new();
    for k in TIMELINE.all().into_iter().filter(|k| k.entities.contains(&entity)) {
        out.extend((k.entries)(st, u, entity, id, limit).await?);
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out)
}
