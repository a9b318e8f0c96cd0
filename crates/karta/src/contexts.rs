//! The contexts assembled: their registrations (texts, styles, panels, hooks, jobs), their
//! pages and API routes, and the OpenAPI document. The order of the contexts, lowest first,
//! is the one their crates depend on each other in (see the README's layout section).

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use karta_webkit::api::Bearer;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::routes::Pages;
use karta_webkit::AppState;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Registers every context's contributions; safe to call more than once.
pub fn register() {
    karta_webkit::i18n::register_own();
    karta_identity::register();
    karta_customization::register();
    karta_parties::register();
    karta_catalog::register();
    karta_sales::register();
    karta_organizer::register();
    karta_transfer::register();
}

/// Every context's pages.
pub fn pages() -> Pages {
    // The parties' `/{kind}` routes are the only ones with a parameter first; static paths
    // of the other contexts win over them.
    Pages::new()
        .merge(karta_identity::pages())
        .merge(karta_customization::pages())
        .merge(karta_catalog::pages())
        .merge(karta_sales::pages())
        .merge(karta_organizer::pages())
        .merge(karta_transfer::pages())
        .merge(karta_parties::pages())
}

/// Every context's API routes under `/api/v1`, each registered with its OpenAPI path, and
/// the document they make (also served at `/api/v1/openapi.json`).
pub fn api() -> (Router<AppState>, Arc<utoipa::openapi::OpenApi>) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(karta_identity::api())
        .merge(karta_customization::api())
        .merge(karta_catalog::api())
        .merge(karta_sales::api())
        .merge(karta_organizer::api())
        .merge(karta_transfer::api())
        .merge(karta_parties::api())
        .split_for_parts();
    let doc = Arc::new(doc);
    let served = doc.clone();
    let router = router.route(
        "/api/v1/openapi.json",
        get(move |st: State<AppState>, authed: Option<axum::Extension<karta_webkit::auth::Authed>>| {
            openapi_json(served.clone(), st, authed)
        }),
    );
    (router, doc)
}

/// The document's title, description and bearer authentication; the paths come from the
/// routes.
#[derive(OpenApi)]
#[openapi(
    info(title = "Karta API", description = "Accounts, contacts, deals, activities, products, custom fields, saved views, imports and exports. Authenticate with `Authorization: Bearer <token>` (create one with `karta token create` or on the Settings page). Errors are RFC 9457 problem+json with per-field `errors`. Timestamps are milliseconds since the Unix epoch."),
    modifiers(&Bearer)
)]
struct ApiDoc;

/// The OpenAPI 3.1 document of the whole API.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1.as_ref().clone()
}

async fn openapi_json(
    doc: Arc<utoipa::openapi::OpenApi>,
    State(st): State<AppState>,
    authed: Option<axum::Extension<karta_webkit::auth::Authed>>,
) -> ApiResult<Response> {
    let Some(axum::Extension(a)) = authed else {
        let mut r = Json(doc.as_ref()).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
        return Ok(r);
    };
    // Signed in: the document also describes this company's custom fields.
    let mut doc = serde_json::to_value(doc.as_ref()).map_err(|e| ApiError::Internal(e.into()))?;
    karta_customization::fields_api::add_tenant_fields(&st, &a.p.ctx, &mut doc).await?;
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

/// Every page route of the app, the web kit's own included: `(method, path)`.
#[must_use]
pub fn page_routes() -> Vec<(axum::http::Method, String)> {
    karta_webkit::ui::router().merge(pages()).routes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_lists_every_route_and_is_3_1() {
        let doc = serde_json::to_value(openapi()).expect("serialises");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
        for p in [
            "/api/v1/{kind}",
            "/api/v1/{kind}/{id}",
            "/api/v1/search",
            "/api/v1/me",
            "/api/v1/tokens",
            "/api/v1/deals",
            "/api/v1/products",
            "/api/v1/activities",
            "/api/v1/imports",
            "/api/v1/notifications",
        ] {
            assert!(doc["paths"].get(p).is_some(), "{p} missing");
        }
        assert!(doc["components"]["schemas"].get("PartyInput").is_some());
        assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
    }
}
