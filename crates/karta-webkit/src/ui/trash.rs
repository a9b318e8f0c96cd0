//! The trash: every context's deleted records the caller may see (restore is on each
//! record's page).

use crate::auth::PageUser;
use crate::plugins::TRASH;
use crate::ui::list::error_page;
use crate::ui::pages::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    l: Layout,
    rows: Vec<(String, String, String, String)>,
}

/// GET /trash
pub async fn page(State(st): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let mut rows = Vec::new();
    for list in TRASH.all() {
        match list(&st, &u).await {
            Ok(r) => rows.extend(r.into_iter().map(|r| (r.url, r.name, r.what, u.when(r.deleted_at)))),
            Err(err) => return error_page(&u, &err),
        }
    }
    let l = Layout::new(t, &u.p, t.s("trash.title"), "trash");
    render(StatusCode::OK, &TrashPage { l, rows })
}
