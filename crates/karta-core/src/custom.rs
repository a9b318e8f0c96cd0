//! Custom fields: definitions an admin adds to accounts, contacts and deals, and the parsing of
//! their values.
//!
//! Values live in one JSON object per record (`custom` column), keyed by the field's key. Each
//! kind has one stored form, chosen so that SQL comparisons and sorting on the extracted value
//! behave:
//!
//! | kind | stored JSON | text form ([`FieldDef::text`]) |
//! |---|---|---|
//! | `text`, `long_text` | string | the string |
//! | `number` | number (integer when whole) | `1234.5` |
//! | `money` | `{"minor": 123450, "currency": "RUB"}` (sort / filter by `minor`) | `1234.50 RUB` |
//! | `date` | `"YYYY-MM-DD"` | the same |
//! | `date_time` | `"YYYY-MM-DDTHH:MM"`, wall-clock time as typed (no zone) | the same |
//! | `bool` | `true` / `false` | `yes` / `no` |
//! | `select` | the option string (one of `options`) | the option |
//! | `multi_select` | array of option strings | options joined by `; ` |
//! | `url`, `email`, `phone` | normalised string (`https://…`, lower-case domain, E.164) | the same |
//! | `user` | user id | the id |
//! | `link` | record id (of `target`) | the id |
//!
//! An empty value is never stored: the key is absent. For `money`, `options[0]` may name the
//! currency used when a typed amount has none (default `RUB`).

use crate::money::{Currency, Money};
use crate::text::{digits, norm};
use crate::values::{Email, FieldError, IsoDate, Phone, WebUrl};
use crate::Entity;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest text value.
const MAX_TEXT: usize = 1000;
/// The longest long-text value.
const MAX_LONG_TEXT: usize = 20_000;

/// What kind of value a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    /// A number (integer or decimal).
    Number,
    /// An amount of money with its currency.
    Money,
    /// A calendar date.
    Date,
    /// A date and a time of day.
    DateTime,
    /// Yes / no.
    Bool,
    /// One of a list of options.
    Select,
    /// Any of a list of options.
    MultiSelect,
    /// A web address.
    Url,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A user of the tenant.
    User,
    /// A link to an account, contact or deal.
    Link,
}

impl FieldKind {
    /// Every kind, in the order a select box shows them.
    pub const ALL: [FieldKind; 14] = [
        Self::Text,
        Self::LongText,
        Self::Number,
        Self::Money,
        Self::Date,
        Self::DateTime,
        Self::Bool,
        Self::Select,
        Self::MultiSelect,
        Self::Url,
        Self::Email,
        Self::Phone,
        Self::User,
        Self::Link,
    ];

    /// The stable name (as in JSON and the database).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::LongText => "long_text",
            Self::Number => "number",
            Self::Money => "money",
            Self::Date => "date",
            Self::DateTime => "date_time",
            Self::Bool => "bool",
            Self::Select => "select",
            Self::MultiSelect => "multi_select",
            Self::Url => "url",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::User => "user",
            Self::Link => "link",
        }
    }

    /// Parses the stable name (a few spellings are accepted: `datetime`, `yes_no`, `e-mail`…).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match s.as_str() {
            "datetime" => Some(Self::DateTime),
            "boolean" | "yes_no" | "yesno" | "checkbox" => Some(Self::Bool),
            "longtext" | "textarea" => Some(Self::LongText),
            "multiselect" => Some(Self::MultiSelect),
            "e_mail" => Some(Self::Email),
            _ => Self::ALL.into_iter().find(|k| k.as_str() == s),
        }
    }

    /// True for kinds whose values are words people search for (they feed the search index).
    #[must_use]
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            Self::Text | Self::LongText | Self::Select | Self::MultiSelect | Self::Url | Self::Email | Self::Phone
        )
    }

    /// True for kinds whose stored value sorts and compares as a number in SQL.
    #[must_use]
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Number | Self::Money)
    }

    /// True for kinds that take a list of options.
    #[must_use]
    pub fn has_options(self) -> bool {
        matches!(self, Self::Select | Self::MultiSelect)
    }
}

