//! What the parties context tells the contexts above it, in the changing transaction.

use futures_util::future::BoxFuture;
use karta_kernel::hooks::Registry;
use karta_kernel::{Ctx, Db, StoreError, Tx};

/// Told that accounts' names changed (a rename or a merge), so derived data of other
/// contexts follows (a deal's search text holds its account's name).
pub type AccountsRenamed =
    for<'a> fn(&'a mut Tx, &'a Db, &'a Ctx, &'a [&'a str]) -> BoxFuture<'a, Result<(), StoreError>>;

/// Listeners of account renames.
pub static ACCOUNTS_RENAMED: Registry<AccountsRenamed> = Registry::new();

/// Calls every [`ACCOUNTS_RENAMED`] listener.
///
/// # Errors
/// What a listener returns.
pub async fn accounts_renamed(tx: &mut Tx, db: &Db, ctx: &Ctx, ids: &[&str]) -> Result<(), StoreError> {
    for f in ACCOUNTS_RENAMED.all() {
        f(tx, db, ctx, ids).await?;
    }
    Ok(())
}
