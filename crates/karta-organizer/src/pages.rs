//! My day (the landing page), activity pages (form, page with "complete" and the next step),
//! and the activity timeline shown on account, contact and deal pages.

use crate::store::{self as activities, Activity, ActivityInput, Participant};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::{Action, Entity, FieldError, Zone};
use karta_kernel::{users, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::routes::Pages;
use karta_webkit::ui::list::{error_page, get, FormValues, Pairs};
use karta_webkit::ui::pages::{fmt_date, message_page, render, Layout};
use karta_webkit::AppState;

/// `HH:MM` local of `ms`.
fn hm(ms: i64, z: &Zone) -> String {
    z.hhmm(ms)
}

/// `YYYY-MM-DDTHH:MM` local of `ms`, for `datetime-local` inputs.
fn local(ms: i64, z: &Zone) -> String {
    z.local_input(ms)
}

/// Parses a `datetime-local` value (or a date alone, as 09:00) in the user's zone into ms.
fn parse_local(v: &str, z: &Zone) -> Option<i64> {
    let v = v.trim();
    let (d, t) = v.split_once('T').or_else(|| v.split_once(' ')).unwrap_or((v, "09:00"));
    let date = time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    let mut hm = t.split(':');
    let h: u8 = hm.next()?.parse().ok()?;
    let m: u8 = hm.next().unwrap_or("0").parse().ok()?;
    (h < 24 && m < 60).then(|| z.at(date, h, m))
}

/// A line in a list of activities.
#[derive(Clone)]
pub struct ActView {
    /// When it happens or happened (ms), for ordering among other entries.
    pub at: i64,
    pub id: String,
    pub kind: String,
    pub icon: &'static str,
    pub subject: String,
    pub when: String,
    pub about: String,
    pub overdue: bool,
    pub done: bool,
    pub version: i64,
    pub result: String,
    pub owner: String,
}

fn icon(kind: &str) -> &'static str {
    match kind {
        "call" => "📞",
        "meeting" => "👥",
        "task" => "✔",
        "email" => "✉",
        "letter" => "📄",
        "demo" => "🖥",
        "visit" => "🚗",
        "chat" => "💬",
        _ => "📝",
    }
}

fn view_of(t: Tr, a: &Activity, z: &Zone, now: i64) -> ActView {
    let today = z.date_of(now);
    let (day, next) = (z.start_of(today), z.start_of(today + time::Duration::days(1)));
    let when = if a.at >= day && a.at < next {
        hm(a.at, z)
    } else {
        let l = local(a.at, z);
        format!("{} {}", fmt_date(t, l.get(..10).unwrap_or_default()), l.get(11..).unwrap_or_default())
    };
    let about = [&a.contact_name, &a.account_name, &a.deal_title]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" · ");
    ActView {
        at: a.at,
        id: a.id.clone(),
        kind: t.s(&format!("act.kind.{}", a.kind)).to_string(),
        icon: icon(&a.kind),
        subject: a.subject.clone(),
        when,
        about,
        overdue: a.overdue,
        done: a.status == "done",
        version: a.version,
        result: a.result.clone(),
        owner: a.owner_name.clone(),
    }
}

struct DealLine {
    id: String,
    title: String,
    why: String,
}

struct DateLine {
    contact_id: String,
    name: String,
    what: String,
    when: String,
    today: bool,
}

#[derive(Template)]
#[template(path = "my_day.html")]
struct MyDayPage {
    l: Layout,
    date: String,
    overdue: Vec<ActView>,
    today: Vec<ActView>,
    meetings: Vec<ActView>,
    deals: Vec<DealLine>,
    dates: Vec<DateLine>,
    notice: String,
}

