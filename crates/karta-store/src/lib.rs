//! Karta's storage: one code path over SQLite and PostgreSQL. Every business function takes
//! the caller's [`Ctx`] (tenant, user, role), so no query can skip tenant or permission scope.

pub mod activities;
pub mod audit;
pub mod ctx;
pub mod db;
pub mod deals;
pub mod dedup;
pub mod error;
pub mod fields;
pub mod jobs;
pub mod links;
pub mod listq;
pub mod lite;
pub mod mass;
pub mod merge;
pub mod notes;
pub mod notify;
pub mod parties;
pub mod pipelines;
pub mod products;
pub mod search;
pub mod tenants;
pub mod transfer;
pub mod users;
pub mod views;

pub use ctx::Ctx;
pub use db::{migrate, Arg, Bulk, Db, DbOptions, Engine, Row, Tx, Q};
pub use error::StoreError;
