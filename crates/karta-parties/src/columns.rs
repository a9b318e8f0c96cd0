//! The list fields of accounts and contacts: their columns, filters and sorts.

use karta_core::Entity;
use karta_kernel::listq::{Field, Kind};

const A: &[Entity] = &[Entity::Account];
const C: &[Entity] = &[Entity::Contact];
const P: &[Entity] = &[Entity::Account, Entity::Contact];

/// Every list field of accounts and contacts.
pub static FIELDS: &[Field] = &[
    Field::new("name", "name_key", Kind::Name, P),
    Field::new("first_name", "first_name", Kind::Text, C),
    Field::new("last_name", "last_name", Kind::Text, C),
    Field::new("job_title", "job_title", Kind::Text, C),
    Field::new("birthday", "birthday", Kind::Date, C),
    Field::new("legal_name", "legal_name", Kind::Text, A),
    Field::new("tax_id", "tax_id", Kind::Text, A),
    Field::new("employees", "employees", Kind::Number, A),
    Field::new("email", "emails", Kind::Emails, P),
    Field::new("phone", "phones", Kind::Phones, P),
    Field::new("city", "city", Kind::Text, P),
    Field::new("region", "region", Kind::Text, P),
    Field::new("industry", "industry", Kind::Text, P),
    Field::new("segment", "segment", Kind::Text, P),
    Field::new("relationship", "relationship", Kind::Choice, P),
    Field::new("source", "source", Kind::Text, P),
    Field::new("first_contact", "first_contact", Kind::Choice, P),
    Field::new("website", "website", Kind::Text, P),
    Field::new("owner", "owner_id", Kind::Owner, P),
    Field::new("tag", "tags", Kind::Tags, P),
    Field::new("do_not_contact", "do_not_contact", Kind::Bool, P),
    Field::new("do_not_email", "do_not_email", Kind::Bool, P),
    Field::new("created_at", "created_at", Kind::Timestamp, P),
    Field::new("updated_at", "updated_at", Kind::Timestamp, P),
];
