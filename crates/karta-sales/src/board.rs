//! The pipeline board (kanban): a column per stage with its count, sums per currency and the
//! newest cards. Without JavaScript every card carries a small form that moves it
//! (`POST /deals/{id}/move`); `/static/board.js` adds drag and drop, keyboard moves and a
//! dialog for the fields a stage requires.

use crate::deals::{self, Deal};
use crate::pipelines;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use karta_kernel::users;
use karta_webkit::auth::PageUser;
use karta_webkit::error::PageResult;
use karta_webkit::ui::list::{enc, error_page};
use karta_webkit::ui::pages::{fmt_date, money, plain_id, render, Layout};
use karta_webkit::AppState;

type Pairs = Vec<(String, String)>;

/// Cards shown per column.
const PER_COLUMN: i64 = 50;

fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// A card.
pub struct CardView {
    /// Deal id.
    pub id: String,
    /// Version (for the move form).
    pub version: i64,
    /// Title.
    pub title: String,
    /// Account name.
    pub account: String,
    /// Formatted amount, or empty.
    pub amount: String,
    /// Owner's name.
    pub owner: String,
    /// Expected close date as the user reads dates, or empty.
    pub close: String,
    /// ISO close date.
    pub close_iso: String,
    /// Close date passed.
    pub overdue: bool,
    /// Too long in the stage.
    pub stalled: bool,
    /// Whole days in the current stage.
    pub days: i64,
}

/// A column.
pub struct ColumnView {
    /// Stage id.
    pub stage_id: String,
    /// Stage name in the user's language.
    pub name: String,
    /// Win probability of the stage.
    pub probability: i64,
    /// Open deals in the stage.
    pub count: i64,
    /// Sums per currency, formatted.
    pub sums: Vec<String>,
    /// Fields the stage requires (comma separated, for the script).
    pub required: String,
    /// The required fields' labels, for people.
    pub required_labels: String,
    /// The first cards.
    pub cards: Vec<CardView>,
    /// Deals not shown.
    pub more: i64,
    /// The deal list of this stage.
    pub more_url: String,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    l: Layout,
    pipeline_id: String,
    pipeline_name: String,
    pipelines: Vec<(String, String, bool)>,
    owner: String,
    owners: Vec<(String, String)>,
    stages: Vec<(String, String)>,
    columns: Vec<ColumnView>,
    total: i64,
    back: String,
}

fn card(t: karta_webkit::i18n::Tr, d: &Deal, now: i64) -> CardView {
    CardView {
        id: d.id.clone(),
        version: d.version,
        title: d.title.clone(),
        account: d.account_name.clone(),
        amount: if d.amount_minor > 0 { money(d.amount_minor, &d.currency, t.code()) } else { String::new() },
        owner: d.owner_name.clone(),
        close: if d.close_date.is_empty() { String::new() } else { fmt_date(t, &d.close_date) },
        close_iso: d.close_date.clone(),
        overdue: d.overdue,
        stalled: d.stalled,
        days: d.days_in_stage(now),
    }
}

/// GET /board?pipeline=ID&owner=me|ID
pub async fn page(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> PageResult {
    let (t, ctx) = (u.t, &u.p.ctx);
    let now = st.clock.now();
    let pick_any = ctx.leads().is_ok();
    // Owner: empty = everyone the user may see, `me`, or (managers, admins) a user id.
    let owner_param = get(&pairs, "owner").trim();
    let owner = match owner_param {
        "" | "all" => String::new(),
        "me" => "me".to_string(),
        id if id == ctx.user_id() => "me".to_string(),
        id if pick_any && plain_id(id) => id.to_string(),
        _ => String::new(),
    };
    let owner_id = match owner.as_str() {
        "" => None,
        "me" => Some(ctx.user_id()),
        id => Some(id),
    };
    let pipeline_param = get(&pairs, "pipeline").trim();
    let board = match deals::board(&st.db, ctx, now, pipeline_param, owner_id, PER_COLUMN).await {
        Ok(b) => b,
        Err(e) => return Ok(error_page(&u, &e)),
    };
    let pipes = pipelines::list(&st.db, ctx).await?;
    let owners = if pick_any {
        users::list(&st.db, ctx)
            .await?
            .into_iter()
            .filter(|x| x.id != ctx.user_id())
            .map(|x| (x.id, x.display_name))
            .collect()
    } else {
        Vec::new()
    };
    let lang = t.code();
    let p = &board.pipeline;
    let mut back = format!("/board?pipeline={}", enc(&p.id));
    if !owner.is_empty() {
        back.push_str(&format!("&owner={}", enc(&owner)));
    }
    let owner_filter = match owner.as_str() {
        "" => String::new(),
        o => format!("&filter={}", enc(&format!("owner:eq:{o}"))),
    };
    let columns: Vec<ColumnView> = board
        .columns
        .iter()
        .map(|c| {
            let shown = c.deals.len() as i64;
            ColumnView {
                stage_id: c.stage.id.clone(),
                name: c.stage.name(lang).to_string(),
                probability: c.stage.probability,
                count: c.count,
                sums: c.sums.iter().map(|(cur, minor)| money(*minor, cur, lang)).collect(),
                required: c
                    .stage
                    .required_fields
                    .iter()
                    .map(|f| if f == "account" { "account_id" } else { f })
                    .collect::<Vec<_>>()
                    .join(","),
                required_labels: c.stage.required_fields.iter().map(|f| t.f(f)).collect::<Vec<_>>().join(", "),
                cards: c.deals.iter().map(|d| card(t, d, now)).collect(),
                more: (c.count - shown).max(0),
                more_url: format!(
                    "/deals?filter={}&filter={}&filter={}{owner_filter}",
                    enc(&format!("pipeline:eq:{}", p.id)),
                    enc(&format!("stage:eq:{}", c.stage.id)),
                    enc("status:eq:open"),
                ),
            }
        })
        .collect();
    let tpl = BoardPage {
        l: Layout::new(t, &u.p, format!("{} · {}", t.s("nav.board"), p.name(lang)), "board"),
        pipeline_id: p.id.clone(),
        pipeline_name: p.name(lang).to_string(),
        pipelines: pipes.iter().map(|x| (x.id.clone(), x.name(lang).to_string(), x.active)).collect(),
        owner,
        owners,
        stages: p.stages.iter().map(|s| (s.id.clone(), s.name(lang).to_string())).collect(),
        total: columns.iter().map(|c| c.count).sum(),
        columns,
        back,
    };
    Ok(render(StatusCode::OK, &tpl))
}
