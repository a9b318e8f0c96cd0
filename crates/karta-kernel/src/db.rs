//! One code path over SQLite and PostgreSQL: [`Db`] wraps either pool, SQL is written once
//! with `$1…` placeholders (both engines accept them) and arguments are [`Arg`] values.

use crate::lite::{LiteRow, Readers, RowBuilder, Val};
use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
// Every statement is built by `Q` from the code's own SQL text, with every value bound as an
// argument, so the dynamic SQL sqlx asks to be vouched for never carries user input.
use sqlx::{AssertSqlSafe, Postgres, Row as _, Sqlite};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The embedded default.
    Sqlite,
    /// For scale.
    Postgres,
}

/// A connection pool to either engine.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite (a file in WAL mode): sqlx for writes, and inline readers for reads when the
    /// database is a file (see [`crate::lite`]).
    Sqlite(sqlx::SqlitePool, Option<Arc<Readers>>),
    /// PostgreSQL.
    Pg(sqlx::PgPool),
}

/// A bound argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Integer (or NULL).
    I(Option<i64>),
    /// Text (or NULL).
    T(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::I(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::I(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::T(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::T(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::T(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::T(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::I(Some(i64::from(v)))
    }
}

/// A query: SQL text and its arguments in placeholder order.
#[derive(Debug, Clone, Default)]
pub struct Q {
    /// The SQL, with `$1…` placeholders.
    pub sql: String,
    /// The arguments.
    pub args: Vec<Arg>,
}

impl Q {
    /// A query with no arguments yet.
    #[must_use]
    pub fn new(sql: impl Into<String>) -> Self {
        Self { sql: sql.into(), args: Vec::new() }
    }

    /// Adds an argument.
    #[must_use]
    pub fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Adds an argument and returns its placeholder (`$n`), for building SQL piecewise.
    pub fn arg(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }
}

/// A result row of either engine.
pub enum Row {
    /// From SQLite.
    S(SqliteRow),
    /// From PostgreSQL.
    P(PgRow),
    /// From an inline SQLite reader.
    L(LiteRow),
}

impl Row {
    /// A text column; NULL reads as empty.
    #[must_use]
    pub fn s(&self, col: &str) -> String {
        self.os(col).unwrap_or_default()
    }

    /// A nullable text column.
    #[must_use]
    pub fn os(&self, col: &str) -> Option<String> {
        match self {
            Self::S(r) => r.try_get::<Option<String>, _>(col).ok().flatten(),
            Self::P(r) => r.try_get::<Option<String>, _>(col).ok().flatten(),
            Self::L(r) => r.text(col).map(str::to_string),
        }
    }

    /// An integer column; NULL reads as 0.
    #[must_use]
    pub fn i(&self, col: &str) -> i64 {
        self.oi(col).unwrap_or_default()
    }

    /// A nullable integer column.
    #[must_use]
    pub fn oi(&self, col: &str) -> Option<i64> {
        match self {
            Self::S(r) => r.try_get::<Option<i64>, _>(col).ok().flatten(),
            Self::P(r) => r.try_get::<Option<i64>, _>(col).ok().flatten(),
            Self::L(r) => r.int(col),
        }
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I(v) => q.bind(v),
                Arg::T(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Runs `$method` of a bound query on `$exec` for either engine, mapping rows to [`Row`].
macro_rules! dispatch {
    (sqlite $exec:expr, $q:expr, all) => {
        bind_all!(sqlx::query::<Sqlite>(AssertSqlSafe($q.sql)), $q.args)
            .fetch_all($exec)
            .await
            .map(|v| v.into_iter().map(Row::S).collect::<Vec<_>>())
    };
    (pg $exec:expr, $q:expr, all) => {
        bind_all!(sqlx::query::<Postgres>(AssertSqlSafe($q.sql)), $q.args)
            .fetch_all($exec)
            .await
            .map(|v| v.into_iter().map(Row::P).collect::<Vec<_>>())
    };
    (sqlite $exec:expr, $q:expr, opt) => {
        bind_all!(sqlx::query::<Sqlite>(AssertSqlSafe($q.sql)), $q.args)
            .fetch_optional($exec)
            .await
            .map(|v| v.map(Row::S))
    };
    (pg $exec:expr, $q:expr, opt) => {
        bind_all!(sqlx::query::<Postgres>(AssertSqlSafe($q.sql)), $q.args)
            .fetch_optional($exec)
            .await
            .map(|v| v.map(Row::P))
    };
    (sqlite $exec:expr, $q:expr, exec) => {
        bind_all!(sqlx::query::<Sqlite>(AssertSqlSafe($q.sql)), $q.args).execute($exec).await.map(|r| r.rows_affected())
    };
    (pg $exec:expr, $q:expr, exec) => {
        bind_all!(sqlx::query::<Postgres>(AssertSqlSafe($q.sql)), $q.args)
            .execute($exec)
            .await
            .map(|r| r.rows_affected())
    };
}

/// Options for opening a database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Maximum pool size.
    pub max_connections: u32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 8 }
    }
}

impl Db {
    /// Opens `url` (`sqlite://path` or `postgres://…`), creating a SQLite file if needed.
    ///
    /// # Errors
    /// A clear message for a bad URL or an unreachable database.
    pub async fn connect(url: &str, opts: &DbOptions) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let o = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("bad SQLite URL {url:?}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
                .with_regexp();
            // An in-memory database is private to its connection: only a file can be shared
            // with inline readers.
            let file = o.get_filename().to_path_buf();
            let shared = !url.contains(":memory:") && !url.contains("mode=memory");
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .min_connections(1)
                .connect_with(o)
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
            let readers = shared.then(|| Readers::new(&file));
            Ok(Self::Sqlite(pool, readers))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let o = PgConnectOptions::from_str(url).with_context(|| format!("bad PostgreSQL URL {url:?}"))?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(4))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(o)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?;
            Ok(Self::Pg(pool))
        } else {
            anyhow::bail!("unsupported database URL {:?}: use sqlite://FILE or postgres://…", redact(url))
        }
    }

    /// The engine behind this pool.
    #[must_use]
    pub fn engine(&self) -> Engine {
        match self {
            Self::Sqlite(..) => Engine::Sqlite,
            Self::Pg(_) => Engine::Postgres,
        }
    }

    /// All rows.
    ///
    /// # Errors
    /// Database errors.
    pub async fn all(&self, q: Q) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            Self::Sqlite(_, Some(r)) => r.query(&q.sql, &q.args, usize::MAX).map(rows_l).map_err(lite_err),
            Self::Sqlite(p, None) => dispatch!(sqlite p, q, all),
            Self::Pg(p) => dispatch!(pg p, q, all),
        }
    }

    /// At most one row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn opt(&self, q: Q) -> Result<Option<Row>, sqlx::Error> {
        match self {
            Self::Sqlite(_, Some(r)) => r.query(&q.sql, &q.args, 1).map(|v| rows_l(v).pop()).map_err(lite_err),
            Self::Sqlite(p, None) => dispatch!(sqlite p, q, opt),
            Self::Pg(p) => dispatch!(pg p, q, opt),
        }
    }

    /// Runs a statement; returns the rows affected.
    ///
    /// # Errors
    /// Database errors.
    pub async fn exec(&self, q: Q) -> Result<u64, sqlx::Error> {
        match self {
            Self::Sqlite(p, _) => dispatch!(sqlite p, q, exec),
            Self::Pg(p) => dispatch!(pg p, q, exec),
        }
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue up front
    /// instead of failing on lock upgrade).
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(p, _) => Tx::S(p.begin_with("BEGIN IMMEDIATE").await?),
            Self::Pg(p) => Tx::P(p.begin().await?),
        })
    }

    /// Runs a multi-statement script (migrations, bench set-up).
    ///
    /// # Errors
    /// Database errors.
    pub async fn script(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(p, _) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await.map(|_| ()),
            Self::Pg(p) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await.map(|_| ()),
        }
    }

    /// Runs statements in one transaction. On a SQLite file they run on a connection of
    /// their own, bound by position, which large multi-row statements need to be fast.
    ///
    /// # Errors
    /// Database errors; nothing is written then.
    pub async fn batch(&self, qs: Vec<Q>) -> Result<(), sqlx::Error> {
        if let Self::Sqlite(_, Some(r)) = self {
            let r = Arc::clone(r);
            return tokio::task::spawn_blocking(move || r.write_all(&qs))
                .await
                .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
                .map_err(lite_err);
        }
        let mut tx = self.begin().await?;
        for q in qs {
            tx.exec(q).await?;
        }
        tx.commit().await
    }

    /// Streams the rows of a long read (an export) in chunks of `chunk` rows, at most two
    /// chunks ahead of the reader of the channel; dropping the receiver stops the query.
    #[must_use]
    pub fn stream(&self, q: Q, chunk: usize) -> tokio::sync::mpsc::Receiver<Result<Vec<Row>, sqlx::Error>> {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        match self {
            Self::Sqlite(_, Some(r)) => {
                let r = Arc::clone(r);
                tokio::task::spawn_blocking(move || {
                    let out = r.stream(&q.sql, &q.args, chunk, |rows| tx.blocking_send(Ok(rows_l(rows))).is_ok());
                    if let Err(e) = out {
                        let _ = tx.blocking_send(Err(lite_err(e)));
                    }
                });
            }
            Self::Sqlite(p, None) => {
                let p = p.clone();
                tokio::spawn(async move {
                    let rows = bind_all!(sqlx::query::<Sqlite>(AssertSqlSafe(q.sql)), q.args).fetch(&p);
                    pump(rows, |r| Ok(Row::S(r)), chunk, &tx).await;
                });
            }
            Self::Pg(p) => {
                let p = p.clone();
                tokio::spawn(async move {
                    let rows = bind_all!(sqlx::query::<Postgres>(AssertSqlSafe(q.sql)), q.args).fetch(&p);
                    // Decoded here, on the reading task, rather than column by column where the
                    // rows are used: an export's formatting has enough to do.
                    let mut build = None;
                    pump(rows, |r| pg_compact(&mut build, &r), chunk, &tx).await;
                });
            }
        }
        rx
    }

    /// Opens a write session for bulk work (see [`Bulk`]).
    ///
    /// # Errors
    /// Database errors opening the session's connection.
    pub async fn bulk(&self) -> Result<Bulk, sqlx::Error> {
        if let Self::Sqlite(_, Some(r)) = self {
            let r = Arc::clone(r);
            let s = tokio::task::spawn_blocking(move || r.session())
                .await
                .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
                .map_err(lite_err)?;
            return Ok(Bulk::Lite(Some(Box::new(s)), None));
        }
        Ok(Bulk::Tx(self.clone(), None))
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// Database errors.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.opt(Q::new("SELECT 1 AS one")).await.map(|_| ())
    }

    /// The case-insensitive regular-expression operator of this engine.
    #[must_use]
    pub fn regex_op(&self) -> &'static str {
        match self {
            Self::Sqlite(..) => "REGEXP",
            Self::Pg(_) => "~",
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(p, _) => p.close().await,
            Self::Pg(p) => p.close().await,
        }
    }
}

