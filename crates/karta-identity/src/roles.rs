//! The role editor (a grid of entities × actions with scopes, and capabilities) and the roles
//! API (`/api/v1/roles`). Roles are stored by the kernel ([`karta_kernel::roles`]); every
//! entity a context registers appears in the grid.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use karta_core::{Action, Cap, Scope};
use karta_kernel::audit::AuditEntry;
use karta_kernel::entities::ENTITIES;
use karta_kernel::roles::{self, RoleDraft, RoleRecord};
use karta_kernel::{Admin, StoreError};
use karta_webkit::api::{if_match, with_etag, ApiJson};
use karta_webkit::auth::{ApiUser, PageUser};
use karta_webkit::error::{ApiError, ApiResult, PageResult};
use karta_webkit::i18n::Tr;
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

// ---------- API ----------

/// A role as written: its name (a tenant role's; ignored for a built-in one), its grants and
/// its capabilities. The whole role is replaced.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RoleInput {
    /// The name (required for a role of the tenant's own).
    pub name: String,
    /// `{entity: {action: scope}}`: entities as listed by `GET /api/v1/roles` (`account`,
    /// `contact`, `deal`, `product`, `activity`…), actions `read`, `create`, `update`, `delete`,
    /// `export`, scopes `own`, `team`, `all` or `none` (an entity or action left out: none).
    #[schema(value_type = Object)]
    pub grants: Value,
    /// Capabilities: `admin`, `export`, `manage_pipelines`, `all_calendars`, `lead_team`.
    pub caps: Vec<String>,
}

fn draft(b: &RoleInput) -> ApiResult<RoleDraft> {
    RoleDraft::parse(&b.name, &b.grants, &b.caps).map_err(ApiError::Invalid)
}

#[utoipa::path(get, path = "/api/v1/roles", responses((status = 200, body = Vec<RoleRecord>), (status = 403)), tag = "roles")]
async fn list_api(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<RoleRecord>>> {
    let admin = p.ctx.admin()?;
    Ok(Json(roles::list(&st.db, &admin).await?))
}

#[utoipa::path(post, path = "/api/v1/roles", request_body = RoleInput, responses((status = 201, body = RoleRecord), (status = 422)), tag = "roles")]
async fn create_api(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<RoleInput>,
) -> ApiResult<Response> {
    let admin = p.ctx.admin()?;
    let r = roles::create(&st.db, &admin, draft(&b)?).await?;
    Ok(with_etag(r.version, StatusCode::CREATED, r))
}

#[utoipa::path(get, path = "/api/v1/roles/{id}", params(("id" = String, Path)), responses((status = 200, body = RoleRecord), (status = 404)), tag = "roles")]
async fn get_api(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let admin = p.ctx.admin()?;
    let r = roles::get(&st.db, &admin, &id).await?;
    Ok(with_etag(r.version, StatusCode::OK, r))
}

#[utoipa::path(put, path = "/api/v1/roles/{id}", params(("id" = String, Path)), request_body = RoleInput,
    responses((status = 200, body = RoleRecord), (status = 412), (status = 422), (status = 428)), tag = "roles")]
async fn put_api(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<RoleInput>,
) -> ApiResult<Response> {
    let admin = p.ctx.admin()?;
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let r = roles::update(&st.db, &admin, &id, version, draft(&b)?).await?;
    Ok(with_etag(r.version, StatusCode::OK, r))
}

#[utoipa::path(delete, path = "/api/v1/roles/{id}", params(("id" = String, Path)),
    responses((status = 204, description = "deleted (a built-in role: reset to its defaults)"), (status = 422)), tag = "roles")]
