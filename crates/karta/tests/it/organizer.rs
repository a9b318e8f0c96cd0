//! The organizer through the API: activities on every linked timeline, completing with the
//! next step, reminders that fire once across a restart, My day, the calendar feed read by a
//! real iCalendar parser, own-scope isolation, and the manager's workload and reassignment.

use crate::common::{Client, Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

async fn activity(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/activities", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()
}

fn subjects(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|a| a["subject"].as_str().unwrap().to_string()).collect()
}

#[engines]
async fn an_activity_shows_on_every_linked_timeline_and_completing_it_plans_the_next_step(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let now = app.clock.now();
    let acc = c.post("/api/v1/accounts", &json!({"name": "Север"})).await.json();
    let con = c.contact("Анна", "Петрова").await;
    let deal = c.post("/api/v1/deals", &json!({"title": "Поставка", "account_id": acc["id"]})).await.json();
    // Validation: a kind we do not know, no subject, a planned call without a time.
    let r = c.post("/api/v1/activities", &json!({"kind": "fax", "subject": ""})).await;
    let mut f = r.error_fields();
    f.sort();
    assert_eq!(f, ["due_at", "kind", "subject"]);
    let r = c
        .post("/api/v1/activities", &json!({"kind": "meeting", "subject": "M", "starts_at": now, "ends_at": now - 1}))
        .await;
    assert_eq!(r.error_fields(), ["ends_at"]);
    let call = activity(
        &c,
        json!({"kind": "call", "direction": "out", "subject": "Обсудить условия", "due_at": now + 2 * 3_600_000,
               "contact_id": con["id"], "deal_id": deal["id"], "interest": "high"}),
    )
    .await;
    assert_eq!(call["account_id"], acc["id"], "the deal brings its account");
    activity(&c, json!({"kind": "note", "subject": "Любит чай", "status": "done", "contact_id": con["id"]})).await;
    app.clock.advance(MIN);
    activity(&c, json!({"kind": "meeting", "subject": "Встреча в офисе", "starts_at": now + DAY, "ends_at": now + DAY + 3_600_000,
                        "place": "Москва", "account_id": acc["id"], "participants": [{"kind": "contact", "id": con["id"]}]}))
    .await;
    let tl = |path: String| {
        let c = &c;
        async move {
            let r = c.get(&path).await;
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
            subjects(&r.json())
        }
    };
    assert_eq!(
        tl(format!("/api/v1/accounts/{}/timeline", acc["id"].as_str().unwrap())).await,
        ["Встреча в офисе", "Обсудить условия"]
    );
    assert_eq!(
        tl(format!("/api/v1/contacts/{}/timeline", con["id"].as_str().unwrap())).await,
        ["Обсудить условия", "Любит чай"]
    );
    assert_eq!(tl(format!("/api/v1/deals/{}/timeline", deal["id"].as_str().unwrap())).await, ["Обсудить условия"]);
    assert_eq!(
        tl(format!("/api/v1/accounts/{}/timeline?type=meeting", acc["id"].as_str().unwrap())).await,
        ["Встреча в офисе"]
    );

    // Complete with a result and plan the next step in one go.
    let id = call["id"].as_str().unwrap();
    let r = c.post(&format!("/api/v1/activities/{id}/complete"), &json!({"result": "x"})).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_REQUIRED);
    let r = c
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{id}/complete"),
            Some(&json!({"result": "Согласовали скидку 5%", "next": {"kind": "task", "subject": "Отправить КП", "due_at": now + DAY}})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let done = r.json();
    assert_eq!(done["done"]["status"], "done");
    assert_eq!(done["done"]["result"], "Согласовали скидку 5%");
    assert_eq!(done["next"]["deal_id"], deal["id"], "the next step keeps the links");
    assert_eq!(done["next"]["contact_id"], con["id"]);
    let r = c
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{id}/complete"),
            Some(&json!({})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "completed twice: {}", r.text);
    app.finish().await;
}

