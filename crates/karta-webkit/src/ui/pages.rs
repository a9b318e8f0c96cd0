//! Page models shared by the UI handlers, and formatting helpers.

use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use karta_kernel::users::Principal;

/// What every page's frame (navigation, header, search) needs.
pub struct Layout {
    /// Language.
    pub t: Tr,
    /// Page title.
    pub title: String,
    /// Signed-in user's name (empty on the sign-in page).
    pub me: String,
    /// Company name.
    pub tenant: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Active navigation item.
    pub active: &'static str,
    /// Search box content.
    pub q: String,
    /// The user is an admin (shows the admin pages).
    pub admin: bool,
    /// Unread notifications, for the bell.
    pub unread: i64,
    /// The user leads others (admin or sales manager): shows the workload page.
    pub manager: bool,
    /// The user configures pipelines: shows the pipelines page.
    pub pipelines: bool,
    /// Pinned saved views: (list path such as `contacts`, link, name).
    pub pinned: Vec<(&'static str, String, String)>,
    /// The IANA name of the zone the page shows times in, for the script's local times.
    pub zone: String,
}

impl Layout {
    /// The frame of a page with no one signed in (sign-in, bare messages).
    #[must_use]
    pub fn bare(t: Tr, title: impl Into<String>) -> Self {
        Self {
            t,
            title: title.into(),
            me: String::new(),
            tenant: String::new(),
            csrf: String::new(),
            active: "",
            q: String::new(),
            admin: false,
            unread: 0,
            manager: false,
            pipelines: false,
            pinned: Vec::new(),
            zone: String::new(),
        }
    }

    /// The frame for a signed-in user.
    #[must_use]
    pub fn new(t: Tr, p: &Principal, title: impl Into<String>, active: &'static str) -> Self {
        Self {
            t,
            title: title.into(),
            me: p.user.display_name.clone(),
            tenant: p.tenant_name.clone(),
            csrf: p.csrf.clone(),
            active,
            q: String::new(),
            admin: p.ctx.is_admin(),
            unread: p.unread,
            manager: p.ctx.leads().is_ok(),
            pipelines: p.ctx.can(karta_core::Cap::ManagePipelines),
            pinned: super::views::nav(&p.pinned),
            zone: p.zone.as_ref().map(|z| z.name().to_string()).unwrap_or_default(),
        }
    }
}

/// Renders a template into a response; a template error is logged and becomes a 500.
pub fn render(status: StatusCode, tpl: &impl Template) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page with one message (errors, refusals).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Frame.
    pub l: Layout,
    /// The message.
    pub message: String,
}

/// A bare message page (no user frame).
#[must_use]
pub fn message_page(t: Tr, status: StatusCode, message: &str) -> Response {
    let l = Layout::bare(t, message);
    render(status, &MessagePage { l, message: message.to_string() })
}

/// Formats ms since the epoch as the date and time in zone `z`, written the way `t`'s
/// language writes them (`08.12.2026 03:15`, `2026-12-08 03:15`); the script may restate it
/// in the browser's own style.
#[must_use]
pub fn fmt_ts(ms: i64, z: &karta_core::Zone, t: Tr) -> String {
    let d = z.date_of(ms);
    let date = fmt_date(t, &format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()));
    format!("{date} {}", z.hhmm(ms))
}

/// ISO 8601 of ms since the epoch, for `<time datetime>`.
#[must_use]
pub fn iso_ts(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Formats `YYYY-MM-DD` as the user reads dates.
#[must_use]
pub fn fmt_date(t: Tr, iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match (t.is_ru(), parts.as_slice()) {
        (true, [y, m, d]) => format!("{d}.{m}.{y}"),
        _ => iso.to_string(),
    }
}

/// A phone in E.164 shown grouped by its country's numbering plan: `+7 916 123-45-67`,
/// `+1 312-555-0123`, `+44 20 7946 0958`.
#[must_use]
pub fn fmt_phone(p: &str) -> String {
    karta_core::values::format_phone(p)
}

/// True for an id that may go into a URL or header as is (UUIDs and the like).
#[must_use]
pub fn plain_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Formats minor units of a currency code for people in `lang`.
#[must_use]
pub fn money(minor: i64, currency: &str, lang: &str) -> String {
    match karta_core::Currency::parse(currency, "currency") {
        Ok(c) => karta_core::Money::new(minor, c).format(lang),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// True for a same-site relative path, the only kind of redirect target a form may name.
#[must_use]
pub fn is_local_path(p: &str) -> bool {
    p.bytes().all(|b| (0x21..0x7f).contains(&b)) && p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\")
}

#[cfg(test)]
mod tests {
    use super::fmt_phone;

    #[test]
    fn phones_are_grouped_for_reading() {
        assert_eq!(fmt_phone("+79161234567"), "+7 916 123-45-67");
        assert_eq!(fmt_phone("+13125556916"), "+1 312-555-6916");
        assert_eq!(fmt_phone("+442079460958"), "+44 20 7946 0958");
        assert_eq!(fmt_phone("+380441234567"), "+380 44 123 4567");
        assert_eq!(fmt_phone("+4915123456789"), "+49 1512 3456789");
        assert_eq!(fmt_phone("12"), "12");
    }
}
