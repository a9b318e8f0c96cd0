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
            "invalid_time_zone" => "not a known time zone (an IANA name such as Europe/Moscow)",
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

/// An e-mail address, trimmed and with its domain lower-cased, kept as typed: an
/// internationalised domain (`пример.рф`) stays in its own letters for people to read, and
/// [`Email::key`] gives the form that matches it whichever way it was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    /// Parses an address; `field` names the input in the error.
    ///
    /// # Errors
    /// `invalid_email` when the text is not a plausible address or its domain is not a valid
    /// (internationalised) domain name.
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let err = || FieldError::new(field, "invalid_email");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';') {
            return Err(err());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(err)?;
        if local.is_empty() || local.contains('@') || domain.chars().count() < 3 || !domain.contains('.') {
            return Err(err());
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(err());
        }
        let ascii = idna::domain_to_ascii(domain).map_err(|_| err())?;
        if ascii.len() > 253 || !ascii.contains('.') {
            return Err(err());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as typed (domain lower-cased).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two addresses are compared by: lower-cased, the domain in its ASCII (IDNA)
    /// spelling, so `Ivan@Пример.РФ` and `ivan@xn--e1afmkfd.xn--p1ai` are one address.
    #[must_use]
    pub fn key(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_string());
        format!("{}@{domain}", local.to_lowercase())
    }

    /// Every spelling of this address a store may hold (as typed, the ASCII and the Unicode
    /// domain), lower-cased, for looking an address up whichever way it was saved.
    #[must_use]
    pub fn spellings(&self) -> Vec<String> {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let local = local.to_lowercase();
        let ascii = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_string());
        let (unicode, _) = idna::domain_to_unicode(&ascii);
        let mut v = vec![
            format!("{local}@{}", domain.to_lowercase()),
            format!("{local}@{ascii}"),
            format!("{local}@{unicode}"),
        ];
        v.sort();
        v.dedup();
        v
    }
}

/// The matching key of an address typed anywhere (see [`Email::key`]); text that is not an
/// address is only lower-cased.
#[must_use]
pub fn email_key(s: &str) -> String {
    Email::parse(s, "").map_or_else(|_| s.trim().to_lowercase(), |e| e.key())
}

/// A phone number in E.164 form (`+79161234567`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phone(String);

/// The region whose numbering plan reads a number typed without a calling code: the
/// tenant's country (ISO 3166 alpha-2), Russia when it is not a known one.
fn region(country: &str) -> phonenumber::country::Id {
    country.trim().to_ascii_uppercase().parse().unwrap_or(phonenumber::country::Id::RU)
}

/// A calling code's numbering plans compiled once for this crate's own matching: the crate's
/// patterns live in one process-wide LRU cache behind a mutex that every match locks and
/// hashes the whole pattern text into, which made formatting the phones of a page a
/// noticeable share of its time.
struct Plan {
    /// Per plan of the code: the lengths it allows (empty: any) and its national-number
    /// pattern matching a whole number.
    general: Vec<(Vec<u16>, regex::Regex)>,
    /// The main plan's formats, in order.
    formats: Vec<Format>,
}

struct Format {
    /// The last (most specific) leading-digits pattern, anchored at the start.
    leading: Option<regex::Regex>,
    /// The whole-number pattern whose groups the format rearranges.
    pattern: regex::Regex,
    format: String,
}

/// `pattern` (laid out over several lines in the metadata) compiled to match `^(?:…)` and,
/// when `whole`, to the end as well.
fn anchored(pattern: &str, whole: bool) -> Option<regex::Regex> {
    let bare: String = pattern.chars().filter(|c| !c.is_whitespace()).collect();
    regex::Regex::new(&format!("^(?:{bare}){}", if whole { "$" } else { "" })).ok()
}

impl Plan {
    fn compile(cc: u16) -> Option<Self> {
        let metas = phonenumber::metadata::DATABASE.by_code(&cc)?;
        let general = metas
            .iter()
            .filter_map(|m| {
                let g = m.descriptors().general();
                Some((g.possible_length().to_vec(), anchored(g.national_number().as_str(), true)?))
            })
            .collect();
        let meta = metas.iter().find(|m| m.is_main_country_for_code()).or_else(|| metas.first())?;
        let formats =
            if meta.international_formats().is_empty() { meta.formats() } else { meta.international_formats() };
        let formats = formats
            .iter()
            .filter(|f| f.format() != "NA")
            .filter_map(|f| {
                Some(Format {
                    leading: match f.leading_digits().last() {
                        Some(ld) => Some(anchored(ld.as_str(), false)?),
                        None => None,
                    },
                    pattern: anchored(f.pattern().as_str(), true)?,
                    format: f.format().to_string(),
                })
            })
            .collect();
        Some(Self { general, formats })
    }

