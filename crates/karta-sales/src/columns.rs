//! The list fields of deals: their columns, filters and sorts.

use karta_core::Entity;
use karta_kernel::listq::{Field, Kind};

const D: &[Entity] = &[Entity::Deal];

/// Every list field of deals.
pub static FIELDS: &[Field] = &[
    Field::new("source", "source", Kind::Text, D),
    Field::new("owner", "owner_id", Kind::Owner, D),
    Field::new("created_at", "created_at", Kind::Timestamp, D),
    Field::new("updated_at", "updated_at", Kind::Timestamp, D),
    Field::new("title", "title_key", Kind::Name, D),
    Field::new("account", "account_id", Kind::Choice, D),
    Field::new("pipeline", "pipeline_id", Kind::Choice, D),
    Field::new("stage", "stage_id", Kind::Choice, D),
    Field::new("status", "status", Kind::Choice, D),
    Field::new("amount", "amount", Kind::Money, D),
    Field::new("currency", "currency", Kind::Choice, D),
    Field::new("close_date", "close_date", Kind::Date, D),
    Field::new("probability", "probability", Kind::Number, D),
    Field::new("next_step", "next_step", Kind::Text, D),
    Field::new("stage_entered_at", "stage_entered_at", Kind::Timestamp, D),
];
