//! The audit trail: who changed what, field by field, written in the same transaction as
//! the change, together with the change's event in the outbox.

use crate::ctx::Ctx;
use crate::db::{Db, Tx, Q};
use crate::error::{Change, Result};
use karta_core::{new_id, now_ms};
use serde_json::{Map, Value};

/// One audit event.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: String,
    /// `create`, `update`, `delete`, `restore`, `link`, `unlink`, `note`…
    pub action: String,
    /// The record version after the event.
    pub version: i64,
    /// Who.
    pub user_id: String,
    /// Their name.
    pub user_name: String,
    /// When (ms).
    pub at: i64,
    /// `{field: {"from": before, "to": after}}`.
    #[schema(value_type = Object)]
    pub changes: Value,
}

/// The fields whose values differ between two JSON objects, as `{field: {from, to}}`.
#[must_use]
pub fn diff(before: &Value, after: &Value) -> Map<String, Value> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for (k, av) in a {
        let bv = b.get(k).unwrap_or(&Value::Null);
        if bv != av && !(is_blank(bv) && is_blank(av)) {
            out.insert(k.clone(), serde_json::json!({"from": bv, "to": av}));
        }
    }
    out
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Bool(b) => !b,
        _ => false,
    }
}

/// Writes an audit event inside `tx`, and the same change to the event outbox
/// ([`crate::events`]): `deal` + `update` is the event `deal.updated`.
///
/// # Errors
/// Database errors.
pub async fn record(
    tx: &mut Tx,
    ctx: &Ctx,
    entity: &str,
    entity_id: &str,
    action: &str,
    version: i64,
    changes: Value,
) -> Result<()> {
    record_by(tx, ctx.tenant_id(), ctx.user_id(), entity, entity_id, action, version, changes).await
}

/// [`record`] for work without a caller's context: an admin's (who acts through the admin
/// capability) or the system's (`user_id` empty).
///
/// # Errors
/// Database errors.
#[expect(clippy::too_many_arguments, reason = "the columns of one audit row")]
pub async fn record_by(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    entity: &str,
    entity_id: &str,
    action: &str,
    version: i64,
    changes: Value,
) -> Result<()> {
    let at = now_ms();
    let kind = crate::events::record_kind(entity, action);
    let event = crate::events::NewEvent {
        tenant_id,
        user_id,
        kind: &kind,
        entity,
        record_id: entity_id,
        version,
        data: serde_json::json!({ "changes": &changes }),
    };
    tx.exec(crate::events::insert(&event, at)).await?;
    tx.exec(
        Q::new(
            "INSERT INTO audit_log (tenant_id, id, entity, entity_id, action, version, user_id, at, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant_id)
        .bind(new_id())
        .bind(entity)
        .bind(entity_id)
        .bind(action)
        .bind(version)
        .bind(user_id)
        .bind(at)
        .bind(changes.to_string()),
    )
    .await?;
    Ok(())
}

/// A record's history, newest first. The caller must have checked read access.
///
/// # Errors
/// Database errors.
pub async fn history(db: &Db, ctx: &Ctx, entity: &str, entity_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
    history_in(db, ctx.tenant_id(), entity, entity_id, limit).await
}

/// [`history`] in a tenant, for callers holding another right than a caller's context (an
/// admin's).
///
/// # Errors
/// Database errors.
pub async fn history_in(
    db: &Db,
    tenant_id: &str,
    entity: &str,
    entity_id: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    let rows = db
        .all(
            Q::new(
                "SELECT a.*, u.display_name AS user_name FROM audit_log a \
                 LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id \
                 WHERE a.tenant_id = $1 AND a.entity = $2 AND a.entity_id = $3 ORDER BY a.at DESC, a.id DESC LIMIT $4",
            )
            .bind(tenant_id)
            .bind(entity)
            .bind(entity_id)
            .bind(limit),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.s("id"),
            action: r.s("action"),
            version: r.i("version"),
            user_id: r.s("user_id"),
            user_name: r.s("user_name"),
            at: r.i("at"),
            changes: serde_json::from_str(&r.s("changes")).unwrap_or(Value::Null),
        })
        .collect())
}

/// What changed in a record after `since_version`: for the stale-edit message.
///
/// # Errors
/// Database errors.
pub async fn changes_since(
    db: &Db,
    ctx: &Ctx,
    entity: &str,
    entity_id: &str,
    since_version: i64,
) -> Result<Vec<Change>> {
    let rows = db
        .all(
            Q::new(
                "SELECT a.*, u.display_name AS user_name FROM audit_log a \
                 LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id \
                 WHERE a.tenant_id = $1 AND a.entity = $2 AND a.entity_id = $3 AND a.version > $4 ORDER BY a.at, a.id",
            )
            .bind(ctx.tenant_id())
            .bind(entity)
            .bind(entity_id)
            .bind(since_version),
        )
        .await?;
    let mut out: Vec<Change> = Vec::new();
    for r in &rows {
        let changes: Value = serde_json::from_str(&r.s("changes")).unwrap_or(Value::Null);
        if let Some(m) = changes.as_object() {
            for (field, ft) in m {
                let now = ft.get("to").cloned().unwrap_or(Value::Null);
                out.retain(|c| &c.field != field);
                out.push(Change { field: field.clone(), by: r.s("user_name"), at: r.i("at"), now });
            }
        }
    }
    Ok(out)
}
