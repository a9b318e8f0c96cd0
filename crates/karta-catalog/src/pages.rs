//! The product and service catalogue: everyone reads and searches it; admins and sales
//! managers add and change products and their prices per currency.

use crate::store::{self as products, PriceInput, Product, ProductInput, BASE};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::{Action, Currency, Entity};
use karta_kernel::StoreError;
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::ui::form::Edit;
use karta_webkit::ui::list::{enc, error_page};
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::ui::pages::{money, plain_id};
use karta_webkit::AppState;
use std::collections::BTreeMap;

type Pairs = Vec<(String, String)>;

/// Products shown on the list at most.
const LIMIT: i64 = 500;
/// Empty price rows offered on the form.
const EMPTY_ROWS: usize = 3;

fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// A product row of the list.
pub struct ProductRow {
    /// Id.
    pub id: String,
    /// SKU.
    pub sku: String,
    /// Name in the user's language.
    pub name: String,
    /// Group.
    pub group: String,
    /// Unit.
    pub unit: String,
    /// Product or service, for people.
    pub kind: String,
    /// Active.
    pub active: bool,
    /// Prices, formatted (`price list: ` before non-base ones).
    pub prices: Vec<String>,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ListPage {
    l: Layout,
    q: String,
    rows: Vec<ProductRow>,
    can_edit: bool,
    capped: bool,
    done: bool,
}

/// A price row of the form.
pub struct PriceRow {
    /// Index in the form (`prices[i].…`).
    pub i: usize,
    /// Price list (kept as is; empty or `base` for the base list).
    pub list: String,
    /// Currency code.
    pub currency: String,
    /// Price as typed.
    pub price: String,
    /// Error on the currency.
    pub err_currency: String,
    /// Error on the price.
    pub err_price: String,
}

#[derive(Template)]
#[template(path = "products_form.html")]
struct FormPage {
    l: Layout,
    id: String,
    f: Edit,
    prices: Vec<PriceRow>,
    currencies: Vec<&'static str>,
    error_list: Vec<String>,
}

fn can_edit(u: &PageUser) -> bool {
    u.p.ctx.scope(Entity::Product, Action::Create).is_ok()
}

fn kind_label(t: Tr, kind: &str) -> String {
    t.s(if kind == "service" { "products.service" } else { "products.product" }).to_string()
}

fn row(t: Tr, p: &Product) -> ProductRow {
    let lang = t.code();
    ProductRow {
        id: p.id.clone(),
        sku: p.sku.clone(),
        name: p.name(lang).to_string(),
        group: p.product_group.clone(),
        unit: p.unit.clone(),
        kind: kind_label(t, &p.kind),
        active: p.active,
        prices: p
            .prices
            .iter()
            .map(|x| {
                let m = money(x.price_minor, &x.currency, lang);
                if x.price_list == BASE {
                    m
                } else {
                    format!("{}: {m}", x.price_list)
                }
            })
            .collect(),
    }
}

/// GET /products?q=
pub async fn list(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> Response {
    let t = u.t;
    let q: String = get(&pairs, "q").chars().take(200).collect();
    let items = match products::list(&st.db, &u.p.ctx, &q, false, LIMIT).await {
        Ok(i) => i,
        Err(e) => return error_page(&u, &e),
    };
    let tpl = ListPage {
        l: Layout::new(t, &u.p, t.s("nav.products"), "products"),
        capped: items.len() as i64 >= LIMIT,
        rows: items.iter().map(|p| row(t, p)).collect(),
        q,
        can_edit: can_edit(&u),
        done: get(&pairs, "done") == "saved",
    };
    render(StatusCode::OK, &tpl)
}

/// Currencies for new rows: those not priced yet, in the usual order.
fn spare_currencies(used: &[String]) -> impl Iterator<Item = &'static str> + '_ {
    Currency::ALL.into_iter().map(Currency::code).filter(move |c| !used.iter().any(|u| u == c))
}

fn rows_of(p: Option<&Product>) -> Vec<PriceRow> {
    let mut rows: Vec<PriceRow> = p
        .map(|p| {
            p.prices
                .iter()
                .enumerate()
                .map(|(i, x)| PriceRow {
                    i,
                    list: x.price_list.clone(),
                    currency: x.currency.clone(),
                    price: x.price.clone(),
                    err_currency: String::new(),
                    err_price: String::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    let used: Vec<String> = rows.iter().map(|r| r.currency.clone()).collect();
    let n = rows.len();
    rows.extend(spare_currencies(&used).take(EMPTY_ROWS).enumerate().map(|(k, c)| PriceRow {
        i: n + k,
        list: String::new(),
        currency: c.to_string(),
        price: String::new(),
        err_currency: String::new(),
        err_price: String::new(),
    }));
    rows
}

fn form_page(
    u: &PageUser,
    id: &str,
    f: Edit,
    prices: Vec<PriceRow>,
    error_list: Vec<String>,
    status: StatusCode,
) -> Response {
    let t = u.t;
    let title = if id.is_empty() { t.s("products.new") } else { t.s("products.edit") };
    let tpl = FormPage {
        l: Layout::new(t, &u.p, title, "products"),
        id: id.to_string(),
        f,
        prices,
        currencies: Currency::ALL.into_iter().map(Currency::code).collect(),
        error_list,
    };
    render(status, &tpl)
}

/// GET /products/new
pub async fn new_form(u: PageUser) -> Response {
    if !can_edit(&u) {
        return message_page(u.t, StatusCode::FORBIDDEN, u.t.s("error.forbidden"));
    }
    let mut f = Edit::default();
    f.set("active", "on");
    f.set("kind", "product");
    form_page(&u, "", f, rows_of(None), Vec::new(), StatusCode::OK)
}

/// GET /products/{id}/edit
pub async fn edit_form(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    if u.p.ctx.scope(Entity::Product, Action::Update).is_err() {
        return message_page(u.t, StatusCode::FORBIDDEN, u.t.s("error.forbidden"));
    }
    let p = match products::get(&st.db, &u.p.ctx, &id).await {
        Ok(p) => p,
        Err(e) => return error_page(&u, &e),
    };
    let mut f = Edit::default();
    for (k, v) in [
        ("sku", &p.sku),
        ("name_ru", &p.name_ru),
        ("name_en", &p.name_en),
        ("unit", &p.unit),
        ("product_group", &p.product_group),
        ("kind", &p.kind),
    ] {
        f.set(k, v.clone());
    }
    if p.active {
        f.set("active", "on");
    }
    form_page(&u, &id, f, rows_of(Some(&p)), Vec::new(), StatusCode::OK)
}

/// GET /products/{id}: the edit form for those who may edit, else the list at the product.
pub async fn view(u: PageUser, Path(id): Path<String>) -> Response {
    if !plain_id(&id) {
        return message_page(u.t, StatusCode::NOT_FOUND, u.t.s("error.not_found"));
    }
    if u.p.ctx.scope(Entity::Product, Action::Read).is_err() {
        return message_page(u.t, StatusCode::FORBIDDEN, u.t.s("error.forbidden"));
    }
    if can_edit(&u) {
        Redirect::to(&format!("/products/{id}/edit")).into_response()
    } else {
        Redirect::to(&format!("/products#p-{id}")).into_response()
    }
}

/// The submitted price rows by form index: (list, currency, price).
fn submitted_rows(pairs: &Pairs) -> BTreeMap<usize, (String, String, String)> {
    let mut rows: BTreeMap<usize, (String, String, String)> = BTreeMap::new();
    for (k, v) in pairs {
        let Some(rest) = k.strip_prefix("prices[") else { continue };
        let Some((idx, field)) = rest.split_once("].") else { continue };
        let Ok(i) = idx.parse::<usize>() else { continue };
        if i >= 200 {
            continue;
        }
        let r = rows.entry(i).or_default();
        match field {
            "price_list" => r.0 = v.clone(),
            "currency" => r.1 = v.clone(),
            "price" => r.2 = v.clone(),
            _ => {}
        }
    }
    rows
}

async fn save(st: AppState, u: PageUser, id: Option<String>, pairs: Pairs) -> Response {
    let t = u.t;
    let rows = submitted_rows(&pairs);
    // Rows without a price are left out (that is how a price is removed); store errors name
    // rows by their place in what was sent, mapped back to the form's rows here.
    let sent: Vec<usize> = rows.iter().filter(|(_, r)| !r.2.trim().is_empty()).map(|(i, _)| *i).collect();
    let input = ProductInput {
        sku: get(&pairs, "sku").to_string(),
        name_ru: get(&pairs, "name_ru").to_string(),
        name_en: get(&pairs, "name_en").to_string(),
        unit: get(&pairs, "unit").to_string(),
        product_group: get(&pairs, "product_group").to_string(),
        kind: get(&pairs, "kind").to_string(),
        active: Some(matches!(get(&pairs, "active"), "on" | "1" | "true")),
        prices: Some(
            sent.iter()
                .filter_map(|i| rows.get(i))
                .map(|(list, cur, price)| PriceInput {
                    price_list: list.clone(),
                    currency: cur.clone(),
                    price: price.clone(),
                })
                .collect(),
        ),
    };
    let res = match &id {
        None => products::create(&st.db, &u.p.ctx, &input).await,
        Some(id) => products::update(&st.db, &u.p.ctx, id, &input).await,
    };
    let errs = match res {
        Ok(p) => return Redirect::to(&format!("/products?done=saved#p-{}", enc(&p.id))).into_response(),
        Err(StoreError::Invalid(errs)) => errs,
        Err(StoreError::Conflict(c)) if c == "sku" => {
            vec![karta_core::FieldError::new("sku", "sku_taken")]
        }
        Err(e) => return error_page(&u, &e),
    };
    let conflict = errs.iter().any(|e| e.code == "sku_taken");
    let mut f = Edit::from_pairs(&pairs);
    let mut prices: Vec<PriceRow> = rows
        .iter()
        .map(|(i, (list, cur, price))| PriceRow {
            i: *i,
            list: list.clone(),
            currency: cur.clone(),
            price: price.clone(),
            err_currency: String::new(),
            err_price: String::new(),
        })
        .collect();
    let mut list = Vec::new();
    for e in &errs {
        let msg = if e.code == "sku_taken" { t.s("products.sku_taken") } else { t.err(e.code) };
        if let Some(rest) = e.field.strip_prefix("prices[") {
            let (j, field) = rest.split_once("].").unwrap_or(("", ""));
            let form_i = j.parse::<usize>().ok().and_then(|j| sent.get(j).copied());
            if let Some(r) = form_i.and_then(|fi| prices.iter_mut().find(|r| r.i == fi)) {
                let pos = r.i + 1;
                if field == "currency" {
                    r.err_currency = msg.to_string();
                    list.push(format!("{} #{pos}: {msg}", t.f("currency")));
                } else {
                    r.err_price = msg.to_string();
                    list.push(format!("{} #{pos}: {msg}", t.f("price")));
                }
                continue;
            }
        }
        f.error(&e.field, msg);
        let label = t.f(&e.field);
        list.push(if label.is_empty() { msg.to_string() } else { format!("{label}: {msg}") });
    }
    let status = if conflict { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    form_page(&u, id.as_deref().unwrap_or_default(), f, prices, list, status)
}

/// POST /products
pub async fn create(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> Response {
    save(st, u, None, pairs).await
}

/// POST /products/{id}
pub async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    save(st, u, Some(id), pairs).await
}
