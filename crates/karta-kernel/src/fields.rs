//! Custom field definitions per tenant and entity (accounts, contacts, deals), the check of a
//! record's custom values against them, and the SQL that filters and sorts by them.
//!
//! Everyone may read definitions; only admins add, change, reorder or deactivate them. A change
//! of kind (or of a select's options) that would leave some stored value unreadable is refused
//! with the number of such values ([`Saved::WouldLose`]); otherwise every stored value is
//! converted in the same transaction.

use crate::audit;
use crate::ctx::Ctx;
use crate::db::{Db, Engine, Row, Q};
use crate::error::{Result, StoreError};
use crate::listq::{Filter, ListQuery, Op};
use karta_core::custom::{self, FieldDef, FieldKind};
use karta_core::text::{ci_regex, digits};
use karta_core::{new_id, now_ms, Entity, FieldError, IsoDate, Money};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// The entities that take custom fields.
/// The entities that take custom fields (registered by their contexts,
/// [`crate::entities`]).
#[must_use]
pub fn entities() -> Vec<Entity> {
    crate::entities::customizable()
}

/// Most fields one entity may have.
const MAX_FIELDS: i64 = 200;

fn table(entity: Entity) -> &'static str {
    entity.table()
}

fn from_row(r: &Row) -> FieldDef {
    FieldDef {
        id: r.s("id"),
        entity: Entity::parse(&r.s("entity")).unwrap_or(Entity::Contact),
        key: r.s("key"),
        kind: FieldKind::parse(&r.s("kind")).unwrap_or(FieldKind::Text),
        label_en: r.s("label_en"),
        label_ru: r.s("label_ru"),
        help: r.s("help"),
        required: r.i("required") != 0,
        default_value: r.s("default_value"),
        options: serde_json::from_str(&r.s("options")).unwrap_or_default(),
        target: Entity::parse(&r.s("target")),
        position: r.i("position"),
        active: r.i("active") != 0,
        version: r.i("version"),
    }
}

/// The fields of `entity`, in form order; inactive ones too with `include_inactive`.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn list(db: &Db, ctx: &Ctx, entity: Entity, include_inactive: bool) -> Result<Vec<FieldDef>> {
    let active = if include_inactive { "" } else { " AND active = 1" };
    let rows = db
        .all(
            Q::new(format!(
                "SELECT * FROM custom_fields WHERE tenant_id = $1 AND entity = $2{active} ORDER BY position, key"
            ))
            .bind(ctx.tenant_id())
            .bind(entity.as_str()),
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The fields of every entity (contacts, accounts, deals), each in form order.
///
/// # Errors
/// Database errors.
pub async fn list_all(db: &Db, ctx: &Ctx, include_inactive: bool) -> Result<Vec<FieldDef>> {
    let mut out = Vec::new();
    for e in entities() {
        out.extend(list(db, ctx, e, include_inactive).await?);
    }
    Ok(out)
}

/// One definition of the caller's tenant.
///
/// # Errors
/// `NotFound`.
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<FieldDef> {
    let r = db
        .opt(Q::new("SELECT * FROM custom_fields WHERE tenant_id = $1 AND id = $2").bind(ctx.tenant_id()).bind(id))
        .await?;
    r.map(|r| from_row(&r)).ok_or(StoreError::NotFound)
}

/// A new field as entered in the admin form or the API.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FieldInput {
    /// `contact`, `account` or `deal`.
    pub entity: String,
    /// One of the kinds (`text`, `long_text`, `number`, `money`, `date`, `date_time`, `bool`,
    /// `select`, `multi_select`, `url`, `email`, `phone`, `user`, `link`).
    pub kind: String,
    /// The key (optional: made from the English label, else the Russian one).
    pub key: String,
    /// English label.
    pub label_en: String,
    /// Russian label.
    pub label_ru: String,
    /// Help text.
    pub help: String,
    /// A value must be given.
    pub required: bool,
    /// Default value for new records, in the text form of the kind.
    pub default_value: String,
    /// Options (select, multi select; for money the first may be the default currency).
    pub options: Vec<String>,
    /// Link target: `account`, `contact` or `deal`.
    pub target: String,
}

/// Changes to a field; absent members stay as they are.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FieldPatch {
    /// English label.
    pub label_en: Option<String>,
    /// Russian label.
    pub label_ru: Option<String>,
    /// Help text.
    pub help: Option<String>,
    /// Required.
    pub required: Option<bool>,
    /// Default value.
    pub default_value: Option<String>,
    /// Options.
    pub options: Option<Vec<String>>,
    /// A new kind; refused when stored values would be lost.
    pub kind: Option<String>,
    /// Link target.
    pub target: Option<String>,
    /// Shown in forms.
    pub active: Option<bool>,
    /// Order.
    pub position: Option<i64>,
}

