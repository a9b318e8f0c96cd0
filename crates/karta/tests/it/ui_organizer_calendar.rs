//! The organizer's pages in the browser's terms: the calendar (week, day and month; mine, a
//! colleague's, the team's; local times), the team's workload with the hand-over previewed
//! then confirmed, and the calendar feed's secret address made, served and turned off.

use crate::common::{Client, Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// Acme's country is RU and the test browser sends no time zone cookie: Moscow time.
const MSK: i64 = 180;

/// The local date of an instant, `YYYY-MM-DD`.
fn local_date(ms: i64) -> String {
    karta_core::clock::today(ms + MSK * 60_000)
}

/// The HTML of one hour slot of the day or week view.
fn slot<'a>(html: &'a str, date: &str, hour: i64) -> &'a str {
    let id = format!("id=\"slot-{date}T{hour:02}\"");
    let i = html.find(&id).unwrap_or_else(|| panic!("no slot {id}"));
    let rest = &html[i..];
    &rest[..rest.find("</div>").unwrap()]
}

/// The HTML of one person's row on the workload page.
fn row<'a>(html: &'a str, user: &str) -> &'a str {
    let i = html.find(&format!("id=\"wl-{user}\"")).unwrap_or_else(|| panic!("no row for {user}"));
    let rest = &html[i..];
    &rest[..rest.find("</tr>").unwrap()]
}

async fn user_id(app: &TestApp, email: &str) -> String {
    karta_kernel::users::by_email(&app.db, &app.tenant_a, email).await.unwrap().unwrap().id
}

