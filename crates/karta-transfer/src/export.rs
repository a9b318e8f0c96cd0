//! Exports: a list (its filters, sort and columns) streamed as CSV, XLSX or vCard, page by
//! page along the list's own keyset order, so memory stays flat however long the list is.

use crate::columns::{self, RowExtras};
use karta_core::custom::FieldDef;
use karta_core::{now_ms, Action, Entity};
use karta_formats::vcard;
use karta_kernel::audit;
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Q};
use karta_kernel::error::{Result, StoreError};
use karta_kernel::listq::ListQuery;
use karta_parties::parties::{self, Party};
use karta_sales::deals::{self, Deal};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Rows per page read (deals).
const PAGE: i64 = 500;
/// Rows per chunk of a streamed read (accounts and contacts).
const STREAM_CHUNK: usize = 1000;
/// Bytes gathered before a chunk is handed on.
const FLUSH: usize = 128 * 1024;

/// Writes an export's rows into bytes, handed on a chunk at a time.
pub trait FormatWriter: Send {
    /// Writes row `n` (1-based; the header is row 1).
    ///
    /// # Errors
    /// Writing failed.
    fn row(&mut self, n: u64, cells: &[&str]) -> std::io::Result<()>;

    /// Writes an account or contact whole (formats of one document per record, such as a
    /// vCard); `false` when the format writes rows instead.
    fn record(&mut self, _p: &Party, _account: &str) -> bool {
        false
    }

    /// Bytes ready to hand on (all of them when `all`).
    fn take(&mut self, all: bool) -> Vec<u8>;

    /// The last bytes.
    ///
    /// # Errors
    /// Writing failed.
    fn finish(self: Box<Self>) -> std::io::Result<Vec<u8>>;
}

/// An export format, registered by the context that writes it ([`FORMATS`]).
#[derive(Clone, Copy)]
pub struct ExportFormat {
    /// The name in URLs and the file extension (`csv`).
    pub key: &'static str,
    /// Other names it is asked by.
    pub aliases: &'static [&'static str],
    /// The media type.
    pub mime: &'static str,
    /// The one entity it exports, when it is not for every list (vCard: contacts).
    pub only: Option<Entity>,
    /// One document per record, without a header row (vCard).
    pub whole_records: bool,
    /// A new writer.
    pub make: fn() -> std::io::Result<Box<dyn FormatWriter>>,
}

impl std::fmt::Debug for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key)
    }
}

impl PartialEq for ExportFormat {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

/// The export formats by key; transfer registers CSV, XLSX and vCard, other contexts may add
/// theirs.
pub static FORMATS: karta_kernel::hooks::Registry<ExportFormat> = karta_kernel::hooks::Registry::new();

/// Comma-separated, UTF-8 with a BOM (so Excel reads Cyrillic right).
pub const CSV: ExportFormat = ExportFormat {
    key: "csv",
    aliases: &[],
    mime: "text/csv; charset=utf-8",
    only: None,
    whole_records: false,
    make: || Ok(Box::new(Csv(vec![0xEF, 0xBB, 0xBF]))),
};

/// An Excel workbook.
pub const XLSX: ExportFormat = ExportFormat {
    key: "xlsx",
    aliases: &[],
    mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    only: None,
    whole_records: false,
    make: || Ok(Box::new(Xlsx::new()?)),
};

/// vCard 4.0 (contacts only).
pub const VCF: ExportFormat = ExportFormat {
    key: "vcf",
    aliases: &["vcard"],
    mime: "text/vcard; charset=utf-8",
    only: Some(Entity::Contact),
    whole_records: true,
    make: || Ok(Box::new(Vcf(String::new()))),
};

/// Registers the formats this context writes.
pub fn register() {
    for f in [CSV, XLSX, VCF] {
        FORMATS.add(f.key, f);
    }
}

impl ExportFormat {
    /// The registered format named `s` (its key or an alias, any case).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        FORMATS.all().into_iter().find(|f| f.key == s || f.aliases.contains(&s.as_str()))
    }

