//! The JSON API under `/api/v1`: the same store calls as the UI, with cursor paging,
//! problem+json errors, `ETag`/`If-Match` and `Idempotency-Key`.

use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use karta_core::party::PartyInput;
use karta_core::{Entity, FieldError};
use karta_store::listq::ListQuery;
use karta_store::users::Principal;
use karta_store::{audit, links, notes, parties, search, users, Q};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

fn entity(kind: &str) -> ApiResult<Entity> {
    match kind {
        "accounts" => Ok(Entity::Account),
        "contacts" => Ok(Entity::Contact),
        _ => Err(ApiError::NotFound),
    }
}

/// Parses a JSON body strictly: a malformed body, wrong types or unknown fields become a 400
/// or 422 with serde's message, never a 500.
pub(crate) fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> ApiResult<T> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.starts_with("application/json") {
        return Err(ApiError::BadRequest("send Content-Type: application/json".into()));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::Invalid(vec![FieldError::new("body", "invalid_value")]).with_detail(e.to_string())
        } else {
            ApiError::BadRequest(format!("malformed JSON: {e}"))
        }
    })
}

impl ApiError {
    fn with_detail(self, detail: String) -> Self {
        match self {
            Self::Invalid(_) => Self::BadRequest(detail),
            other => other,
        }
    }
}

/// A PATCH: the body's fields laid over `current` (fields not sent keep their values).
/// `lists` are fields that only replace when sent, so they are left out of the base.
pub(crate) fn merge_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    headers: &HeaderMap,
    body: &Bytes,
    lists: &[&str],
) -> ApiResult<T> {
    let Value::Object(patch) = parse_json::<Value>(headers, body)? else {
        return Err(ApiError::BadRequest("the body must be a JSON object".into()));
    };
    let mut merged = serde_json::to_value(current).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(m) = merged.as_object_mut() {
        for l in lists {
            m.remove(*l);
        }
        m.extend(patch);
    }
    serde_json::from_value(merged).map_err(|e| ApiError::BadRequest(e.to_string()))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

pub(crate) fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let s = v.to_str().unwrap_or_default().trim().trim_start_matches("W/").trim_matches('"');
    s.parse().map(Some).map_err(|_| ApiError::BadRequest("If-Match must be an ETag from this API".into()))
}

pub(crate) fn with_etag(version: i64, status: StatusCode, body: impl Serialize) -> Response {
    let mut r = (status, Json(body)).into_response();
    r.headers_mut().insert(header::ETAG, etag(version));
    r
}

/// List parameters shared by every list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `field:op:value`, repeatable; ops: contains, starts, eq, ne, in, empty, notempty, gte, lte.
    /// All of them must hold (AND), and then the groups.
    #[serde(default)]
    #[param(inline)]
    pub filter: Vec<String>,
    /// A condition group, `field:op:value`, repeatable; likewise `g2` … `g9`. A group's
    /// conditions must all hold, or any one with `g1_any=1`.
    #[serde(default)]
    #[param(inline)]
    pub g1: Vec<String>,
    /// `1`: any condition of group 1 is enough (OR); likewise `g2_any` … `g9_any`.
    pub g1_any: Option<String>,
    /// `any`: any group is enough (OR); `all` (default): every group must hold.
    #[serde(rename = "match")]
    #[param(rename = "match")]
    pub match_: Option<String>,
    /// A saved view (id or exact name, see `/api/v1/views`) to apply: its conditions, groups
    /// and sort; explicit `filter`s add to it, explicit groups or `sort` replace its own. The
    /// caller's permissions still limit the records.
    pub view: Option<String>,
    /// Sort field; prefix `-` for descending.
    pub sort: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// Cursor from `next_cursor`.
    pub after: Option<String>,
    /// `true` lists the trash.
    pub trash: Option<bool>,
}

/// Parses list parameters from a raw query string (repeatable `filter`).
pub(crate) fn list_query(raw: &[(String, String)]) -> ApiResult<ListQuery> {
    let mut lq = ListQuery { limit: 50, ..ListQuery::default() };
    for (k, v) in raw {
        match k.as_str() {
            k if karta_store::listq::read_param(&mut lq, k, v).map_err(|e| ApiError::Invalid(vec![e]))? => {}
            "sort" => {
                let (desc, f) = v.strip_prefix('-').map_or((false, v.as_str()), |f| (true, f));
                lq.sort = Some(f.to_string());
                lq.desc = desc;
            }
            "limit" => {
                lq.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("limit", "invalid_value")]))?;
            }
            "after" => lq.after = Some(v.clone()),
            "trash" => lq.trash = v == "true" || v == "1",
            _ => return Err(ApiError::BadRequest(format!("unknown parameter {k:?}"))),
        }
    }
    Ok(lq)
}

