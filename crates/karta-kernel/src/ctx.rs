//! The caller's context: every business query is built from it.

use crate::db::Q;
use crate::error::{Result, StoreError};
use karta_core::{Action, Entity, Role, Scope};

/// Who is asking: the tenant, the user and what the user may do.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The tenant every query is limited to.
    pub tenant_id: String,
    /// The tenant's default country for phone numbers.
    pub country: String,
    /// The acting user.
    pub user_id: String,
    /// The user's role.
    pub role: Role,
    /// The user's team, for team scope.
    pub team_id: Option<String>,
}

impl Ctx {
    /// The scope the caller has for `action`, or `Forbidden`.
    ///
    /// # Errors
    /// `Forbidden` when the role may not.
    pub fn scope(&self, entity: Entity, action: Action) -> Result<Scope> {
        self.role.scope(entity, action).ok_or(StoreError::Forbidden)
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
