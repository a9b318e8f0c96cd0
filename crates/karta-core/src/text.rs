//! Text normalisation for search and case-insensitive comparison.
//!
//! SQLite's `lower()` folds ASCII only, so every searchable record keeps a text normalised
//! here: lower-case in every script, `ё` folded to `е`, runs of white space collapsed.

/// Lower-cases, folds `ё` to `е` and collapses white space.
#[must_use]
pub fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.trim().chars() {
        if ch.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        for lc in ch.to_lowercase() {
            out.push(if lc == 'ё' { 'е' } else { lc });
        }
    }
    out
}

/// The digits of a string, for matching phone numbers typed with any formatting.
#[must_use]
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// True when a search query looks like a phone number rather than a name.
#[must_use]
pub fn looks_like_phone(q: &str) -> bool {
    let d = q.chars().filter(char::is_ascii_digit).count();
    d >= 3 && q.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c))
}

/// A case- and `ё`-insensitive regular expression that matches `needle` literally; used for
/// "contains" filters (SQLite `REGEXP`, PostgreSQL `~`).
#[must_use]
pub fn ci_regex(needle: &str, anchor_start: bool) -> String {
    let mut out = String::from("(?i)");
    if anchor_start {
        out.push('^');
    }
    for ch in norm(needle).chars() {
        match ch {
            'е' => out.push_str("[её]"),
            // Only ASCII punctuation is special to either regex dialect; everything else,
            // Cyrillic and typographic quotes included, is literal.
            c if !c.is_ascii_punctuation() => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_folds_cyrillic_case_and_yo() {
        assert_eq!(norm("  Пётр   ЁЛКИН "), "петр елкин");
        assert_eq!(norm("John SMITH"), "john smith");
    }

    #[test]
    fn phone_like_queries_are_recognised() {
        assert!(looks_like_phone("+7 (916) 123"));
        assert!(!looks_like_phone("Иван 1"));
        assert_eq!(digits("+7 (916) 123-45-67"), "79161234567");
    }

    #[test]
    fn ci_regex_escapes_and_folds() {
        assert_eq!(ci_regex("Ёж.", true), "(?i)^[её]ж\\.");
        assert_eq!(ci_regex("«Азбука» +", false), "(?i)«азбука» \\+");
    }
}
