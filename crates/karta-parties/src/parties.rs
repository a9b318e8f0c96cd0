//! Accounts and contacts: create, read, update, trash, restore, purge, lists and bulk
//! actions. Both entities share one table shape, so one code path serves them.

use karta_core::party::{self, PartyData, PartyInput};
use karta_core::{new_id, now_ms, Action, Entity, FieldError, Scope};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Arg, Db, Row, Tx, Q};
use karta_kernel::error::{Result, StoreError};
use karta_kernel::listq::{self, ListQuery};
use serde::{Deserialize, Serialize};

/// The table of an entity.
#[must_use]
pub fn table(entity: Entity) -> &'static str {
    entity.table()
}

/// A stored account or contact (also read back by the test kit's typed client).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Party {
    /// Which entity.
    pub entity: Entity,
    /// Id.
    pub id: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Display name (serialised through `input.name`).
    #[serde(skip)]
    pub name: String,
    /// Owner's display name.
    pub owner_name: String,
    /// The profile.
    #[serde(flatten)]
    pub input: PartyInput,
    /// Created (ms).
    pub created_at: i64,
    /// Creator id.
    pub created_by: String,
    /// Last update (ms).
    pub updated_at: i64,
    /// Last editor id.
    pub updated_by: String,
    /// In the trash since (ms).
    pub deleted_at: Option<i64>,
    #[serde(skip)]
    pub owner_team: Option<String>,
}

fn json_list<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

fn tags_to_db(tags: &[String]) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!(",{},", tags.join(","))
    }
}

/// Maps a row (with `owner_name`, `owner_team`) to a [`Party`].
#[must_use]
pub fn from_row(entity: Entity, r: &Row) -> Party {
    let input = PartyInput {
        // For contacts this is the display name made of the name parts; parsing ignores it.
        name: r.s("name"),
        legal_name: r.s("legal_name"),
        tax_id: r.s("tax_id"),
        parent_id: r.s("parent_id"),
        employees: r.oi("employees"),
        first_name: r.s("first_name"),
        last_name: r.s("last_name"),
        middle_name: r.s("middle_name"),
        job_title: r.s("job_title"),
        birthday: r.s("birthday"),
        family_status: r.s("family_status"),
        income_band: r.s("income_band"),
        emails: json_list(&r.s("emails")),
        phones: json_list(&r.s("phones")),
        messengers: json_list(&r.s("messengers")),
        addresses: json_list(&r.s("addresses")),
        website: r.s("website"),
        industry: r.s("industry"),
        region: r.s("region"),
        segment: r.s("segment"),
        relationship: r.s("relationship"),
        owner_id: r.s("owner_id"),
        source: r.s("source"),
        first_contact: r.s("first_contact"),
        important_dates: json_list(&r.s("important_dates")),
        interests: r.s("interests"),
        preferences: r.s("preferences"),
        tags: r.s("tags").split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        do_not_contact: r.i("do_not_contact") != 0,
        do_not_email: r.i("do_not_email") != 0,
        description: r.s("description"),
        custom: serde_json::from_str(&r.s("custom")).unwrap_or_default(),
    };
    Party {
        entity,
        id: r.s("id"),
        version: r.i("version"),
        name: r.s("name"),
        owner_name: r.s("owner_name"),
        input,
        created_at: r.i("created_at"),
        created_by: r.s("created_by"),
        updated_at: r.i("updated_at"),
        updated_by: r.s("updated_by"),
        deleted_at: r.oi("deleted_at"),
        owner_team: r.os("owner_team"),
    }
}

/// The profile as JSON for the audit diff; only the fields that apply to the entity.
pub fn audit_json(entity: Entity, input: &PartyInput) -> serde_json::Value {
    let mut v = serde_json::to_value(input).unwrap_or_default();
    let skip: &[&str] = match entity {
        Entity::Account => {
            &["first_name", "last_name", "middle_name", "job_title", "birthday", "family_status", "income_band"]
        }
        Entity::Contact => &["name", "legal_name", "tax_id", "parent_id", "employees"],
        Entity::Deal | Entity::Product | Entity::Activity => &[],
    };
    if let Some(m) = v.as_object_mut() {
        for k in skip {
            m.remove(*k);
        }
    }
    v
}

