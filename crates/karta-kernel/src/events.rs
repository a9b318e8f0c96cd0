//! The event outbox: every change of a business record and every domain moment (a deal moved,
//! won or lost; an activity done) is written as an event in the transaction of the change, so
//! a rolled-back change leaves none. Consumers (notifications today; webhooks, rules and
//! roll-ups later) read them in order, each from its own position.
//!
//! Ordering: an event gets its `seq` only after it committed, from the sequencer
//! ([`sequence`]), which numbers the committed, unnumbered events in insert order, many in one
//! statement (cheaper than numbering each as it is written, which an import of a million rows
//! would pay a million times). A consumer
//! reads the events after its position by `seq`, so an event whose transaction committed late
//! is numbered after those already read and is never skipped (numbering at insert would let a
//! long transaction's event appear below a position already passed). Two changes of one
//! record are ordered as they happened: the second waits for the first's row lock, so it
//! inserts its event after the first committed.
//!
//! Delivery: a consumer handles a batch in a transaction that also moves its position, so an
//! effect written to the database happens exactly once; an effect outside it (a webhook) at
//! least once. One node at a time holds a consumer's lease; a dead node's lease expires.

use crate::db::{Db, Engine, Row, Tx, Q};
use crate::error::Result;
use crate::hooks::Registry;
use futures_util::future::BoxFuture;
use karta_core::{new_id, now_ms};
use serde_json::Value;

/// One event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Event {
    /// Its place in the outbox's order.
    pub seq: i64,
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// `entity.moment`: `deal.created`, `deal.updated`, `deal.moved`, `activity.done`…
    pub kind: String,
    /// The record's entity (`deal`).
    pub entity: String,
    /// The record.
    pub record_id: String,
    /// The record's version after the change (0 where there is none).
    pub version: i64,
    /// Who acted (empty for the system).
    pub user_id: String,
    /// When (ms).
    pub at: i64,
    /// What changed: `{"changes": {field: {from, to}}}` for a record's change, the moment's
    /// facts for a domain moment.
    pub data: Value,
}

fn event_from(r: &Row) -> Event {
    Event {
        seq: r.i("seq"),
        id: r.s("id"),
        tenant_id: r.s("tenant_id"),
        kind: r.s("kind"),
        entity: r.s("entity"),
        record_id: r.s("record_id"),
        version: r.i("version"),
        user_id: r.s("user_id"),
        at: r.i("at"),
        data: serde_json::from_str(&r.s("data")).unwrap_or(Value::Null),
    }
}

/// The event kind of an audited change: `deal` + `update` → `deal.updated`.
#[must_use]
pub fn record_kind(entity: &str, action: &str) -> String {
    let past = match action {
        "create" => "created",
        "update" => "updated",
        "delete" => "deleted",
        "restore" => "restored",
        "purge" => "purged",
        "link" => "linked",
        "unlink" => "unlinked",
        "merge" => "merged",
        "merge_undone" => "unmerged",
        "reopen" => "reopened",
        "export" => "exported",
        other => other,
    };
    format!("{entity}.{past}")
}

/// What an event says, before it is written.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The tenant.
    pub tenant_id: &'a str,
    /// Who acted (empty for the system).
    pub user_id: &'a str,
    /// `entity.moment`.
    pub kind: &'a str,
    /// The record's entity.
    pub entity: &'a str,
    /// The record.
    pub record_id: &'a str,
    /// Its version after the change.
    pub version: i64,
    /// The facts.
    pub data: Value,
}

