//! Merging duplicate accounts or contacts into one survivor, and undoing a merge.
//!
//! A merge runs in one transaction: the survivor takes the chosen value of each field (checked
//! as an update is), every related row of the merged records (links, deal contacts, deals,
//! activities and their participants, notes, history, child accounts) moves to the survivor,
//! and the merged records go to the trash pointing at it (`merged_into`). The `merges` row keeps
//! a snapshot of every record before the merge and the list of moved rows, so an undo puts
//! everything back the same way, in one transaction too.

use crate::parties::{self, table, Party};
use karta_core::party::{self as kparty, PartyData, PartyInput};
use karta_core::{new_id, now_ms, Action, Entity, FieldError};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Arg, Db, Row, Tx, Q};
use karta_kernel::error::{Result, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// At most this many records are merged into one survivor at a time.
pub const MAX_MERGED: usize = 10;
/// The choice that keeps every record's items of a list field (e-mails, phones…) together.
pub const ALL: &str = "*";
/// The list fields, where [`ALL`] may be chosen.
pub const LIST_FIELDS: [&str; 6] = ["emails", "phones", "messengers", "addresses", "important_dates", "tags"];

/// One related row (or set of rows) a merge moved, as the undo needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Moved {
    /// Rows with an `id` whose `col` went from `from` to `to`.
    Ids { table: String, col: String, from: String, to: String, ids: Vec<String> },
    /// One row without an id (a link), found by `keys`, whose `col` went from `from` to `to`.
    Row { table: String, col: String, from: String, to: String, keys: Vec<(String, String)> },
    /// A link deleted because the survivor had the same one; the undo inserts it again.
    Del { table: String, row: Vec<(String, Value)> },
    /// Records (of `table`, by id) whose custom link field `key` went from `from` to `to`.
    Custom { table: String, key: String, from: String, to: String, ids: Vec<String> },
}

/// Tables and columns a merge moves; an undo touches nothing else.
const MOVABLE: &[(&str, &[&str])] = &[
    ("contact_accounts", &["contact_id", "account_id", "role", "created_at"]),
    ("deal_contacts", &["deal_id", "contact_id", "role"]),
    ("activity_participants", &["activity_id", "kind", "ref_id"]),
    ("deals", &["account_id"]),
    ("activities", &["account_id", "contact_id"]),
    ("notes", &["entity_id"]),
    ("audit_log", &["entity_id"]),
    ("accounts", &["parent_id"]),
];

fn movable<'a>(tbl: &str, cols: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let ok = MOVABLE
        .iter()
        .find(|(t, _)| *t == tbl)
        .is_some_and(|(_, allowed)| cols.into_iter().all(|c| allowed.contains(&c)));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Other(anyhow::anyhow!("a merge record names {tbl}, which merges do not move")))
    }
}

/// A record as it was before a merge.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snap {
    id: String,
    version: i64,
    name: String,
    input: PartyInput,
}

/// Every record of a merge as it was before.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snapshot {
    survivor: Snap,
    merged: Vec<Snap>,
}

fn snap(p: &Party) -> Snap {
    Snap { id: p.id.clone(), version: p.version, name: p.name.clone(), input: p.input.clone() }
}

/// A record merged away.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MergedRecord {
    /// Id.
    pub id: String,
    /// Its name at the time of the merge.
    pub name: String,
}

/// A merge, as its page and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MergeInfo {
    /// Id.
    pub id: String,
    /// Accounts or contacts.
    pub entity: Entity,
    /// The record that stayed.
    pub survivor_id: String,
    /// Its name.
    pub survivor_name: String,
    /// The records merged into it.
    pub merged: Vec<MergedRecord>,
    /// Who merged.
    pub user_id: String,
    /// Their name.
    pub user_name: String,
    /// When (ms).
    pub at: i64,
    /// When it was undone (ms), if it was.
    pub undone_at: Option<i64>,
    /// How many related items moved to the survivor.
    pub moved: usize,
}

fn moved_count(m: &[Moved]) -> usize {
    m.iter()
        .map(|x| match x {
            Moved::Ids { ids, .. } => ids.len(),
            Moved::Custom { ids, .. } => ids.len(),
            Moved::Row { .. } | Moved::Del { .. } => 1,
        })
        .sum()
}

