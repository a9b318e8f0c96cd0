//! Custom fields in the API: `/api/v1/custom-fields` (list with `?entity=`, create, read,
//! change with `If-Match`), and the caller tenant's fields written into the OpenAPI document's
//! `custom` properties of contacts, accounts and deals.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use karta_core::custom::{FieldDef, FieldKind};
use karta_core::{Entity, FieldError};
use karta_kernel::ctx::Ctx;
use karta_kernel::fields::{self, FieldInput, FieldPatch, Saved};
use karta_webkit::api::ApiJson;
use karta_webkit::api::{if_match, with_etag};
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Which entity's fields.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldParams {
    /// `contact`, `account` or `deal` (plural forms accepted); absent: all three.
    pub entity: Option<String>,
    /// `true` also lists deactivated fields.
    pub all: Option<bool>,
}

fn entity_of(s: &str) -> ApiResult<Entity> {
    Entity::parse(s.trim())
        .filter(|e| fields::entities().contains(e))
        .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("entity", "invalid_choice")]))
}

/// The 422 answer of a change that would lose stored values, with their count.
#[must_use]
pub fn would_lose_response(affected: i64) -> Response {
    let body = json!({
        "type": "about:blank", "title": "Invalid input", "status": 422,
        "detail": format!("kind: {affected} stored value(s) would be lost by this change"),
        "affected": affected,
        "errors": [{"field": "kind", "code": "would_lose_values", "count": affected,
                    "message": format!("{affected} stored value(s) would be lost")}],
    });
    let mut r = (StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

#[utoipa::path(get, path = "/api/v1/custom-fields", params(FieldParams),
    responses((status = 200, body = Vec<FieldDef>, description = "definitions in form order")), tag = "custom fields")]
async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(fp): Query<FieldParams>,
) -> ApiResult<Json<Vec<FieldDef>>> {
    let all = fp.all.unwrap_or(false);
    let defs = match fp.entity.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(e) => fields::list(&st.db, &p.ctx, entity_of(e)?, all).await?,
        None => fields::list_all(&st.db, &p.ctx, all).await?,
    };
    Ok(Json(defs))
}

#[utoipa::path(post, path = "/api/v1/custom-fields", request_body = FieldInput,
    responses((status = 201, body = FieldDef), (status = 403, description = "admins only"),
    (status = 409, description = "the key is taken"), (status = 422, description = "invalid fields")), tag = "custom fields")]
async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(input): ApiJson<FieldInput>,
) -> ApiResult<Response> {
    let d = fields::create(&st.db, &p.ctx, &input).await?;
    let mut r = with_etag(d.version, StatusCode::CREATED, &d);
    if let Ok(h) = HeaderValue::from_str(&format!("/api/v1/custom-fields/{}", d.id)) {
        r.headers_mut().insert(header::LOCATION, h);
    }
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/custom-fields/{id}", params(("id" = String, Path)),
    responses((status = 200, body = FieldDef, headers(("ETag" = String))), (status = 404)), tag = "custom fields")]
async fn get_one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let d = fields::get(&st.db, &p.ctx, &id).await?;
    Ok(with_etag(d.version, StatusCode::OK, d))
}

#[utoipa::path(patch, path = "/api/v1/custom-fields/{id}", params(("id" = String, Path),
    ("If-Match" = String, Header, description = "the ETag you read")), request_body = FieldPatch,
    responses((status = 200, body = FieldDef), (status = 403, description = "admins only"),
    (status = 412, description = "changed meanwhile"), (status = 428, description = "If-Match missing"),
    (status = 422, description = "invalid fields; `would_lose_values` (field `kind`) with `affected`, the number of stored values a new kind or options would lose")),
    tag = "custom fields")]
async fn patch(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<FieldPatch>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    match fields::update(&st.db, &p.ctx, &id, version, &patch).await? {
        Saved::Done(d) => Ok(with_etag(d.version, StatusCode::OK, d)),
        Saved::WouldLose { affected } => Ok(would_lose_response(affected)),
    }
}

