//! The user's time zone as an offset from UTC: from the `karta_tz` cookie the page script
//! sets (the browser's own offset), else the usual offset of the tenant's country.

use axum::http::HeaderMap;

/// Minutes east of UTC usual for a country (the capital's standard time).
#[must_use]
pub fn default_offset(country: &str) -> i64 {
    match country {
        "RU" | "BY" | "TR" => 180,
        "UA" | "LT" | "LV" | "EE" | "FI" | "MD" => 120,
        "KZ" => 300,
        "DE" | "FR" | "PL" | "IT" | "ES" | "NL" | "CZ" => 60,
        "AE" | "GE" | "AM" | "AZ" => 240,
        "CN" => 480,
        "US" => -300,
        _ => 0,
    }
}

/// The caller's offset: the cookie when it is sane, else the country's.
#[must_use]
pub fn offset(headers: &HeaderMap, country: &str) -> i64 {
    crate::auth::cookie(headers, "karta_tz")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|m| (-14 * 60..=14 * 60).contains(m))
        .unwrap_or_else(|| default_offset(country))
}

/// The Monday 00:00 (local) of the week containing `now`.
#[must_use]
pub fn week_start(now: i64, offset_min: i64) -> i64 {
    let day = karta_core::clock::day_start(now, offset_min);
    let local_days = (day + offset_min * 60_000).div_euclid(86_400_000);
    // 1970-01-01 was a Thursday: day 0 → weekday 3 counting from Monday.
    let weekday = (local_days + 3).rem_euclid(7);
    day - weekday * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_starts_on_monday_at_local_midnight() {
        // Wednesday 2026-03-04 12:00 UTC → Monday 2026-03-02 00:00 MSK = 2026-03-01 21:00 UTC.
        assert_eq!(week_start(1_772_625_600_000, 180), 1_772_398_800_000);
        // A Monday morning stays in its own week.
        assert_eq!(week_start(1_772_398_800_000 + 1, 180), 1_772_398_800_000);
    }
}
