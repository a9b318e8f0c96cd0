//! Russian and English texts of the pipeline board, the pipeline settings and the product
//! catalogue: `(key, English, Russian)`, looked up with the main table (see [`crate::i18n`]).

/// The texts.
pub const TEXTS: &[(&str, &str, &str)] = &[];
