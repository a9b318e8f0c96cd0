//! The JSON API's shared machinery: strict JSON bodies, merge-patch, `ETag`/`If-Match`,
//! `Idempotency-Key`, list parameters and saved views applied to them, bearer auth in the
//! OpenAPI document.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use karta_core::{Entity, FieldError};
use karta_kernel::ctx::Ctx;
use karta_kernel::listq::ListQuery;
use karta_kernel::users::{self, Principal};
use karta_kernel::{views, Q};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Parses a JSON body strictly: a malformed body, wrong types or unknown fields become a 400
/// or 422 with serde's message, never a 500.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> ApiResult<T> {
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
    /// Makes an invalid-body error a 400 with serde's message.
    #[must_use]
    pub fn with_detail(self, detail: String) -> Self {
        match self {
            Self::Invalid(_) => Self::BadRequest(detail),
            other => other,
        }
    }
}

/// A JSON request body of type `T`, parsed strictly ([`parse_json`]): handlers take
/// `ApiJson(input): ApiJson<T>` instead of headers and bytes. An oversized body is a 413.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// Like [`ApiJson`], but an empty body means `T::default()` (bodies whose fields are all
/// optional).
#[derive(Debug, Clone)]
pub struct ApiJsonOrDefault<T>(pub T);

async fn body_of<S: Send + Sync>(req: axum::extract::Request, state: &S) -> ApiResult<(HeaderMap, Bytes)> {
    use axum::extract::FromRequest;
    let headers = req.headers().clone();
    let body = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    Ok((headers, body))
}

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let (headers, body) = body_of(req, state).await?;
        parse_json(&headers, &body).map(Self)
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> axum::extract::FromRequest<S> for ApiJsonOrDefault<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let (headers, body) = body_of(req, state).await?;
        if body.is_empty() {
            return Ok(Self(T::default()));
        }
        parse_json(&headers, &body).map(Self)
    }
}

/// A PATCH: the body's fields laid over `current` (fields not sent keep their values).
/// `lists` are fields that only replace when sent, so they are left out of the base.
pub fn merge_patch<T: Serialize + DeserializeOwned>(current: &T, patch: Value, lists: &[&str]) -> ApiResult<T> {
    let Value::Object(patch) = patch else {
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

/// The `ETag` of a version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let s = v.to_str().unwrap_or_default().trim().trim_start_matches("W/").trim_matches('"');
    s.parse().map(Some).map_err(|_| ApiError::BadRequest("If-Match must be an ETag from this API".into()))
}

pub fn with_etag(version: i64, status: StatusCode, body: impl Serialize) -> Response {
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
pub fn list_query(raw: &[(String, String)]) -> ApiResult<ListQuery> {
    let mut lq = ListQuery { limit: 50, ..ListQuery::default() };
    for (k, v) in raw {
        match k.as_str() {
            k if karta_kernel::listq::read_param(&mut lq, k, v).map_err(|e| ApiError::Invalid(vec![e]))? => {}
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

/// Runs a create once per `Idempotency-Key`: a repeated request with the same key and body
/// gets the first answer again (marked `Idempotent-Replayed`), the same key with another body
/// a 422; without a key the create just runs.
///
/// # Errors
/// What the create returns; a 422 for a reused key; database errors.
pub async fn idempotent<T, F, Fut>(
    st: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    request: T,
    f: F,
) -> ApiResult<Response>
where
    T: Serialize,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = ApiResult<(StatusCode, Value, String, i64)>>,
{
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        let (status, v, loc, version) = f(request).await?;
        return Ok(created(status, &v, &loc, version));
    };
    if key.len() > 200 {
        return Err(ApiError::Invalid(vec![FieldError::new("Idempotency-Key", "too_long")]));
    }
    // The parsed request, written back: the same request in other spacing or key order is
    // the same request.
    let hash = users::sha256_hex(&serde_json::to_string(&request).map_err(|e| ApiError::Internal(e.into()))?);
    let (t, u) = (p.ctx.tenant_id(), p.ctx.user_id());
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
    let (status, v, loc, version) = f(request).await?;
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

/// A created (or replayed) record's response with its `ETag` and `Location`.
pub fn created(status: StatusCode, v: &Value, loc: &str, version: i64) -> Response {
    let mut r = with_etag(version, status, v);
    if let Ok(h) = HeaderValue::from_str(loc) {
        if !loc.is_empty() {
            r.headers_mut().insert(header::LOCATION, h);
        }
    }
    r
}

/// Adds bearer authentication to an OpenAPI document.
pub struct Bearer;

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

/// Applies `view=ID_OR_NAME` of a list request: the view's conditions, groups and sort laid
/// under the explicit parameters (explicit `filter`s add to the view's; explicit groups or
/// `sort` replace the view's). Without `view` the parameters pass unchanged.
///
/// # Errors
/// 404 for a view the caller does not see.
pub async fn with_view(
    st: &AppState,
    ctx: &Ctx,
    e: Entity,
    raw: Vec<(String, String)>,
) -> ApiResult<Vec<(String, String)>> {
    let Some((_, want)) = raw.iter().find(|(k, _)| k == "view") else { return Ok(raw) };
    if want.trim().is_empty() {
        return Ok(raw.into_iter().filter(|(k, _)| k != "view").collect());
    }
    let v = views::resolve(&st.db, ctx, e, want).await?;
    Ok(crate::ui::views::merge_view(&raw, &v, false))
}
