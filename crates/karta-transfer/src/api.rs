//! Imports and exports over HTTP: the upload, preview, mapping and run of an import
//! (`/api/v1/imports…`), the streamed exports of the lists (`/api/v1/{contacts|accounts|deals}/export`),
//! and the helpers the UI's wizard and export links share with them.

use crate::export::{self, ExportFormat, ExportSpec};
use crate::import::{self, Dedup, Import, Reject};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use karta_core::{Entity, FieldError};
use karta_formats::csvread::Encoding;
use karta_formats::source::{self, FileError};
use karta_kernel::listq::ListQuery;
use karta_kernel::{Ctx, StoreError};
use karta_parties::parties;
use karta_sales::deals;
use karta_webkit::api::list_query;
use karta_webkit::api::ApiJson;
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest file an import accepts.
pub const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;

/// Rows shown in a preview.
pub const PREVIEW_ROWS: usize = 10;

/// Why an upload did not become an import.
#[derive(Debug)]
pub enum UploadError {
    /// The file cannot be imported (empty, binary, unreadable).
    File(FileError),
    /// Larger than [`UPLOAD_LIMIT`].
    TooLarge,
    /// Refused by the store (permission, entity).
    Store(StoreError),
    /// Disk trouble.
    Io(std::io::Error),
}

impl From<StoreError> for UploadError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<std::io::Error> for UploadError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::File(f) => ApiError::Invalid(vec![FieldError::new("file", f.code())]),
            UploadError::TooLarge => ApiError::TooLarge,
            UploadError::Store(s) => s.into(),
            UploadError::Io(e) => ApiError::Internal(e.into()),
        }
    }
}

/// `contacts`/`contact` or `accounts`/`account`.
pub fn import_entity(s: &str) -> Option<Entity> {
    match s.trim() {
        "contacts" | "contact" => Some(Entity::Contact),
        "accounts" | "account" => Some(Entity::Account),
        _ => None,
    }
}

/// `auto` (or empty) is `None`; an unknown name is an error.
pub(crate) fn encoding_of(s: &str) -> Result<Option<Encoding>, ()> {
    match s.trim() {
        "" | "auto" => Ok(None),
        e => Encoding::parse(e).map(Some).ok_or(()),
    }
}

/// A new upload being written to the imports directory.
pub struct Upload {
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    written: usize,
}

impl Upload {
    /// Starts a file named after a fresh id, with the extension of `file_name`.
    pub fn start(dir: &FsPath, file_name: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let ext: String = file_name
            .rsplit_once('.')
            .map(|(_, e)| {
                e.chars().filter(char::is_ascii_alphanumeric).take(8).collect::<String>().to_ascii_lowercase()
            })
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "dat".into());
        let path = dir.join(format!("{}.{ext}", karta_core::new_id()));
        let file = std::fs::File::create(&path)?;
        Ok(Self { path, file: Some(std::io::BufWriter::with_capacity(256 * 1024, file)), written: 0 })
    }

    /// Appends a chunk.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.written += chunk.len();
        if self.written > UPLOAD_LIMIT {
            return Err(UploadError::TooLarge);
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk)?;
        }
        Ok(())
    }

    /// Closes the file and hands over its path (the file is no longer removed on drop).
    fn finish(mut self) -> Result<PathBuf, UploadError> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        Ok(std::mem::take(&mut self.path))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // An upload never finished (an error, a dropped connection) leaves no file behind.
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What the wizard shows before the mapping: the header, the first rows and a mapping.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    /// The header row.
    pub headers: Vec<String>,
    /// The first rows.
    pub rows: Vec<PreviewRow>,
    /// The encoding used to read the file (`utf-8` or `windows-1251`).
    pub encoding: String,
    /// The delimiter found (CSV).
    pub delimiter: String,
    /// A target per column: the saved mapping, else the one remembered for this header row,
    /// else suggested from the header names. Empty = ignored.
    pub mapping: Vec<String>,
}