/// GET /my-day
async fn my_day(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Query(pairs): Query<Pairs>) -> Response {
    let (t, now) = (u.t, st.clock.now());
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    let d = match activities::my_day(&st.db, &u.p.ctx, now, &z).await {
        Ok(d) => d,
        Err(e) => return error_page(&u, &e),
    };
    let today_md = local(d.day_start, &z).get(5..10).unwrap_or_default().to_string();
    let deals = d
        .deals
        .iter()
        .map(|x| {
            let mut why = Vec::new();
            if x.overdue {
                why.push(t.f("overdue"));
            }
            if x.stalled {
                why.push(t.f("stalled"));
            }
            if x.no_next_step {
                why.push(t.s("day.no_next_step"));
            }
            DealLine { id: x.id.clone(), title: x.title.clone(), why: why.join(", ") }
        })
        .collect();
    let dates = d
        .dates
        .iter()
        .map(|x| DateLine {
            contact_id: x.contact_id.clone(),
            name: x.name.clone(),
            what: if x.label == "birthday" { t.s("day.birthday").to_string() } else { x.label.clone() },
            when: fmt_date(t, &format!("{}-{}", local(d.day_start, &z).get(..4).unwrap_or_default(), x.md)),
            today: x.md == today_md,
        })
        .collect();
    let tpl = MyDayPage {
        l: Layout::new(t, &u.p, t.s("day.title"), "my-day"),
        date: fmt_date(t, local(d.day_start, &z).get(..10).unwrap_or_default()),
        overdue: d.overdue.iter().map(|a| view_of(t, a, &z, now)).collect(),
        today: d.today.iter().map(|a| view_of(t, a, &z, now)).collect(),
        meetings: d.meetings.iter().map(|a| view_of(t, a, &z, now)).collect(),
        deals,
        dates,
        notice: match get(&pairs, "m") {
            "" => String::new(),
            m => t.s(&format!("day.msg.{m}")).to_string(),
        },
    };
    render(StatusCode::OK, &tpl)
}

