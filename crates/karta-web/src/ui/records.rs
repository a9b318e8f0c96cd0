//! Accounts and contacts pages: lists, the record page (profile, related records, notes,
//! history), forms, trash, search and bulk actions.

use super::pages::{fmt_date, fmt_phone, fmt_ts, iso_ts, message_page, render, Layout};
use crate::auth::PageUser;
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::Form;
use karta_core::party::{Address, Labeled, NamedDate, PartyInput, FIRST_CONTACT, RELATIONSHIPS};
use karta_core::{Action, Entity, FieldError};
use karta_store::error::Change;
use karta_store::listq::{self, Filter, ListQuery, Op};
use karta_store::parties::{self, Bulk, Party};
use karta_store::users::{self, User};
use karta_store::{audit, links, notes, search, StoreError};
use std::collections::HashMap;

pub(crate) type Pairs = Vec<(String, String)>;

pub(crate) fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

pub(crate) fn entity(kind: &str) -> Option<Entity> {
    match kind {
        "accounts" => Some(Entity::Account),
        "contacts" => Some(Entity::Contact),
        _ => None,
    }
}

pub(crate) fn kind_of(e: Entity) -> &'static str {
    match e {
        Entity::Account => "accounts",
        Entity::Contact => "contacts",
        Entity::Deal => "deals",
        Entity::Product => "products",
        Entity::Activity => "activities",
    }
}

/// Turns a store error into a page; validation errors are handled by the callers.
pub(crate) fn error_page(u: &PageUser, e: &StoreError) -> Response {
    let t = u.t;
    match e {
        StoreError::NotFound => message_page(t, StatusCode::NOT_FOUND, t.s("error.not_found")),
        StoreError::Forbidden => message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden")),
        StoreError::Invalid(errs) => {
            let msg = errs
                .iter()
                .map(|e| format!("{}: {}", t.s(&format!("f.{}", base_field(&e.field))), t.err(e.code)))
                .collect::<Vec<_>>();
            message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg.join("; "))
        }
        other => {
            tracing::error!(error = %other, "page failed");
            message_page(t, StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal"))
        }
    }
}

pub(crate) fn base_field(f: &str) -> &str {
    f.split('[').next().unwrap_or(f)
}

pub(crate) fn not_found(u: &PageUser) -> Response {
    message_page(u.t, StatusCode::NOT_FOUND, u.t.s("error.not_found"))
}

// ---------- lists ----------

/// A column header.
pub(crate) struct Col {
    /// Label.
    pub label: String,
    /// Link that sorts by this column.
    pub sort_url: String,
    /// `asc`, `desc` or empty.
    pub sorted: &'static str,
}

/// One list row.
pub(crate) struct RowView {
    /// Id.
    pub id: String,
    /// Link.
    pub url: String,
    /// Name (first cell).
    pub name: String,
    /// The other cells.
    pub cells: Vec<String>,
}

/// A filter line of the filter form.
pub(crate) struct FilterView {
    /// Field.
    pub field: String,
    /// Operator.
    pub op: String,
    /// Value.
    pub value: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    l: Layout,
    kind: &'static str,
    new_label: String,
    cols: Vec<Col>,
    rows: Vec<RowView>,
    filters: Vec<FilterView>,
    fields: Vec<(String, String)>,
    ops: Vec<(String, String)>,
    all_cols: Vec<(String, String, bool)>,
    sort: String,
    next_url: String,
    first_url: String,
    count: String,
    owners: Vec<(String, String)>,
    done: String,
    error: String,
    can_delete: bool,
    can_tag: bool,
    back: String,
    sv: super::views::ViewsPanel,
}

const DEFAULT_COLS_CONTACT: &str = "name,job_title,email,phone,city,owner,updated_at";
const DEFAULT_COLS_ACCOUNT: &str = "name,industry,phone,city,relationship,owner,updated_at";
const DEFAULT_COLS_DEAL: &str = "stage,amount,account,close_date,owner,updated_at";

/// The field a list of `e` is named and sorted by first.
pub(crate) fn primary(e: Entity) -> &'static str {
    if e == Entity::Deal {
        "title"
    } else {
        "name"
    }
}

fn cell(t: Tr, p: &Party, field: &str) -> String {
    let i = &p.input;
    match field {
        "name" => p.name.clone(),
        "email" => i.emails.first().map(|l| l.value.clone()).unwrap_or_default(),
        "phone" => i.phones.first().map(|l| fmt_phone(&l.value)).unwrap_or_default(),
        "owner" => p.owner_name.clone(),
        "relationship" if !i.relationship.is_empty() => t.s(&format!("rel.{}", i.relationship)).to_string(),
        "first_contact" if !i.first_contact.is_empty() => t.s(&format!("fc.{}", i.first_contact)).to_string(),
        "tag" => i.tags.join(", "),
        "birthday" if !i.birthday.is_empty() => fmt_date(t, &i.birthday),
        "created_at" => fmt_ts(p.created_at),
        "updated_at" => fmt_ts(p.updated_at),
        "employees" => i.employees.map(|n| n.to_string()).unwrap_or_default(),
        "do_not_contact" => {
            if i.do_not_contact {
                "✓".into()
            } else {
                String::new()
            }
        }
        "do_not_email" => {
            if i.do_not_email {
                "✓".into()
            } else {
                String::new()
            }
        }
        "city" => i.addresses.first().map(|a| a.city.clone()).unwrap_or_default(),
        _ => {
            let v = serde_json::to_value(i).unwrap_or_default();
            v.get(field).and_then(|x| x.as_str()).unwrap_or_default().to_string()
        }
    }
}

