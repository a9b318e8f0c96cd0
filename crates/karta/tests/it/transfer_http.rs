//! Imports and exports over HTTP: the API's upload → mapping → dry run → run with rejected
//! rows by line, the HTML wizard, encodings, unreadable files, contacts linked to their
//! companies, re-runs that change nothing, a restart in the middle, and exports limited by
//! permissions and audited.

use crate::common::{Client, Kind, TestApp};
use karta_kernel::Q;
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const PEOPLE: &str = "Имя,Фамилия,Email,Дата рождения,Компания\n\
Анна,Иванова,anna@example.ru,1990-05-01,Ромашка\n\
Борис,Петров,not-an-email,,Ромашка\n\
Вера,Сидорова,vera@example.ru,1990-13-45,\n\
Глеб,Орлов,gleb@example.ru,,Лютик,extra\n\
\"Дина,Смирнова,dina@example.ru,,\n\
Егор,Козлов,egor@example.ru,,Лютик\n";

/// Uploads a file through the API.
async fn upload(c: &Client, entity: &str, name: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let r = c
        .http
        .post(format!("{}/api/v1/imports?entity={entity}&file_name={name}&encoding=auto", c.base))
        .bearer_auth(c.token.as_deref().unwrap())
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, serde_json::from_str(&r.text().await.unwrap()).unwrap())
}

