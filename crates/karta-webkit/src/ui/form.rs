//! A form's submitted values with per-field error messages, for pages that redisplay a
//! form with what the user typed.

use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

/// The values and per-field error messages of one form.
#[derive(Default)]
pub struct Edit {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    multi: Vec<(String, String)>,
}

impl Edit {
    /// From submitted pairs.
    #[must_use]
    pub fn from_pairs(pairs: &Pairs) -> Self {
        Self { values: pairs.iter().cloned().collect(), errors: HashMap::new(), multi: pairs.clone() }
    }

    /// Sets a value.
    pub fn set(&mut self, k: &str, v: impl Into<String>) {
        self.values.insert(k.to_string(), v.into());
    }

    /// Records an error on a field (messages of one field are joined).
    pub fn error(&mut self, field: &str, msg: &str) {
        self.errors.entry(field.to_string()).and_modify(|m| m.push_str(&format!(" {msg}"))).or_insert(msg.to_string());
    }

    /// A value.
    #[must_use]
    pub fn v(&self, k: &str) -> &str {
        self.values.get(k).map_or("", String::as_str)
    }

    /// The error of a field, or empty.
    #[must_use]
    pub fn e(&self, k: &str) -> &str {
        self.errors.get(k).map_or("", String::as_str)
    }

    /// True when a checkbox is on.
    #[must_use]
    pub fn on(&self, k: &str) -> bool {
        matches!(self.v(k), "on" | "true" | "1")
    }

    /// True when a repeated field (checkboxes) holds `value`.
    #[must_use]
    pub fn has(&self, k: &str, value: &str) -> bool {
        self.multi.iter().any(|(a, b)| a == k && b == value)
    }

    /// Sets the values of a repeated field (checkboxes).
    pub fn set_multi(&mut self, k: &str, values: impl IntoIterator<Item = String>) {
        self.multi.retain(|(a, _)| a != k);
        self.multi.extend(values.into_iter().map(|v| (k.to_string(), v)));
    }

    /// True when any field has an error.
    #[must_use]
    pub fn invalid(&self) -> bool {
        !self.errors.is_empty()
    }
}
