//! The product and service catalogue with prices per currency in price lists. Everyone reads
//! it; admins and sales managers maintain it.

use karta_core::text::norm;
use karta_core::{new_id, now_ms, Action, Currency, Entity, FieldError, Money};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Row, Q};
use karta_kernel::error::{Result, StoreError};
use serde::{Deserialize, Serialize};

/// The price list used when none is named.
pub const BASE: &str = "base";

/// A price of a product in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Price {
    /// Price list name.
    pub price_list: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Minor units (kopecks, cents).
    pub price_minor: i64,
    /// The same as a decimal text.
    pub price: String,
}

/// A product or service.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Product {
    /// Id.
    pub id: String,
    /// Stock-keeping unit, unique in the tenant.
    pub sku: String,
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Unit of measure (pcs, h, licence…).
    pub unit: String,
    /// Product group.
    pub product_group: String,
    /// `product` or `service`.
    pub kind: String,
    /// Inactive products are kept on old deals but not offered.
    pub active: bool,
    /// Prices.
    pub prices: Vec<Price>,
}

impl Product {
    /// The name in `lang`.
    #[must_use]
    pub fn name(&self, lang: &str) -> &str {
        if lang == "ru" && !self.name_ru.is_empty() || self.name_en.is_empty() {
            &self.name_ru
        } else {
            &self.name_en
        }
    }

    /// The base price in `currency`, if set.
    #[must_use]
    pub fn price_in(&self, currency: &str) -> Option<i64> {
        self.prices.iter().find(|p| p.price_list == BASE && p.currency == currency).map(|p| p.price_minor)
    }
}

/// A price as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PriceInput {
    /// Price list (default `base`).
    pub price_list: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal amount, e.g. `1500.00`.
    pub price: String,
}

/// A product as entered in a form or the API.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProductInput {
    /// SKU (required, unique).
    pub sku: String,
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Unit.
    pub unit: String,
    /// Group.
    pub product_group: String,
    /// `product` (default) or `service`.
    pub kind: String,
    /// Active (default true when creating through the API).
    pub active: Option<bool>,
    /// Prices; replaces all prices when given.
    pub prices: Option<Vec<PriceInput>>,
}

struct Checked {
    sku: String,
    ru: String,
    en: String,
    kind: String,
    prices: Option<Vec<(String, Currency, i64)>>,
}

