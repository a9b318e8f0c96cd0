//! The import engine: a file's rows become accounts or contacts, in batches of one
//! transaction each, with duplicates found by e-mail, phone and name.
//!
//! A reader thread parses and checks rows while the database writes the previous batch, so
//! both cores work. Each batch commits its records, its rejected rows and the import's
//! progress together: a process killed mid-import leaves whole batches only, and the import
//! resumes after the last one. Every record remembers the hash of the row it came from, so
//! running the same file again changes nothing.

use crate::columns::{self, RowExtras};
use karta_core::custom::{self, FieldDef};
use karta_core::party::{self, PartyData, PartyInput};
use karta_core::text::norm;
use karta_core::{new_id, now_ms, Action, Entity, FieldError, Scope};
use karta_formats::csvread::{Encoding, Record};
use karta_formats::source::{self, FileError, Format, Options};
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Bulk, Db, Row, Q};
use karta_kernel::error::{Result, StoreError};
use karta_parties::parties::{self, table};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Rows checked, matched and written together (a killed import leaves whole batches of
/// this many rows).
pub const BATCH: usize = 3000;
/// A transaction takes batches until it holds this many rows…
const COMMIT_ROWS: i64 = 50_000;
/// …or is this old, so progress shows and other writers wait at most about this long
/// (well inside their 10 s busy timeout). Longer measured no faster.
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Rows per INSERT statement (39 parameters a record; SQLite allows 32,766).
const CHUNK: usize = 400;

/// What to do with a row that matches an existing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dedup {
    /// Leave the existing record as it is.
    Skip,
    /// Fill the existing record with the row's values.
    Update,
    /// Create a new record anyway.
    Create,
}

impl Dedup {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Update => "update",
            Self::Create => "create",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Skip, Self::Update, Self::Create].into_iter().find(|d| d.as_str() == s.trim())
    }
}

/// The outcome counts of a run (or of a dry run: what a run would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// New records.
    pub imported: i64,
    /// Existing records changed.
    pub updated: i64,
    /// Rows left out: duplicates under the skip rule, rows already imported, unchanged matches.
    pub skipped: i64,
    /// Rows that could not be imported.
    pub rejected: i64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported {}, updated {}, skipped {}, rejected {}",
            self.imported, self.updated, self.skipped, self.rejected
        )
    }
}

/// An import as stored: its file, settings, state and progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Import {
    /// Id.
    pub id: String,
    /// `account` or `contact`.
    pub entity: Entity,
    /// Who started it.
    pub user_id: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// Where the file is kept.
    #[serde(skip)]
    pub file_path: String,
    /// `csv`, `xlsx` or `vcf`.
    pub format: String,
    /// `auto`, `utf-8` or `windows-1251`.
    pub encoding: String,
    /// Target per column: a standard column key, `custom.KEY`, or empty to ignore.
    pub mapping: Vec<String>,
    /// `skip`, `update` or `create`.
    pub dedup: Dedup,
    /// `uploaded`, `dry_running`, `dry_done`, `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Rows in the file (known once counted).
    pub total: i64,
    /// Rows processed.
    pub done_rows: i64,
    /// The counts so far.
    pub counts: Counts,
    /// Why it failed.
    pub error: String,
    /// Created (ms).
    pub created_at: i64,
    /// Last progress (ms).
    pub updated_at: i64,
}

impl Import {
    /// True while a run or dry run is under way or waiting.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running" | "dry_running")
    }

    /// How to read the file.
    #[must_use]
    pub fn options(&self) -> Options {
        Options {
            format: Format::parse(&self.format).unwrap_or(Format::Csv),
            encoding: Encoding::parse(&self.encoding),
        }
    }
}

fn from_row(r: &Row) -> Import {
    Import {
        id: r.s("id"),
        entity: Entity::parse(&r.s("entity")).unwrap_or(Entity::Contact),
        user_id: r.s("user_id"),
        file_name: r.s("file_name"),
        file_path: r.s("file_path"),
        format: r.s("format"),
        encoding: r.s("encoding"),
        mapping: serde_json::from_str(&r.s("mapping")).unwrap_or_default(),
        dedup: Dedup::parse(&r.s("dedup")).unwrap_or(Dedup::Skip),
        status: r.s("status"),
        total: r.i("total"),
        done_rows: r.i("done_rows"),
        counts: Counts {
            imported: r.i("imported"),
            updated: r.i("updated"),
            skipped: r.i("skipped"),
            rejected: r.i("rejected"),
        },
        error: r.s("error"),
        created_at: r.i("created_at"),
        updated_at: r.i("updated_at"),
    }
}

fn check_entity(entity: Entity) -> Result<()> {
    if matches!(entity, Entity::Account | Entity::Contact) {
        Ok(())
    } else {
        Err(StoreError::field("entity", "invalid_choice"))
    }
}

/// Registers an uploaded file as a new import.
///
/// # Errors
/// `Forbidden` without the right to create such records; `Invalid` for another entity.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    file_name: &str,
    file_path: &Path,
    format: Format,
    encoding: Option<Encoding>,
) -> Result<Import> {
    check_entity(entity)?;
    ctx.scope(entity, Action::Create)?;
    let id = new_id();
    let now = now_ms();
    db.exec(
        Q::new(
            "INSERT INTO imports (tenant_id, id, entity, user_id, file_name, file_path, format, encoding, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'uploaded', $9, $9)",
        )
        .bind(ctx.tenant_id())
        .bind(&id)
        .bind(entity.as_str())
        .bind(ctx.user_id())
        .bind(file_name.chars().take(200).collect::<String>())
        .bind(file_path.to_string_lossy().to_string())
        .bind(format.as_str())
        .bind(encoding.map_or("auto", Encoding::as_str))
        .bind(now),
    )
    .await?;
    get(db, ctx, &id).await
}

/// An import of the caller's (admins see every import of the tenant).
///
/// # Errors
/// `NotFound`.
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<Import> {
    let r = db
        .opt(Q::new("SELECT * FROM imports WHERE tenant_id = $1 AND id = $2").bind(ctx.tenant_id()).bind(id))
        .await?
        .ok_or(StoreError::NotFound)?;
    let imp = from_row(&r);
    if imp.user_id != ctx.user_id() && !ctx.is_admin() {
        return Err(StoreError::NotFound);
    }
    Ok(imp)
}

