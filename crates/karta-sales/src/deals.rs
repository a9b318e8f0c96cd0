//! Deals: an opportunity moving through the stages of a pipeline, with its account, contacts
//! and their roles, product lines, stage history (time in each stage), the price negotiation
//! log, and closing as won or lost (with a reason and the stage it was lost at), reopening.
//!
//! Every function takes `now` (ms) from the caller's clock, so the stalled and overdue flags
//! and the time in stages can be tested with a controlled clock.

use crate::pipelines::{self, Pipeline, Stage};
use karta_catalog::store as products;
use karta_core::text::norm;
use karta_core::{new_id, Action, Currency, Discount, Entity, FieldError, IsoDate, Money, Quantity, Scope};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Row, Tx, Q};
use karta_kernel::error::{Result, StoreError};
use karta_kernel::events;
use karta_kernel::listq::{self, ListQuery};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

/// Accepts a JSON string or number as text (amounts and quantities come either way).
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        _ => Err(serde::de::Error::custom("expected a string or a number")),
    }
}

/// A contact on a deal with their role in it, as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DealContactInput {
    /// The contact.
    pub contact_id: String,
    /// Role in the deal: `decision_maker`, `influencer`, `user`, `economic_buyer`, `champion`,
    /// `other` or free text.
    pub role: String,
}

/// Roles offered for contacts on a deal.
pub const CONTACT_ROLES: &[&str] = &["decision_maker", "economic_buyer", "influencer", "champion", "user", "other"];

/// A product line as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LineInput {
    /// The product.
    pub product_id: String,
    /// Quantity, e.g. `2` or `1.5` (default 1).
    #[serde(deserialize_with = "text_or_number")]
    pub quantity: String,
    /// Unit price as a decimal; empty takes the product's base price in the deal's currency.
    #[serde(deserialize_with = "text_or_number")]
    pub unit_price: String,
    /// Discount in percent, e.g. `10` or `12.5` (default 0).
    #[serde(deserialize_with = "text_or_number")]
    pub discount: String,
}

/// A deal as entered in a form or the API. On update, empty `owner_id` keeps the owner and an
/// absent `contacts` or `lines` keeps them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DealInput {
    /// Title (required).
    pub title: String,
    /// The customer account.
    pub account_id: String,
    /// Owner (user id; empty = the caller on create, unchanged on update).
    pub owner_id: String,
    /// Pipeline (empty = the first active one).
    pub pipeline_id: String,
    /// Stage (empty = the pipeline's first).
    pub stage_id: String,
    /// Amount as a decimal; ignored when the deal has product lines (their sum rules).
    #[serde(deserialize_with = "text_or_number")]
    pub amount: String,
    /// ISO 4217 currency (empty = the tenant's).
    pub currency: String,
    /// Expected close date, `YYYY-MM-DD` or `DD.MM.YYYY`.
    pub close_date: String,
    /// Win probability 0–100 overriding the stage's; empty = the stage's.
    #[serde(deserialize_with = "text_or_number")]
    pub probability: String,
    /// Where the deal came from.
    pub source: String,
    /// The agreed next step.
    pub next_step: String,
    /// Notes on the deal.
    pub description: String,
    /// Contacts and their roles (absent on update = unchanged).
    pub contacts: Option<Vec<DealContactInput>>,
    /// Product lines (absent on update = unchanged; empty = no lines).
    pub lines: Option<Vec<LineInput>>,
    /// A comment for the negotiation log when the amount or a discount changes.
    pub price_comment: String,
    /// Custom field values by key (see `karta_core::custom`); absent on update = unchanged.
    #[schema(value_type = Option<Object>)]
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A contact on a stored deal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealContact {
    /// The contact.
    pub contact_id: String,
    /// Their name.
    pub name: String,
    /// Role in the deal.
    pub role: String,
}

/// A stored product line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealLine {
    /// Id.
    pub id: String,
    /// The product.
    pub product_id: String,
    /// Product name when added.
    pub name: String,
    /// Quantity in thousandths.
    pub quantity_milli: i64,
    /// Quantity as text.
    pub quantity: String,
    /// Unit price, minor units.
    pub unit_price_minor: i64,
    /// Discount in basis points of a percent (1% = 100).
    pub discount_bp: i64,
    /// Discount as text (`12.5%`).
    pub discount: String,
    /// Line total after discount, minor units, rounded per line.
    pub total_minor: i64,
}

/// A stored deal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deal {
    /// Id.
    pub id: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Title.
    pub title: String,
    /// The account (may be empty).
    pub account_id: String,
    /// Its name.
    pub account_name: String,
    /// Owner.
    pub owner_id: String,
    /// Owner's name.
    pub owner_name: String,
    /// Owner's team, for team scope.
    #[serde(skip)]
    pub owner_team: Option<String>,
    /// Pipeline.
    pub pipeline_id: String,
    /// Stage (for a lost deal, the stage it was lost at).
    pub stage_id: String,
    /// `open`, `won` or `lost`.
    pub status: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Amount as a decimal text.
    pub amount: String,
    /// Currency.
    pub currency: String,
    /// Expected close date (`YYYY-MM-DD` or empty).
    pub close_date: String,
    /// Win probability in effect (override, else the stage's; 100 won, 0 lost).
    pub probability: i64,
    /// The override, if any.
    pub probability_override: Option<i64>,
    /// Source.
    pub source: String,
    /// Next step.
    pub next_step: String,
    /// Description.
    pub description: String,
    /// True when the amount follows product lines.
    pub has_lines: bool,
    /// Lost reason (id in the tenant's list).
    pub lost_reason_id: String,
    /// Lost reason, free text.
    pub lost_reason_text: String,
    /// The stage a lost deal was lost at.
    pub lost_stage_id: String,
    /// When the deal entered its stage (ms).
    pub stage_entered_at: i64,
    /// When it was won or lost (ms).
    pub closed_at: Option<i64>,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// In the trash since (ms).
    pub deleted_at: Option<i64>,
    /// Open with the expected close date passed.
    pub overdue: bool,
    /// Open and longer in its stage than the stage allows.
    pub stalled: bool,
    /// Contacts (on a single deal only).
    pub contacts: Vec<DealContact>,
    /// Lines (on a single deal only).
    pub lines: Vec<DealLine>,
    /// Custom field values by key.
    #[schema(value_type = Object)]
    pub custom: serde_json::Map<String, serde_json::Value>,
}

impl Deal {
    /// The amount as money.
    #[must_use]
    pub fn money(&self) -> Option<Money> {
        Currency::parse(&self.currency, "currency").ok().map(|c| Money::new(self.amount_minor, c))
    }

    /// Days in the current stage at `now`.
    #[must_use]
    pub fn days_in_stage(&self, now: i64) -> i64 {
        (self.closed_at.unwrap_or(now) - self.stage_entered_at).max(0) / DAY_MS
    }

    /// The deal as input, to change a few fields and save.
    #[must_use]
    pub fn to_input(&self) -> DealInput {
        DealInput {
            title: self.title.clone(),
            account_id: self.account_id.clone(),
            owner_id: self.owner_id.clone(),
            pipeline_id: self.pipeline_id.clone(),
            stage_id: self.stage_id.clone(),
            amount: self.amount.clone(),
            currency: self.currency.clone(),
            close_date: self.close_date.clone(),
            probability: self.probability_override.map(|p| p.to_string()).unwrap_or_default(),
            source: self.source.clone(),
            next_step: self.next_step.clone(),
            description: self.description.clone(),
            contacts: None,
            lines: None,
            price_comment: String::new(),
            custom: None,
        }
    }
}

pub use karta_core::clock::today;

/// The columns every deal query selects (deal `t`, owner `u`, account `a`, stage `s`).
const SELECT: &str = "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team, a.name AS account_name, \
     s.probability AS stage_probability, s.max_days AS stage_max_days";
const JOINS: &str = "LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
     LEFT JOIN accounts a ON a.tenant_id = t.tenant_id AND a.id = t.account_id \
     LEFT JOIN stages s ON s.tenant_id = t.tenant_id AND s.id = t.stage_id";

