//! The demo company's sales: a catalogue of thirty products and services (software licences,
//! add-on modules, implementation services, training, support plans, hardware) priced in
//! roubles and dollars, and deals over the demo accounts.
//!
//! The small demo makes its deals through the store's own calls (`deals::create`, `move_to`,
//! `update`, `close`) with a clock that runs forward through each deal's life, so the stage
//! history, the negotiation log and the audit trail are exactly what the application writes.
//! The large demo bulk-inserts its deals with the rows the store would have written (the deal,
//! its contacts, its stage history and its first price-log entry), like the accounts.

use super::words::{RU_CITIES, SOURCES};
use super::{Acc, Gen, Loader, Rng, Table, DAY_MS};
use anyhow::Context as _;
use karta_catalog::store::{self as products, PriceInput, Product, ProductInput};
use karta_core::text::norm;
use karta_core::{new_id, Action, Currency, Entity, Money};
use karta_kernel::{users, Arg, Ctx, Db, StoreError, Q};
use karta_sales::deals::{self, Deal, DealContactInput, DealInput, LineInput, MoveInput, Outcome};
use karta_sales::pipelines::{self, LostReason, Pipeline, StageInput};
use std::time::Instant;

const HOUR_MS: i64 = 3_600_000;

/// A product of the demo catalogue.
struct Item {
    sku: &'static str,
    ru: &'static str,
    en: &'static str,
    unit: &'static str,
    group: &'static str,
    kind: &'static str,
    /// Base prices in whole roubles and dollars.
    rub: i64,
    usd: i64,
    /// The largest quantity a demo line takes.
    max: i64,
}

#[allow(clippy::too_many_arguments)]
const fn item(
    sku: &'static str,
    ru: &'static str,
    en: &'static str,
    unit: &'static str,
    group: &'static str,
    kind: &'static str,
    rub: i64,
    usd: i64,
    max: i64,
) -> Item {
    Item { sku, ru, en, unit, group, kind, rub, usd, max }
}

#[rustfmt::skip]
const CATALOGUE: &[Item] = &[
    item("LIC-CRM-STD", "Karta CRM «Стандарт», годовая подписка на пользователя", "Karta CRM Standard, annual per-user subscription", "лиц.", "Лицензии", "product", 9_600, 120, 150),
    item("LIC-CRM-PRO", "Karta CRM «Профессиональный», годовая подписка на пользователя", "Karta CRM Professional, annual per-user subscription", "лиц.", "Лицензии", "product", 18_000, 220, 150),
    item("LIC-CRM-ENT", "Karta CRM «Корпоративный», годовая подписка на пользователя", "Karta CRM Enterprise, annual per-user subscription", "лиц.", "Лицензии", "product", 31_200, 390, 300),
    item("LIC-SRV-ONP", "Серверная лицензия Karta (on-premise), бессрочная", "Karta server licence (on-premise), perpetual", "шт.", "Лицензии", "product", 480_000, 5_900, 2),
    item("LIC-MOB", "Мобильное приложение для выездных продаж", "Mobile app for field sales", "лиц.", "Лицензии", "product", 3_600, 45, 80),
    item("MOD-BI", "Модуль аналитики и дашбордов", "Analytics and dashboards module", "лиц.", "Модули", "product", 6_000, 75, 100),
    item("MOD-API", "Модуль интеграций (REST API, вебхуки)", "Integration module (REST API, webhooks)", "шт.", "Модули", "product", 96_000, 1_200, 1),
    item("MOD-TEL", "Модуль телефонии", "Telephony module", "лиц.", "Модули", "product", 4_200, 52, 100),
    item("MOD-EDO", "Модуль электронного документооборота", "E-document exchange module", "шт.", "Модули", "product", 72_000, 900, 1),
    item("SRV-START", "Внедрение «Быстрый старт» (до 20 пользователей)", "Quick-start implementation (up to 20 users)", "пакет", "Внедрение", "service", 190_000, 2_400, 1),
    item("SRV-CONS-H", "Работы консультанта по внедрению", "Implementation consultant", "ч", "Внедрение", "service", 4_800, 65, 240),
    item("SRV-ARCH-H", "Работы архитектора решения", "Solution architect", "ч", "Внедрение", "service", 7_800, 105, 80),
    item("SRV-DEV-H", "Доработка под требования заказчика", "Custom development", "ч", "Внедрение", "service", 5_900, 80, 400),
    item("SRV-MIGR", "Миграция данных из 1С и Excel", "Data migration from 1C and Excel", "проект", "Внедрение", "service", 140_000, 1_750, 1),
    item("SRV-1C", "Интеграция с 1С:Предприятие", "Integration with 1C:Enterprise", "проект", "Внедрение", "service", 260_000, 3_200, 1),
    item("SRV-AUDIT", "Аудит процесса продаж", "Sales process audit", "проект", "Внедрение", "service", 110_000, 1_400, 1),
    item("TRN-USER", "Обучение пользователей (группа до 12 человек)", "User training (groups of up to 12)", "день", "Обучение", "service", 48_000, 600, 5),
    item("TRN-ADMIN", "Курс администратора Karta CRM", "Karta CRM administrator course", "чел.", "Обучение", "service", 36_000, 450, 4),
    item("TRN-WEB", "Вебинар для руководителей продаж", "Webinar for sales managers", "шт.", "Обучение", "service", 15_000, 190, 3),
    item("SUP-BASIC", "Техподдержка «Базовая» (8×5)", "Basic support (8×5)", "мес.", "Поддержка", "service", 18_000, 230, 24),
    item("SUP-STD", "Техподдержка «Стандарт» (12×7)", "Standard support (12×7)", "мес.", "Поддержка", "service", 36_000, 450, 24),
    item("SUP-PREM", "Техподдержка «Премиум» (24×7, реакция 1 час)", "Premium support (24×7, 1-hour response)", "мес.", "Поддержка", "service", 72_000, 900, 24),
    item("SUP-TAM", "Персональный менеджер сопровождения", "Technical account manager", "мес.", "Поддержка", "service", 95_000, 1_200, 12),
    item("HW-SRV-1U", "Сервер 1U (2× Xeon Silver, 128 ГБ ОЗУ, 4× SSD 1,92 ТБ)", "1U server (2× Xeon Silver, 128 GB RAM, 4× 1.92 TB SSD)", "шт.", "Оборудование", "product", 640_000, 7_900, 6),
    item("HW-SRV-2U", "Сервер 2U (2× Xeon Gold, 512 ГБ ОЗУ)", "2U server (2× Xeon Gold, 512 GB RAM)", "шт.", "Оборудование", "product", 1_450_000, 17_800, 4),
    item("HW-NAS", "Сетевое хранилище на 8 дисков", "8-bay network storage", "шт.", "Оборудование", "product", 310_000, 3_800, 3),
    item("HW-SW24", "Коммутатор 24 порта PoE", "24-port PoE switch", "шт.", "Оборудование", "product", 86_000, 1_050, 8),
    item("HW-UPS", "ИБП 3 кВА для серверной стойки", "3 kVA rack UPS", "шт.", "Оборудование", "product", 120_000, 1_480, 4),
    item("HW-PHONE", "IP-телефон с цветным дисплеем", "IP desk phone with colour display", "шт.", "Оборудование", "product", 14_500, 180, 120),
    item("HW-TAB", "Защищённый планшет для выездных сотрудников", "Rugged tablet for field staff", "шт.", "Оборудование", "product", 68_000, 840, 60),
];

