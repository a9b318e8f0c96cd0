//! The calendar: a day, a week (Monday to Sunday) or a month of meetings, calls, tasks and the
//! other planned kinds, for the signed-in user, a colleague or the whole team in the caller's
//! scope. Times are local (the zone from [`karta_webkit::tz::zone`]); every empty hour slot and
//! every day of the month links to a new meeting at its start. No script is needed: slots and
//! items are placed with CSS classes (`.h-7` … `.h-21` rows, `.d-0` … `.d-6` columns).
//!
//! Also the calendar feed settings (`/settings/calendar`): the secret iCalendar address a
//! phone subscribes to, made anew or turned off here.

use crate::store::{self as activities, Activity, Range};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use karta_core::{Action, Entity, Scope, Zone};
use karta_kernel::users;
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::routes::Pages;
use karta_webkit::ui::list::{error_page, get, Pairs};
use karta_webkit::ui::pages::{render, Layout, MessagePage};
use karta_webkit::AppState;
use time::{Date, Duration, Month};

const DAY_MS: i64 = 86_400_000;
/// The first and the last hour row of the day and week views.
const FIRST_HOUR: i64 = 7;
const LAST_HOUR: i64 = 21;
/// Items listed per day in the month view before "+N".
const MONTH_SHOWN: usize = 4;
/// Most items one view loads.
const LIMIT: i64 = 1000;

/// The kind's pictogram (decorative; the label is always there for screen readers).
pub fn kind_icon(kind: &str) -> &'static str {
    match kind {
        "call" => "📞",
        "meeting" => "👥",
        "task" => "☑",
        "email" => "✉",
        "letter" => "📨",
        "demo" => "🖥",
        "visit" => "🚗",
        "chat" => "💬",
        _ => "📝",
    }
}

/// The kind's name in the page language.
pub fn kind_label(t: Tr, kind: &str) -> String {
    if activities::KINDS.contains(&kind) {
        t.s(&format!("cal.kind.{kind}")).to_string()
    } else {
        kind.to_string()
    }
}

