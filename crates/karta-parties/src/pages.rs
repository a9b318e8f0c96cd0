//! Accounts and contacts pages: lists, the record page (profile, related records, notes,
//! history), forms, trash, search and bulk actions.

use crate::merge_pages::DupView;
use crate::parties::{self, Bulk, Party};
use crate::{links, notes};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::Form;
use karta_core::party::{Address, Labeled, NamedDate, PartyInput, FIRST_CONTACT, RELATIONSHIPS};
use karta_core::{Action, Entity, FieldError};
use karta_kernel::error::Change;
use karta_kernel::listq::ListQuery;
use karta_kernel::users::{self};
use karta_kernel::{audit, search, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::error::PageResult;
use karta_webkit::i18n::Tr;
use karta_webkit::plugins::{PanelReq, TrashRow};
use karta_webkit::ui::list::{
    base_field, error_page, field_label, get, history_views, kind_of, list_response, not_found, parse_list, show_value,
    FormValues, HistView, ListData, Pairs, RowView, StaleView,
};
use karta_webkit::ui::pages::{fmt_date, fmt_phone, iso_ts, message_page, render, Layout};
use karta_webkit::AppState;
use std::collections::HashMap;

pub fn entity(kind: &str) -> Option<Entity> {
    match kind {
        "accounts" => Some(Entity::Account),
        "contacts" => Some(Entity::Contact),
        _ => None,
    }
}

// ---------- lists ----------

fn cell(u: &PageUser, p: &Party, field: &str) -> String {
    let (t, i) = (u.t, &p.input);
    match field {
        "name" => p.name.clone(),
        "email" => i.emails.first().map(|l| l.value.clone()).unwrap_or_default(),
        "phone" => i.phones.first().map(|l| fmt_phone(&l.value)).unwrap_or_default(),
        "owner" => p.owner_name.clone(),
        "relationship" if !i.relationship.is_empty() => t.s(&format!("rel.{}", i.relationship)).to_string(),
        "first_contact" if !i.first_contact.is_empty() => t.s(&format!("fc.{}", i.first_contact)).to_string(),
        "tag" => i.tags.join(", "),
        "birthday" if !i.birthday.is_empty() => fmt_date(t, &i.birthday),
        "created_at" => u.when(p.created_at),
        "updated_at" => u.when(p.updated_at),
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

/// GET /{kind}
pub async fn list(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Query(pairs): Query<Pairs>,
) -> PageResult {
    let Some(e) = entity(&kind) else { return Ok(not_found(&u)) };
    let t = u.t;
    let kind = kind_of(e);
    let (pairs, sv) = match karta_webkit::ui::views::prepare(&st.db, &u.p.ctx, e, pairs).await {
        Ok(x) => x,
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let defs = karta_webkit::ui::list_custom::defs(&st.db, &u.p.ctx, e).await?;
    let (lq, cols, filters, problem) = parse_list(e, &pairs, &defs);
    let page = match parties::list(&st.db, &u.p.ctx, e, &lq).await {
        Ok(p) => p,
        Err(StoreError::Invalid(errs)) => {
            let msg = errs.iter().map(|x| t.err(x.code)).collect::<Vec<_>>().join("; ");
            return Ok(message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg));
        }
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let count = match parties::count(&st.db, &u.p.ctx, e, &lq, 10_000).await {
        Ok((n, true)) => t.n("list.records", n),
        Ok((n, false)) => t.n("list.records_more", n),
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let owners = users::list(&st.db, &u.p.ctx).await?;
    let customs: Vec<_> = page.items.iter().map(|p| &p.input.custom).collect();
    let names = karta_kernel::fields::link_names(&st.db, &u.p.ctx, &defs, &customs).await?;
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
                    karta_webkit::ui::list_custom::cell(t, &defs, &owners, &names, &p.input.custom, c)
                        .unwrap_or_else(|| cell(&u, p, c))
                })
                .collect(),
        })
        .collect();
    let data = ListData { lq, cols, filters, problem, rows, next: page.next, count, sv };
    Ok(list_response(&u, e, &pairs, data, owners))
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
        "set" => return karta_webkit::ui::views::bulk_set(&st, &u, e, &pairs).await,
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
    panels_main: Vec<String>,
    panels_side: Vec<String>,
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
        let shown = fmt_phone(&l.value);
        main.push(Item {
            label: lbl(t, "phone", &l.label),
            value: if karta_core::values::phone_known(&l.value) {
                shown
            } else {
                format!("{shown} ({})", t.s("phone.unconfirmed"))
            },
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

/// Query of the record page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct ViewQuery {
    link_q: Option<String>,
}

/// GET /{kind}/{id}
pub async fn view(
    State(st): State<AppState>,
    u: PageUser,
    headers: axum::http::HeaderMap,
    Path((kind, id)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let Some(e) = entity(&kind) else { return Ok(not_found(&u)) };
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let vq = ViewQuery { link_q: Some(get(&query, "link_q").to_string()).filter(|q| !q.is_empty()) };
    let p = match parties::get(db, ctx, e, &id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => match parties::get_trashed(db, ctx, e, &id).await {
            Ok(p) => p,
            Err(_) => return Ok(not_found(&u)),
        },
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let in_trash = p.deleted_at.is_some();
    let users_list = users::list(db, ctx).await?;
    let related = if in_trash { Vec::new() } else { links::related(db, ctx, e, &id, 200).await? };
    let note_list = if in_trash { Vec::new() } else { notes::list_for(db, ctx, &p, 100).await? };
    let hist = audit::history(db, ctx, e.as_str(), &id, 100).await?;
    let (children, parent) = if e == Entity::Account && !in_trash {
        let ch = links::children(db, ctx, &id, 100).await?;
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
            .await?
            .into_iter()
            .filter(|h| h.entity == other)
            .map(|h| Candidate { id: h.id, name: h.name, detail: h.detail })
            .collect()
    };
    let can = |a: Action| {
        ctx.scope(e, a).is_ok_and(|s| match s {
            karta_core::Scope::All | karta_core::Scope::Team => true,
            karta_core::Scope::Own => p.input.owner_id == ctx.user_id(),
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
    let (panels_main, panels_side) = if in_trash {
        (Vec::new(), Vec::new())
    } else {
        let req = PanelReq { headers: &headers, query: &query, entity: e, id: &id };
        match karta_webkit::plugins::record_panels(&st, &u, req).await {
            Ok(x) => x,
            Err(err) => return Ok(error_page(&u, &err)),
        }
    };
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
        can_purge: in_trash && ctx.is_admin(),
        can_note: !in_trash && ctx.scope(e, Action::Update).is_ok(),
        sections: {
            let mut s = profile_sections(t, &p);
            let cf = karta_webkit::ui::custom::display(db, ctx, t, e, &p.input.custom).await?;
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
                can_edit: n.author_id == ctx.user_id() || ctx.is_admin(),
                edited: n.updated_at > n.created_at,
                at: u.when(n.created_at),
                iso: iso_ts(n.created_at),
                id: n.id,
                body: n.body,
                author: n.author_name,
                version: n.version,
            })
            .collect(),
        history: history_views(&u, hist, &users_list),
        panels_main,
        panels_side,
        link_q,
        candidates,
        merge_notes: crate::merge_pages::record_notes(db, &u, e, &p).await?,
        created: u.when(p.created_at),
        updated: u.when(p.updated_at),
    };
    Ok(render(StatusCode::OK, &tpl))
}

// ---------- forms ----------

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
    cf: Vec<karta_webkit::ui::custom::CfInput>,
    dups: Vec<DupView>,
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
    m.extend(karta_webkit::ui::custom::form_values(&input.custom));
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
        custom: karta_webkit::ui::custom::from_pairs(pairs),
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
    dups: Vec<DupView>,
    status: StatusCode,
) -> PageResult {
    let t = u.t;
    let owners = users::list(&st.db, &u.p.ctx).await?;
    let cf = karta_webkit::ui::custom::inputs(&st.db, &u.p.ctx, t, e, &f.values, &f.errors).await?;
    let error_list = karta_webkit::ui::custom::relabel(&st.db, &u.p.ctx, t, e, error_list).await?;
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
        dups,
    };
    Ok(render(status, &tpl))
}

/// GET /{kind}/new
pub async fn new_form(State(st): State<AppState>, u: PageUser, Path(kind): Path<String>) -> PageResult {
    let Some(e) = entity(&kind) else { return Ok(not_found(&u)) };
    if u.p.ctx.scope(e, Action::Create).is_err() {
        return Ok(error_page(&u, &StoreError::Forbidden));
    }
    let mut f = FormValues::default();
    f.values.insert("owner_id".into(), u.p.ctx.user_id().to_string());
    form_page(&st, &u, e, "", 0, f, Vec::new(), Vec::new(), Vec::new(), StatusCode::OK).await
}

/// GET /{kind}/{id}/edit
pub async fn edit_form(
    State(st): State<AppState>,
    u: PageUser,
    Path((kind, id)): Path<(String, String)>,
) -> PageResult {
    let Some(e) = entity(&kind) else { return Ok(not_found(&u)) };
    match parties::load_for(&st.db, &u.p.ctx, e, &id, Action::Update, false).await {
        Ok(p) => {
            let f = FormValues { values: values_of(&p.input), ..FormValues::default() };
            form_page(&st, &u, e, &id, p.version, f, Vec::new(), Vec::new(), Vec::new(), StatusCode::OK).await
        }
        Err(err) => Ok(error_page(&u, &err)),
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

async fn save(st: AppState, u: PageUser, kind: String, id: Option<String>, pairs: Pairs) -> PageResult {
    let Some(e) = entity(&kind) else { return Ok(not_found(&u)) };
    let t = u.t;
    let (input, mut pre) = input_from_form(&pairs);
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    if id.is_none() && pre.is_empty() && get(&pairs, "dup_ok").is_empty() {
        // Possible duplicates are shown before a new record is saved; "create anyway" saves.
        let dups = crate::merge_pages::dup_views(&st.db, &u.p.ctx, t, e, &input).await;
        if !dups.is_empty() {
            let f = FormValues { values: pairs.iter().cloned().collect(), ..FormValues::default() };
            return form_page(&st, &u, e, "", 0, f, Vec::new(), Vec::new(), dups, StatusCode::OK).await;
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
        Ok(p) => Ok(Redirect::to(&format!("/{}/{}", kind_of(e), p.id)).into_response()),
        Err(StoreError::Invalid(errs)) => {
            let (f, list) = with_errors(t, &pairs, &errs);
            form_page(&st, &u, e, &id_s, version, f, list, Vec::new(), Vec::new(), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(StoreError::Stale { current, changes }) => {
            let users_list = users::list(&st.db, &u.p.ctx).await?;
            let stale = changes
                .iter()
                .map(|c: &Change| StaleView {
                    field: field_label(t, if c.field == "owner_id" { "owner" } else { &c.field }),
                    by: c.by.clone(),
                    at: u.when(c.at),
                    now: show_value(&c.now, &users_list, &c.field),
                })
                .collect();
            let f = FormValues { values: pairs.iter().cloned().collect(), ..FormValues::default() };
            form_page(
                &st,
                &u,
                e,
                &id_s,
                current,
                f,
                vec![t.s("form.stale").to_string()],
                stale,
                Vec::new(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(err) => Ok(error_page(&u, &err)),
    }
}

/// POST /{kind}
pub async fn create(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Form(pairs): Form<Pairs>,
) -> PageResult {
    save(st, u, kind, None, pairs).await
}

/// POST /{kind}/{id}
pub async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path((kind, id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> PageResult {
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

/// The accounts and contacts in the trash that the caller may see (the trash page's rows).
///
/// # Errors
/// Database errors.
pub async fn trashed(st: &AppState, u: &PageUser) -> Result<Vec<TrashRow>, StoreError> {
    let t = u.t;
    let mut rows = Vec::new();
    for e in [Entity::Account, Entity::Contact] {
        let lq =
            ListQuery { trash: true, limit: 200, sort: Some("updated_at".into()), desc: true, ..ListQuery::default() };
        match parties::list(&st.db, &u.p.ctx, e, &lq).await {
            Ok(page) => rows.extend(page.items.into_iter().map(|p| TrashRow {
                url: format!("/{}/{}", kind_of(e), p.id),
                name: p.name,
                what: t.s(if e == Entity::Account { "rec.accounts" } else { "rec.contacts" }).to_string(),
                deleted_at: p.deleted_at.unwrap_or_default(),
            })),
            Err(StoreError::Forbidden) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(rows)
}
