//! The organizer pages: My day is where a user lands; a task is completed from it with a result
//! and the next step offered; congratulations plan a call; activities logged in the form show
//! on the contact's timeline, filterable by type.

use crate::common::{Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::json;

const DAY: i64 = 86_400_000;

#[engines]
async fn my_day_is_the_landing_page_and_a_task_is_completed_from_it_with_the_next_step_offered(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let now = app.clock.now();
    let con = api.contact("Игорь", "Соколов").await;
    let task = api
        .post(
            "/api/v1/activities",
            &json!({"kind": "task", "subject": "Перезвонить Соколову", "due_at": now - DAY, "contact_id": con["id"]}),
        )
        .await
        .json();
    // "Today" on My day is the user's local date (Moscow for a Russian tenant), which
    // differs from the UTC date late in the evening.
    let today = karta_core::clock::today(now + karta_core::Zone::of_country("RU").offset_min(now) * 60_000);
    api.post(
        "/api/v1/contacts",
        &json!({"first_name": "Мария", "last_name": "Юбилярова", "birthday": format!("1990{}", &today[4..])}),
    )
    .await;

    // Signing in lands on My day.
    let ui = crate::common::Client::new(&app.base, None);
    let r = ui.form("/login", &[("email", "sales1@acme.test"), ("password", crate::common::PASSWORD)]).await;
    assert_eq!(r.header("location"), "/my-day");
    let page = ui.get("/my-day").await;
    assert_eq!(page.status(), StatusCode::OK);
    let day = page.doc();
    assert!(day.texts("ul.acts a.subject").contains(&"Перезвонить Соколову".to_string()), "{}", page.text);
    assert!(
        day.texts("ul.related li a[href^='/contacts/']").iter().any(|n| n.contains("Юбилярова")),
        "a date to congratulate on"
    );
    let csrf = page.csrf();

    // Complete it with a result: the next-step form follows, with the same contact.
    let id = task["id"].as_str().unwrap();
    let r = ui
        .form(
            &format!("/activities/{id}/complete"),
            &[("_csrf", &csrf), ("version", "1"), ("result", "Договорились о встрече"), ("back", "/my-day")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let next = r.header("location");
    assert_eq!(next, format!("/activities/new?after={id}"));
    let form = ui.get(&next).await;
    assert_eq!(
        form.doc().attrs("input[name=contact_id]", "value"),
        [con["id"].as_str().unwrap()],
        "the next step keeps the contact"
    );
    let done = api.get(&format!("/api/v1/activities/{id}")).await.json();
    assert_eq!((done["status"].as_str(), done["result"].as_str()), (Some("done"), Some("Договорились о встрече")));
    let day = ui.get("/my-day").await.doc();
    assert!(!day.texts("ul.acts a.subject").contains(&"Перезвонить Соколову".to_string()), "done tasks leave My day");

    let colleague =
        app.api("acme", "sales2@acme.test").await.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    // Plan the next step through the form (a local time with the browser's offset).
    let r = ui
        .form(
            "/activities",
            &[
                ("_csrf", &csrf),
                ("kind", "meeting"),
                ("subject", "Встреча с Соколовым"),
                ("when", "2030-05-20T10:00"),
                ("contact_id", con["id"].as_str().unwrap()),
                ("owner_id", ""),
                ("participant_user", &colleague),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let list =
        api.get(&format!("/api/v1/activities?contact={}&kind=meeting", con["id"].as_str().unwrap())).await.json();
    let meeting = &list["items"][0];
    assert_eq!(meeting["subject"], "Встреча с Соколовым");
    let full = api.get(&format!("/api/v1/activities/{}", meeting["id"].as_str().unwrap())).await.json();
    let kinds: Vec<(&str, &str)> = full["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap(), p["id"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("user", colleague.as_str())) && kinds.contains(&("contact", con["id"].as_str().unwrap())),
        "{full}"
    );
    // No time-zone cookie: the tenant's country (Russia, UTC+3) decides.
    assert_eq!(meeting["starts_at"], 1_905_490_800_000_i64, "10:00 in Moscow is 07:00 UTC");

    // A bad time is a field error, not a 500.
    let r = ui.form("/activities", &[("_csrf", &csrf), ("kind", "task"), ("subject", "X"), ("when", "завтра")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The contact's timeline shows both, newest first, and filters by type.
    let cp = ui.get(&format!("/contacts/{}", con["id"].as_str().unwrap())).await;
    let lines = cp.doc().texts("ol.timeline li.act > div > a[href^='/activities/']");
    let at = |s: &str| lines.iter().position(|l| l == s).unwrap_or_else(|| panic!("{s} on the timeline: {lines:?}"));
    assert!(at("Встреча с Соколовым") < at("Перезвонить Соколову"), "newest first");
    let only = ui.get(&format!("/contacts/{}?type=task", con["id"].as_str().unwrap())).await.doc();
    assert_eq!(
        only.texts("ol.timeline li.act > div > a[href^='/activities/']"),
        ["Перезвонить Соколову"],
        "tasks only"
    );

    // Congratulate: one click plans a call for today.
    let page = ui.get("/my-day").await;
    let mid = page.text.find("name=\"contact_id\" value=\"").unwrap() + 25;
    let cid = &page.text[mid..mid + 36];
    let r = ui
        .form(
            "/my-day/congratulate",
            &[("_csrf", &csrf), ("contact_id", cid), ("what", "день рождения"), ("kind", "call")],
        )
        .await;
    assert_eq!(r.header("location"), "/my-day?m=planned");
    let planned = api.get(&format!("/api/v1/activities?contact={cid}")).await.json();
    assert_eq!(planned["items"][0]["kind"], "call");
    assert!(planned["items"][0]["subject"].as_str().unwrap().contains("Юбилярова"));
    app.finish().await;
}

/// Milliseconds of an RFC 3339 UTC instant.
fn utc(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp() * 1000
}

#[engines]
async fn a_meeting_typed_at_ten_is_at_ten_in_the_users_zone_on_both_sides_of_a_clock_change(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let ui = app.browser("sales1@acme.test").await;
    let meeting_at = |when: &'static str| {
        let (ui, api) = (&ui, &api);
        async move {
            let csrf = ui.get("/activities/new").await.csrf();
            let subject = format!("Встреча {when}");
            let r = ui
                .form("/activities", &[("_csrf", &csrf), ("kind", "meeting"), ("subject", &subject), ("when", when)])
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}: {}", r.text);
            let id = r.header("location").trim_start_matches("/activities/").to_string();
            let a = api.get(&format!("/api/v1/activities/{id}")).await.json();
            let edit = ui.get(&format!("/activities/{id}/edit")).await.text;
            assert!(edit.contains(&format!("value=\"{when}\"")), "{k:?}: shown back as typed: {when}");
            a["starts_at"].as_i64().unwrap()
        }
    };
    // The tenant's zone (Moscow, no daylight saving) until the user chooses one.
    assert_eq!(meeting_at("2026-01-15T10:00").await, utc("2026-01-15T07:00:00Z"), "{k:?}");
    assert_eq!(meeting_at("2026-07-15T10:00").await, utc("2026-07-15T07:00:00Z"), "{k:?}");
    let settings = ui.get("/settings").await;
    assert_eq!(settings.doc().text("#zone-now"), "Europe/Moscow (UTC+03:00)", "{k:?}: the zone in use is shown");

    // Berlin: winter time before 29 March 2026, summer time after.
    let csrf = settings.csrf();
    let r = ui.form("/settings/time-zone", &[("_csrf", &csrf), ("zone", "Europe/Berlin")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    assert_eq!(meeting_at("2026-03-27T10:00").await, utc("2026-03-27T09:00:00Z"), "{k:?}: CET");
    assert_eq!(meeting_at("2026-03-30T10:00").await, utc("2026-03-30T08:00:00Z"), "{k:?}: CEST");
    assert_eq!(meeting_at("2026-10-26T10:00").await, utc("2026-10-26T09:00:00Z"), "{k:?}: CET again");

    // New York changes on other dates: 8 March and 1 November 2026.
    let r = ui.form("/settings/time-zone", &[("_csrf", &csrf), ("zone", "America/New_York")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    assert_eq!(meeting_at("2026-03-06T10:00").await, utc("2026-03-06T15:00:00Z"), "{k:?}: EST");
    assert_eq!(meeting_at("2026-03-09T10:00").await, utc("2026-03-09T14:00:00Z"), "{k:?}: EDT");
    assert_eq!(meeting_at("2026-11-02T10:00").await, utc("2026-11-02T15:00:00Z"), "{k:?}: EST again");

    // A zone that does not exist is refused and changes nothing.
    let r = ui.form("/settings/time-zone", &[("_csrf", &csrf), ("zone", "Mars/Olympus")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{k:?}");
    let chosen = ui.get("/settings").await.doc();
    assert_eq!(chosen.attrs("select[name=zone] option[selected]", "value"), ["America/New_York"], "{k:?}");
    assert!(chosen.text("#zone-now").starts_with("America/New_York (UTC−0"), "{k:?}");

    // Back to no choice of one's own: the company's zone, which the admin sets.
    let r = ui.form("/settings/time-zone", &[("_csrf", &csrf), ("zone", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    let admin = app.browser("admin@acme.test").await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.doc().attrs("#company-zone option[selected]", "value"), ["Europe/Moscow"], "{k:?}");
    let r = admin.form("/admin/company/time-zone", &[("_csrf", &page.csrf()), ("zone", "Asia/Yekaterinburg")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    assert_eq!(meeting_at("2026-07-15T10:00").await, utc("2026-07-15T05:00:00Z"), "{k:?}: UTC+5");
    let r = ui.form("/admin/company/time-zone", &[("_csrf", &csrf), ("zone", "Europe/Berlin")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{k:?}: only an admin sets the company's zone");

    // The API takes a zone by name too, and refuses an unknown one with a field error.
    assert_eq!(api.get("/api/v1/my-day?tz=Europe/Berlin").await.status(), StatusCode::OK, "{k:?}");
    let r = api.get("/api/v1/my-day?tz=Nowhere/City").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{k:?}");
    assert_eq!(r.error_fields(), ["tz"], "{k:?}");
    app.finish().await;
}

/// `ms` as `DD.MM.YYYY HH:MM` at a fixed offset east of UTC (hours), computed here rather
/// than by the app's own zone code.
fn ru_at(ms: i64, hours: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000 + hours * 3600).unwrap();
    format!("{:02}.{:02}.{} {:02}:{:02}", t.day(), u8::from(t.month()), t.year(), t.hour(), t.minute())
}

#[engines]
async fn a_record_page_shows_its_times_in_the_readers_zone_written_the_languages_way(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let con = api.contact("Ефим", "Поясов").await;
    let (id, created) = (con["id"].as_str().unwrap().to_string(), con["created_at"].as_i64().unwrap());
    let ui = app.browser("sales1@acme.test").await;
    let stamp = |page: &crate::common::Doc| page.text("#main p.meta");
    let settings = ui.get("/settings").await;
    let r = ui.form("/settings/language", &[("_csrf", &settings.csrf()), ("lang", "ru")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    let page = ui.get(&format!("/contacts/{id}")).await;
    let shown = stamp(&page.doc());
    // Moscow (the tenant's zone, UTC+3 all year) in Russian.
    assert!(shown.contains(&format!("Создано: {}", ru_at(created, 3))), "{k:?}: {shown}");
    assert!(!shown.contains("UTC"), "{k:?}: {shown}");
    // The page script restates times in the zone the server chose.
    assert_eq!(page.doc().attrs("html", "data-zone"), ["Europe/Moscow"], "{k:?}");

    // The user's own zone wins: Yekaterinburg is UTC+5 all year.
    let csrf = ui.get("/settings").await.csrf();
    let r = ui.form("/settings/time-zone", &[("_csrf", &csrf), ("zone", "Asia/Yekaterinburg")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{k:?}");
    let page = ui.get(&format!("/contacts/{id}")).await;
    let shown = stamp(&page.doc());
    assert!(shown.contains(&ru_at(created, 5)), "{k:?}: {shown}");
    assert_eq!(page.doc().attrs("html", "data-zone"), ["Asia/Yekaterinburg"], "{k:?}");
    app.finish().await;
}