    /// The compiled plans of calling code `cc`, compiled on first use and kept.
    fn of(cc: u16) -> Option<std::sync::Arc<Self>> {
        use std::collections::HashMap;
        use std::sync::{Arc, PoisonError, RwLock};
        static PLANS: RwLock<Option<HashMap<u16, Option<Arc<Plan>>>>> = RwLock::new(None);
        if let Some(found) = PLANS.read().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(|m| m.get(&cc)) {
            return found.clone();
        }
        let plan = Self::compile(cc).map(Arc::new);
        PLANS.write().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(HashMap::new).insert(cc, plan.clone());
        plan
    }
}

/// Whether the numbering plan of calling code `cc` has `national` as an assignable number:
/// its length is one the plan allows and the plan's pattern matches the whole of it (the
/// crate's own `Descriptor::is_match` only anchors the start).
fn plan_knows(cc: u16, national: &str) -> bool {
    let Some(plan) = Plan::of(cc) else { return false };
    let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
    plan.general.iter().any(|(lengths, re)| (lengths.is_empty() || lengths.contains(&len)) && re.is_match(national))
}

/// A national number grouped by its plan's formats (`916 123-45-67`), done here rather than
/// by the crate, which cannot hold a number whose first digit is also the trunk prefix.
fn group(cc: u16, national: &str) -> Option<String> {
    let plan = Plan::of(cc)?;
    plan.formats.iter().find_map(|f| {
        let leads = f.leading.as_ref().is_none_or(|ld| ld.is_match(national));
        (leads && f.pattern.is_match(national)).then(|| f.pattern.replace(national, f.format.as_str()).into_owned())
    })
}

/// Splits an E.164 number into its calling code and national number, by the calling codes
/// the plans know (one to three digits).
fn split_e164(e164: &str) -> Option<(u16, &str)> {
    let digits = e164.strip_prefix('+')?;
    (1..=3).filter(|n| *n < digits.len()).find_map(|n| {
        let cc: u16 = digits[..n].parse().ok()?;
        Plan::of(cc).map(|_| (cc, &digits[n..]))
    })
}

fn known(e164: &str) -> bool {
    split_e164(e164).is_some_and(|(cc, national)| plan_knows(cc, national))
}

