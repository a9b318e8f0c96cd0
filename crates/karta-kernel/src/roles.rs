//! Roles as tenant data. Six built-in roles have defaults (each registered entity says what a
//! built-in role may do with it, [`crate::entities::EntityInfo::defaults`]); a tenant may
//! change them (except the admin's, which always may do everything, so no one can lock the
//! tenant out) and define roles of its own with a scope per entity and action and a set of
//! capabilities. A user's role is resolved on every request ([`resolve`], joined into the
//! session lookup), so a changed role takes effect on the user's next request.

use crate::audit;
use crate::ctx::Admin;
use crate::db::{Db, Row, Q};
use crate::entities::ENTITIES;
use crate::error::{Result, StoreError};
use karta_core::{new_id, now_ms, Action, Cap, FieldError, Perms, Role, Scope};
use serde_json::{Map, Value};

/// The built-in role named exactly `key` (`salesperson`), if it is one.
#[must_use]
pub fn builtin_role(key: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == key)
}

/// What a built-in role may do by default: every registered entity's defaults for it, and the
/// role's default capabilities.
#[must_use]
pub fn builtin(role: Role) -> Perms {
    let mut p = Perms::none();
    for e in ENTITIES.all() {
        for a in Action::ALL {
            p.set(e.entity.as_str(), a, (e.defaults)(role, a));
        }
    }
    for c in role.default_caps() {
        p.set_cap(*c, true);
    }
    p
}

/// Lays stored grants (`{entity: {action: scope}}`) over `p`, for the registered entities they
/// name; an entity they do not name keeps what `p` has.
fn overlay(p: &mut Perms, grants: &Value) {
    let Some(obj) = grants.as_object() else { return };
    for e in ENTITIES.all() {
        let name = e.entity.as_str();
        let Some(acts) = obj.get(name).and_then(Value::as_object) else { continue };
        for a in Action::ALL {
            p.set(name, a, acts.get(a.as_str()).and_then(Value::as_str).and_then(Scope::parse));
        }
    }
}

fn caps_from(v: &Value) -> Vec<Cap> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).filter_map(Cap::parse).collect()).unwrap_or_default()
}

/// What the role `key` allows, from its stored row (`grants`, `caps` as stored) if it has one.
/// A built-in role without a row has its defaults; an unknown role allows nothing.
#[must_use]
pub fn resolve(key: &str, row: Option<(&str, &str)>) -> Perms {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    match (builtin_role(key), row) {
        (Some(Role::Admin), _) => builtin(Role::Admin),
        (Some(r), None) => builtin(r),
        (Some(r), Some((g, c))) => {
            let mut p = builtin(r);
            overlay(&mut p, &parse(g));
            set_caps(&mut p, &caps_from(&parse(c)));
            p
        }
        (None, Some((g, c))) => {
            let mut p = Perms::none();
            overlay(&mut p, &parse(g));
            set_caps(&mut p, &caps_from(&parse(c)));
            p
        }
        (None, None) => Perms::none(),
    }
}

fn set_caps(p: &mut Perms, caps: &[Cap]) {
    for c in Cap::ALL {
        p.set_cap(c, caps.contains(&c));
    }
}

/// The grants of `p` as stored and shown: `{entity: {action: scope or null}}` for every
/// registered entity.
#[must_use]
pub fn grants_json(p: &Perms) -> Value {
    let mut out = Map::new();
    for e in ENTITIES.all() {
        let name = e.entity.as_str();
        let acts: Map<String, Value> = Action::ALL
            .into_iter()
            .map(|a| (a.as_str().to_string(), p.scope_of(name, a).map_or(Value::Null, |s| s.as_str().into())))
            .collect();
        out.insert(name.to_string(), Value::Object(acts));
    }
    Value::Object(out)
}

fn caps_json(p: &Perms) -> Value {
    Value::Array(p.caps().into_iter().map(|c| Value::from(c.as_str())).collect())
}

