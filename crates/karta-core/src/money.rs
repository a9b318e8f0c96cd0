//! Money, quantities and discounts as exact integers.
//!
//! Amounts are always whole minor units (`i64` kopecks, cents, yen); quantities are thousandths
//! of a unit and discounts are hundredths of a percent (basis points). Nothing here uses
//! floating point, so parsing, display and arithmetic are exact.
//!
//! Rounding happens in exactly one place: [`line_total`] rounds each line to a whole minor unit
//! (half away from zero). A deal's amount is then the exact integer sum of its rounded line
//! totals ([`sum_totals`]), so the total always equals what the lines show and there is no
//! rounding drift between lines and total.

use crate::values::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Characters accepted as thousands separators in typed numbers: spaces (plain, no-break,
/// narrow no-break, thin) and apostrophes (straight and typographic).
const GROUP_CHARS: [char; 6] = [' ', '\u{00A0}', '\u{202F}', '\u{2009}', '\'', '\u{2019}'];

/// The largest quantity, in thousandths: one billion units.
const MAX_QUANTITY_MILLI: i64 = 1_000_000_000 * 1000;

/// The largest discount, in basis points: 100 %.
const MAX_DISCOUNT_BP: i64 = 10_000;

/// A currency from Karta's built-in table, identified by its ISO 4217 code.
///
/// Serialises as the upper-case code (`"RUB"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Russian rouble.
    Rub,
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Ukrainian hryvnia.
    Uah,
    /// Kazakhstani tenge.
    Kzt,
    /// Belarusian rouble.
    Byn,
    /// Chinese yuan.
    Cny,
    /// Pound sterling.
    Gbp,
    /// Japanese yen (no minor unit).
    Jpy,
    /// Swiss franc.
    Chf,
    /// Turkish lira.
    Try,
    /// UAE dirham.
    Aed,
}

impl Currency {
    /// Every known currency, in the order a select box shows them.
    pub const ALL: [Currency; 12] = [
        Currency::Rub,
        Currency::Usd,
        Currency::Eur,
        Currency::Uah,
        Currency::Kzt,
        Currency::Byn,
        Currency::Cny,
        Currency::Gbp,
        Currency::Jpy,
        Currency::Chf,
        Currency::Try,
        Currency::Aed,
    ];

    /// Parses a currency code: trimmed, case-insensitive, and only codes from [`Currency::ALL`].
    ///
    /// # Errors
    /// `invalid_currency` when the text is not three letters naming a known currency.
    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(FieldError::new(field, "invalid_currency"));
        }
        Self::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| FieldError::new(field, "invalid_currency"))
    }

    /// The ISO 4217 code, such as `RUB`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Rub => "RUB",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Uah => "UAH",
            Currency::Kzt => "KZT",
            Currency::Byn => "BYN",
            Currency::Cny => "CNY",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Chf => "CHF",
            Currency::Try => "TRY",
            Currency::Aed => "AED",
        }
    }

    /// How many decimal digits the minor unit has (2 for kopecks and cents, 0 for yen).
    #[must_use]
    pub const fn digits(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    /// The symbol shown next to amounts, such as `₽`; the code itself where there is no
    /// common symbol.
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        match self {
            Currency::Rub => "₽",
            Currency::Usd => "$",
            Currency::Eur => "€",
            Currency::Uah => "₴",
            Currency::Kzt => "₸",
            Currency::Byn => "Br",
            Currency::Cny | Currency::Jpy => "¥",
            Currency::Gbp => "£",
            Currency::Chf => "CHF",
            Currency::Try => "₺",
            Currency::Aed => "AED",
        }
    }

    /// Whether English display puts the symbol before the number (`$1.00`) rather than the
    /// code after it (`1.00 RUB`).
    const fn symbol_first_in_english(self) -> bool {
        matches!(self, Currency::Usd | Currency::Eur | Currency::Gbp | Currency::Jpy | Currency::Cny)
    }

    /// Minor units per major unit: `10^digits`.
    fn scale(self) -> i128 {
        10_i128.pow(self.digits())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money: whole minor units of one currency.
///
/// Display goes through [`Money::format`] (for people) or [`Money::amount_text`] (for form
/// fields and CSV); `Display` itself gives the machine form with the code, `1234.56 RUB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// The amount in minor units (kopecks, cents; yen for JPY).
    pub minor: i64,
    /// The currency the amount is in.
    pub currency: Currency,
}

