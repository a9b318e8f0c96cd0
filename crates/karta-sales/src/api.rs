//! The sales part of `/api/v1`: deals (with the board, moves, closing, stage history and the
//! negotiation log), pipelines and stages, lost reasons, products and notifications — with the
//! same conventions as the rest of the API (cursor paging, `ETag`/`If-Match`,
//! `Idempotency-Key`, problem+json).

use crate::deals::{self, Deal, DealInput, MoveInput, Outcome};
use crate::pipelines::{self, LostReason, Pipeline, StageInput};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use karta_kernel::audit;
use karta_webkit::api::{idempotent, if_match, list_query, merge_patch, with_etag};
use karta_webkit::api::{ApiJson, ApiJsonOrDefault};
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A page of deals.
#[derive(Debug, Serialize, ToSchema)]
pub struct DealPage {
    /// Deals.
    pub items: Vec<Deal>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/deals", params(karta_webkit::api::ListParams),
    responses((status = 200, body = DealPage), (status = 422, description = "bad filter, sort or cursor")),
    description = "Filters as for accounts, on deal fields (title, account, owner, pipeline, stage, status, amount, currency, close_date, probability, source, next_step, created_at, updated_at, stage_entered_at) plus the flags `overdue:eq:1` and `stalled:eq:1`.",
    tag = "deals")]
async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Json<DealPage>> {
    let raw = karta_webkit::api::with_view(&st, &p.ctx, karta_core::Entity::Deal, raw).await?;
    let lq = list_query(&raw)?;
    let page = deals::list(&st.db, &p.ctx, st.clock.now(), &lq).await?;
    Ok(Json(DealPage { items: page.items, next_cursor: page.next }))
}

#[utoipa::path(post, path = "/api/v1/deals", params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    request_body = DealInput, responses((status = 201, body = Deal), (status = 422, description = "invalid fields, or fields the stage requires")), tag = "deals")]
async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DealInput>,
) -> ApiResult<Response> {
    let st2 = st.clone();
    let p2 = p.clone();
    idempotent(&st, &p, &headers, input, |input| async move {
        let d = deals::create(&st2.db, &p2.ctx, st2.clock.now(), &input).await?;
        let loc = format!("/api/v1/deals/{}", d.id);
        Ok((StatusCode::CREATED, serde_json::to_value(&d).unwrap_or_default(), loc, d.version))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/deals/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Deal, headers(("ETag" = String))), (status = 404)), tag = "deals")]
async fn get_one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let d = deals::get(&st.db, &p.ctx, &id, st.clock.now()).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

#[utoipa::path(patch, path = "/api/v1/deals/{id}", params(("id" = String, Path), ("If-Match" = String, Header, description = "the ETag you read")),
    request_body = DealInput, responses((status = 200, body = Deal), (status = 412, description = "changed meanwhile"), (status = 428, description = "If-Match missing")),
    description = "Fields not sent keep their values; `contacts` and `lines`, when sent, replace the lists. A `stage_id` change is a move (required fields, handover).",
    tag = "deals")]
async fn patch(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let now = st.clock.now();
    let current = deals::get(&st.db, &p.ctx, &id, now).await?;
    let input: DealInput = merge_patch(&current.to_input(), patch, &["contacts", "lines"])?;
    let d = deals::update(&st.db, &p.ctx, now, &id, version, &input).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/move", params(("id" = String, Path)), request_body = MoveInput,
    responses((status = 200, body = Deal), (status = 412, description = "changed meanwhile"), (status = 422, description = "the stage requires fields: `required_for_stage` names them")),
    tag = "deals")]
