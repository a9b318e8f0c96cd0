//! The sales pages of the UI: the pipeline board (columns, counts, sums, who sees what, the
//! no-script move form and the JSON answers the board script relies on), the pipeline
//! settings for admins, and the product catalogue.

use crate::common::{Client, Kind, Resp, TestApp};
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

/// The HTML of one board column.
fn column<'a>(html: &'a str, stage_id: &str) -> &'a str {
    let start =
        html.find(&format!("data-stage=\"{stage_id}\" data-required")).unwrap_or_else(|| panic!("column {stage_id}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The opening tag of the form control named `name`.
fn control<'a>(html: &'a str, name: &str) -> &'a str {
    let i = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no control {name}"));
    let start = html[..i].rfind('<').unwrap();
    &html[start..i + html[i..].find('>').unwrap() + 1]
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
    assert!(r.text.contains("/static/board.js"), "the board script is included");
    for (name, _) in &stages {
        assert!(r.text.contains(&format!(">{name}</h2>")), "a column for {name}");
    }
    let q = column(&r.text, qual);
    for t in ["Alpha rollout", "Beta licences", "Gamma support"] {
        assert!(q.contains(t), "{t} on the admin's board");
    }
    assert!(q.contains("Deals: </span>3</span>"), "count: {q}");
    assert!(q.contains("2,200.00\u{a0}RUB"), "sum of the column: {q}");
    assert!(q.contains("class=\"flag overdue\""), "the overdue flag");
    let n = column(&r.text, needs);
    assert!(n.contains("Dollar deal") && n.contains("$10.00") && n.contains("Deals: </span>1</span>"), "{n}");
    assert!(r.text.contains(&format!("href=\"/deals/new?pipeline={pid}\"")), "new deal link");

    // The salesperson's board has only their own deals, whatever the owner filter says.
    let s = app.browser("sales1@acme.test").await;
    let other = user_id(&app, "sales2@acme.test").await;
    for path in ["/board".to_string(), format!("/board?pipeline={pid}&owner={other}")] {
        let r = s.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let q = column(&r.text, qual);
        assert!(q.contains("Alpha rollout") && q.contains("Beta licences"));
        assert!(!r.text.contains("Gamma support"), "another salesperson's deal is not shown ({path})");
        assert!(q.contains("Deals: </span>2</span>") && q.contains("1,500.00\u{a0}RUB"), "{q}");
        assert!(!r.text.contains(&format!("<option value=\"{other}\"")), "no picking other owners");
    }
    // An admin may filter by any owner; "mine" is the admin's own (none here).
    let r = admin.get(&format!("/board?pipeline={pid}&owner={other}")).await;
    assert!(r.text.contains("Gamma support") && !r.text.contains("Alpha rollout"));
    assert!(r.text.contains(&format!("<option value=\"{other}\" selected>")));
    let r = admin.get("/board?owner=me").await;
    assert!(!r.text.contains("Gamma support") && column(&r.text, qual).contains("Deals: </span>0</span>"));
    // Russian: stage names, money and dates as Russians read them.
    let r = get_ru(&s, "/board").await;
    assert!(r.text.contains(">Квалификация</h2>"));
    assert!(r.text.contains("1\u{202f}500,00\u{a0}₽"), "Russian sum");
    assert!(r.text.contains("01.01.2001"), "Russian date");
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
    let card = column(&page.text, stage(&stages, "Qualification"));
    assert!(card.contains(&format!("action=\"/deals/{id}/move\"")), "the card has its move form");
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
    let page = s.get(&back).await;
    assert!(column(&page.text, needs).contains("Move me"));
    assert!(!column(&page.text, stage(&stages, "Qualification")).contains("Move me"));

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
    let page = s.get(&back).await;
    let col = column(&page.text, &proposal);
    assert!(col.contains("Move me") && col.contains("900.00\u{a0}RUB"), "{col}");
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
    assert!(page.text.contains("Qualification") && page.text.contains("Chose a competitor"));
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
    let page = a.get(&format!("/admin/pipelines?pipeline={pid}&ok=stage_added")).await;
    assert!(page.text.contains("Stage added."));
    assert!(page.text.contains(&format!("id=\"stage-{sid}\"")));

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
    assert!(r.text.contains("Please correct the marked fields."));
    let li = &r.text[r.text.find(&format!("id=\"stage-{sid}\"")).unwrap()..];
    let prob = control(li, "probability");
    assert!(prob.contains("value=\"150\"") && prob.contains("aria-invalid=\"true\""), "{prob}");
    let r = a
        .form(
            &format!("/admin/stages/{sid}"),
            &[("_csrf", &csrf), ("pipeline", &pid), ("name_en", ""), ("name_ru", ""), ("probability", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Invalid value."));
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
    assert!(r.text.contains("Required."));
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
    let r = get_ru(&a, &format!("/admin/pipelines?pipeline={pid}")).await;
    assert!(r.text.contains("Обязательно для перехода") && r.text.contains("Квалификация"));
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
    assert!(
        r.text.contains("This stage cannot be removed: it holds 1 deal, open or lost at it. Move it"),
        "{}",
        r.text
    );
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
    assert!(r.text.contains("Этап нельзя удалить"), "{}", r.text);
    // An empty stage goes.
    let needs = stage(&stages, "Needs analysis");
    let r = a.form(&format!("/admin/stages/{needs}/delete"), &[("_csrf", &csrf), ("pipeline", &pid)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, now) = pipeline(&s1).await;
    assert!(now.iter().all(|(_, id)| id != needs));
    assert!(a.get(&format!("/admin/pipelines?pipeline={pid}&ok=stage_removed")).await.text.contains("Stage removed."));
    app.finish().await;
}

#[engines]
async fn the_catalogue_is_read_by_everyone_and_kept_by_admins_and_sales_managers(k: Kind) {
    let app = TestApp::spawn(k).await;
    let a = app.browser("admin@acme.test").await;
    let page = a.get("/products").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text.contains("href=\"/products/new\""), "admins see New product");
    let csrf = page.csrf();
    let form = a.get("/products/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text.contains("name=\"prices[2].price\""), "empty price rows");
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
    for t in ["LIC-1", "CRM licence", "Software", "pcs", "1,500.00\u{a0}RUB", "€20.00"] {
        assert!(list.text.contains(t), "{t} listed");
    }
    assert!(!list.text.contains("/products/new") && !list.text.contains("/edit\""), "no editing for a salesperson");
    assert!(s.get("/products?q=lic").await.text.contains("CRM licence"), "search by SKU");
    assert!(s.get("/products?q=licence").await.text.contains("LIC-1"), "search by name");
    assert!(!s.get("/products?q=zzz").await.text.contains("LIC-1"));
    assert!(get_ru(&s, "/products").await.text.contains("Лицензия CRM"), "the name in the user's language");
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
    assert!(r.text.contains("Another product already has this SKU."));
    assert!(control(&r.text, "sku").contains("aria-invalid=\"true\""));
    assert!(control(&r.text, "name_en").contains("value=\"Another\""));
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
    let bad = control(&r.text, "prices[1].price");
    assert!(bad.contains("value=\"abc\"") && bad.contains("aria-invalid=\"true\""), "{bad}");
    assert!(!control(&r.text, "prices[0].price").contains("aria-invalid"));
    assert!(r.text.contains("Not a valid amount."));

    // Editing: prices shown for change, a cleared price removed, the product switched off.
    let e = a.get(&format!("/products/{id}/edit")).await;
    assert_eq!(e.status(), StatusCode::OK);
    assert!(e.text.contains("value=\"1500.00\""), "the stored price");
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
