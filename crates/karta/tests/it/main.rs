//! Karta's integration tests: one binary (the whole app is linked once, not once per file),
//! a module per context, each talking to the real app on port 0 through the test kit in
//! [`common`]. A test marked `#[engines]` runs once per database engine, as
//! `module::test_name::sqlite` and `module::test_name::postgres`, so a failure names its engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod auth;
mod browser;
mod cli;
mod custom_fields;
mod custom_lists;
mod deals;
mod isolation;
mod merge;
mod ops;
mod organizer;
mod records;
mod transfer_cli;
mod transfer_http;
mod ui_deals;
mod ui_organizer;
mod ui_organizer_calendar;
mod ui_sales;
mod views;
