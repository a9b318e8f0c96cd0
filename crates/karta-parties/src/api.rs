//! The JSON API under `/api/v1`: the same store calls as the UI, with cursor paging,
//! problem+json errors, `ETag`/`If-Match` and `Idempotency-Key`.

use crate::{links, notes, parties};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use karta_core::party::PartyInput;
use karta_core::{Entity, FieldError};
use karta_kernel::{audit, search};
use karta_webkit::api::Bearer;
use karta_webkit::api::{idempotent, if_match, list_query, merge_patch, with_etag, ListParams};
use karta_webkit::api::{ApiJson, ApiJsonOrDefault};
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::{Deserialize, Serialize};
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

/// A page of records (also read back by the test kit's typed client).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PartyPage {
    /// Records.
    pub items: Vec<parties::Party>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/{kind}", params(("kind" = String, Path, description = "accounts or contacts"), ListParams),
    responses((status = 200, body = PartyPage), (status = 422, description = "bad filter, sort or cursor")), tag = "records")]
async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Json<PartyPage>> {
    let e = entity(&kind)?;
    let raw = karta_webkit::api::with_view(&st, &p.ctx, e, raw).await?;
    let lq = list_query(&raw)?;
    let page = parties::list(&st.db, &p.ctx, e, &lq).await?;
    Ok(Json(PartyPage { items: page.items, next_cursor: page.next }))
}

#[utoipa::path(post, path = "/api/v1/{kind}", params(("kind" = String, Path, description = "accounts or contacts"),
    ("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")), request_body = PartyInput,
    responses((status = 201, body = parties::Party), (status = 422, description = "invalid fields")), tag = "records")]
async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PartyInput>,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let st2 = st.clone();
    let p2 = p.clone();
    idempotent(&st, &p, &headers, input, |input| async move {
        let rec = parties::create(&st2.db, &p2.ctx, e, input).await?;
        let loc = format!("/api/v1/{kind}/{}", rec.id);
        let version = rec.version;
        Ok((StatusCode::CREATED, serde_json::to_value(&rec).unwrap_or_default(), loc, version))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/{kind}/{id}", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = parties::Party, headers(("ETag" = String))), (status = 404)), tag = "records")]
async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let rec = parties::get(&st.db, &p.ctx, entity(&kind)?, &id).await?;
    Ok(with_etag(rec.version, StatusCode::OK, rec))
}

#[utoipa::path(patch, path = "/api/v1/{kind}/{id}", params(("kind" = String, Path), ("id" = String, Path),
    ("If-Match" = String, Header, description = "the ETag you read")), request_body = PartyInput,
    responses((status = 200, body = parties::Party), (status = 412, description = "changed meanwhile"), (status = 428, description = "If-Match missing")), tag = "records")]
async fn patch(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let current = parties::get(&st.db, &p.ctx, e, &id).await?;
    let input: PartyInput = merge_patch(&current.input, patch, &[])?;
    let rec = parties::update(&st.db, &p.ctx, e, &id, version, input).await?;
    Ok(with_etag(rec.version, StatusCode::OK, rec))
}

#[utoipa::path(delete, path = "/api/v1/{kind}/{id}", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "moved to the trash")), tag = "records")]
async fn delete(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let e = entity(&kind)?;
    if let Some(v) = if_match(&headers)? {
        let cur = parties::get(&st.db, &p.ctx, e, &id).await?;
        if cur.version != v {
            return Err(ApiError::PreconditionFailed { current: cur.version, changes: Vec::new() });
        }
    }
    parties::delete(&st.db, &p.ctx, e, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/{kind}/{id}/restore", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = parties::Party)), tag = "records")]
async fn restore(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let rec = parties::restore(&st.db, &p.ctx, entity(&kind)?, &id).await?;
    Ok(with_etag(rec.version, StatusCode::OK, rec))
}

#[utoipa::path(delete, path = "/api/v1/{kind}/{id}/purge", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "erased for good (admin, trashed records only)")), tag = "records")]
async fn purge(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    parties::purge(&st.db, &p.ctx, entity(&kind)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/{kind}/{id}/history", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<audit::AuditEntry>)), tag = "records")]
async fn history(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<audit::AuditEntry>>> {
    let e = entity(&kind)?;
    parties::get(&st.db, &p.ctx, e, &id).await?;
    Ok(Json(audit::history(&st.db, &p.ctx, e.as_str(), &id, 200).await?))
}

#[utoipa::path(get, path = "/api/v1/{kind}/{id}/related", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<links::Linked>, description = "a contact's accounts or an account's contacts")), tag = "links")]
async fn related(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<links::Linked>>> {
    let e = entity(&kind)?;
    parties::get(&st.db, &p.ctx, e, &id).await?;
    Ok(Json(links::related(&st.db, &p.ctx, e, &id, 500).await?))
}

/// A link's role.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LinkBody {
    /// Role or title at the account.
    pub role: String,
}

#[utoipa::path(put, path = "/api/v1/contacts/{id}/accounts/{account_id}", params(("id" = String, Path), ("account_id" = String, Path)),
    request_body = LinkBody, responses((status = 204, description = "linked")), tag = "links")]
async fn link(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, account)): Path<(String, String)>,
    ApiJsonOrDefault(b): ApiJsonOrDefault<LinkBody>,
) -> ApiResult<StatusCode> {
    links::link(&st.db, &p.ctx, &id, &account, &b.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}/accounts/{account_id}", params(("id" = String, Path), ("account_id" = String, Path)),
    responses((status = 204, description = "unlinked")), tag = "links")]
