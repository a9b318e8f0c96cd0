//! Custom fields on every context's pages: inputs on forms, values on record pages and in
//! list cells, form values read back, and error labels.

use crate::i18n::Tr;
use karta_core::custom::{FieldDef, FieldKind};
use karta_core::Entity;
use karta_kernel::ctx::Ctx;
use karta_kernel::{fields, users, Db, StoreError};
use serde_json::{Map, Value};
use std::collections::HashMap;
/// The text form of a stored custom value (what [`FieldDef::text`] gives for its kind).
#[must_use]
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
        Value::Object(_) => fields::money_of(v).map(|m| m.to_string()).unwrap_or_default(),
        Value::Number(n) => n.to_string(),
    }
}

/// Form values (`cf.<key>`) of a record's custom values, for an edit form.
pub fn form_values(custom: &Map<String, Value>) -> impl Iterator<Item = (String, String)> + '_ {
    custom.iter().map(|(k, v)| (format!("cf.{k}"), value_text(v)))
}

/// The raw custom map of a submitted form: `cf.<key>` inputs (repeated ones, from a multi
/// select, joined with `; `), and `cfb.<key>` markers of checkboxes left unticked.
#[must_use]
pub fn from_pairs(pairs: &[(String, String)]) -> Map<String, Value> {
    let mut m: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        if let Some(key) = k.strip_prefix("cf.") {
            match m.get_mut(key) {
                Some(Value::String(prev)) if !v.is_empty() => {
                    if !prev.is_empty() {
                        prev.push_str("; ");
                    }
                    prev.push_str(v);
                }
                Some(_) => {}
                None => {
                    m.insert(key.to_string(), Value::from(v.clone()));
                }
            }
        }
    }
    for (k, _) in pairs {
        if let Some(key) = k.strip_prefix("cfb.") {
            m.entry(key.to_string()).or_insert_with(|| Value::from("no"));
        }
    }
    m
}

/// One custom input of a record form.
pub struct CfInput {
    /// Form name, `cf.<key>`.
    pub name: String,
    /// Key.
    pub key: String,
    /// Label in the user's language.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Required.
    pub required: bool,
    /// The kind's name (`text`, `bool`, `select`…).
    pub kind: &'static str,
    /// The HTML input type for one-line kinds.
    pub input: &'static str,
    /// Current value (text form).
    pub value: String,
    /// Choices: (value, label, selected) for selects, users and yes/no.
    pub options: Vec<(String, String, bool)>,
    /// Error message, or empty.
    pub error: String,
    /// Checkbox ticked (yes/no).
    pub on: bool,
    /// For links: where the input's suggestion list asks for records of the target by name.
    pub suggest: String,
}

