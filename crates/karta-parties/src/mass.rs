//! Mass update of accounts and contacts (see [`crate::mass`]).
//! Each record goes through the ordinary update (validation, permission, audit) as if edited
//! one by one; records the caller may not change are skipped and counted.

use crate::parties;
use futures_util::future::BoxFuture;
use karta_core::party::PartyInput;
use karta_core::{Action, Entity};
use karta_kernel::mass::{parse_bool, precheck, tally, BulkReport, Updater};
use karta_kernel::{Ctx, Db, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

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

/// Sets one field on each selected account or contact the caller may change.
///
/// # Errors
/// `Invalid` naming `field` or `value` (or the field itself) for a bad request, `Forbidden`
/// when the role may not update the entity at all; database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str(), field, n = ids.len()))]
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

fn set_boxed<'a>(
    db: &'a Db,
    ctx: &'a Ctx,
    entity: Entity,
    ids: &'a [String],
    field: &'a str,
    value: &'a str,
) -> BoxFuture<'a, Result<BulkReport>> {
    Box::pin(set_parties(db, ctx, entity, ids, field, value))
}

/// The mass updaters of accounts and contacts.
pub fn register() {
    karta_kernel::mass::UPDATERS.add(
        "account",
        Updater {
            entity: Entity::Account,
            fields: PARTY_FIELDS,
            set: |db, ctx, _, ids, f, v| set_boxed(db, ctx, Entity::Account, ids, f, v),
        },
    );
    karta_kernel::mass::UPDATERS.add(
        "contact",
        Updater {
            entity: Entity::Contact,
            fields: PARTY_FIELDS,
            set: |db, ctx, _, ids, f, v| set_boxed(db, ctx, Entity::Contact, ids, f, v),
        },
    );
}
