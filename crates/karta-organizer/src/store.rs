//! The organizer: calls, meetings, tasks, e-mails logged by hand, letters, demos, visits,
//! chats and notes. Each links to any of a contact, an account and a deal and shows on each of
//! their timelines; planned ones have a due time and may have a reminder (a job that fires
//! once, see [`karta_kernel::jobs`]); completing one records its result.
//!
//! Times are ms since the epoch; `now` comes from the caller's clock.

use karta_core::{new_id, Action, Entity, FieldError, Scope};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Row, Tx, Q};
use karta_kernel::error::{Result, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Activity kinds.
pub const KINDS: &[&str] = &["call", "meeting", "task", "email", "letter", "demo", "visit", "chat", "note"];
/// The customer's level of interest.
pub const INTEREST: &[&str] = &["none", "low", "medium", "high"];
/// Task priorities.
pub const PRIORITIES: &[&str] = &["low", "normal", "high"];

/// A meeting participant: a user or a contact.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    /// `user` or `contact`.
    pub kind: String,
    /// Their id.
    pub id: String,
    /// Their name (output only).
    #[serde(default, skip_deserializing)]
    pub name: String,
}

/// An activity as entered (times in ms since the epoch).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityInput {
    /// One of [`KINDS`].
    pub kind: String,
    /// Subject (required).
    pub subject: String,
    /// Description.
    pub description: String,
    /// Calls: `in` or `out`.
    pub direction: String,
    /// Calls: duration in minutes.
    pub duration_min: Option<i64>,
    /// Calls: outcome (reached, no answer, …).
    pub outcome: String,
    /// Meetings and calls: start.
    pub starts_at: Option<i64>,
    /// Meetings: end.
    pub ends_at: Option<i64>,
    /// Meetings: place.
    pub place: String,
    /// Planned activities: when it is due.
    pub due_at: Option<i64>,
    /// Tasks: `low`, `normal` (default), `high`.
    pub priority: String,
    /// Assignee (empty: the caller).
    pub owner_id: String,
    /// `planned` (default) or `done`.
    pub status: String,
    /// What came of it.
    pub result: String,
    /// The customer's level of interest: `none`, `low`, `medium`, `high`.
    pub interest: String,
    /// When to remind the assignee (planned only).
    pub remind_at: Option<i64>,
    /// Linked account.
    pub account_id: String,
    /// Linked contact.
    pub contact_id: String,
    /// Linked deal.
    pub deal_id: String,
    /// Meeting participants (absent on update: unchanged).
    pub participants: Option<Vec<Participant>>,
}

/// A stored activity.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Activity {
    /// Id.
    pub id: String,
    /// Version.
    pub version: i64,
    /// Kind.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Call direction.
    pub direction: String,
    /// Call duration (minutes).
    pub duration_min: Option<i64>,
    /// Call outcome.
    pub outcome: String,
    /// Start.
    pub starts_at: Option<i64>,
    /// End.
    pub ends_at: Option<i64>,
    /// Place.
    pub place: String,
    /// Due.
    pub due_at: Option<i64>,
    /// Priority.
    pub priority: String,
    /// Assignee.
    pub owner_id: String,
    /// Assignee's name.
    pub owner_name: String,
    /// Assignee's team.
    #[serde(skip)]
    pub owner_team: Option<String>,
    /// `planned` or `done`.
    pub status: String,
    /// Done at.
    pub done_at: Option<i64>,
    /// Result.
    pub result: String,
    /// Interest.
    pub interest: String,
    /// Reminder time.
    pub remind_at: Option<i64>,
    /// The time it sorts by on timelines and calendars.
    pub at: i64,
    /// Account.
    pub account_id: String,
    /// Account name.
    pub account_name: String,
    /// Contact.
    pub contact_id: String,
    /// Contact name.
    pub contact_name: String,
    /// Deal.
    pub deal_id: String,
    /// Deal title.
    pub deal_title: String,
    /// Participants (single activity only).
    pub participants: Vec<Participant>,
    /// Planned and past its due time at `now`.
    pub overdue: bool,
    /// Created.
    pub created_at: i64,
    /// Changed.
    pub updated_at: i64,
    /// Deleted (kept for the audit trail).
    #[serde(skip)]
    pub deleted_at: Option<i64>,
}

const SELECT: &str = "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team, a.name AS account_name, \
     c.name AS contact_name, d.title AS deal_title";
const JOINS: &str = "LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
     LEFT JOIN accounts a ON a.tenant_id = t.tenant_id AND a.id = t.account_id \
     LEFT JOIN contacts c ON c.tenant_id = t.tenant_id AND c.id = t.contact_id \
     LEFT JOIN deals d ON d.tenant_id = t.tenant_id AND d.id = t.deal_id";

fn from_row(r: &Row, now: i64) -> Activity {
    let status = r.s("status");
    let due = r.oi("due_at").or_else(|| r.oi("starts_at"));
    Activity {
        id: r.s("id"),
        version: r.i("version"),
        kind: r.s("kind"),
        subject: r.s("subject"),
        description: r.s("description"),
        direction: r.s("direction"),
        duration_min: r.oi("duration_min"),
        outcome: r.s("outcome"),
        starts_at: r.oi("starts_at"),
        ends_at: r.oi("ends_at"),
        place: r.s("place"),
        due_at: r.oi("due_at"),
        priority: r.s("priority"),
        owner_id: r.s("owner_id"),
        owner_name: r.s("owner_name"),
        owner_team: r.os("owner_team"),
        overdue: status == "planned" && due.is_some_and(|d| d < now),
        status,
        done_at: r.oi("done_at"),
        result: r.s("result"),
        interest: r.s("interest"),
        remind_at: r.oi("remind_at"),
        at: r.i("at"),
        account_id: r.s("account_id"),
        account_name: r.s("account_name"),
        contact_id: r.s("contact_id"),
        contact_name: r.s("contact_name"),
        deal_id: r.s("deal_id"),
        deal_title: r.s("deal_title"),
        participants: Vec::new(),
        created_at: r.i("created_at"),
        updated_at: r.i("updated_at"),
        deleted_at: r.oi("deleted_at"),
    }
}

