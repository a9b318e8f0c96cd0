//! The benchmark harness (`karta bench`): times Karta's store calls for the scenarios of the
//! performance budget against a raw-SQL baseline of the same query run in the same process,
//! on the demo tenant (see [`crate::demo`]): contact lists, the account page, typeahead, and
//! the sales board, moving a card and the deal list; and a small keep-alive HTTP/1.1 client
//! to measure the API's get-by-id throughput.

use anyhow::Context as _;
use karta_core::{new_id, now_ms, Entity, Role};
use karta_kernel::listq::{self, Filter, ListQuery};
use karta_kernel::tenants::{self, Tenant};
use karta_kernel::{audit, search, users, Ctx, Db, Engine, Q};
use karta_parties::links;
use karta_parties::notes;
use karta_parties::parties;
use karta_sales::deals::{self, DealContactInput, DealInput, MoveInput};
use karta_sales::pipelines::{self, Pipeline, Stage};
use std::cell::Cell;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// The tenant the benchmark reads.
const TENANT: &str = crate::demo::DEMO_TENANT;
/// Own-scope lists are measured as this salesperson.
const SALES: &str = "sales@demo.test";
/// Everything else is measured as this admin.
const ADMIN: &str = "admin@demo.test";
/// The list page depth measured besides the first page.
const DEPTH: i64 = 10_000;

/// Typeahead queries, rotated within each group: names (prefixes, Cyrillic substrings
/// with ё and е, patronymic fragments, company names), phone fragments, e-mail fragments.
const QUERIES: [(&str, &[&str]); 3] = [
    (
        "names",
        &[
            "иван",
            "смирнова",
            "Алёна",
            "алена",
            "королев",
            "Фёдор Соколов",
            "ович",
            "техно",
            "Северная звезда",
            "global",
            "john smith",
            "müller",
        ],
    ),
    ("phone fragments", &["916 12", "+7 903", "495 1", "+44 20 7"]),
    ("e-mail fragments", &["ivanov", "@yandex", "smith@", "globaltrade.ru"]),
];

