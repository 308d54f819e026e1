//! What an attacker could learn or do from outside: headers that tell a browser
//! what not to do, and database timings only for those who run the site.

use actix_web::http::Method;

use crate::helpers::TestApp;

#[actix_web::test]
async fn database_timings_are_for_authenticated_callers_only() {
    let app = TestApp::seeded().await;
    let anonymous = app.get("/api/v1/pages").await;
    assert_eq!(anonymous.status(), 200);
    assert!(anonymous.header("server-timing").is_none());
    let missing = app.get("/api/v1/pages/nowhere").await;
    assert!(missing.header("server-timing").is_none());

    let editor = app.get_as(&app.editor(), "/api/v1/pages").await;
    assert_eq!(editor.status(), 200);
    assert!(
        editor
            .header("server-timing")
            .is_some_and(|timing| timing.starts_with("db;dur="))
    );
}

#[actix_web::test]
async fn every_answer_says_nosniff_and_the_docs_run_only_their_own_scripts_unframed() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/pages",
        "/api/v1/pages/nowhere",
        "/nowhere",
        "/healthz",
        "/docs/",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            response.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
    }
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    let policy = docs.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    assert_eq!(docs.header("x-frame-options").as_deref(), Some("DENY"));
    // The API's own answers are JSON, not pages: no policy needed, none sent.
    let api = app.request(Method::GET, "/api/v1/pages").send().await;
    assert!(api.header("content-security-policy").is_none());
}

#[actix_web::test]
async fn markdown_that_would_cost_too_much_to_render_is_a_422_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let bombs = [
        ("nested lists", format!("{}x", "- ".repeat(40_000)), "deep"),
        ("nested quotes", "> ".repeat(40_000), "deep"),
        (
            "nested HTML",
            "<div>".repeat(39_990),
            "nests HTML elements 39990 deep",
        ),
        (
            "nested HTML lists",
            "<ul><li>".repeat(23_000),
            "nests HTML elements",
        ),
        // Refused for its length before it is parsed (it is also nested).
        (
            "too long",
            "<div>".repeat(100_000),
            "must be at most 200000 characters (it has 500000)",
        ),
        (
            "a wide table",
            format!(
                "{}|\n{}|\n{}",
                "|a".repeat(1000),
                "|-".repeat(1000),
                "|x\n".repeat(200)
            ),
            "HTML",
        ),
    ];
    for (what, body, says) in bombs {
        let mut bomb = crate::helpers::page("bomb", "Bomb");
        bomb["body"] = serde_json::json!(body);
        let response = app.post(&token, "/api/v1/pages", bomb).await;
        let problem = response.problem(422, "validation_failed");
        assert_eq!(response.pointers(), ["/body"], "{what}");
        assert!(problem.to_string().contains(says), "{what}: {problem}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
    // Real pages, with lists, quotes and a table, are as welcome as ever.
    let mut page = crate::helpers::page("fine", "Fine");
    page["body"] = serde_json::json!(
        "- one\n  - two\n    - three\n\n> quoted\n\n| country | share |\n|---|---|\n| RS | 10% |"
    );
    app.post(&token, "/api/v1/pages", page).await.ok(201);
}