    /// The file extension.
    #[must_use]
    pub fn ext(self) -> &'static str {
        self.key
    }

    /// The media type.
    #[must_use]
    pub fn mime(self) -> &'static str {
        self.mime
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// Accounts, contacts or deals.
    pub entity: Entity,
    /// The format.
    pub format: ExportFormat,
    /// The list's filters and sort (its limit and cursor are ignored).
    pub query: ListQuery,
    /// The list's columns (list column names); empty = every column.
    pub columns: Vec<String>,
    /// Headers, pipeline and stage names in Russian (else English). Either imports back.
    pub ru: bool,
}

/// A column of the output: header and how to get the cell.
#[derive(Debug, Clone)]
enum Col {
    Std(&'static columns::Column),
    Custom(FieldDef),
    Deal(&'static (&'static str, &'static str, &'static str)),
}

impl Col {
    fn header(&self, ru: bool) -> String {
        match self {
            Self::Std(c) => (if ru { c.ru } else { c.en }).to_string(),
            Self::Deal((_, en, r)) => (if ru { *r } else { *en }).to_string(),
            Self::Custom(d) => d.label(ru).to_string(),
        }
    }
}

/// Deal columns: key, English and Russian header.
const DEAL_COLS: [(&str, &str, &str); 16] = [
    ("id", "Id", "Id"),
    ("title", "Title", "Название"),
    ("account", "Company", "Компания"),
    ("pipeline", "Pipeline", "Воронка"),
    ("stage", "Stage", "Этап"),
    ("status", "Status", "Статус"),
    ("amount", "Amount", "Сумма"),
    ("currency", "Currency", "Валюта"),
    ("probability", "Probability", "Вероятность"),
    ("close_date", "Close date", "Дата закрытия"),
    ("owner", "Owner", "Ответственный"),
    ("source", "Source", "Источник"),
    ("next_step", "Next step", "Следующий шаг"),
    ("lost_reason", "Lost reason", "Причина проигрыша"),
    ("created_at", "Created", "Создана"),
    ("description", "Description", "Описание"),
];

/// The columns of an export: the list's own when it names some, else every column. A
/// contact's `name` is written as its name parts so the file imports back exactly.
fn plan(entity: Entity, wanted: &[String], defs: &[FieldDef]) -> Vec<Col> {
    let customs = || defs.iter().filter(|d| d.active).cloned().map(Col::Custom);
    if entity == Entity::Deal {
        let all = || DEAL_COLS.iter().map(Col::Deal);
        if wanted.is_empty() {
            return all().chain(customs()).collect();
        }
        return wanted
            .iter()
            .filter_map(|w| {
                let w = w.strip_prefix("cf.").map_or(w.clone(), |k| format!("custom.{k}"));
                if let Some(k) = w.strip_prefix("custom.") {
                    return defs.iter().find(|d| d.key == k).cloned().map(Col::Custom);
                }
                DEAL_COLS.iter().find(|(k, ..)| *k == w).map(Col::Deal)
            })
            .collect();
    }
    let std_col = |k: &str| columns::for_entity(entity).find(|c| c.key == k).map(Col::Std);
    if wanted.is_empty() {
        return columns::for_entity(entity).filter(|c| c.key != "full_name").map(Col::Std).chain(customs()).collect();
    }
    let mut out = vec![];
    for w in wanted {
        let w = w.strip_prefix("cf.").map_or(w.clone(), |k| format!("custom.{k}"));
        if let Some(k) = w.strip_prefix("custom.") {
            out.extend(defs.iter().find(|d| d.key == k).cloned().map(Col::Custom));
            continue;
        }
        let keys: &[&str] = match (entity, w.as_str()) {
            (Entity::Contact, "name") => &["last_name", "first_name", "middle_name"],
            (_, "tag") => &["tags"],
            (_, k) => &[k][..],
        };
        // Keys are borrowed from `w` only for the lookup; the catalogue supplies the statics.
        out.extend(keys.iter().filter_map(|k| std_col(k)));
    }
    if out.is_empty() {
        return plan(entity, &[], defs);
    }
    out
}

/// CSV rows in a buffer.
struct Csv(Vec<u8>);

/// vCards in a buffer.
struct Vcf(String);

/// An XLSX workbook streamed through a zip writer into a shared buffer.
struct Xlsx(Box<zip::ZipWriter<zip::write::StreamWriter<Shared>>>, Shared);

/// A byte buffer shared between the zip writer and the code that hands chunks on.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn csv_cell(out: &mut Vec<u8>, s: &str) {
    let s = columns::neutralise(s);
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