fn from_row(r: &Row, now: i64) -> Deal {
    let status = r.s("status");
    let open = status == "open";
    let currency = r.s("currency");
    let amount_minor = r.i("amount");
    let amount =
        Currency::parse(&currency, "currency").map(|c| Money::amount_text(amount_minor, c)).unwrap_or_default();
    let probability_override = r.oi("probability");
    let probability = match status.as_str() {
        "won" => 100,
        "lost" => 0,
        _ => probability_override.unwrap_or_else(|| r.i("stage_probability")),
    };
    let close_date = r.s("close_date");
    let entered = r.i("stage_entered_at");
    let stalled = open && r.oi("stage_max_days").is_some_and(|d| now - entered > d * DAY_MS);
    let overdue = open && !close_date.is_empty() && close_date < today(now);
    Deal {
        id: r.s("id"),
        version: r.i("version"),
        title: r.s("title"),
        account_id: r.s("account_id"),
        account_name: r.s("account_name"),
        owner_id: r.s("owner_id"),
        owner_name: r.s("owner_name"),
        owner_team: r.os("owner_team"),
        pipeline_id: r.s("pipeline_id"),
        stage_id: r.s("stage_id"),
        status,
        amount_minor,
        amount,
        currency,
        close_date,
        probability,
        probability_override,
        source: r.s("source"),
        next_step: r.s("next_step"),
        description: r.s("description"),
        has_lines: r.i("has_lines") != 0,
        lost_reason_id: r.s("lost_reason_id"),
        lost_reason_text: r.s("lost_reason_text"),
        lost_stage_id: r.s("lost_stage_id"),
        stage_entered_at: entered,
        closed_at: r.oi("closed_at"),
        created_at: r.i("created_at"),
        updated_at: r.i("updated_at"),
        deleted_at: r.oi("deleted_at"),
        overdue,
        stalled,
        contacts: Vec::new(),
        lines: Vec::new(),
        custom: serde_json::from_str(&r.s("custom")).unwrap_or_default(),
    }
}

async fn load(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Option<Deal>> {
    let r = db
        .opt(
            Q::new(format!("{SELECT} FROM deals t {JOINS} WHERE t.tenant_id = $1 AND t.id = $2"))
                .bind(ctx.tenant_id())
                .bind(id),
        )
        .await?;
    Ok(r.map(|r| from_row(&r, now)))
}

/// A deal the caller may `action` (live, or in the trash with `trash`), without contacts and
/// lines.
async fn load_for(db: &Db, ctx: &Ctx, id: &str, now: i64, action: Action, trash: bool) -> Result<Deal> {
    let read = ctx.scope(Entity::Deal, Action::Read)?;
    let d = load(db, ctx, id, now).await?.ok_or(StoreError::NotFound)?;
    if d.deleted_at.is_some() != trash || !ctx.reaches(read, &d.owner_id, d.owner_team.as_deref()) {
        return Err(StoreError::NotFound);
    }
    if !ctx.reaches(ctx.scope(Entity::Deal, action)?, &d.owner_id, d.owner_team.as_deref()) {
        return Err(StoreError::Forbidden);
    }
    Ok(d)
}

async fn with_details(db: &Db, ctx: &Ctx, mut d: Deal) -> Result<Deal> {
    let rows = db
        .all(
            Q::new(
                "SELECT dc.contact_id, dc.role, c.name FROM deal_contacts dc \
                 JOIN contacts c ON c.tenant_id = dc.tenant_id AND c.id = dc.contact_id \
                 WHERE dc.tenant_id = $1 AND dc.deal_id = $2 AND c.deleted_at IS NULL ORDER BY c.name_key, c.id",
            )
            .bind(ctx.tenant_id())
            .bind(&d.id),
        )
        .await?;
    d.contacts = rows
        .iter()
        .map(|r| DealContact { contact_id: r.s("contact_id"), name: r.s("name"), role: r.s("role") })
        .collect();
    let rows = db
        .all(
            Q::new("SELECT * FROM deal_lines WHERE tenant_id = $1 AND deal_id = $2 ORDER BY position, id")
                .bind(ctx.tenant_id())
                .bind(&d.id),
        )
        .await?;
    d.lines = rows
        .iter()
        .map(|r| {
            let q = r.i("quantity");
            let disc = r.i("discount");
            DealLine {
                id: r.s("id"),
                product_id: r.s("product_id"),
                name: r.s("name"),
                quantity_milli: q,
                quantity: Quantity::from_milli(q).map(|q| q.to_string()).unwrap_or_default(),
                unit_price_minor: r.i("unit_price"),
                discount_bp: disc,
                discount: Discount::from_bp(disc).map(|d| d.to_string()).unwrap_or_default(),
                total_minor: r.i("total"),
            }
        })
        .collect();
    Ok(d)
}

/// A live deal the caller may read, with its contacts and lines.
///
/// # Errors
/// `NotFound` when missing, trashed or outside the caller's scope.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn get(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Deal> {
    let d = load_for(db, ctx, id, now, Action::Read, false).await?;
    with_details(db, ctx, d).await
}

/// A deal in the trash the caller may restore, with its contacts and lines.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn get_trashed(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Deal> {
    let d = load_for(db, ctx, id, now, Action::Delete, true).await?;
    with_details(db, ctx, d).await
}

async fn tenant_currency(db: &Db, ctx: &Ctx) -> Result<Currency> {
    let r = db.opt(Q::new("SELECT currency FROM tenants WHERE id = $1").bind(ctx.tenant_id())).await?;
    Ok(r.and_then(|r| Currency::parse(&r.s("currency"), "currency").ok())
        .unwrap_or_else(|| Currency::parse("RUB", "currency").unwrap_or(Currency::ALL[0])))
}

/// A validated deal ready to write.
struct Checked {
    title: String,
    account_id: String,
    owner_id: String,
    pipeline: Pipeline,
    stage: Stage,
    currency: Currency,
    amount: i64,
    close_date: String,
    probability: Option<i64>,
    source: String,
    next_step: String,
    description: String,
    contacts: Option<Vec<DealContactInput>>,
    lines: Option<Vec<NewLine>>,
    custom: serde_json::Map<String, serde_json::Value>,
    custom_search: String,
}

struct NewLine {
    product_id: String,
    name: String,
    quantity: i64,
    unit_price: i64,
    discount: i64,
    total: i64,
}

fn text(v: &str, field: &str, max: usize, errs: &mut Vec<FieldError>) -> String {
    let v = v.trim();
    if v.chars().count() > max {
        errs.push(FieldError::new(field, "too_long"));
    }
    v.to_string()
}