async fn delete_api(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let admin = p.ctx.admin()?;
    roles::delete(&st.db, &admin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/roles/{id}/history", params(("id" = String, Path)), responses((status = 200, body = Vec<AuditEntry>)), tag = "roles")]
async fn history_api(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let admin = p.ctx.admin()?;
    Ok(Json(roles::history(&st.db, &admin, &id).await?))
}

#[derive(OpenApi)]
#[openapi(components(schemas(RoleRecord, RoleInput)))]
struct Doc;

/// The roles API.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(list_api, create_api))
        .routes(routes!(get_api, put_api, delete_api))
        .routes(routes!(history_api))
}

// ---------- pages ----------

/// A role in the list.
struct RoleRow {
    id: String,
    label: String,
    kind: &'static str,
    users: i64,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    l: Layout,
    rows: Vec<RoleRow>,
    notice: String,
}

/// A role's label: a built-in role's in the reader's language, a tenant role's name.
fn label(t: Tr, r: &RoleRecord) -> String {
    if r.builtin {
        t.s(&format!("role.{}", r.id)).to_string()
    } else {
        r.name.clone()
    }
}

fn forbidden(t: Tr) -> Response {
    message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden"))
}

async fn list_page(st: &AppState, u: &PageUser, notice: &str) -> PageResult {
    let t = u.t;
    let Ok(admin) = u.p.ctx.admin() else { return Ok(forbidden(t)) };
    let rows = roles::list(&st.db, &admin)
        .await?
        .iter()
        .map(|r| RoleRow {
            id: r.id.clone(),
            label: label(t, r),
            kind: match (r.builtin, r.customized) {
                (false, _) => "roles.custom",
                (true, true) => "roles.customized",
                (true, false) => "roles.builtin",
            },
            users: r.users,
        })
        .collect();
    let notice = if notice.is_empty() { String::new() } else { t.s(notice).to_string() };
    Ok(render(StatusCode::OK, &RolesPage { l: Layout::new(t, &u.p, t.s("roles.title"), "roles"), rows, notice }))
}

/// GET /admin/roles
pub async fn page(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> PageResult {
    let notice = match q.done.as_str() {
        "saved" => "roles.saved",
        "deleted" => "roles.deleted",
        "reset" => "roles.reset_done",
        _ => "",
    };
    list_page(&st, &u, notice).await
}

/// What was just done, for the notice after a redirect.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: String,
}

/// One row of the grid: an entity with a choice per action.
struct GridRow {
    entity: String,
    label: String,
    cells: Vec<(String, String)>,
}

/// One history entry.
struct HistRow {
    who: String,
    action: String,
    at: String,
}

#[derive(Template)]
#[template(path = "role.html")]
struct RolePage {
    l: Layout,
    /// Empty for a new role.
    id: String,
    title: String,
    name: String,
    builtin: bool,
    editable: bool,
    customized: bool,
    users: i64,
    version: i64,
    actions: Vec<(String, String)>,
    scopes: Vec<(String, String)>,
    grid: Vec<GridRow>,
    caps: Vec<(String, String, bool)>,
    errors: Vec<String>,
    history: Vec<HistRow>,
}

fn scope_str(s: Option<Scope>) -> String {
    s.map_or("none", Scope::as_str).to_string()
}

#[expect(clippy::too_many_arguments, reason = "the parts of one editor page")]
fn editor(
    t: Tr,
    u: &PageUser,
    id: &str,
    rec: Option<&RoleRecord>,
    name: &str,
    grants: &Value,
    caps: &[String],
    errors: Vec<String>,
    history: Vec<HistRow>,
) -> RolePage {
    let grid = ENTITIES
        .all()
        .iter()
        .map(|e| {
            let entity = e.entity.as_str().to_string();
            let cells = Action::ALL
                .iter()
                .map(|a| {
                    let v = grants[&entity][a.as_str()].as_str().and_then(Scope::parse);
                    (a.as_str().to_string(), scope_str(v))
                })
                .collect();
            GridRow { label: t.s(&format!("entity.{entity}")).to_string(), entity, cells }
        })
        .collect();
    let title = match rec {
        Some(r) => label(t, r),
        None => t.s("roles.new").to_string(),
    };
    RolePage {
        l: Layout::new(t, &u.p, title.clone(), "roles"),
        id: id.to_string(),
        title,
        name: name.to_string(),
        builtin: rec.is_some_and(|r| r.builtin),
        editable: rec.is_none_or(|r| r.editable),
        customized: rec.is_some_and(|r| r.customized),
        users: rec.map_or(0, |r| r.users),
        version: rec.map_or(0, |r| r.version),
        actions: Action::ALL
            .iter()
            .map(|a| (a.as_str().to_string(), t.s(&format!("roles.action.{}", a.as_str())).to_string()))
            .collect(),
        scopes: ["none", "own", "team", "all"]
            .iter()
            .map(|s| ((*s).to_string(), t.s(&format!("roles.scope.{s}")).to_string()))
            .collect(),
        grid,
        caps: Cap::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_string(),
                    t.s(&format!("roles.cap.{}", c.as_str())).to_string(),
                    caps.iter().any(|x| x == c.as_str()),
                )
            })
            .collect(),
        errors,
        history,
    }
}

