//! Demo activities: a history of calls, meetings, e-mails and visits on the customers'
//! timelines, and a plan for every salesperson around today (My day, the calendar,
//! reminders). The small demo goes through the store; the large one inserts in bulk, with
//! the key account (the first) given 2,000 activities for the account-page benchmark.

use super::{Acc, Gen, Loader, Table, DAY_MS};
use anyhow::Context as _;
use karta_core::new_id;
use karta_kernel::{Arg, Ctx, Db};
use karta_organizer::store::{self as activities, ActivityInput};

/// Kinds with their weights in the history.
const HISTORY: &[(&str, usize)] =
    &[("call", 40), ("email", 20), ("meeting", 15), ("note", 8), ("chat", 7), ("visit", 4), ("demo", 4), ("letter", 2)];
/// Kinds of planned work.
const PLANNED: &[(&str, usize)] = &[("task", 45), ("call", 35), ("meeting", 20)];

const SUBJECTS_RU: &[(&str, &str)] = &[
    ("call", "Звонок: уточнить потребности"),
    ("call", "Звонок по коммерческому предложению"),
    ("call", "Входящий звонок: вопрос по оплате"),
    ("email", "Отправили презентацию"),
    ("email", "Ответ на запрос цены"),
    ("meeting", "Встреча в офисе клиента"),
    ("meeting", "Переговоры по условиям договора"),
    ("note", "Предпочитает связь по e-mail"),
    ("chat", "Вопрос в Telegram о сроках"),
    ("visit", "Визит на производство"),
    ("demo", "Демонстрация системы"),
    ("letter", "Отправили оригиналы документов"),
    ("task", "Подготовить коммерческое предложение"),
    ("task", "Согласовать договор с юристами"),
    ("task", "Выставить счёт"),
];
const RESULTS: &[&str] = &[
    "Интерес подтверждён, ждут КП",
    "Перезвонить через неделю",
    "Согласовали демонстрацию",
    "Не дозвонились",
    "Запросили скидку 10%",
    "Решение после бюджетного комитета",
    "Договорились о встрече",
];
const INTEREST: &[&str] = &["none", "low", "medium", "medium", "high"];