fn check(p: &ProductInput) -> Result<Checked> {
    let mut errs = Vec::new();
    let sku = p.sku.trim().to_string();
    if sku.is_empty() {
        errs.push(FieldError::new("sku", "required"));
    } else if sku.chars().count() > 64 {
        errs.push(FieldError::new("sku", "too_long"));
    }
    let (ru, en) = (p.name_ru.trim(), p.name_en.trim());
    if ru.is_empty() && en.is_empty() {
        errs.push(FieldError::new("name_ru", "required"));
    }
    for (f, v) in [("name_ru", ru), ("name_en", en), ("unit", p.unit.trim()), ("product_group", p.product_group.trim())]
    {
        if v.chars().count() > 200 {
            errs.push(FieldError::new(f, "too_long"));
        }
    }
    let kind = match p.kind.trim() {
        "" | "product" => "product",
        "service" => "service",
        _ => {
            errs.push(FieldError::new("kind", "invalid_choice"));
            "product"
        }
    };
    let mut prices = None;
    if let Some(list) = &p.prices {
        let mut out: Vec<(String, Currency, i64)> = Vec::new();
        for (i, pr) in list.iter().enumerate() {
            let field = |f: &str| format!("prices[{i}].{f}");
            let pl = if pr.price_list.trim().is_empty() { BASE.to_string() } else { norm(&pr.price_list) };
            match Currency::parse(&pr.currency, &field("currency")) {
                Err(e) => errs.push(e),
                Ok(c) => match Money::parse(&pr.price, c, &field("price")) {
                    Err(e) => errs.push(e),
                    Ok(m) if m.minor < 0 => errs.push(FieldError::new(field("price"), "invalid_money")),
                    Ok(m) => {
                        if out.iter().any(|(l, cc, _)| *l == pl && *cc == c) {
                            errs.push(FieldError::new(field("currency"), "duplicate"));
                        }
                        out.push((pl, c, m.minor));
                    }
                },
            }
        }
        prices = Some(out);
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let ru = if ru.is_empty() { en } else { ru };
    let en = if en.is_empty() { ru } else { en };
    Ok(Checked { sku, ru: ru.to_string(), en: en.to_string(), kind: kind.to_string(), prices })
}

fn from_row(r: &Row) -> Product {
    Product {
        id: r.s("id"),
        sku: r.s("sku"),
        name_ru: r.s("name_ru"),
        name_en: r.s("name_en"),
        unit: r.s("unit"),
        product_group: r.s("product_group"),
        kind: r.s("kind"),
        active: r.i("active") != 0,
        prices: Vec::new(),
    }
}

async fn with_prices(db: &Db, ctx: &Ctx, mut items: Vec<Product>) -> Result<Vec<Product>> {
    if items.is_empty() {
        return Ok(items);
    }
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let ids: Vec<String> = items.iter().map(|p| q.arg(&p.id)).collect();
    q.sql = format!(
        "SELECT * FROM product_prices WHERE tenant_id = {t} AND product_id IN ({}) ORDER BY price_list, currency",
        ids.join(", ")
    );
    for r in db.all(q).await? {
        let pid = r.s("product_id");
        if let Some(p) = items.iter_mut().find(|p| p.id == pid) {
            let cur = r.s("currency");
            let minor = r.i("price");
            let text = Currency::parse(&cur, "currency").map(|c| Money::amount_text(minor, c)).unwrap_or_default();
            p.prices.push(Price { price_list: r.s("price_list"), currency: cur, price_minor: minor, price: text });
        }
    }
    Ok(items)
}

/// The catalogue, by name; `active_only` for pickers; `q` filters by SKU or name.
///
/// # Errors
/// Database errors.
pub async fn list(db: &Db, ctx: &Ctx, q_text: &str, active_only: bool, limit: i64) -> Result<Vec<Product>> {
    ctx.scope(Entity::Product, Action::Read)?;
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let mut cond = String::new();
    if active_only {
        cond.push_str(" AND active = 1");
    }
    let needle = q_text.trim().to_lowercase();
    if !needle.is_empty() {
        let esc = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let p = q.arg(format!("%{esc}%"));
        cond.push_str(&format!(
            " AND (LOWER(sku) LIKE {p} ESCAPE '\\' OR LOWER(name_ru) LIKE {p} ESCAPE '\\' OR LOWER(name_en) LIKE {p} ESCAPE '\\')"
        ));
    }
    let lim = q.arg(limit.clamp(1, 1000));
    q.sql =
        format!("SELECT * FROM products WHERE tenant_id = {t}{cond} ORDER BY product_group, name_en, sku LIMIT {lim}");
    let items = db.all(q).await?.iter().map(from_row).collect();
    with_prices(db, ctx, items).await
}

/// Products by id (any state), for deal lines.
///
/// # Errors
/// Database errors.
pub async fn by_ids(db: &Db, ctx: &Ctx, ids: &[String]) -> Result<Vec<Product>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let ps: Vec<String> = ids.iter().map(|id| q.arg(id)).collect();
    q.sql = format!("SELECT * FROM products WHERE tenant_id = {t} AND id IN ({})", ps.join(", "));
    let items = db.all(q).await?.iter().map(from_row).collect();
    with_prices(db, ctx, items).await
}

/// One product.
///
/// # Errors
/// `NotFound`.
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<Product> {
    ctx.scope(Entity::Product, Action::Read)?;
    by_ids(db, ctx, &[id.to_string()]).await?.into_iter().next().ok_or(StoreError::NotFound)
}

