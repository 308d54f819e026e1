//! HTTP caching (ETag, 304, Cache-Control, Vary) and CORS.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{Options, TestApp};

#[actix_web::test]
async fn every_read_has_an_etag_and_a_matching_if_none_match_is_a_304_without_a_body() {
    let app = TestApp::seeded().await;
    for path in [
        "/api/v1/pages",
        "/api/v1/pages/mission",
        "/api/v1/impact-metrics?include=observations",
        "/api/v1/impact-metrics/women-in-armed-forces/observations",
        "/api/v1/funders/uk-home-office",
        "/api/v1/council-decisions",
        "/api/v1/contact",
        "/api/v1/search?q=arms",
    ] {
        let first = app.get(path).await;
        first.ok(200);
        let etag = first.etag();
        let again = app
            .request(Method::GET, path)
            .header("if-none-match", &etag)
            .send()
            .await;
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.etag(), etag);
        assert_eq!(
            again.header("cache-control").as_deref(),
            Some("public, max-age=60")
        );
        let weak = app
            .request(Method::GET, path)
            .header("if-none-match", &format!("W/{etag}, \"other\""))
            .send()
            .await;
        assert_eq!(
            weak.status(),
            304,
            "weak comparison for If-None-Match: {path}"
        );
        let stale = app
            .request(Method::GET, path)
            .header("if-none-match", "\"stale\"")
            .send()
            .await;
        assert_eq!(stale.status(), 200);
    }
}

#[actix_web::test]
async fn a_write_changes_the_etag_so_caches_refetch() {
    let app = TestApp::seeded().await;
    let list = app.get("/api/v1/pages").await.etag();
    let item = app.get("/api/v1/pages/mission").await.etag();
    app.patch(
        &app.editor(),
        "/api/v1/pages/mission",
        json!({"title": "Our mission"}),
    )
    .await
    .ok(200);
    let list_after = app
        .request(Method::GET, "/api/v1/pages")
        .header("if-none-match", &list)
        .send()
        .await;
    assert_eq!(list_after.status(), 200);
    let item_after = app
        .request(Method::GET, "/api/v1/pages/mission")
        .header("if-none-match", &item)
        .send()
        .await;
    assert_eq!(item_after.ok(200)["title"], "Our mission");
    // A newer figure in the headline area changes the metric's `latest`, so its tag.
    let metric = app
        .get("/api/v1/impact-metrics/salw-destroyed")
        .await
        .etag();
    let figure = json!({"area": "SEEE", "period_start": "2024-01-01", "period_end": "2024-12-31", "value": 1, "status": "published"});
    app.post(
        &app.editor(),
        "/api/v1/impact-metrics/salw-destroyed/observations",
        figure,
    )
    .await
    .ok(201);
    let metric_after = app
        .request(Method::GET, "/api/v1/impact-metrics/salw-destroyed")
        .header("if-none-match", &metric)
        .send()
        .await;
    assert_eq!(metric_after.status(), 200);
}

#[actix_web::test]
async fn public_answers_are_cacheable_and_answers_for_a_token_are_private() {
    let app = TestApp::seeded().await;
    let public = app.get("/api/v1/pages/mission").await;
    assert_eq!(
        public.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    let vary = public.header("vary").unwrap();
    assert!(
        vary.contains("Authorization") && vary.contains("Origin"),
        "{vary}"
    );
    let private = app.get_as(&app.editor(), "/api/v1/pages/mission").await;
    assert_eq!(
        private.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let written = app
        .patch(
            &app.editor(),
            "/api/v1/pages/mission",
            json!({"position": 9}),
        )
        .await;
    assert_eq!(written.header("cache-control").as_deref(), Some("no-store"));
    let error = app.get("/api/v1/pages/nowhere").await;
    assert_eq!(error.header("cache-control").as_deref(), Some("no-store"));
}

#[actix_web::test]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let app = TestApp::seeded().await;
    let response = app
        .request(Method::GET, "/api/v1/pages")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.header("access-control-allow-origin").is_none());
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/pages")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert!(preflight.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn configured_origins_get_cors_with_the_headers_a_frontend_needs() {
    let origins = vec!["https://www.seesac.org".to_owned()];
    let app = TestApp::spawn_with(Options {
        cors_origins: origins,
        seed: true,
        ..Options::default()
    })
    .await;
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/pages/mission")
        .header("origin", "https://www.seesac.org")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization, content-type, if-match",
        )
        .send()
        .await;
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight.header("access-control-allow-origin").as_deref(),
        Some("https://www.seesac.org")
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PATCH")
    );
    let allowed_headers = preflight
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(allowed_headers.contains("if-match") && allowed_headers.contains("authorization"));
    assert!(
        preflight
            .header("access-control-allow-credentials")
            .is_none()
    );

    let read = app
        .request(Method::GET, "/api/v1/pages")
        .header("origin", "https://www.seesac.org")
        .send()
        .await;
    assert_eq!(
        read.header("access-control-allow-origin").as_deref(),
        Some("https://www.seesac.org")
    );
    let exposed = read
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for header in ["etag", "link", "location"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    assert!(read.header("access-control-allow-credentials").is_none());
    // One Vary list, with each name once, though CORS adds to it.
    let vary: Vec<&str> = read
        .headers
        .get_all("vary")
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(vary.len(), 1, "{vary:?}");
    let names: Vec<&str> = vary[0].split(", ").collect();
    assert_eq!(
        names.iter().filter(|name| **name == "Origin").count(),
        1,
        "{vary:?}"
    );
    assert!(names.contains(&"Accept-Language"), "{vary:?}");

    let other = app
        .request(Method::GET, "/api/v1/pages")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
    if other.status() != 200 {
        other.problem(400, "invalid_request");
    }
}