/// The outcome of a change to a field.
#[derive(Debug, Clone)]
#[must_use]
pub enum Saved {
    /// Saved.
    Done(FieldDef),
    /// Refused: this many stored values would not survive the new kind or options.
    WouldLose {
        /// How many records hold a value that would be lost.
        affected: i64,
    },
}

fn admin(ctx: &Ctx) -> Result<()> {
    if ctx.is_admin() {
        Ok(())
    } else {
        Err(StoreError::Forbidden)
    }
}

fn limit(field: &str, s: &str, max: usize, errs: &mut Vec<FieldError>) -> String {
    let s = s.trim().to_string();
    if s.chars().count() > max {
        errs.push(FieldError::new(field, "too_long"));
    }
    s
}

/// Checks a definition as a whole (labels, options, target, default).
fn validate(d: &mut FieldDef, country: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    d.label_en = limit("label_en", &d.label_en, 100, &mut errs);
    d.label_ru = limit("label_ru", &d.label_ru, 100, &mut errs);
    d.help = limit("help", &d.help, 500, &mut errs);
    if d.label_en.is_empty() && d.label_ru.is_empty() {
        errs.push(FieldError::new("label_en", "required"));
    }
    let mut opts: Vec<String> = Vec::new();
    for o in &d.options {
        let o = o.trim().to_string();
        if o.is_empty() {
            continue;
        }
        if o.chars().count() > 200 || o.contains([';', '|', '\n']) {
            errs.push(FieldError::new("options", "invalid_value"));
        } else if opts.iter().any(|x| x.to_lowercase() == o.to_lowercase()) {
            errs.push(FieldError::new("options", "duplicate"));
        } else {
            opts.push(o);
        }
    }
    if opts.len() > 500 {
        errs.push(FieldError::new("options", "too_long"));
    }
    d.options = opts;
    if d.kind.has_options() && d.options.is_empty() {
        errs.push(FieldError::new("options", "required"));
    }
    if d.kind == FieldKind::Money {
        d.options.truncate(1);
        if let Some(c) = d.options.first() {
            match karta_core::Currency::parse(c, "options") {
                Ok(c) => d.options = vec![c.code().to_string()],
                Err(e) => errs.push(e),
            }
        }
    } else if !d.kind.has_options() {
        d.options.clear();
    }
    if d.kind == FieldKind::Link {
        if !d.target.is_some_and(|t| entities().contains(&t)) {
            errs.push(FieldError::new("target", "required"));
        }
    } else {
        d.target = None;
    }
    d.default_value = d.default_value.trim().to_string();
    if !d.default_value.is_empty() {
        match d.parse_text(&d.default_value, country) {
            Ok(v) => d.default_value = d.text(&v),
            Err(_) => errs.push(FieldError::new("default_value", "invalid_value")),
        }
    }
    errs
}

fn parse_target(s: &str) -> Option<Entity> {
    Entity::parse(s.trim()).filter(|e| entities().contains(e))
}

