//! In-app notifications: the bell with the unread count (a deal handed over to you, and the
//! reminders of the organizer). They are made from the event outbox: the `notifications`
//! consumer ([`CONSUMER`]) asks the notifier registered for each event's kind ([`NOTIFIERS`])
//! whom to tell what, and writes it in the transaction that moves its position, so each
//! event notifies once.

use crate::ctx::Ctx;
use crate::db::{Db, Tx, Q};
use crate::error::{Result, StoreError};
use karta_core::new_id;
use serde::Serialize;

/// One notification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// Id.
    pub id: String,
    /// When (ms).
    pub at: i64,
    /// `handover`, `reminder`…
    pub kind: String,
    /// What it is about (a deal's title, an activity's subject).
    pub title: String,
    /// Where to go (a path in this app).
    pub link: String,
    /// Read already.
    pub read: bool,
}

/// What a notifier makes of an event: whom to tell, and what.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The user told.
    pub user_id: String,
    /// `handover`, `reminder`…
    pub kind: &'static str,
    /// What it is about.
    pub title: String,
    /// Where to go.
    pub link: String,
    /// When it is shown from (ms, by the app's clock).
    pub at: i64,
}

/// Makes the notification of an event, if it is worth one.
pub type Notifier = fn(&crate::events::Event) -> Option<Draft>;

/// Notifiers by event kind (`deal.handed_over`), registered by the contexts whose events they
/// read.
pub static NOTIFIERS: crate::hooks::Registry<Notifier> = crate::hooks::Registry::new();

/// The outbox consumer that turns events into notifications.
pub const CONSUMER: crate::events::Consumer =
    crate::events::Consumer { name: "notifications", handle: |tx, events| Box::pin(from_events(tx, events)) };

async fn from_events(tx: &mut Tx, events: &[crate::events::Event]) -> Result<()> {
    for e in events {
        let Some(notifier) = NOTIFIERS.get(&e.kind) else { continue };
        if let Some(d) = notifier(e) {
            push(tx, &e.tenant_id, &d.user_id, d.at, d.kind, &d.title, &d.link).await?;
        }
    }
    Ok(())
}

/// Adds a notification for `user` inside `tx`.
///
/// # Errors
/// Database errors.
pub async fn push(
    tx: &mut Tx,
    tenant_id: &str,
    user: &str,
    now: i64,
    kind: &str,
    title: &str,
    link: &str,
) -> Result<()> {
    tx.exec(
        Q::new(
            "INSERT INTO notifications (tenant_id, id, user_id, at, kind, title, link) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant_id)
        .bind(new_id())
        .bind(user)
        .bind(now)
        .bind(kind)
        .bind(title)
        .bind(link),
    )
    .await?;
    Ok(())
}

/// The caller's notifications due by `now`, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(db: &Db, ctx: &Ctx, now: i64, limit: i64) -> Result<Vec<Notification>> {
    let rows = db
        .all(
            Q::new(
                "SELECT * FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND at <= $3 ORDER BY at DESC, id DESC LIMIT $4",
            )
            .bind(ctx.tenant_id())
            .bind(ctx.user_id())
            .bind(now)
            .bind(limit.clamp(1, 500)),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Notification {
            id: r.s("id"),
            at: r.i("at"),
            kind: r.s("kind"),
            title: r.s("title"),
            link: r.s("link"),
            read: r.oi("read_at").is_some(),
        })
        .collect())
}

/// How many of the caller's notifications are unread (at most 100).
///
/// # Errors
/// Database errors.
pub async fn unread(db: &Db, ctx: &Ctx, now: i64) -> Result<i64> {
    let r = db
        .opt(
            Q::new(
                "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM notifications WHERE tenant_id = $1 AND user_id = $2 \
                 AND read_at IS NULL AND at <= $3 LIMIT 100) x",
            )
            .bind(ctx.tenant_id())
            .bind(ctx.user_id())
            .bind(now),
        )
        .await?;
    Ok(r.map_or(0, |r| r.i("n")))
}

/// Marks one (or, with `None`, every) notification of the caller read.
///
/// # Errors
/// `NotFound` for someone else's or a missing notification.
pub async fn mark_read(db: &Db, ctx: &Ctx, now: i64, id: Option<&str>) -> Result<()> {
    let mut q = Q::new("");
    let at = q.arg(now);
    let t = q.arg(ctx.tenant_id());
    let u = q.arg(ctx.user_id());
    q.sql =
        format!("UPDATE notifications SET read_at = {at} WHERE tenant_id = {t} AND user_id = {u} AND read_at IS NULL");
    if let Some(id) = id {
        let one = Q::new("SELECT id FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(ctx.tenant_id())
            .bind(ctx.user_id())
            .bind(id);
        if db.opt(one).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let p = q.arg(id);
        q.sql.push_str(&format!(" AND id = {p}"));
    }
    db.exec(q).await?;
    Ok(())
}
