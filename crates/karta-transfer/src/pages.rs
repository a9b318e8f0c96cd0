//! The import wizard (upload → preview → mapping and duplicate rule → dry run → run, with
//! progress and the rejected rows) and the list pages' export downloads.

use crate::api::{self as xfer, UploadError};
use crate::columns;
use crate::export::ExportFormat;
use crate::import::{self, Counts, Dedup, Import, Reject};
use askama::Template;
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::Entity;
use karta_formats::csvread::Encoding;
use karta_kernel::StoreError;
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::routes::Pages;
use karta_webkit::ui::list::{error_page, get, kind_of, not_found, parse_list, primary, Pairs};
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;

/// Rejected rows shown on the page (all of them are in the download).
const REJECTS_SHOWN: usize = 50;

fn status_label(t: Tr, status: &str) -> &'static str {
    match status {
        "uploaded" => t.s("imp.status.uploaded"),
        "dry_running" => t.s("imp.status.dry_running"),
        "dry_done" => t.s("imp.status.dry_done"),
        "queued" => t.s("imp.status.queued"),
        "running" => t.s("imp.status.running"),
        "done" => t.s("imp.status.done"),
        _ => t.s("imp.status.failed"),
    }
}

fn entity_label(t: Tr, e: Entity) -> &'static str {
    if e == Entity::Account {
        t.s("nav.accounts")
    } else {
        t.s("nav.contacts")
    }
}

fn file_message(t: Tr, code: &str) -> &'static str {
    match code {
        "empty_file" => t.s("imp.err.empty_file"),
        "binary_file" => t.s("imp.err.binary_file"),
        "too_large" => t.s("imp.err.too_large"),
        "no_file" => t.s("imp.err.no_file"),
        _ => t.s("imp.err.unreadable_file"),
    }
}

/// A row of the list of imports.
struct ImportRow {
    url: String,
    file_name: String,
    entity: &'static str,
    status: &'static str,
    counts: String,
    created: String,
}

#[derive(Template)]
#[template(path = "import_list.html")]
struct ListPage {
    l: Layout,
    error: String,
    entity: String,
    rows: Vec<ImportRow>,
}

fn counts_text(t: Tr, c: &Counts) -> String {
    format!(
        "{} {} · {} {} · {} {} · {} {}",
        t.s("imp.n.imported"),
        c.imported,
        t.s("imp.n.updated"),
        c.updated,
        t.s("imp.n.skipped"),
        c.skipped,
        t.s("imp.n.rejected"),
        c.rejected
    )
}

async fn list_page(st: &AppState, u: &PageUser, status: StatusCode, error: String, entity: &str) -> Response {
    let t = u.t;
    let recent = match import::recent(&st.db, &u.p.ctx, 30).await {
        Ok(r) => r,
        Err(e) => return error_page(u, &e),
    };
    let rows = recent
        .iter()
        .map(|i| ImportRow {
            url: format!("/imports/{}", i.id),
            file_name: i.file_name.clone(),
            entity: entity_label(t, i.entity),
            status: status_label(t, &i.status),
            counts: if matches!(i.status.as_str(), "done" | "dry_done") {
                counts_text(t, &i.counts)
            } else {
                String::new()
            },
            created: u.when(i.created_at),
        })
        .collect();
    let l = Layout::new(t, &u.p, t.s("imp.title"), "imports");
    let entity = if entity == "accounts" { "accounts" } else { "contacts" }.to_string();
    render(status, &ListPage { l, error, entity, rows })
}

