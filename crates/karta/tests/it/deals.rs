//! Deals through the API: stages with required fields, handover, won / lost / reopen, the
//! negotiation log, line totals, stalled and overdue flags on a controlled clock, and who may
//! see what.

use crate::common::{Client, Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

/// The default pipeline and its stages by English name.
async fn pipeline(c: &Client) -> (String, Vec<(String, String)>) {
    let r = c.get("/api/v1/pipelines").await;
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

fn etag(v: &Value) -> String {
    format!("\"{}\"", v["version"])
}

async fn new_deal(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/deals", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()
}

#[engines]
async fn a_deal_enters_a_stage_only_with_the_fields_it_requires_and_every_move_is_recorded(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let (_, stages) = pipeline(&c).await;
    assert_eq!(stages.len(), 5, "a new tenant gets the default pipeline");
    let d = new_deal(&c, json!({"title": "CRM rollout"})).await;
    assert_eq!(d["stage_id"], stage(&stages, "Qualification"));
    assert_eq!(d["probability"], 10);
    assert_eq!(d["currency"], "RUB", "the tenant's currency by default");
    let id = d["id"].as_str().unwrap().to_string();

    app.clock.advance(2 * DAY);
    let mv = |stage: &str, extra: Value| {
        let mut b = json!({"stage_id": stage});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    // Proposal requires an amount: refused, naming it, and nothing changes.
    let r = c.post(&format!("/api/v1/deals/{id}/move"), &mv(stage(&stages, "Proposal"), json!({}))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.error_fields(), ["amount"]);
    assert!(r.text.contains("required_for_stage"), "{}", r.text);
    let same = c.get(&format!("/api/v1/deals/{id}")).await.json();
    assert_eq!(same["stage_id"], stage(&stages, "Qualification"));
    assert_eq!(same["version"], d["version"]);
    // With the amount filled in while moving, it enters.
    let r = c
        .post(&format!("/api/v1/deals/{id}/move"), &mv(stage(&stages, "Proposal"), json!({"amount": "150 000,50"})))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let d = r.json();
    assert_eq!(d["stage_id"], stage(&stages, "Proposal"));
    assert_eq!(d["amount_minor"], 15_000_050);
    assert_eq!(d["probability"], 50, "probability follows the stage");

    app.clock.advance(3 * DAY);
    // Negotiation also needs the close date; moving with a stale version is refused.
    let r = c
        .post(
            &format!("/api/v1/deals/{id}/move"),
            &mv(stage(&stages, "Negotiation"), json!({"close_date": "2030-01-31", "version": 1})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{}", r.text);
    let r = c
        .post(
            &format!("/api/v1/deals/{id}/move"),
            &mv(stage(&stages, "Negotiation"), json!({"close_date": "31.01.2030"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    app.clock.advance(DAY);

    let h = c.get(&format!("/api/v1/deals/{id}/stages")).await.json();
    let events = h["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{h}");
    assert_eq!(events[0]["from_stage_id"], "");
    assert_eq!(events[1]["from_stage_id"], stage(&stages, "Qualification"));
    assert_eq!(events[2]["to_stage_id"], stage(&stages, "Negotiation"));
    assert_eq!(events[2]["user_name"], "sales1");
    let spent: Vec<(String, i64)> = serde_json::from_value(h["time_in_stages"].clone()).unwrap();
    assert_eq!(
        spent,
        vec![
            (stage(&stages, "Qualification").to_string(), 2 * DAY),
            (stage(&stages, "Proposal").to_string(), 3 * DAY),
            (stage(&stages, "Negotiation").to_string(), DAY),
        ]
    );
    // A stage of another pipeline, or a made-up one, is not a move.
    let r = c.post(&format!("/api/v1/deals/{id}/move"), &mv("nope", json!({}))).await;
    assert_eq!(r.error_fields(), ["stage_id"]);
    app.finish().await;
}

#[engines]
async fn entering_a_stage_with_a_responsible_employee_hands_the_deal_over_and_notifies_them(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let (_, stages) = pipeline(&admin).await;
    let sales2_id = s2.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    // A salesperson may not configure pipelines.
    let contract = stage(&stages, "Contract").to_string();
    let body = json!({"name_ru": "Договор", "name_en": "Contract", "probability": 90, "required_fields": [],
                      "responsible_user_id": sales2_id, "max_days": 14});
    let r = s1.send(reqwest::Method::PUT, &format!("/api/v1/stages/{contract}"), Some(&body), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin.send(reqwest::Method::PUT, &format!("/api/v1/stages/{contract}"), Some(&body), &[]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", r.text);

    let d = new_deal(&s1, json!({"title": "Handover deal", "amount": 1000})).await;
    let id = d["id"].as_str().unwrap();
    assert!(s2.get("/api/v1/notifications").await.json().as_array().unwrap().is_empty());
    let r = s1.post(&format!("/api/v1/deals/{id}/move"), &json!({"stage_id": contract})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["owner_id"], sales2_id.as_str());
    // The new owner sees it and was notified; the old one no longer sees it.
    let n = s2.notified(1).await;
    assert_eq!(n[0]["kind"], "handover");
    assert_eq!(n[0]["title"], "Handover deal");
    assert_eq!(n[0]["link"], format!("/deals/{id}"));
    assert_eq!(s2.get(&format!("/api/v1/deals/{id}")).await.status(), StatusCode::OK);
    // …and got a task to take it over, linked to the deal.
    let tasks = s2.get("/api/v1/activities?owner=me&status=planned").await.json();
    let task = &tasks["items"][0];
    assert!(task["subject"].as_str().unwrap().ends_with("Take over the deal: Handover deal"), "{tasks}");
    assert_eq!(task["deal_id"], id);
    assert_eq!(task["kind"], "task");
    assert_eq!(s1.get(&format!("/api/v1/deals/{id}")).await.status(), StatusCode::NOT_FOUND);
    let nid = n[0]["id"].as_str().unwrap();
    assert_eq!(s1.post(&format!("/api/v1/notifications/{nid}/read"), &json!({})).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        s2.post(&format!("/api/v1/notifications/{nid}/read"), &json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(s2.get("/api/v1/notifications").await.json()[0]["read"], true);
    app.finish().await;
}

#[engines]
async fn a_lost_deal_needs_a_reason_keeps_its_stage_and_can_be_reopened(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let (_, stages) = pipeline(&c).await;
    let d = new_deal(&c, json!({"title": "Lost cause", "stage_id": stage(&stages, "Needs analysis")})).await;
    let id = d["id"].as_str().unwrap();
    let close = |body: Value, v: String| {
        let c = &c;
        async move {
            c.send(reqwest::Method::POST, &format!("/api/v1/deals/{id}/close"), Some(&body), &[("if-match", &v)]).await
        }
    };
    let r = c.post(&format!("/api/v1/deals/{id}/close"), &json!({"outcome": "lost"})).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_REQUIRED);
    let r = close(json!({"outcome": "lost"}), etag(&d)).await;
    assert_eq!(r.error_fields(), ["lost_reason_id"]);
    let r = close(json!({"outcome": "lost", "lost_reason_id": "made-up"}), etag(&d)).await;
    assert_eq!(r.error_fields(), ["lost_reason_id"]);
    let reasons = c.get("/api/v1/lost-reasons").await.json();
    let price = reasons.as_array().unwrap().iter().find(|r| r["name_en"] == "Price").unwrap()["id"].clone();
    let r = close(json!({"outcome": "lost", "lost_reason_id": price, "lost_reason_text": "20% over budget"}), etag(&d))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let lost = r.json();
    assert_eq!(lost["status"], "lost");
    assert_eq!(lost["probability"], 0);
    assert_eq!(lost["lost_stage_id"], stage(&stages, "Needs analysis"));
    assert_eq!(lost["lost_reason_text"], "20% over budget");
    // A closed deal does not move and is not closed twice.
    let r = c.post(&format!("/api/v1/deals/{id}/move"), &json!({"stage_id": stage(&stages, "Qualification")})).await;
    assert!(r.text.contains("deal_closed"), "{}", r.text);
    assert_eq!(close(json!({"outcome": "won"}), etag(&lost)).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Reopen, then win.
    let r =
        c.send(reqwest::Method::POST, &format!("/api/v1/deals/{id}/reopen"), None, &[("if-match", &etag(&lost))]).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let open = r.json();
    assert_eq!(open["status"], "open");
    assert_eq!(open["stage_id"], stage(&stages, "Needs analysis"));
    assert_eq!(open["lost_reason_id"], "");
    let won = close(json!({"outcome": "won"}), etag(&open)).await.json();
    assert_eq!(won["status"], "won");
    assert_eq!(won["probability"], 100);
    let events = c.get(&format!("/api/v1/deals/{id}/stages")).await.json()["events"].clone();
    let statuses: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from_status"].as_str().unwrap().into(), e["to_status"].as_str().unwrap().into()))
        .collect();
    let want = [("", "open"), ("open", "lost"), ("lost", "open"), ("open", "won")];
    assert_eq!(statuses, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let hist = c.get(&format!("/api/v1/deals/{id}/history")).await.json();
    let actions: Vec<&str> = hist.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["won", "reopen", "lost", "create"]);
    app.finish().await;
}

#[engines]
async fn line_totals_are_exact_in_minor_units_and_the_negotiation_log_keeps_every_price_change(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let c = app.api("acme", "sales1@acme.test").await;
    let r = c.post("/api/v1/products", &json!({"sku": "X", "name_en": "X"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "salespeople do not edit the catalogue");
    let lic = admin
        .post(
            "/api/v1/products",
            &json!({"sku": "LIC-1", "name_ru": "Лицензия", "name_en": "Licence", "unit": "pcs",
                    "prices": [{"currency": "RUB", "price": "333.33"}, {"currency": "USD", "price": "4.10"}]}),
        )
        .await;
    assert_eq!(lic.status(), StatusCode::CREATED, "{}", lic.text);
    let lic = lic.json()["id"].as_str().unwrap().to_string();
    let r = admin.post("/api/v1/products", &json!({"sku": "LIC-1", "name_en": "Again"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = admin
        .post("/api/v1/products", &json!({"sku": "B", "name_en": "B", "prices": [{"currency": "XXX", "price": "1"}]}))
        .await;
    assert_eq!(r.error_fields(), ["prices[0].currency"]);
    let svc =
        admin.post("/api/v1/products", &json!({"sku": "SVC", "name_en": "Setup", "kind": "service"})).await.json();
    let svc = svc["id"].as_str().unwrap().to_string();

    // 3 × 333.33 −10% = 899.991 → 899.99; 0.333 h × 100.00 = 33.30; 1 × 0.01 −50% = 0.005 → 0.01.
    let d = new_deal(
        &c,
        json!({"title": "Licences", "amount": "5", "lines": [
            {"product_id": lic, "quantity": 3, "discount": "10"},
            {"product_id": svc, "quantity": "0,333", "unit_price": "100"},
            {"product_id": svc, "quantity": 1, "unit_price": "0.01", "discount": 50}
        ]}),
    )
    .await;
    let totals: Vec<i64> = d["lines"].as_array().unwrap().iter().map(|l| l["total_minor"].as_i64().unwrap()).collect();
    assert_eq!(totals, [89_999, 3_330, 1]);
    assert_eq!(d["amount_minor"], 89_999 + 3_330 + 1, "the amount follows the lines, not the typed 5");
    assert_eq!(d["has_lines"], true);
    let id = d["id"].as_str().unwrap().to_string();
    // A line without a price in the deal's currency needs one.
    let r = c.post("/api/v1/deals", &json!({"title": "T", "currency": "EUR", "lines": [{"product_id": lic}]})).await;
    assert_eq!(r.error_fields(), ["lines[0].unit_price"]);
    let r = c
        .post(
            "/api/v1/deals",
            &json!({"title": "T", "lines": [{"product_id": lic, "quantity": "-1", "discount": "101"}]}),
        )
        .await;
    assert_eq!(r.error_fields(), ["lines[0].quantity", "lines[0].discount"]);

    // Negotiation: a bigger discount with a comment, then the lines dropped for a typed amount.
    let r = c
        .patch(
            &format!("/api/v1/deals/{id}"),
            &json!({"lines": [{"product_id": lic, "quantity": 3, "discount": "15"}], "price_comment": "Customer asked for 15%"}),
            &etag(&d),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let d2 = r.json();
    assert_eq!(d2["amount_minor"], 84_999, "3 × 333.33 −15% = 849.9915 → 849.99");
    let r = c
        .patch(
            &format!("/api/v1/deals/{id}"),
            &json!({"lines": [], "amount": "800", "price_comment": "Final offer"}),
            &etag(&d2),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["amount_minor"], 80_000);
    assert_eq!(r.json()["has_lines"], false);
    let log = c.get(&format!("/api/v1/deals/{id}/price-log")).await.json();
    let log = log.as_array().unwrap();
    let comments: Vec<&str> = log.iter().map(|e| e["comment"].as_str().unwrap()).collect();
    assert!(comments.contains(&"Final offer") && comments.contains(&"Customer asked for 15%"), "{log:?}");
    let last = &log[0];
    assert_eq!(last["what"], "amount");
    assert_eq!(last["old_value"], "849.99 RUB");
    assert_eq!(last["new_value"], "800.00 RUB");
    assert_eq!(last["user_name"], "sales1");
    assert!(log.iter().any(|e| e["what"] == "line" && e["comment"] == "Customer asked for 15%"), "{log:?}");
    app.finish().await;
}

#[engines]
async fn stalled_and_overdue_deals_are_flagged_as_the_clock_moves(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let (pid, stages) = pipeline(&c).await;
    let tomorrow = karta_core::clock::today(app.clock.now() + DAY);
    let d = new_deal(&c, json!({"title": "Slow deal", "close_date": tomorrow})).await;
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!((d["stalled"].as_bool(), d["overdue"].as_bool()), (Some(false), Some(false)));
    let flagged = |f: &'static str| {
        let c = &c;
        async move {
            let r = c.get(&format!("/api/v1/deals?filter={f}:eq:1")).await;
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
            r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(flagged("stalled").await.is_empty() && flagged("overdue").await.is_empty());
    // Qualification allows 14 days; the close date is tomorrow.
    app.clock.advance(2 * DAY);
    let d = c.get(&format!("/api/v1/deals/{id}")).await.json();
    assert_eq!((d["stalled"].as_bool(), d["overdue"].as_bool()), (Some(false), Some(true)));
    assert_eq!(flagged("overdue").await, std::slice::from_ref(&id));
    app.clock.advance(13 * DAY);
    assert_eq!(flagged("stalled").await, std::slice::from_ref(&id));
    let b = c.get(&format!("/api/v1/board?pipeline={pid}")).await.json();
    let card = &b["columns"][0]["deals"][0];
    assert_eq!((card["stalled"].as_bool(), card["overdue"].as_bool()), (Some(true), Some(true)));
    // Moving on resets the time in stage; winning clears both flags.
    let d = c
        .post(&format!("/api/v1/deals/{id}/move"), &json!({"stage_id": stage(&stages, "Needs analysis")}))
        .await
        .json();
    assert_eq!(d["stalled"], false);
    let won = c
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/deals/{id}/close"),
            Some(&json!({"outcome": "won"})),
            &[("if-match", &etag(&d))],
        )
        .await
        .json();
    assert_eq!((won["stalled"].as_bool(), won["overdue"].as_bool()), (Some(false), Some(false)));
    app.finish().await;
}

#[engines]
async fn a_salesperson_sees_only_own_deals_on_the_board_list_search_and_api_and_tenants_never_meet(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let manager = app.api("acme", "manager@acme.test").await;
    let other = app.api("globex", "admin@globex.test").await;
    let mine = new_deal(&s1, json!({"title": "Alpha opportunity", "amount": "100"})).await;
    let theirs = new_deal(&s2, json!({"title": "Alpha rival", "amount": "250"})).await;
    let (mid, tid) = (mine["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());

    let ids = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&s1.get("/api/v1/deals").await.json()), [mid]);
    assert_eq!(ids(&s2.get("/api/v1/deals").await.json()), [tid]);
    assert_eq!(s1.get(&format!("/api/v1/deals/{tid}")).await.status(), StatusCode::NOT_FOUND);
    let r = s1.patch(&format!("/api/v1/deals/{tid}"), &json!({"title": "Mine now"}), "\"1\"").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        s1.post(&format!("/api/v1/deals/{tid}/move"), &json!({"stage_id": "x"})).await.status(),
        StatusCode::NOT_FOUND
    );
    let board = s1.get("/api/v1/board").await.json();
    assert_eq!(board["columns"][0]["count"], 1);
    assert_eq!(board["columns"][0]["sums"], json!([["RUB", 10_000]]));
    // The manager's team holds sales1 only; the board sums what the team owns.
    let board = manager.get("/api/v1/board").await.json();
    assert_eq!(board["columns"][0]["count"], 1);
    let hits = s1.get("/api/v1/search?q=alpha").await.json();
    let names: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alpha opportunity"]);
    assert_eq!(hits[0]["entity"], "deal");
    // Another tenant sees nothing, by any route.
    assert_eq!(other.get(&format!("/api/v1/deals/{mid}")).await.status(), StatusCode::NOT_FOUND);
    assert!(ids(&other.get("/api/v1/deals").await.json()).is_empty());
    assert_eq!(other.get("/api/v1/board").await.json()["columns"][0]["count"], 0);
    assert!(other.get("/api/v1/search?q=alpha").await.json().as_array().unwrap().is_empty());
    assert_eq!(other.get(&format!("/api/v1/deals/{mid}/stages")).await.status(), StatusCode::NOT_FOUND);
    // A deal cannot point at another tenant's account or at an account out of scope.
    let acc = s2.post("/api/v1/accounts", &json!({"name": "Sales2 Co"})).await.json();
    let r = s1.post("/api/v1/deals", &json!({"title": "T", "account_id": acc["id"]})).await;
    assert_eq!(r.error_fields(), ["account_id"]);
    app.finish().await;
}

#[engines]
async fn a_deal_is_found_by_its_accounts_current_name_after_a_rename_a_merge_and_its_undo(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let zephyr = c.post("/api/v1/accounts", &json!({"name": "Zephyr Ltd"})).await.json();
    let zid = zephyr["id"].as_str().unwrap();
    new_deal(&c, json!({"title": "Rollout", "account_id": zid})).await;
    assert_eq!(c.found("zephyr", "deal").await, ["Rollout"]);

    let r = c.patch(&format!("/api/v1/accounts/{zid}"), &json!({"name": "Quasar Group"}), &etag(&zephyr)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(c.found("quasar", "deal").await, ["Rollout"]);
    assert!(c.found("zephyr", "deal").await.is_empty(), "the old name no longer finds the deal");
    // A link field's suggestions: one entity only; an unknown one is refused.
    let ui = app.browser("admin@acme.test").await;
    let s = ui.get("/search/suggest?q=quasar&kind=accounts").await.json();
    let names: Vec<&str> = s.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Quasar Group"], "the deal that mentions it is not an account");
    assert_eq!(ui.get("/search/suggest?q=quasar&kind=bogus").await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Nimbus's deal moves to the survivor in a merge, and back on undo.
    let nimbus = c.post("/api/v1/accounts", &json!({"name": "Nimbus Inc"})).await.json();
    let nid = nimbus["id"].as_str().unwrap();
    new_deal(&c, json!({"title": "Pilot", "account_id": nid})).await;
    let r = c.post("/api/v1/accounts/merge", &json!({"survivor_id": zid, "merged_ids": [nid]})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let merge_id = r.json()["merge_id"].as_str().unwrap().to_string();
    assert_eq!(c.found("quasar", "deal").await, ["Pilot", "Rollout"]);
    assert!(c.found("nimbus", "deal").await.is_empty());
    let r = c.post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(c.found("nimbus", "deal").await, ["Pilot"]);
    assert_eq!(c.found("quasar", "deal").await, ["Rollout"]);
    app.finish().await;
}
