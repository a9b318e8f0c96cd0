//! The team's workload (sales managers and admins): per person open deals, overdue tasks,
//! activities this week and the average days to win a deal; and handing everything of one
//! person over to another, with a preview of what moves before anything changes.

use crate::calendar::{local_date, long_date};
use crate::store as activities;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::Scope;
use karta_kernel::{Ctx, Db, StoreError, Q};
use karta_webkit::auth::PageUser;
use karta_webkit::i18n::Tr;
use karta_webkit::routes::Pages;
use karta_webkit::ui::list::{error_page, get, Pairs};
use karta_webkit::ui::pages::{render, Layout, MessagePage};
use karta_webkit::AppState;

/// One person's row.
struct RowView {
    id: String,
    name: String,
    open: i64,
    overdue: i64,
    week: i64,
    avg: String,
    deals_url: String,
    cal_url: String,
}

/// A person in the hand-over selects.
struct Person {
    id: String,
    name: String,
    disabled: bool,
}

/// How many records of each kind move.
#[derive(Default)]
struct Counts {
    deals: u64,
    accounts: u64,
    contacts: u64,
    activities: u64,
}

impl Counts {
    fn total(&self) -> u64 {
        self.deals + self.accounts + self.contacts + self.activities
    }
}

/// A hand-over to confirm, or one just done.
struct Handover {
    from: String,
    from_name: String,
    to: String,
    to_name: String,
    counts: Counts,
}

#[derive(Template)]
#[template(path = "workload.html")]
struct WorkloadPage {
    l: Layout,
    rows: Vec<RowView>,
    max_open: i64,
    week_from: String,
    people: Vec<Person>,
    from: String,
    to: String,
    error: String,
    preview: Option<Handover>,
    done: Option<Handover>,
}