/// The caller's recent imports, newest first.
///
/// # Errors
/// Database errors.
pub async fn recent(db: &Db, ctx: &Ctx, limit: i64) -> Result<Vec<Import>> {
    let rows = db
        .all(
            Q::new(
                "SELECT * FROM imports WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
            )
            .bind(ctx.tenant_id())
            .bind(ctx.user_id())
            .bind(limit),
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Marks an import as the command line's: the server's worker leaves it alone, and running
/// the same command again resumes it.
///
/// # Errors
/// Database errors.
pub async fn run_from_cli(db: &Db, ctx: &Ctx, id: &str) -> Result<()> {
    db.exec(
        Q::new("UPDATE imports SET runner = 'cli' WHERE tenant_id = $1 AND id = $2").bind(ctx.tenant_id()).bind(id),
    )
    .await?;
    Ok(())
}

/// An unfinished run of the same file, entity and rule by the caller, to resume.
///
/// # Errors
/// Database errors.
pub async fn unfinished(db: &Db, ctx: &Ctx, entity: Entity, file_path: &Path, dedup: Dedup) -> Result<Option<Import>> {
    let r = db
        .opt(
            Q::new(
                "SELECT * FROM imports WHERE tenant_id = $1 AND user_id = $2 AND entity = $3 AND file_path = $4 \
                 AND dedup = $5 AND status IN ('queued', 'running') AND runner = 'cli' ORDER BY created_at DESC LIMIT 1",
            )
            .bind(ctx.tenant_id())
            .bind(ctx.user_id())
            .bind(entity.as_str())
            .bind(file_path.to_string_lossy().to_string())
            .bind(dedup.as_str()),
        )
        .await?;
    Ok(r.as_ref().map(from_row))
}

/// The header row normalised, as the key a remembered mapping is stored under.
fn shape(headers: &[String]) -> String {
    let joined = headers.iter().map(|h| columns::norm_header(h)).collect::<Vec<_>>().join("\u{1f}");
    hex(&Sha256::digest(joined.as_bytes())[..16])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Suggests a target per column: the mapping last used for the same header row, else from
/// the header names (standard columns in Russian and English, custom field keys and labels).
///
/// # Errors
/// Database errors.
pub async fn suggest(db: &Db, ctx: &Ctx, entity: Entity, headers: &[String], defs: &[FieldDef]) -> Result<Vec<String>> {
    let r = db
        .opt(
            Q::new("SELECT mapping FROM import_shapes WHERE tenant_id = $1 AND entity = $2 AND shape = $3")
                .bind(ctx.tenant_id())
                .bind(entity.as_str())
                .bind(shape(headers)),
        )
        .await?;
    if let Some(m) = r.and_then(|r| serde_json::from_str::<Vec<String>>(&r.s("mapping")).ok()) {
        if m.len() == headers.len() && validate_mapping(entity, &m, defs).is_ok() {
            return Ok(m);
        }
    }
    Ok(auto_mapping(entity, headers, defs))
}

/// The mapping made from header names alone.
#[must_use]
pub fn auto_mapping(entity: Entity, headers: &[String], defs: &[FieldDef]) -> Vec<String> {
    let mut used = HashSet::new();
    headers
        .iter()
        .map(|h| {
            let n = columns::norm_header(h);
            let cf = defs.iter().filter(|d| d.active).find(|d| {
                [d.key.as_str(), d.label_en.as_str(), d.label_ru.as_str(), &d.field_name()]
                    .iter()
                    .any(|x| columns::norm_header(x) == n)
            });
            let target = match (columns::match_header(entity, h), cf) {
                (_, Some(d)) if columns::norm_header(&d.key) == n || n.starts_with("custom ") => d.field_name(),
                (Some(k), _) => k.to_string(),
                (None, Some(d)) => d.field_name(),
                (None, None) => String::new(),
            };
            // A target taken by an earlier column is left for the person to decide, except
            // list columns, which add up (two phone columns give two phones).
            if target.is_empty()
                || matches!(target.as_str(), "email" | "phone" | "tags" | "messengers")
                || used.insert(target.clone())
            {
                target
            } else {
                String::new()
            }
        })
        .collect()
}

/// Checks that every target exists for the entity and that single-valued ones are used once.
///
/// # Errors
/// `Invalid` naming `mapping[i]`.
pub fn validate_mapping(entity: Entity, mapping: &[String], defs: &[FieldDef]) -> Result<()> {
    let mut seen = HashSet::new();
    let mut errs = Vec::new();
    for (i, t) in mapping.iter().enumerate() {
        if t.is_empty() {
            continue;
        }
        let ok = if let Some(key) = t.strip_prefix("custom.") {
            defs.iter().any(|d| d.active && d.key == key)
        } else {
            columns::for_entity(entity).any(|c| c.key == t)
        };
        if !ok {
            errs.push(FieldError::new(format!("mapping[{i}]"), "invalid_choice"));
        } else if !matches!(t.as_str(), "email" | "phone" | "tags" | "messengers") && !seen.insert(t.clone()) {
            errs.push(FieldError::new(format!("mapping[{i}]"), "duplicate"));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

/// Saves the column mapping, the duplicate rule and the encoding, and remembers the mapping
/// for files with the same header row.
///
/// # Errors
/// `Invalid` for a bad mapping; `Conflict` while the import runs.
pub async fn configure(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    headers: &[String],
    mapping: Vec<String>,
    dedup: Dedup,
    encoding: Option<Encoding>,
) -> Result<Import> {
    let imp = get(db, ctx, id).await?;
    if imp.is_busy() || imp.status == "done" {
        return Err(StoreError::Conflict("status".into()));
    }
    let defs = karta_kernel::fields::list(db, ctx, imp.entity, true).await?;
    if mapping.len() != headers.len() {
        return Err(StoreError::field("mapping", "invalid_value"));
    }
    validate_mapping(imp.entity, &mapping, &defs)?;
    let m = serde_json::to_string(&mapping).map_err(|e| StoreError::Other(e.into()))?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "UPDATE imports SET mapping = $3, dedup = $4, encoding = $5, status = 'uploaded', updated_at = $6 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(ctx.tenant_id())
        .bind(id)
        .bind(&m)
        .bind(dedup.as_str())
        .bind(encoding.map_or("auto", Encoding::as_str))
        .bind(now),
    )
    .await?;
    let sh = shape(headers);
    tx.exec(
        Q::new("DELETE FROM import_shapes WHERE tenant_id = $1 AND entity = $2 AND shape = $3")
            .bind(ctx.tenant_id())
            .bind(imp.entity.as_str())
            .bind(&sh),
    )
    .await?;
    tx.exec(
        Q::new("INSERT INTO import_shapes (tenant_id, entity, shape, mapping, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ctx.tenant_id())
            .bind(imp.entity.as_str())
            .bind(&sh)
            .bind(&m)
            .bind(now),
    )
    .await?;
    tx.commit().await?;
    get(db, ctx, id).await
}

/// Marks an import to be run (or dry-run) by the worker; counters start from zero.
///
/// # Errors
/// `Conflict` when it is already running or done; `Invalid` without a mapping.
pub async fn queue(db: &Db, ctx: &Ctx, id: &str, dry_run: bool) -> Result<Import> {
    let imp = get(db, ctx, id).await?;
    if imp.is_busy() || imp.status == "done" {
        return Err(StoreError::Conflict("status".into()));
    }
    if imp.mapping.iter().all(String::is_empty) {
        return Err(StoreError::field("mapping", "required"));
    }
    let status = if dry_run { "dry_running" } else { "queued" };
    db.exec(
        Q::new(
            "UPDATE imports SET status = $3, done_rows = 0, imported = 0, updated = 0, skipped = 0, rejected = 0, \
             error = '', updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(ctx.tenant_id())
        .bind(id)
        .bind(status)
        .bind(now_ms()),
    )
    .await?;
    db.exec(
        Q::new("DELETE FROM import_rejects WHERE tenant_id = $1 AND import_id = $2").bind(ctx.tenant_id()).bind(id),
    )
    .await?;
    db.exec(
        Q::new("DELETE FROM import_batches WHERE tenant_id = $1 AND import_id = $2").bind(ctx.tenant_id()).bind(id),
    )
    .await?;
    get(db, ctx, id).await
}

/// A rejected row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reject {
    /// Line number in the file (the header is line 1).
    pub line: i64,
    /// Why.
    pub reason: String,
    /// The row as read.
    pub raw: String,
}

/// The rejected rows of the last run, in file order.
///
/// # Errors
/// `NotFound`.
pub async fn rejects(db: &Db, ctx: &Ctx, id: &str) -> Result<Vec<Reject>> {
    get(db, ctx, id).await?;
    let rows = db
        .all(
            Q::new(
                "SELECT line, reason, raw FROM import_rejects WHERE tenant_id = $1 AND import_id = $2 ORDER BY line",
            )
            .bind(ctx.tenant_id())
            .bind(id),
        )
        .await?;
    Ok(rows.iter().map(|r| Reject { line: r.i("line"), reason: r.s("reason"), raw: r.s("raw") }).collect())
}

/// The rejected rows as CSV: line, reason, row.
#[must_use]
pub fn rejects_csv(rejects: &[Reject]) -> String {
    let q = |s: &str| format!("\"{}\"", columns::neutralise(s).replace('"', "\"\""));
    let mut out = String::from("line,reason,row\r\n");
    for r in rejects {
        out.push_str(&format!("{},{},{}\r\n", r.line, q(&r.reason), q(&r.raw)));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The run.

/// A row checked and ready to write.
struct Parsed {
    line: i64,
    raw: String,
    data: PartyData,
    extras: RowExtras,
    hash: String,
    account_key: String,
    /// Why the row cannot make a new record (it has no name), if so.
    create_error: String,
}

/// One batch from the reader thread.
struct Batch {
    /// Rows processed once this batch is written (the resume point).
    upto: i64,
    rows: Vec<Parsed>,
    rejects: Vec<Reject>,
}

/// What the reader thread needs to check rows without the database.
struct Checker {
    entity: Entity,
    mapping: Vec<String>,
    width: usize,
    defs: Vec<FieldDef>,
    country: String,
    me: String,
    own_only: bool,
    users: HashMap<String, String>,
}

impl Checker {
    fn raw_line(rec: &Record) -> String {
        rec.fields.iter().map(|f| f.replace(['\r', '\n'], " ")).collect::<Vec<_>>().join(" | ")
    }

    fn check(&self, rec: Record) -> std::result::Result<Parsed, Reject> {
        let line = rec.line as i64;
        let raw = Self::raw_line(&rec);
        let reject = |reason: String| Reject { line, reason, raw: raw.clone() };
        if let Some(e) = rec.error {
            return Err(reject(e.to_string()));
        }
        if rec.fields.len() > self.width && rec.fields[self.width..].iter().any(|c| !c.trim().is_empty()) {
            return Err(reject(format!("too many columns: {} where the header has {}", rec.fields.len(), self.width)));
        }
        let mut input = PartyInput::default();
        let mut extras = RowExtras::default();
        let mut raw_custom = serde_json::Map::new();
        let mut errs = Vec::new();
        let mut h = Sha256::new();
        h.update(self.entity.as_str().as_bytes());
        for (i, target) in self.mapping.iter().enumerate() {
            let cell = columns::unneutralise(rec.fields.get(i).map_or("", |s| s.as_str()));
            if target.is_empty() {
                continue;
            }
            h.update(target.as_bytes());
            h.update([0x1f]);
            h.update(cell.trim().as_bytes());
            h.update([0x1e]);
            if let Some(key) = target.strip_prefix("custom.") {
                if !cell.trim().is_empty() {
                    raw_custom.insert(key.to_string(), serde_json::Value::String(cell.trim().to_string()));
                }
            } else if let Err(e) = columns::apply(target, cell, &mut input, &mut extras) {
                errs.push(e);
            }
        }
        // Without an owner column the owner stays empty: a new record gets the importer, a
        // matched one keeps its owner.
        let owner = extras.owner_email.trim().to_lowercase();
        if !owner.is_empty() {
            match self.users.get(&owner) {
                Some(id) if self.own_only && *id != self.me => {
                    errs.push(format!("owner: you may not assign records to {owner}"))
                }
                Some(id) => input.owner_id.clone_from(id),
                None => errs.push(format!("owner: no active user with the e-mail {owner}")),
            }
        }
        let mut custom = match custom::check(&self.defs, &raw_custom, true, &self.country) {
            Ok(c) => c,
            Err(es) => {
                errs.extend(es.iter().map(describe));
                serde_json::Map::new()
            }
        };
        // A user field holds a user's id; the file may give their e-mail.
        for d in self.defs.iter().filter(|d| d.kind == custom::FieldKind::User) {
            let Some(v) = custom.get(&d.key).and_then(serde_json::Value::as_str).map(str::to_string) else { continue };
            if self.users.values().any(|id| *id == v) {
                continue;
            }
            match self.users.get(&v.to_lowercase()) {
                Some(id) => {
                    custom.insert(d.key.clone(), serde_json::Value::from(id.as_str()));
                }
                None => errs.push(format!("{}: no active user with the e-mail {v}", d.label_en)),
            }
        }
        input.custom = custom;
        let parsed = party::parse(self.entity, input.clone(), &self.country);
        // A row without a name can still fill a record it matches (an e-mail and a new job
        // title, say); it is rejected only if it would create one.
        let nameless = |es: &[FieldError]| {
            es.iter().all(|e| e.code == "required" && matches!(e.field.as_str(), "name" | "last_name" | "first_name"))
        };
        let mut create_error = String::new();
        let mut data = match parsed {
            Ok(d) if errs.is_empty() => d,
            Ok(_) => return Err(reject(errs.join("; "))),
            Err(es) if errs.is_empty() && nameless(&es) => {
                create_error = es.iter().map(describe).collect::<Vec<_>>().join("; ");
                let mut named = input;
                let slot = if self.entity == Entity::Account { &mut named.name } else { &mut named.last_name };
                *slot = "-".into();
                match party::parse(self.entity, named, &self.country) {
                    Ok(mut d) => {
                        if self.entity == Entity::Account {
                            d.input.name.clear();
                        } else {
                            d.input.last_name.clear();
                        }
                        d
                    }
                    Err(es) => return Err(reject(es.iter().map(describe).collect::<Vec<_>>().join("; "))),
                }
            }
            Err(es) => {
                errs.extend(es.iter().map(describe));
                return Err(reject(errs.join("; ")));
            }
        };
        let words = custom::search_text(&self.defs, &data.input.custom);
        if !words.is_empty() {
            data.search_text = format!("{} {}", data.search_text, norm(&words));
        }
        let account_key = norm(&extras.account);
        Ok(Parsed { line, raw, data, extras, hash: hex(&h.finalize()[..16]), account_key, create_error })
    }
}

/// "emails[0]: not a valid e-mail address" for a field error.
fn describe(e: &FieldError) -> String {
    format!("{}: {}", e.field, e.message())
}

/// Reads and checks rows on a thread of its own, sending batches; rows before `skip` (the
/// resume point) are read past without being checked.
fn spawn_reader(
    path: PathBuf,
    opts: Options,
    checker: Checker,
    skip: i64,
) -> (tokio::sync::mpsc::Receiver<std::result::Result<Batch, String>>, std::thread::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let handle = std::thread::spawn(move || {
        let send = |b| tx.blocking_send(b).is_ok();
        let mut rows = match source::open(&path, opts) {
            Ok(Ok((_, rows))) => rows,
            Ok(Err(e)) => {
                send(Err(e.to_string()));
                return;
            }
            Err(e) => {
                send(Err(format!("the file cannot be read: {e}")));
                return;
            }
        };
        let mut n: i64 = 0;
        let mut batch = Batch { upto: 0, rows: Vec::with_capacity(BATCH), rejects: Vec::new() };
        loop {
            let rec = match rows.next_record() {
                Ok(r) => r,
                Err(e) => {
                    send(Err(format!("the file cannot be read: {e}")));
                    return;
                }
            };
            let Some(rec) = rec else { break };
            n += 1;
            if n <= skip {
                continue;
            }
            match checker.check(rec) {
                Ok(p) => batch.rows.push(p),
                Err(r) => batch.rejects.push(r),
            }
            if batch.rows.len() + batch.rejects.len() >= BATCH {
                batch.upto = n;
                let full = std::mem::replace(
                    &mut batch,
                    Batch { upto: 0, rows: Vec::with_capacity(BATCH), rejects: Vec::new() },
                );
                if !send(Ok(full)) {
                    return;
                }
            }
        }
        if !batch.rows.is_empty() || !batch.rejects.is_empty() {
            batch.upto = n;
            send(Ok(batch));
        }
    });
    (rx, handle)
}

/// Existing records that rows match, found with a few indexed queries per batch.
#[derive(Default)]
struct Matches {
    hashes: HashSet<String>,
    by_id: HashMap<String, String>,
    by_email: HashMap<String, String>,
    by_phone: HashMap<String, String>,
    by_name: HashMap<String, String>,
}

fn in_list(q: &mut Q, vals: &HashSet<&str>) -> String {
    vals.iter().map(|v| q.arg(*v)).collect::<Vec<_>>().join(", ")
}

async fn lookup(
    db: &mut Bulk,
    ctx: &Ctx,
    entity: Entity,
    rows: &[Parsed],
    accounts: &HashMap<String, String>,
    dedup: Dedup,
    known: &HashSet<u64>,
) -> Result<Matches> {
    let t = table(entity);
    let mut m = Matches::default();
    // A row with an e-mail is matched by it whether or not it came from this file before:
    // its hash is kept (and looked up) only where nothing else would find the record again.
    let by_hash = |p: &&Parsed| stores_hash(dedup, p);
    let sets: [(&str, HashSet<&str>); 4] = [
        ("import_hash", rows.iter().filter(by_hash).map(|p| p.hash.as_str()).collect()),
        ("id", rows.iter().map(|p| p.extras.id.as_str()).filter(|s| !s.is_empty()).collect()),
        (
            "primary_email",
            rows.iter()
                .map(|p| p.data.primary_email.as_str())
                .filter(|s| !s.is_empty() && known.contains(&key_hash(s)))
                .collect(),
        ),
        (
            "primary_phone",
            rows.iter()
                .filter(|p| p.data.primary_email.is_empty())
                .map(|p| p.data.primary_phone.as_str())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    ];
    for (col, vals) in &sets {
        if vals.is_empty() {
            continue;
        }
        let mut q = Q::new("");
        let tp = q.arg(ctx.tenant_id());
        let list = in_list(&mut q, vals);
        // `<> ''` lets the partial index on import hashes serve the lookup.
        q.sql = format!(
            "SELECT id, {col} AS v FROM {t} WHERE tenant_id = {tp} AND {col} IN ({list}) AND {col} <> '' AND deleted_at IS NULL"
        );
        for r in db.all(q).await? {
            match *col {
                "import_hash" => {
                    m.hashes.insert(r.s("v"));
                }
                "id" => {
                    m.by_id.insert(r.s("v"), r.s("id"));
                }
                "primary_email" => {
                    m.by_email.entry(r.s("v")).or_insert_with(|| r.s("id"));
                }
                _ => {
                    m.by_phone.entry(r.s("v")).or_insert_with(|| r.s("id"));
                }
            }
        }
    }
    // Similar names, for rows with neither an e-mail nor a phone: accounts by their name
    // key; contacts by name within the same account.
    let unnamed = |p: &&Parsed| p.data.primary_email.is_empty() && p.data.primary_phone.is_empty();
    let names: HashSet<&str> =
        rows.iter().filter(unnamed).map(|p| p.data.name_key.as_str()).filter(|s| !s.is_empty()).collect();
    if entity == Entity::Account && !names.is_empty() {
        let mut q = Q::new("");
        let tp = q.arg(ctx.tenant_id());
        let list = in_list(&mut q, &names);
        q.sql = format!(
            "SELECT id, name_key FROM accounts WHERE tenant_id = {tp} AND name_key IN ({list}) AND deleted_at IS NULL"
        );
        for r in db.all(q).await? {
            m.by_name.entry(r.s("name_key")).or_insert_with(|| r.s("id"));
        }
    }
    let acc_ids: HashSet<&str> =
        rows.iter().filter(unnamed).filter_map(|p| accounts.get(&p.account_key)).map(String::as_str).collect();
    if entity == Entity::Contact && !acc_ids.is_empty() && !names.is_empty() {
        let mut q = Q::new("");
        let tp = q.arg(ctx.tenant_id());
        let al = in_list(&mut q, &acc_ids);
        let nl = in_list(&mut q, &names);
        q.sql = format!(
            "SELECT c.id, c.name_key, ca.account_id FROM contact_accounts ca JOIN contacts c ON c.tenant_id = ca.tenant_id \
             AND c.id = ca.contact_id WHERE ca.tenant_id = {tp} AND ca.account_id IN ({al}) AND c.name_key IN ({nl}) \
             AND c.deleted_at IS NULL"
        );
        for r in db.all(q).await? {
            m.by_name.entry(format!("{}\u{1f}{}", r.s("account_id"), r.s("name_key"))).or_insert_with(|| r.s("id"));
        }
    }
    Ok(m)
}

/// Whether a new record keeps the row's hash: under "create anyway", and for a row without
/// an e-mail, only the hash tells that the same row was imported before.
fn stores_hash(dedup: Dedup, p: &Parsed) -> bool {
    dedup == Dedup::Create || p.data.primary_email.is_empty()
}

/// Hashes of the e-mails the tenant's records already have (deleted ones too), read along
/// the e-mail index in pages: a row whose e-mail is not among them cannot match by e-mail,
/// so only the others are looked up. Eight bytes a record.
async fn known_emails(db: &mut Bulk, ctx: &Ctx, entity: Entity) -> Result<HashSet<u64>> {
    const PAGE: usize = 20_000;
    let mut out = HashSet::new();
    let mut after = String::new();
    loop {
        let mut q = Q::new("");
        q.sql = format!(
            "SELECT primary_email AS v FROM {} WHERE tenant_id = $1 AND primary_email > $2 ORDER BY primary_email LIMIT {PAGE}",
            table(entity)
        );
        let page = db.all(q.bind(ctx.tenant_id()).bind(&after)).await?;
        out.extend(page.iter().map(|r| key_hash(&r.s("v"))));
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.s("v"),
            _ => break,
        }
    }
    Ok(out)
}

/// Link custom values must name records the caller may read: by id, or (accounts) by exact
/// name, which becomes the id. A row that names none is rejected with the field's label.
async fn check_links(
    db: &mut Bulk,
    ctx: &Ctx,
    defs: &[FieldDef],
    rows: Vec<Parsed>,
) -> Result<(Vec<Parsed>, Vec<Reject>)> {
    let links: Vec<&FieldDef> = defs.iter().filter(|d| d.kind == custom::FieldKind::Link).collect();
    if links.is_empty() {
        return Ok((rows, Vec::new()));
    }
    let target_of = |d: &FieldDef| d.target.unwrap_or(Entity::Account);
    // (target, value as given) → id.
    let mut found: HashMap<(&'static str, String), String> = HashMap::new();
    for target in [Entity::Account, Entity::Contact, Entity::Deal] {
        let vals: HashSet<&str> = links
            .iter()
            .filter(|d| target_of(d) == target)
            .flat_map(|d| {
                rows.iter().filter_map(|p| p.data.input.custom.get(&d.key).and_then(serde_json::Value::as_str))
            })
            .collect();
        if let Some(q) = karta_kernel::fields::readable_q(ctx, target, vals.iter().copied()) {
            for r in db.all(q).await? {
                found.insert((target.as_str(), r.s("id")), r.s("id"));
            }
        }
        if target != Entity::Account {
            continue;
        }
        // Accounts may also be named, as in a contact row's company.
        let names: HashMap<String, &str> = vals
            .iter()
            .filter(|v| !found.contains_key(&(target.as_str(), (**v).to_string())))
            .map(|v| (norm(v), *v))
            .collect();
        let mut by_key = HashMap::new();
        find_accounts(db, ctx, &names.keys().map(String::as_str).collect(), &mut by_key).await?;
        for (key, id) in by_key {
            if let Some(v) = names.get(&key) {
                found.insert((target.as_str(), (*v).to_string()), id);
            }
        }
    }
    let (mut ok, mut bad) = (Vec::with_capacity(rows.len()), Vec::new());
    'rows: for mut p in rows {
        for d in &links {
            let Some(v) = p.data.input.custom.get(&d.key).and_then(serde_json::Value::as_str).map(str::to_string)
            else {
                continue;
            };
            match found.get(&(target_of(d).as_str(), v.clone())) {
                Some(id) => {
                    p.data.input.custom.insert(d.key.clone(), serde_json::Value::from(id.as_str()));
                }
                None => {
                    bad.push(Reject {
                        line: p.line,
                        reason: format!("{}: no such record: {v}", d.label_en),
                        raw: p.raw,
                    });
                    continue 'rows;
                }
            }
        }
        ok.push(p);
    }
    Ok((ok, bad))
}

/// Accounts named in contact rows: found among the accounts the caller sees, by name key.
async fn find_accounts(
    db: &mut Bulk,
    ctx: &Ctx,
    keys: &HashSet<&str>,
    known: &mut HashMap<String, String>,
) -> Result<()> {
    let missing: HashSet<&str> = keys.iter().copied().filter(|k| !k.is_empty() && !known.contains_key(*k)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let scope = ctx.scope(Entity::Account, Action::Read)?;
    let mut q = Q::new("");
    let tp = q.arg(ctx.tenant_id());
    let list = in_list(&mut q, &missing);
    let sc = ctx.scope_sql(&mut q, "a", scope);
    q.sql = format!(
        "SELECT a.id, a.name_key FROM accounts a WHERE a.tenant_id = {tp} AND a.name_key IN ({list}) \
         AND a.deleted_at IS NULL AND {sc} ORDER BY a.created_at"
    );
    for r in db.all(q).await? {
        known.entry(r.s("name_key")).or_insert_with(|| r.s("id"));
    }
    Ok(())
}

/// What happens to one row.
enum Decision {
    Insert,
    Update(String),
    Skip,
}

/// Runs an import (or a dry run) to its end, resuming after the rows already done.
/// Progress and counts are committed with every batch.
///
/// # Errors
/// Database errors; a file that became unreadable marks the import failed.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), import = id))]
pub async fn run(db: &Db, ctx: &Ctx, id: &str, progress: &(dyn Fn(&Import) + Sync)) -> Result<Import> {
    let mut imp = get(db, ctx, id).await?;
    let dry = imp.status == "dry_running";
    if !dry && !matches!(imp.status.as_str(), "queued" | "running") {
        return Err(StoreError::Conflict("status".into()));
    }
    let entity = imp.entity;
    let create_scope = ctx.scope(entity, Action::Create)?;
    let update_scope = ctx.scope(entity, Action::Update).ok();
    let defs = karta_kernel::fields::list(db, ctx, entity, true).await?;
    let deal_defs = if entity == Entity::Account {
        karta_kernel::fields::list(db, ctx, Entity::Deal, true).await?
    } else {
        Vec::new()
    };
    let opts = imp.options();
    let (opened, mut rows) = match source::open(Path::new(&imp.file_path), opts) {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return fail(db, ctx, id, &e.to_string()).await,
        Err(e) => return fail(db, ctx, id, &format!("the file cannot be read: {e}")).await,
    };
    if imp.total == 0 {
        imp.total =
            source::estimate_rows(Path::new(&imp.file_path), &mut rows).map_err(|e| StoreError::Other(e.into()))?;
    }
    drop(rows);
    let users = db
        .all(Q::new("SELECT id, email FROM users WHERE tenant_id = $1 AND disabled = 0").bind(ctx.tenant_id()))
        .await?
        .iter()
        .map(|r| (r.s("email").to_lowercase(), r.s("id")))
        .collect();
    let mut mapping = imp.mapping.clone();
    mapping.resize(opened.headers.len(), String::new());
    let checker = Checker {
        entity,
        width: opened.headers.len(),
        mapping,
        defs: defs.clone(),
        country: ctx.country().to_string(),
        me: ctx.user_id().to_string(),
        own_only: create_scope == Scope::Own,
        users,
    };
    let skip = if dry { 0 } else { imp.done_rows };
    if dry {
        // A dry run cut off by a restart starts over: nothing of it was committed but counts.
        imp.counts = Counts::default();
        imp.done_rows = 0;
    }
    let status = if dry { "dry_running" } else { "running" };
    db.exec(
        Q::new("UPDATE imports SET status = $3, total = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(status)
            .bind(imp.total)
            .bind(now_ms()),
    )
    .await?;
    imp.status = status.into();
    let (mut rx, reader) = spawn_reader(PathBuf::from(&imp.file_path), opts, checker, skip);
    let mut accounts: HashMap<String, String> = HashMap::new();
    // A dry run commits nothing, so it remembers what earlier batches would have created.
    let mut seen: HashSet<u64> = HashSet::new();
    let mut outcome = Ok(());
    let mut bulk = db.bulk().await?;
    let mut known = known_emails(&mut bulk, ctx, entity).await?;
    let (mut since_commit, mut committed_at, mut commits) = (0i64, std::time::Instant::now(), 0u64);
    while let Some(msg) = rx.recv().await {
        let batch = match msg {
            Ok(b) => b,
            Err(e) => {
                outcome = Err(e);
                break;
            }
        };
        if !dry {
            // Earlier batches are committed: the database finds their rows from here on.
            seen.clear();
        }
        let step = Step {
            rows: batch.rows,
            rejects: &batch.rejects,
            upto: batch.upto,
            defs: &defs,
            deal_defs: &deal_defs,
            update_scope,
            dry,
        };
        let counts = write_batch(&mut bulk, ctx, &imp, step, &mut accounts, &mut seen, &mut known).await?;
        since_commit += batch.upto - imp.done_rows;
        imp.counts.imported += counts.imported;
        imp.counts.updated += counts.updated;
        imp.counts.skipped += counts.skipped;
        imp.counts.rejected += counts.rejected;
        imp.done_rows = batch.upto;
        if dry {
            // A dry run keeps nothing but its rejects and counts: each batch's are committed
            // at once, for the wizard to show.
            bulk.batch(vec![progress_q(ctx, &imp)]).await?;
        }
        if dry || since_commit >= COMMIT_ROWS || committed_at.elapsed() >= COMMIT_EVERY {
            bulk.commit().await?;
            (since_commit, committed_at) = (0, std::time::Instant::now());
            commits += 1;
            if !dry && commits.is_power_of_two() {
                refresh_stats(db).await?;
            }
        }
        progress(&imp);
    }
    drop(rx);
    let _ = reader.join();
    if let Err(e) = outcome {
        // The batches read before the file failed are kept, like any committed batch.
        bulk.commit().await?;
        return fail(db, ctx, id, &e).await;
    }
    bulk.commit().await?;
    if !dry && commits > 0 {
        refresh_stats(db).await?;
    }
    drop(bulk);
    let done = if dry { "dry_done" } else { "done" };
    imp.status = done.into();
    save_progress(db, ctx, &imp).await?;
    if !dry {
        let mut tx = db.begin().await?;
        audit::record(
            &mut tx,
            ctx,
            entity.as_str(),
            "",
            "import",
            0,
            serde_json::json!({"import": id, "file": imp.file_name, "imported": imp.counts.imported,
                "updated": imp.counts.updated, "skipped": imp.counts.skipped, "rejected": imp.counts.rejected}),
        )
        .await?;
        tx.commit().await?;
    }
    get(db, ctx, id).await
}

/// PostgreSQL plans from table statistics, which a table that grows by an import outruns:
/// with a "tiny" contacts table it would scan instead of using the e-mail index. Refreshed
/// after commits 1, 2, 4, 8… and at the end. (SQLite's plans for the import's lookups and
/// the export hold without statistics; an ANALYZE there would change the schema under the
/// server's open connections.)
async fn refresh_stats(db: &Db) -> Result<()> {
    if db.engine() == karta_kernel::db::Engine::Postgres {
        db.script("ANALYZE contacts; ANALYZE accounts; ANALYZE contact_accounts").await?;
    }
    Ok(())
}

async fn fail(db: &Db, ctx: &Ctx, id: &str, why: &str) -> Result<Import> {
    db.exec(
        Q::new("UPDATE imports SET status = 'failed', error = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(ctx.tenant_id())
            .bind(id)
            .bind(why)
            .bind(now_ms()),
    )
    .await?;
    get(db, ctx, id).await
}

async fn save_progress(db: &Db, ctx: &Ctx, imp: &Import) -> Result<()> {
    db.exec(progress_q(ctx, imp)).await?;
    Ok(())
}

fn progress_q(ctx: &Ctx, imp: &Import) -> Q {
    Q::new(
        "UPDATE imports SET status = $3, done_rows = $4, imported = $5, updated = $6, skipped = $7, rejected = $8, \
         total = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(ctx.tenant_id())
    .bind(&imp.id)
    .bind(&imp.status)
    .bind(imp.done_rows)
    .bind(imp.counts.imported)
    .bind(imp.counts.updated)
    .bind(imp.counts.skipped)
    .bind(imp.counts.rejected)
    .bind(imp.total.max(imp.done_rows))
    .bind(now_ms())
}

/// The base columns every inserted record has, before the profile's own.
const META: [&str; 8] =
    ["tenant_id", "id", "version", "created_at", "created_by", "updated_at", "updated_by", "import_hash"];

/// One batch to write and how.
struct Step<'a> {
    rows: Vec<Parsed>,
    rejects: &'a [Reject],
    upto: i64,
    defs: &'a [FieldDef],
    /// Deals' fields, for their search text when an update renames an account.
    deal_defs: &'a [FieldDef],
    update_scope: Option<Scope>,
    dry: bool,
}

fn key_hash(k: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// Decides and writes one batch, with the import's progress, inside the session's open
/// transaction (committed by the caller).
async fn write_batch(
    db: &mut Bulk,
    ctx: &Ctx,
    imp: &Import,
    step: Step<'_>,
    accounts: &mut HashMap<String, String>,
    seen: &mut HashSet<u64>,
    known: &mut HashSet<u64>,
) -> Result<Counts> {
    let Step { rows, rejects, upto, defs, deal_defs, update_scope, dry } = step;
    let (rows, link_rejects) = check_links(db, ctx, defs, rows).await?;
    let entity = imp.entity;
    let mut counts = Counts { rejected: rejects.len() as i64, ..Counts::default() };
    if entity == Entity::Contact {
        let keys: HashSet<&str> = rows.iter().map(|p| p.account_key.as_str()).collect();
        find_accounts(db, ctx, &keys, accounts).await?;
    }
    let m = lookup(db, ctx, entity, &rows, accounts, imp.dedup, known).await?;
    // Keys of rows earlier in this batch (and, in a dry run, earlier batches).
    let mut inserts: Vec<Parsed> = Vec::new();
    let mut updates: Vec<(String, Parsed)> = Vec::new();
    let mut new_accounts: Vec<(String, String)> = Vec::new();
    let mut new_rejects: Vec<Reject> = link_rejects;
    for p in rows {
        let name_key = if entity == Entity::Contact {
            accounts.get(&p.account_key).map(|a| format!("{a}\u{1f}{}", p.data.name_key))
        } else {
            Some(p.data.name_key.clone())
        };
        // A row matches by id, else by e-mail; a row without an e-mail by phone; a row with
        // neither by name (contacts: within the same company).
        let matched = if let Some(id) = m.by_id.get(&p.extras.id) {
            Some(id.clone())
        } else if !p.data.primary_email.is_empty() {
            m.by_email.get(&p.data.primary_email).cloned()
        } else if !p.data.primary_phone.is_empty() {
            m.by_phone.get(&p.data.primary_phone).cloned()
        } else {
            name_key.as_ref().and_then(|k| m.by_name.get(k)).cloned()
        };
        let (has_email, has_phone) = (!p.data.primary_email.is_empty(), !p.data.primary_phone.is_empty());
        let keys: Vec<u64> = [
            Some(format!("h:{}", p.hash)),
            has_email.then(|| format!("e:{}", p.data.primary_email)),
            (!has_email && has_phone).then(|| format!("p:{}", p.data.primary_phone)),
            name_key.as_ref().filter(|k| !has_email && !has_phone && !k.is_empty()).map(|k| format!("n:{k}")),
        ]
        .into_iter()
        .flatten()
        .map(|k| key_hash(&k))
        .collect();
        let dup_in_file = keys.iter().skip(1).any(|k| seen.contains(k));
        let decision = if m.hashes.contains(&p.hash) || keys.first().is_some_and(|k| seen.contains(k)) {
            Decision::Skip
        } else {
            match (imp.dedup, matched) {
                (Dedup::Create, _) => Decision::Insert,
                (Dedup::Skip, Some(_)) => Decision::Skip,
                (Dedup::Update, Some(id)) => Decision::Update(id),
                (_, None) if dup_in_file => Decision::Skip,
                (_, None) => Decision::Insert,
            }
        };
        match decision {
            Decision::Skip => counts.skipped += 1,
            Decision::Insert if !p.create_error.is_empty() => {
                new_rejects.push(Reject { line: p.line, reason: p.create_error, raw: p.raw });
            }
            Decision::Insert => {
                seen.extend(keys);
                let mut p = p;
                if p.data.input.owner_id.is_empty() {
                    ctx.user_id().clone_into(&mut p.data.input.owner_id);
                }
                if entity == Entity::Contact && !p.account_key.is_empty() && !accounts.contains_key(&p.account_key) {
                    let aid = new_id();
                    accounts.insert(p.account_key.clone(), aid.clone());
                    new_accounts.push((aid, p.extras.account.trim().to_string()));
                }
                counts.imported += 1;
                if !p.data.primary_email.is_empty() {
                    known.insert(key_hash(&p.data.primary_email));
                }
                inserts.push(p);
            }
            Decision::Update(id) => updates.push((id, p)),
        }
    }
    // Matches to update: loaded whole, filled with the row's values, written when changed.
    let mut changed: Vec<(parties::Party, PartyData, String)> = Vec::new();
    let mut upd_rejects: Vec<Reject> = new_rejects;
    if !updates.is_empty() {
        let ids: HashSet<&str> = updates.iter().map(|(id, _)| id.as_str()).collect();
        let mut q = Q::new("");
        let tp = q.arg(ctx.tenant_id());
        let list = in_list(&mut q, &ids);
        q.sql = format!(
            "SELECT t.*, u.display_name AS owner_name, u.team_id AS owner_team FROM {} t LEFT JOIN users u \
             ON u.tenant_id = t.tenant_id AND u.id = t.owner_id WHERE t.tenant_id = {tp} AND t.id IN ({list})",
            table(entity)
        );
        let existing: HashMap<String, parties::Party> =
            db.all(q).await?.iter().map(|r| (r.s("id"), parties::from_row(entity, r))).collect();
        let mut done_ids = HashSet::new();
        for (id, p) in updates {
            let Some(old) = existing.get(&id) else {
                counts.skipped += 1;
                continue;
            };
            let allowed = update_scope.is_some_and(|s| ctx.reaches(s, &old.input.owner_id, old.owner_team.as_deref()));
            if !allowed {
                upd_rejects.push(Reject {
                    line: p.line,
                    reason: "matches an existing record you may not change".into(),
                    raw: p.raw,
                });
                continue;
            }
            if !done_ids.insert(id.clone()) {
                counts.skipped += 1;
                continue;
            }
            let mut merged = old.input.clone();
            overlay(&mut merged, &p.data.input);
            match party::parse(entity, merged, ctx.country()) {
                Ok(mut d) => {
                    let words = custom::search_text(defs, &d.input.custom);
                    if !words.is_empty() {
                        d.search_text = format!("{} {}", d.search_text, norm(&words));
                    }
                    if d.input == old.input {
                        counts.skipped += 1;
                    } else {
                        known.insert(key_hash(&d.primary_email));
                        counts.updated += 1;
                        changed.push((old.clone(), d, p.hash));
                    }
                }
                Err(es) => upd_rejects.push(Reject {
                    line: p.line,
                    reason: es.iter().map(describe).collect::<Vec<_>>().join("; "),
                    raw: p.raw,
                }),
            }
        }
    }
    counts.rejected += upd_rejects.len() as i64;
    let mut all_rejects: Vec<&Reject> = rejects.iter().chain(upd_rejects.iter()).collect();
    all_rejects.sort_by_key(|r| r.line);
    if dry {
        // A dry run writes only what it would reject, for the wizard to show.
        db.batch(rejects_qs(ctx, &imp.id, &all_rejects)).await?;
        return Ok(counts);
    }
    let now = now_ms();
    let mut qs: Vec<Q> = vec![Q::new("INSERT INTO import_batches (tenant_id, import_id, upto) VALUES ($1, $2, $3)")
        .bind(ctx.tenant_id())
        .bind(&imp.id)
        .bind(upto)];
    for chunk in new_accounts.chunks(CHUNK) {
        let datas: Vec<(String, PartyData)> = chunk
            .iter()
            .filter_map(|(id, name)| {
                let input =
                    PartyInput { name: name.clone(), owner_id: ctx.user_id().to_string(), ..PartyInput::default() };
                party::parse(Entity::Account, input, ctx.country()).ok().map(|d| (id.clone(), d))
            })
            .collect();
        qs.extend(insert_many(ctx, Entity::Account, datas.iter().map(|(id, d)| (id.as_str(), d, "", "")), now));
        qs.extend(audit_many(ctx, Entity::Account, datas.iter().map(|(id, _)| id.as_str()), &imp.id, now));
    }
    let mut ids: Vec<String> = Vec::with_capacity(inserts.len());
    for chunk in inserts.chunks(CHUNK) {
        let with_ids: Vec<(String, &Parsed)> = chunk.iter().map(|p| (new_id(), p)).collect();
        qs.extend(insert_many(
            ctx,
            entity,
            with_ids.iter().map(|(id, p)| {
                let hash = if stores_hash(imp.dedup, p) { p.hash.as_str() } else { "" };
                // The company the row links to is the new contact's primary one (see migration 0009).
                let account = if entity == Entity::Contact { accounts.get(&p.account_key) } else { None };
                (id.as_str(), &p.data, hash, account.map_or("", String::as_str))
            }),
            now,
        ));
        qs.extend(audit_many(ctx, entity, with_ids.iter().map(|(id, _)| id.as_str()), &imp.id, now));
        ids.extend(with_ids.into_iter().map(|(id, _)| id));
    }
    if entity == Entity::Contact {
        qs.extend(link_and_date(ctx, &inserts, &ids, accounts, now));
    }
    for (old, d, hash) in &changed {
        qs.extend(update_one(ctx, entity, old, d, hash, now));
    }
    qs.extend(rejects_qs(ctx, &imp.id, &all_rejects));
    let mut after = imp.clone();
    after.counts.imported += counts.imported;
    after.counts.updated += counts.updated;
    after.counts.skipped += counts.skipped;
    after.counts.rejected += counts.rejected;
    // The resume point goes with the rows: a restart continues after this batch.
    after.done_rows = upto;
    qs.push(progress_q(ctx, &after));
    db.batch(qs).await?;
    let renamed: Vec<&str> = changed
        .iter()
        .filter(|(old, d, _)| entity == Entity::Account && old.input.name != d.input.name)
        .map(|(old, _, _)| old.id.as_str())
        .collect();
    if let Some(q) = karta_sales::deals::account_deals_q(ctx, &renamed) {
        let rows = db.all(q).await?;
        db.batch(karta_sales::deals::search_updates(ctx, deal_defs, &rows)).await?;
    }
    Ok(counts)
}

/// Fills `base` with the row's values: texts the row has replace, lists gain new items.
fn overlay(base: &mut PartyInput, row: &PartyInput) {
    macro_rules! text {
        ($($f:ident),*) => {$( if !row.$f.is_empty() { base.$f.clone_from(&row.$f); } )*};
    }
    text!(
        name,
        legal_name,
        tax_id,
        first_name,
        last_name,
        middle_name,
        job_title,
        birthday,
        family_status,
        income_band,
        website,
        industry,
        region,
        segment,
        relationship,
        owner_id,
        source,
        first_contact,
        interests,
        preferences,
        description
    );
    if row.employees.is_some() {
        base.employees = row.employees;
    }
    for (to, from) in
        [(&mut base.emails, &row.emails), (&mut base.phones, &row.phones), (&mut base.messengers, &row.messengers)]
    {
        for l in from {
            if !to.iter().any(|x| x.value.eq_ignore_ascii_case(&l.value)) {
                to.push(l.clone());
            }
        }
    }
    if let Some(a) = row.addresses.first() {
        if !base.addresses.contains(a) {
            if base.addresses.is_empty() {
                base.addresses.push(a.clone());
            } else {
                base.addresses[0] = a.clone();
            }
        }
    }
    for d in &row.important_dates {
        if !base.important_dates.contains(d) {
            base.important_dates.push(d.clone());
        }
    }
    for t in &row.tags {
        if !base.tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
            base.tags.push(t.clone());
        }
    }
    base.do_not_contact |= row.do_not_contact;
    base.do_not_email |= row.do_not_email;
    for (k, v) in &row.custom {
        base.custom.insert(k.clone(), v.clone());
    }
}

fn rejects_qs(ctx: &Ctx, import_id: &str, rejects: &[&Reject]) -> Vec<Q> {
    rejects
        .chunks(CHUNK)
        .map(|chunk| {
            let mut q = Q::new("");
            let tp = q.arg(ctx.tenant_id());
            let ip = q.arg(import_id);
            let vals: Vec<String> = chunk
                .iter()
                .map(|r| {
                    let raw = r.raw.chars().take(2000).collect::<String>();
                    let (l, why, raw) = (q.arg(r.line), q.arg(&r.reason), q.arg(raw));
                    format!("({tp}, {ip}, {l}, {why}, {raw})")
                })
                .collect();
            q.sql = format!(
                "INSERT INTO import_rejects (tenant_id, import_id, line, reason, raw) VALUES {}",
                vals.join(", ")
            );
            q
        })
        .collect()
}

/// Inserts new records: id, data, import hash and, for contacts, the primary account's id.
fn insert_many<'a>(
    ctx: &Ctx,
    entity: Entity,
    rows: impl Iterator<Item = (&'a str, &'a PartyData, &'a str, &'a str)>,
    now: i64,
) -> Option<Q> {
    let mut q = Q::new("");
    let mut names: Vec<&str> = Vec::new();
    let mut values = Vec::new();
    let tp = q.arg(ctx.tenant_id());
    let up = q.arg(ctx.user_id());
    let nowp = q.arg(now);
    let one = q.arg(1);
    for (id, data, hash, account) in rows {
        let cols = parties::columns(data);
        if names.is_empty() {
            names.extend(META);
            if entity == Entity::Contact {
                names.push("account_id");
            }
            names.extend(cols.iter().map(|(n, _)| *n));
        }
        let mut ps =
            vec![tp.clone(), q.arg(id), one.clone(), nowp.clone(), up.clone(), nowp.clone(), up.clone(), q.arg(hash)];
        if entity == Entity::Contact {
            ps.push(q.arg(account));
        }
        ps.extend(cols.into_iter().map(|(_, a)| q.arg(a)));
        values.push(format!("({})", ps.join(", ")));
    }
    if values.is_empty() {
        return None;
    }
    q.sql = format!("INSERT INTO {} ({}) VALUES {}", table(entity), names.join(", "), values.join(", "));
    Some(q)
}

/// The audit rows and the outbox's events (`{entity}.created`) of the records a batch
/// created: one multi-row statement each.
fn audit_many<'a>(ctx: &Ctx, entity: Entity, ids: impl Iterator<Item = &'a str>, import_id: &str, now: i64) -> Vec<Q> {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        return Vec::new();
    }
    let changes = serde_json::json!({"import": import_id});
    let mut q = Q::new("");
    let tp = q.arg(ctx.tenant_id());
    let ep = q.arg(entity.as_str());
    let up = q.arg(ctx.user_id());
    let nowp = q.arg(now);
    let ch = q.arg(changes.to_string());
    let vals: Vec<String> = ids
        .iter()
        .map(|id| {
            let (a, b) = (q.arg(new_id()), q.arg(*id));
            format!("({tp}, {a}, {ep}, {b}, 'create', 1, {up}, {nowp}, {ch})")
        })
        .collect();
    q.sql = format!(
        "INSERT INTO audit_log (tenant_id, id, entity, entity_id, action, version, user_id, at, changes) VALUES {}",
        vals.join(", ")
    );
    let mut e = Q::new("");
    let tp = e.arg(ctx.tenant_id());
    let kp = e.arg(karta_kernel::events::record_kind(entity.as_str(), "create"));
    let ep = e.arg(entity.as_str());
    let up = e.arg(ctx.user_id());
    let nowp = e.arg(now);
    let dp = e.arg(serde_json::json!({ "changes": changes }).to_string());
    let vals: Vec<String> = ids
        .iter()
        .map(|id| {
            let (a, b) = (e.arg(new_id()), e.arg(*id));
            format!("({tp}, {a}, {kp}, {ep}, {b}, 1, {up}, {nowp}, {dp})")
        })
        .collect();
    e.sql = format!(
        "INSERT INTO events (tenant_id, id, kind, entity, record_id, version, user_id, at, data) VALUES {}",
        vals.join(", ")
    );
    vec![q, e]
}

/// A contact's birthday and important dates as `party_dates` rows (entity id, owner, label, date).
fn dates_of<'a>(id: &'a str, i: &'a PartyInput) -> impl Iterator<Item = (&'a str, &'a str, String, String)> + 'a {
    let b = (!i.birthday.is_empty()).then(|| ("birthday".to_string(), i.birthday.clone()));
    b.into_iter()
        .chain(i.important_dates.iter().map(|d| (d.label.clone(), d.date.clone())))
        .filter(|(_, d)| d.len() == 10)
        .map(move |(l, d)| (id, i.owner_id.as_str(), l, d))
}

fn dates_q(ctx: &Ctx, dates: &[(&str, &str, String, String)]) -> Option<Q> {
    if dates.is_empty() {
        return None;
    }
    let mut q = Q::new("");
    let tp = q.arg(ctx.tenant_id());
    let vals: Vec<String> = dates
        .iter()
        .map(|(id, owner, label, date)| {
            let md = date.get(5..10).unwrap_or_default().to_string();
            let (a, b, c, d, e) = (q.arg(*id), q.arg(*owner), q.arg(md), q.arg(label.as_str()), q.arg(date.as_str()));
            format!("({tp}, 'contact', {a}, {b}, {c}, {d}, {e})")
        })
        .collect();
    q.sql = format!(
        "INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date) VALUES {}",
        vals.join(", ")
    );
    Some(q)
}

/// Links new contacts to their accounts and files their birthdays and important dates.
fn link_and_date(ctx: &Ctx, rows: &[Parsed], ids: &[String], accounts: &HashMap<String, String>, now: i64) -> Vec<Q> {
    let mut qs = Vec::new();
    let links: Vec<(&str, &str)> = rows
        .iter()
        .zip(ids)
        .filter_map(|(p, id)| accounts.get(&p.account_key).map(|a| (id.as_str(), a.as_str())))
        .collect();
    for chunk in links.chunks(CHUNK) {
        let mut q = Q::new("");
        let tp = q.arg(ctx.tenant_id());
        let nowp = q.arg(now);
        let vals: Vec<String> = chunk
            .iter()
            .map(|(c, a)| {
                let (cp, ap) = (q.arg(*c), q.arg(*a));
                format!("({tp}, {cp}, {ap}, '', {nowp})")
            })
            .collect();
        q.sql = format!(
            "INSERT INTO contact_accounts (tenant_id, contact_id, account_id, role, created_at) VALUES {}",
            vals.join(", ")
        );
        qs.push(q);
    }
    let dates: Vec<(&str, &str, String, String)> =
        rows.iter().zip(ids).flat_map(|(p, id)| dates_of(id, &p.data.input)).collect();
    for chunk in dates.chunks(CHUNK) {
        qs.extend(dates_q(ctx, chunk));
    }
    qs
}

fn update_one(ctx: &Ctx, entity: Entity, old: &parties::Party, d: &PartyData, hash: &str, now: i64) -> Vec<Q> {
    let mut q = Q::new("");
    let sets: Vec<String> = parties::columns(d).into_iter().map(|(n, a)| format!("{n} = {}", q.arg(a))).collect();
    let (tp, idp, nowp, up, hp) =
        (q.arg(ctx.tenant_id()), q.arg(&old.id), q.arg(now), q.arg(ctx.user_id()), q.arg(hash));
    q.sql = format!(
        "UPDATE {} SET {}, version = version + 1, updated_at = {nowp}, updated_by = {up}, import_hash = {hp} \
         WHERE tenant_id = {tp} AND id = {idp}",
        table(entity),
        sets.join(", ")
    );
    let changes = audit::diff(&parties::audit_json(entity, &old.input), &parties::audit_json(entity, &d.input));
    let audit_q = Q::new(
        "INSERT INTO audit_log (tenant_id, id, entity, entity_id, action, version, user_id, at, changes) \
         VALUES ($1, $2, $3, $4, 'update', $5, $6, $7, $8)",
    )
    .bind(ctx.tenant_id())
    .bind(new_id())
    .bind(entity.as_str())
    .bind(&old.id)
    .bind(old.version + 1)
    .bind(ctx.user_id())
    .bind(now)
    .bind(serde_json::Value::from(changes.clone()).to_string());
    let kind = karta_kernel::events::record_kind(entity.as_str(), "update");
    let event = karta_kernel::events::NewEvent {
        tenant_id: ctx.tenant_id(),
        user_id: ctx.user_id(),
        kind: &kind,
        entity: entity.as_str(),
        record_id: &old.id,
        version: old.version + 1,
        data: serde_json::json!({ "changes": changes }),
    };
    let mut qs = vec![q, audit_q, karta_kernel::events::insert(&event, now)];
    if entity == Entity::Contact {
        qs.push(
            Q::new("DELETE FROM party_dates WHERE tenant_id = $1 AND entity = 'contact' AND entity_id = $2")
                .bind(ctx.tenant_id())
                .bind(&old.id),
        );
        let dates: Vec<_> = dates_of(&old.id, &d.input).collect();
        qs.extend(dates_q(ctx, &dates));
    }
    qs
}

/// Reads a file's header and first rows for the wizard's preview.
///
/// # Errors
/// `Ok(Err(_))` for a file that cannot be imported; `Err` for I/O errors.
pub fn inspect(
    path: &Path,
    opts: Options,
    n: usize,
) -> std::io::Result<std::result::Result<(source::Opened, Vec<Record>), FileError>> {
    Ok(match source::open(path, opts)? {
        Ok((opened, mut rows)) => Ok((opened, source::preview(&mut rows, n)?)),
        Err(e) => Err(e),
    })
}

/// Imports that were waiting or cut off (by a restart), for the worker to run.
///
/// # Errors
/// Database errors.
pub async fn pending(db: &Db) -> Result<Vec<(String, String, String)>> {
    let rows = db
        .all(Q::new(
            "SELECT tenant_id, id, user_id FROM imports WHERE status IN ('queued', 'running', 'dry_running') \
             AND runner = 'web' ORDER BY created_at",
        ))
        .await?;
    Ok(rows.iter().map(|r| (r.s("tenant_id"), r.s("id"), r.s("user_id"))).collect())
}