fn weighted<'a>(rng: &mut super::Rng, xs: &'a [(&'a str, usize)]) -> &'a str {
    let total: usize = xs.iter().map(|(_, w)| w).sum();
    let mut r = rng.below(total);
    for (k, w) in xs {
        if r < *w {
            return k;
        }
        r -= w;
    }
    xs[0].0
}

fn subject(rng: &mut super::Rng, kind: &str) -> &'static str {
    let of_kind: Vec<&(&str, &str)> = SUBJECTS_RU.iter().filter(|(k, _)| *k == kind).collect();
    if of_kind.is_empty() {
        rng.pick(SUBJECTS_RU).1
    } else {
        rng.pick(&of_kind).1
    }
}

/// The small demo: a dozen past activities per account on average for the first contacts,
/// and a plan of tasks, calls and meetings around today for every user. Returns how many.
pub(super) async fn small(db: &Db, gen: &mut Gen, accounts: &[Acc], ctxs: &[Ctx]) -> anyhow::Result<usize> {
    let now = gen.now;
    // An admin records them, assigned to the contact's owner: the account may be someone
    // else's, which a salesperson could not link to.
    let admin = ctxs.iter().find(|c| c.is_admin()).context("the demo has an admin")?;
    let err = |e: karta_kernel::StoreError| match e {
        karta_kernel::StoreError::Invalid(v) => {
            anyhow::anyhow!("demo activity: {}", v.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        }
        other => anyhow::anyhow!("demo activity: {other}"),
    };
    let mut n = 0;
    for acc in accounts {
        let Some((contact, owner)) = acc.contacts.first().cloned() else { continue };
        let owner_id = ctxs[owner.min(ctxs.len() - 1)].user_id().to_string();
        for _ in 0..gen.rng.count(30) {
            let kind = weighted(&mut gen.rng, HISTORY);
            let at = now - gen.rng.range(DAY_MS, 300 * DAY_MS);
            let input = ActivityInput {
                kind: kind.into(),
                subject: subject(&mut gen.rng, kind).into(),
                status: "done".into(),
                starts_at: Some(at),
                direction: if kind == "call" {
                    (if gen.rng.chance(50) { "in" } else { "out" }).into()
                } else {
                    String::new()
                },
                duration_min: (kind == "call").then(|| 2 + gen.rng.range(0, 25)),
                result: if kind == "note" { String::new() } else { (*gen.rng.pick(RESULTS)).into() },
                interest: (*gen.rng.pick(INTEREST)).into(),
                account_id: acc.id.clone(),
                contact_id: contact.clone(),
                owner_id: owner_id.clone(),
                ..ActivityInput::default()
            };
            activities::create(db, admin, at, &input).await.map_err(err)?;
            n += 1;
        }
    }
    // The plan: for each user, a few items a day from three days ago to two weeks ahead.
    let day = activities::day_start(now, 180);
    for (u, ctx) in ctxs.iter().enumerate() {
        let mine: Vec<&Acc> = accounts.iter().filter(|a| a.contacts.first().is_some_and(|c| c.1 == u)).collect();
        if mine.is_empty() {
            continue;
        }
        for d in -3..14_i64 {
            for _ in 0..(1 + gen.rng.below(4)) {
                let acc = *gen.rng.pick(&mine);
                let kind = weighted(&mut gen.rng, PLANNED);
                // Working hours 09:00–18:00 Moscow time.
                let at = day + d * DAY_MS + 6 * 3_600_000 + gen.rng.range(0, 18) * 1_800_000;
                let timed = kind != "task";
                let input = ActivityInput {
                    kind: kind.into(),
                    subject: subject(&mut gen.rng, kind).into(),
                    starts_at: timed.then_some(at),
                    ends_at: (kind == "meeting").then_some(at + 3_600_000),
                    due_at: (!timed).then_some(at),
                    place: if kind == "meeting" { acc.name.clone() } else { String::new() },
                    remind_at: (d >= 0 && gen.rng.chance(30)).then_some(at - 15 * 60_000),
                    priority: if gen.rng.chance(20) { "high".into() } else { String::new() },
                    account_id: acc.id.clone(),
                    contact_id: acc.contacts.first().map(|c| c.0.clone()).unwrap_or_default(),
                    owner_id: ctx.user_id().to_string(),
                    ..ActivityInput::default()
                };
                activities::create(db, admin, now - DAY_MS, &input).await.map_err(err)?;
                n += 1;
            }
        }
    }
    activities::rebuild_dates(db, &gen.tenant).await?;
    Ok(n)
}

const ACT_COLS: [&str; 20] = [
    "tenant_id",
    "id",
    "kind",
    "subject",
    "direction",
    "duration_min",
    "starts_at",
    "due_at",
    "owner_id",
    "status",
    "done_at",
    "result",
    "interest",
    "at",
    "account_id",
    "contact_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];

/// The large demo: `total` activities in bulk — the key account's 2,000, a plan around today
/// for every user, and history over the accounts' first contacts. Returns how many.
pub(super) async fn bulk(
    db: &Db,
    gen: &mut Gen,
    loader: &mut Loader<'_>,
    accounts: &[Acc],
    total: usize,
) -> anyhow::Result<usize> {
    let now = gen.now;
    let mut t = Table::new(db.engine(), "activities", &ACT_COLS, 500);
    let tenant = gen.tenant.clone();
    let day = activities::day_start(now, 180);
    let users = gen.staff.ids.clone();
    let push = |t: &mut Table, rng: &mut super::Rng, acc: &Acc, kind: &str, at: i64, planned: bool| {
        let (contact, owner) = acc.contacts.first().cloned().unwrap_or_default();
        let owner_id = users[owner.min(users.len() - 1)].clone();
        let timed = kind != "task";
        let a = &mut t.args;
        a.push(Arg::from(tenant.as_str()));
        a.push(Arg::from(new_id()));
        a.push(Arg::from(kind));
        a.push(Arg::from(subject(rng, kind)));
        a.push(Arg::from(if kind == "call" { "out" } else { "" }));
        a.push(Arg::I((kind == "call").then(|| 2 + rng.range(0, 25))));
        a.push(Arg::I(timed.then_some(at)));
        a.push(Arg::I((!timed).then_some(at)));
        a.push(Arg::from(owner_id.as_str()));
        a.push(Arg::from(if planned { "planned" } else { "done" }));
        a.push(Arg::I((!planned).then_some(at)));
        a.push(Arg::from(if planned || kind == "note" { "" } else { *rng.pick(RESULTS) }));
        a.push(Arg::from(*rng.pick(INTEREST)));
        a.push(Arg::from(at));
        a.push(Arg::from(acc.id.as_str()));
        a.push(Arg::from(contact.as_str()));
        a.push(Arg::from(at.min(now)));
        a.push(Arg::from(owner_id.as_str()));
        a.push(Arg::from(at.min(now)));
        a.push(Arg::from(owner_id.as_str()));
        t.rows += 1;
    };
    // The key account: 2,000 activities over three years.
    if let Some(key) = accounts.first() {
        for _ in 0..2_000 {
            let kind = weighted(&mut gen.rng, HISTORY);
            let at = now - gen.rng.range(DAY_MS, 3 * 365 * DAY_MS);
            push(&mut t, &mut gen.rng, key, kind, at, false);
            loader.fill(&mut t).await?;
        }
    }
    // The plan: about twelve items a day per user from a week ago to a month ahead.
    let mut by_owner: Vec<Vec<usize>> = vec![Vec::new(); users.len()];
    for (i, a) in accounts.iter().enumerate().take(50_000) {
        if let Some((_, o)) = a.contacts.first() {
            by_owner[(*o).min(users.len() - 1)].push(i);
        }
    }
    for own in &by_owner {
        if own.is_empty() {
            continue;
        }
        for d in -7..30_i64 {
            for _ in 0..12 {
                let acc = &accounts[*gen.rng.pick(own)];
                let kind = weighted(&mut gen.rng, PLANNED);
                let at = day + d * DAY_MS + 6 * 3_600_000 + gen.rng.range(0, 18) * 1_800_000;
                push(&mut t, &mut gen.rng, acc, kind, at, true);
                loader.fill(&mut t).await?;
            }
        }
    }
    // History over the accounts' first contacts.
    while t.total + t.rows < total {
        let acc = &accounts[gen.rng.below(accounts.len())];
        let kind = weighted(&mut gen.rng, HISTORY);
        let at = now - gen.rng.range(DAY_MS, 3 * 365 * DAY_MS);
        push(&mut t, &mut gen.rng, acc, kind, at, false);
        loader.fill(&mut t).await?;
    }
    loader.flush(&mut t).await?;
    loader.commit().await?;
    activities::rebuild_dates(db, &gen.tenant).await?;
    Ok(t.total)
}
