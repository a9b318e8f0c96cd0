//! Custom fields in the UI: the admin page (`/admin/fields`: add, rename, reorder, deactivate,
//! change type — a refusal shows how many values would be lost), and the helpers the record
//! forms and pages use to show inputs and values of a tenant's fields.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::custom::{FieldDef, FieldKind};
use karta_core::{Entity, FieldError};
use karta_kernel::fields::{self, FieldInput, FieldPatch, Saved};
use karta_kernel::StoreError;
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;

type Pairs = Vec<(String, String)>;

fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
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
    Entity::parse(s).filter(|e| fields::entities().contains(e)).unwrap_or(Entity::Contact)
}

/// GET /admin/fields
pub async fn page(State(st): State<AppState>, u: PageUser, Query(pq): Query<PageQuery>) -> Response {
    let t = u.t;
    if !u.p.ctx.is_admin() {
        return message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden"));
    }
    let e = entity_or_contact(pq.entity.as_deref().unwrap_or_default());
    let defs = match fields::list(&st.db, &u.p.ctx, e, true).await {
        Ok(d) => d,
        Err(err) => return karta_webkit::ui::list::error_page(&u, &err),
    };
    let n = defs.len();
    let rows = defs
        .into_iter()
        .enumerate()
        .map(|(i, d)| FieldRow {
            label: d.label(t.is_ru()).to_string(),
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
        tabs: fields::entities()
            .iter()
            .map(|x| (x.as_str(), t.s(&format!("fields.for.{}", x.as_str())).to_string(), *x == e))
            .collect(),
        rows,
        kinds: FieldKind::ALL.iter().map(|k| (k.as_str(), t.s(&format!("kind.{}", k.as_str())).to_string())).collect(),
        targets: fields::entities()
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
            back(entity, &format!("&error={}", karta_webkit::ui::list::enc(&error_text(t, &errs))))
        }
        Err(StoreError::Conflict(_)) => {
            back(entity, &format!("&error={}", karta_webkit::ui::list::enc(t.s("form.stale"))))
        }
        Err(StoreError::Stale { .. }) => {
            back(entity, &format!("&error={}", karta_webkit::ui::list::enc(t.s("form.stale"))))
        }
        Err(err) => karta_webkit::ui::list::error_page(u, &err),
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
        Err(err) => karta_webkit::ui::list::error_page(&u, &err),
    }
}