/// `YYYY-MM-DD`.
pub fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD` (years 1900–2999).
pub fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    if !(1900..=2999).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// The local date of an instant in zone `z`.
pub fn local_date(ms: i64, z: &Zone) -> Date {
    z.date_of(ms)
}

/// The instant (ms, UTC) a local date starts at.
pub fn day_start_of(d: Date, z: &Zone) -> i64 {
    z.start_of(d)
}

/// Local `HH:MM` of an instant.
pub fn hhmm(ms: i64, z: &Zone) -> String {
    z.hhmm(ms)
}

/// `Europe/Moscow (UTC+03:00)`: the zone and its offset at `now`.
fn zone_label(z: &Zone, now: i64) -> String {
    format!("{} ({})", z.name(), z.offset_label(now))
}

fn weekday_no(d: Date) -> u8 {
    d.weekday().number_days_from_monday() + 1
}

/// `2 March 2026` / `2 марта 2026`.
pub fn long_date(t: Tr, d: Date) -> String {
    format!("{} {} {}", d.day(), t.s(&format!("cal.mof.{}", u8::from(d.month()))), d.year())
}

/// `Monday, 2 March 2026`.
pub fn day_title(t: Tr, d: Date) -> String {
    format!("{}, {}", t.s(&format!("cal.wd.{}", weekday_no(d))), long_date(t, d))
}

/// `2–8 March 2026`, `30 March – 5 April 2026`, `29 December 2025 – 4 January 2026`.
fn week_title(t: Tr, a: Date, b: Date) -> String {
    let mof = |d: Date| t.s(&format!("cal.mof.{}", u8::from(d.month()))).to_string();
    if a.year() != b.year() {
        format!("{} – {}", long_date(t, a), long_date(t, b))
    } else if a.month() != b.month() {
        format!("{} {} – {} {} {}", a.day(), mof(a), b.day(), mof(b), b.year())
    } else {
        format!("{}–{} {} {}", a.day(), b.day(), mof(b), b.year())
    }
}

fn month_title(t: Tr, d: Date) -> String {
    format!("{} {}", t.s(&format!("cal.mon.{}", u8::from(d.month()))), d.year())
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(Duration::days(n)).unwrap_or(d)
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// One activity as the calendar shows it.
pub struct ItemView {
    /// Id (links to `/activities/{id}`).
    pub id: String,
    /// `09:00` or `09:00–10:30`.
    pub time: String,
    /// The kind's code, for the CSS class.
    pub kind: String,
    /// Pictogram.
    pub icon: &'static str,
    /// The kind's name.
    pub kind_label: String,
    /// Subject.
    pub subject: String,
    /// Linked deal, account and contact names.
    pub linked: String,
    /// The assignee's name (team view only).
    pub owner: String,
    /// Planned and past due.
    pub overdue: bool,
    /// Done.
    pub done: bool,
}

impl ItemView {
    fn of(t: Tr, a: &Activity, z: &Zone, with_owner: bool) -> Self {
        let mut time = hhmm(a.at, z);
        if let Some(end) = a.ends_at.filter(|e| *e > a.at && *e - a.at < DAY_MS) {
            time = format!("{time}–{}", hhmm(end, z));
        }
        // Deal, account, contact; a name already part of the deal's title is not repeated.
        let mut parts: Vec<&str> = Vec::new();
        for name in [&a.deal_title, &a.account_name, &a.contact_name] {
            if !name.is_empty() && !parts.iter().any(|p| p.contains(name.as_str())) {
                parts.push(name);
            }
        }
        let linked = parts.join(" · ");
        Self {
            id: a.id.clone(),
            time,
            kind: a.kind.clone(),
            icon: kind_icon(&a.kind),
            kind_label: kind_label(t, &a.kind),
            subject: a.subject.clone(),
            linked,
            owner: if with_owner { a.owner_name.clone() } else { String::new() },
            overdue: a.overdue,
            done: a.status == "done",
        }
    }
}

/// An hour of a day.
struct Slot {
    /// 7…21, for the `.h-N` class.
    hour: i64,
    /// `09:00`.
    label: String,
    /// Anchor id: `slot-2026-03-04T09`.
    anchor: String,
    /// New meeting here.
    add_url: String,
    /// The new-meeting link's text for screen readers.
    add_label: String,
    items: Vec<ItemView>,
}

/// A day column of the day and week views.
struct DayCol {
    /// 0…6, for the `.d-N` class.
    idx: usize,
    /// `Mon 2`.
    short: String,
    /// `Monday, 2 March 2026`.
    long: String,
    today: bool,
    day_url: String,
    /// New meeting at 09:00 (phones, where empty hours are hidden).
    add_url: String,
    slots: Vec<Slot>,
    /// Items before 07:00 or after 21:59.
    other: Vec<ItemView>,
}

/// A day of the month grid.
struct MonthCell {
    num: u8,
    /// `Mon`, for phones where the header row is hidden.
    weekday: String,
    long: String,
    in_month: bool,
    today: bool,
    day_url: String,
    add_url: String,
    add_label: String,
    items: Vec<ItemView>,
    more: usize,
}

/// A link of the view switch or the person menu.
struct Choice {
    value: String,
    label: String,
    url: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    l: Layout,
    view: &'static str,
    date: String,
    heading: String,
    tz: String,
    prev_url: String,
    next_url: String,
    today_url: String,
    new_url: String,
    views: Vec<Choice>,
    can_choose: bool,
    people: Vec<Choice>,
    hours: Vec<(i64, String)>,
    days: Vec<DayCol>,
    any_other: bool,
    weekdays: Vec<String>,
    weeks: Vec<Vec<MonthCell>>,
    total: usize,
    truncated: bool,
}

/// What links and slots need to know about the page.
struct View<'a> {
    t: Tr,
    z: Zone,
    who: &'a str,
}

impl View<'_> {
    fn url(&self, view: &str, date: Date) -> String {
        let mut u = format!("/calendar?view={view}&date={}", iso_date(date));
        if self.who != "me" {
            u.push_str(&format!("&who={}", enc(self.who)));
        }
        u
    }

    fn add(&self, at: i64) -> String {
        format!("/activities/new?at={at}&kind=meeting")
    }

    fn slots(&self, d: Date, items: Vec<&Activity>, with_owner: bool) -> (Vec<Slot>, Vec<ItemView>) {
        let t = self.t;
        let long = day_title(t, d);
        let mut slots: Vec<Slot> = (FIRST_HOUR..=LAST_HOUR)
            .map(|h| {
                let at = self.z.at(d, u8::try_from(h).unwrap_or(0), 0);
                let label = format!("{h:02}:00");
                Slot {
                    hour: h,
                    anchor: format!("slot-{}T{h:02}", iso_date(d)),
                    add_url: self.add(at),
                    add_label: format!("{}: {long}, {label}", t.s("cal.new_meeting")),
                    label,
                    items: Vec::new(),
                }
            })
            .collect();
        let mut other = Vec::new();
        for a in items {
            let h = i64::from(self.z.hour_of(a.at));
            let v = ItemView::of(t, a, &self.z, with_owner);
            match usize::try_from(h - FIRST_HOUR).ok().and_then(|i| slots.get_mut(i)) {
                Some(s) if h <= LAST_HOUR => s.items.push(v),
                _ => other.push(v),
            }
        }
        (slots, other)
    }
}

/// Whose calendar: `me`, `team` or a user id the caller may see.
enum Who {
    Me,
    Team,
    User(String),
}

/// GET /calendar?view=day|week|month&date=YYYY-MM-DD&who=me|team|USERID
async fn page(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Query(pairs): Query<Pairs>) -> Response {
    let (t, ctx, db, now) = (u.t, &u.p.ctx, &st.db, st.clock.now());
    let z = karta_webkit::tz::zone(&headers, ctx, now);
    let today = local_date(now, &z);
    let date = parse_date(get(&pairs, "date")).unwrap_or(today);
    let view = match get(&pairs, "view") {
        "day" => "day",
        "month" => "month",
        _ => "week",
    };
    // Who may look at others: whoever reads beyond their own activities (managers, admins),
    // and everyone whose role may see all calendars.
    let scope = if ctx.can(karta_core::Cap::AllCalendars) {
        Some(Scope::All)
    } else {
        ctx.scope(Entity::Activity, Action::Read).ok()
    };
    let can_choose = scope.is_some_and(|s| s != Scope::Own);
    let mut people = Vec::new();
    if let (true, Some(scope)) = (can_choose, scope) {
        match users::list(db, ctx).await {
            Ok(list) => {
                people = list
                    .into_iter()
                    .filter(|x| x.id != ctx.user_id() && ctx.reaches(scope, &x.id, x.team_id.as_deref()))
                    .map(|x| (x.id, x.display_name))
                    .collect::<Vec<_>>();
            }
            Err(e) => return error_page(&u, &e),
        }
    }
    let who_raw = get(&pairs, "who");
    let who = match who_raw {
        "" | "me" => Who::Me,
        _ if !can_choose => Who::Me,
        "team" => Who::Team,
        id if id == ctx.user_id() => Who::Me,
        id if people.iter().any(|(pid, _)| pid == id) => Who::User(id.to_string()),
        _ => {
            let tpl = MessagePage {
                l: Layout::new(t, &u.p, t.s("cal.title"), "calendar"),
                message: t.s("cal.not_yours").to_string(),
            };
            return render(StatusCode::NOT_FOUND, &tpl);
        }
    };
    let who_s = match &who {
        Who::Me => "me".to_string(),
        Who::Team => "team".to_string(),
        Who::User(id) => id.clone(),
    };
    let c = View { t, z: z.clone(), who: &who_s };
    // The dates shown: one day, Monday to Sunday, or the whole weeks around a month.
    let (first, last) = match view {
        "day" => (date, date),
        "week" => {
            let mon = add_days(date, -i64::from(weekday_no(date) - 1));
            (mon, add_days(mon, 6))
        }
        _ => {
            let f = first_of_month(date);
            let next = first_of_month(add_days(f, 32));
            let l = add_days(next, -1);
            (add_days(f, -i64::from(weekday_no(f) - 1)), add_days(l, i64::from(7 - weekday_no(l))))
        }
    };
    let n_days = usize::try_from((last - first).whole_days() + 1).unwrap_or(1);
    let (from, to) = (day_start_of(first, &z), day_start_of(add_days(last, 1), &z));
    let range = Range {
        owners: match &who {
            Who::Me => vec![ctx.user_id().to_string()],
            Who::Team => Vec::new(),
            Who::User(id) => vec![id.clone()],
        },
        kinds: activities::KINDS.iter().filter(|k| **k != "note").map(|k| (*k).to_string()).collect(),
        from: Some(from),
        to: Some(to),
        limit: LIMIT,
        calendar: true,
        ..Range::default()
    };
    let items = match activities::list(db, ctx, now, &range).await {
        Ok(v) => v,
        Err(e) => return error_page(&u, &e),
    };
    let total = items.len();
    let with_owner = matches!(who, Who::Team);
    let mut per_day: Vec<Vec<&Activity>> = vec![Vec::new(); n_days];
    for a in &items {
        let i = (local_date(a.at, &z) - first).whole_days();
        if let Some(v) = usize::try_from(i).ok().and_then(|i| per_day.get_mut(i)) {
            v.push(a);
        }
    }
    let mut days = Vec::new();
    let mut weeks = Vec::new();
    if view == "month" {
        for (i, list) in per_day.into_iter().enumerate() {
            let d = add_days(first, i64::try_from(i).unwrap_or(0));
            let long = day_title(t, d);
            let mut items: Vec<ItemView> = list.iter().map(|a| ItemView::of(t, a, &z, with_owner)).collect();
            let more = items.len().saturating_sub(MONTH_SHOWN);
            items.truncate(MONTH_SHOWN);
            if i % 7 == 0 {
                weeks.push(Vec::new());
            }
            if let Some(w) = weeks.last_mut() {
                w.push(MonthCell {
                    num: d.day(),
                    weekday: t.s(&format!("cal.wds.{}", weekday_no(d))).to_string(),
                    add_url: c.add(day_start_of(d, &z)),
                    add_label: format!("{}: {long}", t.s("cal.new_meeting")),
                    long,
                    in_month: d.month() == date.month(),
                    today: d == today,
                    day_url: c.url("day", d),
                    items,
                    more,
                });
            }
        }
    } else {
        for (i, list) in per_day.into_iter().enumerate() {
            let d = add_days(first, i64::try_from(i).unwrap_or(0));
            let (slots, other) = c.slots(d, list, with_owner);
            days.push(DayCol {
                idx: i,
                short: format!("{} {}", t.s(&format!("cal.wds.{}", weekday_no(d))), d.day()),
                long: day_title(t, d),
                today: d == today,
                day_url: c.url("day", d),
                add_url: c.add(z.at(d, 9, 0)),
                slots,
                other,
            });
        }
    }
    let (prev, next) = match view {
        "day" => (add_days(date, -1), add_days(date, 1)),
        "week" => (add_days(date, -7), add_days(date, 7)),
        _ => {
            let f = first_of_month(date);
            (first_of_month(add_days(f, -1)), first_of_month(add_days(f, 32)))
        }
    };
    let heading = match view {
        "day" => day_title(t, date),
        "week" => week_title(t, first, last),
        _ => month_title(t, date),
    };
    let views = ["day", "week", "month"]
        .iter()
        .map(|v| Choice {
            value: (*v).to_string(),
            label: t.s(&format!("cal.view.{v}")).to_string(),
            url: c.url(v, date),
            current: *v == view,
        })
        .collect();
    let mut choices = vec![
        Choice { value: "me".into(), label: t.s("cal.who.me").into(), url: String::new(), current: who_s == "me" },
        Choice {
            value: "team".into(),
            label: t.s("cal.who.team").into(),
            url: String::new(),
            current: who_s == "team",
        },
    ];
    choices.extend(people.into_iter().map(|(id, name)| Choice {
        current: id == who_s,
        value: id,
        label: name,
        url: String::new(),
    }));
    let any_other = days.iter().any(|d| !d.other.is_empty());
    let new_at = if date == today {
        // The next full local hour today (midnight when it is past 23:00).
        match z.hour_of(now) {
            h @ 0..=22 => z.at(today, h + 1, 0),
            _ => z.start_of(add_days(today, 1)),
        }
    } else {
        z.at(date, 9, 0)
    };
    let tpl = CalendarPage {
        l: Layout::new(t, &u.p, format!("{} · {heading}", t.s("cal.title")), "calendar"),
        view,
        date: iso_date(date),
        heading,
        tz: zone_label(&z, now),
        prev_url: c.url(view, prev),
        next_url: c.url(view, next),
        today_url: c.url(view, today),
        new_url: c.add(new_at),
        views,
        can_choose,
        people: choices,
        hours: (FIRST_HOUR..=LAST_HOUR).map(|h| (h, format!("{h:02}:00"))).collect(),
        days,
        any_other,
        weekdays: (1..=7).map(|n| t.s(&format!("cal.wds.{n}")).to_string()).collect(),
        weeks,
        total,
        truncated: i64::try_from(total).unwrap_or(0) >= LIMIT,
    };
    render(StatusCode::OK, &tpl)
}

// ---------- the calendar feed (iCalendar subscription) ----------

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedPage {
    l: Layout,
    /// A live address exists.
    has: bool,
    /// The new address, shown once right after making it.
    url: String,
    /// The same as `webcal://`, which phones open as a subscription.
    webcal: String,
    /// The address was just turned off.
    revoked: bool,
}

