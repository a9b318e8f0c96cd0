//! Mass update: one field set to one value on a selection of accounts, contacts or deals.
//! Each record goes through the ordinary update (validation, permission, audit) as if edited
//! one by one; records the caller may not change are skipped and counted.

use crate::ctx::Ctx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::{deals, parties};
use karta_core::party::PartyInput;
use karta_core::{Action, Entity};
use serde::Serialize;

/// Fields of accounts and contacts a mass update may set. `tag_add` / `tag_remove` add or
/// remove one tag; `owner` takes a user id.
pub const PARTY_FIELDS: &[&str] = &[
    "owner",
    "relationship",
    "source",
    "industry",
    "region",
    "segment",
    "first_contact",
    "do_not_contact",
    "do_not_email",
    "tag_add",
    "tag_remove",
];

/// Fields of deals a mass update may set.
pub const DEAL_FIELDS: &[&str] = &["owner", "source", "close_date", "next_step", "probability"];

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
    fn skip(&mut self, id: &str) {
        self.skipped += 1;
        self.skipped_ids.push(id.to_string());
    }
}

/// The fields a mass update of `entity` may set.
#[must_use]
pub fn fields(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Account | Entity::Contact => PARTY_FIELDS,
        Entity::Deal => DEAL_FIELDS,
        Entity::Product | Entity::Activity => &[],
    }
}

/// The name a field's validation error carries.
fn error_field(field: &str) -> &str {
    match field {
        "owner" => "owner_id",
        "tag_add" | "tag_remove" => "tags",
        f => f,
    }
}

fn parse_bool(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(StoreError::field("value", "invalid_value")),
    }
}

fn norm_tag(v: &str) -> String {
    v.trim().trim_start_matches('#').to_lowercase()
}

/// Sets `field` to `value` on a profile in memory.
fn set_party(input: &mut PartyInput, field: &str, value: &str) -> Result<()> {
    let v = value.trim().to_string();
    match field {
        "owner" => input.owner_id = v,
        "relationship" => input.relationship = v,
        "source" => input.source = v,
        "industry" => input.industry = v,
        "region" => input.region = v,
        "segment" => input.segment = v,
        "first_contact" => input.first_contact = v,
        "do_not_contact" => input.do_not_contact = parse_bool(&v)?,
        "do_not_email" => input.do_not_email = parse_bool(&v)?,
        "tag_add" => input.tags.push(v),
        "tag_remove" => {
            let t = norm_tag(&v);
            input.tags.retain(|x| norm_tag(x) != t);
        }
        _ => return Err(StoreError::field("field", "invalid_choice")),
    }
    Ok(())
}

/// Checks the request before touching any record.
fn precheck(ctx: &Ctx, entity: Entity, ids: &[String], field: &str, value: &str) -> Result<()> {
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
fn tally(report: &mut BulkReport, id: &str, field: &str, r: Result<bool>) -> Result<()> {
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

/// Sets one field on each selected account or contact the caller may change.
///
/// # Errors
/// `Invalid` naming `field` or `value` (or the field itself) for a bad request, `Forbidden`
/// when the role may not update the entity at all; database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id, entity = entity.as_str(), field, n = ids.len()))]
pub async fn set_parties(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    ids: &[String],
    field: &str,
    value: &str,
) -> Result<BulkReport> {
    precheck(ctx, entity, ids, field, value)?;
    let mut report = BulkReport::default();
    for id in ids {
        let r = async {
            let p = parties::load_for(db, ctx, entity, id, Action::Update, false).await?;
            let mut input = p.input.clone();
            set_party(&mut input, field, value)?;
            let after = parties::update(db, ctx, entity, id, p.version, input).await?;
            Ok(after.version != p.version)
        }
        .await;
        tally(&mut report, id, field, r)?;
    }
    Ok(report)
}

/// Sets one field on each selected deal the caller may change (through the deal update, with
/// its checks, history and audit).
///
/// # Errors
/// As [`set_parties`].
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id, field, n = ids.len()))]
pub async fn set_deals(db: &Db, ctx: &Ctx, now: i64, ids: &[String], field: &str, value: &str) -> Result<BulkReport> {
    precheck(ctx, Entity::Deal, ids, field, value)?;
    let mut report = BulkReport::default();
    for id in ids {
        let r = async {
            let d = deals::get(db, ctx, id, now).await?;
            let mut input = d.to_input();
            let v = value.trim().to_string();
            match field {
                "owner" => input.owner_id = v,
                "source" => input.source = v,
                "close_date" => input.close_date = v,
                "next_step" => input.next_step = v,
                "probability" => input.probability = v,
                _ => return Err(StoreError::field("field", "invalid_choice")),
            }
            let after = deals::update(db, ctx, now, id, d.version, &input).await?;
            Ok(after.version != d.version)
        }
        .await;
        tally(&mut report, id, field, r)?;
    }
    Ok(report)
}