/// Adds a field (admins only); the key is made from the English label and kept unique.
///
/// # Errors
/// `Forbidden`, `Invalid` (labels, kind, options, target, default), `Conflict("key")` for an
/// explicit key already in use.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn create(db: &Db, ctx: &Ctx, input: &FieldInput) -> Result<FieldDef> {
    admin(ctx)?;
    let mut errs = Vec::new();
    let entity = parse_target(&input.entity);
    if entity.is_none() {
        errs.push(FieldError::new("entity", "invalid_choice"));
    }
    let kind = FieldKind::parse(&input.kind);
    if kind.is_none() {
        errs.push(FieldError::new("kind", "invalid_choice"));
    }
    let explicit = input.key.trim().to_ascii_lowercase();
    if !explicit.is_empty() && !custom::valid_key(&explicit) {
        errs.push(FieldError::new("key", "invalid_value"));
    }
    let (Some(entity), Some(kind)) = (entity, kind) else { return Err(StoreError::Invalid(errs)) };
    let mut d = FieldDef {
        id: new_id(),
        entity,
        key: String::new(),
        kind,
        label_en: input.label_en.clone(),
        label_ru: input.label_ru.clone(),
        help: input.help.clone(),
        required: input.required,
        default_value: input.default_value.clone(),
        options: input.options.clone(),
        target: parse_target(&input.target),
        position: 0,
        active: true,
        version: 1,
    };
    errs.extend(validate(&mut d, ctx.country()));
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let existing = list(db, ctx, entity, true).await?;
    if existing.len() as i64 >= MAX_FIELDS {
        return Err(StoreError::field("entity", "too_long"));
    }
    let taken = |k: &str| existing.iter().any(|f| f.key == k);
    d.key = if explicit.is_empty() {
        let base = custom::key_from_label(if d.label_en.is_empty() { &d.label_ru } else { &d.label_en });
        let base: String = base.chars().take(36).collect();
        let mut k = base.clone();
        let mut n = 2;
        while taken(&k) {
            k = format!("{base}_{n}");
            n += 1;
        }
        k
    } else if taken(&explicit) {
        return Err(StoreError::Conflict("key".into()));
    } else {
        explicit
    };
    d.position = existing.iter().map(|f| f.position + 1).max().unwrap_or(0);
    let now = now_ms();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO custom_fields (tenant_id, id, entity, key, kind, label_en, label_ru, help, required, \
             default_value, options, target, position, active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, 1, $14, $14)",
        )
        .bind(ctx.tenant_id())
        .bind(&d.id)
        .bind(entity.as_str())
        .bind(&d.key)
        .bind(kind.as_str())
        .bind(&d.label_en)
        .bind(&d.label_ru)
        .bind(&d.help)
        .bind(d.required)
        .bind(&d.default_value)
        .bind(serde_json::to_string(&d.options).unwrap_or_else(|_| "[]".into()))
        .bind(d.target.map(Entity::as_str).unwrap_or_default())
        .bind(d.position)
        .bind(now),
    )
    .await?;
    let changes = audit::diff(&json!({}), &audit_json(&d));
    audit::record(&mut tx, ctx, "custom_field", &d.id, "create", 1, changes.into()).await?;
    tx.commit().await?;
    get(db, ctx, &d.id).await
}

fn audit_json(d: &FieldDef) -> Value {
    json!({
        "entity": d.entity.as_str(), "key": d.key, "kind": d.kind.as_str(), "label_en": d.label_en,
        "label_ru": d.label_ru, "help": d.help, "required": d.required, "default_value": d.default_value,
        "options": d.options, "target": d.target.map(Entity::as_str), "position": d.position, "active": d.active,
    })
}

/// The SQL condition "the record has a value for `key`" on alias `t`.
fn has_value(db: &Db, key: &str) -> String {
    match db.engine() {
        Engine::Sqlite => format!("json_type(t.custom, '$.{key}') IS NOT NULL"),
        Engine::Postgres => format!("(t.custom::jsonb -> '{key}') IS NOT NULL"),
    }
}

/// The records holding a value of `d` (every record of the tenant, trash included), with the
/// value converted to `kind`/`options` (`None`: it would be lost).
async fn conversions(
    db: &Db,
    ctx: &Ctx,
    d: &FieldDef,
    kind: FieldKind,
    options: &[String],
) -> Result<Vec<(String, Map<String, Value>, Option<Value>)>> {
    if !custom::valid_key(&d.key) {
        return Ok(Vec::new());
    }
    let rows = db
        .all(
            Q::new(format!(
                "SELECT t.id, t.custom FROM {} t WHERE t.tenant_id = $1 AND {}",
                table(d.entity),
                has_value(db, &d.key)
            ))
            .bind(ctx.tenant_id()),
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let map: Map<String, Value> = serde_json::from_str(&r.s("custom")).unwrap_or_default();
        let Some(v) = map.get(&d.key).filter(|v| !v.is_null()) else { continue };
        let converted = d.convert(v, kind, options, ctx.country());
        out.push((r.s("id"), map, converted));
    }
    Ok(out)
}

/// How many stored values of a field would be lost by changing it to `kind` with `options`.
///
/// # Errors
/// `NotFound`, database errors.
pub async fn would_lose(db: &Db, ctx: &Ctx, id: &str, kind: FieldKind, options: &[String]) -> Result<i64> {
    let d = get(db, ctx, id).await?;
    let conv = conversions(db, ctx, &d, kind, options).await?;
    Ok(conv.iter().filter(|(_, _, c)| c.is_none()).count() as i64)
}

