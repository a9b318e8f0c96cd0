//! The jobs queue: work that must happen once at a given time and survive restarts (activity
//! reminders). A job is claimed and its effect written in one transaction, so it fires exactly
//! once even when the process dies in between.

use crate::db::{Db, Tx, Q};
use crate::error::Result;
use karta_core::new_id;

/// Schedules (or, with `None`, cancels) the job `kind` for `ref_id`. Rescheduling to another
/// time makes a fired job pending again; the same time leaves it as it is.
///
/// # Errors
/// Database errors.
pub async fn schedule(tx: &mut Tx, tenant_id: &str, kind: &str, ref_id: &str, run_at: Option<i64>) -> Result<()> {
    match run_at {
        None => {
            tx.exec(
                Q::new("DELETE FROM jobs WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3 AND state = 'pending'")
                    .bind(tenant_id)
                    .bind(kind)
                    .bind(ref_id),
            )
            .await?;
        }
        Some(at) => {
            tx.exec(
                Q::new(
                    "INSERT INTO jobs (id, tenant_id, kind, ref_id, run_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant_id, kind, ref_id) DO UPDATE SET run_at = excluded.run_at, state = 'pending', \
                     done_at = NULL, attempts = 0, last_error = '' WHERE jobs.run_at <> excluded.run_at",
                )
                .bind(new_id())
                .bind(tenant_id)
                .bind(kind)
                .bind(ref_id)
                .bind(at),
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs the jobs due at `now` (at most `limit`); returns how many fired.
///
/// # Errors
/// Database errors (a failing job is recorded on the job and retried later).
pub async fn run_due(db: &Db, now: i64, limit: i64) -> Result<usize> {
    let due = db
        .all(
            Q::new("SELECT id, tenant_id, kind, ref_id FROM jobs WHERE state = 'pending' AND run_at <= $1 ORDER BY run_at, id LIMIT $2")
                .bind(now)
                .bind(limit),
        )
        .await?;
    let mut fired = 0;
    for j in due {
        let id = j.s("id");
        let mut tx = db.begin().await?;
        // Claiming and the effect commit together: exactly once.
        let claimed = tx
            .exec(
                Q::new(
                    "UPDATE jobs SET state = 'done', done_at = $1, attempts = attempts + 1 \
                     WHERE tenant_id = $2 AND id = $3 AND state = 'pending'",
                )
                .bind(now)
                .bind(j.s("tenant_id"))
                .bind(&id),
            )
            .await?;
        if claimed == 0 {
            continue;
        }
        let r = match crate::hooks::JOBS.get(&j.s("kind")) {
            Some(handler) => handler(&mut tx, &j.s("tenant_id"), &j.s("ref_id"), now).await,
            // Not lost: it waits, retried like a failure, until a context handles its kind.
            None => {
                Err(crate::error::StoreError::Other(anyhow::anyhow!("no handler for jobs of kind {:?}", j.s("kind"))))
            }
        };
        match r {
            Ok(()) => {
                tx.commit().await?;
                fired += 1;
            }
            Err(e) => {
                drop(tx);
                tracing::warn!(job = %id, error = %e, "job failed; will retry");
                db.exec(
                    Q::new(
                        "UPDATE jobs SET attempts = attempts + 1, last_error = $1, run_at = $2 WHERE tenant_id = $3 AND id = $4",
                    )
                    .bind(e.to_string())
                    .bind(now + 60_000)
                    .bind(j.s("tenant_id"))
                    .bind(&id),
                )
                .await?;
            }
        }
    }
    Ok(fired)
}