async fn unlink(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, account)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    links::unlink(&st.db, &p.ctx, &id, &account).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A note's text.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// Text.
    pub body: String,
}

#[utoipa::path(get, path = "/api/v1/{kind}/{id}/notes", params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<notes::Note>)), tag = "notes")]
async fn list_notes(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<notes::Note>>> {
    Ok(Json(notes::list(&st.db, &p.ctx, entity(&kind)?, &id, 500).await?))
}

#[utoipa::path(post, path = "/api/v1/{kind}/{id}/notes", params(("kind" = String, Path), ("id" = String, Path)),
    request_body = NoteBody, responses((status = 201, body = notes::Note)), tag = "notes")]
async fn add_note(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let st2 = st.clone();
    let p2 = p.clone();
    idempotent(&st, &p, &headers, b, |b| async move {
        let n = notes::add(&st2.db, &p2.ctx, e, &id, &b.body).await?;
        let v = n.version;
        Ok((StatusCode::CREATED, serde_json::to_value(&n).unwrap_or_default(), format!("/api/v1/notes/{}", n.id), v))
    })
    .await
}

#[utoipa::path(patch, path = "/api/v1/notes/{id}", params(("id" = String, Path)), request_body = NoteBody,
    responses((status = 200, body = notes::Note)), tag = "notes")]
async fn edit_note(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<Response> {
    let n = notes::edit(&st.db, &p.ctx, &id, if_match(&headers)?, &b.body).await?;
    Ok(with_etag(n.version, StatusCode::OK, n))
}

#[utoipa::path(delete, path = "/api/v1/notes/{id}", params(("id" = String, Path)), responses((status = 204, description = "deleted")), tag = "notes")]
async fn delete_note(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    notes::delete(&st.db, &p.ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// The query: a name, an e-mail or a phone in any format.
    pub q: String,
    /// Hits per entity (1–50, default 10).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses((status = 200, body = Vec<search::Hit>)), tag = "search")]
async fn search_api(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(sp): Query<SearchParams>,
) -> ApiResult<Json<Vec<search::Hit>>> {
    if sp.q.chars().count() > 200 {
        return Err(ApiError::Invalid(vec![FieldError::new("q", "too_long")]));
    }
    Ok(Json(search::search(&st.db, &p.ctx, &sp.q, sp.limit.unwrap_or(10).clamp(1, 50)).await?))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Karta API", description = "Accounts, contacts, links, notes, search and tokens. Authenticate with `Authorization: Bearer <token>` (create one with `karta token create` or on the Settings page). Errors are RFC 9457 problem+json with per-field `errors`. Timestamps are milliseconds since the Unix epoch."),
    components(schemas(PartyInput, karta_core::party::Labeled, karta_core::party::Address, karta_core::party::NamedDate, parties::Party, PartyPage, links::Linked, notes::Note, search::Hit, audit::AuditEntry, NoteBody, LinkBody, Entity)),
    modifiers(&Bearer)
)]
pub struct PartiesDoc;

/// The API routes, with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(PartiesDoc::openapi())
        .routes(routes!(search_api))
        .routes(routes!(edit_note, delete_note))
        .routes(routes!(link, unlink))
        .routes(routes!(list, create))
        .routes(routes!(get_one, patch, delete))
        .routes(routes!(restore))
        .routes(routes!(purge))
        .routes(routes!(history))
        .routes(routes!(related))
        .routes(routes!(list_notes, add_note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_lists_the_parties_routes_and_is_3_1() {
        let doc = serde_json::to_value(router().split_for_parts().1).expect("serialises");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
        for p in ["/api/v1/{kind}", "/api/v1/{kind}/{id}", "/api/v1/search"] {
            assert!(doc["paths"].get(p).is_some(), "{p} missing");
        }
        assert!(doc["components"]["schemas"].get("PartyInput").is_some());
    }
}