pub fn columns(d: &PartyData) -> Vec<(&'static str, Arg)> {
    let i = &d.input;
    let js = |v: &dyn erased::Ser| Arg::from(v.json());
    vec![
        ("name", d.name.clone().into()),
        ("name_key", d.name_key.clone().into()),
        ("legal_name", i.legal_name.clone().into()),
        ("tax_id", i.tax_id.clone().into()),
        ("parent_id", i.parent_id.clone().into()),
        ("employees", i.employees.into()),
        ("first_name", i.first_name.clone().into()),
        ("last_name", i.last_name.clone().into()),
        ("middle_name", i.middle_name.clone().into()),
        ("job_title", i.job_title.clone().into()),
        ("birthday", i.birthday.clone().into()),
        ("family_status", i.family_status.clone().into()),
        ("income_band", i.income_band.clone().into()),
        ("owner_id", i.owner_id.clone().into()),
        ("relationship", i.relationship.clone().into()),
        ("source", i.source.clone().into()),
        ("first_contact", i.first_contact.clone().into()),
        ("industry", i.industry.clone().into()),
        ("region", i.region.clone().into()),
        ("segment", i.segment.clone().into()),
        ("website", i.website.clone().into()),
        ("primary_email", d.primary_email.clone().into()),
        ("primary_phone", d.primary_phone.clone().into()),
        ("city", d.city.clone().into()),
        ("emails", js(&i.emails)),
        ("phones", js(&i.phones)),
        ("messengers", js(&i.messengers)),
        ("addresses", js(&i.addresses)),
        ("important_dates", js(&i.important_dates)),
        ("interests", i.interests.clone().into()),
        ("preferences", i.preferences.clone().into()),
        ("tags", tags_to_db(&i.tags).into()),
        ("do_not_contact", i.do_not_contact.into()),
        ("do_not_email", i.do_not_email.into()),
        ("description", i.description.clone().into()),
        ("search_text", d.search_text.clone().into()),
        ("custom", serde_json::Value::Object(i.custom.clone()).to_string().into()),
    ]
}

mod erased {
    /// Serialises any list to JSON text without a generic at the call site.
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "[]".into())
        }
    }
}

/// Checks a record's custom values against the tenant's fields (the stored values of `id`
/// are the `before` of [`karta_kernel::fields::check_values`]).
async fn custom_values(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    id: Option<&str>,
    raw: &serde_json::Map<String, serde_json::Value>,
) -> Result<karta_kernel::fields::Values> {
    let before = match id {
        Some(id) => {
            let r = db
                .opt(
                    Q::new(format!("SELECT custom FROM {} WHERE tenant_id = $1 AND id = $2", table(entity)))
                        .bind(ctx.tenant_id())
                        .bind(id),
                )
                .await?;
            Some(r.and_then(|r| serde_json::from_str(&r.s("custom")).ok()).unwrap_or_default())
        }
        None => None,
    };
    karta_kernel::fields::check_values(db, ctx, entity, raw, before.as_ref()).await
}