async fn move_to(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut m): ApiJson<MoveInput>,
) -> ApiResult<Response> {
    if m.version.is_none() {
        m.version = if_match(&headers)?;
    }
    let d = deals::move_to(&st.db, &p.ctx, st.clock.now(), &id, &m).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

/// Closing a deal.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CloseBody {
    /// `won` or `lost`.
    pub outcome: String,
    /// For lost: a reason id from `/lost-reasons`.
    pub lost_reason_id: String,
    /// For lost: free text (a reason id or a text is required).
    pub lost_reason_text: String,
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/close", params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body = CloseBody, responses((status = 200, body = Deal), (status = 412), (status = 422, description = "lost needs a reason"), (status = 428)), tag = "deals")]
async fn close(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<CloseBody>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let outcome = match b.outcome.as_str() {
        "won" => Outcome::Won,
        "lost" => Outcome::Lost { reason_id: b.lost_reason_id, text: b.lost_reason_text },
        _ => return Err(ApiError::Invalid(vec![karta_core::FieldError::new("outcome", "invalid_choice")])),
    };
    let d = deals::close(&st.db, &p.ctx, st.clock.now(), &id, version, &outcome).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

/// Reopening a closed deal.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReopenBody {
    /// The stage to reopen into (default: where it was closed).
    pub stage_id: String,
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/reopen", params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body = ReopenBody, responses((status = 200, body = Deal), (status = 412), (status = 428)), tag = "deals")]
async fn reopen(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJsonOrDefault(b): ApiJsonOrDefault<ReopenBody>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let d = deals::reopen(&st.db, &p.ctx, st.clock.now(), &id, version, &b.stage_id).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

#[utoipa::path(delete, path = "/api/v1/deals/{id}", params(("id" = String, Path)), responses((status = 204, description = "moved to the trash")), tag = "deals")]
async fn delete(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    deals::set_trashed(&st.db, &p.ctx, st.clock.now(), &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/restore", params(("id" = String, Path)), responses((status = 200, body = Deal)), tag = "deals")]
async fn restore(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let now = st.clock.now();
    deals::set_trashed(&st.db, &p.ctx, now, &id, false).await?;
    let d = deals::get(&st.db, &p.ctx, &id, now).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

/// A deal's stage changes with the time spent in each stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageHistory {
    /// Every change, oldest first.
    pub events: Vec<deals::StageEvent>,
    /// Milliseconds spent open in each stage: `[stage_id, ms]`.
    #[schema(value_type = Vec<Object>)]
    pub time_in_stages: Vec<(String, i64)>,
}

#[utoipa::path(get, path = "/api/v1/deals/{id}/stages", params(("id" = String, Path)), responses((status = 200, body = StageHistory)), tag = "deals")]
async fn stage_history(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<StageHistory>> {
    let now = st.clock.now();
    let events = deals::stage_history(&st.db, &p.ctx, &id, now).await?;
    let time_in_stages = deals::time_in_stages(&events, now);
    Ok(Json(StageHistory { events, time_in_stages }))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}/price-log", params(("id" = String, Path)), responses((status = 200, body = Vec<deals::PriceEvent>)), tag = "deals")]
async fn price_log(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<deals::PriceEvent>>> {
    Ok(Json(deals::price_log(&st.db, &p.ctx, &id, st.clock.now()).await?))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}/history", params(("id" = String, Path)), responses((status = 200, body = Vec<audit::AuditEntry>)), tag = "deals")]
async fn history(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<audit::AuditEntry>>> {
    deals::get(&st.db, &p.ctx, &id, st.clock.now()).await?;
    Ok(Json(audit::history(&st.db, &p.ctx, "deal", &id, 200).await?))
}

/// Board parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BoardParams {
    /// Pipeline (default: the first active one).
    pub pipeline: Option<String>,
    /// Only this owner's deals (`me` allowed).
    pub owner: Option<String>,
    /// Cards per column, 1–500 (default 50).
    pub per_column: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/board", params(BoardParams), responses((status = 200, body = deals::Board)), tag = "deals")]
async fn board(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(bp): Query<BoardParams>,
) -> ApiResult<Json<deals::Board>> {
    let owner = bp.owner.as_deref().map(|o| if o == "me" { p.ctx.user_id() } else { o });
    let per = bp.per_column.unwrap_or(50).clamp(1, 500);
    Ok(Json(deals::board(&st.db, &p.ctx, st.clock.now(), bp.pipeline.as_deref().unwrap_or(""), owner, per).await?))
}

#[utoipa::path(get, path = "/api/v1/pipelines", responses((status = 200, body = Vec<Pipeline>)), tag = "pipelines")]
async fn list_pipelines(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<Pipeline>>> {
    Ok(Json(pipelines::list(&st.db, &p.ctx).await?))
}

/// A pipeline's names and state.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineBody {
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Active (default true).
    pub active: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/pipelines", request_body = PipelineBody, responses((status = 201, body = Pipeline), (status = 403)), tag = "pipelines")]
async fn create_pipeline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<PipelineBody>,
) -> ApiResult<(StatusCode, Json<Pipeline>)> {
    let id = pipelines::create(&st.db, &p.ctx, &b.name_ru, &b.name_en).await?;
    Ok((StatusCode::CREATED, Json(pipelines::get(&st.db, &p.ctx, &id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", params(("id" = String, Path)), request_body = PipelineBody, responses((status = 200, body = Pipeline)), tag = "pipelines")]
async fn update_pipeline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PipelineBody>,
) -> ApiResult<Json<Pipeline>> {
    let cur = pipelines::get(&st.db, &p.ctx, &id).await?;
    let ru = if b.name_ru.is_empty() { cur.name_ru } else { b.name_ru };
    let en = if b.name_en.is_empty() { cur.name_en } else { b.name_en };
    pipelines::update(&st.db, &p.ctx, &id, &ru, &en, b.active.unwrap_or(cur.active)).await?;
    Ok(Json(pipelines::get(&st.db, &p.ctx, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/pipelines/{id}/stages", params(("id" = String, Path)), request_body = StageInput, responses((status = 201, body = Pipeline)), tag = "pipelines")]
async fn add_stage(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StageInput>,
) -> ApiResult<(StatusCode, Json<Pipeline>)> {
    pipelines::add_stage(&st.db, &p.ctx, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(pipelines::get(&st.db, &p.ctx, &id).await?)))
}

#[utoipa::path(put, path = "/api/v1/stages/{id}", params(("id" = String, Path)), request_body = StageInput, responses((status = 204, description = "saved")), tag = "pipelines")]
async fn update_stage(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StageInput>,
) -> ApiResult<StatusCode> {
    pipelines::update_stage(&st.db, &p.ctx, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/stages/{id}", params(("id" = String, Path)),
    responses((status = 204, description = "removed"), (status = 409, description = "the stage holds deals, or is the last one")), tag = "pipelines")]
async fn remove_stage(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    pipelines::remove_stage(&st.db, &p.ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/lost-reasons", responses((status = 200, body = Vec<LostReason>)), tag = "pipelines")]
async fn lost_reasons(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<LostReason>>> {
    Ok(Json(pipelines::lost_reasons(&st.db, &p.ctx).await?))
}

/// The sales API's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Deal,
    DealPage,
    DealInput,
    deals::DealContactInput,
    deals::LineInput,
    deals::DealContact,
    deals::DealLine,
    MoveInput,
    CloseBody,
    ReopenBody,
    StageHistory,
    deals::StageEvent,
    deals::PriceEvent,
    deals::Board,
    deals::Column,
    Pipeline,
    pipelines::Stage,
    StageInput,
    PipelineBody,
    LostReason
)))]
pub struct SalesDoc;

/// The API routes, with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(SalesDoc::openapi())
        .routes(routes!(list, create))
        .routes(routes!(get_one, patch, delete))
        .routes(routes!(move_to))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(restore))
        .routes(routes!(stage_history))
        .routes(routes!(price_log))
        .routes(routes!(history))
        .routes(routes!(board))
        .routes(routes!(list_pipelines, create_pipeline))
        .routes(routes!(update_pipeline))
        .routes(routes!(add_stage))
        .routes(routes!(update_stage, remove_stage))
        .routes(routes!(lost_reasons))
}
