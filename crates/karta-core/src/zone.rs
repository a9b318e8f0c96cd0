//! Time zones by their IANA names (`Europe/Moscow`, `America/New_York`), with daylight saving
//! from the time-zone database bundled into the binary (so a machine without `tzdata` reads
//! them the same). Stored times stay UTC milliseconds; a zone turns them into the wall-clock
//! dates and hours a person reads, and back.

use time::Date;

use crate::values::FieldError;

/// A time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

/// The main zone of each country Karta has seen tenants in, by ISO 3166 alpha-2 (the
/// capital's, or the most populous one's); other countries get UTC until an admin picks one.
const COUNTRY_ZONES: &[(&str, &str)] = &[
    ("RU", "Europe/Moscow"),
    ("BY", "Europe/Minsk"),
    ("UA", "Europe/Kyiv"),
    ("KZ", "Asia/Almaty"),
    ("UZ", "Asia/Tashkent"),
    ("KG", "Asia/Bishkek"),
    ("TJ", "Asia/Dushanbe"),
    ("TM", "Asia/Ashgabat"),
    ("AM", "Asia/Yerevan"),
    ("AZ", "Asia/Baku"),
    ("GE", "Asia/Tbilisi"),
    ("MD", "Europe/Chisinau"),
    ("LT", "Europe/Vilnius"),
    ("LV", "Europe/Riga"),
    ("EE", "Europe/Tallinn"),
    ("FI", "Europe/Helsinki"),
    ("PL", "Europe/Warsaw"),
    ("DE", "Europe/Berlin"),
    ("AT", "Europe/Vienna"),
    ("CH", "Europe/Zurich"),
    ("FR", "Europe/Paris"),
    ("IT", "Europe/Rome"),
    ("ES", "Europe/Madrid"),
    ("NL", "Europe/Amsterdam"),
    ("BE", "Europe/Brussels"),
    ("CZ", "Europe/Prague"),
    ("GB", "Europe/London"),
    ("IE", "Europe/Dublin"),
    ("TR", "Europe/Istanbul"),
    ("IL", "Asia/Jerusalem"),
    ("AE", "Asia/Dubai"),
    ("IN", "Asia/Kolkata"),
    ("CN", "Asia/Shanghai"),
    ("JP", "Asia/Tokyo"),
    ("US", "America/New_York"),
    ("CA", "America/Toronto"),
    ("BR", "America/Sao_Paulo"),
    ("MX", "America/Mexico_City"),
    ("AU", "Australia/Sydney"),
];

/// One zone per whole-hour offset, for a browser that told only its offset: the zone most
/// users at that offset are in.
const OFFSET_ZONES: &[(i64, &str)] = &[
    (-480, "America/Los_Angeles"),
    (-420, "America/Denver"),
    (-360, "America/Chicago"),
    (-300, "America/New_York"),
    (-180, "America/Sao_Paulo"),
    (0, "Europe/London"),
    (60, "Europe/Berlin"),
    (120, "Europe/Kyiv"),
    (180, "Europe/Moscow"),
    (240, "Asia/Dubai"),
    (300, "Asia/Yekaterinburg"),
    (330, "Asia/Kolkata"),
    (360, "Asia/Omsk"),
    (420, "Asia/Novosibirsk"),
    (480, "Asia/Shanghai"),
    (540, "Asia/Tokyo"),
    (600, "Asia/Vladivostok"),
];

impl Zone {
    /// The zone named `name` (an IANA name, any case).
    ///
    /// # Errors
    /// `invalid_time_zone` for a name the database does not hold.
    pub fn parse(name: &str, field: &str) -> Result<Self, FieldError> {
        let name = name.trim();
        let tz = jiff::tz::TimeZone::get(name).map_err(|_| FieldError::new(field, "invalid_time_zone"))?;
        let name = tz.iana_name().unwrap_or(name).to_string();
        Ok(Self { name, tz })
    }

    /// UTC.
    #[must_use]
    pub fn utc() -> Self {
        Self { name: "UTC".into(), tz: jiff::tz::TimeZone::UTC }
    }

    /// The main zone of a country (ISO 3166 alpha-2); UTC for one not in the table.
    #[must_use]
    pub fn of_country(country: &str) -> Self {
        let cc = country.trim().to_ascii_uppercase();
        COUNTRY_ZONES
            .iter()
            .find(|(c, _)| *c == cc)
            .and_then(|(_, name)| Self::parse(name, "").ok())
            .unwrap_or_else(Self::utc)
    }