/// One custom field's definition.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldDef {
    /// Id.
    pub id: String,
    /// Which records have it.
    pub entity: Entity,
    /// The key in the record's `custom` object and in `cf.<key>` filters; never changes.
    pub key: String,
    /// What it holds.
    pub kind: FieldKind,
    /// English label.
    pub label_en: String,
    /// Russian label.
    pub label_ru: String,
    /// Help text shown under the input.
    pub help: String,
    /// A value must be given.
    pub required: bool,
    /// Text form of the value a new record gets when none is given (empty: none).
    pub default_value: String,
    /// Options of a select; for money, `options[0]` may be the default currency code.
    pub options: Vec<String>,
    /// What a link points to (`account`, `contact` or `deal`).
    pub target: Option<Entity>,
    /// Order in forms and lists.
    pub position: i64,
    /// Shown in forms; an inactive field keeps its values but is hidden.
    pub active: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
}

fn err(key: &str, code: &'static str) -> FieldError {
    FieldError::new(format!("custom.{key}"), code)
}

/// A field key made from a label: lower-case ASCII letters, digits and `_`, starting with a
/// letter, at most 40 characters; Cyrillic is transliterated. `field` when nothing is left.
#[must_use]
pub fn key_from_label(label: &str) -> String {
    let mut out = String::new();
    for ch in label.trim().chars().flat_map(char::to_lowercase) {
        let t: &str = match ch {
            'a'..='z' | '0'..='9' => {
                out.push(ch);
                continue;
            }
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            'ъ' | 'ь' => "",
            _ => "_",
        };
        out.push_str(t);
    }
    let mut key = String::new();
    for part in out.split('_').filter(|p| !p.is_empty()) {
        if !key.is_empty() {
            key.push('_');
        }
        key.push_str(part);
    }
    if key.is_empty() {
        key = "field".into();
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("f_{key}");
    }
    key.chars().take(40).collect::<String>().trim_end_matches('_').to_string()
}

/// True for a well-formed key (what [`key_from_label`] makes); keys go into JSON paths.
#[must_use]
pub fn valid_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn parse_number(s: &str) -> Option<Value> {
    let t: String = s.chars().filter(|c| !matches!(c, ' ' | '\u{00A0}' | '\u{202F}' | '\u{2009}' | '\'')).collect();
    let t = if t.contains(',') && !t.contains('.') { t.replace(',', ".") } else { t.replace(',', "") };
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')) {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::from(i));
    }
    let f: f64 = t.parse().ok()?;
    number_value(f)
}

