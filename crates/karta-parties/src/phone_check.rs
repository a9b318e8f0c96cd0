//! Phone numbers to check: the stored numbers that re-reading by every country's numbering
//! plan (migration 12) could not confirm, kept as typed. An admin opens each record to fix
//! the number, or marks a number right as it is; a number no longer on its record drops off
//! the list by itself.

use crate::pages::entity;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use karta_core::Entity;
use karta_kernel::ctx::Admin;
use karta_kernel::db::Q;
use karta_kernel::{Db, StoreError};
use karta_webkit::auth::PageUser;
use karta_webkit::ui::list::{enc, error_page, kind_of, not_found};
use karta_webkit::ui::pages::{message_page, render, Layout};
use karta_webkit::AppState;
use serde_json::Value;

/// A number to check, on a record that still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneIssue {
    /// The record's id.
    pub record_id: String,
    /// The record's name.
    pub name: String,
    /// The number as it is stored.
    pub value: String,
    /// The custom field holding it (its key), empty for the record's own phone numbers.
    pub field: String,
    /// That field's label in English and Russian (empty for the record's own numbers).
    pub field_label: (String, String),
    /// When the migration found it (ms).
    pub found_at: i64,
    /// The record is in the trash.
    pub in_trash: bool,
}

/// One page of the numbers to check of `e`'s records, after the cursor `after`
/// (`record_id value`, as returned); the next page's cursor when there may be more.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(entity = e.as_str()))]
pub async fn list(
    db: &Db,
    admin: &Admin,
    e: Entity,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<PhoneIssue>, Option<String>), StoreError> {
    let table = if e == Entity::Account { "accounts" } else { "contacts" };
    let (after_id, after_value) = after.and_then(|a| a.split_once(' ')).unwrap_or(("", ""));
    let rows = db
        .all(
            Q::new(format!(
                "SELECT i.record_id, i.value, i.found_at, i.field, r.name, r.phones, r.custom, r.deleted_at, \
                 f.label_en, f.label_ru FROM phone_issues i \
                 JOIN {table} r ON r.tenant_id = i.tenant_id AND r.id = i.record_id \
                 LEFT JOIN custom_fields f ON f.tenant_id = i.tenant_id AND f.entity = i.entity AND f.key = i.field \
                 WHERE i.tenant_id = $1 AND i.entity = $2 AND (i.record_id > $3 OR (i.record_id = $3 AND i.value > $4)) \
                 ORDER BY i.record_id, i.value LIMIT $5"
            ))
            .bind(admin.tenant_id())
            .bind(e.as_str())
            .bind(after_id)
            .bind(after_value)
            .bind(limit),
        )
        .await?;
    let next = (i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit)
        .then(|| rows.last().map(|r| format!("{} {}", r.s("record_id"), r.s("value"))))
        .flatten();
    let items = rows
        .iter()
        .filter(|r| {
            // Fixed since: the record no longer holds the number.
            let value = r.s("value");
            let field = r.s("field");
            if field.is_empty() {
                let phones: Value = serde_json::from_str(&r.s("phones")).unwrap_or(Value::Null);
                phones
                    .as_array()
                    .is_some_and(|a| a.iter().any(|p| p.get("value").and_then(Value::as_str) == Some(&value)))
            } else {
                let custom: Value = serde_json::from_str(&r.s("custom")).unwrap_or(Value::Null);
                custom.get(&field).and_then(Value::as_str) == Some(&value)
            }
        })
        .map(|r| PhoneIssue {
            record_id: r.s("record_id"),
            name: r.s("name"),
            value: r.s("value"),
            field: r.s("field"),
            field_label: (r.os("label_en").unwrap_or_default(), r.os("label_ru").unwrap_or_default()),
            found_at: r.i("found_at"),
            in_trash: r.oi("deleted_at").is_some(),
        })
        .collect();
    Ok((items, next))
}

/// Marks a number right as it is: it leaves the list.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(entity = e.as_str()))]
pub async fn dismiss(db: &Db, admin: &Admin, e: Entity, record_id: &str, value: &str) -> Result<bool, StoreError> {
    let n = db
        .exec(
            Q::new("DELETE FROM phone_issues WHERE tenant_id = $1 AND entity = $2 AND record_id = $3 AND value = $4")
                .bind(admin.tenant_id())
                .bind(e.as_str())
                .bind(record_id)
                .bind(value),
        )
        .await?;
    Ok(n > 0)
}

struct IssueView {
    url: String,
    name: String,
    record_id: String,
    value: String,
    /// The custom field's label, empty for the record's own numbers.
    field: String,
    found: String,
    in_trash: bool,
}

#[derive(Template)]
#[template(path = "phone_check.html")]
struct CheckPage {
    l: Layout,
    kind: &'static str,
    items: Vec<IssueView>,
    next: String,
    done: bool,
}

/// Query of the page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct CheckQuery {
    after: Option<String>,
    done: Option<String>,
}

fn forbidden(u: &PageUser) -> Response {
    message_page(u.t, StatusCode::FORBIDDEN, u.t.s("error.forbidden"))
}

/// GET /{kind}/phone-check
#[tracing::instrument(skip_all, fields(kind = %kind))]
pub async fn page(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Query(q): Query<CheckQuery>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let Ok(admin) = u.p.ctx.admin() else { return forbidden(&u) };
    let (items, next) = match list(&st.db, &admin, e, q.after.as_deref(), 100).await {
        Ok(x) => x,
        Err(err) => return error_page(&u, &err),
    };
    let t = u.t;
    let items = items
        .into_iter()
        .map(|i| IssueView {
            url: format!("/{}/{}", kind_of(e), i.record_id),
            name: i.name,
            record_id: i.record_id,
            value: i.value,
            field: match (i.field.is_empty(), t.is_ru() && !i.field_label.1.is_empty()) {
                (true, _) => String::new(),
                (false, true) => i.field_label.1,
                (false, false) if !i.field_label.0.is_empty() => i.field_label.0,
                (false, false) => i.field,
            },
            found: u.when(i.found_at),
            in_trash: i.in_trash,
        })
        .collect();
    let next = next.map(|c| format!("/{}/phone-check?after={}", kind_of(e), enc(&c))).unwrap_or_default();
    let title = t.s(if e == Entity::Account { "phones.check_accounts" } else { "phones.check_contacts" });
    let l = Layout::new(t, &u.p, title, kind_of(e));
    render(StatusCode::OK, &CheckPage { l, kind: kind_of(e), items, next, done: q.done.is_some() })
}

/// The "right as it is" form.
#[derive(Debug, serde::Deserialize)]
pub struct DismissForm {
    record_id: String,
    value: String,
}

/// POST /{kind}/phone-check — marks a number right as it is.
#[tracing::instrument(skip_all, fields(kind = %kind))]
pub async fn dismiss_number(
    State(st): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Form(f): Form<DismissForm>,
) -> Response {
    let Some(e) = entity(&kind) else { return not_found(&u) };
    let Ok(admin) = u.p.ctx.admin() else { return forbidden(&u) };
    match dismiss(&st.db, &admin, e, &f.record_id, &f.value).await {
        Ok(_) => Redirect::to(&format!("/{}/phone-check?done=1", kind_of(e))).into_response(),
        Err(err) => error_page(&u, &err),
    }
}
