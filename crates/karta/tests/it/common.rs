//! The test harness: the real app on port 0 against a fresh SQLite file and, when
//! `KARTA_TEST_POSTGRES_URL` is set, against a fresh PostgreSQL database too.

#![allow(dead_code)]

use karta::{build, Config};
use karta_core::Role;
use karta_kernel::users::SessionPolicy;
use karta_kernel::{tenants, users, Db, DbOptions, Q};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub const PASSWORD: &str = "correct horse battery";

static SEQ: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{}_{n}", std::process::id(), karta_core::now_ms())
}

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A running app with two tenants and users of several roles.
pub struct TestApp {
    pub kind: Kind,
    pub base: String,
    pub db: Db,
    pub tenant_a: String,
    pub tenant_b: String,
    /// The app's clock: starts at the real time and moves only when a test says so.
    pub clock: karta_core::Clock,
    config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pg_admin: Option<(String, String)>,
    dir: std::path::PathBuf,
}

/// The engines to run a scenario on: SQLite always; PostgreSQL when configured.
/// Whether the PostgreSQL case of each `#[engines]` test runs: `KARTA_TEST_POSTGRES_URL`
/// names a server (CI sets it; a plain `cargo test` runs the SQLite cases only).
pub fn postgres_enabled() -> bool {
    std::env::var("KARTA_TEST_POSTGRES_URL").is_ok_and(|s| !s.is_empty())
}

impl TestApp {
    pub async fn spawn(kind: Kind) -> Self {
        Self::spawn_with(kind, SessionPolicy::default()).await
    }

    pub async fn spawn_with(kind: Kind, sessions: SessionPolicy) -> Self {
        let dir = std::env::temp_dir().join(unique("karta_test"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = Config::for_data_dir(&dir);
        config.listen = "127.0.0.1:0".into();
        config.sessions = sessions;
        let clock = karta_core::Clock::manual(karta_core::now_ms());
        config.clock = clock.clone();
        config.jobs_every = std::time::Duration::from_millis(50);
        config.events_every = std::time::Duration::from_millis(50);
        let mut pg_admin = None;
        if kind == Kind::Postgres {
            let base = std::env::var("KARTA_TEST_POSTGRES_URL").unwrap();
            let name = unique("karta_t");
            let admin = Db::connect(&base, &DbOptions { max_connections: 1 }).await.unwrap();
            admin.script(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await;
            let mut url = url::Url::parse(&base).unwrap();
            url.set_path(&format!("/{name}"));
            config.database_url = url.to_string();
            pg_admin = Some((base, name));
        }
        let app = build(&config).await.expect("app builds");
        let addr = app.addr().unwrap();
        config.listen = addr.to_string();
        let db = app.db.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        let a = tenants::create(&db, "acme", "Acme", "RU").await.unwrap();
        let b = tenants::create(&db, "globex", "Globex", "RU").await.unwrap();
        let team = tenants::create_team(&db, &karta_kernel::Admin::operator(&a.id), "Sales").await.unwrap();
        for (t, email, role) in [
            (&a.id, "admin@acme.test", Role::Admin),
            (&a.id, "sales1@acme.test", Role::Salesperson),
            (&a.id, "sales2@acme.test", Role::Salesperson),
            (&a.id, "manager@acme.test", Role::SalesManager),
            (&a.id, "viewer@acme.test", Role::ReadOnly),
            (&b.id, "admin@globex.test", Role::Admin),
        ] {
            let name = email.split('@').next().unwrap();
            users::create(&db, &karta_kernel::Admin::operator(t), email, name, role.as_str(), Some(PASSWORD))
                .await
                .unwrap();
        }
        db.exec(Q::new("UPDATE users SET team_id = $1 WHERE tenant_id = $2 AND email IN ('sales1@acme.test', 'manager@acme.test')").bind(&team).bind(&a.id))
            .await
            .unwrap();
        Self {
            kind,
            base: format!("http://{addr}"),
            db,
            tenant_a: a.id,
            tenant_b: b.id,
            clock,
            config,
            stop: Some(tx),
            server: Some(server),
            pg_admin,
            dir,
        }
    }

    /// The database URL, for running the `karta` binary against this app's data.
    pub fn database_url(&self) -> String {
        self.config.database_url.clone()
    }

    /// A bearer-token client for a user of tenant `slug`.
    pub async fn api(&self, slug: &str, email: &str) -> Client {
        let t = tenants::by_slug(&self.db, slug).await.unwrap().unwrap();
        let u = users::by_email(&self.db, &t.id, email).await.unwrap().unwrap();
        let (_, token) = users::create_token(&self.db, &t.id, &u.id, "test").await.unwrap();
        Client::new(&self.base, Some(token))
    }

    /// A browser-like client signed in with a session cookie.
    pub async fn browser(&self, email: &str) -> Client {
        let c = Client::new(&self.base, None);
        let r = c.sign_in(email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
        c
    }

    /// Stops the server (as a crash or a deploy would) and starts a new one on the same
    /// database and address, with the same clock.
    pub async fn restart(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        self.db.close().await;
        let app = build(&self.config).await.expect("app rebuilds");
        self.db = app.db.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.server = Some(tokio::spawn(app.run_until(async {
            let _ = rx.await;
        })));
        self.stop = Some(tx);
    }

    pub async fn finish(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        self.db.close().await;
        if let Some((base, name)) = self.pg_admin.take() {
            if let Ok(admin) = Db::connect(&base, &DbOptions { max_connections: 1 }).await {
                let _ = admin.script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                admin.close().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A typed HTTP client for the app.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

/// A response with its body read.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
    /// The CSRF token in a page's forms.
    pub fn csrf(&self) -> String {
        let i = self.text.find("name=\"_csrf\" value=\"").expect("page has a CSRF field");
        let rest = &self.text[i + 20..];
        rest[..rest.find('"').unwrap()].to_string()
    }
    /// The body read as the API's own response type (the kit's typed side: a field the
    /// API renames or drops breaks the test at compile time or here, not silently).
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not a {} ({e}): {}", std::any::type_name::<T>(), self.text))
    }

    /// The body parsed as an HTML document, for checks by CSS selector rather than by
    /// substring.
    pub fn doc(&self) -> Doc {
        Doc(scraper::Html::parse_document(&self.text))
    }

    /// The field names a problem+json response complains about.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }
}

/// A parsed page.
pub struct Doc(scraper::Html);

impl Doc {
    fn select(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let sel = scraper::Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"));
        self.0.select(&sel).collect()
    }

    /// The text of each element matching `css`, with the layout's whitespace (spaces, tabs,
    /// line ends) collapsed. No-break spaces are text, not layout, and are kept: money and
    /// numbers are checked with them (`1\u{202f}500,00\u{a0}₽`).
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css)
            .iter()
            .map(|e| {
                let all: String = e.text().collect::<Vec<_>>().join(" ");
                all.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
            })
            .collect()
    }

    /// The text of the one element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let v = self.texts(css);
        assert_eq!(v.len(), 1, "one element matches {css}: {v:?}");
        v.into_iter().next().unwrap_or_default()
    }

    /// Attribute `name` of each element matching `css`.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.select(css).iter().filter_map(|e| e.value().attr(name).map(str::to_string)).collect()
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.select(css).len()
    }
}

impl Client {
    pub fn new(base: &str, token: Option<String>) -> Self {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: base.to_string(), token }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, HeaderValue::from_str(v).unwrap());
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request sent");
        Resp { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap_or_default() }
    }