/// Average days, one decimal, in the reader's notation; "—" when nothing was won.
fn fmt_days(t: Tr, d: Option<f64>) -> String {
    match d {
        None => "—".to_string(),
        Some(v) => {
            let s = format!("{v:.1}");
            if t.is_ru() {
                s.replace('.', ",")
            } else {
                s
            }
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Whom the caller leads ([`Ctx::leads`]), or `None` for everyone who leads no one.
fn team_scope(ctx: &Ctx) -> Option<Scope> {
    ctx.leads().ok()
}

/// Everyone in the caller's scope, the disabled ones too (their records may still need a new
/// owner), active first.
async fn people(db: &Db, ctx: &Ctx, scope: Scope) -> Result<Vec<Person>, StoreError> {
    let rows = db
        .all(
            Q::new(
                "SELECT id, display_name, team_id, disabled FROM users WHERE tenant_id = $1 \
                 ORDER BY disabled, display_name, id",
            )
            .bind(ctx.tenant_id()),
        )
        .await?;
    Ok(rows
        .iter()
        .filter(|r| ctx.reaches(scope, &r.s("id"), r.os("team_id").filter(|s| !s.is_empty()).as_deref()))
        .map(|r| Person { id: r.s("id"), name: r.s("display_name"), disabled: r.i("disabled") != 0 })
        .collect())
}

/// What [`activities::reassign_all`] would move from `from`: the same conditions, counted.
async fn preview_counts(db: &Db, ctx: &Ctx, from: &str) -> Result<Counts, StoreError> {
    let mut n = [0u64; 4];
    for (i, sql) in [
        "SELECT COUNT(*) AS n FROM deals WHERE tenant_id = $1 AND owner_id = $2 AND status = 'open' AND deleted_at IS NULL",
        "SELECT COUNT(*) AS n FROM accounts WHERE tenant_id = $1 AND owner_id = $2 AND deleted_at IS NULL",
        "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1 AND owner_id = $2 AND deleted_at IS NULL",
        "SELECT COUNT(*) AS n FROM activities WHERE tenant_id = $1 AND owner_id = $2 AND status = 'planned' AND deleted_at IS NULL",
    ]
    .iter()
    .enumerate()
    {
        let r = db.opt(Q::new(*sql).bind(ctx.tenant_id()).bind(from)).await?;
        n[i] = r.map_or(0, |r| u64::try_from(r.i("n")).unwrap_or(0));
    }
    Ok(Counts { deals: n[0], accounts: n[1], contacts: n[2], activities: n[3] })
}

/// The refusal a salesperson gets.
fn forbidden(u: &PageUser) -> Response {
    let t = u.t;
    let tpl =
        MessagePage { l: Layout::new(t, &u.p, t.s("team.title"), "workload"), message: t.s("team.forbidden").into() };
    render(StatusCode::FORBIDDEN, &tpl)
}

/// What the page shows besides the table.
#[derive(Default)]
struct Extra {
    from: String,
    to: String,
    error: String,
    preview: Option<Handover>,
    done: Option<Handover>,
}

async fn show(st: &AppState, u: &PageUser, headers: &HeaderMap, status: StatusCode, x: Extra) -> Response {
    let (t, ctx, db, now) = (u.t, &u.p.ctx, &st.db, st.clock.now());
    let Some(scope) = team_scope(ctx) else { return forbidden(u) };
    let z = karta_webkit::tz::zone(headers, ctx, now);
    let week = karta_webkit::tz::week_start(now, &z);
    let list = match activities::workload(db, ctx, now, week).await {
        Ok(v) => v,
        Err(StoreError::Forbidden) => return forbidden(u),
        Err(e) => return error_page(u, &e),
    };
    let people = match people(db, ctx, scope).await {
        Ok(v) => v,
        Err(e) => return error_page(u, &e),
    };
    let rows: Vec<RowView> = list
        .into_iter()
        .map(|w| RowView {
            deals_url: format!("/deals?filter=owner:eq:{}&filter=status:eq:open", enc(&w.user_id)),
            cal_url: format!("/calendar?view=week&who={}", enc(&w.user_id)),
            avg: fmt_days(t, w.avg_days_to_close),
            id: w.user_id,
            name: w.name,
            open: w.open_deals,
            overdue: w.overdue_tasks,
            week: w.week_activities,
        })
        .collect();
    let tpl = WorkloadPage {
        l: Layout::new(t, &u.p, t.s("team.title"), "workload"),
        max_open: rows.iter().map(|r| r.open).max().unwrap_or(0).max(1),
        week_from: long_date(t, local_date(week, &z)),
        rows,
        people,
        from: x.from,
        to: x.to,
        error: x.error,
        preview: x.preview,
        done: x.done,
    };
    render(status, &tpl)
}

fn name_of(people: &[Person], id: &str) -> String {
    people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_default()
}

/// GET /workload (after a hand-over: `?moved=D.A.C.T&from=ID&to=ID`)
async fn page(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Query(pairs): Query<Pairs>) -> Response {
    let mut x = Extra::default();
    let moved: Vec<u64> = get(&pairs, "moved").split('.').filter_map(|n| n.parse().ok()).collect();
    if let ([d, a, c, act], Some(scope)) = (moved.as_slice(), team_scope(&u.p.ctx)) {
        let ps = match people(&st.db, &u.p.ctx, scope).await {
            Ok(ps) => ps,
            Err(e) => return error_page(&u, &e),
        };
        let (from, to) = (get(&pairs, "from"), get(&pairs, "to"));
        x.done = Some(Handover {
            from: from.to_string(),
            from_name: name_of(&ps, from),
            to: to.to_string(),
            to_name: name_of(&ps, to),
            counts: Counts { deals: *d, accounts: *a, contacts: *c, activities: *act },
        });
    }
    show(&st, &u, &headers, StatusCode::OK, x).await
}

/// POST /workload/reassign — without `confirm=1` shows what would move; with it, moves.
async fn reassign(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Form(pairs): Form<Pairs>) -> Response {
    let (t, ctx, db) = (u.t, &u.p.ctx, &st.db);
    let Some(scope) = team_scope(ctx) else { return forbidden(&u) };
    let (from, to) = (get(&pairs, "from").trim().to_string(), get(&pairs, "to").trim().to_string());
    let refuse = |msg: &str| Extra { from: from.clone(), to: to.clone(), error: msg.to_string(), ..Extra::default() };
    // The same checks the store makes, so the preview refuses what the move would.
    let src = match karta_kernel::users::by_id(db, ctx.tenant_id(), &from).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let x = refuse(t.s("team.unknown_from"));
            return show(&st, &u, &headers, StatusCode::UNPROCESSABLE_ENTITY, x).await;
        }
        Err(e) => return error_page(&u, &e),
    };
    let dst = match karta_kernel::users::by_id(db, ctx.tenant_id(), &to).await {
        Ok(Some(d)) if !d.disabled => d,
        Ok(_) => {
            let x = refuse(t.s("team.unknown_to"));
            return show(&st, &u, &headers, StatusCode::UNPROCESSABLE_ENTITY, x).await;
        }
        Err(e) => return error_page(&u, &e),
    };
    if src.id == dst.id {
        let x = refuse(t.s("team.same"));
        return show(&st, &u, &headers, StatusCode::UNPROCESSABLE_ENTITY, x).await;
    }
    if !ctx.reaches(scope, &src.id, src.team_id.as_deref()) || !ctx.reaches(scope, &dst.id, dst.team_id.as_deref()) {
        let x = refuse(t.s("team.out_of_scope"));
        return show(&st, &u, &headers, StatusCode::FORBIDDEN, x).await;
    }
    if get(&pairs, "confirm") != "1" {
        let counts = match preview_counts(db, ctx, &src.id).await {
            Ok(c) => c,
            Err(e) => return error_page(&u, &e),
        };
        let x = Extra {
            from: src.id.clone(),
            to: dst.id.clone(),
            preview: Some(Handover {
                from: src.id,
                from_name: src.display_name,
                to: dst.id,
                to_name: dst.display_name,
                counts,
            }),
            ..Extra::default()
        };
        return show(&st, &u, &headers, StatusCode::OK, x).await;
    }
    match activities::reassign_all(db, ctx, st.clock.now(), &src.id, &dst.id).await {
        Ok((d, a, c, act)) => Redirect::to(&format!(
            "/workload?moved={d}.{a}.{c}.{act}&from={}&to={}#handover",
            enc(&src.id),
            enc(&dst.id)
        ))
        .into_response(),
        Err(StoreError::Forbidden) => {
            let x = refuse(t.s("team.out_of_scope"));
            show(&st, &u, &headers, StatusCode::FORBIDDEN, x).await
        }
        Err(StoreError::Invalid(errs)) => {
            let msg =
                if errs.iter().any(|e| e.field == "from") { t.s("team.unknown_from") } else { t.s("team.unknown_to") };
            let x = refuse(msg);
            show(&st, &u, &headers, StatusCode::UNPROCESSABLE_ENTITY, x).await
        }
        Err(e) => error_page(&u, &e),
    }
}

/// The workload page and the hand-over.
pub fn router() -> Pages {
    Pages::new().get("/workload", page).post("/workload/reassign", reassign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_days_read_in_the_pages_language() {
        assert_eq!(fmt_days(Tr::EN, Some(12.345)), "12.3");
        assert_eq!(fmt_days(Tr::RU, Some(12.345)), "12,3");
        assert_eq!(fmt_days(Tr::RU, None), "—");
    }
}
