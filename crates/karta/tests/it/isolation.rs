//! Tenant isolation and own-scope isolation on every route, and every API operation and page
//! as each of the six built-in roles and a role the tenant defined itself ("Закупщик", who
//! reads accounts and nothing else): only the roles the permission model allows succeed. The
//! operations are those of the OpenAPI document the router is built from, so a new route
//! without a case here fails the test.

use crate::common::{Client, Kind, TestApp};
use karta_core::{Action, Cap, Entity, Perms, Role, Scope};
use karta_test_macros::engines;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

#[engines]
async fn another_tenant_cannot_read_list_search_or_change_anything(k: Kind) {
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
    let note_id = a.get(&format!("/api/v1/contacts/{cid}/notes")).await.json()[0]["id"].as_str().unwrap().to_string();
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
    let hits = s.doc();
    assert_eq!(hits.count("ul.hits li"), 0, "no hit at all, so none links to tenant A's contact");
    assert_eq!(hits.count(&format!("a[href$='{cid}']")), 0);
    let names = ub.get("/contacts").await.doc().texts("table.list td.name");
    assert!(!names.iter().any(|n| n.contains("Акмеев")), "{names:?}");
    let csrf = ub.get("/contacts").await.csrf();
    assert_eq!(ub.form(&format!("/contacts/{cid}/delete"), &[("_csrf", &csrf)]).await.status(), StatusCode::NOT_FOUND);
    // Nothing changed on tenant A's side.
    let still = a.get(&format!("/api/v1/contacts/{cid}")).await;
    assert_eq!(still.status(), StatusCode::OK);
    assert_eq!(still.json()["last_name"], "Акмеев");
    assert_eq!(a.get(&format!("/api/v1/contacts/{cid}/notes")).await.json()[0]["body"], "секретная заметка");
    app.finish().await;
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[engines]
async fn a_salesperson_sees_and_changes_only_own_records(k: Kind) {
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
    let hits = ui.get("/search?q=%D0%9E%D0%BB%D0%B5%D0%B3").await.doc().texts("ul.hits li a");
    assert!(!hits.contains(&"Олег Вторых".to_string()), "{hits:?}");
    app.finish().await;
}

// ---------- every operation as every role ----------

/// What an operation needs.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Any signed-in user.
    Any,
    /// A permission on an entity (the fixtures are the caller's own, so any scope reaches).
    On(Entity, Action),
    /// The admin capability.
    Admin,
    /// A manager: a scope wider than one's own records (the workload of a team).
    Manager,
    /// Another capability.
    Can(Cap),
}

impl Need {
    fn allows(self, role: &Perms) -> bool {
        match self {
            Need::Any => true,
            Need::On(e, a) => role.scope(e, a).is_some(),
            Need::Admin => role.has(Cap::Admin),
            Need::Manager => role.leads().is_some(),
            Need::Can(c) => role.has(c),
        }
    }
}