pub(crate) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Parses list parameters from the query (`f`, `op`, `v` triples from the form, or `filter`
/// in the API syntax), returning the query, the columns and any problem to show. `defs` are
/// the entity's custom fields: `cf.<key>` filters, sort and columns must name one of them
/// (columns an active one); the query carries them for the store.
pub(crate) fn parse_list(
    e: Entity,
    pairs: &Pairs,
    defs: &[karta_core::custom::FieldDef],
) -> (ListQuery, Vec<String>, Vec<FilterView>, Option<String>) {
    let mut lq = ListQuery { limit: 50, custom: defs.to_vec(), ..ListQuery::default() };
    let mut views = Vec::new();
    let mut problem = None;
    let fs: Vec<&str> = pairs.iter().filter(|(k, _)| k == "f").map(|(_, v)| v.as_str()).collect();
    let os: Vec<&str> = pairs.iter().filter(|(k, _)| k == "op").map(|(_, v)| v.as_str()).collect();
    let vs: Vec<&str> = pairs.iter().filter(|(k, _)| k == "v").map(|(_, v)| v.as_str()).collect();
    let mut raw: Vec<String> = Vec::new();
    for (i, f) in fs.iter().enumerate() {
        if f.is_empty() {
            continue;
        }
        let op = os.get(i).copied().unwrap_or("contains");
        let v = vs.get(i).copied().unwrap_or("");
        if v.trim().is_empty() && !matches!(op, "empty" | "notempty") {
            continue;
        }
        raw.push(format!("{f}:{op}:{v}"));
    }
    raw.extend(pairs.iter().filter(|(k, _)| k == "filter").map(|(_, v)| v.clone()));
    for r in raw {
        match Filter::parse(&r) {
            Ok(f) if listq::field(e, &f.field).is_some() || super::list_custom::known(defs, &f.field).is_some() => {
                views.push(FilterView { field: f.field.clone(), op: f.op.as_str().into(), value: f.value.clone() });
                lq.filters.push(f);
            }
            _ => problem = Some(r),
        }
    }
    if let Some(p) = super::views::parse_groups(e, pairs, &mut lq) {
        problem = Some(p);
    }
    let sort = get(pairs, "sort");
    if !sort.is_empty() {
        let (desc, f) = sort.strip_prefix('-').map_or((false, sort), |f| (true, f));
        if listq::field(e, f).is_some() || super::list_custom::known(defs, f).is_some() {
            lq.sort = Some(f.to_string());
            lq.desc = desc;
        }
    }
    let after = get(pairs, "after");
    if !after.is_empty() {
        lq.after = Some(after.to_string());
    }
    let mut cols: Vec<String> = pairs.iter().filter(|(k, _)| k == "col").map(|(_, v)| v.clone()).collect();
    if cols.is_empty() {
        let c = get(pairs, "cols");
        let c = if c.is_empty() {
            match e {
                Entity::Account => DEFAULT_COLS_ACCOUNT,
                Entity::Deal => DEFAULT_COLS_DEAL,
                _ => DEFAULT_COLS_CONTACT,
            }
        } else {
            c
        };
        cols = c.split(',').map(str::to_string).collect();
    }
    cols.retain(|c| c != primary(e) && (listq::field(e, c).is_some() || super::list_custom::is_column(defs, c)));
    cols.dedup();
    (lq, cols, views, problem)
}

pub(crate) fn list_url(
    kind: &str,
    lq: &ListQuery,
    cols: &[String],
    sort: Option<(&str, bool)>,
    after: Option<&str>,
) -> String {
    let mut parts: Vec<String> = lq.filters.iter().map(|f| format!("filter={}", enc(&f.encode()))).collect();
    parts.extend(super::views::url_parts(lq));
    let first = primary(Entity::parse(kind).unwrap_or(Entity::Contact));
    let (s, d) = sort.unwrap_or((lq.sort.as_deref().unwrap_or(first), lq.desc));
    if s != first || d {
        parts.push(format!("sort={}{}", if d { "-" } else { "" }, enc(s)));
    }
    parts.push(format!("cols={}", enc(&cols.join(","))));
    if let Some(a) = after {
        parts.push(format!("after={}", enc(a)));
    }
    format!("/{kind}?{}", parts.join("&"))
}

pub(crate) fn field_label(t: Tr, name: &str) -> String {
    t.s(&format!("f.{name}")).to_string()
}

/// GET /{kind}
pub async fn list(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Query(pairs): Query<Pairs>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let t = u.t;
    let kind = kind_of(e);
    let (pairs, sv) = match super::views::prepare(&st.db, &u.p.ctx, e, pairs).await {
        Ok(x) => x,
        Err(err) => return error_page(&u, &err),
    };
    let defs = super::list_custom::defs(&st.db, &u.p.ctx, e).await;
    let (lq, cols, filters, problem) = parse_list(e, &pairs, &defs);
    let page = match parties::list(&st.db, &u.p.ctx, e, &lq).await {
        Ok(p) => p,
        Err(StoreError::Invalid(errs)) => {
            let msg = errs.iter().map(|x| t.err(x.code)).collect::<Vec<_>>().join("; ");
            return message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg);
        }
        Err(err) => return error_page(&u, &err),
    };
    let count = match parties::count(&st.db, &u.p.ctx, e, &lq, 10_000).await {
        Ok((n, true)) => n.to_string(),
        Ok((n, false)) => format!("{n}+"),
        Err(err) => return error_page(&u, &err),
    };
    let owners = users::list(&st.db, &u.p.ctx).await.unwrap_or_default();
    let customs: Vec<_> = page.items.iter().map(|p| &p.input.custom).collect();
    let names = karta_store::fields::link_names(&st.db, &u.p.ctx, &defs, &customs).await.unwrap_or_default();
    let rows = page
        .items
        .iter()
        .map(|p| RowView {
            id: p.id.clone(),
            url: format!("/{kind}/{}", p.id),
            name: p.name.clone(),
            cells: cols
                .iter()
                .map(|c| {
                    super::list_custom::cell(t, &defs, &owners, &names, &p.input.custom, c)
                        .unwrap_or_else(|| cell(t, p, c))
                })
                .collect(),
        })
        .collect();
    let data = ListData { lq, cols, filters, problem, rows, next: page.next, count, sv };
    list_response(&u, e, &pairs, data, owners)
}

