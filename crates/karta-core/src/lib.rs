//! Karta's domain: identifiers, values that parse (e-mail, phone, URL, dates), roles and
//! permissions, and the text normalisation that search relies on. No I/O lives here.

pub mod clock;
pub mod custom;
pub mod money;
pub mod party;
pub mod perm;
pub mod text;
pub mod values;
pub mod zone;

pub use clock::Clock;
pub use money::{Currency, Discount, Money, Quantity};
pub use perm::{Action, Cap, Entity, Perms, Role, Scope};
pub use values::{Email, FieldError, IsoDate, Phone, WebUrl};
pub use zone::Zone;

/// A new time-ordered identifier (UUID v7) as the text stored in the database.
#[must_use]
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Milliseconds since the Unix epoch, the unit every timestamp is stored in.
#[must_use]
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