/// Checks references (owner, parent) and ownership rules, then parses the input.
pub async fn check(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    id: Option<&str>,
    mut raw: PartyInput,
    scope: Scope,
) -> Result<PartyData> {
    if raw.owner_id.trim().is_empty() {
        ctx.user_id().clone_into(&mut raw.owner_id);
    }
    let cv = custom_values(db, ctx, entity, id, &std::mem::take(&mut raw.custom)).await?;
    let mut data = match party::parse(entity, raw, ctx.country()) {
        Ok(d) if cv.errors.is_empty() => d,
        Ok(_) => return Err(StoreError::Invalid(cv.errors)),
        Err(mut e) => {
            e.extend(cv.errors);
            return Err(StoreError::Invalid(e));
        }
    };
    data.input.custom = cv.values;
    if !cv.search.is_empty() {
        data.search_text = format!("{} {}", data.search_text, cv.search).trim().to_string();
    }
    let mut errs: Vec<FieldError> = Vec::new();
    let owner = &data.input.owner_id;
    if !ctx.may_assign(db, scope, owner).await? {
        errs.push(FieldError::new("owner_id", "invalid_choice"));
    }
    if entity == Entity::Account && !data.input.parent_id.is_empty() {
        let mut cur = data.input.parent_id.clone();
        for _ in 0..64 {
            if Some(cur.as_str()) == id {
                errs.push(FieldError::new("parent_id", "cycle"));
                break;
            }
            let r = db
                .opt(
                    Q::new("SELECT parent_id FROM accounts WHERE tenant_id = $1 AND id = $2")
                        .bind(ctx.tenant_id())
                        .bind(&cur),
                )
                .await?;
            match r {
                None => {
                    errs.push(FieldError::new("parent_id", "not_found"));
                    break;
                }
                Some(r) if r.s("parent_id").is_empty() => break,
                Some(r) => cur = r.s("parent_id"),
            }
        }
    } else if entity == Entity::Contact {
        data.input.parent_id.clear();
    }
    if errs.is_empty() {
        Ok(data)
    } else {
        Err(StoreError::Invalid(errs))
    }
}

/// Creates a record; the audit event is written in the same transaction.
///
/// # Errors
/// `Forbidden`, `Invalid` with every failing field.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn create(db: &Db, ctx: &Ctx, entity: Entity, raw: PartyInput) -> Result<Party> {
    let scope = ctx.scope(entity, Action::Create)?;
    let data = check(db, ctx, entity, None, raw, scope).await?;
    let id = new_id();
    let now = now_ms();
    let mut q = Q::new("");
    let cols = columns(&data);
    let mut names = vec!["tenant_id", "id", "version", "created_at", "created_by", "updated_at", "updated_by"];
    let mut ps = vec![
        q.arg(ctx.tenant_id()),
        q.arg(&id),
        q.arg(1),
        q.arg(now),
        q.arg(ctx.user_id()),
        q.arg(now),
        q.arg(ctx.user_id()),
    ];
    for (n, a) in cols {
        names.push(n);
        ps.push(q.arg(a));
    }
    q.sql = format!("INSERT INTO {} ({}) VALUES ({})", table(entity), names.join(", "), ps.join(", "));
    let mut tx = db.begin().await?;
    tx.exec(q).await?;
    let changes = audit::diff(&serde_json::json!({}), &audit_json(entity, &data.input));
    audit::record(&mut tx, ctx, entity.as_str(), &id, "create", 1, changes.into()).await?;
    write_dates(&mut tx, ctx, entity, &id, &data.input).await?;
    tx.commit().await?;
    get(db, ctx, entity, &id).await
}

