//! Mass update: one field set to one value on a selection of records. Each record goes
//! through its context's ordinary update (validation, permission, audit) as if edited one by
//! one; records the caller may not change are skipped and counted. Contexts register an
//! updater per entity; lists and the API dispatch through [`set`].

use crate::ctx::Ctx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::hooks::Registry;
use futures_util::future::BoxFuture;
use karta_core::{Action, Entity};
use serde::Serialize;

/// Most records in one mass update.
pub const MAX_IDS: usize = 1000;

/// What a mass update did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BulkReport {
    /// Records changed (each with its own audit event).
    pub changed: usize,
    /// Records that already had the value.
    pub unchanged: usize,
    /// Records not found, outside the caller's scope, changed meanwhile or failing their own
    /// validation.
    pub skipped: usize,
    /// The ids of the skipped records.
    pub skipped_ids: Vec<String>,
}

impl BulkReport {
    /// Counts `id` as skipped.
    pub fn skip(&mut self, id: &str) {
        self.skipped += 1;
        self.skipped_ids.push(id.to_string());
    }
}

/// Sets one field on the records `ids` of an entity: `(db, ctx, now, ids, field, value)`.
pub type SetFn = for<'a> fn(&'a Db, &'a Ctx, i64, &'a [String], &'a str, &'a str) -> BoxFuture<'a, Result<BulkReport>>;

/// A context's mass update of one entity.
#[derive(Debug, Clone, Copy)]
pub struct Updater {
    /// The entity.
    pub entity: Entity,
    /// The fields it may set.
    pub fields: &'static [&'static str],
    /// Sets them.
    pub set: SetFn,
}

/// Mass updaters by entity name.
pub static UPDATERS: Registry<Updater> = Registry::new();

/// The fields a mass update of `entity` may set (none when no context offers one).
#[must_use]
pub fn fields(entity: Entity) -> &'static [&'static str] {
    UPDATERS.get(entity.as_str()).map_or(&[], |u| u.fields)
}

/// Sets `field` to `value` on each of `ids` the caller may change.
///
/// # Errors
/// `Invalid` for an entity without mass update, and what the entity's updater returns.
pub async fn set(
    db: &Db,
    ctx: &Ctx,
    now: i64,
    entity: Entity,
    ids: &[String],
    field: &str,
    value: &str,
) -> Result<BulkReport> {
    let Some(u) = UPDATERS.get(entity.as_str()) else { return Err(StoreError::field("field", "invalid_choice")) };
    (u.set)(db, ctx, now, ids, field, value).await
}

/// The name a field's validation error carries.
fn error_field(field: &str) -> &str {
    match field {
        "owner" => "owner_id",
        "tag_add" | "tag_remove" => "tags",
        f => f,
    }
}

/// Parses a flag's value.
///
/// # Errors
/// `Invalid` naming `value`.
pub fn parse_bool(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(StoreError::field("value", "invalid_value")),
    }
}

/// Checks the request before touching any record.
///
/// # Errors
/// `Invalid` for too many ids, an unknown field or a missing value; `Forbidden`.
pub fn precheck(ctx: &Ctx, entity: Entity, ids: &[String], field: &str, value: &str) -> Result<()> {
    if ids.len() > MAX_IDS {
        return Err(StoreError::field("ids", "too_long"));
    }
    if !fields(entity).contains(&field) {
        return Err(StoreError::field("field", "invalid_choice"));
    }
    if matches!(field, "owner" | "tag_add" | "tag_remove") && value.trim().is_empty() {
        return Err(StoreError::field("value", "required"));
    }
    ctx.scope(entity, Action::Update)?;
    Ok(())
}

/// Sorts one record's outcome into the report. A validation error on the field being set
/// means the value itself is bad (it fails the same way on every record), so it stops the
/// whole update before anything changed; other failures skip the record.
///
/// # Errors
/// The value's own validation error; database errors.
pub fn tally(report: &mut BulkReport, id: &str, field: &str, r: Result<bool>) -> Result<()> {
    match r {
        Ok(true) => report.changed += 1,
        Ok(false) => report.unchanged += 1,
        Err(StoreError::Invalid(errs)) if errs.iter().any(|e| e.field == error_field(field)) => {
            let errs = errs.into_iter().filter(|e| e.field == error_field(field)).collect();
            return Err(StoreError::Invalid(errs));
        }
        Err(StoreError::NotFound | StoreError::Forbidden | StoreError::Stale { .. } | StoreError::Invalid(_)) => {
            report.skip(id);
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
