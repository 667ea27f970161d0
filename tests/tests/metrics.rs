//! `/metrics`: Prometheus text with per-route request counts, and no tenant ids.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use prismiq_axum::prismiq_core::{Engine, MemoryStore};
use prismiq_tests::TestApp;
use tower::ServiceExt;

/// Checks the Prometheus text exposition format, line by line.
fn assert_prometheus_text(text: &str) {
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "comment line: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("sample line: {line}"));
        assert!(
            value.parse::<f64>().is_ok() || value == "+Inf" || value == "NaN",
            "value in {line}"
        );
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name in {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "labels in {line}");
            for pair in series[name_end + 1..series.len() - 1].split("\",") {
                let (key, value) = pair
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("label in {line}"));
                assert!(
                    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "label name in {line}"
                );
                let _ = value;
            }
        }
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_route_labels_and_no_tenants() {
    let handle = prismiq_axum::install_recorder();
    let app = TestApp::new(Engine::new(MemoryStore::new()));
    app.post("/dashboards")
        .tenant("secret-tenant-42")
        .header("x-user-id", "alice")
        .json(&serde_json::json!({"name": "Counted"}))
        .send()
        .await
        .expect(201);
    app.get("/dashboards").send().await.expect(400);
    // A share link read: counted by route and result, never by token.
    let shared = app
        .post("/dashboards")
        .tenant("secret-tenant-42")
        .header("x-user-id", "alice")
        .json(&serde_json::json!({"name": "Shared"}))
        .send()
        .await
        .expect(201);
    let share = app
        .post(&format!(
            "/dashboards/{}/shares",
            shared["id"].as_str().unwrap()
        ))
        .tenant("secret-tenant-42")
        .header("x-user-id", "alice")
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect(201);
    let token = share["token"].as_str().unwrap().to_owned();
    app.get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(200);
    app.get(&format!("/shared/{token}0"))
        .send()
        .await
        .expect(404);

    let metrics: Router = prismiq_axum::metrics_router(handle);
    let response = metrics
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert_prometheus_text(&text);
    assert!(
        text.contains(r#"prismiq_requests_total{endpoint="/api/prismiq/dashboards",method="POST",status="201"} 2"#)
            || text.contains(r#"prismiq_requests_total{endpoint="/dashboards",method="POST",status="201"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"status="400""#), "{text}");
    assert!(
        text.contains("prismiq_request_duration_ms_bucket"),
        "{text}"
    );
    assert!(
        !text.contains("secret-tenant-42"),
        "no tenant ids in labels"
    );
    assert!(
        text.contains(r#"prismiq_share_requests_total{route="view",result="ok"}"#)
            && text.contains(r#"result="not_found""#),
        "{text}"
    );
    assert!(!text.contains(&token[4..]), "no share token in metrics");
}