/// The host the browser used, reduced to characters a host and port may have.
fn host_of(headers: &HeaderMap) -> String {
    let h: String = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        .take(255)
        .collect();
    if h.is_empty() {
        "localhost".to_string()
    } else {
        h
    }
}

async fn feed_page(st: &AppState, u: &PageUser, url: String, webcal: String, revoked: bool) -> Response {
    let t = u.t;
    let has = match activities::has_feed(&st.db, &u.p.ctx).await {
        Ok(h) => h,
        Err(e) => return error_page(u, &e),
    };
    let tpl = FeedPage { l: Layout::new(t, &u.p, t.s("feed.title"), "settings"), has, url, webcal, revoked };
    render(StatusCode::OK, &tpl)
}

/// GET /settings/calendar
async fn feed_settings(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> Response {
    feed_page(&st, &u, String::new(), String::new(), get(&pairs, "m") == "revoked").await
}

/// POST /settings/calendar/new — makes a new secret (the old one stops working) and shows the
/// address once, in this response only.
async fn feed_new(State(st): State<AppState>, u: PageUser, headers: HeaderMap) -> Response {
    match activities::new_feed_token(&st.db, &u.p.ctx, st.clock.now()).await {
        Ok(secret) => {
            let host = host_of(&headers);
            let scheme = if st.config.secure_cookies { "https" } else { "http" };
            let url = format!("{scheme}://{host}/calendar/{secret}.ics");
            let webcal = format!("webcal://{host}/calendar/{secret}.ics");
            feed_page(&st, &u, url, webcal, false).await
        }
        Err(e) => error_page(&u, &e),
    }
}

/// POST /settings/calendar/revoke
async fn feed_revoke(State(st): State<AppState>, u: PageUser) -> Response {
    match activities::revoke_feed(&st.db, &u.p.ctx, st.clock.now()).await {
        Ok(()) => Redirect::to("/settings/calendar?m=revoked").into_response(),
        Err(e) => error_page(&u, &e),
    }
}

/// The calendar page and the calendar feed settings.
pub fn router() -> Pages {
    Pages::new()
        .get("/calendar", page)
        .get("/settings/calendar", feed_settings)
        .post("/settings/calendar/new", feed_new)
        .post("/settings/calendar/revoke", feed_revoke)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        let d = parse_date(s);
        assert!(d.is_some(), "{s}");
        d.unwrap_or(Date::MIN)
    }

    #[test]
    fn local_dates_and_hours_follow_the_zone() {
        let (msk, utc) = (Zone::of_country("RU"), Zone::utc());
        let ny = Zone::parse("America/New_York", "tz").unwrap_or_else(|_| Zone::utc());
        // 2026-03-01 22:30 UTC is 2 March 01:30 in Moscow.
        let now = 1_772_404_200_000;
        assert_eq!(iso_date(local_date(now, &msk)), "2026-03-02");
        assert_eq!(iso_date(local_date(now, &utc)), "2026-03-01");
        assert_eq!(hhmm(now, &msk), "01:30");
        assert_eq!(hhmm(now, &ny), "17:30");
        let d = day("2026-03-02");
        assert_eq!(day_start_of(d, &msk), 1_772_398_800_000);
        assert_eq!(zone_label(&msk, now), "Europe/Moscow (UTC+03:00)");
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("99999-01-01").is_none());
        assert!(parse_date("x").is_none());
    }

    #[test]
    fn titles_read_naturally_in_both_languages() {
        karta_webkit::i18n::register(crate::TEXTS);
        let en = Tr::EN;
        let ru = Tr::RU;
        let a = day("2026-03-30");
        assert_eq!(week_title(en, a, add_days(a, 6)), "30 March – 5 April 2026");
        assert_eq!(week_title(ru, a, add_days(a, 6)), "30 марта – 5 апреля 2026");
        let b = day("2026-03-02");
        assert_eq!(week_title(ru, b, add_days(b, 6)), "2–8 марта 2026");
        assert_eq!(day_title(en, b), "Monday, 2 March 2026");
        assert_eq!(month_title(ru, b), "Март 2026");
        let c = day("2025-12-29");
        assert_eq!(week_title(en, c, add_days(c, 6)), "29 December 2025 – 4 January 2026");
    }
}
