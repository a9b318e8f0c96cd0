//! Authentication: the session cookie (UI) and bearer tokens (API) resolve to a
//! [`Principal`] once per request in middleware; handlers take the [`ApiUser`] or
//! [`PageUser`] extractor, so none can forget to authenticate. CSRF is checked in the same
//! middleware for every unsafe request made with the session cookie.

use crate::error::ApiError;
use crate::i18n::Tr;
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use karta_kernel::users::{self, Principal};

/// The session cookie's name.
pub const COOKIE: &str = "karta_session";

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Browser session cookie.
    Session,
    /// Personal API token.
    Token,
}

/// The authenticated caller, put in request extensions by [`authenticate`].
#[derive(Debug, Clone)]
pub struct Authed {
    /// Who.
    pub p: Principal,
    /// How.
    pub via: Via,
    /// The session secret (to end it on sign-out).
    pub secret: String,
}

/// A session cookie was sent but the session had ended (for a helpful sign-in message).
#[derive(Debug, Clone, Copy)]
pub struct Expired;

/// The value of a cookie.
#[must_use]
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// True when an `Origin` header, if present, names this host.
fn origin_ok(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    origin.split_once("://").is_some_and(|(_, h)| h == host)
}

fn csrf_refused(headers: &HeaderMap, api: bool) -> Response {
    if api {
        return ApiError::Forbidden.into_response();
    }
    let al = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let t = Tr::pick("", al);
    crate::ui::pages::message_page(t, StatusCode::FORBIDDEN, t.s("error.csrf"))
}

/// Resolves the caller and enforces CSRF on unsafe cookie-authenticated requests.
pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let api = req.uri().path().starts_with("/api/");
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(|s| s.trim().to_string()));
    let mut authed = None;
    if let Some(secret) = bearer {
        match users::token_principal(&st.db, &secret).await {
            Ok(Some(p)) => authed = Some(Authed { p, via: Via::Token, secret: String::new() }),
            Ok(None) => return ApiError::Unauthorized.into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else if let Some(secret) = cookie(&headers, COOKIE) {
        match users::session_principal(&st.db, &secret, st.config.sessions).await {
            Ok(Some(p)) => authed = Some(Authed { p, via: Via::Session, secret }),
            Ok(None) => {
                req.extensions_mut().insert(Expired);
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if is_unsafe(req.method()) {
        if !origin_ok(&headers) {
            return csrf_refused(&headers, api);
        }
        if let Some(a) = authed.as_ref().filter(|a| a.via == Via::Session) {
            // File uploads (multipart, too large to buffer here) carry it in the action's query.
            let query_token = req.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "_csrf").map(|(_, v)| v.into_owned())
            });
            let header_token =
                headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string).or(query_token);
            let ok = if let Some(t) = header_token {
                t == a.p.csrf
            } else {
                // Form posts carry the token as the `_csrf` field: buffer the (size-limited)
                // body, check it and hand the same bytes on.
                let (parts, body) = req.into_parts();
                let Ok(bytes) = axum::body::to_bytes(body, crate::FORM_LIMIT).await else {
                    return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
                };
                let ok = form_urlencoded_pairs(&bytes).any(|(k, v)| k == "_csrf" && v == a.p.csrf);
                req = Request::from_parts(parts, Body::from(bytes));
                ok
            };
            if !ok {
                return csrf_refused(&headers, api);
            }
        }
    }
    if let Some(a) = authed {
        req.extensions_mut().insert(a);
    }
    next.run(req).await
}

fn form_urlencoded_pairs(bytes: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// An API caller (token or session).
#[derive(Debug, Clone)]
pub struct ApiUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Authed>().map(|a| Self(a.p.clone())).ok_or(ApiError::Unauthorized)
    }
}

/// A signed-in browser user, with the page language; others are sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// Who.
    pub p: Principal,
    /// The page language.
    pub t: Tr,
    /// Session secret.
    pub secret: String,
}

impl PageUser {
    /// `ms` (since the epoch) as a date and time in this page's zone, written the language's
    /// way.
    #[must_use]
    pub fn when(&self, ms: i64) -> String {
        match &self.p.zone {
            Some(z) => crate::ui::pages::fmt_ts(ms, z, self.t),
            None => crate::ui::pages::fmt_ts(ms, &self.p.zone(), self.t),
        }
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Authed>() {
            Some(a) if a.via == Via::Session => {
                let al = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let mut p = a.p.clone();
                // The bell's count on every page: one indexed count, capped.
                let frame = async {
                    let unread = karta_kernel::notify::unread(&st.db, &p.ctx, st.clock.now()).await?;
                    let pinned = karta_kernel::views::nav_links(&st.db, &p.ctx).await?;
                    Ok::<_, karta_kernel::StoreError>((unread, pinned))
                };
                (p.unread, p.pinned) = frame.await.map_err(|e| crate::error::PageError(e).into_response())?;
                p.zone = Some(crate::tz::zone(&parts.headers, &p.ctx, st.clock.now()));
                Ok(Self { t: Tr::pick(&a.p.user.locale, al), p, secret: a.secret.clone() })
            }
            _ => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let mut to = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                if parts.extensions.get::<Expired>().is_some() {
                    to.push_str("&expired=1");
                }
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}
