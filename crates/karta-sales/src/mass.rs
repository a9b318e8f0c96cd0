//! Mass update of deals (see [`karta_kernel::mass`]).

use crate::deals;
use karta_core::Entity;
use karta_kernel::mass::{precheck, tally, BulkReport, Updater};
use karta_kernel::{Ctx, Db, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// Fields of deals a mass update may set.
pub const DEAL_FIELDS: &[&str] = &["owner", "source", "close_date", "next_step", "probability"];

/// Sets one field on each selected deal the caller may change (through the deal update, with
/// its checks, history and audit).
///
/// # Errors
/// As [`set_parties`].
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), field, n = ids.len()))]
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

/// The mass updater of deals.
pub fn register() {
    karta_kernel::mass::UPDATERS.add(
        "deal",
        Updater {
            entity: Entity::Deal,
            fields: DEAL_FIELDS,
            set: |db, ctx, now, ids, f, v| Box::pin(set_deals(db, ctx, now, ids, f, v)),
        },
    );
}
