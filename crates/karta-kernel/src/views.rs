//! Saved views: a list's filters (flat and AND/OR groups), sort and columns saved under a
//! name, private to the owner, shared with the owner's team or with the whole tenant, and
//! optionally pinned in the navigation.
//!
//! A view only stores a query: applying one runs the ordinary list, so it never shows a record
//! outside the caller's own read scope. Only the owner or an admin changes or deletes a view.

use crate::ctx::Ctx;
use crate::db::{Db, Row, Q};
use crate::error::{Result, StoreError};
use crate::listq::{self, Filter, FilterGroup, ListQuery};
use karta_core::{new_id, now_ms, Entity, FieldError};
use serde::{Deserialize, Serialize};

/// Who sees a view.
pub const VISIBILITIES: &[&str] = &["private", "team", "tenant"];

/// Entities that have lists with saved views.
/// The entities with lists that have saved views (registered by their contexts).
#[must_use]
pub fn entities() -> Vec<Entity> {
    crate::entities::customizable()
}

/// Longest view name.
const NAME_MAX: usize = 100;
/// Most conditions in one view.
const CONDITIONS_MAX: usize = 100;
/// Most views one caller sees per entity.
const LIST_MAX: i64 = 500;

/// A condition group as stored and sent: `field:op:value` conditions, all or any of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GroupSpec {
    /// True when any one condition is enough; false when all must hold.
    pub any: bool,
    /// Conditions as `field:op:value`.
    pub filters: Vec<String>,
}

/// What a list shows, as stored in `saved_views.query` and sent through the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ViewQuery {
    /// Conditions that must all hold, as `field:op:value`.
    pub filters: Vec<String>,
    /// Condition groups.
    pub groups: Vec<GroupSpec>,
    /// True: any group is enough; false: every group must hold.
    pub match_any: bool,
    /// Sort field (empty = the list's default).
    pub sort: Option<String>,
    /// Descending sort.
    pub desc: bool,
    /// Columns shown after the name, in order.
    pub columns: Vec<String>,
}

impl ViewQuery {
    /// Captures a list query and its columns.
    #[must_use]
    pub fn capture(lq: &ListQuery, columns: &[String]) -> Self {
        Self {
            filters: lq.filters.iter().map(Filter::encode).collect(),
            groups: lq
                .groups
                .iter()
                .filter(|g| !g.filters.is_empty())
                .map(|g| GroupSpec { any: g.any, filters: g.filters.iter().map(Filter::encode).collect() })
                .collect(),
            match_any: lq.match_any,
            sort: lq.sort.clone(),
            desc: lq.desc,
            columns: columns.to_vec(),
        }
    }

    /// The list query (first page of 50); conditions that do not parse are dropped (they were
    /// checked when the view was saved).
    #[must_use]
    pub fn list_query(&self) -> ListQuery {
        let parse = |v: &Vec<String>| v.iter().filter_map(|s| Filter::parse(s).ok()).collect::<Vec<_>>();
        ListQuery {
            filters: parse(&self.filters),
            groups: self.groups.iter().map(|g| FilterGroup { any: g.any, filters: parse(&g.filters) }).collect(),
            match_any: self.match_any,
            sort: self.sort.clone().filter(|s| !s.is_empty()),
            desc: self.desc,
            limit: 50,
            ..ListQuery::default()
        }
    }
}

/// A saved view as entered (API body and form).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ViewInput {
    /// The list, `contact`, `account` or `deal`: required on create (or as `?entity=`), fixed
    /// afterwards.
    pub entity: String,
    /// Name (required, up to 100 characters; unique among the owner's views of the list).
    pub name: String,
    /// `private` (default), `team` (the owner's team) or `tenant` (everyone in the company).
    pub visibility: String,
    /// Shown in the navigation of everyone who sees the view.
    pub pinned: bool,
    /// Conditions that must all hold, as `field:op:value`.
    pub filters: Vec<String>,
    /// Condition groups.
    pub groups: Vec<GroupSpec>,
    /// True: any group is enough; false: every group must hold.
    pub match_any: bool,
    /// Sort field (empty = the list's default).
    pub sort: Option<String>,
    /// Descending sort.
    pub desc: bool,
    /// Columns shown after the name, in order.
    pub columns: Vec<String>,
}