/// A row of a preview.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewRow {
    /// Line number in the file.
    pub line: u64,
    /// The cells.
    pub fields: Vec<String>,
    /// Why the row cannot be read, if so.
    pub error: Option<String>,
}

/// Reads the header and first rows of an import's file (with `encoding` instead of the
/// import's own when given) and the mapping to offer.
pub async fn preview(
    st: &AppState,
    ctx: &Ctx,
    imp: &Import,
    encoding: Option<Option<Encoding>>,
) -> Result<Preview, UploadError> {
    let mut opts = imp.options();
    if let Some(e) = encoding {
        opts.encoding = e;
    }
    let path = PathBuf::from(&imp.file_path);
    let read = tokio::task::spawn_blocking(move || import::inspect(&path, opts, PREVIEW_ROWS))
        .await
        .map_err(|e| UploadError::Io(std::io::Error::other(e)))??;
    let (opened, rows) = read.map_err(UploadError::File)?;
    let defs = karta_kernel::fields::list(&st.db, ctx, imp.entity, true).await?;
    let mapping = if imp.mapping.len() == opened.headers.len() && imp.mapping.iter().any(|m| !m.is_empty()) {
        imp.mapping.clone()
    } else {
        import::suggest(&st.db, ctx, imp.entity, &opened.headers, &defs).await?
    };
    Ok(Preview {
        delimiter: match opened.delimiter {
            b'\t' => "tab".into(),
            d => char::from(d).to_string(),
        },
        encoding: opened.encoding.as_str().into(),
        headers: opened.headers,
        rows: rows
            .into_iter()
            .map(|r| PreviewRow { line: r.line, fields: r.fields, error: r.error.map(str::to_string) })
            .collect(),
        mapping,
    })
}

/// The header row of an import's file as it will be read.
pub async fn headers_of(imp: &Import, encoding: Option<Encoding>) -> Result<Vec<String>, UploadError> {
    let mut opts = imp.options();
    opts.encoding = encoding;
    let path = PathBuf::from(&imp.file_path);
    let read = tokio::task::spawn_blocking(move || import::inspect(&path, opts, 0))
        .await
        .map_err(|e| UploadError::Io(std::io::Error::other(e)))??;
    read.map(|(o, _)| o.headers).map_err(UploadError::File)
}

/// Turns a written upload into an import: sniffs the format, checks that the file can be
/// read, and registers it. A file that cannot be imported is deleted.
pub async fn register(
    st: &AppState,
    ctx: &Ctx,
    entity: Entity,
    file_name: &str,
    encoding: Option<Encoding>,
    upload: Upload,
) -> Result<Import, UploadError> {
    let path = upload.finish()?;
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name).trim().to_string();
    let checked = {
        let (path, name) = (path.clone(), name.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            use std::io::Read;
            let mut head = vec![0u8; 64 * 1024];
            let mut f = std::fs::File::open(&path)?;
            let mut n = 0;
            while n < head.len() {
                let k = f.read(&mut head[n..])?;
                if k == 0 {
                    break;
                }
                n += k;
            }
            head.truncate(n);
            let format = source::sniff(&head, &name);
            let opts = source::Options { format, encoding };
            Ok(import::inspect(&path, opts, 1)?.map(|_| format))
        })
        .await
        .map_err(|e| UploadError::Io(std::io::Error::other(e)))
    };
    let format = match checked {
        Ok(Ok(Ok(f))) => f,
        Ok(Ok(Err(e))) => {
            let _ = std::fs::remove_file(&path);
            return Err(UploadError::File(e));
        }
        Ok(Err(e)) | Err(UploadError::Io(e)) => {
            let _ = std::fs::remove_file(&path);
            return Err(UploadError::Io(e));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    let name = if name.is_empty() { format!("upload.{}", format.as_str()) } else { name };
    match import::create(&st.db, ctx, entity, &name, &path, format, encoding).await {
        Ok(imp) => Ok(imp),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e.into())
        }
    }
}