/// Parses and checks a deal against the tenant's pipelines, products and the caller's scope.
/// `before` is the stored deal on update.
async fn check(db: &Db, ctx: &Ctx, raw: &DealInput, before: Option<&Deal>, scope: Scope) -> Result<Checked> {
    let mut errs: Vec<FieldError> = Vec::new();
    let title = text(&raw.title, "title", 300, &mut errs);
    if title.is_empty() {
        errs.push(FieldError::new("title", "required"));
    }
    // Owner: the caller on create, unchanged when left empty on update.
    let owner_id = match (raw.owner_id.trim(), before) {
        ("", Some(b)) => b.owner_id.clone(),
        ("", None) => ctx.user_id().to_string(),
        (o, _) => o.to_string(),
    };
    if before.is_none_or(|b| b.owner_id != owner_id) && !ctx.may_assign(db, scope, &owner_id).await? {
        errs.push(FieldError::new("owner_id", "invalid_choice"));
    }
    // Pipeline and stage.
    let pipes = pipelines::list(db, ctx).await?;
    let pid = raw.pipeline_id.trim();
    let pipeline = if pid.is_empty() {
        before
            .and_then(|b| pipes.iter().find(|p| p.id == b.pipeline_id))
            .or_else(|| pipes.iter().find(|p| p.active && !p.stages.is_empty()))
    } else {
        pipes.iter().find(|p| p.id == pid)
    };
    let Some(pipeline) = pipeline.cloned() else {
        return Err(StoreError::field("pipeline_id", "not_found"));
    };
    if !pipeline.active && before.is_none_or(|b| b.pipeline_id != pipeline.id) {
        return Err(StoreError::field("pipeline_id", "invalid_choice"));
    }
    let sid = raw.stage_id.trim();
    let stage = if sid.is_empty() {
        before.and_then(|b| pipeline.stage(&b.stage_id)).or_else(|| pipeline.stages.first())
    } else {
        pipeline.stage(sid)
    };
    let Some(stage) = stage.cloned() else {
        return Err(StoreError::field("stage_id", "not_found"));
    };
    // Money.
    let currency = if raw.currency.trim().is_empty() {
        match before {
            Some(b) => Currency::parse(&b.currency, "currency").map_err(|e| StoreError::Invalid(vec![e]))?,
            None => tenant_currency(db, ctx).await?,
        }
    } else {
        match Currency::parse(&raw.currency, "currency") {
            Ok(c) => c,
            Err(e) => {
                errs.push(e);
                tenant_currency(db, ctx).await?
            }
        }
    };
    let mut amount = 0;
    if !raw.amount.trim().is_empty() {
        match Money::parse(&raw.amount, currency, "amount") {
            Ok(m) if m.minor < 0 => errs.push(FieldError::new("amount", "invalid_money")),
            Ok(m) => amount = m.minor,
            Err(e) => errs.push(e),
        }
    }
    let close_date = if raw.close_date.trim().is_empty() {
        String::new()
    } else {
        match IsoDate::parse(&raw.close_date, "close_date") {
            Ok(d) => d.as_str().to_string(),
            Err(e) => {
                errs.push(e);
                String::new()
            }
        }
    };
    let probability = match raw.probability.trim() {
        "" => None,
        p => match p.trim_end_matches('%').trim().parse::<i64>() {
            Ok(v) if (0..=100).contains(&v) => Some(v),
            _ => {
                errs.push(FieldError::new("probability", "invalid_value"));
                None
            }
        },
    };
    let source = text(&raw.source, "source", 200, &mut errs);
    let next_step = text(&raw.next_step, "next_step", 500, &mut errs);
    let description = text(&raw.description, "description", 20_000, &mut errs);
    // The account and contacts must be records the caller can see.
    let account_id = raw.account_id.trim().to_string();
    if !account_id.is_empty() && before.is_none_or(|b| b.account_id != account_id) {
        match karta_parties::parties::get(db, ctx, Entity::Account, &account_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound | StoreError::Forbidden) => errs.push(FieldError::new("account_id", "not_found")),
            Err(e) => return Err(e),
        }
    }
    let mut contacts = None;
    if let Some(list) = &raw.contacts {
        let mut out: Vec<DealContactInput> = Vec::new();
        for (i, c) in list.iter().enumerate() {
            let cid = c.contact_id.trim().to_string();
            if cid.is_empty() || out.iter().any(|o| o.contact_id == cid) {
                continue;
            }
            match karta_parties::parties::get(db, ctx, Entity::Contact, &cid).await {
                Ok(_) => {}
                Err(StoreError::NotFound | StoreError::Forbidden) => {
                    errs.push(FieldError::new(format!("contacts[{i}].contact_id"), "not_found"));
                }
                Err(e) => return Err(e),
            }
            let role = text(&c.role, &format!("contacts[{i}].role"), 100, &mut errs);
            out.push(DealContactInput { contact_id: cid, role });
        }
        contacts = Some(out);
    }
    let mut lines = None;
    if let Some(list) = &raw.lines {
        if list.len() > 500 {
            errs.push(FieldError::new("lines", "too_long"));
        }
        let ids: Vec<String> = list.iter().map(|l| l.product_id.trim().to_string()).collect();
        let prods = products::by_ids(db, ctx, &ids).await?;
        let mut out = Vec::new();
        for (i, l) in list.iter().enumerate() {
            let f = |x: &str| format!("lines[{i}].{x}");
            let Some(p) = prods.iter().find(|p| p.id == l.product_id.trim()) else {
                errs.push(FieldError::new(f("product_id"), "not_found"));
                continue;
            };
            let existing = before.is_some_and(|b| b.lines.iter().any(|x| x.product_id == p.id));
            if !p.active && !existing {
                errs.push(FieldError::new(f("product_id"), "invalid_choice"));
            }
            let qty = if l.quantity.trim().is_empty() {
                Ok(Quantity::ONE)
            } else {
                Quantity::parse(&l.quantity, &f("quantity"))
            };
            let price = if l.unit_price.trim().is_empty() {
                p.price_in(currency.code()).ok_or_else(|| FieldError::new(f("unit_price"), "required"))
            } else {
                Money::parse(&l.unit_price, currency, &f("unit_price")).and_then(|m| {
                    if m.minor < 0 {
                        Err(FieldError::new(f("unit_price"), "invalid_money"))
                    } else {
                        Ok(m.minor)
                    }
                })
            };
            let disc = if l.discount.trim().is_empty() {
                Ok(Discount::NONE)
            } else {
                Discount::parse(&l.discount, &f("discount"))
            };
            match (qty, price, disc) {
                (Ok(q), Ok(pr), Ok(d)) => match karta_core::money::line_total(q, pr, d) {
                    Ok(total) => out.push(NewLine {
                        product_id: p.id.clone(),
                        name: p.name("ru").to_string(),
                        quantity: q.milli(),
                        unit_price: pr,
                        discount: d.bp(),
                        total,
                    }),
                    Err(code) => errs.push(FieldError::new(f("quantity"), code)),
                },
                (q, pr, d) => errs.extend([q.err(), pr.err(), d.err()].into_iter().flatten()),
            }
        }
        if !out.is_empty() {
            match karta_core::money::sum_totals(&out.iter().map(|l| l.total).collect::<Vec<_>>()) {
                Ok(sum) => amount = sum,
                Err(code) => errs.push(FieldError::new("lines", code)),
            }
        }
        lines = Some(out);
    } else if let Some(b) = before.filter(|b| b.has_lines) {
        // Lines kept: the amount stays their sum whatever was typed.
        amount = b.amount_minor;
    }
    let (custom, custom_search) = match (&raw.custom, before) {
        (None, Some(b)) => {
            (b.custom.clone(), karta_kernel::fields::search_words(db, ctx, Entity::Deal, &b.custom).await?)
        }
        (given, b) => {
            let empty = serde_json::Map::new();
            let cv = karta_kernel::fields::check_values(
                db,
                ctx,
                Entity::Deal,
                given.as_ref().unwrap_or(&empty),
                b.map(|b| &b.custom),
            )
            .await?;
            errs.extend(cv.errors);
            (cv.values, cv.search)
        }
    };
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    Ok(Checked {
        title,
        account_id,
        owner_id,
        pipeline,
        stage,
        currency,
        amount,
        close_date,
        probability,
        source,
        next_step,
        description,
        contacts,
        lines,
        custom,
        custom_search,
    })
}

/// The fields a stage requires that the deal lacks (empty: it may enter).
fn missing_for(stage: &Stage, c: &Checked, has_contacts: bool, has_lines: bool) -> Vec<FieldError> {
    stage
        .required_fields
        .iter()
        .filter(|f| match f.as_str() {
            "amount" => c.amount <= 0,
            "close_date" => c.close_date.is_empty(),
            "account" => c.account_id.is_empty(),
            "contacts" => !has_contacts,
            "next_step" => c.next_step.is_empty(),
            "source" => c.source.is_empty(),
            "lines" => !has_lines,
            _ => false,
        })
        .map(|f| {
            let field = match f.as_str() {
                "account" => "account_id",
                other => other,
            };
            FieldError::new(field, "required_for_stage")
        })
        .collect()
}

/// The user a deal goes to on entering `stage`: its responsible employee, or the member of
/// its team with the fewest open deals. `None` when the stage has no one or it is the owner.
async fn handover_to(db: &Db, ctx: &Ctx, stage: &Stage, owner: &str) -> Result<Option<String>> {
    if !stage.responsible_user_id.is_empty() {
        let u = karta_kernel::users::by_id(db, ctx.tenant_id(), &stage.responsible_user_id).await?;
        return Ok(u.filter(|u| !u.disabled && u.id != owner).map(|u| u.id));
    }
    if stage.responsible_team_id.is_empty() {
        return Ok(None);
    }
    let r = db
        .opt(
            Q::new(
                "SELECT u.id, (SELECT COUNT(*) FROM deals d WHERE d.tenant_id = u.tenant_id AND d.owner_id = u.id \
                 AND d.status = 'open' AND d.deleted_at IS NULL) AS n FROM users u \
                 WHERE u.tenant_id = $1 AND u.team_id = $2 AND u.disabled = 0 AND u.role <> 'read_only' ORDER BY n, u.id LIMIT 1",
            )
            .bind(ctx.tenant_id())
            .bind(&stage.responsible_team_id),
        )
        .await?;
    // Someone of the team already owning it keeps it.
    let owner_in_team = db
        .opt(
            Q::new("SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND team_id = $3")
                .bind(ctx.tenant_id())
                .bind(owner)
                .bind(&stage.responsible_team_id),
        )
        .await?
        .is_some();
    Ok(if owner_in_team { None } else { r.map(|r| r.s("id")) })
}

