//! Roles, permissions per entity and action, and record scope.

use serde::Serialize;

/// What kind of record a permission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The scope this role has for `action` on `entity`, or `None` when it may not.
    #[must_use]
    pub fn scope(self, entity: Entity, action: Action) -> Option<Scope> {
        use Action::{Create, Delete, Export, Read, Update};
        if entity == Entity::Product {
            // The catalogue is the company's, not a salesperson's: everyone reads all of it,
            // admins and sales managers maintain it.
            return match (self, action) {
                (_, Read) | (Self::Admin | Self::SalesManager, _) => Some(Scope::All),
                (Self::Support | Self::Marketing | Self::Salesperson, Export) => Some(Scope::All),
                _ => None,
            };
        }
        match (self, action) {
            (Self::Admin, _) => Some(Scope::All),
            (Self::SalesManager, _) => Some(Scope::Team),
            (Self::Salesperson, Read | Update | Delete | Export | Create) => Some(Scope::Own),
            (Self::Support | Self::Marketing, Read | Update | Create | Export) => Some(Scope::All),
            (Self::ReadOnly, Read) => Some(Scope::All),
            _ => None,
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
        assert_eq!(Role::Salesperson.scope(Entity::Contact, Action::Read), Some(Scope::Own));
        assert_eq!(Role::ReadOnly.scope(Entity::Account, Action::Update), None);
        assert_eq!(Role::Support.scope(Entity::Account, Action::Delete), None);
        assert_eq!(Role::parse("Sales-Manager"), Some(Role::SalesManager));
        assert_eq!(Role::Salesperson.scope(Entity::Deal, Action::Update), Some(Scope::Own));
        assert_eq!(Role::Salesperson.scope(Entity::Product, Action::Read), Some(Scope::All));
        assert_eq!(Role::Salesperson.scope(Entity::Product, Action::Update), None);
        assert_eq!(Role::SalesManager.scope(Entity::Product, Action::Create), Some(Scope::All));
    }
}
