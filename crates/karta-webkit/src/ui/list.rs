//! The list and record toolbox every context's pages use: list parameters parsed into a
//! query, the list page (filters, groups, sort, columns, cursor pages, bulk actions, saved
//! views), form values with errors, the audit trail as shown on a record, and error pages.

use crate::auth::PageUser;
use crate::i18n::Tr;
use crate::ui::pages::{iso_ts, message_page, render, Layout};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use karta_core::{Action, Entity};
use karta_kernel::listq::{self, Filter, ListQuery, Op};
use karta_kernel::users::User;
use karta_kernel::{audit, StoreError};
use std::collections::HashMap;

pub type Pairs = Vec<(String, String)>;

pub fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

pub fn kind_of(e: Entity) -> &'static str {
    match e {
        Entity::Account => "accounts",
        Entity::Contact => "contacts",
        Entity::Deal => "deals",
        Entity::Product => "products",
        Entity::Activity => "activities",
    }
}

/// Turns a store error into a page; validation errors are handled by the callers.
pub fn error_page(u: &PageUser, e: &StoreError) -> Response {
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

pub fn base_field(f: &str) -> &str {
    f.split('[').next().unwrap_or(f)
}

pub fn not_found(u: &PageUser) -> Response {
    message_page(u.t, StatusCode::NOT_FOUND, u.t.s("error.not_found"))
}

/// A column header.
pub struct Col {
    /// Label.
    pub label: String,
    /// Link that sorts by this column.
    pub sort_url: String,
    /// `asc`, `desc` or empty.
    pub sorted: &'static str,
}

/// One list row.
pub struct RowView {
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
pub struct FilterView {
    /// Field.
    pub field: String,
    /// Operator.
    pub op: String,
    /// Value.
    pub value: String,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
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
pub fn primary(e: Entity) -> &'static str {
    if e == Entity::Deal {
        "title"
    } else {
        "name"
    }
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Parses list parameters from the query (`f`, `op`, `v` triples from the form, or `filter`
/// in the API syntax), returning the query, the columns and any problem to show. `defs` are
/// the entity's custom fields: `cf.<key>` filters, sort and columns must name one of them
/// (columns an active one); the query carries them for the store.
pub fn parse_list(
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

pub fn list_url(
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

pub fn field_label(t: Tr, name: &str) -> String {
    t.s(&format!("f.{name}")).to_string()
}

/// What a list page shows, fetched by the entity's handler.
pub struct ListData {
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
pub fn list_response(u: &PageUser, e: Entity, pairs: &Pairs, d: ListData, owners: Vec<User>) -> Response {
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

/// A stored value as a history entry shows it (an owner by name).
pub fn show_value(v: &serde_json::Value, users: &[User], field: &str) -> String {
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
        serde_json::Value::Object(o) => {
            o.values().map(|v| show_value(v, users, "")).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

/// The audit trail as shown on a record page.
pub fn history_views(u: &PageUser, hist: Vec<audit::AuditEntry>, users_list: &[User]) -> Vec<HistView> {
    let t = u.t;
    hist.into_iter()
        .map(|h| HistView {
            who: h.user_name,
            action: t.s(&format!("act.{}", h.action)).to_string(),
            at: u.when(h.at),
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
                        // A change from nothing to nothing (an empty set of custom values on
                        // create) says nothing.
                        .filter(|(_, from, to)| !(from.is_empty() && to.is_empty()))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Raw form values and per-field errors.
#[derive(Default)]
pub struct FormValues {
    pub values: HashMap<String, String>,
    pub errors: HashMap<String, String>,
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