/// Changes a field from the version the caller edited (admins only): labels, help, required,
/// default, options, kind, target, active, position. A new kind or new options that some
/// stored value does not fit are refused with the count ([`Saved::WouldLose`]); otherwise the
/// stored values are converted.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`, `Stale`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn update(db: &Db, ctx: &Ctx, id: &str, version: i64, patch: &FieldPatch) -> Result<Saved> {
    admin(ctx)?;
    let before = get(db, ctx, id).await?;
    if before.version != version {
        return Err(StoreError::Stale { current: before.version, changes: Vec::new() });
    }
    let mut d = before.clone();
    let mut errs = Vec::new();
    if let Some(k) = &patch.kind {
        match FieldKind::parse(k) {
            Some(k) => d.kind = k,
            None => errs.push(FieldError::new("kind", "invalid_choice")),
        }
    }
    if let Some(v) = &patch.label_en {
        d.label_en.clone_from(v);
    }
    if let Some(v) = &patch.label_ru {
        d.label_ru.clone_from(v);
    }
    if let Some(v) = &patch.help {
        d.help.clone_from(v);
    }
    if let Some(v) = patch.required {
        d.required = v;
    }
    if let Some(v) = &patch.default_value {
        d.default_value.clone_from(v);
    }
    if let Some(v) = &patch.options {
        d.options.clone_from(v);
    }
    if let Some(v) = &patch.target {
        d.target = parse_target(v);
    }
    if let Some(v) = patch.active {
        d.active = v;
    }
    if let Some(v) = patch.position {
        d.position = v.clamp(0, 100_000);
    }
    errs.extend(validate(&mut d, ctx.country()));
    if d.kind == FieldKind::Link && before.kind == FieldKind::Link && d.target != before.target {
        // Stored ids point at records of the old target.
        let n = conversions(db, ctx, &before, d.kind, &d.options).await?.len() as i64;
        if n > 0 {
            return Ok(Saved::WouldLose { affected: n });
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let changes = audit::diff(&audit_json(&before), &audit_json(&d));
    if changes.is_empty() {
        return Ok(Saved::Done(before));
    }
    let reshaped = d.kind != before.kind || d.options != before.options;
    let mut rewrites = Vec::new();
    if reshaped {
        let conv = conversions(db, ctx, &before, d.kind, &d.options).await?;
        let lost = conv.iter().filter(|(_, _, c)| c.is_none()).count() as i64;
        if lost > 0 {
            return Ok(Saved::WouldLose { affected: lost });
        }
        for (rid, mut map, c) in conv {
            let Some(c) = c else { continue };
            if map.get(&d.key) != Some(&c) {
                map.insert(d.key.clone(), c);
                rewrites.push((rid, Value::Object(map).to_string()));
            }
        }
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    let n = tx
        .exec(
            Q::new(
                "UPDATE custom_fields SET kind = $1, label_en = $2, label_ru = $3, help = $4, required = $5, \
                 default_value = $6, options = $7, target = $8, position = $9, active = $10, version = version + 1, \
                 updated_at = $11 WHERE tenant_id = $12 AND id = $13 AND version = $14",
            )
            .bind(d.kind.as_str())
            .bind(&d.label_en)
            .bind(&d.label_ru)
            .bind(&d.help)
            .bind(d.required)
            .bind(&d.default_value)
            .bind(serde_json::to_string(&d.options).unwrap_or_else(|_| "[]".into()))
            .bind(d.target.map(Entity::as_str).unwrap_or_default())
            .bind(d.position)
            .bind(d.active)
            .bind(now)
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(version),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Stale { current: version + 1, changes: Vec::new() });
    }
    for (rid, text) in &rewrites {
        tx.exec(
            Q::new(format!("UPDATE {} SET custom = $1 WHERE tenant_id = $2 AND id = $3", table(d.entity)))
                .bind(text)
                .bind(ctx.tenant_id())
                .bind(rid),
        )
        .await?;
    }
    let mut changes = changes;
    if !rewrites.is_empty() {
        changes.insert("converted_values".into(), json!({"from": 0, "to": rewrites.len()}));
    }
    audit::record(&mut tx, ctx, "custom_field", id, "update", version + 1, changes.into()).await?;
    tx.commit().await?;
    Ok(Saved::Done(get(db, ctx, id).await?))
}

/// Moves a field one place up (`up`) or down among its entity's fields (admins only).
///
/// # Errors
/// `Forbidden`, `NotFound`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn move_field(db: &Db, ctx: &Ctx, id: &str, up: bool) -> Result<()> {
    admin(ctx)?;
    let d = get(db, ctx, id).await?;
    let mut all = list(db, ctx, d.entity, true).await?;
    let Some(i) = all.iter().position(|f| f.id == id) else { return Err(StoreError::NotFound) };
    let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < all.len()) };
    let Some(j) = j else { return Ok(()) };
    all.swap(i, j);
    let mut tx = db.begin().await?;
    for (pos, f) in all.iter().enumerate() {
        let pos = pos as i64;
        if f.position != pos {
            tx.exec(
                Q::new(
                    "UPDATE custom_fields SET position = $1, version = version + 1, updated_at = $2 \
                     WHERE tenant_id = $3 AND id = $4",
                )
                .bind(pos)
                .bind(now_ms())
                .bind(ctx.tenant_id())
                .bind(&f.id),
            )
            .await?;
        }
    }
    let changes = json!({"position": {"from": d.position, "to": j}});
    audit::record(&mut tx, ctx, "custom_field", id, "update", d.version + 1, changes).await?;
    tx.commit().await?;
    Ok(())
}

