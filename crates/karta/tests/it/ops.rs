//! Health, readiness, metrics and the OpenAPI document.

use crate::common::{Client, Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::json;

#[engines]
async fn health_readiness_metrics_and_openapi_are_served(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = Client::new(&app.base, None);
    assert_eq!(c.get("/healthz").await.text, "ok");
    assert_eq!(c.get("/readyz").await.status(), StatusCode::OK);
    let m = c.get("/metrics").await.text;
    assert!(m.contains("karta_http_requests_total{class=\"2xx\"}"));
    let doc = c.get("/api/v1/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/{kind}/{id}"]["patch"].is_object());
    let page = c.get("/login").await;
    let csp = page.header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(!page.text.contains("<script>") && !page.text.contains(" style=\""), "no inline script or style");
    assert_eq!(c.get("/api/v1/nothing/here/at/all").await.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

/// Tables not distributed by tenant (Citus: reference or coordinator-local tables).
const REFERENCE_TABLES: &[&str] = &[
    "tenants",          // the tenant registry itself: the domain of the distribution key
    "karta_migrations", // schema bookkeeping: one row per migration, no tenant
    "login_failures",   // sign-in throttling by e-mail and address, before any tenant is known
    "search_deferred",  // SQLite only: a transaction's full-text bookkeeping, never committed
    "events",           // the outbox: one order across tenants for its consumers (coordinator-local)
    "event_positions",  // each consumer's place in that order, no tenant
];

// Each query yields (tbl, idx, lead, cols) for every primary key and unique index, including
// SQLite's implicit `INTEGER PRIMARY KEY` (a rowid alias has no index); FTS5 tables and their
// shadow tables are 'virtual'/'shadow' in pragma_table_list, so they are left out.
const SQLITE_KEYS: &str = r#"SELECT t.name AS tbl, l.name AS idx,
  COALESCE((SELECT i.name FROM pragma_index_info(l.name) i WHERE i.seqno = 0), '(expression)') AS lead,
  (SELECT group_concat(COALESCE(i.name, '(expression)'), ', ') FROM pragma_index_info(l.name) i) AS cols
FROM pragma_table_list t JOIN pragma_index_list(t.name) l
WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND l."unique" = 1
UNION ALL
SELECT t.name, 'INTEGER PRIMARY KEY', c.name, c.name
FROM pragma_table_list t JOIN pragma_table_info(t.name) c ON c.pk = 1
WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND NOT EXISTS (SELECT 1 FROM pragma_index_list(t.name) l WHERE l.origin = 'pk')"#;
const SQLITE_UNTENANTED: &str = r"SELECT t.name AS tbl FROM pragma_table_list t
WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND NOT EXISTS (SELECT 1 FROM pragma_table_info(t.name) c WHERE c.name = 'tenant_id')";
const PG_KEYS: &str = "SELECT c.relname::text AS tbl, ic.relname::text AS idx,
  COALESCE(a.attname::text, '(expression)') AS lead, pg_get_indexdef(i.indexrelid) AS cols
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND i.indisunique";
const PG_UNTENANTED: &str = "SELECT c.relname::text AS tbl FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)";

/// What breaks the rule on this database, one line each.
async fn violations(kind: Kind, db: &karta_kernel::Db) -> Vec<String> {
    let (keys, untenanted) = match kind {
        Kind::Sqlite => (SQLITE_KEYS, SQLITE_UNTENANTED),
        Kind::Postgres => (PG_KEYS, PG_UNTENANTED),
    };
    let exempt = |t: &str| REFERENCE_TABLES.contains(&t);
    let mut bad: Vec<String> = db
        .all(karta_kernel::Q::new(keys))
        .await
        .unwrap()
        .iter()
        .filter(|r| r.s("lead") != "tenant_id" && !exempt(&r.s("tbl")))
        .map(|r| {
            let (t, i, c) = (r.s("tbl"), r.s("idx"), r.s("cols"));
            format!("{kind:?}: table {t}, key {i} ({c}) does not lead with tenant_id")
        })
        .collect();
    bad.extend(
        db.all(karta_kernel::Q::new(untenanted))
            .await
            .unwrap()
            .iter()
            .filter(|r| !exempt(&r.s("tbl")))
            .map(|r| format!("{kind:?}: table {} has no tenant_id and is not a reference table", r.s("tbl"))),
    );
    bad
}

#[engines]
async fn every_key_of_a_business_table_leads_with_tenant_id(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let bad = violations(kind, &app.db).await;
    assert!(
        bad.is_empty(),
        "declare a reference table in REFERENCE_TABLES or lead with tenant_id:\n{}",
        bad.join("\n")
    );
    app.finish().await;
}

/// Runs `karta migrate` against the app's database; returns (success, standard error).
fn migrate_cli(app: &TestApp) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_karta"))
        .args(["migrate", "--database-url", &app.database_url()])
        .env("RUST_LOG", "error")
        .output()
        .expect("karta runs");
    (o.status.success(), String::from_utf8_lossy(&o.stderr).trim().to_string())
}

#[engines(multi_thread)]
async fn a_migration_changed_after_it_was_applied_is_refused_at_start_with_its_name(k: Kind) {
    let app = TestApp::spawn(k).await;
    let (ok, err) = migrate_cli(&app);
    assert!(ok, "{k:?}: an untouched database migrates: {err}");
    let exec = |sql: &'static str| app.db.exec(karta_kernel::db::Q::new(sql));
    exec("UPDATE karta_migrations SET checksum = 'x' || checksum WHERE version = 3").await.unwrap();
    let (ok, err) = migrate_cli(&app);
    assert!(!ok, "{k:?}: a changed migration is refused");
    assert!(err.contains("migration 0003 (sales) was changed after it was applied"), "{k:?}: {err}");
    exec("UPDATE karta_migrations SET checksum = substr(checksum, 2) WHERE version = 3").await.unwrap();
    // A database from before checksums: its rows are filled in, not refused.
    exec("UPDATE karta_migrations SET checksum = ''").await.unwrap();
    let (ok, err) = migrate_cli(&app);
    assert!(ok, "{k:?}: {err}");
    let blank = app.db.all(karta_kernel::db::Q::new("SELECT version FROM karta_migrations WHERE checksum = ''"));
    assert!(blank.await.unwrap().is_empty(), "{k:?}: every checksum is recorded again");
    exec("INSERT INTO karta_migrations (version, name, applied_at, checksum) VALUES (999, 'future', 0, 'x')")
        .await
        .unwrap();
    let (ok, err) = migrate_cli(&app);
    assert!(!ok && err.contains("migration 0999 (future)") && err.contains("newer"), "{k:?}: {err}");
    exec("DELETE FROM karta_migrations WHERE version = 999").await.unwrap();
    app.finish().await;
}

/// The OpenAPI document is reviewed as a whole: any change to an operation, a parameter or a
/// schema shows up as a change to the snapshot (`cargo insta review`).
#[test]
fn the_openapi_document_is_the_reviewed_one() {
    let doc = serde_json::to_value(karta::contexts::openapi()).unwrap();
    insta::assert_json_snapshot!("openapi", doc);
}

/// Every kind of refusal the API gives answers with the same problem+json shape, the same on
/// both engines.
#[engines]
async fn each_refusal_is_a_problem_document_of_the_same_shape(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let id = c.contact("Анна", "Проблемова").await["id"].as_str().unwrap().to_string();
    let anon = Client::new(&app.base, None);
    let reader = app.api("acme", "viewer@acme.test").await;
    let bad_json =
        c.send(reqwest::Method::POST, "/api/v1/contacts", None, &[("content-type", "application/json")]).await;
    let cases = [
        (
            "invalid_fields",
            c.post("/api/v1/contacts", &json!({"last_name": "", "emails": [{"value": "not-an-address"}]})).await,
        ),
        ("unknown_field", c.post("/api/v1/contacts", &json!({"last_name": "X", "shoe_size": 42})).await),
        ("empty_body", bad_json),
        ("not_found", c.get("/api/v1/contacts/nothing-here").await),
        (
            "if_match_missing",
            c.send(reqwest::Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(&json!({"job_title": "x"})), &[])
                .await,
        ),
        ("stale", c.patch(&format!("/api/v1/contacts/{id}"), &json!({"job_title": "x"}), "\"41\"").await),
        ("unauthenticated", anon.get("/api/v1/contacts").await),
        ("forbidden", reader.post("/api/v1/contacts", &json!({"last_name": "Нельзя"})).await),
    ];
    for (name, r) in cases {
        assert_eq!(r.header("content-type"), "application/problem+json", "{k:?} {name}: {}", r.text);
        insta::assert_json_snapshot!(format!("problem_{name}"), r.json(), {
            ".instance" => "[path]",
            ".current_version" => "[version]",
        });
    }
    app.finish().await;
}
