//! Roles, permissions per entity and action, and record scope.

use serde::{Deserialize, Serialize};

/// What kind of record a permission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// Organisations.
    Account,
    /// People.
    Contact,
    /// Sales opportunities.
    Deal,
    /// The product and service catalogue.
    Product,
    /// Calls, meetings, tasks and the other organizer entries.
    Activity,
}

impl Entity {
    /// The stable name used in URLs, the audit trail and the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Contact => "contact",
            Self::Deal => "deal",
            Self::Product => "product",
            Self::Activity => "activity",
        }
    }

    /// The table its records are stored in.
    #[must_use]
    pub fn table(self) -> &'static str {
        match self {
            Self::Account => "accounts",
            Self::Contact => "contacts",
            Self::Deal => "deals",
            Self::Product => "products",
            Self::Activity => "activities",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "account" | "accounts" => Some(Self::Account),
            "contact" | "contacts" => Some(Self::Contact),
            "deal" | "deals" => Some(Self::Deal),
            "product" | "products" => Some(Self::Product),
            "activity" | "activities" => Some(Self::Activity),
            _ => None,
        }
    }
}

/// An operation on records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Make a new record.
    Create,
    /// See a record.
    Read,
    /// Change a record.
    Update,
    /// Move a record to the trash (and restore it).
    Delete,
    /// Export lists.
    Export,
}

impl Action {
    /// Every action, in the order a role editor shows them.
    pub const ALL: [Action; 5] = [Self::Read, Self::Create, Self::Update, Self::Delete, Self::Export];

    /// The stable name (in the API and the stored grants).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Export => "export",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn index(self) -> usize {
        match self {
            Self::Read => 0,
            Self::Create => 1,
            Self::Update => 2,
            Self::Delete => 3,
            Self::Export => 4,
        }
    }
}

/// Which records an allowed action reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Records the user owns.
    Own,
    /// Records owned by the user or anyone in the user's team.
    Team,
    /// Every record of the tenant.
    All,
}

impl Scope {
    /// Every scope, narrowest first.
    pub const ALL: [Scope; 3] = [Self::Own, Self::Team, Self::All];

    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::Team => "team",
            Self::All => "all",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a role may do beyond records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cap {
    /// Users, teams, roles, custom fields, purge and the tenant's settings.
    Admin,
    /// Take data out of Karta (exports, with the per-entity export scope).
    Export,
    /// Configure pipelines, stages and loss reasons.
    ManagePipelines,
    /// See the calendars of people outside one's own team.
    AllCalendars,
    /// Lead a team: its workload, reassigning one member's records to another, anyone's board.
    LeadTeam,
}

impl Cap {
    /// Every capability, in the order a role editor shows them.
    pub const ALL: [Cap; 5] = [Self::Admin, Self::Export, Self::ManagePipelines, Self::AllCalendars, Self::LeadTeam];

    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Export => "export",
            Self::ManagePipelines => "manage_pipelines",
            Self::AllCalendars => "all_calendars",
            Self::LeadTeam => "lead_team",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The scopes of one entity, per action (`None`: not allowed).
pub type EntityGrants = [Option<Scope>; 5];

/// What one role allows: per entity (by its stable name) and action a scope, and capabilities.
/// Built from the tenant's role (see the kernel's `roles`); checked by the caller's context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Perms {
    grants: std::collections::BTreeMap<String, EntityGrants>,
    caps: Vec<Cap>,
}

impl Perms {
    /// Nothing allowed.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Sets the scope of `action` on the entity named `entity`.
    pub fn set(&mut self, entity: &str, action: Action, scope: Option<Scope>) {
        let g = self.grants.entry(entity.to_string()).or_default();
        g[action.index()] = scope;
    }

    /// Gives or takes `cap`.
    pub fn set_cap(&mut self, cap: Cap, on: bool) {
        self.caps.retain(|c| *c != cap);
        if on {
            self.caps.push(cap);
        }
    }

    /// The scope for `action` on the entity named `entity`.
    #[must_use]
    pub fn scope_of(&self, entity: &str, action: Action) -> Option<Scope> {
        self.grants.get(entity).and_then(|g| g[action.index()])
    }

    /// The scope for `action` on `entity`. Exporting also needs the export capability.
    #[must_use]
    pub fn scope(&self, entity: Entity, action: Action) -> Option<Scope> {
        if action == Action::Export && !self.has(Cap::Export) {
            return None;
        }
        self.scope_of(entity.as_str(), action)
    }

    /// True when the role has `cap`.
    #[must_use]
    pub fn has(&self, cap: Cap) -> bool {
        self.caps.contains(&cap)
    }

    /// The capabilities, in [`Cap::ALL`] order.
    #[must_use]
    pub fn caps(&self) -> Vec<Cap> {
        Cap::ALL.into_iter().filter(|c| self.has(*c)).collect()
    }

