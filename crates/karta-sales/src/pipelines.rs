//! Sales pipelines: ordered stages with a win probability, an optional responsible employee or
//! team (the deal is handed over on entering), fields required to enter, and a maximum number
//! of days before a deal is flagged as stalled; and the tenant's list of reasons for losing.
//! A tenant gets a default pipeline and reasons, in Russian and English, on first use.

use karta_core::{new_id, now_ms};
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Row, Q};
use karta_kernel::error::{Result, StoreError};
use serde::Serialize;

/// Deal fields a stage may require before a deal enters it.
pub const REQUIRABLE: &[&str] = &["amount", "close_date", "account", "contacts", "next_step", "source", "lines"];

/// A stage of a pipeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stage {
    /// Id.
    pub id: String,
    /// The pipeline.
    pub pipeline_id: String,
    /// Order within the pipeline (0 first).
    pub position: i64,
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Win probability in percent.
    pub probability: i64,
    /// The employee a deal is handed over to on entering (empty: none).
    pub responsible_user_id: String,
    /// The team whose lead takes over on entering, when no employee is set (empty: none).
    pub responsible_team_id: String,
    /// Deal fields that must be filled to enter (see [`REQUIRABLE`]).
    pub required_fields: Vec<String>,
    /// Days in the stage after which an open deal is stalled.
    pub max_days: Option<i64>,
}

impl Stage {
    /// The name in `lang` (`ru` or anything else for English).
    #[must_use]
    pub fn name(&self, lang: &str) -> &str {
        pick(lang, &self.name_ru, &self.name_en)
    }
}

/// A pipeline with its stages in order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pipeline {
    /// Id.
    pub id: String,
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Order among pipelines.
    pub position: i64,
    /// Inactive pipelines take no new deals.
    pub active: bool,
    /// Stages in order.
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// The name in `lang`.
    #[must_use]
    pub fn name(&self, lang: &str) -> &str {
        pick(lang, &self.name_ru, &self.name_en)
    }

    /// A stage of this pipeline.
    #[must_use]
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }
}

/// A reason for losing a deal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LostReason {
    /// Id.
    pub id: String,
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Inactive reasons are kept for old deals but not offered.
    pub active: bool,
}

impl LostReason {
    /// The name in `lang`.
    #[must_use]
    pub fn name(&self, lang: &str) -> &str {
        pick(lang, &self.name_ru, &self.name_en)
    }
}

fn pick<'a>(lang: &str, ru: &'a str, en: &'a str) -> &'a str {
    if lang == "ru" && !ru.is_empty() || en.is_empty() {
        ru
    } else {
        en
    }
}

/// The default pipeline: (ru, en, probability, required fields, max days).
const DEFAULT_STAGES: &[(&str, &str, i64, &str, Option<i64>)] = &[
    ("Квалификация", "Qualification", 10, "", Some(14)),
    ("Выявление потребностей", "Needs analysis", 25, "", Some(21)),
    ("Предложение", "Proposal", 50, "amount", Some(21)),
    ("Переговоры", "Negotiation", 75, "amount,close_date", Some(30)),
    ("Договор", "Contract", 90, "amount,close_date,account", Some(14)),
];

const DEFAULT_REASONS: &[(&str, &str)] = &[
    ("Цена", "Price"),
    ("Выбрали конкурента", "Chose a competitor"),
    ("Нет бюджета", "No budget"),
    ("Нет ответа", "No response"),
    ("Не подошёл продукт", "Product not a fit"),
    ("Другое", "Other"),
];

