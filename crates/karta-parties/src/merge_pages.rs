//! Duplicates and merging in the UI: the duplicates report of accounts or contacts, the merge
//! form (the record that stays and the value kept for each field), the merge page with its
//! undo, the candidates shown on the create form, and the merge notes on record pages.

use crate::dedup::{self, Candidate};
use crate::merge::{self, MergeInfo, ALL, LIST_FIELDS};
use crate::pages::entity;
use crate::parties::{self, Party};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::party::PartyInput;
use karta_core::{Action, Entity};
use karta_kernel::users::{self, User};
use karta_kernel::{Ctx, Db, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::error::PageResult;
use karta_webkit::i18n::Tr;
use karta_webkit::routes::Pages;
use karta_webkit::ui::list::{enc, error_page, field_label, get, kind_of, not_found, Pairs};
use karta_webkit::ui::pages::{fmt_phone, iso_ts, render, Layout, MessagePage};
use karta_webkit::AppState;
use serde_json::Value;
use std::collections::BTreeMap;

/// A possible duplicate, as the create form lists it.
pub struct DupView {
    /// Link to the record.
    pub url: String,
    /// Its name.
    pub name: String,
    /// E-mail or phone.
    pub detail: String,
    /// Why it matched, in the page's language.
    pub reasons: String,
}

fn reasons(t: Tr, c: &Candidate) -> String {
    c.reasons.iter().map(|r| t.s(&format!("dup.reason.{}", r.as_str())).to_string()).collect::<Vec<_>>().join(", ")
}

fn detail(c: &Candidate) -> String {
    [c.email.clone(), fmt_phone(&c.phone)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")
}

/// The records a new one may duplicate, for the create form; empty when none (or when the
/// input is not valid yet: the create itself reports that).
pub async fn dup_views(db: &Db, ctx: &Ctx, t: Tr, e: Entity, input: &PartyInput) -> Vec<DupView> {
    match dedup::candidates_for_input(db, ctx, e, input.clone(), None, None).await {
        Ok(list) => list
            .iter()
            .map(|c| DupView {
                url: format!("/{}/{}", kind_of(e), c.id),
                name: c.name.clone(),
                detail: detail(c),
                reasons: reasons(t, c),
            })
            .collect(),
        Err(StoreError::Invalid(_) | StoreError::Forbidden) => Vec::new(),
        Err(err) => {
            tracing::warn!(error = %err, "duplicate lookup failed");
            Vec::new()
        }
    }
}

/// Notes about merges for a record page: on a record merged away, the record it went into;
/// on a survivor, its merges (each to view or undo). `(text, link)` pairs.
pub async fn record_notes(db: &Db, u: &PageUser, e: Entity, p: &Party) -> Result<Vec<(String, String)>, StoreError> {
    let (ctx, t) = (&u.p.ctx, u.t);
    if p.deleted_at.is_some() {
        return Ok(match merge::survivor_of(db, ctx, e, &p.id).await? {
            Some(s) => vec![(format!("{} {}", t.s("merge.pointer"), s.name), format!("/{}/{}", kind_of(e), s.id))],
            None => Vec::new(),
        });
    }
    Ok(merge::for_survivor(db, ctx, e, &p.id)
        .await?
        .into_iter()
        .map(|m| {
            let names = m.merged.iter().map(|x| x.name.as_str()).collect::<Vec<_>>().join(", ");
            (
                format!("{}: {names} ({}, {})", t.s("merge.survivor_of"), u.when(m.at), t.s("merge.view")),
                format!("/merges/{}", m.id),
            )
        })
        .collect())
}

// ---------- the duplicates report ----------

struct GroupView {
    reason: String,
    key: String,
    account: Option<(String, String)>,
    records: Vec<(String, String, String, String)>,
    merge_url: String,
}

#[derive(Template)]
#[template(path = "merge_report.html")]
struct ReportPage {
    l: Layout,
    kind: &'static str,
    groups: Vec<GroupView>,
    next: String,
}

/// Query of the report.
#[derive(Debug, serde::Deserialize, Default)]
pub struct ReportQuery {
    after: Option<String>,
}

/// GET /{kind}/duplicates
pub async fn report(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Query(rq): Query<ReportQuery>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let t = u.t;
    let rep = match dedup::report(&st.db, &u.p.ctx, e, 50, rq.after.as_deref()).await {
        Ok(r) => r,
        Err(err) => return error_page(&u, &err),
    };
    let groups = rep
        .items
        .into_iter()
        .map(|g| GroupView {
            reason: t.s(&format!("dup.reason.{}", g.reason.as_str())).to_string(),
            key: if g.reason == dedup::Reason::Phone { fmt_phone(&g.key) } else { g.key.clone() },
            account: (!g.account_id.is_empty() && !g.account_name.is_empty())
                .then(|| (format!("/accounts/{}", g.account_id), g.account_name.clone())),
            merge_url: format!(
                "/{}/merge?{}",
                kind_of(e),
                g.records.iter().map(|c| format!("ids={}", enc(&c.id))).collect::<Vec<_>>().join("&")
            ),
            records: g
                .records
                .iter()
                .map(|c| (format!("/{}/{}", kind_of(e), c.id), c.name.clone(), detail(c), c.owner_name.clone()))
                .collect(),
        })
        .collect();
    let title = t.s(if e == Entity::Account { "dup.report_accounts" } else { "dup.report_contacts" });
    let next = rep.next_cursor.map(|c| format!("/{}/duplicates?after={}", kind_of(e), enc(&c))).unwrap_or_default();
    render(StatusCode::OK, &ReportPage { l: Layout::new(t, &u.p, title, kind_of(e)), kind: kind_of(e), groups, next })
}

// ---------- the merge form ----------

/// One field's row in the merge form.
struct FieldRow {
    name: String,
    label: String,
    /// Per record: (record id, shown value, checked).
    cells: Vec<(String, String, bool)>,
    /// The values differ: a choice is offered.
    differ: bool,
    /// A list field: "all together" is offered, and whether it is checked.
    all: Option<bool>,
}

#[derive(Template)]
#[template(path = "merge_form.html")]
struct MergeForm {
    l: Layout,
    kind: &'static str,
    records: Vec<(String, String, String, i64)>,
    survivor: String,
    rows: Vec<FieldRow>,
    all_value: &'static str,
}

const ACCOUNT_FIELDS: [&str; 24] = [
    "name",
    "legal_name",
    "tax_id",
    "parent_id",
    "employees",
    "emails",
    "phones",
    "messengers",
    "addresses",
    "website",
    "industry",
    "region",
    "segment",
    "relationship",
    "owner_id",
    "source",
    "first_contact",
    "important_dates",
    "interests",
    "preferences",
    "tags",
    "do_not_contact",
    "do_not_email",
    "description",
];

const CONTACT_FIELDS: [&str; 26] = [
    "last_name",
    "first_name",
    "middle_name",
    "job_title",
    "birthday",
    "family_status",
    "income_band",
    "emails",
    "phones",
    "messengers",
    "addresses",
    "website",
    "industry",
    "region",
    "segment",
    "relationship",
    "owner_id",
    "source",
    "first_contact",
    "important_dates",
    "interests",
    "preferences",
    "tags",
    "do_not_contact",
    "do_not_email",
    "description",
];

fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(_) => false,
    }
}