fn parties_only(entity: Entity) -> Result<()> {
    if matches!(entity, Entity::Account | Entity::Contact) {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

fn union(field: &str, values: &[&Value]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let key = |v: &Value| match (field, v) {
        ("emails", Value::Object(o)) => o.get("value").and_then(Value::as_str).unwrap_or_default().to_lowercase(),
        ("phones" | "messengers", Value::Object(o)) => {
            o.get("value").and_then(Value::as_str).unwrap_or_default().to_string()
        }
        _ => v.to_string(),
    };
    for v in values {
        for item in v.as_array().into_iter().flatten() {
            if !out.iter().any(|x| key(x) == key(item)) {
                out.push(item.clone());
            }
        }
    }
    Value::Array(out)
}

/// The survivor's profile after the merge: its own values, with each chosen field taken from
/// the chosen record (`custom.<key>` for one custom field; [`ALL`] for every record's items of
/// a list field).
fn choose(survivor: &Party, others: &[Party], choices: &BTreeMap<String, String>) -> Result<PartyInput> {
    let all: Vec<(&str, Value)> = std::iter::once(survivor)
        .chain(others.iter())
        .map(|p| (p.id.as_str(), serde_json::to_value(&p.input).unwrap_or_default()))
        .collect();
    let Some(Value::Object(mut out)) = all.first().map(|(_, v)| v.clone()) else {
        return Err(StoreError::Other(anyhow::anyhow!("a profile is not a JSON object")));
    };
    let mut errs = Vec::new();
    for (field, src) in choices {
        let name = format!("fields.{field}");
        if src == ALL {
            if !LIST_FIELDS.contains(&field.as_str()) {
                errs.push(FieldError::new(name, "invalid_choice"));
                continue;
            }
            let vals: Vec<&Value> = all.iter().filter_map(|(_, v)| v.get(field.as_str())).collect();
            out.insert(field.clone(), union(field, &vals));
            continue;
        }
        let Some((_, from)) = all.iter().find(|(id, _)| *id == src.as_str()) else {
            errs.push(FieldError::new(name, "invalid_choice"));
            continue;
        };
        if let Some(key) = field.strip_prefix("custom.") {
            let v = from.get("custom").and_then(|c| c.get(key)).cloned();
            let custom = out.entry("custom").or_insert_with(|| Value::Object(Map::new()));
            if let Some(c) = custom.as_object_mut() {
                match v {
                    Some(v) => {
                        c.insert(key.to_string(), v);
                    }
                    None => {
                        c.remove(key);
                    }
                }
            }
        } else if out.contains_key(field.as_str()) && field != "custom" {
            out.insert(field.clone(), from.get(field.as_str()).cloned().unwrap_or(Value::Null));
        } else {
            errs.push(FieldError::new(name, "unknown_field"));
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    serde_json::from_value(Value::Object(out)).map_err(|e| StoreError::Other(e.into()))
}

/// Writes a profile over a live record inside `tx`, bumping its version; `version` (when
/// given) must still be the record's. Returns false when no row matched.
async fn write_profile(
    tx: &mut Tx,
    ctx: &Ctx,
    entity: Entity,
    id: &str,
    version: Option<i64>,
    data: &PartyData,
) -> Result<bool> {
    let mut q = Q::new("");
    let sets: Vec<String> = parties::columns(data).into_iter().map(|(n, a)| format!("{n} = {}", q.arg(a))).collect();
    let now = q.arg(now_ms());
    let by = q.arg(ctx.user_id());
    let (t, i) = (q.arg(ctx.tenant_id()), q.arg(id));
    let v = version.map(|v| format!(" AND version = {}", q.arg(v))).unwrap_or_default();
    q.sql = format!(
        "UPDATE {} SET {}, version = version + 1, updated_at = {now}, updated_by = {by} \
         WHERE tenant_id = {t} AND id = {i}{v} AND deleted_at IS NULL",
        table(entity),
        sets.join(", ")
    );
    Ok(tx.exec(q).await? > 0)
}

/// Moves rows with an id: `UPDATE … RETURNING id` reads exactly the rows it moved.
#[expect(clippy::too_many_arguments, reason = "one statement's parts, named at each call")]
async fn move_ids(
    tx: &mut Tx,
    ctx: &Ctx,
    tbl: &str,
    col: &str,
    filter: Option<(&str, &str)>,
    from: &str,
    to: &str,
    moved: &mut Vec<Moved>,
) -> Result<()> {
    let mut q = Q::new("");
    let to_p = q.arg(to);
    let t = q.arg(ctx.tenant_id());
    let f = q.arg(from);
    let mut sql = format!("UPDATE {tbl} SET {col} = {to_p} WHERE tenant_id = {t} AND {col} = {f}");
    if let Some((fc, fv)) = filter {
        sql.push_str(&format!(" AND {fc} = {}", q.arg(fv)));
    }
    if tbl == "accounts" {
        // A child account that is the survivor itself keeps the parent it was given.
        sql.push_str(&format!(" AND id <> {to_p}"));
    }
    q.sql = format!("{sql} RETURNING id");
    let ids: Vec<String> = tx.all(q).await?.iter().map(|r| r.s("id")).collect();
    if !ids.is_empty() {
        moved.push(Moved::Ids { table: tbl.into(), col: col.into(), from: from.into(), to: to.into(), ids });
    }
    Ok(())
}

fn row_value(r: &Row, col: &str) -> Value {
    if col == "created_at" {
        Value::from(r.i(col))
    } else {
        Value::from(r.s(col))
    }
}

/// Moves link rows (no id): each moves unless the survivor already has the same link, in
/// which case the merged record's copy is deleted (and kept in the merge record).
#[expect(clippy::too_many_arguments, reason = "one statement's parts, named at each call")]
async fn move_links(
    tx: &mut Tx,
    ctx: &Ctx,
    tbl: &str,
    col: &str,
    keys: &[&str],
    filter: Option<(&str, &str)>,
    from: &str,
    to: &str,
    moved: &mut Vec<Moved>,
) -> Result<()> {
    let cols = MOVABLE.iter().find(|(t, _)| *t == tbl).map(|(_, c)| *c).unwrap_or_default();
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let f = q.arg(from);
    let mut sql = format!("SELECT {} FROM {tbl} WHERE tenant_id = {t} AND {col} = {f}", cols.join(", "));
    if let Some((fc, fv)) = filter {
        sql.push_str(&format!(" AND {fc} = {}", q.arg(fv)));
    }
    q.sql = sql;
    let rows = tx.all(q).await?;
    for r in &rows {
        let kv: Vec<(String, String)> = keys.iter().map(|k| ((*k).to_string(), r.s(k))).collect();
        let mut q = Q::new("");
        let t = q.arg(ctx.tenant_id());
        let to_p = q.arg(to);
        let key_sql: String = kv.iter().map(|(k, v)| format!(" AND {k} = {}", q.arg(v))).collect();
        q.sql = format!("SELECT 1 AS one FROM {tbl} WHERE tenant_id = {t} AND {col} = {to_p}{key_sql}");
        let taken = tx.opt(q).await?.is_some();
        let mut q = Q::new("");
        let t = q.arg(ctx.tenant_id());
        let f = q.arg(from);
        let key_sql: String = kv.iter().map(|(k, v)| format!(" AND {k} = {}", q.arg(v))).collect();
        if taken {
            q.sql = format!("DELETE FROM {tbl} WHERE tenant_id = {t} AND {col} = {f}{key_sql}");
            tx.exec(q).await?;
            let row = cols.iter().map(|c| ((*c).to_string(), row_value(r, c))).collect();
            moved.push(Moved::Del { table: tbl.into(), row });
        } else {
            let to_p = q.arg(to);
            q.sql = format!("UPDATE {tbl} SET {col} = {to_p} WHERE tenant_id = {t} AND {col} = {f}{key_sql}");
            tx.exec(q).await?;
            moved.push(Moved::Row { table: tbl.into(), col: col.into(), from: from.into(), to: to.into(), keys: kv });
        }
    }
    Ok(())
}

/// Moves everything that refers to `from` over to `to`.
async fn move_related(
    tx: &mut Tx,
    ctx: &Ctx,
    entity: Entity,
    from: &str,
    to: &str,
    moved: &mut Vec<Moved>,
) -> Result<()> {
    let e = entity.as_str();
    match entity {
        Entity::Contact => {
            move_links(tx, ctx, "contact_accounts", "contact_id", &["account_id"], None, from, to, moved).await?;
            move_links(tx, ctx, "deal_contacts", "contact_id", &["deal_id"], None, from, to, moved).await?;
            move_ids(tx, ctx, "activities", "contact_id", None, from, to, moved).await?;
        }
        Entity::Account => {
            move_links(tx, ctx, "contact_accounts", "account_id", &["contact_id"], None, from, to, moved).await?;
            move_ids(tx, ctx, "deals", "account_id", None, from, to, moved).await?;
            move_ids(tx, ctx, "activities", "account_id", None, from, to, moved).await?;
            move_ids(tx, ctx, "accounts", "parent_id", None, from, to, moved).await?;
        }
        Entity::Deal | Entity::Product | Entity::Activity => return Err(StoreError::NotFound),
    }
    move_links(
        tx,
        ctx,
        "activity_participants",
        "ref_id",
        &["activity_id", "kind"],
        Some(("kind", e)),
        from,
        to,
        moved,
    )
    .await?;
    move_ids(tx, ctx, "notes", "entity_id", Some(("entity", e)), from, to, moved).await?;
    move_ids(tx, ctx, "audit_log", "entity_id", Some(("entity", e)), from, to, moved).await?;
    move_custom_links(tx, ctx, e, from, to, moved).await
}

/// The table of records that may carry custom fields, for a `custom_fields.entity` value.
fn custom_table(entity: &str) -> Option<&'static str> {
    match entity {
        "account" => Some("accounts"),
        "contact" => Some("contacts"),
        "deal" => Some("deals"),
        _ => None,
    }
}

/// Sets custom link field `key` of the given records (all that hold `from`, when `ids` is
/// empty) from `from` to `to`; returns the ids changed. Keys are checked by
/// [`karta_core::custom::valid_key`], so they are safe inside the SQL text.
async fn set_custom_link(
    tx: &mut Tx,
    ctx: &Ctx,
    tbl: &str,
    key: &str,
    (from, to): (&str, &str),
    ids: &[String],
) -> Result<Vec<String>> {
    if !karta_core::custom::valid_key(key) {
        return Err(StoreError::Other(anyhow::anyhow!("a custom field key {key:?} that merges do not move")));
    }
    let mut q = Q::new("");
    let to_p = q.arg(to);
    let t = q.arg(ctx.tenant_id());
    let f = q.arg(from);
    let (set, get) = match tx {
        Tx::S(_) => (format!("json_set(custom, '$.{key}', {to_p})"), format!("json_extract(custom, '$.{key}')")),
        Tx::P(_) => (
            format!("(jsonb_set(custom::jsonb, '{{{key}}}', to_jsonb({to_p}::text)))::text"),
            format!("(custom::jsonb ->> '{key}')"),
        ),
    };
    let only = if ids.is_empty() {
        String::new()
    } else {
        format!(" AND id IN ({})", ids.iter().map(|i| q.arg(i)).collect::<Vec<_>>().join(", "))
    };
    // A new version, so an edit begun before the change cannot overwrite it unseen.
    q.sql = format!(
        "UPDATE {tbl} SET custom = {set}, version = version + 1 WHERE tenant_id = {t} AND {get} = {f}{only} RETURNING id"
    );
    Ok(tx.all(q).await?.iter().map(|r| r.s("id")).collect())
}

/// Custom link fields that point at the merged-away record point at the survivor.
async fn move_custom_links(
    tx: &mut Tx,
    ctx: &Ctx,
    e: &str,
    from: &str,
    to: &str,
    moved: &mut Vec<Moved>,
) -> Result<()> {
    let fields = tx
        .all(
            Q::new("SELECT entity, key FROM custom_fields WHERE tenant_id = $1 AND kind = 'link' AND target = $2")
                .bind(ctx.tenant_id())
                .bind(e),
        )
        .await?;
    for r in fields {
        let (entity, key) = (r.s("entity"), r.s("key"));
        let Some(tbl) = custom_table(&entity) else { continue };
        let ids = set_custom_link(tx, ctx, tbl, &key, (from, to), &[]).await?;
        if !ids.is_empty() {
            moved.push(Moved::Custom { table: tbl.into(), key, from: from.into(), to: to.into(), ids });
        }
    }
    Ok(())
}

/// Puts one moved row (or set) back.
async fn move_back(tx: &mut Tx, ctx: &Ctx, m: &Moved) -> Result<()> {
    match m {
        Moved::Ids { table: tbl, col, from, to, ids } => {
            movable(tbl, [col.as_str()])?;
            for chunk in ids.chunks(200) {
                let mut q = Q::new("");
                let f = q.arg(from);
                let t = q.arg(ctx.tenant_id());
                let to_p = q.arg(to);
                let list: Vec<String> = chunk.iter().map(|i| q.arg(i)).collect();
                q.sql = format!(
                    "UPDATE {tbl} SET {col} = {f} WHERE tenant_id = {t} AND {col} = {to_p} AND id IN ({})",
                    list.join(", ")
                );
                tx.exec(q).await?;
            }
        }
        Moved::Row { table: tbl, col, from, to, keys } => {
            movable(tbl, std::iter::once(col.as_str()).chain(keys.iter().map(|(k, _)| k.as_str())))?;
            let mut q = Q::new("");
            let t = q.arg(ctx.tenant_id());
            let f = q.arg(from);
            let key_sql: String = keys.iter().map(|(k, v)| format!(" AND {k} = {}", q.arg(v))).collect();
            q.sql = format!("SELECT 1 AS one FROM {tbl} WHERE tenant_id = {t} AND {col} = {f}{key_sql}");
            // Linked again meanwhile: the survivor's copy is the one to drop.
            let back_already = tx.opt(q).await?.is_some();
            let mut q = Q::new("");
            let t = q.arg(ctx.tenant_id());
            let to_p = q.arg(to);
            let key_sql: String = keys.iter().map(|(k, v)| format!(" AND {k} = {}", q.arg(v))).collect();
            if back_already {
                q.sql = format!("DELETE FROM {tbl} WHERE tenant_id = {t} AND {col} = {to_p}{key_sql}");
            } else {
                let f = q.arg(from);
                q.sql = format!("UPDATE {tbl} SET {col} = {f} WHERE tenant_id = {t} AND {col} = {to_p}{key_sql}");
            }
            tx.exec(q).await?;
        }
        Moved::Custom { table: tbl, key, from, to, ids } => {
            if !["accounts", "contacts", "deals"].contains(&tbl.as_str()) {
                return Err(StoreError::Other(anyhow::anyhow!("a merge record names {tbl}, which merges do not move")));
            }
            for chunk in ids.chunks(200) {
                set_custom_link(tx, ctx, tbl, key, (to, from), chunk).await?;
            }
        }
        Moved::Del { table: tbl, row } => {
            movable(tbl, row.iter().map(|(c, _)| c.as_str()))?;
            let mut q = Q::new("");
            let mut names = vec!["tenant_id".to_string()];
            let mut ps = vec![q.arg(ctx.tenant_id())];
            for (c, v) in row {
                names.push(c.clone());
                ps.push(q.arg(match v {
                    Value::Number(n) => Arg::I(n.as_i64()),
                    Value::String(s) => Arg::T(Some(s.clone())),
                    other => Arg::T(Some(other.to_string())),
                }));
            }
            q.sql =
                format!("INSERT INTO {tbl} ({}) VALUES ({}) ON CONFLICT DO NOTHING", names.join(", "), ps.join(", "));
            tx.exec(q).await?;
        }
    }
    Ok(())
}

/// Merges `others` into `survivor_id`: the survivor takes the value of each field in
/// `choices` (field → id of the record whose value wins; `custom.<key>` for a custom field;
/// [`ALL`] for every record's items of a list field) and keeps its own elsewhere; everything
/// related to the others moves to the survivor; the others go to the trash pointing at it.
/// `version`, when given, must be the survivor's current version. One transaction; audited
/// on every record. Returns the merge id (for [`undo`]).
///
/// The caller needs Update on every record and Delete on the merged ones.
///
/// # Errors
/// `NotFound` (a record not visible or already in the trash), `Forbidden`, `Invalid` (bad
/// choices, or the merged profile fails validation), `Stale` (the survivor changed).
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str(), survivor = survivor_id))]
pub async fn merge(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    survivor_id: &str,
    others: &[String],
    choices: &BTreeMap<String, String>,
    version: Option<i64>,
) -> Result<String> {
    parties_only(entity)?;
    let mut ids: Vec<&str> = Vec::new();
    for o in others {
        let o = o.trim();
        if !o.is_empty() && !ids.contains(&o) {
            ids.push(o);
        }
    }
    if ids.is_empty() {
        return Err(StoreError::field("merged_ids", "required"));
    }
    if ids.len() > MAX_MERGED {
        return Err(StoreError::field("merged_ids", "too_long"));
    }
    if ids.contains(&survivor_id) {
        return Err(StoreError::field("merged_ids", "invalid_value"));
    }
    let update = ctx.scope(entity, Action::Update)?;
    ctx.scope(entity, Action::Delete)?;
    let survivor = parties::load_for(db, ctx, entity, survivor_id, Action::Update, false).await?;
    if let Some(v) = version.filter(|v| *v != survivor.version) {
        let changes = audit::changes_since(db, ctx, entity.as_str(), survivor_id, v).await?;
        return Err(StoreError::Stale { current: survivor.version, changes });
    }
    let mut merged: Vec<Party> = Vec::new();
    for id in &ids {
        parties::load_for(db, ctx, entity, id, Action::Update, false).await?;
        merged.push(parties::load_for(db, ctx, entity, id, Action::Delete, false).await?);
    }
    let mut input = choose(&survivor, &merged, choices)?;
    if entity == Entity::Account && (input.parent_id == survivor.id || ids.contains(&input.parent_id.as_str())) {
        // The parent chosen is one of the records merged together: nothing to point at.
        input.parent_id.clear();
    }
    let data = parties::check(db, ctx, entity, Some(survivor_id), input, update).await?;
    let snapshot = Snapshot { survivor: snap(&survivor), merged: merged.iter().map(snap).collect() };
    let now = now_ms();
    let mut tx = db.begin().await?;
    if !write_profile(&mut tx, ctx, entity, survivor_id, Some(survivor.version), &data).await? {
        drop(tx);
        let changes = audit::changes_since(db, ctx, entity.as_str(), survivor_id, survivor.version).await?;
        return Err(StoreError::Stale { current: survivor.version + 1, changes });
    }
    let mut moved = Vec::new();
    for m in &merged {
        move_related(&mut tx, ctx, entity, &m.id, survivor_id, &mut moved).await?;
        let n = tx
            .exec(
                Q::new(format!(
                    "UPDATE {} SET deleted_at = $1, deleted_by = $2, merged_into = $3, version = version + 1, \
                     updated_at = $1, updated_by = $2 WHERE tenant_id = $4 AND id = $5 AND version = $6 AND deleted_at IS NULL",
                    table(entity)
                ))
                .bind(now)
                .bind(ctx.user_id())
                .bind(survivor_id)
                .bind(ctx.tenant_id())
                .bind(&m.id)
                .bind(m.version),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Stale { current: m.version + 1, changes: Vec::new() });
        }
    }
    parties::write_dates(&mut tx, ctx, entity, survivor_id, &data.input).await?;
    let merge_id = new_id();
    tx.exec(
        Q::new(
            "INSERT INTO merges (tenant_id, id, entity, survivor_id, merged_ids, snapshot, moved, user_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ctx.tenant_id())
        .bind(&merge_id)
        .bind(entity.as_str())
        .bind(survivor_id)
        .bind(serde_json::to_string(&ids).map_err(|e| StoreError::Other(e.into()))?)
        .bind(serde_json::to_string(&snapshot).map_err(|e| StoreError::Other(e.into()))?)
        .bind(serde_json::to_string(&moved).map_err(|e| StoreError::Other(e.into()))?)
        .bind(ctx.user_id())
        .bind(now),
    )
    .await?;
    let mut changes =
        audit::diff(&parties::audit_json(entity, &survivor.input), &parties::audit_json(entity, &data.input));
    let names: Vec<&str> = merged.iter().map(|m| m.name.as_str()).collect();
    changes.insert("merged".into(), serde_json::json!({"from": null, "to": names.join(", ")}));
    audit::record(&mut tx, ctx, entity.as_str(), survivor_id, "merge", survivor.version + 1, changes.into()).await?;
    for m in &merged {
        let c = serde_json::json!({"merged_into": {"from": null, "to": data.name}});
        audit::record(&mut tx, ctx, entity.as_str(), &m.id, "merge", m.version + 1, c).await?;
    }
    if entity == Entity::Account {
        // The merged-away accounts' deals now belong to the survivor, whose name may be new too.
        crate::hooks::accounts_renamed(&mut tx, db, ctx, &[survivor_id]).await?;
    }
    tx.commit().await?;
    Ok(merge_id)
}