async fn load(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Option<Activity>> {
    let r = db
        .opt(
            Q::new(format!("{SELECT} FROM activities t {JOINS} WHERE t.tenant_id = $1 AND t.id = $2"))
                .bind(ctx.tenant_id())
                .bind(id),
        )
        .await?;
    Ok(r.map(|r| from_row(&r, now)))
}

/// The activity `id` if the caller may do `action` to it (`NotFound` when it may not even
/// read it, `Forbidden` when it may read but not do).
///
/// # Errors
/// `NotFound`, `Forbidden`, database errors.
pub async fn load_for(db: &Db, ctx: &Ctx, id: &str, now: i64, action: Action) -> Result<Activity> {
    let read = ctx.scope(Entity::Activity, Action::Read)?;
    let a = load(db, ctx, id, now).await?.ok_or(StoreError::NotFound)?;
    let reached = |s: Scope| ctx.reaches(s, &a.owner_id, a.owner_team.as_deref());
    if !reached(read) || a.deleted_at.is_some() {
        return Err(StoreError::NotFound);
    }
    if !reached(ctx.scope(Entity::Activity, action)?) {
        return Err(StoreError::Forbidden);
    }
    Ok(a)
}

/// An activity the caller may read, with its participants.
///
/// # Errors
/// `NotFound` when missing, deleted or outside the caller's scope.
pub async fn get(db: &Db, ctx: &Ctx, id: &str, now: i64) -> Result<Activity> {
    let mut a = load_for(db, ctx, id, now, Action::Read).await?;
    let rows = db
        .all(
            Q::new(
                "SELECT p.kind, p.ref_id, COALESCE(u.display_name, c.name, '') AS name FROM activity_participants p \
                 LEFT JOIN users u ON p.kind = 'user' AND u.tenant_id = p.tenant_id AND u.id = p.ref_id \
                 LEFT JOIN contacts c ON p.kind = 'contact' AND c.tenant_id = p.tenant_id AND c.id = p.ref_id \
                 WHERE p.tenant_id = $1 AND p.activity_id = $2 ORDER BY p.kind DESC, name",
            )
            .bind(ctx.tenant_id())
            .bind(id),
        )
        .await?;
    a.participants =
        rows.iter().map(|r| Participant { kind: r.s("kind"), id: r.s("ref_id"), name: r.s("name") }).collect();
    Ok(a)
}

struct Checked {
    owner: String,
    status: &'static str,
    at: i64,
    done_at: Option<i64>,
}

fn choice(v: &str, list: &[&str], field: &str, default: &'static str, errs: &mut Vec<FieldError>) -> String {
    let v = v.trim();
    if v.is_empty() {
        return default.to_string();
    }
    if !list.contains(&v) {
        errs.push(FieldError::new(field, "invalid_choice"));
    }
    v.to_string()
}

async fn check(db: &Db, ctx: &Ctx, now: i64, raw: &mut ActivityInput, before: Option<&Activity>) -> Result<Checked> {
    let scope = ctx.scope(Entity::Activity, if before.is_some() { Action::Update } else { Action::Create })?;
    let mut errs = Vec::new();
    raw.kind = choice(&raw.kind, KINDS, "kind", "task", &mut errs);
    raw.subject = raw.subject.trim().to_string();
    if raw.subject.is_empty() {
        errs.push(FieldError::new("subject", "required"));
    }
    for (f, v, max) in [
        ("subject", &raw.subject, 300),
        ("description", &raw.description, 20_000),
        ("place", &raw.place, 300),
        ("result", &raw.result, 5_000),
        ("outcome", &raw.outcome, 200),
    ] {
        if v.chars().count() > max {
            errs.push(FieldError::new(f, "too_long"));
        }
    }
    raw.direction = choice(&raw.direction, &["in", "out"], "direction", "", &mut errs);
    raw.priority = choice(&raw.priority, PRIORITIES, "priority", "normal", &mut errs);
    raw.interest = choice(&raw.interest, INTEREST, "interest", "", &mut errs);
    let status = match raw.status.trim() {
        "" | "planned" => "planned",
        "done" => "done",
        _ => {
            errs.push(FieldError::new("status", "invalid_choice"));
            "planned"
        }
    };
    if raw.duration_min.is_some_and(|d| !(0..=24 * 60).contains(&d)) {
        errs.push(FieldError::new("duration_min", "invalid_value"));
    }
    if let (Some(s), Some(e)) = (raw.starts_at, raw.ends_at) {
        if e < s {
            errs.push(FieldError::new("ends_at", "invalid_value"));
        }
    }
    let when = raw.due_at.or(raw.starts_at);
    if status == "planned" && when.is_none() && raw.kind != "note" {
        errs.push(FieldError::new(if raw.kind == "meeting" { "starts_at" } else { "due_at" }, "required"));
    }
    if status == "done" || raw.kind == "note" {
        raw.remind_at = None;
    }
    let owner = match (raw.owner_id.trim(), before) {
        ("", Some(b)) => b.owner_id.clone(),
        ("", None) => ctx.user_id().to_string(),
        (o, _) => o.to_string(),
    };
    if before.is_none_or(|b| b.owner_id != owner) && !ctx.may_assign(db, scope, &owner).await? {
        errs.push(FieldError::new("owner_id", "invalid_choice"));
    }
    // Linked records must be ones the caller can see.
    for (field, id, entity) in
        [("account_id", &raw.account_id, Entity::Account), ("contact_id", &raw.contact_id, Entity::Contact)]
    {
        let id = id.trim();
        let same =
            before.is_some_and(|b| if entity == Entity::Account { b.account_id == id } else { b.contact_id == id });
        if !id.is_empty() && !same {
            match karta_parties::parties::get(db, ctx, entity, id).await {
                Ok(_) => {}
                Err(StoreError::NotFound | StoreError::Forbidden) => errs.push(FieldError::new(field, "not_found")),
                Err(e) => return Err(e),
            }
        }
    }
    let deal = raw.deal_id.trim().to_string();
    if !deal.is_empty() && before.is_none_or(|b| b.deal_id != deal) {
        match karta_sales::deals::get(db, ctx, &deal, now).await {
            Ok(d) => {
                // A deal brings its account along when none is given.
                if raw.account_id.trim().is_empty() {
                    raw.account_id = d.account_id;
                }
            }
            Err(StoreError::NotFound | StoreError::Forbidden) => errs.push(FieldError::new("deal_id", "not_found")),
            Err(e) => return Err(e),
        }
    }
    if let Some(ps) = &raw.participants {
        if ps.len() > 100 {
            errs.push(FieldError::new("participants", "too_long"));
        }
        for (i, p) in ps.iter().enumerate() {
            let ok = match p.kind.as_str() {
                "user" => karta_kernel::users::by_id(db, ctx.tenant_id(), &p.id).await?.is_some(),
                "contact" => karta_parties::parties::get(db, ctx, Entity::Contact, &p.id).await.is_ok(),
                _ => false,
            };
            if !ok {
                errs.push(FieldError::new(format!("participants[{i}]"), "not_found"));
            }
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let done_at = if status == "done" { before.and_then(|b| b.done_at).or(Some(now)) } else { None };
    let at = if status == "done" { raw.starts_at.or(done_at).unwrap_or(now) } else { when.unwrap_or(now) };
    Ok(Checked { owner, status, at, done_at })
}

async fn write_participants(tx: &mut Tx, ctx: &Ctx, id: &str, ps: &[Participant]) -> Result<()> {
    tx.exec(
        Q::new("DELETE FROM activity_participants WHERE tenant_id = $1 AND activity_id = $2")
            .bind(ctx.tenant_id())
            .bind(id),
    )
    .await?;
    let mut seen = Vec::new();
    for p in ps {
        if seen.contains(&(&p.kind, &p.id)) {
            continue;
        }
        seen.push((&p.kind, &p.id));
        tx.exec(
            Q::new("INSERT INTO activity_participants (tenant_id, activity_id, kind, ref_id) VALUES ($1, $2, $3, $4)")
                .bind(ctx.tenant_id())
                .bind(id)
                .bind(&p.kind)
                .bind(&p.id),
        )
        .await?;
    }
    Ok(())
}

fn audit_json(raw: &ActivityInput, c: &Checked) -> serde_json::Value {
    json!({
        "kind": raw.kind, "subject": raw.subject, "description": raw.description, "owner_id": c.owner,
        "status": c.status, "due_at": raw.due_at, "starts_at": raw.starts_at, "ends_at": raw.ends_at,
        "place": raw.place, "result": raw.result, "interest": raw.interest, "remind_at": raw.remind_at,
        "account_id": raw.account_id, "contact_id": raw.contact_id, "deal_id": raw.deal_id,
    })
}

fn audit_of(a: &Activity) -> serde_json::Value {
    json!({
        "kind": a.kind, "subject": a.subject, "description": a.description, "owner_id": a.owner_id,
        "status": a.status, "due_at": a.due_at, "starts_at": a.starts_at, "ends_at": a.ends_at,
        "place": a.place, "result": a.result, "interest": a.interest, "remind_at": a.remind_at,
        "account_id": a.account_id, "contact_id": a.contact_id, "deal_id": a.deal_id,
    })
}

/// Creates an activity; a planned one with a reminder time gets its reminder job.
///
/// # Errors
/// `Forbidden`, `Invalid`.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn create(db: &Db, ctx: &Ctx, now: i64, input: &ActivityInput) -> Result<Activity> {
    let mut raw = input.clone();
    let c = check(db, ctx, now, &mut raw, None).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO activities (tenant_id, id, kind, subject, description, direction, duration_min, outcome, starts_at, \
             ends_at, place, due_at, priority, owner_id, status, done_at, result, interest, remind_at, at, account_id, contact_id, \
             deal_id, created_at, created_by, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $24, $25)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(&raw.kind)
        .bind(&raw.subject)
        .bind(raw.description.trim())
        .bind(&raw.direction)
        .bind(raw.duration_min)
        .bind(raw.outcome.trim())
        .bind(raw.starts_at)
        .bind(raw.ends_at)
        .bind(raw.place.trim())
        .bind(raw.due_at)
        .bind(&raw.priority)
        .bind(&c.owner)
        .bind(c.status)
        .bind(c.done_at)
        .bind(raw.result.trim())
        .bind(&raw.interest)
        .bind(raw.remind_at)
        .bind(c.at)
        .bind(raw.account_id.trim())
        .bind(raw.contact_id.trim())
        .bind(raw.deal_id.trim())
        .bind(now)
        .bind(ctx.user_id()),
    )
    .await?;
    if let Some(ps) = &raw.participants {
        write_participants(&mut tx, ctx, &id, ps).await?;
    }
    karta_kernel::jobs::schedule(&mut tx, ctx.tenant_id(), "remind", &id, raw.remind_at).await?;
    let changes = audit::diff(&json!({}), &audit_json(&raw, &c));
    audit::record(&mut tx, ctx, "activity", &id, "create", 1, changes.into()).await?;
    if c.status == "done" {
        done_event(&mut tx, ctx, &id, 1, raw.result.trim(), now).await?;
    }
    tx.commit().await?;
    // A task given to a colleague may be outside the writer's own read scope: they still get
    // what they wrote.
    load(db, ctx, &id, now).await?.ok_or(StoreError::NotFound)
}

async fn stale(db: &Db, ctx: &Ctx, id: &str, since: i64, now: i64) -> StoreError {
    let current = load(db, ctx, id, now).await.ok().flatten().map_or(0, |a| a.version);
    match audit::changes_since(db, ctx, "activity", id, since).await {
        Ok(changes) => StoreError::Stale { current, changes },
        Err(e) => e,
    }
}

/// Changes an activity from the version the caller edited; reschedules its reminder.
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid`, `Stale`.
pub async fn update(db: &Db, ctx: &Ctx, now: i64, id: &str, version: i64, input: &ActivityInput) -> Result<Activity> {
    let before = load_for(db, ctx, id, now, Action::Update).await?;
    if before.version != version {
        return Err(stale(db, ctx, id, version, now).await);
    }
    let mut raw = input.clone();
    let c = check(db, ctx, now, &mut raw, Some(&before)).await?;
    let changes = audit::diff(&audit_of(&before), &audit_json(&raw, &c));
    if changes.is_empty() && raw.participants.is_none() {
        return get(db, ctx, id, now).await;
    }
    let v = before.version + 1;
    let mut tx = db.begin().await?;
    let n = tx
        .exec(
            Q::new(
                "UPDATE activities SET version = $1, kind = $2, subject = $3, description = $4, direction = $5, duration_min = $6, \
                 outcome = $7, starts_at = $8, ends_at = $9, place = $10, due_at = $11, priority = $12, owner_id = $13, status = $14, \
                 done_at = $15, result = $16, interest = $17, remind_at = $18, at = $19, account_id = $20, contact_id = $21, \
                 deal_id = $22, updated_at = $23, updated_by = $24 WHERE tenant_id = $25 AND id = $26 AND version = $27",
            )
            .bind(v)
            .bind(&raw.kind)
            .bind(&raw.subject)
            .bind(raw.description.trim())
            .bind(&raw.direction)
            .bind(raw.duration_min)
            .bind(raw.outcome.trim())
            .bind(raw.starts_at)
            .bind(raw.ends_at)
            .bind(raw.place.trim())
            .bind(raw.due_at)
            .bind(&raw.priority)
            .bind(&c.owner)
            .bind(c.status)
            .bind(c.done_at)
            .bind(raw.result.trim())
            .bind(&raw.interest)
            .bind(raw.remind_at)
            .bind(c.at)
            .bind(raw.account_id.trim())
            .bind(raw.contact_id.trim())
            .bind(raw.deal_id.trim())
            .bind(now)
            .bind(ctx.user_id())
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(before.version),
        )
        .await?;
    if n == 0 {
        drop(tx);
        return Err(stale(db, ctx, id, version, now).await);
    }
    if let Some(ps) = &raw.participants {
        write_participants(&mut tx, ctx, id, ps).await?;
    }
    let remind = if c.status == "planned" { raw.remind_at } else { None };
    karta_kernel::jobs::schedule(&mut tx, ctx.tenant_id(), "remind", id, remind).await?;
    audit::record(&mut tx, ctx, "activity", id, "update", v, changes.into()).await?;
    if c.status == "done" && before.status != "done" {
        done_event(&mut tx, ctx, id, v, raw.result.trim(), now).await?;
    }
    tx.commit().await?;
    get(db, ctx, id, now).await
}

/// The domain moment "an activity was done", beside the change event of the record.
async fn done_event(tx: &mut Tx, ctx: &Ctx, id: &str, version: i64, result: &str, now: i64) -> Result<()> {
    karta_kernel::events::emit(
        tx,
        karta_kernel::events::NewEvent {
            tenant_id: ctx.tenant_id(),
            user_id: ctx.user_id(),
            kind: "activity.done",
            entity: "activity",
            record_id: id,
            version,
            data: json!({"result": result, "at": now}),
        },
    )
    .await?;
    Ok(())
}

/// Marks a planned activity done with its result (and the customer's interest).
///
/// # Errors
/// `NotFound`, `Forbidden`, `Invalid` (already done), `Stale`.
pub async fn complete(
    db: &Db,
    ctx: &Ctx,
    now: i64,
    id: &str,
    version: i64,
    result: &str,
    interest: &str,
) -> Result<Activity> {
    let a = get(db, ctx, id, now).await?;
    if a.status == "done" {
        return Err(StoreError::field("status", "already_done"));
    }
    let mut input = to_input(&a);
    input.status = "done".into();
    input.result = result.to_string();
    if !interest.trim().is_empty() {
        input.interest = interest.to_string();
    }
    update(db, ctx, now, id, version, &input).await
}

/// The activity as input, to change a few fields and save.
#[must_use]
pub fn to_input(a: &Activity) -> ActivityInput {
    ActivityInput {
        kind: a.kind.clone(),
        subject: a.subject.clone(),
        description: a.description.clone(),
        direction: a.direction.clone(),
        duration_min: a.duration_min,
        outcome: a.outcome.clone(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        place: a.place.clone(),
        due_at: a.due_at,
        priority: a.priority.clone(),
        owner_id: a.owner_id.clone(),
        status: a.status.clone(),
        result: a.result.clone(),
        interest: a.interest.clone(),
        remind_at: a.remind_at,
        account_id: a.account_id.clone(),
        contact_id: a.contact_id.clone(),
        deal_id: a.deal_id.clone(),
        participants: None,
    }
}

/// Deletes an activity (kept in the audit trail) and cancels its reminder.
///
/// # Errors
/// `NotFound`, `Forbidden`.
pub async fn delete(db: &Db, ctx: &Ctx, now: i64, id: &str) -> Result<()> {
    let a = load_for(db, ctx, id, now, Action::Delete).await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("UPDATE activities SET deleted_at = $1, version = version + 1 WHERE tenant_id = $2 AND id = $3")
            .bind(now)
            .bind(ctx.tenant_id())
            .bind(id),
    )
    .await?;
    karta_kernel::jobs::schedule(&mut tx, ctx.tenant_id(), "remind", id, None).await?;
    audit::record(&mut tx, ctx, "activity", id, "delete", a.version + 1, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Which activities a query asks for.
#[derive(Debug, Clone, Default)]
pub struct Range {
    /// Linked to this record.
    pub record: Option<(Entity, String)>,
    /// Assigned to one of these users (empty: anyone in scope).
    pub owners: Vec<String>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<String>,
    /// `planned` or `done` (empty: both).
    pub status: String,
    /// `at` from (inclusive).
    pub from: Option<i64>,
    /// `at` until (exclusive).
    pub to: Option<i64>,
    /// Newest first (timelines) instead of oldest first (calendars, plans).
    pub newest_first: bool,
    /// Continue after this (`at`, id) in the chosen order.
    pub after: Option<(i64, String)>,
    /// At most this many (1–1000).
    pub limit: i64,
    /// Read as a calendar: a caller whose role may see everyone's calendars
    /// (`Cap::AllCalendars`) sees everyone's entries, whatever their read scope.
    pub calendar: bool,
}

/// Activities the caller may read that match `r`.
///
/// # Errors
/// Database errors.
pub async fn list(db: &Db, ctx: &Ctx, now: i64, r: &Range) -> Result<Vec<Activity>> {
    let scope = if r.calendar && ctx.can(karta_core::Cap::AllCalendars) {
        Ok(Scope::All)
    } else {
        ctx.scope(Entity::Activity, Action::Read)
    };
    let Ok(scope) = scope else { return Ok(Vec::new()) };
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let mut w = format!("t.tenant_id = {t} AND t.deleted_at IS NULL");
    if let Some((e, id)) = &r.record {
        let col = match e {
            Entity::Account => "account_id",
            Entity::Contact => "contact_id",
            Entity::Deal => "deal_id",
            _ => return Ok(Vec::new()),
        };
        w.push_str(&format!(" AND t.{col} = {}", q.arg(id)));
    }
    if !r.owners.is_empty() {
        let ps: Vec<String> = r.owners.iter().map(|o| q.arg(o)).collect();
        w.push_str(&format!(" AND t.owner_id IN ({})", ps.join(", ")));
    }
    if !r.kinds.is_empty() {
        let ps: Vec<String> = r.kinds.iter().map(|k| q.arg(k)).collect();
        w.push_str(&format!(" AND t.kind IN ({})", ps.join(", ")));
    }
    if r.status.is_empty() {
        // Both states spelled out, so the (owner, status, at) index serves time ranges.
        w.push_str(" AND t.status IN ('planned', 'done')");
    } else {
        w.push_str(&format!(" AND t.status = {}", q.arg(&r.status)));
    }
    if let Some(f) = r.from {
        w.push_str(&format!(" AND t.at >= {}", q.arg(f)));
    }
    if let Some(to) = r.to {
        w.push_str(&format!(" AND t.at < {}", q.arg(to)));
    }
    let dir = if r.newest_first { "DESC" } else { "ASC" };
    if let Some((at, id)) = &r.after {
        let cmp = if r.newest_first { "<" } else { ">" };
        w.push_str(&format!(" AND (t.at, t.id) {cmp} ({}, {})", q.arg(*at), q.arg(id)));
    }
    let sc = ctx.scope_sql(&mut q, "t", scope);
    let lim = q.arg(r.limit.clamp(1, 1000));
    q.sql = format!(
        "{SELECT} FROM (SELECT t.* FROM activities t WHERE {w} AND {sc} ORDER BY t.at {dir}, t.id {dir} LIMIT {lim}) t {JOINS} \
         ORDER BY t.at {dir}, t.id {dir}"
    );
    Ok(db.all(q).await?.iter().map(|row| from_row(row, now)).collect())
}

/// The task a deal's new owner gets when a stage hands the deal over: take it over within a
/// day. Written in the caller's transaction, with the deal's move.
///
/// # Errors
/// Database errors.
pub async fn handover_task(
    tx: &mut Tx,
    ctx: &Ctx,
    now: i64,
    owner: &str,
    deal_id: &str,
    account_id: &str,
    title: &str,
) -> Result<()> {
    let id = new_id();
    let due = now + 86_400_000;
    let subject: String = format!("Принять сделку / Take over the deal: {title}").chars().take(300).collect();
    tx.exec(
        Q::new(
            "INSERT INTO activities (tenant_id, id, kind, subject, due_at, priority, owner_id, status, at, account_id, deal_id, \
             created_at, created_by, updated_at, updated_by) VALUES ($1, $2, 'task', $3, $4, 'high', $5, 'planned', $4, $6, $7, $8, $9, $8, $9)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(subject.as_str())
        .bind(due)
        .bind(owner)
        .bind(account_id)
        .bind(deal_id)
        .bind(now)
        .bind(ctx.user_id()),
    )
    .await?;
    audit::record(
        tx,
        ctx,
        "activity",
        &id,
        "create",
        1,
        json!({"subject": {"from": null, "to": subject}, "owner_id": {"from": null, "to": owner}}),
    )
    .await?;
    Ok(())
}

/// A timeline: what is linked to a record, newest first, optionally of some kinds only.
///
/// # Errors
/// Database errors.
pub async fn timeline(
    db: &Db,
    ctx: &Ctx,
    now: i64,
    entity: Entity,
    id: &str,
    kinds: &[String],
    limit: i64,
) -> Result<Vec<Activity>> {
    let r = Range {
        record: Some((entity, id.to_string())),
        kinds: kinds.to_vec(),
        newest_first: true,
        limit,
        ..Range::default()
    };
    list(db, ctx, now, &r).await
}

/// A user's workload figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workload {
    /// The user.
    pub user_id: String,
    /// Their name.
    pub name: String,
    /// Open deals.
    pub open_deals: i64,
    /// Planned activities past due.
    pub overdue_tasks: i64,
    /// Activities in the week starting at `week_start`.
    pub week_activities: i64,
    /// Average days from a won deal's creation to its closing (none when nothing was won).
    pub avg_days_to_close: Option<f64>,
}

/// Per user in the caller's scope (a manager's team, or everyone for an admin): open deals,
/// overdue tasks, activities this week, average days to close a won deal.
///
/// # Errors
/// `Forbidden` for anyone who leads no one ([`Ctx::leads`]).
pub async fn workload(db: &Db, ctx: &Ctx, now: i64, week_start: i64) -> Result<Vec<Workload>> {
    let scope = ctx.leads()?;
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let team = match (ctx.team_id(), scope) {
        (Some(team), Scope::Team) => format!(" AND (u.team_id = {} OR u.id = {})", q.arg(team), q.arg(ctx.user_id())),
        (None, Scope::Team) => format!(" AND u.id = {}", q.arg(ctx.user_id())),
        _ => String::new(),
    };
    // Whoever sells: of the built-in roles the sales ones (support and marketing may create
    // deals, but are not measured by them), and every role of the tenant's own that may
    // create deals.
    let sellers: Vec<String> = karta_kernel::roles::ids_where(db, ctx.tenant_id(), |p| {
        p.scope_of(Entity::Deal.as_str(), Action::Create).is_some()
    })
    .await?
    .into_iter()
    .filter(|id| {
        karta_kernel::roles::builtin_role(id).is_none_or(|r| {
            matches!(r, karta_core::Role::Admin | karta_core::Role::SalesManager | karta_core::Role::Salesperson)
        })
    })
    .collect();
    let sellers = if sellers.is_empty() {
        "''".to_string()
    } else {
        sellers.iter().map(|r| q.arg(r.as_str())).collect::<Vec<_>>().join(", ")
    };
    let n = q.arg(now);
    let ws = q.arg(week_start);
    let we = q.arg(week_start + 7 * 86_400_000);
    q.sql = format!(
        "SELECT u.id, u.display_name, \
         (SELECT COUNT(*) FROM deals d WHERE d.tenant_id = u.tenant_id AND d.owner_id = u.id AND d.status = 'open' AND d.deleted_at IS NULL) AS open_deals, \
         (SELECT COUNT(*) FROM activities a WHERE a.tenant_id = u.tenant_id AND a.owner_id = u.id AND a.status = 'planned' \
            AND a.deleted_at IS NULL AND a.at < {n}) AS overdue, \
         (SELECT COUNT(*) FROM activities a WHERE a.tenant_id = u.tenant_id AND a.owner_id = u.id AND a.deleted_at IS NULL \
            AND a.at >= {ws} AND a.at < {we}) AS week, \
         (SELECT COUNT(*) FROM deals d WHERE d.tenant_id = u.tenant_id AND d.owner_id = u.id AND d.status = 'won' AND d.deleted_at IS NULL) AS won, \
         (SELECT COALESCE(SUM(d.closed_at - d.created_at), 0) FROM deals d WHERE d.tenant_id = u.tenant_id AND d.owner_id = u.id \
            AND d.status = 'won' AND d.deleted_at IS NULL) AS won_ms \
         FROM users u WHERE u.tenant_id = {t} AND u.disabled = 0 AND u.role IN ({sellers}){team} \
         ORDER BY u.display_name, u.id"
    );
    let rows = db.all(q).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let won = r.i("won");
            #[expect(clippy::cast_precision_loss, reason = "an average for people to read")]
            let avg = (won > 0).then(|| r.i("won_ms") as f64 / won as f64 / 86_400_000.0);
            Workload {
                user_id: r.s("id"),
                name: r.s("display_name"),
                open_deals: r.i("open_deals"),
                overdue_tasks: r.i("overdue"),
                week_activities: r.i("week"),
                avg_days_to_close: avg,
            }
        })
        .collect())
}

/// Gives every open deal, account, contact and planned activity of `from` to `to` (a
/// manager's reassignment when someone leaves or is overloaded); returns how many of each.
///
/// # Errors
/// `Forbidden` for anyone who leads no one, or people outside the caller's team; `Invalid`
/// for an unknown target.
pub async fn reassign_all(db: &Db, ctx: &Ctx, now: i64, from: &str, to: &str) -> Result<(u64, u64, u64, u64)> {
    let scope = ctx.leads()?;
    let reaches = |uid: &str, team: Option<&str>| ctx.reaches(scope, uid, team);
    let src = karta_kernel::users::by_id(db, ctx.tenant_id(), from)
        .await?
        .ok_or_else(|| StoreError::field("from", "not_found"))?;
    let dst = karta_kernel::users::by_id(db, ctx.tenant_id(), to).await?.filter(|u| !u.disabled);
    let Some(dst) = dst else { return Err(StoreError::field("to", "not_found")) };
    if scope == Scope::Own || !reaches(&src.id, src.team_id.as_deref()) || !reaches(&dst.id, dst.team_id.as_deref()) {
        return Err(StoreError::Forbidden);
    }
    let mut tx = db.begin().await?;
    let t = ctx.tenant_id();
    let mut counts = [0u64; 4];
    for (i, sql) in [
        "UPDATE deals SET owner_id = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE tenant_id = $4 AND owner_id = $5 AND status = 'open' AND deleted_at IS NULL",
        "UPDATE accounts SET owner_id = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE tenant_id = $4 AND owner_id = $5 AND deleted_at IS NULL",
        "UPDATE contacts SET owner_id = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE tenant_id = $4 AND owner_id = $5 AND deleted_at IS NULL",
        "UPDATE activities SET owner_id = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE tenant_id = $4 AND owner_id = $5 AND status = 'planned' AND deleted_at IS NULL",
    ]
    .iter()
    .enumerate()
    {
        counts[i] = tx.exec(Q::new(*sql).bind(to).bind(now).bind(ctx.user_id()).bind(t).bind(from)).await?;
    }
    tx.exec(
        Q::new("UPDATE party_dates SET owner_id = $1 WHERE tenant_id = $2 AND owner_id = $3")
            .bind(to)
            .bind(t)
            .bind(from),
    )
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "user",
        from,
        "reassign",
        0,
        json!({"to": to, "deals": counts[0], "accounts": counts[1], "contacts": counts[2], "activities": counts[3]}),
    )
    .await?;
    tx.commit().await?;
    Ok((counts[0], counts[1], counts[2], counts[3]))
}

/// A date to congratulate on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DateItem {
    /// The contact.
    pub contact_id: String,
    /// Their name.
    pub name: String,
    /// `birthday` or the date's label.
    pub label: String,
    /// The original date (`YYYY-MM-DD`).
    pub date: String,
    /// `MM-DD`.
    pub md: String,
}

/// My contacts' birthdays and important dates whose month-day falls in `[from_md, to_md]`
/// (wrapping over the new year), by month-day.
///
/// # Errors
/// Database errors.
pub async fn dates(db: &Db, ctx: &Ctx, from_md: &str, to_md: &str, limit: i64) -> Result<Vec<DateItem>> {
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let me = q.arg(ctx.user_id());
    let (a, b) = (q.arg(from_md), q.arg(to_md));
    let range = if from_md <= to_md {
        format!("pd.md >= {a} AND pd.md <= {b}")
    } else {
        format!("(pd.md >= {a} OR pd.md <= {b})")
    };
    let lim = q.arg(limit);
    // Pick the first dates from the index alone, then read only those contacts: a busy
    // salesperson may have thousands of birthdays in a week.
    q.sql = format!(
        "SELECT pd.entity_id, pd.md, pd.label, pd.date, c.name FROM (SELECT pd.* FROM party_dates pd \
         WHERE pd.tenant_id = {t} AND pd.owner_id = {me} AND pd.entity = 'contact' AND {range} \
         ORDER BY pd.md, pd.entity_id LIMIT {lim}) pd \
         JOIN contacts c ON c.tenant_id = pd.tenant_id AND c.id = pd.entity_id WHERE c.deleted_at IS NULL \
         ORDER BY pd.md, c.name_key"
    );
    Ok(db
        .all(q)
        .await?
        .iter()
        .map(|r| DateItem {
            contact_id: r.s("entity_id"),
            name: r.s("name"),
            label: r.s("label"),
            date: r.s("date"),
            md: r.s("md"),
        })
        .collect())
}

/// A deal that needs attention on My day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttentionDeal {
    /// The deal.
    pub id: String,
    /// Title.
    pub title: String,
    /// Past its expected close date.
    pub overdue: bool,
    /// Longer in its stage than allowed.
    pub stalled: bool,
    /// No next step agreed.
    pub no_next_step: bool,
}

/// The page a user lands on: what to do today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyDay {
    /// Start of the user's today (ms).
    pub day_start: i64,
    /// Planned tasks (not meetings or calls) past due.
    pub overdue: Vec<Activity>,
    /// Planned tasks due later today.
    pub today: Vec<Activity>,
    /// Today's meetings and calls, planned or done.
    pub meetings: Vec<Activity>,
    /// My open deals that are overdue, stalled or without a next step.
    pub deals: Vec<AttentionDeal>,
    /// Birthdays and important dates of my contacts today and in the next six days.
    pub dates: Vec<DateItem>,
}

pub use karta_core::clock::day_start;

/// `MM-DD` of a local date.
fn md(d: time::Date) -> String {
    format!("{:02}-{:02}", u8::from(d.month()), d.day())
}

/// `YYYY-MM-DD` of a local date.
fn iso(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// My day for the caller at `now`, in their time zone: the day runs from local midnight to
/// local midnight (23 or 25 hours on the days clocks change).
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn my_day(db: &Db, ctx: &Ctx, now: i64, zone: &karta_core::Zone) -> Result<MyDay> {
    let today_local = zone.date_of(now);
    let start = zone.start_of(today_local);
    let end = zone.start_of(today_local + time::Duration::days(1));
    let me = vec![ctx.user_id().to_string()];
    let planned = list(
        db,
        ctx,
        now,
        &Range { owners: me.clone(), status: "planned".into(), to: Some(end), limit: 200, ..Range::default() },
    )
    .await?;
    let (meet, tasks): (Vec<Activity>, Vec<Activity>) =
        planned.into_iter().partition(|a| a.kind == "meeting" || a.kind == "call");
    let (overdue, today): (Vec<Activity>, Vec<Activity>) = tasks.into_iter().partition(|a| a.at < now);
    let meetings = list(
        db,
        ctx,
        now,
        &Range {
            owners: me,
            kinds: vec!["meeting".into(), "call".into()],
            from: Some(start),
            to: Some(end),
            limit: 100,
            ..Range::default()
        },
    )
    .await?;
    // Overdue planned meetings and calls from earlier days belong with the overdue tasks.
    let overdue = overdue.into_iter().chain(meet.into_iter().filter(|a| a.at < start)).collect();
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let u = q.arg(ctx.user_id());
    let d = q.arg(iso(today_local));
    let n = q.arg(now);
    q.sql = format!(
        "SELECT t.id, t.title, t.close_date, t.next_step, t.stage_entered_at, s.max_days FROM deals t \
         LEFT JOIN stages s ON s.tenant_id = t.tenant_id AND s.id = t.stage_id \
         WHERE t.tenant_id = {t} AND t.owner_id = {u} AND t.status = 'open' AND t.deleted_at IS NULL \
         AND ((t.close_date <> '' AND t.close_date < {d}) OR t.next_step = '' \
              OR (s.max_days IS NOT NULL AND t.stage_entered_at < {n} - s.max_days * 86400000)) \
         ORDER BY t.close_date, t.id LIMIT 20"
    );
    let today_s = iso(today_local);
    let deals = db
        .all(q)
        .await?
        .iter()
        .map(|r| AttentionDeal {
            id: r.s("id"),
            title: r.s("title"),
            overdue: !r.s("close_date").is_empty() && r.s("close_date") < today_s,
            stalled: r.oi("max_days").is_some_and(|m| r.i("stage_entered_at") < now - m * 86_400_000),
            no_next_step: r.s("next_step").is_empty(),
        })
        .collect();
    let dates = dates(db, ctx, &md(today_local), &md(today_local + time::Duration::days(6)), 50).await?;
    Ok(MyDay { day_start: start, overdue, today, meetings, deals, dates })
}

/// Creates (or returns) the caller's calendar feed secret; the old one stops working.
///
/// # Errors
/// Database errors.
pub async fn new_feed_token(db: &Db, ctx: &Ctx, now: i64) -> Result<String> {
    revoke_feed(db, ctx, now).await?;
    let secret = karta_kernel::users::random_hex(24);
    db.exec(
        Q::new("INSERT INTO calendar_tokens (token_hash, tenant_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(karta_kernel::users::sha256_hex(&secret))
            .bind(ctx.tenant_id())
            .bind(ctx.user_id())
            .bind(now),
    )
    .await?;
    Ok(secret)
}

/// Revokes the caller's calendar feed.
///
/// # Errors
/// Database errors.
pub async fn revoke_feed(db: &Db, ctx: &Ctx, now: i64) -> Result<()> {
    db.exec(
        Q::new(
            "UPDATE calendar_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(ctx.tenant_id())
        .bind(ctx.user_id()),
    )
    .await?;
    Ok(())
}

/// True when the caller has a live calendar feed.
///
/// # Errors
/// Database errors.
pub async fn has_feed(db: &Db, ctx: &Ctx) -> Result<bool> {
    let r = db
        .opt(
            Q::new(
                "SELECT token_hash FROM calendar_tokens WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            )
            .bind(ctx.tenant_id())
            .bind(ctx.user_id()),
        )
        .await?;
    Ok(r.is_some())
}

/// The planned and recent activities of the feed's owner (from 30 days back), or `None` for
/// an unknown or revoked secret or a disabled user.
///
/// # Errors
/// Database errors.
pub async fn feed(db: &Db, secret: &str, now: i64) -> Result<Option<(String, Vec<Activity>)>> {
    let r = db
        .opt(
            Q::new(
                "SELECT k.tenant_id, k.user_id, u.display_name FROM calendar_tokens k \
                 JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id \
                 WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND u.disabled = 0",
            )
            .bind(karta_kernel::users::sha256_hex(secret)),
        )
        .await?;
    let Some(r) = r else { return Ok(None) };
    let q = Q::new(format!(
        "{SELECT} FROM activities t {JOINS} WHERE t.tenant_id = $1 AND t.owner_id = $2 AND t.deleted_at IS NULL \
         AND t.kind IN ('meeting', 'call', 'task', 'demo', 'visit') AND t.at >= $3 ORDER BY t.at, t.id LIMIT 2000"
    ))
    .bind(r.s("tenant_id"))
    .bind(r.s("user_id"))
    .bind(now - 30 * 86_400_000);
    let items = db.all(q).await?.iter().map(|row| from_row(row, now)).collect();
    Ok(Some((r.s("display_name"), items)))
}

/// Rebuilds the tenant's congratulation dates from its contacts (after a bulk load that
/// wrote contacts directly).
///
/// # Errors
/// Database errors.
pub async fn rebuild_dates(db: &Db, tenant_id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    tx.exec(Q::new("DELETE FROM party_dates WHERE tenant_id = $1").bind(tenant_id)).await?;
    tx.exec(
        Q::new(
            "INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date) \
             SELECT tenant_id, 'contact', id, owner_id, substr(birthday, 6, 5), 'birthday', birthday FROM contacts \
             WHERE tenant_id = $1 AND birthday <> '' AND deleted_at IS NULL",
        )
        .bind(tenant_id),
    )
    .await?;
    let others = match db.engine() {
        karta_kernel::db::Engine::Sqlite => {
            "INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date) \
             SELECT c.tenant_id, 'contact', c.id, c.owner_id, substr(json_extract(j.value, '$.date'), 6, 5), \
             COALESCE(json_extract(j.value, '$.label'), ''), json_extract(j.value, '$.date') \
             FROM contacts c, json_each(c.important_dates) j WHERE c.tenant_id = $1 AND c.important_dates <> '[]' \
             AND c.deleted_at IS NULL AND length(json_extract(j.value, '$.date')) = 10"
        }
        karta_kernel::db::Engine::Postgres => {
            "INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date) \
             SELECT c.tenant_id, 'contact', c.id, c.owner_id, substr(j->>'date', 6, 5), COALESCE(j->>'label', ''), j->>'date' \
             FROM contacts c, jsonb_array_elements(c.important_dates::jsonb) j WHERE c.tenant_id = $1 \
             AND c.important_dates <> '[]' AND c.deleted_at IS NULL AND length(j->>'date') = 10"
        }
    };
    tx.exec(Q::new(others).bind(tenant_id)).await?;
    tx.commit().await?;
    Ok(())
}

/// The reminder job: the moment "a reminder is due" of a planned activity, from which the
/// notifications consumer notifies its owner ([`reminder_notice`]).
///
/// # Errors
/// Database errors.
pub async fn remind(tx: &mut Tx, tenant: &str, activity: &str, now: i64) -> Result<()> {
    let a = tx
        .opt(
            Q::new("SELECT owner_id, subject, status, deleted_at FROM activities WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(activity),
        )
        .await?;
    let Some(a) = a.filter(|a| a.s("status") == "planned" && a.oi("deleted_at").is_none()) else { return Ok(()) };
    karta_kernel::events::emit(
        tx,
        karta_kernel::events::NewEvent {
            tenant_id: tenant,
            user_id: "",
            kind: "activity.reminder_due",
            entity: "activity",
            record_id: activity,
            version: 0,
            data: json!({"owner_id": a.s("owner_id"), "subject": a.s("subject"), "at": now}),
        },
    )
    .await?;
    Ok(())
}

/// A reminder's notification, made by the notifications consumer from
/// `activity.reminder_due`.
#[must_use]
pub fn reminder_notice(e: &karta_kernel::events::Event) -> Option<karta_kernel::notify::Draft> {
    Some(karta_kernel::notify::Draft {
        user_id: e.data["owner_id"].as_str()?.to_string(),
        kind: "reminder",
        title: e.data["subject"].as_str().unwrap_or_default().to_string(),
        link: format!("/activities/{}", e.record_id),
        at: e.data["at"].as_i64().unwrap_or(e.at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_day_starts_at_their_local_midnight() {
        // 2026-03-01 22:30 UTC is already 2 March in Moscow (UTC+3).
        let now = 1_772_404_200_000;
        assert_eq!(karta_core::clock::today(now), "2026-03-01");
        let msk = day_start(now, 180);
        assert_eq!(msk, 1_772_398_800_000, "2026-03-01 21:00 UTC = 2 March 00:00 MSK");
        let zone = karta_core::Zone::of_country("RU");
        assert_eq!(md(zone.date_of(now)), "03-02");
        assert_eq!(iso(zone.date_of(now)), "2026-03-02");
        assert_eq!(day_start(now, 0), 1_772_323_200_000);
    }
}
