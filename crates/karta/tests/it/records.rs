//! Accounts and contacts: validation, trash and restore, audit, concurrency, paging,
//! filters, search, notes and links.

use crate::common::{Kind, Resp, TestApp};
use karta_core::party::{parse, Labeled, PartyInput};
use karta_core::Entity;
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;

#[engines]
async fn every_bad_field_is_named_and_nothing_is_saved(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let r = c
        .post(
            "/api/v1/contacts",
            &json!({"first_name": "", "last_name": "", "emails": [{"value": "not-an-email"}], "phones": [{"value": "12"}],
                    "birthday": "31.02.1990", "website": "no way", "relationship": "friend", "important_dates": [{"label": "x", "date": "soon"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["birthday", "emails[0]", "important_dates[0]", "last_name", "phones[0]", "relationship", "website"]
    );
    let r = c.post("/api/v1/accounts", &json!({"name": "  "})).await;
    assert_eq!(r.error_fields(), ["name"]);
    let r = c.post("/api/v1/accounts", &json!({"name": "X", "parent_id": "no-such-id"})).await;
    assert_eq!(r.error_fields(), ["parent_id"]);
    // Malformed JSON, wrong types, unknown fields, wrong content type, oversized bodies: 4xx.
    let raw = |body: &'static str| {
        c.http
            .post(format!("{}/api/v1/contacts", c.base))
            .bearer_auth(c.token.as_ref().unwrap())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(raw("{\"last_name\": ").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(raw("{\"last_name\": 5}").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(raw("{\"last_name\": \"A\", \"hack\": 1}").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(raw("[1,2]").await.unwrap().status(), StatusCode::BAD_REQUEST);
    let r = c
        .http
        .post(format!("{}/api/v1/contacts", c.base))
        .bearer_auth(c.token.as_ref().unwrap())
        .body("last_name=A")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let big = json!({"last_name": "A", "description": "x".repeat(3 * 1024 * 1024)});
    assert_eq!(c.post("/api/v1/contacts", &big).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let long = json!({"last_name": "A", "description": "x".repeat(20_001)});
    assert_eq!(c.post("/api/v1/contacts", &long).await.error_fields(), ["description"]);
    assert_eq!(c.get("/api/v1/contacts?filter=nope:eq:1").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        c.get("/api/v1/contacts?filter=birthday:gte:yesterday").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(c.get("/api/v1/contacts?after=zz").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(c.get("/api/v1/contacts?limit=100000").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(c.get("/api/v1/contacts?sort=password").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(c.get("/api/v1/contacts/not-an-id").await.status(), StatusCode::NOT_FOUND);
    let n = app.db.all(karta_kernel::Q::new("SELECT id FROM contacts")).await.unwrap().len();
    assert_eq!(n, 0, "no half-written record");
    app.finish().await;
}

#[engines]
async fn values_are_parsed_into_typed_forms(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let r = c
        .post(
            "/api/v1/contacts",
            &json!({"first_name": " Пётр ", "last_name": "Ёлкин", "emails": [{"value": "Petr@Example.RU", "label": "work"}, {"value": "p@home.ru"}],
                    "phones": [{"value": "8 (916) 123-45-67"}], "birthday": "01.02.1985", "website": "example.ru", "tags": ["VIP", "vip", "Ключевой"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    assert_eq!(v["name"], "Пётр Ёлкин");
    assert_eq!(v["emails"][0]["value"], "Petr@example.ru");
    assert_eq!(v["phones"][0]["value"], "+79161234567");
    assert_eq!(v["birthday"], "1985-02-01");
    assert_eq!(v["website"], "https://example.ru");
    assert_eq!(v["tags"], json!(["vip", "ключевой"]));
    assert_eq!(r.header("etag"), "\"1\"");
    assert!(r.header("location").ends_with(v["id"].as_str().unwrap()));
    app.finish().await;
}

#[engines]
async fn a_trashed_contact_is_restored_with_its_links_notes_and_history(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let admin = app.api("acme", "admin@acme.test").await;
    let p = c.contact("Анна", "Корзинкина").await;
    let a = c.post("/api/v1/accounts", &json!({"name": "ООО Ромашка"})).await.json();
    let (id, aid) = (p["id"].as_str().unwrap(), a["id"].as_str().unwrap());
    c.send(
        reqwest::Method::PUT,
        &format!("/api/v1/contacts/{id}/accounts/{aid}"),
        Some(&json!({"role": "Директор"})),
        &[],
    )
    .await;
    c.post(&format!("/api/v1/contacts/{id}/notes"), &json!({"body": "Позвонить в понедельник"})).await;

    assert_eq!(c.delete(&format!("/api/v1/contacts/{id}")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.get(&format!("/api/v1/contacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get("/api/v1/contacts").await.json()["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        c.get(&format!("/api/v1/accounts/{aid}/related")).await.json().as_array().unwrap().len(),
        0,
        "trashed contacts leave related lists"
    );
    let trash = c.get("/api/v1/contacts?trash=true").await.json();
    assert_eq!(trash["items"][0]["id"], id);
    assert!(c.get("/api/v1/search?q=%D0%9A%D0%BE%D1%80%D0%B7%D0%B8%D0%BD").await.json().as_array().unwrap().is_empty());

    let r = c.post(&format!("/api/v1/contacts/{id}/restore"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let rel = c.get(&format!("/api/v1/contacts/{id}/related")).await.json();
    assert_eq!(rel[0]["role"], "Директор");
    assert_eq!(c.get(&format!("/api/v1/contacts/{id}/notes")).await.json()[0]["body"], "Позвонить в понедельник");
    let hist = c.get(&format!("/api/v1/contacts/{id}/history")).await.json();
    let actions: Vec<&str> = hist.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["restore", "delete", "link", "create"]);

    // Purge: only an admin, only from the trash, and it erases.
    c.delete(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(c.delete(&format!("/api/v1/contacts/{id}/purge")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.delete(&format!("/api/v1/contacts/{id}/purge")).await.status(), StatusCode::NO_CONTENT);
    assert!(admin.get("/api/v1/contacts?trash=true").await.json()["items"].as_array().unwrap().is_empty());
    let left = app.db.all(karta_kernel::Q::new("SELECT id FROM notes")).await.unwrap().len();
    assert_eq!(left, 0, "purge erases notes");
    app.finish().await;
}

#[engines]
async fn every_change_is_audited_with_who_and_before_after(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let p = c.contact("Иван", "Аудитов").await;
    let id = p["id"].as_str().unwrap();
    let r = c
        .patch(
            &format!("/api/v1/contacts/{id}"),
            &json!({"job_title": "CTO", "phones": [{"value": "+7 495 000-00-01"}]}),
            "\"1\"",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("etag"), "\"2\"");
    let hist = c.get(&format!("/api/v1/contacts/{id}/history")).await.json();
    let upd = &hist[0];
    assert_eq!(upd["action"], "update");
    assert_eq!(upd["user_name"], "sales1");
    assert_eq!(upd["changes"]["job_title"], json!({"from": "", "to": "CTO"}));
    assert_eq!(upd["changes"]["phones"]["to"][0]["value"], "+74950000001");
    assert!(upd["changes"].get("first_name").is_none(), "unchanged fields are not listed");
    let create = &hist[1];
    assert_eq!(create["action"], "create");
    assert_eq!(create["changes"]["last_name"]["to"], "Аудитов");
    // The audit row and the change are one transaction: counts match versions.
    let rows = app
        .db
        .all(karta_kernel::Q::new("SELECT version FROM audit_log WHERE entity = 'contact' ORDER BY version"))
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.i("version")).collect::<Vec<_>>(), [1, 2]);
    app.finish().await;
}

#[engines]
async fn a_stale_write_is_refused_and_shows_what_changed(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let p = c.contact("Мария", "Версиева").await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/api/v1/contacts/{id}");
    assert_eq!(
        c.send(reqwest::Method::PATCH, &path, Some(&json!({"job_title": "A"})), &[]).await.status(),
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(c.patch(&path, &json!({"job_title": "A"}), "\"1\"").await.status(), StatusCode::OK);
    let r = c.patch(&path, &json!({"job_title": "B"}), "\"1\"").await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let v = r.json();
    assert_eq!(v["current_version"], 2);
    assert_eq!(v["changes"][0]["field"], "job_title");
    assert_eq!(v["changes"][0]["now"], "A");
    assert_eq!(c.get(&path).await.json()["job_title"], "A", "nothing was overwritten");
    assert_eq!(c.patch(&path, &json!({"job_title": "B"}), "garbage").await.status(), StatusCode::BAD_REQUEST);

    // The same in the UI: a form based on version 1 is refused with a clear message.
    let ui = app.browser("admin@acme.test").await;
    let form = ui.get(&format!("/contacts/{id}/edit")).await;
    let csrf = form.csrf();
    let r = ui
        .form(
            &format!("/contacts/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("first_name", "Мария"),
                ("last_name", "Версиева"),
                ("job_title", "C"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let form = r.doc();
    let changed = form.texts("[role=alert] ul.changes .field");
    assert!(changed == ["Job title"] || changed == ["Должность"], "the field changed meanwhile is named: {changed:?}");
    assert_eq!(form.attrs("input[name=job_title]", "value"), ["C"], "the user's input is kept");
    assert_eq!(c.get(&path).await.json()["job_title"], "A");
    let r = ui
        .form(
            &format!("/contacts/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", "2"),
                ("first_name", "Мария"),
                ("last_name", "Версиева"),
                ("job_title", "C"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(c.get(&path).await.json()["job_title"], "C");
    app.finish().await;
}

/// Inserts `n` contacts owned by `owner` straight into the database, as the app would.
async fn seed_contacts(app: &TestApp, owner: &str, n: usize) {
    let mut tx = app.db.begin().await.unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let mut q = karta_kernel::Q::new("");
        let mut rows = Vec::new();
        for i in chunk {
            let d = parse(
                Entity::Contact,
                PartyInput {
                    first_name: format!("Имя{}", i % 37),
                    last_name: format!("Фамилия{:05}", (i * 7919) % n),
                    emails: vec![Labeled { value: format!("p{i}@example.com"), label: String::new() }],
                    ..PartyInput::default()
                },
                "RU",
            )
            .unwrap();
            let now = 1_700_000_000_000 + i64::try_from(*i % 500).unwrap();
            let vals = [
                q.arg(&app.tenant_a),
                q.arg(karta_core::new_id()),
                q.arg(d.name.clone()),
                q.arg(d.name_key.clone()),
                q.arg(owner),
                q.arg(d.input.first_name.clone()),
                q.arg(d.input.last_name.clone()),
                q.arg(d.primary_email.clone()),
                q.arg(serde_json::to_string(&d.input.emails).unwrap()),
                q.arg(d.search_text.clone()),
                q.arg(now),
                q.arg(owner),
            ];
            rows.push(format!(
                "({}, {}, 1, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                vals[0],
                vals[1],
                vals[2],
                vals[3],
                vals[4],
                vals[5],
                vals[6],
                vals[7],
                vals[8],
                vals[9],
                vals[10],
                vals[11],
                vals[10],
                vals[11]
            ));
        }
        q.sql = format!(
            "INSERT INTO contacts (tenant_id, id, version, name, name_key, owner_id, first_name, last_name, primary_email, emails, search_text, created_at, created_by, updated_at, updated_by) VALUES {}",
            rows.join(", ")
        );
        tx.exec(q).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[engines]
async fn api_pages_through_ten_thousand_contacts_without_gaps_or_repeats(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let me = c.get("/api/v1/me").await.json();
    seed_contacts(&app, me["id"].as_str().unwrap(), 10_000).await;
    for sort in ["name", "-updated_at", "email", "-created_at"] {
        let mut seen = HashSet::new();
        let mut prev: Option<serde_json::Value> = None;
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/contacts?limit=500&sort={sort}");
            if let Some(a) = &after {
                path.push_str(&format!("&after={a}"));
            }
            let page = c.get(&path).await;
            assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
            let v = page.json();
            pages += 1;
            for item in v["items"].as_array().unwrap() {
                assert!(seen.insert(item["id"].as_str().unwrap().to_string()), "repeated {}", item["id"]);
                if sort == "name" {
                    let key =
                        (item["last_name"].as_str().unwrap().to_lowercase(), item["id"].as_str().unwrap().to_string());
                    if let Some(p) = &prev {
                        let pk =
                            (p["last_name"].as_str().unwrap().to_lowercase(), p["id"].as_str().unwrap().to_string());
                        assert!(pk < key, "sorted by name");
                    }
                }
                prev = Some(item.clone());
            }
            match v["next_cursor"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
            assert!(pages <= 21, "too many pages");
        }
        assert_eq!(seen.len(), 10_000, "sort {sort}: every record exactly once");
        prev = None;
        let _ = prev;
    }
    // A filtered walk gives exactly the matching subset.
    let mut n = 0;
    let mut after: Option<String> = None;
    loop {
        let mut path = "/api/v1/contacts?limit=200&filter=first_name:eq:%D0%98%D0%BC%D1%8F3".to_string();
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let v = c.get(&path).await.json();
        n += v["items"].as_array().unwrap().len();
        match v["next_cursor"].as_str() {
            Some(x) => after = Some(x.to_string()),
            None => break,
        }
    }
    assert_eq!(n, (0..10_000).filter(|i| i % 37 == 3).count());
    app.finish().await;
}

#[engines]
async fn filters_cover_text_choice_dates_owner_tags_and_emptiness(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let mk = |body: serde_json::Value| {
        let c = &c;
        async move {
            let r = c.post("/api/v1/contacts", &body).await;
            assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
        }
    };
    mk(json!({"first_name": "Алёна", "last_name": "Смирнова", "relationship": "customer", "birthday": "1990-05-01", "tags": ["vip"], "addresses": [{"city": "Москва"}]})).await;
    mk(json!({"first_name": "Alena", "last_name": "Smith", "relationship": "prospect", "birthday": "1985-01-01", "addresses": [{"city": "London"}]})).await;
    mk(json!({"first_name": "Борис", "last_name": "Ёжиков", "relationship": "partner", "emails": [{"value": "boris@ezh.ru"}]})).await;
    let names = |q: &'static str| {
        let c = &c;
        async move {
            let r = c.get(&format!("/api/v1/contacts?{q}")).await;
            assert_eq!(r.status(), StatusCode::OK, "{q}: {}", r.text);
            let mut v: Vec<String> = r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["last_name"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(names("filter=name:contains:%D0%A1%D0%9C%D0%98%D0%A0").await, ["Смирнова"], "case-insensitive Cyrillic");
    assert_eq!(names("filter=name:starts:%D0%B5%D0%B6").await, ["Ёжиков"], "ё = е");
    assert_eq!(
        names("filter=first_name:contains:%D0%B0%D0%BB%D0%B5%D0%BD").await,
        ["Смирнова"],
        "ё = е in any text field"
    );
    assert_eq!(
        names("filter=relationship:in:customer,partner").await,
        ["Ёжиков", "Смирнова"],
        "sorted by code point in the test"
    );
    assert_eq!(names("filter=birthday:gte:1989-01-01").await, ["Смирнова"]);
    assert_eq!(names("filter=birthday:empty:").await, ["Ёжиков"]);
    assert_eq!(names("filter=email:notempty:").await, ["Ёжиков"]);
    assert_eq!(names("filter=tag:eq:VIP").await, ["Смирнова"]);
    assert_eq!(names("filter=city:eq:london").await, ["Smith"]);
    assert_eq!(names("filter=owner:eq:me&filter=relationship:ne:customer").await, ["Smith", "Ёжиков"]);
    assert_eq!(names("filter=created_at:gte:2000-01-01&filter=name:contains:smi").await, ["Smith"]);
    let sorted = c.get("/api/v1/contacts?sort=-birthday").await.json();
    assert_eq!(sorted["items"][0]["last_name"], "Смирнова");
    app.finish().await;
}

#[engines]
async fn search_finds_names_emails_and_phones_in_any_form(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    c.post("/api/v1/contacts", &json!({"first_name": "Фёдор", "last_name": "Достоевский", "emails": [{"value": "fedor@books.ru"}], "phones": [{"value": "+7 (812) 555-12-34"}]})).await;
    c.post("/api/v1/accounts", &json!({"name": "Издательство «Азбука»", "phones": [{"value": "8 800 100-20-30"}]}))
        .await;
    c.post(
        "/api/v1/contacts",
        &json!({"first_name": "John", "last_name": "Smith", "emails": [{"value": "john.smith@acme.com"}]}),
    )
    .await;
    let hits = |q: &str| {
        let c = &c;
        let path =
            format!("/api/v1/search?q={}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
        async move {
            let r = c.get(&path).await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json().as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(hits("федор").await, ["Фёдор Достоевский"], "ё = е, case-insensitive");
    assert_eq!(hits("ДОСТОЕВ").await, ["Фёдор Достоевский"], "prefix of the surname");
    assert_eq!(hits("стоевск").await, ["Фёдор Достоевский"], "substring");
    assert_eq!(hits("fedor@books").await, ["Фёдор Достоевский"]);
    assert_eq!(hits("8 (812) 555 12 34").await, ["Фёдор Достоевский"], "phone with a national prefix");
    assert_eq!(hits("555-12").await, ["Фёдор Достоевский"], "part of a phone");
    assert_eq!(hits("азбука").await, ["Издательство «Азбука»"]);
    assert_eq!(hits("88001002030").await, ["Издательство «Азбука»"]);
    assert_eq!(hits("smith john").await, ["John Smith"], "words in any order");
    assert!(hits("Толстой").await.is_empty());
    assert!(hits("   ").await.is_empty());
    let ui = app.browser("admin@acme.test").await;
    let s = ui.get("/search/suggest?q=%D0%B4%D0%BE%D1%81%D1%82").await;
    assert_eq!(s.json()[0]["name"], "Фёдор Достоевский");
    assert!(s.json()[0]["url"].as_str().unwrap().starts_with("/contacts/"));
    let page = ui.get("/search?q=%D0%B4%D0%BE%D1%81%D1%82").await;
    assert_eq!(page.doc().texts("ul.hits li a"), ["Фёдор Достоевский"]);
    app.finish().await;
}

#[engines]
async fn a_repeated_post_with_the_same_idempotency_key_creates_one_record(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let body = json!({"last_name": "Однажды"});
    let h = [("idempotency-key", "abc-123")];
    let r1 = c.send(reqwest::Method::POST, "/api/v1/contacts", Some(&body), &h).await;
    let r2 = c.send(reqwest::Method::POST, "/api/v1/contacts", Some(&body), &h).await;
    assert_eq!(r1.status(), StatusCode::CREATED);
    assert_eq!(r2.status(), StatusCode::CREATED);
    assert_eq!(r1.json()["id"], r2.json()["id"]);
    assert_eq!(r2.header("idempotent-replayed"), "true");
    let other = c.send(reqwest::Method::POST, "/api/v1/contacts", Some(&json!({"last_name": "Другой"})), &h).await;
    assert_eq!(other.status(), StatusCode::BAD_REQUEST, "same key, different body");
    assert_eq!(c.get("/api/v1/contacts").await.json()["items"].as_array().unwrap().len(), 1);
    app.finish().await;
}

#[engines]
async fn notes_can_be_added_edited_and_deleted_by_their_author(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let admin = app.api("acme", "admin@acme.test").await;
    let mgr = app.api("acme", "manager@acme.test").await;
    let p = s1.contact("Нина", "Заметкина").await;
    let id = p["id"].as_str().unwrap();
    let r = s1.post(&format!("/api/v1/contacts/{id}/notes"), &json!({"body": "Первая"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    s1.post(&format!("/api/v1/contacts/{id}/notes"), &json!({"body": "Вторая"})).await;
    assert_eq!(s1.post(&format!("/api/v1/contacts/{id}/notes"), &json!({"body": "  "})).await.error_fields(), ["body"]);
    let list = s1.get(&format!("/api/v1/contacts/{id}/notes")).await.json();
    assert_eq!(list[0]["body"], "Вторая", "newest first");
    assert_eq!(list[0]["author_name"], "sales1");
    let nid = list[1]["id"].as_str().unwrap();
    assert_eq!(
        mgr.patch(&format!("/api/v1/notes/{nid}"), &json!({"body": "чужая правка"}), "\"1\"").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = s1.patch(&format!("/api/v1/notes/{nid}"), &json!({"body": "Первая, исправлена"}), "\"1\"").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s1.patch(&format!("/api/v1/notes/{nid}"), &json!({"body": "снова"}), "\"1\"").await.status(),
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(admin.delete(&format!("/api/v1/notes/{nid}")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(s1.get(&format!("/api/v1/contacts/{id}/notes")).await.json().as_array().unwrap().len(), 1);
    // Through the UI.
    let ui = app.browser("sales1@acme.test").await;
    let page = ui.get(&format!("/contacts/{id}")).await;
    let csrf = page.csrf();
    let r = ui.form(&format!("/contacts/{id}/notes"), &[("_csrf", &csrf), ("body", "Встреча <b>в офисе</b>")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = ui.get(&format!("/contacts/{id}")).await.text;
    assert!(
        page.contains("Встреча &#60;b&#62;в офисе&#60;/b&#62;") || page.contains("Встреча &lt;b&gt;в офисе&lt;/b&gt;"),
        "notes are escaped"
    );
    app.finish().await;
}

#[engines]
async fn contacts_link_to_accounts_with_a_role_and_accounts_have_parents(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let parent = c.post("/api/v1/accounts", &json!({"name": "Холдинг"})).await.json();
    let pid = parent["id"].as_str().unwrap();
    let child = c.post("/api/v1/accounts", &json!({"name": "Дочка", "parent_id": pid})).await.json();
    let chid = child["id"].as_str().unwrap();
    assert_eq!(
        c.patch(&format!("/api/v1/accounts/{pid}"), &json!({"parent_id": chid}), "\"1\"").await.error_fields(),
        ["parent_id"],
        "no cycles"
    );
    let p = c.contact("Лев", "Связин").await;
    let id = p["id"].as_str().unwrap();
    for (acc, role) in [(pid, "Совет директоров"), (chid, "Генеральный директор")] {
        let r = c
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/contacts/{id}/accounts/{acc}"),
                Some(&json!({"role": role})),
                &[],
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", r.text);
    }
    let rel = c.get(&format!("/api/v1/contacts/{id}/related")).await.json();
    let mut got: Vec<(String, String)> = rel
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap().to_string(), l["role"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("Дочка".to_string(), "Генеральный директор".to_string()),
            ("Холдинг".to_string(), "Совет директоров".to_string())
        ]
    );
    assert_eq!(c.get(&format!("/api/v1/accounts/{chid}/related")).await.json()[0]["name"], "Лев Связин");
    assert_eq!(c.delete(&format!("/api/v1/contacts/{id}/accounts/{pid}")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.get(&format!("/api/v1/contacts/{id}/related")).await.json().as_array().unwrap().len(), 1);
    // The account page shows the contact, the parent and the children.
    let ui = app.browser("admin@acme.test").await;
    let page = ui.get(&format!("/accounts/{chid}")).await.text;
    assert!(page.contains("Лев Связин") && page.contains("Генеральный директор") && page.contains("Холдинг"));
    assert!(ui.get(&format!("/accounts/{pid}")).await.text.contains("Дочка"));
    app.finish().await;
}

#[engines]
async fn the_ui_creates_edits_and_lists_records_with_clear_field_errors(k: Kind) {
    let app = TestApp::spawn(k).await;
    let ui = app.browser("sales1@acme.test").await;
    let form = ui.get("/contacts/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    let csrf = form.csrf();
    let r = ui
        .form(
            "/contacts",
            &[
                ("_csrf", &csrf),
                ("middle_name", "Павловна"),
                ("emails", "vera@"),
                ("phones", "abc"),
                ("birthday", "32.13.2000"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = r.doc();
    assert!(form.count("[aria-invalid=true]") >= 3, "the wrong fields are marked");
    assert_eq!(form.texts("textarea[name=emails]"), ["vera@"], "input kept");
    let errors = form.texts("small.error");
    for msg in ["Not a valid e-mail address.", "Not a valid phone number.", "Required."] {
        assert!(errors.contains(&msg.to_string()), "{msg}: {errors:?}");
    }
    let r = ui
        .form(
            "/contacts",
            &[
                ("_csrf", &csrf),
                ("first_name", "Вера"),
                ("last_name", "Формова"),
                ("emails", "vera@forma.ru, work\nvera.home@mail.ru"),
                ("phones", "8 903 111 22 33, mobile"),
                ("messengers", "telegram: @vera"),
                ("addr0_city", "Казань"),
                ("tags", "vip, новый"),
                ("do_not_email", "on"),
                ("birthday", "03.04.1991"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let loc = r.header("location");
    let page = ui.get(&loc).await.text;
    for s in ["Вера Формова", "vera@forma.ru", "+7 903 111-22-33", "@vera", "Казань", "#vip", "1991-04-03"]
    {
        assert!(page.contains(s), "{s}");
    }
    let list = ui.get("/contacts?filter=tag:eq:vip").await.text;
    assert!(list.contains("Вера Формова"));
    let list = ui.get("/contacts?f=city&op=contains&v=%D0%BA%D0%B0%D0%B7").await.text;
    assert!(list.contains("Вера Формова"));
    let ru = ui
        .http
        .get(format!("{}/contacts", app.base))
        .header("accept-language", "ru-RU")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ru.contains("Контакты") && ru.contains("Новый контакт"), "Russian from Accept-Language");
    app.finish().await;
}

#[engines]
async fn bulk_actions_assign_tag_and_trash_only_what_the_user_may_change(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let a = admin.contact("Один", "Массов").await;
    let b = admin.contact("Два", "Массов").await;
    let sales2_id = s2.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    let ui = app.browser("admin@acme.test").await;
    let csrf = ui.get("/contacts").await.csrf();
    let (ia, ib) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let r = ui
        .form("/contacts/bulk", &[("_csrf", &csrf), ("action", "tag"), ("tag", "акция"), ("id", ia), ("id", ib)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.header("location").contains("done=2"));
    let r =
        ui.form("/contacts/bulk", &[("_csrf", &csrf), ("action", "assign"), ("owner", &sales2_id), ("id", ia)]).await;
    assert!(r.header("location").contains("done=1"));
    let mine = s2.get("/api/v1/contacts").await.json();
    assert_eq!(mine["items"][0]["id"], ia);
    assert_eq!(mine["items"][0]["tags"], json!(["акция"]));
    let ui2 = app.browser("sales2@acme.test").await;
    let csrf2 = ui2.get("/contacts").await.csrf();
    let r = ui2.form("/contacts/bulk", &[("_csrf", &csrf2), ("action", "delete"), ("id", ia), ("id", ib)]).await;
    assert!(r.header("location").contains("done=1"), "only the own record is trashed");
    assert_eq!(admin.get(&format!("/api/v1/contacts/{ib}")).await.status(), StatusCode::OK);
    app.finish().await;
}

/// A store failure behind a section of the record page shows the error page (and is logged),
/// never the page with that section silently empty.
#[engines]
async fn a_database_failure_shows_an_error_page_not_an_empty_section(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.browser("sales1@acme.test").await;
    let id =
        app.api("acme", "sales1@acme.test").await.contact("Анна", "Каренина").await["id"].as_str().unwrap().to_string();
    let page = c.get(&format!("/contacts/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK, "{k:?}");
    app.db.exec(karta_kernel::Q::new("ALTER TABLE notes RENAME TO notes_gone")).await.unwrap();
    let page = c.get(&format!("/contacts/{id}")).await;
    assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR, "{k:?}");
    let shown = page.doc();
    assert!(shown.text("p.msg").starts_with("Something went wrong on our side"), "{k:?}: {}", page.text);
    assert!(!page.text.contains("Каренина"), "{k:?}: nothing of the record leaks into the error page");
    app.db.exec(karta_kernel::Q::new("ALTER TABLE notes_gone RENAME TO notes")).await.unwrap();
    assert_eq!(c.get(&format!("/contacts/{id}")).await.status(), StatusCode::OK, "{k:?}");
    app.finish().await;
}

/// The record-change events of one record, as `kind` strings, oldest first.
async fn kinds_of(app: &TestApp, entity: &str, id: &str) -> Vec<String> {
    karta_kernel::events::of_record(&app.db, &app.tenant_a, entity, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[engines]
async fn every_change_of_a_record_writes_one_event_in_its_transaction_and_a_rolled_back_one_none(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    // A contact: created, changed, trashed, restored.
    let c = admin.contact("Ева", "Событиева").await;
    let cid = c["id"].as_str().unwrap();
    let r = admin.patch(&format!("/api/v1/contacts/{cid}"), &json!({"job_title": "Закупщик"}), "\"1\"").await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}");
    assert_eq!(admin.delete(&format!("/api/v1/contacts/{cid}")).await.status(), StatusCode::NO_CONTENT, "{k:?}");
    assert!(admin.post(&format!("/api/v1/contacts/{cid}/restore"), &json!({})).await.status().is_success());
    assert_eq!(
        kinds_of(&app, "contact", cid).await,
        ["contact.created", "contact.updated", "contact.deleted", "contact.restored"],
        "{k:?}"
    );
    // A deal: created, moved (a change and the moment "moved"), won.
    let d = admin.post("/api/v1/deals", &json!({"title": "Событийная сделка", "amount": 1000})).await.json();
    let did = d["id"].as_str().unwrap();
    let pipes = admin.get("/api/v1/pipelines").await.json();
    let stages = pipes[0]["stages"].as_array().unwrap();
    let next = stages.iter().position(|s| s["id"] == d["stage_id"]).map(|i| stages[i + 1]["id"].clone()).unwrap();
    let r = admin.post(&format!("/api/v1/deals/{did}/move"), &json!({"stage_id": next, "version": 1})).await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    let r = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/deals/{did}/close"),
            Some(&json!({"outcome": "won"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    assert_eq!(kinds_of(&app, "deal", did).await, ["deal.created", "deal.moved", "deal.updated", "deal.won"], "{k:?}");
    let moved = karta_kernel::events::of_record(&app.db, &app.tenant_a, "deal", did).await.unwrap();
    assert_eq!(moved[1].data["to_stage_id"], next, "{k:?}");
    assert_eq!(moved[2].version, 2, "{k:?}: the change event carries the version it made");
    // An activity: created, done (a change and the moment "done").
    let a = admin
        .post("/api/v1/activities", &json!({"kind": "call", "subject": "Звонок", "due_at": app.clock.now() + 60_000}))
        .await
        .json();
    let aid = a["id"].as_str().unwrap();
    let r = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{aid}/complete"),
            Some(&json!({"result": "договорились"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    assert_eq!(
        kinds_of(&app, "activity", aid).await,
        ["activity.created", "activity.updated", "activity.done"],
        "{k:?}"
    );
    // A product: created and changed.
    let p = admin.post("/api/v1/products", &json!({"sku": "EV-1", "name_en": "Event"})).await.json();
    let pid = p["id"].as_str().unwrap();
    let r = admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/products/{pid}"),
            Some(&json!({"sku": "EV-1", "name_en": "Evented"})),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    assert_eq!(kinds_of(&app, "product", pid).await, ["product.created", "product.updated"], "{k:?}");
    // A refused change writes nothing.
    let r = admin.patch(&format!("/api/v1/contacts/{cid}"), &json!({"emails": [{"value": "не почта"}]}), "\"4\"").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{k:?}");
    assert_eq!(kinds_of(&app, "contact", cid).await.len(), 4, "{k:?}");
    // The event is part of the change's transaction: rolled back, it is gone with it.
    let mut tx = app.db.begin().await.unwrap();
    karta_kernel::audit::record_by(&mut tx, &app.tenant_a, "", "contact", cid, "update", 9, json!({})).await.unwrap();
    drop(tx);
    assert_eq!(kinds_of(&app, "contact", cid).await.len(), 4, "{k:?}: a rolled-back change leaves no event");
    let mut tx = app.db.begin().await.unwrap();
    karta_kernel::audit::record_by(&mut tx, &app.tenant_a, "", "contact", cid, "update", 9, json!({})).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kinds_of(&app, "contact", cid).await.len(), 5, "{k:?}: a committed one is there");
    app.finish().await;
}

/// What the test consumers were handed: (consumer, seq, record, version).
static SEEN: std::sync::Mutex<Vec<(&'static str, i64, String, i64)>> = std::sync::Mutex::new(Vec::new());
/// Set to make the third consumer fail once.
static FAIL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The consumers below record into one process-wide list, so the engine cases of the test
/// using them take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn seen(name: &'static str, events: &[karta_kernel::events::Event]) {
    let mut s = SEEN.lock().unwrap();
    for e in events.iter().filter(|e| e.kind.ends_with(".updated") || e.kind.ends_with(".created")) {
        s.push((name, e.seq, e.record_id.clone(), e.version));
    }
}

const SLOW: karta_kernel::events::Consumer = karta_kernel::events::Consumer {
    name: "test.slow",
    handle: |_tx, events| {
        Box::pin(async move {
            seen("test.slow", events);
            Ok(())
        })
    },
};
const FAST: karta_kernel::events::Consumer = karta_kernel::events::Consumer {
    name: "test.fast",
    handle: |_tx, events| {
        Box::pin(async move {
            seen("test.fast", events);
            Ok(())
        })
    },
};
const FLAKY: karta_kernel::events::Consumer = karta_kernel::events::Consumer {
    name: "test.flaky",
    handle: |_tx, events| {
        Box::pin(async move {
            if FAIL.swap(false, std::sync::atomic::Ordering::SeqCst) {
                return Err(karta_kernel::StoreError::Other(anyhow::anyhow!("the consumer's system is down")));
            }
            seen("test.flaky", events);
            Ok(())
        })
    },
};

#[engines]
async fn two_consumers_each_see_every_event_once_in_order_per_record_across_a_restart(k: Kind) {
    let _turn = ONE_AT_A_TIME.lock().await;
    SEEN.lock().unwrap().clear();
    let mut app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let c = admin.contact("Поток", &format!("Событий {i}")).await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let change = |round: i64| {
        let (admin, ids) = (admin.clone_with_token(), ids.clone());
        async move {
            for id in &ids {
                let r = admin
                    .patch(
                        &format!("/api/v1/contacts/{id}"),
                        &json!({"job_title": format!("Шаг {round}")}),
                        &format!("\"{round}\""),
                    )
                    .await;
                assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
            }
        }
    };
    change(1).await;
    change(2).await;
    let node = "test-node-1";
    // The slow one takes a few events at a time; the fast one everything.
    let mut slow = 0;
    for _ in 0..3 {
        slow += karta_kernel::events::consume(&app.db, &SLOW, node, 2).await.unwrap();
    }
    assert_eq!(slow, 6, "{k:?}");
    while karta_kernel::events::consume(&app.db, &FAST, node, 500).await.unwrap() > 0 {}
    // A failing handler moves nothing: the same events come again.
    FAIL.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(karta_kernel::events::consume(&app.db, &FLAKY, node, 500).await.is_err());
    assert_eq!(karta_kernel::events::position(&app.db, "test.flaky").await.unwrap(), 0, "{k:?}");
    // The node stops (its leases given up) and the server restarts as a new node; more
    // changes come; everyone catches up.
    karta_kernel::events::release(&app.db, node).await.unwrap();
    app.restart().await;
    change(3).await;
    for c in [&SLOW, &FAST, &FLAKY] {
        while karta_kernel::events::consume(&app.db, c, "test-node-2", 4).await.unwrap() > 0 {}
    }
    // Another node cannot take a consumer while this one holds its lease.
    change(4).await;
    assert_eq!(karta_kernel::events::consume(&app.db, &FAST, "intruder", 500).await.unwrap(), 0, "{k:?}");
    while karta_kernel::events::consume(&app.db, &FAST, "test-node-2", 500).await.unwrap() > 0 {}
    while karta_kernel::events::consume(&app.db, &SLOW, "test-node-2", 500).await.unwrap() > 0 {}
    while karta_kernel::events::consume(&app.db, &FLAKY, "test-node-2", 500).await.unwrap() > 0 {}

    let all = SEEN.lock().unwrap().clone();
    // 6 creations and 4 rounds of 6 changes.
    for name in ["test.slow", "test.fast", "test.flaky"] {
        let mine: Vec<_> = all.iter().filter(|(n, ..)| *n == name).collect();
        assert_eq!(mine.len(), 30, "{k:?}: {name} saw each event once");
        let seqs: Vec<i64> = mine.iter().map(|(_, s, ..)| *s).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{k:?}: {name} in order, no repeats: {seqs:?}");
        for id in &ids {
            let versions: Vec<i64> = mine.iter().filter(|(_, _, r, _)| r == id).map(|(.., v)| *v).collect();
            assert_eq!(versions, [1, 2, 3, 4, 5], "{k:?}: {name}, record {id}");
        }
    }
    // Events past the retention period are pruned; newer ones stay.
    let before = karta_kernel::events::of_record(&app.db, &app.tenant_a, "contact", &ids[0]).await.unwrap();
    assert_eq!(karta_kernel::events::prune(&app.db, before[0].at - 1).await.unwrap(), 0, "{k:?}");
    assert!(karta_kernel::events::prune(&app.db, karta_core::now_ms() + 1).await.unwrap() >= 30, "{k:?}");
    assert!(karta_kernel::events::of_record(&app.db, &app.tenant_a, "contact", &ids[0]).await.unwrap().is_empty());
    app.finish().await;
}

#[engines]
async fn stored_phones_are_reread_by_the_numbering_plans_and_the_unreadable_are_kept_and_listed(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let id = |r: Resp| r.json()["id"].as_str().unwrap().to_string();
    let london = id(c
        .post(
            "/api/v1/contacts",
            &json!({"first_name": "Ann", "last_name": "Lee", "phones": [{"value": "+44 20 7946 0958"}]}),
        )
        .await);
    let odd = id(c
        .post(
            "/api/v1/contacts",
            &json!({"first_name": "Wu", "last_name": "Li", "phones": [{"value": "+7 916 123-45-67"}]}),
        )
        .await);
    // As the old rules stored them: "+44 (0) 20…" with its trunk 0, and a Chinese mobile
    // typed without a code and given Russia's.
    let set = |id: &str, phones: &str, digits: &str| {
        let q =
            karta_kernel::Q::new("UPDATE contacts SET phones = $1, primary_phone = $2, search_text = $3 WHERE id = $4")
                .bind(phones.to_string())
                .bind(phones.split('"').nth(3).unwrap_or("").to_string())
                .bind(digits.to_string())
                .bind(id.to_string());
        app.db.exec(q)
    };
    set(&london, r#"[{"value":"+4402079460958","label":""}]"#, "ann lee 4402079460958").await.unwrap();
    set(&odd, r#"[{"value":"+713800138000","label":""}]"#, "wu li 713800138000").await.unwrap();

    let mut tx = app.db.begin().await.unwrap();
    let report = karta_kernel::data_steps::renormalise_phones(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((report.changed, report.unreadable), (1, 1), "{k:?}");

    let ann = c.get(&format!("/api/v1/contacts/{london}")).await.json();
    assert_eq!(ann["phones"][0]["value"], "+442079460958", "{k:?}: read anew");
    assert_eq!(c.found("442079460958", "contact").await, ["Ann Lee"], "{k:?}: found by its new digits");
    let wu = c.get(&format!("/api/v1/contacts/{odd}")).await.json();
    assert_eq!(wu["phones"][0]["value"], "+713800138000", "{k:?}: kept as it was");
    let listed = app
        .db
        .all(karta_kernel::Q::new("SELECT entity, record_id, value FROM phone_issues"))
        .await
        .unwrap()
        .iter()
        .map(|r| (r.s("entity"), r.s("record_id"), r.s("value")))
        .collect::<Vec<_>>();
    assert_eq!(listed, [("contact".to_string(), odd.clone(), "+713800138000".to_string())], "{k:?}");
    let admin = app.browser("admin@acme.test").await;
    let page = admin.get(&format!("/contacts/{odd}")).await.text;
    assert!(
        page.contains("+7 13800138000 (check the number: no numbering plan knows it)"),
        "{k:?}: flagged on the card"
    );

    // The admin's list of numbers to check, reached from the duplicates report.
    let report = admin.get("/contacts/duplicates").await.doc();
    assert_eq!(report.attrs("a[href='/contacts/phone-check']", "href").len(), 1, "{k:?}");
    let check = admin.get("/contacts/phone-check").await;
    assert_eq!(check.status(), StatusCode::OK, "{k:?}");
    let doc = check.doc();
    assert_eq!(doc.texts("table.phone-check tbody td:first-child a"), ["Wu Li"], "{k:?}");
    assert_eq!(doc.texts("table.phone-check tbody code"), ["+713800138000"], "{k:?}");
    let sales = app.browser("sales1@acme.test").await;
    assert_eq!(sales.get("/contacts/phone-check").await.status(), StatusCode::FORBIDDEN, "{k:?}: admins only");
    // A number marked right as it is leaves the list; so does one corrected on its record.
    let csrf = check.csrf();
    let r =
        admin.form("/contacts/phone-check", &[("_csrf", &csrf), ("record_id", &odd), ("value", "+713800138000")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    let after = admin.get("/contacts/phone-check?done=1").await.doc();
    assert_eq!(after.count("table.phone-check tbody tr"), 0, "{k:?}");
    assert_eq!(after.count("p.notice"), 1, "{k:?}");
    set(&odd, r#"[{"value":"+713800138000","label":""}]"#, "wu li 713800138000").await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    karta_kernel::data_steps::renormalise_phones(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(admin.get("/contacts/phone-check").await.doc().count("table.phone-check tbody tr"), 1, "{k:?}");
    set(&odd, r#"[{"value":"+8613800138000","label":""}]"#, "wu li 8613800138000").await.unwrap();
    assert_eq!(admin.get("/contacts/phone-check").await.doc().count("table.phone-check tbody tr"), 0, "{k:?}: fixed");
    app.finish().await;
}

#[engines]
async fn numbers_in_custom_phone_fields_are_reread_too_and_the_unreadable_are_listed_with_their_field(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let f = c
        .post(
            "/api/v1/custom-fields",
            &json!({"entity": "contact", "kind": "phone", "label_en": "Home phone", "label_ru": "Домашний телефон"}),
        )
        .await;
    assert_eq!(f.status(), StatusCode::CREATED, "{k:?}: {}", f.text);
    let made = |last: &'static str| {
        let c = &c;
        async move {
            let r = c
                .post("/api/v1/contacts", &json!({"last_name": last, "custom": {"home_phone": "+7 916 123-45-67"}}))
                .await;
            assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
            r.json()["id"].as_str().unwrap().to_string()
        }
    };
    let (london, odd) = (made("Лондонова").await, made("Странный").await);
    // As the old rules stored them (see the test of the records' own numbers).
    for (id, value, digits) in [(&london, "+4402079460958", "4402079460958"), (&odd, "+713800138000", "713800138000")] {
        let q = karta_kernel::Q::new("UPDATE contacts SET custom = $1, search_text = $2 WHERE id = $3")
            .bind(json!({"home_phone": value}).to_string())
            .bind(format!("x {digits}"))
            .bind(id.clone());
        app.db.exec(q).await.unwrap();
    }
    let mut tx = app.db.begin().await.unwrap();
    let report = karta_kernel::data_steps::renormalise_custom_phones(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((report.changed, report.unreadable), (1, 1), "{k:?}");
    let read = c.get(&format!("/api/v1/contacts/{london}")).await.json();
    assert_eq!(read["custom"]["home_phone"], "+442079460958", "{k:?}: read anew");
    assert_eq!(c.found("442079460958", "contact").await, ["Лондонова"], "{k:?}: found by its new digits");
    let kept = c.get(&format!("/api/v1/contacts/{odd}")).await.json();
    assert_eq!(kept["custom"]["home_phone"], "+713800138000", "{k:?}: kept as it was");
    let admin = app.browser("admin@acme.test").await;
    let doc = admin.get("/contacts/phone-check").await.doc();
    assert_eq!(doc.texts("table.phone-check tbody td:first-child a"), ["Странный"], "{k:?}");
    assert_eq!(doc.texts("table.phone-check tbody td:nth-child(2)"), ["+713800138000 (Home phone)"], "{k:?}");
    app.finish().await;
}

/// The typed side of the kit: the request and the response are the API's own types.
#[engines]
async fn a_contact_posted_as_the_apis_own_type_reads_back_as_one(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let input = PartyInput {
        first_name: "Вера".into(),
        last_name: "Типова".into(),
        emails: vec![Labeled { value: "vera@example.ru".into(), label: "work".into() }],
        phones: vec![Labeled { value: "8 (495) 123-45-67".into(), label: String::new() }],
        ..PartyInput::default()
    };
    let r = c.post_as("/api/v1/contacts", &input).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{k:?}: {}", r.text);
    let made: karta_parties::parties::Party = r.parse();
    assert_eq!((made.entity, made.version), (Entity::Contact, 1), "{k:?}");
    assert_eq!(made.input.phones[0].value, "+74951234567", "{k:?}: stored in E.164");
    let page: karta_parties::api::PartyPage = c.get("/api/v1/contacts?filter=last_name:eq:Типова").await.parse();
    assert_eq!(page.items.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [made.id.as_str()], "{k:?}");
    let card = app.browser("admin@acme.test").await.get(&format!("/contacts/{}", made.id)).await.doc();
    assert_eq!(card.text("h1"), "Вера Типова", "{k:?}");
    assert_eq!(card.attrs("a[href^='tel:']", "href"), ["tel:+74951234567"], "{k:?}");
    assert!(card.texts("a[href^='tel:']").contains(&"+7 495 123-45-67".to_string()), "{k:?}: shown grouped");
    app.finish().await;
}