/// The roles every operation is tried as: the six built-in ones with their defaults, and a
/// role of the tenant's own that reads accounts and nothing else.
async fn matrix_roles(app: &TestApp, with_password: bool) -> Vec<(&'static str, String, Perms)> {
    let op = karta_kernel::Admin::operator(&app.tenant_a);
    let pw = with_password.then_some(crate::common::PASSWORD);
    for (email, role) in [("support@acme.test", Role::Support), ("marketing@acme.test", Role::Marketing)] {
        karta_kernel::users::create(&app.db, &op, email, "x", role.as_str(), pw).await.unwrap();
    }
    let admin = app.api("acme", "admin@acme.test").await;
    let r = admin
        .post("/api/v1/roles", &json!({"name": "Закупщик", "grants": {"account": {"read": "all"}}, "caps": []}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let buyer_role = r.json()["id"].as_str().unwrap().to_string();
    karta_kernel::users::create(&app.db, &op, "buyer@acme.test", "Закупщик", &buyer_role, pw).await.unwrap();
    let mut buyer = Perms::none();
    buyer.set("account", Action::Read, Some(Scope::All));
    let b = |r: Role| karta_kernel::roles::builtin(r);
    vec![
        ("admin@acme.test", "admin".into(), b(Role::Admin)),
        ("manager@acme.test", "sales_manager".into(), b(Role::SalesManager)),
        ("sales1@acme.test", "salesperson".into(), b(Role::Salesperson)),
        ("support@acme.test", "support".into(), b(Role::Support)),
        ("marketing@acme.test", "marketing".into(), b(Role::Marketing)),
        ("viewer@acme.test", "read_only".into(), b(Role::ReadOnly)),
        ("buyer@acme.test", "Закупщик".into(), buyer),
    ]
}

/// Whether an allowed call must answer 2xx, or only must not be refused (its data may be
/// missing for this caller: another's notification, an import of another user…).
#[derive(Clone, Copy, PartialEq)]
enum Proof {
    Succeeds,
    NotRefused,
}

struct Case {
    method: Method,
    /// The OpenAPI path, with `{…}` parameters.
    path: &'static str,
    need: Need,
    proof: Proof,
}

fn case(method: Method, path: &'static str, need: Need, proof: Proof) -> Case {
    Case { method, path, need, proof }
}

/// Every operation of the API with what it needs. Order matters: reads, then changes, then
/// deletions, restores and purges of the caller's own fixtures.
fn cases() -> Vec<Case> {
    use Action::{Create, Delete, Export, Read, Update};
    use Entity::{Account, Activity, Contact, Deal, Product};
    use Need::{Admin, Any, Can, Manager, On};
    use Proof::{NotRefused, Succeeds};
    let (get, post, put, patch, delete) = (Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE);
    vec![
        case(get.clone(), "/api/v1/me", Any, Succeeds),
        case(get.clone(), "/api/v1/roles", Admin, Succeeds),
        case(get.clone(), "/api/v1/roles/{id}", Admin, Succeeds),
        case(get.clone(), "/api/v1/roles/{id}/history", Admin, Succeeds),
        case(post.clone(), "/api/v1/roles", Admin, Succeeds),
        case(put.clone(), "/api/v1/roles/{id}", Admin, Succeeds),
        case(get.clone(), "/api/v1/search", Any, Succeeds),
        case(get.clone(), "/api/v1/my-day", Any, Succeeds),
        case(get.clone(), "/api/v1/notifications", Any, Succeeds),
        case(post.clone(), "/api/v1/notifications/{id}/read", Any, NotRefused),
        case(get.clone(), "/api/v1/tokens", Any, Succeeds),
        case(post.clone(), "/api/v1/tokens", Any, Succeeds),
        case(delete.clone(), "/api/v1/tokens/{id}", Any, Succeeds),
        case(post.clone(), "/api/v1/calendar-feed", Any, Succeeds),
        case(delete.clone(), "/api/v1/calendar-feed", Any, Succeeds),
        case(get.clone(), "/api/v1/{kind}", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/{kind}/{id}", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/{kind}/{id}/history", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/{kind}/{id}/related", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/{kind}/{id}/notes", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/{kind}/{id}/timeline", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/{kind}/duplicates/report", On(Contact, Read), Succeeds),
        case(post.clone(), "/api/v1/{kind}/duplicates", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/contacts/export", On(Contact, Export), Succeeds),
        case(get.clone(), "/api/v1/accounts/export", On(Account, Export), Succeeds),
        case(get.clone(), "/api/v1/deals/export", On(Deal, Export), Succeeds),
        case(get.clone(), "/api/v1/deals", On(Deal, Read), Succeeds),
        case(get.clone(), "/api/v1/deals/{id}", On(Deal, Read), Succeeds),
        case(get.clone(), "/api/v1/deals/{id}/history", On(Deal, Read), Succeeds),
        case(get.clone(), "/api/v1/deals/{id}/price-log", On(Deal, Read), Succeeds),
        case(get.clone(), "/api/v1/deals/{id}/stages", On(Deal, Read), Succeeds),
        case(get.clone(), "/api/v1/board", On(Deal, Read), Succeeds),
        case(get.clone(), "/api/v1/activities", On(Activity, Read), Succeeds),
        case(get.clone(), "/api/v1/activities/{id}", On(Activity, Read), Succeeds),
        case(get.clone(), "/api/v1/products", On(Product, Read), Succeeds),
        case(get.clone(), "/api/v1/products/{id}", On(Product, Read), Succeeds),
        case(get.clone(), "/api/v1/pipelines", Any, Succeeds),
        case(get.clone(), "/api/v1/lost-reasons", Any, Succeeds),
        case(get.clone(), "/api/v1/custom-fields", Any, Succeeds),
        case(get.clone(), "/api/v1/custom-fields/{id}", Any, Succeeds),
        case(get.clone(), "/api/v1/views", Any, Succeeds),
        case(get.clone(), "/api/v1/views/{id}", Any, Succeeds),
        case(post.clone(), "/api/v1/views", On(Contact, Read), Succeeds),
        case(get.clone(), "/api/v1/merges/{id}", On(Contact, Read), NotRefused),
        case(get.clone(), "/api/v1/imports", Any, Succeeds),
        case(post.clone(), "/api/v1/imports", On(Contact, Create), Succeeds),
        case(get.clone(), "/api/v1/imports/{id}", On(Contact, Create), NotRefused),
        case(get.clone(), "/api/v1/imports/{id}/preview", On(Contact, Create), NotRefused),
        case(put.clone(), "/api/v1/imports/{id}/mapping", On(Contact, Create), NotRefused),
        case(post.clone(), "/api/v1/imports/{id}/dry-run", On(Contact, Create), NotRefused),
        case(get.clone(), "/api/v1/imports/{id}/rejected", On(Contact, Create), NotRefused),
        case(get.clone(), "/api/v1/imports/{id}/rejected.csv", On(Contact, Create), NotRefused),
        case(post.clone(), "/api/v1/imports/{id}/run", On(Contact, Create), NotRefused),
        case(get.clone(), "/api/v1/workload", Manager, Succeeds),
        case(post.clone(), "/api/v1/workload/reassign", Manager, NotRefused),
        // Changes.
        case(post.clone(), "/api/v1/{kind}", On(Contact, Create), Succeeds),
        case(patch.clone(), "/api/v1/{kind}/{id}", On(Contact, Update), Succeeds),
        case(post.clone(), "/api/v1/{kind}/{id}/notes", On(Contact, Update), Succeeds),
        case(patch.clone(), "/api/v1/notes/{id}", Admin, Succeeds),
        case(put.clone(), "/api/v1/contacts/{id}/accounts/{account_id}", On(Contact, Update), Succeeds),
        case(post.clone(), "/api/v1/{kind}/mass-update", On(Contact, Update), Succeeds),
        case(post.clone(), "/api/v1/deals", On(Deal, Create), Succeeds),
        case(patch.clone(), "/api/v1/deals/{id}", On(Deal, Update), Succeeds),
        case(post.clone(), "/api/v1/deals/{id}/move", On(Deal, Update), Succeeds),
        case(post.clone(), "/api/v1/deals/mass-update", On(Deal, Update), Succeeds),
        case(post.clone(), "/api/v1/deals/{id}/close", On(Deal, Update), Succeeds),
        case(post.clone(), "/api/v1/deals/{id}/reopen", On(Deal, Update), Succeeds),
        case(post.clone(), "/api/v1/activities", On(Activity, Create), Succeeds),
        case(patch.clone(), "/api/v1/activities/{id}", On(Activity, Update), Succeeds),
        case(post.clone(), "/api/v1/activities/{id}/complete", On(Activity, Update), Succeeds),
        case(post.clone(), "/api/v1/products", On(Product, Create), Succeeds),
        case(put.clone(), "/api/v1/products/{id}", On(Product, Update), Succeeds),
        case(post.clone(), "/api/v1/custom-fields", Admin, Succeeds),
        case(patch.clone(), "/api/v1/custom-fields/{id}", Admin, Succeeds),
        case(patch.clone(), "/api/v1/views/{id}", Admin, Succeeds),
        case(post.clone(), "/api/v1/pipelines", Can(Cap::ManagePipelines), Succeeds),
        case(patch.clone(), "/api/v1/pipelines/{id}", Can(Cap::ManagePipelines), Succeeds),
        case(post.clone(), "/api/v1/pipelines/{id}/stages", Can(Cap::ManagePipelines), Succeeds),
        case(put.clone(), "/api/v1/stages/{id}", Can(Cap::ManagePipelines), Succeeds),
        case(post.clone(), "/api/v1/{kind}/merge", On(Contact, Delete), Succeeds),
        case(post.clone(), "/api/v1/merges/{id}/undo", On(Contact, Delete), NotRefused),
        // Deletions, restores, purges.
        case(delete.clone(), "/api/v1/contacts/{id}/accounts/{account_id}", On(Contact, Update), Succeeds),
        case(delete.clone(), "/api/v1/notes/{id}", Admin, Succeeds),
        case(delete.clone(), "/api/v1/views/{id}", Admin, Succeeds),
        case(delete.clone(), "/api/v1/stages/{id}", Can(Cap::ManagePipelines), Succeeds),
        case(delete.clone(), "/api/v1/activities/{id}", On(Activity, Delete), Succeeds),
        case(delete.clone(), "/api/v1/deals/{id}", On(Deal, Delete), Succeeds),
        case(post.clone(), "/api/v1/deals/{id}/restore", On(Deal, Delete), Succeeds),
        case(delete.clone(), "/api/v1/{kind}/{id}", On(Contact, Delete), Succeeds),
        case(post.clone(), "/api/v1/{kind}/{id}/restore", On(Contact, Delete), Succeeds),
        case(delete.clone(), "/api/v1/{kind}/{id}/purge", Admin, Succeeds),
        case(delete.clone(), "/api/v1/roles/{id}", Admin, Succeeds),
    ]
}

/// What each role works on: records it owns (so any scope of its role reaches them), and
/// company records made for it by the admin.
struct Fixtures {
    user_id: String,
    account: String,
    contact: String,
    survivor: String,
    merged: String,
    trashed: String,
    deal: String,
    next_stage: String,
    activity: String,
    note: String,
    product: String,
    field: String,
    view: String,
    pipeline: String,
    stage: String,
    token: String,
    import: String,
    merge: String,
    role: String,
}

fn id_of(r: &crate::common::Resp) -> String {
    r.json()["id"].as_str().unwrap_or_else(|| panic!("no id in {}", r.text)).to_string()
}

async fn fixtures(app: &TestApp, admin: &Client, me: &Client, n: usize) -> Fixtures {
    let user_id = me.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    let owned = |v: Value| {
        let mut v = v;
        v["owner_id"] = json!(user_id);
        v
    };
    let post = |path: &'static str, body: Value| async move {
        let r = admin.post(path, &body).await;
        assert!(r.status().is_success(), "fixture {path}: {} {}", r.status(), r.text);
        id_of(&r)
    };
    let account = post("/api/v1/accounts", owned(json!({"name": format!("Матрица {n}")}))).await;
    let contact = post("/api/v1/contacts", owned(json!({"last_name": format!("Матрицын {n}")}))).await;
    let survivor = post("/api/v1/contacts", owned(json!({"last_name": format!("Остающийся {n}")}))).await;
    let merged = post("/api/v1/contacts", owned(json!({"last_name": format!("Сливаемый {n}")}))).await;
    let trashed = post("/api/v1/contacts", owned(json!({"last_name": format!("Удалённый {n}")}))).await;
    assert!(admin.delete(&format!("/api/v1/contacts/{trashed}")).await.status().is_success());
    let (keep, gone) = (
        post("/api/v1/contacts", owned(json!({"last_name": format!("Слитый {n}")}))).await,
        post("/api/v1/contacts", owned(json!({"last_name": format!("Слитый второй {n}")}))).await,
    );
    let m = admin.post("/api/v1/contacts/merge", &json!({"survivor_id": keep, "merged_ids": [gone]})).await;
    assert!(m.status().is_success(), "merge fixture: {}", m.text);
    let merge = m.json()["merge_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| m.json()["id"].as_str().unwrap_or_default().to_string());
    let deal = post("/api/v1/deals", owned(json!({"title": format!("Сделка {n}"), "account_id": account}))).await;
    let d = admin.get(&format!("/api/v1/deals/{deal}")).await.json();
    let pipes = admin.get("/api/v1/pipelines").await.json();
    let stages = pipes
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == d["pipeline_id"])
        .map(|p| p["stages"].as_array().unwrap().clone())
        .unwrap();
    let pos = stages.iter().position(|s| s["id"] == d["stage_id"]).unwrap();
    let next_stage = stages[(pos + 1).min(stages.len() - 1)]["id"].as_str().unwrap().to_string();
    let activity = post(
        "/api/v1/activities",
        owned(json!({"kind": "task", "subject": format!("Дело {n}"), "due_at": app.clock.now() + 3_600_000})),
    )
    .await;
    let note =
        post_path(admin, &format!("/api/v1/contacts/{contact}/notes"), json!({"body": "заметка администратора"})).await;
    let product = post("/api/v1/products", json!({"sku": format!("MX-{n}"), "name_en": format!("Matrix {n}")})).await;
    let field =
        post("/api/v1/custom-fields", json!({"entity": "contact", "kind": "text", "label_en": format!("Matrix {n}")}))
            .await;
    let view =
        post("/api/v1/views", json!({"entity": "contact", "name": format!("Матрица {n}"), "visibility": "tenant"}))
            .await;
    let pipeline =
        post("/api/v1/pipelines", json!({"name_ru": format!("Воронка {n}"), "name_en": format!("Funnel {n}")})).await;
    let p = admin
        .post(
            &format!("/api/v1/pipelines/{pipeline}/stages"),
            &json!({"name_ru": "Этап", "name_en": "Stage", "probability": 10}),
        )
        .await;
    assert!(p.status().is_success(), "stage fixture: {}", p.text);
    let stage = p.json()["stages"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let token = id_of(&me.post("/api/v1/tokens", &json!({"name": "matrix"})).await);
    let role =
        post("/api/v1/roles", json!({"name": format!("Матричная {n}"), "grants": {"deal": {"read": "own"}}})).await;
    // An import of the role's own when it may import, else the admin's (which it must not reach).
    let mut import = upload(me, n).await;
    if import.is_empty() {
        import = upload(admin, n).await;
    }
    Fixtures {
        user_id: user_id.clone(),
        account,
        contact,
        survivor,
        merged,
        trashed,
        deal,
        next_stage,
        activity,
        note,
        product,
        field,
        view,
        pipeline,
        stage,
        token,
        import,
        merge,
        role,
    }
}

async fn post_path(c: &Client, path: &str, body: Value) -> String {
    let r = c.post(path, &body).await;
    assert!(r.status().is_success(), "fixture {path}: {} {}", r.status(), r.text);
    id_of(&r)
}

/// Uploads a one-row CSV as an import of contacts; the import's id, or empty when refused.
async fn upload(c: &Client, n: usize) -> String {
    let r = c
        .http
        .post(format!("{}/api/v1/imports?entity=contacts&file_name=m{n}.csv&encoding=auto", c.base))
        .bearer_auth(c.token.as_ref().unwrap())
        .body(format!("Фамилия;Email\nИмпортов {n};imp{n}@matrix.test\n"))
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        return String::new();
    }
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// The fixture a path's `{id}` names, for API paths and pages alike (`/api/v1/deals/{id}`,
/// `/deals/{id}`): the role's own record of that kind, a contact by default.
fn fixture_id(p: &str, f: &Fixtures) -> String {
    let p = p.strip_prefix("/api/v1").unwrap_or(p);
    let p = p.strip_prefix("/admin").unwrap_or(p);
    let p = p.strip_prefix("/settings").unwrap_or(p);
    let by_prefix: [(&str, &String); 14] = [
        ("/roles/", &f.role),
        ("/deals/", &f.deal),
        ("/activities/", &f.activity),
        ("/products/", &f.product),
        ("/custom-fields/", &f.field),
        ("/fields/", &f.field),
        ("/views/", &f.view),
        ("/pipelines/", &f.pipeline),
        ("/stages/", &f.stage),
        ("/users/", &f.user_id),
        ("/notes/", &f.note),
        ("/tokens/", &f.token),
        ("/imports/", &f.import),
        ("/merges/", &f.merge),
    ];
    if p.starts_with("/notifications/") {
        return "0".to_string();
    }
    if p.ends_with("/purge") {
        return f.trashed.clone();
    }
    by_prefix.iter().find(|(pre, _)| p.starts_with(pre)).map_or_else(|| f.contact.clone(), |(_, id)| (*id).clone())
}

/// The concrete request of a case for one role: path, body, `If-Match`.
async fn request(c: &Case, f: &Fixtures, admin: &Client, n: usize) -> (String, Option<Value>, Option<String>) {
    let version = |path: String| async move {
        let v = admin.get(&path).await.json();
        v["version"].as_i64().unwrap_or(0).to_string()
    };
    let p = c.path;
    let id = fixture_id(p, f);
    let mut path = p.replace("{kind}", "contacts").replace("{id}", &id).replace("{account_id}", &f.account);
    path.push_str(match (c.method.as_str(), p) {
        ("GET", "/api/v1/search") => "?q=Матрицын",
        ("GET", "/api/v1/views") => "?entity=contact",
        ("POST", "/api/v1/imports") => "?entity=contacts&file_name=case.csv&encoding=auto",
        _ => "",
    });
    let mut if_match = None;
    let body = match (c.method.as_str(), p) {
        ("POST", "/api/v1/tokens") => Some(json!({"name": "t"})),
        ("POST", "/api/v1/roles") => {
            Some(json!({"name": format!("Новая роль {n}"), "grants": {"account": {"read": "all"}}}))
        }
        ("PUT", "/api/v1/roles/{id}") => {
            if_match = Some(version(format!("/api/v1/roles/{}", f.role)).await);
            Some(
                json!({"name": format!("Матричная {n} (изм.)"), "grants": {"deal": {"read": "team"}}, "caps": ["export"]}),
            )
        }
        ("POST", "/api/v1/{kind}") => Some(json!({"last_name": format!("Новый {n}")})),
        ("PATCH", "/api/v1/{kind}/{id}") => {
            if_match = Some(version(format!("/api/v1/contacts/{}", f.contact)).await);
            Some(json!({"job_title": "Директор"}))
        }
        ("POST", "/api/v1/{kind}/duplicates") => Some(json!({"last_name": "Матрицын"})),
        ("POST", "/api/v1/{kind}/{id}/notes") => Some(json!({"body": "заметка"})),
        ("PATCH", "/api/v1/notes/{id}") => Some(json!({"body": "правка"})),
        ("PUT", "/api/v1/contacts/{id}/accounts/{account_id}") => Some(json!({"role": "CEO"})),
        ("POST", "/api/v1/{kind}/mass-update") => Some(json!({"ids": [f.contact], "field": "source", "value": "web"})),
        ("POST", "/api/v1/{kind}/merge") => Some(json!({"survivor_id": f.survivor, "merged_ids": [f.merged]})),
        ("POST", "/api/v1/deals") => Some(json!({"title": format!("Новая {n}")})),
        ("PATCH", "/api/v1/deals/{id}") => {
            if_match = Some(version(format!("/api/v1/deals/{}", f.deal)).await);
            Some(json!({"next_step": "позвонить"}))
        }
        ("POST", "/api/v1/deals/{id}/move") => {
            let v: i64 = version(format!("/api/v1/deals/{}", f.deal)).await.parse().unwrap();
            Some(json!({"stage_id": f.next_stage, "version": v}))
        }
        ("POST", "/api/v1/deals/mass-update") => Some(json!({"ids": [f.deal], "field": "source", "value": "web"})),
        ("POST", "/api/v1/deals/{id}/close") => {
            if_match = Some(version(format!("/api/v1/deals/{}", f.deal)).await);
            Some(json!({"outcome": "won"}))
        }
        ("POST", "/api/v1/deals/{id}/reopen") => {
            if_match = Some(version(format!("/api/v1/deals/{}", f.deal)).await);
            Some(json!({}))
        }
        ("POST", "/api/v1/activities") => {
            Some(json!({"kind": "call", "subject": "Звонок", "due_at": 1_900_000_000_000_i64}))
        }
        ("PATCH", "/api/v1/activities/{id}") => {
            if_match = Some(version(format!("/api/v1/activities/{}", f.activity)).await);
            Some(json!({"subject": "Другое"}))
        }
        ("POST", "/api/v1/activities/{id}/complete") => {
            if_match = Some(version(format!("/api/v1/activities/{}", f.activity)).await);
            Some(json!({"result": "сделано"}))
        }
        ("POST", "/api/v1/products") => Some(json!({"sku": format!("NEW-{n}"), "name_en": "New"})),
        ("PUT", "/api/v1/products/{id}") => Some(json!({"sku": format!("MX-{n}"), "name_en": "Renamed"})),
        ("POST", "/api/v1/custom-fields") => {
            Some(json!({"entity": "contact", "kind": "text", "label_en": format!("New {n}")}))
        }
        ("PATCH", "/api/v1/custom-fields/{id}") => {
            if_match = Some(version(format!("/api/v1/custom-fields/{}", f.field)).await);
            Some(json!({"label_en": format!("Renamed {n}")}))
        }
        ("POST", "/api/v1/views") => {
            Some(json!({"entity": "contact", "name": format!("Моё {n}"), "visibility": "private"}))
        }
        ("PATCH", "/api/v1/views/{id}") => {
            if_match = Some(version(format!("/api/v1/views/{}", f.view)).await);
            Some(json!({"name": format!("Переименовано {n}")}))
        }
        ("POST", "/api/v1/pipelines") => Some(json!({"name_ru": format!("Новая {n}"), "name_en": format!("New {n}")})),
        ("PATCH", "/api/v1/pipelines/{id}") => Some(json!({"name_en": format!("Renamed {n}")})),
        ("POST", "/api/v1/pipelines/{id}/stages") | ("PUT", "/api/v1/stages/{id}") => {
            Some(json!({"name_ru": "Этап", "name_en": "Stage", "probability": 20}))
        }
        ("PUT", "/api/v1/imports/{id}/mapping") => Some(json!({"mapping": ["last_name", "email"]})),
        ("POST", "/api/v1/imports/{id}/dry-run") | ("POST", "/api/v1/imports/{id}/run") => Some(json!({})),
        ("POST", "/api/v1/workload/reassign") => Some(json!({"from": f.user_id, "to": f.user_id})),
        ("POST", "/api/v1/notifications/{id}/read") | ("POST", "/api/v1/calendar-feed") => None,
        ("POST", _) if p.ends_with("/restore") || p.ends_with("/undo") => None,
        _ => None,
    };
    (path, body, if_match)
}

#[engines]
async fn every_api_operation_answers_only_the_roles_allowed_to_use_it(k: Kind) {
    let table = cases();
    // Every operation of the document has its case, and every case is an operation.
    let doc = serde_json::to_value(karta::contexts::openapi()).unwrap();
    let ops: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, o)| o.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), p.clone())))
        .collect();
    let covered: BTreeSet<(String, String)> =
        table.iter().map(|c| (c.method.to_string(), c.path.to_string())).collect();
    let missing: Vec<_> = ops.difference(&covered).collect();
    let extra: Vec<_> = covered.difference(&ops).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "operations without a case: {missing:?}; cases without an operation: {extra:?}"
    );

    let app = TestApp::spawn(k).await;
    let roles = matrix_roles(&app, false).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let mut wrong: Vec<String> = Vec::new();
    let mut tally: HashMap<&str, (usize, usize)> = HashMap::new();
    for (n, (email, name, role)) in roles.iter().enumerate() {
        let me = app.api("acme", email).await;
        let f = fixtures(&app, &admin, &me, n).await;
        for c in &table {
            let (path, body, if_match) = request(c, &f, &admin, n).await;
            let headers: Vec<(&str, &str)> = if_match.as_deref().map(|v| vec![("if-match", v)]).unwrap_or_default();
            let r = if c.method == Method::POST && c.path == "/api/v1/imports" {
                // A file upload: the body is the file itself.
                let r = me
                    .http
                    .post(format!("{}{path}", me.base))
                    .bearer_auth(me.token.as_ref().unwrap())
                    .body("Фамилия;Email\nЗагружен;up@matrix.test\n")
                    .send()
                    .await
                    .unwrap();
                crate::common::Resp {
                    status: r.status(),
                    headers: r.headers().clone(),
                    text: r.text().await.unwrap_or_default(),
                }
            } else {
                me.send(c.method.clone(), &path, body.as_ref(), &headers).await
            };
            let s = r.status();
            let allowed = c.need.allows(role);
            let ok = if allowed {
                match c.proof {
                    Proof::Succeeds => s.is_success(),
                    Proof::NotRefused => {
                        s != StatusCode::FORBIDDEN && s != StatusCode::UNAUTHORIZED && !s.is_server_error()
                    }
                }
            } else {
                s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND
            };
            let t = tally.entry(name.as_str()).or_default();
            if allowed {
                t.0 += 1;
            } else {
                t.1 += 1;
            }
            if !ok {
                let text: String = r.text.chars().take(160).collect();
                wrong.push(format!("{k:?} {} {} {path} as {name}: {s} {text}", c.method, c.path));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} calls answered against the permission model:\n{}",
        wrong.len(),
        table.len() * roles.len(),
        wrong.join("\n")
    );
    assert_eq!(tally.len(), 7, "{k:?}: all seven roles were tried");
    app.finish().await;
}