impl Money {
    /// An amount of `minor` units of `currency`.
    #[must_use]
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a typed amount in `currency`; `field` names the input in the error.
    ///
    /// Accepts an optional leading `-`, digits, thousands separators (spaces, no-break spaces,
    /// apostrophes, and `,` or `.`) and one decimal separator (`,` or `.`):
    /// `1234`, `1 234,56`, `1,234.56`, `1.234.567,89`, `1'234.5`.
    ///
    /// How `,` and `.` are told apart:
    /// - when both occur, the last one is the decimal separator and the other groups thousands;
    /// - `.` alone is a decimal separator when it occurs once and groups thousands otherwise;
    /// - `,` alone groups thousands when it occurs more than once, or when it occurs once,
    ///   is followed by exactly three digits and there is no other separator (`1,234` is one
    ///   thousand two hundred and thirty-four); otherwise it is a decimal separator.
    ///
    /// Thousands groups must have three digits. Currency symbols and codes are not accepted.
    ///
    /// # Errors
    /// `invalid_money` for empty or malformed text, or more decimals than the currency has
    /// (no silent rounding); `too_large` when the amount does not fit in minor units.
    pub fn parse(text: &str, currency: Currency, field: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new(field, "invalid_money");
        let text = text.trim();
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_text, frac) = split_amount(body).ok_or_else(invalid)?;
        let int_digits = ungroup(int_text, true).ok_or_else(invalid)?;
        if int_digits.is_empty() && frac.is_none() {
            return Err(invalid());
        }
        let frac = frac.unwrap_or("");
        let digits = currency.digits();
        let frac_len = u32::try_from(frac.len()).map_err(|_| invalid())?;
        if frac_len > digits || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let too_large = || FieldError::new(field, "too_large");
        let whole = digits_value(&int_digits).ok_or_else(too_large)?;
        let frac_value = digits_value(frac).ok_or_else(too_large)?;
        let minor = whole
            .checked_mul(currency.scale())
            .and_then(|m| m.checked_add(frac_value * 10_i128.pow(digits - frac_len)))
            .ok_or_else(too_large)?;
        let minor = if negative { -minor } else { minor };
        let minor = i64::try_from(minor).map_err(|_| too_large())?;
        Ok(Self { minor, currency })
    }

    /// The plain machine form of an amount, for form fields and CSV: a dot before the minor
    /// digits and no grouping (`1234.56`, `-0.05`, `1234` for yen). [`Money::parse`] reads it
    /// back unchanged.
    #[must_use]
    pub fn amount_text(minor: i64, currency: Currency) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let (whole, frac) = split_minor(minor.unsigned_abs(), currency.digits());
        match frac {
            Some(frac) => format!("{sign}{whole}.{frac}"),
            None => format!("{sign}{whole}"),
        }
    }

    /// The amount for people in `locale` (`ru`, `en`, `ru-RU`, ...).
    ///
    /// Russian (also Ukrainian, Belarusian and Kazakh) style: `1 234 567,89 ₽` with a narrow
    /// no-break space between thousands and a no-break space before the symbol. Everything
    /// else uses English style: `$1,234.56` for USD, EUR, GBP, JPY and CNY, and
    /// `1,234.56 RUB` (no-break space, then the code) for the other currencies. Yen shows no
    /// decimals; negative amounts start with `-`.
    #[must_use]
    pub fn format(&self, locale: &str) -> String {
        let lang = locale.split(['-', '_']).next().unwrap_or_default().trim().to_ascii_lowercase();
        let sign = if self.minor < 0 { "-" } else { "" };
        let (whole, frac) = split_minor(self.minor.unsigned_abs(), self.currency.digits());
        let russian = matches!(lang.as_str(), "ru" | "uk" | "be" | "kk");
        let whole = group_thousands(&whole, if russian { '\u{202F}' } else { ',' });
        let number = match frac {
            Some(frac) if russian => format!("{whole},{frac}"),
            Some(frac) => format!("{whole}.{frac}"),
            None => whole,
        };
        if russian {
            format!("{sign}{number}\u{00A0}{}", self.currency.symbol())
        } else if self.currency.symbol_first_in_english() {
            format!("{sign}{}{number}", self.currency.symbol())
        } else {
            format!("{sign}{number}\u{00A0}{}", self.currency.code())
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", Self::amount_text(self.minor, self.currency), self.currency)
    }
}