/// The statement writing `e` (for callers that batch their writes, like imports).
#[must_use]
pub fn insert(e: &NewEvent<'_>, at: i64) -> Q {
    Q::new(
        "INSERT INTO events (tenant_id, id, kind, entity, record_id, version, user_id, at, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.tenant_id)
    .bind(new_id())
    .bind(e.kind)
    .bind(e.entity)
    .bind(e.record_id)
    .bind(e.version)
    .bind(e.user_id)
    .bind(at)
    .bind(e.data.to_string())
}

/// Writes an event inside `tx`: it exists when, and only when, `tx` commits.
///
/// # Errors
/// Database errors.
pub async fn emit(tx: &mut Tx, e: NewEvent<'_>) -> Result<()> {
    tx.exec(insert(&e, now_ms())).await?;
    Ok(())
}

/// Serialises this process's sequencing (other processes are held off by the database).
static SEQUENCING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Numbers the committed events that have no `seq` yet, in insert order, after the highest
/// number given (at most `limit` of them); returns how many.
///
/// # Errors
/// Database errors (a round that fails numbers nothing and is retried by the next).
pub async fn sequence(db: &Db, limit: i64) -> Result<u64> {
    let _one = SEQUENCING.lock().await;
    let mut tx = db.begin().await?;
    if db.engine() == Engine::Postgres {
        // One sequencer at a time across nodes (SQLite has a single writer anyway).
        tx.exec(Q::new("SELECT pg_advisory_xact_lock(7243001)")).await?;
    }
    let n = tx
        .exec(
            Q::new(
                "UPDATE events SET seq = n.s FROM (SELECT ins, \
                 (SELECT COALESCE(MAX(seq), 0) FROM events) + ROW_NUMBER() OVER (ORDER BY ins) AS s \
                 FROM events WHERE seq IS NULL ORDER BY ins LIMIT $1) n WHERE events.ins = n.ins",
            )
            .bind(limit),
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// A consumer's handling of a batch of events, in the transaction that moves its position.
pub type Handler = for<'a> fn(&'a mut Tx, &'a [Event]) -> BoxFuture<'a, Result<()>>;

/// A consumer of the outbox.
#[derive(Debug, Clone, Copy)]
pub struct Consumer {
    /// Its name, under which its position is kept.
    pub name: &'static str,
    /// What it does with events (it ignores the kinds it does not know).
    pub handle: Handler,
}

/// The consumers the background worker drives, registered by contexts at start.
pub static CONSUMERS: Registry<Consumer> = Registry::new();

/// How long a node holds a consumer's lease without renewing it.
const LEASE_MS: i64 = 60_000;

/// Hands the next events after `consumer`'s position (at most `limit`) to it, as `node`;
/// returns how many it handled (0 when there were none, or another node holds the lease).
///
/// # Errors
/// Database errors, or the handler's; the position then stays where it was and the same
/// events come again on the next call.
pub async fn consume(db: &Db, consumer: &Consumer, node: &str, limit: i64) -> Result<usize> {
    // Reads first: an idle round writes nothing.
    if db.opt(Q::new("SELECT ins FROM events WHERE seq IS NULL LIMIT 1")).await?.is_some() {
        sequence(db, 10_000).await?;
    }
    let now = now_ms();
    let from = match stored_position(db, consumer.name).await? {
        Some(p) => p,
        None => {
            db.exec(
                Q::new(
                    "INSERT INTO event_positions (consumer, position, lease_until, leased_by, updated_at) \
                     VALUES ($1, 0, 0, '', $2) ON CONFLICT (consumer) DO NOTHING",
                )
                .bind(consumer.name)
                .bind(now),
            )
            .await?;
            0
        }
    };
    // The batch is read before the lease is touched: an idle round writes nothing.
    let limit = limit.clamp(1, 10_000);
    let rows =
        db.all(Q::new("SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2").bind(from).bind(limit)).await?;
    let Some(last) = rows.last().map(|r| r.i("seq")) else { return Ok(0) };
    // The lease is taken, or renewed when half of it has run out: one write, not one per batch.
    let mine = db
        .opt(
            Q::new("SELECT lease_until FROM event_positions WHERE consumer = $1 AND leased_by = $2")
                .bind(consumer.name)
                .bind(node),
        )
        .await?
        .is_some_and(|r| r.i("lease_until") > now + LEASE_MS / 2);
    if !mine {
        let leased = db
            .exec(
                Q::new(
                    "UPDATE event_positions SET lease_until = $1, leased_by = $2 \
                     WHERE consumer = $3 AND (lease_until < $4 OR leased_by = $2)",
                )
                .bind(now + LEASE_MS)
                .bind(node)
                .bind(consumer.name)
                .bind(now),
            )
            .await?;
        // Taken over from another node, the position may have moved since it was read: the
        // next round starts from where it is.
        if leased == 0 || position(db, consumer.name).await? != from {
            return Ok(0);
        }
    }
    let batch: Vec<Event> = rows.iter().map(event_from).collect();
    let mut tx = db.begin().await?;
    if let Err(e) = (consumer.handle)(&mut tx, &batch).await {
        tx.rollback().await?;
        return Err(e);
    }
    // Guarded by the old position and the lease: if another node took over meanwhile, this
    // batch is rolled back and left to it.
    let moved = tx
        .exec(
            Q::new(
                "UPDATE event_positions SET position = $1, updated_at = $2 \
                 WHERE consumer = $3 AND position = $4 AND leased_by = $5",
            )
            .bind(last)
            .bind(now_ms())
            .bind(consumer.name)
            .bind(from)
            .bind(node),
        )
        .await?;
    if moved == 0 {
        tx.rollback().await?;
        return Ok(0);
    }
    tx.commit().await?;
    Ok(batch.len())
}

/// Gives up the leases `node` holds (a node stopping gracefully), so another node takes its
/// consumers at once instead of after the lease expires.
///
/// # Errors
/// Database errors.
pub async fn release(db: &Db, node: &str) -> Result<u64> {
    Ok(db
        .exec(Q::new("UPDATE event_positions SET lease_until = 0, leased_by = '' WHERE leased_by = $1").bind(node))
        .await?)
}

/// Where `consumer` is: the `seq` of the last event it handled (0 before the first).
///
/// # Errors
/// Database errors.
pub async fn position(db: &Db, consumer: &str) -> Result<i64> {
    Ok(stored_position(db, consumer).await?.unwrap_or(0))
}

async fn stored_position(db: &Db, consumer: &str) -> Result<Option<i64>> {
    let r = db.opt(Q::new("SELECT position FROM event_positions WHERE consumer = $1").bind(consumer)).await?;
    Ok(r.map(|r| r.i("position")))
}

/// Deletes the numbered events older than `before` (ms); returns how many. A consumer more
/// than the retention period behind misses them: the retention is the promise.
///
/// # Errors
/// Database errors.
pub async fn prune(db: &Db, before: i64) -> Result<u64> {
    Ok(db.exec(Q::new("DELETE FROM events WHERE at < $1 AND seq IS NOT NULL").bind(before)).await?)
}

/// The events of one record, oldest first (for tests and support; callers check access).
///
/// # Errors
/// Database errors.
pub async fn of_record(db: &Db, tenant_id: &str, entity: &str, record_id: &str) -> Result<Vec<Event>> {
    let rows = db
        .all(
            Q::new(
                "SELECT * FROM events WHERE tenant_id = $1 AND entity = $2 AND record_id = $3 \
                 ORDER BY ins",
            )
            .bind(tenant_id)
            .bind(entity)
            .bind(record_id),
        )
        .await?;
    Ok(rows.iter().map(event_from).collect())
}