async fn load(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<Option<Party>> {
    let r = db
        .opt(
            Q::new(format!(
                "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team FROM {} t \
                 LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id WHERE t.tenant_id = $1 AND t.id = $2",
                table(entity)
            ))
            .bind(ctx.tenant_id())
            .bind(id),
        )
        .await?;
    Ok(r.map(|r| from_row(entity, &r)))
}

/// Loads a record the caller may `action`, live or (with `trash`) in the trash.
/// Loads a live (or, with `trash`, trashed) record the caller may `action`.
///
/// # Errors
/// `NotFound` outside read scope, `Forbidden` outside the action's scope.
pub async fn load_for(db: &Db, ctx: &Ctx, entity: Entity, id: &str, action: Action, trash: bool) -> Result<Party> {
    let read = ctx.scope(entity, Action::Read)?;
    let p = load(db, ctx, entity, id).await?.ok_or(StoreError::NotFound)?;
    if p.deleted_at.is_some() != trash || !ctx.reaches(read, &p.input.owner_id, p.owner_team.as_deref()) {
        return Err(StoreError::NotFound);
    }
    let scope = ctx.scope(entity, action)?;
    if !ctx.reaches(scope, &p.input.owner_id, p.owner_team.as_deref()) {
        return Err(StoreError::Forbidden);
    }
    Ok(p)
}

/// Keeps a contact's birthday and important dates in `party_dates` (by month-day), which My
/// day reads to offer congratulations.
pub async fn write_dates(
    tx: &mut karta_kernel::db::Tx,
    ctx: &Ctx,
    entity: Entity,
    id: &str,
    input: &PartyInput,
) -> Result<()> {
    if entity != Entity::Contact {
        return Ok(());
    }
    tx.exec(
        Q::new("DELETE FROM party_dates WHERE tenant_id = $1 AND entity = 'contact' AND entity_id = $2")
            .bind(ctx.tenant_id())
            .bind(id),
    )
    .await?;
    let birthday = (!input.birthday.is_empty()).then(|| ("birthday".to_string(), input.birthday.clone()));
    let others = input.important_dates.iter().map(|d| (d.label.clone(), d.date.clone()));
    for (label, date) in birthday.into_iter().chain(others).filter(|(_, d)| d.len() == 10) {
        tx.exec(
            Q::new(
                "INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date) \
                 VALUES ($1, 'contact', $2, $6, $3, $4, $5)",
            )
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(date.get(5..).unwrap_or_default())
            .bind(label)
            .bind(&date)
            .bind(&input.owner_id),
        )
        .await?;
    }
    Ok(())
}

/// A live record the caller may read.
///
/// # Errors
/// `NotFound` when it does not exist, is in the trash, or is outside the caller's scope.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn get(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<Party> {
    load_for(db, ctx, entity, id, Action::Read, false).await
}

/// A record in the trash the caller may restore.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn get_trashed(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<Party> {
    load_for(db, ctx, entity, id, Action::Delete, true).await
}

async fn stale(db: &Db, ctx: &Ctx, entity: Entity, id: &str, since: i64) -> StoreError {
    let current = load(db, ctx, entity, id).await.ok().flatten().map_or(0, |p| p.version);
    match audit::changes_since(db, ctx, entity.as_str(), id, since).await {
        Ok(changes) => StoreError::Stale { current, changes },
        Err(e) => e,
    }
}

/// Updates a record from the version the caller edited; refuses a stale version.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Stale` (with what changed meanwhile).
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn update(db: &Db, ctx: &Ctx, entity: Entity, id: &str, version: i64, raw: PartyInput) -> Result<Party> {
    let before = load_for(db, ctx, entity, id, Action::Update, false).await?;
    if before.version != version {
        return Err(stale(db, ctx, entity, id, version).await);
    }
    let scope = ctx.scope(entity, Action::Update)?;
    let mut raw = raw;
    if raw.owner_id.trim().is_empty() {
        raw.owner_id.clone_from(&before.input.owner_id);
    }
    let data = check(db, ctx, entity, Some(id), raw, scope).await?;
    let changes = audit::diff(&audit_json(entity, &before.input), &audit_json(entity, &data.input));
    if changes.is_empty() {
        return Ok(before);
    }
    let mut q = Q::new("");
    let sets: Vec<String> = columns(&data).into_iter().map(|(n, a)| format!("{n} = {}", q.arg(a))).collect();
    let now = q.arg(now_ms());
    let by = q.arg(ctx.user_id());
    let (t, i, v) = (q.arg(ctx.tenant_id()), q.arg(id), q.arg(version));
    q.sql = format!(
        "UPDATE {} SET {}, version = version + 1, updated_at = {now}, updated_by = {by} \
         WHERE tenant_id = {t} AND id = {i} AND version = {v} AND deleted_at IS NULL",
        table(entity),
        sets.join(", ")
    );
    let mut tx = db.begin().await?;
    if tx.exec(q).await? == 0 {
        drop(tx);
        return Err(stale(db, ctx, entity, id, version).await);
    }
    let renamed = entity == Entity::Account && changes.contains_key("name");
    audit::record(&mut tx, ctx, entity.as_str(), id, "update", version + 1, changes.into()).await?;
    write_dates(&mut tx, ctx, entity, id, &data.input).await?;
    if renamed {
        crate::hooks::accounts_renamed(&mut tx, db, ctx, &[id]).await?;
    }
    tx.commit().await?;
    get(db, ctx, entity, id).await
}

