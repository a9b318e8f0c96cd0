//! Sign-in, sign-out, sessions, CSRF, throttling and tokens.

use crate::common::{Client, Kind, TestApp, PASSWORD};
use karta_kernel::users::SessionPolicy;
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::json;

#[engines]
async fn sign_in_opens_the_app_and_sign_out_kills_the_session(k: Kind) {
    let app = TestApp::spawn(k).await;
    let anon = Client::new(&app.base, None);
    let r = anon.get("/contacts").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.header("location").starts_with("/login"));

    let c = app.browser("sales1@acme.test").await;
    let page = c.get("/contacts").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.doc().text("nav .me > span"), "sales1", "the user's name is shown");
    let csrf = page.csrf();
    let secret = app.db.all(karta_kernel::Q::new("SELECT id_hash FROM sessions")).await.unwrap().len();
    assert_eq!(secret, 1);
    let out = c.form("/logout", &[("_csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.db.all(karta_kernel::Q::new("SELECT id_hash FROM sessions")).await.unwrap().len(),
        0,
        "session row deleted"
    );
    assert_eq!(c.get("/contacts").await.status(), StatusCode::SEE_OTHER);
    app.finish().await;
}

#[engines]
async fn wrong_password_is_refused_and_repeated_failures_are_throttled(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = Client::new(&app.base, None);
    let r = c.sign_in("sales1@acme.test", "wrong password!!").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let said = r.doc().text("p.alert[role=alert]");
    assert!(said == "Wrong e-mail or password." || said == "Неверный e-mail или пароль.", "{said}");
    let r = c.sign_in("nobody@acme.test", "whatever-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "unknown users look the same as wrong passwords");
    for _ in 0..4 {
        c.sign_in("sales1@acme.test", "wrong password!!").await;
    }
    let r = c.sign_in("sales1@acme.test", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the right password is refused while throttled");
    // Another account is not affected by sales1's failures.
    assert_eq!(c.sign_in("sales2@acme.test", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    app.finish().await;
}

#[engines]
async fn an_idle_session_expires_and_the_user_is_asked_to_sign_in_again(k: Kind) {
    let app = TestApp::spawn_with(k, SessionPolicy { idle_ms: 1000, absolute_ms: 60_000 }).await;
    let c = app.browser("sales1@acme.test").await;
    assert_eq!(c.get("/contacts").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let r = c.get("/contacts").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.header("location").contains("expired=1"));
    app.finish().await;
}

#[engines]
async fn a_session_ends_at_its_absolute_expiry_even_when_used(k: Kind) {
    let app = TestApp::spawn_with(k, SessionPolicy { idle_ms: 60_000, absolute_ms: 1200 }).await;
    let c = app.browser("sales1@acme.test").await;
    for _ in 0..3 {
        assert_eq!(c.get("/contacts").await.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(c.get("/contacts").await.status(), StatusCode::SEE_OTHER);
    app.finish().await;
}

#[engines]
async fn unsafe_requests_without_the_csrf_token_or_from_another_origin_are_refused(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.browser("sales1@acme.test").await;
    let csrf = c.get("/contacts").await.csrf();
    let r = c.form("/contacts", &[("last_name", "Иванов")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token");
    let r = c.form("/contacts", &[("_csrf", "forged"), ("last_name", "Иванов")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong token");
    let r = c
        .http
        .post(format!("{}/contacts", app.base))
        .header("origin", "http://evil.example")
        .form(&[("_csrf", csrf.as_str()), ("last_name", "Иванов")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "foreign origin");
    let n = app.db.all(karta_kernel::Q::new("SELECT id FROM contacts")).await.unwrap().len();
    assert_eq!(n, 0, "nothing was created by refused requests");
    let r = c.form("/contacts", &[("_csrf", &csrf), ("last_name", "Иванов")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    // A JSON API call made with the session cookie needs the token in a header.
    let r = c.post("/api/v1/contacts", &json!({"last_name": "Петров"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .send(
            reqwest::Method::POST,
            "/api/v1/contacts",
            Some(&json!({"last_name": "Петров"})),
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.finish().await;
}

#[engines]
async fn api_tokens_authenticate_and_stop_working_when_revoked(k: Kind) {
    let app = TestApp::spawn(k).await;
    let anon = Client::new(&app.base, None);
    assert_eq!(anon.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let bad = Client::new(&app.base, Some("karta_nonsense".into()));
    assert_eq!(bad.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let c = app.api("acme", "sales1@acme.test").await;
    let me = c.get("/api/v1/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json()["email"], "sales1@acme.test");
    let created = c.post("/api/v1/tokens", &json!({"name": "script"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let secret = created.json()["token"].as_str().unwrap().to_string();
    let id = created.json()["id"].as_str().unwrap().to_string();
    let stored = app.db.all(karta_kernel::Q::new("SELECT token_hash FROM api_tokens")).await.unwrap();
    assert!(stored.iter().all(|r| r.s("token_hash") != secret), "tokens are stored hashed");
    let c2 = Client::new(&app.base, Some(secret));
    assert_eq!(c2.get("/api/v1/me").await.status(), StatusCode::OK);
    let listed = c.get("/api/v1/tokens").await.json();
    assert!(listed.as_array().unwrap().iter().all(|t| t.get("token").is_none() && t.get("token_hash").is_none()));
    assert_eq!(c.delete(&format!("/api/v1/tokens/{id}")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(c2.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[engines]
async fn a_disabled_user_loses_sessions_and_tokens(k: Kind) {
    let app = TestApp::spawn(k).await;
    let b = app.browser("sales2@acme.test").await;
    let api = app.api("acme", "sales2@acme.test").await;
    let u = karta_kernel::users::by_email(&app.db, &app.tenant_a, "sales2@acme.test").await.unwrap().unwrap();
    karta_kernel::users::set_disabled(&app.db, &karta_kernel::Admin::operator(&app.tenant_a), &u.id, true)
        .await
        .unwrap();
    assert_eq!(b.get("/contacts").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        Client::new(&app.base, None).sign_in("sales2@acme.test", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}

#[engines]
async fn an_admin_manages_users_and_teams_and_others_cannot(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s = app.browser("sales1@acme.test").await;
    assert_eq!(s.get("/admin/users").await.status(), StatusCode::FORBIDDEN);
    let csrf = s.get("/contacts").await.csrf();
    let r = s.form("/admin/users", &[("_csrf", &csrf), ("email", "x@acme.test"), ("role", "admin")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a salesperson cannot add an admin");

    let a = app.browser("admin@acme.test").await;
    let page = a.get("/admin/users").await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = page.csrf();
    assert_eq!(a.form("/admin/teams", &[("_csrf", &csrf), ("name", "Юг")]).await.status(), StatusCode::SEE_OTHER);
    let team = karta_kernel::tenants::team_by_name(&app.db, &app.tenant_a, "Юг").await.unwrap().unwrap();
    let r = a
        .form(
            "/admin/users",
            &[("_csrf", &csrf), ("email", "new@acme.test"), ("name", "Новый"), ("role", "support"), ("team", &team)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let pw_line = r.text.split("<code class=\"secret\">").nth(1).unwrap();
    let pw = pw_line[..pw_line.find("</code>").unwrap()].trim_start_matches("new@acme.test: ").to_string();
    let u = karta_kernel::users::by_email(&app.db, &app.tenant_a, "new@acme.test").await.unwrap().unwrap();
    assert_eq!(u.role, karta_core::Role::Support.as_str());
    assert_eq!(u.team_id.as_deref(), Some(team.as_str()));
    let dup = a.form("/admin/users", &[("_csrf", &csrf), ("email", "new@acme.test"), ("role", "support")]).await;
    assert_eq!(dup.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Client::new(&app.base, None).sign_in("new@acme.test", &pw).await.status(),
        StatusCode::SEE_OTHER,
        "the shown password works"
    );
    let r = a
        .form(
            &format!("/admin/users/{}", u.id),
            &[("_csrf", &csrf), ("role", "read_only"), ("team", ""), ("disabled", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let u = karta_kernel::users::by_email(&app.db, &app.tenant_a, "new@acme.test").await.unwrap().unwrap();
    assert!(u.disabled && u.role == karta_core::Role::ReadOnly.as_str() && u.team_id.is_none());
    // An admin cannot lock themselves out.
    let me = karta_kernel::users::by_email(&app.db, &app.tenant_a, "admin@acme.test").await.unwrap().unwrap();
    let r = a.form(&format!("/admin/users/{}", me.id), &[("_csrf", &csrf), ("role", "salesperson")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Another tenant's user id is not reachable.
    let other = karta_kernel::users::by_email(&app.db, &app.tenant_b, "admin@globex.test").await.unwrap().unwrap();
    let r = a.form(&format!("/admin/users/{}", other.id), &[("_csrf", &csrf), ("role", "read_only")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other = karta_kernel::users::by_email(&app.db, &app.tenant_b, "admin@globex.test").await.unwrap().unwrap();
    assert_eq!(other.role, karta_core::Role::Admin.as_str(), "untouched");
    app.finish().await;
}

#[tokio::test]
async fn redirect_targets_from_forms_are_checked_and_never_leave_the_site() {
    let app = TestApp::spawn(Kind::Sqlite).await;
    let c = Client::new(&app.base, None);
    for (next, expect) in [
        ("//evil.example/x", "/my-day"),
        ("/контакты", "/my-day"),
        ("https://evil.example", "/my-day"),
        ("/accounts?x=1", "/accounts?x=1"),
    ] {
        let c = Client::new(&app.base, None);
        let r = c.form("/login", &[("email", "sales1@acme.test"), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.header("location"), expect, "{next}");
    }
    drop(c);
    let ui = app.browser("admin@acme.test").await;
    let csrf = ui.get("/contacts").await.csrf();
    let r = ui
        .form(
            "/contacts/bulk",
            &[("_csrf", &csrf), ("action", "tag"), ("tag", "x"), ("back", "/contacts?a=\r\nSet-Cookie: x=1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/contacts?&done=0");
    app.finish().await;
}

/// An admin defines "Закупщик", who reads accounts and nothing else; a user with it gets
/// exactly that, and every change of the role applies from the user's next request.
#[engines]
async fn a_role_the_admin_defines_applies_to_its_users_from_their_next_request(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let acc = admin.post("/api/v1/accounts", &json!({"name": "ООО Поставщик"})).await;
    assert_eq!(acc.status(), StatusCode::CREATED, "{k:?}");
    admin.contact("Пётр", "Контактов").await;
    let body = json!({"name": "Закупщик", "grants": {"account": {"read": "all"}}, "caps": []});
    let r = admin.post("/api/v1/roles", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{k:?}: {}", r.text);
    let role = r.json();
    let id = role["id"].as_str().unwrap().to_string();
    assert_eq!(role["grants"]["account"]["read"], "all", "{k:?}");
    assert_eq!(role["grants"]["contact"]["read"], serde_json::Value::Null, "{k:?}");
    // Names are unique in the tenant, and grants are checked.
    assert_eq!(admin.post("/api/v1/roles", &body).await.error_fields(), ["name"], "{k:?}");
    let bad = json!({"name": "Странная", "grants": {"spaceship": {"read": "all"}, "deal": {"fly": "all", "read": "galaxy"}}, "caps": ["root"]});
    let mut fields = admin.post("/api/v1/roles", &bad).await.error_fields();
    fields.sort();
    assert_eq!(fields, ["caps", "grants.deal.fly", "grants.deal.read", "grants.spaceship"], "{k:?}");
    // A non-admin may not see or define roles.
    let s1 = app.api("acme", "sales1@acme.test").await;
    assert_eq!(s1.get("/api/v1/roles").await.status(), StatusCode::FORBIDDEN, "{k:?}");
    assert_eq!(s1.post("/api/v1/roles", &body).await.status(), StatusCode::FORBIDDEN, "{k:?}");

    // The admin gives the role to a new user through the users page.
    let ui = app.browser("admin@acme.test").await;
    let csrf = ui.get("/admin/users").await.csrf();
    let r = ui
        .form(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("email", "buyer@acme.test"),
                ("name", "Борис Закупкин"),
                ("role", &id),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    let offered = ui.get("/admin/users").await.doc().texts("form select[name=role] option");
    assert!(offered.contains(&"Закупщик".to_string()), "{k:?}: the role is offered by name: {offered:?}");
    let buyer = app.api("acme", "buyer@acme.test").await;
    assert_eq!(buyer.get("/api/v1/me").await.json()["role"], id.as_str(), "{k:?}");
    let list = buyer.get("/api/v1/accounts").await;
    assert_eq!(list.status(), StatusCode::OK, "{k:?}");
    assert_eq!(list.json()["items"][0]["name"], "ООО Поставщик", "{k:?}");
    assert_eq!(buyer.get("/api/v1/contacts").await.status(), StatusCode::FORBIDDEN, "{k:?}");
    assert_eq!(buyer.get("/api/v1/deals").await.status(), StatusCode::FORBIDDEN, "{k:?}");
    assert_eq!(buyer.post("/api/v1/accounts", &json!({"name": "Нельзя"})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(buyer.get("/api/v1/accounts/export").await.status(), StatusCode::FORBIDDEN, "{k:?}");
    // The team's workload lists those whose role may create deals: not a buyer.
    let w = admin.get("/api/v1/workload").await.text;
    assert!(w.contains("sales1") && !w.contains("Борис Закупкин"), "{k:?}: {w}");

    // Widened: the same token reads contacts on its next request.
    let put = |v: &str, b: serde_json::Value| {
        let (admin, id, v) = (admin.clone_with_token(), id.clone(), v.to_string());
        async move { admin.send(reqwest::Method::PUT, &format!("/api/v1/roles/{id}"), Some(&b), &[("if-match", &v)]).await }
    };
    let wider = json!({"name": "Закупщик", "grants": {"account": {"read": "all"}, "contact": {"read": "all"}}});
    let r = put("\"1\"", wider.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    assert_eq!(r.header("etag"), "\"2\"", "{k:?}");
    assert_eq!(buyer.get("/api/v1/contacts").await.status(), StatusCode::OK, "{k:?}");
    // A stale version is refused and changes nothing.
    let r = put("\"1\"", json!({"name": "Закупщик", "grants": {}})).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{k:?}");
    assert_eq!(buyer.get("/api/v1/contacts").await.status(), StatusCode::OK, "{k:?}");
    // A role in use cannot be deleted; its history names each change.
    let r = admin.delete(&format!("/api/v1/roles/{id}")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{k:?}: {}", r.text);
    assert!(r.text.contains("role_in_use"), "{k:?}: {}", r.text);
    let hist = admin.get(&format!("/api/v1/roles/{id}/history")).await.json();
    let actions: Vec<&str> = hist.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["update", "create"], "{k:?}");
    assert!(hist[0]["changes"]["grants"].is_object(), "{k:?}: {hist}");

    // The role editor shows the grid and saves it.
    let page = ui.get(&format!("/admin/roles/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK, "{k:?}");
    let grid = page.doc();
    assert_eq!(grid.count("[name='g.account.read']"), 1, "{k:?}");
    assert_eq!(grid.count("[name='g.product.read']"), 1, "{k:?}: every registered entity has a row");
    let csrf = page.csrf();
    let r = ui
        .form(
            &format!("/admin/roles/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", "2"),
                ("name", "Закупщик"),
                ("g.account.read", "all"),
                ("g.account.update", "own"),
                ("g.contact.read", "none"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}: {}", r.text);
    assert_eq!(buyer.get("/api/v1/contacts").await.status(), StatusCode::FORBIDDEN, "{k:?}: narrowed again");
    let now = admin.get(&format!("/api/v1/roles/{id}")).await.json();
    assert_eq!(now["grants"]["account"]["update"], "own", "{k:?}");
    assert!(ui.get("/admin/roles").await.doc().texts("td.name a").contains(&"Закупщик".to_string()), "{k:?}");

    // Built-in roles: the admin's cannot be narrowed; another can be changed and reset.
    let r = admin
        .send(reqwest::Method::PUT, "/api/v1/roles/admin", Some(&json!({"grants": {}})), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{k:?}");
    let viewer = app.api("acme", "viewer@acme.test").await;
    let aid = acc.json()["id"].as_str().unwrap().to_string();
    let patch = |c: &crate::common::Client| {
        let (c, aid) = (c.clone_with_token(), aid.clone());
        async move {
            let v = c.get(&format!("/api/v1/accounts/{aid}")).await.json()["version"].as_i64().unwrap_or(0);
            c.patch(&format!("/api/v1/accounts/{aid}"), &json!({"industry": "Опт"}), &format!("\"{v}\"")).await.status()
        }
    };
    assert_eq!(patch(&viewer).await, StatusCode::FORBIDDEN, "{k:?}");
    let ro = admin.get("/api/v1/roles/read_only").await.json();
    let mut grants = ro["grants"].clone();
    grants["account"]["update"] = json!("all");
    let r = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/roles/read_only",
            Some(&json!({"grants": grants})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    assert_eq!(r.json()["customized"], true, "{k:?}");
    assert_eq!(patch(&viewer).await, StatusCode::OK, "{k:?}");
    assert_eq!(admin.delete("/api/v1/roles/read_only").await.status(), StatusCode::NO_CONTENT, "{k:?}");
    assert_eq!(patch(&viewer).await, StatusCode::FORBIDDEN, "{k:?}: back to its defaults");

    // Once no one has it, the role can be deleted.
    let buyer_id = buyer.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    let csrf = ui.get("/admin/users").await.csrf();
    let r =
        ui.form(&format!("/admin/users/{buyer_id}"), &[("_csrf", &csrf), ("role", "read_only"), ("team", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}: {}", r.text);
    assert_eq!(admin.delete(&format!("/api/v1/roles/{id}")).await.status(), StatusCode::NO_CONTENT, "{k:?}");
    assert_eq!(admin.get(&format!("/api/v1/roles/{id}")).await.status(), StatusCode::NOT_FOUND, "{k:?}");
    app.finish().await;
}

#[engines]
async fn an_address_with_an_internationalised_domain_signs_in_and_matches_whichever_way_it_is_typed(k: Kind) {
    let app = TestApp::spawn(k).await;
    let t = karta_kernel::tenants::by_slug(&app.db, "acme").await.unwrap().unwrap();
    let admin = karta_kernel::Admin::operator(&t.id);
    let u =
        karta_kernel::users::create(&app.db, &admin, "Менеджер@Пример.РФ", "Менеджер", "salesperson", Some(PASSWORD))
            .await
            .unwrap();
    assert_eq!(u.email, "менеджер@пример.рф", "{k:?}: kept as typed (lower-cased)");
    for typed in ["менеджер@пример.рф", "МЕНЕДЖЕР@ПРИМЕР.РФ", "менеджер@xn--e1afmkfd.xn--p1ai"]
    {
        let c = Client::new(&app.base, None);
        let r = c.sign_in(typed, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}: {typed} signs in");
    }

    // A contact saved with the Unicode domain is a likely duplicate of one typed in ASCII.
    let api = app.api("acme", "admin@acme.test").await;
    let first = api
        .post(
            "/api/v1/contacts",
            &json!({"first_name": "Ольга", "last_name": "Пример", "emails": [{"value": "olga@пример.рф"}]}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED, "{k:?}");
    let shown = first.json();
    assert_eq!(shown["emails"][0]["value"], "olga@пример.рф", "{k:?}: shown as typed");
    let r = api
        .post(
            "/api/v1/contacts/duplicates",
            &json!({"first_name": "О.", "last_name": "Другая", "emails": [{"value": "OLGA@xn--e1afmkfd.xn--p1ai"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{k:?}: {}", r.text);
    let found = r.json();
    let ids: Vec<&str> = found["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [shown["id"].as_str().unwrap()], "{k:?}: {found}");
    app.finish().await;
}
