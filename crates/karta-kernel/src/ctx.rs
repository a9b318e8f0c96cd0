//! The caller's context: every business query is built from it.

use crate::db::Q;
use crate::error::{Result, StoreError};
use karta_core::{Action, Cap, Entity, Perms, Scope};
use std::sync::Arc;

/// Who is asking: the tenant, the user and what the user may do.
///
/// Only authentication makes one: a session or an API token ([`crate::users`]), or the
/// operator of the installation acting as a user from the command line
/// ([`crate::users::act_as`]). Its fields are private, so no other code can make one up:
///
/// ```compile_fail,E0451
/// let ctx = karta_kernel::Ctx {
///     tenant_id: "t".into(),
///     country: "RU".into(),
///     tenant_zone: "Europe/Moscow".into(),
///     user_zone: String::new(),
///     user_id: "u".into(),
///     role: "admin".into(),
///     perms: Default::default(),
///     team_id: None,
/// };
/// ```
///
/// nor widen one it was given:
///
/// ```compile_fail,E0616
/// fn widen(ctx: &mut karta_kernel::Ctx) {
///     ctx.role = "admin".into();
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Ctx {
    tenant_id: String,
    country: String,
    /// The tenant's time zone (IANA name).
    tenant_zone: String,
    /// The user's own choice of zone, empty when they made none.
    user_zone: String,
    user_id: String,
    role: String,
    perms: Arc<Perms>,
    team_id: Option<String>,
}

/// The right to administer one tenant (its users and teams): [`Ctx::admin`] hands it to an
/// admin, the way a lock hands out its key, and [`Admin::operator`] to the operator of the
/// installation on the command line (who holds the database itself).
#[derive(Debug, Clone)]
pub struct Admin {
    tenant_id: String,
    by: Option<String>,
}

impl Admin {
    /// The operator's authority over `tenant_id`: for the command line (`karta user add`,
    /// `karta team add`, the demo), which reaches the database directly. Web handlers get
    /// theirs from [`Ctx::admin`]; a test keeps every other caller out.
    #[must_use]
    pub fn operator(tenant_id: &str) -> Self {
        Self { tenant_id: tenant_id.to_string(), by: None }
    }

    /// The administered tenant.
    #[must_use]
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The admin user acting, or `None` for the operator.
    #[must_use]
    pub fn by(&self) -> Option<&str> {
        self.by.as_deref()
    }
}

impl Ctx {
    /// A context for an authenticated user (authentication is this crate's).
    pub(crate) fn new(
        tenant_id: String,
        (country, tenant_zone, user_zone): (String, String, String),
        user_id: String,
        role: String,
        perms: Perms,
        team_id: Option<String>,
    ) -> Self {
        Self { tenant_id, country, tenant_zone, user_zone, user_id, role, perms: Arc::new(perms), team_id }
    }

    /// The same caller seen as a member of `team_id` (for rules about a record's owner).
    pub(crate) fn with_team(&self, team_id: Option<String>) -> Self {
        Self { team_id, ..self.clone() }
    }

    /// The tenant every query is limited to.
    #[must_use]
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The tenant's default country for phone numbers.
    #[must_use]
    pub fn country(&self) -> &str {
        &self.country
    }

    /// The tenant's time zone (its country's main one unless an admin chose another).
    #[must_use]
    pub fn tenant_zone(&self) -> karta_core::Zone {
        karta_core::Zone::parse(&self.tenant_zone, "").unwrap_or_else(|_| karta_core::Zone::of_country(&self.country))
    }

    /// The zone the user chose in their settings, if they chose one.
    #[must_use]
    pub fn user_zone(&self) -> Option<karta_core::Zone> {
        karta_core::Zone::parse(&self.user_zone, "").ok()
    }

    /// The acting user.
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The user's role: a built-in role's name or the id of a role of the tenant.
    #[must_use]
    pub fn role(&self) -> &str {
        &self.role
    }

    /// What the user's role allows, as resolved when the request was authenticated.
    #[must_use]
    pub fn perms(&self) -> &Perms {
        &self.perms
    }

    /// True when the user's role has `cap`.
    #[must_use]
    pub fn can(&self, cap: Cap) -> bool {
        self.perms.has(cap)
    }

