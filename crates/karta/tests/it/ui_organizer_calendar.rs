//! The organizer's pages in the browser's terms: the calendar (week, day and month; mine, a
//! colleague's, the team's; local times), the team's workload with the hand-over previewed
//! then confirmed, and the calendar feed's secret address made, served and turned off.

use crate::common::{Client, Doc, Kind, Resp, TestApp};
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

/// The selector of one hour slot of the day or week view, which must be on the page.
fn slot(d: &Doc, date: &str, hour: i64) -> String {
    let css = format!("div.cal-slot[id='slot-{date}T{hour:02}']");
    assert_eq!(d.count(&css), 1, "no slot {css}");
    css
}

/// The selector of one person's row on the workload page, which must be on the page.
fn row(d: &Doc, user: &str) -> String {
    let css = format!("tr[id='wl-{user}']");
    assert_eq!(d.count(&css), 1, "no row for {user}");
    css
}

/// The subjects of the calendar items under `css` (a slot, the other times, the page).
fn subjects(d: &Doc, css: &str) -> Vec<String> {
    d.texts(&format!("{css} .cal-item .cal-subj"))
}

/// Whether `texts` holds `t`.
fn has(texts: &[String], t: &str) -> bool {
    texts.iter().any(|x| x == t)
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
fn csrf(d: &Doc) -> String {
    d.attrs("input[name=_csrf]", "value").into_iter().next().expect("a form")
}

/// A page that must be there, parsed (its links read with `&` as written, not escaped).
async fn page(c: &Client, path: &str) -> Doc {
    let r = c.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}: {}", r.text);
    r.doc()
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
    assert!(has(&subjects(&week, &ten), "Встреча с Ромашкой"), "my meeting is in its day and local hour");
    assert!(has(&week.texts(&format!("{ten} .cal-item .cal-time")), "10:00–11:00"), "the time");
    assert!(has(&week.texts(&format!("{ten} .cal-item .cal-linked")), "ООО Ромашка"), "the linked account");
    assert_eq!(week.count(&format!("{ten} a.cal-item[href='/activities/{mine}']")), 1, "the item opens the activity");
    let nine_slot = slot(&week, &date, 9);
    let before = week.text(&nine_slot);
    assert!(!before.contains("Встреча"), "not in the hour before: {before}");
    let mine_only = subjects(&week, "main");
    assert!(!has(&mine_only, "Чужая встреча"), "a colleague's meeting is not in my calendar: {mine_only:?}");
    assert!(!has(&mine_only, "Задача руководителя"));
    // An empty hour is a link to a new meeting at its start (UTC ms).
    let nine = format!("/activities/new?at={}&kind=meeting", day + 9 * HOUR);
    let add = week.attrs(&format!("{nine_slot} a.cal-add"), "href");
    assert_eq!(add, [nine], "the hour's link");
    assert_eq!(week.count("[name=who]"), 0, "a salesperson has no one else to choose");
    assert_eq!(week.count("[style]"), 0, "no inline styles");
    // Asking for the team or a colleague still shows only mine.
    let team = subjects(&page(&ui, &format!("/calendar?view=week&date={date}&who=team")).await, "main");
    assert!(has(&team, "Встреча с Ромашкой") && !has(&team, "Чужая встреча"), "{team:?}");
    let other = subjects(&page(&ui, &format!("/calendar?view=week&date={date}&who={id2}")).await, "main");
    assert!(!has(&other, "Чужая встреча"), "{other:?}");
    // Prev / next move by a week and keep the view.
    let next = local_date(day + 7 * DAY);
    assert_eq!(
        week.attrs(".cal-nav a[rel=next]", "href"),
        [format!("/calendar?view=week&date={next}")],
        "next week link"
    );

    // The manager: their own calendar, their team's, one colleague's; not another team's.
    let m = app.browser("manager@acme.test").await;
    let own = page(&m, &format!("/calendar?view=week&date={date}")).await;
    let own_items = subjects(&own, "main");
    assert!(has(&own_items, "Задача руководителя") && !has(&own_items, "Встреча с Ромашкой"), "{own_items:?}");
    assert_eq!(own.count(&format!("select[name=who] option[value='{id1}']")), 1, "the manager may choose sales1");
    assert_eq!(own.count(&format!("option[value='{id2}']")), 0, "sales2 is not in the manager's team");
    let team = page(&m, &format!("/calendar?view=week&date={date}&who=team")).await;
    assert!(has(&subjects(&team, &slot(&team, &date, 10)), "Встреча с Ромашкой"), "the team's meetings");
    assert!(has(&subjects(&team, ".cal-other"), "Задача руководителя"), "23:00 is listed with the other times");
    assert_eq!(team.text(".cal-hl.cal-row-other"), "All day / other times");
    assert!(!has(&subjects(&team, "main"), "Чужая встреча"), "another team's meeting stays hidden");
    let one = subjects(&page(&m, &format!("/calendar?view=week&date={date}&who={id1}")).await, "main");
    assert!(has(&one, "Встреча с Ромашкой") && !has(&one, "Задача руководителя"), "{one:?}");
    let r = m.get(&format!("/calendar?view=week&date={date}&who={id2}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "outside the manager's scope");
    // An admin's team is everyone.
    let a = app.browser("admin@acme.test").await;
    let all = subjects(&page(&a, &format!("/calendar?view=week&date={date}&who=team")).await, "main");
    assert!(has(&all, "Встреча с Ромашкой") && has(&all, "Чужая встреча"), "{all:?}");
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
    let items = d.texts(&format!("{nine} .cal-item"));
    assert!(has(&d.texts(&format!("{nine} .cal-item .cal-time")), "09:30"), "{items:?}");
    assert!(has(&subjects(&d, &nine), "Звонок утром"), "{items:?}");
    assert!(has(&d.texts(&format!("{nine} .cal-item .cal-kl")), "Call"), "{items:?}");
    assert!(has(&subjects(&d, &slot(&d, &date, 14)), "Задача 2"));
    assert_eq!(d.text(".cal-hl.cal-row-other"), "All day / other times");
    assert!(has(&subjects(&d, ".cal-other"), "Поздняя задача"), "23:30 is outside the hours");
    assert!(!has(&subjects(&d, &slot(&d, &date, 21)), "Поздняя задача"));
    // The overdue call is marked on its day.
    let today = page(&ui, &format!("/calendar?view=day&date={}", local_date(now - HOUR))).await;
    let item = format!("a.cal-item[href='/activities/{late}']");
    assert_eq!(today.count(&item), 1, "the overdue call is on its day");
    assert_eq!(today.count(&format!("{item}.overdue")), 1, "marked overdue");
    assert_eq!(today.text(&format!("{item} .flag.overdue")), "Overdue");

    // The month: up to four per day, then "+N" to the day view.
    let month = page(&ui, &format!("/calendar?view=month&date={date}")).await;
    let listed = subjects(&month, "main");
    assert!(has(&listed, "Звонок утром") && has(&listed, "Задача 2"), "{listed:?}");
    assert!(!has(&listed, "Задача 5"), "only the first four of the day are listed");
    let day_url = format!("/calendar?view=day&date={date}");
    assert_eq!(
        month.texts(&format!("a.cal-more[href='{day_url}'] > [aria-hidden=true]")),
        ["+4"],
        "8 items: 4 shown and +4"
    );
    assert_eq!(month.count(&format!("a.cal-dnum[href='{day_url}']")), 1, "the day's number opens the day");
    let cell = format!("/activities/new?at={}&kind=meeting", day);
    assert_eq!(
        month.count(&format!("td.cal-cell a.cal-add[href='{cell}']")),
        1,
        "a day cell makes a meeting on that day"
    );
    assert_eq!(month.count("[style]"), 0);

    // In Russian.
    let settings = ui.get("/settings").await;
    let r = ui.form("/settings/language", &[("_csrf", &settings.csrf()), ("lang", "ru")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ru = page(&ui, &format!("/calendar?view=month&date={date}")).await;
    assert_eq!(ru.text("nav.side a[aria-current=page]"), "Календарь");
    let weekdays = ru.texts(".cal-month thead th");
    assert_eq!(
        (weekdays.first().map(String::as_str), weekdays.last().map(String::as_str)),
        (Some("Пн"), Some("Вс")),
        "Russian weekdays"
    );
    assert!(has(&ru.texts(".cal-item .cal-kl"), "Звонок"), "the kind in Russian");
    let wk = page(&ui, &format!("/calendar?view=week&date={date}")).await;
    assert_eq!(wk.text(".cal-hl.cal-row-other"), "Весь день / другое время");
    assert_eq!(wk.text(".head-actions a.button"), "Новая встреча");
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
    let msg = r.doc().text("p.msg");
    assert!(msg.contains("sales managers and administrators"), "{msg}");
    let csrf = ui.get("/settings").await.csrf();
    let r = ui.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &id2)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The manager sees their team's numbers.
    let m = app.browser("manager@acme.test").await;
    let w = page(&m, "/workload").await;
    let r1 = row(&w, &id1);
    let cells = w.texts(&format!("{r1} td"));
    let open = format!("{r1} td.num a[href='/deals?filter=owner:eq:{id1}&filter=status:eq:open']");
    assert_eq!(w.texts(&open), ["1"], "{cells:?}");
    assert_eq!(w.count(&format!("{r1} meter[min='0'][max='1'][value='1']")), 1, "{cells:?}");
    assert_eq!(w.texts(&format!("{r1} td.num.wl-late")), ["1"], "one overdue task: {cells:?}");
    assert_eq!(w.texts(&format!("{r1} td[class=num]:last-child")), ["—"], "nothing won yet: {cells:?}");
    assert_eq!(w.count(&format!("[id='wl-{id2}']")), 0, "another team's salesperson is not listed");
    assert_eq!(w.count("[style]"), 0);
    let csrf = m.get("/workload").await.csrf();

    // Refusals: another team, an unknown user, the same person.
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id2), ("to", &idm)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let refusal = |r: &Resp| r.doc().text("#handover-form p.alert[role=alert]");
    assert!(refusal(&r).contains("within your team"), "{}", r.text);
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", "nobody")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refusal(&r).contains("Choose an active user"), "{}", r.text);
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &id1)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refusal(&r).contains("two different people"), "{}", r.text);

    // The preview counts and changes nothing.
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &idm)]).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let d = r.doc();
    let counts = d.texts(".wl-preview .wl-counts li");
    for (label, n) in [("Open deals", 1), ("Accounts", 1), ("Contacts", 1), ("Planned activities", 2)] {
        assert!(has(&counts, &format!("{label}: {n}")), "{label} {n}: {counts:?}");
    }
    assert_eq!(d.texts(".wl-preview .wl-counts li > strong"), ["1", "1", "1", "2"], "the numbers stand out");
    assert_eq!(d.count("form.wl-confirm input[name=confirm][value='1']"), 1);
    assert_eq!(s1.get(&format!("/api/v1/deals/{deal_id}")).await.status(), StatusCode::OK, "not moved yet");

    // Confirmed: everything moves and the page says how much.
    let r = m.form("/workload/reassign", &[("_csrf", &csrf), ("from", &id1), ("to", &idm), ("confirm", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.header("location");
    assert!(to.starts_with("/workload?moved=1.1.1.2"), "{to}");
    let done = page(&m, &to).await.text("#handover.notice > p");
    assert!(done.starts_with("Handed over to"), "{done}");
    assert_eq!(s1.get(&format!("/api/v1/deals/{deal_id}")).await.status(), StatusCode::NOT_FOUND);
    let d = mgr_api.get(&format!("/api/v1/deals/{deal_id}")).await.json();
    assert_eq!(d["owner_id"], json!(idm));
    let w = page(&m, "/workload").await;
    let open = format!("{} td.num a[href$='&filter=status:eq:open']", row(&w, &idm));
    assert_eq!(w.texts(&open), ["1"], "the manager now has the deal");
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
    assert_eq!(p.text("p.feed-state"), "You have no calendar address yet.");
    let r = ui.form("/settings/calendar/new", &[("_csrf", &csrf(&p))]).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let made = r.doc();
    let url = made.text("#feed-url");
    assert!(url.starts_with(&format!("{}/calendar/", app.base)) && url.ends_with(".ics"), "{url}");
    let open = made.attrs(".feed-new a[href]", "href");
    assert!(open.len() == 1 && open[0].starts_with("webcal://"), "a link phones open as a subscription: {open:?}");
    let plain = reqwest::Client::new();
    let feed = plain.get(&url).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let body = feed.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR") && body.contains("Встреча в офисе"), "{body}");
    // Later the address is not shown again, but the page says it is on.
    let p = page(&ui, "/settings/calendar").await;
    assert!(p.text("p.feed-state.on").starts_with("Your calendar address is on"));
    let secret = url.rsplit('/').next().unwrap();
    assert_eq!(p.count("#feed-url"), 0, "the address is not shown again");
    assert!(!p.text("body").contains(secret), "nor its secret anywhere on the page");
    assert!(!p.attrs("a[href]", "href").iter().any(|h| h.contains(secret)), "nor in a link");
    // A new address replaces the old one.
    let r = ui.form("/settings/calendar/new", &[("_csrf", &csrf(&p))]).await;
    let url2 = r.doc().text("#feed-url");
    assert_ne!(url, url2);
    assert_eq!(plain.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(plain.get(&url2).send().await.unwrap().status(), StatusCode::OK);
    // Turned off: the address stops working.
    let r = ui.form("/settings/calendar/revoke", &[("_csrf", &csrf(&p))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/settings/calendar?m=revoked");
    assert_eq!(plain.get(&url2).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let p = page(&ui, "/settings/calendar?m=revoked").await;
    assert!(p.text("p.notice[role=status]").starts_with("The calendar address is off"));
    assert_eq!(p.text("p.feed-state"), "You have no calendar address yet.");
    // Without a session the settings page sends to sign-in; without the token a post is refused.
    let anon = Client::new(&app.base, None);
    assert_eq!(anon.get("/settings/calendar").await.status(), StatusCode::SEE_OTHER);
    let r = ui.form("/settings/calendar/new", &[("_csrf", "wrong")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.finish().await;
}