async fn stage_event(tx: &mut Tx, ctx: &Ctx, now: i64, deal: &str, from: (&str, &str), to: (&str, &str)) -> Result<()> {
    tx.exec(
        Q::new(
            "INSERT INTO deal_stage_history (tenant_id, id, deal_id, at, user_id, from_stage_id, to_stage_id, from_status, to_status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ctx.tenant_id())
        .bind(new_id())
        .bind(deal)
        .bind(now)
        .bind(ctx.user_id())
        .bind(from.0)
        .bind(to.0)
        .bind(from.1)
        .bind(to.1),
    )
    .await?;
    if from.1 == "open" && to.1 == "open" && from.0 != to.0 && !from.0.is_empty() {
        // The domain moment "a deal moved", beside the change event of the record.
        events::emit(
            tx,
            events::NewEvent {
                tenant_id: ctx.tenant_id(),
                user_id: ctx.user_id(),
                kind: "deal.moved",
                entity: "deal",
                record_id: deal,
                version: 0,
                data: json!({"from_stage_id": from.0, "to_stage_id": to.0, "at": now}),
            },
        )
        .await?;
    }
    Ok(())
}

/// The domain moment "a deal was handed over" to `owner` on entering a stage with a
/// responsible employee; the handover's notification is made from it.
async fn handed_over_event(tx: &mut Tx, ctx: &Ctx, now: i64, deal: &str, owner: &str, title: &str) -> Result<()> {
    events::emit(
        tx,
        events::NewEvent {
            tenant_id: ctx.tenant_id(),
            user_id: ctx.user_id(),
            kind: "deal.handed_over",
            entity: "deal",
            record_id: deal,
            version: 0,
            data: json!({"owner_id": owner, "title": title, "at": now}),
        },
    )
    .await?;
    Ok(())
}

/// The handover's notification, made by the notifications consumer from `deal.handed_over`.
#[must_use]
pub fn handover_notice(e: &events::Event) -> Option<karta_kernel::notify::Draft> {
    Some(karta_kernel::notify::Draft {
        user_id: e.data["owner_id"].as_str()?.to_string(),
        kind: "handover",
        title: e.data["title"].as_str().unwrap_or_default().to_string(),
        link: format!("/deals/{}", e.record_id),
        at: e.data["at"].as_i64().unwrap_or(e.at),
    })
}

/// Logs a price change: `change` is (what, before, after).
async fn price_event(
    tx: &mut Tx,
    ctx: &Ctx,
    now: i64,
    deal: &str,
    change: (&str, &str, &str),
    comment: &str,
) -> Result<()> {
    let (what, old, new) = change;
    tx.exec(
        Q::new(
            "INSERT INTO deal_price_log (tenant_id, id, deal_id, at, user_id, what, old_value, new_value, comment) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ctx.tenant_id())
        .bind(new_id())
        .bind(deal)
        .bind(now)
        .bind(ctx.user_id())
        .bind(what)
        .bind(old)
        .bind(new)
        .bind(comment.trim()),
    )
    .await?;
    Ok(())
}

async fn write_children(tx: &mut Tx, ctx: &Ctx, id: &str, c: &Checked) -> Result<()> {
    if let Some(contacts) = &c.contacts {
        tx.exec(
            Q::new("DELETE FROM deal_contacts WHERE tenant_id = $1 AND deal_id = $2").bind(ctx.tenant_id()).bind(id),
        )
        .await?;
        for dc in contacts {
            tx.exec(
                Q::new("INSERT INTO deal_contacts (tenant_id, deal_id, contact_id, role) VALUES ($1, $2, $3, $4)")
                    .bind(ctx.tenant_id())
                    .bind(id)
                    .bind(&dc.contact_id)
                    .bind(&dc.role),
            )
            .await?;
        }
    }
    if let Some(lines) = &c.lines {
        tx.exec(Q::new("DELETE FROM deal_lines WHERE tenant_id = $1 AND deal_id = $2").bind(ctx.tenant_id()).bind(id))
            .await?;
        for (i, l) in lines.iter().enumerate() {
            tx.exec(
                Q::new(
                    "INSERT INTO deal_lines (tenant_id, id, deal_id, position, product_id, name, quantity, unit_price, discount, total) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(ctx.tenant_id())
                .bind(new_id())
                .bind(id)
                .bind(i as i64)
                .bind(&l.product_id)
                .bind(&l.name)
                .bind(l.quantity)
                .bind(l.unit_price)
                .bind(l.discount)
                .bind(l.total),
            )
            .await?;
        }
    }
    Ok(())
}

fn search_text(c: &Checked, account_name: &str) -> String {
    search_text_of(&c.title, account_name, &c.next_step, &c.custom_search)
}

fn search_text_of(title: &str, account_name: &str, next_step: &str, custom_search: &str) -> String {
    [norm(title), norm(account_name), norm(next_step), custom_search.to_string()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Rebuilds the search text of the deals of `account_ids`, which holds each deal's account
/// name: run in the transaction that renamed an account, merged accounts or undid a merge,
/// so a deal is found by its account's current name and no longer by the old one.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), accounts = account_ids.len()))]
pub async fn refresh_account_search(tx: &mut Tx, db: &Db, ctx: &Ctx, account_ids: &[&str]) -> Result<()> {
    let Some(q) = account_deals_q(ctx, account_ids) else { return Ok(()) };
    let defs = karta_kernel::fields::list(db, ctx, Entity::Deal, true).await?;
    let rows = tx.all(q).await?;
    for q in search_updates(ctx, &defs, &rows) {
        tx.exec(q).await?;
    }
    Ok(())
}

/// The deals of `account_ids` (in the tenant, whoever may see them: their search text is
/// derived data), with what their search text is built from.
pub fn account_deals_q(ctx: &Ctx, account_ids: &[&str]) -> Option<Q> {
    if account_ids.is_empty() {
        return None;
    }
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let list: Vec<String> = account_ids.iter().map(|a| q.arg(*a)).collect();
    q.sql = format!(
        "SELECT d.id, d.title, d.next_step, d.custom, d.search_text, a.name AS account_name FROM deals d \
         JOIN accounts a ON a.tenant_id = d.tenant_id AND a.id = d.account_id \
         WHERE d.tenant_id = {t} AND d.account_id IN ({})",
        list.join(", ")
    );
    Some(q)
}

/// Updates for the rows of [`account_deals_q`] whose search text is not what it should be:
/// one statement per 200 deals.
pub fn search_updates(ctx: &Ctx, defs: &[karta_core::custom::FieldDef], rows: &[Row]) -> Vec<Q> {
    let stale: Vec<(String, String)> = rows
        .iter()
        .filter_map(|r| {
            let custom: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&r.s("custom")).unwrap_or_default();
            let custom_search = karta_core::custom::search_text(defs, &custom);
            let text = search_text_of(&r.s("title"), &r.s("account_name"), &r.s("next_step"), &custom_search);
            (text != r.s("search_text")).then(|| (r.s("id"), text))
        })
        .collect();
    stale
        .chunks(200)
        .map(|chunk| {
            let mut q = Q::new("");
            let t = q.arg(ctx.tenant_id());
            let (mut cases, mut ids) = (String::new(), Vec::new());
            for (id, text) in chunk {
                let (i, x) = (q.arg(id), q.arg(text));
                cases.push_str(&format!(" WHEN {i} THEN {x}"));
                ids.push(i);
            }
            q.sql = format!(
                "UPDATE deals SET search_text = CASE id{cases} END WHERE tenant_id = {t} AND id IN ({})",
                ids.join(", ")
            );
            q
        })
        .collect()
}

async fn account_name(db: &Db, ctx: &Ctx, id: &str) -> Result<String> {
    if id.is_empty() {
        return Ok(String::new());
    }
    let r = db
        .opt(Q::new("SELECT name FROM accounts WHERE tenant_id = $1 AND id = $2").bind(ctx.tenant_id()).bind(id))
        .await?;
    Ok(r.map(|r| r.s("name")).unwrap_or_default())
}

/// The audited view of a deal's fields.
fn audit_json(c: &Checked, owner: &str, stage: &str) -> serde_json::Value {
    json!({
        "title": c.title, "account_id": c.account_id, "owner_id": owner, "pipeline_id": c.pipeline.id,
        "stage_id": stage, "amount": Money::amount_text(c.amount, c.currency), "currency": c.currency.code(),
        "close_date": c.close_date, "probability": c.probability, "source": c.source, "next_step": c.next_step,
        "description": c.description, "custom": c.custom,
    })
}

fn audit_of(d: &Deal) -> serde_json::Value {
    json!({
        "title": d.title, "account_id": d.account_id, "owner_id": d.owner_id, "pipeline_id": d.pipeline_id,
        "stage_id": d.stage_id, "amount": d.amount, "currency": d.currency, "close_date": d.close_date,
        "probability": d.probability_override, "source": d.source, "next_step": d.next_step, "description": d.description,
        "custom": d.custom,
    })
}

/// Creates a deal; it enters its stage like a move would (required fields, handover).
///
/// # Errors
/// `Forbidden`, `Invalid` (with `required_for_stage` for fields the stage needs).
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn create(db: &Db, ctx: &Ctx, now: i64, raw: &DealInput) -> Result<Deal> {
    let scope = ctx.scope(Entity::Deal, Action::Create)?;
    let c = check(db, ctx, raw, None, scope).await?;
    let has_contacts = c.contacts.as_ref().is_some_and(|v| !v.is_empty());
    let has_lines = c.lines.as_ref().is_some_and(|v| !v.is_empty());
    let missing = missing_for(&c.stage, &c, has_contacts, has_lines);
    if !missing.is_empty() {
        return Err(StoreError::Invalid(missing));
    }
    let mut owner = c.owner_id.clone();
    let handover = handover_to(db, ctx, &c.stage, &owner).await?;
    if let Some(h) = &handover {
        owner.clone_from(h);
    }
    let id = new_id();
    let acc = account_name(db, ctx, &c.account_id).await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO deals (tenant_id, id, version, title, title_key, account_id, owner_id, pipeline_id, stage_id, status, \
             amount, currency, close_date, probability, source, next_step, description, has_lines, stage_entered_at, search_text, \
             created_at, created_by, updated_at, updated_by, custom) \
             VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $17, $19, $17, $19, $20)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(&c.title)
        .bind(norm(&c.title))
        .bind(&c.account_id)
        .bind(&owner)
        .bind(&c.pipeline.id)
        .bind(&c.stage.id)
        .bind(c.amount)
        .bind(c.currency.code())
        .bind(&c.close_date)
        .bind(c.probability)
        .bind(&c.source)
        .bind(&c.next_step)
        .bind(&c.description)
        .bind(has_lines)
        .bind(now)
        .bind(search_text(&c, &acc))
        .bind(ctx.user_id())
        .bind(serde_json::Value::Object(c.custom.clone()).to_string()),
    )
    .await?;
    write_children(&mut tx, ctx, &id, &c).await?;
    stage_event(&mut tx, ctx, now, &id, ("", ""), (&c.stage.id, "open")).await?;
    if c.amount != 0 {
        price_event(
            &mut tx,
            ctx,
            now,
            &id,
            ("amount", "", &Money::amount_text(c.amount, c.currency)),
            &raw.price_comment,
        )
        .await?;
    }
    audit::record(&mut tx, ctx, "deal", &id, "create", 1, audit_json(&c, &owner, &c.stage.id)).await?;
    if let Some(h) = &handover {
        handed_over_event(&mut tx, ctx, now, &id, h, &c.title).await?;
        crate::hooks::handed_over(
            &mut tx,
            ctx,
            crate::hooks::HandedOver { now, owner: h, deal_id: &id, account_id: &c.account_id, title: &c.title },
        )
        .await?;
    }
    tx.commit().await?;
    get_any(db, ctx, &id, now).await
}

/// Reads a deal after a write without the caller's read scope: a handover may have given it
/// to someone else, and the writer still gets the result of their act.
async fn get_any(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Deal> {
    let d = load(db, ctx, id, now).await?.ok_or(StoreError::NotFound)?;
    with_details(db, ctx, d).await
}

async fn stale(db: &Db, ctx: &Ctx, id: &str, since: i64, now: i64) -> StoreError {
    let current = load(db, ctx, id, now).await.ok().flatten().map_or(0, |d| d.version);
    match audit::changes_since(db, ctx, "deal", id, since).await {
        Ok(changes) => StoreError::Stale { current, changes },
        Err(e) => e,
    }
}

/// Changes a deal from the version the caller edited. A stage change checks the stage's
/// required fields, records the move and hands the deal over; amount and discount changes go
/// to the negotiation log with `price_comment`.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Stale`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), id))]
pub async fn update(db: &Db, ctx: &Ctx, now: i64, id: &str, version: i64, raw: &DealInput) -> Result<Deal> {
    let before = load_for(db, ctx, id, now, Action::Update, false).await?;
    if before.version != version {
        return Err(stale(db, ctx, id, version, now).await);
    }
    let before = with_details(db, ctx, before).await?;
    let scope = ctx.scope(Entity::Deal, Action::Update)?;
    let c = check(db, ctx, raw, Some(&before), scope).await?;
    let stage_changed = c.stage.id != before.stage_id || c.pipeline.id != before.pipeline_id;
    if stage_changed && before.status != "open" {
        return Err(StoreError::field("stage_id", "deal_closed"));
    }
    let has_contacts = c.contacts.as_ref().map_or(!before.contacts.is_empty(), |v| !v.is_empty());
    let has_lines = c.lines.as_ref().map_or(before.has_lines, |v| !v.is_empty());
    if stage_changed {
        let missing = missing_for(&c.stage, &c, has_contacts, has_lines);
        if !missing.is_empty() {
            return Err(StoreError::Invalid(missing));
        }
    }
    let mut owner = c.owner_id.clone();
    let handover = if stage_changed { handover_to(db, ctx, &c.stage, &owner).await? } else { None };
    if let Some(h) = &handover {
        owner.clone_from(h);
    }
    let mut changes = audit::diff(&audit_of(&before), &audit_json(&c, &owner, &c.stage.id));
    let old_lines: Vec<(String, i64, i64, i64)> = before
        .lines
        .iter()
        .map(|l| (l.product_id.clone(), l.quantity_milli, l.unit_price_minor, l.discount_bp))
        .collect();
    let new_lines: Option<Vec<(String, i64, i64, i64)>> = c
        .lines
        .as_ref()
        .map(|v| v.iter().map(|l| (l.product_id.clone(), l.quantity, l.unit_price, l.discount)).collect());
    if new_lines.as_ref().is_some_and(|n| *n != old_lines) {
        changes.insert("lines".into(), json!({"from": old_lines.len(), "to": new_lines.as_ref().map_or(0, Vec::len)}));
    }
    let old_contacts: Vec<(String, String)> =
        before.contacts.iter().map(|x| (x.contact_id.clone(), x.role.clone())).collect();
    if let Some(nc) = &c.contacts {
        let nc: Vec<(String, String)> = nc.iter().map(|x| (x.contact_id.clone(), x.role.clone())).collect();
        let mut a = old_contacts.clone();
        let mut b = nc.clone();
        a.sort();
        b.sort();
        if a != b {
            changes.insert("contacts".into(), json!({"from": old_contacts.len(), "to": nc.len()}));
        }
    }
    if changes.is_empty() {
        return Ok(before);
    }
    let v = before.version + 1;
    let acc = account_name(db, ctx, &c.account_id).await?;
    let entered = if stage_changed { now } else { before.stage_entered_at };
    let mut tx = db.begin().await?;
    let n = tx
        .exec(
            Q::new(
                "UPDATE deals SET version = $1, title = $2, title_key = $3, account_id = $4, owner_id = $5, pipeline_id = $6, \
                 stage_id = $7, amount = $8, currency = $9, close_date = $10, probability = $11, source = $12, next_step = $13, \
                 description = $14, has_lines = $15, stage_entered_at = $16, search_text = $17, updated_at = $18, updated_by = $19, \
                 custom = $23 WHERE tenant_id = $20 AND id = $21 AND version = $22",
            )
            .bind(v)
            .bind(&c.title)
            .bind(norm(&c.title))
            .bind(&c.account_id)
            .bind(&owner)
            .bind(&c.pipeline.id)
            .bind(&c.stage.id)
            .bind(c.amount)
            .bind(c.currency.code())
            .bind(&c.close_date)
            .bind(c.probability)
            .bind(&c.source)
            .bind(&c.next_step)
            .bind(&c.description)
            .bind(has_lines)
            .bind(entered)
            .bind(search_text(&c, &acc))
            .bind(now)
            .bind(ctx.user_id())
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(before.version)
            .bind(serde_json::Value::Object(c.custom.clone()).to_string()),
        )
        .await?;
    if n == 0 {
        drop(tx);
        return Err(stale(db, ctx, id, version, now).await);
    }
    write_children(&mut tx, ctx, id, &c).await?;
    if stage_changed {
        stage_event(&mut tx, ctx, now, id, (&before.stage_id, "open"), (&c.stage.id, "open")).await?;
    }
    let new_amount = Money::amount_text(c.amount, c.currency);
    if c.amount != before.amount_minor || c.currency.code() != before.currency {
        let old = format!("{} {}", before.amount, before.currency);
        price_event(
            &mut tx,
            ctx,
            now,
            id,
            ("amount", &old, &format!("{new_amount} {}", c.currency.code())),
            &raw.price_comment,
        )
        .await?;
    }
    if let Some(nl) = &c.lines {
        for l in nl {
            let old = before.lines.iter().find(|o| o.product_id == l.product_id);
            let (old_d, old_p) = old.map_or((0, -1), |o| (o.discount_bp, o.unit_price_minor));
            if old.is_some() && (old_d != l.discount || old_p != l.unit_price) {
                let show = |d: i64, p: i64| {
                    format!(
                        "{} × {} −{}",
                        l.name,
                        Money::amount_text(p, c.currency),
                        Discount::from_bp(d).map(|d| d.to_string()).unwrap_or_default()
                    )
                };
                price_event(
                    &mut tx,
                    ctx,
                    now,
                    id,
                    ("line", &show(old_d, old_p), &show(l.discount, l.unit_price)),
                    &raw.price_comment,
                )
                .await?;
            } else if old.is_none() && l.discount != 0 {
                let d = Discount::from_bp(l.discount).map(|d| d.to_string()).unwrap_or_default();
                price_event(&mut tx, ctx, now, id, ("discount", "", &format!("{}: {d}", l.name)), &raw.price_comment)
                    .await?;
            }
        }
    }
    audit::record(&mut tx, ctx, "deal", id, "update", v, serde_json::Value::Object(changes)).await?;
    if let Some(h) = &handover {
        handed_over_event(&mut tx, ctx, now, id, h, &c.title).await?;
        crate::hooks::handed_over(
            &mut tx,
            ctx,
            crate::hooks::HandedOver { now, owner: h, deal_id: id, account_id: &c.account_id, title: &c.title },
        )
        .await?;
    }
    tx.commit().await?;
    get_any(db, ctx, id, now).await
}

/// Fields filled in while moving a card to a stage that requires them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MoveInput {
    /// The target stage.
    pub stage_id: String,
    /// The version the mover saw (optional: the board may move without it).
    pub version: Option<i64>,
    /// Amount, when the stage requires it.
    #[serde(deserialize_with = "text_or_number")]
    pub amount: String,
    /// Expected close date.
    pub close_date: String,
    /// Next step.
    pub next_step: String,
    /// Account.
    pub account_id: String,
    /// Source.
    pub source: String,
}

/// Moves an open deal to another stage of its pipeline (the board's drag and drop), filling
/// any fields given; refused with the missing fields when the stage requires them.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid` (`required_for_stage`, `deal_closed`), `Stale`.
pub async fn move_to(db: &Db, ctx: &Ctx, now: i64, id: &str, m: &MoveInput) -> Result<Deal> {
    let d = load_for(db, ctx, id, now, Action::Update, false).await?;
    if d.status != "open" {
        return Err(StoreError::field("stage_id", "deal_closed"));
    }
    let mut input = d.to_input();
    input.stage_id = m.stage_id.trim().to_string();
    if input.stage_id.is_empty() {
        return Err(StoreError::field("stage_id", "required"));
    }
    for (dst, src) in [
        (&mut input.amount, &m.amount),
        (&mut input.close_date, &m.close_date),
        (&mut input.next_step, &m.next_step),
        (&mut input.account_id, &m.account_id),
        (&mut input.source, &m.source),
    ] {
        if !src.trim().is_empty() {
            dst.clone_from(src);
        }
    }
    update(db, ctx, now, id, m.version.unwrap_or(d.version), &input).await
}

/// How a deal is closed.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Won ("Success").
    Won,
    /// Lost ("Refusal"): a reason from the tenant's list and/or free text.
    Lost {
        /// Reason id.
        reason_id: String,
        /// Free text.
        text: String,
    },
}

/// Closes an open deal as won or lost. Lost needs a reason (from the list or as text) and
/// records the stage it was lost at.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid` (`lost_reason` required, `deal_closed`), `Stale`.
pub async fn close(db: &Db, ctx: &Ctx, now: i64, id: &str, version: i64, outcome: &Outcome) -> Result<Deal> {
    let d = load_for(db, ctx, id, now, Action::Update, false).await?;
    if d.version != version {
        return Err(stale(db, ctx, id, version, now).await);
    }
    if d.status != "open" {
        return Err(StoreError::field("status", "deal_closed"));
    }
    let (status, reason_id, text) = match outcome {
        Outcome::Won => ("won", String::new(), String::new()),
        Outcome::Lost { reason_id, text } => {
            let reason_id = reason_id.trim().to_string();
            let text = text.trim().to_string();
            if reason_id.is_empty() && text.is_empty() {
                return Err(StoreError::field("lost_reason_id", "required"));
            }
            if text.chars().count() > 1000 {
                return Err(StoreError::field("lost_reason_text", "too_long"));
            }
            if !reason_id.is_empty()
                && !pipelines::lost_reasons(db, ctx).await?.iter().any(|r| r.id == reason_id && r.active)
            {
                return Err(StoreError::field("lost_reason_id", "invalid_choice"));
            }
            ("lost", reason_id, text)
        }
    };
    let lost_stage = if status == "lost" { d.stage_id.clone() } else { String::new() };
    let v = d.version + 1;
    let mut tx = db.begin().await?;
    let n = tx
        .exec(
            Q::new(
                "UPDATE deals SET version = $1, status = $2, lost_reason_id = $3, lost_reason_text = $4, lost_stage_id = $5, \
                 closed_at = $6, updated_at = $6, updated_by = $7 WHERE tenant_id = $8 AND id = $9 AND version = $10",
            )
            .bind(v)
            .bind(status)
            .bind(&reason_id)
            .bind(&text)
            .bind(&lost_stage)
            .bind(now)
            .bind(ctx.user_id())
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(d.version),
        )
        .await?;
    if n == 0 {
        drop(tx);
        return Err(stale(db, ctx, id, version, now).await);
    }
    stage_event(&mut tx, ctx, now, id, (&d.stage_id, "open"), (&d.stage_id, status)).await?;
    let mut ch = json!({"status": {"from": "open", "to": status}});
    if status == "lost" {
        ch["lost_reason_id"] = json!({"from": "", "to": reason_id});
        ch["lost_reason_text"] = json!({"from": "", "to": text});
    }
    audit::record(&mut tx, ctx, "deal", id, status, v, ch).await?;
    tx.commit().await?;
    get(db, ctx, id, now).await
}

/// Reopens a won or lost deal into `stage_id` (empty: the stage it was closed at); recorded
/// in the stage history and the audit trail.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid` (`deal_open`, bad stage), `Stale`.
pub async fn reopen(db: &Db, ctx: &Ctx, now: i64, id: &str, version: i64, stage_id: &str) -> Result<Deal> {
    let d = load_for(db, ctx, id, now, Action::Update, false).await?;
    if d.version != version {
        return Err(stale(db, ctx, id, version, now).await);
    }
    if d.status == "open" {
        return Err(StoreError::field("status", "deal_open"));
    }
    let p = pipelines::get(db, ctx, &d.pipeline_id).await?;
    let sid = if stage_id.trim().is_empty() { d.stage_id.as_str() } else { stage_id.trim() };
    let stage = p.stage(sid).or_else(|| p.stages.first()).ok_or_else(|| StoreError::field("stage_id", "not_found"))?;
    let v = d.version + 1;
    let mut tx = db.begin().await?;
    let n = tx
        .exec(
            Q::new(
                "UPDATE deals SET version = $1, status = 'open', stage_id = $2, stage_entered_at = $3, closed_at = NULL, \
                 lost_reason_id = '', lost_reason_text = '', updated_at = $3, updated_by = $4 \
                 WHERE tenant_id = $5 AND id = $6 AND version = $7",
            )
            .bind(v)
            .bind(&stage.id)
            .bind(now)
            .bind(ctx.user_id())
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(d.version),
        )
        .await?;
    if n == 0 {
        drop(tx);
        return Err(stale(db, ctx, id, version, now).await);
    }
    stage_event(&mut tx, ctx, now, id, (&d.stage_id, &d.status), (&stage.id, "open")).await?;
    audit::record(&mut tx, ctx, "deal", id, "reopen", v, json!({"status": {"from": d.status, "to": "open"}})).await?;
    tx.commit().await?;
    get(db, ctx, id, now).await
}

/// Moves a deal to the trash, or brings it back.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn set_trashed(db: &Db, ctx: &Ctx, now: i64, id: &str, trash: bool) -> Result<()> {
    let d = load_for(db, ctx, id, now, Action::Delete, !trash).await?;
    let v = d.version + 1;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("UPDATE deals SET version = $1, deleted_at = $2, deleted_by = $3 WHERE tenant_id = $4 AND id = $5")
            .bind(v)
            .bind(if trash { Some(now) } else { None })
            .bind(if trash { Some(ctx.user_id().to_string()) } else { None })
            .bind(ctx.tenant_id())
            .bind(id),
    )
    .await?;
    audit::record(&mut tx, ctx, "deal", id, if trash { "delete" } else { "restore" }, v, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// One stage change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageEvent {
    /// When (ms).
    pub at: i64,
    /// Who.
    pub user_id: String,
    /// Their name.
    pub user_name: String,
    /// From stage (empty for creation).
    pub from_stage_id: String,
    /// To stage.
    pub to_stage_id: String,
    /// Status before (`open`, `won`, `lost`; empty for creation).
    pub from_status: String,
    /// Status after.
    pub to_status: String,
}

