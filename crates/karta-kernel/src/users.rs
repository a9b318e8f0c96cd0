//! Users, passwords, sessions, API tokens and sign-in throttling.

use crate::ctx::{Admin, Ctx};
use crate::db::{Arg, Db, Row, Q};
use crate::error::{Result, StoreError};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use karta_core::{new_id, now_ms, Cap, Email, FieldError};
use sha2::{Digest, Sha256};

/// Failed sign-ins per account within [`THROTTLE_WINDOW_MS`] before it is throttled.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins per client address within the window before it is throttled.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// The throttling window.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// A user of a tenant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Sign-in e-mail.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role: a built-in role's name (`salesperson`) or the id of one of the tenant's roles.
    pub role: String,
    /// Team.
    pub team_id: Option<String>,
    /// Disabled users cannot sign in or use tokens.
    pub disabled: bool,
    /// `ru`, `en` or empty (from the browser).
    pub locale: String,
}

fn user_from(r: &Row) -> User {
    User {
        id: r.s("id"),
        tenant_id: r.s("tenant_id"),
        email: r.s("email"),
        display_name: r.s("display_name"),
        role: r.s("role"),
        team_id: r.os("team_id").filter(|s| !s.is_empty()),
        disabled: r.i("disabled") != 0,
        locale: r.s("locale"),
    }
}

/// A random secret as hex.
///
/// # Panics
/// Only when the operating system has no random source, which Karta cannot run without.
#[must_use]
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    #[expect(clippy::expect_used, reason = "no OS randomness means no security; stop loudly")]
    getrandom::fill(&mut buf).expect("the OS random source failed");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a high-entropy secret, as stored for sessions and tokens.
#[must_use]
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_password_now(pw: &str) -> Result<String> {
    if pw.chars().count() < 12 {
        return Err(StoreError::field("password", "password_too_short"));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    Ok(Argon2::default()
        .hash_password_with_salt(pw.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// Hashes a password on a blocking thread: argon2 takes tens of milliseconds of CPU on
/// purpose, which would stall every other request sharing an async worker.
async fn hash_password(pw: &str) -> Result<String> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || hash_password_now(&pw))
        .await
        .map_err(|e| StoreError::Other(anyhow::anyhow!("password hashing stopped: {e}")))?
}

fn verify_password_now(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
}

/// Checks `pw` against each of `hashes` on a blocking thread (see [`hash_password`]).
async fn verify_passwords(pw: &str, hashes: Vec<Option<String>>) -> Result<Vec<bool>> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || {
        hashes.iter().map(|h| h.as_deref().is_some_and(|h| verify_password_now(&pw, h))).collect()
    })
    .await
    .map_err(|e| StoreError::Other(anyhow::anyhow!("password check stopped: {e}")))
}

