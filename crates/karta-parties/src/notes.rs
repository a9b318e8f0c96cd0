//! Notes on a record's timeline.

use crate::parties;
use karta_core::{new_id, now_ms, Action, Entity};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Row, Q};
use karta_kernel::error::{Result, StoreError};

/// A note.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Note {
    /// Id.
    pub id: String,
    /// The record's entity.
    pub entity: Entity,
    /// The record.
    pub entity_id: String,
    /// Text.
    pub body: String,
    /// Author id.
    pub author_id: String,
    /// Author name.
    pub author_name: String,
    /// Version.
    pub version: i64,
    /// Created (ms).
    pub created_at: i64,
    /// Last edit (ms).
    pub updated_at: i64,
}

fn from_row(r: &Row) -> Note {
    Note {
        id: r.s("id"),
        entity: Entity::parse(&r.s("entity")).unwrap_or(Entity::Contact),
        entity_id: r.s("entity_id"),
        body: r.s("body"),
        author_id: r.s("author_id"),
        author_name: r.s("author_name"),
        version: r.i("version"),
        created_at: r.i("created_at"),
        updated_at: r.i("updated_at"),
    }
}

fn check_body(body: &str) -> Result<String> {
    let b = body.trim();
    if b.is_empty() {
        return Err(StoreError::field("body", "required"));
    }
    if b.chars().count() > 20_000 {
        return Err(StoreError::field("body", "too_long"));
    }
    Ok(b.to_string())
}

/// The notes of a record the caller may read, newest first.
///
/// # Errors
/// `NotFound` when the record is not visible.
pub async fn list(db: &Db, ctx: &Ctx, entity: Entity, id: &str, limit: i64) -> Result<Vec<Note>> {
    let p = parties::get(db, ctx, entity, id).await?;
    list_for(db, ctx, &p, limit).await
}

/// The notes of a record already loaded through [`parties::get`] (which checked access), so
/// a record page does not read the record twice.
///
/// # Errors
/// Database errors.
pub async fn list_for(db: &Db, ctx: &Ctx, p: &parties::Party, limit: i64) -> Result<Vec<Note>> {
    let rows = db
        .all(
            Q::new(
                "SELECT n.*, u.display_name AS author_name FROM notes n LEFT JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.author_id \
                 WHERE n.tenant_id = $1 AND n.entity = $2 AND n.entity_id = $3 AND n.deleted_at IS NULL \
                 ORDER BY n.created_at DESC, n.id DESC LIMIT $4",
            )
            .bind(ctx.tenant_id())
            .bind(p.entity.as_str())
            .bind(&p.id)
            .bind(limit),
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Adds a note; anyone who may read a record may note on it, except read-only users.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`.
pub async fn add(db: &Db, ctx: &Ctx, entity: Entity, id: &str, body: &str) -> Result<Note> {
    let p = parties::get(db, ctx, entity, id).await?;
    ctx.scope(entity, Action::Update)?;
    let body = check_body(body)?;
    let nid = new_id();
    let now = now_ms();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO notes (tenant_id, id, entity, entity_id, body, author_id, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(ctx.tenant_id())
        .bind(&nid)
        .bind(entity.as_str())
        .bind(&p.id)
        .bind(&body)
        .bind(ctx.user_id())
        .bind(now),
    )
    .await?;
    audit::record(&mut tx, ctx, "note", &nid, "create", 1, serde_json::json!({"body": {"from": null, "to": body}}))
        .await?;
    tx.commit().await?;
    get(db, ctx, &nid).await
}

/// A note the caller may read.
///
/// # Errors
/// `NotFound`.
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<Note> {
    let r = db
        .opt(
            Q::new(
                "SELECT n.*, u.display_name AS author_name FROM notes n LEFT JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.author_id \
                 WHERE n.tenant_id = $1 AND n.id = $2 AND n.deleted_at IS NULL",
            )
            .bind(ctx.tenant_id())
            .bind(id),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let n = from_row(&r);
    parties::get(db, ctx, n.entity, &n.entity_id).await?;
    Ok(n)
}

async fn for_change(db: &Db, ctx: &Ctx, id: &str) -> Result<Note> {
    let n = get(db, ctx, id).await?;
    if n.author_id != ctx.user_id() && !ctx.is_admin() {
        return Err(StoreError::Forbidden);
    }
    Ok(n)
}

/// Edits a note (its author or an admin), refusing a stale version.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Stale`.
pub async fn edit(db: &Db, ctx: &Ctx, id: &str, version: Option<i64>, body: &str) -> Result<Note> {
    let n = for_change(db, ctx, id).await?;
    let body = check_body(body)?;
    let v = version.unwrap_or(n.version);
    let mut tx = db.begin().await?;
    let changed = tx
        .exec(
            Q::new("UPDATE notes SET body = $1, version = version + 1, updated_at = $2 WHERE tenant_id = $3 AND id = $4 AND version = $5")
                .bind(&body)
                .bind(now_ms())
                .bind(ctx.tenant_id())
                .bind(id)
                .bind(v),
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::Stale { current: n.version, changes: Vec::new() });
    }
    audit::record(&mut tx, ctx, "note", id, "update", v + 1, serde_json::json!({"body": {"from": n.body, "to": body}}))
        .await?;
    tx.commit().await?;
    get(db, ctx, id).await
}

/// Deletes a note (its author or an admin).
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn delete(db: &Db, ctx: &Ctx, id: &str) -> Result<Note> {
    let n = for_change(db, ctx, id).await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("UPDATE notes SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(now_ms())
            .bind(ctx.tenant_id())
            .bind(id),
    )
    .await?;
    audit::record(&mut tx, ctx, "note", id, "delete", n.version + 1, serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(n)
}