/// GET /imports
async fn index(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> Response {
    list_page(&st, &u, StatusCode::OK, String::new(), get(&pairs, "entity")).await
}

/// POST /imports (multipart: `entity`, `encoding`, `file`)
async fn upload(State(st): State<AppState>, u: PageUser, mut mp: Multipart) -> Response {
    let t = u.t;
    let mut entity = String::from("contacts");
    let mut encoding = String::new();
    let mut upload: Option<(String, xfer::Upload)> = None;
    let bad = |code: &str| file_message(t, code).to_string();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "unreadable_file" };
                return list_page(&st, &u, e.status(), bad(code), &entity).await;
            }
        };
        match field.name().unwrap_or_default() {
            "entity" => entity = field.text().await.unwrap_or_default(),
            "encoding" => encoding = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or_default().to_string();
                let mut field = field;
                let mut up = match xfer::Upload::start(&st.config.imports_dir, &name) {
                    Ok(up) => up,
                    Err(e) => return error_page(&u, &StoreError::Other(e.into())),
                };
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if let Err(e) = up.write(&chunk) {
                                let code =
                                    if matches!(e, UploadError::TooLarge) { "too_large" } else { "unreadable_file" };
                                return list_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, bad(code), &entity).await;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                                "too_large"
                            } else {
                                "unreadable_file"
                            };
                            return list_page(&st, &u, e.status(), bad(code), &entity).await;
                        }
                    }
                }
                upload = Some((name, up));
            }
            _ => {}
        }
    }
    let Some(e) = xfer::import_entity(&entity) else {
        return message_page(t, StatusCode::UNPROCESSABLE_ENTITY, t.err("invalid_choice"));
    };
    let Some((name, up)) = upload.filter(|(n, _)| !n.is_empty()) else {
        return list_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, bad("no_file"), &entity).await;
    };
    let Ok(enc) = xfer::encoding_of(&encoding) else {
        return message_page(t, StatusCode::UNPROCESSABLE_ENTITY, t.err("invalid_choice"));
    };
    match xfer::register(&st, &u.p.ctx, e, &name, enc, up).await {
        Ok(imp) => Redirect::to(&format!("/imports/{}", imp.id)).into_response(),
        Err(UploadError::File(f)) => list_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, bad(f.code()), &entity).await,
        Err(UploadError::TooLarge) => {
            list_page(&st, &u, StatusCode::PAYLOAD_TOO_LARGE, bad("too_large"), &entity).await
        }
        Err(UploadError::Store(s)) => error_page(&u, &s),
        Err(UploadError::Io(io)) => error_page(&u, &StoreError::Other(io.into())),
    }
}

/// A column of the file and where it goes.
struct ColMap {
    header: String,
    sample: String,
    selected: String,
}

/// A preview row.
struct PRow {
    line: u64,
    cells: Vec<String>,
    error: String,
}

#[derive(Template)]
#[template(path = "import_show.html")]
struct ShowPage {
    l: Layout,
    id: String,
    kind: &'static str,
    entity: &'static str,
    file_name: String,
    status: String,
    status_text: &'static str,
    errors: Vec<String>,
    headers: Vec<String>,
    rows: Vec<PRow>,
    cols: Vec<ColMap>,
    targets: Vec<(String, String)>,
    encoding: String,
    detected: String,
    delimiter: String,
    dedup: &'static str,
    counts: Counts,
    done_rows: i64,
    total: i64,
    refresh: bool,
    rejects: Vec<Reject>,
    more_rejects: usize,
    failure: String,
}

/// The mapping targets of an entity: ignore, its standard columns, its active custom fields.
async fn targets(st: &AppState, u: &PageUser, e: Entity) -> Result<Vec<(String, String)>, StoreError> {
    let t = u.t;
    let mut v = vec![(String::new(), t.s("imp.ignore").to_string())];
    v.extend(columns::for_entity(e).map(|c| (c.key.to_string(), if t.is_ru() { c.ru } else { c.en }.to_string())));
    for d in karta_kernel::fields::list(&st.db, &u.p.ctx, e, false).await?.into_iter() {
        let label = if t.is_ru() && !d.label_ru.is_empty() { d.label_ru.clone() } else { d.label_en.clone() };
        v.push((d.field_name(), label));
    }
    Ok(v)
}