impl ViewInput {
    /// A view of `entity` named `name` capturing a list query and its columns.
    #[must_use]
    pub fn capture(
        entity: Entity,
        name: &str,
        visibility: &str,
        pinned: bool,
        lq: &ListQuery,
        columns: &[String],
    ) -> Self {
        let q = ViewQuery::capture(lq, columns);
        Self {
            entity: entity.as_str().to_string(),
            name: name.to_string(),
            visibility: visibility.to_string(),
            pinned,
            filters: q.filters,
            groups: q.groups,
            match_any: q.match_any,
            sort: q.sort,
            desc: q.desc,
            columns: q.columns,
        }
    }

    /// The query part.
    #[must_use]
    pub fn query(&self) -> ViewQuery {
        ViewQuery {
            filters: self.filters.clone(),
            groups: self.groups.clone(),
            match_any: self.match_any,
            sort: self.sort.clone(),
            desc: self.desc,
            columns: self.columns.clone(),
        }
    }
}

/// A stored view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedView {
    /// Id.
    pub id: String,
    /// The list: `contact`, `account` or `deal`.
    pub entity: Entity,
    /// Name.
    pub name: String,
    /// Who made it.
    pub owner_id: String,
    /// The owner's name.
    pub owner_name: String,
    /// `private`, `team` or `tenant`.
    pub visibility: String,
    /// The team it is shared with (team views).
    pub team_id: String,
    /// Shown in the navigation.
    pub pinned: bool,
    /// Conditions that must all hold, as `field:op:value`.
    pub filters: Vec<String>,
    /// Condition groups.
    pub groups: Vec<GroupSpec>,
    /// True: any group is enough.
    pub match_any: bool,
    /// Sort field.
    pub sort: Option<String>,
    /// Descending.
    pub desc: bool,
    /// Columns after the name.
    pub columns: Vec<String>,
    /// The caller may change or delete it (owner or admin).
    pub editable: bool,
    /// Version (ETag).
    pub version: i64,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl SavedView {
    /// The query part.
    #[must_use]
    pub fn query(&self) -> ViewQuery {
        ViewQuery {
            filters: self.filters.clone(),
            groups: self.groups.clone(),
            match_any: self.match_any,
            sort: self.sort.clone(),
            desc: self.desc,
            columns: self.columns.clone(),
        }
    }

    /// The list query of the view (first page of 50 rows); run it with the ordinary list
    /// call, which keeps the caller's own scope.
    #[must_use]
    pub fn list_query(&self) -> ListQuery {
        self.query().list_query()
    }

    /// The view as input, to change a few things and save.
    #[must_use]
    pub fn to_input(&self) -> ViewInput {
        let q = self.query();
        ViewInput {
            entity: self.entity.as_str().to_string(),
            name: self.name.clone(),
            visibility: self.visibility.clone(),
            pinned: self.pinned,
            filters: q.filters,
            groups: q.groups,
            match_any: q.match_any,
            sort: q.sort,
            desc: q.desc,
            columns: q.columns,
        }
    }
}

fn from_row(ctx: &Ctx, r: &Row) -> SavedView {
    let q: ViewQuery = serde_json::from_str(&r.s("query")).unwrap_or_default();
    let owner_id = r.s("owner_id");
    SavedView {
        id: r.s("id"),
        entity: Entity::parse(&r.s("entity")).unwrap_or(Entity::Contact),
        name: r.s("name"),
        editable: owner_id == ctx.user_id() || ctx.is_admin(),
        owner_name: r.s("owner_name"),
        owner_id,
        visibility: r.s("visibility"),
        team_id: r.s("team_id"),
        pinned: r.i("pinned") != 0,
        filters: q.filters,
        groups: q.groups,
        match_any: q.match_any,
        sort: q.sort,
        desc: q.desc,
        columns: q.columns,
        version: r.i("version"),
        created_at: r.i("created_at"),
        updated_at: r.i("updated_at"),
    }
}

