//! Links between contacts and accounts (a person's role or title at an organisation).

use crate::parties::{self, from_row, Party};
use karta_core::{now_ms, Action, Entity};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Q};
use karta_kernel::error::{Result, StoreError};

/// A linked record, as related lists show it, with the role on the link.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Linked {
    /// The other side's entity.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its primary e-mail.
    pub email: String,
    /// Its primary phone.
    pub phone: String,
    /// Role or title.
    pub role: String,
}

/// Links a contact to an account (or changes the role of an existing link).
///
/// # Errors
/// `NotFound` when either side is not visible; `Forbidden` when the caller may not change
/// the contact.
pub async fn link(db: &Db, ctx: &Ctx, contact_id: &str, account_id: &str, role: &str) -> Result<()> {
    let c = parties::load_for(db, ctx, Entity::Contact, contact_id, Action::Update, false).await?;
    let a = parties::get(db, ctx, Entity::Account, account_id).await?;
    let role = role.trim();
    if role.chars().count() > 200 {
        return Err(StoreError::field("role", "too_long"));
    }
    let mut tx = db.begin().await?;
    let t = ctx.tenant_id();
    let n = tx
        .exec(
            Q::new(
                "UPDATE contact_accounts SET role = $1 WHERE tenant_id = $2 AND contact_id = $3 AND account_id = $4",
            )
            .bind(role)
            .bind(t)
            .bind(&c.id)
            .bind(&a.id),
        )
        .await?;
    if n == 0 {
        tx.exec(
            Q::new("INSERT INTO contact_accounts (tenant_id, contact_id, account_id, role, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(t)
                .bind(&c.id)
                .bind(&a.id)
                .bind(role)
                .bind(now_ms()),
        )
        .await?;
    }
    let changes = serde_json::json!({"account": {"from": null, "to": a.name}, "role": {"from": null, "to": role}});
    audit::record(&mut tx, ctx, "contact", &c.id, "link", c.version, changes.clone()).await?;
    let changes = serde_json::json!({"contact": {"from": null, "to": c.name}, "role": {"from": null, "to": role}});
    audit::record(&mut tx, ctx, "account", &a.id, "link", a.version, changes).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a link.
///
/// # Errors
/// `NotFound` when the link or either side is not visible.
pub async fn unlink(db: &Db, ctx: &Ctx, contact_id: &str, account_id: &str) -> Result<()> {
    let c = parties::load_for(db, ctx, Entity::Contact, contact_id, Action::Update, false).await?;
    let a = parties::get(db, ctx, Entity::Account, account_id).await?;
    let mut tx = db.begin().await?;
    let n = tx
        .exec(
            Q::new("DELETE FROM contact_accounts WHERE tenant_id = $1 AND contact_id = $2 AND account_id = $3")
                .bind(ctx.tenant_id())
                .bind(&c.id)
                .bind(&a.id),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    audit::record(
        &mut tx,
        ctx,
        "contact",
        &c.id,
        "unlink",
        c.version,
        serde_json::json!({"account": {"from": a.name, "to": null}}),
    )
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "account",
        &a.id,
        "unlink",
        a.version,
        serde_json::json!({"contact": {"from": c.name, "to": null}}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The records linked to `id` (accounts of a contact, contacts of an account) that the
/// caller may read, live only, by name.
///
/// # Errors
/// Database errors.
pub async fn related(db: &Db, ctx: &Ctx, entity: Entity, id: &str, limit: i64) -> Result<Vec<Linked>> {
    let (other, my_col, other_col) = match entity {
        Entity::Contact => (Entity::Account, "contact_id", "account_id"),
        Entity::Account => (Entity::Contact, "account_id", "contact_id"),
        // Deals keep their contacts in their own table (see `deals`); products have none.
        Entity::Deal | Entity::Product | Entity::Activity => return Ok(Vec::new()),
    };
    let scope = ctx.scope(other, Action::Read)?;
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let me = q.arg(id);
    let scope_sql = ctx.scope_sql(&mut q, "t", scope);
    let lim = q.arg(limit);
    q.sql = format!(
        "SELECT t.id, t.name, t.primary_email, t.primary_phone, l.role AS link_role FROM contact_accounts l \
         JOIN {tbl} t ON t.tenant_id = l.tenant_id AND t.id = l.{other_col} \
         WHERE l.tenant_id = {t} AND l.{my_col} = {me} AND t.deleted_at IS NULL AND {scope_sql} \
         ORDER BY t.name_key, t.id LIMIT {lim}",
        tbl = parties::table(other)
    );
    let rows = db.all(q).await?;
    Ok(rows
        .iter()
        .map(|r| Linked {
            entity: other,
            id: r.s("id"),
            name: r.s("name"),
            email: r.s("primary_email"),
            phone: r.s("primary_phone"),
            role: r.s("link_role"),
        })
        .collect())
}

/// The child accounts of an account the caller may read.
///
/// # Errors
/// Database errors.
pub async fn children(db: &Db, ctx: &Ctx, account_id: &str, limit: i64) -> Result<Vec<Party>> {
    let scope = ctx.scope(Entity::Account, Action::Read)?;
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let me = q.arg(account_id);
    let scope_sql = ctx.scope_sql(&mut q, "t", scope);
    let lim = q.arg(limit);
    q.sql = format!(
        "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team FROM accounts t \
         LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
         WHERE t.tenant_id = {t} AND t.parent_id = {me} AND t.deleted_at IS NULL AND {scope_sql} ORDER BY t.name_key, t.id LIMIT {lim}"
    );
    Ok(db.all(q).await?.iter().map(|r| from_row(Entity::Account, r)).collect())
}
