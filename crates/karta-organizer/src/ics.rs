//! The iCalendar (RFC 5545) feed of a user's plan, so it shows in a phone's calendar.
//! Served at `/calendar/{secret}.ics`; the secret is made and revoked on the Settings page or
//! through the API.

use crate::store::{self as activities, Activity};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use karta_webkit::AppState;
use std::fmt::Write as _;

/// Escapes a TEXT value.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets without splitting a character.
fn fold(line: &str, out: &mut String) {
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
}

fn stamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The calendar of `name`'s activities.
#[must_use]
pub fn render(name: &str, items: &[Activity], now: i64, host: &str) -> String {
    let mut out = String::new();
    for l in ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Karta//CRM//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"] {
        fold(l, &mut out);
    }
    fold(&format!("X-WR-CALNAME:{}", text(&format!("Karta — {name}"))), &mut out);
    for a in items {
        let start = a.starts_at.or(a.due_at).unwrap_or(a.at);
        let end = a.ends_at.filter(|e| *e > start).unwrap_or(start + a.duration_min.unwrap_or(30).max(15) * 60_000);
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}@{}", a.id, text(host)), &mut out);
        fold(&format!("DTSTAMP:{}", stamp(now)), &mut out);
        fold(&format!("DTSTART:{}", stamp(start)), &mut out);
        fold(&format!("DTEND:{}", stamp(end)), &mut out);
        fold(&format!("SUMMARY:{}", text(&a.subject)), &mut out);
        let mut desc = a.description.clone();
        for (label, v) in [("", &a.account_name), ("", &a.contact_name), ("", &a.deal_title)] {
            if !v.is_empty() {
                let _ = write!(desc, "{}{label}{v}", if desc.is_empty() { "" } else { "\n" });
            }
        }
        if !desc.is_empty() {
            fold(&format!("DESCRIPTION:{}", text(&desc)), &mut out);
        }
        if !a.place.is_empty() {
            fold(&format!("LOCATION:{}", text(&a.place)), &mut out);
        }
        fold(&format!("CATEGORIES:{}", text(&a.kind.to_uppercase())), &mut out);
        fold(&format!("STATUS:{}", if a.status == "done" { "CONFIRMED" } else { "TENTATIVE" }), &mut out);
        fold(&format!("LAST-MODIFIED:{}", stamp(a.updated_at)), &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

/// GET /calendar/{secret}.ics — no session: the secret is the credential.
pub async fn feed(State(st): State<AppState>, Path(file): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let Some(secret) = file.strip_suffix(".ics") else { return StatusCode::NOT_FOUND.into_response() };
    let now = st.clock.now();
    match activities::feed(&st.db, secret, now).await {
        Ok(Some((name, items))) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("karta");
            (
                [
                    (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                    (header::CACHE_CONTROL, "private, max-age=300"),
                ],
                render(&name, &items, now, host),
            )
                .into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_between_characters() {
        assert_eq!(text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "Ж".repeat(60)), &mut out);
        for line in out.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(out.replace("\r\n ", ""), format!("SUMMARY:{}\r\n", "Ж".repeat(60)));
        assert_eq!(stamp(0), "19700101T000000Z");
    }
}