async fn activity(c: &Client, body: Value) -> String {
    let r = c.post("/api/v1/activities", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

/// The CSRF token in a page's forms.
fn csrf(html: &str) -> String {
    let i = html.find("name=\"_csrf\" value=\"").expect("a form") + 20;
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}: {}", r.text);
    unescape(&r.text)
}

/// The page with `&` in links as written (the templates escape it).
fn unescape(html: &str) -> String {
    html.replace("&#38;", "&").replace("&amp;", "&")
}

#[engines]
async fn the_week_shows_my_meetings_in_their_local_hour_and_a_manager_sees_the_team(k: Kind) {
    let app = TestApp::spawn(k).await;
    let now = app.clock.now();
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let mgr = app.api("acme", "manager@acme.test").await;
    let (id1, id2) = (user_id(&app, "sales1@acme.test").await, user_id(&app, "sales2@acme.test").await);
    // Next week, same weekday: 10:00–11:00 Moscow time is 07:00 UTC.
    let day = karta_core::clock::day_start(now, MSK) + 7 * DAY;
    let date = local_date(day);
    let acc = s1.post("/api/v1/accounts", &json!({"name": "ООО Ромашка"})).await.json();
    let mine = activity(
        &s1,
        json!({"kind": "meeting", "subject": "Встреча с Ромашкой", "starts_at": day + 10 * HOUR,
               "ends_at": day + 11 * HOUR, "account_id": acc["id"]}),
    )
    .await;
    activity(&s2, json!({"kind": "meeting", "subject": "Чужая встреча", "starts_at": day + 10 * HOUR})).await;
    activity(&mgr, json!({"kind": "task", "subject": "Задача руководителя", "due_at": day + 23 * HOUR})).await;

    let ui = app.browser("sales1@acme.test").await;
    let week = page(&ui, &format!("/calendar?view=week&date={date}")).await;
    let ten = slot(&week, &date, 10);
    assert!(ten.contains("Встреча с Ромашкой"), "my meeting is in its day and local hour: {ten}");
    assert!(ten.contains("10:00–11:00") && ten.contains("ООО Ромашка"), "time and the linked account");
    assert!(ten.contains(&format!("href=\"/activities/{mine}\"")), "the item opens the activity");
    assert!(!slot(&week, &date, 9).contains("Встреча"), "not in the hour before");
    assert!(!week.contains("Чужая встреча"), "a colleague's meeting is not in my calendar");
    assert!(!week.contains("Задача руководителя"));
    // An empty hour is a link to a new meeting at its start (UTC ms).
    let nine = format!("/activities/new?at={}&kind=meeting", day + 9 * HOUR);
    assert!(slot(&week, &date, 9).contains(&nine), "{}", slot(&week, &date, 9));
    assert!(!week.contains("name=\"who\""), "a salesperson has no one else to choose");
    assert!(!week.contains("style="), "no inline styles");
    // Asking for the team or a colleague still shows only mine.
    let team = page(&ui, &format!("/calendar?view=week&date={date}&who=team")).await;
    assert!(team.contains("Встреча с Ромашкой") && !team.contains("Чужая встреча"));
    let other = page(&ui, &format!("/calendar?view=week&date={date}&who={id2}")).await;
    assert!(!other.contains("Чужая встреча"));
    // Prev / next move by a week and keep the view.
    let next = local_date(day + 7 * DAY);
    assert!(week.contains(&format!("/calendar?view=week&date={next}")), "next week link");

    // The manager: their own calendar, their team's, one colleague's; not another team's.
    let m = app.browser("manager@acme.test").await;
    let own = page(&m, &format!("/calendar?view=week&date={date}")).await;
    assert!(own.contains("Задача руководителя") && !own.contains("Встреча с Ромашкой"));
    assert!(own.contains("name=\"who\"") && own.contains(&format!("<option value=\"{id1}\"")));
    assert!(!own.contains(&format!("<option value=\"{id2}\"")), "sales2 is not in the manager's team");
    let team = page(&m, &format!("/calendar?view=week&date={date}&who=team")).await;
    assert!(slot(&team, &date, 10).contains("Встреча с Ромашкой"), "the team's meetings");
    assert!(team.contains("Задача руководителя"), "23:00 is listed with the other times");
    assert!(team.contains("All day / other times"));
    assert!(!team.contains("Чужая встреча"), "another team's meeting stays hidden");
    let one = page(&m, &format!("/calendar?view=week&date={date}&who={id1}")).await;
    assert!(one.contains("Встреча с Ромашкой") && !one.contains("Задача руководителя"));
    let r = m.get(&format!("/calendar?view=week&date={date}&who={id2}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "outside the manager's scope");
    // An admin's team is everyone.
    let a = app.browser("admin@acme.test").await;
    let all = page(&a, &format!("/calendar?view=week&date={date}&who=team")).await;
    assert!(all.contains("Встреча с Ромашкой") && all.contains("Чужая встреча"));
    app.finish().await;
}

#[engines]
async fn the_day_and_month_views_place_items_mark_overdue_ones_and_speak_russian(k: Kind) {
    let app = TestApp::spawn(k).await;
    let now = app.clock.now();
    let s1 = app.api("acme", "sales1@acme.test").await;
    let day = karta_core::clock::day_start(now, MSK) + 3 * DAY;
    let date = local_date(day);
    activity(&s1, json!({"kind": "call", "subject": "Звонок утром", "due_at": day + 9 * HOUR + 30 * 60_000})).await;
    for i in 0..6 {
        activity(&s1, json!({"kind": "task", "subject": format!("Задача {i}"), "due_at": day + (12 + i) * HOUR})).await;
    }
    activity(&s1, json!({"kind": "task", "subject": "Поздняя задача", "due_at": day + 23 * HOUR + 30 * 60_000})).await;
    let late = activity(&s1, json!({"kind": "call", "subject": "Просроченный звонок", "due_at": now - HOUR})).await;

    let ui = app.browser("sales1@acme.test").await;
    let d = page(&ui, &format!("/calendar?view=day&date={date}")).await;
    let nine = slot(&d, &date, 9);
    assert!(nine.contains("09:30") && nine.contains("Звонок утром") && nine.contains("Call"), "{nine}");
    assert!(slot(&d, &date, 14).contains("Задача 2"));
    assert!(d.contains("All day / other times") && d.contains("Поздняя задача"), "23:30 is outside the hours");
    assert!(!slot(&d, &date, 21).contains("Поздняя задача"));
    // The overdue call is marked on its day.
    let today = page(&ui, &format!("/calendar?view=day&date={}", local_date(now - HOUR))).await;
    let i = today.find(&format!("/activities/{late}")).unwrap();
    let tag = &today[today[..i].rfind("<a ").unwrap()..i];
    assert!(tag.contains("overdue"), "{tag}");
    assert!(today.contains("Overdue"));

    // The month: up to four per day, then "+N" to the day view.
    let month = page(&ui, &format!("/calendar?view=month&date={date}")).await;
    assert!(month.contains("Звонок утром") && month.contains("Задача 2"));
    assert!(!month.contains("Задача 5"), "only the first four of the day are listed");
    assert!(month.contains("+4"), "8 items: 4 shown and +4");
    assert!(month.contains(&format!("/calendar?view=day&date={date}")));
    let cell = format!("/activities/new?at={}&kind=meeting", day);
    assert!(month.contains(&cell), "a day cell makes a meeting on that day");
    assert!(!month.contains("style="));

    // In Russian.
    let settings = ui.get("/settings").await;
    let r = ui.form("/settings/language", &[("_csrf", &settings.csrf()), ("lang", "ru")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ru = page(&ui, &format!("/calendar?view=month&date={date}")).await;
    assert!(ru.contains("Календарь") && ru.contains(">Пн<") && ru.contains(">Вс<"), "Russian weekdays");
    assert!(ru.contains("cal-kl\">Звонок<"), "the kind in Russian");
    let wk = page(&ui, &format!("/calendar?view=week&date={date}")).await;
    assert!(wk.contains("Весь день / другое время") && wk.contains("Новая встреча"));
    app.finish().await;
}

#[engines]
async fn the_workload_is_for_managers_and_a_hand_over_is_previewed_then_moves_everything(k: Kind) {
    let app = TestApp::spawn(k).await;
    let now = app.clock.now();
    let s1 = app.api("acme", "sales1@acme.test").await;
    let mgr_api = app.api("acme", "manager@acme.test").await;
    let (id1, id2, idm) = (
        user_id(&app, "sales1@acme.test").await,
        user_id(&app, "sales2@acme.test").await,
        user_id(&app, "manager@acme.test").await,
    );
    let acc = s1.post("/api/v1/accounts", &json!({"name": "Север"})).await.json();
    s1.contact("Анна", "Петрова").await;
    let deal = s1.post("/api/v1/deals", &json!({"title": "Поставка", "account_id": acc["id"]})).await.json();
    let deal_id = deal["id"].as_str().unwrap();
    activity(&s1, json!({"kind": "task", "subject": "Просрочено", "due_at": now - HOUR})).await;
    activity(&s1, json!({"kind": "call", "subject": "Позвонить", "due_at": now + HOUR})).await;

    // A salesperson is refused, politely.
    let ui = app.browser("sales1@acme.test").await;
    let r = ui.get("/workload").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text.contains("sales managers and administrators"), "{}", r.text);
    let csrf = ui.get("/settings").await.csrf();
    let r = ui.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &id2)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The manager sees their team's numbers.
    let m = app.browser("manager@acme.test").await;
    let w = page(&m, "/workload").await;
    let r1 = row(&w, &id1);
    assert!(r1.contains(&format!("/deals?filter=owner:eq:{id1}&filter=status:eq:open\">1</a>")), "{r1}");
    assert!(r1.contains("<meter min=\"0\" max=\"1\" value=\"1\""), "{r1}");
    assert!(r1.contains("<td class=\"num wl-late\">1</td>"), "one overdue task: {r1}");
    assert!(r1.contains("<td class=\"num\">—</td>"), "nothing won yet: {r1}");
    assert!(!w.contains(&format!("id=\"wl-{id2}\"")), "another team's salesperson is not listed");
    assert!(!w.contains("style="));
    let csrf = m.get("/workload").await.csrf();

    // Refusals: another team, an unknown user, the same person.
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id2), ("to", &idm)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text.contains("within your team"), "{}", r.text);
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", "nobody")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Choose an active user"));
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &id1)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("two different people"));

    // The preview counts and changes nothing.
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &idm)]).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    for (label, n) in [("Open deals", 1), ("Accounts", 1), ("Contacts", 1), ("Planned activities", 2)] {
        assert!(r.text.contains(&format!("{label}: <strong>{n}</strong>")), "{label} {n}: {}", r.text);
    }
    assert!(r.text.contains("name=\"confirm\" value=\"1\""));
    assert_eq!(s1.get(&format!("/api/v1/deals/{deal_id}")).await.status(), StatusCode::OK, "not moved yet");

    // Confirmed: everything moves and the page says how much.
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &idm), ("confirm", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.header("location");
    assert!(to.starts_with("/workload?moved=1.1.1.2"), "{to}");
    let done = page(&m, &to).await;
    assert!(done.contains("Handed over to"), "{done}");
    assert_eq!(s1.get(&format!("/api/v1/deals/{deal_id}")).await.status(), StatusCode::NOT_FOUND);
    let d = mgr_api.get(&format!("/api/v1/deals/{deal_id}")).await.json();
    assert_eq!(d["owner_id"], json!(idm));
    let w = page(&m, "/workload").await;
    assert!(row(&w, &idm).contains("status:eq:open\">1</a>"), "the manager now has the deal");
    app.finish().await;
}