/// A page of records.
#[derive(Debug, Serialize, ToSchema)]
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
    let raw = crate::views_api::with_view(&st, &p.ctx, e, raw).await?;
    let lq = list_query(&raw)?;
    let page = parties::list(&st.db, &p.ctx, e, &lq).await?;
    Ok(Json(PartyPage { items: page.items, next_cursor: page.next }))
}

pub(crate) async fn idempotent<F, Fut>(
    st: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    body: &Bytes,
    f: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<(StatusCode, Value, String, i64)>>,
{
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        let (status, v, loc, version) = f().await?;
        return Ok(created(status, &v, &loc, version));
    };
    if key.len() > 200 {
        return Err(ApiError::Invalid(vec![FieldError::new("Idempotency-Key", "too_long")]));
    }
    let hash = users::sha256_hex(&String::from_utf8_lossy(body));
    let (t, u) = (&p.ctx.tenant_id, &p.ctx.user_id);
    let prior = st
        .db
        .opt(
            Q::new("SELECT * FROM idempotency_keys WHERE tenant_id = $1 AND user_id = $2 AND key = $3")
                .bind(t)
                .bind(u)
                .bind(key),
        )
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(r) = prior {
        if r.s("request_hash") != hash {
            return Err(ApiError::Invalid(vec![FieldError::new("Idempotency-Key", "invalid_value")])
                .with_detail("this Idempotency-Key was used with a different request body".into()));
        }
        let v: Value = serde_json::from_str(&r.s("body")).unwrap_or(Value::Null);
        let version = v.get("version").and_then(Value::as_i64).unwrap_or(0);
        let status = StatusCode::from_u16(u16::try_from(r.i("status")).unwrap_or(200)).unwrap_or(StatusCode::OK);
        let mut res = created(status, &v, &r.s("location"), version);
        res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(res);
    }
    let (status, v, loc, version) = f().await?;
    let stored = st
        .db
        .exec(
            Q::new(
                "INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, status, body, location, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(t)
            .bind(u)
            .bind(key)
            .bind(hash)
            .bind(i64::from(status.as_u16()))
            .bind(v.to_string())
            .bind(loc.clone())
            .bind(karta_core::now_ms()),
        )
        .await;
    if let Err(e) = stored {
        tracing::warn!(error = %e, "idempotency key not stored");
    }
    Ok(created(status, &v, &loc, version))
}

fn created(status: StatusCode, v: &Value, loc: &str, version: i64) -> Response {
    let mut r = with_etag(version, status, v);
    if let Ok(h) = HeaderValue::from_str(loc) {
        if !loc.is_empty() {
            r.headers_mut().insert(header::LOCATION, h);
        }
    }
    r
}

#[utoipa::path(post, path = "/api/v1/{kind}", params(("kind" = String, Path, description = "accounts or contacts"),
    ("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")), request_body = PartyInput,
    responses((status = 201, body = parties::Party), (status = 422, description = "invalid fields")), tag = "records")]
async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let input: PartyInput = parse_json(&headers, &body)?;
    let st2 = st.clone();
    let p2 = p.clone();
    idempotent(&st, &p, &headers, &body, || async move {
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
    body: Bytes,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let current = parties::get(&st.db, &p.ctx, e, &id).await?;
    let input: PartyInput = merge_patch(&current.input, &headers, &body, &[])?;
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
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let b: LinkBody = if body.is_empty() { LinkBody::default() } else { parse_json(&headers, &body)? };
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
#[derive(Debug, Deserialize, ToSchema)]
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
    body: Bytes,
) -> ApiResult<Response> {
    let e = entity(&kind)?;
    let b: NoteBody = parse_json(&headers, &body)?;
    let st2 = st.clone();
    let p2 = p.clone();
    idempotent(&st, &p, &headers, &body, || async move {
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
    body: Bytes,
) -> ApiResult<Response> {
    let b: NoteBody = parse_json(&headers, &body)?;
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

/// The current user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Tenant slug.
    pub tenant: String,
    /// Tenant name.
    pub tenant_name: String,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me)), tag = "users")]
