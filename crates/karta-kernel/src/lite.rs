//! Inline SQLite reads, and bulk work on connections of its own.
//!
//! sqlx runs every SQLite statement on a per-connection worker thread and hands the result
//! back through channels; for a primary-key lookup that costs far more than the lookup itself
//! (about 60 µs against 5 µs). Short, index-bounded reads — the caller behind a token, a record
//! by id, a record page's related lists — therefore run here, on the calling thread, on a small
//! pool of read-only connections to the same WAL file; so do long streamed reads (exports).
//! Ordinary writes and transactions stay on sqlx; bulk writes (imports) run on a write
//! [`Session`] of their own.

use crate::db::{Arg, Q};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Idle connections kept for reuse; more may be open while busy.
const KEEP: usize = 8;

/// A pool of read-only connections to one SQLite file.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// A writing connection for batches (imports), opened on first use.
    writer: Mutex<Option<Connection>>,
}

/// The column names of a query's rows, with their positions by name: a record is read
/// field by field, by name, and a wide table has some fifty columns.
#[derive(Debug)]
struct Cols {
    names: Vec<String>,
    at: std::collections::HashMap<String, usize, std::hash::BuildHasherDefault<NameHasher>>,
}

/// FNV-1a: column names are short and chosen by us, so a keyed hash buys nothing here, and
/// an export looks up some fifty names per row.
#[derive(Default)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A value of a row: text as a range of the row's one text buffer, so a wide row costs two
/// allocations instead of one per column (an export reads a million of them).
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Text(usize, usize),
}

/// A result row: column names shared by the rows of one query, and the values. Reals and
/// blobs read as NULL: no table stores them.
#[derive(Debug)]
pub struct LiteRow {
    cols: Arc<Cols>,
    text: String,
    cells: Vec<Cell>,
    /// The column after the one read last: rows are mostly read in their columns' order, so
    /// one comparison usually finds the next one without hashing.
    next: AtomicUsize,
}

impl LiteRow {
    fn cell(&self, col: &str) -> Cell {
        let guess = self.next.load(Ordering::Relaxed);
        let at = if self.cols.names.get(guess).is_some_and(|n| n == col) {
            Some(guess)
        } else {
            self.cols.at.get(col).copied()
        };
        let Some(at) = at else { return Cell::Null };
        self.next.store(at + 1, Ordering::Relaxed);
        self.cells.get(at).copied().unwrap_or(Cell::Null)
    }

    /// A text column by name; `None` for NULL, a number or a missing column.
    #[must_use]
    pub fn text(&self, col: &str) -> Option<&str> {
        match self.cell(col) {
            Cell::Text(a, b) => self.text.get(a..b),
            _ => None,
        }
    }

    /// An integer column by name; `None` for NULL, text or a missing column.
    #[must_use]
    pub fn int(&self, col: &str) -> Option<i64> {
        match self.cell(col) {
            Cell::Int(i) => Some(i),
            _ => None,
        }
    }
}