/// Polls an import until it stops moving.
async fn settle(c: &Client, id: &str) -> Value {
    for _ in 0..600 {
        let r = c.get(&format!("/api/v1/imports/{id}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
        let v = r.json();
        if matches!(v["status"].as_str(), Some("done" | "dry_done" | "failed")) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import {id} did not finish");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.opt(Q::new(sql).bind(&app.tenant_a)).await.unwrap().unwrap().i("n")
}

fn counts(v: &Value) -> (i64, i64, i64, i64) {
    let c = &v["counts"];
    (
        c["imported"].as_i64().unwrap(),
        c["updated"].as_i64().unwrap(),
        c["skipped"].as_i64().unwrap(),
        c["rejected"].as_i64().unwrap(),
    )
}

/// Uploads, maps as suggested, and runs an import to its end through the API.
async fn import_via_api(c: &Client, entity: &str, name: &str, body: &[u8], dedup: &str) -> Value {
    let (status, created) = upload(c, entity, name, body.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let mapping = created["preview"]["mapping"].clone();
    let r = c
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/imports/{id}/mapping"),
            Some(&json!({"mapping": mapping, "dedup": dedup})),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let r = c.post(&format!("/api/v1/imports/{id}/run"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", r.text);
    settle(c, &id).await
}

#[engines]
async fn an_api_import_counts_in_a_dry_run_then_imports_and_reports_every_bad_row_by_line(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let (status, created) = upload(&c, "contacts", "people.csv", PEOPLE.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "uploaded");
    assert_eq!(created["preview"]["encoding"], "utf-8");
    assert_eq!(created["preview"]["delimiter"], ",");
    assert_eq!(created["preview"]["headers"].as_array().unwrap().len(), 5);
    assert_eq!(created["preview"]["rows"][0]["fields"][0], "Анна");
    assert_eq!(created["preview"]["mapping"], json!(["first_name", "last_name", "email", "birthday", "account"]));
    let id = created["id"].as_str().unwrap().to_string();

    // A bad target is refused by its column.
    let r = c
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/imports/{id}/mapping"),
            Some(&json!({"mapping": ["first_name", "first_name", "", "", ""]})),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.error_fields(), vec!["mapping[1]".to_string()]);

    let mapping = created["preview"]["mapping"].clone();
    let r = c
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/imports/{id}/mapping"),
            Some(&json!({"mapping": mapping, "dedup": "skip"})),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);

    let r = c.post(&format!("/api/v1/imports/{id}/dry-run"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", r.text);
    let dry = settle(&c, &id).await;
    assert_eq!(dry["status"], "dry_done", "{dry}");
    assert_eq!(counts(&dry), (2, 0, 0, 4));
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await,
        0,
        "a dry run writes nothing"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM accounts WHERE tenant_id = $1").await, 0);

    let r = c.post(&format!("/api/v1/imports/{id}/run"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", r.text);
    let done = settle(&c, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(counts(&done), (2, 0, 0, 4));
    assert!(done["done_rows"].as_i64().unwrap() >= 6, "{done}");

    let rej = c.get(&format!("/api/v1/imports/{id}/rejected")).await.json();
    let lines: Vec<i64> = rej.as_array().unwrap().iter().map(|r| r["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 5, 6]);
    let reason = |i: usize| rej[i]["reason"].as_str().unwrap().to_lowercase();
    assert!(reason(0).contains("mail"), "{}", reason(0));
    assert!(reason(1).contains("date"), "{}", reason(1));
    assert!(reason(2).contains("too many columns"), "{}", reason(2));
    assert!(reason(3).contains("unclosed quote"), "{}", reason(3));

    let csv = c.get(&format!("/api/v1/imports/{id}/rejected.csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").starts_with("attachment"));
    let rows: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows[0], "line,reason,row");
    assert_eq!(rows.len(), 5);
    assert!(rows[1].starts_with("3,") && rows[1].contains("Борис"), "{}", rows[1]);
    assert!(rows[4].starts_with("6,\"unclosed quote\""), "{}", rows[4]);

    // Contacts with a company are linked to it; the company was created once.
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 2);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM accounts WHERE tenant_id = $1").await, 2);
    let linked = count(
        &app,
        "SELECT COUNT(*) AS n FROM contact_accounts ca JOIN accounts a ON a.tenant_id = ca.tenant_id AND a.id = ca.account_id \
         JOIN contacts c ON c.tenant_id = ca.tenant_id AND c.id = ca.contact_id \
         WHERE ca.tenant_id = $1 AND ((a.name = 'Ромашка' AND c.last_name = 'Иванова') OR (a.name = 'Лютик' AND c.last_name = 'Козлов'))",
    )
    .await;
    assert_eq!(linked, 2);

    // The importing user can see the import; another salesperson cannot.
    let other = app.api("acme", "sales2@acme.test").await;
    assert_eq!(other.get(&format!("/api/v1/imports/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("/api/v1/imports/{id}/rejected.csv")).await.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

#[engines]
async fn running_the_same_file_again_with_the_same_rule_changes_nothing(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let first = import_via_api(&c, "contacts", "people.csv", PEOPLE.as_bytes(), "skip").await;
    assert_eq!(counts(&first), (2, 0, 0, 4));
    let before = count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await;
    let audits = count(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE tenant_id = $1 AND action <> 'import'").await;
    for dedup in ["skip", "update"] {
        let again = import_via_api(&c, "contacts", "people.csv", PEOPLE.as_bytes(), dedup).await;
        assert_eq!(again["status"], "done");
        assert_eq!(counts(&again), (0, 0, 2, 4), "{dedup}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, before);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM accounts WHERE tenant_id = $1").await, 2);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE tenant_id = $1 AND action <> 'import'").await,
        audits,
        "no record was touched"
    );
    app.finish().await;
}

#[engines]
async fn empty_and_binary_files_are_refused_with_a_clear_reason(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let (s, v) = upload(&c, "contacts", "empty.csv", Vec::new()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "file");
    assert_eq!(v["errors"][0]["code"], "empty_file");
    assert!(v["detail"].as_str().unwrap().contains("empty"), "{v}");
    let (s, v) = upload(&c, "contacts", "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["code"], "binary_file");
    let (s, v) = upload(&c, "deals", "x.csv", b"a,b\n1,2\n".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "entity");
    let viewer = app.api("acme", "viewer@acme.test").await;
    let (s, _) = upload(&viewer, "contacts", "people.csv", PEOPLE.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a read-only user may not import");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM imports WHERE tenant_id = $1").await, 0);

    // The wizard says the same in words.
    let b = app.browser("sales1@acme.test").await;
    let r = multipart(&b, "contacts", "auto", "empty.csv", b"").await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.1.contains("The file is empty."), "{}", r.1);
    let r = multipart(&b, "contacts", "auto", "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.1.contains("looks like binary data"), "{}", r.1);
    app.finish().await;
}

/// Posts the wizard's upload form as a browser does: multipart, with the CSRF token in the
/// form's action. Returns the status and the body or the redirect's target.
async fn multipart(b: &Client, entity: &str, encoding: &str, name: &str, file: &[u8]) -> (StatusCode, String) {
    let page = b.get("/imports").await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    let csrf = page.csrf();
    let actions = page.doc().attrs("form[enctype='multipart/form-data']", "action");
    assert_eq!(actions, [format!("/imports?_csrf={csrf}")], "the form carries its token");
    let boundary = "----karta-test-boundary";
    let mut body = Vec::new();
    for (k, v) in [("entity", entity), ("encoding", encoding)] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = b
        .http
        .post(format!("{}/imports?_csrf={csrf}", b.base))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = r.text().await.unwrap();
    (status, if status == StatusCode::SEE_OTHER { loc } else { text })
}

async fn status_of(app: &TestApp, id: &str) -> String {
    app.db.opt(Q::new("SELECT status FROM imports WHERE id = $1").bind(id)).await.unwrap().unwrap().s("status")
}

async fn wait_status(app: &TestApp, id: &str, want: &[&str]) -> String {
    for _ in 0..600 {
        let s = status_of(app, id).await;
        if want.contains(&s.as_str()) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} never reached {want:?}");
}

#[engines]
async fn the_wizard_uploads_previews_maps_dry_runs_and_imports_with_a_rejected_rows_download(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let b = app.browser("sales1@acme.test").await;
    let list = b.get("/contacts").await;
    assert_eq!(list.doc().count("a[href='/imports?entity=contacts']"), 1, "the list links to the import");
    let (s, loc) = multipart(&b, "contacts", "auto", "people.csv", PEOPLE.as_bytes()).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc}");
    assert!(loc.starts_with("/imports/"), "{loc}");
    let id = loc.trim_start_matches("/imports/").to_string();

    let page = b.get(&loc).await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    let doc = page.doc();
    let cells = doc.texts("section.card table.list tbody td");
    assert!(
        cells.iter().any(|c| c == "Анна") && cells.iter().any(|c| c == "Ромашка"),
        "the preview shows the rows: {cells:?}"
    );
    assert!(doc.text("form.inline-form label.field > span").contains(": utf-8"), "the detected encoding is shown");
    let chosen = doc.attrs("select[name=map] option[selected]", "value");
    assert_eq!(doc.count("select[name=map]"), 5, "one choice per column");
    assert!(chosen.contains(&"email".to_string()), "e-mail is suggested from the header: {chosen:?}");
    assert!(chosen.contains(&"account".to_string()), "the company column is suggested: {chosen:?}");
    let csrf = page.csrf();
    let map = ["first_name", "last_name", "email", "birthday", "account"];
    let mut form: Vec<(&str, &str)> =
        vec![("_csrf", &csrf), ("encoding", "auto"), ("dedup", "skip"), ("action", "dry")];
    form.extend(map.iter().map(|m| ("map", *m)));
    let r = b.form(&loc, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    wait_status(&app, &id, &["dry_done"]).await;
    let page = b.get(&loc).await;
    assert_eq!(page.doc().text("p.counts"), "would import 2, update 0, skip 0, reject 4");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 0);

    let r = b.form(&loc, &[("_csrf", &csrf), ("action", "run")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    wait_status(&app, &id, &["done"]).await;
    let page = b.get(&loc).await;
    let doc = page.doc();
    assert_eq!(doc.text("p.counts"), "imported 2, updated 0, skipped 0, rejected 4");
    assert_eq!(
        doc.count(&format!("a[download][href='/imports/{id}/rejected.csv']")),
        2,
        "the result and the list offer the file"
    );
    let reasons = doc.texts("section.card table.list tbody tr td:nth-child(2)");
    assert_eq!(reasons.len(), 4, "every rejected row is listed: {reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("too many columns")), "{reasons:?}");
    let csv = b.get(&format!("/imports/{id}/rejected.csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text.starts_with("line,reason,row\r\n3,"), "{}", csv.text);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 2);

    // The list of imports shows it; another user cannot open it.
    let mine = b.get("/imports").await;
    assert_eq!(mine.doc().texts("table.list tbody td a"), ["people.csv"]);
    let other = app.browser("sales2@acme.test").await;
    assert_eq!(other.get(&loc).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other.get("/imports").await.doc().count("table.list tbody tr"),
        0,
        "another user's imports are not listed"
    );

    // A second file with the same header row gets the mapping remembered.
    let again = "Имя,Фамилия,Email,Дата рождения,Компания\nЖора,Жуков,zhora@example.ru,,\n";
    let (_, loc2) = multipart(&b, "contacts", "auto", "more.csv", again.as_bytes()).await;
    let page = b.get(&loc2).await;
    let chosen = page.doc().attrs("select[name=map] option[selected]", "value");
    assert_eq!(chosen[3], "birthday", "the remembered mapping is offered: {chosen:?}");
    app.finish().await;
}

#[engines]
async fn a_windows_1251_file_is_detected_and_decoded(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let text = "Фамилия;Имя;Телефон;Организация\r\nЁлкина;Жанна;+7 916 123-45-67;ООО «Ёж»\r\n";
    let bytes = encoding_rs::WINDOWS_1251.encode(text).0.into_owned();
    assert!(std::str::from_utf8(&bytes).is_err(), "the file really is not UTF-8");
    let b = app.browser("sales1@acme.test").await;
    let (s, loc) = multipart(&b, "contacts", "auto", "cp1251.csv", &bytes).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc}");
    let page = b.get(&loc).await;
    let doc = page.doc();
    assert!(
        doc.text("form.inline-form label.field > span").contains(": windows-1251"),
        "the detected encoding is shown"
    );
    let cells = doc.texts("section.card table.list tbody td");
    assert_eq!(cells[1..], ["Ёлкина", "Жанна", "+7 916 123-45-67", "ООО «Ёж»"], "{cells:?}");
    // Read as UTF-8 on request, it turns into replacement characters.
    let wrong = b.get(&format!("{loc}?encoding=utf-8")).await.doc().texts("section.card table.list tbody td");
    assert_eq!(wrong.len(), 5, "{wrong:?}");
    assert!(wrong[1].contains('\u{fffd}') && !wrong.iter().any(|c| c.contains("Ёлкина")), "{wrong:?}");

    let c = app.api("acme", "sales1@acme.test").await;
    let done = import_via_api(&c, "contacts", "cp1251.csv", &bytes, "skip").await;
    assert_eq!(counts(&done), (1, 0, 0, 0), "{done}");
    let found = c.get("/api/v1/contacts?filter=last_name:eq:Ёлкина").await.json();
    assert_eq!(found["items"][0]["first_name"], "Жанна", "{found}");
    assert_eq!(found["items"][0]["phones"][0]["value"], "+79161234567");
    app.finish().await;
}

#[engines]
async fn an_accounts_import_and_a_vcard_import_work_too(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let c = app.api("acme", "admin@acme.test").await;
    let accounts = "Название;ИНН;Сайт\nРога и копыта;7707083893;roga.example.ru\n";
    let done = import_via_api(&c, "accounts", "orgs.csv", accounts.as_bytes(), "skip").await;
    assert_eq!(counts(&done), (1, 0, 0, 0), "{done}");
    let vcf =
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ivan Petrov\r\nN:Petrov;Ivan;;;\r\nEMAIL:ivan@example.com\r\nEND:VCARD\r\n";
    let done = import_via_api(&c, "contacts", "card.vcf", vcf.as_bytes(), "skip").await;
    assert_eq!(done["format"], "vcf");
    assert_eq!(counts(&done), (1, 0, 0, 0), "{done}");
    app.finish().await;
}

#[engines]
async fn an_import_cut_off_by_a_restart_resumes_and_imports_every_row_once(kind: Kind) {
    let mut app = TestApp::spawn(kind).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let mut csv = String::from("First name,Last name,E-mail\n");
    for i in 0..6000 {
        csv.push_str(&format!("Name{i},Family{i},person{i}@example.com\n"));
    }
    let (status, created) = upload(&c, "contacts", "big.csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_string();
    let r = c
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/imports/{id}/mapping"),
            Some(&json!({"mapping": created["preview"]["mapping"]})),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    c.post(&format!("/api/v1/imports/{id}/run"), &json!({})).await;
    // Stop once a batch is committed (or, on a fast machine, when it is all done).
    for _ in 0..600 {
        let r =
            app.db.opt(Q::new("SELECT status, done_rows FROM imports WHERE id = $1").bind(&id)).await.unwrap().unwrap();
        if r.s("status") == "done" || (r.s("status") == "running" && r.i("done_rows") > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.restart().await;
    let c = app.api("acme", "sales1@acme.test").await;
    let done = settle(&c, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(counts(&done), (6000, 0, 0, 0), "{done}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 6000);
    app.finish().await;
}

#[engines]
async fn an_import_of_a_user_disabled_meanwhile_fails_instead_of_running(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let (_, created) = upload(&c, "contacts", "people.csv", PEOPLE.as_bytes().to_vec()).await;
    let id = created["id"].as_str().unwrap().to_string();
    let r = c
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/imports/{id}/mapping"),
            Some(&json!({"mapping": created["preview"]["mapping"]})),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let uid = c.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    karta_kernel::users::set_disabled(&app.db, &karta_kernel::Admin::operator(&app.tenant_a), &uid, true)
        .await
        .unwrap();
    app.db.exec(Q::new("UPDATE imports SET status = 'queued' WHERE id = $1").bind(&id)).await.unwrap();
    assert_eq!(wait_status(&app, &id, &["failed", "done"]).await, "failed");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 0);
    app.finish().await;
}

async fn bytes(c: &Client, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = c.http.get(format!("{}{path}", c.base));
    if let Some(t) = &c.token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    (r.status(), r.headers().clone(), r.bytes().await.unwrap().to_vec())
}

#[engines]
async fn exports_hold_only_what_the_user_may_see_need_the_permission_and_are_audited(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    for (c, first, last, mail) in
        [(&s1, "Ольга", "Мина", "olga"), (&s1, "Пётр", "Чаев", "petr"), (&s2, "Чужой", "Клиент", "other")]
    {
        let r = c
            .post("/api/v1/contacts", &json!({"first_name": first, "last_name": last, "emails": [{"label": "", "value": format!("{mail}@example.ru")}]}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    }

    let r = s1.get("/api/v1/contacts/export?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert!(r.header("content-type").starts_with("text/csv"));
    let cd = r.header("content-disposition");
    assert!(cd.starts_with("attachment; filename=\"contacts-") && cd.ends_with(".csv\""), "{cd}");
    let text = r.text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "a header and the salesperson's own two contacts: {text}");
    assert!(text.contains("Мина") && text.contains("Чаев"));
    assert!(!text.contains("Клиент"), "another salesperson's contact is not exported");

    // Filters of the list apply.
    let r = s1.get(&format!("/api/v1/contacts/export?format=csv&filter={}", "last_name:eq:Мина")).await;
    assert_eq!(r.text.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).count(), 2);
    let r = s1.get("/api/v1/contacts/export?format=csv&filter=nope:eq:1").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a bad filter is an error, not a broken file");

    // Headers in Russian on request (the importer reads both languages).
    let r = s1.get("/api/v1/contacts/export?format=csv&lang=ru&columns=name,email").await;
    let head = r.text.trim_start_matches('\u{feff}').split("\r\n").next().unwrap_or_default().to_string();
    assert!(head.contains("Фамилия") && !head.contains("Last name"), "{head}");
    assert_eq!(s1.get("/api/v1/contacts/export?lang=de").await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A read-only user may read but not export.
    let viewer = app.api("acme", "viewer@acme.test").await;
    assert_eq!(viewer.get("/api/v1/contacts").await.status(), StatusCode::OK);
    assert_eq!(viewer.get("/api/v1/contacts/export?format=csv").await.status(), StatusCode::FORBIDDEN);
    let vb = app.browser("viewer@acme.test").await;
    assert_eq!(vb.get("/contacts/export.csv").await.status(), StatusCode::FORBIDDEN);

    // XLSX opens in a spreadsheet reader.
    let (st, h, body) = bytes(&s1, "/api/v1/contacts/export?format=xlsx").await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().contains("spreadsheetml"));
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(body)).expect("a workbook");
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = range.rows().flat_map(|r| r.iter().map(ToString::to_string)).collect();
    assert_eq!(range.rows().count(), 3);
    assert!(cells.iter().any(|c| c == "Мина") && !cells.iter().any(|c| c == "Клиент"), "{cells:?}");

    // vCard: one card per contact.
    let r = s1.get("/api/v1/contacts/export?format=vcf").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text.matches("BEGIN:VCARD").count(), 2, "{}", r.text);
    assert!(r.text.contains("VERSION:4.0"));
    assert_eq!(s1.get("/api/v1/accounts/export?format=vcf").await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The UI's download takes the list's own parameters.
    let b = app.browser("sales1@acme.test").await;
    let list = b.get("/contacts").await;
    let exports = list.doc().attrs("a[href^='/contacts/export.csv?']", "href");
    assert!(!exports.is_empty(), "the list links to its export");
    let r = b.get(&format!("/contacts/export.csv?filter={}&cols=email", "last_name:eq:Чаев")).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let lines: Vec<&str> = r.text.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("Last name") && lines[0].contains("E-mail"), "{}", lines[0]);
    assert!(lines[1].contains("Чаев") && lines[1].contains("petr@example.ru"), "{}", lines[1]);
    let (st, _, _) = bytes(&b, "/deals/export.xlsx").await;
    assert_eq!(st, StatusCode::OK);

    // Every export is in the audit trail.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let audited = count(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE tenant_id = $1 AND action = 'export'").await;
    assert!(audited >= 6, "{audited}");
    app.finish().await;
}

/// The personal-data gate of the kernel: refuses contacts named «Невыгружаемый» (what the
/// privacy kit will decide from consent and restriction).
fn refuse_marked<'a>(
    db: &'a karta_kernel::Db,
    ctx: &'a karta_kernel::Ctx,
    people: &'a [String],
    purpose: karta_kernel::hooks::Purpose,
) -> futures_util::future::BoxFuture<'a, Result<std::collections::HashSet<String>, karta_kernel::StoreError>> {
    Box::pin(async move {
        if purpose != karta_kernel::hooks::Purpose::Export || people.is_empty() {
            return Ok(std::collections::HashSet::new());
        }
        let mut q = Q::new("");
        let t = q.arg(ctx.tenant_id());
        let list = people.iter().map(|p| q.arg(p.as_str())).collect::<Vec<_>>().join(", ");
        q.sql =
            format!("SELECT id FROM contacts WHERE tenant_id = {t} AND last_name = 'Невыгружаемый' AND id IN ({list})");
        Ok(db.all(q).await?.iter().map(|r| r.s("id")).collect())
    })
}

#[engines]
async fn an_export_leaves_out_the_people_the_personal_data_gate_refuses(k: Kind) {
    karta_kernel::hooks::PERSONAL_DATA_GATE.add("test.refuse_marked", refuse_marked);
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    c.contact("Открытый", "Выгружаемый").await;
    c.contact("Закрытый", "Невыгружаемый").await;
    let r = c.get("/api/v1/contacts/export?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}");
    assert!(r.text.contains("Открытый"), "{k:?}: {}", r.text);
    assert!(!r.text.contains("Невыгружаемый"), "{k:?}: the gate was not asked: {}", r.text);
    let vcf = c.get("/api/v1/contacts/export?format=vcf").await.text;
    assert!(vcf.contains("Открытый") && !vcf.contains("Невыгружаемый"), "{k:?}: {vcf}");
    app.finish().await;
}

/// A file larger than a form (2 MB) is uploaded through the wizard as through the API.
#[engines]
async fn the_wizard_takes_a_file_larger_than_a_form(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let b = app.browser("sales1@acme.test").await;
    let mut csv = String::from("Имя,Фамилия,Email\n");
    let mut i = 0;
    while csv.len() < 3 * 1024 * 1024 {
        csv.push_str(&format!("Имя{i},Фамилия{i},person{i}@big.example\n"));
        i += 1;
    }
    let (s, loc) = multipart(&b, "contacts", "auto", "big.csv", csv.as_bytes()).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{kind:?}: {}", loc.chars().take(300).collect::<String>());
    assert!(loc.starts_with("/imports/"), "{kind:?}: {loc}");
    app.finish().await;
}

/// Tab-separated values: an export format another context could register.
struct Tsv(Vec<u8>);

impl karta_transfer::export::FormatWriter for Tsv {
    fn row(&mut self, _n: u64, cells: &[&str]) -> std::io::Result<()> {
        self.0.extend(cells.iter().map(|c| c.replace(['\t', '\n'], " ")).collect::<Vec<_>>().join("\t").bytes());
        self.0.push(b'\n');
        Ok(())
    }

    fn take(&mut self, _all: bool) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }

    fn finish(self: Box<Self>) -> std::io::Result<Vec<u8>> {
        Ok(self.0)
    }
}

#[engines]
async fn a_registered_export_format_is_served_with_the_lists_rows(k: Kind) {
    karta_transfer::export::FORMATS.add(
        "tsv",
        karta_transfer::export::ExportFormat {
            key: "tsv",
            aliases: &[],
            mime: "text/tab-separated-values; charset=utf-8",
            only: None,
            whole_records: false,
            make: || Ok(Box::new(Tsv(Vec::new()))),
        },
    );
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    c.contact("Табулятор", "Разделителев").await;
    let r = c.get("/api/v1/contacts/export?format=tsv").await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    assert!(r.header("content-type").starts_with("text/tab-separated-values"), "{k:?}");
    let lines: Vec<&str> = r.text.lines().collect();
    assert!(lines[0].contains('\t') && lines.iter().any(|l| l.contains("Разделителев")), "{k:?}: {}", r.text);
    // The list page's export link works for it too.
    let b = app.browser("admin@acme.test").await;
    let page = b.get("/contacts/export.tsv").await;
    assert_eq!(page.status(), StatusCode::OK, "{k:?}: {}", page.text);
    assert!(page.text.contains("Разделителев"), "{k:?}");
    app.finish().await;
}