/// A record's checked custom values.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// The normalised map to store.
    pub values: Map<String, Value>,
    /// Words for the record's search text.
    pub search: String,
    /// Problems, each named `custom.<key>`.
    pub errors: Vec<FieldError>,
}

/// Checks a record's raw custom values against the tenant's fields of `entity` (the one check
/// the UI, the API and import share). `before` is the stored map on update (`None` on create:
/// defaults apply); values of inactive fields missing from `raw` are kept from `before`.
/// User values must name an active user of the tenant (an id, or an e-mail that is turned into
/// the id); link values a record of the target the caller can see. Both are checked only when
/// they change.
///
/// # Errors
/// Database errors (field problems are in [`Values::errors`]).
pub async fn check_values(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    raw: &Map<String, Value>,
    before: Option<&Map<String, Value>>,
) -> Result<Values> {
    let defs = list(db, ctx, entity, true).await?;
    if defs.is_empty() && raw.is_empty() {
        return Ok(Values::default());
    }
    let mut raw = raw.clone();
    if let Some(b) = before {
        for d in defs.iter().filter(|d| !d.active) {
            if let (false, Some(v)) = (raw.contains_key(&d.key), b.get(&d.key)) {
                raw.insert(d.key.clone(), v.clone());
            }
        }
    }
    // A link may be typed as the linked record's name: it becomes the record's id here,
    // before the values are checked; a name that finds nothing is "not found".
    let mut errors = Vec::new();
    for d in defs.iter().filter(|d| d.active && d.kind == FieldKind::Link) {
        let Some(v) = raw.get(&d.key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let kept = before.and_then(|b| b.get(&d.key)).and_then(Value::as_str);
        if kept == Some(v) {
            continue;
        }
        match link_target(db, ctx, d.target.unwrap_or(Entity::Account), v, kept).await? {
            Some(id) => {
                raw.insert(d.key.clone(), Value::from(id));
            }
            None => {
                errors.push(FieldError::new(d.field_name(), "not_found"));
                raw.remove(&d.key);
            }
        }
    }
    let mut values = match custom::check(&defs, &raw, before.is_none(), ctx.country()) {
        Ok(m) if errors.is_empty() => m,
        Ok(_) => return Ok(Values { errors, ..Values::default() }),
        Err(more) => {
            errors.extend(more);
            return Ok(Values { errors, ..Values::default() });
        }
    };
    for d in defs.iter().filter(|d| d.active && d.kind == FieldKind::User) {
        let Some(v) = values.get(&d.key).and_then(Value::as_str).map(str::to_string) else { continue };
        if before.and_then(|b| b.get(&d.key)).and_then(Value::as_str) == Some(v.as_str()) {
            continue;
        }
        let found = db
            .opt(
                Q::new(
                    "SELECT id FROM users WHERE tenant_id = $1 AND disabled = 0 AND (id = $2 OR lower(email) = $3) \
                     ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END",
                )
                .bind(ctx.tenant_id())
                .bind(&v)
                .bind(v.to_lowercase()),
            )
            .await?
            .map(|r| r.s("id"));
        match found {
            Some(id) => {
                values.insert(d.key.clone(), Value::from(id));
            }
            None => errors.push(FieldError::new(d.field_name(), "not_found")),
        }
    }
    let search = custom::search_text(&defs, &values);
    Ok(Values { values, search, errors })
}

/// The search words of stored custom values of `entity` (textual fields only).
///
/// # Errors
/// Database errors.
pub async fn search_words(db: &Db, ctx: &Ctx, entity: Entity, values: &Map<String, Value>) -> Result<String> {
    if values.is_empty() {
        return Ok(String::new());
    }
    Ok(custom::search_text(&list(db, ctx, entity, true).await?, values))
}

/// True when the caller can see a live record `id` of `target`.
async fn linked(db: &Db, ctx: &Ctx, target: Entity, id: &str) -> Result<bool> {
    // The same rule as every read of the target: its tenant, live, within the caller's scope.
    match readable_q(ctx, target, [id]) {
        Some(q) => Ok(db.opt(q).await?.is_some()),
        None => Ok(false),
    }
}

/// The query for the records of `target` among `ids` that the caller may read: their `id`
/// and `name` (a deal's title). `None` when there is nothing to ask or no read right.
pub fn readable_q<'a>(ctx: &Ctx, target: Entity, ids: impl IntoIterator<Item = &'a str>) -> Option<Q> {
    let scope = ctx.scope(target, karta_core::Action::Read).ok()?;
    let info = crate::entities::info(target).filter(|i| i.customizable)?;
    let (table, col) = (info.table, info.name_col);
    let mut q = Q::new("");
    let tp = q.arg(ctx.tenant_id());
    let list = ids.into_iter().map(|i| q.arg(i)).collect::<Vec<_>>().join(", ");
    if list.is_empty() {
        return None;
    }
    let sc = ctx.scope_sql(&mut q, "t", scope);
    q.sql = format!(
        "SELECT t.id, t.{col} AS name FROM {table} t WHERE t.tenant_id = {tp} AND t.id IN ({list}) \
         AND t.deleted_at IS NULL AND {sc}"
    );
    Some(q)
}