#[actix_web::test]
async fn a_wildcard_origin_never_allows_credentials() {
    let app = TestApp::spawn_with(Options {
        cors_origins: vec!["*".to_owned()],
        ..Options::default()
    })
    .await;
    let read = app
        .request(Method::GET, "/api/v1/pages")
        .header("origin", "https://anywhere.example")
        .send()
        .await;
    assert_eq!(
        read.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(read.header("access-control-allow-credentials").is_none());
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/pages")
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(
        preflight.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        preflight
            .header("access-control-allow-credentials")
            .is_none()
    );
}

/// The ETag an editor reads of a whole item, and every write answers.
async fn editors_tag(app: &TestApp, path: &str) -> String {
    app.get_as(&app.editor(), path).await.etag()
}

#[actix_web::test]
async fn the_tag_an_editor_reads_is_the_one_stored_with_the_row_and_every_change_renews_it() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let stored = || app.text("SELECT etag AS value FROM pages WHERE slug = 'mission'");
    let read = editors_tag(&app, "/api/v1/pages/mission").await;
    assert_eq!(Some(read.clone()), stored());
    // A fieldset, or what a public reader sees, is tagged by its own bytes.
    assert_ne!(
        app.get_as(&token, "/api/v1/pages/mission?fields=title")
            .await
            .etag(),
        read
    );

    let written = app
        .patch(
            &token,
            "/api/v1/pages/mission",
            json!({"title": "Our mission"}),
        )
        .await
        .etag();
    assert_ne!(written, read);
    assert_eq!(Some(written.clone()), stored());
    assert_eq!(editors_tag(&app, "/api/v1/pages/mission").await, written);
    let not_modified = app
        .request(Method::GET, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-none-match", &written)
        .send()
        .await;
    assert_eq!(not_modified.status(), 304);

    // A write that changes nothing keeps version and tag.
    let again = app
        .patch(
            &token,
            "/api/v1/pages/mission",
            json!({"title": "Our mission"}),
        )
        .await;
    assert_eq!(again.etag(), written);
    // A change made outside the service renews it too (the database keeps it).
    app.execute("UPDATE pages SET title = 'Mission' WHERE slug = 'mission'");
    let renewed = stored().unwrap();
    assert_ne!(renewed, written);
    let stale = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &written)
        .merge_patch(json!({"title": "Overwritten"}))
        .send()
        .await;
    stale.problem(412, "precondition_failed");
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'")
            .as_deref(),
        Some("Mission")
    );
    // Nothing shows the column itself.
    let item = app.get_as(&token, "/api/v1/pages/mission").await.ok(200);
    assert!(item.get("etag").is_none(), "{item}");
    assert_eq!(
        app.get_as(&token, "/api/v1/pages/mission").await.etag(),
        renewed
    );
}

#[actix_web::test]
async fn a_derived_field_that_changes_renews_the_stored_tag_so_if_match_sees_it() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    // A metric's `latest` comes from its observations.
    let metric = "/api/v1/impact-metrics/salw-destroyed";
    let before = editors_tag(&app, metric).await;
    let figure = json!({"area": "SEEE", "period_start": "2024-01-01", "period_end": "2024-12-31", "value": 1, "status": "published"});
    let created = app
        .post(&token, &format!("{metric}/observations"), figure)
        .await
        .ok(201);
    let after = editors_tag(&app, metric).await;
    assert_ne!(after, before);
    assert_eq!(
        app.text("SELECT etag AS value FROM impact_metrics WHERE key = 'salw-destroyed'"),
        Some(after.clone())
    );
    let stale = app
        .request(Method::PATCH, metric)
        .bearer(&token)
        .header("if-match", &before)
        .merge_patch(json!({"label": "Overwritten"}))
        .send()
        .await;
    stale.problem(412, "precondition_failed");
    // Deleting the figure renews it again; the metric's own version stays.
    let version =
        app.count("SELECT version::bigint AS n FROM impact_metrics WHERE key = 'salw-destroyed'");
    let deleted = app
        .delete(
            &token,
            &format!("{metric}/observations/{}", created["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_ne!(editors_tag(&app, metric).await, after);
    assert_eq!(
        app.count("SELECT version::bigint AS n FROM impact_metrics WHERE key = 'salw-destroyed'"),
        version
    );

    // A decision's `superseded_by` comes from the decisions that supersede it.
    let earlier = "/api/v1/council-decisions/32019D2111";
    let before = editors_tag(&app, earlier).await;
    let later = json!({"celex": "32025D0001", "reference": "2025/1", "title": "Council Decision 2025/1",
        "funder": "european-union", "supersedes": "32019D2111", "status": "published"});
    app.post(&token, "/api/v1/council-decisions", later)
        .await
        .ok(201);
    let after = editors_tag(&app, earlier).await;
    assert_ne!(after, before);
    let shown = app.get_as(&token, earlier).await.ok(200);
    assert_eq!(shown["superseded_by"], json!(["32025D0001"]));
    app.patch(
        &token,
        "/api/v1/council-decisions/32025D0001",
        json!({"supersedes": null}),
    )
    .await
    .ok(200);
    assert_ne!(editors_tag(&app, earlier).await, after);
}
