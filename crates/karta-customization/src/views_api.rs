//! Saved views and mass update in the API: `/api/v1/views` (CRUD; `?entity=contact`), the
//! `view=ID_OR_NAME` parameter of the lists, and `POST /api/v1/{accounts|contacts|deals}/mass-update`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use karta_core::{Entity, FieldError};
use karta_kernel::mass::{self, BulkReport};
use karta_kernel::views::{self, GroupSpec, SavedView, ViewInput};
use karta_webkit::api::ApiJson;
use karta_webkit::api::{if_match, merge_patch, with_etag};
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Which list's views.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewParams {
    /// `contact`, `account` or `deal` (plural forms also accepted).
    pub entity: Option<String>,
}

fn entity_of(s: &str) -> ApiResult<Entity> {
    Entity::parse(s)
        .and_then(|e| views::check_entity(e).ok())
        .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("entity", "invalid_choice")]))
}

#[utoipa::path(get, path = "/api/v1/views", params(ViewParams),
    responses((status = 200, body = Vec<SavedView>, description = "the caller's views of the list: own, the team's and the company's"),
    (status = 422, description = "missing or unknown entity")), tag = "views")]
async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(vp): Query<ViewParams>,
) -> ApiResult<Json<Vec<SavedView>>> {
    let e = entity_of(vp.entity.as_deref().unwrap_or_default())?;
    Ok(Json(views::list_visible(&st.db, &p.ctx, e).await?))
}

#[utoipa::path(post, path = "/api/v1/views", params(ViewParams), request_body = ViewInput,
    responses((status = 201, body = SavedView), (status = 409, description = "the caller has a view of this name"),
    (status = 422, description = "invalid name, visibility, filters, sort or columns")), tag = "views")]
async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(vp): Query<ViewParams>,
    ApiJson(input): ApiJson<ViewInput>,
) -> ApiResult<Response> {
    let e = entity_of(vp.entity.as_deref().filter(|s| !s.is_empty()).unwrap_or(&input.entity))?;
    let v = views::create(&st.db, &p.ctx, e, &input).await?;
    let mut r = with_etag(v.version, StatusCode::CREATED, &v);
    if let Ok(h) = axum::http::HeaderValue::from_str(&format!("/api/v1/views/{}", v.id)) {
        r.headers_mut().insert(axum::http::header::LOCATION, h);
    }
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/views/{id}", params(("id" = String, Path)),
    responses((status = 200, body = SavedView, headers(("ETag" = String))), (status = 404)), tag = "views")]
async fn get_one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let v = views::get(&st.db, &p.ctx, &id).await?;
    Ok(with_etag(v.version, StatusCode::OK, v))
}

#[utoipa::path(patch, path = "/api/v1/views/{id}", params(("id" = String, Path), ("If-Match" = String, Header, description = "the ETag you read")),
    request_body = ViewInput, responses((status = 200, body = SavedView), (status = 403, description = "not the owner or an admin"),
    (status = 412, description = "changed meanwhile"), (status = 428, description = "If-Match missing")), tag = "views")]
async fn patch(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let current = views::get(&st.db, &p.ctx, &id).await?;
    let input: ViewInput = merge_patch(&current.to_input(), patch, &[])?;
    let v = views::update(&st.db, &p.ctx, &id, Some(version), &input).await?;
    Ok(with_etag(v.version, StatusCode::OK, v))
}

#[utoipa::path(delete, path = "/api/v1/views/{id}", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 403, description = "not the owner or an admin")), tag = "views")]
async fn delete(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    views::delete(&st.db, &p.ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A mass update: one field set to one value on the selected records.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MassUpdate {
    /// Record ids (at most 1,000).
    pub ids: Vec<String>,
    /// Accounts and contacts: `owner`, `relationship`, `source`, `industry`, `region`,
    /// `segment`, `first_contact`, `do_not_contact`, `do_not_email`, `tag_add`, `tag_remove`;
    /// deals: `owner`, `source`, `close_date`, `next_step`, `probability`.
    pub field: String,
    /// The value (a user id for `owner`; `true`/`false` for the flags; empty clears).
    #[serde(default)]
    pub value: String,
}

#[utoipa::path(post, path = "/api/v1/{kind}/mass-update", params(("kind" = String, Path, description = "accounts or contacts")),
    request_body = MassUpdate, responses((status = 200, body = BulkReport, description = "each record updated, validated and audited as if edited alone; records the caller may not change are skipped"),
    (status = 403, description = "the role may not change these records"), (status = 404, description = "no such list"), (status = 422, description = "unknown field or bad value")), tag = "views")]
async fn mass_update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    ApiJson(b): ApiJson<MassUpdate>,
) -> ApiResult<Response> {
    let e = match kind.as_str() {
        "accounts" => Entity::Account,
        "contacts" => Entity::Contact,
        _ => return Err(ApiError::NotFound),
    };
    let rep = mass::set(&st.db, &p.ctx, st.clock.now(), e, &b.ids, &b.field, &b.value).await?;
    Ok(Json(rep).into_response())
}

// Deals have a path of their own: `/deals/{id}` would take `/{kind}/mass-update` first.
#[utoipa::path(post, path = "/api/v1/deals/mass-update",
    request_body = MassUpdate, responses((status = 200, body = BulkReport, description = "each deal updated, validated and audited as if edited alone; deals the caller may not change are skipped"),
    (status = 403, description = "the role may not change deals"), (status = 422, description = "unknown field or bad value")), tag = "views")]
async fn mass_update_deals(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<MassUpdate>,
) -> ApiResult<Response> {
    let rep = mass::set(&st.db, &p.ctx, st.clock.now(), Entity::Deal, &b.ids, &b.field, &b.value).await?;
    Ok(Json(rep).into_response())
}

/// The OpenAPI paths of views and mass update.
#[derive(OpenApi)]
#[openapi(components(schemas(SavedView, ViewInput, GroupSpec, MassUpdate, BulkReport)))]
pub struct ViewsDoc;

/// The API routes, with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ViewsDoc::openapi())
        .routes(routes!(list, create))
        .routes(routes!(get_one, patch, delete))
        .routes(routes!(mass_update))
        .routes(routes!(mass_update_deals))
}
