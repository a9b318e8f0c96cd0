//! Extension points of the kernel: what the kernel, or a context below another, calls without
//! knowing who answers. A context registers its handlers at start (the app calls each
//! context's `register`); registering the same key again replaces the entry, so starting
//! several apps in one process (the tests) is harmless.

use crate::ctx::Ctx;
use crate::db::{Db, Tx};
use crate::error::Result;
use futures_util::future::BoxFuture;
use std::sync::RwLock;

/// Entries registered by key, in registration order.
#[derive(Debug)]
pub struct Registry<T: Copy + 'static> {
    items: RwLock<Vec<(&'static str, T)>>,
}

impl<T: Copy + 'static> Registry<T> {
    /// An empty registry.
    #[must_use]
    pub const fn new() -> Self {
        Self { items: RwLock::new(Vec::new()) }
    }

    /// Adds `item` under `key`, replacing an entry of the same key.
    pub fn add(&self, key: &'static str, item: T) {
        let mut items = self.items.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = items.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = item;
        } else {
            items.push((key, item));
        }
    }

    /// The entry of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<T> {
        let items = self.items.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        items.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Every entry, in registration order.
    #[must_use]
    pub fn all(&self) -> Vec<T> {
        let items = self.items.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        items.iter().map(|(_, v)| *v).collect()
    }
}

impl<T: Copy + 'static> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A job's effect, run in the transaction that claims it: `(tx, tenant, ref_id, now)`.
pub type JobHandler = for<'a> fn(&'a mut Tx, &'a str, &'a str, i64) -> BoxFuture<'a, Result<()>>;

/// Job handlers by job kind (see [`crate::jobs`]).
pub static JOBS: Registry<JobHandler> = Registry::new();

/// What a person's data may be used for, asked of the personal-data gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Contact the person (mail, calls, messages).
    Contact,
    /// Keep and process the person's data.
    Process,
    /// Export the person's data out of Karta (files, DAV, other systems).
    Export,
}

/// Of the people (contacts' ids) given, those who may not be used for `purpose`. Mail,
/// export, campaigns and DAV ask it; the privacy context answers with consent and
/// restriction.
pub type PersonalDataGate =
    for<'a> fn(&'a Db, &'a Ctx, &'a [String], Purpose) -> BoxFuture<'a, Result<std::collections::HashSet<String>>>;

/// The gates; none registered means everyone may be used (until the privacy kit).
pub static PERSONAL_DATA_GATE: Registry<PersonalDataGate> = Registry::new();

/// True when some gate is registered (callers skip asking otherwise).
#[must_use]
pub fn gated() -> bool {
    !PERSONAL_DATA_GATE.all().is_empty()
}

/// Of `people`, those some gate refuses for `purpose`.
///
/// # Errors
/// What a gate returns.
pub async fn refused(
    db: &Db,
    ctx: &Ctx,
    people: &[String],
    purpose: Purpose,
) -> Result<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for gate in PERSONAL_DATA_GATE.all() {
        out.extend(gate(db, ctx, people, purpose).await?);
    }
    Ok(out)
}