async fn history_rows(st: &AppState, u: &PageUser, admin: &Admin, id: &str) -> Result<Vec<HistRow>, StoreError> {
    let t = u.t;
    Ok(roles::history(&st.db, admin, id)
        .await?
        .into_iter()
        .map(|h| HistRow {
            who: if h.user_name.is_empty() { t.s("roles.system").to_string() } else { h.user_name },
            action: t.s(&format!("act.{}", h.action)).to_string(),
            at: u.when(h.at),
        })
        .collect())
}

/// GET /admin/roles/new
pub async fn new_page(State(_st): State<AppState>, u: PageUser) -> PageResult {
    let t = u.t;
    if u.p.ctx.admin().is_err() {
        return Ok(forbidden(t));
    }
    let tpl = editor(t, &u, "", None, "", &Value::Null, &[], Vec::new(), Vec::new());
    Ok(render(StatusCode::OK, &tpl))
}

/// GET /admin/roles/{id}
pub async fn edit_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> PageResult {
    let t = u.t;
    let Ok(admin) = u.p.ctx.admin() else { return Ok(forbidden(t)) };
    let r = roles::get(&st.db, &admin, &id).await?;
    let history = history_rows(&st, &u, &admin, &id).await?;
    let tpl = editor(t, &u, &id, Some(&r), &r.name, &r.grants, &r.caps, Vec::new(), history);
    Ok(render(StatusCode::OK, &tpl))
}

/// The editor's form, as pairs: `name`, `version`, `g.{entity}.{action}` = scope, `cap.{cap}`.
fn from_form(pairs: &[(String, String)]) -> (String, i64, Value, Vec<String>) {
    let mut name = String::new();
    let mut version = 0;
    let mut grants = Map::new();
    let mut caps = Vec::new();
    for (k, v) in pairs {
        if k == "name" {
            name.clone_from(v);
        } else if k == "version" {
            version = v.trim().parse().unwrap_or(0);
        } else if let Some(rest) = k.strip_prefix("g.") {
            if let Some((entity, action)) = rest.split_once('.') {
                let e = grants.entry(entity.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if let Some(m) = e.as_object_mut() {
                    m.insert(action.to_string(), Value::String(v.clone()));
                }
            }
        } else if let Some(c) = k.strip_prefix("cap.") {
            caps.push(c.to_string());
        }
    }
    (name, version, Value::Object(grants), caps)
}

fn messages(t: Tr, e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(errs) => errs.iter().map(|x| format!("{}: {}", t.f(&x.field), t.err(x.code))).collect(),
        StoreError::Stale { .. } => vec![t.s("roles.stale").to_string()],
        _ => vec![t.s("error.internal").to_string()],
    }
}