/// Runs every scenario `iterations` times (after a short warm-up) and returns the report:
/// engine, row counts and, per scenario, p50 / p99 of Karta and of the raw-SQL baseline
/// and their p50 ratio. Progress goes to stderr; the caller prints the report.
///
/// # Errors
/// No demo tenant or users (run `karta demo` first); database errors.
pub async fn run(db: &Db, iterations: usize) -> anyhow::Result<String> {
    let n = iterations.max(10);
    let tenant = tenants::by_slug(db, TENANT)
        .await?
        .with_context(|| format!("no tenant {TENANT:?}: load it with `karta demo` first"))?;
    let sales = ctx_for(db, &tenant, SALES).await?;
    let admin = ctx_for(db, &tenant, ADMIN).await?;
    let t = tenant.id.as_str();

    let mut counts = Vec::new();
    for table in ["accounts", "contacts", "contact_accounts", "notes", "deals"] {
        let r = db.opt(Q::new(format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = $1")).bind(t)).await?;
        counts.push(format!("{} {table}", r.map_or(0, |r| r.i("n"))));
    }
    let engine = match db.engine() {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    };
    let mut out =
        format!("Karta bench on {engine}, tenant {TENANT:?}: {}; {n} iterations per scenario\n", counts.join(", "));

    let mut lines: Vec<Line> = Vec::new();
    let customer = Filter::parse("relationship:eq:customer").map_err(|e| anyhow::anyhow!("{e}"))?;
    for (who, ctx) in [("own", &sales), ("all", &admin)] {
        let lq =
            ListQuery { filters: vec![customer.clone()], sort: Some("name".into()), limit: 50, ..ListQuery::default() };
        lines.push(contact_list(db, ctx, &lq, &format!("contact list ({who}, customer, by name), page 1"), n).await?);
        let (depth, cursor) = deep_cursor(db, ctx).await?;
        if let Some(cursor) = cursor {
            let lq = ListQuery { after: Some(cursor), ..lq };
            lines.push(
                contact_list(db, ctx, &lq, &format!("contact list ({who}, customer, by name), row {depth}"), n).await?,
            );
        }
    }
    lines.push(account_page(db, &admin, n).await?);
    lines.push(my_day(db, &sales, n).await?);
    for (kind, queries) in QUERIES {
        lines.push(typeahead(db, &admin, kind, queries, n).await?);
    }
    lines.extend(sales_scenarios(db, &admin, n).await?);
    lines.push(outbox(db, t, n).await?);

    out.push_str(&table(&lines));
    Ok(out)
}

/// A consumer that does nothing with what it is handed: the outbox's own cost.
const BENCH_CONSUMER: karta_kernel::events::Consumer =
    karta_kernel::events::Consumer { name: "bench.outbox", handle: |_tx, _events| Box::pin(async { Ok(()) }) };

/// Scenario: a consumer handed a batch of 500 events (reading them after its position under
/// its lease, and moving its position in the batch's transaction), against the bare read and
/// position update. 500 events of the run's own are written first and removed afterwards;
/// each call starts from the position before them.
async fn outbox(db: &Db, tenant: &str, n: usize) -> anyhow::Result<Line> {
    const BATCH: usize = 500;
    let mut tx = db.begin().await?;
    for i in 0..BATCH {
        let e = karta_kernel::events::NewEvent {
            tenant_id: tenant,
            user_id: "",
            kind: "bench.noop",
            entity: "bench",
            record_id: &format!("r{}", i % 50),
            version: i64::try_from(i).unwrap_or(0),
            data: serde_json::json!({"changes": {"n": {"from": i, "to": i + 1}}}),
        };
        tx.exec(karta_kernel::events::insert(&e, now_ms())).await?;
    }
    tx.commit().await?;
    karta_kernel::events::sequence(db, 10_000).await?;
    let first = db
        .opt(Q::new("SELECT MIN(seq) AS s FROM events WHERE tenant_id = $1 AND kind = 'bench.noop'").bind(tenant))
        .await?
        .context("the bench's events vanished")?
        .i("s");
    let start = first - 1;
    let reset = |name: &'static str| {
        Q::new(
            "INSERT INTO event_positions (consumer, position, lease_until, leased_by, updated_at) VALUES ($1, $2, 0, '', 0) \
             ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, lease_until = 0, leased_by = ''",
        )
        .bind(name)
        .bind(start)
    };
    let measured = measure(
        "outbox: a consumer handed 500 events",
        n,
        |_| async move {
            db.exec(reset("bench.outbox")).await?;
            Ok(karta_kernel::events::consume(db, &BENCH_CONSUMER, "bench", 500).await?)
        },
        |_| async move {
            db.exec(reset("bench.raw")).await?;
            let mut tx = db.begin().await?;
            let rows = tx.all(Q::new("SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT 500").bind(start)).await?;
            let last = rows.last().map_or(start, |r| r.i("seq"));
            tx.exec(Q::new("UPDATE event_positions SET position = $1 WHERE consumer = 'bench.raw'").bind(last)).await?;
            tx.commit().await?;
            Ok(rows.len())
        },
    )
    .await;
    db.exec(Q::new("DELETE FROM events WHERE tenant_id = $1 AND kind = 'bench.noop'").bind(tenant)).await?;
    db.exec(Q::new("DELETE FROM event_positions WHERE consumer IN ('bench.outbox', 'bench.raw')")).await?;
    measured
}

/// The context of a demo user, as the web layer would build it.
async fn ctx_for(db: &Db, tenant: &Tenant, email: &str) -> anyhow::Result<Ctx> {
    let u = users::by_email(db, &tenant.id, email)
        .await?
        .with_context(|| format!("no user {email} in tenant {TENANT:?}: load the demo with `karta demo`"))?;
    Ok(users::act_as(db, &tenant.id, &u.id).await?)
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    p50: f64,
    p99: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let at = |p: usize| ms.get((ms.len() * p / 100).min(ms.len().saturating_sub(1))).copied().unwrap_or(0.0);
    Stats { p50: at(50), p99: at(99) }
}

/// One scenario's result.
struct Line {
    name: String,
    /// Rows per call (mean, rounded) of Karta and of the baseline, as a sanity check that
    /// both answer the same question.
    rows: (usize, usize),
    karta: Stats,
    raw: Stats,
}

/// Times `karta(i)` and `raw(i)` alternately, `n` times each after a warm-up; each returns
/// how many rows it produced.
async fn measure<K, KF, R, RF>(name: &str, n: usize, mut karta: K, mut raw: R) -> anyhow::Result<Line>
where
    K: FnMut(usize) -> KF,
    KF: Future<Output = anyhow::Result<usize>>,
    R: FnMut(usize) -> RF,
    RF: Future<Output = anyhow::Result<usize>>,
{
    let started = Instant::now();
    for i in 0..(n / 10).clamp(3, 50) {
        karta(i).await?;
        raw(i).await?;
    }
    let (mut kt, mut rt) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut rows = (0, 0);
    for i in 0..n {
        let t = Instant::now();
        rows.0 += karta(i).await.with_context(|| format!("{name}: Karta call failed"))?;
        kt.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        rows.1 += raw(i).await.with_context(|| format!("{name}: baseline query failed"))?;
        rt.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let rows = ((rows.0 + n / 2) / n, (rows.1 + n / 2) / n);
    let line = Line { name: name.to_string(), rows, karta: stats(kt), raw: stats(rt) };
    eprintln!(
        "bench: {name}: Karta p50 {:.3} ms, raw p50 {:.3} ms ({:.1} s)",
        line.karta.p50,
        line.raw.p50,
        started.elapsed().as_secs_f64()
    );
    Ok(line)
}

/// The final table.
fn table(lines: &[Line]) -> String {
    let w = lines.iter().map(|l| l.name.chars().count()).max().unwrap_or(8).max(8);
    let mut s = format!(
        "{:<w$}  {:>9}  {:>11}  {:>11}  {:>11}  {:>11}  {:>6}\n",
        "scenario", "rows k/r", "Karta p50", "Karta p99", "raw p50", "raw p99", "ratio"
    );
    for l in lines {
        let pad = w - l.name.chars().count();
        let ratio = if l.raw.p50 > 0.0 { l.karta.p50 / l.raw.p50 } else { 0.0 };
        s.push_str(&format!(
            "{}{}  {:>9}  {:>8.3} ms  {:>8.3} ms  {:>8.3} ms  {:>8.3} ms  {:>5.2}x\n",
            l.name,
            " ".repeat(pad),
            format!("{}/{}", l.rows.0, l.rows.1),
            l.karta.p50,
            l.karta.p99,
            l.raw.p50,
            l.raw.p99,
            ratio
        ));
    }
    s
}

/// The hand-written WHERE of the contact-list baseline: tenant, live, scope, customer.
fn list_where(q: &mut Q, ctx: &Ctx) -> String {
    let mut w = format!(
        "t.tenant_id = {} AND t.deleted_at IS NULL AND t.relationship = {}",
        q.arg(ctx.tenant_id()),
        q.arg("customer")
    );
    if ctx.role() == Role::Salesperson.as_str() {
        w.push_str(&format!(" AND t.owner_id = {}", q.arg(ctx.user_id())));
    }
    w
}

/// A cursor [`DEPTH`] rows into the customer contacts by name (or as deep as they go,
/// keeping a full page after it), with the depth reached.
async fn deep_cursor(db: &Db, ctx: &Ctx) -> anyhow::Result<(i64, Option<String>)> {
    let mut q = Q::new("");
    let w = list_where(&mut q, ctx);
    let cap = q.arg(DEPTH + 50);
    q.sql = format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM contacts t WHERE {w} LIMIT {cap}) x");
    let matching = db.opt(q).await?.map_or(0, |r| r.i("n"));
    let depth = if matching >= DEPTH + 50 { DEPTH } else { matching - 50 };
    if depth <= 0 {
        return Ok((0, None));
    }
    let mut q = Q::new("");
    let w = list_where(&mut q, ctx);
    let off = q.arg(depth - 1);
    q.sql = format!("SELECT t.name_key, t.id FROM contacts t WHERE {w} ORDER BY t.name_key, t.id LIMIT 1 OFFSET {off}");
    let r = db.opt(q).await?.context("the list ended before the cursor row")?;
    Ok((depth, Some(listq::encode_cursor(&r.s("name_key").into(), &r.s("id")))))
}

/// Scenario: a page of the contact list, filtered and sorted by name.
async fn contact_list(db: &Db, ctx: &Ctx, lq: &ListQuery, name: &str, n: usize) -> anyhow::Result<Line> {
    let after = match lq.after.as_deref() {
        Some(c) => Some(listq::decode_cursor(c)?),
        None => None,
    };
    let after = after.as_ref();
    measure(
        name,
        n,
        |_| async move { Ok(parties::list(db, ctx, Entity::Contact, lq).await?.items.len()) },
        |_| async move {
            let mut q = Q::new("");
            let mut w = list_where(&mut q, ctx);
            if let Some((v, id)) = after {
                w.push_str(&format!(
                    " AND (t.name_key, t.id) > ({}, {})",
                    q.arg(v.as_str().unwrap_or_default()),
                    q.arg(id)
                ));
            }
            q.sql = format!(
                "SELECT t.*, u.display_name AS owner_name FROM contacts t \
                 LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
                 WHERE {w} ORDER BY t.name_key, t.id LIMIT 50"
            );
            Ok(db.all(q).await?.len())
        },
    )
    .await
}

/// Scenario: what the account page loads, for the account with the most contacts.
async fn account_page(db: &Db, ctx: &Ctx, n: usize) -> anyhow::Result<Line> {
    let r = db
        .opt(
            Q::new(
                "SELECT account_id, COUNT(*) AS n FROM contact_accounts WHERE tenant_id = $1 \
                 GROUP BY account_id ORDER BY COUNT(*) DESC, account_id LIMIT 1",
            )
            .bind(ctx.tenant_id()),
        )
        .await?
        .context("the demo tenant has no linked accounts")?;
    let (id, linked) = (r.s("account_id"), r.i("n"));
    let id = id.as_str();
    let t = ctx.tenant_id();
    let acts = db
        .opt(Q::new("SELECT COUNT(*) AS n FROM activities WHERE tenant_id = $1 AND account_id = $2").bind(t).bind(id))
        .await?
        .map_or(0, |r| r.i("n"));
    let now = now_ms();
    let name = format!("account page ({linked} contacts, 50 of {acts} activities, deals, notes, history)");
    measure(
        &name,
        n,
        |_| async move {
            let a = parties::get(db, ctx, Entity::Account, id).await?;
            let rel = links::related(db, ctx, Entity::Account, &a.id, 200).await?;
            let notes = notes::list_for(db, ctx, &a, 50).await?;
            let hist = audit::history(db, ctx, Entity::Account.as_str(), &a.id, 50).await?;
            let tl = karta_organizer::store::timeline(db, ctx, now, Entity::Account, &a.id, &[], 50).await?;
            let ds = deals::for_party(db, ctx, now, Entity::Account, &a.id, 50).await?;
            Ok(1 + rel.len() + notes.len() + hist.len() + tl.len() + ds.len())
        },
        |_| async move {
            let a = db
                .all(
                    Q::new(
                        "SELECT t.*, u.display_name AS owner_name FROM accounts t \
                         LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
                         WHERE t.tenant_id = $1 AND t.id = $2",
                    )
                    .bind(t)
                    .bind(id),
                )
                .await?;
            let rel = db
                .all(
                    Q::new(
                        "SELECT c.id, c.name, c.primary_email, c.primary_phone, l.role AS link_role FROM contact_accounts l \
                         JOIN contacts c ON c.tenant_id = l.tenant_id AND c.id = l.contact_id \
                         WHERE l.tenant_id = $1 AND l.account_id = $2 AND c.deleted_at IS NULL \
                         ORDER BY c.name_key, c.id LIMIT 200",
                    )
                    .bind(t)
                    .bind(id),
                )
                .await?;
            let notes = db
                .all(
                    Q::new(
                        "SELECT n.*, u.display_name AS author_name FROM notes n \
                         LEFT JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.author_id \
                         WHERE n.tenant_id = $1 AND n.entity = 'account' AND n.entity_id = $2 AND n.deleted_at IS NULL \
                         ORDER BY n.created_at DESC, n.id DESC LIMIT 50",
                    )
                    .bind(t)
                    .bind(id),
                )
                .await?;
            let hist = db
                .all(
                    Q::new(
                        "SELECT a.* FROM audit_log a WHERE a.tenant_id = $1 AND a.entity = 'account' AND a.entity_id = $2 \
                         ORDER BY a.at DESC, a.id DESC LIMIT 50",
                    )
                    .bind(t)
                    .bind(id),
                )
                .await?;
            let tl = db
                .all(
                    Q::new(
                        "SELECT t.*, u.display_name AS owner_name, c.name AS contact_name FROM (SELECT t.* FROM activities t \
                         WHERE t.tenant_id = $1 AND t.account_id = $2 AND t.deleted_at IS NULL ORDER BY t.at DESC, t.id DESC LIMIT 50) t \
                         LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
                         LEFT JOIN contacts c ON c.tenant_id = t.tenant_id AND c.id = t.contact_id ORDER BY t.at DESC, t.id DESC",
                    )
                    .bind(t)
                    .bind(id),
                )
                .await?;
            let ds = db
                .all(
                    Q::new(
                        "SELECT t.*, u.display_name AS owner_name, s.probability FROM deals t \
                         LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
                         LEFT JOIN stages s ON s.tenant_id = t.tenant_id AND s.id = t.stage_id \
                         WHERE t.tenant_id = $1 AND t.account_id = $2 AND t.deleted_at IS NULL \
                         ORDER BY CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, t.updated_at DESC, t.id LIMIT 50",
                    )
                    .bind(t)
                    .bind(id),
                )
                .await?;
            Ok(a.len() + rel.len() + notes.len() + hist.len() + tl.len() + ds.len())
        },
    )
    .await
}

/// Scenario: My day of a salesperson (tasks, meetings, deals that need attention, dates).
async fn my_day(db: &Db, ctx: &Ctx, n: usize) -> anyhow::Result<Line> {
    let now = now_ms();
    let t = ctx.tenant_id();
    let u = ctx.user_id();
    let zone = &karta_core::Zone::of_country("RU");
    // The same work as Karta's: the local day, the names joined to every activity, the
    // stalled deals by their stage's limit, the names of the contacts with dates.
    let today = zone.date_of(now);
    let (start, end) = (zone.start_of(today), zone.start_of(today + time::Duration::days(1)));
    let ymd = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let (today_s, md_from, md_to) =
        (ymd(today), ymd(today)[5..].to_string(), ymd(today + time::Duration::days(6))[5..].to_string());
    let md_range = if md_from <= md_to { "pd.md >= $3 AND pd.md <= $4" } else { "(pd.md >= $3 OR pd.md <= $4)" };
    let (today_s, md_from, md_to) = (today_s.as_str(), md_from.as_str(), md_to.as_str());
    const NAMES: &str = "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team, a.name AS account_name, \
         c.name AS contact_name, d.title AS deal_title";
    const JOINS: &str = "LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
         LEFT JOIN accounts a ON a.tenant_id = t.tenant_id AND a.id = t.account_id \
         LEFT JOIN contacts c ON c.tenant_id = t.tenant_id AND c.id = t.contact_id \
         LEFT JOIN deals d ON d.tenant_id = t.tenant_id AND d.id = t.deal_id";
    measure(
        "My day (salesperson)",
        n,
        |_| async move {
            let d = karta_organizer::store::my_day(db, ctx, now, zone).await?;
            Ok(d.overdue.len() + d.today.len() + d.meetings.len() + d.deals.len() + d.dates.len())
        },
        |_| async move {
            let planned = db
                .all(
                    Q::new(format!(
                        "{NAMES} FROM (SELECT t.* FROM activities t WHERE t.tenant_id = $1 AND t.deleted_at IS NULL \
                         AND t.owner_id IN ($2) AND t.status = 'planned' AND t.at < $3 ORDER BY t.at, t.id LIMIT 200) t {JOINS} \
                         ORDER BY t.at, t.id"
                    ))
                    .bind(t)
                    .bind(u)
                    .bind(end),
                )
                .await?;
            let meetings = db
                .all(
                    Q::new(format!(
                        "{NAMES} FROM (SELECT t.* FROM activities t WHERE t.tenant_id = $1 AND t.deleted_at IS NULL \
                         AND t.owner_id IN ($2) AND t.kind IN ('meeting', 'call') AND t.status IN ('planned', 'done') \
                         AND t.at >= $3 AND t.at < $4 ORDER BY t.at, t.id LIMIT 100) t {JOINS} ORDER BY t.at, t.id"
                    ))
                    .bind(t)
                    .bind(u)
                    .bind(start)
                    .bind(end),
                )
                .await?;
            let deals = db
                .all(
                    Q::new(
                        "SELECT t.id, t.title, t.close_date, t.next_step, t.stage_entered_at, s.max_days FROM deals t \
                         LEFT JOIN stages s ON s.tenant_id = t.tenant_id AND s.id = t.stage_id \
                         WHERE t.tenant_id = $1 AND t.owner_id = $2 AND t.status = 'open' AND t.deleted_at IS NULL \
                         AND ((t.close_date <> '' AND t.close_date < $3) OR t.next_step = '' \
                              OR (s.max_days IS NOT NULL AND t.stage_entered_at < $4 - s.max_days * 86400000)) \
                         ORDER BY t.close_date, t.id LIMIT 20",
                    )
                    .bind(t)
                    .bind(u)
                    .bind(today_s)
                    .bind(now),
                )
                .await?;
            let dates = db
                .all(
                    Q::new(format!(
                        "SELECT pd.entity_id, pd.md, pd.label, pd.date, c.name FROM (SELECT pd.* FROM party_dates pd \
                         WHERE pd.tenant_id = $1 AND pd.owner_id = $2 AND pd.entity = 'contact' AND {md_range} \
                         ORDER BY pd.md, pd.entity_id LIMIT 50) pd \
                         JOIN contacts c ON c.tenant_id = pd.tenant_id AND c.id = pd.entity_id WHERE c.deleted_at IS NULL \
                         ORDER BY pd.md, c.name_key"
                    ))
                    .bind(t)
                    .bind(u)
                    .bind(md_from)
                    .bind(md_to),
                )
                .await?;
            Ok(planned.len() + meetings.len() + deals.len() + dates.len())
        },
    )
    .await
}

/// Scenario: the global typeahead over accounts and contacts, 8 hits of each.
async fn typeahead(db: &Db, ctx: &Ctx, kind: &str, queries: &[&str], n: usize) -> anyhow::Result<Line> {
    let terms: Vec<Vec<String>> = queries.iter().map(|q| search::terms(q)).collect();
    let terms = terms.as_slice();
    let t = ctx.tenant_id();
    measure(
        &format!("typeahead, {kind} ({} queries)", queries.len()),
        n,
        |i| async move { Ok(search::search(db, ctx, queries[i % queries.len()], 8).await?.len()) },
        |i| async move {
            let terms = &terms[i % terms.len()];
            let mut found = 0;
            // Deals are searched by title, for words only (as Karta does).
            let words = !terms.iter().all(|s| s.chars().all(|c| c.is_ascii_digit()));
            let tables: &[&str] = if words { &["accounts", "contacts", "deals"] } else { &["accounts", "contacts"] };
            for &tbl in tables {
                let mut q = Q::new("");
                let mut conds = Vec::new();
                let from = match db.engine() {
                    Engine::Sqlite => {
                        let m = terms
                            .iter()
                            .map(|s| format!("\"{}\"", s.replace('"', "\"\"")))
                            .collect::<Vec<_>>()
                            .join(" AND ");
                        conds.push(format!("{tbl}_fts MATCH {}", q.arg(m)));
                        format!("{tbl}_fts f JOIN {tbl} t ON t.rowid = f.rowid")
                    }
                    Engine::Postgres => {
                        for s in terms {
                            conds.push(format!("t.search_text LIKE {}", q.arg(format!("%{s}%"))));
                        }
                        format!("{tbl} t")
                    }
                };
                conds.push(format!("t.tenant_id = {}", q.arg(t)));
                let cols = if tbl == "deals" {
                    "t.id, t.title AS name"
                } else {
                    "t.id, t.name, t.primary_email, t.primary_phone, t.city"
                };
                q.sql =
                    format!("SELECT {cols} FROM {from} WHERE {} AND t.deleted_at IS NULL LIMIT 8", conds.join(" AND "));
                found += db.all(q).await?.len();
            }
            Ok(found)
        },
    )
    .await
}

/// The sales scenarios, on the first pipeline as the admin; none when the tenant has no
/// deals (a demo loaded before deals existed).
async fn sales_scenarios(db: &Db, ctx: &Ctx, n: usize) -> anyhow::Result<Vec<Line>> {
    let any = db.opt(Q::new("SELECT id FROM deals WHERE tenant_id = $1 LIMIT 1").bind(ctx.tenant_id())).await?;
    if any.is_none() {
        eprintln!("bench: the demo tenant has no deals (loaded by an older `karta demo`): skipping the deal scenarios");
        return Ok(Vec::new());
    }
    let pipeline = pipelines::list(db, ctx).await?.into_iter().next().context("the demo tenant has no pipeline")?;
    let mut lines = vec![board(db, ctx, &pipeline, n).await?];
    match move_card(db, ctx, &pipeline, n).await? {
        Some(l) => lines.push(l),
        None => eprintln!("bench: the first two stages require fields: skipping \"move a card\""),
    }
    lines.push(deal_list(db, ctx, n).await?);
    Ok(lines)
}

/// The columns of a deal row as the store selects them: the deal `t` with its owner, account
/// and stage.
const DEAL_JOINS: &str = "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team, a.name AS account_name, \
     s.probability AS stage_probability, s.max_days AS stage_max_days FROM";
const DEAL_JOINED: &str = "LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
     LEFT JOIN accounts a ON a.tenant_id = t.tenant_id AND a.id = t.account_id \
     LEFT JOIN stages s ON s.tenant_id = t.tenant_id AND s.id = t.stage_id";

/// Scenario: the board of a pipeline, 50 cards per column, with counts and sums.
async fn board(db: &Db, ctx: &Ctx, pipeline: &Pipeline, n: usize) -> anyhow::Result<Line> {
    let t = ctx.tenant_id();
    let pid = pipeline.id.as_str();
    let open = db
        .opt(
            Q::new(
                "SELECT COUNT(*) AS n FROM deals WHERE tenant_id = $1 AND pipeline_id = $2 AND status = 'open' \
                 AND deleted_at IS NULL",
            )
            .bind(t)
            .bind(pid),
        )
        .await?
        .map_or(0, |r| r.i("n"));
    measure(
        &format!("board ({open} open deals, 50 cards per column)"),
        n,
        |_| async move {
            let b = deals::board(db, ctx, now_ms(), pid, None, 50).await?;
            Ok(b.columns.iter().map(|c| c.deals.len()).sum())
        },
        |_| async move {
            let stages = db
                .all(
                    Q::new(
                        "SELECT id FROM stages WHERE tenant_id = $1 AND pipeline_id = $2 AND active = 1 ORDER BY position, id",
                    )
                    .bind(t)
                    .bind(pid),
                )
                .await?;
            let sums = db
                .all(
                    Q::new(
                        "SELECT t.stage_id, t.currency, COUNT(*) AS n, SUM(t.amount) AS total FROM deals t \
                         WHERE t.tenant_id = $1 AND t.pipeline_id = $2 AND t.status = 'open' AND t.deleted_at IS NULL \
                         GROUP BY t.stage_id, t.currency",
                    )
                    .bind(t)
                    .bind(pid),
                )
                .await?;
            let mut cards = 0;
            for st in &stages {
                let sid = st.s("id");
                if !sums.iter().any(|r| r.s("stage_id") == sid) {
                    continue;
                }
                let q = Q::new(format!(
                    "{DEAL_JOINS} (SELECT t.* FROM deals t WHERE t.tenant_id = $1 AND t.pipeline_id = $2 AND t.status = 'open' \
                     AND t.deleted_at IS NULL AND t.stage_id = $3 ORDER BY t.stage_entered_at DESC, t.id DESC LIMIT 50) t \
                     {DEAL_JOINED} ORDER BY t.stage_entered_at DESC, t.id DESC"
                ))
                .bind(t)
                .bind(pid)
                .bind(sid);
                cards += db.all(q).await?.len();
            }
            Ok(cards)
        },
    )
    .await
}

/// The next tick of a clock that only goes forward.
fn tick(clock: &Cell<i64>) -> i64 {
    let t = now_ms().max(clock.get() + 1);
    clock.set(t);
    t
}

/// Scenario: moving a card between the first two stages of a pipeline and back (each call
/// one move). Karta and the baseline each move a deal of their own, made for the run as a
/// copy of an open demo deal (account, amount, contacts) and deleted afterwards with its
/// history, so the demo data is left as it was. `None` when those stages require fields.
async fn move_card(db: &Db, ctx: &Ctx, pipeline: &Pipeline, n: usize) -> anyhow::Result<Option<Line>> {
    let [first, second, ..] = pipeline.stages.as_slice() else { return Ok(None) };
    if !first.required_fields.is_empty() || !second.required_fields.is_empty() {
        return Ok(None);
    }
    let t = ctx.tenant_id();
    let like = db
        .opt(
            Q::new(
                "SELECT id FROM deals WHERE tenant_id = $1 AND pipeline_id = $2 AND status = 'open' \
                 AND deleted_at IS NULL AND stage_id IN ($3, $4) ORDER BY id LIMIT 1",
            )
            .bind(t)
            .bind(&pipeline.id)
            .bind(&first.id)
            .bind(&second.id),
        )
        .await?;
    let mut input = DealInput::default();
    if let Some(r) = like {
        let d = deals::get(db, ctx, &r.s("id"), now_ms()).await?;
        input = d.to_input();
        let contacts =
            d.contacts.iter().map(|c| DealContactInput { contact_id: c.contact_id.clone(), role: c.role.clone() });
        input.contacts = Some(contacts.collect());
    }
    input.pipeline_id.clone_from(&pipeline.id);
    input.stage_id.clone_from(&first.id);
    ctx.user_id().clone_into(&mut input.owner_id);
    let mut ids = Vec::new();
    for who in ["Karta", "baseline"] {
        input.title = format!("karta bench: move a card ({who})");
        ids.push(deals::create(db, ctx, now_ms(), &input).await?.id);
    }
    let measured = move_between(db, ctx, (first, second), (&ids[0], &ids[1]), n).await;
    let mut tx = db.begin().await?;
    for table in ["deal_stage_history", "deal_price_log", "deal_contacts", "deal_lines", "deals"] {
        let key = if table == "deals" { "id" } else { "deal_id" };
        tx.exec(
            Q::new(format!("DELETE FROM {table} WHERE tenant_id = $1 AND {key} IN ($2, $3)"))
                .bind(t)
                .bind(&ids[0])
                .bind(&ids[1]),
        )
        .await?;
    }
    tx.exec(
        Q::new("DELETE FROM audit_log WHERE tenant_id = $1 AND entity = 'deal' AND entity_id IN ($2, $3)")
            .bind(t)
            .bind(&ids[0])
            .bind(&ids[1]),
    )
    .await?;
    tx.exec(
        Q::new("DELETE FROM events WHERE tenant_id = $1 AND entity = 'deal' AND record_id IN ($2, $3)")
            .bind(t)
            .bind(&ids[0])
            .bind(&ids[1]),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(measured?))
}

/// Times moves of deal `kid` (Karta) and `rid` (baseline), both in the first stage, between
/// two stages.
async fn move_between(
    db: &Db,
    ctx: &Ctx,
    (first, second): (&Stage, &Stage),
    (kid, rid): (&str, &str),
    n: usize,
) -> anyhow::Result<Line> {
    let t = ctx.tenant_id();
    // Where each deal is now: true in the first stage.
    let k_first = Cell::new(true);
    let r_first = Cell::new(true);
    let clock = Cell::new(0);
    let (k_first, r_first, clock) = (&k_first, &r_first, &clock);
    let stages = (first.id.as_str(), second.id.as_str());
    measure(
        &format!("move a card ({} \u{21c4} {})", first.name_en, second.name_en),
        n,
        |_| async move {
            let to = if k_first.get() { stages.1 } else { stages.0 };
            let m = MoveInput { stage_id: to.to_string(), ..MoveInput::default() };
            deals::move_to(db, ctx, tick(clock), kid, &m).await?;
            k_first.set(!k_first.get());
            Ok(1)
        },
        |_| async move {
            let (from, to) = if r_first.get() { stages } else { (stages.1, stages.0) };
            let now = tick(clock);
            let v = db
                .opt(Q::new("SELECT version FROM deals WHERE tenant_id = $1 AND id = $2").bind(t).bind(rid))
                .await?
                .context("the baseline's deal vanished")?
                .i("version");
            let mut tx = db.begin().await?;
            let changed = tx
                .exec(
                    Q::new(
                        "UPDATE deals SET version = $1, stage_id = $2, stage_entered_at = $3, updated_at = $3, updated_by = $4 \
                         WHERE tenant_id = $5 AND id = $6 AND version = $7",
                    )
                    .bind(v + 1)
                    .bind(to)
                    .bind(now)
                    .bind(ctx.user_id())
                    .bind(t)
                    .bind(rid)
                    .bind(v),
                )
                .await?;
            anyhow::ensure!(changed == 1, "the baseline's deal changed under it");
            tx.exec(
                Q::new(
                    "INSERT INTO deal_stage_history (tenant_id, id, deal_id, at, user_id, from_stage_id, to_stage_id, \
                     from_status, to_status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 'open')",
                )
                .bind(t)
                .bind(new_id())
                .bind(rid)
                .bind(now)
                .bind(ctx.user_id())
                .bind(from)
                .bind(to),
            )
            .await?;
            let changes = serde_json::json!({"stage_id": {"from": from, "to": to}});
            tx.exec(
                Q::new(
                    "INSERT INTO audit_log (tenant_id, id, entity, entity_id, action, version, user_id, at, changes) \
                     VALUES ($1, $2, 'deal', $3, 'update', $4, $5, $6, $7)",
                )
                .bind(t)
                .bind(new_id())
                .bind(rid)
                .bind(v + 1)
                .bind(ctx.user_id())
                .bind(now)
                .bind(changes.to_string()),
            )
            .await?;
            // The outbox's two events: the moment "moved" and the change.
            for (kind, data) in [
                ("deal.moved", serde_json::json!({"from_stage_id": from, "to_stage_id": to, "at": now})),
                ("deal.updated", serde_json::json!({ "changes": changes })),
            ] {
                tx.exec(
                    Q::new(
                        "INSERT INTO events (tenant_id, id, kind, entity, record_id, version, user_id, at, data) \
                         VALUES ($1, $2, $3, 'deal', $4, $5, $6, $7, $8)",
                    )
                    .bind(t)
                    .bind(new_id())
                    .bind(kind)
                    .bind(rid)
                    .bind(v + 1)
                    .bind(ctx.user_id())
                    .bind(now)
                    .bind(data.to_string()),
                )
                .await?;
            }
            tx.commit().await?;
            r_first.set(!r_first.get());
            Ok(1)
        },
    )
    .await
}

/// Scenario: the first page of open deals by expected close date.
async fn deal_list(db: &Db, ctx: &Ctx, n: usize) -> anyhow::Result<Line> {
    let open = Filter::parse("status:eq:open").map_err(|e| anyhow::anyhow!("{e}"))?;
    let lq = ListQuery { filters: vec![open], sort: Some("close_date".into()), limit: 50, ..ListQuery::default() };
    let lq = &lq;
    let t = ctx.tenant_id();
    measure(
        "deal list (open, by close date), page 1",
        n,
        |_| async move { Ok(deals::list(db, ctx, now_ms(), lq).await?.items.len()) },
        |_| async move {
            let q = Q::new(format!(
                "{DEAL_JOINS} (SELECT t.* FROM deals t WHERE t.tenant_id = $1 AND t.deleted_at IS NULL AND t.status = 'open' \
                 ORDER BY t.close_date, t.id LIMIT 51) t {DEAL_JOINED} ORDER BY t.close_date, t.id"
            ))
            .bind(t);
            Ok(db.all(q).await?.len().min(50))
        },
    )
    .await
}

/// Requests per second of `GET` requests over keep-alive HTTP/1.1 connections: each of
/// `connections` clients sends `GET {path}` with the bearer token, reads the whole response
/// and repeats, rotating through `paths`, for `seconds`. Only 200 responses count; any other
/// status is an error naming the path.
///
/// # Errors
/// Connection failures, malformed responses, a status other than 200.
pub async fn http_get_rps(
    addr: SocketAddr,
    token: &str,
    paths: Vec<String>,
    seconds: f64,
    connections: usize,
) -> anyhow::Result<f64> {
    anyhow::ensure!(!paths.is_empty(), "no paths to request");
    let paths = Arc::new(paths);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds.max(0.1));
    let mut set = tokio::task::JoinSet::new();
    for c in 0..connections.max(1) {
        let paths = Arc::clone(&paths);
        let token = token.to_string();
        set.spawn(async move { client(addr, &token, &paths, c * 7919, deadline).await });
    }
    let mut ok = 0u64;
    while let Some(r) = set.join_next().await {
        ok += r.context("an HTTP client task failed")??;
    }
    Ok(ok as f64 / started.elapsed().as_secs_f64())
}