/// The names of linked records (accounts and contacts by name, deals by title) that the
/// caller may read, by id: what link fields show instead of ids. One query per target.
///
/// # Errors
/// Database errors.
pub async fn link_names(
    db: &Db,
    ctx: &Ctx,
    defs: &[FieldDef],
    values: &[&Map<String, Value>],
) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for target in [Entity::Account, Entity::Contact, Entity::Deal] {
        let ids: std::collections::BTreeSet<&str> = defs
            .iter()
            .filter(|d| d.kind == FieldKind::Link && d.target == Some(target))
            .flat_map(|d| values.iter().filter_map(|m| m.get(&d.key).and_then(Value::as_str)))
            .filter(|id| !id.is_empty())
            .collect();
        if let Some(q) = readable_q(ctx, target, ids) {
            out.extend(db.all(q).await?.iter().map(|r| (r.s("id"), r.s("name"))));
        }
    }
    Ok(out)
}

/// The record a typed link value names: its id, or its name ([`crate::search::by_name`]);
/// among records of the same name the stored one (`kept`) stays, so a form that shows names
/// saves back what it showed.
async fn link_target(db: &Db, ctx: &Ctx, target: Entity, v: &str, kept: Option<&str>) -> Result<Option<String>> {
    if linked(db, ctx, target, v).await? {
        return Ok(Some(v.to_string()));
    }
    crate::search::by_name(db, ctx, target, v, kept).await
}

/// True when a list query filters or sorts by a custom field (`cf.<key>`).
#[must_use]
pub fn uses_custom(lq: &ListQuery) -> bool {
    lq.sort.as_deref().is_some_and(|s| s.starts_with("cf."))
        || crate::listq::all_filters(lq).any(|f| f.field.starts_with("cf."))
}

/// The list query with the tenant's fields of `entity` filled in when it filters or sorts by
/// a custom field (no query otherwise).
///
/// # Errors
/// Database errors.
pub async fn with_defs<'a>(db: &Db, ctx: &Ctx, entity: Entity, lq: &'a ListQuery) -> Result<Cow<'a, ListQuery>> {
    if !uses_custom(lq) || !lq.custom.is_empty() {
        return Ok(Cow::Borrowed(lq));
    }
    let mut lq = lq.clone();
    lq.custom = list(db, ctx, entity, true).await?;
    Ok(Cow::Owned(lq))
}

/// The definition a `cf.<key>` name refers to.
#[must_use]
pub fn lookup<'a>(defs: &'a [FieldDef], name: &str) -> Option<&'a FieldDef> {
    let key = name.strip_prefix("cf.")?;
    defs.iter().find(|d| d.key == key && custom::valid_key(key))
}

/// The SQL of a custom value on alias `t`: `sub` is an inner member (`minor` for money).
/// Keys are checked by [`custom::valid_key`], so they are safe inside the SQL text.
fn value_sql(db: &Db, key: &str, sub: Option<&str>) -> String {
    match (db.engine(), sub) {
        (Engine::Sqlite, None) => format!("json_extract(t.custom, '$.{key}')"),
        (Engine::Sqlite, Some(s)) => format!("json_extract(t.custom, '$.{key}.{s}')"),
        (Engine::Postgres, None) => format!("(t.custom::jsonb ->> '{key}')"),
        (Engine::Postgres, Some(s)) => format!("(t.custom::jsonb -> '{key}' ->> '{s}')"),
    }
}

