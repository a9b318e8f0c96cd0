//! The record kinds contexts offer to the rest of Karta: where a record is stored and named,
//! and whether it takes custom fields, is a link target and has saved views. A context
//! registers its entities at start; the kernel's engines (custom fields, links, views) read
//! them here instead of knowing every business table. Their permissions are the roles'
//! (`karta_core::Role::scope`) until roles become tenant data.

use crate::hooks::Registry;
use karta_core::Entity;

/// A registered record kind.
#[derive(Debug, Clone, Copy)]
pub struct EntityInfo {
    /// The entity.
    pub entity: Entity,
    /// Its table (rows with `tenant_id`, `id`, `owner_id`, `deleted_at`).
    pub table: &'static str,
    /// The column people know a record by (`name`, a deal's `title`).
    pub name_col: &'static str,
    /// Takes custom fields, may be the target of a link field, and has lists with saved views.
    pub customizable: bool,
}

/// The registered entities, in the order their tabs and choices are shown.
pub static ENTITIES: Registry<EntityInfo> = Registry::new();

/// What is registered for `entity`.
#[must_use]
pub fn info(entity: Entity) -> Option<EntityInfo> {
    ENTITIES.get(entity.as_str())
}

/// The entities that take custom fields and saved views.
#[must_use]
pub fn customizable() -> Vec<Entity> {
    ENTITIES.all().into_iter().filter(|e| e.customizable).map(|e| e.entity).collect()
}
