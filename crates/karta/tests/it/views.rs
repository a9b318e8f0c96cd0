//! Saved views and mass update: AND/OR filter groups, who sees a view, who may change it,
//! pinned views in the navigation, applying a view by name, views never widening what a user
//! may see, and setting a field on a selection with every record checked and audited.

use crate::common::{Client, Kind, Resp, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The last names of a list answer, sorted.
fn names(r: &Resp) -> Vec<String> {
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let mut v: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["first_name"].as_str().or(i["title"].as_str()).unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

async fn user_id(app: &TestApp, email: &str) -> String {
    app.api("acme", email).await.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string()
}

async fn contact(c: &Client, body: Value) -> String {
    let r = c.post("/api/v1/contacts", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn new_view(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/views", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()
}

fn view_names(r: &Resp) -> Vec<String> {
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let mut v: Vec<String> =
        r.json().as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
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

#[engines]
async fn or_groups_find_records_that_and_groups_do_not(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    for (first, industry, source) in
        [("A", "IT", "web"), ("B", "IT", "fair"), ("C", "Retail", "web"), ("D", "Retail", "fair")]
    {
        contact(&c, json!({"first_name": first, "last_name": "Группов", "industry": industry, "source": source})).await;
    }
    contact(&c, json!({"first_name": "E", "last_name": "Чужой", "industry": "IT", "source": "web"})).await;
    let base = "/api/v1/contacts?filter=last_name:eq:Группов";
    // One group: all of its conditions, or any of them.
    let all = c.get(&format!("{base}&g1=industry:eq:IT&g1=source:eq:web")).await;
    assert_eq!(names(&all), ["A"]);
    let any = c.get(&format!("{base}&g1=industry:eq:IT&g1=source:eq:web&g1_any=1")).await;
    assert_eq!(names(&any), ["A", "B", "C"], "the flat filter still holds: E is left out");
    // Two groups: every group, or any group.
    let two = format!("{base}&g1=industry:eq:Retail&g2=source:eq:fair");
    assert_eq!(names(&c.get(&two).await), ["D"]);
    assert_eq!(names(&c.get(&format!("{two}&match=any")).await), ["B", "C", "D"]);
    // A malformed group condition is named.
    let r = c.get(&format!("{base}&g1=industry")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.error_fields(), ["g1"]);

    // The same through the filter form of the HTML list, without JavaScript.
    let ui = app.browser("admin@acme.test").await;
    let page = ui
        .get(
            "/contacts?f=last_name&op=eq&v=%D0%93%D1%80%D1%83%D0%BF%D0%BF%D0%BE%D0%B2\
             &g1_f=industry&g1_op=eq&g1_v=IT&g1_f=source&g1_op=eq&g1_v=web&g1_any=1&g1_f=&g1_op=contains&g1_v=\
             &match=all&g2_any=0&g2_f=&g2_op=contains&g2_v=",
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    let d = page.doc();
    let rows = d.count("table.list td.name");
    assert_eq!(rows, 3, "A, B and C");
    assert_eq!(d.count("select[name=g1_any]"), 1, "the group is shown for further editing");
    let sort_links = d.attrs("table.list thead th a", "href");
    assert!(
        !sort_links.is_empty() && sort_links.iter().all(|h| h.contains("g1=industry%3Aeq%3AIT")),
        "sort links keep the groups: {sort_links:?}"
    );

    // Deals take groups too.
    let s = app.api("acme", "sales1@acme.test").await;
    for (title, source, step) in [("Alpha", "web", "call"), ("Beta", "fair", "call"), ("Gamma", "fair", "mail")] {
        let r = s.post("/api/v1/deals", &json!({"title": title, "source": source, "next_step": step})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    }
    let r = s.get("/api/v1/deals?g1=source:eq:web&g1=next_step:eq:mail&g1_any=1").await;
    assert_eq!(names(&r), ["Alpha", "Gamma"]);
    app.finish().await;
}

#[engines]
async fn a_view_is_seen_by_its_owner_their_team_or_the_whole_company_as_chosen(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let mgr = app.api("acme", "manager@acme.test").await;
    let admin = app.api("acme", "admin@acme.test").await;
    let private =
        new_view(&s1, json!({"entity": "contact", "name": "Мои VIP", "filters": ["tag:eq:vip"], "pinned": true})).await;
    assert_eq!(private["visibility"], "private");
    new_view(&s1, json!({"entity": "contact", "name": "Команда", "visibility": "team", "pinned": true})).await;
    new_view(&s1, json!({"entity": "contact", "name": "Все москвичи", "visibility": "tenant", "pinned": true,
                          "filters": ["city:eq:Москва"], "sort": "updated_at", "desc": true, "columns": ["city", "owner"]}))
    .await;
    new_view(&s1, json!({"entity": "account", "name": "Клиенты", "visibility": "tenant", "filters": ["relationship:eq:customer"]}))
        .await;

    assert_eq!(view_names(&s1.get("/api/v1/views?entity=contact").await), ["Все москвичи", "Команда", "Мои VIP"]);
    assert_eq!(view_names(&mgr.get("/api/v1/views?entity=contact").await), ["Все москвичи", "Команда"], "same team");
    assert_eq!(view_names(&s2.get("/api/v1/views?entity=contact").await), ["Все москвичи"], "no team");
    assert_eq!(view_names(&s2.get("/api/v1/views?entity=account").await), ["Клиенты"]);
    let pid = private["id"].as_str().unwrap();
    assert_eq!(s2.get(&format!("/api/v1/views/{pid}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s2.get(&format!("/api/v1/contacts?view={pid}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s2.get(&format!("/api/v1/contacts?view={}", enc("Мои VIP"))).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s2.get("/api/v1/views?entity=product").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Another company never sees them.
    let other = app.api("globex", "admin@globex.test").await;
    assert!(view_names(&other.get("/api/v1/views?entity=contact").await).is_empty());
    assert_eq!(other.get(&format!("/api/v1/views/{pid}")).await.status(), StatusCode::NOT_FOUND);

    // A team view needs a team; names are unique per owner and list; bad queries are named.
    let r = s2.post("/api/v1/views", &json!({"entity": "contact", "name": "X", "visibility": "team"})).await;
    assert_eq!(r.error_fields(), ["visibility"]);
    let r = s1.post("/api/v1/views", &json!({"entity": "contact", "name": "Команда"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = s1
        .post("/api/v1/views", &json!({"entity": "contact", "name": "Y", "filters": ["nope:eq:1"], "sort": "nope"}))
        .await;
    let mut f = r.error_fields();
    f.sort();
    assert_eq!(f, ["filters", "sort"]);
    assert!(admin.get("/api/v1/views?entity=contact").await.status().is_success());

    // Pinned views appear in the navigation of whoever sees them.
    let pinned = "nav.side li.pinned-view a";
    let has = |nav: &[String], n: &str| nav.iter().any(|p| p.contains(n));
    let nav1 = app.browser("sales1@acme.test").await.get("/my-day").await.doc().texts(pinned);
    for n in ["Мои VIP", "Команда", "Все москвичи"] {
        assert!(has(&nav1, n), "{n} pinned for its owner: {nav1:?}");
    }
    let nav_mgr = app.browser("manager@acme.test").await.get("/my-day").await.doc().texts(pinned);
    assert!(has(&nav_mgr, "Команда") && has(&nav_mgr, "Все москвичи") && !has(&nav_mgr, "Мои VIP"), "{nav_mgr:?}");
    let page2 = app.browser("sales2@acme.test").await.get("/contacts").await.doc();
    let nav2 = page2.texts(pinned);
    assert!(has(&nav2, "Все москвичи") && !has(&nav2, "Команда") && !has(&nav2, "Мои VIP"), "{nav2:?}");
    let offered2 = page2.texts("#view-select option");
    assert!(!has(&offered2, "Команда") && !has(&offered2, "Мои VIP"), "{offered2:?}");
    let hrefs2 = page2.attrs(pinned, "href");
    assert!(!hrefs2.is_empty() && hrefs2.iter().all(|h| h.starts_with("/contacts?view=")), "{hrefs2:?}");
    app.finish().await;
}

#[engines]
async fn only_the_owner_or_an_admin_changes_or_deletes_a_view(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let admin = app.api("acme", "admin@acme.test").await;
    let v = new_view(
        &s1,
        json!({"entity": "deal", "name": "Открытые", "visibility": "tenant", "filters": ["status:eq:open"]}),
    )
    .await;
    assert_eq!(v["editable"], true);
    let id = v["id"].as_str().unwrap();
    let path = format!("/api/v1/views/{id}");
    let seen = s2.get(&path).await;
    assert_eq!(seen.status(), StatusCode::OK);
    assert_eq!(seen.json()["editable"], false);
    assert_eq!(s2.patch(&path, &json!({"name": "Моё"}), "\"1\"").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s2.delete(&path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s1.patch(&path, &json!({"name": "Z"}), "").await.status(), StatusCode::BAD_REQUEST);
    let r = s1.send(reqwest::Method::PATCH, &path, Some(&json!({"name": "Z"})), &[]).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_REQUIRED);
    let r = s1.patch(&path, &json!({"name": "Открытые сделки", "pinned": true}), "\"1\"").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["filters"], json!(["status:eq:open"]), "fields not sent are kept");
    assert_eq!(s1.patch(&path, &json!({"name": "Старое"}), "\"1\"").await.status(), StatusCode::PRECONDITION_FAILED);
    let r = admin.patch(&path, &json!({"visibility": "private"}), "\"2\"").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["owner_id"], s1.get("/api/v1/me").await.json()["id"], "the owner stays");
    assert_eq!(s2.get(&path).await.status(), StatusCode::NOT_FOUND, "now private");
    assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(s1.get(&path).await.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

#[engines]
async fn a_view_applied_by_name_shows_each_user_only_what_they_may_see(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let (u1, u2) = (user_id(&app, "sales1@acme.test").await, user_id(&app, "sales2@acme.test").await);
    contact(&admin, json!({"first_name": "Первый", "last_name": "Видимов", "owner_id": u1, "industry": "IT"})).await;
    contact(&admin, json!({"first_name": "Второй", "last_name": "Видимов", "owner_id": u2, "industry": "IT"})).await;
    contact(&admin, json!({"first_name": "Третий", "last_name": "Видимов", "owner_id": u2, "industry": "Retail"}))
        .await;
    new_view(
        &admin,
        json!({"entity": "contact", "name": "Все Видимовы", "visibility": "tenant",
                            "filters": ["last_name:eq:Видимов"], "sort": "first_name", "desc": true}),
    )
    .await;
    let by_name = format!("/api/v1/contacts?view={}", enc("Все Видимовы"));
    let r = admin.get(&by_name).await;
    assert_eq!(names(&r), ["Второй", "Первый", "Третий"]);
    let first = r.json()["items"][0]["first_name"].as_str().unwrap().to_string();
    assert_eq!(first, "Третий", "the view's sort (first name, descending)");
    // A salesperson applying the company-wide view sees only their own records.
    assert_eq!(names(&s2.get(&by_name).await), ["Второй", "Третий"]);
    // Explicit filters add to the view's.
    assert_eq!(names(&s2.get(&format!("{by_name}&filter=industry:eq:IT")).await), ["Второй"]);
    // The caller's private view of the same name comes first.
    new_view(&s2, json!({"entity": "contact", "name": "Все Видимовы", "filters": ["industry:eq:Retail"]})).await;
    assert_eq!(names(&s2.get(&by_name).await), ["Третий"]);
    assert_eq!(names(&admin.get(&by_name).await).len(), 3, "others still get the company's view");
    assert_eq!(admin.get("/api/v1/contacts?view=nope").await.status(), StatusCode::NOT_FOUND);
    // The HTML list applies it the same way.
    let page = app.browser("sales2@acme.test").await.get(&format!("/contacts?view={}", enc("Все Видимовы"))).await;
    assert_eq!(page.status(), StatusCode::OK);
    let shown = page.doc().texts("table.list td.name");
    let has = |n: &str| shown.iter().any(|s| s.contains(n));
    assert!(has("Третий") && !has("Второй") && !has("Первый"), "{shown:?}");
    app.finish().await;
}

#[engines]
async fn mass_update_changes_only_records_the_user_may_change_and_audits_each(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let (u1, u2) = (user_id(&app, "sales1@acme.test").await, user_id(&app, "sales2@acme.test").await);
    let a = contact(&admin, json!({"first_name": "А", "last_name": "Массов", "owner_id": u1})).await;
    let b =
        contact(&admin, json!({"first_name": "Б", "last_name": "Массов", "owner_id": u1, "relationship": "customer"}))
            .await;
    let c = contact(&admin, json!({"first_name": "В", "last_name": "Массов", "owner_id": u2})).await;
    let ids = json!([a, b, c, "no-such-id"]);
    let r = s1
        .post("/api/v1/contacts/mass-update", &json!({"ids": ids, "field": "relationship", "value": "customer"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let rep = r.json();
    assert_eq!(
        (rep["changed"].as_i64(), rep["unchanged"].as_i64(), rep["skipped"].as_i64()),
        (Some(1), Some(1), Some(2))
    );
    assert_eq!(rep["skipped_ids"], json!([c, "no-such-id"]));
    let got = |id: String| {
        let admin = &admin;
        async move { admin.get(&format!("/api/v1/contacts/{id}")).await.json() }
    };
    assert_eq!(got(a.clone()).await["relationship"], "customer");
    assert_eq!(got(c.clone()).await["relationship"], "", "another's record is untouched");
    let hist = admin.get(&format!("/api/v1/contacts/{a}/history")).await.json();
    let upd: Vec<&Value> = hist.as_array().unwrap().iter().filter(|h| h["action"] == "update").collect();
    assert_eq!(upd.len(), 1, "one audit event for the changed record: {hist}");
    assert!(upd[0].to_string().contains("relationship"));
    let hist_b = admin.get(&format!("/api/v1/contacts/{b}/history")).await.json();
    assert!(!hist_b.as_array().unwrap().iter().any(|h| h["action"] == "update"), "unchanged: no event");

    // A bad value is refused naming the field, before anything changes.
    let r = admin
        .post("/api/v1/contacts/mass-update", &json!({"ids": [a, c], "field": "relationship", "value": "friend"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), ["relationship"]);
    let r = admin.post("/api/v1/contacts/mass-update", &json!({"ids": [a], "field": "name", "value": "x"})).await;
    assert_eq!(r.error_fields(), ["field"]);
    let viewer = app.api("acme", "viewer@acme.test").await;
    let r = viewer.post("/api/v1/contacts/mass-update", &json!({"ids": [a], "field": "source", "value": "x"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Flags and tags; and the list page's "Set field" action.
    let r = admin
        .post("/api/v1/contacts/mass-update", &json!({"ids": [a, c], "field": "do_not_email", "value": "true"}))
        .await;
    assert_eq!(r.json()["changed"], 2);
    let ui = app.browser("sales1@acme.test").await;
    let csrf = ui.get("/contacts").await.csrf();
    let r = ui
        .form(
            "/contacts/bulk",
            &[
                ("_csrf", &csrf),
                ("action", "set"),
                ("set_field", "tag_add"),
                ("set_value", "#Осень"),
                ("id", &a),
                ("id", &c),
                ("back", "/contacts?sort=-updated_at"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/contacts?sort=-updated_at&done=1&skipped=1");
    let page = ui.get(&r.header("location")).await.doc();
    assert_eq!(page.count("fieldset.bulk select[name=set_field]"), 1, "the bulk bar offers Set field");
    let ac = got(a.clone()).await;
    assert_eq!(ac["tags"], json!(["осень"]));
    assert_eq!(ac["do_not_email"], true);
    let r =
        admin.post("/api/v1/contacts/mass-update", &json!({"ids": [a], "field": "tag_remove", "value": "ОСЕНЬ"})).await;
    assert_eq!(r.json()["changed"], 1);
    assert_eq!(got(a.clone()).await["tags"], json!([]));

    // Deals: the owner's scope limits which deals change.
    let s2 = app.api("acme", "sales2@acme.test").await;
    let d1 = s1.post("/api/v1/deals", &json!({"title": "Своя"})).await.json()["id"].as_str().unwrap().to_string();
    let d2 = s2.post("/api/v1/deals", &json!({"title": "Чужая"})).await.json()["id"].as_str().unwrap().to_string();
    let r = s1
        .post("/api/v1/deals/mass-update", &json!({"ids": [d1, d2], "field": "close_date", "value": "31.12.2031"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!((r.json()["changed"].as_i64(), r.json()["skipped"].as_i64()), (Some(1), Some(1)));
    assert_eq!(s1.get(&format!("/api/v1/deals/{d1}")).await.json()["close_date"], "2031-12-31");
    assert_eq!(s2.get(&format!("/api/v1/deals/{d2}")).await.json()["close_date"], "");
    let hist = s1.get(&format!("/api/v1/deals/{d1}/history")).await.text;
    assert!(hist.contains("close_date"), "{hist}");
    let r = s1.post("/api/v1/deals/mass-update", &json!({"ids": [d1], "field": "close_date", "value": "soon"})).await;
    assert_eq!(r.error_fields(), ["close_date"]);
    let r = s1.post("/api/v1/deals/mass-update", &json!({"ids": [d1], "field": "owner", "value": u2})).await;
    assert_eq!(r.error_fields(), ["owner_id"], "a salesperson cannot give deals away");
    app.finish().await;
}

#[engines]
async fn a_view_saved_through_the_list_form_reloads_the_list_and_can_be_changed_and_deleted(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    for (first, source) in [("Один", "web"), ("Два", "fair"), ("Три", "call")] {
        contact(&s1, json!({"first_name": first, "last_name": "Формов", "source": source})).await;
    }
    let ui = app.browser("sales1@acme.test").await;
    let list = ui
        .get(&format!(
            "/contacts?f=last_name&op=eq&v={}&g1_f=source&g1_op=eq&g1_v=web&g1_f=source&g1_op=eq&g1_v=fair&g1_any=1&col=source&sort=-first_name",
            enc("Формов")
        ))
        .await;
    assert_eq!(list.status(), StatusCode::OK, "{}", list.text);
    let state = field_value(&list.text, "state");
    assert!(state.contains("g1_any=1") && state.contains("cols=source"), "{state}");
    let r = ui
        .form(
            "/views",
            &[
                ("_csrf", &list.csrf()),
                ("entity", "contacts"),
                ("state", &state),
                ("name", "Веб и выставки"),
                ("visibility", "private"),
                ("pinned", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.header("location");
    assert!(to.starts_with("/contacts?view="), "{to}");
    let v = s1.get("/api/v1/views?entity=contact").await.json()[0].clone();
    assert_eq!(v["name"], "Веб и выставки");
    assert_eq!(v["filters"], json!(["last_name:eq:Формов"]));
    assert_eq!(v["groups"], json!([{"any": true, "filters": ["source:eq:web", "source:eq:fair"]}]));
    assert_eq!((v["sort"].as_str(), v["desc"].as_bool()), (Some("first_name"), Some(true)));
    assert_eq!(v["columns"], json!(["source"]));
    assert_eq!(v["pinned"], true);

    let page = ui.get(&to).await;
    assert_eq!(page.status(), StatusCode::OK);
    let d = page.doc();
    assert_eq!(d.count("table.list td.name"), 2);
    let shown = d.texts("table.list td.name");
    let at = |n: &str| shown.iter().position(|s| s.contains(n));
    assert!(at("Один").is_some() && at("Два").is_some() && at("Три").is_none(), "{shown:?}");
    assert!(at("Один") < at("Два"), "first name descending: {shown:?}");
    assert_eq!(d.texts("#view-select option[selected]"), ["Веб и выставки"], "the selector shows the view");
    let pinned = d.texts("nav.side li.pinned-view a[href^='/contacts?view=']");
    assert!(pinned.contains(&"Веб и выставки".to_string()), "pinned in the menu: {pinned:?}");

    // Change the filters and save them into the view; then delete it.
    let id = v["id"].as_str().unwrap();
    let narrowed =
        ui.get(&format!("/contacts?vid={id}&f=last_name&op=eq&v={}&f=source&op=eq&v=call", enc("Формов"))).await;
    assert_eq!(
        narrowed.doc().count(&format!("form[method=post][action='/views/{id}']")),
        1,
        "the view being edited can be updated"
    );
    let state = field_value(&narrowed.text, "state");
    let r = ui
        .form(
            &format!("/views/{id}"),
            &[("_csrf", &list.csrf()), ("state", &state), ("name", "Звонки"), ("visibility", "tenant")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let v = s1.get(&format!("/api/v1/views/{id}")).await.json();
    assert_eq!(
        (v["name"].as_str(), v["visibility"].as_str(), v["pinned"].as_bool()),
        (Some("Звонки"), Some("tenant"), Some(false))
    );
    assert_eq!(v["groups"], json!([]));
    let page = ui.get(&r.header("location")).await;
    assert_eq!(page.doc().count("table.list td.name"), 1);
    // Another user may not change it through the form.
    let ui2 = app.browser("sales2@acme.test").await;
    let c2 = ui2.get("/contacts").await.csrf();
    let r = ui2.form(&format!("/views/{id}/delete"), &[("_csrf", &c2)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = ui.form(&format!("/views/{id}/delete"), &[("_csrf", &list.csrf())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(s1.get("/api/v1/views?entity=contact").await.json().as_array().unwrap().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn the_api_document_describes_views_groups_and_mass_update() {
    let app = TestApp::spawn(crate::common::Kind::Sqlite).await;
    let c = app.api("acme", "admin@acme.test").await;
    let doc = c.get("/api/v1/openapi.json").await.json();
    for p in ["/api/v1/views", "/api/v1/views/{id}", "/api/v1/{kind}/mass-update"] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing");
    }
    let params = doc["paths"]["/api/v1/{kind}"]["get"]["parameters"].to_string();
    for p in ["\"g1\"", "\"g1_any\"", "\"match\"", "\"view\""] {
        assert!(params.contains(p), "list parameter {p} documented");
    }
    assert!(doc["components"]["schemas"].get("SavedView").is_some());
    app.finish().await;
}