/// The numeric SQL of a number field (rounded to thousandths as an integer, for exact keyset
/// paging) or the minor units of a money field; NULL when empty.
fn number_sql(db: &Db, d: &FieldDef) -> String {
    let k = &d.key;
    match (db.engine(), d.kind) {
        (Engine::Sqlite, FieldKind::Money) => format!("CAST({} AS INTEGER)", value_sql(db, k, Some("minor"))),
        (Engine::Sqlite, _) => format!("CAST(ROUND({} * 1000) AS INTEGER)", value_sql(db, k, None)),
        (Engine::Postgres, FieldKind::Money) => format!(
            "(CASE WHEN jsonb_typeof(t.custom::jsonb -> '{k}' -> 'minor') = 'number' THEN {}::bigint END)",
            value_sql(db, k, Some("minor"))
        ),
        (Engine::Postgres, _) => format!(
            "(CASE WHEN jsonb_typeof(t.custom::jsonb -> '{k}') = 'number' THEN ROUND({}::numeric * 1000)::bigint END)",
            value_sql(db, k, None)
        ),
    }
}

/// The SQL of a yes/no field as 1 / 0, NULL when empty.
fn bool_sql(db: &Db, key: &str) -> String {
    match db.engine() {
        Engine::Sqlite => value_sql(db, key, None),
        Engine::Postgres => {
            format!("(CASE {} WHEN 'true' THEN 1::bigint WHEN 'false' THEN 0::bigint END)", value_sql(db, key, None))
        }
    }
}

/// The sort value smaller than any number stored.
const NO_NUMBER: i64 = -9_000_000_000_000_000_000;

/// How a list sorts by a custom field: a never-NULL SQL expression, and whether it is an
/// integer (else text) for the keyset cursor.
#[must_use]
pub fn sort_sql(db: &Db, d: &FieldDef) -> (String, bool) {
    match d.kind {
        FieldKind::Number | FieldKind::Money => (format!("COALESCE({}, {NO_NUMBER})", number_sql(db, d)), true),
        FieldKind::Bool => (format!("COALESCE({}, -1)", bool_sql(db, &d.key)), true),
        FieldKind::MultiSelect => {
            let v = match db.engine() {
                Engine::Sqlite => value_sql(db, &d.key, None),
                Engine::Postgres => format!("(t.custom::jsonb -> '{}')::text", d.key),
            };
            (format!("COALESCE({v}, '')"), false)
        }
        _ => (format!("COALESCE({}, '')", value_sql(db, &d.key, None)), false),
    }
}

fn bad() -> StoreError {
    StoreError::field("filter", "invalid_value")
}

fn cmp(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Gte => ">=",
        _ => "<=",
    }
}