/// The custom-field routes (merged into `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(FieldsDoc::openapi()).routes(routes!(list, create)).routes(routes!(get_one, patch))
}

/// The custom-field part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(components(schemas(FieldDef, FieldKind, FieldInput, FieldPatch)))]
pub struct FieldsDoc;

/// The JSON Schema of one field's stored value.
fn value_schema(d: &FieldDef) -> Value {
    let mut s = match d.kind {
        FieldKind::Number => json!({"type": "number"}),
        FieldKind::Money => json!({"type": "object", "properties": {
            "minor": {"type": "integer", "description": "amount in minor units"},
            "currency": {"type": "string", "description": "ISO 4217 code"}},
            "description": "also accepted on input: \"1234.50 RUB\" or {\"amount\": \"1234.50\", \"currency\": \"RUB\"}"}),
        FieldKind::Date => json!({"type": "string", "format": "date"}),
        FieldKind::DateTime => json!({"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$"}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Select => json!({"type": "string", "enum": d.options}),
        FieldKind::MultiSelect => json!({"type": "array", "items": {"type": "string", "enum": d.options}}),
        FieldKind::Url => json!({"type": "string", "format": "uri"}),
        FieldKind::Email => json!({"type": "string", "format": "email"}),
        FieldKind::Phone => json!({"type": "string", "description": "E.164"}),
        FieldKind::User => json!({"type": "string", "description": "a user id"}),
        FieldKind::Link => json!({"type": "string", "description": format!(
            "id of a {}", d.target.map_or("record", Entity::as_str))}),
        FieldKind::Text | FieldKind::LongText => json!({"type": "string"}),
    };
    let mut desc = format!("{} / {} ({})", d.label_en, d.label_ru, d.kind.as_str());
    if d.required {
        desc.push_str("; required");
    }
    if !d.help.is_empty() {
        desc.push_str(". ");
        desc.push_str(&d.help);
    }
    if let Some(extra) = s.get("description").and_then(Value::as_str) {
        desc = format!("{desc}. {extra}");
    }
    if let Some(m) = s.as_object_mut() {
        m.insert("description".into(), Value::from(desc));
    }
    s
}

/// Writes the tenant's active fields into `doc` (a serialised OpenAPI document): schemas
/// `ContactCustomFields`, `AccountCustomFields`, `DealCustomFields`, referenced from the
/// `custom` property of `PartyInput`, `Party`, `DealInput` and `Deal`.
///
/// # Errors
/// Database errors.
pub async fn add_tenant_fields(st: &AppState, ctx: &Ctx, doc: &mut Value) -> ApiResult<()> {
    let defs = fields::list_all(&st.db, ctx, false).await?;
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (e, name) in [
        (Entity::Contact, "ContactCustomFields"),
        (Entity::Account, "AccountCustomFields"),
        (Entity::Deal, "DealCustomFields"),
    ] {
        let mut props = Map::new();
        let mut required = Vec::new();
        for d in defs.iter().filter(|d| d.entity == e) {
            props.insert(d.key.clone(), value_schema(d));
            if d.required {
                required.push(Value::from(d.key.clone()));
            }
        }
        schemas.insert(
            name.into(),
            json!({"type": "object", "description": format!("This company's custom fields of {}s, by key.", e.as_str()),
                   "properties": props, "required": required, "additionalProperties": false}),
        );
    }
    let party = json!({"description": "Custom field values by key: for contacts see ContactCustomFields, for accounts AccountCustomFields.",
        "oneOf": [{"$ref": "#/components/schemas/ContactCustomFields"}, {"$ref": "#/components/schemas/AccountCustomFields"}]});
    let deal = json!({"description": "Custom field values by key (DealCustomFields).", "$ref": "#/components/schemas/DealCustomFields"});
    for (schema, v) in [("PartyInput", &party), ("Party", &party), ("DealInput", &deal), ("Deal", &deal)] {
        if let Some(p) = schemas.get_mut(schema).and_then(|s| s.get_mut("properties")).and_then(Value::as_object_mut) {
            p.insert("custom".into(), v.clone());
        }
    }
    Ok(())
}
