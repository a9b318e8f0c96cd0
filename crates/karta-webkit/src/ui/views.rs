//! Saved views on the contacts, accounts and deals lists (the view selector, saving, updating
//! and deleting a view, pinned views in the navigation), the AND/OR filter groups of the
//! filter form, and the list's "Set field" mass update.
//!
//! Filter groups in a URL: `g1=field:op:value` (repeatable, `g1` … `g9`), `g1_any=1` (any
//! condition of the group is enough) and `match=any` (any group is enough); the filter form
//! sends the same groups as `g1_f` / `g1_op` / `g1_v` triples. `view=ID_OR_NAME` applies a
//! saved view; `vid=ID` only names the view being edited.

use super::list::{enc, error_page, field_label, get, kind_of, list_url, parse_list, FilterView, Pairs};
use super::pages::message_page;
use crate::auth::PageUser;
use crate::error::PageResult;
use crate::i18n::Tr;
use crate::routes::Pages;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::{Entity, FieldError};
use karta_kernel::ctx::Ctx;
use karta_kernel::listq::{self, Filter, ListQuery};
use karta_kernel::views::{self, NavLink, SavedView, ViewInput};
use karta_kernel::{mass, Db, StoreError};

/// The list entity of a UI path segment.
pub fn list_entity(kind: &str) -> Option<Entity> {
    match kind {
        "accounts" => Some(Entity::Account),
        "contacts" => Some(Entity::Contact),
        "deals" => Some(Entity::Deal),
        _ => None,
    }
}

/// The navigation's pinned views: (list path, link, name).
pub fn nav(links: &[NavLink]) -> Vec<(&'static str, String, String)> {
    links
        .iter()
        .map(|n| {
            let kind = kind_of(n.entity);
            (kind, format!("/{kind}?view={}", enc(&n.id)), n.name.clone())
        })
        .collect()
}

/// True for a group parameter of the URL or the form (`g1`, `g1_any`, `g1_f`, `g1_op`, `g1_v`).
fn is_group_key(k: &str) -> bool {
    let Some(rest) = k.strip_prefix('g') else { return false };
    let num = ["_any", "_f", "_op", "_v"].iter().find_map(|s| rest.strip_suffix(s)).unwrap_or(rest);
    !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit())
}

/// Lays a saved view under explicit list parameters: the view's flat filters are added to the
/// explicit ones; its groups, sort and (with `with_cols`) columns apply unless the parameters
/// give their own.
pub fn merge_view(pairs: &[(String, String)], v: &SavedView, with_cols: bool) -> Vec<(String, String)> {
    let has = |f: &dyn Fn(&str) -> bool| pairs.iter().any(|(k, _)| f(k));
    let explicit_groups = has(&|k| k == "match" || is_group_key(k));
    let explicit_sort = has(&|k| k == "sort");
    let explicit_cols = has(&|k| k == "col" || k == "cols");
    let mut out: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "view").cloned().collect();
    for (k, val) in listq::filter_params(&v.list_query()) {
        if k == "filter" || !explicit_groups {
            out.push((k, val));
        }
    }
    if let Some(s) = v.sort.as_deref().filter(|s| !s.is_empty() && !explicit_sort) {
        out.push(("sort".into(), format!("{}{s}", if v.desc { "-" } else { "" })));
    }
    if with_cols && !explicit_cols && !v.columns.is_empty() {
        out.push(("cols".into(), v.columns.join(",")));
    }
    out
}

/// True when a filter's field can be used in `e`'s list: a list field or one of the custom
/// fields the query carries.
fn usable(e: Entity, custom: &[karta_core::custom::FieldDef], f: &Filter) -> bool {
    listq::field(e, &f.field).is_some() || super::list_custom::known(custom, &f.field).is_some()
}