/// A field value as text for the merge table.
fn show(t: Tr, field: &str, v: &Value, users: &[User]) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if field == "owner_id" => {
            users.iter().find(|u| &u.id == s).map_or_else(|| s.clone(), |u| u.display_name.clone())
        }
        Value::String(s) if field == "phones" => fmt_phone(s),
        Value::String(s) => s.clone(),
        Value::Bool(b) => t.s(if *b { "merge.yes" } else { "merge.no" }).to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => {
            a.iter().map(|x| show(t, field, x, users)).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ")
        }
        Value::Object(o) => {
            let parts: Vec<String> = ["value", "date", "street", "city", "region", "postcode", "country"]
                .iter()
                .filter_map(|k| o.get(*k).map(|x| show(t, field, x, users)))
                .filter(|s| !s.is_empty())
                .collect();
            let label = o.get("label").and_then(Value::as_str).unwrap_or_default();
            if label.is_empty() {
                parts.join(", ")
            } else {
                format!("{} ({label})", parts.join(", "))
            }
        }
    }
}

fn field_rows(t: Tr, e: Entity, recs: &[Party], survivor: &str, users: &[User]) -> Vec<FieldRow> {
    let vals: Vec<(String, Value)> =
        recs.iter().map(|p| (p.id.clone(), serde_json::to_value(&p.input).unwrap_or_default())).collect();
    let mut names: Vec<String> = match e {
        Entity::Account => ACCOUNT_FIELDS.iter().map(|s| (*s).to_string()).collect(),
        _ => CONTACT_FIELDS.iter().map(|s| (*s).to_string()).collect(),
    };
    let mut custom: Vec<String> = vals
        .iter()
        .filter_map(|(_, v)| v.get("custom").and_then(Value::as_object))
        .flat_map(|o| o.keys().cloned())
        .collect();
    custom.sort();
    custom.dedup();
    names.extend(custom.into_iter().map(|k| format!("custom.{k}")));
    let pick = |v: &Value, name: &str| -> Value {
        match name.strip_prefix("custom.") {
            Some(k) => v.get("custom").and_then(|c| c.get(k)).cloned().unwrap_or(Value::Null),
            None => v.get(name).cloned().unwrap_or(Value::Null),
        }
    };
    names
        .into_iter()
        .filter_map(|name| {
            let per: Vec<(String, Value)> = vals.iter().map(|(id, v)| (id.clone(), pick(v, &name))).collect();
            if per.iter().all(|(_, v)| blank(v)) {
                return None;
            }
            let differ = per.iter().any(|(_, v)| v != &per[0].1);
            let non_blank = per.iter().filter(|(_, v)| !blank(v)).count();
            let is_list = LIST_FIELDS.contains(&name.as_str());
            let all_checked = is_list && non_blank > 1;
            // The survivor's value when it has one, else the first record that has one.
            let default = per
                .iter()
                .find(|(id, v)| id == survivor && !blank(v))
                .or_else(|| per.iter().find(|(_, v)| !blank(v)))
                .map(|(id, _)| id.clone())
                .unwrap_or_default();
            let label = match name.strip_prefix("custom.") {
                Some(k) => k.to_string(),
                None => field_label(t, if name == "owner_id" { "owner" } else { &name }),
            };
            Some(FieldRow {
                cells: per
                    .iter()
                    .map(|(id, v)| (id.clone(), show(t, &name, v, users), !all_checked && *id == default))
                    .collect(),
                label,
                differ,
                all: (is_list && differ).then_some(all_checked),
                name,
            })
        })
        .collect()
}

