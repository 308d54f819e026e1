//! What the service tells those who run it: a request id in every answer, in problem
//! bodies and in the log, and Prometheus metrics on their own port only.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{Options, TestApp, page};

#[actix_web::test]
async fn every_answer_has_a_request_id_and_a_problem_quotes_it() {
    let app = TestApp::spawn().await;
    let ok = app.get("/api/v1/pages").await;
    assert_eq!(ok.status(), 200);
    let generated = ok.header("x-request-id").expect("an id");
    assert_eq!(generated.len(), 32);
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(
        app.get("/api/v1/pages").await.header("x-request-id"),
        Some(generated),
        "one id per request"
    );

    // A client's own id is kept, so that its logs and ours can be joined.
    let missing = app
        .request(Method::GET, "/api/v1/pages/nowhere")
        .header("x-request-id", "sync-job.42:retry-1")
        .send()
        .await;
    let problem = missing.problem(404, "not_found");
    assert_eq!(problem["request_id"], "sync-job.42:retry-1");
    assert_eq!(
        missing.header("x-request-id").as_deref(),
        Some("sync-job.42:retry-1")
    );
    // One it could not log or echo safely is replaced.
    for unsafe_id in ["two words", "<script>", &"x".repeat(65)] {
        let answer = app
            .request(Method::GET, "/api/v1/pages/nowhere")
            .header("x-request-id", unsafe_id)
            .send()
            .await;
        let id = answer.header("x-request-id").unwrap();
        assert_ne!(id, unsafe_id);
        assert_eq!(answer.json()["request_id"], id.as_str());
    }
    // Problems actix raises itself, and 422s with their errors, carry it too.
    let invalid = app
        .post(
            &app.editor(),
            "/api/v1/pages",
            json!({"slug": "Not A Slug"}),
        )
        .await;
    let problem = invalid.problem(422, "validation_failed");
    assert_eq!(
        problem["request_id"],
        invalid.header("x-request-id").unwrap().as_str()
    );
    assert!(problem["errors"].as_array().is_some_and(|e| !e.is_empty()));
    let unknown = app.get("/no/such/route").await;
    assert_eq!(
        unknown.problem(404, "not_found")["request_id"],
        unknown.header("x-request-id").unwrap().as_str()
    );
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_on_their_own_port_only() {
    let app = TestApp::spawn_with(Options {
        metrics: true,
        limits: Some(seesac_api::app::config::ServerLimits {
            writes_per_minute: 2,
            ..Default::default()
        }),
        ..Options::default()
    })
    .await;
    let editor = app.editor();
    let mut mission = page("mission", "Mission");
    mission["status"] = json!("published");
    app.post(&editor, "/api/v1/pages", mission).await.ok(201);
    for _ in 0..3 {
        app.get("/api/v1/pages/mission").await.ok(200);
    }
    app.get("/api/v1/pages/secret-plans")
        .await
        .problem(404, "not_found");
    // Not on the API's port.
    app.get("/metrics").await.problem(404, "not_found");
    // A failed login, and a write past the limit.
    app.request(Method::POST, "/api/v1/auth/token")
        .json(json!({"username": "nobody", "password": "wrong"}))
        .send()
        .await
        .problem(401, "unauthorized");
    app.patch(&editor, "/api/v1/pages/mission", json!({"title": "Ours"}))
        .await
        .ok(200);
    app.patch(
        &editor,
        "/api/v1/pages/mission",
        json!({"title": "Too many"}),
    )
    .await
    .problem(429, "too_many_requests");

    let text = app.metrics_text().await;
    for line in [
        r#"seesac_http_requests_total{method="GET",route="/api/v1/pages/{slug}",status="200"} 3"#,
        r#"seesac_http_requests_total{method="GET",route="/api/v1/pages/{slug}",status="404"} 1"#,
        r#"seesac_http_requests_total{method="POST",route="/api/v1/pages",status="201"} 1"#,
        r#"seesac_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"seesac_http_request_duration_seconds_count{method="GET",route="/api/v1/pages/{slug}"} 4"#,
        r#"seesac_rate_limited_total{policy="writes"} 1"#,
        "seesac_login_failures_total 1",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains("seesac_db_pool_connections "), "{text}");
    // Templates, not paths: what a client asks for does not become a label.
    assert!(!text.contains("secret-plans"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}
