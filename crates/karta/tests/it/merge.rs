//! Duplicates and merging: candidates before create, the duplicates report, merging contacts
//! and accounts with everything related to them, undo, permissions, and the UI flows.

use crate::common::{Client, Kind, TestApp};
use karta_kernel::Q;
use karta_test_macros::engines;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create(c: &Client, kind: &str, body: Value) -> String {
    let r = c.post(&format!("/api/v1/{kind}"), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn link(c: &Client, contact: &str, account: &str, role: &str) {
    let r = c
        .send(Method::PUT, &format!("/api/v1/contacts/{contact}/accounts/{account}"), Some(&json!({"role": role})), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", r.text);
}

async fn dups(c: &Client, kind: &str, query: &str, body: Value) -> Vec<(String, Vec<String>)> {
    let r = c.post(&format!("/api/v1/{kind}/duplicates{query}"), &body).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let reasons = x["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
            (x["id"].as_str().unwrap().to_string(), reasons)
        })
        .collect()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    app.db
        .opt(Q::new(format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = $1")).bind(&app.tenant_a))
        .await
        .unwrap()
        .map_or(0, |r| r.i("n"))
}

/// Every related row of the tenant, as text: what a merge moves and an undo must put back.
async fn related_rows(app: &TestApp) -> Vec<String> {
    let queries = [
        "SELECT 'link' AS t, contact_id || '>' || account_id || '>' || role || '>' || CAST(created_at AS TEXT) AS v FROM contact_accounts WHERE tenant_id = $1",
        "SELECT 'dc' AS t, deal_id || '>' || contact_id || '>' || role AS v FROM deal_contacts WHERE tenant_id = $1",
        "SELECT 'deal' AS t, id || '>' || account_id AS v FROM deals WHERE tenant_id = $1",
        "SELECT 'act' AS t, id || '>' || account_id || '>' || contact_id AS v FROM activities WHERE tenant_id = $1",
        "SELECT 'part' AS t, activity_id || '>' || kind || '>' || ref_id AS v FROM activity_participants WHERE tenant_id = $1",
        "SELECT 'note' AS t, id || '>' || entity_id AS v FROM notes WHERE tenant_id = $1",
        "SELECT 'parent' AS t, id || '>' || parent_id AS v FROM accounts WHERE tenant_id = $1",
        "SELECT 'date' AS t, entity_id || '>' || md || '>' || label AS v FROM party_dates WHERE tenant_id = $1",
        "SELECT 'hist' AS t, id || '>' || entity_id AS v FROM audit_log WHERE tenant_id = $1 AND action NOT IN ('merge', 'merge_undone')",
    ];
    let mut out = Vec::new();
    for sql in queries {
        for r in app.db.all(Q::new(sql).bind(&app.tenant_a)).await.unwrap() {
            out.push(format!("{}:{}", r.s("t"), r.s("v")));
        }
    }
    out.sort();
    out
}

/// A record's profile without what changes on every write.
fn profile(mut v: Value) -> Value {
    for k in ["version", "updated_at", "updated_by", "owner_name"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

fn ids_of(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect();
    out.sort();
    out
}

#[engines]
async fn candidates_are_found_by_any_email_phone_and_name_without_creating_anything(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let ivan = create(
        &c,
        "contacts",
        json!({"first_name": "Иван", "last_name": "Петров", "middle_name": "Сергеевич",
               "emails": [{"value": "Ivan.Petrov@Example.com"}], "phones": [{"value": "+7 916 123-45-67"}]}),
    )
    .await;
    let alena = create(
        &c,
        "contacts",
        json!({"first_name": "Алёна", "last_name": "Ёлкина", "emails": [{"value": "a@x.ru"}, {"value": "second@x.ru"}],
               "phones": [{"value": "+7 495 000-00-01"}, {"value": "+7 903 555-44-33"}]}),
    )
    .await;
    let before = count(&app, "contacts").await;
    // The same e-mail in another case; a secondary e-mail; a phone typed another way.
    assert_eq!(
        dups(&c, "contacts", "", json!({"last_name": "X", "emails": [{"value": "ivan.petrov@example.com"}]})).await,
        [(ivan.clone(), vec!["email".to_string()])]
    );
    assert_eq!(
        dups(&c, "contacts", "", json!({"last_name": "X", "emails": [{"value": "SECOND@x.ru"}]})).await,
        [(alena.clone(), vec!["email".to_string()])]
    );
    assert_eq!(
        dups(&c, "contacts", "", json!({"last_name": "X", "phones": [{"value": "8 (903) 555 44 33"}]})).await,
        [(alena.clone(), vec!["phone".to_string()])]
    );
    // A name in another case, with ё written as е, with or without the middle name.
    assert_eq!(
        dups(&c, "contacts", "", json!({"first_name": "алена", "last_name": "ЕЛКИНА"})).await,
        [(alena.clone(), vec!["name".to_string()])]
    );
    assert_eq!(
        dups(&c, "contacts", "", json!({"first_name": "Иван", "last_name": "Петров"})).await,
        [(ivan.clone(), vec!["name".to_string()])]
    );
    // Several reasons at once are listed together; the record itself can be left out.
    let both = json!({"first_name": "Иван", "last_name": "Петров", "phones": [{"value": "89161234567"}]});
    assert_eq!(
        dups(&c, "contacts", "", both.clone()).await,
        [(ivan.clone(), vec!["phone".to_string(), "name".to_string()])]
    );
    assert!(dups(&c, "contacts", &format!("?exclude_id={ivan}"), both).await.is_empty());
    // Not a duplicate: another first name, a substring of an e-mail.
    assert!(dups(&c, "contacts", "", json!({"first_name": "Пётр", "last_name": "Петров"})).await.is_empty());
    assert!(dups(&c, "contacts", "", json!({"last_name": "X", "emails": [{"value": "petrov@example.com"}]}))
        .await
        .is_empty());
    // With an account, names are compared among that account's contacts only.
    let acc = create(&c, "accounts", json!({"name": "ООО Ромашка", "tax_id": "7701234567"})).await;
    let other_acc = create(&c, "accounts", json!({"name": "Лютик"})).await;
    link(&c, &ivan, &acc, "").await;
    let name = json!({"first_name": "Иван", "last_name": "Петров"});
    assert_eq!(dups(&c, "contacts", &format!("?account_id={acc}"), name.clone()).await.len(), 1);
    assert!(dups(&c, "contacts", &format!("?account_id={other_acc}"), name).await.is_empty());
    // Accounts: the normalised name, or the tax number.
    assert_eq!(
        dups(&c, "accounts", "", json!({"name": "  ооо   РОМАШКА "})).await,
        [(acc.clone(), vec!["name".to_string()])]
    );
    assert_eq!(
        dups(&c, "accounts", "", json!({"name": "Другое", "tax_id": "7701234567"})).await,
        [(acc.clone(), vec!["tax_id".to_string()])]
    );
    // An invalid record is refused as create would refuse it; nothing was created.
    let r = c.post("/api/v1/contacts/duplicates", &json!({"last_name": "X", "emails": [{"value": "bad"}]})).await;
    assert_eq!(r.error_fields(), ["emails[0]"]);
    assert_eq!(count(&app, "contacts").await, before);
    // A salesperson is told only about records they may read.
    let s1 = app.api("acme", "sales1@acme.test").await;
    assert!(dups(&s1, "contacts", "", json!({"first_name": "Иван", "last_name": "Петров"})).await.is_empty());
    let own = create(&s1, "contacts", json!({"first_name": "Иван", "last_name": "Петров"})).await;
    assert_eq!(
        dups(&s1, "contacts", "", json!({"first_name": "Иван", "last_name": "Петров"})).await,
        [(own, vec!["name".to_string()])]
    );
    app.finish().await;
}

#[engines]
async fn the_duplicates_report_lists_likely_pairs_within_the_callers_scope(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let a1 = create(&admin, "contacts", json!({"last_name": "Один", "emails": [{"value": "same@x.ru"}]})).await;
    let a2 = create(&admin, "contacts", json!({"last_name": "Два", "emails": [{"value": "same@x.ru"}]})).await;
    let p1 = create(&s1, "contacts", json!({"last_name": "Три", "phones": [{"value": "+7 916 000-00-01"}]})).await;
    let p2 = create(&s1, "contacts", json!({"last_name": "Четыре", "phones": [{"value": "89160000001"}]})).await;
    // The same name at the same account is a pair; at different accounts it is not.
    let acc = create(&admin, "accounts", json!({"name": "Альфа"})).await;
    let acc2 = create(&admin, "accounts", json!({"name": "Бета"})).await;
    let n1 = create(&admin, "contacts", json!({"first_name": "Олег", "last_name": "Смирнов"})).await;
    let n2 = create(&admin, "contacts", json!({"first_name": "олег", "last_name": "СМИРНОВ"})).await;
    let n3 = create(&admin, "contacts", json!({"first_name": "Олег", "last_name": "Смирнов"})).await;
    link(&admin, &n1, &acc, "").await;
    link(&admin, &n2, &acc, "").await;
    link(&admin, &n3, &acc2, "").await;
    // A trashed record is not a duplicate any more.
    let gone = create(&admin, "contacts", json!({"last_name": "Пять", "emails": [{"value": "gone@x.ru"}]})).await;
    create(&admin, "contacts", json!({"last_name": "Шесть", "emails": [{"value": "gone@x.ru"}]})).await;
    assert_eq!(admin.delete(&format!("/api/v1/contacts/{gone}")).await.status(), StatusCode::NO_CONTENT);

    let r = admin.get("/api/v1/contacts/duplicates/report").await.json();
    let groups: Vec<(String, Vec<String>)> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["reason"].as_str().unwrap().to_string(), ids_of(&g["records"])))
        .collect();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        groups,
        [
            ("email".to_string(), sorted(vec![a1.clone(), a2.clone()])),
            ("phone".to_string(), sorted(vec![p1.clone(), p2.clone()])),
            ("name".to_string(), sorted(vec![n1.clone(), n2.clone()])),
        ]
    );
    assert_eq!(r["items"][2]["account_name"], "Альфа");
    assert!(r["next_cursor"].is_null());
    // Keyset pages: one group a page, the same groups in the same order.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let url = if after.is_empty() {
            "/api/v1/contacts/duplicates/report?limit=1".to_string()
        } else {
            format!("/api/v1/contacts/duplicates/report?limit=1&after={}", urlencoding(&after))
        };
        let page = admin.get(&url).await.json();
        for g in page["items"].as_array().unwrap() {
            paged.push(g["reason"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => after = c.to_string(),
            None => break,
        }
    }
    assert_eq!(paged, ["email", "phone", "name"]);
    // A salesperson sees only pairs among their own records.
    let r = s1.get("/api/v1/contacts/duplicates/report").await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(ids_of(&r["items"][0]["records"]), sorted(vec![p1, p2]));
    // Accounts by name.
    create(&admin, "accounts", json!({"name": "альфа"})).await;
    let r = admin.get("/api/v1/accounts/duplicates/report").await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["reason"], "name");
    assert_eq!(admin.get("/api/v1/contacts/duplicates/report?after=bogus").await.error_fields(), ["after"]);
    // The API document describes these calls.
    let doc = admin.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/{kind}/duplicates",
        "/api/v1/{kind}/duplicates/report",
        "/api/v1/{kind}/merge",
        "/api/v1/merges/{id}/undo",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing");
    }
    app.finish().await;
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[engines]
async fn a_contact_merge_moves_every_related_item_and_undo_restores_both_records(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let acc1 = create(&c, "accounts", json!({"name": "Альфа"})).await;
    let acc2 = create(&c, "accounts", json!({"name": "Бета"})).await;
    let keep = create(
        &c,
        "contacts",
        json!({"first_name": "Иван", "last_name": "Петров", "job_title": "Директор",
               "emails": [{"value": "ivan@x.ru"}], "tags": ["vip"]}),
    )
    .await;
    let gone = create(
        &c,
        "contacts",
        json!({"first_name": "Иван", "last_name": "Петров", "job_title": "Генеральный директор", "birthday": "1980-05-17",
               "emails": [{"value": "petrov@y.ru"}], "phones": [{"value": "+7 916 111-22-33"}], "tags": ["new"]}),
    )
    .await;
    // A custom link field of accounts that points at the other contact.
    let f = c
        .post(
            "/api/v1/custom-fields",
            &json!({"entity": "account", "kind": "link", "label_en": "Main contact", "target": "contact"}),
        )
        .await;
    assert_eq!(f.status(), StatusCode::CREATED, "{}", f.text);
    let key = f.json()["key"].as_str().unwrap().to_string();
    let acc3 = create(&c, "accounts", json!({"name": "Гамма", "custom": {key.clone(): gone}})).await;
    let main_contact = |v: Value| v["custom"][key.as_str()].as_str().unwrap_or_default().to_string();
    // Links: both at Альфа (the survivor's link stays), the other also at Бета.
    link(&c, &keep, &acc1, "CEO").await;
    link(&c, &gone, &acc1, "директор").await;
    link(&c, &gone, &acc2, "закупки").await;
    // Deals: one with the other only, one with both.
    let d1 = c
        .post("/api/v1/deals", &json!({"title": "Одна", "contacts": [{"contact_id": gone, "role": "champion"}]}))
        .await;
    assert_eq!(d1.status(), StatusCode::CREATED, "{}", d1.text);
    let d1 = d1.json()["id"].as_str().unwrap().to_string();
    let d2 = c
        .post(
            "/api/v1/deals",
            &json!({"title": "Обе", "contacts": [{"contact_id": keep, "role": "user"}, {"contact_id": gone, "role": "other"}]}),
        )
        .await;
    assert_eq!(d2.status(), StatusCode::CREATED, "{}", d2.text);
    // Activities: linked to the other, and a meeting with both as participants.
    let now = karta_core::now_ms();
    let call = c
        .post("/api/v1/activities", &json!({"kind": "call", "subject": "Звонок", "due_at": now, "contact_id": gone}))
        .await;
    assert_eq!(call.status(), StatusCode::CREATED, "{}", call.text);
    let call = call.json()["id"].as_str().unwrap().to_string();
    let meet = c
        .post(
            "/api/v1/activities",
            &json!({"kind": "meeting", "subject": "Встреча", "starts_at": now, "ends_at": now + 3_600_000, "contact_id": keep,
                    "participants": [{"kind": "contact", "id": keep}, {"kind": "contact", "id": gone}]}),
        )
        .await;
    assert_eq!(meet.status(), StatusCode::CREATED, "{}", meet.text);
    // A note and an edit in the other's history.
    let r = c.post(&format!("/api/v1/contacts/{gone}/notes"), &json!({"body": "Любит чай"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let g = c.get(&format!("/api/v1/contacts/{gone}")).await;
    let r = c.patch(&format!("/api/v1/contacts/{gone}"), &json!({"segment": "B2B"}), &g.header("etag")).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);

    let keep_before = profile(c.get(&format!("/api/v1/contacts/{keep}")).await.json());
    let gone_before = profile(c.get(&format!("/api/v1/contacts/{gone}")).await.json());
    let rows_before = related_rows(&app).await;
    let keep_etag = c.get(&format!("/api/v1/contacts/{keep}")).await.header("etag");

    // A stale survivor version is refused and changes nothing.
    let body = json!({"survivor_id": keep, "merged_ids": [gone],
                      "fields": {"job_title": gone, "birthday": gone, "emails": "*", "phones": gone}});
    let r = c.send(Method::POST, "/api/v1/contacts/merge", Some(&body), &[("if-match", "\"99\"")]).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{}", r.text);
    assert_eq!(related_rows(&app).await, rows_before);
    // Bad choices name the field.
    let bad = json!({"survivor_id": keep, "merged_ids": [gone], "fields": {"job_title": "nobody", "nonsense": keep}});
    let mut f = c.post("/api/v1/contacts/merge", &bad).await.error_fields();
    f.sort();
    assert_eq!(f, ["fields.job_title", "fields.nonsense"]);

    let r = c.send(Method::POST, "/api/v1/contacts/merge", Some(&body), &[("if-match", &keep_etag)]).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let merge_id = r.json()["merge_id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["merge"]["merged"][0]["id"], gone.as_str());

    // The survivor took the chosen values and kept its own elsewhere.
    let s = c.get(&format!("/api/v1/contacts/{keep}")).await.json();
    assert_eq!(s["job_title"], "Генеральный директор");
    assert_eq!(s["birthday"], "1980-05-17");
    assert_eq!(s["emails"], json!([{"value": "ivan@x.ru", "label": ""}, {"value": "petrov@y.ru", "label": ""}]));
    assert_eq!(s["phones"][0]["value"], "+79161112233");
    assert_eq!(s["tags"], json!(["vip"]));
    // The other is in the trash, pointing at the survivor.
    assert_eq!(c.get(&format!("/api/v1/contacts/{gone}")).await.status(), StatusCode::NOT_FOUND);
    let r = app
        .db
        .opt(
            Q::new("SELECT merged_into, deleted_at FROM contacts WHERE tenant_id = $1 AND id = $2")
                .bind(&app.tenant_a)
                .bind(&gone),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.s("merged_into"), keep);
    assert!(r.oi("deleted_at").is_some());
    // Links: both accounts, the survivor's own role kept where both were linked.
    let rel = c.get(&format!("/api/v1/contacts/{keep}/related")).await.json();
    let roles: Vec<(String, String)> = rel
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["name"].as_str().unwrap().to_string(), x["role"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(roles, [("Альфа".to_string(), "CEO".to_string()), ("Бета".to_string(), "закупки".to_string())]);
    assert_eq!(count(&app, "contact_accounts").await, 2);
    // Deals: the survivor is on both, once.
    let deal = c.get(&format!("/api/v1/deals/{d1}")).await.json();
    assert_eq!(deal["contacts"][0]["contact_id"], keep.as_str());
    assert_eq!(count(&app, "deal_contacts").await, 2);
    // Activities and participants.
    let a = c.get(&format!("/api/v1/activities/{call}")).await.json();
    assert_eq!(a["contact_id"], keep.as_str());
    // Custom link values follow the survivor.
    assert_eq!(main_contact(c.get(&format!("/api/v1/accounts/{acc3}")).await.json()), keep);
    assert_eq!(count(&app, "activity_participants").await, 1);
    // Notes and history.
    let notes = c.get(&format!("/api/v1/contacts/{keep}/notes")).await.json();
    assert_eq!(notes[0]["body"], "Любит чай");
    let hist = c.get(&format!("/api/v1/contacts/{keep}/history")).await.json();
    let actions: Vec<&str> = hist.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions[0], "merge");
    assert_eq!(actions.iter().filter(|a| **a == "create").count(), 2, "{actions:?}");
    assert!(hist[0]["changes"]["job_title"].is_object());
    // The birthday reminder follows the chosen birthday.
    let dates = app
        .db
        .all(Q::new("SELECT entity_id FROM party_dates WHERE tenant_id = $1 AND md = '05-17'").bind(&app.tenant_a))
        .await
        .unwrap();
    assert!(dates.iter().any(|r| r.s("entity_id") == keep));
    // Merging a record already merged away is refused.
    let again = json!({"survivor_id": keep, "merged_ids": [gone]});
    assert_eq!(c.post("/api/v1/contacts/merge", &again).await.status(), StatusCode::NOT_FOUND);

    // Undo: both records and every moved row are exactly as before.
    let r = c.post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert!(r.json()["undone_at"].is_i64());
    assert_eq!(profile(c.get(&format!("/api/v1/contacts/{keep}")).await.json()), keep_before);
    assert_eq!(profile(c.get(&format!("/api/v1/contacts/{gone}")).await.json()), gone_before);
    assert_eq!(related_rows(&app).await, rows_before);
    assert_eq!(main_contact(c.get(&format!("/api/v1/accounts/{acc3}")).await.json()), gone);
    let r = app
        .db
        .opt(
            Q::new("SELECT merged_into FROM contacts WHERE tenant_id = $1 AND id = $2").bind(&app.tenant_a).bind(&gone),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.s("merged_into"), "");
    let hist = c.get(&format!("/api/v1/contacts/{gone}/history")).await.json();
    assert_eq!(hist[0]["action"], "merge_undone");
    // An undo happens once.
    let r = c.post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    app.finish().await;
}

#[engines]
async fn an_account_merge_moves_deals_activities_children_and_contacts_and_undo_puts_them_back(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let keep = create(&c, "accounts", json!({"name": "Ромашка", "industry": "Розница"})).await;
    let gone = create(&c, "accounts", json!({"name": "ООО Ромашка", "tax_id": "7701234567", "industry": "Опт"})).await;
    let third = create(&c, "accounts", json!({"name": "Ромашка-Юг"})).await;
    let child = create(&c, "accounts", json!({"name": "Филиал", "parent_id": gone})).await;
    let person = create(&c, "contacts", json!({"last_name": "Иванов"})).await;
    let both = create(&c, "contacts", json!({"last_name": "Петров"})).await;
    link(&c, &person, &gone, "").await;
    link(&c, &both, &gone, "бухгалтер").await;
    link(&c, &both, &keep, "директор").await;
    let deal = c.post("/api/v1/deals", &json!({"title": "Поставка", "account_id": gone})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deal3 = c.post("/api/v1/deals", &json!({"title": "Юг", "account_id": third})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = karta_core::now_ms();
    let task = c
        .post("/api/v1/activities", &json!({"kind": "task", "subject": "Счёт", "due_at": now, "account_id": third}))
        .await;
    assert_eq!(task.status(), StatusCode::CREATED, "{}", task.text);
    let r = c.post(&format!("/api/v1/accounts/{third}/notes"), &json!({"body": "Заметка"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rows_before = related_rows(&app).await;
    let keep_before = profile(c.get(&format!("/api/v1/accounts/{keep}")).await.json());

    let body = json!({"survivor_id": keep, "merged_ids": [gone, third], "fields": {"tax_id": gone, "name": gone}});
    let r = c.post("/api/v1/accounts/merge", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let merge_id = r.json()["merge_id"].as_str().unwrap().to_string();
    let s = c.get(&format!("/api/v1/accounts/{keep}")).await.json();
    assert_eq!(
        (s["name"].as_str(), s["tax_id"].as_str(), s["industry"].as_str()),
        (Some("ООО Ромашка"), Some("7701234567"), Some("Розница"))
    );
    assert_eq!(c.get(&format!("/api/v1/deals/{deal}")).await.json()["account_id"], keep.as_str());
    assert_eq!(c.get(&format!("/api/v1/deals/{deal3}")).await.json()["account_id"], keep.as_str());
    assert_eq!(c.get(&format!("/api/v1/accounts/{child}")).await.json()["parent_id"], keep.as_str());
    let rel = c.get(&format!("/api/v1/accounts/{keep}/related")).await.json();
    assert_eq!(rel.as_array().unwrap().len(), 2);
    assert_eq!(count(&app, "contact_accounts").await, 2);
    let tl = c.get(&format!("/api/v1/accounts/{keep}/timeline")).await;
    assert!(tl.text.contains("Счёт"), "{}", tl.text);
    assert_eq!(c.get(&format!("/api/v1/accounts/{keep}/notes")).await.json()[0]["body"], "Заметка");
    for id in [&gone, &third] {
        assert_eq!(c.get(&format!("/api/v1/accounts/{id}")).await.status(), StatusCode::NOT_FOUND);
    }
    let m = c.get(&format!("/api/v1/merges/{merge_id}")).await.json();
    assert_eq!(m["merged"].as_array().unwrap().len(), 2);
    assert!(m["moved"].as_i64().unwrap() >= 6);

    let r = c.post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(related_rows(&app).await, rows_before);
    assert_eq!(profile(c.get(&format!("/api/v1/accounts/{keep}")).await.json()), keep_before);
    for id in [&gone, &third] {
        assert_eq!(c.get(&format!("/api/v1/accounts/{id}")).await.status(), StatusCode::OK);
    }
    app.finish().await;
}

#[engines]
async fn only_someone_who_may_change_and_delete_every_record_can_merge_or_undo(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let viewer = app.api("acme", "viewer@acme.test").await;
    let a = create(&admin, "contacts", json!({"last_name": "А"})).await;
    let b = create(&admin, "contacts", json!({"last_name": "Б"})).await;
    let mine = create(&s1, "contacts", json!({"last_name": "Мой"})).await;
    let mine2 = create(&s1, "contacts", json!({"last_name": "Мой"})).await;
    let theirs = create(&s2, "contacts", json!({"last_name": "Чужой"})).await;
    let merge = |x: &str, y: &str| json!({"survivor_id": x, "merged_ids": [y]});
    // Read-only users cannot merge; a salesperson cannot reach others' records.
    assert_eq!(viewer.post("/api/v1/contacts/merge", &merge(&a, &b)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s1.post("/api/v1/contacts/merge", &merge(&mine, &theirs)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s1.post("/api/v1/contacts/merge", &merge(&theirs, &mine)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s1.post("/api/v1/contacts/merge", &merge(&a, &mine)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.get(&format!("/api/v1/contacts/{theirs}")).await.status(), StatusCode::OK);
    assert_eq!(admin.get(&format!("/api/v1/contacts/{mine}")).await.status(), StatusCode::OK);
    // A record cannot be merged into itself; at least one record is merged.
    assert_eq!(s1.post("/api/v1/contacts/merge", &merge(&mine, &mine)).await.error_fields(), ["merged_ids"]);
    let r = s1.post("/api/v1/contacts/merge", &json!({"survivor_id": mine, "merged_ids": []})).await;
    assert_eq!(r.error_fields(), ["merged_ids"]);
    // Their own records they can merge; others cannot see or undo the merge.
    let r = s1.post("/api/v1/contacts/merge", &merge(&mine, &mine2)).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let id = r.json()["merge_id"].as_str().unwrap().to_string();
    assert_eq!(s2.get(&format!("/api/v1/merges/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s2.post(&format!("/api/v1/merges/{id}/undo"), &json!({})).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(viewer.post(&format!("/api/v1/merges/{id}/undo"), &json!({})).await.status(), StatusCode::FORBIDDEN);
    // Another tenant sees nothing of it.
    let g = app.api("globex", "admin@globex.test").await;
    assert_eq!(g.get(&format!("/api/v1/merges/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s1.post(&format!("/api/v1/merges/{id}/undo"), &json!({})).await.status(), StatusCode::OK);
    app.finish().await;
}

#[engines]
async fn the_create_form_shows_duplicates_and_creates_only_when_confirmed(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "admin@acme.test").await;
    let existing = create(
        &api,
        "contacts",
        json!({"first_name": "Анна", "last_name": "Смирнова", "emails": [{"value": "anna@x.ru"}]}),
    )
    .await;
    let b = app.browser("admin@acme.test").await;
    let csrf = b.get("/contacts/new").await.csrf();
    let before = count(&app, "contacts").await;
    let fields = [("_csrf", csrf.as_str()), ("last_name", "Смирнова"), ("first_name", "Анна"), ("emails", "ANNA@x.ru")];
    let r = b.form("/contacts", &fields).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let d = r.doc();
    let candidates = d.attrs(".dup-candidates a", "href");
    assert!(candidates.contains(&format!("/contacts/{existing}")), "the candidate is linked: {candidates:?}");
    assert_eq!(d.count("input[type=checkbox][name=dup_ok]"), 1);
    assert_eq!(d.attrs("input[name=last_name]", "value"), ["Смирнова"], "the typed values stay in the form");
    assert_eq!(count(&app, "contacts").await, before);
    let mut confirmed = fields.to_vec();
    confirmed.push(("dup_ok", "1"));
    let r = b.form("/contacts", &confirmed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(count(&app, "contacts").await, before + 1);
    // No candidates: saved at once.
    let r = b.form("/contacts", &[("_csrf", csrf.as_str()), ("last_name", "Уникальный")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Accounts too.
    create(&api, "accounts", json!({"name": "Лютик"})).await;
    let r = b.form("/accounts", &[("_csrf", csrf.as_str()), ("name", "ЛЮТИК")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.doc().count("input[type=checkbox][name=dup_ok]"), 1);
    app.finish().await;
}

#[engines]
async fn records_are_merged_through_the_html_form_and_the_merge_is_undone_from_its_page(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "admin@acme.test").await;
    let keep = create(
        &api,
        "contacts",
        json!({"last_name": "Кузнецов", "job_title": "Инженер", "emails": [{"value": "k@x.ru"}]}),
    )
    .await;
    let gone = create(
        &api,
        "contacts",
        json!({"last_name": "Кузнецов", "job_title": "Главный инженер", "emails": [{"value": "k@x.ru"}]}),
    )
    .await;
    let b = app.browser("admin@acme.test").await;
    // The report lists the pair with a merge link; the list page links to the report.
    assert_eq!(b.get("/contacts").await.doc().count("a[href='/contacts/duplicates']"), 1);
    let rep = b.get("/contacts/duplicates").await;
    assert_eq!(rep.status(), StatusCode::OK);
    let merge_links = rep.doc().attrs(".dup-group a[href^='/contacts/merge?']", "href");
    let (by_keep, by_gone) = (format!("ids={keep}"), format!("ids={gone}"));
    assert!(merge_links.iter().any(|h| h.split(['?', '&']).any(|p| p == by_keep || p == by_gone)), "{merge_links:?}");
    let page = b.get(&format!("/contacts/merge?ids={keep}&ids={gone}")).await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    let d = page.doc();
    assert_eq!(d.count("input[type=radio][name='f.job_title']"), 2, "a choice per record");
    assert_eq!(d.count("[name='f.emails']"), 0, "equal values need no choice");
    let csrf = page.csrf();
    let version = api.get(&format!("/api/v1/contacts/{keep}")).await.json()["version"].to_string();
    let vkey = format!("v.{keep}");
    let r = b
        .form(
            "/contacts/merge",
            &[
                ("_csrf", csrf.as_str()),
                ("ids", keep.as_str()),
                ("ids", gone.as_str()),
                (vkey.as_str(), version.as_str()),
                ("survivor", keep.as_str()),
                ("f.job_title", gone.as_str()),
                ("f.last_name", keep.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let done_url = r.header("location");
    assert!(done_url.starts_with("/merges/"));
    assert_eq!(api.get(&format!("/api/v1/contacts/{keep}")).await.json()["job_title"], "Главный инженер");
    let done = b.get(&done_url).await;
    assert_eq!(done.doc().count(&format!("form[method=post][action='{done_url}/undo']")), 1);
    // The merged-away record's page points at the survivor; the survivor's shows the merge.
    let trashed = b.get(&format!("/contacts/{gone}")).await;
    assert_eq!(trashed.status(), StatusCode::OK);
    assert_eq!(trashed.doc().attrs(".merge-note a", "href"), [format!("/contacts/{keep}")], "pointer to the survivor");
    let surv = b.get(&format!("/contacts/{keep}")).await;
    assert!(surv.doc().attrs(".merge-note a", "href").contains(&done_url));
    // Undo from the merge page.
    let r = b.form(&format!("{done_url}/undo"), &[("_csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(api.get(&format!("/api/v1/contacts/{gone}")).await.status(), StatusCode::OK);
    assert_eq!(api.get(&format!("/api/v1/contacts/{keep}")).await.json()["job_title"], "Инженер");
    let again = b.form(&format!("{done_url}/undo"), &[("_csrf", csrf.as_str())]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    app.finish().await;
}

/// The company an export shows for the contact with this last name.
async fn exported_company(c: &Client, last_name: &str) -> String {
    let r = c.get("/api/v1/contacts/export?format=csv&columns=last_name,account").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let line = r.text.lines().find(|l| l.starts_with(&format!("{last_name},"))).unwrap_or_else(|| panic!("{}", r.text));
    line.split_once(',').map(|(_, company)| company.to_string()).unwrap()
}

#[engines]
async fn a_contacts_company_follows_its_links_the_trash_merges_and_their_undo(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let first = create(&c, "accounts", json!({"name": "Альфа"})).await;
    let second = create(&c, "accounts", json!({"name": "Бета"})).await;
    let third = create(&c, "accounts", json!({"name": "Гамма"})).await;
    let person = create(&c, "contacts", json!({"last_name": "Пушкин"})).await;
    assert_eq!(exported_company(&c, "Пушкин").await, "");

    // The earliest link is the contact's company (links a few milliseconds apart).
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
    link(&c, &person, &second, "").await;
    pause().await;
    link(&c, &person, &first, "").await;
    pause().await;
    assert_eq!(exported_company(&c, "Пушкин").await, "Бета");
    let unlink = |a: String| {
        let c = &c;
        let person = &person;
        async move {
            let r = c.send(Method::DELETE, &format!("/api/v1/contacts/{person}/accounts/{a}"), None, &[]).await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", r.text);
        }
    };
    unlink(second.clone()).await;
    assert_eq!(exported_company(&c, "Пушкин").await, "Альфа");
    pause().await;
    link(&c, &person, &second, "").await;
    assert_eq!(exported_company(&c, "Пушкин").await, "Альфа", "a later link does not take over");

    // A company in the trash gives way to the next one, and comes back with its restore.
    let r = c.send(Method::DELETE, &format!("/api/v1/accounts/{first}"), None, &[]).await;
    assert!(r.status().is_success(), "{}", r.text);
    assert_eq!(exported_company(&c, "Пушкин").await, "Бета");
    let r = c.post(&format!("/api/v1/accounts/{first}/restore"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(exported_company(&c, "Пушкин").await, "Альфа");

    // Merged into another account, the link moves and so does the company; undo moves both back.
    let body = json!({"survivor_id": third, "merged_ids": [first], "fields": {}});
    let r = c.post("/api/v1/accounts/merge", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    assert_eq!(exported_company(&c, "Пушкин").await, "Гамма");
    let merge_id = r.json()["merge_id"].as_str().unwrap().to_string();
    let r = c.post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(exported_company(&c, "Пушкин").await, "Альфа");

    // A contact merged into this one brings its links; the earliest stays the company.
    let other = create(&c, "contacts", json!({"last_name": "Пушкин-Дубль"})).await;
    link(&c, &other, &third, "").await;
    let body = json!({"survivor_id": person, "merged_ids": [other], "fields": {}});
    let r = c.post("/api/v1/contacts/merge", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    assert_eq!(exported_company(&c, "Пушкин").await, "Альфа");

    // Purged, the company's links are gone and the next one is stored as the company.
    let r = c.send(Method::DELETE, &format!("/api/v1/accounts/{first}"), None, &[]).await;
    assert!(r.status().is_success(), "{}", r.text);
    let r = c.send(Method::DELETE, &format!("/api/v1/accounts/{first}/purge"), None, &[]).await;
    assert!(r.status().is_success(), "{}", r.text);
    assert_eq!(exported_company(&c, "Пушкин").await, "Бета");
    let stored = app
        .db
        .opt(
            Q::new("SELECT account_id FROM contacts WHERE tenant_id = $1 AND id = $2")
                .bind(&app.tenant_a)
                .bind(&person),
        )
        .await
        .unwrap()
        .unwrap()
        .s("account_id");
    assert_eq!(stored, second);
    app.finish().await;
}