#[engines]
async fn the_feed_address_is_shown_once_serves_icalendar_and_stops_when_turned_off(k: Kind) {
    let app = TestApp::spawn(k).await;
    let now = app.clock.now();
    let s1 = app.api("acme", "sales1@acme.test").await;
    activity(&s1, json!({"kind": "meeting", "subject": "Встреча в офисе", "starts_at": now + DAY})).await;
    let ui = app.browser("sales1@acme.test").await;
    let p = page(&ui, "/settings/calendar").await;
    assert!(p.contains("You have no calendar address yet"));
    let r = ui.form("/settings/calendar/new", &[("_csrf", &csrf(&p))]).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let start = r.text.find("id=\"feed-url\">").unwrap() + 14;
    let url = r.text[start..start + r.text[start..].find('<').unwrap()].to_string();
    assert!(url.starts_with(&format!("{}/calendar/", app.base)) && url.ends_with(".ics"), "{url}");
    assert!(r.text.contains("webcal://"), "a link phones open as a subscription");
    let plain = reqwest::Client::new();
    let feed = plain.get(&url).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let body = feed.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR") && body.contains("Встреча в офисе"), "{body}");
    // Later the address is not shown again, but the page says it is on.
    let p = page(&ui, "/settings/calendar").await;
    assert!(p.contains("Your calendar address is on") && !p.contains(&url));
    // A new address replaces the old one.
    let r = ui.form("/settings/calendar/new", &[("_csrf", &csrf(&p))]).await;
    let start = r.text.find("id=\"feed-url\">").unwrap() + 14;
    let url2 = r.text[start..start + r.text[start..].find('<').unwrap()].to_string();
    assert_ne!(url, url2);
    assert_eq!(plain.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(plain.get(&url2).send().await.unwrap().status(), StatusCode::OK);
    // Turned off: the address stops working.
    let r = ui.form("/settings/calendar/revoke", &[("_csrf", &csrf(&p))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/settings/calendar?m=revoked");
    assert_eq!(plain.get(&url2).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let p = page(&ui, "/settings/calendar?m=revoked").await;
    assert!(p.contains("The calendar address is off") && p.contains("You have no calendar address yet"));
    // Without a session the settings page sends to sign-in; without the token a post is refused.
    let anon = Client::new(&app.base, None);
    assert_eq!(anon.get("/settings/calendar").await.status(), StatusCode::SEE_OTHER);
    let r = ui.form("/settings/calendar/new", &[("_csrf", "wrong")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.finish().await;
}
