//! Inline SQLite reads.
//!
//! sqlx runs every SQLite statement on a per-connection worker thread and hands the result
//! back through channels; for a primary-key lookup that costs far more than the lookup itself
//! (about 60 µs against 5 µs). Short, index-bounded reads — the caller behind a token, a record
//! by id, a record page's related lists — therefore run here, on the calling thread, on a small
//! pool of read-only connections to the same WAL file. Writes and transactions stay on sqlx.

use crate::db::{Arg, Q};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
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

/// A result row: column names shared by the rows of one query, and the values.
#[derive(Debug, Clone)]
pub struct LiteRow {
    cols: Arc<[String]>,
    vals: Vec<Value>,
}

impl LiteRow {
    /// The value of a column by name.
    #[must_use]
    pub fn get(&self, col: &str) -> Option<&Value> {
        self.cols.iter().position(|c| c == col).and_then(|i| self.vals.get(i))
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
            let mut st = tx.prepare_cached(&numbered(&q.sql))?;
            for i in 1..=st.parameter_count() {
                match q.args.get(i - 1) {
                    Some(Arg::I(v)) => st.raw_bind_parameter(i, v)?,
                    Some(Arg::T(v)) => st.raw_bind_parameter(i, v)?,
                    None => return Err(rusqlite::Error::InvalidParameterCount(i, q.args.len())),
                }
            }
            st.raw_execute()?;
        }
        tx.commit()
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

fn run(conn: &Connection, sql: &str, args: &[Arg], limit: usize) -> rusqlite::Result<Vec<LiteRow>> {
    // `$n` becomes `?n`: its number says which argument it takes, so repeated or
    // out-of-order placeholders bind like they do on PostgreSQL, by position, without
    // looking each one up by name.
    let mut st = conn.prepare_cached(&numbered(sql))?;
    for i in 1..=st.parameter_count() {
        match args.get(i - 1) {
            Some(Arg::I(v)) => st.raw_bind_parameter(i, v)?,
            Some(Arg::T(v)) => st.raw_bind_parameter(i, v)?,
            None => return Err(rusqlite::Error::InvalidParameterCount(i, args.len())),
        }
    }
    let cols: Arc<[String]> = st.column_names().into_iter().map(str::to_string).collect();
    let width = cols.len();
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut vals = Vec::with_capacity(width);
        for i in 0..width {
            vals.push(r.get::<_, Value>(i)?);
        }
        out.push(LiteRow { cols: Arc::clone(&cols), vals });
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_bind_by_their_number_not_their_position() {
        let dir = std::env::temp_dir().join(format!("karta-lite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("t.db");
        let _ = std::fs::remove_file(&path);
        let w = Connection::open(&path).expect("opens");
        w.execute_batch("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'y');")
            .expect("creates");
        let r = Readers::new(&path);
        let rows = r
            .query(
                "SELECT a, b FROM t WHERE b = $2 AND a >= $1 AND a <> $1 + 5 ORDER BY a",
                &[Arg::I(Some(3)), Arg::T(Some("y".into()))],
                10,
            )
            .expect("runs");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("a"), Some(&Value::Integer(3)));
        assert_eq!(rows[0].get("b"), Some(&Value::Text("y".into())));
        let re = r.query("SELECT a FROM t WHERE b REGEXP $1", &[Arg::T(Some("(?i)^Y$".into()))], 10).expect("regexp");
        assert_eq!(re.len(), 2);
        assert!(r.query("SELECT a FROM t WHERE a = $2", &[Arg::I(Some(1))], 10).is_err());
        assert!(r.query("DELETE FROM t", &[], 10).is_err(), "readers refuse writes");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