/// What a deal is about: its titles, the products on its lines and its typical amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Crm,
    Licences,
    Expansion,
    Implementation,
    Support,
    Hardware,
    Training,
    Renewal,
    Pilot,
}

/// Every kind, and how often each comes up (per cent).
const KINDS: [Kind; 9] = [
    Kind::Crm,
    Kind::Licences,
    Kind::Expansion,
    Kind::Implementation,
    Kind::Support,
    Kind::Hardware,
    Kind::Training,
    Kind::Renewal,
    Kind::Pilot,
];
const KIND_WEIGHTS: [usize; 9] = [18, 14, 10, 14, 9, 14, 8, 9, 4];

impl Kind {
    fn pick(rng: &mut Rng) -> Self {
        KINDS[weighted(rng, &KIND_WEIGHTS)]
    }

    /// Russian and English title patterns: `{q}` is the account in «», `{n}` as it is,
    /// `{k}` a number of users, `{y}` a year.
    fn titles(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Kind::Crm => (
                &["Внедрение CRM для {q}", "CRM для отдела продаж {q}", "Автоматизация продаж в {q}"],
                &["CRM rollout for {n}", "Sales CRM for {n}"],
            ),
            Kind::Licences => (&["Лицензии Karta CRM на {k} польз. — {n}"], &["Karta CRM licences, {k} users — {n}"]),
            Kind::Expansion => (
                &["Расширение лицензий до {k} польз. — {n}", "Модули аналитики и телефонии — {n}"],
                &["Licence expansion to {k} users — {n}", "Analytics and telephony add-ons — {n}"],
            ),
            Kind::Implementation => (
                &["Интеграция с 1С для {q}", "Миграция данных в Karta CRM — {n}", "Доработка отчётности для {q}"],
                &["1C integration for {n}", "Data migration — {n}", "Custom reporting for {n}"],
            ),
            Kind::Support => (
                &["Техподдержка «Премиум» на {y} год — {n}", "Переход на поддержку 24×7 — {n}"],
                &["Premium support {y} — {n}", "Upgrade to 24×7 support — {n}"],
            ),
            Kind::Hardware => (
                &[
                    "Серверное оборудование для {q}",
                    "IP-телефония для офиса {q}",
                    "Планшеты для выездных сотрудников — {n}",
                ],
                &["Server hardware for {n}", "IP telephony for {n}", "Field sales tablets — {n}"],
            ),
            Kind::Training => (
                &["Обучение пользователей — {n}", "Курс администратора CRM — {n}"],
                &["User training — {n}", "CRM administrator course — {n}"],
            ),
            Kind::Renewal => (&["Продление подписки на {y} год — {n}"], &["Renewal {y} — {n}"]),
            Kind::Pilot => (&["Пилотный проект: {n}"], &["Pilot project — {n}"]),
        }
    }

    /// The SKUs of a deal's lines: one of the first list, then each of the second maybe.
    fn skus(self) -> (&'static [&'static str], &'static [&'static str]) {
        const LIC: &[&str] = &["LIC-CRM-STD", "LIC-CRM-PRO", "LIC-CRM-ENT"];
        match self {
            Kind::Crm => (LIC, &["SRV-START", "SRV-CONS-H", "TRN-USER", "SUP-STD"]),
            Kind::Licences => (LIC, &["LIC-MOB", "MOD-BI", "MOD-TEL"]),
            Kind::Expansion => (&["LIC-CRM-PRO", "LIC-CRM-ENT", "MOD-BI"], &["MOD-API", "MOD-TEL", "LIC-MOB"]),
            Kind::Implementation => {
                (&["SRV-1C", "SRV-MIGR", "SRV-CONS-H", "SRV-DEV-H"], &["SRV-ARCH-H", "SRV-AUDIT", "TRN-ADMIN"])
            }
            Kind::Support => (&["SUP-BASIC", "SUP-STD", "SUP-PREM"], &["SUP-TAM"]),
            Kind::Hardware => (&["HW-SRV-1U", "HW-SRV-2U", "HW-PHONE", "HW-TAB"], &["HW-NAS", "HW-SW24", "HW-UPS"]),
            Kind::Training => (&["TRN-USER", "TRN-ADMIN"], &["TRN-WEB"]),
            Kind::Renewal => (LIC, &["SUP-STD", "MOD-BI"]),
            Kind::Pilot => (&["SRV-START"], &["LIC-CRM-STD", "SRV-CONS-H"]),
        }
    }

    /// A typed amount in whole roubles.
    fn rub_amount(self, rng: &mut Rng) -> i64 {
        let (lo, hi) = match self {
            Kind::Crm => (600_000, 6_000_000),
            Kind::Licences => (150_000, 4_000_000),
            Kind::Expansion => (100_000, 2_500_000),
            Kind::Implementation => (200_000, 3_500_000),
            Kind::Support => (200_000, 2_400_000),
            Kind::Hardware => (300_000, 12_000_000),
            Kind::Training => (50_000, 500_000),
            Kind::Renewal => (200_000, 3_000_000),
            Kind::Pilot => (120_000, 800_000),
        };
        rng.range(lo, hi) / 1000 * 1000
    }
}

