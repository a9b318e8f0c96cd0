//! The import runner: imports queued in the wizard or the API (and ones cut off by a restart)
//! run in the background, one at a time per process, as the user who started them.

use karta_core::now_ms;
use karta_kernel::{users, Db, Q};
use karta_transfer::import;
use std::sync::Mutex;

/// Imports being run in this process, so no import ever has two runners.
static RUNNING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Holds an import's place in [`RUNNING`] and gives it up when dropped (also when the run is
/// aborted by a shutdown).
struct Claim(String);

impl Claim {
    fn take(id: &str) -> Option<Self> {
        let mut set = RUNNING.lock().ok()?;
        if set.iter().any(|x| x == id) {
            return None;
        }
        set.push(id.to_string());
        Some(Self(id.to_string()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut set) = RUNNING.lock() {
            set.retain(|x| *x != self.0);
        }
    }
}

/// Runs waiting imports one after another until none is left.
pub(crate) async fn run_pending(db: Db) {
    loop {
        let pending = match import::pending(&db).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list waiting imports");
                return;
            }
        };
        let claim = pending.into_iter().find_map(|(tenant, id, user)| Claim::take(&id).map(|c| (c, tenant, user)));
        let Some((claim, tenant, user)) = claim else { return };
        if let Err(e) = run_one(&db, &tenant, &claim.0, &user).await {
            tracing::error!(error = %e, import = %claim.0, "import failed");
            let _ = fail(&db, &tenant, &claim.0, "internal error: the import stopped; start it again").await;
        }
    }
}

/// Runs one import as its user; a user who was disabled since fails it.
#[tracing::instrument(skip_all, fields(tenant = tenant_id, import = id))]
async fn run_one(db: &Db, tenant_id: &str, id: &str, user_id: &str) -> karta_kernel::error::Result<()> {
    let user = users::by_id(db, tenant_id, user_id).await?;
    let Some(user) = user.filter(|u| !u.disabled) else {
        return fail(db, tenant_id, id, "the user who started the import is disabled").await;
    };
    let ctx = users::act_as(db, tenant_id, &user.id).await?;
    let done = import::run(db, &ctx, id, &|_| {}).await?;
    tracing::info!(status = %done.status, counts = %done.counts, "import finished");
    Ok(())
}

async fn fail(db: &Db, tenant_id: &str, id: &str, why: &str) -> karta_kernel::error::Result<()> {
    db.exec(
        Q::new("UPDATE imports SET status = 'failed', error = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .bind(why)
            .bind(now_ms()),
    )
    .await?;
    Ok(())
}