fn number_value(f: f64) -> Option<Value> {
    if !f.is_finite() || f.abs() > 1e15 {
        return None;
    }
    if f.fract() == 0.0 {
        #[allow(clippy::cast_possible_truncation)]
        return Some(Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(Value::Number)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" | "да" | "д" | "+" | "x" | "✓" => Some(true),
        "0" | "false" | "no" | "n" | "off" | "нет" | "н" | "-" => Some(false),
        _ => None,
    }
}

/// Parses `YYYY-MM-DDTHH:MM`, `YYYY-MM-DD HH:MM[:SS]` or `DD.MM.YYYY HH:MM` into
/// `YYYY-MM-DDTHH:MM` (seconds and a trailing `Z` are dropped).
fn parse_datetime(s: &str, key: &str) -> Result<String, FieldError> {
    let e = || err(key, "invalid_datetime");
    let s = s.trim().trim_end_matches('Z');
    let (d, t) = s.split_once(['T', ' ']).ok_or_else(e)?;
    let date = IsoDate::parse(d, "x").map_err(|_| e())?;
    let mut parts = t.trim().split(':');
    let h: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(e)?;
    let m: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(e)?;
    if let Some(sec) = parts.next() {
        let sec = sec.split('.').next().unwrap_or_default();
        if sec.parse::<u8>().map_or(true, |x| x > 59) {
            return Err(e());
        }
    }
    if h > 23 || m > 59 || parts.next().is_some() {
        return Err(e());
    }
    Ok(format!("{}T{h:02}:{m:02}", date.as_str()))
}

fn money_value(m: Money) -> Value {
    serde_json::json!({"minor": m.minor, "currency": m.currency.code()})
}

fn limit_text(s: &str, max: usize, key: &str) -> Result<Value, FieldError> {
    if s.chars().count() > max {
        return Err(err(key, "too_long"));
    }
    Ok(Value::from(s))
}

impl FieldDef {
    /// The label in the user's language (the other one when that is empty).
    #[must_use]
    pub fn label(&self, ru: bool) -> &str {
        let (a, b) = if ru { (&self.label_ru, &self.label_en) } else { (&self.label_en, &self.label_ru) };
        if a.trim().is_empty() {
            b
        } else {
            a
        }
    }

    /// The name of this field in errors, filters and forms: `custom.<key>`.
    #[must_use]
    pub fn field_name(&self) -> String {
        format!("custom.{}", self.key)
    }

    /// The currency of amounts typed without one (money fields).
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.options.first().and_then(|c| Currency::parse(c, "currency").ok()).unwrap_or(Currency::Rub)
    }

    fn option(&self, s: &str) -> Option<String> {
        let s = s.trim();
        self.options.iter().find(|o| o.as_str() == s || norm(o) == norm(s)).cloned()
    }

    fn parse_money(&self, raw: &str) -> Result<Value, FieldError> {
        let field = self.field_name();
        let raw = raw.trim();
        let (amount, code) = match raw.rsplit_once(' ') {
            Some((a, c)) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => (a, Some(c)),
            _ => match raw.split_once(' ') {
                Some((c, a)) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => (a, Some(c)),
                _ => (raw, None),
            },
        };
        let currency = match code {
            Some(c) => Currency::parse(c, &field)?,
            None => self.currency(),
        };
        Money::parse(amount, currency, &field).map(money_value)
    }

    /// Parses a value typed by a person or read from an import cell; empty text is
    /// `Ok(Value::Null)`.
    ///
    /// # Errors
    /// A [`FieldError`] named `custom.<key>`: `invalid_number`, `invalid_money`,
    /// `invalid_currency`, `invalid_date`, `invalid_datetime`, `invalid_bool`,
    /// `invalid_choice`, `invalid_url`, `invalid_email`, `invalid_phone`, `too_long`,
    /// `invalid_value`.
    pub fn parse_text(&self, raw: &str, country: &str) -> Result<Value, FieldError> {
        let key = self.key.as_str();
        let field = self.field_name();
        let s = raw.trim();
        if s.is_empty() {
            return Ok(Value::Null);
        }
        match self.kind {
            FieldKind::Text => limit_text(s, MAX_TEXT, key),
            FieldKind::LongText => {
                let s = raw.trim_end().trim_start_matches(['\n', '\r']).replace("\r\n", "\n");
                limit_text(&s, MAX_LONG_TEXT, key)
            }
            FieldKind::Number => parse_number(s).ok_or_else(|| err(key, "invalid_number")),
            FieldKind::Money => self.parse_money(s),
            FieldKind::Date => Ok(IsoDate::parse(s, &field)?.as_str().into()),
            FieldKind::DateTime => parse_datetime(s, key).map(Value::from),
            FieldKind::Bool => parse_bool(s).map(Value::Bool).ok_or_else(|| err(key, "invalid_bool")),
            FieldKind::Select => self.option(s).map(Value::from).ok_or_else(|| err(key, "invalid_choice")),
            FieldKind::MultiSelect => {
                let mut out: Vec<String> = Vec::new();
                for piece in s.split([';', '\n', '|']).map(str::trim).filter(|p| !p.is_empty()) {
                    let found: Vec<String> = match self.option(piece) {
                        Some(o) => vec![o],
                        None => piece
                            .split(',')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(|p| self.option(p).ok_or_else(|| err(key, "invalid_choice")))
                            .collect::<Result<_, _>>()?,
                    };
                    for o in found {
                        if !out.contains(&o) {
                            out.push(o);
                        }
                    }
                }
                Ok(if out.is_empty() { Value::Null } else { Value::from(out) })
            }
            FieldKind::Url => Ok(WebUrl::parse(s, &field)?.as_str().into()),
            FieldKind::Email => Ok(Email::parse(s, &field)?.as_str().into()),
            FieldKind::Phone => Ok(Phone::parse(s, country, &field)?.as_str().into()),
            FieldKind::User => {
                if s.chars().count() > 100 || s.chars().any(char::is_whitespace) {
                    Err(err(key, "invalid_value"))
                } else {
                    Ok(s.into())
                }
            }
            // An id, or a record's name: the store turns either into the record's id.
            FieldKind::Link => {
                if s.chars().count() > 200 {
                    Err(err(key, "too_long"))
                } else {
                    Ok(s.into())
                }
            }
        }
    }

    /// Parses a JSON value from the API: a string goes through [`FieldDef::parse_text`];
    /// numbers, booleans, arrays (multi select) and money objects
    /// (`{"minor": …, "currency": …}` or `{"amount": "…", "currency": …}`) are accepted where
    /// they fit; `null` is no value.
    ///
    /// # Errors
    /// As [`FieldDef::parse_text`]; a JSON type that does not fit gives the kind's `invalid_…`
    /// code.
    pub fn parse_json(&self, raw: &Value, country: &str) -> Result<Value, FieldError> {
        let key = self.key.as_str();
        let wrong = || {
            let code = match self.kind {
                FieldKind::Number => "invalid_number",
                FieldKind::Money => "invalid_money",
                FieldKind::Date => "invalid_date",
                FieldKind::DateTime => "invalid_datetime",
                FieldKind::Bool => "invalid_bool",
                FieldKind::Select | FieldKind::MultiSelect => "invalid_choice",
                FieldKind::Url => "invalid_url",
                FieldKind::Email => "invalid_email",
                FieldKind::Phone => "invalid_phone",
                _ => "invalid_value",
            };
            err(key, code)
        };
        match (self.kind, raw) {
            (_, Value::Null) => Ok(Value::Null),
            (_, Value::String(s)) => self.parse_text(s, country),
            (FieldKind::Number, Value::Number(n)) => n.as_f64().and_then(number_value).ok_or_else(wrong),
            (FieldKind::Money, Value::Number(n)) => self.parse_money(&n.to_string()),
            (FieldKind::Money, Value::Object(m)) => {
                let field = self.field_name();
                let currency = match m.get("currency") {
                    Some(Value::String(c)) => Currency::parse(c, &field)?,
                    None | Some(Value::Null) => self.currency(),
                    Some(_) => return Err(err(key, "invalid_currency")),
                };
                match (m.get("minor"), m.get("amount")) {
                    (Some(Value::Number(n)), _) => {
                        n.as_i64().map(|minor| money_value(Money::new(minor, currency))).ok_or_else(wrong)
                    }
                    (_, Some(Value::String(a))) => Money::parse(a, currency, &field).map(money_value),
                    (_, Some(Value::Number(a))) => Money::parse(&a.to_string(), currency, &field).map(money_value),
                    _ => Err(wrong()),
                }
            }
            (FieldKind::Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
            (FieldKind::Bool, Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(false.into()),
                Some(1) => Ok(true.into()),
                _ => Err(wrong()),
            },
            (FieldKind::MultiSelect, Value::Array(items)) => {
                let mut out: Vec<String> = Vec::new();
                for it in items {
                    let o = it.as_str().and_then(|s| self.option(s)).ok_or_else(|| err(key, "invalid_choice"))?;
                    if !out.contains(&o) {
                        out.push(o);
                    }
                }
                Ok(if out.is_empty() { Value::Null } else { Value::from(out) })
            }
            (FieldKind::Text | FieldKind::LongText, Value::Number(n)) => self.parse_text(&n.to_string(), country),
            _ => Err(wrong()),
        }
    }

    /// The text form of a stored value, which [`FieldDef::parse_text`] reads back to the same
    /// value (forms, export, plain display). `Null` is empty.
    #[must_use]
    pub fn text(&self, v: &Value) -> String {
        match (self.kind, v) {
            (_, Value::Null) => String::new(),
            (FieldKind::Bool, Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
            (FieldKind::Money, Value::Object(m)) => {
                let minor = m.get("minor").and_then(Value::as_i64).unwrap_or_default();
                let cur = m.get("currency").and_then(Value::as_str).and_then(|c| Currency::parse(c, "c").ok());
                match cur {
                    Some(c) => Money::new(minor, c).to_string(),
                    None => String::new(),
                }
            }
            (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        }
    }

    /// The value for people in `lang` (`ru` or `en`): amounts formatted, yes/no translated,
    /// date-times with a space. Links and users show their ids (the web layer resolves them).
    #[must_use]
    pub fn display(&self, v: &Value, lang: &str) -> String {
        let ru = lang.starts_with("ru");
        match (self.kind, v) {
            (FieldKind::Bool, Value::Bool(b)) => match (ru, b) {
                (true, true) => "Да",
                (true, false) => "Нет",
                (false, true) => "Yes",
                (false, false) => "No",
            }
            .into(),
            (FieldKind::Money, Value::Object(m)) => {
                let minor = m.get("minor").and_then(Value::as_i64).unwrap_or_default();
                let cur = m.get("currency").and_then(Value::as_str).and_then(|c| Currency::parse(c, "c").ok());
                cur.map(|c| Money::new(minor, c).format(lang)).unwrap_or_default()
            }
            (FieldKind::DateTime, Value::String(s)) => s.replace('T', " "),
            (FieldKind::MultiSelect, Value::Array(items)) => {
                items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
            }
            _ => self.text(v),
        }
    }

    /// The words this value adds to the record's search text (textual kinds only).
    #[must_use]
    pub fn search_words(&self, v: &Value) -> String {
        if !self.kind.is_textual() {
            return String::new();
        }
        match self.kind {
            FieldKind::Phone => digits(&self.text(v)),
            FieldKind::Email | FieldKind::Url => self.text(v).to_lowercase(),
            _ => norm(&self.text(v)),
        }
    }

    /// A stored value `v` converted to `kind` (with `options`): the JSON value itself when it
    /// fits, else its text form parsed as the new kind. `None` when the value would be lost.
    #[must_use]
    pub fn convert(&self, v: &Value, kind: FieldKind, options: &[String], country: &str) -> Option<Value> {
        if v.is_null() {
            return Some(Value::Null);
        }
        let to = FieldDef { kind, options: options.to_vec(), ..self.clone() };
        match to.parse_json(v, country) {
            Ok(x) if !x.is_null() => Some(x),
            _ => to.parse_text(&self.text(v), country).ok().filter(|x| !x.is_null()),
        }
    }

    /// True when a stored value `v` still parses as a value of `kind` (with `options`), so
    /// changing the field to that kind would not lose it.
    #[must_use]
    pub fn converts_to(&self, v: &Value, kind: FieldKind, options: &[String], country: &str) -> bool {
        self.convert(v, kind, options, country).is_some()
    }
}

/// The words of a record's textual custom values, for its search text (space-separated).
#[must_use]
pub fn search_text(defs: &[FieldDef], values: &Map<String, Value>) -> String {
    defs.iter()
        .filter_map(|d| values.get(&d.key).map(|v| d.search_words(v)))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks a raw custom map against the definitions of its entity.
///
/// `defs` should be every definition, active or not: values of inactive fields are kept as
/// they are (neither checked nor required), keys with no definition are rejected
/// (`custom.<key>` `unknown_field`). Active fields are parsed ([`FieldDef::parse_json`]);
/// `required` is enforced; on create, an absent or empty value gets the field's default.
/// Empty values are dropped from the result.
///
/// # Errors
/// Every failing field.
pub fn check(
    defs: &[FieldDef],
    raw: &Map<String, Value>,
    creating: bool,
    country: &str,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut out = Map::new();
    for (k, v) in raw {
        let Some(d) = defs.iter().find(|d| &d.key == k) else {
            errs.push(err(k, "unknown_field"));
            continue;
        };
        if !d.active {
            if !v.is_null() {
                out.insert(k.clone(), v.clone());
            }
            continue;
        }
        match d.parse_json(v, country) {
            Ok(Value::Null) => {}
            Ok(x) => {
                out.insert(k.clone(), x);
            }
            Err(e) => errs.push(e),
        }
    }
    for d in defs.iter().filter(|d| d.active) {
        if out.contains_key(&d.key) || errs.iter().any(|e| e.field == d.field_name()) {
            continue;
        }
        if creating && !d.default_value.trim().is_empty() {
            match d.parse_text(&d.default_value, country) {
                Ok(Value::Null) => {}
                Ok(x) => {
                    out.insert(d.key.clone(), x);
                    continue;
                }
                Err(e) => {
                    errs.push(e);
                    continue;
                }
            }
        }
        if d.required {
            errs.push(err(&d.key, "required"));
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(key: &str, kind: FieldKind) -> FieldDef {
        FieldDef {
            id: "1".into(),
            entity: Entity::Contact,
            key: key.into(),
            kind,
            label_en: key.into(),
            label_ru: String::new(),
            help: String::new(),
            required: false,
            default_value: String::new(),
            options: vec!["Gold".into(), "Silver, plated".into(), "Bronze".into()],
            target: None,
            position: 0,
            active: true,
            version: 1,
        }
    }

    #[test]
    fn every_kind_round_trips_through_its_text_form() {
        let cases: &[(FieldKind, &str, Value)] = &[
            (FieldKind::Text, " hello ", json!("hello")),
            (FieldKind::LongText, "a\r\nb", json!("a\nb")),
            (FieldKind::Number, "1 234,5", json!(1234.5)),
            (FieldKind::Number, "42", json!(42)),
            (FieldKind::Money, "1 234,50", json!({"minor": 123_450, "currency": "RUB"})),
            (FieldKind::Money, "10 usd", json!({"minor": 1000, "currency": "USD"})),
            (FieldKind::Date, "31.12.2024", json!("2024-12-31")),
            (FieldKind::DateTime, "2024-12-31 9:05:10", json!("2024-12-31T09:05")),
            (FieldKind::Bool, "да", json!(true)),
            (FieldKind::Bool, "no", json!(false)),
            (FieldKind::Select, "gold", json!("Gold")),
            (FieldKind::MultiSelect, "bronze; Silver, plated", json!(["Bronze", "Silver, plated"])),
            (FieldKind::MultiSelect, "Gold, Bronze", json!(["Gold", "Bronze"])),
            (FieldKind::Url, "example.com", json!("https://example.com")),
            (FieldKind::Email, "A@X.RU", json!("A@x.ru")),
            (FieldKind::Phone, "8 916 123-45-67", json!("+79161234567")),
            (FieldKind::User, "u1", json!("u1")),
            (FieldKind::Link, "r1", json!("r1")),
        ];
        for (kind, typed, stored) in cases {
            let d = def("f", *kind);
            let v = d.parse_text(typed, "RU").unwrap_or_else(|e| panic!("{kind:?} {typed}: {e}"));
            assert_eq!(&v, stored, "{kind:?} {typed}");
            assert_eq!(d.parse_text(&d.text(&v), "RU").as_ref(), Ok(stored), "{kind:?} round trip");
        }
    }

    #[test]
    fn bad_values_name_the_custom_field() {
        let bad: &[(FieldKind, &str, &str)] = &[
            (FieldKind::Number, "12abc", "invalid_number"),
            (FieldKind::Money, "ten", "invalid_money"),
            (FieldKind::Money, "10 XYZ", "invalid_currency"),
            (FieldKind::Date, "2024-02-30", "invalid_date"),
            (FieldKind::DateTime, "2024-02-03 25:00", "invalid_datetime"),
            (FieldKind::Bool, "maybe", "invalid_bool"),
            (FieldKind::Select, "Platinum", "invalid_choice"),
            (FieldKind::MultiSelect, "Gold; Tin", "invalid_choice"),
            (FieldKind::Url, "not a url", "invalid_url"),
            (FieldKind::Email, "nobody", "invalid_email"),
            (FieldKind::Phone, "call me", "invalid_phone"),
        ];
        for (kind, typed, code) in bad {
            let e = def("budget", *kind).parse_text(typed, "RU").expect_err(typed);
            assert_eq!((e.field.as_str(), e.code), ("custom.budget", *code), "{kind:?} {typed}");
        }
        assert_eq!(def("x", FieldKind::Text).parse_text("  ", "RU"), Ok(Value::Null));
    }

    #[test]
    fn json_values_are_accepted_where_they_fit() {
        let n = def("n", FieldKind::Number);
        assert_eq!(n.parse_json(&json!(2.5), "RU"), Ok(json!(2.5)));
        assert!(n.parse_json(&json!(true), "RU").is_err());
        let m = def("m", FieldKind::Money);
        assert_eq!(
            m.parse_json(&json!({"amount": "5.5", "currency": "eur"}), "RU"),
            Ok(json!({"minor": 550, "currency": "EUR"}))
        );
        assert_eq!(
            m.parse_json(&json!({"minor": 7, "currency": "RUB"}), "RU"),
            Ok(json!({"minor": 7, "currency": "RUB"}))
        );
        let b = def("b", FieldKind::Bool);
        assert_eq!(b.parse_json(&json!(false), "RU"), Ok(json!(false)));
        let ms = def("ms", FieldKind::MultiSelect);
        assert_eq!(ms.parse_json(&json!(["gold", "Gold", "Bronze"]), "RU"), Ok(json!(["Gold", "Bronze"])));
        assert_eq!(ms.parse_json(&json!([]), "RU"), Ok(Value::Null));
        assert!(ms.parse_json(&json!([1]), "RU").is_err());
    }

    #[test]
    fn check_rejects_unknown_keys_enforces_required_and_applies_defaults_on_create() {
        let mut req = def("level", FieldKind::Select);
        req.required = true;
        let mut dflt = def("score", FieldKind::Number);
        dflt.default_value = "10".into();
        let mut old = def("legacy", FieldKind::Email);
        old.active = false;
        let defs = vec![req, dflt, old];
        let raw: Map<String, Value> =
            serde_json::from_value(json!({"nope": 1, "legacy": "kept as is"})).expect("a JSON object");
        let errs = check(&defs, &raw, true, "RU").expect_err("must fail");
        let got: Vec<_> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(got, [("custom.nope", "unknown_field"), ("custom.level", "required")]);
        let raw: Map<String, Value> =
            serde_json::from_value(json!({"level": "silver, plated", "legacy": "x"})).expect("a JSON object");
        let ok = check(&defs, &raw, true, "RU").expect("valid");
        assert_eq!(Value::Object(ok), json!({"level": "Silver, plated", "score": 10, "legacy": "x"}));
        let ok = check(&defs, &raw, false, "RU").expect("valid");
        assert!(!ok.contains_key("score"), "defaults only on create");
    }

    #[test]
    fn keys_are_made_from_labels() {
        assert_eq!(key_from_label("Annual budget (RUB)"), "annual_budget_rub");
        assert_eq!(key_from_label("Бюджет"), "byudzhet");
        assert_eq!(key_from_label("2nd phone"), "f_2nd_phone");
        assert_eq!(key_from_label("!!!"), "field");
        assert!(valid_key("annual_budget_rub"));
        assert!(!valid_key("a'b"));
    }

    #[test]
    fn conversions_know_which_values_survive() {
        let t = def("t", FieldKind::Text);
        assert!(t.converts_to(&json!("42"), FieldKind::Number, &[], "RU"));
        assert!(!t.converts_to(&json!("forty"), FieldKind::Number, &[], "RU"));
        let n = def("n", FieldKind::Number);
        assert!(n.converts_to(&json!(42), FieldKind::Text, &[], "RU"));
        let s = def("s", FieldKind::Select);
        assert!(s.converts_to(&json!("Gold"), FieldKind::MultiSelect, &s.options, "RU"));
        assert!(!s.converts_to(&json!("Gold"), FieldKind::Select, &["Bronze".to_string()], "RU"));
        assert!(t.converts_to(&json!("a@x.ru"), FieldKind::Email, &[], "RU"));
    }

    #[test]
    fn search_text_takes_textual_values_only() {
        let defs = vec![def("note", FieldKind::Text), def("n", FieldKind::Number), def("p", FieldKind::Phone)];
        let vals: Map<String, Value> =
            serde_json::from_value(json!({"note": "Ёжик В тумане", "n": 5, "p": "+79161234567"}))
                .expect("a JSON object");
        assert_eq!(search_text(&defs, &vals), "ежик в тумане 79161234567");
    }
}