const SELECT: &str = "SELECT v.*, u.display_name AS owner_name FROM saved_views v \
     LEFT JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.owner_id";

/// The condition (on alias `v`) for views the caller sees: their own, their team's, the
/// tenant's.
fn visible_sql(ctx: &Ctx, q: &mut Q) -> String {
    let t = q.arg(ctx.tenant_id());
    let me = q.arg(ctx.user_id());
    let team = q.arg(ctx.team_id().map(str::to_string).unwrap_or_default());
    format!(
        "v.tenant_id = {t} AND (v.owner_id = {me} OR v.visibility = 'tenant' \
         OR (v.visibility = 'team' AND v.team_id <> '' AND v.team_id = {team}))"
    )
}

/// Checks an entity has saved views.
///
/// # Errors
/// `Invalid` naming `entity`.
pub fn check_entity(entity: Entity) -> Result<Entity> {
    if entities().contains(&entity) {
        Ok(entity)
    } else {
        Err(StoreError::field("entity", "invalid_choice"))
    }
}

/// Deal flags a view may filter on besides the list fields.
fn is_flag(entity: Entity, field: &str) -> bool {
    entity == Entity::Deal && matches!(field, "overdue" | "stalled")
}

/// Validates the input; returns it normalised with the query as JSON.
async fn check(db: &Db, ctx: &Ctx, entity: Entity, input: &ViewInput) -> Result<(String, String, String)> {
    let mut errs = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errs.push(FieldError::new("name", "required"));
    } else if name.chars().count() > NAME_MAX {
        errs.push(FieldError::new("name", "too_long"));
    }
    let visibility = if input.visibility.trim().is_empty() { "private" } else { input.visibility.trim() };
    if !VISIBILITIES.contains(&visibility) {
        errs.push(FieldError::new("visibility", "invalid_choice"));
    } else if visibility == "team" && ctx.team_id().is_none() {
        errs.push(FieldError::new("visibility", "no_team"));
    }
    if !input.entity.is_empty() && Entity::parse(&input.entity) != Some(entity) {
        errs.push(FieldError::new("entity", "invalid_choice"));
    }
    let mut vq = input.query();
    vq.sort = vq.sort.filter(|s| !s.trim().is_empty());
    vq.groups.retain(|g| !g.filters.is_empty());
    let all: Vec<&String> = vq.filters.iter().chain(vq.groups.iter().flat_map(|g| g.filters.iter())).collect();
    if all.len() > CONDITIONS_MAX || vq.groups.len() > listq::GROUPS_MAX {
        errs.push(FieldError::new("filters", "too_long"));
    }
    let lq = vq.list_query();
    // Custom fields (`cf.<key>`) are checked against the tenant's definitions.
    let lq = crate::fields::with_defs(db, ctx, entity, &lq).await?;
    if all.iter().any(|s| Filter::parse(s).is_err()) {
        errs.push(FieldError::new("filters", "invalid_value"));
    } else {
        // The same rendering the list uses, so a view that saves also runs.
        let mut q = Q::new("");
        let rendered = listq::filters_sql(&mut q, &lq, |q, f| {
            if is_flag(entity, &f.field) {
                Ok(String::new())
            } else {
                listq::condition_with(db, q, entity, &lq.custom, f, ctx.user_id())
            }
        });
        if rendered.is_err() {
            errs.push(FieldError::new("filters", "invalid_value"));
        }
    }
    if let Some(s) = &vq.sort {
        if listq::SortBy::of(db, entity, s, &lq).is_err() {
            errs.push(FieldError::new("sort", "invalid_value"));
        }
    }
    vq.columns.dedup();
    // `cf.<key>` columns must name one of the list's custom fields.
    let defs = if lq.custom.is_empty() && vq.columns.iter().any(|c| c.starts_with("cf.")) {
        crate::fields::list(db, ctx, entity, true).await?
    } else {
        lq.custom.clone()
    };
    let column_ok = |c: &String| listq::field(entity, c).is_some() || crate::fields::lookup(&defs, c).is_some();
    if vq.columns.len() > 60 || !vq.columns.iter().all(column_ok) {
        errs.push(FieldError::new("columns", "invalid_value"));
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let json = serde_json::to_string(&vq).map_err(|e| StoreError::Other(e.into()))?;
    Ok((name, visibility.to_string(), json))
}