/// The inputs of the active fields of `entity`, filled from `values` (form values keyed
/// `cf.<key>`) with the messages in `errors` (keyed `custom.<key>`).
pub async fn inputs(
    db: &Db,
    ctx: &Ctx,
    t: Tr,
    entity: Entity,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Result<Vec<CfInput>, StoreError> {
    let defs = fields::list(db, ctx, entity, false).await?;
    if defs.is_empty() {
        return Ok(Vec::new());
    }
    let people = if defs.iter().any(|d| d.kind == FieldKind::User) { users::list(db, ctx).await? } else { Vec::new() };
    // Links are typed and shown by the linked record's name (an id is accepted too).
    let links: Map<String, Value> = defs
        .iter()
        .filter(|d| d.kind == FieldKind::Link)
        .filter_map(|d| values.get(&format!("cf.{}", d.key)).map(|v| (d.key.clone(), Value::from(v.as_str()))))
        .collect();
    let names = fields::link_names(db, ctx, &defs, &[&links]).await?;
    Ok(defs
        .iter()
        .map(|d| {
            let name = format!("cf.{}", d.key);
            let mut value = values.get(&name).cloned().unwrap_or_default();
            if d.kind == FieldKind::Link {
                if let Some(n) = names.get(&value) {
                    value.clone_from(n);
                }
            }
            let chosen: Vec<&str> = value.split(';').map(str::trim).collect();
            let options = match d.kind {
                FieldKind::Select | FieldKind::MultiSelect => {
                    d.options.iter().map(|o| (o.clone(), o.clone(), chosen.contains(&o.as_str()))).collect()
                }
                FieldKind::User => {
                    people.iter().map(|p| (p.id.clone(), p.display_name.clone(), p.id == value)).collect()
                }
                _ => Vec::new(),
            };
            let input = match d.kind {
                FieldKind::Date => "date",
                FieldKind::DateTime => "datetime-local",
                FieldKind::Url => "url",
                FieldKind::Email => "email",
                FieldKind::Phone => "tel",
                _ => "text",
            };
            let suggest = match (d.kind, d.target) {
                (FieldKind::Link, Some(target)) => format!("/search/suggest?kind={}", target.as_str()),
                _ => String::new(),
            };
            CfInput {
                suggest,
                on: matches!(value.as_str(), "yes" | "on" | "true" | "1"),
                name,
                key: d.key.clone(),
                label: d.label(t.is_ru()).to_string(),
                help: d.help.clone(),
                required: d.required,
                kind: d.kind.as_str(),
                input,
                value,
                options,
                error: errors.get(&d.field_name()).cloned().unwrap_or_default(),
            }
        })
        .collect())
}

/// How a custom field's label looks before [`relabel`] (no text has this key).
const UNTRANSLATED: &str = "f.custom.";

/// Replaces the untranslated `f.custom.<key>` labels in form error lines with the fields'
/// labels.
///
/// # Errors
/// Database errors.
pub async fn relabel(db: &Db, ctx: &Ctx, t: Tr, entity: Entity, list: Vec<String>) -> Result<Vec<String>, StoreError> {
    if !list.iter().any(|l| l.contains(UNTRANSLATED)) {
        return Ok(list);
    }
    let defs = fields::list(db, ctx, entity, true).await?;
    Ok(list
        .into_iter()
        .map(|l| match defs.iter().find(|d| l.starts_with(&format!("f.custom.{}:", d.key))) {
            Some(d) => format!("{}{}", d.label(t.is_ru()), &l[format!("f.custom.{}", d.key).len()..]),
            None => l,
        })
        .collect())
}

/// The (label, value) pairs of a record's custom values for its page, in field order (active
/// fields, then kept values of inactive ones). Users and linked records show their names.
///
/// # Errors
/// Database errors.
pub async fn display(
    db: &Db,
    ctx: &Ctx,
    t: Tr,
    entity: Entity,
    custom: &Map<String, Value>,
) -> Result<Vec<(String, String)>, StoreError> {
    if custom.is_empty() {
        return Ok(Vec::new());
    }
    let mut defs = fields::list(db, ctx, entity, true).await?;
    defs.sort_by_key(|d| (!d.active, d.position));
    let people = if defs.iter().any(|d| d.kind == FieldKind::User) { users::list(db, ctx).await? } else { Vec::new() };
    let names = fields::link_names(db, ctx, &defs, &[custom]).await?;
    let lang = if t.is_ru() { "ru" } else { "en" };
    Ok(defs
        .iter()
        .filter_map(|d| {
            let v = custom.get(&d.key)?;
            let shown = match d.kind {
                FieldKind::User => {
                    let id = v.as_str().unwrap_or_default();
                    people.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| p.display_name.clone())
                }
                FieldKind::Link => {
                    let id = v.as_str().unwrap_or_default();
                    names.get(id).cloned().unwrap_or_else(|| id.to_string())
                }
                _ => d.display(v, lang),
            };
            Some((d.label(t.is_ru()).to_string(), shown))
        })
        .collect())
}

/// The path of a linked record's page, for link values.
#[must_use]
pub fn link_path(d: &FieldDef, v: &Value) -> Option<String> {
    let id = v.as_str()?;
    let kind = match d.target? {
        Entity::Account => "accounts",
        Entity::Contact => "contacts",
        Entity::Deal => "deals",
        _ => return None,
    };
    Some(format!("/{kind}/{id}"))
}
