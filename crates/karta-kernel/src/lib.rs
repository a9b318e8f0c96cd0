//! Karta's kernel: one code path over SQLite and PostgreSQL, the caller's context, audit,
//! jobs, notifications, the list-query, custom-field and search engines, and the hooks that
//! contexts fill. Every business function takes the caller's [`Ctx`] (tenant, user, role),
//! so no query can skip tenant or permission scope.

pub mod audit;
pub mod ctx;
pub mod data_steps;
pub mod db;
pub mod entities;
pub mod error;
pub mod events;
pub mod fields;
pub mod hooks;
pub mod jobs;
pub mod listq;
pub mod lite;
pub mod mass;
pub mod notify;
pub mod roles;
pub mod search;
pub mod tenants;
pub mod users;
pub mod views;

pub use ctx::{Admin, Ctx};
pub use db::{migrate, Arg, Bulk, Db, DbOptions, Engine, Row, Tx, Q};
pub use error::StoreError;