/// Queues a run (or dry run) and wakes the worker.
pub async fn queue(st: &AppState, ctx: &Ctx, id: &str, dry_run: bool) -> Result<Import, StoreError> {
    let imp = import::queue(&st.db, ctx, id, dry_run).await?;
    st.config.imports_wake.notify_one();
    Ok(imp)
}

// ---------------------------------------------------------------------------------------------
// Exports.

/// Streams an export as a download. The permission and the filters are checked before the
/// response starts, so a refusal is a proper error rather than a cut-off file.
///
/// # Errors
/// `Forbidden` without the export permission; `Invalid` for vCard of anything but
/// contacts or a bad filter or sort.
pub async fn export_response(
    st: &AppState,
    ctx: &Ctx,
    entity: Entity,
    format: ExportFormat,
    query: ListQuery,
    columns: Vec<String>,
    ru: bool,
) -> Result<Response, StoreError> {
    export::authorise(ctx, entity, format)?;
    let probe = ListQuery { limit: 1, after: None, ..query.clone() };
    if entity == Entity::Deal {
        deals::list(&st.db, ctx, st.clock.now(), &probe).await?;
    } else {
        parties::list(&st.db, ctx, entity, &probe).await?;
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let (db, ctx) = (st.db.clone(), ctx.clone());
    let spec = ExportSpec { entity, format, query, columns, ru };
    tokio::spawn(async move {
        if let Err(e) = export::export(&db, &ctx, &spec, &tx).await {
            tracing::warn!(error = %e, "export stopped");
            // The client sees a broken download rather than a file that looks complete.
            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let date = time::OffsetDateTime::from_unix_timestamp(st.clock.now() / 1000)
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    let name = format!("{}-{date}.{}", karta_webkit::ui::list::kind_of(entity), format.ext());
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.mime()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// The API.

/// Parameters of an upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// `contacts` or `accounts`.
    pub entity: String,
    /// The file's name (its extension helps tell the format).
    #[serde(default)]
    pub file_name: String,
    /// `auto` (default), `utf-8` or `windows-1251`.
    #[serde(default)]
    pub encoding: String,
}

/// A new import with what its file holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCreated {
    /// The import.
    #[serde(flatten)]
    pub import: Import,
    /// The header, the first rows and the suggested mapping.
    pub preview: Preview,
}

/// An import's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingBody {
    /// A target per column of the file: a standard column key (`email`, `first_name`, …),
    /// `custom.KEY`, or `""` to ignore the column.
    pub mapping: Vec<String>,
    /// `skip` (default), `update` or `create`: what to do with a row matching a record.
    #[serde(default)]
    pub dedup: Option<String>,
    /// `auto` (default), `utf-8` or `windows-1251`.
    #[serde(default)]
    pub encoding: Option<String>,
}

fn invalid(field: &str, code: &'static str) -> ApiError {
    ApiError::Invalid(vec![FieldError::new(field, code)])
}

#[utoipa::path(post, path = "/api/v1/imports", params(UploadParams),
    request_body(content = Vec<u8>, description = "the file as it is (CSV, XLSX or vCard), at most 256 MB", content_type = "application/octet-stream"),
    responses((status = 201, body = ImportCreated), (status = 413, description = "file too large"),
        (status = 422, description = "bad entity or encoding; `file` with code empty_file, binary_file or unreadable_file")),
    tag = "imports")]
