//! Page routes that remember themselves: a context builds its pages with [`Pages`] instead
//! of a bare router, so the app knows every page route (the route × role test walks them).

use crate::AppState;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;

/// A router of pages and the `(method, path)` of each of its routes.
#[derive(Default)]
pub struct Pages {
    router: Router<AppState>,
    routes: Vec<(Method, String)>,
}

impl Pages {
    /// No pages yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A `GET` page.
    #[must_use]
    pub fn get<H, T>(mut self, path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.routes.push((Method::GET, path.to_string()));
        self.router = self.router.route(path, get(handler));
        self
    }

    /// A `POST` (a form's action).
    #[must_use]
    pub fn post<H, T>(mut self, path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.routes.push((Method::POST, path.to_string()));
        self.router = self.router.route(path, post(handler));
        self
    }

    /// A `POST` whose body may be up to `limit` bytes (file uploads), instead of the form
    /// limit every other request has.
    #[must_use]
    pub fn post_large<H, T>(mut self, path: &str, handler: H, limit: usize) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.routes.push((Method::POST, path.to_string()));
        self.router = self.router.route(path, post(handler).layer(axum::extract::DefaultBodyLimit::max(limit)));
        self
    }

    /// These pages and `other`'s.
    #[must_use]
    pub fn merge(mut self, other: Pages) -> Self {
        self.routes.extend(other.routes);
        self.router = self.router.merge(other.router);
        self
    }

    /// Every route, in registration order.
    #[must_use]
    pub fn routes(&self) -> &[(Method, String)] {
        &self.routes
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