    /// Whom the role leads: everyone for an admin, the team for a team lead.
    #[must_use]
    pub fn leads(&self) -> Option<Scope> {
        if self.has(Cap::Admin) {
            Some(Scope::All)
        } else if self.has(Cap::LeadTeam) {
            Some(Scope::Team)
        } else {
            None
        }
    }
}

/// A user's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, purge and settings.
    Admin,
    /// Leads a sales team: works with the team's records.
    SalesManager,
    /// Works with own records; creates new ones.
    Salesperson,
    /// Customer service: reads and updates every record.
    Support,
    /// Marketing: reads and updates every record.
    Marketing,
    /// Reads everything, changes nothing.
    ReadOnly,
}

impl Role {
    /// Every role, in the order shown to people.
    pub const ALL: [Role; 6] =
        [Self::Admin, Self::SalesManager, Self::Salesperson, Self::Support, Self::Marketing, Self::ReadOnly];

    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::SalesManager => "sales_manager",
            Self::Salesperson => "salesperson",
            Self::Support => "support",
            Self::Marketing => "marketing",
            Self::ReadOnly => "read_only",
        }
    }

    /// Parses the stable name (also accepts `-` for `_`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The default scope of this built-in role for `action` on a business record that people
    /// own (accounts, contacts, deals, activities…): what an entity registers unless it needs
    /// other defaults.
    #[must_use]
    pub fn record_default(self, action: Action) -> Option<Scope> {
        use Action::{Create, Delete, Export, Read, Update};
        match (self, action) {
            (Self::Admin, _) => Some(Scope::All),
            (Self::SalesManager, _) => Some(Scope::Team),
            (Self::Salesperson, Read | Update | Delete | Export | Create) => Some(Scope::Own),
            (Self::Support | Self::Marketing, Read | Update | Create | Export) => Some(Scope::All),
            (Self::ReadOnly, Read) => Some(Scope::All),
            _ => None,
        }
    }

    /// The default scope of this built-in role for `action` on the company's shared reference
    /// data (the catalogue): everyone reads all of it, admins and sales managers maintain it.
    #[must_use]
    pub fn reference_default(self, action: Action) -> Option<Scope> {
        use Action::{Export, Read};
        match (self, action) {
            (_, Read) | (Self::Admin | Self::SalesManager, _) => Some(Scope::All),
            (Self::Support | Self::Marketing | Self::Salesperson, Export) => Some(Scope::All),
            _ => None,
        }
    }

    /// The capabilities this built-in role has by default.
    #[must_use]
    pub fn default_caps(self) -> &'static [Cap] {
        match self {
            Self::Admin => &Cap::ALL,
            Self::SalesManager => &[Cap::Export, Cap::LeadTeam],
            Self::Salesperson | Self::Support | Self::Marketing => &[Cap::Export],
            Self::ReadOnly => &[],
        }
    }

    /// True for the role that manages users, tokens of others, purge and settings.
    #[must_use]
    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesperson_is_limited_to_own_records_and_read_only_cannot_write() {
        assert_eq!(Role::Salesperson.record_default(Action::Read), Some(Scope::Own));
        assert_eq!(Role::ReadOnly.record_default(Action::Update), None);
        assert_eq!(Role::Support.record_default(Action::Delete), None);
        assert_eq!(Role::parse("Sales-Manager"), Some(Role::SalesManager));
        assert_eq!(Role::Salesperson.reference_default(Action::Read), Some(Scope::All));
        assert_eq!(Role::Salesperson.reference_default(Action::Update), None);
        assert_eq!(Role::SalesManager.reference_default(Action::Create), Some(Scope::All));
    }

    #[test]
    fn exporting_needs_the_capability_as_well_as_the_scope() {
        let mut p = Perms::none();
        p.set("account", Action::Export, Some(Scope::All));
        p.set("account", Action::Read, Some(Scope::Own));
        assert_eq!(p.scope(Entity::Account, Action::Read), Some(Scope::Own));
        assert_eq!(p.scope(Entity::Account, Action::Export), None);
        p.set_cap(Cap::Export, true);
        assert_eq!(p.scope(Entity::Account, Action::Export), Some(Scope::All));
        assert_eq!(p.scope(Entity::Contact, Action::Read), None);
        assert_eq!(p.leads(), None);
        p.set_cap(Cap::LeadTeam, true);
        assert_eq!(p.leads(), Some(Scope::Team));
        assert_eq!(Action::parse("update"), Some(Action::Update));
        assert_eq!(Scope::parse("team"), Some(Scope::Team));
        assert_eq!(Cap::parse("all_calendars"), Some(Cap::AllCalendars));
    }
}
