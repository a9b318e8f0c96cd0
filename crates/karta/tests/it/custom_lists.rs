//! Custom fields in the list pages: `cf.<key>` columns with the label in the user's language
//! and the value escaped, filters (flat and in groups), sort and keyset paging on them, the
//! column chooser and filter builder offering them, and saved views that filter, sort and show
//! custom fields through the UI and the API.

use crate::common::{Client, Kind, Resp, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn field(api: &Client, body: Value) {
    let r = api.post("/api/v1/custom-fields", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
}

async fn contact(api: &Client, last: &str, custom: Value) {
    let r = api.post("/api/v1/contacts", &json!({"last_name": last, "custom": custom})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
}

/// The names of the list page's rows, in order.
fn rows(page: &Resp) -> Vec<String> {
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    page.text
        .split("<td class=\"name\"><a href=\"")
        .skip(1)
        .map(|s| {
            let s = &s[s.find('>').unwrap() + 1..];
            s[..s.find('<').unwrap()].to_string()
        })
        .collect()
}

/// The header labels of the list page.
fn headers(page: &Resp) -> Vec<String> {
    let head = &page.text[page.text.find("<thead>").unwrap() + 7..page.text.find("</thead>").unwrap()];
    head.split("<th")
        .skip(2)
        .map(|s| {
            let s = &s[s.find("<a href=\"").unwrap()..];
            let s = &s[s.find("\">").unwrap() + 2..];
            s[..s.find('<').unwrap()].trim_end_matches([' ', '▲', '▼']).to_string()
        })
        .collect()
}

fn api_names(r: &Resp) -> Vec<String> {
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["last_name"].as_str().or(c["title"].as_str()).unwrap_or_default().to_string())
        .collect()
}

/// A form field's value as the page shows it (HTML entities undone).
fn field_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = page.find(&marker).unwrap_or_else(|| panic!("no field {name}"));
    let rest = &page[i + marker.len()..];
    let raw = &rest[..rest.find('"').unwrap()];
    let mut out = String::new();
    let mut it = raw.split('&');
    out.push_str(it.next().unwrap_or_default());
    for part in it {
        let (ent, tail) = part.split_once(';').expect("an entity");
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e => {
                let n = e
                    .strip_prefix("#x")
                    .map_or_else(|| e[1..].parse().unwrap(), |h| u32::from_str_radix(h, 16).unwrap());
                char::from_u32(n).unwrap()
            }
        };
        out.push(c);
        out.push_str(tail);
    }
    out
}

async fn setup(app: &TestApp) -> Client {
    let admin = app.api("acme", "admin@acme.test").await;
    field(&admin, json!({"entity": "contact", "kind": "number", "label_en": "Budget", "label_ru": "Бюджет"})).await;
    field(
        &admin,
        json!({"entity": "contact", "kind": "select", "label_en": "Tier", "label_ru": "Уровень",
               "options": ["Gold", "Silver"]}),
    )
    .await;
    field(&admin, json!({"entity": "contact", "kind": "text", "label_en": "Note", "label_ru": "Заметка"})).await;
    contact(&admin, "Ivanov", json!({"budget": 300, "tier": "Gold", "note": "<b>bold</b>"})).await;
    contact(&admin, "Petrov", json!({"budget": 50.5, "tier": "Silver"})).await;
    contact(&admin, "Sidorov", json!({"budget": 1000, "tier": "Gold"})).await;
    contact(&admin, "Kuznetsov", json!({})).await;
    admin
}

