//! The sales pages of the UI: the pipeline board (columns, counts, sums, who sees what, the
//! no-script move form and the JSON answers the board script relies on), the pipeline
//! settings for admins, and the product catalogue.

use crate::common::{Client, Doc, Kind, Resp, TestApp};
use karta_test_macros::engines;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The first pipeline's id and its stages as (English name, id).
async fn pipeline(api: &Client) -> (String, Vec<(String, String)>) {
    let r = api.get("/api/v1/pipelines").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let p = &r.json()[0];
    let stages = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name_en"].as_str().unwrap().to_string(), s["id"].as_str().unwrap().to_string()))
        .collect();
    (p["id"].as_str().unwrap().to_string(), stages)
}

fn stage<'a>(stages: &'a [(String, String)], name: &str) -> &'a str {
    &stages.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no stage {name}")).1
}

async fn deal(api: &Client, body: Value) -> Value {
    let r = api.post("/api/v1/deals", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()
}

/// The selector of one board column, which must be on the page.
fn column(d: &Doc, stage_id: &str) -> String {
    let css = format!("section.board-col[data-stage='{stage_id}']");
    assert_eq!(d.count(&css), 1, "column {stage_id}");
    css
}

/// The titles of the deal cards under `css` (the board, or one column).
fn titles(d: &Doc, css: &str) -> Vec<String> {
    d.texts(&format!("{css} .deal-card .deal-title"))
}

/// Whether `texts` holds `t`.
fn has(texts: &[String], t: &str) -> bool {
    texts.iter().any(|x| x == t)
}

async fn get_ru(c: &Client, path: &str) -> Resp {
    c.send(Method::GET, path, None, &[("accept-language", "ru-RU,ru;q=0.9")]).await
}

async fn user_id(app: &TestApp, email: &str) -> String {
    karta_kernel::users::by_email(&app.db, &app.tenant_a, email).await.unwrap().unwrap().id
}

#[engines]
async fn the_board_shows_a_column_per_stage_with_counts_and_sums_and_a_salesperson_sees_only_their_deals(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let (pid, stages) = pipeline(&s1).await;
    let qual = stage(&stages, "Qualification");
    let needs = stage(&stages, "Needs analysis");
    deal(&s1, json!({"title": "Alpha rollout", "amount": "1000"})).await;
    deal(&s1, json!({"title": "Beta licences", "amount": "500", "close_date": "2001-01-01"})).await;
    deal(&s1, json!({"title": "Dollar deal", "amount": "10", "currency": "USD", "stage_id": needs})).await;
    deal(&s2, json!({"title": "Gamma support", "amount": "700"})).await;

    let admin = app.browser("admin@acme.test").await;
    let r = admin.get("/board").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let d = r.doc();
    assert!(has(&d.attrs("script[src]", "src"), "/static/board.js"), "the board script is included");
    for (name, id) in &stages {
        assert_eq!(d.text(&format!("{} h2", column(&d, id))), *name, "a column for {name}");
    }
    let q = column(&d, qual);
    for t in ["Alpha rollout", "Beta licences", "Gamma support"] {
        assert!(has(&titles(&d, &q), t), "{t} on the admin's board");
    }
    assert_eq!(d.text(&format!("{q} .col-stats .count")), "Deals: 3", "count");
    assert_eq!(d.texts(&format!("{q} .col-sum")), ["2,200.00\u{a0}RUB"], "sum of the column");
    assert_eq!(d.texts(&format!("{q} .deal-card.is-overdue .deal-title")), ["Beta licences"], "the overdue card");
    assert_eq!(d.count(&format!("{q} .deal-card .flag.overdue")), 1, "the overdue flag");
    let n = column(&d, needs);
    assert_eq!(titles(&d, &n), ["Dollar deal"]);
    assert_eq!(d.texts(&format!("{n} .deal-card .deal-amount")), ["$10.00"]);
    assert_eq!(d.text(&format!("{n} .col-stats .count")), "Deals: 1");
    assert_eq!(d.count(&format!("a[href='/deals/new?pipeline={pid}']")), 1, "new deal link");

    // The salesperson's board has only their own deals, whatever the owner filter says.
    let s = app.browser("sales1@acme.test").await;
    let other = user_id(&app, "sales2@acme.test").await;
    for path in ["/board".to_string(), format!("/board?pipeline={pid}&owner={other}")] {
        let r = s.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let d = r.doc();
        let q = column(&d, qual);
        let mine = titles(&d, &q);
        assert!(has(&mine, "Alpha rollout") && has(&mine, "Beta licences"), "{mine:?}");
        assert!(!has(&titles(&d, "#board"), "Gamma support"), "another salesperson's deal is not shown ({path})");
        assert_eq!(d.text(&format!("{q} .col-stats .count")), "Deals: 2");
        assert_eq!(d.texts(&format!("{q} .col-sum")), ["1,500.00\u{a0}RUB"]);
        assert_eq!(d.count(&format!("option[value='{other}']")), 0, "no picking other owners");
    }
    // An admin may filter by any owner; "mine" is the admin's own (none here).
    let d = admin.get(&format!("/board?pipeline={pid}&owner={other}")).await.doc();
    let shown = titles(&d, "#board");
    assert!(has(&shown, "Gamma support") && !has(&shown, "Alpha rollout"), "{shown:?}");
    assert_eq!(d.attrs("select[name=owner] option[selected]", "value"), [other.as_str()]);
    let d = admin.get("/board?owner=me").await.doc();
    assert!(!has(&titles(&d, "#board"), "Gamma support"));
    assert_eq!(d.text(&format!("{} .col-stats .count", column(&d, qual))), "Deals: 0");
    // Russian: stage names, money and dates as Russians read them.
    let d = get_ru(&s, "/board").await.doc();
    let q = column(&d, qual);
    assert_eq!(d.text(&format!("{q} h2")), "Квалификация");
    assert_eq!(d.texts(&format!("{q} .col-sum")), ["1\u{202f}500,00\u{a0}₽"], "Russian sum");
    let close = d.text(&format!("{q} .deal-card[data-title='Beta licences'] .deal-close"));
    assert!(close.ends_with(": 01.01.2001"), "Russian date: {close}");
    assert_eq!(admin.get("/board?pipeline=nope").await.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

#[engines]
async fn a_card_moves_through_its_form_without_script_and_the_script_gets_json_answers(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let (pid, stages) = pipeline(&api).await;
    let d = deal(&api, json!({"title": "Move me"})).await;
    let id = d["id"].as_str().unwrap().to_string();
    let s = app.browser("sales1@acme.test").await;
    let page = s.get(&format!("/board?pipeline={pid}")).await;
    let csrf = page.csrf();
    let board = page.doc();
    let card = format!("{} .deal-card[data-id='{id}']", column(&board, stage(&stages, "Qualification")));
    assert_eq!(
        board.count(&format!("{card} form.move-form[action='/deals/{id}/move']")),
        1,
        "the card has its move form"
    );
    let back = format!("/board?pipeline={pid}");
    let needs = stage(&stages, "Needs analysis");
    let version = d["version"].to_string();
    let r = s
        .form(
            &format!("/deals/{id}/move"),
            &[("_csrf", &csrf), ("stage_id", needs), ("version", &version), ("back", &back)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), back);
    let moved = api.get(&format!("/api/v1/deals/{id}")).await.json();
    assert_eq!(moved["stage_id"], needs);
    let board = s.get(&back).await.doc();
    assert_eq!(titles(&board, &column(&board, needs)), ["Move me"]);
    assert!(!has(&titles(&board, &column(&board, stage(&stages, "Qualification"))), "Move me"));

    // What board.js sends: the token in a header, JSON back.
    let post = |stage: String, version: String, extra: Vec<(&'static str, &'static str)>| {
        let mut f: Vec<(String, String)> =
            vec![("stage_id".into(), stage), ("version".into(), version), ("back".into(), back.clone())];
        f.extend(extra.into_iter().map(|(a, b)| (a.to_string(), b.to_string())));
        s.http
            .post(format!("{}/deals/{id}/move", app.base))
            .header("accept", "application/json")
            .header("x-csrf-token", csrf.as_str())
            .form(&f)
            .send()
    };
    let proposal = stage(&stages, "Proposal").to_string();
    let v = moved["version"].to_string();
    let r = post(proposal.clone(), v.clone(), vec![]).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["ok"], false);
    assert_eq!(j["missing"], json!(["amount"]), "{j}");
    let r = post(proposal.clone(), "1".into(), vec![("amount", "900")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "a stale card");
    assert_eq!(r.json::<Value>().await.unwrap()["stale"], true);
    let r = post(proposal.clone(), v, vec![("amount", "900")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["deal"]["stage_id"], proposal.as_str());
    let board = s.get(&back).await.doc();
    let col = column(&board, &proposal);
    assert_eq!(titles(&board, &col), ["Move me"]);
    assert_eq!(board.texts(&format!("{col} .deal-card[data-id='{id}'] .deal-amount")), ["900.00\u{a0}RUB"]);
    app.finish().await;
}

#[engines]
async fn pipeline_settings_are_for_admins_who_add_and_change_stages_pipelines_and_reasons(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s = app.browser("sales1@acme.test").await;
    assert_eq!(s.get("/admin/pipelines").await.status(), StatusCode::FORBIDDEN);
    let csrf = s.get("/contacts").await.csrf();
    let r = s.form("/admin/pipelines", &[("_csrf", &csrf), ("name_en", "Mine")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a salesperson cannot add a pipeline");

    let api = app.api("acme", "admin@acme.test").await;
    let (pid, stages) = pipeline(&api).await;
    let a = app.browser("admin@acme.test").await;
    let page = a.get("/admin/pipelines").await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    let d = page.doc();
    assert!(has(&d.texts("#stages .stage-list h3"), "1. Qualification"), "the first stage");
    assert!(
        d.texts("#reasons .reason-list li > span").iter().any(|t| t.ends_with("/ Chose a competitor")),
        "a lost reason"
    );
    let csrf = page.csrf();
    let team = karta_kernel::tenants::team_by_name(&app.db, &app.tenant_a, "Sales").await.unwrap().unwrap();
    let r = a
        .form(
            &format!("/admin/pipelines/{pid}/stages"),
            &[
                ("_csrf", &csrf),
                ("name_ru", "Счёт"),
                ("name_en", "Invoice"),
                ("probability", "95"),
                ("max_days", "10"),
                ("responsible_user_id", ""),
                ("responsible_team_id", &team),
                ("required_fields", "amount"),
                ("required_fields", "close_date"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    assert!(r.header("location").starts_with(&format!("/admin/pipelines?pipeline={pid}&ok=stage_added#stage-")));
    let (_, now) = pipeline(&api).await;
    assert_eq!(now.len(), stages.len() + 1);
    let sid = stage(&now, "Invoice").to_string();
    let p = api.get("/api/v1/pipelines").await.json();
    let st = p[0]["stages"].as_array().unwrap().iter().find(|s| s["id"] == sid.as_str()).unwrap().clone();
    assert_eq!(st["required_fields"], json!(["amount", "close_date"]));
    assert_eq!((st["probability"].as_i64(), st["max_days"].as_i64()), (Some(95), Some(10)));
    assert_eq!(st["responsible_team_id"], team.as_str());
    let d = a.get(&format!("/admin/pipelines?pipeline={pid}&ok=stage_added")).await.doc();
    assert_eq!(d.text("p.notice[role=status]"), "Stage added.");
    assert_eq!(d.count(&format!(".stage-list > li[id='stage-{sid}']")), 1);

    // Rename it, dropping one required field.
    let r = a
        .form(
            &format!("/admin/stages/{sid}"),
            &[
                ("_csrf", &csrf),
                ("pipeline", &pid),
                ("name_ru", "Счёт выставлен"),
                ("name_en", "Invoiced"),
                ("probability", "95"),
                ("max_days", ""),
                ("required_fields", "amount"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let p = api.get("/api/v1/pipelines").await.json();
    let st = p[0]["stages"].as_array().unwrap().iter().find(|s| s["id"] == sid.as_str()).unwrap().clone();
    assert_eq!((st["name_en"].as_str(), st["name_ru"].as_str()), (Some("Invoiced"), Some("Счёт выставлен")));
    assert_eq!(st["required_fields"], json!(["amount"]));
    assert!(st["max_days"].is_null());
    // Invalid values come back next to their fields, the input kept.
    let r = a
        .form(
            &format!("/admin/stages/{sid}"),
            &[("_csrf", &csrf), ("pipeline", &pid), ("name_en", "Invoiced"), ("probability", "150")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let d = r.doc();
    assert_eq!(d.text("p.alert[role=alert]"), "Please correct the marked fields.");
    let prob = format!("li[id='stage-{sid}'] input[name=probability]");
    assert_eq!(d.attrs(&format!("{prob}[aria-invalid=true]"), "value"), ["150"], "{:?}", d.attrs(&prob, "value"));
    let r = a
        .form(
            &format!("/admin/stages/{sid}"),
            &[("_csrf", &csrf), ("pipeline", &pid), ("name_en", ""), ("name_ru", ""), ("probability", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.doc().texts(&format!("li[id='stage-{sid}'] input[name=probability] ~ small.error")),
        ["Invalid value."]
    );
    // Order: the new stage goes up one place.
    let r = a.form(&format!("/admin/stages/{sid}/move"), &[("_csrf", &csrf), ("pipeline", &pid), ("dir", "up")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, now) = pipeline(&api).await;
    assert_eq!(now[now.len() - 2].1, sid, "moved up");

    // Pipelines: add, rename, switch off.
    let r = a.form("/admin/pipelines", &[("_csrf", &csrf), ("name_ru", "Партнёры"), ("name_en", "Partners")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let p = api.get("/api/v1/pipelines").await.json();
    let np =
        p.as_array().unwrap().iter().find(|x| x["name_en"] == "Partners").unwrap()["id"].as_str().unwrap().to_string();
    assert!(r.header("location").contains(&format!("pipeline={np}")));
    let r = a.form("/admin/pipelines", &[("_csrf", &csrf), ("name_ru", ""), ("name_en", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(has(&r.doc().texts("form[action='/admin/pipelines'] small.error"), "Required."));
    let r = a
        .form(&format!("/admin/pipelines/{np}"), &[("_csrf", &csrf), ("name_ru", "Партнёры"), ("name_en", "Resellers")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let p = api.get("/api/v1/pipelines").await.json();
    let x = p.as_array().unwrap().iter().find(|x| x["id"] == np.as_str()).unwrap().clone();
    assert_eq!((x["name_en"].as_str(), x["active"].as_bool()), (Some("Resellers"), Some(false)));

    // Lost reasons: add one, switch it off.
    let r = a.form("/admin/lost-reasons", &[("_csrf", &csrf), ("name_ru", "Сроки"), ("name_en", "Timing")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let reasons = api.get("/api/v1/lost-reasons").await;
    let rid = reasons.json().as_array().unwrap().iter().find(|x| x["name_en"] == "Timing").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = a.form(&format!("/admin/lost-reasons/{rid}"), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let reasons = api.get("/api/v1/lost-reasons").await.json();
    assert_eq!(reasons.as_array().unwrap().iter().find(|x| x["id"] == rid.as_str()).unwrap()["active"], false);
    // The page in Russian.
    let d = get_ru(&a, &format!("/admin/pipelines?pipeline={pid}")).await.doc();
    assert!(has(&d.texts("#stages fieldset > legend"), "Обязательно для перехода"));
    assert!(has(&d.texts("#stages .stage-list h3"), "1. Квалификация"));
    app.finish().await;
}

#[engines]
async fn a_stage_holding_deals_is_not_removed_and_the_admin_is_told_why(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let (pid, stages) = pipeline(&s1).await;
    deal(&s1, json!({"title": "Keeps the stage"})).await;
    let qual = stage(&stages, "Qualification");
    let a = app.browser("admin@acme.test").await;
    let csrf = a.get("/admin/pipelines").await.csrf();
    let r = a.form(&format!("/admin/stages/{qual}/delete"), &[("_csrf", &csrf), ("pipeline", &pid)]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let told = r.doc().text(&format!("li[id='stage-{qual}'] p.alert"));
    assert!(told.starts_with("This stage cannot be removed: it holds 1 deal, open or lost at it. Move it"), "{told}");
    let (_, now) = pipeline(&s1).await;
    assert_eq!(now.len(), stages.len(), "nothing removed");
    let r = get_ru(&a, "/admin/pipelines").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = a
        .send(
            Method::POST,
            &format!("/admin/stages/{qual}/delete"),
            None,
            &[
                ("accept-language", "ru"),
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-csrf-token", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let told = r.doc().text(&format!("li[id='stage-{qual}'] p.alert"));
    assert!(told.starts_with("Этап нельзя удалить"), "{told}");
    // An empty stage goes.
    let needs = stage(&stages, "Needs analysis");
    let r = a.form(&format!("/admin/stages/{needs}/delete"), &[("_csrf", &csrf), ("pipeline", &pid)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, now) = pipeline(&s1).await;
    assert!(now.iter().all(|(_, id)| id != needs));
    let d = a.get(&format!("/admin/pipelines?pipeline={pid}&ok=stage_removed")).await.doc();
    assert_eq!(d.text("p.notice[role=status]"), "Stage removed.");
    app.finish().await;
}

#[engines]
async fn the_catalogue_is_read_by_everyone_and_kept_by_admins_and_sales_managers(k: Kind) {
    let app = TestApp::spawn(k).await;
    let a = app.browser("admin@acme.test").await;
    let page = a.get("/products").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.doc().count("a[href='/products/new']"), 1, "admins see New product");
    let csrf = page.csrf();
    let form = a.get("/products/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.doc().attrs("input[name='prices[2].price']", "value"), [""], "empty price rows");
    let r = a
        .form(
            "/products",
            &[
                ("_csrf", &csrf),
                ("sku", "LIC-1"),
                ("name_ru", "Лицензия CRM"),
                ("name_en", "CRM licence"),
                ("unit", "pcs"),
                ("product_group", "Software"),
                ("kind", "product"),
                ("active", "on"),
                ("prices[0].currency", "RUB"),
                ("prices[0].price", "1 500,00"),
                ("prices[1].currency", "USD"),
                ("prices[1].price", ""),
                ("prices[2].currency", "EUR"),
                ("prices[2].price", "20"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    assert!(r.header("location").starts_with("/products?done=saved#p-"));
    let id = r.header("location").rsplit("#p-").next().unwrap().to_string();

    let s = app.browser("sales1@acme.test").await;
    let list = s.get("/products").await;
    assert_eq!(list.status(), StatusCode::OK);
    let d = list.doc();
    let row = format!("tr[id='p-{id}']");
    assert_eq!(d.text(&format!("{row} td.sku")), "LIC-1");
    assert_eq!(d.text(&format!("{row} td.name")), "CRM licence");
    let cells = d.texts(&format!("{row} td"));
    for t in ["Software", "pcs"] {
        assert!(has(&cells, t), "{t} listed: {cells:?}");
    }
    let prices = d.texts(&format!("{row} td.prices span"));
    for t in ["1,500.00\u{a0}RUB", "€20.00"] {
        assert!(has(&prices, t), "{t} listed: {prices:?}");
    }
    assert_eq!(d.count("[href*='/products/new']") + d.count("[href$='/edit']"), 0, "no editing for a salesperson");
    let sku = |d: Doc| d.texts("table.products td.sku");
    let name = |d: Doc| d.texts("table.products td.name");
    assert!(has(&name(s.get("/products?q=lic").await.doc()), "CRM licence"), "search by SKU");
    assert!(has(&sku(s.get("/products?q=licence").await.doc()), "LIC-1"), "search by name");
    assert!(!has(&sku(s.get("/products?q=zzz").await.doc()), "LIC-1"));
    assert!(has(&name(get_ru(&s, "/products").await.doc()), "Лицензия CRM"), "the name in the user's language");
    assert_eq!(s.get("/products/new").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.get(&format!("/products/{id}/edit")).await.status(), StatusCode::FORBIDDEN);
    let scsrf = list.csrf();
    let r = s.form("/products", &[("_csrf", &scsrf), ("sku", "MINE"), ("name_en", "Mine")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a salesperson cannot create a product");
    let r = s.form(&format!("/products/{id}"), &[("_csrf", &scsrf), ("sku", "LIC-1"), ("name_en", "Hacked")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let m = app.browser("manager@acme.test").await;
    assert_eq!(m.get("/products/new").await.status(), StatusCode::OK, "a sales manager may");

    // A duplicate SKU is an error on the SKU field; the rest of the input is kept.
    let r = a
        .form(
            "/products",
            &[
                ("_csrf", &csrf),
                ("sku", "LIC-1"),
                ("name_en", "Another"),
                ("prices[0].currency", "RUB"),
                ("prices[0].price", "5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let d = r.doc();
    assert_eq!(d.texts("input[name=sku] ~ small.error"), ["Another product already has this SKU."]);
    assert_eq!(d.count("input[name=sku][aria-invalid=true]"), 1);
    assert_eq!(d.attrs("input[name=name_en]", "value"), ["Another"]);
    // A bad price is shown on its own row, even after an empty row.
    let r = a
        .form(
            "/products",
            &[
                ("_csrf", &csrf),
                ("sku", "SUP-1"),
                ("name_en", "Support"),
                ("kind", "service"),
                ("prices[0].currency", "RUB"),
                ("prices[0].price", ""),
                ("prices[1].currency", "USD"),
                ("prices[1].price", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let d = r.doc();
    assert_eq!(d.attrs("input[name='prices[1].price'][aria-invalid=true]", "value"), ["abc"]);
    assert_eq!(d.count("input[name='prices[0].price']"), 1);
    assert_eq!(d.count("input[name='prices[0].price'][aria-invalid]"), 0);
    assert_eq!(d.texts("input[name='prices[1].price'] ~ small.error"), ["Not a valid amount."]);

    // Editing: prices shown for change, a cleared price removed, the product switched off.
    let e = a.get(&format!("/products/{id}/edit")).await;
    assert_eq!(e.status(), StatusCode::OK);
    let stored = e.doc().attrs("input[name^='prices['][name$='].price']", "value");
    assert!(has(&stored, "1500.00"), "the stored price: {stored:?}");
    let r = a
        .form(
            &format!("/products/{id}"),
            &[
                ("_csrf", &csrf),
                ("sku", "LIC-1"),
                ("name_ru", "Лицензия CRM"),
                ("name_en", "CRM licence, yearly"),
                ("kind", "product"),
                ("prices[0].currency", "RUB"),
                ("prices[0].price", "1600"),
                ("prices[1].currency", "EUR"),
                ("prices[1].price", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let api = app.api("acme", "admin@acme.test").await;
    let p = api.get(&format!("/api/v1/products/{id}")).await.json();
    assert_eq!(p["name_en"], "CRM licence, yearly");
    assert_eq!(p["active"], false);
    assert_eq!(p["prices"].as_array().unwrap().len(), 1);
    assert_eq!(p["prices"][0]["price_minor"], 160_000);
    app.finish().await;
}