/// What a list page shows, fetched by the entity's handler.
pub(crate) struct ListData {
    /// The query.
    pub lq: ListQuery,
    /// Columns after the first.
    pub cols: Vec<String>,
    /// The filter lines.
    pub filters: Vec<FilterView>,
    /// A filter that could not be used.
    pub problem: Option<String>,
    /// Rows.
    pub rows: Vec<RowView>,
    /// Cursor of the next page.
    pub next: Option<String>,
    /// The count shown.
    pub count: String,
    /// Saved views, filter groups, mass update.
    pub sv: super::views::ViewsPanel,
}

/// Renders a list page (accounts, contacts, deals).
pub(crate) fn list_response(u: &PageUser, e: Entity, pairs: &Pairs, d: ListData, owners: Vec<User>) -> Response {
    let t = u.t;
    let kind = kind_of(e);
    let ListData { lq, cols, mut filters, problem, rows, next, count, mut sv } = d;
    super::views::finish(&mut sv, t, e, &lq, &cols, pairs);
    let cur_sort = lq.sort.clone().unwrap_or_else(|| primary(e).into());
    let mut all = vec![primary(e).to_string()];
    all.extend(cols.iter().cloned());
    let header: Vec<Col> = all
        .iter()
        .map(|c| {
            let is = *c == cur_sort;
            let desc = is && !lq.desc;
            Col {
                label: super::list_custom::label(t, &lq.custom, c).unwrap_or_else(|| field_label(t, c)),
                sort_url: list_url(kind, &lq, &cols, Some((c, desc)), None),
                sorted: if !is {
                    ""
                } else if lq.desc {
                    "desc"
                } else {
                    "asc"
                },
            }
        })
        .collect();
    filters.push(FilterView { field: String::new(), op: "contains".into(), value: String::new() });
    let mut fields: Vec<(String, String)> =
        listq::fields(e).map(|f| (f.name.to_string(), field_label(t, f.name))).collect();
    fields.extend(super::list_custom::choices(t, &lq.custom));
    let all_cols =
        fields.iter().filter(|(n, _)| n != primary(e)).map(|(n, l)| (n.clone(), l.clone(), cols.contains(n))).collect();
    let l = Layout::new(t, &u.p, t.s(&format!("nav.{kind}")), kind);
    let tpl = ListPage {
        new_label: t
            .s(match e {
                Entity::Account => "list.new_account",
                Entity::Deal => "list.new_deal",
                _ => "list.new_contact",
            })
            .into(),
        kind,
        cols: header,
        rows,
        filters,
        fields,
        ops: Op::ALL.iter().map(|o| (o.as_str().to_string(), t.s(&format!("op.{}", o.as_str())).to_string())).collect(),
        all_cols,
        sort: format!("{}{}", if lq.desc { "-" } else { "" }, cur_sort),
        next_url: next.as_deref().map(|n| list_url(kind, &lq, &cols, None, Some(n))).unwrap_or_default(),
        first_url: if lq.after.is_some() { list_url(kind, &lq, &cols, None, None) } else { String::new() },
        count,
        owners: owners.into_iter().map(|o| (o.id, o.display_name)).collect(),
        done: get(pairs, "done").to_string(),
        error: problem.map(|p| format!("{}: {p}", t.err("invalid_value"))).unwrap_or_default(),
        can_delete: u.p.ctx.scope(e, Action::Delete).is_ok(),
        can_tag: e != Entity::Deal,
        back: list_url(kind, &lq, &cols, None, lq.after.as_deref()),
        sv,
        l,
    };
    render(StatusCode::OK, &tpl)
}

/// POST /{kind}/bulk
pub async fn bulk(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let ids: Vec<String> = pairs.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.clone()).collect();
    let action = match get(&pairs, "action") {
        "assign" => Bulk::AssignOwner(get(&pairs, "owner").to_string()),
        "tag" => Bulk::AddTag(get(&pairs, "tag").to_string()),
        "delete" => Bulk::Delete,
        "set" => return super::views::bulk_set(&st, &u, e, &pairs).await,
        _ => return message_page(u.t, StatusCode::UNPROCESSABLE_ENTITY, u.t.err("invalid_choice")),
    };
    match parties::bulk(&st.db, &u.p.ctx, e, &ids, &action).await {
        Ok(n) => {
            let back = get(&pairs, "back");
            // Only a visible-ASCII path of this list is followed (a header value must not panic).
            let ok = back.starts_with(&format!("/{kind}?")) && back.bytes().all(|b| (0x21..0x7f).contains(&b));
            let back = if ok { back.to_string() } else { format!("/{kind}?") };
            let sep = if back.contains('?') { "&" } else { "?" };
            Redirect::to(&format!("{back}{sep}done={n}")).into_response()
        }
        Err(err) => error_page(&u, &err),
    }
}

// ---------- record page ----------

/// A labelled value on the record page.
pub struct Item {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
    /// Optional link (mailto:, tel:, web, record).
    pub href: String,
}

/// A related record.
pub struct RelView {
    /// Name.
    pub name: String,
    /// Link.
    pub url: String,
    /// Role on the link.
    pub role: String,
    /// E-mail / phone.
    pub detail: String,
    /// The contact id and account id of the link (for unlinking).
    pub contact_id: String,
    /// Account id.
    pub account_id: String,
}

/// A note on the timeline.
pub struct NoteView {
    /// Id.
    pub id: String,
    /// Text.
    pub body: String,
    /// Author.
    pub author: String,
    /// Shown time.
    pub at: String,
    /// ISO time.
    pub iso: String,
    /// Edited.
    pub edited: bool,
    /// The viewer may edit or delete it.
    pub can_edit: bool,
    /// Version.
    pub version: i64,
}

/// A history entry.
pub struct HistView {
    /// Who.
    pub who: String,
    /// What.
    pub action: String,
    /// Shown time.
    pub at: String,
    /// ISO time.
    pub iso: String,
    /// Field, before, after.
    pub changes: Vec<(String, String, String)>,
}