/// A deal's stage changes, oldest first.
///
/// # Errors
/// `NotFound` outside the caller's scope.
pub async fn stage_history(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Vec<StageEvent>> {
    load_for(db, ctx, id, now, Action::Read, false).await?;
    let rows = db
        .all(
            Q::new(
                "SELECT h.*, u.display_name AS user_name FROM deal_stage_history h \
                 LEFT JOIN users u ON u.tenant_id = h.tenant_id AND u.id = h.user_id \
                 WHERE h.tenant_id = $1 AND h.deal_id = $2 ORDER BY h.at, h.id LIMIT 1000",
            )
            .bind(ctx.tenant_id())
            .bind(id),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StageEvent {
            at: r.i("at"),
            user_id: r.s("user_id"),
            user_name: r.s("user_name"),
            from_stage_id: r.s("from_stage_id"),
            to_stage_id: r.s("to_stage_id"),
            from_status: r.s("from_status"),
            to_status: r.s("to_status"),
        })
        .collect())
}

/// Time spent open in each stage (ms), in the order stages were first entered, up to `now`
/// for an open deal and up to its closing otherwise.
#[must_use]
pub fn time_in_stages(history: &[StageEvent], now: i64) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    let mut open_since: Option<(String, i64)> = None;
    for e in history {
        if let Some((stage, since)) = open_since.take() {
            let spent = (e.at - since).max(0);
            match out.iter_mut().find(|(s, _)| *s == stage) {
                Some(x) => x.1 += spent,
                None => out.push((stage, spent)),
            }
        }
        if e.to_status == "open" {
            if !out.iter().any(|(s, _)| *s == e.to_stage_id) {
                out.push((e.to_stage_id.clone(), 0));
            }
            open_since = Some((e.to_stage_id.clone(), e.at));
        }
    }
    if let Some((stage, since)) = open_since {
        if let Some(x) = out.iter_mut().find(|(s, _)| *s == stage) {
            x.1 += (now - since).max(0);
        }
    }
    out
}

