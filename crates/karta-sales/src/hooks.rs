//! What the sales context tells the contexts above it, in the changing transaction.

use futures_util::future::BoxFuture;
use karta_kernel::hooks::Registry;
use karta_kernel::{Ctx, StoreError, Tx};

/// A deal handed to a new owner by a stage's rule.
#[derive(Debug, Clone, Copy)]
pub struct HandedOver<'a> {
    /// When.
    pub now: i64,
    /// The new owner.
    pub owner: &'a str,
    /// The deal.
    pub deal_id: &'a str,
    /// Its account.
    pub account_id: &'a str,
    /// Its title.
    pub title: &'a str,
}

/// Told that a deal was handed over (the organizer plans the new owner's task).
pub type DealHandedOver = for<'a> fn(&'a mut Tx, &'a Ctx, HandedOver<'a>) -> BoxFuture<'a, Result<(), StoreError>>;

/// Listeners of hand-overs.
pub static DEAL_HANDED_OVER: Registry<DealHandedOver> = Registry::new();

/// Calls every [`DEAL_HANDED_OVER`] listener.
///
/// # Errors
/// What a listener returns.
pub async fn handed_over(tx: &mut Tx, ctx: &Ctx, h: HandedOver<'_>) -> Result<(), StoreError> {
    for f in DEAL_HANDED_OVER.all() {
        f(tx, ctx, h).await?;
    }
    Ok(())
}