/// POST /my-day/congratulate — plans a call or an e-mail for today.
async fn congratulate(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Form(pairs): Form<Pairs>,
) -> Response {
    let (t, now) = (u.t, st.clock.now());
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    let kind = if get(&pairs, "kind") == "email" { "email" } else { "call" };
    let contact = match karta_parties::parties::get(&st.db, &u.p.ctx, Entity::Contact, get(&pairs, "contact_id")).await
    {
        Ok(c) => c,
        Err(e) => return error_page(&u, &e),
    };
    let what = get(&pairs, "what");
    let subject = format!(
        "{}: {} ({what})",
        t.s(if kind == "call" { "day.congrat_call" } else { "day.congrat_email" }),
        contact.name
    );
    // Due at the end of the user's working day, or in an hour if that has passed.
    let due = z.at(z.date_of(now), 18, 0).max(now + 3_600_000);
    let input = ActivityInput {
        kind: kind.into(),
        subject,
        due_at: Some(due),
        contact_id: contact.id.clone(),
        ..ActivityInput::default()
    };
    match activities::create(&st.db, &u.p.ctx, now, &input).await {
        Ok(_) => Redirect::to("/my-day?m=planned").into_response(),
        Err(e) => error_page(&u, &e),
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    l: Layout,
    a: Activity,
    v: ActView,
    starts: String,
    ends: String,
    due: String,
    remind: String,
    direction: String,
    interest: String,
    participants: Vec<(String, String)>,
    can_edit: bool,
    next_local: String,
    interests: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
}

fn can_edit(ctx: &karta_kernel::Ctx, a: &Activity) -> bool {
    ctx.scope(Entity::Activity, Action::Update).is_ok_and(|s| ctx.reaches(s, &a.owner_id, a.owner_team.as_deref()))
}

fn kinds(t: Tr) -> Vec<(String, String)> {
    activities::KINDS.iter().map(|k| ((*k).to_string(), t.s(&format!("act.kind.{k}")).to_string())).collect()
}

/// GET /activities/{id}
async fn view(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (t, now) = (u.t, st.clock.now());
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    let a = match activities::get(&st.db, &u.p.ctx, &id, now).await {
        Ok(a) => a,
        Err(e) => return error_page(&u, &e),
    };
    let show = |ms: Option<i64>| {
        ms.map(|m| {
            let l = local(m, &z);
            format!("{} {}", fmt_date(t, l.get(..10).unwrap_or_default()), l.get(11..).unwrap_or_default())
        })
        .unwrap_or_default()
    };
    let participants = a
        .participants
        .iter()
        .map(|p| (if p.kind == "contact" { format!("/contacts/{}", p.id) } else { String::new() }, p.name.clone()))
        .collect();
    let tpl = ActivityPage {
        l: Layout::new(t, &u.p, a.subject.clone(), "my-day"),
        v: view_of(t, &a, &z, now),
        starts: show(a.starts_at),
        ends: show(a.ends_at),
        due: show(a.due_at),
        remind: show(a.remind_at),
        direction: if a.direction.is_empty() {
            String::new()
        } else {
            t.s(&format!("act.dir.{}", a.direction)).to_string()
        },
        interest: if a.interest.is_empty() {
            String::new()
        } else {
            t.s(&format!("act.interest.{}", a.interest)).to_string()
        },
        participants,
        can_edit: can_edit(&u.p.ctx, &a),
        next_local: local(now + 86_400_000, &z),
        interests: activities::INTEREST
            .iter()
            .map(|i| ((*i).to_string(), t.s(&format!("act.interest.{i}")).to_string()))
            .collect(),
        kinds: kinds(t),
        a,
    };
    render(StatusCode::OK, &tpl)
}

#[derive(Template)]
#[template(path = "activity_form.html")]
struct FormPage {
    l: Layout,
    id: String,
    version: i64,
    f: FormValues,
    error_list: Vec<String>,
    kinds: Vec<(String, String)>,
    owners: Vec<(String, String)>,
    interests: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    links: Vec<(String, String)>,
}

async fn form_page(
    st: &AppState,
    u: &PageUser,
    status: StatusCode,
    id: &str,
    version: i64,
    mut f: FormValues,
    errs: &[FieldError],
) -> Response {
    let t = u.t;
    let mut error_list = Vec::new();
    for e in errs {
        let msg = t.err(e.code).to_string();
        error_list.push(format!("{}: {msg}", t.s(&format!("act.f.{}", e.field.split('[').next().unwrap_or(&e.field)))));
        f.errors.entry(e.field.clone()).or_insert(msg);
    }
    let owners = match users::list(&st.db, &u.p.ctx).await {
        Ok(list) => list.into_iter().map(|o| (o.id, o.display_name)).collect(),
        Err(e) => return error_page(u, &e),
    };
    // What the activity is linked to, by name, so the form says it.
    let now = st.clock.now();
    let mut links = Vec::new();
    for (key, entity) in [("account_id", Entity::Account), ("contact_id", Entity::Contact)] {
        let id = f.v(key).to_string();
        if !id.is_empty() {
            if let Ok(p) = karta_parties::parties::get(&st.db, &u.p.ctx, entity, &id).await {
                links.push((t.s(&format!("act.f.{key}")).to_string(), p.name));
            }
        }
    }
    if !f.v("deal_id").is_empty() {
        if let Ok(d) = karta_sales::deals::get(&st.db, &u.p.ctx, f.v("deal_id"), now).await {
            links.push((t.s("act.f.deal_id").to_string(), d.title));
        }
    }
    let title = if id.is_empty() {
        t.s(if f.v("after").is_empty() { "act.new" } else { "act.next" }).to_string()
    } else {
        f.v("subject").to_string()
    };
    let tpl = FormPage {
        l: Layout::new(t, &u.p, title, "my-day"),
        id: id.to_string(),
        version,
        f,
        error_list,
        kinds: kinds(t),
        owners,
        interests: activities::INTEREST
            .iter()
            .map(|i| ((*i).to_string(), t.s(&format!("act.interest.{i}")).to_string()))
            .collect(),
        priorities: activities::PRIORITIES
            .iter()
            .map(|i| ((*i).to_string(), t.s(&format!("act.priority.{i}")).to_string()))
            .collect(),
        links,
    };
    render(status, &tpl)
}

/// GET /activities/new?kind&at&account&contact&deal&after
async fn new_form(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Query(pairs): Query<Pairs>) -> Response {
    if let Err(e) = u.p.ctx.scope(Entity::Activity, Action::Create) {
        return error_page(&u, &e);
    }
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    let now = st.clock.now();
    let mut f = FormValues::default();
    let kind = get(&pairs, "kind");
    f.values.insert("kind".into(), if activities::KINDS.contains(&kind) { kind.to_string() } else { "task".into() });
    f.values.insert("owner_id".into(), u.p.ctx.user_id().to_string());
    let at: i64 = get(&pairs, "at").parse().unwrap_or(now + 3_600_000);
    f.values.insert("when".into(), local(at, &z));
    for (q, k) in [("account", "account_id"), ("contact", "contact_id"), ("deal", "deal_id")] {
        f.values.insert(k.into(), get(&pairs, q).to_string());
    }
    // Planning the next step after completing one: the same links.
    let after = get(&pairs, "after");
    if !after.is_empty() {
        if let Ok(prev) = activities::get(&st.db, &u.p.ctx, after, now).await {
            f.values.insert("after".into(), after.to_string());
            f.values.insert("account_id".into(), prev.account_id);
            f.values.insert("contact_id".into(), prev.contact_id);
            f.values.insert("deal_id".into(), prev.deal_id);
            f.values.insert("when".into(), local(now + 86_400_000, &z));
        }
    }
    form_page(&st, &u, StatusCode::OK, "", 0, f, &[]).await
}

/// GET /activities/{id}/edit
async fn edit_form(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    // The form is for those who may save it.
    let a = match activities::load_for(&st.db, &u.p.ctx, &id, st.clock.now(), Action::Update).await {
        Ok(a) => a,
        Err(e) => return error_page(&u, &e),
    };
    let mut f = FormValues::default();
    let when = a.starts_at.or(a.due_at).map(|m| local(m, &z)).unwrap_or_default();
    for (k, v) in [
        ("kind", a.kind.clone()),
        ("subject", a.subject.clone()),
        ("description", a.description.clone()),
        ("direction", a.direction.clone()),
        ("duration_min", a.duration_min.map(|d| d.to_string()).unwrap_or_default()),
        ("outcome", a.outcome.clone()),
        ("when", when),
        ("ends", a.ends_at.map(|m| local(m, &z)).unwrap_or_default()),
        ("remind", a.remind_at.map(|m| local(m, &z)).unwrap_or_default()),
        ("place", a.place.clone()),
        ("priority", a.priority.clone()),
        ("owner_id", a.owner_id.clone()),
        ("status", a.status.clone()),
        ("result", a.result.clone()),
        ("interest", a.interest.clone()),
        ("account_id", a.account_id.clone()),
        ("contact_id", a.contact_id.clone()),
        ("deal_id", a.deal_id.clone()),
        (
            "participant_users",
            a.participants.iter().filter(|p| p.kind == "user").map(|p| p.id.clone()).collect::<Vec<_>>().join(","),
        ),
    ] {
        f.values.insert(k.into(), v);
    }
    form_page(&st, &u, StatusCode::OK, &id, a.version, f, &[]).await
}

fn input_from(pairs: &Pairs, z: &Zone) -> (ActivityInput, FormValues, Vec<FieldError>) {
    let mut f = FormValues::default();
    for (k, v) in pairs {
        if k != "_csrf" {
            f.values.insert(k.clone(), v.clone());
        }
    }
    let mut errs = Vec::new();
    let mut time = |key: &str, field: &str| -> Option<i64> {
        let v = get(pairs, key).trim();
        if v.is_empty() {
            return None;
        }
        let r = parse_local(v, z);
        if r.is_none() {
            errs.push(FieldError::new(field, "invalid_date"));
        }
        r
    };
    let kind = get(pairs, "kind").to_string();
    let when = time("when", if kind == "meeting" { "starts_at" } else { "due_at" });
    let ends = time("ends", "ends_at");
    let remind = time("remind", "remind_at");
    let timed = matches!(kind.as_str(), "meeting" | "call" | "demo" | "visit");
    let duration = get(pairs, "duration_min").trim();
    let duration_min = if duration.is_empty() {
        None
    } else {
        match duration.parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(FieldError::new("duration_min", "invalid_value"));
                None
            }
        }
    };
    let contact = get(pairs, "contact_id").to_string();
    let users: Vec<&str> =
        pairs.iter().filter(|(k, v)| k == "participant_user" && !v.is_empty()).map(|(_, v)| v.as_str()).collect();
    f.values.insert("participant_users".into(), users.join(","));
    // A meeting's participants: the linked contact and the colleagues chosen.
    let participants = (kind == "meeting").then(|| {
        let person = (!contact.is_empty()).then(|| Participant {
            kind: "contact".into(),
            id: contact.clone(),
            name: String::new(),
        });
        person
            .into_iter()
            .chain(users.iter().map(|u| Participant { kind: "user".into(), id: (*u).to_string(), name: String::new() }))
            .collect()
    });
    let input = ActivityInput {
        kind,
        subject: get(pairs, "subject").into(),
        description: get(pairs, "description").into(),
        direction: get(pairs, "direction").into(),
        duration_min,
        outcome: get(pairs, "outcome").into(),
        starts_at: if timed { when } else { None },
        ends_at: ends,
        place: get(pairs, "place").into(),
        due_at: if timed { None } else { when },
        priority: get(pairs, "priority").into(),
        owner_id: get(pairs, "owner_id").into(),
        status: if get(pairs, "status") == "done" { "done".into() } else { "planned".into() },
        result: get(pairs, "result").into(),
        interest: get(pairs, "interest").into(),
        remind_at: remind,
        account_id: get(pairs, "account_id").into(),
        contact_id: contact,
        deal_id: get(pairs, "deal_id").into(),
        participants,
    };
    (input, f, errs)
}