fn col_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

impl Xlsx {
    fn new() -> std::io::Result<Self> {
        let shared = Shared::default();
        let mut z = zip::ZipWriter::new_stream(shared.clone());
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let files: [(&str, &str); 4] = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
        ];
        for (name, body) in files {
            z.start_file(name, o).map_err(std::io::Error::other)?;
            z.write_all(body.as_bytes())?;
        }
        z.start_file("xl/worksheets/sheet1.xml", o).map_err(std::io::Error::other)?;
        z.write_all(
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        )?;
        Ok(Self(Box::new(z), shared))
    }
}

impl FormatWriter for Csv {
    fn row(&mut self, _n: u64, cells: &[&str]) -> std::io::Result<()> {
        let out = &mut self.0;
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            csv_cell(out, c);
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    fn take(&mut self, all: bool) -> Vec<u8> {
        if all || self.0.len() >= FLUSH {
            std::mem::take(&mut self.0)
        } else {
            Vec::new()
        }
    }

    fn finish(self: Box<Self>) -> std::io::Result<Vec<u8>> {
        Ok(self.0)
    }
}

impl FormatWriter for Vcf {
    fn row(&mut self, _n: u64, _cells: &[&str]) -> std::io::Result<()> {
        Ok(())
    }

    fn record(&mut self, p: &Party, account: &str) -> bool {
        vcard::write(&mut self.0, &p.id, &p.input, account);
        true
    }

    fn take(&mut self, all: bool) -> Vec<u8> {
        if all || self.0.len() >= FLUSH {
            std::mem::take(&mut self.0).into_bytes()
        } else {
            Vec::new()
        }
    }

    fn finish(self: Box<Self>) -> std::io::Result<Vec<u8>> {
        Ok(self.0.into_bytes())
    }
}

impl FormatWriter for Xlsx {
    fn row(&mut self, n: u64, cells: &[&str]) -> std::io::Result<()> {
        let mut s = format!("<row r=\"{n}\">");
        for (i, c) in cells.iter().enumerate() {
            if c.is_empty() {
                continue;
            }
            s.push_str(&format!(
                "<c r=\"{}{n}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                col_name(i),
                xml_escape(&columns::neutralise(c))
            ));
        }
        s.push_str("</row>");
        self.0.write_all(s.as_bytes())
    }

    fn take(&mut self, all: bool) -> Vec<u8> {
        let shared = &self.1;
        let mut b = shared.0.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default();
        if !all && b.len() < FLUSH {
            // Put it back until there is enough.
            if let Ok(mut g) = shared.0.lock() {
                let rest = std::mem::take(&mut *g);
                b.extend(rest);
                *g = b;
            }
            return Vec::new();
        }
        b
    }

