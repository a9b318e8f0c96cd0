//! The identity API: who am I, and personal API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use karta_kernel::users;
use karta_webkit::api::ApiJsonOrDefault;
use karta_webkit::auth::ApiUser;
use karta_webkit::error::ApiResult;
use karta_webkit::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
        role: p.user.role,
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
    ApiJsonOrDefault(b): ApiJsonOrDefault<TokenBody>,
) -> ApiResult<Response> {
    let (info, token) = users::create_token(&st.db, p.ctx.tenant_id(), p.ctx.user_id(), &b.name).await?;
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

/// The OpenAPI paths of identity.
#[derive(OpenApi)]
#[openapi(components(schemas(users::TokenInfo, NewToken, TokenBody, Me)))]
pub struct IdentityDoc;

/// The API routes, with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(IdentityDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}