/// An index into `weights`, each chosen in proportion to its weight.
fn weighted(rng: &mut Rng, weights: &[usize]) -> usize {
    let total: usize = weights.iter().sum();
    let mut x = rng.below(total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// The account's name after «для»: wrapped in «» unless it has its own.
fn quoted(name: &str) -> String {
    if name.contains('«') {
        name.to_string()
    } else {
        format!("«{name}»")
    }
}

/// True for an account outside Russia: its deals are in dollars and English.
fn foreign(acc: &Acc) -> bool {
    acc.city >= RU_CITIES.len()
}

/// The year of a timestamp.
fn year_of(ms: i64) -> i64 {
    deals::today(ms)[..4].parse().unwrap_or(2026)
}

/// A deal title for `acc` closing around `close_at`.
fn title(rng: &mut Rng, kind: Kind, acc: &Acc, close_at: i64) -> String {
    let (ru, en) = kind.titles();
    let english = foreign(acc) || rng.chance(15);
    let pattern = *rng.pick(if english { en } else { ru });
    let users = rng.range(2, 61) * 5;
    let year = year_of(close_at) + i64::from(kind == Kind::Renewal);
    pattern
        .replace("{q}", &quoted(&acc.name))
        .replace("{n}", &acc.name)
        .replace("{k}", &users.to_string())
        .replace("{y}", &year.to_string())
}

const NEXT_STEPS: &[&str] = &[
    "Созвон с ЛПР по итогам демонстрации",
    "Отправить коммерческое предложение",
    "Демонстрация для ИТ-отдела",
    "Согласовать договор с юристами клиента",
    "Получить техническое задание",
    "Встреча с финансовым директором",
    "Выставить счёт",
    "Follow-up call with the buyer",
    "Send the revised quote",
];

const DESCRIPTIONS: &[&str] = &[
    "Клиент сравнивает нас с двумя конкурентами; важны сроки внедрения.",
    "Бюджет утверждён на текущий год, решение принимает коммерческий директор.",
    "Запрос пришёл после вебинара; нужна интеграция с 1С.",
    "Закупка через тендер на электронной площадке.",
    "Расширение существующего контракта, клиент доволен поддержкой.",
];

const PRICE_COMMENTS: &[&str] = &[
    "Скидка по итогам переговоров",
    "Сократили объём первой очереди",
    "Согласовали цену с финансовым директором",
    "Discount agreed for a two-year term",
];

/// Contact roles on demo deals: the first contact's, then the others'.
const FIRST_ROLES: &[&str] = &["decision_maker", "decision_maker", "economic_buyer", "champion"];
const OTHER_ROLES: &[&str] = &["influencer", "influencer", "user", "champion", "other"];

/// Lost reasons and how often each is given, in the order of the tenant's default list
/// (price, competitor, no budget, no response, not a fit, other).
const REASON_WEIGHTS: [usize; 6] = [30, 25, 20, 12, 8, 5];
const OTHER_REASONS: &[&str] =
    &["Проект заморожен до следующего года", "Сменилось руководство клиента", "Клиент ушёл на собственную разработку"];

/// How a demo deal ends (or has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Open { stalled: bool },
    Won,
    Lost,
}

/// A deal's life: when it was created, when it entered each later stage, when it closed.
struct Life {
    created: i64,
    /// Times of the moves into stages `1..=stage`.
    moves: Vec<i64>,
    closed: Option<i64>,
}

/// The timeline of a deal that ends in `stage` (open deals: the stage they are in now).
/// Closed deals close within `horizon` before `now`; open ones entered their stage within the
/// stage's limit, or well past it when stalled.
fn life(rng: &mut Rng, now: i64, fate: Fate, stage: usize, max_days: i64, horizon: i64) -> Life {
    let stage = i64::try_from(stage).unwrap_or(0);
    let spread = |rng: &mut Rng, from: i64, to: i64, n: i64, last_at_end: bool| -> Vec<i64> {
        let step = (to - from) / (n + i64::from(!last_at_end)).max(1);
        (1..=n).map(|k| if last_at_end && k == n { to } else { from + step * k - rng.range(0, step / 3 + 1) }).collect()
    };
    match fate {
        Fate::Open { stalled } => {
            let entered = if stalled {
                now - rng.range((max_days + 2) * DAY_MS, (max_days + 60) * DAY_MS)
            } else {
                now - rng.range(2 * HOUR_MS, (max_days - 1).max(1) * DAY_MS)
            };
            let created = entered - if stage == 0 { 0 } else { rng.range(stage * 4 * DAY_MS, stage * 25 * DAY_MS) };
            Life { created, moves: spread(rng, created, entered, stage, true), closed: None }
        }
        Fate::Won | Fate::Lost => {
            let closed = now - rng.range(DAY_MS, horizon);
            let created = closed - rng.range(10 * DAY_MS, 160 * DAY_MS);
            Life { created, moves: spread(rng, created, closed, stage, false), closed: Some(closed) }
        }
    }
}

/// The stage a deal ends in: won deals reach the last; lost and open ones spread over all,
/// fewer the further along.
fn final_stage(rng: &mut Rng, fate: Fate, stages: usize) -> usize {
    let w: &[usize] = match fate {
        Fate::Won => return stages - 1,
        Fate::Lost => &[35, 25, 20, 15, 5],
        Fate::Open { .. } => &[30, 25, 20, 15, 10],
    };
    weighted(rng, &w[..stages.min(w.len())]).min(stages - 1)
}

/// The demo users' contexts, in the order of [`super::STAFF`].
pub(super) async fn contexts(db: &Db, gen: &Gen) -> anyhow::Result<Vec<Ctx>> {
    let mut out = Vec::new();
    for id in &gen.staff.ids {
        out.push(users::act_as(db, &gen.tenant, id).await.context("a demo user vanished")?);
    }
    Ok(out)
}

/// A store call's error with its field errors spelled out.
fn store<T>(r: Result<T, StoreError>, what: &str) -> anyhow::Result<T> {
    r.map_err(|e| match e {
        StoreError::Invalid(errs) => {
            let e: Vec<String> = errs.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("{what}: invalid {}", e.join("; "))
        }
        e => anyhow::Error::new(e).context(what.to_string()),
    })
}

/// Adds the catalogue as the admin.
async fn catalogue(db: &Db, admin: &Ctx) -> anyhow::Result<Vec<Product>> {
    let mut out = Vec::new();
    for it in CATALOGUE {
        let (sku, rub, usd) = (it.sku, it.rub, it.usd);
        let input = ProductInput {
            sku: sku.to_string(),
            name_ru: it.ru.to_string(),
            name_en: it.en.to_string(),
            unit: it.unit.to_string(),
            product_group: it.group.to_string(),
            kind: it.kind.to_string(),
            active: Some(true),
            prices: Some(vec![
                PriceInput { price_list: String::new(), currency: "RUB".into(), price: rub.to_string() },
                PriceInput { price_list: String::new(), currency: "USD".into(), price: usd.to_string() },
            ]),
        };
        out.push(store(products::create(db, admin, &input).await, &format!("cannot add the demo product {sku}"))?);
    }
    Ok(out)
}

/// The default pipeline (seeded on first use) and the tenant's lost reasons.
async fn default_pipeline(db: &Db, admin: &Ctx) -> anyhow::Result<(Pipeline, Vec<LostReason>)> {
    let pipes = store(pipelines::list(db, admin).await, "cannot read the pipelines")?;
    let p = pipes.into_iter().next().context("the tenant has no pipeline")?;
    anyhow::ensure!(!p.stages.is_empty(), "the default pipeline has no stages");
    let reasons = store(pipelines::lost_reasons(db, admin).await, "cannot read the lost reasons")?;
    anyhow::ensure!(!reasons.is_empty(), "the tenant has no lost reasons");
    Ok((p, reasons))
}

/// A lost reason (id, free text) drawn from the tenant's list; "other" gets a text.
fn lost_reason(rng: &mut Rng, reasons: &[LostReason]) -> (String, String) {
    let i = weighted(rng, &REASON_WEIGHTS[..reasons.len().min(REASON_WEIGHTS.len())]);
    let text = if i + 1 == REASON_WEIGHTS.len() { (*rng.pick(OTHER_REASONS)).to_string() } else { String::new() };
    (reasons[i].id.clone(), text)
}

/// What the sales part of the demo added, for the closing line.
pub(super) struct Counts {
    products: usize,
    deals: usize,
    open: usize,
    won: usize,
    lost: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} products, {} deals ({} open, {} won, {} lost)",
            self.products, self.deals, self.open, self.won, self.lost
        )
    }
}

