//! Every error is problem+json, including those actix would make by itself, and a
//! refused request changes nothing.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, page};

#[actix_web::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, "/api/v1/pages")
        .bearer(&app.editor())
        .raw("application/json", b"{\"slug\": \"mission\", ".to_vec())
        .send()
        .await;
    let problem = response.problem(400, "invalid_request");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{problem}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn a_wrong_type_or_an_unknown_field_is_a_400_that_names_it() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut wrong_type = page("mission", "Mission");
    wrong_type["position"] = json!("first");
    let response = app.post(&token, "/api/v1/pages", wrong_type).await;
    response.problem(400, "invalid_request");
    assert_eq!(response.pointers(), ["/position"]);

    let mut unknown = page("mission", "Mission");
    unknown["colour"] = json!("blue");
    let response = app.post(&token, "/api/v1/pages", unknown).await;
    response.problem(400, "invalid_request");
    assert_eq!(response.pointers(), ["/colour"]);

    for not_an_object in [
        json!([page("mission", "Mission")]),
        json!("mission"),
        json!(null),
    ] {
        app.post(&token, "/api/v1/pages", not_an_object)
            .await
            .problem(400, "invalid_request");
    }
    let patch = app
        .patch(&token, "/api/v1/pages/mission", json!({"title": 5}))
        .await;
    patch.problem(404, "not_found");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let form = app
        .request(Method::POST, "/api/v1/pages")
        .bearer(&token)
        .raw("application/x-www-form-urlencoded", b"slug=a".to_vec());
    form.send().await.problem(415, "unsupported_media_type");
    let text = app
        .request(Method::POST, "/api/v1/pages")
        .bearer(&token)
        .raw("text/plain", b"{}".to_vec());
    text.send().await.problem(415, "unsupported_media_type");
    let none = app
        .request(Method::PUT, "/api/v1/pages/mission")
        .bearer(&token);
    none.send().await.problem(415, "unsupported_media_type");
    let charset = app
        .request(Method::POST, "/api/v1/pages")
        .bearer(&token)
        .raw(
            "application/json; charset=utf-8",
            serde_json::to_vec(&page("mission", "Mission")).unwrap(),
        );
    charset.send().await.ok(201);
}

#[actix_web::test]
async fn a_body_over_one_mebibyte_is_a_413() {
    let app = TestApp::spawn().await;
    let mut huge = page("huge", "Huge");
    huge["body"] = json!("x".repeat(2 * 1024 * 1024));
    let response = app.post(&app.editor(), "/api/v1/pages", huge).await;
    response.problem(413, "payload_too_large");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    for path in [
        "/nothing-here",
        "/api/v1/pagez",
        "/api/v2/pages",
        "/api/v1/pages/mission/extra",
    ] {
        app.get(path).await.problem(404, "not_found");
    }
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let cases = [
        (Method::DELETE, "/api/v1/pages", "GET, HEAD, POST"),
        (Method::PATCH, "/api/v1/pages", "GET, HEAD, POST"),
        (
            Method::POST,
            "/api/v1/pages/mission",
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (Method::PUT, "/healthz", "GET, HEAD"),
        (Method::GET, "/api/v1/auth/token", "POST"),
        (
            Method::from_bytes(b"TRACE").unwrap(),
            "/api/v1/pages",
            "GET, HEAD, POST",
        ),
    ];
    for (method, path, allow) in cases {
        let response = app.request(method, path).bearer(&token).send().await;
        response.problem(405, "method_not_allowed");
        assert_eq!(response.header("allow").as_deref(), Some(allow), "{path}");
    }
    let options = app.request(Method::OPTIONS, "/api/v1/pages").send().await;
    assert_eq!(options.status(), 204);
    assert_eq!(options.header("allow").as_deref(), Some("GET, HEAD, POST"));
}

#[actix_web::test]
async fn text_with_a_nul_character_is_a_400_not_a_500() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            &app.editor(),
            "/api/v1/pages",
            page("nul", "Bad \u{0} title"),
        )
        .await;
    response.problem(400, "invalid_request");
    assert_eq!(response.pointers(), ["/title"]);
    app.get("/api/v1/pages?slug=a%00b")
        .await
        .problem(400, "invalid_request");
}

#[actix_web::test]
async fn a_write_request_with_parameters_is_a_400() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            &app.editor(),
            "/api/v1/pages?dry_run=true",
            page("mission", "Mission"),
        )
        .await;
    response.problem(400, "invalid_request");
    assert_eq!(response.pointers(), ["dry_run"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::seeded().await;
    let get = app.get("/api/v1/pages/mission").await;
    let head = app
        .request(Method::HEAD, "/api/v1/pages/mission")
        .send()
        .await;
    assert_eq!(head.status(), 200);
    assert!(head.body.is_empty());
    assert_eq!(head.etag(), get.etag());
}