async fn save(st: AppState, u: PageUser, headers: HeaderMap, id: Option<String>, pairs: Pairs) -> Response {
    let now = st.clock.now();
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    let (input, f, errs) = input_from(&pairs, &z);
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    let id_s = id.clone().unwrap_or_default();
    if !errs.is_empty() {
        return form_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, &id_s, version, f, &errs).await;
    }
    let r = match &id {
        None => activities::create(&st.db, &u.p.ctx, now, &input).await,
        Some(id) => activities::update(&st.db, &u.p.ctx, now, id, version, &input).await,
    };
    match r {
        Ok(a) => {
            // Back to where the user came from: the linked record, else the activity.
            let back = get(&pairs, "back");
            let to = if karta_webkit::ui::pages::is_local_path(back) {
                back.to_string()
            } else {
                format!("/activities/{}", a.id)
            };
            Redirect::to(&to).into_response()
        }
        Err(StoreError::Invalid(errs)) => {
            form_page(&st, &u, StatusCode::UNPROCESSABLE_ENTITY, &id_s, version, f, &errs).await
        }
        Err(StoreError::Stale { current, .. }) => {
            form_page(
                &st,
                &u,
                StatusCode::CONFLICT,
                &id_s,
                current,
                f,
                &[FieldError::new("subject", "changed_meanwhile")],
            )
            .await
        }
        Err(e) => error_page(&u, &e),
    }
}