/// A candidate to link.
pub struct Candidate {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Detail.
    pub detail: String,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    l: Layout,
    kind: &'static str,
    is_account: bool,
    id: String,
    name: String,
    subtitle: String,
    version: i64,
    in_trash: bool,
    can_edit: bool,
    can_delete: bool,
    can_purge: bool,
    can_note: bool,
    sections: Vec<(String, Vec<Item>)>,
    tags: Vec<String>,
    flags: Vec<String>,
    related: Vec<RelView>,
    children: Vec<(String, String)>,
    parent: Option<(String, String)>,
    notes: Vec<NoteView>,
    history: Vec<HistView>,
    link_q: String,
    deals: Vec<(String, String, String)>,
    can_deal: bool,
    tl: super::organizer::Timeline,
    tl_base: String,
    candidates: Vec<Candidate>,
    merge_notes: Vec<(String, String)>,
    created: String,
    updated: String,
}

fn item(label: String, value: String) -> Item {
    Item { label, value, href: String::new() }
}

fn profile_sections(t: Tr, p: &Party) -> Vec<(String, Vec<Item>)> {
    let i = &p.input;
    let mut main = Vec::new();
    let push = |v: &mut Vec<Item>, key: &str, val: &str| {
        if !val.is_empty() {
            v.push(item(field_label(t, key), val.to_string()));
        }
    };
    if p.entity == Entity::Contact {
        push(&mut main, "job_title", &i.job_title);
    } else {
        push(&mut main, "legal_name", &i.legal_name);
        push(&mut main, "tax_id", &i.tax_id);
        if let Some(n) = i.employees {
            main.push(item(field_label(t, "employees"), n.to_string()));
        }
    }
    for l in &i.emails {
        main.push(Item {
            label: lbl(t, "email", &l.label),
            value: l.value.clone(),
            href: format!("mailto:{}", l.value),
        });
    }
    for l in &i.phones {
        main.push(Item {
            label: lbl(t, "phone", &l.label),
            value: fmt_phone(&l.value),
            href: format!("tel:{}", l.value),
        });
    }
    for l in &i.messengers {
        main.push(item(
            if l.label.is_empty() { field_label(t, "messengers") } else { l.label.clone() },
            l.value.clone(),
        ));
    }
    if !i.website.is_empty() {
        main.push(Item { label: field_label(t, "website"), value: i.website.clone(), href: i.website.clone() });
    }
    for a in &i.addresses {
        let v = [&a.street, &a.city, &a.region, &a.postcode, &a.country]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        main.push(item(lbl(t, "address", &a.label), v));
    }
    let mut biz = Vec::new();
    if !i.relationship.is_empty() {
        biz.push(item(field_label(t, "relationship"), t.s(&format!("rel.{}", i.relationship)).into()));
    }
    biz.push(item(field_label(t, "owner"), p.owner_name.clone()));
    push(&mut biz, "industry", &i.industry);
    push(&mut biz, "region", &i.region);
    push(&mut biz, "segment", &i.segment);
    push(&mut biz, "source", &i.source);
    if !i.first_contact.is_empty() {
        biz.push(item(field_label(t, "first_contact"), t.s(&format!("fc.{}", i.first_contact)).into()));
    }
    let mut personal = Vec::new();
    if !i.birthday.is_empty() {
        personal.push(item(field_label(t, "birthday"), fmt_date(t, &i.birthday)));
    }
    for d in &i.important_dates {
        personal.push(item(
            if d.label.is_empty() { field_label(t, "important_dates") } else { d.label.clone() },
            fmt_date(t, &d.date),
        ));
    }
    push(&mut personal, "interests", &i.interests);
    push(&mut personal, "preferences", &i.preferences);
    push(&mut personal, "family_status", &i.family_status);
    push(&mut personal, "income_band", &i.income_band);
    push(&mut personal, "description", &i.description);
    let mut out = vec![(t.s("form.profile").to_string(), main), (t.s("form.more").to_string(), biz)];
    if !personal.is_empty() {
        out.push((t.s("form.personal").to_string(), personal));
    }
    out
}

fn lbl(t: Tr, key: &str, label: &str) -> String {
    if label.is_empty() {
        field_label(t, key)
    } else {
        format!("{} ({label})", field_label(t, key))
    }
}

