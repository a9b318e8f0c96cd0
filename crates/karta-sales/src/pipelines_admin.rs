//! The admin's pipeline settings: pipelines (names, on / off), their stages (names,
//! probability, responsible employee or team, required fields, maximum days, order) and the
//! reasons for losing a deal. Every change is a plain form post that redirects back with a
//! message, or shows the page again with the errors next to the fields.

use crate::pipelines::{self, Stage, StageInput, REQUIRABLE};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::FieldError;
use karta_kernel::{tenants, users, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::error::PageResult;
use karta_webkit::i18n::Tr;
use karta_webkit::ui::list::error_page;
use karta_webkit::ui::pages::plain_id;
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;

type Pairs = Vec<(String, String)>;

fn get<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

pub use karta_webkit::ui::form::Edit;

/// A pipeline row.
pub struct PipeView {
    /// Id.
    pub id: String,
    /// Name in the user's language.
    pub name: String,
    /// Stored Russian name.
    pub name_ru: String,
    /// Stored English name.
    pub name_en: String,
    /// Active.
    pub active: bool,
    /// Number of stages.
    pub stages: usize,
    /// Shown below.
    pub current: bool,
    /// Its rename form.
    pub f: Edit,
}

/// A stage form.
pub struct StageView {
    /// Id (empty for the new-stage form).
    pub id: String,
    /// Name in the user's language.
    pub name: String,
    /// 1-based position.
    pub pos: usize,
    /// First of its pipeline.
    pub first: bool,
    /// Last of its pipeline.
    pub last: bool,
    /// The form.
    pub f: Edit,
    /// Required-field checkboxes: (field, label, checked).
    pub required: Vec<(String, String, bool)>,
}

/// A lost reason.
pub struct ReasonView {
    /// Id.
    pub id: String,
    /// Russian name.
    pub name_ru: String,
    /// English name.
    pub name_en: String,
    /// Offered for new losses.
    pub active: bool,
}

#[derive(Template)]
#[template(path = "pipelines.html")]
struct PipelinesPage {
    l: Layout,
    ok: String,
    error: String,
    pipes: Vec<PipeView>,
    new_pipe: Edit,
    sel_id: String,
    sel_name: String,
    stages: Vec<StageView>,
    new_stage: StageView,
    users: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    reasons: Vec<ReasonView>,
    new_reason: Edit,
}

/// Which form a failed post came from.
enum Target {
    NewPipeline,
    Pipeline(String),
    NewStage,
    Stage(String),
    NewReason,
    Other,
}

/// A failed post to show on the page.
struct Failure {
    target: Target,
    pairs: Pairs,
    err: StoreError,
}

fn stage_edit(s: &Stage) -> Edit {
    let mut f = Edit::default();
    f.set("name_ru", s.name_ru.clone());
    f.set("name_en", s.name_en.clone());
    f.set("probability", s.probability.to_string());
    f.set("responsible_user_id", s.responsible_user_id.clone());
    f.set("responsible_team_id", s.responsible_team_id.clone());
    f.set("max_days", s.max_days.map(|d| d.to_string()).unwrap_or_default());
    f.set_multi("required_fields", s.required_fields.iter().cloned());
    f
}

fn required_boxes(t: Tr, f: &Edit) -> Vec<(String, String, bool)> {
    REQUIRABLE.iter().map(|r| ((*r).to_string(), t.f(r).to_string(), f.has("required_fields", r))).collect()
}

/// Puts a failure's messages on its form: field errors next to the fields, the rest on top.
fn apply(t: Tr, f: &mut Edit, err: &StoreError, general: &mut String) {
    match err {
        StoreError::Invalid(errs) => {
            for e in errs {
                f.error(&e.field, t.err(e.code));
            }
            *general = t.s("form.errors").to_string();
        }
        other => *general = conflict_text(t, other),
    }
}

fn conflict_text(t: Tr, e: &StoreError) -> String {
    match e {
        StoreError::Conflict(c) if c == "last_stage" => t.s("pipelines.last_stage").to_string(),
        StoreError::Conflict(c) if c.starts_with("deals:") => {
            t.n("pipelines.stage_has_deals", c.trim_start_matches("deals:").parse::<i64>().unwrap_or(0))
        }
        StoreError::Conflict(_) => t.s("form.stale").to_string(),
        _ => t.s("error.internal").to_string(),
    }
}

fn ok_text(t: Tr, code: &str) -> String {
    match code {
        "created" => t.s("pipelines.created").to_string(),
        "saved" => t.s("pipelines.saved").to_string(),
        "stage_added" => t.s("pipelines.stage_added").to_string(),
        "stage_removed" => t.s("pipelines.stage_removed").to_string(),
        "moved" => t.s("pipelines.stage_moved").to_string(),
        "reason_added" => t.s("pipelines.reason_added").to_string(),
        _ => String::new(),
    }
}

async fn show(st: &AppState, u: &PageUser, sel: &str, ok: &str, fail: Option<Failure>) -> PageResult {
    let (t, ctx) = (u.t, &u.p.ctx);
    if !ctx.can(karta_core::Cap::ManagePipelines) {
        return Ok(message_page(t, StatusCode::FORBIDDEN, t.s("error.forbidden")));
    }
    let lang = t.code();
    let pipes = match pipelines::list(&st.db, ctx).await {
        Ok(p) => p,
        Err(e) => return Ok(error_page(u, &e)),
    };
    let reasons = pipelines::lost_reasons(&st.db, ctx).await?;
    let user_list = users::list(&st.db, ctx).await?;
    let teams = tenants::teams(&st.db, ctx.tenant_id()).await?;
    let selected = pipes.iter().find(|p| p.id == sel).or_else(|| pipes.first());
    let sel_id = selected.map(|p| p.id.clone()).unwrap_or_default();
    let mut error = String::new();
    let mut status = StatusCode::OK;
    let mut pipe_views: Vec<PipeView> = pipes
        .iter()
        .map(|p| {
            let mut f = Edit::default();
            f.set("name_ru", p.name_ru.clone());
            f.set("name_en", p.name_en.clone());
            PipeView {
                id: p.id.clone(),
                name: p.name(lang).to_string(),
                name_ru: p.name_ru.clone(),
                name_en: p.name_en.clone(),
                active: p.active,
                stages: p.stages.len(),
                current: p.id == sel_id,
                f,
            }
        })
        .collect();
    let mut stages: Vec<StageView> = selected
        .map(|p| {
            let n = p.stages.len();
            p.stages
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let f = stage_edit(s);
                    StageView {
                        id: s.id.clone(),
                        name: s.name(lang).to_string(),
                        pos: i + 1,
                        first: i == 0,
                        last: i + 1 == n,
                        required: required_boxes(t, &f),
                        f,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut new_pipe = Edit::default();
    let mut new_stage_f = Edit::default();
    new_stage_f.set("probability", "50");
    let mut new_reason = Edit::default();
    if let Some(Failure { target, pairs, err }) = fail {
        status = match &err {
            StoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut submitted = Edit::from_pairs(&pairs);
        match target {
            Target::NewPipeline => {
                apply(t, &mut submitted, &err, &mut error);
                new_pipe = submitted;
            }
            Target::Pipeline(id) => {
                apply(t, &mut submitted, &err, &mut error);
                if let Some(p) = pipe_views.iter_mut().find(|p| p.id == id) {
                    p.f = submitted;
                }
            }
            Target::NewStage => {
                apply(t, &mut submitted, &err, &mut error);
                new_stage_f = submitted;
            }
            Target::Stage(id) => match stages.iter_mut().find(|s| s.id == id) {
                Some(s) if matches!(err, StoreError::Invalid(_)) => {
                    apply(t, &mut submitted, &err, &mut error);
                    s.required = required_boxes(t, &submitted);
                    s.f = submitted;
                }
                Some(s) => {
                    // A refused removal or move: the message goes next to the stage too.
                    apply(t, &mut s.f, &err, &mut error);
                    s.f.error("stage", &error);
                }
                None => apply(t, &mut submitted, &err, &mut error),
            },
            Target::NewReason => {
                apply(t, &mut submitted, &err, &mut error);
                new_reason = submitted;
            }
            Target::Other => apply(t, &mut submitted, &err, &mut error),
        }
    }
    let new_stage = StageView {
        id: String::new(),
        name: String::new(),
        pos: stages.len() + 1,
        first: false,
        last: true,
        required: required_boxes(t, &new_stage_f),
        f: new_stage_f,
    };
    let tpl = PipelinesPage {
        l: Layout::new(t, &u.p, t.s("nav.pipelines"), "pipelines"),
        ok: if error.is_empty() { ok_text(t, ok) } else { String::new() },
        error,
        pipes: pipe_views,
        new_pipe,
        sel_name: selected.map(|p| p.name(lang).to_string()).unwrap_or_default(),
        sel_id,
        stages,
        new_stage,
        users: user_list.into_iter().map(|x| (x.id, x.display_name)).collect(),
        teams,
        reasons: reasons
            .into_iter()
            .map(|r| ReasonView { id: r.id, name_ru: r.name_ru, name_en: r.name_en, active: r.active })
            .collect(),
        new_reason,
    };
    Ok(render(status, &tpl))
}

/// GET /admin/pipelines?pipeline=ID
pub async fn page(State(st): State<AppState>, u: PageUser, Query(pairs): Query<Pairs>) -> PageResult {
    show(&st, &u, get(&pairs, "pipeline"), get(&pairs, "ok"), None).await
}

/// Where a successful post goes: the page of `pipeline`, a message and an anchor.
struct Back<'a> {
    pipeline: &'a str,
    ok: &'a str,
    anchor: &'a str,
}

impl Back<'_> {
    fn redirect(&self) -> Response {
        let mut to = "/admin/pipelines?".to_string();
        if plain_id(self.pipeline) {
            to.push_str(&format!("pipeline={}&", self.pipeline));
        }
        to.push_str(&format!("ok={}", self.ok));
        if plain_id(self.anchor) {
            to.push_str(&format!("#{}", self.anchor));
        }
        Redirect::to(&to).into_response()
    }
}

/// Turns a store result into a redirect or the page with the failure.
async fn finish(
    st: &AppState,
    u: &PageUser,
    res: Result<(), StoreError>,
    to: Back<'_>,
    target: Target,
    pairs: Pairs,
) -> Response {
    match res {
        Ok(()) => to.redirect(),
        Err(err @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
            show(st, u, to.pipeline, "", Some(Failure { target, pairs, err }))
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        Err(e) => error_page(u, &e),
    }
}

/// POST /admin/pipelines — a new pipeline.
pub async fn create(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> Response {
    let res = pipelines::create(&st.db, &u.p.ctx, get(&pairs, "name_ru"), get(&pairs, "name_en")).await;
    match res {
        Ok(id) => Back { pipeline: &id, ok: "created", anchor: "stages" }.redirect(),
        Err(e) => {
            let to = Back { pipeline: "", ok: "", anchor: "" };
            finish(&st, &u, Err(e), to, Target::NewPipeline, pairs).await
        }
    }
}

/// POST /admin/pipelines/{id} — rename, switch on or off.
pub async fn update(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let active = matches!(get(&pairs, "active"), "on" | "1" | "true");
    let res = pipelines::update(&st.db, &u.p.ctx, &id, get(&pairs, "name_ru"), get(&pairs, "name_en"), active).await;
    let to = Back { pipeline: &id, ok: "saved", anchor: "pipelines" };
    finish(&st, &u, res, to, Target::Pipeline(id.clone()), pairs).await
}

fn number(pairs: &Pairs, key: &str, errs: &mut Vec<FieldError>) -> Option<i64> {
    let v = get(pairs, key).trim().trim_end_matches('%').trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(key, "invalid_value"));
            None
        }
    }
}

fn stage_input(pairs: &Pairs) -> Result<StageInput, StoreError> {
    let mut errs = Vec::new();
    let probability = number(pairs, "probability", &mut errs).unwrap_or(0);
    let max_days = number(pairs, "max_days", &mut errs);
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    Ok(StageInput {
        name_ru: get(pairs, "name_ru").to_string(),
        name_en: get(pairs, "name_en").to_string(),
        probability,
        responsible_user_id: get(pairs, "responsible_user_id").trim().to_string(),
        responsible_team_id: get(pairs, "responsible_team_id").trim().to_string(),
        required_fields: pairs.iter().filter(|(k, _)| k == "required_fields").map(|(_, v)| v.clone()).collect(),
        max_days,
    })
}

/// POST /admin/pipelines/{id}/stages — a new stage at the end.
pub async fn add_stage(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let res = match stage_input(&pairs) {
        Ok(s) => pipelines::add_stage(&st.db, &u.p.ctx, &id, &s).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(sid) => Back { pipeline: &id, ok: "stage_added", anchor: &format!("stage-{sid}") }.redirect(),
        Err(e) => {
            let to = Back { pipeline: &id, ok: "", anchor: "" };
            finish(&st, &u, Err(e), to, Target::NewStage, pairs).await
        }
    }
}

/// POST /admin/stages/{id} — change a stage.
pub async fn update_stage(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let res = match stage_input(&pairs) {
        Ok(s) => pipelines::update_stage(&st.db, &u.p.ctx, &id, &s).await,
        Err(e) => Err(e),
    };
    let pipeline = get(&pairs, "pipeline").to_string();
    let anchor = format!("stage-{id}");
    let to = Back { pipeline: &pipeline, ok: "saved", anchor: &anchor };
    finish(&st, &u, res, to, Target::Stage(id.clone()), pairs).await
}

/// POST /admin/stages/{id}/move — one place up (`dir=up`) or down.
pub async fn move_stage(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let res = pipelines::shift_stage(&st.db, &u.p.ctx, &id, get(&pairs, "dir") == "up").await;
    let pipeline = get(&pairs, "pipeline").to_string();
    let anchor = format!("stage-{id}");
    let to = Back { pipeline: &pipeline, ok: "moved", anchor: &anchor };
    finish(&st, &u, res, to, Target::Stage(id.clone()), pairs).await
}

/// POST /admin/stages/{id}/delete — remove a stage without deals.
pub async fn remove_stage(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let res = pipelines::remove_stage(&st.db, &u.p.ctx, &id).await;
    let pipeline = get(&pairs, "pipeline").to_string();
    let to = Back { pipeline: &pipeline, ok: "stage_removed", anchor: "stages" };
    finish(&st, &u, res, to, Target::Stage(id.clone()), pairs).await
}

/// POST /admin/lost-reasons — a new reason.
pub async fn add_reason(State(st): State<AppState>, u: PageUser, Form(pairs): Form<Pairs>) -> Response {
    let res =
        pipelines::add_lost_reason(&st.db, &u.p.ctx, get(&pairs, "name_ru"), get(&pairs, "name_en")).await.map(|_| ());
    let pipeline = get(&pairs, "pipeline").to_string();
    let to = Back { pipeline: &pipeline, ok: "reason_added", anchor: "reasons" };
    finish(&st, &u, res, to, Target::NewReason, pairs).await
}

/// POST /admin/lost-reasons/{id} — switch a reason on (`active=1`) or off.
pub async fn set_reason(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let active = matches!(get(&pairs, "active"), "on" | "1" | "true");
    let res = pipelines::set_lost_reason_active(&st.db, &u.p.ctx, &id, active).await;
    let pipeline = get(&pairs, "pipeline").to_string();
    let to = Back { pipeline: &pipeline, ok: "saved", anchor: "reasons" };
    finish(&st, &u, res, to, Target::Other, pairs).await
}