/// Creates the default pipeline and lost reasons when the tenant has none.
///
/// # Errors
/// Database errors.
pub async fn ensure_defaults(db: &Db, tenant_id: &str) -> Result<()> {
    let has = db.opt(Q::new("SELECT id FROM pipelines WHERE tenant_id = $1 LIMIT 1").bind(tenant_id)).await?;
    if has.is_some() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    // Another request may have seeded meanwhile; the write lock makes this check final.
    let again = tx.opt(Q::new("SELECT id FROM pipelines WHERE tenant_id = $1 LIMIT 1").bind(tenant_id)).await?;
    if again.is_some() {
        return Ok(());
    }
    let pid = new_id();
    tx.exec(
        Q::new(
            "INSERT INTO pipelines (tenant_id, id, name_ru, name_en, position, active, created_at) \
             VALUES ($1, $2, 'Новые продажи', 'New business', 0, 1, $3)",
        )
        .bind(tenant_id)
        .bind(&pid)
        .bind(now_ms()),
    )
    .await?;
    for (i, (ru, en, p, req, days)) in DEFAULT_STAGES.iter().enumerate() {
        tx.exec(
            Q::new(
                "INSERT INTO stages (tenant_id, id, pipeline_id, position, name_ru, name_en, probability, required_fields, max_days) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant_id)
            .bind(new_id())
            .bind(&pid)
            .bind(i as i64)
            .bind(*ru)
            .bind(*en)
            .bind(*p)
            .bind(*req)
            .bind(*days),
        )
        .await?;
    }
    for (i, (ru, en)) in DEFAULT_REASONS.iter().enumerate() {
        tx.exec(
            Q::new("INSERT INTO lost_reasons (tenant_id, id, name_ru, name_en, position) VALUES ($1, $2, $3, $4, $5)")
                .bind(tenant_id)
                .bind(new_id())
                .bind(*ru)
                .bind(*en)
                .bind(i as i64),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn stage_from(r: &Row) -> Stage {
    Stage {
        id: r.s("id"),
        pipeline_id: r.s("pipeline_id"),
        position: r.i("position"),
        name_ru: r.s("name_ru"),
        name_en: r.s("name_en"),
        probability: r.i("probability"),
        responsible_user_id: r.s("responsible_user_id"),
        responsible_team_id: r.s("responsible_team_id"),
        required_fields: r.s("required_fields").split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        max_days: r.oi("max_days"),
    }
}

/// Every pipeline of the tenant with its active stages, in order (seeding the defaults first
/// when the tenant has none).
///
/// # Errors
/// Database errors.
pub async fn list(db: &Db, ctx: &Ctx) -> Result<Vec<Pipeline>> {
    ensure_defaults(db, ctx.tenant_id()).await?;
    let rows = db
        .all(Q::new("SELECT * FROM pipelines WHERE tenant_id = $1 ORDER BY position, id").bind(ctx.tenant_id()))
        .await?;
    let stages = db
        .all(
            Q::new("SELECT * FROM stages WHERE tenant_id = $1 AND active = 1 ORDER BY pipeline_id, position, id")
                .bind(ctx.tenant_id()),
        )
        .await?;
    let stages: Vec<Stage> = stages.iter().map(stage_from).collect();
    Ok(rows
        .iter()
        .map(|r| {
            let id = r.s("id");
            Pipeline {
                stages: stages.iter().filter(|s| s.pipeline_id == id).cloned().collect(),
                id,
                name_ru: r.s("name_ru"),
                name_en: r.s("name_en"),
                position: r.i("position"),
                active: r.i("active") != 0,
            }
        })
        .collect())
}

/// One pipeline.
///
/// # Errors
/// `NotFound`; database errors.
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<Pipeline> {
    list(db, ctx).await?.into_iter().find(|p| p.id == id).ok_or(StoreError::NotFound)
}

/// The tenant's lost reasons (inactive ones too, for old deals), in order.
///
/// # Errors
/// Database errors.
pub async fn lost_reasons(db: &Db, ctx: &Ctx) -> Result<Vec<LostReason>> {
    ensure_defaults(db, ctx.tenant_id()).await?;
    let rows = db
        .all(Q::new("SELECT * FROM lost_reasons WHERE tenant_id = $1 ORDER BY position, id").bind(ctx.tenant_id()))
        .await?;
    Ok(rows
        .iter()
        .map(|r| LostReason {
            id: r.s("id"),
            name_ru: r.s("name_ru"),
            name_en: r.s("name_en"),
            active: r.i("active") != 0,
        })
        .collect())
}

/// Configuring pipelines demands the capability to manage them.
fn admin(ctx: &Ctx) -> Result<()> {
    ctx.need(karta_core::Cap::ManagePipelines)
}

fn names(ru: &str, en: &str) -> Result<(String, String)> {
    let (ru, en) = (ru.trim(), en.trim());
    if ru.is_empty() && en.is_empty() {
        return Err(StoreError::field("name_ru", "required"));
    }
    if ru.chars().count() > 100 || en.chars().count() > 100 {
        return Err(StoreError::field(if ru.chars().count() > 100 { "name_ru" } else { "name_en" }, "too_long"));
    }
    let ru = if ru.is_empty() { en } else { ru };
    let en = if en.is_empty() { ru } else { en };
    Ok((ru.to_string(), en.to_string()))
}

/// Adds a pipeline (admins); it starts with one stage so deals can enter it.
///
/// # Errors
/// `Forbidden`, `Invalid`.
pub async fn create(db: &Db, ctx: &Ctx, name_ru: &str, name_en: &str) -> Result<String> {
    admin(ctx)?;
    let (ru, en) = names(name_ru, name_en)?;
    ensure_defaults(db, ctx.tenant_id()).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    let pos = tx
        .opt(
            Q::new("SELECT COALESCE(MAX(position), -1) + 1 AS p FROM pipelines WHERE tenant_id = $1")
                .bind(ctx.tenant_id()),
        )
        .await?
        .map_or(0, |r| r.i("p"));
    tx.exec(
        Q::new(
            "INSERT INTO pipelines (tenant_id, id, name_ru, name_en, position, active, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(&ru)
        .bind(&en)
        .bind(pos)
        .bind(now_ms()),
    )
    .await?;
    tx.exec(
        Q::new(
            "INSERT INTO stages (tenant_id, id, pipeline_id, position, name_ru, name_en, probability) \
             VALUES ($1, $2, $3, 0, 'Новая', 'New', 10)",
        )
        .bind(ctx.tenant_id())
        .bind(new_id())
        .bind(&id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a pipeline or switches it on or off (admins).
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`.
pub async fn update(db: &Db, ctx: &Ctx, id: &str, name_ru: &str, name_en: &str, active: bool) -> Result<()> {
    admin(ctx)?;
    let (ru, en) = names(name_ru, name_en)?;
    let n = db
        .exec(
            Q::new("UPDATE pipelines SET name_ru = $1, name_en = $2, active = $3 WHERE tenant_id = $4 AND id = $5")
                .bind(&ru)
                .bind(&en)
                .bind(active)
                .bind(ctx.tenant_id())
                .bind(id),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// What an admin sets on a stage.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StageInput {
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Win probability, 0–100.
    pub probability: i64,
    /// Employee to hand deals over to (user id, or empty).
    pub responsible_user_id: String,
    /// Team to hand deals over to (team id, or empty).
    pub responsible_team_id: String,
    /// Required deal fields.
    pub required_fields: Vec<String>,
    /// Days before a deal is stalled (none: never).
    pub max_days: Option<i64>,
}

async fn check_stage(db: &Db, ctx: &Ctx, s: &StageInput) -> Result<(String, String, String)> {
    let (ru, en) = names(&s.name_ru, &s.name_en)?;
    let mut errs = Vec::new();
    if !(0..=100).contains(&s.probability) {
        errs.push(karta_core::FieldError::new("probability", "invalid_value"));
    }
    if s.max_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        errs.push(karta_core::FieldError::new("max_days", "invalid_value"));
    }
    if s.required_fields.iter().any(|f| !REQUIRABLE.contains(&f.as_str())) {
        errs.push(karta_core::FieldError::new("required_fields", "invalid_choice"));
    }
    if !s.responsible_user_id.is_empty() {
        let u = karta_kernel::users::by_id(db, ctx.tenant_id(), &s.responsible_user_id).await?;
        if u.is_none_or(|u| u.disabled) {
            errs.push(karta_core::FieldError::new("responsible_user_id", "not_found"));
        }
    }
    if !s.responsible_team_id.is_empty() {
        let t = db
            .opt(
                Q::new("SELECT id FROM teams WHERE tenant_id = $1 AND id = $2")
                    .bind(ctx.tenant_id())
                    .bind(&s.responsible_team_id),
            )
            .await?;
        if t.is_none() {
            errs.push(karta_core::FieldError::new("responsible_team_id", "not_found"));
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let mut req: Vec<&str> = REQUIRABLE.iter().copied().filter(|f| s.required_fields.iter().any(|x| x == f)).collect();
    req.dedup();
    Ok((ru, en, req.join(",")))
}

/// Adds a stage at the end of a pipeline (admins); returns its id.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`.
pub async fn add_stage(db: &Db, ctx: &Ctx, pipeline_id: &str, s: &StageInput) -> Result<String> {
    admin(ctx)?;
    get(db, ctx, pipeline_id).await?;
    let (ru, en, req) = check_stage(db, ctx, s).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    let pos = tx
        .opt(
            Q::new("SELECT COALESCE(MAX(position), -1) + 1 AS p FROM stages WHERE tenant_id = $1 AND pipeline_id = $2")
                .bind(ctx.tenant_id())
                .bind(pipeline_id),
        )
        .await?
        .map_or(0, |r| r.i("p"));
    tx.exec(
        Q::new(
            "INSERT INTO stages (tenant_id, id, pipeline_id, position, name_ru, name_en, probability, \
             responsible_user_id, responsible_team_id, required_fields, max_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(pipeline_id)
        .bind(pos)
        .bind(ru)
        .bind(en)
        .bind(s.probability)
        .bind(&s.responsible_user_id)
        .bind(&s.responsible_team_id)
        .bind(req)
        .bind(s.max_days),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a stage (admins).
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`.
pub async fn update_stage(db: &Db, ctx: &Ctx, stage_id: &str, s: &StageInput) -> Result<()> {
    admin(ctx)?;
    let (ru, en, req) = check_stage(db, ctx, s).await?;
    let n = db
        .exec(
            Q::new(
                "UPDATE stages SET name_ru = $1, name_en = $2, probability = $3, responsible_user_id = $4, \
                 responsible_team_id = $5, required_fields = $6, max_days = $7 WHERE tenant_id = $8 AND id = $9 AND active = 1",
            )
            .bind(ru)
            .bind(en)
            .bind(s.probability)
            .bind(&s.responsible_user_id)
            .bind(&s.responsible_team_id)
            .bind(req)
            .bind(s.max_days)
            .bind(ctx.tenant_id())
            .bind(stage_id),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Moves a stage one place earlier (`up`) or later in its pipeline (admins).
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn shift_stage(db: &Db, ctx: &Ctx, stage_id: &str, up: bool) -> Result<()> {
    admin(ctx)?;
    let pipes = list(db, ctx).await?;
    let p = pipes.iter().find(|p| p.stage(stage_id).is_some()).ok_or(StoreError::NotFound)?;
    let i = p.stages.iter().position(|s| s.id == stage_id).ok_or(StoreError::NotFound)?;
    let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < p.stages.len()) };
    let Some(j) = j else { return Ok(()) };
    let mut order: Vec<&Stage> = p.stages.iter().collect();
    order.swap(i, j);
    let mut tx = db.begin().await?;
    for (pos, s) in order.iter().enumerate() {
        tx.exec(
            Q::new("UPDATE stages SET position = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(pos as i64)
                .bind(ctx.tenant_id())
                .bind(&s.id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes a stage that holds no deals (admins). A stage with deals is refused with their
/// count, so no deal is left in a stage that no longer shows.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Conflict` naming how many deals are in it, or the last stage.
pub async fn remove_stage(db: &Db, ctx: &Ctx, stage_id: &str) -> Result<()> {
    admin(ctx)?;
    let pipes = list(db, ctx).await?;
    let p = pipes.iter().find(|p| p.stage(stage_id).is_some()).ok_or(StoreError::NotFound)?;
    if p.stages.len() == 1 {
        return Err(StoreError::Conflict("last_stage".into()));
    }
    let n = db
        .opt(
            Q::new("SELECT COUNT(*) AS n FROM deals WHERE tenant_id = $1 AND (stage_id = $2 OR lost_stage_id = $2)")
                .bind(ctx.tenant_id())
                .bind(stage_id),
        )
        .await?
        .map_or(0, |r| r.i("n"));
    if n > 0 {
        return Err(StoreError::Conflict(format!("deals:{n}")));
    }
    db.exec(
        Q::new("UPDATE stages SET active = 0 WHERE tenant_id = $1 AND id = $2").bind(ctx.tenant_id()).bind(stage_id),
    )
    .await?;
    Ok(())
}

/// Adds a lost reason (admins).
///
/// # Errors
/// `Forbidden`, `Invalid`.
pub async fn add_lost_reason(db: &Db, ctx: &Ctx, name_ru: &str, name_en: &str) -> Result<String> {
    admin(ctx)?;
    let (ru, en) = names(name_ru, name_en)?;
    let id = new_id();
    let pos = lost_reasons(db, ctx).await?.len() as i64;
    db.exec(
        Q::new("INSERT INTO lost_reasons (tenant_id, id, name_ru, name_en, position) VALUES ($1, $2, $3, $4, $5)")
            .bind(ctx.tenant_id())
            .bind(&id)
            .bind(ru)
            .bind(en)
            .bind(pos),
    )
    .await?;
    Ok(id)
}

/// Switches a lost reason on or off (admins); old deals keep theirs.
///
/// # Errors
/// `Forbidden`, `NotFound`.
pub async fn set_lost_reason_active(db: &Db, ctx: &Ctx, id: &str, active: bool) -> Result<()> {
    admin(ctx)?;
    let n = db
        .exec(
            Q::new("UPDATE lost_reasons SET active = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(active)
                .bind(ctx.tenant_id())
                .bind(id),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