async fn me(ApiUser(p): ApiUser) -> Json<Me> {
    Json(Me {
        id: p.user.id,
        email: p.user.email,
        display_name: p.user.display_name,
        role: p.user.role.as_str().into(),
        tenant: p.tenant_slug,
        tenant_name: p.tenant_name,
    })
}

/// A new token's name.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TokenBody {
    /// What the token is for.
    pub name: String,
}

/// A new token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    /// The token.
    #[serde(flatten)]
    pub info: users::TokenInfo,
    /// The secret for `Authorization: Bearer`.
    pub token: String,
}

#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = Vec<users::TokenInfo>)), tag = "users")]
async fn list_tokens(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<users::TokenInfo>>> {
    Ok(Json(users::tokens(&st.db, &p.ctx).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenBody, responses((status = 201, body = NewToken)), tag = "users")]
async fn create_token(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let b: TokenBody = if body.is_empty() { TokenBody::default() } else { parse_json(&headers, &body)? };
    let (info, token) = users::create_token(&st.db, &p.ctx.tenant_id, &p.ctx.user_id, &b.name).await?;
    Ok((StatusCode::CREATED, Json(NewToken { info, token })).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path)), responses((status = 204, description = "revoked")), tag = "users")]
async fn revoke_token(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    users::revoke_token(&st.db, &p.ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Karta API", description = "Accounts, contacts, links, notes, search and tokens. Authenticate with `Authorization: Bearer <token>` (create one with `karta token create` or on the Settings page). Errors are RFC 9457 problem+json with per-field `errors`. Timestamps are milliseconds since the Unix epoch."),
    paths(list, create, get_one, patch, delete, restore, purge, history, related, link, unlink, list_notes, add_note, edit_note, delete_note, search_api, me, list_tokens, create_token, revoke_token),
    components(schemas(PartyInput, karta_core::party::Labeled, karta_core::party::Address, karta_core::party::NamedDate, parties::Party, PartyPage, links::Linked, notes::Note, search::Hit, audit::AuditEntry, users::TokenInfo, NewToken, TokenBody, NoteBody, LinkBody, Me, Entity)),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let comps = openapi.components.get_or_insert_with(Default::default);
        comps.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// The OpenAPI 3.1 document.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::sales_api::SalesDoc::openapi());
    doc.merge(crate::organizer_api::OrganizerDoc::openapi());
    doc.merge(crate::views_api::ViewsDoc::openapi());
    doc.merge(crate::merge_api::MergeDoc::openapi());
    doc.merge(crate::fields_api::FieldsDoc::openapi());
    doc.merge(crate::transfer_api::TransferDoc::openapi());
    doc
}

async fn openapi_json(
    State(st): State<AppState>,
    authed: Option<axum::Extension<crate::auth::Authed>>,
) -> ApiResult<Response> {
    let Some(axum::Extension(a)) = authed else {
        let mut r = Json(openapi()).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
        return Ok(r);
    };
    // Signed in: the document also describes this company's custom fields.
    let mut doc = serde_json::to_value(openapi()).map_err(|e| ApiError::Internal(e.into()))?;
    crate::fields_api::add_tenant_fields(&st, &a.p.ctx, &mut doc).await?;
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The `/api/v1` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/me", get(me))
        .route("/search", get(search_api))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/notes/{id}", axum::routing::patch(edit_note).delete(delete_note))
        .route("/contacts/{id}/accounts/{account_id}", put(link).delete(unlink))
        .route("/{kind}", get(list).post(create))
        .route("/{kind}/{id}", get(get_one).patch(patch).delete(delete))
        .route("/{kind}/{id}/restore", post(restore))
        .route("/{kind}/{id}/purge", axum::routing::delete(purge))
        .route("/{kind}/{id}/history", get(history))
        .route("/{kind}/{id}/related", get(related))
        .route("/{kind}/{id}/notes", get(list_notes).post(add_note))
        .merge(crate::sales_api::router())
        .merge(crate::organizer_api::router())
        .merge(crate::views_api::router())
        .merge(crate::merge_api::router())
        .merge(crate::fields_api::router())
        .merge(crate::transfer_api::router())
        .fallback(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_lists_every_route_and_is_3_1() {
        let doc = serde_json::to_value(openapi()).expect("serialises");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
        for p in ["/api/v1/{kind}", "/api/v1/{kind}/{id}", "/api/v1/search", "/api/v1/me", "/api/v1/tokens"] {
            assert!(doc["paths"].get(p).is_some(), "{p} missing");
        }
        assert!(doc["components"]["schemas"].get("PartyInput").is_some());
    }
}