    /// Another client with the same token (for use inside closures).
    pub fn clone_with_token(&self) -> Client {
        Client::new(&self.base, self.token.clone())
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }
    /// Posts one of the API's own request types.
    pub async fn post_as<B: serde::Serialize>(&self, path: &str, body: &B) -> Resp {
        self.post(path, &serde_json::to_value(body).expect("a request type serialises")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: &Value, if_match: &str) -> Resp {
        self.send(Method::PATCH, path, Some(body), &[("if-match", if_match)]).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Posts a form (UI).
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let r = self.http.post(format!("{}{path}", self.base)).form(fields).send().await.expect("form sent");
        Resp { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap_or_default() }
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Resp {
        self.form("/login", &[("email", email), ("password", password), ("next", "/contacts")]).await
    }

    /// Creates a contact through the API and returns its JSON.
    pub async fn contact(&self, first: &str, last: &str) -> Value {
        let r = self.post("/api/v1/contacts", &serde_json::json!({"first_name": first, "last_name": last})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
        r.json()
    }

    /// The names of the records of `entity` (`account`, `contact`, `deal`) the global search
    /// finds for `q`, sorted.
    /// The caller's notifications once there are at least `n` (they are made from the event
    /// outbox, a moment after the change); fails after five seconds.
    pub async fn notified(&self, n: usize) -> Value {
        for _ in 0..250 {
            let v = self.get("/api/v1/notifications").await.json();
            if v.as_array().is_some_and(|a| a.len() >= n) {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} notifications after five seconds");
    }

    pub async fn found(&self, q: &str, entity: &str) -> Vec<String> {
        let hits = self.get(&format!("/api/v1/search?q={q}")).await.json();
        let mut v: Vec<String> = hits
            .as_array()
            .expect("search answers a list")
            .iter()
            .filter(|h| h["entity"] == entity)
            .filter_map(|h| h["name"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    }
}