async fn show_page(
    st: &AppState,
    u: &PageUser,
    imp: Import,
    encoding: Option<Option<Encoding>>,
    errors: Vec<String>,
    posted: Option<(Vec<String>, Dedup)>,
) -> Response {
    let t = u.t;
    let mut page = ShowPage {
        l: Layout::new(t, &u.p, format!("{}: {}", t.s("imp.title"), imp.file_name), "imports"),
        id: imp.id.clone(),
        kind: kind_of(imp.entity),
        entity: entity_label(t, imp.entity),
        file_name: imp.file_name.clone(),
        status: imp.status.clone(),
        status_text: status_label(t, &imp.status),
        errors,
        headers: Vec::new(),
        rows: Vec::new(),
        cols: Vec::new(),
        targets: Vec::new(),
        encoding: encoding.map_or_else(|| imp.encoding.clone(), |e| e.map_or("auto", Encoding::as_str).to_string()),
        detected: String::new(),
        delimiter: String::new(),
        dedup: imp.dedup.as_str(),
        counts: imp.counts,
        done_rows: imp.done_rows,
        total: imp.total.max(imp.done_rows).max(1),
        refresh: imp.is_busy(),
        rejects: Vec::new(),
        more_rejects: 0,
        failure: imp.error.clone(),
    };
    match imp.status.as_str() {
        "uploaded" => {
            let p = match xfer::preview(st, &u.p.ctx, &imp, encoding).await {
                Ok(p) => p,
                Err(UploadError::File(f)) => {
                    page.errors.push(file_message(t, f.code()).to_string());
                    return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
                }
                Err(UploadError::Store(e)) => return error_page(u, &e),
                Err(e) => return error_page(u, &StoreError::Other(anyhow::anyhow!("{e:?}"))),
            };
            let (mapping, dedup) = posted.unwrap_or((p.mapping.clone(), imp.dedup));
            page.dedup = dedup.as_str();
            page.cols = p
                .headers
                .iter()
                .enumerate()
                .map(|(i, h)| ColMap {
                    header: h.clone(),
                    sample: p
                        .rows
                        .iter()
                        .find(|r| r.error.is_none())
                        .and_then(|r| r.fields.get(i))
                        .cloned()
                        .unwrap_or_default(),
                    selected: mapping.get(i).cloned().unwrap_or_default(),
                })
                .collect();
            page.rows = p
                .rows
                .iter()
                .map(|r| PRow {
                    line: r.line,
                    cells: if r.error.is_some() { vec![r.fields.join(" ")] } else { r.fields.clone() },
                    error: r.error.clone().unwrap_or_default(),
                })
                .collect();
            page.headers = p.headers;
            page.detected = p.encoding;
            page.delimiter = p.delimiter;
            page.targets = match targets(st, u, imp.entity).await {
                Ok(v) => v,
                Err(e) => return error_page(u, &e),
            };
        }
        "dry_done" | "done" => {
            let all = match import::rejects(&st.db, &u.p.ctx, &imp.id).await {
                Ok(all) => all,
                Err(e) => return error_page(u, &e),
            };
            page.more_rejects = all.len().saturating_sub(REJECTS_SHOWN);
            page.rejects = all.into_iter().take(REJECTS_SHOWN).collect();
        }
        _ => {}
    }
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &page)
}

/// GET /imports/{id} (`?encoding=` reads the preview in another encoding)
async fn show(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Query(pairs): Query<Pairs>) -> Response {
    let imp = match import::get(&st.db, &u.p.ctx, &id).await {
        Ok(i) => i,
        Err(e) => return error_page(&u, &e),
    };
    let enc = pairs.iter().find(|(k, _)| k == "encoding").and_then(|(_, v)| xfer::encoding_of(v).ok());
    show_page(&st, &u, imp, enc, Vec::new(), None).await
}

/// POST /imports/{id}: `map` per column, `dedup`, `encoding`, and `action` = `dry`, `run` or
/// `edit` (back to the mapping).
async fn save(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(pairs): Form<Pairs>) -> Response {
    let t = u.t;
    let ctx = &u.p.ctx;
    let imp = match import::get(&st.db, ctx, &id).await {
        Ok(i) => i,
        Err(e) => return error_page(&u, &e),
    };
    let action = get(&pairs, "action");
    let enc = xfer::encoding_of(get(&pairs, "encoding")).unwrap_or(None);
    let dedup = Dedup::parse(get(&pairs, "dedup")).unwrap_or(imp.dedup);
    let result = match (imp.status.as_str(), action) {
        ("dry_done", "run") => xfer::queue(&st, ctx, &id, false).await.map(|_| ()),
        ("dry_done" | "failed", "edit") => {
            let heads = xfer::headers_of(&imp, Encoding::parse(&imp.encoding)).await.unwrap_or_default();
            let mut m = imp.mapping.clone();
            m.resize(heads.len(), String::new());
            import::configure(&st.db, ctx, &id, &heads, m, imp.dedup, Encoding::parse(&imp.encoding)).await.map(|_| ())
        }
        ("uploaded" | "dry_done" | "failed", "dry" | "run") => {
            let heads = match xfer::headers_of(&imp, enc).await {
                Ok(h) => h,
                Err(UploadError::File(f)) => {
                    return show_page(&st, &u, imp, Some(enc), vec![file_message(t, f.code()).to_string()], None).await
                }
                Err(UploadError::Store(e)) => return error_page(&u, &e),
                Err(e) => return error_page(&u, &StoreError::Other(anyhow::anyhow!("{e:?}"))),
            };
            let mapping: Vec<String> = pairs.iter().filter(|(k, _)| k == "map").map(|(_, v)| v.clone()).collect();
            match import::configure(&st.db, ctx, &id, &heads, mapping.clone(), dedup, enc).await {
                Ok(_) => xfer::queue(&st, ctx, &id, action == "dry").await.map(|_| ()),
                Err(StoreError::Invalid(errs)) => {
                    let msgs = errs
                        .iter()
                        .map(|e| {
                            let col = e
                                .field
                                .strip_prefix("mapping[")
                                .and_then(|r| r.strip_suffix(']'))
                                .and_then(|i| i.parse::<usize>().ok())
                                .and_then(|i| heads.get(i).cloned());
                            let msg = match e.code {
                                "duplicate" => t.s("imp.err.duplicate_target"),
                                "required" => t.s("imp.err.no_mapping"),
                                c => t.err(c),
                            };
                            match col {
                                Some(c) => format!("«{c}»: {msg}"),
                                None => msg.to_string(),
                            }
                        })
                        .collect();
                    let fresh = match import::get(&st.db, ctx, &id).await {
                        Ok(fresh) => fresh,
                        Err(e) => return error_page(&u, &e),
                    };
                    return show_page(&st, &u, fresh, Some(enc), msgs, Some((mapping, dedup))).await;
                }
                Err(e) => Err(e),
            }
        }
        _ => Err(StoreError::Conflict("status".into())),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/imports/{id}")).into_response(),
        Err(StoreError::Invalid(errs)) if errs.iter().any(|e| e.field == "mapping") => {
            let fresh = match import::get(&st.db, ctx, &id).await {
                Ok(fresh) => fresh,
                Err(e) => return error_page(&u, &e),
            };
            show_page(&st, &u, fresh, Some(enc), vec![t.s("imp.err.no_mapping").to_string()], None).await
        }
        // A double click, or a page older than the import's state: show where it stands.
        Err(StoreError::Conflict(_)) => Redirect::to(&format!("/imports/{id}")).into_response(),
        Err(e) => error_page(&u, &e),
    }
}

