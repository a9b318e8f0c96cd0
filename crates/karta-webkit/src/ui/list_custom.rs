//! Custom fields in the contacts, accounts and deals lists: `cf.<key>` columns (header label in
//! the user's language, the value as people read it), the field choices of the filter builder
//! and the column chooser, and which `cf.` names a list may use.

use crate::i18n::Tr;
use karta_core::custom::{FieldDef, FieldKind};
use karta_core::Entity;
use karta_kernel::ctx::Ctx;
use karta_kernel::users::User;
use karta_kernel::{fields, Db};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The tenant's custom fields of `e` (inactive ones too, so saved filters on them still run).
///
/// # Errors
/// Database errors.
pub async fn defs(db: &Db, ctx: &Ctx, e: Entity) -> Result<Vec<FieldDef>, karta_kernel::StoreError> {
    if !fields::entities().contains(&e) {
        return Ok(Vec::new());
    }
    fields::list(db, ctx, e, true).await
}

/// The definition of a `cf.<key>` name that a list may filter or sort by.
pub fn known<'a>(defs: &'a [FieldDef], name: &str) -> Option<&'a FieldDef> {
    fields::lookup(defs, name)
}

/// True when `name` is a `cf.<key>` column the list can show (an active field).
pub fn is_column(defs: &[FieldDef], name: &str) -> bool {
    known(defs, name).is_some_and(|d| d.active)
}

/// The header label of a `cf.<key>` column in the user's language.
pub fn label(t: Tr, defs: &[FieldDef], name: &str) -> Option<String> {
    known(defs, name).map(|d| d.label(t.is_ru()).to_string())
}

/// The active fields as (`cf.<key>`, label) choices for the filter builder and the column
/// chooser, in form order.
pub fn choices(t: Tr, defs: &[FieldDef]) -> Vec<(String, String)> {
    let mut active: Vec<&FieldDef> = defs.iter().filter(|d| d.active).collect();
    active.sort_by_key(|d| d.position);
    active.into_iter().map(|d| (format!("cf.{}", d.key), d.label(t.is_ru()).to_string())).collect()
}

/// The cell of a `cf.<key>` column for a record's custom values (`None` for other columns):
/// the value as people read it in the user's language; users and linked records (`links`,
/// from [`karta_kernel::fields::link_names`]) show their names. Plain text; the template
/// escapes it.
pub fn cell(
    t: Tr,
    defs: &[FieldDef],
    people: &[User],
    links: &HashMap<String, String>,
    custom: &Map<String, Value>,
    col: &str,
) -> Option<String> {
    if !col.starts_with("cf.") {
        return None;
    }
    let Some(d) = known(defs, col) else { return Some(String::new()) };
    let Some(v) = custom.get(&d.key).filter(|v| !v.is_null()) else { return Some(String::new()) };
    Some(match d.kind {
        FieldKind::User => {
            let id = v.as_str().unwrap_or_default();
            people.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| p.display_name.clone())
        }
        FieldKind::Link => {
            let id = v.as_str().unwrap_or_default();
            links.get(id).cloned().unwrap_or_else(|| id.to_string())
        }
        _ => d.display(v, t.code()),
    })
}