/// The SQL condition of a filter on a custom field (`cf.<key>:op:value`), binding into `q`.
///
/// # Errors
/// `Invalid` naming `filter` for an unknown field, an operator the kind does not support, or a
/// value that does not parse as the kind.
pub fn condition(db: &Db, q: &mut Q, defs: &[FieldDef], flt: &Filter) -> Result<String> {
    let d = lookup(defs, &flt.field).ok_or_else(bad)?;
    let v = flt.value.trim();
    let re = db.regex_op();
    let raw = value_sql(db, &d.key, None);
    let present = has_value(db, &d.key);
    let parse = |s: &str| match d.parse_text(s, "RU") {
        Ok(Value::Null) | Err(_) => Err(bad()),
        Ok(x) => Ok(x),
    };
    Ok(match (d.kind, flt.op) {
        (_, Op::Empty) => format!("NOT ({present})"),
        (_, Op::NotEmpty) => present,
        (FieldKind::Number | FieldKind::Money, Op::Eq | Op::Ne | Op::Gte | Op::Lte) => {
            let n = match (d.kind, parse(v)?) {
                (FieldKind::Money, Value::Object(m)) => m.get("minor").and_then(Value::as_i64).ok_or_else(bad)?,
                (_, x) => {
                    let f = x.as_f64().ok_or_else(bad)?;
                    #[allow(clippy::cast_possible_truncation)]
                    let n = (f * 1000.0).round() as i64;
                    n
                }
            };
            format!("{} {} {}", number_sql(db, d), cmp(flt.op), q.arg(n))
        }
        (FieldKind::Bool, Op::Eq | Op::Ne) => {
            let b = parse_bool(v).ok_or_else(bad)?;
            let want = i64::from(b == (flt.op == Op::Eq));
            format!("COALESCE({}, 0) = {}", bool_sql(db, &d.key), q.arg(want))
        }
        (FieldKind::Date | FieldKind::DateTime, Op::Eq | Op::Ne | Op::Gte | Op::Lte) => {
            let (lo, hi) = match IsoDate::parse(v, "filter") {
                Ok(day) if d.kind == FieldKind::DateTime => {
                    (format!("{}T00:00", day.as_str()), format!("{}T23:59", day.as_str()))
                }
                Ok(day) => (day.as_str().to_string(), day.as_str().to_string()),
                Err(_) => {
                    let x = parse(v)?;
                    let s = x.as_str().unwrap_or_default().to_string();
                    (s.clone(), s)
                }
            };
            match flt.op {
                Op::Eq => format!("{raw} >= {} AND {raw} <= {}", q.arg(lo), q.arg(hi)),
                Op::Ne => format!("NOT ({raw} >= {} AND {raw} <= {})", q.arg(lo), q.arg(hi)),
                Op::Gte => format!("{raw} >= {}", q.arg(lo)),
                _ => format!("{raw} <= {}", q.arg(hi)),
            }
        }
        (FieldKind::MultiSelect, Op::Eq | Op::Ne | Op::Contains | Op::In) => {
            let wanted: Vec<String> = v
                .split(if flt.op == Op::In { ',' } else { '\u{0}' })
                .filter_map(|s| parse(s).ok())
                .filter_map(|x| x.as_array().and_then(|a| a.first()).and_then(Value::as_str).map(str::to_string))
                .collect();
            if wanted.is_empty() {
                return Err(bad());
            }
            let parts: Vec<String> = wanted
                .into_iter()
                .map(|w| match db.engine() {
                    Engine::Sqlite => format!(
                        "EXISTS (SELECT 1 FROM json_each(t.custom, '$.{}') j WHERE j.value = {})",
                        d.key,
                        q.arg(w)
                    ),
                    Engine::Postgres => {
                        format!("(t.custom::jsonb -> '{}') @> jsonb_build_array(CAST({} AS TEXT))", d.key, q.arg(w))
                    }
                })
                .collect();
            let any = format!("({})", parts.join(" OR "));
            if flt.op == Op::Ne {
                format!("NOT {any}")
            } else {
                any
            }
        }
        (FieldKind::Phone, Op::Contains | Op::Eq | Op::StartsWith) => {
            let dg = digits(v);
            if dg.is_empty() {
                return Err(bad());
            }
            format!("{raw} LIKE {}", q.arg(format!("%{dg}%")))
        }
        (FieldKind::Select | FieldKind::User | FieldKind::Link, Op::Eq | Op::Ne | Op::In) => {
            let vals: Vec<String> = v
                .split(if flt.op == Op::In { ',' } else { '\u{0}' })
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| parse(s).ok().and_then(|x| x.as_str().map(str::to_string)).unwrap_or_else(|| s.to_string()))
                .collect();
            if vals.is_empty() {
                return Err(bad());
            }
            let ps: Vec<String> = vals.into_iter().map(|s| q.arg(s)).collect();
            match flt.op {
                Op::Ne => format!("COALESCE({raw}, '') <> {}", ps.join(", ")),
                _ => format!("{raw} IN ({})", ps.join(", ")),
            }
        }
        (
            FieldKind::Text
            | FieldKind::LongText
            | FieldKind::Url
            | FieldKind::Email
            | FieldKind::Select
            | FieldKind::Date
            | FieldKind::DateTime,
            Op::Contains | Op::StartsWith | Op::Eq | Op::Ne,
        ) => {
            let pat = match flt.op {
                Op::Contains => ci_regex(v, false),
                Op::StartsWith => ci_regex(v, true),
                _ => format!("{}$", ci_regex(v, true)),
            };
            let p = q.arg(pat);
            if flt.op == Op::Ne {
                format!("NOT (COALESCE({raw}, '') {re} {p})")
            } else {
                format!("COALESCE({raw}, '') {re} {p}")
            }
        }
        (FieldKind::Text | FieldKind::LongText | FieldKind::Url | FieldKind::Email, Op::In) => {
            let ps: Vec<String> =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| q.arg(s.to_string())).collect();
            if ps.is_empty() {
                return Err(bad());
            }
            format!("{raw} IN ({})", ps.join(", "))
        }
        _ => return Err(bad()),
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "да" => Some(true),
        "0" | "false" | "no" | "off" | "нет" => Some(false),
        _ => None,
    }
}

/// A money value's amount for people, used by lists; empty for other kinds.
#[must_use]
pub fn money_of(v: &Value) -> Option<Money> {
    let m = v.as_object()?;
    let c = karta_core::Currency::parse(m.get("currency")?.as_str()?, "c").ok()?;
    Some(Money::new(m.get("minor")?.as_i64()?, c))
}