/// A positive quantity in thousandths of a unit (`2.5` is 2500), at most one billion units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct Quantity(i64);

impl Quantity {
    /// Exactly one unit.
    pub const ONE: Quantity = Quantity(1000);

    /// Parses a typed quantity: `1`, `2.5`, `2,5`, `0.125`, `1 000`.
    ///
    /// # Errors
    /// `invalid_quantity` for malformed text, more than three decimals, zero or negative
    /// quantities, or more than one billion units.
    pub fn parse(text: &str, field: &str) -> Result<Self, FieldError> {
        parse_plain_decimal(text.trim(), 3)
            .and_then(Self::from_milli)
            .ok_or_else(|| FieldError::new(field, "invalid_quantity"))
    }

    /// A quantity from thousandths (as stored), or `None` when out of range.
    #[must_use]
    pub fn from_milli(milli: i64) -> Option<Self> {
        (1..=MAX_QUANTITY_MILLI).contains(&milli).then_some(Self(milli))
    }

    /// The quantity in thousandths of a unit.
    #[must_use]
    pub const fn milli(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Quantity {
    /// Shortest exact decimal: `2.5`, `3`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&trimmed_decimal(self.0, 3))
    }
}

/// A discount in hundredths of a percent (basis points): `12.5 %` is 1250, from 0 to 10000.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct Discount(i64);

impl Discount {
    /// No discount.
    pub const NONE: Discount = Discount(0);

    /// Parses a typed percentage: `10`, `12.5`, `12,5 %`, `0`.
    ///
    /// # Errors
    /// `invalid_discount` for malformed text, more than two decimals, or a value outside
    /// 0–100 %.
    pub fn parse(text: &str, field: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let text = text.strip_suffix('%').map_or(text, str::trim_end);
        parse_plain_decimal(text, 2).and_then(Self::from_bp).ok_or_else(|| FieldError::new(field, "invalid_discount"))
    }

    /// A discount from basis points (as stored), or `None` outside 0..=10000.
    #[must_use]
    pub fn from_bp(bp: i64) -> Option<Self> {
        (0..=MAX_DISCOUNT_BP).contains(&bp).then_some(Self(bp))
    }

    /// The discount in basis points (hundredths of a percent).
    #[must_use]
    pub const fn bp(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Discount {
    /// Shortest exact percentage: `12.5%`, `10%`, `0%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", trimmed_decimal(self.0, 2))
    }
}

/// The total of one line in minor units: quantity × unit price × (1 − discount), rounded half
/// away from zero to a whole minor unit.
///
/// Computed exactly in 128-bit integers; each line is rounded on its own and a deal's amount is
/// the exact [`sum_totals`] of its lines, so the total never drifts from the lines.
///
/// # Errors
/// `too_large` when the result does not fit in `i64` minor units.
pub fn line_total(qty: Quantity, unit_price_minor: i64, discount: Discount) -> Result<i64, &'static str> {
    /// Thousandths of a unit (1000) times basis points of the whole (10000).
    const DENOMINATOR: i128 = 10_000_000;
    let numerator = i128::from(qty.milli())
        .checked_mul(i128::from(unit_price_minor))
        .and_then(|n| n.checked_mul(i128::from(MAX_DISCOUNT_BP - discount.bp())))
        .ok_or("too_large")?;
    let mut total = numerator / DENOMINATOR;
    let remainder = numerator % DENOMINATOR;
    if remainder.abs() * 2 >= DENOMINATOR {
        total += numerator.signum();
    }
    i64::try_from(total).map_err(|_| "too_large")
}

/// The exact sum of line totals in minor units (a deal's amount).
///
/// # Errors
/// `too_large` when the sum does not fit in `i64`.
pub fn sum_totals(totals: &[i64]) -> Result<i64, &'static str> {
    totals.iter().try_fold(0_i64, |sum, &t| sum.checked_add(t)).ok_or("too_large")
}