/// POST /activities
async fn create(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Form(pairs): Form<Pairs>) -> Response {
    save(st, u, headers, None, pairs).await
}

/// POST /activities/{id}
async fn update(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    save(st, u, headers, Some(id), pairs).await
}

/// POST /activities/{id}/complete — with the result; then offers the next step.
async fn complete(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let (t, now) = (u.t, st.clock.now());
    let z = karta_webkit::tz::zone(&headers, &u.p.ctx, st.clock.now());
    let version: i64 = get(&pairs, "version").parse().unwrap_or(0);
    let done =
        match activities::complete(&st.db, &u.p.ctx, now, &id, version, get(&pairs, "result"), get(&pairs, "interest"))
            .await
        {
            Ok(a) => a,
            Err(StoreError::Stale { .. }) => return message_page(t, StatusCode::CONFLICT, t.s("deal.msg.stale")),
            Err(StoreError::Invalid(errs)) => {
                let msg = errs.iter().map(|e| t.err(e.code)).collect::<Vec<_>>().join("; ");
                return message_page(t, StatusCode::UNPROCESSABLE_ENTITY, &msg);
            }
            Err(e) => return error_page(&u, &e),
        };
    // The next step, when its subject was filled in on the same form.
    let next_subject = get(&pairs, "next_subject").trim();
    if !next_subject.is_empty() {
        let when = parse_local(get(&pairs, "next_when"), &z).unwrap_or(now + 86_400_000);
        let kind = get(&pairs, "next_kind");
        let timed = matches!(kind, "meeting" | "call" | "demo" | "visit");
        let next = ActivityInput {
            kind: kind.into(),
            subject: next_subject.into(),
            starts_at: timed.then_some(when),
            due_at: (!timed).then_some(when),
            account_id: done.account_id.clone(),
            contact_id: done.contact_id.clone(),
            deal_id: done.deal_id.clone(),
            ..ActivityInput::default()
        };
        return match activities::create(&st.db, &u.p.ctx, now, &next).await {
            Ok(n) => Redirect::to(&format!("/activities/{}", n.id)).into_response(),
            Err(e) => error_page(&u, &e),
        };
    }
    let back = get(&pairs, "back");
    if back == "/my-day" {
        return Redirect::to(&format!("/activities/new?after={id}")).into_response();
    }
    Redirect::to(&format!("/activities/{id}")).into_response()
}

