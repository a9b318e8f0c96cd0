//! The user's settings: language and personal API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_kernel::users;
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;

/// A token row.
pub struct TokenView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Created.
    pub created: String,
    /// Last used.
    pub used: String,
    /// Revoked.
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    l: Layout,
    email: String,
    role: String,
    lang: &'static str,
    /// The languages to choose from: code and own name.
    langs: &'static [(&'static str, &'static str)],
    /// The user's own zone ('' when they chose none) and every zone to choose from.
    zone: String,
    zones: Vec<(String, String)>,
    /// The zone pages are shown in now, with its offset.
    zone_now: String,
    tokens: Vec<TokenView>,
    new_token: String,
}

async fn show(st: &AppState, u: &PageUser, headers: &HeaderMap, t: Tr, new_token: String) -> Response {
    let tokens = match users::tokens(&st.db, &u.p.ctx).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "tokens");
            return message_page(t, StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal"));
        }
    };
    let tokens = tokens
        .into_iter()
        .map(|k| TokenView {
            id: k.id,
            name: k.name,
            created: u.when(k.created_at),
            used: k.last_used_at.map_or_else(|| t.s("settings.never").to_string(), |at| u.when(at)),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let role = match crate::admin::role_choices(st, u).await {
        Ok(list) => list.into_iter().find(|(id, _)| *id == u.p.user.role).map(|(_, label)| label).unwrap_or_default(),
        Err(e) => {
            tracing::error!(error = %e, "roles");
            return message_page(t, StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal"));
        }
    };
    let tpl = SettingsPage {
        l: Layout::new(t, &u.p, t.s("settings.title"), "settings"),
        email: u.p.user.email.clone(),
        role,
        lang: if u.p.user.locale.is_empty() { "" } else { t.code() },
        langs: karta_webkit::i18n::LANGS,
        zone: u.p.ctx.user_zone().map(|z| z.name().to_string()).unwrap_or_default(),
        zones: karta_webkit::tz::choices(t, st.clock.now()),
        zone_now: {
            let now = st.clock.now();
            let z = karta_webkit::tz::zone(headers, &u.p.ctx, now);
            format!("{} ({})", z.name(), z.offset_label(now))
        },
        tokens,
        new_token,
    };
    render(StatusCode::OK, &tpl)
}

/// GET /settings
pub async fn page(State(st): State<AppState>, u: PageUser, headers: HeaderMap) -> Response {
    let t = u.t;
    show(&st, &u, &headers, t, String::new()).await
}

/// Language form.
#[derive(Debug, serde::Deserialize)]
pub struct LangForm {
    lang: String,
}

/// POST /settings/language
pub async fn language(State(st): State<AppState>, u: PageUser, Form(f): Form<LangForm>) -> Response {
    // Only a language Karta speaks is stored; anything else means "from the browser".
    let code = Tr::new(&f.lang).map_or("", |t| t.code());
    match users::set_locale(&st.db, &u.p.ctx, code).await {
        Ok(()) => Redirect::to("/settings").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "locale");
            message_page(u.t, StatusCode::INTERNAL_SERVER_ERROR, u.t.s("error.internal"))
        }
    }
}

/// Time-zone form.
#[derive(Debug, serde::Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    zone: String,
}

/// POST /settings/time-zone — the user's own zone, or none (the browser's, else the tenant's).
pub async fn time_zone(State(st): State<AppState>, u: PageUser, Form(f): Form<ZoneForm>) -> Response {
    let zone = match f.zone.trim() {
        "" => None,
        name => match karta_core::Zone::parse(name, "zone") {
            Ok(z) => Some(z),
            Err(e) => return message_page(u.t, StatusCode::UNPROCESSABLE_ENTITY, u.t.err(e.code)),
        },
    };
    match users::set_time_zone(&st.db, &u.p.ctx, zone.as_ref()).await {
        Ok(()) => Redirect::to("/settings").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "time zone");
            message_page(u.t, StatusCode::INTERNAL_SERVER_ERROR, u.t.s("error.internal"))
        }
    }
}

/// Token form.
#[derive(Debug, serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// POST /settings/tokens — shows the new secret once, in this response only.
pub async fn create_token(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    match users::create_token(&st.db, u.p.ctx.tenant_id(), u.p.ctx.user_id(), &f.name).await {
        Ok((_, secret)) => show(&st, &u, &headers, u.t, secret).await,
        Err(e) => {
            tracing::warn!(error = %e, "token");
            message_page(u.t, StatusCode::UNPROCESSABLE_ENTITY, u.t.err("too_long"))
        }
    }
}

/// POST /settings/tokens/{id}/revoke
pub async fn revoke_token(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match users::revoke_token(&st.db, &u.p.ctx, &id).await {
        Ok(()) => Redirect::to("/settings").into_response(),
        Err(_) => message_page(u.t, StatusCode::NOT_FOUND, u.t.s("error.not_found")),
    }
}