/// Answers a failed save with the editor as the user filled it, and what was wrong.
async fn failed(
    st: &AppState,
    u: &PageUser,
    id: &str,
    form: (String, Value, Vec<String>),
    e: StoreError,
) -> PageResult {
    let t = u.t;
    if !matches!(e, StoreError::Invalid(_) | StoreError::Stale { .. }) {
        return Err(e.into());
    }
    let Ok(admin) = u.p.ctx.admin() else { return Ok(forbidden(t)) };
    let (rec, history) = if id.is_empty() {
        (None, Vec::new())
    } else {
        (Some(roles::get(&st.db, &admin, id).await?), history_rows(st, u, &admin, id).await?)
    };
    let (name, grants, caps) = if matches!(e, StoreError::Stale { .. }) {
        // Show the role as it is now, so the user redoes the change knowingly.
        let r = rec.clone().ok_or(StoreError::NotFound)?;
        (r.name.clone(), r.grants.clone(), r.caps.clone())
    } else {
        form
    };
    let tpl = editor(t, u, id, rec.as_ref(), &name, &grants, &caps, messages(t, &e), history);
    let status =
        if matches!(e, StoreError::Stale { .. }) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(status, &tpl))
}

/// POST /admin/roles
pub async fn create(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let Ok(admin) = u.p.ctx.admin() else { return Ok(forbidden(u.t)) };
    let (name, _, grants, caps) = from_form(&pairs);
    let res = match RoleDraft::parse(&name, &grants, &caps) {
        Ok(d) => roles::create(&st.db, &admin, d).await,
        Err(errs) => Err(StoreError::Invalid(errs)),
    };
    match res {
        Ok(_) => Ok(Redirect::to("/admin/roles?done=saved").into_response()),
        Err(e) => failed(&st, &u, "", (name, grants, caps), e).await,
    }
}

/// POST /admin/roles/{id}
pub async fn save(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let Ok(admin) = u.p.ctx.admin() else { return Ok(forbidden(u.t)) };
    let (name, version, grants, caps) = from_form(&pairs);
    let res = match RoleDraft::parse(&name, &grants, &caps) {
        Ok(d) => roles::update(&st.db, &admin, &id, version, d).await,
        Err(errs) => Err(StoreError::Invalid(errs)),
    };
    match res {
        Ok(_) => Ok(Redirect::to("/admin/roles?done=saved").into_response()),
        Err(StoreError::NotFound) => Err(StoreError::NotFound.into()),
        Err(e) => failed(&st, &u, &id, (name, grants, caps), e).await,
    }
}

/// POST /admin/roles/{id}/delete — deletes a tenant role no one has, or resets a built-in one.
pub async fn delete(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> PageResult {
    let Ok(admin) = u.p.ctx.admin() else { return Ok(forbidden(u.t)) };
    let builtin = roles::builtin_role(&id).is_some();
    match roles::delete(&st.db, &admin, &id).await {
        Ok(()) => {
            Ok(Redirect::to(if builtin { "/admin/roles?done=reset" } else { "/admin/roles?done=deleted" })
                .into_response())
        }
        Err(StoreError::NotFound) => Err(StoreError::NotFound.into()),
        Err(e) => {
            let rec = roles::get(&st.db, &admin, &id).await?;
            let history = history_rows(&st, &u, &admin, &id).await?;
            let tpl = editor(u.t, &u, &id, Some(&rec), &rec.name, &rec.grants, &rec.caps, messages(u.t, &e), history);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_form_becomes_grants_and_capabilities() {
        let pairs: Vec<(String, String)> = [
            ("name", "Закупщик"),
            ("version", "3"),
            ("g.account.read", "all"),
            ("g.account.update", "none"),
            ("cap.export", "on"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        let (name, version, grants, caps) = from_form(&pairs);
        assert_eq!((name.as_str(), version), ("Закупщик", 3));
        assert_eq!(grants["account"]["read"], "all");
        assert_eq!(grants["account"]["update"], "none");
        assert_eq!(caps, ["export"]);
    }
}