/// POST /activities/{id}/delete
async fn delete(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match activities::delete(&st.db, &u.p.ctx, st.clock.now(), &id).await {
        Ok(()) => Redirect::to("/my-day").into_response(),
        Err(e) => error_page(&u, &e),
    }
}

/// One line of a record's timeline: an activity, or another context's entry.
pub enum Line {
    /// An activity.
    Act(ActView),
    /// Something another context records (a deal won…), with its time as shown and in ISO.
    Other(karta_webkit::plugins::TimelineEntry, String, String),
}

/// The activity timeline of a record, for its page: items, the kind filter and links.
pub struct Timeline {
    /// Items, newest first.
    pub items: Vec<ActView>,
    /// The activities and the other contexts' entries together, newest first (only the
    /// activities when a kind filter is on).
    pub lines: Vec<Line>,
    /// `(kind, label, active)` filter links.
    pub filters: Vec<(String, String, bool)>,
    /// The query for "log an activity" (`account=…`).
    pub link: String,
    /// A kind filter is on.
    pub filtered: bool,
}

/// Builds the timeline of `entity` `id` filtered by `kind` (empty: all).
pub async fn timeline(
    st: &AppState,
    u: &PageUser,
    headers: &HeaderMap,
    entity: Entity,
    id: &str,
    kind: &str,
) -> Result<Timeline, StoreError> {
    let (t, now) = (u.t, st.clock.now());
    let z = karta_webkit::tz::zone(headers, &u.p.ctx, st.clock.now());
    let kinds: Vec<String> = if activities::KINDS.contains(&kind) { vec![kind.to_string()] } else { Vec::new() };
    let items = activities::timeline(&st.db, &u.p.ctx, now, entity, id, &kinds, 100).await?;
    let key = match entity {
        Entity::Account => "account",
        Entity::Contact => "contact",
        _ => "deal",
    };
    let kinds_on = !kinds.is_empty();
    let acts: Vec<ActView> = items.iter().map(|a| view_of(t, a, &z, now)).collect();
    let others = if kinds.is_empty() {
        karta_webkit::plugins::timeline_entries(st, u, entity, id, 100).await?
    } else {
        Vec::new()
    };
    let mut lines: Vec<(i64, Line)> = acts
        .iter()
        .map(|a| (a.at, Line::Act(a.clone())))
        .chain(others.into_iter().map(|e| {
            let (shown, iso) = (karta_webkit::ui::pages::fmt_ts(e.at, &z, t), karta_webkit::ui::pages::iso_ts(e.at));
            (e.at, Line::Other(e, shown, iso))
        }))
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    Ok(Timeline {
        lines: lines.into_iter().map(|(_, l)| l).collect(),
        items: acts,
        filters: activities::KINDS
            .iter()
            .map(|k| ((*k).to_string(), t.s(&format!("act.kind.{k}")).to_string(), *k == kind))
            .collect(),
        link: format!("{key}={id}"),
        filtered: kinds_on,
    })
}