/// Hands a sqlx row stream on in chunks.
async fn pump<R>(
    mut rows: impl futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin,
    mut wrap: impl FnMut(R) -> Result<Row, sqlx::Error>,
    chunk: usize,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<Row>, sqlx::Error>>,
) {
    use futures_util::TryStreamExt as _;
    let mut buf = Vec::with_capacity(chunk);
    loop {
        match rows.try_next().await {
            Ok(Some(r)) => {
                match wrap(r) {
                    Ok(r) => buf.push(r),
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
                if buf.len() >= chunk
                    && tx.send(Ok(std::mem::replace(&mut buf, Vec::with_capacity(chunk)))).await.is_err()
                {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
    if !buf.is_empty() {
        let _ = tx.send(Ok(buf)).await;
    }
}

/// A PostgreSQL row as a compact row: text and integer columns decoded, other types NULL (as
/// [`Row::s`] and [`Row::oi`] read them).
fn pg_compact(build: &mut Option<RowBuilder>, r: &PgRow) -> Result<Row, sqlx::Error> {
    use sqlx::{Column as _, Decode, TypeInfo as _, ValueRef as _};
    let dec = |e| sqlx::Error::Decode(e);
    let b = build.get_or_insert_with(|| RowBuilder::new(&r.columns().iter().map(|c| c.name()).collect::<Vec<_>>()));
    let vals = r.columns().iter().enumerate().map(|(i, c)| -> Result<Val<'_>, sqlx::Error> {
        let raw = r.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(Val::Null);
        }
        Ok(match c.type_info().name() {
            "TEXT" | "VARCHAR" | "CHAR" | "BPCHAR" | "NAME" => {
                Val::Text(<&str as Decode<Postgres>>::decode(raw).map_err(dec)?.as_bytes())
            }
            "INT8" => Val::Int(<i64 as Decode<Postgres>>::decode(raw).map_err(dec)?),
            "INT4" => Val::Int(i64::from(<i32 as Decode<Postgres>>::decode(raw).map_err(dec)?)),
            "INT2" => Val::Int(i64::from(<i16 as Decode<Postgres>>::decode(raw).map_err(dec)?)),
            _ => Val::Null,
        })
    });
    Ok(Row::L(b.row(vals, |e| sqlx::Error::Decode(Box::new(e)))?))
}

fn rows_l(v: Vec<LiteRow>) -> Vec<Row> {
    v.into_iter().map(Row::L).collect()
}

fn lite_err(e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::AnyDriverError(Box::new(e))
}

/// A write session for bulk work: reads and writes inside one transaction that stays open
/// across calls until [`Bulk::commit`], so a long job chooses how often it commits. On a
/// SQLite file it is a connection of its own ([`crate::lite::Session`]), elsewhere a
/// transaction from the pool. An error rolls back everything since the last commit; so
/// does dropping it.
pub enum Bulk {
    /// SQLite file: a session connection (taken out while a blocking call runs), and the
    /// write running on it in the background, if any.
    Lite(Option<Box<crate::lite::Session>>, Option<Writing>),
    /// Any other database: a transaction begun on first use.
    Tx(Db, Option<Tx>),
}

/// A write handed to a blocking thread: it gives the session back with the outcome.
type Writing = tokio::task::JoinHandle<(Box<crate::lite::Session>, rusqlite::Result<()>)>;

impl Bulk {
    /// Waits for the background write, if any, and takes its session back; its error, if it
    /// failed (its transaction is rolled back then).
    async fn settle(
        slot: &mut Option<Box<crate::lite::Session>>,
        running: &mut Option<Writing>,
    ) -> Result<(), sqlx::Error> {
        let Some(h) = running.take() else { return Ok(()) };
        let (s, r) = h.await.map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?;
        *slot = Some(s);
        r.map_err(lite_err)
    }

    fn take(slot: &mut Option<Box<crate::lite::Session>>) -> Result<Box<crate::lite::Session>, sqlx::Error> {
        slot.take().ok_or_else(|| sqlx::Error::Io(std::io::Error::other("the session was lost")))
    }

    async fn on_lite<T: Send + 'static>(
        slot: &mut Option<Box<crate::lite::Session>>,
        running: &mut Option<Writing>,
        f: impl FnOnce(&mut crate::lite::Session) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, sqlx::Error> {
        Self::settle(slot, running).await?;
        let mut s = Self::take(slot)?;
        let (s, r) = tokio::task::spawn_blocking(move || {
            let r = f(&mut s);
            (s, r)
        })
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?;
        *slot = Some(s);
        r.map_err(lite_err)
    }

    async fn tx<'a>(db: &Db, slot: &'a mut Option<Tx>) -> Result<&'a mut Tx, sqlx::Error> {
        if slot.is_none() {
            *slot = Some(db.begin().await?);
        }
        slot.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// All rows of a read inside the session (it sees the session's own writes).
    ///
    /// # Errors
    /// Database errors; the open transaction is rolled back.
    pub async fn all(&mut self, q: Q) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            Self::Lite(s, w) => Self::on_lite(s, w, move |s| s.query(&q.sql, &q.args)).await.map(rows_l),
            Self::Tx(db, slot) => {
                let r = Self::tx(db, slot).await?.all(q).await;
                if r.is_err() {
                    *slot = None;
                }
                r
            }
        }
    }

    /// Runs statements inside the session.
    ///
    /// On SQLite the statements run on a blocking thread while the caller goes on (preparing
    /// the next batch on the other core); the next call on the session waits for them first
    /// and reports their error.
    ///
    /// # Errors
    /// Database errors (on SQLite, of the previous background write); the open transaction
    /// is rolled back.
    pub async fn batch(&mut self, qs: Vec<Q>) -> Result<(), sqlx::Error> {
        match self {
            Self::Lite(slot, running) => {
                Self::settle(slot, running).await?;
                let mut s = Self::take(slot)?;
                *running = Some(tokio::task::spawn_blocking(move || {
                    let r = s.write_all(&qs);
                    (s, r)
                }));
                Ok(())
            }
            Self::Tx(db, slot) => {
                let tx = Self::tx(db, slot).await?;
                for q in qs {
                    if let Err(e) = tx.exec(q).await {
                        *slot = None;
                        return Err(e);
                    }
                }
                Ok(())
            }
        }
    }

    /// Commits what the session wrote so far.
    ///
    /// # Errors
    /// Database errors; nothing since the last commit is written then.
    pub async fn commit(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Self::Lite(s, w) => Self::on_lite(s, w, crate::lite::Session::commit).await,
            Self::Tx(_, slot) => match slot.take() {
                Some(tx) => tx.commit().await,
                None => Ok(()),
            },
        }
    }
}

