//! Values that are parsed once at the edge and trusted afterwards.

use serde::Serialize;
use std::fmt;

/// One field's input problem: the field's name and a stable error code. The web layer turns
/// the code into a message in the user's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form / JSON field that failed.
    pub field: String,
    /// A stable code such as `invalid_email`.
    pub code: &'static str,
}

impl FieldError {
    /// A new error for `field`.
    #[must_use]
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self { field: field.into(), code }
    }

    /// An English message for the code, used by the API and logs.
    #[must_use]
    pub fn message(&self) -> &'static str {
        match self.code {
            "required" => "this field is required",
            "invalid_email" => "not a valid e-mail address",
            "invalid_phone" => "not a valid phone number",
            "invalid_url" => "not a valid web address",
            "invalid_date" => "not a valid date (YYYY-MM-DD)",
            "invalid_choice" => "not one of the allowed values",
            "too_long" => "too long",
            "not_found" => "the referenced record does not exist",
            "password_too_short" => "the password must be at least 12 characters",
            "cycle" => "a record cannot be its own parent",
            "invalid_money" => "not a valid amount",
            "invalid_currency" => "not a known currency code",
            "invalid_quantity" => "not a valid quantity",
            "invalid_discount" => "not a valid discount (0–100 %)",
            "too_large" => "too large",
            "duplicate" => "given twice",
            "required_for_stage" => "required to enter this stage",
            "deal_closed" => "the deal is closed: reopen it first",
            "deal_open" => "the deal is open",
            "unknown_field" => "no such custom field",
            "invalid_number" => "not a valid number",
            "invalid_datetime" => "not a valid date and time (YYYY-MM-DDTHH:MM)",
            "invalid_bool" => "not yes or no",
            "would_lose_values" => "existing values would be lost by this change",
            _ => "invalid value",
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

/// An e-mail address, trimmed and with its domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    /// Parses an address; `field` names the input in the error.
    ///
    /// # Errors
    /// `invalid_email` when the text is not a plausible address.
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let err = || FieldError::new(field, "invalid_email");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';') {
            return Err(err());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(err)?;
        if local.is_empty() || local.contains('@') || domain.len() < 3 || !domain.contains('.') {
            return Err(err());
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(err());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+79161234567`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phone(String);

/// The calling code of a country (ISO 3166 alpha-2) used for numbers typed without one.
#[must_use]
pub fn calling_code(country: &str) -> &'static str {
    match country.to_ascii_uppercase().as_str() {
        "UA" => "380",
        "BY" => "375",
        "US" | "CA" => "1",
        "GB" => "44",
        "DE" => "49",
        "FR" => "33",
        "PL" => "48",
        "IT" => "39",
        "ES" => "34",
        _ => "7",
    }
}

impl Phone {
    /// Parses a number typed with any formatting; national numbers get the calling code of
    /// `country` (the tenant's default).
    ///
    /// # Errors
    /// `invalid_phone` when the text has letters or a wrong number of digits.
    pub fn parse(s: &str, country: &str, field: &str) -> Result<Self, FieldError> {
        let err = || FieldError::new(field, "invalid_phone");
        let s = s.trim();
        if s.chars().any(|c| !(c.is_ascii_digit() || " +-()./".contains(c))) {
            return Err(err());
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let international = if s.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else {
            let cc = calling_code(country);
            if cc == "7" && digits.len() == 11 && (digits.starts_with('8') || digits.starts_with('7')) {
                format!("7{}", &digits[1..])
            } else if digits.starts_with(cc) && digits.len() > 10 {
                digits
            } else if let Some(rest) = digits.strip_prefix('0') {
                format!("{cc}{rest}")
            } else {
                format!("{cc}{digits}")
            }
        };
        if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(err());
        }
        Ok(Self(format!("+{international}")))
    }

    /// The number in E.164 form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A web address; a bare domain gets `https://`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebUrl(String);

impl WebUrl {
    /// Parses an http(s) address.
    ///
    /// # Errors
    /// `invalid_url` for anything that is not an http(s) URL with a host.
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let err = || FieldError::new(field, "invalid_url");
        let full = if s.contains("://") { s.to_string() } else { format!("https://{s}") };
        let u = url::Url::parse(&full).map_err(|_| err())?;
        let host = u.host_str().unwrap_or_default();
        if !matches!(u.scheme(), "http" | "https") || !host.contains('.') || s.contains(' ') {
            return Err(err());
        }
        Ok(Self(u.to_string().trim_end_matches('/').to_string()))
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date, stored as `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IsoDate(String);

impl IsoDate {
    /// Parses `YYYY-MM-DD` or the Russian `DD.MM.YYYY`.
    ///
    /// # Errors
    /// `invalid_date` for anything else or an impossible date.
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let err = || FieldError::new(field, "invalid_date");
        let parts: Vec<&str> = if s.contains('.') { s.split('.').rev().collect() } else { s.split('-').collect() };
        let [y, m, d] = parts.as_slice() else { return Err(err()) };
        let (y, m, d): (i32, u8, u8) =
            (y.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?, d.parse().map_err(|_| err())?);
        let month = time::Month::try_from(m).map_err(|_| err())?;
        let date = time::Date::from_calendar_date(y, month, d).map_err(|_| err())?;
        if !(1800..=2200).contains(&y) {
            return Err(err());
        }
        Ok(Self(format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())))
    }

    /// The date as `YYYY-MM-DD`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_e164_with_the_default_country() {
        let p = |s| Phone::parse(s, "RU", "phone").map(|p| p.0);
        assert_eq!(p("8 (916) 123-45-67").as_deref(), Ok("+79161234567"));
        assert_eq!(p("+44 20 7946 0958").as_deref(), Ok("+442079460958"));
        assert_eq!(p("9161234567").as_deref(), Ok("+79161234567"));
        assert!(p("12").is_err());
        assert!(p("call me").is_err());
        assert_eq!(Phone::parse("044 123 4567", "UA", "p").map(|p| p.0).as_deref(), Ok("+380441234567"));
    }

    #[test]
    fn emails_are_checked_and_domains_lowered() {
        assert_eq!(Email::parse(" Ivan@Example.RU ", "e").map(|e| e.0).as_deref(), Ok("Ivan@example.ru"));
        for bad in ["", "ivan", "ivan@", "@x.ru", "a b@x.ru", "ivan@localhost", "a@x..ru"] {
            assert!(Email::parse(bad, "e").is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_parse_in_both_notations() {
        assert_eq!(IsoDate::parse("31.12.1990", "d").map(|d| d.0).as_deref(), Ok("1990-12-31"));
        assert_eq!(IsoDate::parse("1990-02-03", "d").map(|d| d.0).as_deref(), Ok("1990-02-03"));
        assert!(IsoDate::parse("1990-02-30", "d").is_err());
        assert!(IsoDate::parse("yesterday", "d").is_err());
    }

    #[test]
    fn urls_get_a_scheme() {
        assert_eq!(WebUrl::parse("example.com", "w").map(|u| u.0).as_deref(), Ok("https://example.com"));
        assert!(WebUrl::parse("not a url", "w").is_err());
        assert!(WebUrl::parse("ftp://x.com", "w").is_err());
    }
}
