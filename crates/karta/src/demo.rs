//! The demo company (tenant `demo`): users, a sales team and realistic Russian and English
//! accounts, contacts, links and notes, a product catalogue and deals (see [`sales`]). The
//! data is generated deterministically by a small PRNG (the same seed gives the same people
//! and companies; only ids and timestamps differ) and bulk-inserted with multi-row `INSERT`s
//! in batched transactions. Every record goes through [`karta_core::party::parse`], so its
//! name key, search text, primary e-mail and phones are exactly what the application
//! computes.

use anyhow::Context as _;
use karta_core::party::{self, Address, Labeled, NamedDate, PartyData, PartyInput, RELATIONSHIPS};
use karta_core::{new_id, now_ms, Entity, Role};
use karta_kernel::{tenants, users, Arg, Db, Engine, Tx, Q};
use std::time::Instant;

mod organizer;
mod sales;
mod words;
use words::*;

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "karta-demo-password";
/// The slug of the demo tenant.
pub const DEMO_TENANT: &str = "demo";

/// How much data the demo company gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSize {
    /// 200 accounts and 1,000 contacts with about two notes each, a product catalogue and
    /// 400 deals: for trying Karta out.
    Small,
    /// 200,000 accounts, 1,000,000 contacts and 500,000 deals (about 12,000 open): for
    /// benchmarks.
    Large,
}

/// Ensures the demo tenant exists with its data; returns true if it created data, false if
/// it was already there.
///
/// The tenant is loaded under the slug `demo-loading` and renamed to `demo` only once every
/// row, index and statistic is in place, so an interrupted load is never mistaken for a
/// finished one. Into an empty database the large data set is loaded with the secondary
/// indexes (and SQLite's search-index triggers) dropped, and re-created afterwards, which is
/// several times faster than maintaining them row by row.
///
/// # Errors
/// Database errors; an earlier load that was interrupted.
pub async fn ensure_demo(db: &Db, size: DemoSize) -> anyhow::Result<bool> {
    ensure_plan(db, &Plan::of(size)).await
}