async fn upload(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<UploadParams>,
    body: Body,
) -> ApiResult<Response> {
    let entity = import_entity(&q.entity).ok_or_else(|| invalid("entity", "invalid_choice"))?;
    let encoding = encoding_of(&q.encoding).map_err(|()| invalid("encoding", "invalid_choice"))?;
    p.ctx.scope(entity, karta_core::Action::Create)?;
    let mut up = Upload::start(&st.config.imports_dir, &q.file_name).map_err(|e| ApiError::Internal(e.into()))?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
        up.write(&chunk)?;
    }
    let imp = match register(&st, &p.ctx, entity, &q.file_name, encoding, up).await {
        Ok(imp) => imp,
        Err(UploadError::File(e)) => return Ok(file_problem(&e)),
        Err(e) => return Err(e.into()),
    };
    let preview = preview(&st, &p.ctx, &imp, None).await?;
    let loc = format!("/api/v1/imports/{}", imp.id);
    let mut r = (StatusCode::CREATED, Json(ImportCreated { import: imp, preview })).into_response();
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/imports", responses((status = 200, body = Vec<Import>, description = "your 50 latest imports")), tag = "imports")]
async fn list(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<Import>>> {
    Ok(Json(import::recent(&st.db, &p.ctx, 50).await?))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Import, description = "status, counts, done_rows of total"), (status = 404)), tag = "imports")]
async fn get_one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Json<Import>> {
    Ok(Json(import::get(&st.db, &p.ctx, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/preview", params(("id" = String, Path),
    ("encoding" = Option<String>, Query, description = "read as `utf-8` or `windows-1251` instead")),
    responses((status = 200, body = Preview), (status = 404)), tag = "imports")]
async fn get_preview(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Preview>> {
    let imp = import::get(&st.db, &p.ctx, &id).await?;
    let enc = match raw.iter().find(|(k, _)| k == "encoding") {
        Some((_, v)) => Some(encoding_of(v).map_err(|()| invalid("encoding", "invalid_choice"))?),
        None => None,
    };
    Ok(Json(preview(&st, &p.ctx, &imp, enc).await?))
}

#[utoipa::path(put, path = "/api/v1/imports/{id}/mapping", params(("id" = String, Path)), request_body = MappingBody,
    responses((status = 200, body = Import), (status = 409, description = "running or done"),
        (status = 422, description = "a bad target, named as `mapping[i]`")), tag = "imports")]
async fn put_mapping(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MappingBody>,
) -> ApiResult<Json<Import>> {
    let imp = import::get(&st.db, &p.ctx, &id).await?;
    let dedup = match b.dedup.as_deref() {
        None => imp.dedup,
        Some(d) => Dedup::parse(d).ok_or_else(|| invalid("dedup", "invalid_choice"))?,
    };
    let encoding = match b.encoding.as_deref() {
        None => Encoding::parse(&imp.encoding),
        Some(e) => encoding_of(e).map_err(|()| invalid("encoding", "invalid_choice"))?,
    };
    let heads = headers_of(&imp, encoding).await?;
    Ok(Json(import::configure(&st.db, &p.ctx, &id, &heads, b.mapping, dedup, encoding).await?))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/dry-run", params(("id" = String, Path)),
    responses((status = 202, body = Import, description = "queued: poll the import until `dry_done`; nothing is written"),
        (status = 409, description = "running or done"), (status = 422, description = "no mapping")), tag = "imports")]
async fn dry_run(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    Ok((StatusCode::ACCEPTED, Json(queue(&st, &p.ctx, &id, true).await?)).into_response())
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/run", params(("id" = String, Path)),
    responses((status = 202, body = Import, description = "queued: poll the import until `done` or `failed`"),
        (status = 409, description = "running or done"), (status = 422, description = "no mapping")), tag = "imports")]
async fn run(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    Ok((StatusCode::ACCEPTED, Json(queue(&st, &p.ctx, &id, false).await?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/rejected", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Reject>, description = "rejected rows with line numbers and reasons")), tag = "imports")]
async fn rejected(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Reject>>> {
    Ok(Json(import::rejects(&st.db, &p.ctx, &id).await?))
}

/// The rejected rows as a CSV download.
pub fn rejects_download(id: &str, rejects: &[Reject]) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], import::rejects_csv(rejects)).into_response();
    let short: String = id.chars().take(8).collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"rejected-{short}.csv\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/rejected.csv", params(("id" = String, Path)),
    responses((status = 200, description = "CSV: line, reason, row", content_type = "text/csv")), tag = "imports")]
async fn rejected_csv(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let rejects = import::rejects(&st.db, &p.ctx, &id).await?;
    Ok(rejects_download(&id, &rejects))
}

/// Export parameters besides the list's own.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default), `xlsx` or `vcf` (contacts only).
    pub format: Option<String>,
    /// Columns, comma-separated list field names (default: the view's, else every column).
    pub columns: Option<String>,
    /// Headers (and deals' pipeline and stage names) in `en` (default) or `ru`.
    pub lang: Option<String>,
    /// The list's `filter`, `g1`…, `match`, `view` and `sort` as in the list endpoint.
    pub filter: Option<Vec<String>>,
}

