//! Deal pages: the list, the deal page (stage path, lines, contacts, negotiation log, stage
//! history with time in stages, audit), the form, moving between stages (also the board's
//! endpoint), closing and reopening.

use crate::deals::{self, Deal, DealContactInput, DealInput, LineInput, MoveInput, Outcome};
use crate::pipelines::{self, Pipeline};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::Form;
use karta_catalog::store as products;
use karta_core::{Action, Currency, Entity, FieldError, Money};
use karta_kernel::{audit, search, users, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::error::PageResult;
use karta_webkit::i18n::Tr;
use karta_webkit::routes::Pages;
use karta_webkit::ui::list::{
    error_page, get, history_views, list_response, not_found, parse_list, FormValues, HistView, ListData, Pairs,
    RowView,
};
use karta_webkit::ui::pages::{fmt_date, iso_ts, message_page, render, Layout};
use karta_webkit::AppState;
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

fn all<'a>(pairs: &'a Pairs, key: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
}

fn money(t: Tr, d: &Deal) -> String {
    d.money().map(|m| m.format(t.code())).unwrap_or_default()
}

fn stage_name(t: Tr, pipes: &[Pipeline], stage_id: &str) -> String {
    pipes
        .iter()
        .flat_map(|p| p.stages.iter())
        .find(|s| s.id == stage_id)
        .map(|s| s.name(t.code()).to_string())
        .unwrap_or_default()
}

fn status_label(t: Tr, d: &Deal) -> String {
    t.s(&format!("deal.status.{}", d.status)).to_string()
}

fn cell(u: &PageUser, d: &Deal, pipes: &[Pipeline], field: &str) -> String {
    let t = u.t;
    match field {
        "account" => d.account_name.clone(),
        "owner" => d.owner_name.clone(),
        "pipeline" => {
            pipes.iter().find(|p| p.id == d.pipeline_id).map(|p| p.name(t.code()).to_string()).unwrap_or_default()
        }
        "stage" => {
            let mut s = stage_name(t, pipes, &d.stage_id);
            if d.status != "open" {
                s = format!("{s} · {}", status_label(t, d));
            }
            if d.stalled {
                s = format!("{s} · {}", t.f("stalled"));
            }
            s
        }
        "status" => status_label(t, d),
        "amount" => money(t, d),
        "currency" => d.currency.clone(),
        "close_date" => {
            let s = fmt_date(t, &d.close_date);
            if d.overdue {
                format!("{s} · {}", t.f("overdue"))
            } else {
                s
            }
        }
        "probability" => format!("{}%", d.probability),
        "source" => d.source.clone(),
        "next_step" => d.next_step.clone(),
        "created_at" => u.when(d.created_at),
        "updated_at" => u.when(d.updated_at),
        "stage_entered_at" => u.when(d.stage_entered_at),
        _ => String::new(),
    }
}

