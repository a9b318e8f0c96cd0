//! File formats as pure functions: a forgiving CSV reader, XLSX sheets and vCard files read
//! as one stream of rows, and vCard written back.

pub mod csvread;
pub mod source;
pub mod vcard;