#[engines]
async fn a_reminder_fires_once_even_across_a_restart(k: Kind) {
    let mut app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let now = app.clock.now();
    let a = activity(&c, json!({"kind": "task", "subject": "Позвонить в пятницу", "due_at": now + 3_600_000, "remind_at": now + 30 * MIN}))
        .await;
    let reminders = |c: &Client| {
        let c = c.clone_with_token();
        async move {
            c.get("/api/v1/notifications")
                .await
                .json()
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] == "reminder")
                .count()
        }
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(reminders(&c).await, 0, "not yet due");
    // The server goes down before the reminder is due and comes back after.
    app.restart().await;
    app.clock.advance(31 * MIN);
    let mut n = 0;
    for _ in 0..60 {
        n = reminders(&c).await;
        if n > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(n, 1, "fired after the restart");
    let first = c.get("/api/v1/notifications").await.json()[0].clone();
    assert_eq!(first["title"], "Позвонить в пятницу");
    assert_eq!(first["link"], format!("/activities/{}", a["id"].as_str().unwrap()));
    // More rounds of the worker and another restart do not repeat it.
    app.restart().await;
    app.clock.advance(DAY);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(reminders(&c).await, 1, "exactly once");
    // Moving the reminder schedules it anew; completing the task cancels a pending one.
    let b = activity(&c, json!({"kind": "task", "subject": "Второе", "due_at": app.clock.now() + DAY, "remind_at": app.clock.now() + MIN}))
        .await;
    let bid = b["id"].as_str().unwrap();
    let r = c
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{bid}/complete"),
            Some(&json!({"result": "ok"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(2 * MIN);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(reminders(&c).await, 1, "a done task does not remind");
    app.finish().await;
}

#[engines]
async fn my_day_lists_what_is_due_what_needs_attention_and_whom_to_congratulate(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let other = app.api("acme", "sales2@acme.test").await;
    let now = app.clock.now();
    let start = karta_core::clock::day_start(now, 0);
    let later_today = (now + 60 * MIN).min(start + DAY - 1);
    activity(&c, json!({"kind": "task", "subject": "Просрочено", "due_at": now - DAY})).await;
    activity(&c, json!({"kind": "task", "subject": "Сегодня", "due_at": later_today})).await;
    activity(&c, json!({"kind": "task", "subject": "Завтра", "due_at": start + DAY + 60 * MIN})).await;
    activity(&c, json!({"kind": "meeting", "subject": "Встреча сегодня", "starts_at": later_today})).await;
    activity(&other, json!({"kind": "task", "subject": "Чужое", "due_at": now - DAY})).await;
    c.post("/api/v1/deals", &json!({"title": "Без шага"})).await;
    c.post("/api/v1/deals", &json!({"title": "С шагом", "next_step": "Звонок"})).await;
    // Birthdays: today (any year) and in ten days.
    let today = karta_core::clock::today(now);
    let in_ten = karta_core::clock::today(now + 10 * DAY);
    let bd = |d: &str| format!("1985{}", &d[4..]);
    c.post("/api/v1/contacts", &json!({"first_name": "Именинник", "last_name": "Сегодня", "birthday": bd(&today)}))
        .await;
    c.post("/api/v1/contacts", &json!({"first_name": "Позже", "last_name": "Потом", "birthday": bd(&in_ten)})).await;
    other
        .post("/api/v1/contacts", &json!({"first_name": "Чужой", "last_name": "Клиент", "birthday": bd(&today)}))
        .await;

    let r = c.get("/api/v1/my-day?tz=0").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let d = r.json();
    assert_eq!(subjects(&d["overdue"]), ["Просрочено"]);
    assert_eq!(subjects(&d["today"]), ["Сегодня"]);
    assert_eq!(subjects(&d["meetings"]), ["Встреча сегодня"]);
    let deals: Vec<&str> = d["deals"].as_array().unwrap().iter().map(|x| x["title"].as_str().unwrap()).collect();
    assert_eq!(deals, ["Без шага"]);
    assert_eq!(d["dates"].as_array().unwrap().len(), 1, "{}", d["dates"]);
    assert_eq!(d["dates"][0]["name"], "Именинник Сегодня");
    assert_eq!(d["dates"][0]["label"], "birthday");
    app.finish().await;
}

#[engines]
async fn the_calendar_feed_parses_as_icalendar_and_stops_when_revoked(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "sales1@acme.test").await;
    let now = app.clock.now();
    activity(&c, json!({"kind": "meeting", "subject": "Встреча; обсуждение, цены", "starts_at": now + DAY, "ends_at": now + DAY + 3_600_000,
                        "place": "Офис, 5 этаж", "description": "Строка 1\nСтрока 2"}))
    .await;
    activity(&c, json!({"kind": "task", "subject": "Задача", "due_at": now + 2 * DAY})).await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    activity(&s2, json!({"kind": "meeting", "subject": "Чужая встреча", "starts_at": now + DAY})).await;
    let r = c.post("/api/v1/calendar-feed", &json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let path = r.json()["path"].as_str().unwrap().to_string();
    let plain = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let body = plain.text().await.unwrap();
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(body.as_bytes()));
    let cal = parser.next().expect("one calendar").expect("it parses");
    assert!(parser.next().is_none());
    assert_eq!(cal.events.len(), 2, "only the owner's plan");
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
    };
    let meeting = cal.events.iter().find(|e| prop(e, "LOCATION").contains("Офис")).expect("the meeting");
    assert_eq!(prop(meeting, "SUMMARY"), "Встреча\\; обсуждение\\, цены");
    assert!(prop(meeting, "DTSTART").ends_with('Z'));
    assert!(prop(meeting, "DESCRIPTION").contains("Строка 1\\nСтрока 2"));
    // Revoked: the same address stops working; a wrong secret never worked.
    assert_eq!(c.delete("/api/v1/calendar-feed").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(reqwest::get(format!("{}{path}", app.base)).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(reqwest::get(format!("{}/calendar/nope.ics", app.base)).await.unwrap().status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

#[engines]
async fn a_salesperson_sees_only_own_activities_and_a_manager_reassigns_a_leavers_work(k: Kind) {
    let app = TestApp::spawn(k).await;
    let s1 = app.api("acme", "sales1@acme.test").await;
    let s2 = app.api("acme", "sales2@acme.test").await;
    let manager = app.api("acme", "manager@acme.test").await;
    let admin = app.api("acme", "admin@acme.test").await;
    let now = app.clock.now();
    let mine = activity(&s1, json!({"kind": "task", "subject": "Моя", "due_at": now - DAY})).await;
    activity(&s2, json!({"kind": "task", "subject": "Не моя", "due_at": now + DAY})).await;
    assert_eq!(subjects(&s1.get("/api/v1/activities").await.json()["items"]), ["Моя"]);
    assert_eq!(
        s2.get(&format!("/api/v1/activities/{}", mine["id"].as_str().unwrap())).await.status(),
        StatusCode::NOT_FOUND
    );
    let other = app.api("globex", "admin@globex.test").await;
    assert!(other.get("/api/v1/activities").await.json()["items"].as_array().unwrap().is_empty());
    // A salesperson cannot give a task to a colleague or see the workload.
    let s2_id = s2.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    let s1_id = s1.get("/api/v1/me").await.json()["id"].as_str().unwrap().to_string();
    let r = s1
        .post("/api/v1/activities", &json!({"kind": "task", "subject": "Тебе", "due_at": now, "owner_id": s2_id}))
        .await;
    assert_eq!(r.error_fields(), ["owner_id"]);
    assert_eq!(s1.get("/api/v1/workload").await.status(), StatusCode::FORBIDDEN);
    s1.post("/api/v1/deals", &json!({"title": "Сделка 1"})).await;
    // The manager's team has sales1; the admin sees everyone.
    let w = manager.get("/api/v1/workload").await.json();
    let row = w.as_array().unwrap().iter().find(|r| r["user_id"] == s1_id.as_str()).expect("sales1 in the team");
    assert_eq!((row["open_deals"].as_i64(), row["overdue_tasks"].as_i64()), (Some(1), Some(1)));
    assert!(w.as_array().unwrap().iter().all(|r| r["user_id"] != s2_id.as_str()), "sales2 is not in the team");
    let r = manager.post("/api/v1/workload/reassign", &json!({"from": s1_id, "to": s2_id})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "sales2 is outside the manager's team");
    let r = admin.post("/api/v1/workload/reassign", &json!({"from": s1_id, "to": s2_id})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!((r.json()["deals"].as_i64(), r.json()["activities"].as_i64()), (Some(1), Some(1)));
    assert!(s1.get("/api/v1/activities").await.json()["items"].as_array().unwrap().is_empty());
    assert_eq!(subjects(&s2.get("/api/v1/activities?order=newest").await.json()["items"]), ["Не моя", "Моя"]);
    app.finish().await;
}