/// GET /deals
async fn list(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> PageResult {
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let now = st.clock.now();
    let (pairs, sv) = match karta_webkit::ui::views::prepare(db, ctx, Entity::Deal, pairs).await {
        Ok(x) => x,
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let defs = karta_webkit::ui::list_custom::defs(db, ctx, Entity::Deal).await?;
    let (mut lq, cols, filters, problem) = parse_list(Entity::Deal, &pairs, &defs);
    // The flags are not list fields but may be asked for by link (My day, the board).
    for flag in ["overdue", "stalled"] {
        if get(&pairs, flag) == "1" {
            lq.filters.push(karta_kernel::listq::Filter {
                field: flag.into(),
                op: karta_kernel::listq::Op::Eq,
                value: "1".into(),
            });
        }
    }
    let page = match deals::list(db, ctx, now, &lq).await {
        Ok(p) => p,
        Err(StoreError::Invalid(errs)) => {
            let msg = errs.iter().map(|x| t.err(x.code)).collect::<Vec<_>>().join("; ");
            return Ok(message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg));
        }
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let count = match deals::count(db, ctx, now, &lq, 10_000).await {
        Ok((n, true)) => t.n("list.records", n),
        Ok((n, false)) => t.n("list.records_more", n),
        Err(err) => return Ok(error_page(&u, &err)),
    };
    let pipes = pipelines::list(db, ctx).await?;
    let owners = users::list(db, ctx).await?;
    let customs: Vec<_> = page.items.iter().map(|d| &d.custom).collect();
    let names = karta_kernel::fields::link_names(db, ctx, &defs, &customs).await?;
    let rows = page
        .items
        .iter()
        .map(|d| RowView {
            id: d.id.clone(),
            url: format!("/deals/{}", d.id),
            name: d.title.clone(),
            cells: cols
                .iter()
                .map(|c| {
                    karta_webkit::ui::list_custom::cell(t, &defs, &owners, &names, &d.custom, c)
                        .unwrap_or_else(|| cell(&u, d, &pipes, c))
                })
                .collect(),
        })
        .collect();
    lq.filters.retain(|f| f.field != "overdue" && f.field != "stalled");
    let data = ListData { lq, cols, filters, problem, rows, next: page.next, count, sv };
    Ok(list_response(&u, Entity::Deal, &pairs, data, owners))
}

/// POST /deals/bulk
async fn bulk(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> Response {
    let (ctx, db, now) = (&u.p.ctx, &st.db, st.clock.now());
    let ids: Vec<&str> = all(&pairs, "id");
    let back = get(&pairs, "back");
    let back = if back.starts_with("/deals") { back.to_string() } else { "/deals".to_string() };
    let action = get(&pairs, "action");
    let needs = if action == "delete" { Action::Delete } else { Action::Update };
    if let Err(e) = ctx.scope(Entity::Deal, needs) {
        return error_page(&u, &e);
    }
    if action == "set" {
        return karta_webkit::ui::views::bulk_set(&st, &u, Entity::Deal, &pairs).await;
    }
    let mut n = 0;
    for id in ids.iter().take(1000) {
        let r = match action {
            "delete" => deals::set_trashed(db, ctx, now, id, true).await,
            "assign" => match deals::get(db, ctx, id, now).await {
                Ok(d) => {
                    let mut input = d.to_input();
                    input.owner_id = get(&pairs, "owner").to_string();
                    deals::update(db, ctx, now, id, d.version, &input).await.map(|_| ())
                }
                Err(e) => Err(e),
            },
            _ => return message_page(u.t, StatusCode::UNPROCESSABLE_ENTITY, u.t.err("invalid_choice")),
        };
        match r {
            Ok(()) => n += 1,
            Err(StoreError::NotFound | StoreError::Forbidden) => {}
            Err(e) => return error_page(&u, &e),
        }
    }
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}done={n}")).into_response()
}

/// A stage on the deal page's path.
struct StageStep {
    id: String,
    name: String,
    state: &'static str,
}

struct LineView {
    name: String,
    quantity: String,
    price: String,
    discount: String,
    total: String,
}

struct PriceView {
    at: String,
    iso: String,
    who: String,
    what: String,
    old: String,
    new: String,
    comment: String,
}

struct StageTime {
    name: String,
    days: String,
    pct: i64,
}

struct StageEventView {
    at: String,
    iso: String,
    who: String,
    text: String,
}

#[derive(Template)]
#[template(path = "deal.html")]
struct DealPage {
    l: Layout,
    d: Deal,
    amount: String,
    status_text: String,
    contacts: Vec<(String, String, String)>,
    close: String,
    stage: String,
    pipeline: String,
    lost_stage: String,
    lost_reason: String,
    days_in_stage: i64,
    path: Vec<StageStep>,
    lines: Vec<LineView>,
    lines_total: String,
    prices: Vec<PriceView>,
    times: Vec<StageTime>,
    events: Vec<StageEventView>,
    history: Vec<HistView>,
    reasons: Vec<(String, String)>,
    can_edit: bool,
    can_delete: bool,
    in_trash: bool,
    message: String,
    panels_main: Vec<String>,
    cf: Vec<(String, String)>,
}

fn can(ctx: &karta_kernel::Ctx, action: Action, d: &Deal) -> bool {
    ctx.scope(Entity::Deal, action).is_ok_and(|s| ctx.reaches(s, &d.owner_id, d.owner_team.as_deref()))
}

/// GET /deals/{id}
async fn view(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(pairs): Query<Pairs>,
) -> PageResult {
    let (t, ctx, db, now) = (u.t, &u.p.ctx, &st.db, st.clock.now());
    let (d, in_trash) = match deals::get(db, ctx, &id, now).await {
        Ok(d) => (d, false),
        Err(StoreError::NotFound) => match deals::get_trashed(db, ctx, &id, now).await {
            Ok(d) => (d, true),
            Err(_) => return Ok(not_found(&u)),
        },
        Err(e) => return Ok(error_page(&u, &e)),
    };
    let (panels_main, _) = if in_trash {
        (Vec::new(), Vec::new())
    } else {
        let req = karta_webkit::plugins::PanelReq { headers: &headers, query: &pairs, entity: Entity::Deal, id: &id };
        match karta_webkit::plugins::record_panels(&st, &u, req).await {
            Ok(x) => x,
            Err(e) => return Ok(error_page(&u, &e)),
        }
    };
    let pipes = pipelines::list(db, ctx).await?;
    let pipeline = pipes.iter().find(|p| p.id == d.pipeline_id);
    let cur = pipeline.and_then(|p| p.stages.iter().position(|s| s.id == d.stage_id)).unwrap_or(0);
    let path = pipeline
        .map(|p| {
            p.stages
                .iter()
                .enumerate()
                .map(|(i, s)| StageStep {
                    id: s.id.clone(),
                    name: s.name(t.code()).to_string(),
                    state: match i.cmp(&cur) {
                        std::cmp::Ordering::Less => "done",
                        std::cmp::Ordering::Equal => "current",
                        std::cmp::Ordering::Greater => "",
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let cur_code = Currency::parse(&d.currency, "currency").ok();
    let show = |minor: i64| cur_code.map(|c| Money::new(minor, c).format(t.code())).unwrap_or_default();
    let lines = d
        .lines
        .iter()
        .map(|l| LineView {
            name: l.name.clone(),
            quantity: l.quantity.clone(),
            price: show(l.unit_price_minor),
            discount: if l.discount_bp == 0 { String::new() } else { l.discount.clone() },
            total: show(l.total_minor),
        })
        .collect();
    // A deal in the trash shows what it is and how to restore it; its logs come back with it.
    let prices = if in_trash { Vec::new() } else { deals::price_log(db, ctx, &id, now).await? };
    let prices = prices
        .into_iter()
        .map(|p| PriceView {
            at: u.when(p.at),
            iso: iso_ts(p.at),
            who: p.user_name,
            what: t.s(&format!("deal.price.{}", p.what)).to_string(),
            old: p.old_value,
            new: p.new_value,
            comment: p.comment,
        })
        .collect();
    let events = if in_trash { Vec::new() } else { deals::stage_history(db, ctx, &id, now).await? };
    let spent = deals::time_in_stages(&events, now);
    let longest = spent.iter().map(|(_, ms)| *ms).max().unwrap_or(0).max(1);
    let times = spent
        .iter()
        .map(|(sid, ms)| StageTime {
            name: stage_name(t, &pipes, sid),
            days: format!("{:.1}", *ms as f64 / DAY_MS as f64),
            pct: ms * 100 / longest,
        })
        .collect();
    let events = events
        .iter()
        .rev()
        .map(|e| {
            let text = if e.from_status.is_empty() {
                format!("{} → {}", t.s("deal.created_in"), stage_name(t, &pipes, &e.to_stage_id))
            } else if e.from_status != e.to_status {
                format!(
                    "{} → {} ({})",
                    t.s(&format!("deal.status.{}", e.from_status)),
                    t.s(&format!("deal.status.{}", e.to_status)),
                    stage_name(t, &pipes, &e.to_stage_id)
                )
            } else {
                format!("{} → {}", stage_name(t, &pipes, &e.from_stage_id), stage_name(t, &pipes, &e.to_stage_id))
            };
            StageEventView { at: u.when(e.at), iso: iso_ts(e.at), who: e.user_name.clone(), text }
        })
        .collect();
    let users_list = users::list(db, ctx).await?;
    let mut history = history_views(&u, audit::history(db, ctx, "deal", &id, 100).await?, &users_list);
    // Ids in the trail read as names: stages, pipelines, the account.
    let mut names: Vec<(String, String)> = pipes
        .iter()
        .flat_map(|p| {
            std::iter::once((p.id.clone(), p.name(t.code()).to_string()))
                .chain(p.stages.iter().map(|s| (s.id.clone(), s.name(t.code()).to_string())))
        })
        .collect();
    names.push((d.account_id.clone(), d.account_name.clone()));
    for h in &mut history {
        for (_, from, to) in &mut h.changes {
            for v in [from, to] {
                if let Some((_, n)) = names.iter().find(|(k, _)| !k.is_empty() && k == v) {
                    v.clone_from(n);
                }
            }
        }
    }
    let reasons_all = pipelines::lost_reasons(db, ctx).await?;
    let lost_reason =
        reasons_all.iter().find(|r| r.id == d.lost_reason_id).map(|r| r.name(t.code()).to_string()).unwrap_or_default();
    let reasons =
        reasons_all.iter().filter(|r| r.active).map(|r| (r.id.clone(), r.name(t.code()).to_string())).collect();
    let lines_total = show(d.lines.iter().map(|l| l.total_minor).sum());
    let message = match get(&pairs, "m") {
        "" => String::new(),
        m => t.s(&format!("deal.msg.{m}")).to_string(),
    };
    let tpl = DealPage {
        l: Layout::new(t, &u.p, d.title.clone(), "deals"),
        amount: money(t, &d),
        close: fmt_date(t, &d.close_date),
        status_text: status_label(t, &d),
        contacts: d
            .contacts
            .iter()
            .map(|c| {
                let role = if deals::CONTACT_ROLES.contains(&c.role.as_str()) {
                    t.s(&format!("deal.role.{}", c.role)).to_string()
                } else {
                    c.role.clone()
                };
                (c.contact_id.clone(), c.name.clone(), role)
            })
            .collect(),
        stage: stage_name(t, &pipes, &d.stage_id),
        pipeline: pipeline.map(|p| p.name(t.code()).to_string()).unwrap_or_default(),
        lost_stage: stage_name(t, &pipes, &d.lost_stage_id),
        lost_reason,
        days_in_stage: d.days_in_stage(now),
        path,
        lines,
        lines_total,
        prices,
        times,
        events,
        history,
        reasons,
        can_edit: can(ctx, Action::Update, &d),
        can_delete: can(ctx, Action::Delete, &d),
        in_trash,
        message,
        panels_main,
        cf: karta_webkit::ui::custom::display(&st.db, ctx, t, Entity::Deal, &d.custom).await?,
        d,
    };
    Ok(render(StatusCode::OK, &tpl))
}

/// A pipeline in the form's selects: id, name, and its stages (id, name).
type PipelineChoice = (String, String, Vec<(String, String)>);

#[derive(Template)]
#[template(path = "deal_form.html")]
struct FormPage {
    l: Layout,
    id: String,
    version: i64,
    f: FormValues,
    error_list: Vec<String>,
    owners: Vec<(String, String)>,
    pipelines: Vec<PipelineChoice>,
    currencies: Vec<String>,
    products: Vec<(String, String)>,
    contacts: Vec<(String, String, String)>,
    lines: Vec<(String, String, String, String)>,
    roles: Vec<(String, String)>,
    cf: Vec<karta_webkit::ui::custom::CfInput>,
}

fn values_of(d: &Deal) -> FormValues {
    let mut f = FormValues::default();
    for (k, v) in [
        ("title", d.title.clone()),
        ("account_id", d.account_id.clone()),
        ("account", d.account_name.clone()),
        ("account_was", d.account_name.clone()),
        ("owner_id", d.owner_id.clone()),
        ("pipeline_id", d.pipeline_id.clone()),
        ("stage_id", d.stage_id.clone()),
        ("amount", if d.amount_minor == 0 { String::new() } else { d.amount.clone() }),
        ("currency", d.currency.clone()),
        ("close_date", d.close_date.clone()),
        ("probability", d.probability_override.map(|p| p.to_string()).unwrap_or_default()),
        ("source", d.source.clone()),
        ("next_step", d.next_step.clone()),
        ("description", d.description.clone()),
    ] {
        f.values.insert(k.into(), v);
    }
    f.values.extend(karta_webkit::ui::custom::form_values(&d.custom));
    f
}

struct FormState {
    f: FormValues,
    contacts: Vec<(String, String, String)>,
    lines: Vec<(String, String, String, String)>,
    errors: Vec<FieldError>,
}

async fn form_page(
    st: &AppState,
    u: &PageUser,
    status: StatusCode,
    id: &str,
    version: i64,
    fs: FormState,
) -> PageResult {
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let FormState { mut f, contacts, lines, errors } = fs;
    let mut error_list = Vec::new();
    for e in &errors {
        let field = e.field.split('[').next().unwrap_or(&e.field).to_string();
        let field = if field == "contacts" || field == "lines" { field } else { e.field.clone() };
        let msg = t.err(e.code).to_string();
        let label = if field.starts_with("custom.") {
            format!("f.{field}")
        } else {
            t.f(field.split('[').next().unwrap_or(&field)).to_string()
        };
        error_list.push(format!("{label}: {msg}"));
        f.errors.entry(field).or_insert(msg);
    }
    let owners = users::list(db, ctx).await?.into_iter().map(|o| (o.id, o.display_name)).collect();
    let pipes = pipelines::list(db, ctx).await?;
    let pipelines = pipes
        .iter()
        .filter(|p| p.active || p.id == f.v("pipeline_id"))
        .map(|p| {
            let stages = p.stages.iter().map(|s| (s.id.clone(), s.name(t.code()).to_string())).collect();
            (p.id.clone(), p.name(t.code()).to_string(), stages)
        })
        .collect();
    let prods = products::list(db, ctx, "", false, 1000).await?;
    let products = prods
        .iter()
        .filter(|p| p.active || lines.iter().any(|l| l.0 == p.id))
        .map(|p| (p.id.clone(), format!("{} · {}", p.sku, p.name(t.code()))))
        .collect();
    let title = if id.is_empty() { t.s("deal.new").to_string() } else { f.v("title").to_string() };
    let cf = karta_webkit::ui::custom::inputs(db, ctx, t, Entity::Deal, &f.values, &f.errors).await?;
    let error_list = karta_webkit::ui::custom::relabel(db, ctx, t, Entity::Deal, error_list).await?;
    let tpl = FormPage {
        l: Layout::new(t, &u.p, title, "deals"),
        id: id.to_string(),
        version,
        f,
        error_list,
        owners,
        pipelines,
        currencies: Currency::ALL.iter().map(|c| c.code().to_string()).collect(),
        products,
        contacts,
        lines,
        roles: deals::CONTACT_ROLES
            .iter()
            .map(|r| ((*r).to_string(), t.s(&format!("deal.role.{r}")).to_string()))
            .collect(),
        cf,
    };
    Ok(render(status, &tpl))
}

/// GET /deals/new
async fn new_form(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> PageResult {
    if u.p.ctx.scope(Entity::Deal, Action::Create).is_err() {
        return Ok(error_page(&u, &StoreError::Forbidden));
    }
    let mut f = FormValues::default();
    f.values.insert("owner_id".into(), u.p.ctx.user_id().to_string());
    f.values.insert("pipeline_id".into(), get(&pairs, "pipeline").to_string());
    let mut contacts = Vec::new();
    let account = get(&pairs, "account");
    if !account.is_empty() {
        if let Ok(a) = karta_parties::parties::get(&st.db, &u.p.ctx, Entity::Account, account).await {
            f.values.insert("account_id".into(), a.id.clone());
            f.values.insert("account".into(), a.name.clone());
            f.values.insert("account_was".into(), a.name.clone());
        }
    }
    let contact = get(&pairs, "contact");
    if !contact.is_empty() {
        if let Ok(c) = karta_parties::parties::get(&st.db, &u.p.ctx, Entity::Contact, contact).await {
            contacts.push((c.id, c.name, String::new()));
        }
    }
    form_page(&st, &u, StatusCode::OK, "", 0, FormState { f, contacts, lines: Vec::new(), errors: Vec::new() }).await
}

/// GET /deals/{id}/edit
async fn edit_form(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> PageResult {
    let d = match deals::get(&st.db, &u.p.ctx, &id, st.clock.now()).await {
        Ok(d) => d,
        Err(e) => return Ok(error_page(&u, &e)),
    };
    // The form is for those who may save it.
    if !can(&u.p.ctx, Action::Update, &d) {
        return Ok(error_page(&u, &StoreError::Forbidden));
    }
    let contacts = d.contacts.iter().map(|c| (c.contact_id.clone(), c.name.clone(), c.role.clone())).collect();
    let lines = d
        .lines
        .iter()
        .map(|l| {
            let price = Currency::parse(&d.currency, "currency")
                .map(|c| Money::amount_text(l.unit_price_minor, c))
                .unwrap_or_default();
            let disc = if l.discount_bp == 0 { String::new() } else { l.discount.trim_end_matches('%').to_string() };
            (l.product_id.clone(), l.quantity.clone(), price, disc)
        })
        .collect();
    form_page(
        &st,
        &u,
        StatusCode::OK,
        &id,
        d.version,
        FormState { f: values_of(&d), contacts, lines, errors: Vec::new() },
    )
    .await
}

/// Finds the one record of `entity` a typed name means: an exact name, else a single hit.
async fn resolve(st: &AppState, u: &PageUser, entity: Entity, text: &str) -> Result<Option<String>, StoreError> {
    search::by_name(&st.db, &u.p.ctx, entity, text, None).await
}

/// Reads the deal form into input, resolving typed account and contact names.
async fn input_from(st: &AppState, u: &PageUser, pairs: &Pairs) -> Result<(DealInput, FormState), StoreError> {
    let mut f = FormValues::default();
    for (k, v) in pairs {
        if !k.starts_with("line_") && !k.starts_with("contact_") && k != "_csrf" {
            f.values.insert(k.clone(), v.clone());
        }
    }
    let mut errors = Vec::new();
    let typed = get(pairs, "account").trim();
    let mut account_id = get(pairs, "account_id").to_string();
    if typed.is_empty() {
        account_id.clear();
    } else if typed != get(pairs, "account_was") || account_id.is_empty() {
        match resolve(st, u, Entity::Account, typed).await? {
            Some(id) => account_id = id,
            None => errors.push(FieldError::new("account_id", "not_found")),
        }
    }
    f.values.insert("account_id".into(), account_id.clone());
    // Contacts: the kept rows, then one typed by name.
    let ids = all(pairs, "contact_id");
    let roles = all(pairs, "contact_role");
    let names = all(pairs, "contact_name");
    let removed = all(pairs, "contact_remove");
    let mut contacts: Vec<(String, String, String)> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if !removed.contains(id) && !id.is_empty() {
            let name = names.get(i).copied().unwrap_or_default().to_string();
            contacts.push(((*id).to_string(), name, roles.get(i).copied().unwrap_or_default().to_string()));
        }
    }
    let new_contact = get(pairs, "contact_new").trim();
    if !new_contact.is_empty() {
        match resolve(st, u, Entity::Contact, new_contact).await? {
            Some(id) => contacts.push((id, new_contact.to_string(), get(pairs, "contact_new_role").to_string())),
            None => errors.push(FieldError::new("contacts", "not_found")),
        }
    }
    // Lines: rows with a product.
    let prods = all(pairs, "line_product");
    let qtys = all(pairs, "line_qty");
    let prices = all(pairs, "line_price");
    let discs = all(pairs, "line_discount");
    let mut lines = Vec::new();
    for (i, p) in prods.iter().enumerate() {
        if p.is_empty() {
            continue;
        }
        let at = |v: &[&str]| v.get(i).copied().unwrap_or_default().to_string();
        lines.push(((*p).to_string(), at(&qtys), at(&prices), at(&discs)));
    }
    let had_lines = get(pairs, "had_lines") == "1";
    let input = DealInput {
        title: get(pairs, "title").into(),
        account_id,
        owner_id: get(pairs, "owner_id").into(),
        pipeline_id: get(pairs, "pipeline_id").into(),
        stage_id: get(pairs, "stage_id").into(),
        amount: get(pairs, "amount").into(),
        currency: get(pairs, "currency").into(),
        close_date: get(pairs, "close_date").into(),
        probability: get(pairs, "probability").into(),
        source: get(pairs, "source").into(),
        next_step: get(pairs, "next_step").into(),
        description: get(pairs, "description").into(),
        contacts: Some(
            contacts
                .iter()
                .map(|(id, _, role)| DealContactInput { contact_id: id.clone(), role: role.clone() })
                .collect(),
        ),
        lines: if lines.is_empty() && !had_lines {
            None
        } else {
            Some(
                lines
                    .iter()
                    .map(|(p, q, pr, d)| LineInput {
                        product_id: p.clone(),
                        quantity: q.clone(),
                        unit_price: pr.clone(),
                        discount: d.clone(),
                    })
                    .collect(),
            )
        },
        price_comment: get(pairs, "price_comment").into(),
        custom: Some(karta_webkit::ui::custom::from_pairs(pairs)),
    };
    Ok((input, FormState { f, contacts, lines, errors }))
}

async fn save(st: AppState, u: PageUser, id: Option<String>, pairs: Pairs) -> PageResult {
    let now = st.clock.now();
    let (input, mut fs) = input_from(&st, &u, &pairs).await?;
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    let id_s = id.clone().unwrap_or_default();
    if !fs.errors.is_empty() {
        return form_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, &id_s, version, fs).await;
    }
    let r = match &id {
        None => deals::create(&st.db, &u.p.ctx, now, &input).await,
        Some(id) => deals::update(&st.db, &u.p.ctx, now, id, version, &input).await,
    };
    Ok(match r {
        Ok(d) => {
            // A handover may have given the deal away: then there is nothing more to see.
            let to = if deals::get(&st.db, &u.p.ctx, &d.id, now).await.is_ok() {
                format!("/deals/{}", d.id)
            } else {
                "/deals?done=1".to_string()
            };
            Redirect::to(&to).into_response()
        }
        Err(StoreError::Invalid(errs)) => {
            fs.errors = errs;
            form_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, &id_s, version, fs).await?
        }
        Err(StoreError::Stale { current, changes }) => {
            fs.errors = changes.iter().map(|c| FieldError::new(c.field.clone(), "changed_meanwhile")).collect();
            if fs.errors.is_empty() {
                fs.errors.push(FieldError::new("title", "changed_meanwhile"));
            }
            form_page(&st, &u, StatusCode::CONFLICT, &id_s, current, fs).await?
        }
        Err(e) => error_page(&u, &e),
    })
}

/// POST /deals
async fn create(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> PageResult {
    save(st, u, None, pairs).await
}

/// POST /deals/{id}
async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> PageResult {
    save(st, u, Some(id), pairs).await
}

#[derive(Template)]
#[template(path = "deal_move.html")]
struct MovePage {
    l: Layout,
    id: String,
    stage_id: String,
    stage: String,
    version: i64,
    back: String,
    missing: Vec<(String, String)>,
    needs_page: bool,
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

fn safe_back(back: &str, id: &str) -> String {
    if karta_webkit::ui::pages::is_local_path(back) {
        back.to_string()
    } else {
        format!("/deals/{id}")
    }
}

/// POST /deals/{id}/move — the board's drag and drop (JSON) and the stage selects (forms).
async fn move_to(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> PageResult {
    let (t, now) = (u.t, st.clock.now());
    let json = wants_json(&headers);
    let m = MoveInput {
        stage_id: get(&pairs, "stage_id").into(),
        version: get(&pairs, "version").parse().ok(),
        amount: get(&pairs, "amount").into(),
        close_date: get(&pairs, "close_date").into(),
        next_step: get(&pairs, "next_step").into(),
        account_id: String::new(),
        source: get(&pairs, "source").into(),
    };
    let back = safe_back(get(&pairs, "back"), &id);
    Ok(match deals::move_to(&st.db, &u.p.ctx, now, &id, &m).await {
        Ok(d) if json => Json(json!({"ok": true, "deal": d})).into_response(),
        Ok(_) => Redirect::to(&back).into_response(),
        Err(StoreError::Invalid(errs)) if errs.iter().any(|e| e.code == "required_for_stage") => {
            let missing: Vec<(String, String)> =
                errs.iter().map(|e| (e.field.clone(), t.f(&e.field).to_string())).collect();
            if json {
                let errors: serde_json::Map<String, serde_json::Value> =
                    errs.iter().map(|e| (e.field.clone(), json!(t.err(e.code)))).collect();
                let names: Vec<&String> = missing.iter().map(|(f, _)| f).collect();
                let labels: serde_json::Map<String, serde_json::Value> =
                    missing.iter().map(|(f, l)| (f.clone(), json!(l))).collect();
                return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({"ok": false, "missing": names, "errors": errors, "labels": labels})),
                )
                    .into_response());
            }
            let pipes = pipelines::list(&st.db, &u.p.ctx).await?;
            let needs_page = missing.iter().any(|(f, _)| matches!(f.as_str(), "account_id" | "contacts" | "lines"));
            let tpl = MovePage {
                l: Layout::new(t, &u.p, t.s("deal.move.title"), "deals"),
                stage: stage_name(t, &pipes, &m.stage_id),
                id,
                stage_id: m.stage_id,
                version: m.version.unwrap_or(0),
                back,
                missing,
                needs_page,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &tpl)
        }
        Err(StoreError::Stale { .. }) if json => {
            (StatusCode::CONFLICT, Json(json!({"ok": false, "stale": true}))).into_response()
        }
        Err(StoreError::Stale { .. }) => message_page(t, StatusCode::CONFLICT, t.s("deal.msg.stale")),
        Err(StoreError::Invalid(errs)) if json => {
            // A value typed while moving was bad: say which, so the dialog can mark it.
            let errors: serde_json::Map<String, serde_json::Value> =
                errs.iter().map(|e| (e.field.clone(), json!(t.err(e.code)))).collect();
            (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"ok": false, "missing": [], "errors": errors})))
                .into_response()
        }
        Err(e) if json => {
            let status = match e {
                StoreError::NotFound => StatusCode::NOT_FOUND,
                StoreError::Forbidden => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %e, "move failed");
            }
            (status, Json(json!({"ok": false}))).into_response()
        }
        Err(e) => error_page(&u, &e),
    })
}

/// POST /deals/{id}/close
async fn close(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(pairs): Form<Pairs>) -> Response {
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    let outcome = match get(&pairs, "outcome") {
        "won" => Outcome::Won,
        _ => Outcome::Lost {
            reason_id: get(&pairs, "lost_reason_id").into(),
            text: get(&pairs, "lost_reason_text").into(),
        },
    };
    match deals::close(&st.db, &u.p.ctx, st.clock.now(), &id, version, &outcome).await {
        Ok(d) => Redirect::to(&format!("/deals/{}?m={}", d.id, d.status)).into_response(),
        Err(StoreError::Invalid(errs)) if errs.iter().any(|e| e.field == "lost_reason_id") => {
            Redirect::to(&format!("/deals/{id}?m=reason")).into_response()
        }
        Err(StoreError::Stale { .. }) => message_page(u.t, StatusCode::CONFLICT, u.t.s("deal.msg.stale")),
        Err(e) => error_page(&u, &e),
    }
}

/// POST /deals/{id}/reopen
async fn reopen(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(pairs): Form<Pairs>) -> Response {
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    match deals::reopen(&st.db, &u.p.ctx, st.clock.now(), &id, version, get(&pairs, "stage_id")).await {
        Ok(d) => Redirect::to(&format!("/deals/{}?m=reopened", d.id)).into_response(),
        Err(StoreError::Stale { .. }) => message_page(u.t, StatusCode::CONFLICT, u.t.s("deal.msg.stale")),
        Err(e) => error_page(&u, &e),
    }
}

/// POST /deals/{id}/delete
async fn delete(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match deals::set_trashed(&st.db, &u.p.ctx, st.clock.now(), &id, true).await {
        Ok(()) => Redirect::to("/deals?done=1").into_response(),
        Err(e) => error_page(&u, &e),
    }
}

/// POST /deals/{id}/restore
async fn restore(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match deals::set_trashed(&st.db, &u.p.ctx, st.clock.now(), &id, false).await {
        Ok(()) => Redirect::to(&format!("/deals/{id}")).into_response(),
        Err(e) => error_page(&u, &e),
    }
}

/// The deal pages.
pub fn router() -> Pages {
    Pages::new()
        .get("/deals", list)
        .post("/deals", create)
        .get("/deals/new", new_form)
        .post("/deals/bulk", bulk)
        .get("/deals/{id}", view)
        .post("/deals/{id}", update)
        .get("/deals/{id}/edit", edit_form)
        .post("/deals/{id}/move", move_to)
        .post("/deals/{id}/close", close)
        .post("/deals/{id}/reopen", reopen)
        .post("/deals/{id}/delete", delete)
        .post("/deals/{id}/restore", restore)
}