// ---------------------------------------------------------------------------------------
// The small demo: through the store

/// Adds the catalogue and `n` deals through the store calls, each deal living its life from
/// creation through its moves to its closing with the clock set to each step's time.
pub(super) async fn small(db: &Db, gen: &mut Gen, accounts: &[Acc], n: usize) -> anyhow::Result<Counts> {
    let started = Instant::now();
    let ctxs = contexts(db, gen).await?;
    let admin = &ctxs[0];
    let products = catalogue(db, admin).await?;
    let (pipeline, reasons) = default_pipeline(db, admin).await?;
    let stages = &pipeline.stages;
    let now = gen.now;
    let mut counts = Counts { products: products.len(), deals: 0, open: 0, won: 0, lost: 0 };
    // (deal, version, when): the audit trail is stamped with the real clock; these put each
    // entry at the time of the step it records.
    let mut stamps: Vec<(String, i64, i64)> = Vec::new();
    for i in 0..n {
        // The key account gets the first few.
        let acc = &accounts[if i < 8 { 0 } else { gen.rng.below(accounts.len()) }];
        let ctx = &ctxs[acc.owner];
        let fate = match gen.rng.below(100) {
            0..=29 => Fate::Won,
            30..=54 => Fate::Lost,
            _ => Fate::Open { stalled: gen.rng.chance(25) },
        };
        let stage = final_stage(&mut gen.rng, fate, stages.len());
        let max_days = stages[stage].max_days.unwrap_or(14);
        let life = life(&mut gen.rng, now, fate, stage, max_days, 540 * DAY_MS);
        let input = deal_input(gen, &ctxs, ctx, acc, &pipeline, &products, fate, &life)?;
        let typed = input.lines.is_none();
        let mut d = store(deals::create(db, ctx, life.created, &input).await, "cannot create a demo deal")?;
        stamps.push((d.id.clone(), d.version, life.created));
        for (k, at) in life.moves.iter().enumerate() {
            let m = MoveInput { stage_id: stages[k + 1].id.clone(), version: Some(d.version), ..MoveInput::default() };
            d = store(deals::move_to(db, ctx, *at, &d.id, &m).await, "cannot move a demo deal")?;
            stamps.push((d.id.clone(), d.version, *at));
            // Some typed amounts come down in negotiation (stage 3), before the next step.
            if k + 1 == 3 && typed && gen.rng.chance(40) {
                let next = life.moves.get(k + 1).copied().or(life.closed).unwrap_or(now);
                let at = at + (next - at) / 2;
                d = renegotiate(db, gen, ctx, &d, at).await?;
                stamps.push((d.id.clone(), d.version, at));
            }
        }
        if let Some(at) = life.closed {
            let outcome = if fate == Fate::Won {
                counts.won += 1;
                Outcome::Won
            } else {
                counts.lost += 1;
                let (reason_id, text) = lost_reason(&mut gen.rng, &reasons);
                Outcome::Lost { reason_id, text }
            };
            d = store(deals::close(db, ctx, at, &d.id, d.version, &outcome).await, "cannot close a demo deal")?;
            stamps.push((d.id.clone(), d.version, at));
        } else {
            counts.open += 1;
        }
        counts.deals += 1;
    }
    stamp_audit(db, &gen.tenant, &stamps).await?;
    eprintln!("demo: {} deals through the store in {:.1} s", counts.deals, started.elapsed().as_secs_f64());
    Ok(counts)
}