async fn set_deleted(tx: &mut Tx, ctx: &Ctx, entity: Entity, p: &Party, deleted: bool) -> Result<()> {
    let now = now_ms();
    let (deleted_at, deleted_by) = if deleted { (Some(now), Some(ctx.user_id().to_string())) } else { (None, None) };
    tx.exec(
        Q::new(format!(
            "UPDATE {} SET deleted_at = $1, deleted_by = $2, version = version + 1, updated_at = $3, updated_by = $4 \
             WHERE tenant_id = $5 AND id = $6",
            table(entity)
        ))
        .bind(deleted_at)
        .bind(deleted_by)
        .bind(now)
        .bind(ctx.user_id())
        .bind(ctx.tenant_id())
        .bind(&p.id),
    )
    .await?;
    let action = if deleted { "delete" } else { "restore" };
    audit::record(tx, ctx, entity.as_str(), &p.id, action, p.version + 1, serde_json::json!({})).await
}

/// Moves a record to the trash; its links, notes and history stay for a restore.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn delete(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<()> {
    let p = load_for(db, ctx, entity, id, Action::Delete, false).await?;
    let mut tx = db.begin().await?;
    set_deleted(&mut tx, ctx, entity, &p, true).await?;
    tx.commit().await?;
    Ok(())
}

/// Brings a record back from the trash exactly as it was.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn restore(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<Party> {
    let p = get_trashed(db, ctx, entity, id).await?;
    let mut tx = db.begin().await?;
    set_deleted(&mut tx, ctx, entity, &p, false).await?;
    tx.commit().await?;
    get(db, ctx, entity, id).await
}