#[engines]
async fn the_contact_list_shows_filters_and_sorts_by_custom_columns(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = setup(&app).await;
    let b = app.browser("admin@acme.test").await;

    let page = b.get("/contacts?cols=cf.budget,cf.tier,cf.note&filter=cf.tier:eq:Gold&sort=-cf.budget").await;
    assert_eq!(rows(&page), ["Sidorov", "Ivanov"]);
    assert_eq!(headers(&page), ["Name", "Budget", "Tier", "Note"]);
    let d = page.doc();
    assert_eq!(d.texts("table.list tbody tr:nth-child(1) td:not(.sel)"), ["Sidorov", "1000", "Gold", ""]);
    let ivanov = d.texts("table.list tbody tr:nth-child(2) td:not(.sel)");
    assert_eq!(ivanov, ["Ivanov", "300", "Gold", "<b>bold</b>"], "custom values are escaped");
    assert_eq!(d.count("table.list b"), 0, "custom values are escaped");
    // The sorted custom column is marked and its link turns the order around.
    assert_eq!(d.text("th[aria-sort=descending]"), "Budget ▼");
    let sort_links = d.attrs("th[aria-sort=descending] a", "href");
    assert!(
        sort_links.len() == 1 && sort_links[0].starts_with("/contacts?filter=cf.tier%3Aeq%3AGold&sort=cf.budget&"),
        "{sort_links:?}"
    );
    // The column chooser and the filter builder offer the custom fields.
    assert_eq!(d.count("input[name=col][value='cf.budget'][checked]"), 1, "{}", page.text);
    assert_eq!(d.count("input[name=col][value='cf.tier'][checked]"), 1);
    assert_eq!(d.texts("select[name=f] option[value='cf.tier'][selected]"), ["Tier"], "{}", page.text);
    assert!(d.texts("select[name=f] option[value='cf.budget']:not([selected])").contains(&"Budget".to_string()));

    // Ascending: records without a value first; keyset paging continues after a cursor.
    let page = b.get("/contacts?cols=cf.budget&sort=cf.budget").await;
    assert_eq!(rows(&page), ["Kuznetsov", "Petrov", "Ivanov", "Sidorov"]);
    let first = admin.get("/api/v1/contacts?sort=cf.budget&limit=2").await.json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let page = b.get(&format!("/contacts?cols=cf.budget&sort=cf.budget&after={cursor}")).await;
    assert_eq!(rows(&page), ["Ivanov", "Sidorov"]);
    let first_page = page.doc().attrs("nav.pager a:not([rel=next])", "href");
    assert!(
        first_page.len() == 1 && first_page[0].contains("sort=cf.budget&cols=cf.budget"),
        "the first-page link keeps the sort: {first_page:?}"
    );

    // The filter form (field/op/value rows) and OR groups take custom fields.
    let page = b.get("/contacts?f=cf.budget&op=gte&v=100&sort=cf.budget").await;
    assert_eq!(rows(&page), ["Ivanov", "Sidorov"]);
    let page = b.get("/contacts?g1=cf.tier:eq:Silver&g1=cf.budget:gte:1000&g1_any=1&sort=cf.budget").await;
    assert_eq!(rows(&page), ["Petrov", "Sidorov"]);
    let page = b.get("/contacts?g1_f=cf.tier&g1_op=eq&g1_v=Silver").await;
    assert_eq!(rows(&page), ["Petrov"]);

    // A field the tenant does not have is reported, not run; its column is dropped.
    let page = b.get("/contacts?filter=cf.nope:eq:1&cols=cf.nope,cf.budget").await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    let alerts = page.doc().texts("[role=alert]");
    assert!(alerts.iter().any(|a| a.contains("cf.nope:eq:1")), "{alerts:?}");
    assert_eq!(headers(&page), ["Name", "Budget"]);

    // Russian labels for Russian users.
    let page = b
        .send(reqwest::Method::GET, "/contacts?cols=cf.budget,cf.tier", None, &[("accept-language", "ru-RU,ru")])
        .await;
    assert_eq!(headers(&page)[1..], ["Бюджет", "Уровень"]);
    assert!(page.doc().texts("select[name=f] option[value='cf.budget']").contains(&"Бюджет".to_string()));
    app.finish().await;
}