/// Reads the filter groups (URL and form syntax) and `match` into `lq`; returns a condition
/// that could not be used, if any.
pub fn parse_groups(e: Entity, pairs: &Pairs, lq: &mut ListQuery) -> Option<String> {
    let mut problem = None;
    for n in 1..=listq::GROUPS_MAX {
        let key = format!("g{n}");
        let col = |suffix: &str| -> Vec<&str> {
            let k = format!("{key}{suffix}");
            pairs.iter().filter(|(pk, _)| *pk == k).map(|(_, v)| v.as_str()).collect()
        };
        let (fs, os, vs) = (col("_f"), col("_op"), col("_v"));
        let mut raw: Vec<String> = Vec::new();
        for (i, f) in fs.iter().enumerate() {
            let op = os.get(i).copied().unwrap_or("contains");
            let v = vs.get(i).copied().unwrap_or("");
            if f.is_empty() || (v.trim().is_empty() && !matches!(op, "empty" | "notempty")) {
                continue;
            }
            raw.push(format!("{f}:{op}:{v}"));
        }
        raw.extend(col("").into_iter().map(str::to_string));
        let mut group = listq::FilterGroup {
            any: col("_any").last().is_some_and(|v| matches!(*v, "1" | "true" | "any" | "on")),
            filters: Vec::new(),
        };
        for r in raw {
            match Filter::parse(&r) {
                Ok(f) if usable(e, &lq.custom, &f) => group.filters.push(f),
                _ => problem = Some(r),
            }
        }
        if !group.filters.is_empty() {
            lq.groups.push(group);
        }
    }
    lq.match_any = get(pairs, "match") == "any";
    problem
}

/// The URL parameters of `lq`'s groups (`g1=…`, `g1_any=1`, `match=any`), encoded.
pub fn url_parts(lq: &ListQuery) -> Vec<String> {
    listq::filter_params(lq)
        .into_iter()
        .filter(|(k, _)| k != "filter")
        .map(|(k, v)| format!("{k}={}", enc(&v)))
        .collect()
}

/// A saved view in the selector.
pub struct ViewOpt {
    /// Id.
    pub id: String,
    /// Name with whose / how shared.
    pub label: String,
    /// The view shown now.
    pub selected: bool,
}

/// A condition group of the filter form.
pub struct GroupView {
    /// Its number (1-based).
    pub n: usize,
    /// Any condition is enough.
    pub any: bool,
    /// Its conditions plus one blank row.
    pub rows: Vec<FilterView>,
}

/// What the list page shows about saved views, filter groups and mass update.
#[derive(Default)]
pub struct ViewsPanel {
    /// The views the caller sees.
    pub views: Vec<ViewOpt>,
    /// The view shown or being edited (empty = none).
    pub current_id: String,
    /// Its name.
    pub current_name: String,
    /// Its visibility.
    pub current_visibility: String,
    /// Pinned.
    pub current_pinned: bool,
    /// The caller may change it.
    pub current_editable: bool,
    /// Condition groups, the last one blank (adding a group = filling it in).
    pub groups: Vec<GroupView>,
    /// Any group is enough.
    pub match_any: bool,
    /// The current list as a query string, which "Save view" captures.
    pub state: String,
    /// Visibility choices: (value, label).
    pub visibilities: Vec<(String, String)>,
    /// Mass-update fields: (name, label).
    pub set_fields: Vec<(String, String)>,
    /// Records skipped by the last mass update.
    pub skipped: String,
    /// Values offered for the mass update's value box.
    pub value_hints: Vec<String>,
}