fn show_value(v: &serde_json::Value, users: &[User], field: &str) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) if field == "owner_id" => {
            users.iter().find(|u| &u.id == s).map_or_else(|| s.clone(), |u| u.display_name.clone())
        }
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => {
            if *b {
                "✓".into()
            } else {
                "—".into()
            }
        }
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| match x {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => {
                    o.values().filter_map(|v| v.as_str()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
                }
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// The audit trail as shown on a record page.
pub(crate) fn history_views(t: Tr, hist: Vec<audit::AuditEntry>, users_list: &[User]) -> Vec<HistView> {
    hist.into_iter()
        .map(|h| HistView {
            who: h.user_name,
            action: t.s(&format!("act.{}", h.action)).to_string(),
            at: fmt_ts(h.at),
            iso: iso_ts(h.at),
            changes: h
                .changes
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let key = if k == "owner_id" { "owner" } else { k.as_str() };
                            (
                                field_label(t, key),
                                show_value(&v["from"], users_list, k),
                                show_value(&v["to"], users_list, k),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Query of the record page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct ViewQuery {
    link_q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// GET /{kind}/{id}
pub async fn view(
    State(st): State<AppState>,
    u: PageUser,
    headers: axum::http::HeaderMap,
    Path((kind, id)): Path<(String, String)>,
    Query(vq): Query<ViewQuery>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let p = match parties::get(db, ctx, e, &id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => match parties::get_trashed(db, ctx, e, &id).await {
            Ok(p) => p,
            Err(_) => return not_found(&u),
        },
        Err(err) => return error_page(&u, &err),
    };
    let in_trash = p.deleted_at.is_some();
    let users_list = users::list(db, ctx).await.unwrap_or_default();
    let related = if in_trash { Vec::new() } else { links::related(db, ctx, e, &id, 200).await.unwrap_or_default() };
    let note_list = if in_trash { Vec::new() } else { notes::list_for(db, ctx, &p, 100).await.unwrap_or_default() };
    let hist = audit::history(db, ctx, e.as_str(), &id, 100).await.unwrap_or_default();
    let (children, parent) = if e == Entity::Account && !in_trash {
        let ch = links::children(db, ctx, &id, 100).await.unwrap_or_default();
        let parent = if p.input.parent_id.is_empty() {
            None
        } else {
            parties::get(db, ctx, Entity::Account, &p.input.parent_id)
                .await
                .ok()
                .map(|x| (x.name, format!("/accounts/{}", x.id)))
        };
        (ch.into_iter().map(|c| (c.name, format!("/accounts/{}", c.id))).collect(), parent)
    } else {
        (Vec::new(), None)
    };
    let other = if e == Entity::Account { Entity::Contact } else { Entity::Account };
    let link_q = vq.link_q.unwrap_or_default();
    let candidates = if link_q.trim().is_empty() {
        Vec::new()
    } else {
        search::search(db, ctx, &link_q, 10)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.entity == other)
            .map(|h| Candidate { id: h.id, name: h.name, detail: h.detail })
            .collect()
    };
    let can = |a: Action| {
        ctx.scope(e, a).is_ok_and(|s| match s {
            karta_core::Scope::All | karta_core::Scope::Team => true,
            karta_core::Scope::Own => p.input.owner_id == ctx.user_id,
        })
    };
    let subtitle = match e {
        Entity::Contact => related.first().map(|r| r.name.clone()).unwrap_or_default(),
        Entity::Account => p.input.industry.clone(),
        Entity::Deal | Entity::Product | Entity::Activity => String::new(),
    };
    let mut flags = Vec::new();
    if p.input.do_not_contact {
        flags.push(field_label(t, "do_not_contact"));
    }
    if p.input.do_not_email {
        flags.push(field_label(t, "do_not_email"));
    }
    let tpl = RecordPage {
        l: Layout::new(t, &u.p, p.name.clone(), kind_of(e)),
        kind: kind_of(e),
        is_account: e == Entity::Account,
        id: p.id.clone(),
        name: p.name.clone(),
        subtitle,
        version: p.version,
        in_trash,
        can_edit: !in_trash && can(Action::Update),
        can_delete: can(Action::Delete),
        can_purge: in_trash && ctx.role.is_admin(),
        can_note: !in_trash && ctx.scope(e, Action::Update).is_ok(),
        sections: {
            let mut s = profile_sections(t, &p);
            let cf = super::fields_admin::display(db, ctx, t, e, &p.input.custom).await;
            if !cf.is_empty() {
                s.push((t.s("fields.section").to_string(), cf.into_iter().map(|(l, v)| item(l, v)).collect()));
            }
            s
        },
        tags: p.input.tags.clone(),
        flags,
        related: related
            .into_iter()
            .map(|r| {
                let (cid, aid) =
                    if e == Entity::Account { (r.id.clone(), id.clone()) } else { (id.clone(), r.id.clone()) };
                RelView {
                    url: format!("/{}/{}", kind_of(other), r.id),
                    detail: if r.email.is_empty() { fmt_phone(&r.phone) } else { r.email },
                    name: r.name,
                    role: r.role,
                    contact_id: cid,
                    account_id: aid,
                }
            })
            .collect(),
        children,
        parent,
        notes: note_list
            .into_iter()
            .map(|n| NoteView {
                can_edit: n.author_id == ctx.user_id || ctx.role.is_admin(),
                edited: n.updated_at > n.created_at,
                at: fmt_ts(n.created_at),
                iso: iso_ts(n.created_at),
                id: n.id,
                body: n.body,
                author: n.author_name,
                version: n.version,
            })
            .collect(),
        history: history_views(t, hist, &users_list),
        tl: super::organizer::timeline(&st, &u, &headers, e, &id, vq.kind.as_deref().unwrap_or("")).await,
        tl_base: format!("/{}/{}", kind_of(e), id),
        deals: if in_trash {
            Vec::new()
        } else {
            let pipes = karta_store::pipelines::list(db, ctx).await.unwrap_or_default();
            karta_store::deals::for_party(db, ctx, st.clock.now(), e, &id, 50)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|d| {
                    let stage = pipes
                        .iter()
                        .flat_map(|p| p.stages.iter())
                        .find(|s| s.id == d.stage_id)
                        .map(|s| s.name(t.code()).to_string())
                        .unwrap_or_default();
                    let status =
                        if d.status == "open" { stage } else { t.s(&format!("deal.status.{}", d.status)).to_string() };
                    let amount = d.money().map(|m| m.format(t.code())).unwrap_or_default();
                    (format!("/deals/{}", d.id), d.title, format!("{status} · {amount}"))
                })
                .collect()
        },
        can_deal: ctx.scope(Entity::Deal, Action::Create).is_ok(),
        link_q,
        candidates,
        merge_notes: super::merge::record_notes(db, ctx, t, e, &p).await,
        created: fmt_ts(p.created_at),
        updated: fmt_ts(p.updated_at),
    };
    render(StatusCode::OK, &tpl)
}

// ---------- forms ----------

/// Raw form values and per-field errors.
#[derive(Default)]
pub struct FormValues {
    pub(crate) values: HashMap<String, String>,
    pub(crate) errors: HashMap<String, String>,
    /// Possible duplicates of a record being created (see [`super::merge`]).
    pub(crate) dups: Vec<super::merge::DupView>,
}

impl FormValues {
    /// A value.
    #[must_use]
    pub fn v(&self, k: &str) -> &str {
        self.values.get(k).map_or("", String::as_str)
    }

    /// A field's error message, or empty.
    #[must_use]
    pub fn e(&self, k: &str) -> &str {
        self.errors.get(k).map_or("", String::as_str)
    }

    /// True when the comma-separated list under `k` holds `v` (multi-selects).
    #[must_use]
    pub fn has(&self, k: &str, v: &str) -> bool {
        self.v(k).split(',').any(|x| x == v)
    }

    /// True when a checkbox is on.
    #[must_use]
    pub fn on(&self, k: &str) -> bool {
        matches!(self.v(k), "on" | "true" | "1")
    }
}

/// A change someone else made, shown on a stale form.
pub struct StaleView {
    /// Field label.
    pub field: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: String,
    /// Value now.
    pub now: String,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    l: Layout,
    kind: &'static str,
    is_account: bool,
    id: String,
    version: i64,
    f: FormValues,
    error_list: Vec<String>,
    stale: Vec<StaleView>,
    owners: Vec<(String, String)>,
    relationships: Vec<(String, String)>,
    first_contacts: Vec<(String, String)>,
    cf: Vec<super::fields_admin::CfInput>,
}

fn lines_of(l: &[Labeled], sep: &str) -> String {
    l.iter()
        .map(|x| {
            if x.label.is_empty() {
                x.value.clone()
            } else if sep == ":" {
                format!("{}: {}", x.label, x.value)
            } else {
                format!("{}, {}", x.value, x.label)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn values_of(input: &PartyInput) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let v = serde_json::to_value(input).unwrap_or_default();
    if let Some(o) = v.as_object() {
        for (k, x) in o {
            if let Some(s) = x.as_str() {
                m.insert(k.clone(), s.to_string());
            }
        }
    }
    m.insert("employees".into(), input.employees.map(|n| n.to_string()).unwrap_or_default());
    m.insert("emails".into(), lines_of(&input.emails, ","));
    m.insert("phones".into(), lines_of(&input.phones, ","));
    m.insert("messengers".into(), lines_of(&input.messengers, ":"));
    m.insert(
        "important_dates".into(),
        input
            .important_dates
            .iter()
            .map(|d| format!("{} {}", d.date, d.label).trim().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    m.insert("tags".into(), input.tags.join(", "));
    for (n, a) in input.addresses.iter().take(2).enumerate() {
        for (k, val) in [
            ("label", &a.label),
            ("street", &a.street),
            ("city", &a.city),
            ("region", &a.region),
            ("postcode", &a.postcode),
            ("country", &a.country),
        ] {
            m.insert(format!("addr{n}_{k}"), val.clone());
        }
    }
    if input.do_not_contact {
        m.insert("do_not_contact".into(), "on".into());
    }
    if input.do_not_email {
        m.insert("do_not_email".into(), "on".into());
    }
    m.extend(super::fields_admin::form_values(&input.custom));
    m
}

fn split_labeled(text: &str, sep: char, label_first: bool) -> Vec<Labeled> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(sep) {
            Some((a, b)) if label_first => Labeled { label: a.trim().to_string(), value: b.trim().to_string() },
            Some((a, b)) => Labeled { value: a.trim().to_string(), label: b.trim().to_string() },
            None => Labeled { value: l.to_string(), label: String::new() },
        })
        .collect()
}

/// Builds the raw input from form fields; problems that the form itself can see (a number
/// that is not a number) are returned alongside.
fn input_from_form(pairs: &Pairs) -> (PartyInput, Vec<FieldError>) {
    let g = |k: &str| get(pairs, k).to_string();
    let mut errs = Vec::new();
    let employees = match g("employees").trim() {
        "" => None,
        s => match s.replace([' ', '\u{a0}'], "").parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(FieldError::new("employees", "invalid_value"));
                None
            }
        },
    };
    let mut addresses = Vec::new();
    for n in 0..2 {
        let a = |k: &str| get(pairs, &format!("addr{n}_{k}")).to_string();
        addresses.push(Address {
            label: a("label"),
            street: a("street"),
            city: a("city"),
            region: a("region"),
            postcode: a("postcode"),
            country: a("country"),
        });
    }
    let important_dates = g("important_dates")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(' ') {
            Some((d, label)) => NamedDate { date: d.to_string(), label: label.trim().to_string() },
            None => NamedDate { date: l.to_string(), label: String::new() },
        })
        .collect();
    let input = PartyInput {
        name: g("name"),
        legal_name: g("legal_name"),
        tax_id: g("tax_id"),
        parent_id: g("parent_id"),
        employees,
        first_name: g("first_name"),
        last_name: g("last_name"),
        middle_name: g("middle_name"),
        job_title: g("job_title"),
        birthday: g("birthday"),
        family_status: g("family_status"),
        income_band: g("income_band"),
        emails: split_labeled(&g("emails"), ',', false),
        phones: split_labeled(&g("phones"), ',', false),
        messengers: split_labeled(&g("messengers"), ':', true),
        addresses,
        website: g("website"),
        industry: g("industry"),
        region: g("region"),
        segment: g("segment"),
        relationship: g("relationship"),
        owner_id: g("owner_id"),
        source: g("source"),
        first_contact: g("first_contact"),
        important_dates,
        interests: g("interests"),
        preferences: g("preferences"),
        tags: g("tags").split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        do_not_contact: matches!(get(pairs, "do_not_contact"), "on" | "true" | "1"),
        do_not_email: matches!(get(pairs, "do_not_email"), "on" | "true" | "1"),
        description: g("description"),
        custom: super::fields_admin::from_pairs(pairs),
    };
    (input, errs)
}

#[expect(
    clippy::too_many_arguments,
    reason = "a form page is its values, errors and conflicts; a struct would only rename them"
)]
async fn form_page(
    st: &AppState,
    u: &PageUser,
    e: Entity,
    id: &str,
    version: i64,
    f: FormValues,
    error_list: Vec<String>,
    stale: Vec<StaleView>,
    status: StatusCode,
) -> Response {
    let t = u.t;
    let owners = users::list(&st.db, &u.p.ctx).await.unwrap_or_default();
    let cf = super::fields_admin::inputs(&st.db, &u.p.ctx, t, e, &f.values, &f.errors).await;
    let error_list = super::fields_admin::relabel(&st.db, &u.p.ctx, t, e, error_list).await;
    let title = if id.is_empty() {
        t.s(if e == Entity::Account { "list.new_account" } else { "list.new_contact" }).to_string()
    } else {
        t.s("rec.edit").to_string()
    };
    let tpl = FormPage {
        l: Layout::new(t, &u.p, title, kind_of(e)),
        kind: kind_of(e),
        is_account: e == Entity::Account,
        id: id.to_string(),
        version,
        f,
        error_list,
        stale,
        owners: owners.into_iter().map(|o| (o.id, o.display_name)).collect(),
        relationships: RELATIONSHIPS.iter().map(|r| ((*r).to_string(), t.s(&format!("rel.{r}")).to_string())).collect(),
        first_contacts: FIRST_CONTACT.iter().map(|r| ((*r).to_string(), t.s(&format!("fc.{r}")).to_string())).collect(),
        cf,
    };
    render(status, &tpl)
}

/// GET /{kind}/new
pub async fn new_form(State(st): State<AppState>, u: PageUser, Path(kind): Path<String>) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    if u.p.ctx.scope(e, Action::Create).is_err() {
        return error_page(&u, &StoreError::Forbidden);
    }
    let mut f = FormValues::default();
    f.values.insert("owner_id".into(), u.p.ctx.user_id.clone());
    form_page(&st, &u, e, "", 0, f, Vec::new(), Vec::new(), StatusCode::OK).await
}

/// GET /{kind}/{id}/edit
pub async fn edit_form(State(st): State<AppState>, u: PageUser, Path((kind, id)): Path<(String, String)>) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    match parties::load_for(&st.db, &u.p.ctx, e, &id, Action::Update, false).await {
        Ok(p) => {
            let f = FormValues { values: values_of(&p.input), ..FormValues::default() };
            form_page(&st, &u, e, &id, p.version, f, Vec::new(), Vec::new(), StatusCode::OK).await
        }
        Err(err) => error_page(&u, &err),
    }
}

fn with_errors(t: Tr, pairs: &Pairs, errs: &[FieldError]) -> (FormValues, Vec<String>) {
    let mut f = FormValues { values: pairs.iter().cloned().collect(), ..FormValues::default() };
    let mut list = Vec::new();
    for e in errs {
        let key = base_field(&e.field).to_string();
        let msg = t.err(e.code).to_string();
        let label = field_label(t, &key);
        let idx = e.field.split('[').nth(1).and_then(|s| s.trim_end_matches(']').parse::<usize>().ok());
        let line = match idx {
            Some(i) => format!("{label} #{}: {msg}", i + 1),
            None => format!("{label}: {msg}"),
        };
        f.errors.entry(key).and_modify(|m| m.push_str(&format!(" {msg}"))).or_insert(msg);
        list.push(line);
    }
    (f, list)
}

async fn save(st: AppState, u: PageUser, kind: String, id: Option<String>, pairs: Pairs) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let t = u.t;
    let (input, mut pre) = input_from_form(&pairs);
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    if id.is_none() && pre.is_empty() && get(&pairs, "dup_ok").is_empty() {
        // Possible duplicates are shown before a new record is saved; "create anyway" saves.
        let dups = super::merge::dup_views(&st.db, &u.p.ctx, t, e, &input).await;
        if !dups.is_empty() {
            let f = FormValues { values: pairs.iter().cloned().collect(), dups, ..FormValues::default() };
            return form_page(&st, &u, e, "", 0, f, Vec::new(), Vec::new(), StatusCode::OK).await;
        }
    }
    let res = if pre.is_empty() {
        match &id {
            None => parties::create(&st.db, &u.p.ctx, e, input).await,
            Some(id) => parties::update(&st.db, &u.p.ctx, e, id, version, input).await,
        }
    } else {
        Err(StoreError::Invalid(std::mem::take(&mut pre)))
    };
    let id_s = id.clone().unwrap_or_default();
    match res {
        Ok(p) => Redirect::to(&format!("/{}/{}", kind_of(e), p.id)).into_response(),
        Err(StoreError::Invalid(errs)) => {
            let (f, list) = with_errors(t, &pairs, &errs);
            form_page(&st, &u, e, &id_s, version, f, list, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Stale { current, changes }) => {
            let users_list = users::list(&st.db, &u.p.ctx).await.unwrap_or_default();
            let stale = changes
                .iter()
                .map(|c: &Change| StaleView {
                    field: field_label(t, if c.field == "owner_id" { "owner" } else { &c.field }),
                    by: c.by.clone(),
                    at: fmt_ts(c.at),
                    now: show_value(&c.now, &users_list, &c.field),
                })
                .collect();
            let f = FormValues { values: pairs.iter().cloned().collect(), ..FormValues::default() };
            form_page(&st, &u, e, &id_s, current, f, vec![t.s("form.stale").to_string()], stale, StatusCode::CONFLICT)
                .await
        }
        Err(err) => error_page(&u, &err),
    }
}

/// POST /{kind}
pub async fn create(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    save(st, u, kind, None, pairs).await
}

/// POST /{kind}/{id}
pub async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path((kind, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    save(st, u, kind, Some(id), pairs).await
}

/// POST /{kind}/{id}/delete
pub async fn delete(State(st): State<AppState>, u: PageUser, Path((kind, id)): Path<(String, String)>) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    match parties::delete(&st.db, &u.p.ctx, e, &id).await {
        Ok(()) => Redirect::to(&format!("/{}/{id}", kind_of(e))).into_response(),
        Err(err) => error_page(&u, &err),
    }
}

/// POST /{kind}/{id}/restore
pub async fn restore(State(st): State<AppState>, u: PageUser, Path((kind, id)): Path<(String, String)>) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    match parties::restore(&st.db, &u.p.ctx, e, &id).await {
        Ok(_) => Redirect::to(&format!("/{}/{id}", kind_of(e))).into_response(),
        Err(err) => error_page(&u, &err),
    }
}