// ---------- every page as every role ----------

/// Every page route with what it needs, and what an allowed role must see.
fn page_cases() -> Vec<(Method, &'static str, Need, Proof)> {
    use Action::{Create, Delete, Export, Read, Update};
    use Entity::{Account, Activity, Contact, Deal, Product};
    use Need::{Admin, Any, Can, Manager, On};
    use Proof::{NotRefused, Succeeds};
    let (get, post) = (Method::GET, Method::POST);
    vec![
        (get.clone(), "/", Any, Succeeds),
        (get.clone(), "/static/app.css", Any, Succeeds),
        (get.clone(), "/static/app.js", Any, Succeeds),
        (get.clone(), "/static/board.js", Any, Succeeds),
        (get.clone(), "/favicon.svg", Any, Succeeds),
        (get.clone(), "/trash", Any, Succeeds),
        (get.clone(), "/login", Any, Succeeds),
        (get.clone(), "/settings", Any, Succeeds),
        (get.clone(), "/settings/calendar", Any, Succeeds),
        (get.clone(), "/notifications", Any, Succeeds),
        (get.clone(), "/my-day", Any, Succeeds),
        (get.clone(), "/calendar", Any, Succeeds),
        (get.clone(), "/calendar/{file}", Any, NotRefused),
        (get.clone(), "/search", Any, Succeeds),
        (get.clone(), "/search/suggest", Any, Succeeds),
        (get.clone(), "/admin/users", Admin, Succeeds),
        (get.clone(), "/admin/roles", Admin, Succeeds),
        (get.clone(), "/admin/roles/new", Admin, Succeeds),
        (get.clone(), "/admin/roles/{id}", Admin, Succeeds),
        (get.clone(), "/admin/fields", Admin, Succeeds),
        (get.clone(), "/admin/pipelines", Can(Cap::ManagePipelines), Succeeds),
        (get.clone(), "/workload", Manager, Succeeds),
        (get.clone(), "/products", On(Product, Read), Succeeds),
        (get.clone(), "/products/{id}", On(Product, Read), Succeeds),
        (get.clone(), "/products/new", On(Product, Create), Succeeds),
        (get.clone(), "/products/{id}/edit", On(Product, Update), Succeeds),
        (get.clone(), "/deals", On(Deal, Read), Succeeds),
        (get.clone(), "/deals/{id}", On(Deal, Read), Succeeds),
        (get.clone(), "/deals/new", On(Deal, Create), Succeeds),
        (get.clone(), "/deals/{id}/edit", On(Deal, Update), Succeeds),
        (get.clone(), "/board", On(Deal, Read), Succeeds),
        (get.clone(), "/activities/new", On(Activity, Create), Succeeds),
        (get.clone(), "/activities/{id}", On(Activity, Read), Succeeds),
        (get.clone(), "/activities/{id}/edit", On(Activity, Update), Succeeds),
        (get.clone(), "/imports", Any, Succeeds),
        (get.clone(), "/imports/{id}", On(Contact, Create), NotRefused),
        (get.clone(), "/imports/{id}/rejected.csv", On(Contact, Create), NotRefused),
        (get.clone(), "/contacts/export.csv", On(Contact, Export), Succeeds),
        (get.clone(), "/contacts/export.xlsx", On(Contact, Export), Succeeds),
        (get.clone(), "/contacts/export.vcf", On(Contact, Export), Succeeds),
        (get.clone(), "/accounts/export.csv", On(Account, Export), Succeeds),
        (get.clone(), "/accounts/export.xlsx", On(Account, Export), Succeeds),
        (get.clone(), "/accounts/export.vcf", On(Account, Export), NotRefused),
        (get.clone(), "/deals/export.csv", On(Deal, Export), Succeeds),
        (get.clone(), "/deals/export.xlsx", On(Deal, Export), Succeeds),
        (get.clone(), "/deals/export.vcf", On(Deal, Export), NotRefused),
        (get.clone(), "/{kind}", On(Contact, Read), Succeeds),
        (get.clone(), "/{kind}/new", On(Contact, Create), Succeeds),
        (get.clone(), "/{kind}/{id}", On(Contact, Read), Succeeds),
        (get.clone(), "/{kind}/{id}/edit", On(Contact, Update), Succeeds),
        (get.clone(), "/{kind}/duplicates", On(Contact, Read), Succeeds),
        (get.clone(), "/{kind}/phone-check", Admin, Succeeds),
        (get.clone(), "/{kind}/merge", On(Contact, Delete), NotRefused),
        (get.clone(), "/merges/{id}", On(Contact, Read), NotRefused),
        // Forms: an allowed role is not refused (its empty form may be invalid), every other is.
        (post.clone(), "/views", On(Contact, Read), NotRefused),
        (post.clone(), "/views/{id}", Admin, NotRefused),
        (post.clone(), "/views/{id}/delete", Admin, NotRefused),
        (post.clone(), "/login", Any, NotRefused),
        (post.clone(), "/admin/users", Admin, NotRefused),
        (post.clone(), "/admin/users/{id}", Admin, NotRefused),
        (post.clone(), "/admin/teams", Admin, NotRefused),
        (post.clone(), "/admin/company/time-zone", Admin, NotRefused),
        (post.clone(), "/{kind}/phone-check", Admin, NotRefused),
        (post.clone(), "/settings/language", Any, NotRefused),
        (post.clone(), "/settings/time-zone", Any, NotRefused),
        (post.clone(), "/settings/tokens", Any, NotRefused),
        (post.clone(), "/settings/tokens/{id}/revoke", Any, NotRefused),
        (post.clone(), "/settings/calendar/new", Any, NotRefused),
        (post.clone(), "/settings/calendar/revoke", Any, NotRefused),
        (post.clone(), "/notifications/read", Any, NotRefused),
        (post.clone(), "/admin/fields", Admin, NotRefused),
        (post.clone(), "/admin/fields/{id}", Admin, NotRefused),
        (post.clone(), "/admin/fields/{id}/move", Admin, NotRefused),
        (post.clone(), "/products", On(Product, Create), NotRefused),
        (post.clone(), "/products/{id}", On(Product, Update), NotRefused),
        (post.clone(), "/deals", On(Deal, Create), NotRefused),
        (post.clone(), "/deals/bulk", On(Deal, Update), NotRefused),
        (post.clone(), "/deals/{id}", On(Deal, Update), NotRefused),
        (post.clone(), "/deals/{id}/move", On(Deal, Update), NotRefused),
        (post.clone(), "/deals/{id}/close", On(Deal, Update), NotRefused),
        (post.clone(), "/deals/{id}/reopen", On(Deal, Update), NotRefused),
        (post.clone(), "/admin/pipelines", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/admin/pipelines/{id}", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/admin/pipelines/{id}/stages", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/admin/stages/{id}", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/admin/stages/{id}/move", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/admin/lost-reasons", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/admin/lost-reasons/{id}", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/my-day/congratulate", On(Activity, Create), NotRefused),
        (post.clone(), "/activities", On(Activity, Create), NotRefused),
        (post.clone(), "/activities/{id}", On(Activity, Update), NotRefused),
        (post.clone(), "/activities/{id}/complete", On(Activity, Update), NotRefused),
        (post.clone(), "/workload/reassign", Manager, NotRefused),
        (post.clone(), "/imports", On(Contact, Create), NotRefused),
        (post.clone(), "/imports/{id}", On(Contact, Create), NotRefused),
        (post.clone(), "/{kind}", On(Contact, Create), NotRefused),
        (post.clone(), "/{kind}/bulk", On(Contact, Update), NotRefused),
        (post.clone(), "/{kind}/{id}", On(Contact, Update), NotRefused),
        (post.clone(), "/{kind}/{id}/notes", On(Contact, Update), NotRefused),
        (post.clone(), "/{kind}/{id}/links", On(Contact, Update), NotRefused),
        (post.clone(), "/{kind}/{id}/links/{other}/delete", On(Contact, Update), NotRefused),
        (post.clone(), "/{kind}/merge", On(Contact, Delete), NotRefused),
        (post.clone(), "/merges/{id}/undo", On(Contact, Delete), NotRefused),
        (post.clone(), "/notes/{id}", Admin, NotRefused),
        (post.clone(), "/notes/{id}/delete", Admin, NotRefused),
        (post.clone(), "/activities/{id}/delete", On(Activity, Delete), NotRefused),
        (post.clone(), "/deals/{id}/delete", On(Deal, Delete), NotRefused),
        (post.clone(), "/deals/{id}/restore", On(Deal, Delete), NotRefused),
        (post.clone(), "/admin/stages/{id}/delete", Can(Cap::ManagePipelines), NotRefused),
        (post.clone(), "/{kind}/{id}/delete", On(Contact, Delete), NotRefused),
        (post.clone(), "/{kind}/{id}/restore", On(Contact, Delete), NotRefused),
        (post.clone(), "/{kind}/{id}/purge", Admin, NotRefused),
        (post.clone(), "/admin/roles", Admin, NotRefused),
        (post.clone(), "/admin/roles/{id}", Admin, NotRefused),
        (post.clone(), "/admin/roles/{id}/delete", Admin, NotRefused),
        (post.clone(), "/logout", Any, NotRefused),
    ]
}

fn page_path(p: &str, f: &Fixtures) -> String {
    let id = fixture_id(p, f);
    let mut path = p
        .replace("{kind}", "contacts")
        .replace("{id}", &id)
        .replace("{other}", &f.account)
        .replace("{file}", "nothing.ics");
    if p == "/search" || p == "/search/suggest" {
        path.push_str("?q=Матрицын");
    }
    path
}

#[engines]
async fn every_page_answers_only_the_roles_allowed_to_use_it(k: Kind) {
    // The routes some contexts add through registries (export formats) exist once the
    // contexts have registered, as they do when an app is built.
    karta::contexts::register();
    let table = page_cases();
    let routes: BTreeSet<(String, String)> =
        karta::contexts::page_routes().into_iter().map(|(m, p)| (m.to_string(), p)).collect();
    let covered: BTreeSet<(String, String)> =
        table.iter().map(|(m, p, _, _)| (m.to_string(), (*p).to_string())).collect();
    let missing: Vec<_> = routes.difference(&covered).collect();
    let extra: Vec<_> = covered.difference(&routes).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "pages without a case: {missing:?}; cases without a page: {extra:?}"
    );

    let app = TestApp::spawn(k).await;
    let roles = matrix_roles(&app, true).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let mut wrong: Vec<String> = Vec::new();
    for (n, (email, name, role)) in roles.iter().enumerate() {
        let api = app.api("acme", email).await;
        let f = fixtures(&app, &admin, &api, 10 + n).await;
        let me = app.browser(email).await;
        let csrf = me.get("/settings").await.csrf();
        for (method, p, need, proof) in &table {
            let path = page_path(p, &f);
            let r = if *method == Method::GET {
                me.get(&path).await
            } else {
                me.form(&path, &[("_csrf", csrf.as_str())]).await
            };
            let s = r.status();
            // A form answered with a redirect to an error is a refusal too.
            let location = r.header("location");
            let succeeded = s.is_success()
                || (s.is_redirection() && !location.contains("error") && !location.starts_with("/login"));
            let ok = if need.allows(role) {
                match proof {
                    Proof::Succeeds => succeeded,
                    Proof::NotRefused => {
                        s != StatusCode::FORBIDDEN
                            && !s.is_server_error()
                            && (!location.starts_with("/login") || *p == "/logout")
                    }
                }
            } else {
                !succeeded
                    && (s == StatusCode::FORBIDDEN
                        || s == StatusCode::NOT_FOUND
                        || s.is_client_error()
                        || s.is_redirection())
            };
            if !ok {
                let text: String = r.text.chars().filter(|c| !c.is_control()).take(120).collect();
                wrong.push(format!("{k:?} {method} {p} ({path}) as {name}: {s} {location} {text}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} page calls answered against the permission model:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    app.finish().await;
}