impl Phone {
    /// Parses a number typed with any formatting, by the numbering plans of every country
    /// (libphonenumber's metadata through the `phonenumber` crate): a national number is read
    /// by the plan of `country` (the tenant's), with its trunk prefix (`8` in Russia and
    /// Kazakhstan, `0` in most of Europe) understood.
    ///
    /// The crate also strips a trunk prefix that is really the start of the number
    /// (`+7 812…`, `8 800…`: rust-phonenumber issue 76), so the reading as typed is tried
    /// too and whichever the plan knows is kept. A number no plan knows is still accepted
    /// when it has the length of an international number (8 to 15 digits): plans grow faster
    /// than metadata does, and refusing a customer's real number is worse than keeping an odd
    /// one.
    ///
    /// # Errors
    /// `invalid_phone` when the text has letters or cannot be a phone number.
    pub fn parse(s: &str, country: &str, field: &str) -> Result<Self, FieldError> {
        let err = || FieldError::new(field, "invalid_phone");
        let s = s.trim();
        if s.is_empty() || s.chars().any(|c| !(c.is_ascii_digit() || " +-()./".contains(c))) {
            return Err(err());
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        // `00` is the international prefix nearly everywhere, whatever the local plan says.
        let international = s.starts_with('+') || digits.starts_with("00");
        let digits = if s.starts_with('+') { digits } else { digits.strip_prefix("00").unwrap_or(&digits).to_string() };
        let region = region(country);
        let plan = phonenumber::metadata::DATABASE.by_id(region.as_ref());
        let cc = plan.map_or(7, phonenumber::Metadata::country_code);
        let as_typed = if international {
            format!("+{digits}")
        } else {
            let trunk = plan.and_then(phonenumber::Metadata::national_prefix).unwrap_or("");
            match digits.strip_prefix(trunk).filter(|_| !trunk.is_empty()) {
                Some(rest) => format!("+{cc}{rest}"),
                None if digits.starts_with(&cc.to_string()) && digits.len() > 10 => format!("+{digits}"),
                None => format!("+{cc}{digits}"),
            }
        };
        let typed = if international { format!("+{digits}") } else { digits.clone() };
        let by_crate =
            phonenumber::parse(Some(region), &typed).ok().map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
        // "+44 (0) 20…": a trunk prefix written after the calling code out of habit.
        let trunk_after_code = split_e164(&as_typed).and_then(|(cc, national)| {
            let metas = phonenumber::metadata::DATABASE.by_code(&cc)?;
            let trunk = metas.first()?.national_prefix()?;
            national.strip_prefix(trunk).map(|rest| format!("+{cc}{rest}"))
        });
        let chosen = [Some(as_typed.clone()), by_crate, trunk_after_code]
            .into_iter()
            .flatten()
            .find(|c| known(c))
            .unwrap_or(as_typed);
        let len = chosen.len().saturating_sub(1);
        if !(8..=15).contains(&len) || chosen.starts_with("+0") {
            return Err(err());
        }
        Ok(Self(chosen))
    }

    /// Whether the numbering plan knows this number as one that can be assigned.
    #[must_use]
    pub fn is_known(&self) -> bool {
        known(&self.0)
    }

    /// The number in E.164 form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a stored number is one some numbering plan knows (a number kept as typed by the
/// re-reading migration, or accepted by length alone, is not).
#[must_use]
pub fn phone_known(stored: &str) -> bool {
    known(stored)
}

/// A stored number as people write it: international format grouped by its country's plan
/// (`+7 916 123-45-67`, `+49 30 1234567`); text that is not a number comes back as it is.
#[must_use]
pub fn format_phone(stored: &str) -> String {
    match split_e164(stored) {
        Some((cc, national)) => match group(cc, national) {
            Some(g) => format!("+{cc} {g}"),
            None => format!("+{cc} {national}"),
        },
        None => stored.to_string(),
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
        assert_eq!(p("+7 916 123 45 67").as_deref(), Ok("+79161234567"));
        assert_eq!(p("9161234567").as_deref(), Ok("+79161234567"));
        assert_eq!(p("0049 30 1234567").as_deref(), Ok("+49301234567"));
        assert!(p("12").is_err());
        assert!(p("call me").is_err());
        assert_eq!(Phone::parse("044 123 4567", "UA", "p").map(|p| p.0).as_deref(), Ok("+380441234567"));
    }

    #[test]
    fn every_country_reads_its_own_national_numbers() {
        let cases = [
            ("DE", "030 1234567", "+49301234567"),
            ("GB", "07911 123456", "+447911123456"),
            ("US", "(212) 555-0123", "+12125550123"),
            ("CN", "138 0013 8000", "+8613800138000"),
            ("KZ", "8 701 123 4567", "+77011234567"),
            ("FR", "01 23 45 67 89", "+33123456789"),
            ("BR", "(11) 91234-5678", "+5511912345678"),
            ("IN", "098765 43210", "+919876543210"),
            ("JP", "03-1234-5678", "+81312345678"),
        ];
        for (country, typed, e164) in cases {
            assert_eq!(Phone::parse(typed, country, "p").map(|p| p.0).as_deref(), Ok(e164), "{country} {typed}");
        }
    }

    #[test]
    fn stored_numbers_show_grouped_by_their_countrys_plan() {
        assert_eq!(format_phone("+79161234567"), "+7 916 123-45-67");
        assert_eq!(format_phone("+49301234567"), "+49 30 1234567");
        assert_eq!(format_phone("+12125550123"), "+1 212-555-0123");
        assert_eq!(format_phone("not a number"), "not a number");
        assert!(Phone::parse("+79161234567", "RU", "p").is_ok_and(|p| p.is_known()));
        assert_eq!(format_phone("+78125551234"), "+7 812 555-12-34");
    }

    #[test]
    fn a_trunk_digit_that_starts_the_number_is_kept() {
        let p = |s| Phone::parse(s, "RU", "phone").map(|p| p.0);
        assert_eq!(p("+7 (812) 555-12-34").as_deref(), Ok("+78125551234"));
        assert_eq!(p("8 (812) 555 12 34").as_deref(), Ok("+78125551234"));
        assert_eq!(p("8 800 100-20-30").as_deref(), Ok("+78001002030"));
        assert_eq!(p("88001002030").as_deref(), Ok("+78001002030"));
        assert_eq!(Phone::parse("+44 (0) 20 7946 0958", "RU", "p").map(|p| p.0).as_deref(), Ok("+442079460958"));
    }

    #[test]
    fn emails_are_checked_and_domains_lowered() {
        assert_eq!(Email::parse(" Ivan@Example.RU ", "e").map(|e| e.0).as_deref(), Ok("Ivan@example.ru"));
        for bad in ["", "ivan", "ivan@", "@x.ru", "a b@x.ru", "ivan@localhost", "a@x..ru", "a@xn--.ru"] {
            assert!(Email::parse(bad, "e").is_err(), "{bad}");
        }
    }

    #[test]
    fn internationalised_domains_are_shown_as_typed_and_matched_in_ascii() {
        let typed = Email::parse("Иван@Пример.РФ", "e").expect("an IDN address parses");
        assert_eq!(typed.as_str(), "Иван@пример.рф");
        assert_eq!(typed.key(), "иван@xn--e1afmkfd.xn--p1ai");
        assert_eq!(email_key("иван@XN--E1AFMKFD.xn--p1ai"), typed.key());
        assert_eq!(email_key("Anna@Example.COM"), "anna@example.com");
        assert_eq!(typed.spellings(), ["иван@xn--e1afmkfd.xn--p1ai", "иван@пример.рф"]);
        assert_eq!(email_key("not an address"), "not an address");
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