    /// `Forbidden` unless the user's role has `cap`.
    ///
    /// # Errors
    /// `Forbidden`.
    pub fn need(&self, cap: Cap) -> Result<()> {
        if self.can(cap) {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// The user's team, for team scope.
    #[must_use]
    pub fn team_id(&self) -> Option<&str> {
        self.team_id.as_deref()
    }

    /// The admin capability, for a user whose role has it.
    ///
    /// # Errors
    /// `Forbidden` for every other role.
    pub fn admin(&self) -> Result<Admin> {
        if self.perms.has(Cap::Admin) {
            Ok(Admin { tenant_id: self.tenant_id.clone(), by: Some(self.user_id.clone()) })
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Whom the caller leads: everyone for an admin, the team for a team lead (a sales
    /// manager). What a manager's tools (a team's workload, reassigning one person's records
    /// to another, the board of anyone) demand.
    ///
    /// # Errors
    /// `Forbidden` for a role with neither capability, whatever its record scopes.
    pub fn leads(&self) -> Result<Scope> {
        self.perms.leads().ok_or(StoreError::Forbidden)
    }

    /// True for an admin (what pages show; operations demand [`Ctx::admin`]).
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.admin().is_ok()
    }

    /// The scope the caller has for `action`, or `Forbidden`.
    ///
    /// # Errors
    /// `Forbidden` when the role may not.
    pub fn scope(&self, entity: Entity, action: Action) -> Result<Scope> {
        self.perms.scope(entity, action).ok_or(StoreError::Forbidden)
    }

    /// A SQL condition limiting `alias` (a table with `owner_id`) to `scope`, binding into `q`.
    pub fn scope_sql(&self, q: &mut Q, alias: &str, scope: Scope) -> String {
        match scope {
            Scope::All => "1=1".to_string(),
            Scope::Own => format!("{alias}.owner_id = {}", q.arg(&self.user_id)),
            Scope::Team => {
                let me = q.arg(&self.user_id);
                match &self.team_id {
                    Some(team) => {
                        let t = q.arg(&self.tenant_id);
                        let team = q.arg(team);
                        format!(
                            "({alias}.owner_id = {me} OR {alias}.owner_id IN (SELECT id FROM users WHERE tenant_id = {t} AND team_id = {team}))"
                        )
                    }
                    None => format!("{alias}.owner_id = {me}"),
                }
            }
        }
    }

    /// True when the caller may give a record to `owner`: an active user of the tenant, and
    /// only themselves when their scope is their own records.
    ///
    /// # Errors
    /// Database errors.
    pub async fn may_assign(&self, db: &crate::db::Db, scope: Scope, owner: &str) -> Result<bool> {
        if scope == Scope::Own && owner != self.user_id {
            return Ok(false);
        }
        let r = db
            .opt(
                Q::new("SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND disabled = 0")
                    .bind(&self.tenant_id)
                    .bind(owner),
            )
            .await?;
        Ok(r.is_some())
    }

    /// True when the caller, with `scope`, reaches a record owned by `owner_id`; checked in
    /// memory after a read, with the owner's team looked up by the caller.
    #[must_use]
    pub fn reaches(&self, scope: Scope, owner_id: &str, owner_team: Option<&str>) -> bool {
        match scope {
            Scope::All => true,
            Scope::Own => owner_id == self.user_id,
            Scope::Team => {
                owner_id == self.user_id || (self.team_id.is_some() && self.team_id.as_deref() == owner_team)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The doc tests above must fail for privacy alone: the same literal and assignment
    /// compile here, inside the kernel (rustdoc on stable does not check the error code).
    #[test]
    fn the_refused_snippets_are_otherwise_valid_and_only_admins_get_the_admin_capability() {
        let mut ctx = Ctx {
            tenant_id: "t".into(),
            country: "RU".into(),
            tenant_zone: String::new(),
            user_zone: String::new(),
            user_id: "u".into(),
            role: "admin".into(),
            perms: Arc::default(),
            team_id: None,
        };
        assert!(matches!(ctx.admin(), Err(StoreError::Forbidden)));
        let mut perms = Perms::none();
        perms.set_cap(Cap::Admin, true);
        ctx.perms = Arc::new(perms);
        ctx.role = "admin".into();
        let admin = ctx.admin().expect("an admin gets the capability");
        assert_eq!((admin.tenant_id(), admin.by()), ("t", Some("u")));
        assert_eq!(Admin::operator("t2").by(), None);
    }
}