/// What the timeline's template reads of a page's frame.
pub struct PanelFrame {
    /// Language.
    pub t: karta_webkit::i18n::Tr,
}

#[derive(Template)]
#[template(path = "timeline_panel.html")]
struct TimelinePanel {
    l: PanelFrame,
    tl: Timeline,
    tl_base: String,
}

/// The activity timeline as a panel of an account's, a contact's or a deal's page.
///
/// # Errors
/// Database errors.
pub async fn timeline_panel(
    st: &AppState,
    u: &PageUser,
    req: karta_webkit::plugins::PanelReq<'_>,
) -> Result<Option<String>, StoreError> {
    let tl = timeline(st, u, req.headers, req.entity, req.id, req.param("type")).await?;
    let base = match req.entity {
        Entity::Account => "accounts",
        Entity::Contact => "contacts",
        _ => "deals",
    };
    let panel = TimelinePanel { l: PanelFrame { t: u.t }, tl, tl_base: format!("/{base}/{}", req.id) };
    panel.render().map(Some).map_err(|e| StoreError::Other(e.into()))
}

/// The organizer pages.
pub fn router() -> Pages {
    Pages::new()
        .get("/my-day", my_day)
        .post("/my-day/congratulate", congratulate)
        .post("/activities", create)
        .get("/activities/new", new_form)
        .get("/activities/{id}", view)
        .post("/activities/{id}", update)
        .get("/activities/{id}/edit", edit_form)
        .post("/activities/{id}/complete", complete)
        .post("/activities/{id}/delete", delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_round_trip_through_the_users_zone() {
        let (msk, utc) = (Zone::of_country("RU"), Zone::utc());
        let ms = 1_772_404_200_000; // 2026-03-01 22:30 UTC
        assert_eq!(local(ms, &msk), "2026-03-02T01:30");
        assert_eq!(parse_local("2026-03-02T01:30", &msk), Some(ms));
        assert_eq!(parse_local("2026-03-02", &utc), Some(1_772_442_000_000), "a date alone means 09:00");
        assert_eq!(parse_local("02.03.2026", &utc), None);
        assert_eq!(hm(ms, &msk), "01:30");
        // A meeting at 10:00 in Berlin is 09:00 UTC in winter and 08:00 UTC in summer.
        let berlin = Zone::parse("Europe/Berlin", "tz").unwrap_or_else(|_| Zone::utc());
        assert_eq!(parse_local("2026-03-27T10:00", &berlin), Some(1_774_602_000_000));
        assert_eq!(parse_local("2026-03-30T10:00", &berlin), Some(1_774_857_600_000));
    }
}