/// A record the caller may read, live or in the trash.
async fn visible(db: &Db, ctx: &Ctx, entity: Entity, id: &str, action: Action) -> Result<Party> {
    match parties::load_for(db, ctx, entity, id, action, false).await {
        Err(StoreError::NotFound) => parties::load_for(db, ctx, entity, id, action, true).await,
        other => other,
    }
}

async fn load_row(db: &Db, ctx: &Ctx, id: &str) -> Result<Row> {
    db.opt(
        Q::new(
            "SELECT m.*, u.display_name AS user_name FROM merges m \
             LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id WHERE m.tenant_id = $1 AND m.id = $2",
        )
        .bind(ctx.tenant_id())
        .bind(id),
    )
    .await?
    .ok_or(StoreError::NotFound)
}

fn parse_row(r: &Row) -> Result<(Entity, Snapshot, Vec<Moved>)> {
    let entity = Entity::parse(&r.s("entity")).ok_or(StoreError::NotFound)?;
    let snapshot: Snapshot = serde_json::from_str(&r.s("snapshot")).map_err(|e| StoreError::Other(e.into()))?;
    let moved: Vec<Moved> = serde_json::from_str(&r.s("moved")).map_err(|e| StoreError::Other(e.into()))?;
    Ok((entity, snapshot, moved))
}