/// A transaction on either engine; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    /// SQLite.
    S(sqlx::Transaction<'static, Sqlite>),
    /// PostgreSQL.
    P(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// All rows.
    ///
    /// # Errors
    /// Database errors.
    pub async fn all(&mut self, q: Q) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            Self::S(t) => dispatch!(sqlite &mut **t, q, all),
            Self::P(t) => dispatch!(pg &mut **t, q, all),
        }
    }

    /// At most one row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn opt(&mut self, q: Q) -> Result<Option<Row>, sqlx::Error> {
        match self {
            Self::S(t) => dispatch!(sqlite &mut **t, q, opt),
            Self::P(t) => dispatch!(pg &mut **t, q, opt),
        }
    }

    /// Runs a statement; returns the rows affected.
    ///
    /// # Errors
    /// Database errors.
    pub async fn exec(&mut self, q: Q) -> Result<u64, sqlx::Error> {
        match self {
            Self::S(t) => dispatch!(sqlite &mut **t, q, exec),
            Self::P(t) => dispatch!(pg &mut **t, q, exec),
        }
    }

    /// Runs a script inside the transaction.
    ///
    /// # Errors
    /// Database errors.
    pub async fn script(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Self::S(t) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **t).await.map(|_| ()),
            Self::P(t) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **t).await.map(|_| ()),
        }
    }

    /// Commits.
    ///
    /// # Errors
    /// Database errors.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::S(t) => t.commit().await,
            Self::P(t) => t.commit().await,
        }
    }

    /// Rolls back and waits for it (dropping a transaction rolls it back too, but without
    /// waiting).
    ///
    /// # Errors
    /// Database errors.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Self::S(t) => t.rollback().await,
            Self::P(t) => t.rollback().await,
        }
    }
}