/// Erases a trashed record for good, with its links, notes and field history (an admin act,
/// also the GDPR erasure); leaves one audit event saying it was purged.
///
/// # Errors
/// `Forbidden` for non-admins, `NotFound`.
pub async fn purge(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<()> {
    if !ctx.is_admin() {
        return Err(StoreError::Forbidden);
    }
    let p = get_trashed(db, ctx, entity, id).await?;
    let mut tx = db.begin().await?;
    let t = ctx.tenant_id();
    let link_col = if entity == Entity::Account { "account_id" } else { "contact_id" };
    tx.exec(Q::new(format!("DELETE FROM contact_accounts WHERE tenant_id = $1 AND {link_col} = $2")).bind(t).bind(id))
        .await?;
    tx.exec(
        Q::new("DELETE FROM party_dates WHERE tenant_id = $1 AND entity = $2 AND entity_id = $3")
            .bind(t)
            .bind(entity.as_str())
            .bind(id),
    )
    .await?;
    tx.exec(
        Q::new("DELETE FROM notes WHERE tenant_id = $1 AND entity = $2 AND entity_id = $3")
            .bind(t)
            .bind(entity.as_str())
            .bind(id),
    )
    .await?;
    tx.exec(
        Q::new("DELETE FROM audit_log WHERE tenant_id = $1 AND entity = $2 AND entity_id = $3")
            .bind(t)
            .bind(entity.as_str())
            .bind(id),
    )
    .await?;
    if entity == Entity::Account {
        tx.exec(Q::new("UPDATE accounts SET parent_id = '' WHERE tenant_id = $1 AND parent_id = $2").bind(t).bind(id))
            .await?;
    }
    tx.exec(Q::new(format!("DELETE FROM {} WHERE tenant_id = $1 AND id = $2", table(entity))).bind(t).bind(id)).await?;
    audit::record(&mut tx, ctx, entity.as_str(), id, "purge", p.version + 1, serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A page of records.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page {
    /// The records.
    pub items: Vec<Party>,
    /// Cursor of the next page.
    pub next: Option<String>,
}

/// Builds the FROM/WHERE of a list (scope, trash, filters), binding into `q`.
fn list_where(db: &Db, ctx: &Ctx, entity: Entity, lq: &ListQuery, q: &mut Q) -> Result<String> {
    Ok(format!("FROM {} t WHERE {}", table(entity), list_conds(db, ctx, entity, lq, q)?))
}

/// The conditions of a list on alias `t`: tenant, trash, the caller's scope and the filters.
fn list_conds(db: &Db, ctx: &Ctx, entity: Entity, lq: &ListQuery, q: &mut Q) -> Result<String> {
    let scope = ctx.scope(entity, Action::Read)?;
    let t = q.arg(ctx.tenant_id());
    let mut conds = vec![format!("t.tenant_id = {t}")];
    conds.push(if lq.trash { "t.deleted_at IS NOT NULL".into() } else { "t.deleted_at IS NULL".into() });
    let scope_sql = ctx.scope_sql(q, "t", scope);
    if scope_sql != "1=1" {
        conds.push(scope_sql);
    }
    if let Some(w) = listq::where_sql(db, q, entity, lq, ctx.user_id())? {
        conds.push(w);
    }
    Ok(conds.join(" AND "))
}

/// One page of a list: filters, sort and keyset paging, within the caller's scope.
///
/// # Errors
/// `Invalid` for a bad filter, sort or cursor; `Forbidden`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn list(db: &Db, ctx: &Ctx, entity: Entity, lq: &ListQuery) -> Result<Page> {
    let lq = &*karta_kernel::fields::with_defs(db, ctx, entity, lq).await?;
    let sort_name = lq.sort.as_deref().unwrap_or("name");
    let sort = listq::SortBy::of(db, entity, sort_name, lq)?;
    let expr = sort.expr.clone();
    let limit = lq.limit.clamp(1, 500);
    let mut q = Q::new("");
    let from_where = list_where(db, ctx, entity, lq, &mut q)?;
    let keyset = listq::keyset_by(&mut q, &sort, lq)?;
    let dir = if lq.desc { "DESC" } else { "ASC" };
    let lp = q.arg(limit + 1);
    q.sql = format!(
        "SELECT t.*, {expr} AS sort_value, u.display_name AS owner_name, u.team_id AS owner_team FROM ( \
         SELECT t.* {from_where}{keyset} ORDER BY {expr} {dir}, t.id {dir} LIMIT {lp}) t \
         LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id ORDER BY {expr} {dir}, t.id {dir}"
    );
    let rows = db.all(q).await?;
    let (items, next) = listq::page_by(&rows, limit, sort.int, |r| from_row(entity, r));
    Ok(Page { items, next })
}

/// The whole of a list, in its order, as one statement to stream (an export): the list's
/// filters and scope, no paging; no owner name (an export names owners by e-mail). A
/// contact's row carries `company_id`, its primary account (`contacts.account_id`, kept by
/// triggers): the export looks the names up a chunk at a time, which costs less than a join
/// row by row.
///
/// # Errors
/// As [`list`].
pub async fn export_query(db: &Db, ctx: &Ctx, entity: Entity, lq: &ListQuery) -> Result<Q> {
    let lq = &*karta_kernel::fields::with_defs(db, ctx, entity, lq).await?;
    let sort = listq::SortBy::of(db, entity, lq.sort.as_deref().unwrap_or("name"), lq)?;
    let expr = &sort.expr;
    let mut q = Q::new("");
    let conds = list_conds(db, ctx, entity, lq, &mut q)?;
    let dir = if lq.desc { "DESC" } else { "ASC" };
    q.sql = format!(
        "SELECT {} FROM {} t WHERE {conds} ORDER BY {expr} {dir}, t.id {dir}",
        export_cols(entity),
        table(entity)
    );
    Ok(q)
}

/// What an export reads of each record of table alias `t`: only what [`from_row`] reads (an
/// export reads a million rows), and `company_id`.
#[must_use]
pub fn export_cols(entity: Entity) -> String {
    let mut cols = export_exprs(entity);
    if let Some(company) = cols.last_mut() {
        company.push_str(" AS company_id");
    }
    cols.join(", ")
}

/// The expressions [`export_cols`] selects, without their names; the company id is last.
pub fn export_exprs(entity: Entity) -> Vec<String> {
    let company = if entity == Entity::Contact { "t.account_id" } else { "''" };
    RECORD_COLS.iter().map(|c| format!("t.{c}")).chain(std::iter::once(company.to_string())).collect()
}

/// The columns of an account or contact row that [`from_row`] reads, mostly in the order it
/// reads them (on SQLite a column read right after the one before is found without hashing).
const RECORD_COLS: [&str; 39] = [
    "id",
    "version",
    "name",
    "legal_name",
    "tax_id",
    "parent_id",
    "employees",
    "first_name",
    "last_name",
    "middle_name",
    "job_title",
    "birthday",
    "family_status",
    "income_band",
    "emails",
    "phones",
    "messengers",
    "addresses",
    "website",
    "industry",
    "region",
    "segment",
    "relationship",
    "owner_id",
    "source",
    "first_contact",
    "important_dates",
    "interests",
    "preferences",
    "tags",
    "do_not_contact",
    "do_not_email",
    "description",
    "custom",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "deleted_at",
];

/// How many records match a list, counting at most `cap` (big tables show "cap+").
///
/// # Errors
/// As [`list`].
pub async fn count(db: &Db, ctx: &Ctx, entity: Entity, lq: &ListQuery, cap: i64) -> Result<(i64, bool)> {
    let lq = &*karta_kernel::fields::with_defs(db, ctx, entity, lq).await?;
    let mut q = Q::new("");
    let from_where = list_where(db, ctx, entity, lq, &mut q)?;
    let c = q.arg(cap + 1);
    q.sql = format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one {from_where} LIMIT {c}) x");
    let n = db.opt(q).await?.map_or(0, |r| r.i("n"));
    Ok((n.min(cap), n <= cap))
}

/// A bulk action on selected records.
#[derive(Debug, Clone)]
pub enum Bulk {
    /// Give the records to another owner.
    AssignOwner(String),
    /// Add a tag.
    AddTag(String),
    /// Move to the trash.
    Delete,
    /// Set one field (see [`crate::mass::PARTY_FIELDS`]) to a value.
    SetField(String, String),
}

/// Applies a bulk action to each selected record the caller may change; returns how many
/// changed. Each record is checked and audited as if edited one by one.
///
/// # Errors
/// `Invalid` for a bad owner or tag; database errors.
pub async fn bulk(db: &Db, ctx: &Ctx, entity: Entity, ids: &[String], action: &Bulk) -> Result<usize> {
    if ids.len() > 1000 {
        return Err(StoreError::field("ids", "too_long"));
    }
    if let Bulk::SetField(field, value) = action {
        return crate::mass::set_parties(db, ctx, entity, ids, field, value).await.map(|r| r.changed);
    }
    let mut n = 0;
    for id in ids {
        let r = match action {
            Bulk::SetField(..) => continue,
            Bulk::Delete => delete(db, ctx, entity, id).await,
            Bulk::AssignOwner(owner) | Bulk::AddTag(owner) => {
                let p = match get(db, ctx, entity, id).await {
                    Ok(p) => p,
                    Err(StoreError::NotFound) => continue,
                    Err(e) => return Err(e),
                };
                let mut input = p.input.clone();
                if matches!(action, Bulk::AssignOwner(_)) {
                    input.owner_id.clone_from(owner);
                } else {
                    input.tags.push(owner.clone());
                }
                update(db, ctx, entity, id, p.version, input).await.map(|_| ())
            }
        };
        match r {
            Ok(()) => n += 1,
            Err(StoreError::NotFound | StoreError::Forbidden) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