/// [`ensure_demo`] for a data set of any size.
async fn ensure_plan(db: &Db, plan: &Plan) -> anyhow::Result<bool> {
    if tenants::by_slug(db, DEMO_TENANT).await?.is_some() {
        return Ok(false);
    }
    if tenants::by_slug(db, LOADING_TENANT).await?.is_some() {
        anyhow::bail!(
            "an earlier demo load was interrupted (tenant {LOADING_TENANT:?} exists): start again with a fresh database"
        );
    }
    let started = Instant::now();
    let defer = plan.contacts >= 100_000 && tables_empty(db).await?;
    let tenant =
        tenants::create(db, LOADING_TENANT, "Демо Компания", "RU").await.context("cannot create the demo tenant")?;
    let deferred = if defer { drop_indexes(db).await? } else { Vec::new() };
    let loaded = load(db, &tenant.id, &tenant.default_country, plan).await;
    if !deferred.is_empty() {
        let t = Instant::now();
        restore_indexes(db, &deferred).await.context("cannot re-create the indexes dropped for the demo load")?;
        eprintln!("demo: indexes re-created in {:.1} s", t.elapsed().as_secs_f64());
    }
    let counts = loaded?;
    analyze(db).await?;
    db.exec(Q::new("UPDATE tenants SET slug = $1 WHERE id = $2").bind(DEMO_TENANT).bind(&tenant.id)).await?;
    eprintln!("demo: {counts} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(true)
}

/// The slug the demo tenant has while it is being loaded.
const LOADING_TENANT: &str = "demo-loading";

/// The tables the demo fills in bulk.
const TABLES: [&str; 9] = [
    "accounts",
    "contacts",
    "contact_accounts",
    "notes",
    "deals",
    "deal_contacts",
    "deal_stage_history",
    "deal_price_log",
    "activities",
];

async fn tables_empty(db: &Db) -> anyhow::Result<bool> {
    for t in TABLES {
        if db.opt(Q::new(format!("SELECT 1 AS one FROM {t} LIMIT 1"))).await?.is_some() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Drops the secondary (non-unique) indexes of the demo tables, and on SQLite the triggers
/// that keep the search index in step; returns the statements that re-create them.
async fn drop_indexes(db: &Db) -> anyhow::Result<Vec<String>> {
    let list = TABLES.map(|t| format!("'{t}'")).join(", ");
    let (rows, name_col, ddl_col) = match db.engine() {
        Engine::Sqlite => (
            db.all(Q::new(format!(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ({list}) AND sql IS NOT NULL \
                 AND ((type = 'index' AND sql NOT LIKE 'CREATE UNIQUE%') OR (type = 'trigger' AND sql LIKE '%\\_fts%' ESCAPE '\\'))"
            )))
            .await?,
            "name",
            "sql",
        ),
        Engine::Postgres => (
            db.all(Q::new(format!(
                "SELECT 'index' AS type, indexname, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename IN ({list}) AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            )))
            .await?,
            "indexname",
            "indexdef",
        ),
    };
    let mut ddl = Vec::new();
    for r in &rows {
        let kind = if r.s("type") == "trigger" { "TRIGGER" } else { "INDEX" };
        db.script(&format!("DROP {kind} {}", r.s(name_col))).await?;
        ddl.push(r.s(ddl_col));
    }
    Ok(ddl)
}

/// Re-creates what [`drop_indexes`] dropped and, on SQLite, rebuilds the search index.
async fn restore_indexes(db: &Db, ddl: &[String]) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    if db.engine() == Engine::Postgres {
        tx.script("SET LOCAL maintenance_work_mem = '256MB'").await?;
    }
    for d in ddl {
        tx.script(d).await?;
    }
    if db.engine() == Engine::Sqlite {
        for t in TABLES {
            let fts = format!("{t}_fts");
            let exists =
                tx.opt(Q::new("SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1").bind(&fts)).await?;
            if exists.is_some() {
                tx.script(&format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')")).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Generates and inserts the demo company's data.
async fn load(db: &Db, tenant_id: &str, country: &str, plan: &Plan) -> anyhow::Result<String> {
    let staff = create_staff(db, tenant_id).await?;
    let mut gen = Gen {
        rng: Rng(0x4b61_7274_6144_656d),
        now: now_ms(),
        tenant: tenant_id.to_string(),
        country: country.to_string(),
        staff,
    };
    let mut loader = Loader::new(db);
    let engine = db.engine();
    let mut parties = Table::new(engine, "accounts", &PARTY_COLS, 500);
    let mut links = Table::new(engine, "contact_accounts", &LINK_COLS, 1000);
    let mut notes = Table::new(engine, "notes", &NOTE_COLS, 1000);

    let mut accounts: Vec<Acc> = Vec::with_capacity(plan.accounts);
    for i in 0..plan.accounts {
        let (acc, data) = gen.account(i, &accounts)?;
        gen.party_row(&mut parties.args, &acc.id, acc.created, acc.owner, &data)?;
        parties.rows += 1;
        let n = if i == 0 { plan.key_notes } else { gen.rng.count(plan.account_notes_x10) };
        for _ in 0..n {
            gen.note_row(&mut notes, Entity::Account, &acc.id, acc.created, acc.owner, None);
        }
        accounts.push(acc);
        loader.fill(&mut parties).await?;
        loader.fill(&mut notes).await?;
    }
    loader.flush(&mut parties).await?;

    parties = Table::new(engine, "contacts", &CONTACT_COLS, 500);
    for i in 0..plan.contacts {
        // The key account (the first) gets the first `key_links` contacts.
        let a = if i < plan.key_links { 0 } else { gen.rng.below(accounts.len()) };
        let (id, created, owner, first, data) = gen.contact(&accounts[a])?;
        if accounts[a].contacts.len() < CONTACTS_KEPT {
            accounts[a].contacts.push((id.clone(), owner));
        }
        gen.party_row(&mut parties.args, &id, created, owner, &data)?;
        // Its primary company, stored with it: the links may be written before the contact
        // (each table is flushed when its own buffer is full), and the triggers that keep
        // `account_id` skip a link whose contact is not there yet.
        parties.args.push(accounts[a].id.as_str().into());
        parties.rows += 1;
        gen.link_row(&mut links, &id, &accounts[a].id, &data.input.job_title, created);
        if gen.rng.chance(15) && accounts.len() > 1 {
            let b = (a + 1 + gen.rng.below(accounts.len() - 1)) % accounts.len();
            let role = gen.rng.pick(SECOND_ROLES).to_string();
            // Linked a moment later: the employer stays the contact's primary company.
            gen.link_row(&mut links, &id, &accounts[b].id, &role, created + 1);
        }
        for _ in 0..gen.rng.count(plan.contact_notes_x10) {
            gen.note_row(&mut notes, Entity::Contact, &id, created, owner, Some(&first));
        }
        loader.fill(&mut parties).await?;
        loader.fill(&mut links).await?;
        loader.fill(&mut notes).await?;
    }
    for t in [&mut parties, &mut links, &mut notes] {
        loader.flush(t).await?;
    }
    loader.commit().await?;
    let sales = if plan.bulk_deals {
        sales::bulk(db, &mut gen, &mut loader, &accounts, plan.deals).await?
    } else {
        sales::small(db, &mut gen, &accounts, plan.deals).await?
    };
    let activities = if plan.bulk_deals {
        organizer::bulk(db, &mut gen, &mut loader, &accounts, plan.activities).await?
    } else {
        let ctxs = sales::contexts(db, &gen).await?;
        organizer::small(db, &mut gen, &accounts, &ctxs).await?
    };
    let to_check = phones_to_check(db, tenant_id, gen.now).await?;
    Ok(format!(
        "{} accounts, {} contacts, {} links, {} notes, {sales}, {activities} activities, {to_check} phone numbers to check",
        accounts.len(),
        parties.total,
        links.total,
        notes.total
    ))
}

/// Numbers as an older Karta kept them, which no numbering plan confirms (a Chinese mobile
/// given Russia's code, an extension typed into the number, a placeholder of zeros), on three
/// contacts, listed as migration 12 lists such numbers: an admin sees the list to check.
async fn phones_to_check(db: &Db, tenant_id: &str, now: i64) -> anyhow::Result<usize> {
    const ODD: [&str; 3] = ["+713800138000", "+749512345670123", "+70000000000"];
    let rows =
        db.all(Q::new("SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY id LIMIT 3").bind(tenant_id)).await?;
    for (r, value) in rows.iter().zip(ODD) {
        let phones = serde_json::json!([{"value": value, "label": "mobile"}]).to_string();
        db.exec(
            Q::new("UPDATE contacts SET phones = $1, primary_phone = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(phones)
                .bind(value)
                .bind(tenant_id)
                .bind(r.s("id")),
        )
        .await?;
        db.exec(
            Q::new(
                "INSERT INTO phone_issues (tenant_id, entity, record_id, value, found_at, field) \
                 VALUES ($1, 'contact', $2, $3, $4, '')",
            )
            .bind(tenant_id)
            .bind(r.s("id"))
            .bind(value)
            .bind(now),
        )
        .await?;
    }
    Ok(rows.len())
}

/// Refreshes the planner's statistics after the bulk load.
async fn analyze(db: &Db) -> anyhow::Result<()> {
    let sql = match db.engine() {
        // The checkpoint also gives back the disk space the load's write-ahead log took.
        Engine::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
        Engine::Postgres => {
            "ANALYZE accounts; ANALYZE contacts; ANALYZE contact_accounts; ANALYZE notes; ANALYZE deals; \
             ANALYZE deal_contacts; ANALYZE deal_stage_history; ANALYZE deal_price_log; ANALYZE products; \
             ANALYZE product_prices;"
        }
    };
    db.script(sql).await.context("cannot analyze the demo tables")
}

/// Sizes of one demo data set.
struct Plan {
    accounts: usize,
    contacts: usize,
    /// Average notes per account, in tenths.
    account_notes_x10: usize,
    /// Average notes per contact, in tenths.
    contact_notes_x10: usize,
    /// Contacts linked to the key account.
    key_links: usize,
    /// Notes on the key account.
    key_notes: usize,
    /// Deals over the accounts.
    deals: usize,
    /// Deals are bulk-inserted rather than made through the store.
    bulk_deals: bool,
    /// Activities in the bulk load (the small demo makes its own through the store).
    activities: usize,
}

impl Plan {
    fn of(size: DemoSize) -> Self {
        match size {
            DemoSize::Small => Self {
                accounts: 200,
                contacts: 1_000,
                account_notes_x10: 20,
                contact_notes_x10: 20,
                key_links: 60,
                key_notes: 300,
                deals: 400,
                bulk_deals: false,
                activities: 0,
            },
            DemoSize::Large => Self {
                accounts: 200_000,
                contacts: 1_000_000,
                account_notes_x10: 5,
                contact_notes_x10: 3,
                key_links: 200,
                key_notes: 2_000,
                deals: 500_000,
                bulk_deals: true,
                activities: 5_000_000,
            },
        }
    }
}

/// The demo users: e-mail, display name, role, member of the sales team, share of records
/// owned (percent).
const STAFF: [(&str, &str, Role, bool, usize); 7] = [
    ("admin@demo.test", "Анна Админова", Role::Admin, false, 6),
    ("manager@demo.test", "Михаил Руководов", Role::SalesManager, true, 10),
    ("sales@demo.test", "Сергей Продажин", Role::Salesperson, true, 30),
    ("sales2@demo.test", "Ольга Сделкина", Role::Salesperson, true, 18),
    ("sales3@demo.test", "Дмитрий Звонков", Role::Salesperson, true, 18),
    ("sales4@demo.test", "Emily Carter", Role::Salesperson, true, 18),
    ("support@demo.test", "Ирина Поддержкина", Role::Support, false, 0),
];

/// The demo users' ids and how records are shared between them.
struct Staff {
    ids: Vec<String>,
    /// 100 slots of indexes into `ids`, one per percent of records owned.
    slots: Vec<usize>,
}

impl Staff {
    fn owner(&self, rng: &mut Rng) -> usize {
        *rng.pick(&self.slots)
    }
}

async fn create_staff(db: &Db, tenant_id: &str) -> anyhow::Result<Staff> {
    let operator = karta_kernel::Admin::operator(tenant_id);
    let team = tenants::create_team(db, &operator, "Sales").await?;
    let mut ids = Vec::new();
    let mut slots = Vec::new();
    for (i, (email, name, role, in_team, share)) in STAFF.iter().enumerate() {
        let u = users::create(db, &operator, email, name, role.as_str(), Some(DEMO_PASSWORD))
            .await
            .with_context(|| format!("cannot create the demo user {email}"))?;
        if *in_team {
            db.exec(
                Q::new("UPDATE users SET team_id = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(&team)
                    .bind(tenant_id)
                    .bind(&u.id),
            )
            .await?;
        }
        ids.push(u.id);
        slots.extend(std::iter::repeat_n(i, *share));
    }
    create_roles(db, &operator).await?;
    Ok(Staff { ids, slots })
}

/// Two roles of the demo company's own, each with a user: a buyer who reads the accounts and
/// the catalogue and nothing else, and a sales assistant who reads everything, plans calls and
/// meetings for anyone, sees every calendar and exports.
async fn create_roles(db: &Db, operator: &karta_kernel::Admin) -> anyhow::Result<()> {
    use karta_kernel::roles::{self, RoleDraft};
    // Roles name the registered entities (registered at start; the demo's own tests start here).
    crate::contexts::register();
    let all = |actions: &[&str]| {
        serde_json::Value::Object(actions.iter().map(|a| ((*a).to_string(), "all".into())).collect())
    };
    let buyer =
        RoleDraft::parse("Закупщик", &serde_json::json!({"account": all(&["read"]), "product": all(&["read"])}), &[])
            .map_err(|e| anyhow::anyhow!("the demo buyer role: {e:?}"))?;
    let assistant = RoleDraft::parse(
        "Ассистент отдела продаж",
        &serde_json::json!({
            "account": all(&["read", "export"]), "contact": all(&["read", "export"]), "deal": all(&["read", "export"]),
            "product": all(&["read"]), "activity": all(&["read", "create", "update"]),
        }),
        &["export".to_string(), "all_calendars".to_string()],
    )
    .map_err(|e| anyhow::anyhow!("the demo assistant role: {e:?}"))?;
    for (draft, email, name) in
        [(buyer, "buyer@demo.test", "Павел Закупкин"), (assistant, "assistant@demo.test", "Алла Помощникова")]
    {
        let role =
            roles::create(db, operator, draft).await.with_context(|| format!("cannot create the role of {email}"))?;
        users::create(db, operator, email, name, &role.id, Some(DEMO_PASSWORD))
            .await
            .with_context(|| format!("cannot create the demo user {email}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Bulk insertion

/// Columns of `accounts` / `contacts` in the order [`Gen::party_row`] binds them; the same
/// set `karta_parties::parties` writes.
#[rustfmt::skip]
const PARTY_COLS: [&str; 43] = [
    "tenant_id", "id", "version", "created_at", "created_by", "updated_at", "updated_by", "name", "name_key",
    "legal_name", "tax_id", "parent_id", "employees", "first_name", "last_name", "middle_name", "job_title",
    "birthday", "family_status", "income_band", "owner_id", "relationship", "source", "first_contact", "industry",
    "region", "segment", "website", "primary_email", "primary_phone", "city", "emails", "phones", "messengers",
    "addresses", "important_dates", "interests", "preferences", "tags", "do_not_contact", "do_not_email",
    "description", "search_text",
];
/// [`PARTY_COLS`] and a contact's primary company.
const CONTACT_COLS: [&str; 44] = {
    let mut out = [""; 44];
    let mut i = 0;
    while i < PARTY_COLS.len() {
        out[i] = PARTY_COLS[i];
        i += 1;
    }
    out[43] = "account_id";
    out
};
const LINK_COLS: [&str; 5] = ["tenant_id", "contact_id", "account_id", "role", "created_at"];
const NOTE_COLS: [&str; 9] =
    ["tenant_id", "id", "entity", "entity_id", "body", "author_id", "version", "created_at", "updated_at"];

/// Rows per transaction.
const TX_ROWS: usize = 20_000;
/// Progress is printed every this many rows of a table.
const PROGRESS_ROWS: usize = 100_000;

/// Rows waiting to be inserted into one table.
struct Table {
    engine: Engine,
    name: &'static str,
    cols: &'static [&'static str],
    /// Rows per statement (columns × rows stays far below both engines' bind limits).
    per_stmt: usize,
    /// The statement for a full batch, built once.
    full_sql: String,
    args: Vec<Arg>,
    rows: usize,
    total: usize,
}

impl Table {
    fn new(engine: Engine, name: &'static str, cols: &'static [&'static str], per_stmt: usize) -> Self {
        let full_sql = insert_sql(engine, name, cols, per_stmt);
        Self { engine, name, cols, per_stmt, full_sql, args: Vec::new(), rows: 0, total: 0 }
    }
}

/// `INSERT INTO t (cols) VALUES ($1, …), (…)` for `rows` rows. SQLite gets anonymous `?`
/// parameters instead: binding numbered ones costs time linear in their count per
/// parameter (the driver asks each parameter's name), quadratic per statement.
fn insert_sql(engine: Engine, table: &str, cols: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            if engine == Engine::Sqlite {
                sql.push('?');
            } else {
                n += 1;
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// Runs the batches in transactions of about [`TX_ROWS`] rows.
struct Loader<'a> {
    db: &'a Db,
    tx: Option<Tx>,
    rows_in_tx: usize,
    started: Instant,
    /// Time spent waiting for the database.
    in_db: std::time::Duration,
}

impl<'a> Loader<'a> {
    fn new(db: &'a Db) -> Self {
        Self { db, tx: None, rows_in_tx: 0, started: Instant::now(), in_db: std::time::Duration::ZERO }
    }

    /// Inserts the table's rows once a statement's worth has gathered.
    async fn fill(&mut self, t: &mut Table) -> anyhow::Result<()> {
        if t.rows >= t.per_stmt {
            self.flush(t).await?;
        }
        Ok(())
    }

    /// Inserts whatever rows the table holds.
    async fn flush(&mut self, t: &mut Table) -> anyhow::Result<()> {
        if t.rows == 0 {
            return Ok(());
        }
        let sql = if t.rows == t.per_stmt { t.full_sql.clone() } else { insert_sql(t.engine, t.name, t.cols, t.rows) };
        let q = Q { sql, args: std::mem::take(&mut t.args) };
        let waited = Instant::now();
        let mut tx = match self.tx.take() {
            Some(tx) => tx,
            None => self.db.begin().await?,
        };
        tx.exec(q).await.with_context(|| format!("cannot insert demo {}", t.name))?;
        let before = t.total;
        t.total += t.rows;
        self.rows_in_tx += t.rows;
        t.rows = 0;
        if self.rows_in_tx >= TX_ROWS {
            tx.commit().await?;
            self.rows_in_tx = 0;
        } else {
            self.tx = Some(tx);
        }
        self.in_db += waited.elapsed();
        if t.total / PROGRESS_ROWS > before / PROGRESS_ROWS {
            eprintln!(
                "demo: {} {} rows ({:.1} s, {:.1} s of it in the database)",
                t.total,
                t.name,
                self.started.elapsed().as_secs_f64(),
                self.in_db.as_secs_f64()
            );
        }
        Ok(())
    }

    async fn commit(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        self.rows_in_tx = 0;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Generation

/// SplitMix64: small, fast and good enough for plausible data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A number in `lo..hi` (empty ranges give `lo`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.next() % (hi - lo) as u64) as i64
        }
    }

    /// True `pct` percent of the time.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    fn pick<'t, T>(&mut self, xs: &'t [T]) -> &'t T {
        &xs[self.below(xs.len())]
    }

    /// A count averaging `x10 / 10`.
    fn count(&mut self, x10: usize) -> usize {
        if x10 >= 10 {
            self.below(2 * x10 / 10 + 1)
        } else {
            usize::from(self.below(10) < x10)
        }
    }

    /// `n` random decimal digits.
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + (self.next() % 10) as u8)).collect()
    }
}

/// Contacts remembered per account, for the deals.
const CONTACTS_KEPT: usize = 3;

/// What contacts and deals need to know about an account.
struct Acc {
    id: String,
    /// Display name.
    name: String,
    /// Its first few contacts: (id, owner).
    contacts: Vec<(String, usize)>,
    owner: usize,
    relationship: usize,
    /// E-mail domain of its people.
    domain: String,
    city: usize,
    created: i64,
    industry: usize,
}

/// The generator's state.
struct Gen {
    rng: Rng,
    now: i64,
    tenant: String,
    country: String,
    staff: Staff,
}

const DAY_MS: i64 = 86_400_000;

impl Gen {
    /// Parses a generated record as the application would; the generator's values always
    /// parse, so a failure is a bug in this file.
    fn parse(&self, entity: Entity, raw: PartyInput) -> anyhow::Result<PartyData> {
        party::parse(entity, raw, &self.country).map_err(|errs| {
            let e: Vec<String> = errs.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the demo generator made an invalid {}: {}", entity.as_str(), e.join("; "))
        })
    }

    fn relationship(&mut self) -> usize {
        // prospect 40 %, customer 35 %, partner 10 %, supplier 10 %, competitor 5 %.
        match self.rng.below(100) {
            0..=39 => 0,
            40..=74 => 1,
            75..=84 => 2,
            85..=94 => 3,
            _ => 4,
        }
    }

    fn tags(&mut self, max: usize) -> Vec<String> {
        let n = self.rng.below(max + 1);
        (0..n).map(|_| (*self.rng.pick(TAGS)).to_string()).collect()
    }

    fn date(&mut self, from_year: i64, to_year: i64) -> String {
        format!("{}-{:02}-{:02}", self.rng.range(from_year, to_year + 1), self.rng.range(1, 13), self.rng.range(1, 29))
    }

    fn phone(&mut self, city: &City, mobile: bool) -> String {
        let r = &mut self.rng;
        match city.country {
            RU if mobile => {
                let op = r.pick(RU_MOBILE);
                let (a, b, c) = (r.digits(3), r.digits(2), r.digits(2));
                match r.below(3) {
                    0 => format!("+7 ({op}) {a}-{b}-{c}"),
                    1 => format!("8 {op} {a} {b} {c}"),
                    _ => format!("+7{op}{a}{b}{c}"),
                }
            }
            RU => format!("{} {}-{}-{}", city.phone, r.digits(3), r.digits(2), r.digits(2)),
            _ if mobile => match city.country {
                "Великобритания" => format!("+44 7{} {}", r.digits(3), r.digits(6)),
                "Германия" => format!("+49 15{} {}", r.digits(2), r.digits(7)),
                "Нидерланды" => format!("+31 6 {}", r.digits(8)),
                _ => format!("{} 555 {}", city.phone, r.digits(4)),
            },
            _ => format!("{} {} {}", city.phone, r.digits(3), r.digits(4)),
        }
    }

    fn address(&mut self, city: &City, label: &str) -> Address {
        let r = &mut self.rng;
        let (street, postcode) = if city.country == RU {
            let street = format!("{}, д. {}, офис {}", r.pick(RU_STREETS), r.range(1, 120), r.range(1, 900));
            (street, format!("{}{}", city.post, r.digits(6 - city.post.len())))
        } else {
            let street = match city.country {
                "Германия" | "Нидерланды" => format!("{} {}", r.pick(city.streets), r.range(1, 200)),
                _ => format!("{} {}", r.range(1, 200), r.pick(city.streets)),
            };
            let postcode = match city.country {
                "Великобритания" => format!(
                    "{}{} {}{}",
                    city.post,
                    r.range(1, 20),
                    r.range(1, 10),
                    r.pick(&["AA", "BD", "EX", "JL", "QT"])
                ),
                "Нидерланды" => format!("{}{} {}", city.post, r.digits(2), r.pick(&["AB", "CD", "EK", "LM"])),
                _ => format!("{}{}", city.post, r.digits(5 - city.post.len())),
            };
            (street, postcode)
        };
        Address {
            label: label.to_string(),
            street,
            city: city.name.to_string(),
            region: city.region.to_string(),
            postcode,
            country: city.country.to_string(),
        }
    }

    /// An account; the first is the key account owned by `sales@demo.test`.
    fn account(&mut self, i: usize, earlier: &[Acc]) -> anyhow::Result<(Acc, PartyData)> {
        let foreign = i > 0 && self.rng.chance(28);
        let city_i = if foreign {
            RU_CITIES.len() + self.rng.below(FOREIGN_CITIES.len())
        } else {
            self.rng.below(RU_CITIES.len())
        };
        let city = city_at(city_i);
        let (name, legal, domain, tax_id) = if i == 0 {
            (
                "АО «Глобал Трейд»".to_string(),
                "Акционерное общество «Глобал Трейд»".to_string(),
                "globaltrade.ru".to_string(),
                "7701234567".into(),
            )
        } else if foreign {
            self.foreign_company(city)
        } else {
            self.russian_company()
        };
        let industry = self.rng.below(INDUSTRIES.len());
        // Foreign companies are never in the Russian public sector (the last segment).
        let seg = self.rng.below(SEGMENTS.len() - usize::from(foreign));
        let employees = match seg {
            0 => self.rng.range(3, 100),
            1 => self.rng.range(100, 1000),
            2 => self.rng.range(1000, 60_000),
            _ => self.rng.range(50, 5000),
        };
        let owner = if i == 0 { 2 } else { self.staff.owner(&mut self.rng) };
        let relationship = if i == 0 { 1 } else { self.relationship() };
        let created = if i == 0 { self.now - 700 * DAY_MS } else { self.now - self.rng.range(DAY_MS, 730 * DAY_MS) };
        let mut addresses = vec![self.address(city, "юридический")];
        if self.rng.chance(20) {
            addresses.push(self.address(city, "склад"));
        }
        let mut phones = vec![Labeled { value: self.phone(city, false), label: "офис".into() }];
        if self.rng.chance(30) {
            phones.push(Labeled { value: self.phone(city, false), label: "бухгалтерия".into() });
        }
        let emails = vec![Labeled {
            value: format!("{}@{domain}", self.rng.pick(&["info", "office", "sales", "zakaz", "hello"])),
            label: "общий".into(),
        }];
        // About one account in twenty belongs to a group headed by an earlier account.
        let parent_id = if i > 20 && self.rng.chance(5) {
            earlier[self.rng.below(earlier.len().min(i / 10 + 1))].id.clone()
        } else {
            String::new()
        };
        let mut important_dates = Vec::new();
        if self.rng.chance(30) {
            important_dates
                .push(NamedDate { label: "День основания".into(), date: self.date(1992, 2020) });
        }
        let description = if self.rng.chance(50) {
            let product = self.rng.pick(PRODUCTS);
            match self.rng.below(3) {
                0 => format!("Работаем с {} года. Основные закупки: {product}.", self.rng.range(2012, 2025)),
                1 => format!(
                    "Интересуются направлением «{product}», бюджет согласуют в {} квартале.",
                    self.rng.range(1, 5)
                ),
                _ => format!("Решения принимает совет директоров; закупки через тендер. Направление: {product}."),
            }
        } else {
            String::new()
        };
        let mut tags = self.tags(2);
        if i == 0 {
            tags = vec!["vip".into(), "ключевой".into()];
        }
        let raw = PartyInput {
            name,
            legal_name: legal,
            tax_id,
            parent_id,
            employees: Some(employees),
            emails,
            phones,
            addresses,
            website: format!("www.{domain}"),
            industry: INDUSTRIES[industry].to_string(),
            region: city.region.to_string(),
            segment: SEGMENTS[seg].to_string(),
            relationship: RELATIONSHIPS[relationship].to_string(),
            owner_id: self.staff.ids[owner].clone(),
            source: self.rng.pick(SOURCES).to_string(),
            first_contact: self.rng.pick(&["ours", "ours", "theirs", ""]).to_string(),
            important_dates,
            tags,
            do_not_contact: self.rng.chance(1),
            do_not_email: self.rng.chance(2),
            description,
            ..PartyInput::default()
        };
        let data = self.parse(Entity::Account, raw)?;
        let acc = Acc {
            id: new_id(),
            name: data.name.clone(),
            contacts: Vec::new(),
            owner,
            relationship,
            domain,
            city: city_i,
            created,
            industry,
        };
        Ok((acc, data))
    }

    fn russian_company(&mut self) -> (String, String, String, String) {
        let r = &mut self.rng;
        let core = if r.chance(75) {
            format!("{}{}", r.pick(RU_ROOTS_1), r.pick(RU_ROOTS_2))
        } else {
            (*r.pick(RU_PHRASES)).to_string()
        };
        let core = if r.chance(25) { format!("{core}{}", r.pick(RU_SUFFIXES)) } else { core };
        let (short, full) = *r.pick(RU_FORMS);
        let name = if r.chance(45) { format!("{short} «{core}»") } else { core.clone() };
        let legal = format!("{full} «{core}»");
        let tld = if r.chance(20) { "com" } else { "ru" };
        let domain = format!("{}.{tld}", translit(&core).replace(['-', ' '], ""));
        let tax_id = format!("{}{}", r.range(1, 10), r.digits(9));
        (name, legal, domain, tax_id)
    }

    fn foreign_company(&mut self, city: &City) -> (String, String, String, String) {
        let r = &mut self.rng;
        let stem = format!("{}{}", r.pick(EN_ROOTS_1), r.pick(EN_ROOTS_2));
        let core = format!("{stem} {}", r.pick(EN_KINDS));
        let (suffix, tld, tax_id) = match city.country {
            "Великобритания" => ("Ltd", "co.uk", format!("GB{}", r.digits(9))),
            "Германия" => ("GmbH", "de", format!("DE{}", r.digits(9))),
            "Нидерланды" => ("B.V.", "nl", format!("NL{}B01", r.digits(9))),
            _ => (*r.pick(&["Inc.", "LLC"]), "com", format!("{}-{}", r.digits(2), r.digits(7))),
        };
        let name = format!("{core} {suffix}");
        let domain = format!("{}.{tld}", stem.to_lowercase());
        (name.clone(), name, domain, tax_id)
    }

    /// A contact working at `acc`: (id, created, owner, first name, data).
    fn contact(&mut self, acc: &Acc) -> anyhow::Result<(String, i64, usize, String, PartyData)> {
        let city = city_at(acc.city);
        let russian = if city.country == RU { self.rng.chance(95) } else { self.rng.chance(10) };
        let (first, middle, last, male) = if russian { self.russian_person() } else { self.english_person() };
        let (f_lat, l_lat) = (translit(&first), translit(&last));
        let local = match self.rng.below(4) {
            0 => format!("{f_lat}.{l_lat}"),
            1 => format!("{}.{l_lat}", f_lat.chars().next().unwrap_or('x')),
            2 => l_lat.clone(),
            _ => format!("{f_lat}{}", l_lat.chars().next().unwrap_or('x')),
        };
        let personal =
            if russian { *self.rng.pick(&["yandex.ru", "mail.ru", "gmail.com", "bk.ru"]) } else { "gmail.com" };
        let mut emails = Vec::new();
        if self.rng.chance(80) {
            emails.push(Labeled { value: format!("{local}@{}", acc.domain), label: "рабочий".into() });
            if self.rng.chance(15) {
                emails.push(Labeled {
                    value: format!("{f_lat}.{l_lat}{}@{personal}", self.rng.range(1, 99)),
                    label: "личный".into(),
                });
            }
        } else {
            emails.push(Labeled {
                value: format!("{f_lat}.{l_lat}{}@{personal}", self.rng.range(1, 99)),
                label: "личный".into(),
            });
        }
        let mut phones = Vec::new();
        if self.rng.chance(90) {
            phones.push(Labeled { value: self.phone(city, true), label: "мобильный".into() });
        }
        if self.rng.chance(35) {
            phones.push(Labeled { value: self.phone(city, false), label: "рабочий".into() });
        }
        let mut messengers = Vec::new();
        if self.rng.chance(if russian { 30 } else { 10 }) {
            messengers.push(Labeled { value: format!("@{f_lat}_{l_lat}"), label: "telegram".into() });
        }
        if self.rng.chance(10) {
            if let Some(p) = phones.first() {
                messengers.push(Labeled { value: p.value.clone(), label: "whatsapp".into() });
            }
        }
        let addresses = if self.rng.chance(60) { vec![self.address(city, "рабочий")] } else { Vec::new() };
        let job_title = (*self.rng.pick(if russian { RU_TITLES } else { EN_TITLES })).to_string();
        let birthday = if self.rng.chance(40) { self.date(1958, 2001) } else { String::new() };
        let family_status = if self.rng.chance(10) {
            (*self.rng.pick(if male {
                &["женат", "холост", "разведён"]
            } else {
                &["замужем", "не замужем", "разведена"]
            }))
            .to_string()
        } else {
            String::new()
        };
        let interests = match self.rng.below(3) {
            0 => String::new(),
            1 => (*self.rng.pick(INTERESTS)).to_string(),
            _ => format!("{}, {}", self.rng.pick(INTERESTS), self.rng.pick(INTERESTS)),
        };
        let preferences = if self.rng.chance(15) { (*self.rng.pick(PREFERENCES)).to_string() } else { String::new() };
        let owner = if self.rng.chance(90) { acc.owner } else { self.staff.owner(&mut self.rng) };
        let relationship = if self.rng.chance(85) { acc.relationship } else { self.relationship() };
        let created = self.rng.range(acc.created, self.now);
        let raw = PartyInput {
            first_name: first.clone(),
            last_name: last,
            middle_name: middle,
            job_title,
            birthday,
            family_status,
            emails,
            phones,
            messengers,
            addresses,
            industry: INDUSTRIES[acc.industry].to_string(),
            region: city.region.to_string(),
            relationship: RELATIONSHIPS[relationship].to_string(),
            owner_id: self.staff.ids[owner].clone(),
            source: self.rng.pick(SOURCES).to_string(),
            first_contact: self.rng.pick(&["ours", "theirs", "theirs", ""]).to_string(),
            interests,
            preferences,
            tags: self.tags(1),
            do_not_contact: self.rng.chance(1),
            do_not_email: self.rng.chance(3),
            ..PartyInput::default()
        };
        let data = self.parse(Entity::Contact, raw)?;
        Ok((new_id(), created, owner, first, data))
    }

    /// (first, patronymic, last, male).
    fn russian_person(&mut self) -> (String, String, String, bool) {
        let r = &mut self.rng;
        let male = r.chance(50);
        let (pm, pf) = *r.pick(RU_PATRONYMICS);
        let last = *r.pick(RU_SURNAMES);
        if male {
            ((*r.pick(RU_MALE)).to_string(), pm.to_string(), last.to_string(), true)
        } else {
            ((*r.pick(RU_FEMALE)).to_string(), pf.to_string(), feminine(last), false)
        }
    }

    fn english_person(&mut self) -> (String, String, String, bool) {
        let r = &mut self.rng;
        let i = r.below(EN_FIRST.len());
        let middle = if r.chance(15) { format!("{}.", r.pick(&["A", "J", "M", "R", "S", "T"])) } else { String::new() };
        (EN_FIRST[i].to_string(), middle, (*r.pick(EN_LAST)).to_string(), i & 1 == 0)
    }

    fn party_row(
        &self,
        args: &mut Vec<Arg>,
        id: &str,
        created: i64,
        owner: usize,
        d: &PartyData,
    ) -> anyhow::Result<()> {
        let i = &d.input;
        let by = self.staff.ids[owner].as_str();
        let updated = created + (self.now - created) / 3;
        let tags = if i.tags.is_empty() { String::new() } else { format!(",{},", i.tags.join(",")) };
        args.extend([
            Arg::from(self.tenant.as_str()),
            id.into(),
            1i64.into(),
            created.into(),
            by.into(),
            updated.into(),
            by.into(),
            d.name.as_str().into(),
            d.name_key.as_str().into(),
            i.legal_name.as_str().into(),
            i.tax_id.as_str().into(),
            i.parent_id.as_str().into(),
            i.employees.into(),
            i.first_name.as_str().into(),
            i.last_name.as_str().into(),
            i.middle_name.as_str().into(),
            i.job_title.as_str().into(),
            i.birthday.as_str().into(),
            i.family_status.as_str().into(),
            i.income_band.as_str().into(),
            i.owner_id.as_str().into(),
            i.relationship.as_str().into(),
            i.source.as_str().into(),
            i.first_contact.as_str().into(),
            i.industry.as_str().into(),
            i.region.as_str().into(),
            i.segment.as_str().into(),
            i.website.as_str().into(),
            d.primary_email.as_str().into(),
            d.primary_phone.as_str().into(),
            d.city.as_str().into(),
            serde_json::to_string(&i.emails)?.into(),
            serde_json::to_string(&i.phones)?.into(),
            serde_json::to_string(&i.messengers)?.into(),
            serde_json::to_string(&i.addresses)?.into(),
            serde_json::to_string(&i.important_dates)?.into(),
            i.interests.as_str().into(),
            i.preferences.as_str().into(),
            tags.into(),
            i.do_not_contact.into(),
            i.do_not_email.into(),
            i.description.as_str().into(),
            d.search_text.as_str().into(),
        ]);
        Ok(())
    }

    fn link_row(&self, t: &mut Table, contact_id: &str, account_id: &str, role: &str, created: i64) {
        t.args.extend([
            Arg::from(self.tenant.as_str()),
            contact_id.into(),
            account_id.into(),
            role.into(),
            created.into(),
        ]);
        t.rows += 1;
    }

    /// A note on a record, by its owner (mostly) or a colleague, within the last year.
    fn note_row(&mut self, t: &mut Table, entity: Entity, id: &str, created: i64, owner: usize, person: Option<&str>) {
        let author = if self.rng.chance(80) { owner } else { self.rng.below(STAFF.len() - 1) };
        let at = self.rng.range(created.max(self.now - 365 * DAY_MS), self.now);
        let body = self.note_text(person);
        t.args.extend([
            Arg::from(self.tenant.as_str()),
            new_id().into(),
            entity.as_str().into(),
            id.into(),
            body.into(),
            self.staff.ids[author].as_str().into(),
            1i64.into(),
            at.into(),
            at.into(),
        ]);
        t.rows += 1;
    }

    fn note_text(&mut self, person: Option<&str>) -> String {
        let r = &mut self.rng;
        let who = person.map_or_else(
            || (*r.pick(&["ЛПР", "закупщик", "финансовый директор", "главный инженер"])).to_string(),
            str::to_string,
        );
        let product = r.pick(PRODUCTS);
        let when = r.pick(WHEN);
        let topic = r.pick(TOPICS);
        match r.below(12) {
            0 => format!("Звонок ({who}): обсудили {topic}. Договорились созвониться {when}."),
            1 => format!(
                "Встреча в офисе клиента ({who}). Интерес к направлению «{product}», просят КП до {}-го числа.",
                r.range(1, 29)
            ),
            2 => format!(
                "Отправили коммерческое предложение на {} {} ₽ ({product}). Ждём обратной связи {when}.",
                r.range(1, 990),
                r.pick(&["тыс.", "млн"])
            ),
            3 => format!(
                "Клиент запросил скидку {}% при объёме от {} единиц. Нужно согласовать с руководителем.",
                r.range(3, 21),
                r.range(1, 50) * 100
            ),
            4 => format!("Не дозвонились ({who}), секретарь просила перезвонить {when}."),
            5 => {
                format!("Подписан договор поставки № {}-{}. Первая отгрузка {when}.", r.digits(3), r.range(2023, 2027))
            }
            6 => "Получили претензию по срокам поставки, передали в отдел логистики. Держим на контроле.".to_string(),
            7 => format!("Поздравили с днём рождения ({who}), отправили подарочный набор."),
            8 => "Обсуждали продление договора на следующий год, клиент сравнивает с предложением конкурента."
                .to_string(),
            9 => format!("Демонстрация продукта прошла успешно, ждём решения технического директора {when}."),
            10 => format!("Письмо ({who}): уточнили реквизиты и контактное лицо для выставления счёта."),
            _ => format!(
                "Выставка «{}»: познакомились на стенде, обменялись визитками. Интересуются: {product}.",
                r.pick(EXPOS)
            ),
        }
    }
}

/// The feminine form of a Russian surname.
fn feminine(last: &str) -> String {
    if let Some(stem) = last.strip_suffix("ий") {
        format!("{stem}ая")
    } else if let Some(stem) = last.strip_suffix("ой") {
        format!("{stem}ая")
    } else if ["ов", "ев", "ёв", "ин", "ын"].iter().any(|s| last.ends_with(s)) {
        format!("{last}а")
    } else {
        last.to_string()
    }
}

/// Latin letters for e-mail addresses and domains (a simple practical transliteration).
fn translit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars().flat_map(char::to_lowercase) {
        let t = match ch {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' | 'ы' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ю' => "yu",
            'я' => "ya",
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() || c == '-' => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(t);
    }
    out
}

// ---------------------------------------------------------------------------------------
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_take_the_feminine_form() {
        assert_eq!(feminine("Королёв"), "Королёва");
        assert_eq!(feminine("Островский"), "Островская");
        assert_eq!(feminine("Толстой"), "Толстая");
        assert_eq!(feminine("Шевченко"), "Шевченко");
    }

    #[test]
    fn names_are_transliterated_for_addresses() {
        assert_eq!(translit("Фёдор Щукин"), "fedorshchukin");
        assert_eq!(translit("Müller"), "mueller");
    }

    #[test]
    fn insert_statements_number_their_parameters() {
        assert_eq!(insert_sql(Engine::Postgres, "t", &["a", "b"], 2), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(insert_sql(Engine::Sqlite, "t", &["a"], 2), "INSERT INTO t (a) VALUES (?), (?)");
        assert!(CONTACT_COLS.len() * 500 < 32_766);
    }

    /// A fresh SQLite database in the temporary directory, and its path.
    async fn scratch_db(name: &str) -> (Db, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("karta-demo-{name}-{}.db", std::process::id()));
        remove_db(&path);
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url, &karta_kernel::DbOptions { max_connections: 4 }).await.expect("connect");
        karta_kernel::migrate(&db).await.expect("migrate");
        (db, path)
    }

    fn remove_db(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    fn tiny(deals: usize, bulk_deals: bool) -> Plan {
        Plan {
            accounts: 40,
            contacts: 200,
            account_notes_x10: 0,
            contact_notes_x10: 0,
            key_links: 10,
            key_notes: 0,
            deals,
            bulk_deals,
            activities: 3_000,
        }
    }

    async fn count(db: &Db, sql: &str) -> i64 {
        db.opt(Q::new(sql)).await.expect(sql).map_or(0, |r| r.i("n"))
    }

    /// What every demo deal must satisfy, however it was made.
    async fn assert_consistent_sales(db: &Db) {
        let broken = [
            // Exactly one creation event, at the deal's creation.
            "SELECT COUNT(*) AS n FROM deals d WHERE (SELECT COUNT(*) FROM deal_stage_history h WHERE h.tenant_id = d.tenant_id \
             AND h.deal_id = d.id AND h.from_status = '' AND h.at = d.created_at) <> 1",
            // No event before the deal existed.
            "SELECT COUNT(*) AS n FROM deal_stage_history h JOIN deals d ON d.tenant_id = h.tenant_id AND d.id = h.deal_id \
             WHERE h.at < d.created_at",
            // The latest event leads to where the deal is: its stage and status, when it got there.
            "SELECT COUNT(*) AS n FROM deals d WHERE NOT EXISTS (SELECT 1 FROM deal_stage_history h WHERE h.tenant_id = d.tenant_id \
             AND h.deal_id = d.id AND h.to_stage_id = d.stage_id AND h.to_status = d.status \
             AND h.at = COALESCE(d.closed_at, d.stage_entered_at) AND h.at = (SELECT MAX(at) FROM deal_stage_history x \
             WHERE x.tenant_id = d.tenant_id AND x.deal_id = d.id))",
            // Closed deals have a closing time, open ones none; lost ones a reason and their stage.
            "SELECT COUNT(*) AS n FROM deals WHERE (status = 'open') <> (closed_at IS NULL) \
             OR (status = 'lost' AND (lost_reason_id = '' OR lost_stage_id <> stage_id)) \
             OR (status <> 'lost' AND (lost_reason_id <> '' OR lost_stage_id <> ''))",
            // Every amount is in the negotiation log.
            "SELECT COUNT(*) AS n FROM deals d WHERE amount <= 0 OR NOT EXISTS (SELECT 1 FROM deal_price_log p \
             WHERE p.tenant_id = d.tenant_id AND p.deal_id = d.id AND p.what = 'amount')",
            // Amounts with lines are their sum.
            "SELECT COUNT(*) AS n FROM deals d WHERE has_lines = 1 AND amount <> (SELECT SUM(total) FROM deal_lines l \
             WHERE l.tenant_id = d.tenant_id AND l.deal_id = d.id)",
            // Deals are on their account's contacts.
            "SELECT COUNT(*) AS n FROM deal_contacts dc JOIN deals d ON d.tenant_id = dc.tenant_id AND d.id = dc.deal_id \
             WHERE NOT EXISTS (SELECT 1 FROM contact_accounts ca WHERE ca.tenant_id = d.tenant_id \
             AND ca.account_id = d.account_id AND ca.contact_id = dc.contact_id)",
        ];
        for sql in broken {
            assert_eq!(count(db, sql).await, 0, "{sql}");
        }
        for status in ["open", "won", "lost"] {
            let n = count(db, &format!("SELECT COUNT(*) AS n FROM deals WHERE status = '{status}'")).await;
            assert!(n > 0, "no {status} deals");
        }
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM products").await, 30);
    }

    #[tokio::test]
    async fn small_demo_deals_go_through_the_store_and_are_loaded_once() {
        let (db, path) = scratch_db("small").await;
        // Enough contacts that the links' buffer is flushed before some of their contacts.
        let plan = Plan { contacts: 1_200, ..tiny(60, false) };
        assert!(ensure_plan(&db, &plan).await.expect("loads"));
        assert!(!ensure_plan(&db, &plan).await.expect("reuses"));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM deals").await, 60);
        assert_consistent_sales(&db).await;
        // Every contact names its earliest link as its company (what the triggers keep).
        let wrong = "SELECT COUNT(*) AS n FROM contacts c WHERE account_id <> COALESCE((SELECT ca.account_id \
                     FROM contact_accounts ca WHERE ca.tenant_id = c.tenant_id AND ca.contact_id = c.id \
                     ORDER BY ca.created_at, ca.account_id LIMIT 1), '')";
        assert_eq!(count(&db, wrong).await, 0);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM contacts WHERE account_id = ''").await, 0);
        // The audit trail is dated with the steps, not with the load.
        let late =
            "SELECT COUNT(*) AS n FROM audit_log a JOIN deals d ON d.tenant_id = a.tenant_id AND d.id = a.entity_id \
                    WHERE a.at > d.updated_at OR a.at < d.created_at";
        assert_eq!(count(&db, late).await, 0);
        // Numbers for an admin to check, each still on its contact.
        let listed = "SELECT COUNT(*) AS n FROM phone_issues i JOIN contacts c ON c.tenant_id = i.tenant_id \
                      AND c.id = i.record_id AND c.primary_phone = i.value";
        assert_eq!(count(&db, listed).await, 3);
        db.close().await;
        remove_db(&path);
    }

    #[tokio::test]
    async fn bulk_demo_deals_are_consistent_and_mostly_closed() {
        let (db, path) = scratch_db("bulk").await;
        assert!(ensure_plan(&db, &tiny(5_000, true)).await.expect("loads"));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM deals").await, 5_000);
        assert_consistent_sales(&db).await;
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM pipelines").await, 2);
        let open =
            "SELECT COUNT(*) AS n FROM deals d JOIN pipelines p ON p.tenant_id = d.tenant_id AND p.id = d.pipeline_id \
                    WHERE d.status = 'open' AND p.position = 0";
        assert_eq!(count(&db, open).await, 100);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM deals WHERE status = 'open'").await, 120);
        db.close().await;
        remove_db(&path);
    }

    #[test]
    fn the_generator_is_deterministic_and_its_records_parse() {
        let mk = || Gen {
            rng: Rng(7),
            now: 1_700_000_000_000,
            tenant: "t".into(),
            country: "RU".into(),
            staff: Staff { ids: (0..STAFF.len()).map(|i| format!("u{i}")).collect(), slots: vec![2, 3] },
        };
        let (mut a, mut b) = (mk(), mk());
        let mut accs = Vec::new();
        for i in 0..300 {
            let (acc, d) = a.account(i, &accs).expect("accounts parse");
            let (_, d2) = b.account(i, &accs).expect("accounts parse");
            assert_eq!(d, d2);
            accs.push(acc);
        }
        for i in 0..2000 {
            let (_, _, _, _, d) = a.contact(&accs[i % accs.len()]).expect("contacts parse");
            assert!(!d.name_key.is_empty());
        }
    }
}