/// A database URL with any password hidden, for messages and logs.
#[must_use]
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "name_prefix", include_str!("../migrations/sqlite/0002_name_prefix.sql")),
    (3, "sales", include_str!("../migrations/sqlite/0003_sales.sql")),
    (4, "activities", include_str!("../migrations/sqlite/0004_activities.sql")),
    (5, "deal_list", include_str!("../migrations/sqlite/0005_deal_list.sql")),
    (6, "data", include_str!("../migrations/sqlite/0006_data.sql")),
    (7, "bulk", include_str!("../migrations/sqlite/0007_bulk.sql")),
    (8, "search_defer", include_str!("../migrations/sqlite/0008_search_defer.sql")),
    (9, "primary_account", include_str!("../migrations/sqlite/0009_primary_account.sql")),
    (10, "tenant_keys", include_str!("../migrations/sqlite/0010_tenant_keys.sql")),
    (11, "roles_events", include_str!("../migrations/sqlite/0011_roles_events.sql")),
    (12, "zones_phones", include_str!("../migrations/sqlite/0012_zones_phones.sql")),
    (13, "custom_phones", include_str!("../migrations/sqlite/0013_custom_phones.sql")),
];
const PG_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "name_prefix", include_str!("../migrations/postgres/0002_name_prefix.sql")),
    (3, "sales", include_str!("../migrations/postgres/0003_sales.sql")),
    (4, "activities", include_str!("../migrations/postgres/0004_activities.sql")),
    (5, "deal_list", include_str!("../migrations/postgres/0005_deal_list.sql")),
    (6, "data", include_str!("../migrations/postgres/0006_data.sql")),
    (7, "bulk", include_str!("../migrations/postgres/0007_bulk.sql")),
    (8, "search_defer", include_str!("../migrations/postgres/0008_search_defer.sql")),
    (9, "primary_account", include_str!("../migrations/postgres/0009_primary_account.sql")),
    (10, "tenant_keys", include_str!("../migrations/postgres/0010_tenant_keys.sql")),
    (11, "roles_events", include_str!("../migrations/postgres/0011_roles_events.sql")),
    (12, "zones_phones", include_str!("../migrations/postgres/0012_zones_phones.sql")),
    (13, "custom_phones", include_str!("../migrations/postgres/0013_custom_phones.sql")),
];