async fn write_prices(
    tx: &mut karta_kernel::db::Tx,
    ctx: &Ctx,
    id: &str,
    prices: &[(String, Currency, i64)],
) -> Result<()> {
    tx.exec(
        Q::new("DELETE FROM product_prices WHERE tenant_id = $1 AND product_id = $2").bind(ctx.tenant_id()).bind(id),
    )
    .await?;
    for (pl, c, minor) in prices {
        tx.exec(
            Q::new(
                "INSERT INTO product_prices (tenant_id, product_id, price_list, currency, price) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(pl)
            .bind(c.code())
            .bind(*minor),
        )
        .await?;
    }
    Ok(())
}

async fn sku_taken(db: &Db, ctx: &Ctx, sku: &str, except: &str) -> Result<bool> {
    let r = db
        .opt(Q::new("SELECT id FROM products WHERE tenant_id = $1 AND sku = $2").bind(ctx.tenant_id()).bind(sku))
        .await?;
    Ok(r.is_some_and(|r| r.s("id") != except))
}

/// Adds a product (admins, sales managers).
///
/// # Errors
/// `Forbidden`, `Invalid`, `Conflict("sku")`.
pub async fn create(db: &Db, ctx: &Ctx, p: &ProductInput) -> Result<Product> {
    ctx.scope(Entity::Product, Action::Create)?;
    let c = check(p)?;
    if sku_taken(db, ctx, &c.sku, "").await? {
        return Err(StoreError::Conflict("sku".into()));
    }
    let id = new_id();
    let now = now_ms();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO products (tenant_id, id, sku, name_ru, name_en, unit, product_group, kind, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(&c.sku)
        .bind(&c.ru)
        .bind(&c.en)
        .bind(p.unit.trim())
        .bind(p.product_group.trim())
        .bind(&c.kind)
        .bind(p.active.unwrap_or(true))
        .bind(now),
    )
    .await?;
    write_prices(&mut tx, ctx, &id, c.prices.as_deref().unwrap_or_default()).await?;
    let after =
        audit_json(&c.sku, &c.ru, &c.en, p.unit.trim(), p.product_group.trim(), &c.kind, p.active.unwrap_or(true));
    audit::record(&mut tx, ctx, "product", &id, "create", 0, audit::diff(&serde_json::json!({}), &after).into())
        .await?;
    tx.commit().await?;
    get(db, ctx, &id).await
}

/// A product's fields as its audit trail records them.
fn audit_json(sku: &str, ru: &str, en: &str, unit: &str, group: &str, kind: &str, active: bool) -> serde_json::Value {
    serde_json::json!({"sku": sku, "name_ru": ru, "name_en": en, "unit": unit, "product_group": group, "kind": kind, "active": active})
}

/// Changes a product (admins, sales managers); prices are replaced when given.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`, `Conflict("sku")`.
pub async fn update(db: &Db, ctx: &Ctx, id: &str, p: &ProductInput) -> Result<Product> {
    ctx.scope(Entity::Product, Action::Update)?;
    let before = get(db, ctx, id).await?;
    let c = check(p)?;
    if sku_taken(db, ctx, &c.sku, id).await? {
        return Err(StoreError::Conflict("sku".into()));
    }
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "UPDATE products SET sku = $1, name_ru = $2, name_en = $3, unit = $4, product_group = $5, kind = $6, \
             active = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10",
        )
        .bind(&c.sku)
        .bind(&c.ru)
        .bind(&c.en)
        .bind(p.unit.trim())
        .bind(p.product_group.trim())
        .bind(&c.kind)
        .bind(p.active.unwrap_or(before.active))
        .bind(now_ms())
        .bind(ctx.tenant_id())
        .bind(id),
    )
    .await?;
    if let Some(prices) = &c.prices {
        write_prices(&mut tx, ctx, id, prices).await?;
    }
    let b = &before;
    let was = audit_json(&b.sku, &b.name_ru, &b.name_en, &b.unit, &b.product_group, &b.kind, b.active);
    let active = p.active.unwrap_or(before.active);
    let now = audit_json(&c.sku, &c.ru, &c.en, p.unit.trim(), p.product_group.trim(), &c.kind, active);
    let mut changes = audit::diff(&was, &now);
    if let Some(prices) = &c.prices {
        let old: Vec<String> =
            b.prices.iter().map(|x| format!("{}: {} {}", x.price_list, x.price, x.currency)).collect();
        let new: Vec<String> = prices
            .iter()
            .map(|(list, cur, minor)| format!("{list}: {} {}", Money::amount_text(*minor, *cur), cur.code()))
            .collect();
        if old != new {
            changes.insert("prices".into(), serde_json::json!({"from": old.join("; "), "to": new.join("; ")}));
        }
    }
    audit::record(&mut tx, ctx, "product", id, "update", 0, changes.into()).await?;
    tx.commit().await?;
    get(db, ctx, id).await
}