    /// The zone a fixed offset (minutes east of UTC, as a browser reports it) most likely
    /// meant at `now`: `preferred` (the tenant's) when it has that offset then, else the usual
    /// zone for the offset, else the fixed offset itself.
    #[must_use]
    pub fn for_offset(offset_min: i64, preferred: &Self, now: i64) -> Self {
        if preferred.offset_min(now) == offset_min {
            return preferred.clone();
        }
        if let Some(z) = OFFSET_ZONES
            .iter()
            .filter_map(|(_, name)| Self::parse(name, "").ok())
            .find(|z| z.offset_min(now) == offset_min)
        {
            return z;
        }
        let secs = i32::try_from(offset_min.clamp(-14 * 60, 14 * 60) * 60).unwrap_or(0);
        match jiff::tz::Offset::from_seconds(secs) {
            Ok(off) => Self { name: format!("UTC{}", offset_label(offset_min)), tz: jiff::tz::TimeZone::fixed(off) },
            Err(_) => Self::utc(),
        }
    }

    /// The IANA name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every zone name the database holds, sorted, for a picker.
    #[must_use]
    pub fn names() -> Vec<String> {
        let mut v: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| n.contains('/') && !n.starts_with("Etc/") && !n.starts_with("SystemV/"))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn zoned(&self, ms: i64) -> jiff::ZonedDateTime {
        let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        ts.to_zoned_datetime(self.tz.clone())
    }

    /// Minutes east of UTC at instant `ms` (daylight saving included).
    #[must_use]
    pub fn offset_min(&self, ms: i64) -> i64 {
        let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        i64::from(self.tz.to_offset(ts).seconds()) / 60
    }

    /// The local date of instant `ms`.
    #[must_use]
    pub fn date_of(&self, ms: i64) -> Date {
        let d = self.zoned(ms).date();
        to_time_date(d)
    }

    /// The instant local day `d` begins (its midnight, or the first moment after a
    /// daylight-saving gap at midnight).
    #[must_use]
    pub fn start_of(&self, d: Date) -> i64 {
        self.at(d, 0, 0)
    }

    /// The instant of wall-clock time `hour:minute` on local day `d`. A time skipped by a
    /// change to summer time is read as the same clock time after the change; a time that
    /// happens twice when clocks go back, as the first of the two.
    #[must_use]
    pub fn at(&self, d: Date, hour: u8, minute: u8) -> i64 {
        let civil = jiff::civil::DateTime::new(
            i16::try_from(d.year()).unwrap_or(1970),
            i8::try_from(u8::from(d.month())).unwrap_or(1),
            i8::try_from(d.day()).unwrap_or(1),
            i8::try_from(hour.min(23)).unwrap_or(0),
            i8::try_from(minute.min(59)).unwrap_or(0),
            0,
            0,
        );
        civil.ok().and_then(|c| self.tz.to_ambiguous_timestamp(c).compatible().ok()).map_or(0, |ts| ts.as_millisecond())
    }

    /// The start of the local day containing `ms`.
    #[must_use]
    pub fn day_start(&self, ms: i64) -> i64 {
        self.start_of(self.date_of(ms))
    }

    /// The local hour (0–23) of `ms`.
    #[must_use]
    pub fn hour_of(&self, ms: i64) -> u8 {
        u8::try_from(self.zoned(ms).hour()).unwrap_or(0)
    }

    /// The local wall-clock time of `ms` as `HH:MM`.
    #[must_use]
    pub fn hhmm(&self, ms: i64) -> String {
        let z = self.zoned(ms);
        format!("{:02}:{:02}", z.hour(), z.minute())
    }

    /// The local date and time of `ms` as `YYYY-MM-DDTHH:MM` (for `datetime-local` inputs).
    #[must_use]
    pub fn local_input(&self, ms: i64) -> String {
        let z = self.zoned(ms);
        format!("{:04}-{:02}-{:02}T{:02}:{:02}", z.year(), z.month(), z.day(), z.hour(), z.minute())
    }

    /// Reads `YYYY-MM-DDTHH:MM` (or with a space) as wall-clock time in this zone.
    #[must_use]
    pub fn parse_local(&self, s: &str) -> Option<i64> {
        let s = s.trim().replace(' ', "T");
        let (date, clock) = s.split_once('T')?;
        let d = Date::parse(date, &time::macros::format_description!("[year]-[month]-[day]")).ok()?;
        let (h, m) = clock.split_once(':')?;
        let (h, m): (u8, u8) = (h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?);
        (h < 24 && m < 60).then(|| self.at(d, h, m))
    }

    /// `UTC+03:00`: the offset at `ms`.
    #[must_use]
    pub fn offset_label(&self, ms: i64) -> String {
        format!("UTC{}", offset_label(self.offset_min(ms)))
    }
}

