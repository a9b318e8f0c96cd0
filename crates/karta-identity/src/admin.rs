//! The admin's pages: users (add, role, team, disable) and teams.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use karta_kernel::{roles, tenants, users, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::error::PageResult;
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;

/// A user row.
pub struct UserView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Role code.
    pub role: String,
    /// Team id.
    pub team: String,
    /// Disabled.
    pub disabled: bool,
    /// The viewing admin.
    pub me: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserView>,
    roles: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    error: String,
    password: String,
    /// The company's time zone and every zone to choose from.
    zone: String,
    zones: Vec<(String, String)>,
}

async fn show(st: &AppState, u: &PageUser, status: StatusCode, error: String, password: String) -> PageResult {
    let t = u.t;
    let Ok(admin) = u.p.ctx.admin() else { return Ok(message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden"))) };
    let list = match users::list_all(&st.db, &admin).await {
        Ok(l) => l,
        Err(StoreError::Forbidden) => return Ok(message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden"))),
        Err(e) => {
            tracing::error!(error = %e, "users page");
            return Ok(message_page(t, StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal")));
        }
    };
    let teams = tenants::teams(&st.db, u.p.ctx.tenant_id()).await?;
    let tpl = UsersPage {
        l: Layout::new(t, &u.p, t.s("admin.users"), "users"),
        users: list
            .into_iter()
            .map(|x| UserView {
                me: x.id == u.p.ctx.user_id(),
                id: x.id,
                name: x.display_name,
                email: x.email,
                role: x.role,
                team: x.team_id.unwrap_or_default(),
                disabled: x.disabled,
            })
            .collect(),
        roles: role_choices(st, u).await?,
        teams,
        error,
        password,
        zone: u.p.ctx.tenant_zone().name().to_string(),
        zones: karta_webkit::tz::choices(t, st.clock.now()),
    };
    Ok(render(status, &tpl))
}

/// The roles a user may be given, as `(id, label)`: the built-in ones by their label in the
/// reader's language, the tenant's own by name.
pub async fn role_choices(st: &AppState, u: &PageUser) -> Result<Vec<(String, String)>, StoreError> {
    Ok(roles::choices(&st.db, u.p.ctx.tenant_id())
        .await?
        .into_iter()
        .map(|(id, name)| {
            let label = if name.is_empty() { u.t.s(&format!("role.{id}")).to_string() } else { name };
            (id, label)
        })
        .collect())
}

/// GET /admin/users
pub async fn page(State(st): State<AppState>, u: PageUser) -> PageResult {
    show(&st, &u, StatusCode::OK, String::new(), String::new()).await
}

/// New user form.
#[derive(Debug, serde::Deserialize)]
pub struct AddUser {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    password: String,
}

fn messages(u: &PageUser, e: &StoreError) -> String {
    match e {
        StoreError::Invalid(errs) => {
            errs.iter().map(|x| format!("{}: {}", u.t.f(&x.field), u.t.err(x.code))).collect::<Vec<_>>().join("; ")
        }
        StoreError::Conflict(_) => u.t.s("admin.taken").to_string(),
        StoreError::Forbidden => u.t.s("error.forbidden").to_string(),
        StoreError::NotFound => u.t.s("error.not_found").to_string(),
        other => {
            tracing::error!(error = %other, "users admin");
            u.t.s("error.internal").to_string()
        }
    }
}

/// POST /admin/users — without a password one is generated and shown once.
pub async fn add(State(st): State<AppState>, u: PageUser, Form(f): Form<AddUser>) -> PageResult {
    let Ok(admin) = u.p.ctx.admin() else {
        return Ok(message_page(u.t, StatusCode::FORBIDDEN, u.t.s("error.forbidden")));
    };
    let role = f.role.trim();
    let (pw, shown) = if f.password.is_empty() { (users::random_hex(8), true) } else { (f.password.clone(), false) };
    let res = async {
        let created = users::create(&st.db, &admin, &f.email, &f.name, role, Some(&pw)).await?;
        if !f.team.is_empty() {
            users::set_role_and_team(&st.db, &admin, &created.id, role, Some(&f.team)).await?;
        }
        Ok::<_, StoreError>(created)
    }
    .await;
    match res {
        Ok(created) => {
            let note = if shown { format!("{}: {pw}", created.email) } else { String::new() };
            show(&st, &u, StatusCode::OK, String::new(), note).await
        }
        Err(e) => show(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, messages(&u, &e), String::new()).await,
    }
}

/// Role / team / disable form.
#[derive(Debug, serde::Deserialize)]
pub struct ChangeUser {
    role: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    disabled: Option<String>,
}

/// POST /admin/users/{id}
pub async fn change(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(f): Form<ChangeUser>,
) -> PageResult {
    let role = f.role.trim();
    let team = Some(f.team.as_str()).filter(|t| !t.is_empty());
    let disable = f.disabled.is_some();
    let res = async {
        let admin = u.p.ctx.admin()?;
        users::set_role_and_team(&st.db, &admin, &id, role, team).await?;
        if disable && id == u.p.ctx.user_id() {
            return Err(StoreError::field("disabled", "invalid_choice"));
        }
        users::set_disabled(&st.db, &admin, &id, disable).await
    }
    .await;
    match res {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => show(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, messages(&u, &e), String::new()).await,
    }
}

/// Team form.
#[derive(Debug, serde::Deserialize)]
pub struct AddTeam {
    name: String,
}

/// POST /admin/teams
pub async fn add_team(State(st): State<AppState>, u: PageUser, Form(f): Form<AddTeam>) -> PageResult {
    let Ok(admin) = u.p.ctx.admin() else {
        return Ok(message_page(u.t, StatusCode::FORBIDDEN, u.t.s("error.forbidden")));
    };
    match tenants::create_team(&st.db, &admin, &f.name).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => show(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, messages(&u, &e), String::new()).await,
    }
}

/// The company's time-zone form.
#[derive(Debug, serde::Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    zone: String,
}

/// POST /admin/company/time-zone — the zone the company's users see times in unless they
/// chose their own.
pub async fn company_zone(State(st): State<AppState>, u: PageUser, Form(f): Form<ZoneForm>) -> PageResult {
    let t = u.t;
    let Ok(admin) = u.p.ctx.admin() else { return Ok(message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden"))) };
    match karta_core::Zone::parse(&f.zone, "zone") {
        Ok(z) => {
            tenants::set_time_zone(&st.db, &admin, &z).await?;
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(e) => show(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, t.err(e.code).to_string(), String::new()).await,
    }
}