/// One entry of the price negotiation log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PriceEvent {
    /// When (ms).
    pub at: i64,
    /// Who.
    pub user_name: String,
    /// `amount`, `line` or `discount`.
    pub what: String,
    /// Before.
    pub old_value: String,
    /// After.
    pub new_value: String,
    /// Why.
    pub comment: String,
}

/// A deal's negotiation log, newest first.
///
/// # Errors
/// `NotFound` outside the caller's scope.
pub async fn price_log(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Vec<PriceEvent>> {
    load_for(db, ctx, id, now, Action::Read, false).await?;
    let rows = db
        .all(
            Q::new(
                "SELECT p.*, u.display_name AS user_name FROM deal_price_log p \
                 LEFT JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.user_id \
                 WHERE p.tenant_id = $1 AND p.deal_id = $2 ORDER BY p.at DESC, p.id DESC LIMIT 500",
            )
            .bind(ctx.tenant_id())
            .bind(id),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PriceEvent {
            at: r.i("at"),
            user_name: r.s("user_name"),
            what: r.s("what"),
            old_value: r.s("old_value"),
            new_value: r.s("new_value"),
            comment: r.s("comment"),
        })
        .collect())
}

/// A page of deals.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Deals in order.
    pub items: Vec<Deal>,
    /// Cursor of the next page.
    pub next: Option<String>,
}

