//! The server-rendered UI. Every page works without JavaScript; `/static/app.js` enhances
//! (typeahead, select-all, local times).

pub mod admin;
pub mod board;
pub mod calendar;
pub mod catalog;
pub mod deals;
pub mod fields_admin;
pub mod imports;
pub(crate) mod list_custom;
pub mod merge;
pub mod organizer;
pub mod pages;
pub mod pipelines_admin;
pub mod records;
pub mod session;
pub mod settings;
pub mod team;
pub mod views;

use crate::AppState;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        concat!(
            include_str!("../../static/app.css"),
            include_str!("../../static/sales.css"),
            include_str!("../../static/board.css"),
            include_str!("../../static/organizer.css"),
            include_str!("../../static/views.css"),
            include_str!("../../static/imports.css")
        ),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

async fn board_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/board.js"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/icon.svg"),
    )
        .into_response()
}

async fn home() -> Redirect {
    Redirect::to("/my-day")
}

/// The UI routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/board.js", get(board_js))
        .route("/favicon.svg", get(favicon))
        .merge(deals::router())
        .merge(organizer::router())
        .merge(calendar::router())
        .merge(team::router())
        .merge(views::router())
        .merge(merge::router())
        .merge(imports::router())
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/search", get(records::search_page))
        .route("/search/suggest", get(records::suggest))
        .route("/trash", get(records::trash))
        .route("/settings", get(settings::page))
        .route("/admin/users", get(admin::page).post(admin::add))
        .route("/admin/users/{id}", post(admin::change))
        .route("/admin/teams", post(admin::add_team))
        .route("/settings/language", post(settings::language))
        .route("/settings/tokens", post(settings::create_token))
        .route("/settings/tokens/{id}/revoke", post(settings::revoke_token))
        .route("/board", get(board::page))
        .route("/admin/pipelines", get(pipelines_admin::page).post(pipelines_admin::create))
        .route("/admin/pipelines/{id}", post(pipelines_admin::update))
        .route("/admin/pipelines/{id}/stages", post(pipelines_admin::add_stage))
        .route("/admin/stages/{id}", post(pipelines_admin::update_stage))
        .route("/admin/stages/{id}/move", post(pipelines_admin::move_stage))
        .route("/admin/stages/{id}/delete", post(pipelines_admin::remove_stage))
        .route("/admin/fields", get(fields_admin::page).post(fields_admin::create))
        .route("/admin/fields/{id}", post(fields_admin::update))
        .route("/admin/fields/{id}/move", post(fields_admin::move_field))
        .route("/admin/lost-reasons", post(pipelines_admin::add_reason))
        .route("/admin/lost-reasons/{id}", post(pipelines_admin::set_reason))
        .route("/products", get(catalog::list).post(catalog::create))
        .route("/products/new", get(catalog::new_form))
        .route("/products/{id}", get(catalog::view).post(catalog::update))
        .route("/products/{id}/edit", get(catalog::edit_form))
        .route("/notes/{id}", post(records::edit_note))
        .route("/notes/{id}/delete", post(records::delete_note))
        .route("/{kind}", get(records::list).post(records::create))
        .route("/{kind}/new", get(records::new_form))
        .route("/{kind}/bulk", post(records::bulk))
        .route("/{kind}/{id}", get(records::view).post(records::update))
        .route("/{kind}/{id}/edit", get(records::edit_form))
        .route("/{kind}/{id}/delete", post(records::delete))
        .route("/{kind}/{id}/restore", post(records::restore))
        .route("/{kind}/{id}/purge", post(records::purge))
        .route("/{kind}/{id}/notes", post(records::add_note))
        .route("/{kind}/{id}/links", post(records::link))
        .route("/{kind}/{id}/links/{other}/delete", post(records::unlink))
}
