//! The organizer part of `/api/v1`: activities, timelines, My day, the calendar, the calendar
//! feed, and the team's workload with bulk reassignment.

use crate::store::{self as activities, Activity, ActivityInput, MyDay, Range, Workload};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use karta_core::{Entity, FieldError};
use karta_webkit::api::{idempotent, if_match, merge_patch, with_etag};
use karta_webkit::api::{ApiJson, ApiJsonOrDefault};
use karta_webkit::auth::ApiUser;
use karta_webkit::error::{ApiError, ApiResult};
use karta_webkit::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn bad(field: &str) -> ApiError {
    ApiError::Invalid(vec![FieldError::new(field, "invalid_value")])
}

/// Parses the activity list parameters (repeatable `kind` and `owner`).
fn range(raw: &[(String, String)], me: &str) -> ApiResult<Range> {
    let mut r = Range { limit: 100, ..Range::default() };
    for (k, v) in raw {
        match k.as_str() {
            "owner" => r.owners.push(if v == "me" { me.to_string() } else { v.clone() }),
            "kind" if activities::KINDS.contains(&v.as_str()) => r.kinds.push(v.clone()),
            "status" if v == "planned" || v == "done" => r.status.clone_from(v),
            "from" => r.from = Some(v.parse().map_err(|_| bad("from"))?),
            "to" => r.to = Some(v.parse().map_err(|_| bad("to"))?),
            "account" => r.record = Some((Entity::Account, v.clone())),
            "contact" => r.record = Some((Entity::Contact, v.clone())),
            "deal" => r.record = Some((Entity::Deal, v.clone())),
            "order" => r.newest_first = v == "newest",
            "limit" => r.limit = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| bad("limit"))?,
            "after" => {
                let (at, id) = v.split_once(':').ok_or_else(|| bad("after"))?;
                r.after = Some((at.parse().map_err(|_| bad("after"))?, id.to_string()));
            }
            _ => return Err(ApiError::BadRequest(format!("unknown or bad parameter {k:?}"))),
        }
    }
    Ok(r)
}

/// A page of activities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPage {
    /// Activities.
    pub items: Vec<Activity>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/activities",
    params(("owner" = Option<String>, Query, description = "`me` or a user id; repeatable"), ("kind" = Option<String>, Query, description = "repeatable"),
        ("status" = Option<String>, Query), ("from" = Option<i64>, Query), ("to" = Option<i64>, Query), ("account" = Option<String>, Query),
        ("contact" = Option<String>, Query), ("deal" = Option<String>, Query), ("order" = Option<String>, Query, description = "`newest` for timelines"),
        ("limit" = Option<i64>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ActivityPage)), tag = "activities")]
async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(raw): Query<Vec<(String, String)>>,
) -> ApiResult<Json<ActivityPage>> {
    // A role that reads no activities is refused, not shown an empty list.
    p.ctx.scope(karta_core::Entity::Activity, karta_core::Action::Read)?;
    let r = range(&raw, p.ctx.user_id())?;
    let mut items =
        activities::list(&st.db, &p.ctx, st.clock.now(), &Range { limit: r.limit + 1, ..r.clone() }).await?;
    let next = if items.len() as i64 > r.limit {
        items.truncate(usize::try_from(r.limit).unwrap_or(100));
        items.last().map(|a| format!("{}:{}", a.at, a.id))
    } else {
        None
    };
    Ok(Json(ActivityPage { items, next_cursor: next }))
}

#[utoipa::path(post, path = "/api/v1/activities", request_body = ActivityInput,
    params(("Idempotency-Key" = Option<String>, Header)), responses((status = 201, body = Activity), (status = 422)), tag = "activities")]