/// Splits an unsigned amount into its integer text and optional fraction text at the decimal
/// separator, following the rules documented on [`Money::parse`]. `None` when the separators
/// cannot be read consistently.
fn split_amount(body: &str) -> Option<(&str, Option<&str>)> {
    let commas = body.matches(',').count();
    let dots = body.matches('.').count();
    let decimal = match (commas, dots) {
        // No separator, repeated commas only, or repeated dots only: no decimals.
        (0 | 2.., 0) | (0, 2..) => None,
        (1, 0) => {
            let (_, after) = body.split_once(',')?;
            let has_group = body.contains(GROUP_CHARS);
            let thousands = !has_group && after.len() == 3 && after.bytes().all(|b| b.is_ascii_digit());
            (!thousands).then_some(',')
        }
        (0, 1) => Some('.'),
        _ => {
            let last = body.rfind([',', '.'])?;
            let sep = if body[last..].starts_with(',') { ',' } else { '.' };
            if body.matches(sep).count() != 1 {
                return None;
            }
            Some(sep)
        }
    };
    match decimal {
        Some(sep) => {
            let (int_text, frac) = body.split_once(sep)?;
            if frac.is_empty() {
                return None;
            }
            Some((int_text, Some(frac)))
        }
        None => Some((body, None)),
    }
}

/// Removes thousands separators from an integer part, checking that every group after the
/// first has exactly three digits and the first has one to three. With `commas_and_dots`,
/// `,` and `.` count as separators too. Returns the bare digits (possibly empty).
fn ungroup(int_text: &str, commas_and_dots: bool) -> Option<String> {
    let is_sep = |c: char| GROUP_CHARS.contains(&c) || (commas_and_dots && (c == ',' || c == '.'));
    let groups: Vec<&str> = int_text.split(is_sep).collect();
    if !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if let [first, rest @ ..] = groups.as_slice() {
        if !rest.is_empty() && (!(1..=3).contains(&first.len()) || rest.iter().any(|g| g.len() != 3)) {
            return None;
        }
    }
    Some(groups.concat())
}

/// The value of a string of ASCII digits (empty is zero), or `None` when it would not fit
/// comfortably in `i128`.
fn digits_value(digits: &str) -> Option<i128> {
    let significant = digits.trim_start_matches('0');
    if significant.len() > 30 {
        return None;
    }
    significant.bytes().try_fold(0_i128, |v, b| v.checked_mul(10)?.checked_add(i128::from(b - b'0')))
}

/// Parses a non-negative decimal with at most `max_frac` decimals and one optional `,` or `.`
/// decimal separator (no thousands commas or dots, but space and apostrophe grouping is
/// allowed) into an integer scaled by `10^max_frac`.
fn parse_plain_decimal(text: &str, max_frac: u32) -> Option<i64> {
    let (int_text, frac) = match text.split_once([',', '.']) {
        Some((int_text, frac)) => (int_text, Some(frac)),
        None => (text, None),
    };
    let int_digits = ungroup(int_text, false)?;
    let frac = frac.unwrap_or("");
    let max_len = usize::try_from(max_frac).ok()?;
    if frac.len() > max_len || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.contains([',', '.']) && frac.is_empty() {
        return None;
    }
    if int_digits.is_empty() && frac.is_empty() {
        return None;
    }
    let frac_len = u32::try_from(frac.len()).ok()?;
    let scaled = digits_value(&int_digits)?
        .checked_mul(10_i128.pow(max_frac))?
        .checked_add(digits_value(frac)? * 10_i128.pow(max_frac - frac_len))?;
    i64::try_from(scaled).ok()
}

