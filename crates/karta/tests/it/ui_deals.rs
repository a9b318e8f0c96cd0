//! Deal pages in the browser's terms (forms, redirects, HTML): create with lines and a
//! contact typed by name, the stage path with a required field asked for, closing as lost
//! with a reason, the deal on its account's page, and the notification bell.

use crate::common::{Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::json;

/// Whether `texts` holds `t`.
fn has(texts: &[String], t: &str) -> bool {
    texts.iter().any(|x| x == t)
}

#[engines]
async fn a_deal_made_in_the_form_moves_along_its_stages_and_closes_as_lost_with_a_reason(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let admin = app.api("acme", "admin@acme.test").await;
    let acc = api.post("/api/v1/accounts", &json!({"name": "Рога и копыта"})).await.json();
    let acc_id = acc["id"].as_str().unwrap().to_string();
    api.contact("Остап", "Бендер").await;
    let prod = admin
        .post(
            "/api/v1/products",
            &json!({"sku": "IMPL", "name_ru": "Внедрение", "name_en": "Implementation",
              "prices": [{"currency": "RUB", "price": "1000"}]}),
        )
        .await
        .json();
    let ui = app.browser("sales1@acme.test").await;
    let form = ui.get(&format!("/deals/new?account={acc_id}")).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.doc().attrs("input[name=account]", "value"), ["Рога и копыта"], "the account is prefilled");
    let csrf = form.csrf();
    // A bad amount and an unknown contact are reported per field; nothing is saved.
    let r = ui
        .form(
            "/deals",
            &[
                ("_csrf", &csrf),
                ("title", "Внедрение CRM"),
                ("account", "Рога и копыта"),
                ("account_id", &acc_id),
                ("account_was", "Рога и копыта"),
                ("amount", "12,34,5"),
                ("contact_new", "Никого такого"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.doc().attrs("input[name=title]", "value"), ["Внедрение CRM"], "typed values are kept");
    assert!(api.get("/api/v1/deals").await.json()["items"].as_array().unwrap().is_empty());
    let r = ui
        .form(
            "/deals",
            &[
                ("_csrf", &csrf),
                ("title", "Внедрение CRM"),
                ("account", "Рога и копыта"),
                ("account_id", &acc_id),
                ("account_was", "Рога и копыта"),
                ("contact_new", "Бендер"),
                ("contact_new_role", "decision_maker"),
                ("line_product", prod["id"].as_str().unwrap()),
                ("line_qty", "2,5"),
                ("line_price", ""),
                ("line_discount", "10"),
                ("line_product", ""),
                ("line_qty", ""),
                ("line_price", ""),
                ("line_discount", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let url = r.header("location");
    let d = api.get(&format!("/api/v1{url}")).await.json();
    assert_eq!(d["amount_minor"], 225_000, "2.5 × 1000 −10%");
    assert_eq!(d["account_id"], acc_id.as_str());
    assert_eq!(d["contacts"][0]["role"], "decision_maker");
    let deal_page = ui.get(&url).await.doc();
    assert_eq!(deal_page.text("h1"), "Внедрение CRM");
    let roles = deal_page.texts(".related .role");
    assert!(roles == ["ЛПР"] || roles == ["Decision maker"], "the contact's role: {roles:?}");

    // Proposal needs an amount: the stage path asks for it on a page of its own.
    let stages = api.get("/api/v1/pipelines").await.json()[0]["stages"].clone();
    let proposal = stages[2]["id"].as_str().unwrap().to_string();
    let v = d["version"].to_string();
    // The deal has lines, so it has an amount: it moves straight away.
    let r = ui.form(&format!("{url}/move"), &[("_csrf", &csrf), ("stage_id", &proposal), ("version", &v)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    // A deal without an amount is asked for it.
    let bare = api.post("/api/v1/deals", &json!({"title": "Без суммы"})).await.json();
    let bare_id = bare["id"].as_str().unwrap();
    let r = ui
        .form(&format!("/deals/{bare_id}/move"), &[("_csrf", &csrf), ("stage_id", &proposal), ("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.doc().count(&format!("form[action='/deals/{bare_id}/move'] input[name=amount]")), 1, "{}", r.text);
    let r = ui
        .form(
            &format!("/deals/{bare_id}/move"),
            &[("_csrf", &csrf), ("stage_id", &proposal), ("version", "1"), ("amount", "5000"), ("back", "/board")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/board");
    // The board's script asks for JSON.
    let r = ui
        .http
        .post(format!("{}/deals/{bare_id}/move", ui.base))
        .header("accept", "application/json")
        .header("x-csrf-token", &csrf)
        .form(&[("stage_id", stages[4]["id"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["missing"], json!(["close_date", "account_id"]));

    // Lost without a reason is refused with a message; with one, it closes.
    let d = api.get(&format!("/api/v1{url}")).await.json();
    let v = d["version"].to_string();
    let r = ui.form(&format!("{url}/close"), &[("_csrf", &csrf), ("version", &v), ("outcome", "lost")]).await;
    assert_eq!(r.header("location"), format!("{url}?m=reason"));
    let reason = api.get("/api/v1/lost-reasons").await.json()[0]["id"].as_str().unwrap().to_string();
    let r = ui
        .form(
            &format!("{url}/close"),
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("outcome", "lost"),
                ("lost_reason_id", &reason),
                ("lost_reason_text", "дорого"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get(&format!("/api/v1{url}")).await.json()["status"], "lost");
    let status = ui.get(&url).await.doc().text("dl.props > div:first-child > dd");
    assert!(status.ends_with(" · дорого"), "the reason's text with the status: {status}");
    // The account page lists its deal.
    let acc_page = ui.get(&format!("/accounts/{acc_id}")).await.doc();
    assert_eq!(acc_page.texts("#deals .related a"), ["Внедрение CRM"], "deals on the account page");
    // The deal list shows both deals with their stages.
    let names = ui.get("/deals").await.doc().texts("td.name a");
    assert!(has(&names, "Внедрение CRM") && has(&names, "Без суммы"), "{names:?}");
    app.finish().await;
}

#[engines]
async fn the_bell_counts_unread_notifications_until_they_are_read(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let s2_id = s2.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    let first = admin.get("/api/v1/pipelines").await.json()[0]["stages"][0]["id"].as_str().unwrap().to_string();
    let body =
        json!({"name_ru": "Квалификация", "name_en": "Qualification", "probability": 10, "responsible_user_id": s2_id});
    let r = admin.send(reqwest::Method::PUT, &format!("/api/v1/stages/{first}"), Some(&body), &[]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", r.text);
    let s1 = app.api("acme", "sales1@acme.test").await;
    s1.post("/api/v1/deals", &json!({"title": "Входящая заявка"})).await;
    s2.notified(1).await;
    let ui = app.browser("sales2@acme.test").await;
    let page = ui.get("/contacts").await.doc();
    assert_eq!(page.text("a.bell.unread .count"), "1", "the bell shows 1");
    let n = ui.get("/notifications").await;
    let items = n.doc().texts(".notif-list li.unread");
    assert!(items.iter().any(|t| t.contains("Входящая заявка")), "{items:?}");
    let csrf = n.csrf();
    assert_eq!(ui.form("/notifications/read", &[("_csrf", &csrf)]).await.status(), StatusCode::SEE_OTHER);
    let page = ui.get("/contacts").await.doc();
    assert_eq!((page.count("a.bell"), page.count("a.bell.unread")), (1, 0), "the bell is not marked unread");
    app.finish().await;
}

/// A deal in the trash opens (from the trash page) with its restore button, and restores.
#[engines]
async fn a_deal_in_the_trash_opens_and_is_restored_from_its_page(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let id = api.post("/api/v1/deals", &json!({"title": "Удалённая сделка"})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.delete(&format!("/api/v1/deals/{id}")).await.status(), StatusCode::NO_CONTENT, "{k:?}");
    let b = app.browser("sales1@acme.test").await;
    let trash = b.get("/trash").await.doc();
    assert_eq!(
        trash.texts(&format!("table.list a[href='/deals/{id}']")),
        ["Удалённая сделка"],
        "{k:?}: the trash lists it"
    );
    let page = b.get(&format!("/deals/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK, "{k:?}: {}", page.text);
    let restore = format!("form[action='/deals/{id}/restore'] button[type=submit]");
    assert_eq!(page.doc().count(&restore), 1, "{k:?}: a restore button");
    let r = b.form(&format!("/deals/{id}/restore"), &[("_csrf", page.csrf().as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}: {}", r.text);
    assert_eq!(api.get(&format!("/api/v1/deals/{id}")).await.status(), StatusCode::OK, "{k:?}: restored");
    app.finish().await;
}

/// A deal won or lost shows in its account's timeline among the activities (an entry the
/// sales context adds to the organizer's timeline).
#[engines]
async fn a_won_deal_shows_in_its_accounts_timeline(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let acc = api.post("/api/v1/accounts", &json!({"name": "Победа"})).await.json()["id"].as_str().unwrap().to_string();
    let d = api.post("/api/v1/deals", &json!({"title": "Крупный заказ", "account_id": acc})).await.json();
    let (id, v) = (d["id"].as_str().unwrap().to_string(), d["version"].as_i64().unwrap().to_string());
    let r = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/deals/{id}/close"),
            Some(&json!({"outcome": "won"})),
            &[("if-match", v.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    api.post("/api/v1/activities", &json!({"kind": "call", "subject": "Созвон о заказе", "account_id": acc, "due_at": app.clock.now() - 3_600_000})).await;
    let b = app.browser("sales1@acme.test").await;
    let page = b.get(&format!("/accounts/{acc}")).await;
    assert_eq!(page.status(), StatusCode::OK, "{k:?}");
    let doc = page.doc();
    assert_eq!(doc.texts(&format!("#activities .timeline a[href='/deals/{id}']")), ["Крупный заказ"], "{k:?}");
    let lines = doc.texts("#activities .timeline > li");
    assert!(lines.iter().any(|t| t.contains("Deal won") && t.contains("Крупный заказ")), "{k:?}: {lines:?}");
    assert!(has(&doc.texts("#activities .timeline > li a"), "Созвон о заказе"), "{k:?}: the activities stay");
    // A kind filter shows that kind of activity alone.
    let calls = b.get(&format!("/accounts/{acc}?type=call")).await.doc().texts("#activities .timeline > li");
    assert!(!calls.is_empty() && !calls.iter().any(|t| t.contains("Deal won")), "{k:?}: {calls:?}");
    app.finish().await;
}
