//! The record kinds contexts offer to the rest of Karta: where a record is stored and named,
//! and whether it takes custom fields, is a link target and has saved views. A context
//! registers its entities at start; the kernel's engines (custom fields, links, views) read
//! them here instead of knowing every business table, and the role editor lists them with
//! what the built-in roles may do with them by default ([`EntityInfo::defaults`]).

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
    /// What each built-in role may do with it unless the tenant changed the role
    /// (`Role::record_default` for records people own, `Role::reference_default` for shared
    /// reference data).
    pub defaults: fn(karta_core::Role, karta_core::Action) -> Option<karta_core::Scope>,
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