/// A role as the API and the role editor show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RoleRecord {
    /// What a user's `role` holds: a built-in role's name or the id of a role of the tenant.
    pub id: String,
    /// The name of a tenant's own role (empty for a built-in one: people read its label).
    pub name: String,
    /// One of the six built-in roles.
    pub builtin: bool,
    /// False for the admin role, which always may do everything.
    pub editable: bool,
    /// A built-in role the tenant changed (it can be reset to its defaults).
    pub customized: bool,
    /// `{entity: {action: scope or null}}`, actions `read`, `create`, `update`, `delete`,
    /// `export`; scopes `own`, `team`, `all`.
    #[schema(value_type = Object)]
    pub grants: Value,
    /// Capabilities: `admin`, `export`, `manage_pipelines`, `all_calendars`, `lead_team`.
    pub caps: Vec<String>,
    /// For `If-Match`.
    pub version: i64,
    /// Users who have the role.
    pub users: i64,
}

impl RoleRecord {
    /// What the role allows.
    #[must_use]
    pub fn perms(&self) -> Perms {
        let mut p = Perms::none();
        overlay(&mut p, &self.grants);
        let caps: Vec<Cap> = self.caps.iter().filter_map(|c| Cap::parse(c)).collect();
        set_caps(&mut p, &caps);
        p
    }

    /// The scope the role has for `action` on the entity named `entity`.
    #[must_use]
    pub fn scope(&self, entity: &str, action: Action) -> Option<Scope> {
        self.perms().scope_of(entity, action)
    }
}

fn record(id: &str, row: Option<&Row>, users: i64) -> RoleRecord {
    let stored = row.map(|r| (r.s("grants"), r.s("caps")));
    let p = resolve(id, stored.as_ref().map(|(g, c)| (g.as_str(), c.as_str())));
    let builtin = builtin_role(id);
    RoleRecord {
        id: id.to_string(),
        name: row.map(|r| r.s("name")).unwrap_or_default(),
        builtin: builtin.is_some(),
        editable: builtin != Some(Role::Admin),
        customized: builtin.is_some() && row.is_some(),
        grants: grants_json(&p),
        caps: p.caps().into_iter().map(|c| c.as_str().to_string()).collect(),
        version: row.map_or(1, |r| r.i("version")),
        users,
    }
}

/// A role as a writer gives it: checked names, scopes and capabilities.
#[derive(Debug, Clone)]
pub struct RoleDraft {
    name: String,
    perms: Perms,
}

impl RoleDraft {
    /// Parses a role: its name (ignored for a built-in role), its grants
    /// (`{entity: {action: scope or "none" or null}}`; an entity left out may do nothing) and
    /// its capabilities.
    ///
    /// # Errors
    /// Every field that is wrong: an unknown entity, action, scope or capability, a missing or
    /// too long name.
    pub fn parse(name: &str, grants: &Value, caps: &[String]) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let name = name.trim().to_string();
        if name.chars().count() > 100 {
            errs.push(FieldError::new("name", "too_long"));
        }
        let mut perms = Perms::none();
        let known: Vec<&str> = ENTITIES.all().iter().map(|e| e.entity.as_str()).collect();
        match grants {
            Value::Null => {}
            Value::Object(obj) => {
                for (entity, acts) in obj {
                    if !known.contains(&entity.as_str()) {
                        errs.push(FieldError::new(format!("grants.{entity}"), "invalid_choice"));
                        continue;
                    }
                    let Some(acts) = acts.as_object() else {
                        errs.push(FieldError::new(format!("grants.{entity}"), "invalid"));
                        continue;
                    };
                    for (action, scope) in acts {
                        let Some(a) = Action::parse(action) else {
                            errs.push(FieldError::new(format!("grants.{entity}.{action}"), "invalid_choice"));
                            continue;
                        };
                        let scope = match scope {
                            Value::Null => None,
                            Value::String(s) if s == "none" || s.is_empty() => None,
                            Value::String(s) if Scope::parse(s).is_some() => Scope::parse(s),
                            _ => {
                                errs.push(FieldError::new(format!("grants.{entity}.{action}"), "invalid_choice"));
                                continue;
                            }
                        };
                        perms.set(entity, a, scope);
                    }
                }
            }
            _ => errs.push(FieldError::new("grants", "invalid")),
        }
        for c in caps {
            match Cap::parse(c) {
                Some(c) => perms.set_cap(c, true),
                None => errs.push(FieldError::new("caps", "invalid_choice")),
            }
        }
        if errs.is_empty() {
            Ok(Self { name, perms })
        } else {
            Err(errs)
        }
    }
}