/// Loads the caller's views of `e`'s list and applies `view=ID_OR_NAME`, returning the
/// parameters to list with.
///
/// # Errors
/// `NotFound` for a view the caller does not see; database errors.
pub async fn prepare(db: &Db, ctx: &Ctx, e: Entity, pairs: Pairs) -> Result<(Pairs, ViewsPanel), StoreError> {
    let mut sv = ViewsPanel::default();
    let want = get(&pairs, "view").trim().to_string();
    let mut current = None;
    let pairs = if want.is_empty() {
        let vid = get(&pairs, "vid");
        if !vid.is_empty() {
            // The view the list was opened from, if it is still there for the caller.
            current = match views::get(db, ctx, vid).await {
                Ok(v) => Some(v).filter(|v| v.entity == e),
                Err(StoreError::NotFound | StoreError::Forbidden) => None,
                Err(err) => return Err(err),
            };
        }
        pairs
    } else {
        let v = views::resolve(db, ctx, e, &want).await?;
        let merged = merge_view(&pairs, &v, true);
        current = Some(v);
        merged
    };
    let all = views::list_visible(db, ctx, e).await?;
    if let Some(c) = &current {
        sv.current_id.clone_from(&c.id);
        sv.current_name.clone_from(&c.name);
        sv.current_visibility.clone_from(&c.visibility);
        sv.current_pinned = c.pinned;
        sv.current_editable = c.editable;
    }
    sv.views = all
        .into_iter()
        .map(|v| ViewOpt {
            selected: v.id == sv.current_id,
            label: if v.owner_id == ctx.user_id() { v.name } else { format!("{} · {}", v.name, v.owner_name) },
            id: v.id,
        })
        .collect();
    Ok((pairs, sv))
}

/// Fills in the parts of the panel that come from the parsed list.
pub fn finish(sv: &mut ViewsPanel, t: Tr, e: Entity, lq: &ListQuery, cols: &[String], pairs: &Pairs) {
    let kind = kind_of(e);
    let blank = || FilterView { field: String::new(), op: "contains".into(), value: String::new() };
    let mut groups: Vec<GroupView> = lq
        .groups
        .iter()
        .filter(|g| !g.filters.is_empty())
        .enumerate()
        .map(|(i, g)| {
            let mut rows: Vec<FilterView> = g
                .filters
                .iter()
                .map(|f| FilterView { field: f.field.clone(), op: f.op.as_str().into(), value: f.value.clone() })
                .collect();
            rows.push(blank());
            GroupView { n: i + 1, any: g.any, rows }
        })
        .collect();
    if groups.len() < listq::GROUPS_MAX {
        groups.push(GroupView { n: groups.len() + 1, any: false, rows: vec![blank(), blank()] });
    }
    sv.groups = groups;
    sv.match_any = lq.match_any;
    let url = list_url(kind, lq, cols, None, None);
    sv.state = url.split_once('?').map_or(String::new(), |(_, q)| q.to_string());
    sv.visibilities =
        views::VISIBILITIES.iter().map(|v| ((*v).to_string(), t.s(&format!("views.vis.{v}")).to_string())).collect();
    sv.set_fields = mass::fields(e)
        .iter()
        .filter(|f| **f != "owner")
        .map(|f| {
            let label = match *f {
                "tag_add" => t.s("bulk.tag").to_string(),
                "tag_remove" => t.s("views.tag_remove").to_string(),
                other => field_label(t, other),
            };
            ((*f).to_string(), label)
        })
        .collect();
    if e != Entity::Deal {
        sv.value_hints = karta_core::party::RELATIONSHIPS
            .iter()
            .chain(karta_core::party::FIRST_CONTACT.iter())
            .map(|s| (*s).to_string())
            .chain(["1".to_string(), "0".to_string()])
            .collect();
    }
    sv.skipped = get(pairs, "skipped").chars().filter(char::is_ascii_digit).collect();
}

/// The view input a save form describes: name, visibility, pinned and the list state (`defs`:
/// the list's custom fields).
fn form_input(e: Entity, pairs: &Pairs, defs: &[karta_core::custom::FieldDef]) -> ViewInput {
    let state: Pairs = url::form_urlencoded::parse(get(pairs, "state").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != "view" && k != "after")
        .collect();
    let (lq, cols, _, _) = parse_list(e, &state, defs);
    let pinned = matches!(get(pairs, "pinned"), "1" | "on" | "true");
    ViewInput::capture(e, get(pairs, "name"), get(pairs, "visibility"), pinned, &lq, &cols)
}