/// POST /{kind}/{id}/purge
pub async fn purge(State(st): State<AppState>, u: PageUser, Path((kind, id)): Path<(String, String)>) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    match parties::purge(&st.db, &u.p.ctx, e, &id).await {
        Ok(()) => Redirect::to("/trash").into_response(),
        Err(err) => error_page(&u, &err),
    }
}

// ---------- notes and links ----------

/// POST /{kind}/{id}/notes
pub async fn add_note(
    State(st): State<AppState>,
    u: PageUser,
    Path((kind, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    match notes::add(&st.db, &u.p.ctx, e, &id, get(&pairs, "body")).await {
        Ok(_) => Redirect::to(&format!("/{}/{id}#timeline", kind_of(e))).into_response(),
        Err(err) => error_page(&u, &err),
    }
}

fn record_url(n: &notes::Note) -> String {
    format!("/{}/{}#timeline", kind_of(n.entity), n.entity_id)
}

/// POST /notes/{id}
pub async fn edit_note(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let version = get(&pairs, "version").parse().ok();
    match notes::edit(&st.db, &u.p.ctx, &id, version, get(&pairs, "body")).await {
        Ok(n) => Redirect::to(&record_url(&n)).into_response(),
        Err(StoreError::Stale { .. }) => message_page(u.t, StatusCode::CONFLICT, u.t.s("form.stale")),
        Err(err) => error_page(&u, &err),
    }
}

/// POST /notes/{id}/delete
pub async fn delete_note(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match notes::delete(&st.db, &u.p.ctx, &id).await {
        Ok(n) => Redirect::to(&record_url(&n)).into_response(),
        Err(err) => error_page(&u, &err),
    }
}

/// POST /{kind}/{id}/links: links the record to the chosen `other` with `role`.
pub async fn link(
    State(st): State<AppState>,
    u: PageUser,
    Path((kind, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let other = get(&pairs, "other");
    let (c, a) = if e == Entity::Contact { (id.as_str(), other) } else { (other, id.as_str()) };
    match links::link(&st.db, &u.p.ctx, c, a, get(&pairs, "role")).await {
        Ok(()) => Redirect::to(&format!("/{}/{id}", kind_of(e))).into_response(),
        Err(err) => error_page(&u, &err),
    }
}

/// POST /{kind}/{id}/links/{other}/delete
pub async fn unlink(
    State(st): State<AppState>,
    u: PageUser,
    Path((kind, id, other)): Path<(String, String, String)>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let (c, a) = if e == Entity::Contact { (id.as_str(), other.as_str()) } else { (other.as_str(), id.as_str()) };
    match links::unlink(&st.db, &u.p.ctx, c, a).await {
        Ok(()) => Redirect::to(&format!("/{}/{id}", kind_of(e))).into_response(),
        Err(err) => error_page(&u, &err),
    }
}

// ---------- search and trash ----------

/// Search query.
#[derive(Debug, serde::Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    /// Suggestions of one entity only (`accounts`, `contacts`, `deals`): a link field's.
    #[serde(default)]
    kind: String,
}

/// A search hit for the page.
pub struct HitView {
    /// Link.
    pub url: String,
    /// Name.
    pub name: String,
    /// Detail.
    pub detail: String,
    /// Entity label.
    pub what: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    hits: Vec<HitView>,
}

fn hit_view(t: Tr, h: search::Hit) -> HitView {
    let kind = kind_of(h.entity);
    HitView {
        url: format!("/{kind}/{}", h.id),
        what: t.s(if h.entity == Entity::Account { "rec.accounts" } else { "rec.contacts" }).to_string(),
        name: h.name,
        detail: if h.detail.starts_with('+') { fmt_phone(&h.detail) } else { h.detail },
    }
}

/// GET /search
pub async fn search_page(State(st): State<AppState>, u: PageUser, Query(sq): Query<SearchQuery>) -> Response {
    let q: String = sq.q.chars().take(200).collect();
    let hits = match search::search(&st.db, &u.p.ctx, &q, 50).await {
        Ok(h) => h,
        Err(err) => return error_page(&u, &err),
    };
    let mut l = Layout::new(u.t, &u.p, u.t.s("search.title"), "");
    l.q = q;
    let hits = hits.into_iter().map(|h| hit_view(u.t, h)).collect();
    render(StatusCode::OK, &SearchPage { l, hits })
}

/// GET /search/suggest — typeahead JSON for the header search box.
pub async fn suggest(State(st): State<AppState>, u: PageUser, Query(sq): Query<SearchQuery>) -> Response {
    let q: String = sq.q.chars().take(200).collect();
    let found = match sq.kind.as_str() {
        "" => search::search(&st.db, &u.p.ctx, &q, 6).await,
        k => match Entity::parse(k) {
            Some(e) => search::search_in(&st.db, &u.p.ctx, e, &q, 8).await,
            None => {
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({"field": "kind"}))).into_response()
            }
        },
    };
    match found {
        Ok(h) => {
            let v: Vec<serde_json::Value> = h
                .into_iter()
                .map(|h| {
                    let hv = hit_view(u.t, h);
                    serde_json::json!({"url": hv.url, "name": hv.name, "detail": hv.detail, "what": hv.what})
                })
                .collect();
            Json(v).into_response()
        }
        Err(err) => error_page(&u, &err),
    }
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    l: Layout,
    rows: Vec<(String, String, String, String)>,
}

/// GET /trash
pub async fn trash(State(st): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let mut rows = Vec::new();
    for e in [Entity::Account, Entity::Contact] {
        let lq =
            ListQuery { trash: true, limit: 200, sort: Some("updated_at".into()), desc: true, ..ListQuery::default() };
        match parties::list(&st.db, &u.p.ctx, e, &lq).await {
            Ok(page) => rows.extend(page.items.into_iter().map(|p| {
                (
                    format!("/{}/{}", kind_of(e), p.id),
                    p.name,
                    t.s(if e == Entity::Account { "rec.accounts" } else { "rec.contacts" }).to_string(),
                    p.deleted_at.map(fmt_ts).unwrap_or_default(),
                )
            })),
            Err(StoreError::Forbidden) => {}
            Err(err) => return error_page(&u, &err),
        }
    }
    let lq = ListQuery { trash: true, limit: 200, sort: Some("updated_at".into()), desc: true, ..ListQuery::default() };
    match karta_store::deals::list(&st.db, &u.p.ctx, st.clock.now(), &lq).await {
        Ok(page) => rows.extend(page.items.into_iter().map(|d| {
            (
                format!("/deals/{}", d.id),
                d.title,
                t.s("rec.deals").to_string(),
                d.deleted_at.map(fmt_ts).unwrap_or_default(),
            )
        })),
        Err(StoreError::Forbidden) => {}
        Err(err) => return error_page(&u, &err),
    }
    let l = Layout::new(t, &u.p, t.s("trash.title"), "trash");
    render(StatusCode::OK, &TrashPage { l, rows })
}