/// A new deal for `acc`, owned by its owner (acting as `ctx`), with one to three of the
/// account's contacts that the owner can see, and product lines or a typed amount.
#[allow(clippy::too_many_arguments)]
fn deal_input(
    gen: &mut Gen,
    ctxs: &[Ctx],
    ctx: &Ctx,
    acc: &Acc,
    pipeline: &Pipeline,
    products: &[Product],
    fate: Fate,
    life: &Life,
) -> anyhow::Result<DealInput> {
    let rng = &mut gen.rng;
    let kind = Kind::pick(rng);
    let close_at = match (fate, life.closed) {
        (Fate::Won, Some(c)) => c,
        // A lost deal was expected to close some time after it started.
        (_, Some(_)) => life.created + rng.range(30 * DAY_MS, 120 * DAY_MS),
        // Open deals: around today, some already past (overdue).
        (_, None) => gen.now + rng.range(-25 * DAY_MS, 100 * DAY_MS),
    };
    let currency = if foreign(acc) { Currency::Usd } else { Currency::Rub };
    let read = ctx.scope(Entity::Contact, Action::Read)?;
    let visible: Vec<&(String, usize)> =
        acc.contacts.iter().filter(|(_, o)| ctx.reaches(read, ctxs[*o].user_id(), ctxs[*o].team_id())).collect();
    let mut contacts = Vec::new();
    if !visible.is_empty() {
        let k = 1 + rng.below(visible.len().min(3));
        let start = rng.below(visible.len());
        for j in 0..k {
            let (id, _) = visible[(start + j) % visible.len()];
            let role = if j == 0 { rng.pick(FIRST_ROLES) } else { rng.pick(OTHER_ROLES) };
            contacts.push(DealContactInput { contact_id: id.clone(), role: (*role).to_string() });
        }
    }
    let (lines, amount) = if rng.chance(40) {
        (Some(lines(rng, kind, products)), String::new())
    } else {
        let rub = kind.rub_amount(rng);
        let major = if currency == Currency::Usd { (rub / 85 / 10 * 10).max(500) } else { rub };
        (None, major.to_string())
    };
    let open = life.closed.is_none();
    Ok(DealInput {
        title: title(rng, kind, acc, close_at),
        account_id: acc.id.clone(),
        owner_id: ctx.user_id().to_string(),
        pipeline_id: pipeline.id.clone(),
        stage_id: pipeline.stages[0].id.clone(),
        amount,
        currency: currency.code().to_string(),
        close_date: deals::today(close_at),
        source: (*rng.pick(SOURCES)).to_string(),
        next_step: if open || rng.chance(30) { (*rng.pick(NEXT_STEPS)).to_string() } else { String::new() },
        description: if rng.chance(30) { (*rng.pick(DESCRIPTIONS)).to_string() } else { String::new() },
        contacts: Some(contacts),
        lines,
        ..DealInput::default()
    })
}