impl Readers {
    /// Readers for the database file at `path`.
    #[must_use]
    pub fn new(path: &Path) -> Arc<Self> {
        Arc::new(Self { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), writer: Mutex::new(None) })
    }

    /// Runs statements in one immediate transaction on a writing connection.
    ///
    /// sqlx looks every placeholder of a statement up by name, which grows with the square of
    /// their number; a multi-row INSERT of an import batch has thousands. Here `$n` becomes
    /// SQLite's `?n`, bound by position.
    ///
    /// # Errors
    /// SQLite errors; the transaction is rolled back.
    pub fn write_all(&self, qs: &[Q]) -> rusqlite::Result<()> {
        let mut guard = self.writer.lock().map_err(|_| rusqlite::Error::InvalidQuery)?;
        if guard.is_none() {
            let c = Connection::open(&self.path)?;
            c.busy_timeout(Duration::from_secs(30))?;
            c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384; PRAGMA temp_store = memory;")?;
            c.set_prepared_statement_cache_capacity(32);
            *guard = Some(c);
        }
        let Some(conn) = guard.as_mut() else { return Err(rusqlite::Error::InvalidQuery) };
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for q in qs {
            exec(&tx, q)?;
        }
        tx.commit()
    }

    /// Opens a write session: a connection of its own whose transaction stays open across
    /// calls until [`Session::commit`].
    ///
    /// # Errors
    /// SQLite errors opening the connection.
    pub fn session(&self) -> rusqlite::Result<Session> {
        let c = Connection::open(&self.path)?;
        c.busy_timeout(Duration::from_secs(30))?;
        // A bulk load touches index pages all over the file: a larger cache saves rereading
        // them within a transaction.
        c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA temp_store = memory;")?;
        // Its statements are large multi-row INSERTs: keep few.
        c.set_prepared_statement_cache_capacity(8);
        Ok(Session { conn: c, open: false })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        // The writer (sqlx) owns the schema and the WAL; these connections only read.
        c.busy_timeout(Duration::from_secs(10))?;
        c.execute_batch("PRAGMA query_only = ON; PRAGMA cache_size = -16384; PRAGMA temp_store = memory;")?;
        c.set_prepared_statement_cache_capacity(64);
        // The same REGEXP the writer side has (sqlx's `with_regexp`), for "contains" filters.
        c.create_scalar_function(
            "regexp",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let re: Arc<regex::Regex> = ctx.get_or_create_aux(0, |v| {
                    regex::Regex::new(v.as_str()?).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
                })?;
                Ok(match ctx.get_raw(1) {
                    rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).is_ok_and(|t| re.is_match(t)),
                    _ => false,
                })
            },
        )?;
        Ok(c)
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        let pooled = self.idle.lock().map(|mut v| v.pop()).unwrap_or_default();
        match pooled {
            Some(c) => Ok(c),
            None => self.open(),
        }
    }

    fn give_back(&self, c: Connection) {
        if let Ok(mut v) = self.idle.lock() {
            if v.len() < KEEP {
                v.push(c);
            }
        }
    }

    /// Runs a long read (an export) on a reader of its own, handing its rows to `f` in
    /// chunks of `chunk` until `f` returns false. One statement, one snapshot: no
    /// re-seeking page after page.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn stream(
        &self,
        sql: &str,
        args: &[Arg],
        chunk: usize,
        mut f: impl FnMut(Vec<LiteRow>) -> bool,
    ) -> rusqlite::Result<()> {
        let conn = self.take()?;
        let out = (|| {
            let mut st = prepare(&conn, &numbered(sql), args)?;
            let mut buf = Vec::with_capacity(chunk);
            let mut going = true;
            each_row(&mut st, |r| {
                buf.push(r);
                if buf.len() >= chunk {
                    going = f(std::mem::replace(&mut buf, Vec::with_capacity(chunk)));
                }
                going
            })?;
            if going && !buf.is_empty() {
                f(buf);
            }
            Ok(())
        })();
        self.give_back(conn);
        out
    }

    /// Runs a read query with `$n` placeholders and returns its rows (at most `limit`).
    ///
    /// # Errors
    /// SQLite errors (a bad statement, a missing placeholder value).
    pub fn query(&self, sql: &str, args: &[Arg], limit: usize) -> rusqlite::Result<Vec<LiteRow>> {
        let conn = self.take()?;
        let out = run(&conn, sql, args, limit);
        // A connection that failed mid-statement is still sound: statements reset on drop.
        self.give_back(conn);
        out
    }
}

/// `$n` placeholders as SQLite's positional `?n`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut it = sql.chars().peekable();
    while let Some(c) = it.next() {
        if c == '$' && it.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs one statement, its `$n` parameters bound by position.
fn exec(conn: &Connection, q: &Q) -> rusqlite::Result<()> {
    let mut st = prepare(conn, &numbered(&q.sql), &q.args)?;
    // Stepped through rather than executed: a PRAGMA answers with a row, which is not an error.
    let mut rows = st.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}

/// A cached statement with `?n` parameters, bound by position.
fn prepare<'c>(conn: &'c Connection, sql: &str, args: &[Arg]) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut st = conn.prepare_cached(sql)?;
    for i in 1..=st.parameter_count() {
        match args.get(i - 1) {
            Some(Arg::I(v)) => st.raw_bind_parameter(i, v)?,
            Some(Arg::T(v)) => st.raw_bind_parameter(i, v)?,
            None => return Err(rusqlite::Error::InvalidParameterCount(i, args.len())),
        }
    }
    Ok(st)
}

/// A write session for bulk work: reads and writes on one connection inside a transaction
/// that spans calls until [`Session::commit`].
///
/// SQLite writes every page a transaction dirtied at its commit. A bulk load inserts into
/// indexes at random places, so a commit every few thousand rows rewrites most index pages
/// again and again (1M contacts: 89 s in commits of 3,000 rows against 31 s in commits of
/// 50,000). The session lets an import commit less often while its reads still see its own
/// uncommitted rows. Any error rolls the open transaction back.
#[derive(Debug)]
pub struct Session {
    conn: Connection,
    open: bool,
}

impl Session {
    fn begin(&mut self) -> rusqlite::Result<()> {
        if !self.open {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.open = true;
            // Rows inserted above these marks are indexed for search at commit (migration 0008).
            self.conn.execute_batch(
                "INSERT INTO search_deferred (tbl, above) \
                 SELECT 'contacts', coalesce(max(rowid), 0) FROM contacts \
                 UNION ALL SELECT 'accounts', coalesce(max(rowid), 0) FROM accounts",
            )?;
        }
        Ok(())
    }