/// Counts of users per role in the tenant.
async fn user_counts(db: &Db, tenant_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = db
        .all(Q::new("SELECT role, COUNT(*) AS n FROM users WHERE tenant_id = $1 GROUP BY role").bind(tenant_id))
        .await?;
    Ok(rows.iter().map(|r| (r.s("role"), r.i("n"))).collect())
}

fn count_of(counts: &[(String, i64)], id: &str) -> i64 {
    counts.iter().find(|(r, _)| r == id).map_or(0, |(_, n)| *n)
}

/// The tenant's roles: the six built-in ones first, then its own by name.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(tenant = %admin.tenant_id()))]
pub async fn list(db: &Db, admin: &Admin) -> Result<Vec<RoleRecord>> {
    let rows = db
        .all(Q::new("SELECT * FROM roles WHERE tenant_id = $1 ORDER BY name_key, id").bind(admin.tenant_id()))
        .await?;
    let counts = user_counts(db, admin.tenant_id()).await?;
    let mut out: Vec<RoleRecord> = Role::ALL
        .into_iter()
        .map(|r| {
            let id = r.as_str();
            record(id, rows.iter().find(|x| x.s("id") == id), count_of(&counts, id))
        })
        .collect();
    out.extend(
        rows.iter().filter(|r| r.i("builtin") == 0).map(|r| record(&r.s("id"), Some(r), count_of(&counts, &r.s("id")))),
    );
    Ok(out)
}

/// The roles a user may be given, as `(id, name)`: for choosing one (a built-in role's name is
/// empty: callers show its label).
///
/// # Errors
/// Database errors.
pub async fn choices(db: &Db, tenant_id: &str) -> Result<Vec<(String, String)>> {
    let rows = db
        .all(
            Q::new("SELECT id, name FROM roles WHERE tenant_id = $1 AND builtin = 0 ORDER BY name_key, id")
                .bind(tenant_id),
        )
        .await?;
    let mut out: Vec<(String, String)> =
        Role::ALL.into_iter().map(|r| (r.as_str().to_string(), String::new())).collect();
    out.extend(rows.iter().map(|r| (r.s("id"), r.s("name"))));
    Ok(out)
}

/// The ids of the tenant's roles (built-in and its own) whose permissions satisfy `pred`: for
/// questions like "who sells" (roles that may create deals), asked of what roles allow rather
/// than of their names.
///
/// # Errors
/// Database errors.
pub async fn ids_where(db: &Db, tenant_id: &str, pred: impl Fn(&Perms) -> bool) -> Result<Vec<String>> {
    let rows = db.all(Q::new("SELECT id, grants, caps FROM roles WHERE tenant_id = $1").bind(tenant_id)).await?;
    let stored = |id: &str| rows.iter().find(|r| r.s("id") == id).map(|r| (r.s("grants"), r.s("caps")));
    let mut ids: Vec<String> = Role::ALL.iter().map(|r| r.as_str().to_string()).collect();
    ids.extend(rows.iter().map(|r| r.s("id")).filter(|id| builtin_role(id).is_none()));
    Ok(ids
        .into_iter()
        .filter(|id| {
            let s = stored(id);
            pred(&resolve(id, s.as_ref().map(|(g, c)| (g.as_str(), c.as_str()))))
        })
        .collect())
}

/// True when `id` names a role of the tenant (built-in or its own).
///
/// # Errors
/// Database errors.
pub async fn exists(db: &Db, tenant_id: &str, id: &str) -> Result<bool> {
    if builtin_role(id).is_some() {
        return Ok(true);
    }
    let r = db
        .opt(Q::new("SELECT id FROM roles WHERE tenant_id = $1 AND id = $2 AND builtin = 0").bind(tenant_id).bind(id))
        .await?;
    Ok(r.is_some())
}

