//! The bell: a user's notifications (reminders, deals handed over), their page and API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use karta_kernel::notify;
use karta_webkit::auth::{ApiUser, PageUser};
use karta_webkit::error::ApiResult;
use karta_webkit::ui::list::error_page;
use karta_webkit::ui::pages::{iso_ts, render, Layout};
use karta_webkit::AppState;
use utoipa::OpenApi;

struct NotifView {
    title: String,
    kind: String,
    link: String,
    at: String,
    iso: String,
    read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotifPage {
    l: Layout,
    items: Vec<NotifView>,
}

/// GET /notifications
pub async fn page(State(st): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let items = match notify::list(&st.db, &u.p.ctx, st.clock.now(), 200).await {
        Ok(v) => v,
        Err(e) => return error_page(&u, &e),
    };
    let items = items
        .into_iter()
        .map(|n| NotifView {
            kind: t.s(&format!("notif.{}", n.kind)).to_string(),
            link: if n.link.starts_with('/') { n.link } else { String::new() },
            at: u.when(n.at),
            iso: iso_ts(n.at),
            title: n.title,
            read: n.read,
        })
        .collect();
    render(StatusCode::OK, &NotifPage { l: Layout::new(t, &u.p, t.s("nav.notifications"), "notifications"), items })
}

/// POST /notifications/read — marks all read.
pub async fn read_all(State(st): State<AppState>, u: PageUser) -> Response {
    match notify::mark_read(&st.db, &u.p.ctx, st.clock.now(), None).await {
        Ok(()) => Redirect::to("/notifications").into_response(),
        Err(e) => error_page(&u, &e),
    }
}

#[utoipa::path(get, path = "/api/v1/notifications", responses((status = 200, body = Vec<notify::Notification>)), tag = "notifications")]
async fn list_api(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<notify::Notification>>> {
    Ok(Json(notify::list(&st.db, &p.ctx, st.clock.now(), 100).await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", params(("id" = String, Path)), responses((status = 204, description = "marked read")), tag = "notifications")]
async fn read_api(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    notify::mark_read(&st.db, &p.ctx, st.clock.now(), Some(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The OpenAPI paths of notifications.
#[derive(OpenApi)]
#[openapi(components(schemas(notify::Notification)))]
pub struct NotificationsDoc;

/// The API routes, with their OpenAPI paths.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::with_openapi(NotificationsDoc::openapi())
        .routes(utoipa_axum::routes!(list_api))
        .routes(utoipa_axum::routes!(read_api))
}