/// Refuses a second view of the same name among the owner's views of one list.
async fn unique_name(db: &Db, ctx: &Ctx, owner: &str, entity: Entity, name: &str, except: &str) -> Result<()> {
    let r = db
        .opt(
            Q::new(
                "SELECT id FROM saved_views WHERE tenant_id = $1 AND owner_id = $2 AND entity = $3 AND name = $4 AND id <> $5",
            )
            .bind(ctx.tenant_id())
            .bind(owner)
            .bind(entity.as_str())
            .bind(name)
            .bind(except),
        )
        .await?;
    match r {
        Some(_) => Err(StoreError::Conflict("name".into())),
        None => Ok(()),
    }
}

/// Saves a new view of the caller's for `entity`'s list.
///
/// # Errors
/// `Invalid` (name, visibility, filters, sort, columns), `Conflict` on `name`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn create(db: &Db, ctx: &Ctx, entity: Entity, input: &ViewInput) -> Result<SavedView> {
    let entity = check_entity(entity)?;
    ctx.scope(entity, karta_core::Action::Read)?;
    let (name, visibility, json) = check(db, ctx, entity, input).await?;
    unique_name(db, ctx, ctx.user_id(), entity, &name, "").await?;
    let id = new_id();
    let now = now_ms();
    let team = if visibility == "team" { ctx.team_id().map(str::to_string).unwrap_or_default() } else { String::new() };
    db.exec(
        Q::new(
            "INSERT INTO saved_views (tenant_id, id, entity, name, owner_id, visibility, team_id, pinned, query, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(entity.as_str())
        .bind(name)
        .bind(ctx.user_id())
        .bind(visibility)
        .bind(team)
        .bind(input.pinned)
        .bind(json)
        .bind(now),
    )
    .await?;
    get(db, ctx, &id).await
}

/// A view the caller sees (admins reach every view of the tenant).
///
/// # Errors
/// `NotFound`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<SavedView> {
    let mut q = Q::new("");
    let cond =
        if ctx.is_admin() { format!("v.tenant_id = {}", q.arg(ctx.tenant_id())) } else { visible_sql(ctx, &mut q) };
    let i = q.arg(id);
    q.sql = format!("{SELECT} WHERE {cond} AND v.id = {i}");
    db.opt(q).await?.map(|r| from_row(ctx, &r)).ok_or(StoreError::NotFound)
}

async fn get_editable(db: &Db, ctx: &Ctx, id: &str) -> Result<SavedView> {
    let v = get(db, ctx, id).await?;
    if v.editable {
        Ok(v)
    } else {
        Err(StoreError::Forbidden)
    }
}

/// Changes a view (owner or admin); with `version`, refuses a stale one. The visibility
/// `team` shares with the owner's team.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Conflict`, `Stale`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn update(db: &Db, ctx: &Ctx, id: &str, version: Option<i64>, input: &ViewInput) -> Result<SavedView> {
    let before = get_editable(db, ctx, id).await?;
    if version.is_some_and(|v| v != before.version) {
        return Err(StoreError::Stale { current: before.version, changes: Vec::new() });
    }
    // Team views follow the owner's team, also when an admin edits them.
    let owner_team = if before.owner_id == ctx.user_id() {
        ctx.team_id().map(str::to_string)
    } else {
        db.opt(
            Q::new("SELECT team_id FROM users WHERE tenant_id = $1 AND id = $2")
                .bind(ctx.tenant_id())
                .bind(&before.owner_id),
        )
        .await?
        .and_then(|r| r.os("team_id"))
        .filter(|s| !s.is_empty())
    };
    let owner_ctx = ctx.with_team(owner_team.clone());
    let (name, visibility, json) = check(db, &owner_ctx, before.entity, input).await?;
    unique_name(db, ctx, &before.owner_id, before.entity, &name, id).await?;
    let team = if visibility == "team" { owner_team.unwrap_or_default() } else { String::new() };
    let n = db
        .exec(
            Q::new(
                "UPDATE saved_views SET name = $1, visibility = $2, team_id = $3, pinned = $4, query = $5, \
                 version = version + 1, updated_at = $6 WHERE tenant_id = $7 AND id = $8 AND version = $9",
            )
            .bind(name)
            .bind(visibility)
            .bind(team)
            .bind(input.pinned)
            .bind(json)
            .bind(now_ms())
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(before.version),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Stale { current: before.version + 1, changes: Vec::new() });
    }
    get(db, ctx, id).await
}

