//! The time zone a page shows times in: the user's own choice (settings), else the browser's
//! zone (the `karta_zone` cookie the page script sets from `Intl`), else the offset an older
//! page script set (`karta_tz`) read as the zone it most likely meant, else the tenant's zone.

use axum::http::HeaderMap;
use karta_core::Zone;
use karta_kernel::Ctx;

/// The caller's zone at `now`.
#[must_use]
pub fn zone(headers: &HeaderMap, ctx: &Ctx, now: i64) -> Zone {
    if let Some(z) = ctx.user_zone() {
        return z;
    }
    if let Some(z) = crate::auth::cookie(headers, "karta_zone").and_then(|v| Zone::parse(&v, "").ok()) {
        return z;
    }
    let tenant = ctx.tenant_zone();
    match crate::auth::cookie(headers, "karta_tz").and_then(|v| v.parse::<i64>().ok()) {
        Some(off) if (-14 * 60..=14 * 60).contains(&off) => Zone::for_offset(off, &tenant, now),
        _ => tenant,
    }
}

/// A zone given to the API (`tz`): an IANA name, or minutes east of UTC read as the zone
/// they most likely meant; the caller's own zone when none is given.
///
/// # Errors
/// `invalid_time_zone` for a name that is not a zone or an offset out of range.
pub fn api_zone(given: Option<&str>, ctx: &Ctx, now: i64) -> Result<Zone, karta_core::FieldError> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(ctx.user_zone().unwrap_or_else(|| ctx.tenant_zone())),
        Some(s) => match s.parse::<i64>() {
            Ok(off) if (-14 * 60..=14 * 60).contains(&off) => Ok(Zone::for_offset(off, &ctx.tenant_zone(), now)),
            Ok(_) => Err(karta_core::FieldError::new("tz", "invalid_time_zone")),
            Err(_) => Zone::parse(s, "tz"),
        },
    }
}

/// Every zone to choose from as `(IANA name, label)`: the name, the city in the page's
/// language where it reads differently (`Europe/Moscow — Москва`), and the offset at `now`
/// (`UTC+03:00`).
#[must_use]
pub fn choices(t: crate::i18n::Tr, now: i64) -> Vec<(String, String)> {
    Zone::names()
        .into_iter()
        .map(|name| {
            let offset = Zone::parse(&name, "").map(|z| z.offset_label(now)).unwrap_or_default();
            let city = t.opt(&format!("zone.{}", name.replace(['/', '-'], ".")));
            let last = name.rsplit('/').next().unwrap_or(&name).replace('_', " ");
            let label = match city {
                Some(c) if c != last && c != name => format!("{name} — {c} ({offset})"),
                _ => format!("{name} ({offset})"),
            };
            (name, label)
        })
        .collect()
}

/// The Monday 00:00 (local) of the week containing `now`.
#[must_use]
pub fn week_start(now: i64, z: &Zone) -> i64 {
    let d = z.date_of(now);
    let back = i64::from(d.weekday().number_days_from_monday());
    z.start_of(d - time::Duration::days(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_starts_on_monday_at_local_midnight() {
        let moscow = Zone::of_country("RU");
        // Wednesday 2026-03-04 12:00 UTC → Monday 2026-03-02 00:00 MSK = 2026-03-01 21:00 UTC.
        assert_eq!(week_start(1_772_625_600_000, &moscow), 1_772_398_800_000);
        // A Monday morning stays in its own week.
        assert_eq!(week_start(1_772_398_800_000 + 1, &moscow), 1_772_398_800_000);
        // Berlin's week after the clocks went forward (Wednesday 2026-04-01 12:00 UTC) starts
        // at Monday 00:00 summer time, 2026-03-29 22:00 UTC.
        let berlin = Zone::parse("Europe/Berlin", "tz").unwrap_or_else(|_| Zone::utc());
        assert_eq!(week_start(1_775_044_800_000, &berlin), 1_774_821_600_000);
    }

    #[test]
    fn zones_are_offered_with_their_city_in_the_language_and_their_offset() {
        crate::i18n::register_own();
        let now = 1_775_044_800_000; // 2026-04-01: Berlin on summer time
        let label = |t: crate::i18n::Tr, name: &str| {
            choices(t, now).into_iter().find(|(n, _)| n == name).map(|(_, l)| l).unwrap_or_default()
        };
        assert_eq!(label(crate::i18n::Tr::RU, "Europe/Moscow"), "Europe/Moscow — Москва (UTC+03:00)");
        assert_eq!(label(crate::i18n::Tr::EN, "Europe/Moscow"), "Europe/Moscow (UTC+03:00)");
        assert_eq!(label(crate::i18n::Tr::EN, "Europe/Berlin"), "Europe/Berlin (UTC+02:00)");
        assert_eq!(label(crate::i18n::Tr::RU, "America/New_York"), "America/New_York — Нью-Йорк (UTC−04:00)");
        assert_eq!(label(crate::i18n::Tr::EN, "America/New_York"), "America/New_York (UTC−04:00)");
    }
}
