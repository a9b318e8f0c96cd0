//! Health, readiness, metrics and the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kinds, Client, TestApp};
use reqwest::StatusCode;

#[tokio::test]
async fn health_readiness_metrics_and_openapi_are_served() {
    for k in kinds() {
        let app = TestApp::spawn(k).await;
        let c = Client::new(&app.base, None);
        assert_eq!(c.get("/healthz").await.text, "ok");
        assert_eq!(c.get("/readyz").await.status(), StatusCode::OK);
        let m = c.get("/metrics").await.text;
        assert!(m.contains("karta_http_requests_total{class=\"2xx\"}"));
        let doc = c.get("/api/v1/openapi.json").await.json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["paths"]["/api/v1/{kind}/{id}"]["patch"].is_object());
        let page = c.get("/login").await;
        let csp = page.header("content-security-policy");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert!(!page.text.contains("<script>") && !page.text.contains(" style=\""), "no inline script or style");
        assert_eq!(c.get("/api/v1/nothing/here/at/all").await.status(), StatusCode::NOT_FOUND);
        app.finish().await;
    }
}
