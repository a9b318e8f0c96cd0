//! Custom fields in the UI: the admin page (`/admin/fields`: add, rename, reorder, deactivate,
//! change type — a refusal shows how many values would be lost), and the helpers the record
//! forms and pages use to show inputs and values of a tenant's fields.

use super::pages::{message_page, render, Layout};
use crate::auth::PageUser;
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::custom::{FieldDef, FieldKind};
use karta_core::{Entity, FieldError};
use karta_store::ctx::Ctx;
use karta_store::fields::{self, FieldInput, FieldPatch, Saved};
use karta_store::{users, Db, StoreError};
use serde_json::{Map, Value};
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

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
) -> Vec<CfInput> {
    let defs = fields::list(db, ctx, entity, false).await.unwrap_or_default();
    if defs.is_empty() {
        return Vec::new();
    }
    let people = if defs.iter().any(|d| d.kind == FieldKind::User) {
        users::list(db, ctx).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    // Links are typed and shown by the linked record's name (an id is accepted too).
    let links: Map<String, Value> = defs
        .iter()
        .filter(|d| d.kind == FieldKind::Link)
        .filter_map(|d| values.get(&format!("cf.{}", d.key)).map(|v| (d.key.clone(), Value::from(v.as_str()))))
        .collect();
    let names = fields::link_names(db, ctx, &defs, &[&links]).await.unwrap_or_default();
    defs.iter()
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
                label: d.label(t.ru).to_string(),
                help: d.help.clone(),
                required: d.required,
                kind: d.kind.as_str(),
                input,
                value,
                options,
                error: errors.get(&d.field_name()).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

/// How a custom field's label looks before [`relabel`] (no text has this key).
const UNTRANSLATED: &str = "f.custom.";

/// Replaces the untranslated `f.custom.<key>` labels in form error lines with the fields'
/// labels.
pub async fn relabel(db: &Db, ctx: &Ctx, t: Tr, entity: Entity, list: Vec<String>) -> Vec<String> {
    if !list.iter().any(|l| l.contains(UNTRANSLATED)) {
        return list;
    }
    let defs = fields::list(db, ctx, entity, true).await.unwrap_or_default();
    list.into_iter()
        .map(|l| match defs.iter().find(|d| l.starts_with(&format!("f.custom.{}:", d.key))) {
            Some(d) => format!("{}{}", d.label(t.ru), &l[format!("f.custom.{}", d.key).len()..]),
            None => l,
        })
        .collect()
}

/// The (label, value) pairs of a record's custom values for its page, in field order (active
/// fields, then kept values of inactive ones). Users and linked records show their names.
pub async fn display(db: &Db, ctx: &Ctx, t: Tr, entity: Entity, custom: &Map<String, Value>) -> Vec<(String, String)> {
    if custom.is_empty() {
        return Vec::new();
    }
    let mut defs = fields::list(db, ctx, entity, true).await.unwrap_or_default();
    defs.sort_by_key(|d| (!d.active, d.position));
    let people = if defs.iter().any(|d| d.kind == FieldKind::User) {
        users::list(db, ctx).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let names = fields::link_names(db, ctx, &defs, &[custom]).await.unwrap_or_default();
    let lang = if t.ru { "ru" } else { "en" };
    defs.iter()
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
            Some((d.label(t.ru).to_string(), shown))
        })
        .collect()
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

/// A field row of the admin page.
pub struct FieldRow {
    /// The definition.
    pub d: FieldDef,
    /// Label in the user's language.
    pub label: String,
    /// The kind's name in the user's language.
    pub kind_label: String,
    /// Options, one per line.
    pub options: String,
    /// First of the list.
    pub first: bool,
    /// Last of the list.
    pub last: bool,
}

#[derive(Template)]
#[template(path = "fields.html")]
struct FieldsPage {
    l: Layout,
    entity: &'static str,
    tabs: Vec<(&'static str, String, bool)>,
    rows: Vec<FieldRow>,
    kinds: Vec<(&'static str, String)>,
    targets: Vec<(&'static str, String)>,
    ok: bool,
    lost: String,
    error: String,
}

/// `?entity=…&ok=1&lost=N&error=…`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    entity: Option<String>,
    ok: Option<String>,
    lost: Option<String>,
    error: Option<String>,
}

fn entity_or_contact(s: &str) -> Entity {
    Entity::parse(s).filter(|e| fields::ENTITIES.contains(e)).unwrap_or(Entity::Contact)
}

/// GET /admin/fields
pub async fn page(State(st): State<AppState>, u: PageUser, Query(pq): Query<PageQuery>) -> Response {
    let t = u.t;
    if !u.p.ctx.role.is_admin() {
        return message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden"));
    }
    let e = entity_or_contact(pq.entity.as_deref().unwrap_or_default());
    let defs = match fields::list(&st.db, &u.p.ctx, e, true).await {
        Ok(d) => d,
        Err(err) => return super::records::error_page(&u, &err),
    };
    let n = defs.len();
    let rows = defs
        .into_iter()
        .enumerate()
        .map(|(i, d)| FieldRow {
            label: d.label(t.ru).to_string(),
            kind_label: t.s(&format!("kind.{}", d.kind.as_str())).to_string(),
            options: d.options.join("\n"),
            first: i == 0,
            last: i + 1 == n,
            d,
        })
        .collect();
    let tpl = FieldsPage {
        l: Layout::new(t, &u.p, t.s("fields.title"), "fields"),
        entity: e.as_str(),
        tabs: fields::ENTITIES
            .iter()
            .map(|x| (x.as_str(), t.s(&format!("fields.for.{}", x.as_str())).to_string(), *x == e))
            .collect(),
        rows,
        kinds: FieldKind::ALL.iter().map(|k| (k.as_str(), t.s(&format!("kind.{}", k.as_str())).to_string())).collect(),
        targets: fields::ENTITIES
            .iter()
            .map(|x| (x.as_str(), t.s(&format!("fields.for.{}", x.as_str())).to_string()))
            .collect(),
        ok: pq.ok.is_some(),
        lost: pq.lost.unwrap_or_default().chars().filter(char::is_ascii_digit).collect(),
        error: pq.error.unwrap_or_default(),
    };
    render(StatusCode::OK, &tpl)
}

fn back(entity: &str, extra: &str) -> Response {
    Redirect::to(&format!("/admin/fields?entity={entity}{extra}")).into_response()
}

fn error_text(t: Tr, errs: &[FieldError]) -> String {
    errs.iter().map(|e| format!("{}: {}", t.f(&e.field), t.err(e.code))).collect::<Vec<_>>().join("; ")
}

fn done(u: &PageUser, entity: &str, r: Result<Saved, StoreError>) -> Response {
    let t = u.t;
    match r {
        Ok(Saved::Done(_)) => back(entity, "&ok=1"),
        Ok(Saved::WouldLose { affected }) => back(entity, &format!("&lost={affected}")),
        Err(StoreError::Invalid(errs)) => {
            back(entity, &format!("&error={}", super::records::enc(&error_text(t, &errs))))
        }
        Err(StoreError::Conflict(_)) => back(entity, &format!("&error={}", super::records::enc(t.s("form.stale")))),
        Err(StoreError::Stale { .. }) => back(entity, &format!("&error={}", super::records::enc(t.s("form.stale")))),
        Err(err) => super::records::error_page(u, &err),
    }
}

fn options_of(pairs: &Pairs) -> Vec<String> {
    get(pairs, "options").lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// POST /admin/fields — add a field.
pub async fn create(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> Response {
    let entity = entity_or_contact(get(&pairs, "entity")).as_str();
    let input = FieldInput {
        entity: entity.into(),
        kind: get(&pairs, "kind").into(),
        key: String::new(),
        label_en: get(&pairs, "label_en").into(),
        label_ru: get(&pairs, "label_ru").into(),
        help: get(&pairs, "help").into(),
        required: !get(&pairs, "required").is_empty(),
        default_value: get(&pairs, "default_value").into(),
        options: options_of(&pairs),
        target: get(&pairs, "target").into(),
    };
    let r = fields::create(&st.db, &u.p.ctx, &input).await.map(Saved::Done);
    done(&u, entity, r)
}

/// POST /admin/fields/{id} — rename, help, required, default, options, (de)activate, type.
pub async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let entity = entity_or_contact(get(&pairs, "entity")).as_str();
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    let has = |k: &str| pairs.iter().any(|(a, _)| a == k);
    let opt = |k: &str| has(k).then(|| get(&pairs, k).to_string());
    let patch = FieldPatch {
        label_en: opt("label_en"),
        label_ru: opt("label_ru"),
        help: opt("help"),
        required: has("labels").then(|| !get(&pairs, "required").is_empty()),
        default_value: opt("default_value"),
        options: has("options").then(|| options_of(&pairs)),
        kind: opt("kind"),
        target: opt("target"),
        active: opt("active").map(|a| a == "1"),
        position: None,
    };
    let r = fields::update(&st.db, &u.p.ctx, &id, version, &patch).await;
    done(&u, entity, r)
}

/// POST /admin/fields/{id}/move — one place up (`dir=up`) or down.
pub async fn move_field(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let entity = entity_or_contact(get(&pairs, "entity")).as_str();
    let r = fields::move_field(&st.db, &u.p.ctx, &id, get(&pairs, "dir") == "up").await;
    match r {
        Ok(()) => back(entity, ""),
        Err(err) => super::records::error_page(&u, &err),
    }
}