async fn export_api(
    st: AppState,
    p: karta_kernel::users::Principal,
    e: Entity,
    raw: Vec<(String, String)>,
) -> ApiResult<Response> {
    let mut format = export::CSV;
    let mut columns: Vec<String> = Vec::new();
    let mut rest = Vec::new();
    let mut ru = false;
    for (k, v) in raw {
        match k.as_str() {
            "format" => format = ExportFormat::parse(&v).ok_or_else(|| invalid("format", "invalid_choice"))?,
            "lang" => {
                ru = match v.as_str() {
                    "ru" => true,
                    "en" => false,
                    _ => return Err(invalid("lang", "invalid_choice")),
                }
            }
            "columns" | "cols" => {
                columns.extend(v.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string))
            }
            "col" => columns.push(v),
            "limit" | "after" => {}
            _ => rest.push((k, v)),
        }
    }
    export::authorise(&p.ctx, e, format)?;
    if let Some((_, v)) = rest.iter().find(|(k, _)| k == "view").filter(|(_, v)| !v.trim().is_empty()) {
        if columns.is_empty() {
            columns = karta_kernel::views::resolve(&st.db, &p.ctx, e, v).await?.columns;
        }
    }
    let rest = karta_webkit::api::with_view(&st, &p.ctx, e, rest).await?;
    let lq = list_query(&rest)?;
    Ok(export_response(&st, &p.ctx, e, format, lq, columns, ru).await?)
}

#[utoipa::path(get, path = "/api/v1/contacts/export", params(ExportParams),
    responses((status = 200, description = "the file, streamed"), (status = 403, description = "no export permission")), tag = "exports")]
async fn export_contacts(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    export_api(st, p, Entity::Contact, raw).await
}

#[utoipa::path(get, path = "/api/v1/accounts/export", params(ExportParams),
    responses((status = 200, description = "the file, streamed"), (status = 403, description = "no export permission")), tag = "exports")]
async fn export_accounts(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    export_api(st, p, Entity::Account, raw).await
}

#[utoipa::path(get, path = "/api/v1/deals/export", params(ExportParams),
    responses((status = 200, description = "the file, streamed"), (status = 403, description = "no export permission")), tag = "exports")]
async fn export_deals(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    export_api(st, p, Entity::Deal, raw).await
}

/// The OpenAPI paths of imports and exports.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Import,
    import::Counts,
    Dedup,
    Reject,
    Preview,
    PreviewRow,
    ImportCreated,
    MappingBody
)))]
pub struct TransferDoc;

/// The `/api/v1` routes of imports and exports.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(TransferDoc::openapi())
        .routes(routes!(list, upload))
        .routes(routes!(get_one))
        .routes(routes!(get_preview))
        .routes(routes!(put_mapping))
        .routes(routes!(dry_run))
        .routes(routes!(run))
        .routes(routes!(rejected))
        .routes(routes!(rejected_csv))
        .routes(routes!(export_contacts))
        .routes(routes!(export_accounts))
        .routes(routes!(export_deals))
}

/// 422 naming the file and why it cannot be imported, in words.
fn file_problem(e: &FileError) -> Response {
    let body = json!({"type": "about:blank", "title": "Invalid input", "status": 422, "detail": e.to_string(),
        "errors": [{"field": "file", "code": e.code(), "message": e.to_string()}]});
    let mut r = (StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}