/// One keep-alive client; returns how many 200 responses it read before `deadline`.
async fn client(
    addr: SocketAddr,
    token: &str,
    paths: &[String],
    start: usize,
    deadline: Instant,
) -> anyhow::Result<u64> {
    let mut conn = Conn::open(addr).await?;
    let mut ok = 0;
    let mut i = start;
    while Instant::now() < deadline {
        let path = &paths[i % paths.len()];
        i += 1;
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
        let (status, close, body) = conn.request(req.as_bytes()).await.with_context(|| format!("GET {path}"))?;
        if status != 200 {
            let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            anyhow::bail!("GET {path} answered {status}: {snippet}");
        }
        ok += 1;
        if close {
            conn = Conn::open(addr).await?;
        }
    }
    Ok(ok)
}

/// A raw HTTP/1.1 connection with its unread bytes.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: Vec::with_capacity(16 * 1024) })
    }

    async fn write_all(&mut self, mut data: &[u8]) -> anyhow::Result<()> {
        while !data.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads more bytes into the buffer; fails on end of stream.
    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut tmp) {
                Ok(0) => anyhow::bail!("the server closed the connection"),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends a request and reads the response: (status, server closes, body).
    async fn request(&mut self, req: &[u8]) -> anyhow::Result<(u16, bool, Vec<u8>)> {
        self.write_all(req).await?;
        let head_end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .context("malformed HTTP status line")?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for l in lines {
            let Some((k, v)) = l.split_once(':') else { continue };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            match k.as_str() {
                "content-length" => length = Some(v.parse::<usize>().context("bad Content-Length")?),
                "transfer-encoding" => chunked = v.contains("chunked"),
                "connection" => close = v.contains("close"),
                _ => {}
            }
        }
        self.buf.drain(..head_end);
        let body = if chunked {
            loop {
                if let Some((body, used)) = dechunk(&self.buf)? {
                    self.buf.drain(..used);
                    break body;
                }
                self.fill().await?;
            }
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            Vec::new()
        } else {
            let len = length.context("a response without Content-Length or chunked encoding")?;
            while self.buf.len() < len {
                self.fill().await?;
            }
            self.buf.drain(..len).collect()
        };
        Ok((status, close, body))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a complete chunked body at the start of `buf`: (body, bytes used), or `None`
/// when more bytes are needed.
fn dechunk(buf: &[u8]) -> anyhow::Result<Option<(Vec<u8>, usize)>> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&buf[pos..], b"\r\n") else { return Ok(None) };
        let line = String::from_utf8_lossy(&buf[pos..pos + eol]).into_owned();
        let size =
            usize::from_str_radix(line.split(';').next().unwrap_or_default().trim(), 16).context("bad chunk size")?;
        pos += eol + 2;
        if size == 0 {
            // Optional trailers, then an empty line.
            let Some(end) = find(&buf[pos..], b"\r\n") else { return Ok(None) };
            if end == 0 {
                return Ok(Some((body, pos + 2)));
            }
            let Some(end) = find(&buf[pos..], b"\r\n\r\n") else { return Ok(None) };
            return Ok(Some((body, pos + end + 4)));
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_ranks() {
        let s = stats((1..=100).map(f64::from).collect());
        assert!((s.p50 - 51.0).abs() < f64::EPSILON);
        assert!((s.p99 - 100.0).abs() < f64::EPSILON);
    }

    #[test]
    fn chunked_bodies_are_decoded_once_complete() {
        let full = b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\nNEXT";
        let (body, used) = dechunk(full).expect("valid").expect("complete");
        assert_eq!(body, b"Wikipedia");
        assert_eq!(&full[used..], b"NEXT");
        assert!(dechunk(&full[..10]).expect("valid").is_none());
    }

    #[tokio::test]
    async fn the_http_client_counts_keep_alive_responses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let Ok((s, _)) = listener.accept().await else { return };
            let mut conn = Conn { stream: s, buf: Vec::new() };
            loop {
                while find(&conn.buf, b"\r\n\r\n").is_none() {
                    if conn.fill().await.is_err() {
                        return;
                    }
                }
                conn.buf.clear();
                if conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await.is_err() {
                    return;
                }
            }
        });
        let rps = http_get_rps(addr, "t", vec!["/a".into()], 0.2, 1).await.expect("runs");
        assert!(rps > 10.0, "{rps}");
    }
}