/// GET /{kind}/merge?ids=…
pub async fn form(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Query(pairs): Query<Pairs>,
) -> PageResult {
    let Some(e) = entity(&kind) else { return Ok(not_found(&u)) };
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let mut ids: Vec<String> = Vec::new();
    for (k, v) in &pairs {
        if k == "ids" && !v.is_empty() && !ids.contains(v) {
            ids.push(v.clone());
        }
    }
    if ids.len() < 2 {
        return Ok(message(&u, StatusCode::UNPROCESSABLE_ENTITY, t.s("merge.need_two")));
    }
    if ids.len() > merge::MAX_MERGED + 1 {
        ids.truncate(merge::MAX_MERGED + 1);
    }
    let mut recs = Vec::new();
    for id in &ids {
        match parties::load_for(db, ctx, e, id, Action::Update, false).await {
            Ok(p) => recs.push(p),
            Err(err) => return Ok(error_page(&u, &err)),
        }
    }
    let survivor = match get(&pairs, "survivor") {
        s if ids.iter().any(|i| i == s) => s.to_string(),
        _ => ids[0].clone(),
    };
    let users_list = users::list(db, ctx).await?;
    let rows = field_rows(t, e, &recs, &survivor, &users_list);
    let tpl = MergeForm {
        l: Layout::new(t, &u.p, t.s("merge.title"), kind_of(e)),
        kind: kind_of(e),
        records: recs
            .iter()
            .map(|p| (p.id.clone(), p.name.clone(), format!("/{}/{}", kind_of(e), p.id), p.version))
            .collect(),
        survivor,
        rows,
        all_value: ALL,
    };
    Ok(render(StatusCode::OK, &tpl))
}