    /// Indexes for search the rows this transaction inserted, in one statement per table, and
    /// drops the marks so that nothing of them is committed.
    fn catch_up_search(&self) -> rusqlite::Result<()> {
        self.conn.execute_batch(
            "INSERT INTO contacts_fts (rowid, search_text) SELECT rowid, search_text FROM contacts \
             WHERE rowid > (SELECT above FROM search_deferred WHERE tbl = 'contacts'); \
             INSERT INTO accounts_fts (rowid, search_text) SELECT rowid, search_text FROM accounts \
             WHERE rowid > (SELECT above FROM search_deferred WHERE tbl = 'accounts'); \
             DELETE FROM search_deferred;",
        )
    }

    fn rollback_on<T>(&mut self, r: rusqlite::Result<T>) -> rusqlite::Result<T> {
        if r.is_err() && self.open {
            // Whatever failed, nothing of the open transaction may land.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.open = false;
        }
        r
    }

    /// Rows of a read inside the session's transaction.
    ///
    /// # Errors
    /// SQLite errors; the open transaction is rolled back.
    pub fn query(&mut self, sql: &str, args: &[Arg]) -> rusqlite::Result<Vec<LiteRow>> {
        let r = self.begin().and_then(|()| run(&self.conn, sql, args, usize::MAX));
        self.rollback_on(r)
    }

    /// Runs statements inside the session's transaction.
    ///
    /// # Errors
    /// SQLite errors; the open transaction is rolled back.
    pub fn write_all(&mut self, qs: &[Q]) -> rusqlite::Result<()> {
        let r = self.begin().and_then(|()| qs.iter().try_for_each(|q| exec(&self.conn, q)));
        self.rollback_on(r)
    }

    /// Commits what the session wrote; the next call starts a new transaction.
    ///
    /// # Errors
    /// SQLite errors; the open transaction is rolled back.
    pub fn commit(&mut self) -> rusqlite::Result<()> {
        if !self.open {
            return Ok(());
        }
        let r = self.catch_up_search().and_then(|()| self.conn.execute_batch("COMMIT"));
        if r.is_ok() {
            self.open = false;
        }
        self.rollback_on(r)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn run(conn: &Connection, sql: &str, args: &[Arg], limit: usize) -> rusqlite::Result<Vec<LiteRow>> {
    // `$n` becomes `?n`: its number says which argument it takes, so repeated or
    // out-of-order parameters bind like they do on PostgreSQL, by position, without
    // looking each one up by name.
    let mut st = prepare(conn, &numbered(sql), args)?;
    let mut out = Vec::new();
    each_row(&mut st, |r| {
        out.push(r);
        out.len() < limit
    })?;
    Ok(out)
}

/// A value handed to a [`RowBuilder`].
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    /// NULL, or a type no table stores (reals, blobs).
    Null,
    /// An integer.
    Int(i64),
    /// Text, as bytes: [`RowBuilder::row`] checks a row's texts as UTF-8 once for the row.
    Text(&'a [u8]),
}

/// Builds compact rows of one query (its column names shared), from SQLite's statements or
/// PostgreSQL's streamed rows: the decoding is done where the rows are read, not where they
/// are used.
#[derive(Debug)]
pub struct RowBuilder {
    cols: Arc<Cols>,
    last_len: usize,
}

impl RowBuilder {
    /// A builder for rows with these column names, in order.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        let mut at =
            std::collections::HashMap::with_capacity_and_hasher(names.len(), std::hash::BuildHasherDefault::default());
        for (i, n) in names.iter().enumerate() {
            at.entry(n.as_ref().to_string()).or_insert(i);
        }
        // A name that appears twice is found by the map (the first one), never by the guess.
        let names = names
            .iter()
            .enumerate()
            .map(|(i, n)| if at.get(n.as_ref()) == Some(&i) { n.as_ref().to_string() } else { String::new() })
            .collect();
        Self { cols: Arc::new(Cols { names, at }), last_len: 0 }
    }

    /// How many columns a row has.
    #[must_use]
    pub fn width(&self) -> usize {
        self.cols.names.len()
    }

    /// One row from its values, in column order. Its texts are copied as bytes and checked
    /// as UTF-8 once for the whole row rather than column by column (an export reads some
    /// forty short texts a row, and the check's cost is mostly per call). A valid whole cut
    /// at character boundaries is valid in every piece, so each column is checked all the
    /// same; a column that is not UTF-8 is reported through `bad_utf8`.
    ///
    /// # Errors
    /// The first error of `vals`, or a text that is not UTF-8.
    pub fn row<'a, E>(
        &mut self,
        vals: impl Iterator<Item = Result<Val<'a>, E>>,
        bad_utf8: impl FnOnce(std::str::Utf8Error) -> E,
    ) -> Result<LiteRow, E> {
        let mut cells = Vec::with_capacity(self.width());
        // Sized like the row before, which is most often about as long.
        let mut bytes = Vec::with_capacity(self.last_len);
        for v in vals {
            cells.push(match v? {
                Val::Null => Cell::Null,
                Val::Int(i) => Cell::Int(i),
                Val::Text(t) => {
                    let start = bytes.len();
                    bytes.extend_from_slice(t);
                    Cell::Text(start, bytes.len())
                }
            });
        }
        self.last_len = bytes.len();
        let text = String::from_utf8(bytes).map_err(|e| e.utf8_error()).and_then(|text| {
            let split = cells.iter().find_map(|c| match *c {
                // Only a column that is not UTF-8 itself starts or ends mid-character.
                Cell::Text(a, b) if !text.is_char_boundary(a) || !text.is_char_boundary(b) => {
                    std::str::from_utf8(text.as_bytes().get(a..b).unwrap_or_default()).err()
                }
                _ => None,
            });
            split.map_or(Ok(text), Err)
        });
        let text = text.map_err(bad_utf8)?;
        Ok(LiteRow { cols: Arc::clone(&self.cols), text, cells, next: AtomicUsize::new(0) })
    }
}