/// One to four product lines for a deal of `kind`, at the base price with an occasional
/// discount.
fn lines(rng: &mut Rng, kind: Kind, products: &[Product]) -> Vec<LineInput> {
    let (core, extra) = kind.skus();
    let mut skus = vec![*rng.pick(core)];
    for s in extra {
        if skus.len() < 4 && rng.chance(35) {
            skus.push(s);
        }
    }
    let mut out = Vec::new();
    for sku in skus {
        let Some(p) = products.iter().find(|p| p.sku == sku) else { continue };
        let Some(&Item { unit, max, .. }) = CATALOGUE.iter().find(|c| c.sku == sku) else { continue };
        let qty = match unit {
            "лиц." => rng.range(1, max / 5 + 1) * 5,
            "ч" => rng.range(1, max / 8 + 1) * 8,
            "мес." => *rng.pick(&[6, 12, 12, 24]),
            _ => rng.range(1, max + 1),
        };
        let discount = *rng.pick(&["", "", "", "", "5", "10", "10", "15", "7.5"]);
        out.push(LineInput {
            product_id: p.id.clone(),
            quantity: qty.to_string(),
            unit_price: String::new(),
            discount: discount.to_string(),
        });
    }
    out
}

/// Brings a typed amount down by 3–15 % with a comment in the negotiation log.
async fn renegotiate(db: &Db, gen: &mut Gen, ctx: &Ctx, d: &Deal, at: i64) -> anyhow::Result<Deal> {
    let cur = d.money().context("a demo deal has no currency")?;
    let minor = cur.minor * (100 - gen.rng.range(3, 16)) / 100;
    let minor = if cur.currency.digits() == 2 { minor / 100 * 100 } else { minor };
    let mut input = d.to_input();
    input.amount = Money::amount_text(minor, cur.currency);
    input.price_comment = (*gen.rng.pick(PRICE_COMMENTS)).to_string();
    store(deals::update(db, ctx, at, &d.id, d.version, &input).await, "cannot update a demo deal")
}

