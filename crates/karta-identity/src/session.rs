//! Sign-in and sign-out.

use askama::Template;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use karta_kernel::users::{self, SignInError};
use karta_webkit::auth::{Authed, COOKIE};
use karta_webkit::i18n::Tr;
use karta_webkit::ui::pages::{render, Layout};
use karta_webkit::AppState;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    error: String,
    email: String,
    company: String,
    next: String,
}

/// Query of the sign-in page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    lang: Option<String>,
}

fn lang(headers: &HeaderMap, pref: &str) -> Tr {
    let al = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Tr::pick(pref, al)
}

use karta_webkit::ui::pages::is_local_path;

/// Only same-site relative paths are followed after sign-in.
fn safe_next(next: &str) -> String {
    if is_local_path(next) {
        next.to_string()
    } else {
        "/my-day".into()
    }
}

fn page(t: Tr, status: StatusCode, error: String, email: String, company: String, next: String) -> Response {
    let l = Layout::bare(t, t.s("login.title"));
    render(status, &LoginPage { l, error, email, company, next })
}

/// GET /login
pub async fn login_page(headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let t = lang(&headers, q.lang.as_deref().unwrap_or(""));
    let error = if q.expired.is_some() { t.s("login.expired").to_string() } else { String::new() };
    page(t, StatusCode::OK, error, String::new(), String::new(), safe_next(q.next.as_deref().unwrap_or("/my-day")))
}

/// POST /login
pub async fn login(State(st): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), 64 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
    };
    let mut email = String::new();
    let mut password = String::new();
    let mut company = String::new();
    let mut next = String::from("/my-day");
    for (k, v) in url::form_urlencoded::parse(&bytes) {
        match k.as_ref() {
            "email" => email = v.trim().to_string(),
            "password" => password = v.into_owned(),
            "company" => company = v.trim().to_string(),
            "next" => next = safe_next(&v),
            _ => {}
        }
    }
    let t = lang(&headers, "");
    let outcome = users::sign_in(&st.db, Some(company.as_str()), &email, &password, &client).await;
    let user = match outcome {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => {
            let (status, key) = match e {
                SignInError::BadCredentials => (StatusCode::UNAUTHORIZED, "login.bad"),
                SignInError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "login.throttled"),
                SignInError::NeedTenant => (StatusCode::UNPROCESSABLE_ENTITY, "login.need_company"),
            };
            return page(t, status, t.s(key).into(), email, company, next);
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            return page(t, StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal").into(), email, company, next);
        }
    };
    let secret = match users::start_session(&st.db, &user, st.config.sessions).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "session start failed");
            return page(t, StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal").into(), email, company, next);
        }
    };
    let secure = if st.config.secure_cookies { "; Secure" } else { "" };
    let max_age = st.config.sessions.absolute_ms / 1000;
    let cookie = format!("{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// POST /logout: ends the session in the database, not just in the browser.
pub async fn logout(State(st): State<AppState>, req: Request) -> Response {
    if let Some(a) = req.extensions().get::<Authed>() {
        if let Err(e) = users::end_session(&st.db, &a.secret).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("karta_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    r
}