#[engines]
async fn a_saved_view_with_custom_filters_sort_and_columns_applies_in_the_ui_and_the_api(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = setup(&app).await;
    // Through the API.
    let r = admin
        .post(
            "/api/v1/views",
            &json!({"entity": "contact", "name": "Gold budgets", "filters": ["cf.tier:eq:Gold"],
                    "sort": "cf.budget", "desc": true, "columns": ["cf.budget", "cf.tier"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    assert_eq!(api_names(&admin.get("/api/v1/contacts?view=Gold%20budgets").await), ["Sidorov", "Ivanov"]);
    let r = admin.get("/api/v1/contacts?view=Gold%20budgets&filter=cf.budget:lte:500").await;
    assert_eq!(api_names(&r), ["Ivanov"], "explicit filters add to the view's");
    let b = app.browser("admin@acme.test").await;
    let page = b.get("/contacts?view=Gold%20budgets").await;
    assert_eq!(rows(&page), ["Sidorov", "Ivanov"]);
    assert_eq!(headers(&page), ["Name", "Budget", "Tier"]);
    // Views naming fields the tenant does not have are refused, naming the part.
    for (part, body) in [
        ("filters", json!({"entity": "contact", "name": "x1", "filters": ["cf.nope:eq:1"]})),
        ("filters", json!({"entity": "contact", "name": "x2", "filters": ["cf.budget:gte:lots"]})),
        ("sort", json!({"entity": "contact", "name": "x3", "sort": "cf.nope"})),
        ("columns", json!({"entity": "contact", "name": "x4", "columns": ["cf.nope"]})),
    ] {
        let r = admin.post("/api/v1/views", &body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.error_fields(), [part], "{}", r.text);
    }

    // Through the list page's "save view" form: the state carries the custom parts.
    let page = b.get("/contacts?cols=cf.tier&g1=cf.budget:lte:100&g1=cf.tier:eq:Gold&g1_any=1&sort=-cf.budget").await;
    assert_eq!(rows(&page), ["Sidorov", "Ivanov", "Petrov"]);
    let state = field_value(&page.text, "state");
    let r = b
        .form(
            "/views",
            &[
                ("_csrf", &page.csrf()),
                ("entity", "contacts"),
                ("name", "Groups"),
                ("visibility", "private"),
                ("state", &state),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let views = admin.get("/api/v1/views?entity=contact").await.json();
    let v = views.as_array().unwrap().iter().find(|v| v["name"] == "Groups").unwrap();
    assert_eq!(v["groups"][0]["filters"], json!(["cf.budget:lte:100", "cf.tier:eq:Gold"]));
    assert_eq!(v["sort"], "cf.budget");
    assert_eq!(v["desc"], true);
    assert_eq!(v["columns"], json!(["cf.tier"]));
    let page = b.get("/contacts?view=Groups").await;
    assert_eq!(rows(&page), ["Sidorov", "Ivanov", "Petrov"]);
    assert_eq!(headers(&page), ["Name", "Tier"]);
    app.finish().await;
}

#[engines]
async fn the_deal_list_shows_and_sorts_a_custom_money_column(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    field(
        &admin,
        json!({"entity": "deal", "kind": "money", "label_en": "Cost", "label_ru": "Стоимость", "options": ["RUB"]}),
    )
    .await;
    for (t, cost) in [("D1", "500"), ("D2", "20 000,50"), ("D3", "")] {
        let r = admin.post("/api/v1/deals", &json!({"title": t, "custom": {"cost": cost}})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    }
    let b = app.browser("admin@acme.test").await;
    let page = b.get("/deals?cols=stage,cf.cost&sort=-cf.cost").await;
    assert_eq!(rows(&page), ["D2", "D1", "D3"]);
    assert_eq!(headers(&page)[1..], ["Stage", "Cost"]);
    let shown = karta_core::Money::new(2_000_050, karta_core::Currency::parse("RUB", "c").unwrap()).format("en");
    let cells = page.doc().texts("table.list tbody td");
    assert!(cells.contains(&shown), "{shown} in {cells:?}");
    let page = b.get("/deals?filter=cf.cost:gte:1000&cols=cf.cost").await;
    assert_eq!(rows(&page), ["D2"]);
    assert_eq!(page.doc().count("input[name=col][value='cf.cost'][checked]"), 1);
    app.finish().await;
}
