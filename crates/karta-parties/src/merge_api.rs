//! Duplicates and merging in `/api/v1`: the candidates a record would duplicate (without
//! creating it), the duplicates report, merging records and undoing a merge.

use crate::dedup::{self, Candidate, DupGroup, Reason, Report};
use crate::merge::{self, MergeInfo, MergedRecord};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use karta_core::party::PartyInput;
use karta_core::{Entity, FieldError};
use karta_webkit::api::ApiJson;
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn entity(kind: &str) -> ApiResult<Entity> {
    match kind {
        "accounts" => Ok(Entity::Account),
        "contacts" => Ok(Entity::Contact),
        _ => Err(ApiError::NotFound),
    }
}

/// Where to look for duplicate contacts by name.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DupParams {
    /// Contacts: look for the same name among the contacts of this account only.
    pub account_id: Option<String>,
    /// Leave this record out (when checking an existing record).
    pub exclude_id: Option<String>,
}

/// Possible duplicates.
#[derive(Debug, Serialize, ToSchema)]
pub struct Candidates {
    /// Records that look the same, with why.
    pub items: Vec<Candidate>,
}

#[utoipa::path(post, path = "/api/v1/{kind}/duplicates", params(("kind" = String, Path, description = "`accounts` or `contacts`"), DupParams),
    request_body = PartyInput,
    responses((status = 200, body = Candidates), (status = 422, description = "the record is not valid")),
    description = "The live records (that you may read) a record would duplicate: the same e-mail (any, case-insensitive), the same phone (any, normalised), the same name (contacts: first and last name, within `account_id` when given; accounts: the name or the tax number). Nothing is created.",
    tag = "duplicates")]
async fn candidates(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    Query(dq): Query<DupParams>,
    ApiJson(input): ApiJson<PartyInput>,
) -> ApiResult<Json<Candidates>> {
    let e = entity(&kind)?;
    let items =
        dedup::candidates_for_input(&st.db, &p.ctx, e, input, dq.account_id.as_deref(), dq.exclude_id.as_deref())
            .await?;
    Ok(Json(Candidates { items }))
}

/// Paging of the report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Groups per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Cursor from `next_cursor`.
    pub after: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/{kind}/duplicates/report", params(("kind" = String, Path, description = "`accounts` or `contacts`"), ReportParams),
    responses((status = 200, body = Report), (status = 422, description = "bad cursor or limit")),
    description = "Groups of likely duplicates among the records you may read: the same primary e-mail, the same primary phone, or the same name (contacts: linked to the same account).",
    tag = "duplicates")]
async fn report(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    Query(rq): Query<ReportParams>,
) -> ApiResult<Json<Report>> {
    let e = entity(&kind)?;
    let limit = rq.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::Invalid(vec![FieldError::new("limit", "invalid_value")]));
    }
    Ok(Json(dedup::report(&st.db, &p.ctx, e, limit, rq.after.as_deref()).await?))
}

/// A merge to do.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MergeBody {
    /// The record that stays.
    pub survivor_id: String,
    /// The records merged into it (they go to the trash).
    pub merged_ids: Vec<String>,
    /// Field → id of the record whose value the survivor keeps (`custom.<key>` for a custom
    /// field; `*` keeps every record's items of a list field: emails, phones, messengers,
    /// addresses, important_dates, tags). Fields not named keep the survivor's value.
    pub fields: BTreeMap<String, String>,
    /// The survivor's version you saw (or send `If-Match`).
    pub version: Option<i64>,
}

/// A merge done.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeDone {
    /// The merge id: `POST /api/v1/merges/{id}/undo` undoes it.
    pub merge_id: String,
    /// The merge.
    pub merge: MergeInfo,
}

#[utoipa::path(post, path = "/api/v1/{kind}/merge", params(("kind" = String, Path, description = "`accounts` or `contacts`"), ("If-Match" = Option<String>, Header, description = "the survivor's ETag")),
    request_body = MergeBody,
    responses((status = 201, body = MergeDone), (status = 403, description = "you may not change or delete one of the records"), (status = 412, description = "the survivor changed meanwhile"), (status = 422, description = "bad choices or an invalid result")),
    description = "Merges records in one transaction: the survivor keeps the chosen values; links, deal contacts, deals, activities, participants, notes, history and child accounts of the others move to it; the others go to the trash pointing at it. Needs Update on every record and Delete on the merged ones.",
    tag = "duplicates")]
async fn do_merge(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<MergeBody>,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let version = match b.version {
        Some(v) => Some(v),
        None => karta_webkit::api::if_match(&headers)?,
    };
    let id = merge::merge(&st.db, &p.ctx, e, &b.survivor_id, &b.merged_ids, &b.fields, version).await?;
    let m = merge::get(&st.db, &p.ctx, &id).await?;
    Ok((
        StatusCode::CREATED,
        [("location", format!("/api/v1/merges/{id}"))],
        Json(MergeDone { merge_id: id, merge: m }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/merges/{id}", params(("id" = String, Path)),
    responses((status = 200, body = MergeInfo), (status = 404)), tag = "duplicates")]
async fn get_merge(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<MergeInfo>> {
    Ok(Json(merge::get(&st.db, &p.ctx, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", params(("id" = String, Path)),
    responses((status = 200, body = MergeInfo), (status = 409, description = "already undone, or a merged record was purged")),
    description = "Undoes a merge in one transaction: the survivor gets its values back, every moved item returns, the merged records come back from the trash.",
    tag = "duplicates")]
async fn undo(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Json<MergeInfo>> {
    Ok(Json(merge::undo(&st.db, &p.ctx, &id).await?))
}

/// The OpenAPI paths of duplicates and merging.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Candidates,
    Candidate,
    Reason,
    Report,
    DupGroup,
    MergeBody,
    MergeDone,
    MergeInfo,
    MergedRecord
)))]
pub struct MergeDoc;

/// The API routes, with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(MergeDoc::openapi())
        .routes(routes!(candidates))
        .routes(routes!(report))
        .routes(routes!(do_merge))
        .routes(routes!(get_merge))
        .routes(routes!(undo))
}
