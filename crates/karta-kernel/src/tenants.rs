//! Tenants (companies) and teams.

use crate::db::{Db, Row, Q};
use crate::error::{Result, StoreError};
use karta_core::{new_id, now_ms};

/// A company using the installation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tenant {
    /// Id.
    pub id: String,
    /// Short name used at sign-in and in the CLI.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// ISO country for phone numbers typed without a code.
    pub default_country: String,
}

fn from_row(r: &Row) -> Tenant {
    Tenant { id: r.s("id"), slug: r.s("slug"), name: r.s("name"), default_country: r.s("default_country") }
}

/// Creates a tenant.
///
/// # Errors
/// `Invalid` for a bad slug, `Conflict` when the slug is taken.
pub async fn create(db: &Db, slug: &str, name: &str, country: &str) -> Result<Tenant> {
    let slug = slug.trim().to_ascii_lowercase();
    if slug.is_empty() || slug.len() > 40 || !slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(StoreError::field("slug", "invalid_value"));
    }
    if name.trim().is_empty() {
        return Err(StoreError::field("name", "required"));
    }
    if by_slug(db, &slug).await?.is_some() {
        return Err(StoreError::Conflict("slug".into()));
    }
    let t = Tenant { id: new_id(), slug, name: name.trim().to_string(), default_country: country.to_ascii_uppercase() };
    db.exec(
        Q::new(
            "INSERT INTO tenants (id, slug, name, default_country, time_zone, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.id)
        .bind(&t.slug)
        .bind(&t.name)
        .bind(&t.default_country)
        .bind(karta_core::Zone::of_country(&t.default_country).name())
        .bind(now_ms()),
    )
    .await?;
    Ok(t)
}

/// A tenant by slug.
///
/// # Errors
/// Database errors.
pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>> {
    let r = db.opt(Q::new("SELECT * FROM tenants WHERE slug = $1").bind(slug.trim().to_ascii_lowercase())).await?;
    Ok(r.as_ref().map(from_row))
}

/// The teams of a tenant as (id, name), by name.
///
/// # Errors
/// Database errors.
pub async fn teams(db: &Db, tenant_id: &str) -> Result<Vec<(String, String)>> {
    let rows =
        db.all(Q::new("SELECT id, name FROM teams WHERE tenant_id = $1 ORDER BY name, id").bind(tenant_id)).await?;
    Ok(rows.iter().map(|r| (r.s("id"), r.s("name"))).collect())
}

/// A team's id by its name.
///
/// # Errors
/// Database errors.
pub async fn team_by_name(db: &Db, tenant_id: &str, name: &str) -> Result<Option<String>> {
    let r = db
        .opt(Q::new("SELECT id FROM teams WHERE tenant_id = $1 AND name = $2").bind(tenant_id).bind(name.trim()))
        .await?;
    Ok(r.map(|r| r.s("id")))
}

/// Sets the administered tenant's time zone: the one its users see times in unless they chose
/// their own (or their browser tells its own).
///
/// # Errors
/// Database errors.
pub async fn set_time_zone(db: &Db, admin: &crate::ctx::Admin, zone: &karta_core::Zone) -> Result<()> {
    db.exec(Q::new("UPDATE tenants SET time_zone = $1 WHERE id = $2").bind(zone.name()).bind(admin.tenant_id()))
        .await?;
    Ok(())
}

/// Creates a team in the administered tenant.
///
/// # Errors
/// `Invalid` for an empty or long name; database errors.
pub async fn create_team(db: &Db, admin: &crate::ctx::Admin, name: &str) -> Result<String> {
    let tenant_id = admin.tenant_id();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::field("name", "invalid_value"));
    }
    let id = new_id();
    db.exec(
        Q::new("INSERT INTO teams (tenant_id, id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant_id)
            .bind(&id)
            .bind(name)
            .bind(now_ms()),
    )
    .await?;
    Ok(id)
}