/// Deletes a view (owner or admin).
///
/// # Errors
/// `NotFound`, `Forbidden`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn delete(db: &Db, ctx: &Ctx, id: &str) -> Result<()> {
    get_editable(db, ctx, id).await?;
    db.exec(Q::new("DELETE FROM saved_views WHERE tenant_id = $1 AND id = $2").bind(ctx.tenant_id()).bind(id)).await?;
    Ok(())
}

/// The views of `entity`'s list the caller sees, by name: their own, their team's and the
/// tenant's.
///
/// # Errors
/// `Invalid` for an entity without views; database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn list_visible(db: &Db, ctx: &Ctx, entity: Entity) -> Result<Vec<SavedView>> {
    let entity = check_entity(entity)?;
    let mut q = Q::new("");
    let cond = visible_sql(ctx, &mut q);
    let e = q.arg(entity.as_str());
    let lim = q.arg(LIST_MAX);
    q.sql = format!("{SELECT} WHERE {cond} AND v.entity = {e} ORDER BY v.name, v.id LIMIT {lim}");
    Ok(db.all(q).await?.iter().map(|r| from_row(ctx, r)).collect())
}

/// The pinned views the caller sees, of every list, by entity and name (for the navigation).
///
/// # Errors
/// Database errors.
pub async fn pinned(db: &Db, ctx: &Ctx) -> Result<Vec<SavedView>> {
    let mut q = Q::new("");
    let cond = visible_sql(ctx, &mut q);
    q.sql = format!("{SELECT} WHERE {cond} AND v.pinned = 1 ORDER BY v.entity, v.name, v.id LIMIT 50");
    Ok(db.all(q).await?.iter().map(|r| from_row(ctx, r)).collect())
}

/// Finds a view of `entity`'s list by id, or by exact name among the views the caller sees:
/// a private one first, then a team one, then a tenant-wide one (the caller's own first on a
/// tie).
///
/// # Errors
/// `NotFound` when the caller sees no such view.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn resolve(db: &Db, ctx: &Ctx, entity: Entity, name_or_id: &str) -> Result<SavedView> {
    let entity = check_entity(entity)?;
    let key = name_or_id.trim();
    let mut q = Q::new("");
    let cond = visible_sql(ctx, &mut q);
    let e = q.arg(entity.as_str());
    let k = q.arg(key);
    let me = q.arg(ctx.user_id());
    q.sql = format!(
        "{SELECT} WHERE {cond} AND v.entity = {e} AND (v.id = {k} OR v.name = {k}) \
         ORDER BY CASE WHEN v.id = {k} THEN 0 WHEN v.visibility = 'private' THEN 1 WHEN v.visibility = 'team' THEN 2 ELSE 3 END, \
         CASE WHEN v.owner_id = {me} THEN 0 ELSE 1 END, v.created_at, v.id LIMIT 1"
    );
    db.opt(q).await?.map(|r| from_row(ctx, &r)).ok_or(StoreError::NotFound)
}

/// A pinned view as the navigation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavLink {
    /// The list.
    pub entity: Entity,
    /// The view's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The pinned views the caller sees, as navigation links.
///
/// # Errors
/// Database errors.
pub async fn nav_links(db: &Db, ctx: &Ctx) -> Result<Vec<NavLink>> {
    Ok(pinned(db, ctx).await?.into_iter().map(|v| NavLink { entity: v.entity, id: v.id, name: v.name }).collect())
}