/// The `FROM … WHERE …` of a deal list, binding into `q`. `overdue:eq:1` and `stalled:eq:1`
/// are flags computed at `now`.
fn list_where(db: &Db, ctx: &Ctx, lq: &ListQuery, q: &mut Q, now: i64) -> Result<String> {
    let scope = ctx.scope(Entity::Deal, Action::Read)?;
    let t = q.arg(ctx.tenant_id());
    let mut w = format!("FROM deals t WHERE t.tenant_id = {t}");
    w.push_str(if lq.trash { " AND t.deleted_at IS NOT NULL" } else { " AND t.deleted_at IS NULL" });
    let sc = ctx.scope_sql(q, "t", scope);
    w.push_str(&format!(" AND {sc}"));
    let filters = listq::filters_sql(q, lq, |q, f| {
        let on = matches!(f.value.trim(), "1" | "true" | "yes");
        let cond = match f.field.as_str() {
            "overdue" => {
                let d = q.arg(today(now));
                format!("t.status = 'open' AND t.close_date <> '' AND t.close_date < {d}")
            }
            "stalled" => {
                let n = q.arg(now);
                format!(
                    "t.status = 'open' AND EXISTS (SELECT 1 FROM stages s WHERE s.tenant_id = t.tenant_id AND s.id = t.stage_id \
                     AND s.max_days IS NOT NULL AND t.stage_entered_at < {n} - s.max_days * {DAY_MS})"
                )
            }
            _ => return listq::condition_with(db, q, Entity::Deal, &lq.custom, f, ctx.user_id()),
        };
        if f.op != listq::Op::Eq {
            return Err(StoreError::field("filter", "invalid_value"));
        }
        Ok(if on { cond } else { format!("NOT ({cond})") })
    })?;
    if let Some(fs) = filters {
        w.push_str(&format!(" AND {fs}"));
    }
    Ok(w)
}

