//! Tenant isolation and own-scope isolation on every route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kinds, TestApp};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn another_tenant_cannot_read_list_search_or_change_anything() {
    for k in kinds() {
        let app = TestApp::spawn(k).await;
        let a = app.api("acme", "admin@acme.test").await;
        let b = app.api("globex", "admin@globex.test").await;
        let c = a.post("/api/v1/contacts", &json!({"first_name": "Секрет", "last_name": "Акмеев", "emails": [{"value": "secret@acme.ru"}], "phones": [{"value": "+7 916 555-44-33"}]})).await.json();
        let acc = a.post("/api/v1/accounts", &json!({"name": "Acme Secret Ltd"})).await.json();
        let (cid, aid) = (c["id"].as_str().unwrap(), acc["id"].as_str().unwrap());
        assert_eq!(
            a.send(
                reqwest::Method::PUT,
                &format!("/api/v1/contacts/{cid}/accounts/{aid}"),
                Some(&json!({"role": "CEO"})),
                &[]
            )
            .await
            .status(),
            StatusCode::NO_CONTENT
        );
        a.post(&format!("/api/v1/contacts/{cid}/notes"), &json!({"body": "секретная заметка"})).await;

        for path in [
            format!("/api/v1/contacts/{cid}"),
            format!("/api/v1/accounts/{aid}"),
            format!("/api/v1/contacts/{cid}/notes"),
            format!("/api/v1/contacts/{cid}/history"),
            format!("/api/v1/contacts/{cid}/related"),
            format!("/api/v1/accounts/{aid}/related"),
        ] {
            assert_eq!(b.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let list = b.get("/api/v1/contacts").await.json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
        let list = b.get("/api/v1/accounts?trash=true").await.json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
        for q in ["Акмеев", "secret@acme", "916 555", "Secret"] {
            let hits = b.get(&format!("/api/v1/search?q={}", urlenc(q))).await.json();
            assert_eq!(hits.as_array().unwrap().len(), 0, "search {q}");
            let hits = a.get(&format!("/api/v1/search?q={}", urlenc(q))).await.json();
            assert!(!hits.as_array().unwrap().is_empty(), "own tenant finds {q}");
        }
        assert_eq!(
            b.patch(&format!("/api/v1/contacts/{cid}"), &json!({"last_name": "X"}), "\"1\"").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(b.delete(&format!("/api/v1/contacts/{cid}")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            b.post(&format!("/api/v1/contacts/{cid}/notes"), &json!({"body": "x"})).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            b.send(reqwest::Method::PUT, &format!("/api/v1/contacts/{cid}/accounts/{aid}"), Some(&json!({})), &[])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let bc = b.contact("Глоб", "Эксов").await;
        let bcid = bc["id"].as_str().unwrap();
        assert_eq!(
            b.send(reqwest::Method::PUT, &format!("/api/v1/contacts/{bcid}/accounts/{aid}"), Some(&json!({})), &[])
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "cannot link to another tenant's account"
        );
        let note_id =
            a.get(&format!("/api/v1/contacts/{cid}/notes")).await.json()[0]["id"].as_str().unwrap().to_string();
        assert_eq!(
            b.patch(&format!("/api/v1/notes/{note_id}"), &json!({"body": "hacked"}), "\"1\"").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(b.delete(&format!("/api/v1/notes/{note_id}")).await.status(), StatusCode::NOT_FOUND);
        // Through the UI as well.
        let ub = app.browser("admin@globex.test").await;
        assert_eq!(ub.get(&format!("/contacts/{cid}")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(ub.get(&format!("/accounts/{aid}/edit")).await.status(), StatusCode::NOT_FOUND);
        let s = ub.get("/search?q=%D0%90%D0%BA%D0%BC%D0%B5%D0%B5%D0%B2").await;
        assert!(!s.text.contains(cid), "no hit links to tenant A's contact");
        assert!(!ub.get("/contacts").await.text.contains("Акмеев"));
        let csrf = ub.get("/contacts").await.csrf();
        assert_eq!(
            ub.form(&format!("/contacts/{cid}/delete"), &[("_csrf", &csrf)]).await.status(),
            StatusCode::NOT_FOUND
        );
        // Nothing changed on tenant A's side.
        let still = a.get(&format!("/api/v1/contacts/{cid}")).await;
        assert_eq!(still.status(), StatusCode::OK);
        assert_eq!(still.json()["last_name"], "Акмеев");
        assert_eq!(a.get(&format!("/api/v1/contacts/{cid}/notes")).await.json()[0]["body"], "секретная заметка");
        app.finish().await;
    }
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_salesperson_sees_and_changes_only_own_records() {
    for k in kinds() {
        let app = TestApp::spawn(k).await;
        let s1 = app.api("acme", "sales1@acme.test").await;
        let s2 = app.api("acme", "sales2@acme.test").await;
        let admin = app.api("acme", "admin@acme.test").await;
        let mine = s1.contact("Ольга", "Первая").await;
        let theirs = s2.contact("Олег", "Вторых").await;
        let (m, t) = (mine["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());

        let l1 = s1.get("/api/v1/contacts").await.json();
        let names: Vec<&str> = l1["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Ольга Первая"]);
        assert_eq!(s1.get(&format!("/api/v1/contacts/{t}")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            s1.patch(&format!("/api/v1/contacts/{t}"), &json!({"first_name": "X"}), "\"1\"").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(s1.delete(&format!("/api/v1/contacts/{t}")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            s1.get("/api/v1/search?q=%D0%92%D1%82%D0%BE%D1%80%D1%8B%D1%85").await.json().as_array().unwrap().len(),
            0
        );
        assert_eq!(
            s1.get("/api/v1/search?q=%D0%9F%D0%B5%D1%80%D0%B2%D0%B0%D1%8F").await.json().as_array().unwrap().len(),
            1
        );
        // A salesperson cannot give a record to someone else's scope by creating it for them.
        let r = s1.post("/api/v1/contacts", &json!({"last_name": "Чужой", "owner_id": theirs["owner_id"]})).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.error_fields(), ["owner_id"]);
        // The admin sees both; the team manager sees sales1 (same team) but not sales2.
        assert_eq!(admin.get("/api/v1/contacts").await.json()["items"].as_array().unwrap().len(), 2);
        let mgr = app.api("acme", "manager@acme.test").await;
        let ml = mgr.get("/api/v1/contacts").await.json();
        let names: Vec<&str> = ml["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Ольга Первая"]);
        assert_eq!(mgr.get(&format!("/api/v1/contacts/{m}")).await.status(), StatusCode::OK);
        // Read-only users read everything and change nothing.
        let ro = app.api("acme", "viewer@acme.test").await;
        assert_eq!(ro.get(&format!("/api/v1/contacts/{t}")).await.status(), StatusCode::OK);
        assert_eq!(ro.post("/api/v1/contacts", &json!({"last_name": "Нельзя"})).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            ro.patch(&format!("/api/v1/contacts/{t}"), &json!({"first_name": "X"}), "\"1\"").await.status(),
            StatusCode::FORBIDDEN
        );
        // The UI list and record page follow the same scope.
        let ui = app.browser("sales1@acme.test").await;
        let page = ui.get("/contacts").await.text;
        assert!(page.contains("Ольга Первая") && !page.contains("Олег Вторых"));
        assert_eq!(ui.get(&format!("/contacts/{t}")).await.status(), StatusCode::NOT_FOUND);
        assert!(!ui.get("/search?q=%D0%9E%D0%BB%D0%B5%D0%B3").await.text.contains("Олег Вторых"));
        app.finish().await;
    }
}