fn offset_label(off: i64) -> String {
    let sign = if off < 0 { '−' } else { '+' };
    format!("{sign}{:02}:{:02}", off.abs() / 60, off.abs() % 60)
}

fn to_time_date(d: jiff::civil::Date) -> Date {
    let month = time::Month::try_from(u8::try_from(d.month()).unwrap_or(1)).unwrap_or(time::Month::January);
    Date::from_calendar_date(i32::from(d.year()), month, u8::try_from(d.day()).unwrap_or(1)).unwrap_or(Date::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().expect("a timestamp").as_millisecond()
    }

    #[test]
    fn berlin_changes_its_clocks_and_the_hours_follow() {
        let z = Zone::parse("Europe/Berlin", "tz").expect("a zone");
        // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST.
        assert_eq!(z.at(date!(2026 - 03 - 28), 9, 0), ms("2026-03-28T08:00:00Z"));
        assert_eq!(z.at(date!(2026 - 03 - 30), 9, 0), ms("2026-03-30T07:00:00Z"));
        assert_eq!(z.hhmm(ms("2026-03-29T00:59:00Z")), "01:59");
        assert_eq!(z.hhmm(ms("2026-03-29T01:00:00Z")), "03:00");
        // The day of the change has 23 hours.
        assert_eq!(z.start_of(date!(2026 - 03 - 30)) - z.start_of(date!(2026 - 03 - 29)), 23 * 3_600_000);
        // 02:30 does not exist that day: read as 03:30 summer time.
        assert_eq!(z.at(date!(2026 - 03 - 29), 2, 30), ms("2026-03-29T01:30:00Z"));
        // 2026-10-25: back from 03:00 CEST to 02:00 CET; that day has 25 hours and 02:30
        // happens twice (the first is kept).
        assert_eq!(z.start_of(date!(2026 - 10 - 26)) - z.start_of(date!(2026 - 10 - 25)), 25 * 3_600_000);
        assert_eq!(z.at(date!(2026 - 10 - 25), 2, 30), ms("2026-10-25T00:30:00Z"));
        assert_eq!(z.offset_label(ms("2026-07-01T12:00:00Z")), "UTC+02:00");
        assert_eq!(z.offset_label(ms("2026-01-01T12:00:00Z")), "UTC+01:00");
    }

    #[test]
    fn new_york_changes_on_its_own_dates() {
        let z = Zone::parse("america/new_york", "tz").expect("names are matched in any case");
        assert_eq!(z.name(), "America/New_York");
        // 2026-03-08: 02:00 EST → 03:00 EDT (three weeks before Europe).
        assert_eq!(z.at(date!(2026 - 03 - 07), 9, 0), ms("2026-03-07T14:00:00Z"));
        assert_eq!(z.at(date!(2026 - 03 - 09), 9, 0), ms("2026-03-09T13:00:00Z"));
        // 2026-11-01: back to EST.
        assert_eq!(z.at(date!(2026 - 11 - 02), 9, 0), ms("2026-11-02T14:00:00Z"));
        assert_eq!(z.date_of(ms("2026-11-02T03:30:00Z")), date!(2026 - 11 - 01));
        assert_eq!(z.parse_local("2026-07-04T18:30"), Some(ms("2026-07-04T22:30:00Z")));
    }

    #[test]
    fn moscow_keeps_one_offset_all_year() {
        let z = Zone::of_country("RU");
        assert_eq!(z.name(), "Europe/Moscow");
        for day in ["2026-01-15T12:00:00Z", "2026-03-29T12:00:00Z", "2026-07-15T12:00:00Z", "2026-10-25T12:00:00Z"] {
            assert_eq!(z.offset_min(ms(day)), 180, "{day}");
        }
        assert_eq!(z.at(date!(2026 - 07 - 15), 9, 0), ms("2026-07-15T06:00:00Z"));
        assert_eq!(z.local_input(ms("2026-07-15T06:00:00Z")), "2026-07-15T09:00");
    }

    #[test]
    fn an_offset_alone_becomes_the_zone_it_most_likely_meant() {
        let now = ms("2026-07-01T12:00:00Z");
        let moscow = Zone::of_country("RU");
        assert_eq!(Zone::for_offset(180, &moscow, now).name(), "Europe/Moscow");
        assert_eq!(Zone::for_offset(120, &moscow, now).name(), "Europe/Berlin", "summer in Berlin");
        assert_eq!(Zone::for_offset(-240, &moscow, now).name(), "America/New_York");
        assert_eq!(Zone::for_offset(345, &moscow, now).name(), "UTC+05:45");
        assert!(Zone::parse("Mars/Olympus", "tz").is_err());
        assert!(Zone::names().iter().any(|n| n == "Asia/Yekaterinburg"));
    }
}