    fn finish(self: Box<Self>) -> std::io::Result<Vec<u8>> {
        let Xlsx(mut z, shared) = *self;
        z.write_all(b"</sheetData></worksheet>")?;
        z.finish().map_err(std::io::Error::other)?;
        Ok(shared.0.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default())
    }
}

/// Where the bytes go.
pub type Sink = tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>;

/// Checks that the caller may export the entity (before a response starts streaming).
///
/// # Errors
/// `Forbidden`; `Invalid` for a format not made for the entity (vCard of accounts).
pub fn authorise(ctx: &Ctx, entity: Entity, format: ExportFormat) -> Result<()> {
    if !matches!(entity, Entity::Account | Entity::Contact | Entity::Deal) {
        return Err(StoreError::field("entity", "invalid_choice"));
    }
    ctx.scope(entity, Action::Export)?;
    if format.only.is_some_and(|only| only != entity) {
        return Err(StoreError::field("format", "invalid_choice"));
    }
    Ok(())
}

/// Streams an export into `sink`; returns the number of records written. The export is
/// audited with its filters and count.
///
/// # Errors
/// `Forbidden` without the export permission; `Invalid` for a bad filter or sort.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = spec.entity.as_str()))]
pub async fn export(db: &Db, ctx: &Ctx, spec: &ExportSpec, sink: &Sink) -> Result<u64> {
    authorise(ctx, spec.entity, spec.format)?;
    let io = |e: std::io::Error| StoreError::Other(e.into());
    let defs = karta_kernel::fields::list(db, ctx, spec.entity, true).await?;
    let cols = plan(spec.entity, &spec.columns, &defs);
    let emails: HashMap<String, String> = db
        .all(Q::new("SELECT id, email FROM users WHERE tenant_id = $1").bind(ctx.tenant_id()))
        .await?
        .iter()
        .map(|r| (r.s("id"), r.s("email")))
        .collect();
    let mut w = (spec.format.make)().map_err(io)?;
    if !spec.format.whole_records {
        let headers: Vec<String> = cols.iter().map(|c| c.header(spec.ru)).collect();
        w.row(1, &headers.iter().map(String::as_str).collect::<Vec<_>>()).map_err(io)?;
    }
    let mut lq = spec.query.clone();
    lq.limit = PAGE;
    lq.after = None;
    let mut n: u64 = 0;
    let names = if spec.entity == Entity::Deal { stage_names(db, ctx, spec.ru).await? } else { HashMap::new() };
    if spec.entity != Entity::Deal {
        // Accounts and contacts: one statement, streamed.
        let mut rx = db.stream(parties::export_query(db, ctx, spec.entity, &spec.query).await?, STREAM_CHUNK);
        let mut companies = Companies::default();
        // Names are looked up only when written: on PostgreSQL a look-up takes a second
        // connection while the stream holds one.
        let wants_company = spec.format.whole_records
            || (spec.entity == Entity::Contact && cols.iter().any(|c| matches!(c, Col::Std(c) if c.key == "account")));
        // People whose data may not leave Karta (the personal-data gate) are left out; with
        // no gate registered nothing is asked.
        let gated = spec.entity == Entity::Contact && karta_kernel::hooks::gated();
        while let Some(rows) = rx.recv().await {
            let rows = rows?;
            let names =
                if wants_company { companies.of(db, ctx, &rows).await? } else { vec![String::new(); rows.len()] };
            let refused = if gated {
                let ids: Vec<String> = rows.iter().map(|r| r.s("id")).collect();
                karta_kernel::hooks::refused(db, ctx, &ids, karta_kernel::hooks::Purpose::Export).await?
            } else {
                std::collections::HashSet::new()
            };
            for (r, account) in rows.iter().zip(names) {
                let p = parties::from_row(spec.entity, r);
                if refused.contains(&p.id) {
                    continue;
                }
                n += 1;
                let extras = RowExtras {
                    id: p.id.clone(),
                    owner_email: emails.get(&p.input.owner_id).cloned().unwrap_or_default(),
                    account,
                };
                party_row(w.as_mut(), n, &cols, &p, &extras).map_err(io)?;
            }
            let chunk = w.take(false);
            if !chunk.is_empty() && sink.send(Ok(chunk)).await.is_err() {
                // The receiver went away (a closed download): stop reading.
                return Ok(n);
            }
        }
    }
    // Deals: page by page along the list's keyset.
    let mut more = spec.entity == Entity::Deal;
    while more {
        let page = deals::list(db, ctx, now_ms(), &lq).await?;
        for d in &page.items {
            n += 1;
            let cells: Vec<String> = cols.iter().map(|c| deal_cell(c, d, &emails, &names)).collect();
            w.row(n + 1, &cells.iter().map(String::as_str).collect::<Vec<_>>()).map_err(io)?;
        }
        let chunk = w.take(false);
        if !chunk.is_empty() && sink.send(Ok(chunk)).await.is_err() {
            // The receiver went away (a closed download): stop reading.
            return Ok(n);
        }
        more = page.next.is_some();
        lq.after = page.next;
    }
    let rest = w.finish().map_err(io)?;
    if !rest.is_empty() {
        let _ = sink.send(Ok(rest)).await;
    }
    let mut tx = db.begin().await?;
    let filters: Vec<String> = spec.query.filters.iter().map(karta_kernel::listq::Filter::encode).collect();
    audit::record(
        &mut tx,
        ctx,
        spec.entity.as_str(),
        "",
        "export",
        0,
        serde_json::json!({"format": spec.format.ext(), "records": n, "filters": filters,
            "sort": spec.query.sort, "columns": spec.columns}),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Account names an export has looked up, by id (`None` for one in the trash), at most
/// `kept` of them: past that the cache starts over, so memory stays flat.
struct Companies {
    names: HashMap<String, Option<String>>,
    kept: usize,
}

impl Default for Companies {
    fn default() -> Self {
        Self { names: HashMap::new(), kept: 50_000 }
    }
}

impl Companies {
    /// The company of each row (its `company_id`, or when that account is in the trash the
    /// earliest other linked account that is not), with one look-up per chunk for the names
    /// not seen yet and one for the contacts whose company is in the trash.
    async fn of(&mut self, db: &Db, ctx: &Ctx, rows: &[karta_kernel::db::Row]) -> Result<Vec<String>> {
        let ids: Vec<String> = rows.iter().map(|r| r.s("company_id")).collect();
        // Cleared before the chunk's own names are gathered, so that all of them are looked up.
        if self.names.len() >= self.kept {
            self.names.clear();
        }
        let mut missing: Vec<&str> =
            ids.iter().map(String::as_str).filter(|a| !a.is_empty() && !self.names.contains_key(*a)).collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let mut q = Q::new("");
            let t = q.arg(ctx.tenant_id());
            let ps: Vec<String> = missing.iter().map(|a| q.arg(*a)).collect();
            q.sql = format!(
                "SELECT id, name, deleted_at FROM accounts WHERE tenant_id = {t} AND id IN ({})",
                ps.join(", ")
            );
            for a in &missing {
                self.names.insert((*a).to_string(), None);
            }
            for r in db.all(q).await? {
                let name = r.oi("deleted_at").is_none().then(|| r.s("name"));
                self.names.insert(r.s("id"), name);
            }
        }
        let mut out: Vec<String> =
            ids.iter().map(|a| self.names.get(a).cloned().flatten().unwrap_or_default()).collect();
        // A company in the trash gives way to the contact's earliest link that is not.
        let trashed: Vec<usize> =
            (0..rows.len()).filter(|i| !ids[*i].is_empty() && matches!(self.names.get(&ids[*i]), Some(None))).collect();
        if !trashed.is_empty() {
            let mut q = Q::new("");
            let t = q.arg(ctx.tenant_id());
            let ps: Vec<String> = trashed.iter().map(|i| q.arg(rows[*i].s("id"))).collect();
            q.sql = format!(
                "SELECT ca.contact_id, a.name FROM contact_accounts ca JOIN accounts a ON a.tenant_id = ca.tenant_id \
                 AND a.id = ca.account_id WHERE ca.tenant_id = {t} AND ca.contact_id IN ({}) AND a.deleted_at IS NULL \
                 ORDER BY ca.contact_id, ca.created_at, ca.account_id",
                ps.join(", ")
            );
            let mut first: HashMap<String, String> = HashMap::new();
            for r in db.all(q).await? {
                first.entry(r.s("contact_id")).or_insert_with(|| r.s("name"));
            }
            for i in trashed {
                out[i] = first.get(&rows[i].s("id")).cloned().unwrap_or_default();
            }
        }
        Ok(out)
    }
}

/// Writes one account or contact.
fn party_row(w: &mut dyn FormatWriter, n: u64, cols: &[Col], p: &Party, extras: &RowExtras) -> std::io::Result<()> {
    if w.record(p, &extras.account) {
        return Ok(());
    }
    let cells: Vec<std::borrow::Cow<'_, str>> = cols
        .iter()
        .map(|c| match c {
            Col::Std(c) => columns::cell(c.key, &p.input, extras),
            Col::Custom(d) => p.input.custom.get(&d.key).map(|v| d.text(v)).unwrap_or_default().into(),
            Col::Deal(..) => "".into(),
        })
        .collect();
    w.row(n + 1, &cells.iter().map(AsRef::as_ref).collect::<Vec<&str>>())
}

/// Pipeline, stage and lost-reason names by id, in one language.
async fn stage_names(db: &Db, ctx: &Ctx, ru: bool) -> Result<HashMap<String, String>> {
    let col = if ru { "name_ru" } else { "name_en" };
    let mut out = HashMap::new();
    for table in ["pipelines", "stages", "lost_reasons"] {
        let q = Q::new(format!("SELECT id, {col} AS name FROM {table} WHERE tenant_id = $1")).bind(ctx.tenant_id());
        for r in db.all(q).await? {
            out.insert(r.s("id"), r.s("name"));
        }
    }
    Ok(out)
}

fn deal_cell(c: &Col, d: &Deal, emails: &HashMap<String, String>, names: &HashMap<String, String>) -> String {
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    match c {
        Col::Deal((k, ..)) => match *k {
            "id" => d.id.clone(),
            "title" => d.title.clone(),
            "account" => d.account_name.clone(),
            "pipeline" => name(&d.pipeline_id),
            "stage" => name(&d.stage_id),
            "status" => d.status.clone(),
            "amount" => d.amount.clone(),
            "currency" => d.currency.clone(),
            "probability" => d.probability.to_string(),
            "close_date" => d.close_date.clone(),
            "owner" => emails.get(&d.owner_id).cloned().unwrap_or_default(),
            "source" => d.source.clone(),
            "next_step" => d.next_step.clone(),
            "lost_reason" => {
                if d.lost_reason_text.is_empty() {
                    name(&d.lost_reason_id)
                } else {
                    d.lost_reason_text.clone()
                }
            }
            "created_at" => time::OffsetDateTime::from_unix_timestamp(d.created_at / 1000)
                .map(|t| format!("{}", t.date()))
                .unwrap_or_default(),
            "description" => d.description.clone(),
            _ => String::new(),
        },
        Col::Custom(def) => d.custom.get(&def.key).map(|v| def.text(v)).unwrap_or_default(),
        Col::Std(..) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_neutralised() {
        let mut out = Vec::new();
        for s in ["plain", "a,b", "say \"hi\"", "=HYPERLINK(\"x\")", "+7 999", "line\nbreak"] {
            csv_cell(&mut out, s);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=HYPERLINK(\"\"x\"\")\"|'+7 999|\"line\nbreak\"|"
        );
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(27), "AB");
    }

    #[tokio::test]
    async fn a_full_name_cache_starts_over_without_losing_a_chunks_companies() {
        use karta_core::party::PartyInput;
        // The contexts' registrations, as the app makes them.
        karta_parties::register();
        let dir = std::env::temp_dir().join(format!("karta-companies-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let db = Db::connect(&url, &karta_kernel::DbOptions::default()).await.expect("db");
        karta_kernel::migrate(&db).await.expect("migrate");
        let t = karta_kernel::tenants::create(&db, "t", "T", "RU").await.expect("tenant");
        let operator = karta_kernel::Admin::operator(&t.id);
        let u = karta_kernel::users::create(&db, &operator, "a@t.test", "A", karta_core::Role::Admin.as_str(), None)
            .await
            .expect("user");
        let ctx = karta_kernel::users::act_as(&db, &t.id, &u.id).await.expect("ctx");
        for name in ["Альфа", "Бета", "Гамма"] {
            let input = PartyInput { name: name.into(), ..PartyInput::default() };
            let a = parties::create(&db, &ctx, Entity::Account, input).await.expect("account");
            let input = PartyInput { last_name: format!("Контакт {name}"), ..PartyInput::default() };
            let c = parties::create(&db, &ctx, Entity::Contact, input).await.expect("contact");
            karta_parties::links::link(&db, &ctx, &c.id, &a.id, "").await.expect("link");
        }
        let q = parties::export_query(&db, &ctx, Entity::Contact, &ListQuery::default()).await.expect("query");
        let rows = db.all(q).await.expect("rows");
        // Two names fill the cache; the next chunk starts it over and still names all three.
        let mut companies = Companies { names: HashMap::new(), kept: 2 };
        assert_eq!(companies.of(&db, &ctx, &rows[..2]).await.expect("first"), ["Альфа", "Бета"]);
        assert_eq!(companies.of(&db, &ctx, &rows).await.expect("all"), ["Альфа", "Бета", "Гамма"]);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_xlsx_export_reads_back_with_calamine() {
        use calamine::Reader;
        let mut w = (XLSX.make)().expect("new");
        w.row(1, &["Name", "E-mail"]).expect("row");
        w.row(2, &["Ёлка & <Ко>", "=cmd"]).expect("row");
        let mut bytes = w.take(true);
        bytes.extend(w.finish().expect("finish"));
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("open");
        let r = wb.worksheet_range_at(0).expect("sheet").expect("range");
        let rows: Vec<Vec<String>> = r.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        assert_eq!(rows, vec![vec!["Name".to_string(), "E-mail".into()], vec!["Ёлка & <Ко>".into(), "'=cmd".into()]]);
    }
}