/// GET /imports/{id}/rejected.csv
async fn rejected_csv(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match import::rejects(&st.db, &u.p.ctx, &id).await {
        Ok(r) => xfer::rejects_download(&id, &r),
        Err(e) => error_page(&u, &e),
    }
}

/// GET /{contacts|accounts|deals}/export.{csv|xlsx|vcf} with the list page's parameters.
async fn export(
    State(st): State<AppState>,
    u: PageUser,
    OriginalUri(uri): OriginalUri,
    Query(pairs): Query<Pairs>,
) -> Response {
    let t = u.t;
    let Some((kind, file)) = uri.path().trim_start_matches('/').split_once('/') else { return not_found(&u) };
    let e = match kind {
        "contacts" => Entity::Contact,
        "accounts" => Entity::Account,
        "deals" => Entity::Deal,
        _ => return not_found(&u),
    };
    let Some(format) = file.strip_prefix("export.").and_then(ExportFormat::parse) else { return not_found(&u) };
    let (pairs, _) = match karta_webkit::ui::views::prepare(&st.db, &u.p.ctx, e, pairs).await {
        Ok(x) => x,
        Err(err) => return error_page(&u, &err),
    };
    let defs = match karta_webkit::ui::list_custom::defs(&st.db, &u.p.ctx, e).await {
        Ok(d) => d,
        Err(err) => return error_page(&u, &err),
    };
    let (mut lq, cols, _, _) = parse_list(e, &pairs, &defs);
    if e == Entity::Deal {
        for flag in ["overdue", "stalled"] {
            if get(&pairs, flag) == "1" {
                lq.filters.push(karta_kernel::listq::Filter {
                    field: flag.into(),
                    op: karta_kernel::listq::Op::Eq,
                    value: "1".into(),
                });
            }
        }
    }
    lq.after = None;
    let mut columns = vec![primary(e).to_string()];
    columns.extend(cols);
    match xfer::export_response(&st, &u.p.ctx, e, format, lq, columns, t.is_ru()).await {
        Ok(r) => r,
        Err(StoreError::Invalid(errs)) => {
            let msg = errs.iter().map(|x| t.err(x.code)).collect::<Vec<_>>().join("; ");
            message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg)
        }
        Err(err) => error_page(&u, &err),
    }
}

/// The wizard's and the downloads' routes.
pub fn router() -> Pages {
    let mut r = Pages::new()
        .get("/imports", index)
        .post_large("/imports", upload, xfer::UPLOAD_LIMIT + 64 * 1024)
        .get("/imports/{id}", show)
        .post("/imports/{id}", save)
        .get("/imports/{id}/rejected.csv", rejected_csv);
    // Every registered format (the app registers them before it builds its routes).
    let formats: Vec<&str> = crate::export::FORMATS.all().iter().map(|f| f.key).collect();
    for kind in ["contacts", "accounts", "deals"] {
        for ext in &formats {
            r = r.get(&format!("/{kind}/export.{ext}"), export);
        }
    }
    r
}