/// Sets the time of each deal audit entry to the step it records.
async fn stamp_audit(db: &Db, tenant: &str, stamps: &[(String, i64, i64)]) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for (id, version, at) in stamps {
        tx.exec(
            Q::new(
                "UPDATE audit_log SET at = $1 WHERE tenant_id = $2 AND entity = 'deal' AND entity_id = $3 AND version = $4",
            )
            .bind(*at)
            .bind(tenant)
            .bind(id)
            .bind(*version),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The large demo: bulk rows

#[rustfmt::skip]
const DEAL_COLS: [&str; 27] = [
    "tenant_id", "id", "version", "title", "title_key", "account_id", "owner_id", "pipeline_id", "stage_id", "status",
    "amount", "currency", "close_date", "source", "next_step", "description", "has_lines", "lost_reason_id",
    "lost_reason_text", "lost_stage_id", "stage_entered_at", "closed_at", "search_text", "created_at", "created_by",
    "updated_at", "updated_by",
];
const HISTORY_COLS: [&str; 9] =
    ["tenant_id", "id", "deal_id", "at", "user_id", "from_stage_id", "to_stage_id", "from_status", "to_status"];
const PRICE_COLS: [&str; 9] =
    ["tenant_id", "id", "deal_id", "at", "user_id", "what", "old_value", "new_value", "comment"];
const DEAL_CONTACT_COLS: [&str; 4] = ["tenant_id", "deal_id", "contact_id", "role"];

/// Open deals in the default pipeline and in renewals, and closed renewals, per 1,000 deals;
/// the rest are closed deals of the default pipeline.
const OPEN_PER_1000: usize = 20;
const RENEWALS_OPEN_PER_1000: usize = 4;
const RENEWALS_CLOSED_PER_1000: usize = 20;

/// Adds the "Renewals" pipeline: upcoming renewal, terms agreed, invoice sent.
async fn renewals_pipeline(db: &Db, admin: &Ctx) -> anyhow::Result<Pipeline> {
    let id = store(pipelines::create(db, admin, "Продления", "Renewals").await, "cannot add the renewals pipeline")?;
    let p = store(pipelines::get(db, admin, &id).await, "cannot read the renewals pipeline")?;
    let first = p.stages.first().context("a new pipeline has no stage")?;
    let stage = |ru: &str, en: &str, probability: i64, max_days: i64, required: &[&str]| StageInput {
        name_ru: ru.into(),
        name_en: en.into(),
        probability,
        max_days: Some(max_days),
        required_fields: required.iter().map(|s| (*s).to_string()).collect(),
        ..StageInput::default()
    };
    store(
        pipelines::update_stage(db, admin, &first.id, &stage("Предстоит продление", "Renewal due", 40, 30, &[])).await,
        "cannot set up the renewals pipeline",
    )?;
    for s in [
        stage("Условия согласованы", "Terms agreed", 70, 21, &["amount"]),
        stage("Счёт выставлен", "Invoice sent", 90, 14, &["amount", "close_date"]),
    ] {
        store(pipelines::add_stage(db, admin, &id, &s).await, "cannot set up the renewals pipeline")?;
    }
    store(pipelines::get(db, admin, &id).await, "cannot read the renewals pipeline")
}

/// Adds the catalogue, a renewals pipeline and `n` deals as bulk rows: about 98 % closed
/// over the last three years, the rest open, most of them in the default pipeline.
pub(super) async fn bulk(
    db: &Db,
    gen: &mut Gen,
    loader: &mut Loader<'_>,
    accounts: &[Acc],
    n: usize,
) -> anyhow::Result<Counts> {
    let started = Instant::now();
    let ctxs = contexts(db, gen).await?;
    let admin = &ctxs[0];
    let products = catalogue(db, admin).await?;
    let (default, reasons) = default_pipeline(db, admin).await?;
    let renewals = renewals_pipeline(db, admin).await?;
    let engine = db.engine();
    let mut deals_t = Table::new(engine, "deals", &DEAL_COLS, 1000);
    let mut history = Table::new(engine, "deal_stage_history", &HISTORY_COLS, 1000);
    let mut prices = Table::new(engine, "deal_price_log", &PRICE_COLS, 1000);
    let mut contacts = Table::new(engine, "deal_contacts", &DEAL_CONTACT_COLS, 1000);
    let mut counts = Counts { products: products.len(), deals: 0, open: 0, won: 0, lost: 0 };
    let now = gen.now;
    for i in 0..n {
        let slot = i % 1000;
        let (pipeline, open) = if slot < OPEN_PER_1000 {
            (&default, true)
        } else if slot < OPEN_PER_1000 + RENEWALS_OPEN_PER_1000 {
            (&renewals, true)
        } else if slot < OPEN_PER_1000 + RENEWALS_OPEN_PER_1000 + RENEWALS_CLOSED_PER_1000 {
            (&renewals, false)
        } else {
            (&default, false)
        };
        let renewal = pipeline.id == renewals.id;
        let rng = &mut gen.rng;
        let fate = if open {
            Fate::Open { stalled: rng.chance(20) }
        } else if rng.chance(if renewal { 75 } else { 40 }) {
            Fate::Won
        } else {
            Fate::Lost
        };
        let stages = &pipeline.stages;
        let stage = final_stage(rng, fate, stages.len());
        let max_days = stages[stage].max_days.unwrap_or(14);
        let life = life(rng, now, fate, stage, max_days, 3 * 365 * DAY_MS);
        let acc = &accounts[if i < 40 { 0 } else { rng.below(accounts.len()) }];
        let kind = if renewal { Kind::Renewal } else { Kind::pick(rng) };
        let close_at = match life.closed {
            Some(c) => c,
            None => now + rng.range(-25 * DAY_MS, 100 * DAY_MS),
        };
        let title = title(rng, kind, acc, close_at);
        let usd = foreign(acc);
        let rub = kind.rub_amount(rng);
        let (amount, currency) = if usd { ((rub / 85 / 10 * 10).max(500) * 100, "USD") } else { (rub * 100, "RUB") };
        let next_step = if open { (*rng.pick(NEXT_STEPS)).to_string() } else { String::new() };
        let source = *rng.pick(SOURCES);
        let owner = gen.staff.ids[acc.owner].as_str();
        let id = new_id();
        let entered = life.moves.last().copied().unwrap_or(life.created);
        let (status, reason, reason_text, lost_stage) = match fate {
            Fate::Open { .. } => ("open", String::new(), String::new(), ""),
            Fate::Won => ("won", String::new(), String::new(), ""),
            Fate::Lost => {
                let (r, t) = lost_reason(rng, &reasons);
                ("lost", r, t, stages[stage].id.as_str())
            }
        };
        match fate {
            Fate::Open { .. } => counts.open += 1,
            Fate::Won => counts.won += 1,
            Fate::Lost => counts.lost += 1,
        }
        counts.deals += 1;
        // Moves are recorded as one jump from the first stage to the final one.
        let moved = stage > 0;
        let version = 1 + i64::from(moved) + i64::from(life.closed.is_some());
        let updated = life.closed.unwrap_or(entered);
        let search: Vec<String> =
            [norm(&title), norm(&acc.name), norm(&next_step)].into_iter().filter(|s| !s.is_empty()).collect();
        let t = gen.tenant.as_str();
        let title_key = norm(&title);
        deals_t.args.extend([
            Arg::from(t),
            id.as_str().into(),
            version.into(),
            title.into(),
            title_key.into(),
            acc.id.as_str().into(),
            owner.into(),
            pipeline.id.as_str().into(),
            stages[stage].id.as_str().into(),
            status.into(),
            amount.into(),
            currency.into(),
            deals::today(close_at).into(),
            source.into(),
            next_step.into(),
            "".into(),
            false.into(),
            reason.into(),
            reason_text.into(),
            lost_stage.into(),
            entered.into(),
            life.closed.into(),
            search.join(" ").into(),
            life.created.into(),
            owner.into(),
            updated.into(),
            owner.into(),
        ]);
        deals_t.rows += 1;
        let first = stages[0].id.as_str();
        let mut event = |at: i64, from: (&str, &str), to: (&str, &str)| {
            history.args.extend([
                Arg::from(t),
                new_id().into(),
                id.as_str().into(),
                at.into(),
                owner.into(),
                from.0.into(),
                to.0.into(),
                from.1.into(),
                to.1.into(),
            ]);
            history.rows += 1;
        };
        event(life.created, ("", ""), (first, "open"));
        if moved {
            event(entered, (first, "open"), (stages[stage].id.as_str(), "open"));
        }
        if let Some(at) = life.closed {
            event(at, (stages[stage].id.as_str(), "open"), (stages[stage].id.as_str(), status));
        }
        prices.args.extend([
            Arg::from(t),
            new_id().into(),
            id.as_str().into(),
            life.created.into(),
            owner.into(),
            "amount".into(),
            "".into(),
            Money::amount_text(amount, if usd { Currency::Usd } else { Currency::Rub }).into(),
            "".into(),
        ]);
        prices.rows += 1;
        for (j, (contact, _)) in acc.contacts.iter().take(2).enumerate() {
            if j == 1 && !gen.rng.chance(40) {
                break;
            }
            let role = if j == 0 { *gen.rng.pick(FIRST_ROLES) } else { *gen.rng.pick(OTHER_ROLES) };
            contacts.args.extend([Arg::from(t), id.as_str().into(), contact.as_str().into(), role.into()]);
            contacts.rows += 1;
        }
        loader.fill(&mut deals_t).await?;
        loader.fill(&mut history).await?;
        loader.fill(&mut prices).await?;
        loader.fill(&mut contacts).await?;
    }
    for t in [&mut deals_t, &mut history, &mut prices, &mut contacts] {
        loader.flush(t).await?;
    }
    loader.commit().await?;
    eprintln!(
        "demo: {} deals, {} stage events, {} price entries, {} deal contacts in {:.1} s",
        deals_t.total,
        history.total,
        prices.total,
        contacts.total,
        started.elapsed().as_secs_f64()
    );
    Ok(counts)
}