fn view_error(u: &PageUser, e: &StoreError) -> Response {
    match e {
        StoreError::Conflict(_) => message_page(u.t, StatusCode::CONFLICT, u.t.s("views.name_taken")),
        StoreError::Invalid(errs) => {
            let msg = errs
                .iter()
                .map(|x: &FieldError| format!("{}: {}", u.t.s(&format!("views.f.{}", x.field)), u.t.err(x.code)))
                .collect::<Vec<_>>()
                .join("; ");
            message_page(u.t, StatusCode::UNPROCESSABLE_ENTITY, &msg)
        }
        other => error_page(u, other),
    }
}

/// POST /views: saves the current list as a new view.
async fn create(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> PageResult {
    let Some(e) = list_entity(get(&pairs, "entity")) else {
        return Ok(message_page(u.t, StatusCode::NOT_FOUND, u.t.s("error.not_found")));
    };
    let defs = super::list_custom::defs(&st.db, &u.p.ctx, e).await?;
    let input = form_input(e, &pairs, &defs);
    Ok(match views::create(&st.db, &u.p.ctx, e, &input).await {
        Ok(v) => Redirect::to(&format!("/{}?view={}", kind_of(e), enc(&v.id))).into_response(),
        Err(err) => view_error(&u, &err),
    })
}

/// POST /views/{id}: saves the current list into an existing view (owner or admin).
async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> PageResult {
    let before = match views::get(&st.db, &u.p.ctx, &id).await {
        Ok(v) => v,
        Err(err) => return Ok(view_error(&u, &err)),
    };
    let defs = super::list_custom::defs(&st.db, &u.p.ctx, before.entity).await?;
    let input = form_input(before.entity, &pairs, &defs);
    Ok(match views::update(&st.db, &u.p.ctx, &id, None, &input).await {
        Ok(v) => Redirect::to(&format!("/{}?view={}", kind_of(v.entity), enc(&v.id))).into_response(),
        Err(err) => view_error(&u, &err),
    })
}

/// POST /views/{id}/delete
async fn delete(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let before = match views::get(&st.db, &u.p.ctx, &id).await {
        Ok(v) => v,
        Err(err) => return view_error(&u, &err),
    };
    match views::delete(&st.db, &u.p.ctx, &id).await {
        Ok(()) => Redirect::to(&format!("/{}", kind_of(before.entity))).into_response(),
        Err(err) => view_error(&u, &err),
    }
}

/// The list's "Set field" bulk action (from the bulk form of accounts, contacts or deals):
/// sets the field on each selected record the caller may change, then goes back to the list
/// with how many changed and how many were skipped.
pub async fn bulk_set(st: &AppState, u: &PageUser, e: Entity, pairs: &Pairs) -> Response {
    let ids: Vec<String> = pairs.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.clone()).collect();
    let (field, value) = (get(pairs, "set_field"), get(pairs, "set_value"));
    let r = mass::set(&st.db, &u.p.ctx, st.clock.now(), e, &ids, field, value).await;
    match r {
        Ok(rep) => {
            let kind = kind_of(e);
            let back = get(pairs, "back");
            // Only a visible-ASCII path of this list is followed.
            let ok = (back == format!("/{kind}") || back.starts_with(&format!("/{kind}?")))
                && back.bytes().all(|b| (0x21..0x7f).contains(&b));
            let back = if ok { back.to_string() } else { format!("/{kind}") };
            let sep = if back.contains('?') { "&" } else { "?" };
            Redirect::to(&format!("{back}{sep}done={}&skipped={}", rep.changed, rep.skipped)).into_response()
        }
        Err(StoreError::Invalid(errs)) => {
            let t = u.t;
            let msg = errs
                .iter()
                .map(|x| {
                    let f = if x.field == "value" || x.field == "field" { field } else { x.field.as_str() };
                    let f = match f {
                        "tags" | "tag_add" | "tag_remove" => "tag",
                        "owner_id" => "owner",
                        other => other,
                    };
                    format!("{}: {}", t.s(&format!("f.{f}")), t.err(x.code))
                })
                .collect::<Vec<_>>()
                .join("; ");
            message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg)
        }
        Err(err) => error_page(u, &err),
    }
}

/// The saved-view routes.
pub fn router() -> Pages {
    Pages::new().post("/views", create).post("/views/{id}", update).post("/views/{id}/delete", delete)
}