/// Feeds a bound statement's rows to `f` until it returns false.
fn each_row(st: &mut rusqlite::CachedStatement<'_>, mut f: impl FnMut(LiteRow) -> bool) -> rusqlite::Result<()> {
    let mut build = RowBuilder::new(&st.column_names());
    let width = build.width();
    let mut rows = st.raw_query();
    while let Some(r) = rows.next()? {
        let vals = (0..width).map(|i| {
            Ok(match r.get_ref(i)? {
                ValueRef::Integer(v) => Val::Int(v),
                ValueRef::Text(t) => Val::Text(t),
                ValueRef::Null | ValueRef::Real(_) | ValueRef::Blob(_) => Val::Null,
            })
        });
        if !f(build.row(vals, rusqlite::Error::from)?) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Readers of a new database in a folder of its own made by `sql`, and the folder.
    fn readers_of(name: &str, sql: &str) -> (Arc<Readers>, PathBuf) {
        let dir = std::env::temp_dir().join(format!("karta-lite-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("t.db");
        let _ = std::fs::remove_file(&path);
        Connection::open(&path).expect("opens").execute_batch(sql).expect("creates");
        (Readers::new(&path), dir)
    }

    #[test]
    fn placeholders_bind_by_their_number_not_their_position() {
        let (r, dir) = readers_of(
            "numbers",
            "CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'y');",
        );
        let rows = r
            .query(
                "SELECT a, b FROM t WHERE b = $2 AND a >= $1 AND a <> $1 + 5 ORDER BY a",
                &[Arg::I(Some(3)), Arg::T(Some("y".into()))],
                10,
            )
            .expect("runs");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].int("a"), Some(3));
        assert_eq!(rows[0].text("b"), Some("y"));
        let re = r.query("SELECT a FROM t WHERE b REGEXP $1", &[Arg::T(Some("(?i)^Y$".into()))], 10).expect("regexp");
        assert_eq!(re.len(), 2);
        assert!(r.query("SELECT a FROM t WHERE a = $2", &[Arg::I(Some(1))], 10).is_err());
        assert!(r.query("DELETE FROM t", &[], 10).is_err(), "readers refuse writes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_text_that_is_not_utf8_is_an_error_even_when_its_row_reads_as_utf8() {
        // Row 2 splits "а" (d0 b0) across its two columns: the row's bytes are valid UTF-8,
        // neither column is. Row 3 holds a byte that is never UTF-8.
        let (r, dir) = readers_of(
            "utf8",
            "CREATE TABLE t (a INTEGER, b TEXT, c TEXT); INSERT INTO t VALUES (1, 'при', 'вет'), \
             (2, CAST(x'd0' AS TEXT), CAST(x'b0' AS TEXT)), (3, CAST(x'ff' AS TEXT), 'x');",
        );
        let one = r.query("SELECT b, c FROM t WHERE a = 1", &[], 10).expect("valid");
        assert_eq!((one[0].text("b"), one[0].text("c")), (Some("при"), Some("вет")));
        for a in [2, 3] {
            let bad = r.query("SELECT b, c FROM t WHERE a = $1", &[Arg::I(Some(a))], 10);
            assert!(matches!(bad, Err(rusqlite::Error::Utf8Error(..))), "row {a}: {bad:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
