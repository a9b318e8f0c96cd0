//! The catalogue API.

use crate::store::{self as products, Product, ProductInput};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use karta_webkit::api::ApiJson;
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Catalogue parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductParams {
    /// Text in the SKU or a name.
    pub q: Option<String>,
    /// Only active products.
    pub active: Option<bool>,
    /// At most this many (default 200, up to 1000).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/products", params(ProductParams), responses((status = 200, body = Vec<Product>)), tag = "products")]
async fn list_products(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(pp): Query<ProductParams>,
) -> ApiResult<Json<Vec<Product>>> {
    let q = pp.q.unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(ApiError::Invalid(vec![karta_core::FieldError::new("q", "too_long")]));
    }
    Ok(Json(products::list(&st.db, &p.ctx, &q, pp.active.unwrap_or(false), pp.limit.unwrap_or(200)).await?))
}

#[utoipa::path(post, path = "/api/v1/products", request_body = ProductInput, responses((status = 201, body = Product), (status = 409, description = "SKU taken")), tag = "products")]
async fn create_product(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<ProductInput>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    Ok((StatusCode::CREATED, Json(products::create(&st.db, &p.ctx, &b).await?)))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", params(("id" = String, Path)), responses((status = 200, body = Product)), tag = "products")]
async fn get_product(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Product>> {
    Ok(Json(products::get(&st.db, &p.ctx, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/products/{id}", params(("id" = String, Path)), request_body = ProductInput, responses((status = 200, body = Product)), tag = "products")]
async fn update_product(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ProductInput>,
) -> ApiResult<Json<Product>> {
    Ok(Json(products::update(&st.db, &p.ctx, &id, &b).await?))
}

/// The OpenAPI paths of the catalogue.
#[derive(OpenApi)]
#[openapi(components(schemas(Product, products::Price, ProductInput, products::PriceInput)))]
pub struct CatalogDoc;

/// The API routes (nested under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(CatalogDoc::openapi())
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product))
}
