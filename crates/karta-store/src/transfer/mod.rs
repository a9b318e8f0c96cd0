//! Data in and out: imports of CSV, XLSX and vCard files, and exports of lists to CSV, XLSX
//! and vCard.

pub mod columns;
pub mod csvread;
pub mod export;
pub mod import;
pub mod source;
pub mod vcard;