fn info(r: &Row, entity: Entity, s: &Snapshot, moved: &[Moved], survivor_name: String) -> MergeInfo {
    MergeInfo {
        id: r.s("id"),
        entity,
        survivor_id: r.s("survivor_id"),
        survivor_name,
        merged: s.merged.iter().map(|m| MergedRecord { id: m.id.clone(), name: m.name.clone() }).collect(),
        user_id: r.s("user_id"),
        user_name: r.s("user_name"),
        at: r.i("at"),
        undone_at: r.oi("undone_at"),
        moved: moved_count(moved),
    }
}

/// A merge whose survivor the caller may read.
///
/// # Errors
/// `NotFound`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<MergeInfo> {
    let r = load_row(db, ctx, id).await?;
    let (entity, s, moved) = parse_row(&r)?;
    let survivor = visible(db, ctx, entity, &r.s("survivor_id"), Action::Read).await?;
    Ok(info(&r, entity, &s, &moved, survivor.name))
}

/// The merges into a record that are not undone, newest first. The caller must have checked
/// read access to the record.
///
/// # Errors
/// Database errors.
pub async fn for_survivor(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<Vec<MergeInfo>> {
    let rows = db
        .all(
            Q::new(
                "SELECT m.*, u.display_name AS user_name FROM merges m \
                 LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
                 WHERE m.tenant_id = $1 AND m.entity = $2 AND m.survivor_id = $3 AND m.undone_at IS NULL \
                 ORDER BY m.at DESC, m.id DESC LIMIT 20",
            )
            .bind(ctx.tenant_id())
            .bind(entity.as_str())
            .bind(id),
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (entity, s, moved) = parse_row(r)?;
        out.push(info(r, entity, &s, &moved, s.survivor.name.clone()));
    }
    Ok(out)
}

/// The record a trashed record was merged into, when the caller may read it.
///
/// # Errors
/// Database errors.
pub async fn survivor_of(db: &Db, ctx: &Ctx, entity: Entity, id: &str) -> Result<Option<Party>> {
    parties_only(entity)?;
    let r = db
        .opt(
            Q::new(format!("SELECT merged_into FROM {} WHERE tenant_id = $1 AND id = $2", table(entity)))
                .bind(ctx.tenant_id())
                .bind(id),
        )
        .await?;
    let Some(target) = r.map(|r| r.s("merged_into")).filter(|s| !s.is_empty()) else { return Ok(None) };
    Ok(visible(db, ctx, entity, &target, Action::Read).await.ok())
}

/// Undoes a merge in one transaction: the survivor gets back the values it had before, every
/// moved item goes back to its record, the merged records come back from the trash (their
/// pointer cleared). Audited as `merge_undone` on every record.
///
/// # Errors
/// `NotFound`, `Forbidden` (the caller needs Update on the survivor and Delete on the merged
/// records), `Conflict` on `undone_at` when the merge was already undone, or on `merged_ids`
/// when a merged record was purged meanwhile.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id = merge_id))]
pub async fn undo(db: &Db, ctx: &Ctx, merge_id: &str) -> Result<MergeInfo> {
    let r = load_row(db, ctx, merge_id).await?;
    let (entity, s, moved) = parse_row(&r)?;
    let survivor_id = r.s("survivor_id");
    // Visibility first (a survivor out of reach is not found), then the permissions.
    visible(db, ctx, entity, &survivor_id, Action::Read).await?;
    if r.oi("undone_at").is_some() {
        return Err(StoreError::Conflict("undone_at".into()));
    }
    let update = ctx.scope(entity, Action::Update)?;
    let survivor = parties::load_for(db, ctx, entity, &survivor_id, Action::Update, false).await?;
    let mut merged = Vec::new();
    for m in &s.merged {
        match visible(db, ctx, entity, &m.id, Action::Delete).await {
            Ok(p) => merged.push(p),
            Err(StoreError::NotFound) => return Err(StoreError::Conflict("merged_ids".into())),
            Err(e) => return Err(e),
        }
    }
    let before = s.survivor.input.clone();
    let data = match parties::check(db, ctx, entity, Some(&survivor_id), before.clone(), update).await {
        Ok(d) => d,
        // The values were valid before the merge; a rule that changed since (an owner
        // disabled meanwhile) does not stand in the way of putting them back.
        Err(StoreError::Invalid(_)) => kparty::parse(entity, before, ctx.country()).map_err(StoreError::Invalid)?,
        Err(e) => return Err(e),
    };
    let mut tx = db.begin().await?;
    if !write_profile(&mut tx, ctx, entity, &survivor_id, None, &data).await? {
        return Err(StoreError::NotFound);
    }
    for m in moved.iter().rev() {
        move_back(&mut tx, ctx, m).await?;
    }
    let now = now_ms();
    for m in &merged {
        let n = tx
            .exec(
                Q::new(format!(
                    "UPDATE {} SET deleted_at = NULL, deleted_by = NULL, merged_into = '', version = version + 1, \
                     updated_at = $1, updated_by = $2 WHERE tenant_id = $3 AND id = $4",
                    table(entity)
                ))
                .bind(now)
                .bind(ctx.user_id())
                .bind(ctx.tenant_id())
                .bind(&m.id),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("merged_ids".into()));
        }
    }
    parties::write_dates(&mut tx, ctx, entity, &survivor_id, &data.input).await?;
    let n = tx
        .exec(
            Q::new("UPDATE merges SET undone_at = $1 WHERE tenant_id = $2 AND id = $3 AND undone_at IS NULL")
                .bind(now)
                .bind(ctx.tenant_id())
                .bind(merge_id),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict("undone_at".into()));
    }
    let mut changes =
        audit::diff(&parties::audit_json(entity, &survivor.input), &parties::audit_json(entity, &data.input));
    let names: Vec<&str> = s.merged.iter().map(|m| m.name.as_str()).collect();
    changes.insert("merged".into(), serde_json::json!({"from": names.join(", "), "to": null}));
    audit::record(&mut tx, ctx, entity.as_str(), &survivor_id, "merge_undone", survivor.version + 1, changes.into())
        .await?;
    for m in &merged {
        let c = serde_json::json!({"merged_into": {"from": data.name, "to": null}});
        audit::record(&mut tx, ctx, entity.as_str(), &m.id, "merge_undone", m.version + 1, c).await?;
    }
    if entity == Entity::Account {
        let mut ids = vec![survivor_id.as_str()];
        ids.extend(merged.iter().map(|m| m.id.as_str()));
        crate::hooks::accounts_renamed(&mut tx, db, ctx, &ids).await?;
    }
    tx.commit().await?;
    get(db, ctx, merge_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_unions_keep_each_item_once() {
        let a = serde_json::json!([{"value": "A@x.ru", "label": ""}]);
        let b = serde_json::json!([{"value": "a@x.ru", "label": "work"}, {"value": "b@x.ru", "label": ""}]);
        let u = union("emails", &[&a, &b]);
        assert_eq!(u.as_array().map(Vec::len), Some(2));
        let t = union("tags", &[&serde_json::json!(["vip"]), &serde_json::json!(["vip", "new"])]);
        assert_eq!(t, serde_json::json!(["vip", "new"]));
    }
}
