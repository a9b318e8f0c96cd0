//! Health, readiness, Prometheus metrics and request tracing.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Request counters.
#[derive(Debug, Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    micros: AtomicU64,
    count: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

const BUCKETS: [f64; 8] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0];

/// Counts every request by status class and duration, and logs it.
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let res = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let m = &st.metrics;
    let class = usize::from(res.status().as_u16() / 100).clamp(1, 5) - 1;
    m.by_class[class].fetch_add(1, Ordering::Relaxed);
    m.count.fetch_add(1, Ordering::Relaxed);
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "durations are small and positive")]
    m.micros.fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    for (i, b) in BUCKETS.iter().enumerate() {
        if secs <= *b {
            m.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    tracing::debug!(%method, route, status = res.status().as_u16(), ms = secs * 1e3, "request");
    res
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(st): State<AppState>) -> Response {
    match st.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let m = &st.metrics;
    let mut s = String::new();
    s.push_str(
        "# HELP karta_http_requests_total HTTP requests by status class.\n# TYPE karta_http_requests_total counter\n",
    );
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(s, "karta_http_requests_total{{class=\"{}xx\"}} {}", i + 1, c.load(Ordering::Relaxed));
    }
    s.push_str("# HELP karta_http_request_duration_seconds Request duration.\n# TYPE karta_http_request_duration_seconds histogram\n");
    for (i, b) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            s,
            "karta_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
            m.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = m.count.load(Ordering::Relaxed);
    #[expect(clippy::cast_precision_loss, reason = "a metric")]
    let sum = m.micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(s, "karta_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(s, "karta_http_request_duration_seconds_sum {sum}");
    let _ = writeln!(s, "karta_http_request_duration_seconds_count {count}");
    let (size, idle) = match &st.db {
        karta_kernel::Db::Sqlite(p, _) => (p.size(), p.num_idle()),
        karta_kernel::Db::Pg(p) => (p.size(), p.num_idle()),
    };
    let _ = writeln!(
        s,
        "# TYPE karta_db_pool_connections gauge\nkarta_db_pool_connections {size}\nkarta_db_pool_idle {idle}"
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s).into_response()
}

/// The ops routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}