/// What the role `id` of the tenant allows, or `None` for a role it does not have.
///
/// # Errors
/// Database errors.
pub async fn perms_of(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Perms>> {
    let r = row(db, tenant_id, id).await?;
    if r.is_none() && builtin_role(id).is_none() {
        return Ok(None);
    }
    let stored = r.map(|r| (r.s("grants"), r.s("caps")));
    Ok(Some(resolve(id, stored.as_ref().map(|(g, c)| (g.as_str(), c.as_str())))))
}

async fn row(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Row>> {
    Ok(db.opt(Q::new("SELECT * FROM roles WHERE tenant_id = $1 AND id = $2").bind(tenant_id).bind(id)).await?)
}

/// One role.
///
/// # Errors
/// `NotFound` for a role the tenant does not have.
pub async fn get(db: &Db, admin: &Admin, id: &str) -> Result<RoleRecord> {
    let r = row(db, admin.tenant_id(), id).await?;
    if r.is_none() && builtin_role(id).is_none() {
        return Err(StoreError::NotFound);
    }
    let counts = user_counts(db, admin.tenant_id()).await?;
    Ok(record(id, r.as_ref(), count_of(&counts, id)))
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

async fn name_taken(db: &Db, tenant_id: &str, name: &str, except: &str) -> Result<bool> {
    let r = db
        .opt(
            Q::new("SELECT id FROM roles WHERE tenant_id = $1 AND builtin = 0 AND name_key = $2 AND id <> $3")
                .bind(tenant_id)
                .bind(name_key(name))
                .bind(except),
        )
        .await?;
    Ok(r.is_some())
}

fn changes(before: Option<&RoleRecord>, name: &str, p: &Perms) -> Value {
    let before_json =
        before.map_or(Value::Null, |b| serde_json::json!({"name": b.name, "grants": b.grants, "caps": b.caps}));
    let after = serde_json::json!({"name": name, "grants": grants_json(p), "caps": caps_json(p)});
    Value::Object(audit::diff(&before_json, &after))
}

/// Creates a role of the tenant's own.
///
/// # Errors
/// `Invalid` for a missing name or one another role has.
#[tracing::instrument(skip_all, fields(tenant = %admin.tenant_id()))]
pub async fn create(db: &Db, admin: &Admin, draft: RoleDraft) -> Result<RoleRecord> {
    if draft.name.is_empty() {
        return Err(StoreError::field("name", "required"));
    }
    if name_taken(db, admin.tenant_id(), &draft.name, "").await? {
        return Err(StoreError::field("name", "duplicate"));
    }
    let id = new_id();
    let now = now_ms();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO roles (tenant_id, id, name, name_key, builtin, grants, caps, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6, 1, $7, $7)",
        )
        .bind(admin.tenant_id())
        .bind(&id)
        .bind(&draft.name)
        .bind(name_key(&draft.name))
        .bind(grants_json(&draft.perms).to_string())
        .bind(caps_json(&draft.perms).to_string())
        .bind(now),
    )
    .await?;
    let ch = changes(None, &draft.name, &draft.perms);
    audit::record_by(&mut tx, admin.tenant_id(), admin.by().unwrap_or(""), "role", &id, "create", 1, ch).await?;
    tx.commit().await?;
    get(db, admin, &id).await
}

/// Replaces what a role allows (and a tenant role's name), if it is still at `version`.
///
/// # Errors
/// `NotFound`; `Invalid` for the admin role (it cannot be narrowed) or a name taken;
/// `Stale` when someone changed the role since `version`.
#[tracing::instrument(skip_all, fields(tenant = %admin.tenant_id(), role = %id))]
pub async fn update(db: &Db, admin: &Admin, id: &str, version: i64, draft: RoleDraft) -> Result<RoleRecord> {
    let before = get(db, admin, id).await?;
    if !before.editable {
        return Err(StoreError::field("id", "role_fixed"));
    }
    if before.version != version {
        return Err(StoreError::Stale { current: before.version, changes: Vec::new() });
    }
    let name = if before.builtin { String::new() } else { draft.name.clone() };
    if !before.builtin {
        if name.is_empty() {
            return Err(StoreError::field("name", "required"));
        }
        if name_taken(db, admin.tenant_id(), &name, id).await? {
            return Err(StoreError::field("name", "duplicate"));
        }
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    let n = if before.customized || !before.builtin {
        tx.exec(
            Q::new(
                "UPDATE roles SET name = $1, name_key = $2, grants = $3, caps = $4, version = version + 1, updated_at = $5 \
                 WHERE tenant_id = $6 AND id = $7 AND version = $8",
            )
            .bind(&name)
            .bind(name_key(&name))
            .bind(grants_json(&draft.perms).to_string())
            .bind(caps_json(&draft.perms).to_string())
            .bind(now)
            .bind(admin.tenant_id())
            .bind(id)
            .bind(version),
        )
        .await?
    } else {
        tx.exec(
            Q::new(
                "INSERT INTO roles (tenant_id, id, name, name_key, builtin, grants, caps, version, created_at, updated_at) \
                 VALUES ($1, $2, '', '', 1, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, id) DO NOTHING",
            )
            .bind(admin.tenant_id())
            .bind(id)
            .bind(grants_json(&draft.perms).to_string())
            .bind(caps_json(&draft.perms).to_string())
            .bind(version + 1)
            .bind(now),
        )
        .await?
    };
    if n == 0 {
        let current = get(db, admin, id).await?.version;
        return Err(StoreError::Stale { current, changes: Vec::new() });
    }
    let ch = changes(Some(&before), &name, &draft.perms);
    audit::record_by(&mut tx, admin.tenant_id(), admin.by().unwrap_or(""), "role", id, "update", version + 1, ch)
        .await?;
    tx.commit().await?;
    get(db, admin, id).await
}

/// Deletes a tenant's own role no one has; for a built-in role, forgets the tenant's changes
/// (it has its defaults again).
///
/// # Errors
/// `NotFound`; `Invalid` (`role_in_use`) while users have the role, or for the admin role.
#[tracing::instrument(skip_all, fields(tenant = %admin.tenant_id(), role = %id))]
pub async fn delete(db: &Db, admin: &Admin, id: &str) -> Result<()> {
    let before = get(db, admin, id).await?;
    if !before.editable {
        return Err(StoreError::field("id", "role_fixed"));
    }
    let mut tx = db.begin().await?;
    if !before.builtin {
        // Checked inside the transaction that deletes, against a user being given the role
        // meanwhile: the role's row is locked by the delete first.
        let n = tx
            .exec(Q::new("DELETE FROM roles WHERE tenant_id = $1 AND id = $2").bind(admin.tenant_id()).bind(id))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let users = tx
            .opt(
                Q::new("SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND role = $2")
                    .bind(admin.tenant_id())
                    .bind(id),
            )
            .await?
            .map_or(0, |r| r.i("n"));
        if users > 0 {
            return Err(StoreError::field("id", "role_in_use"));
        }
    } else if before.customized {
        tx.exec(Q::new("DELETE FROM roles WHERE tenant_id = $1 AND id = $2").bind(admin.tenant_id()).bind(id)).await?;
    } else {
        return Ok(());
    }
    let action = if before.builtin { "reset" } else { "delete" };
    audit::record_by(
        &mut tx,
        admin.tenant_id(),
        admin.by().unwrap_or(""),
        "role",
        id,
        action,
        before.version + 1,
        Value::Object(Map::new()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A role's history, newest first.
///
/// # Errors
/// `NotFound` for a role the tenant does not have.
pub async fn history(db: &Db, admin: &Admin, id: &str) -> Result<Vec<audit::AuditEntry>> {
    get(db, admin, id).await?;
    audit::history_in(db, admin.tenant_id(), "role", id, 100).await
}