/// Adds a user to the administered tenant.
///
/// # Errors
/// `Invalid` for a bad e-mail, short password or a role the tenant does not have, `Conflict`
/// when the e-mail is taken.
pub async fn create(
    db: &Db,
    admin: &Admin,
    email: &str,
    display_name: &str,
    role: &str,
    password: Option<&str>,
) -> Result<User> {
    let tenant_id = admin.tenant_id();
    if !crate::roles::exists(db, tenant_id, role).await? {
        return Err(StoreError::field("role", "invalid_choice"));
    }
    let email = Email::parse(email, "email").map_err(|e| StoreError::Invalid(vec![e]))?;
    let email = email.as_str().to_lowercase();
    let hash = match password {
        Some(p) => hash_password(p).await?,
        None => String::new(),
    };
    let exists =
        db.opt(Q::new("SELECT id FROM users WHERE tenant_id = $1 AND email = $2").bind(tenant_id).bind(&email)).await?;
    if exists.is_some() {
        return Err(StoreError::Conflict("email".into()));
    }
    let name = if display_name.trim().is_empty() { email.clone() } else { display_name.trim().to_string() };
    let id = new_id();
    db.exec(
        Q::new(
            "INSERT INTO users (tenant_id, id, email, display_name, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant_id)
        .bind(&id)
        .bind(&email)
        .bind(&name)
        .bind(role)
        .bind(hash)
        .bind(now_ms()),
    )
    .await?;
    by_id(db, tenant_id, &id).await?.ok_or(StoreError::NotFound)
}

/// A user by id.
///
/// # Errors
/// Database errors.
pub async fn by_id(db: &Db, tenant_id: &str, id: &str) -> Result<Option<User>> {
    let r = db.opt(Q::new("SELECT * FROM users WHERE tenant_id = $1 AND id = $2").bind(tenant_id).bind(id)).await?;
    Ok(r.as_ref().map(user_from))
}

/// A user by e-mail.
///
/// # Errors
/// Database errors.
pub async fn by_email(db: &Db, tenant_id: &str, email: &str) -> Result<Option<User>> {
    let r = db
        .opt(
            Q::new("SELECT * FROM users WHERE tenant_id = $1 AND email = $2")
                .bind(tenant_id)
                .bind(email.trim().to_lowercase()),
        )
        .await?;
    Ok(r.as_ref().map(user_from))
}

/// The tenant's active users, for owner pickers and names.
///
/// # Errors
/// Database errors.
pub async fn list(db: &Db, ctx: &Ctx) -> Result<Vec<User>> {
    let rows = db
        .all(
            Q::new("SELECT * FROM users WHERE tenant_id = $1 AND disabled = 0 ORDER BY display_name, id")
                .bind(ctx.tenant_id()),
        )
        .await?;
    Ok(rows.iter().map(user_from).collect())
}

/// Every user of the administered tenant, disabled ones included.
///
/// # Errors
/// Database errors.
pub async fn list_all(db: &Db, admin: &Admin) -> Result<Vec<User>> {
    let rows = db
        .all(
            Q::new("SELECT * FROM users WHERE tenant_id = $1 ORDER BY disabled, display_name, id")
                .bind(admin.tenant_id()),
        )
        .await?;
    Ok(rows.iter().map(user_from).collect())
}

/// Changes a user's role and team (an admin cannot give themselves a role without the admin
/// capability, so a tenant always keeps an admin).
///
/// # Errors
/// `NotFound`, `Invalid` for an unknown role or team or one's own demotion.
pub async fn set_role_and_team(db: &Db, admin: &Admin, user_id: &str, role: &str, team_id: Option<&str>) -> Result<()> {
    let Some(perms) = crate::roles::perms_of(db, admin.tenant_id(), role).await? else {
        return Err(StoreError::field("role", "invalid_choice"));
    };
    if admin.by() == Some(user_id) && !perms.has(Cap::Admin) {
        return Err(StoreError::field("role", "invalid_choice"));
    }
    if let Some(t) = team_id {
        let ok = db
            .opt(Q::new("SELECT id FROM teams WHERE tenant_id = $1 AND id = $2").bind(admin.tenant_id()).bind(t))
            .await?;
        if ok.is_none() {
            return Err(StoreError::field("team_id", "not_found"));
        }
    }
    let n = db
        .exec(
            Q::new("UPDATE users SET role = $1, team_id = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(role)
                .bind(team_id.map(str::to_string))
                .bind(admin.tenant_id())
                .bind(user_id),
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets one column of a user row; `NotFound` when the tenant has no such user.
async fn set_user_column(db: &Db, tenant_id: &str, user_id: &str, column: &'static str, value: Arg) -> Result<()> {
    let q = Q::new(format!("UPDATE users SET {column} = $1 WHERE tenant_id = $2 AND id = $3"))
        .bind(value)
        .bind(tenant_id)
        .bind(user_id);
    if db.exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets a new password.
///
/// # Errors
/// `Invalid` for a short password; `NotFound`.
pub async fn set_password(db: &Db, admin: &Admin, user_id: &str, pw: &str) -> Result<()> {
    let hash = hash_password(pw).await?;
    set_user_column(db, admin.tenant_id(), user_id, "password_hash", hash.into()).await
}

/// Disables (or enables) a user; disabling ends their sessions at once.
///
/// # Errors
/// `NotFound`.
pub async fn set_disabled(db: &Db, admin: &Admin, user_id: &str, disabled: bool) -> Result<()> {
    let tenant_id = admin.tenant_id();
    set_user_column(db, tenant_id, user_id, "disabled", disabled.into()).await?;
    if disabled {
        db.exec(Q::new("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2").bind(tenant_id).bind(user_id))
            .await?;
    }
    Ok(())
}

/// Puts a user in a team (or none).
///
/// # Errors
/// `NotFound`.
pub async fn set_team(db: &Db, admin: &Admin, user_id: &str, team_id: Option<&str>) -> Result<()> {
    set_user_column(db, admin.tenant_id(), user_id, "team_id", team_id.map(str::to_string).into()).await
}

/// Stores the user's language choice.
///
/// # Errors
/// Database errors.
pub async fn set_locale(db: &Db, ctx: &Ctx, locale: &str) -> Result<()> {
    // The web kit knows which languages exist; here only the shape of a language code.
    let ok = (2..=3).contains(&locale.len()) && locale.bytes().all(|b| b.is_ascii_lowercase());
    let locale = if ok { locale } else { "" };
    db.exec(
        Q::new("UPDATE users SET locale = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(locale)
            .bind(ctx.tenant_id())
            .bind(ctx.user_id()),
    )
    .await?;
    Ok(())
}

/// Sets the user's own time zone, or clears it (`None`: the browser's, else the tenant's).
///
/// # Errors
/// Database errors.
pub async fn set_time_zone(db: &Db, ctx: &Ctx, zone: Option<&karta_core::Zone>) -> Result<()> {
    db.exec(
        Q::new("UPDATE users SET time_zone = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(zone.map_or("", karta_core::Zone::name))
            .bind(ctx.tenant_id())
            .bind(ctx.user_id()),
    )
    .await?;
    Ok(())
}

/// Why a sign-in did not succeed.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInError {
    /// Wrong e-mail or password (never says which).
    BadCredentials,
    /// Too many failures recently; try later.
    Throttled,
    /// The e-mail exists in several companies: the company must be given.
    NeedTenant,
}

/// Checks credentials with throttling per account and per client address.
///
/// # Errors
/// `SignInError` for a refused sign-in; the outer error for database failures.
pub async fn sign_in(
    db: &Db,
    tenant_slug: Option<&str>,
    email: &str,
    password: &str,
    client: &str,
) -> Result<Result<User, SignInError>> {
    let email = email.trim().to_lowercase();
    // An internationalised address signs in whichever way it is typed and however it was saved.
    let spellings = Email::parse(&email, "email").map_or_else(|_| vec![email.clone()], |e| e.spellings());
    let since = now_ms() - THROTTLE_WINDOW_MS;
    let acct_key = format!("acct:{}", karta_core::values::email_key(&email));
    let addr_key = format!("addr:{client}");
    let count = |key: String| {
        let q = Q::new("SELECT COUNT(*) AS n FROM login_failures WHERE key = $1 AND at > $2").bind(key).bind(since);
        async move { db.opt(q).await.map(|r| r.map_or(0, |r| r.i("n"))) }
    };
    if count(acct_key.clone()).await? >= MAX_FAILURES_PER_ACCOUNT
        || count(addr_key.clone()).await? >= MAX_FAILURES_PER_ADDRESS
    {
        return Ok(Err(SignInError::Throttled));
    }
    let mut q = Q::new("SELECT u.* FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email IN (");
    for (i, sp) in spellings.iter().enumerate() {
        let p = q.arg(sp);
        q.sql.push_str(if i == 0 { "" } else { ", " });
        q.sql.push_str(&p);
    }
    q.sql.push(')');
    if let Some(slug) = tenant_slug.filter(|s| !s.trim().is_empty()) {
        let p = q.arg(slug.trim().to_ascii_lowercase());
        q.sql.push_str(&format!(" AND t.slug = {p}"));
    }
    let rows = db.all(q).await?;
    let candidates: Vec<User> = rows.iter().map(user_from).collect();
    let hashes: Vec<Option<String>> =
        rows.iter().zip(&candidates).map(|(r, u)| (!u.disabled).then(|| r.s("password_hash"))).collect();
    let ok = verify_passwords(password, hashes).await?;
    let matched: Vec<usize> = (0..candidates.len()).filter(|&i| ok[i]).collect();
    match matched.as_slice() {
        [i] => {
            db.exec(Q::new("DELETE FROM login_failures WHERE key = $1").bind(acct_key)).await?;
            Ok(Ok(candidates[*i].clone()))
        }
        [] => {
            let now = now_ms();
            for k in [acct_key, addr_key] {
                db.exec(Q::new("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(k).bind(now)).await?;
            }
            db.exec(Q::new("DELETE FROM login_failures WHERE at < $1").bind(since)).await?;
            Ok(Err(SignInError::BadCredentials))
        }
        _ => Ok(Err(SignInError::NeedTenant)),
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle_ms: i64,
    /// A session ends this long after sign-in whatever happens.
    pub absolute_ms: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle_ms: 2 * 3600 * 1000, absolute_ms: 7 * 24 * 3600 * 1000 }
    }
}

/// An authenticated caller with the context store calls need.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The store context.
    pub ctx: Ctx,
    /// The user.
    pub user: User,
    /// Tenant slug.
    pub tenant_slug: String,
    /// Tenant name.
    pub tenant_name: String,
    /// The session's CSRF token (empty for API tokens).
    pub csrf: String,
    /// Unread notifications (filled in for pages, for the bell).
    pub unread: i64,
    /// Pinned saved views (filled in for pages, for the navigation).
    pub pinned: Vec<crate::views::NavLink>,
    /// The zone a page shows times in (filled in for pages: the user's choice, else their
    /// browser's, else the tenant's).
    pub zone: Option<karta_core::Zone>,
}

impl Principal {
    /// The zone times are shown in: the page's (see [`Principal::zone`]), else the user's
    /// own choice, else the tenant's.
    #[must_use]
    pub fn zone(&self) -> karta_core::Zone {
        self.zone.clone().unwrap_or_else(|| self.ctx.user_zone().unwrap_or_else(|| self.ctx.tenant_zone()))
    }
}

/// The user, the tenant and the user's role (its row, if the tenant has one: see
/// [`crate::roles`]); every query using it joins [`ROLE_JOIN`] after `users u`.
const PRINCIPAL_SQL: &str =
    "SELECT u.*, t.slug AS t_slug, t.name AS t_name, t.default_country AS t_country, t.time_zone AS t_zone, \
     r.grants AS r_grants, r.caps AS r_caps, r.id AS r_id";
const ROLE_JOIN: &str = "LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role";

/// What the user's role allows, from the role's row joined in [`PRINCIPAL_SQL`].
fn role_perms(r: &Row, role: &str) -> karta_core::Perms {
    let (g, c) = (r.s("r_grants"), r.s("r_caps"));
    crate::roles::resolve(role, r.os("r_id").map(|_| (g.as_str(), c.as_str())))
}

fn principal_from(r: &Row, csrf: String) -> Principal {
    let user = user_from(r);
    Principal {
        ctx: Ctx::new(
            user.tenant_id.clone(),
            (r.s("t_country"), r.s("t_zone"), r.s("time_zone")),
            user.id.clone(),
            user.role.clone(),
            role_perms(r, &user.role),
            user.team_id.clone(),
        ),
        user,
        tenant_slug: r.s("t_slug"),
        tenant_name: r.s("t_name"),
        csrf,
        unread: 0,
        pinned: Vec::new(),
        zone: None,
    }
}

/// The context of an active user `user_id` of `tenant_id`, for the operator of the
/// installation: the command line (`karta import`, `export`, `demo`, `bench`) and the
/// background worker acting for the user who queued the work. Web requests get theirs from
/// their session or token only; a test keeps other callers out.
///
/// # Errors
/// `NotFound` for an unknown or disabled user; database errors.
pub async fn act_as(db: &Db, tenant_id: &str, user_id: &str) -> Result<Ctx> {
    let r = db
        .opt(
            Q::new(format!(
                "{PRINCIPAL_SQL} FROM users u {ROLE_JOIN} JOIN tenants t ON t.id = u.tenant_id \
                 WHERE u.tenant_id = $1 AND u.id = $2 AND u.disabled = 0"
            ))
            .bind(tenant_id)
            .bind(user_id),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(principal_from(&r, String::new()).ctx)
}

/// Starts a session; returns the secret for the cookie.
///
/// # Errors
/// Database errors.
pub async fn start_session(db: &Db, user: &User, policy: SessionPolicy) -> Result<String> {
    let secret = random_hex(32);
    let now = now_ms();
    // Sign-in is a natural moment to sweep away the user's dead sessions.
    db.exec(
        Q::new(
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND (expires_at <= $3 OR last_seen_at <= $4)",
        )
        .bind(&user.tenant_id)
        .bind(&user.id)
        .bind(now)
        .bind(now - policy.idle_ms),
    )
    .await?;
    db.exec(
        Q::new(
            "INSERT INTO sessions (id_hash, tenant_id, user_id, csrf, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(sha256_hex(&secret))
        .bind(&user.tenant_id)
        .bind(&user.id)
        .bind(random_hex(24))
        .bind(now)
        .bind(now + policy.absolute_ms),
    )
    .await?;
    Ok(secret)
}

/// The caller behind a session secret, if the session is alive; refreshes its idle clock.
///
/// # Errors
/// Database errors.
pub async fn session_principal(db: &Db, secret: &str, policy: SessionPolicy) -> Result<Option<Principal>> {
    let hash = sha256_hex(secret);
    let now = now_ms();
    let r = db
        .opt(
            Q::new(format!(
                "{PRINCIPAL_SQL}, s.csrf AS s_csrf, s.last_seen_at AS s_seen, s.expires_at AS s_exp FROM sessions s \
                 JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id {ROLE_JOIN} JOIN tenants t ON t.id = s.tenant_id \
                 WHERE s.id_hash = $1"
            ))
            .bind(&hash),
        )
        .await?;
    let Some(r) = r else { return Ok(None) };
    if r.i("disabled") != 0 || r.i("s_exp") <= now || r.i("s_seen") + policy.idle_ms <= now {
        db.exec(Q::new("DELETE FROM sessions WHERE id_hash = $1").bind(&hash)).await?;
        return Ok(None);
    }
    // Refreshing once a minute keeps idle expiry honest without a write per request.
    if now - r.i("s_seen") > 60_000 {
        db.exec(Q::new("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2").bind(now).bind(&hash)).await?;
    }
    Ok(Some(principal_from(&r, r.s("s_csrf"))))
}

/// Ends a session.
///
/// # Errors
/// Database errors.
pub async fn end_session(db: &Db, secret: &str) -> Result<()> {
    db.exec(Q::new("DELETE FROM sessions WHERE id_hash = $1").bind(sha256_hex(secret))).await?;
    Ok(())
}

/// A personal API token as listed (never the secret).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Id.
    pub id: String,
    /// Name given at creation.
    pub name: String,
    /// Created (ms).
    pub created_at: i64,
    /// Last used (ms).
    pub last_used_at: Option<i64>,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
}

/// Creates a personal API token for the caller; returns its info and the secret, shown once.
///
/// # Errors
/// Database errors.
pub async fn create_token(db: &Db, tenant_id: &str, user_id: &str, name: &str) -> Result<(TokenInfo, String)> {
    let name = name.trim();
    if name.chars().count() > 100 {
        return Err(StoreError::Invalid(vec![FieldError::new("name", "too_long")]));
    }
    let name = if name.is_empty() { "API" } else { name };
    let secret = format!("karta_{}", random_hex(24));
    let info =
        TokenInfo { id: new_id(), name: name.to_string(), created_at: now_ms(), last_used_at: None, revoked_at: None };
    db.exec(
        Q::new("INSERT INTO api_tokens (tenant_id, id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(tenant_id)
            .bind(&info.id)
            .bind(user_id)
            .bind(&info.name)
            .bind(sha256_hex(&secret))
            .bind(info.created_at),
    )
    .await?;
    Ok((info, secret))
}

/// The caller's tokens.
///
/// # Errors
/// Database errors.
pub async fn tokens(db: &Db, ctx: &Ctx) -> Result<Vec<TokenInfo>> {
    let rows = db
        .all(
            Q::new("SELECT * FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC")
                .bind(ctx.tenant_id())
                .bind(ctx.user_id()),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TokenInfo {
            id: r.s("id"),
            name: r.s("name"),
            created_at: r.i("created_at"),
            last_used_at: r.oi("last_used_at"),
            revoked_at: r.oi("revoked_at"),
        })
        .collect())
}

/// Revokes one of the caller's tokens (an admin may revoke anyone's in the tenant).
///
/// # Errors
/// `NotFound`.
pub async fn revoke_token(db: &Db, ctx: &Ctx, id: &str) -> Result<()> {
    let mut q = Q::new("UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(ctx.tenant_id())
        .bind(id);
    if !ctx.is_admin() {
        let p = q.arg(ctx.user_id());
        q.sql.push_str(&format!(" AND user_id = {p}"));
    }
    if db.exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The caller behind a bearer token, if it is valid.
///
/// # Errors
/// Database errors.
pub async fn token_principal(db: &Db, secret: &str) -> Result<Option<Principal>> {
    let hash = sha256_hex(secret);
    let r = db
        .opt(
            Q::new(format!(
                "{PRINCIPAL_SQL}, k.last_used_at AS k_used FROM api_tokens k JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id \
                 {ROLE_JOIN} JOIN tenants t ON t.id = k.tenant_id WHERE k.token_hash = $1 AND k.revoked_at IS NULL"
            ))
            .bind(&hash),
        )
        .await?;
    let Some(r) = r.filter(|r| r.i("disabled") == 0) else { return Ok(None) };
    let now = now_ms();
    if r.oi("k_used").is_none_or(|t| now - t > 60_000) {
        db.exec(Q::new("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2").bind(now).bind(&hash)).await?;
    }
    Ok(Some(principal_from(&r, String::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash_password_now("correct horse battery").expect("hashes");
        assert!(verify_password_now("correct horse battery", &h), "{h}");
        assert!(!verify_password_now("correct horse battery!", &h));
        assert!(matches!(hash_password_now("short"), Err(StoreError::Invalid(_))));
    }
}