/// The checksum of a migration's text, as recorded when it is applied: SHA-256 of the text
/// with Windows line ends made Unix ones, so a checkout's line-end setting changes nothing.
#[must_use]
pub fn migration_checksum(sql: &str) -> String {
    crate::users::sha256_hex(&sql.replace("\r\n", "\n"))
}

/// Applies every migration not yet applied; returns how many ran.
///
/// Refuses to start when an applied migration's text has changed since (its recorded checksum
/// differs), or when the database holds a migration this build does not know (it was
/// upgraded by a newer Karta): either way the schema is not the one this code expects.
///
/// # Errors
/// Database errors, with the failing migration named; a changed or unknown migration.
pub async fn migrate(db: &Db) -> anyhow::Result<usize> {
    let list = match db.engine() {
        Engine::Sqlite => SQLITE_MIGRATIONS,
        Engine::Postgres => PG_MIGRATIONS,
    };
    migrate_list(db, list).await
}

async fn migrate_list(db: &Db, list: &[(i64, &str, &str)]) -> anyhow::Result<usize> {
    db.script(
        "CREATE TABLE IF NOT EXISTS karta_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL, checksum TEXT NOT NULL DEFAULT '')",
    )
    .await
    .context("cannot create the migrations table")?;
    // Databases made before checksums were kept lack the column; their rows are filled in below.
    let has_checksum = match db.engine() {
        Engine::Sqlite => {
            db.opt(Q::new("SELECT 1 AS x FROM pragma_table_info('karta_migrations') WHERE name = 'checksum'")).await?
        }
        Engine::Postgres => {
            db.opt(Q::new(
                "SELECT 1 AS x FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'karta_migrations' AND column_name = 'checksum'",
            ))
            .await?
        }
    };
    if has_checksum.is_none() {
        db.script("ALTER TABLE karta_migrations ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
            .await
            .context("cannot add checksums to the migrations table")?;
    }
    let applied = db.all(Q::new("SELECT version, name, checksum FROM karta_migrations ORDER BY version")).await?;
    for row in &applied {
        let version = row.i("version");
        let Some((_, name, sql)) = list.iter().find(|(v, _, _)| *v == version) else {
            anyhow::bail!(
                "the database has migration {version:04} ({}), which this build of Karta does not know: it was upgraded by a newer version; run that version or restore a backup",
                row.s("name")
            );
        };
        let now = migration_checksum(sql);
        let recorded = row.s("checksum");
        if recorded.is_empty() {
            db.exec(Q::new("UPDATE karta_migrations SET checksum = $1 WHERE version = $2").bind(&now).bind(version))
                .await?;
        } else if recorded != now {
            anyhow::bail!(
                "migration {version:04} ({name}) was changed after it was applied to this database (checksum {recorded}, now {now}): restore its original text and put the change in a new migration"
            );
        }
    }
    let mut ran = 0;
    for (version, name, sql) in list {
        let mut tx = db.begin().await?;
        let done = tx.opt(Q::new("SELECT version FROM karta_migrations WHERE version = $1").bind(*version)).await?;
        if done.is_some() {
            continue;
        }
        tx.script(sql).await.with_context(|| format!("migration {version:04} ({name}) failed"))?;
        crate::data_steps::run(&mut tx, *version)
            .await
            .with_context(|| format!("migration {version:04} ({name}) failed"))?;
        tx.exec(
            Q::new("INSERT INTO karta_migrations (version, name, applied_at, checksum) VALUES ($1, $2, $3, $4)")
                .bind(*version)
                .bind(*name)
                .bind(karta_core::now_ms())
                .bind(migration_checksum(sql)),
        )
        .await?;
        tx.commit().await?;
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations_in_the_same_order() {
        let v = |l: &[(i64, &str, &str)]| l.iter().map(|(v, n, _)| (*v, n.to_string())).collect::<Vec<_>>();
        assert_eq!(v(SQLITE_MIGRATIONS), v(PG_MIGRATIONS));
        assert!(SQLITE_MIGRATIONS.iter().enumerate().all(|(i, (v, _, _))| *v == i64::try_from(i).unwrap_or(0) + 1));
    }

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(redact("postgres://karta:secret@db:5432/karta"), "postgres://karta:***@db:5432/karta");
        assert_eq!(redact("sqlite://./karta.db"), "sqlite://./karta.db");
    }
}