async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ActivityInput>,
) -> ApiResult<Response> {
    let st2 = st.clone();
    let p2 = p.clone();
    idempotent(&st, &p, &headers, input, |input| async move {
        let a = activities::create(&st2.db, &p2.ctx, st2.clock.now(), &input).await?;
        let loc = format!("/api/v1/activities/{}", a.id);
        Ok((StatusCode::CREATED, serde_json::to_value(&a).unwrap_or_default(), loc, a.version))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/activities/{id}", params(("id" = String, Path)), responses((status = 200, body = Activity)), tag = "activities")]
async fn get_one(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<Response> {
    let a = activities::get(&st.db, &p.ctx, &id, st.clock.now()).await?;
    Ok(with_etag(a.version, StatusCode::OK, a))
}

#[utoipa::path(patch, path = "/api/v1/activities/{id}", params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body = ActivityInput, responses((status = 200, body = Activity), (status = 412), (status = 428)), tag = "activities")]
async fn patch(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let now = st.clock.now();
    let cur = activities::get(&st.db, &p.ctx, &id, now).await?;
    let input: ActivityInput = merge_patch(&activities::to_input(&cur), patch, &["participants"])?;
    let a = activities::update(&st.db, &p.ctx, now, &id, version, &input).await?;
    Ok(with_etag(a.version, StatusCode::OK, a))
}

#[utoipa::path(delete, path = "/api/v1/activities/{id}", params(("id" = String, Path)), responses((status = 204)), tag = "activities")]
async fn delete(State(st): State<AppState>, ApiUser(p): ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    activities::delete(&st.db, &p.ctx, st.clock.now(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Completing an activity, optionally planning the next step.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CompleteBody {
    /// What came of it.
    pub result: String,
    /// The customer's interest.
    pub interest: String,
    /// The next step to plan (links default to this activity's).
    pub next: Option<ActivityInput>,
}

/// The completed activity and the planned next step.
#[derive(Debug, Serialize, ToSchema)]
pub struct Completed {
    /// The activity, now done.
    pub done: Activity,
    /// The next step, when one was planned.
    pub next: Option<Activity>,
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/complete", params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body = CompleteBody, responses((status = 200, body = Completed), (status = 412), (status = 428)), tag = "activities")]
async fn complete(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJsonOrDefault(b): ApiJsonOrDefault<CompleteBody>,
) -> ApiResult<Json<Completed>> {
    let version = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let now = st.clock.now();
    let done = activities::complete(&st.db, &p.ctx, now, &id, version, &b.result, &b.interest).await?;
    let next = match b.next {
        Some(mut n) => {
            for (dst, src) in [
                (&mut n.account_id, &done.account_id),
                (&mut n.contact_id, &done.contact_id),
                (&mut n.deal_id, &done.deal_id),
            ] {
                if dst.is_empty() {
                    dst.clone_from(src);
                }
            }
            Some(activities::create(&st.db, &p.ctx, now, &n).await?)
        }
        None => None,
    };
    Ok(Json(Completed { done, next }))
}

/// Timeline parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Only this kind.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// At most this many (default 50).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/{kind}/{id}/timeline", params(("kind" = String, Path, description = "accounts, contacts or deals"), ("id" = String, Path), TimelineParams),
    responses((status = 200, body = Vec<Activity>)), tag = "activities")]
async fn timeline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((kind, id)): Path<(String, String)>,
    Query(tp): Query<TimelineParams>,
) -> ApiResult<Json<Vec<Activity>>> {
    let e = match kind.as_str() {
        "accounts" => Entity::Account,
        "contacts" => Entity::Contact,
        "deals" => Entity::Deal,
        _ => return Err(ApiError::NotFound),
    };
    let now = st.clock.now();
    // The record itself must be visible to the caller.
    if e == Entity::Deal {
        karta_sales::deals::get(&st.db, &p.ctx, &id, now).await?;
    } else {
        karta_parties::parties::get(&st.db, &p.ctx, e, &id).await?;
    }
    let kinds: Vec<String> = tp.kind.into_iter().filter(|k| activities::KINDS.contains(&k.as_str())).collect();
    Ok(Json(activities::timeline(&st.db, &p.ctx, now, e, &id, &kinds, tp.limit.unwrap_or(50).clamp(1, 500)).await?))
}

/// My day parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayParams {
    /// The time zone: an IANA name (`Europe/Moscow`) or minutes east of UTC (read as the zone
    /// they most likely mean). Default: the user's zone, else the tenant's.
    pub tz: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/my-day", params(DayParams), responses((status = 200, body = MyDay)), tag = "activities")]
async fn my_day(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(dp): Query<DayParams>,
) -> ApiResult<Json<MyDay>> {
    let now = st.clock.now();
    let zone = karta_webkit::tz::api_zone(dp.tz.as_deref(), &p.ctx, now)
        .map_err(|e| karta_kernel::StoreError::Invalid(vec![e]))?;
    Ok(Json(activities::my_day(&st.db, &p.ctx, now, &zone).await?))
}

#[utoipa::path(get, path = "/api/v1/workload", params(DayParams), responses((status = 200, body = Vec<Workload>), (status = 403)), tag = "team")]
async fn workload(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(dp): Query<DayParams>,
) -> ApiResult<Json<Vec<Workload>>> {
    let now = st.clock.now();
    let zone = karta_webkit::tz::api_zone(dp.tz.as_deref(), &p.ctx, now)
        .map_err(|e| karta_kernel::StoreError::Invalid(vec![e]))?;
    let week = karta_webkit::tz::week_start(now, &zone);
    Ok(Json(activities::workload(&st.db, &p.ctx, now, week).await?))
}

/// Moving everything of one user to another.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReassignBody {
    /// From this user.
    pub from: String,
    /// To this user.
    pub to: String,
}

/// How many records moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reassigned {
    /// Open deals.
    pub deals: u64,
    /// Accounts.
    pub accounts: u64,
    /// Contacts.
    pub contacts: u64,
    /// Planned activities.
    pub activities: u64,
}

#[utoipa::path(post, path = "/api/v1/workload/reassign", request_body = ReassignBody, responses((status = 200, body = Reassigned), (status = 403)), tag = "team")]
async fn reassign(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<ReassignBody>,
) -> ApiResult<Json<Reassigned>> {
    let (deals, accounts, contacts, activities) =
        activities::reassign_all(&st.db, &p.ctx, st.clock.now(), &b.from, &b.to).await?;
    Ok(Json(Reassigned { deals, accounts, contacts, activities }))
}

/// A new calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    /// The feed's path (append to this server's address); keep it secret.
    pub path: String,
}

#[utoipa::path(post, path = "/api/v1/calendar-feed", responses((status = 201, body = Feed)), tag = "activities")]
async fn new_feed(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<(StatusCode, Json<Feed>)> {
    let secret = activities::new_feed_token(&st.db, &p.ctx, st.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Feed { path: format!("/calendar/{secret}.ics") })))
}

#[utoipa::path(delete, path = "/api/v1/calendar-feed", responses((status = 204)), tag = "activities")]
async fn revoke_feed(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<StatusCode> {
    activities::revoke_feed(&st.db, &p.ctx, st.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organizer API's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Activity,
    ActivityInput,
    activities::Participant,
    ActivityPage,
    CompleteBody,
    Completed,
    MyDay,
    activities::AttentionDeal,
    activities::DateItem,
    Workload,
    ReassignBody,
    Reassigned,
    Feed
)))]
pub struct OrganizerDoc;

/// The organizer routes (merged into `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(OrganizerDoc::openapi())
        .routes(routes!(list, create))
        .routes(routes!(get_one, patch, delete))
        .routes(routes!(complete))
        .routes(routes!(timeline))
        .routes(routes!(my_day))
        .routes(routes!(workload))
        .routes(routes!(reassign))
        .routes(routes!(new_feed, revoke_feed))
}