/// A page of the deal list: filters, sort on any field, keyset cursor.
///
/// # Errors
/// `Invalid` for a bad filter, sort or cursor.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn list(db: &Db, ctx: &Ctx, now: i64, lq: &ListQuery) -> Result<Page> {
    let lq = &*karta_kernel::fields::with_defs(db, ctx, Entity::Deal, lq).await?;
    let sort = listq::SortBy::of(db, Entity::Deal, lq.sort.as_deref().unwrap_or("title"), lq)?;
    let expr = sort.expr.clone();
    let limit = lq.limit.clamp(1, 500);
    let mut q = Q::new("");
    let from_where = list_where(db, ctx, lq, &mut q, now)?;
    let keyset = listq::keyset_by(&mut q, &sort, lq)?;
    let dir = if lq.desc { "DESC" } else { "ASC" };
    let lp = q.arg(limit + 1);
    q.sql = format!(
        "{SELECT}, {expr} AS sort_value FROM (SELECT t.* {from_where}{keyset} ORDER BY {expr} {dir}, t.id {dir} LIMIT {lp}) t \
         {JOINS} ORDER BY {expr} {dir}, t.id {dir}"
    );
    let rows = db.all(q).await?;
    let (items, next) = listq::page_by(&rows, limit, sort.int, |r| from_row(r, now));
    Ok(Page { items, next })
}

/// How many deals match, counting at most `cap`.
///
/// # Errors
/// As [`list`].
pub async fn count(db: &Db, ctx: &Ctx, now: i64, lq: &ListQuery, cap: i64) -> Result<(i64, bool)> {
    let lq = &*karta_kernel::fields::with_defs(db, ctx, Entity::Deal, lq).await?;
    let mut q = Q::new("");
    let from_where = list_where(db, ctx, lq, &mut q, now)?;
    let c = q.arg(cap + 1);
    q.sql = format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one {from_where} LIMIT {c}) x");
    let n = db.opt(q).await?.map_or(0, |r| r.i("n"));
    Ok((n.min(cap), n <= cap))
}

/// One column of the board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Column {
    /// The stage.
    pub stage: Stage,
    /// Open deals in it (in the caller's scope and filter).
    pub count: i64,
    /// Sum of their amounts per currency (minor units), largest first.
    pub sums: Vec<(String, i64)>,
    /// The first cards, most recently entered first.
    pub deals: Vec<Deal>,
}

/// The board of a pipeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Board {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// A column per stage.
    pub columns: Vec<Column>,
}

/// The board: open deals of a pipeline the caller may read, a column per stage with its count
/// and sums and up to `per_column` cards; `owner` limits it to one user's deals.
///
/// # Errors
/// `NotFound` for an unknown pipeline.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn board(
    db: &Db,
    ctx: &Ctx,
    now: i64,
    pipeline_id: &str,
    owner: Option<&str>,
    per_column: i64,
) -> Result<Board> {
    let scope = ctx.scope(Entity::Deal, Action::Read)?;
    let pipes = pipelines::list(db, ctx).await?;
    let pipeline = if pipeline_id.is_empty() {
        pipes.iter().find(|p| p.active).or_else(|| pipes.first())
    } else {
        pipes.iter().find(|p| p.id == pipeline_id)
    }
    .cloned()
    .ok_or(StoreError::NotFound)?;
    let base = |q: &mut Q| -> String {
        let t = q.arg(ctx.tenant_id());
        let p = q.arg(&pipeline.id);
        let sc = ctx.scope_sql(q, "t", scope);
        let mut w = format!(
            "t.tenant_id = {t} AND t.pipeline_id = {p} AND t.status = 'open' AND t.deleted_at IS NULL AND {sc}"
        );
        if let Some(o) = owner {
            w.push_str(&format!(" AND t.owner_id = {}", q.arg(o)));
        }
        w
    };
    let mut q = Q::new("");
    let w = base(&mut q);
    q.sql = format!(
        "SELECT t.stage_id, t.currency, COUNT(*) AS n, CAST(SUM(t.amount) AS BIGINT) AS total FROM deals t WHERE {w} GROUP BY t.stage_id, t.currency"
    );
    let sums = db.all(q).await?;
    let mut columns = Vec::new();
    for stage in &pipeline.stages {
        let mine: Vec<&Row> = sums.iter().filter(|r| r.s("stage_id") == stage.id).collect();
        let count = mine.iter().map(|r| r.i("n")).sum();
        let mut by_cur: Vec<(String, i64)> = mine.iter().map(|r| (r.s("currency"), r.i("total"))).collect();
        by_cur.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let deals = if count > 0 {
            let mut q = Q::new("");
            let w = base(&mut q);
            let s = q.arg(&stage.id);
            let lim = q.arg(per_column.clamp(1, 500));
            q.sql = format!(
                "{SELECT} FROM (SELECT t.* FROM deals t WHERE {w} AND t.stage_id = {s} \
                 ORDER BY t.stage_entered_at DESC, t.id DESC LIMIT {lim}) t {JOINS} ORDER BY t.stage_entered_at DESC, t.id DESC"
            );
            db.all(q).await?.iter().map(|r| from_row(r, now)).collect()
        } else {
            Vec::new()
        };
        columns.push(Column { stage: stage.clone(), count, sums: by_cur, deals });
    }
    Ok(Board { pipeline, columns })
}

/// Live deals of an account or a contact that the caller may read, open first.
///
/// # Errors
/// Database errors.
pub async fn for_party(db: &Db, ctx: &Ctx, now: i64, entity: Entity, id: &str, limit: i64) -> Result<Vec<Deal>> {
    party_deals(db, ctx, now, entity, id, limit, false).await
}

/// Deals of an account or a contact won or lost, that the caller may read, last closed first.
///
/// # Errors
/// Database errors.
pub async fn closed_for_party(db: &Db, ctx: &Ctx, now: i64, entity: Entity, id: &str, limit: i64) -> Result<Vec<Deal>> {
    party_deals(db, ctx, now, entity, id, limit, true).await
}

async fn party_deals(
    db: &Db,
    ctx: &Ctx,
    now: i64,
    entity: Entity,
    id: &str,
    limit: i64,
    closed: bool,
) -> Result<Vec<Deal>> {
    let Ok(scope) = ctx.scope(Entity::Deal, Action::Read) else { return Ok(Vec::new()) };
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let me = q.arg(id);
    let cond = match entity {
        Entity::Account => format!("t.account_id = {me}"),
        Entity::Contact => {
            format!("t.id IN (SELECT deal_id FROM deal_contacts WHERE tenant_id = {t} AND contact_id = {me})")
        }
        Entity::Deal | Entity::Product | Entity::Activity => return Ok(Vec::new()),
    };
    let sc = ctx.scope_sql(&mut q, "t", scope);
    let lim = q.arg(limit);
    let (only, order) = if closed {
        ("AND t.status <> 'open' AND t.closed_at IS NOT NULL", "t.closed_at DESC, t.id")
    } else {
        ("", "CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, t.updated_at DESC, t.id")
    };
    q.sql = format!(
        "{SELECT} FROM deals t {JOINS} WHERE t.tenant_id = {t} AND {cond} {only} AND t.deleted_at IS NULL AND {sc} \
         ORDER BY {order} LIMIT {lim}"
    );
    Ok(db.all(q).await?.iter().map(|r| from_row(r, now)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at: i64, from: &str, to: &str, fs: &str, ts: &str) -> StageEvent {
        StageEvent {
            at,
            user_id: String::new(),
            user_name: String::new(),
            from_stage_id: from.into(),
            to_stage_id: to.into(),
            from_status: fs.into(),
            to_status: ts.into(),
        }
    }

    #[test]
    fn time_in_stages_adds_up_revisits_and_stops_at_closing() {
        let h = [
            ev(0, "", "a", "", "open"),
            ev(10, "a", "b", "open", "open"),
            ev(25, "b", "a", "open", "open"),
            ev(30, "a", "a", "open", "lost"),
            ev(100, "a", "b", "lost", "open"),
        ];
        assert_eq!(time_in_stages(&h, 130), vec![("a".to_string(), 15), ("b".to_string(), 45)]);
        assert_eq!(time_in_stages(&h[..4], 1000), vec![("a".to_string(), 15), ("b".to_string(), 15)]);
    }

    #[test]
    fn today_is_the_utc_date() {
        assert_eq!(today(0), "1970-01-01");
        assert_eq!(today(1_700_000_000_000), "2023-11-14");
    }
}