/// Splits an absolute amount into its integer digits and, when the currency has a minor unit,
/// its zero-padded minor digits.
fn split_minor(abs: u64, digits: u32) -> (String, Option<String>) {
    if digits == 0 {
        return (abs.to_string(), None);
    }
    let scale = 10_u64.pow(digits);
    let width = usize::try_from(digits).unwrap_or(2);
    ((abs / scale).to_string(), Some(format!("{:0width$}", abs % scale)))
}

/// Inserts `sep` between groups of three ASCII digits, counting from the right.
fn group_thousands(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len_utf8());
    let lead = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        n => n,
    };
    let (head, tail) = digits.split_at(lead);
    out.push_str(head);
    for chunk in tail.as_bytes().chunks(3) {
        out.push(sep);
        out.extend(chunk.iter().map(|&b| char::from(b)));
    }
    out
}

/// `value / 10^scale` as the shortest exact decimal text: `2500, 3` → `2.5`.
fn trimmed_decimal(value: i64, scale: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    match split_minor(value.unsigned_abs(), scale) {
        (whole, Some(frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{frac}")
            }
        }
        (whole, None) => format!("{sign}{whole}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rub(text: &str) -> Result<i64, &'static str> {
        Money::parse(text, Currency::Rub, "amount").map(|m| m.minor).map_err(|e| e.code)
    }

    fn jpy(text: &str) -> Result<i64, &'static str> {
        Money::parse(text, Currency::Jpy, "amount").map(|m| m.minor).map_err(|e| e.code)
    }

    #[test]
    fn currencies_parse_trimmed_and_case_insensitively() {
        assert_eq!(Currency::parse(" rub ", "c"), Ok(Currency::Rub));
        assert_eq!(Currency::parse("Usd", "c"), Ok(Currency::Usd));
        assert_eq!(Currency::parse("TRY", "c"), Ok(Currency::Try));
        for bad in ["", "RU", "RUBL", "XXX", "R1B", "ЕВР", "€"] {
            assert_eq!(Currency::parse(bad, "c").map_err(|e| e.code), Err("invalid_currency"), "{bad}");
        }
    }

    #[test]
    fn currency_table_has_codes_digits_and_symbols() {
        assert_eq!(Currency::ALL.len(), 12);
        for c in Currency::ALL {
            assert_eq!(Currency::parse(c.code(), "c"), Ok(c));
            assert_eq!(c.to_string(), c.code());
        }
        assert_eq!((Currency::Rub.digits(), Currency::Rub.symbol()), (2, "₽"));
        assert_eq!((Currency::Jpy.digits(), Currency::Jpy.symbol()), (0, "¥"));
        assert_eq!((Currency::Byn.digits(), Currency::Byn.symbol()), (2, "Br"));
        assert_eq!(Currency::Aed.symbol(), "AED");
    }

    #[test]
    fn currency_and_money_serialise_with_the_code() {
        assert_eq!(serde_json::to_string(&Currency::Kzt).ok().as_deref(), Some("\"KZT\""));
        let m = Money::new(-150, Currency::Eur);
        assert_eq!(serde_json::to_string(&m).ok().as_deref(), Some(r#"{"minor":-150,"currency":"EUR"}"#));
        assert_eq!(serde_json::from_str::<Money>(r#"{"minor":-150,"currency":"EUR"}"#).ok(), Some(m));
        assert_eq!(serde_json::to_string(&Quantity::ONE).ok().as_deref(), Some("1000"));
    }

    #[test]
    fn money_accepts_the_usual_ways_of_typing_amounts() {
        assert_eq!(rub("1234"), Ok(123_400));
        assert_eq!(rub("  1234  "), Ok(123_400));
        assert_eq!(rub("1 234,56"), Ok(123_456));
        assert_eq!(rub("1234.5"), Ok(123_450));
        assert_eq!(rub("1234,5"), Ok(123_450));
        assert_eq!(rub("1,234.56"), Ok(123_456));
        assert_eq!(rub("1.234,56"), Ok(123_456));
        assert_eq!(rub("1 234 567,89"), Ok(123_456_789));
        assert_eq!(rub("1\u{00A0}234\u{00A0}567,89"), Ok(123_456_789));
        assert_eq!(rub("1\u{202F}234,56"), Ok(123_456));
        assert_eq!(rub("1'234'567.89"), Ok(123_456_789));
        assert_eq!(rub("1’234.5"), Ok(123_450));
        assert_eq!(rub("1,234,567.89"), Ok(123_456_789));
        assert_eq!(rub("-1 234,56"), Ok(-123_456));
        assert_eq!(rub("-0,05"), Ok(-5));
        assert_eq!(rub("0"), Ok(0));
        assert_eq!(rub("-0"), Ok(0));
        assert_eq!(rub("007"), Ok(700));
        assert_eq!(rub(".5"), Ok(50));
    }

    #[test]
    fn a_single_comma_before_three_digits_groups_thousands() {
        assert_eq!(rub("1,234"), Ok(123_400));
        assert_eq!(rub("-12,345"), Ok(-1_234_500));
        assert_eq!(jpy("1,000"), Ok(1000));
        // With another separator present the comma is decimal, and three decimals are too many.
        assert_eq!(rub("1 234,567"), Err("invalid_money"));
        // Not three digits after it: decimal.
        assert_eq!(rub("1,2"), Ok(120));
        assert_eq!(rub("1,23"), Ok(123));
        assert_eq!(rub("1,2345"), Err("invalid_money"));
    }

    #[test]
    fn dots_group_thousands_only_when_repeated() {
        assert_eq!(rub("1.234.567"), Ok(123_456_700));
        assert_eq!(rub("1.234.567,8"), Ok(123_456_780));
        assert_eq!(rub("1.23"), Ok(123));
        // A single dot is always decimal, so three digits after it are too many for roubles.
        assert_eq!(rub("1.234"), Err("invalid_money"));
        assert_eq!(jpy("1.234.567"), Ok(1_234_567));
    }

    #[test]
    fn money_rejects_malformed_text_without_rounding() {
        for bad in [
            "",
            "   ",
            "-",
            ".",
            "1,",
            "1.",
            "abc",
            "12a",
            "1e5",
            "+5",
            "--5",
            "- 5",
            "1.005",
            "1 2",
            "12 34",
            "1234 567",
            "1  234",
            "1,23,456",
            "1.234.56",
            "1,234.567.89",
            "1.234,567,89",
            "1,2.34,5",
            "₽100",
            "100 ₽",
            "100 RUB",
            "USD 5",
            "1,234,56",
        ] {
            assert_eq!(rub(bad), Err("invalid_money"), "{bad:?}");
        }
        assert_eq!(jpy("1.5"), Err("invalid_money"));
        assert_eq!(jpy("1,5"), Err("invalid_money"));
        assert_eq!(jpy("100.00"), Err("invalid_money"));
    }

    #[test]
    fn money_reports_amounts_that_do_not_fit_as_too_large() {
        assert_eq!(rub("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(rub("-92233720368547758.08"), Ok(i64::MIN));
        assert_eq!(rub("92233720368547758.08"), Err("too_large"));
        assert_eq!(rub("92233720368547759"), Err("too_large"));
        assert_eq!(rub("99999999999999999999999999999999999999999"), Err("too_large"));
        assert_eq!(jpy("9223372036854775808"), Err("too_large"));
        assert_eq!(jpy("9,223,372,036,854,775,807"), Ok(i64::MAX));
        assert_eq!(Money::parse("1e999", Currency::Rub, "sum").map_err(|e| e.field), Err("sum".to_owned()));
    }

    #[test]
    fn amount_text_round_trips_through_parse() {
        let values = [
            0,
            1,
            -1,
            5,
            -5,
            10,
            99,
            100,
            -100,
            123_456,
            -123_456,
            100_000_000,
            1_234_567_890_123,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        for currency in Currency::ALL {
            for minor in values {
                let text = Money::amount_text(minor, currency);
                assert!(!text.contains([',', ' ']), "{text}");
                assert_eq!(Money::parse(&text, currency, "a"), Ok(Money::new(minor, currency)), "{text} {currency}");
            }
        }
        assert_eq!(Money::amount_text(123_456, Currency::Rub), "1234.56");
        assert_eq!(Money::amount_text(-5, Currency::Usd), "-0.05");
        assert_eq!(Money::amount_text(1234, Currency::Jpy), "1234");
        assert_eq!(Money::amount_text(-1234, Currency::Jpy), "-1234");
        assert_eq!(Money::new(100, Currency::Rub).to_string(), "1.00 RUB");
    }

    #[test]
    fn russian_format_groups_with_narrow_spaces_and_puts_the_symbol_after() {
        assert_eq!(Money::new(123_456_789, Currency::Rub).format("ru"), "1\u{202F}234\u{202F}567,89\u{00A0}₽");
        assert_eq!(Money::new(-123_456, Currency::Rub).format("ru-RU"), "-1\u{202F}234,56\u{00A0}₽");
        assert_eq!(Money::new(5, Currency::Rub).format("ru"), "0,05\u{00A0}₽");
        assert_eq!(Money::new(99_900, Currency::Usd).format("ru"), "999,00\u{00A0}$");
        assert_eq!(Money::new(1_234_567, Currency::Jpy).format("ru"), "1\u{202F}234\u{202F}567\u{00A0}¥");
        assert_eq!(Money::new(100, Currency::Chf).format("uk"), "1,00\u{00A0}CHF");
    }

    #[test]
    fn english_format_puts_major_symbols_first_and_codes_after() {
        assert_eq!(Money::new(123_456, Currency::Usd).format("en"), "$1,234.56");
        assert_eq!(Money::new(-123_456, Currency::Usd).format("en-US"), "-$1,234.56");
        assert_eq!(Money::new(100, Currency::Eur).format("en"), "€1.00");
        assert_eq!(Money::new(1_000_000, Currency::Gbp).format("en"), "£10,000.00");
        assert_eq!(Money::new(1_234_567, Currency::Jpy).format("en"), "¥1,234,567");
        assert_eq!(Money::new(999, Currency::Cny).format("en"), "¥9.99");
        assert_eq!(Money::new(123_456_789, Currency::Rub).format("en"), "1,234,567.89\u{00A0}RUB");
        assert_eq!(Money::new(-50, Currency::Kzt).format("EN"), "-0.50\u{00A0}KZT");
        // Unknown locales fall back to English.
        assert_eq!(Money::new(123_456, Currency::Usd).format("de"), "$1,234.56");
        assert_eq!(Money::new(i64::MIN, Currency::Usd).format("en"), "-$92,233,720,368,547,758.08");
    }

    #[test]
    fn quantities_parse_with_either_decimal_separator() {
        let q = |s| Quantity::parse(s, "qty").map(Quantity::milli).map_err(|e| e.code);
        assert_eq!(q("1"), Ok(1000));
        assert_eq!(q("2.5"), Ok(2500));
        assert_eq!(q(" 2,5 "), Ok(2500));
        assert_eq!(q("0.125"), Ok(125));
        assert_eq!(q("0,001"), Ok(1));
        assert_eq!(q("1 000"), Ok(1_000_000));
        assert_eq!(q("1000000000"), Ok(MAX_QUANTITY_MILLI));
        for bad in ["", "0", "0.000", "-1", "0.0001", "1.2345", "abc", "1,2.3", "2.", "1000000000.001", "1e3", "1 00"] {
            assert_eq!(q(bad), Err("invalid_quantity"), "{bad:?}");
        }
        assert_eq!(q("99999999999999999999999"), Err("invalid_quantity"));
    }

    #[test]
    fn quantities_display_without_trailing_zeros() {
        let shown = |milli| Quantity::from_milli(milli).map(|q| q.to_string());
        assert_eq!(shown(2500).as_deref(), Some("2.5"));
        assert_eq!(shown(3000).as_deref(), Some("3"));
        assert_eq!(shown(125).as_deref(), Some("0.125"));
        assert_eq!(shown(1_000_010).as_deref(), Some("1000.01"));
        assert_eq!(shown(0), None);
        assert_eq!(shown(MAX_QUANTITY_MILLI + 1), None);
    }

    #[test]
    fn discounts_parse_percentages_with_an_optional_percent_sign() {
        let d = |s| Discount::parse(s, "discount").map(Discount::bp).map_err(|e| e.code);
        assert_eq!(d("10"), Ok(1000));
        assert_eq!(d("12.5"), Ok(1250));
        assert_eq!(d("12,5 %"), Ok(1250));
        assert_eq!(d("12,5%"), Ok(1250));
        assert_eq!(d("0"), Ok(0));
        assert_eq!(d("100"), Ok(10_000));
        assert_eq!(d("0.01"), Ok(1));
        for bad in ["", "%", "-1", "100.01", "101", "12.345", "ten", "10 %%", "% 10", "1,2,3"] {
            assert_eq!(d(bad), Err("invalid_discount"), "{bad:?}");
        }
    }

    #[test]
    fn discounts_display_as_trimmed_percentages() {
        let shown = |bp| Discount::from_bp(bp).map(|d| d.to_string());
        assert_eq!(shown(1250).as_deref(), Some("12.5%"));
        assert_eq!(shown(1000).as_deref(), Some("10%"));
        assert_eq!(shown(1234).as_deref(), Some("12.34%"));
        assert_eq!(shown(0).as_deref(), Some("0%"));
        assert_eq!(Discount::default(), Discount::NONE);
        assert_eq!(shown(10_001), None);
        assert_eq!(shown(-1), None);
    }

    #[test]
    fn line_totals_round_half_away_from_zero() {
        let qty = |milli| Quantity::from_milli(milli).unwrap_or(Quantity::ONE);
        let pct = |bp| Discount::from_bp(bp).unwrap_or(Discount::NONE);
        assert_eq!(line_total(Quantity::ONE, 1, pct(5000)), Ok(1));
        assert_eq!(line_total(Quantity::ONE, -1, pct(5000)), Ok(-1));
        assert_eq!(line_total(Quantity::ONE, 1, pct(5001)), Ok(0));
        assert_eq!(line_total(qty(333), 10_000, Discount::NONE), Ok(3330));
        assert_eq!(line_total(qty(2500), 199_990, pct(1000)), Ok(449_978));
        assert_eq!(line_total(qty(1500), 3, Discount::NONE), Ok(5));
        assert_eq!(line_total(qty(1500), -3, Discount::NONE), Ok(-5));
        assert_eq!(line_total(qty(1499), 3, Discount::NONE), Ok(4));
        assert_eq!(line_total(qty(5000), 100, pct(10_000)), Ok(0));
        assert_eq!(line_total(Quantity::ONE, i64::MAX, Discount::NONE), Ok(i64::MAX));
        assert_eq!(line_total(qty(2000), i64::MAX, Discount::NONE), Err("too_large"));
        assert_eq!(line_total(qty(MAX_QUANTITY_MILLI), i64::MIN, Discount::NONE), Err("too_large"));
    }

    #[test]
    fn a_deal_amount_is_the_exact_sum_of_its_rounded_lines() {
        let third = Quantity::from_milli(333).unwrap_or(Quantity::ONE);
        let discount = Discount::from_bp(1000).unwrap_or(Discount::NONE);
        let lines: Vec<i64> =
            (0..3).map(|_| line_total(third, 100_001, discount)).collect::<Result<_, _>>().unwrap_or_default();
        // 0.333 × 1000.01 × 0.9 = 299.702997 → 299.70 on each line.
        assert_eq!(lines, vec![29_970, 29_970, 29_970]);
        assert_eq!(sum_totals(&lines), Ok(89_910));
        assert_eq!(sum_totals(&lines), Ok(lines.iter().sum()));
        assert_eq!(sum_totals(&[]), Ok(0));
        assert_eq!(sum_totals(&[i64::MAX, 1]), Err("too_large"));
        assert_eq!(sum_totals(&[i64::MAX, -1, 1]), Ok(i64::MAX));
    }
}