fn message(u: &PageUser, status: StatusCode, text: &str) -> Response {
    let l = Layout::new(u.t, &u.p, text.to_string(), "");
    render(status, &MessagePage { l, message: text.to_string() })
}

/// POST /{kind}/merge
pub async fn submit(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let t = u.t;
    let survivor = get(&pairs, "survivor").to_string();
    let others: Vec<String> =
        pairs.iter().filter(|(k, v)| k == "ids" && *v != survivor && !v.is_empty()).map(|(_, v)| v.clone()).collect();
    let choices: BTreeMap<String, String> = pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("f.").map(|f| (f.to_string(), v.clone())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let version = get(&pairs, &format!("v.{survivor}")).parse().ok();
    match merge::merge(&st.db, &u.p.ctx, e, &survivor, &others, &choices, version).await {
        Ok(id) => Redirect::to(&format!("/merges/{id}")).into_response(),
        Err(StoreError::Stale { .. }) => message(&u, StatusCode::CONFLICT, t.s("merge.stale")),
        Err(err) => error_page(&u, &err),
    }
}

// ---------- a merge, and its undo ----------

#[derive(Template)]
#[template(path = "merge_done.html")]
struct DonePage {
    l: Layout,
    id: String,
    survivor: (String, String),
    merged: Vec<(String, String)>,
    moved: usize,
    by: String,
    at: String,
    iso: String,
    undone: String,
    can_undo: bool,
}

/// GET /merges/{id}
pub async fn done(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let (t, ctx) = (u.t, &u.p.ctx);
    let m: MergeInfo = match merge::get(&st.db, ctx, &id).await {
        Ok(m) => m,
        Err(err) => return error_page(&u, &err),
    };
    let kind = kind_of(m.entity);
    let can_undo = m.undone_at.is_none()
        && ctx.scope(m.entity, Action::Update).is_ok()
        && ctx.scope(m.entity, Action::Delete).is_ok();
    let tpl = DonePage {
        l: Layout::new(t, &u.p, t.s("merge.done_title"), kind),
        id: m.id.clone(),
        survivor: (format!("/{kind}/{}", m.survivor_id), m.survivor_name.clone()),
        merged: m.merged.iter().map(|x| (format!("/{kind}/{}", x.id), x.name.clone())).collect(),
        moved: m.moved,
        by: m.user_name.clone(),
        at: u.when(m.at),
        iso: iso_ts(m.at),
        undone: m.undone_at.map(|at| u.when(at)).unwrap_or_default(),
        can_undo,
    };
    render(StatusCode::OK, &tpl)
}

/// POST /merges/{id}/undo
pub async fn undo(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let t = u.t;
    match merge::undo(&st.db, &u.p.ctx, &id).await {
        Ok(m) => Redirect::to(&format!("/merges/{}", m.id)).into_response(),
        Err(StoreError::Conflict(f)) if f == "undone_at" => {
            message(&u, StatusCode::CONFLICT, t.s("merge.already_undone"))
        }
        Err(StoreError::Conflict(_)) => message(&u, StatusCode::CONFLICT, t.s("merge.purged")),
        Err(err) => error_page(&u, &err),
    }
}

/// The routes of duplicates and merging.
pub fn router() -> Pages {
    Pages::new()
        .get("/{kind}/duplicates", report)
        .get("/{kind}/merge", form)
        .post("/{kind}/merge", submit)
        .get("/merges/{id}", done)
        .post("/merges/{id}/undo", undo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_as_text() {
        karta_webkit::i18n::register(crate::TEXTS);
        let t = Tr::EN;
        let v = serde_json::json!([{"value": "a@x.ru", "label": "work"}, {"value": "b@x.ru", "label": ""}]);
        assert_eq!(show(t, "emails", &v, &[]), "a@x.ru (work); b@x.ru");
        assert_eq!(show(t, "do_not_email", &Value::Bool(true), &[]), "yes");
        assert!(blank(&serde_json::json!([])) && blank(&Value::Bool(false)) && !blank(&Value::Bool(true)));
    }
}
