//! The server-rendered UI. Every page works without JavaScript; `/static/app.js` enhances
//! (typeahead, select-all, local times).

pub mod custom;
pub mod form;
pub mod list;
pub mod list_custom;
pub mod pages;
pub mod trash;
pub mod views;

use crate::routes::Pages;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        crate::plugins::stylesheet(),
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
pub fn router() -> Pages {
    Pages::new()
        .get("/", home)
        .get("/static/app.css", css)
        .get("/static/app.js", js)
        .get("/favicon.svg", favicon)
        .get("/trash", trash::page)
        .merge(views::router())
}
