//! Pages: every method of the contract, visibility, versions and If-Match.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, page};

#[actix_web::test]
async fn a_created_page_starts_at_version_1_with_location_and_etag() {
    let app = TestApp::spawn().await;
    let response = app
        .post(&app.editor(), "/api/v1/pages", page("mission", "Mission"))
        .await;
    let created = response.ok(201);
    assert_eq!(
        response.header("location").as_deref(),
        Some("/api/v1/pages/mission")
    );
    assert_eq!(created["slug"], "mission");
    assert_eq!(created["version"], 1);
    assert_eq!(created["status"], "draft");
    assert!(created["published_at"].is_null());
    assert!(
        created["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    assert_eq!(created["body_html"], "<p>The Mission page.</p>\n");

    let read = app.get_as(&app.editor(), "/api/v1/pages/mission").await;
    assert_eq!(read.ok(200), created);
    assert_eq!(
        read.etag(),
        response.etag(),
        "the ETag of a write is the ETag of the next read"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'mission' AND version = 1"),
        1
    );
}

#[actix_web::test]
async fn anonymous_readers_see_only_published_pages_whose_date_has_passed() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut published = page("published", "Published");
    published["status"] = json!("published");
    let mut scheduled = page("scheduled", "Scheduled");
    scheduled["status"] = json!("published");
    scheduled["published_at"] = json!("2999-01-01T00:00:00Z");
    let mut archived = page("archived", "Archived");
    archived["status"] = json!("archived");
    for body in [page("draft", "Draft"), published, scheduled, archived] {
        app.post(&token, "/api/v1/pages", body).await.ok(201);
    }

    let public = app.get("/api/v1/pages").await.ok(200);
    let slugs: Vec<&str> = public["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["published"]);
    assert_eq!(public["meta"]["total"], 1);
    for hidden in ["draft", "scheduled", "archived"] {
        let response = app.get(&format!("/api/v1/pages/{hidden}")).await;
        let problem = response.problem(404, "not_found");
        // Exactly as if it did not exist.
        let missing = app
            .get("/api/v1/pages/does-not-exist")
            .await
            .problem(404, "not_found");
        assert_eq!(problem["title"], missing["title"]);
    }

    let everything = app.get_as(&app.admin(), "/api/v1/pages").await.ok(200);
    assert_eq!(everything["meta"]["total"], 4);
    app.get_as(&token, "/api/v1/pages/draft").await.ok(200);
    app.get_as(&token, "/api/v1/pages/scheduled").await.ok(200);
}

#[actix_web::test]
async fn creating_a_page_whose_slug_exists_is_a_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
    let response = app
        .post(&token, "/api/v1/pages", page("mission", "Another mission"))
        .await;
    let problem = response.problem(422, "validation_failed");
    assert!(
        problem["detail"].as_str().unwrap().contains("mission"),
        "{problem}"
    );
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'")
            .as_deref(),
        Some("Mission")
    );
}

#[actix_web::test]
async fn put_creates_then_replaces_and_repeating_it_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let body = json!({"title": "Background", "body": "SEESAC was launched on 8 May 2002.", "status": "published"});

    let created = app
        .put(&token, "/api/v1/pages/background", body.clone())
        .await;
    assert_eq!(
        created.header("location").as_deref(),
        Some("/api/v1/pages/background")
    );
    let created = created.ok(201);
    assert_eq!(created["version"], 1);
    assert_eq!(created["slug"], "background");

    let again = app
        .put(&token, "/api/v1/pages/background", body.clone())
        .await
        .ok(200);
    assert_eq!(
        again["version"], 1,
        "the same PUT twice is not a new version"
    );
    assert_eq!(again["updated_at"], created["updated_at"]);
    assert_eq!(again["published_at"], created["published_at"]);

    let mut changed = body;
    changed["title"] = json!("Our background");
    let replaced = app
        .put(&token, "/api/v1/pages/background", changed)
        .await
        .ok(200);
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["title"], "Our background");
    assert_eq!(replaced["id"], created["id"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 1);
}

#[actix_web::test]
async fn put_replaces_the_whole_page_so_fields_left_out_are_cleared() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut full = page("impact", "Impact");
    full["summary"] = json!("Gains for a #SaferRegion");
    full["seo_title"] = json!("SEESAC impact");
    app.post(&token, "/api/v1/pages", full).await.ok(201);
    let replaced = app
        .put(&token, "/api/v1/pages/impact", json!({"title": "Impact"}))
        .await
        .ok(200);
    assert!(replaced["summary"].is_null());
    assert!(replaced["seo_title"].is_null());
    assert_eq!(replaced["body"], "");
}

#[actix_web::test]
async fn a_body_read_with_get_can_be_sent_back_and_its_read_only_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let created = app
        .post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);

    let mut body = app.get_as(&token, "/api/v1/pages/mission").await.ok(200);
    assert_eq!(body["links"]["self"], "/api/v1/pages/mission");
    body["title"] = json!("Our mission");
    body["id"] = json!("00000000-0000-0000-0000-000000000000");
    body["version"] = json!(99);
    body["body_html"] = json!("<script>alert(1)</script>");
    body["created_at"] = json!("2000-01-01T00:00:00Z");
    let replaced = app.put(&token, "/api/v1/pages/mission", body).await.ok(200);
    assert_eq!(replaced["title"], "Our mission");
    assert_eq!(replaced["id"], created["id"]);
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_eq!(replaced["body_html"], "<p>The Mission page.</p>\n");
    assert_eq!(
        app.count("SELECT version::bigint AS n FROM pages WHERE slug = 'mission'"),
        2
    );
}

#[actix_web::test]
async fn put_with_another_slug_in_the_body_is_a_422() {
    let app = TestApp::spawn().await;
    let response = app
        .put(
            &app.editor(),
            "/api/v1/pages/mission",
            page("background", "Mission"),
        )
        .await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/slug"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn patch_is_a_json_merge_patch_where_null_clears_a_field() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut body = page("mission", "Mission");
    body["summary"] = json!("What SEESAC works for");
    body["position"] = json!(3);
    app.post(&token, "/api/v1/pages", body).await.ok(201);

    let patched = app
        .patch(
            &token,
            "/api/v1/pages/mission",
            json!({"summary": null, "title": "Our mission"}),
        )
        .await
        .ok(200);
    assert!(patched["summary"].is_null());
    assert_eq!(patched["title"], "Our mission");
    assert_eq!(patched["position"], 3, "fields not in the patch stay");
    assert_eq!(patched["body"], "The Mission page.");
    assert_eq!(patched["version"], 2);

    // Plain application/json is accepted too.
    let patched = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .json(json!({"position": 4}))
        .send()
        .await
        .ok(200);
    assert_eq!(patched["position"], 4);
    assert_eq!(patched["version"], 3);
    assert_eq!(
        app.text("SELECT summary AS value FROM pages WHERE slug = 'mission'"),
        None
    );
}

#[actix_web::test]
async fn patching_a_missing_page_is_a_404() {
    let app = TestApp::spawn().await;
    app.patch(
        &app.editor(),
        "/api/v1/pages/nowhere",
        json!({"title": "x"}),
    )
    .await
    .problem(404, "not_found");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn renaming_a_page_moves_it_and_its_children_follow() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/pages", page("about", "About"))
        .await
        .ok(201);
    let mut child = page("mission", "Mission");
    child["parent"] = json!("about");
    app.post(&token, "/api/v1/pages", child).await.ok(201);

    let response = app
        .patch(&token, "/api/v1/pages/about", json!({"slug": "who-we-are"}))
        .await;
    assert_eq!(
        response.header("content-location").as_deref(),
        Some("/api/v1/pages/who-we-are")
    );
    assert_eq!(response.ok(200)["slug"], "who-we-are");
    app.get_as(&token, "/api/v1/pages/about")
        .await
        .problem(404, "not_found");
    let child = app.get_as(&token, "/api/v1/pages/mission").await.ok(200);
    assert_eq!(child["parent"], "who-we-are");
}

#[actix_web::test]
async fn delete_removes_a_page_but_not_one_that_has_children() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/pages", page("who-we-are", "Who we are"))
        .await
        .ok(201);
    let mut child = page("mission", "Mission");
    child["parent"] = json!("who-we-are");
    app.post(&token, "/api/v1/pages", child).await.ok(201);

    let refused = app.delete(&token, "/api/v1/pages/who-we-are").await;
    let problem = refused.problem(409, "conflict");
    assert!(
        problem["detail"].as_str().unwrap().contains("referenced"),
        "{problem}"
    );
    // A DELETE has no body: no field is to blame.
    assert!(refused.pointers().is_empty(), "{problem}");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 2);

    let deleted = app.delete(&token, "/api/v1/pages/mission").await;
    assert_eq!(deleted.status(), 204);
    assert!(deleted.body.is_empty());
    app.get_as(&token, "/api/v1/pages/mission")
        .await
        .problem(404, "not_found");
    app.delete(&token, "/api/v1/pages/mission")
        .await
        .problem(404, "not_found");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 1);
}

#[actix_web::test]
async fn body_html_is_rendered_markdown_with_nothing_executable_left() {
    let app = TestApp::spawn().await;
    let body = "### Mission\n\n**SALW** control <script>alert(1)</script>\n\n\
                <img src=x onerror=alert(2)> [click](javascript:alert(3)) <a href=\"https://www.seesac.org\" onclick=\"x()\">SEESAC</a>";
    let mut new = page("xss", "XSS");
    new["body"] = json!(body);
    let created = app.post(&app.editor(), "/api/v1/pages", new).await.ok(201);
    let html = created["body_html"].as_str().unwrap();
    assert!(html.contains("<h3>Mission</h3>"), "{html}");
    assert!(html.contains("<strong>SALW</strong>"), "{html}");
    assert!(html.contains("href=\"https://www.seesac.org\""), "{html}");
    for sign in ["<script", "onerror", "onclick", "javascript:", "alert(1)"] {
        assert!(
            !html.to_lowercase().contains(sign),
            "{sign} survived in {html}"
        );
    }
    assert_eq!(created["body"], body, "the Markdown is kept as written");
}

#[actix_web::test]
async fn the_page_tree_is_given_by_parent_and_position() {
    let app = TestApp::seeded().await;
    let tree = app
        .get("/api/v1/pages/who-we-are?include=children")
        .await
        .ok(200);
    let children: Vec<&str> = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        children,
        [
            "mission",
            "background",
            "monitoring-and-reporting",
            "impact",
            "existing-portfolio"
        ]
    );
    let top = app
        .get("/api/v1/pages?parent[null]=true&sort=position&fields=slug")
        .await
        .ok(200);
    assert_eq!(
        top["data"],
        json!([{"slug": "who-we-are"}, {"slug": "cookies"}, {"slug": "website-management"}])
    );
    let mission = app
        .get("/api/v1/pages?parent=who-we-are&fields=slug,position&per_page=1")
        .await
        .ok(200);
    assert_eq!(mission["data"], json!([{"slug": "mission", "position": 1}]));
}

#[actix_web::test]
async fn a_missing_parent_a_loop_and_the_page_itself_as_parent_are_422s_naming_parent() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut orphan = page("orphan", "Orphan");
    orphan["parent"] = json!("nowhere");
    let response = app.post(&token, "/api/v1/pages", orphan).await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/parent"]);

    app.post(&token, "/api/v1/pages", page("a", "A"))
        .await
        .ok(201);
    let mut b = page("b", "B");
    b["parent"] = json!("a");
    app.post(&token, "/api/v1/pages", b).await.ok(201);
    let looped = app
        .patch(&token, "/api/v1/pages/a", json!({"parent": "b"}))
        .await;
    looped.problem(422, "validation_failed");
    assert_eq!(looped.pointers(), ["/parent"]);
    let own = app
        .patch(&token, "/api/v1/pages/a", json!({"parent": "a"}))
        .await;
    own.problem(422, "validation_failed");
    assert_eq!(own.pointers(), ["/parent"]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'a' AND parent IS NULL"),
        1
    );
}

#[actix_web::test]
async fn publishing_without_a_date_publishes_now_and_keeps_that_date() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/pages", page("news", "News"))
        .await
        .ok(201);
    app.get("/api/v1/pages/news")
        .await
        .problem(404, "not_found");
    let published = app
        .patch(&token, "/api/v1/pages/news", json!({"status": "published"}))
        .await
        .ok(200);
    let at = published["published_at"].as_str().unwrap().to_owned();
    let when = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    assert!((chrono::Utc::now() - when.to_utc()).num_seconds().abs() < 60);
    let public = app.get("/api/v1/pages/news").await.ok(200);
    assert_eq!(public["title"], "News");
    let edited = app
        .patch(
            &token,
            "/api/v1/pages/news",
            json!({"title": "Latest news"}),
        )
        .await
        .ok(200);
    assert_eq!(edited["published_at"], at.as_str());
}

#[actix_web::test]
async fn invalid_values_are_a_422_naming_every_field() {
    let app = TestApp::spawn().await;
    let body = json!({"slug": "Not A Slug", "position": 5_000_000_000_i64, "status": "live",
                      "published_at": "tomorrow", "parent": "Bad Parent", "summary": "x".repeat(1001)});
    let response = app.post(&app.editor(), "/api/v1/pages", body).await;
    let problem = response.problem(422, "validation_failed");
    let mut pointers = response.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/parent",
            "/position",
            "/published_at",
            "/slug",
            "/status",
            "/summary",
            "/title"
        ]
    );
    assert_eq!(problem["detail"], "7 fields are invalid");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn a_stale_if_match_is_a_412_for_put_patch_and_delete_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let stale = app
        .post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .etag();
    let fresh = app
        .patch(
            &token,
            "/api/v1/pages/mission",
            json!({"title": "Our mission"}),
        )
        .await
        .etag();
    assert_ne!(stale, fresh);

    let put = app
        .request(Method::PUT, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &stale);
    put.json(page("mission", "Overwritten"))
        .send()
        .await
        .problem(412, "precondition_failed");
    let patch = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &stale);
    patch
        .merge_patch(json!({"title": "Overwritten"}))
        .send()
        .await
        .problem(412, "precondition_failed");
    let delete = app
        .request(Method::DELETE, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &stale);
    delete.send().await.problem(412, "precondition_failed");
    let weak = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &format!("W/{fresh}"));
    weak.merge_patch(json!({"title": "Overwritten"}))
        .send()
        .await
        .problem(412, "precondition_failed");
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'")
            .as_deref(),
        Some("Our mission")
    );
    assert_eq!(
        app.count("SELECT version::bigint AS n FROM pages WHERE slug = 'mission'"),
        2
    );

    let current = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &fresh);
    let updated = current
        .merge_patch(json!({"title": "Mission"}))
        .send()
        .await;
    assert_eq!(updated.ok(200)["version"], 3);
    let delete = app
        .request(Method::DELETE, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", &updated.etag());
    assert_eq!(delete.send().await.status(), 204);
}

#[actix_web::test]
async fn if_match_on_a_page_that_does_not_exist_and_if_none_match_star_on_one_that_does_are_412() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let put = app
        .request(Method::PUT, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", "\"abc\"");
    put.json(page("mission", "Mission"))
        .send()
        .await
        .problem(412, "precondition_failed");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);

    let create_only = app
        .request(Method::PUT, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-none-match", "*");
    create_only
        .json(page("mission", "Mission"))
        .send()
        .await
        .ok(201);
    let again = app
        .request(Method::PUT, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-none-match", "*");
    again
        .json(page("mission", "Overwritten"))
        .send()
        .await
        .problem(412, "precondition_failed");
    let any = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-match", "*");
    any.merge_patch(json!({"title": "Any"}))
        .send()
        .await
        .ok(200);
}

#[actix_web::test]
async fn fifty_concurrent_patches_with_the_same_if_match_produce_exactly_one_success() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let etag = app
        .post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .etag();
    let requests = (0..50).map(|i| {
        app.request(Method::PATCH, "/api/v1/pages/mission")
            .bearer(&token)
            .header("if-match", &etag)
            .merge_patch(json!({"title": format!("Writer {i}")}))
            .send()
    });
    let statuses: Vec<u16> = futures_join_all(requests)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT version::bigint AS n FROM pages WHERE slug = 'mission'"),
        2
    );
}

#[actix_web::test]
async fn concurrent_writes_never_close_a_loop_of_parents_and_other_writes_run_beside_them() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    for slug in ["a", "b", "c"] {
        app.post(&token, "/api/v1/pages", page(slug, slug))
            .await
            .ok(201);
    }
    for round in 0..10 {
        // Two writes that would close a loop between them, and writes that keep or
        // clear parents (which share the lock) around them.
        let requests = [
            app.request(Method::PATCH, "/api/v1/pages/a")
                .bearer(&token)
                .merge_patch(json!({"parent": "b"})),
            app.request(Method::PATCH, "/api/v1/pages/b")
                .bearer(&token)
                .merge_patch(json!({"parent": "a"})),
            app.request(Method::PATCH, "/api/v1/pages/c")
                .bearer(&token)
                .merge_patch(json!({"title": format!("C {round}")})),
            app.request(Method::PUT, "/api/v1/pages/c")
                .bearer(&token)
                .json(page("c", &format!("C again {round}"))),
        ]
        .map(|request| request.send());
        let statuses: Vec<u16> = futures_join_all(requests)
            .await
            .iter()
            .map(|r| r.status())
            .collect();
        assert_eq!(&statuses[2..], [200, 200], "{statuses:?}");
        assert_eq!(
            statuses[..2].iter().filter(|s| **s == 200).count(),
            1,
            "exactly one link wins: {statuses:?}"
        );
        assert!(statuses[..2].contains(&422), "{statuses:?}");
        assert_eq!(
            app.count(
                "SELECT count(*) AS n FROM pages x JOIN pages y ON x.parent = y.slug \
                 WHERE y.parent = x.slug"
            ),
            0,
            "a loop was stored"
        );
        // Unlinked again for the next round.
        for slug in ["a", "b"] {
            app.patch(
                &token,
                &format!("/api/v1/pages/{slug}"),
                json!({"parent": null}),
            )
            .await
            .ok(200);
        }
    }
}

/// Runs futures concurrently on this task (awc requests are not Send).
pub async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

#[actix_web::test]
async fn the_sample_content_is_the_organisations_who_we_are_page() {
    let app = TestApp::seeded().await;
    let list = app.get("/api/v1/pages?per_page=100").await.ok(200);
    let mut slugs: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    slugs.sort_unstable();
    assert_eq!(
        slugs,
        [
            "background",
            "cookies",
            "existing-portfolio",
            "impact",
            "mission",
            "monitoring-and-reporting",
            "website-management",
            "who-we-are"
        ]
    );
    let mission = app.get("/api/v1/pages/mission").await.ok(200);
    assert!(
        mission["body"]
            .as_str()
            .unwrap()
            .starts_with("The South Eastern and Eastern Europe Clearinghouse")
    );
    let impact = app.get("/api/v1/pages/impact").await.ok(200);
    assert!(
        impact["body_html"]
            .as_str()
            .unwrap()
            .contains("<strong>7 SALW control coordination mechanisms</strong>")
    );
    let cookies = app.get("/api/v1/pages/cookies").await.ok(200);
    assert!(
        cookies["body_html"]
            .as_str()
            .unwrap()
            .contains("<h3>Strictly necessary cookies</h3>")
    );
    // Seeding again creates nothing and keeps edits.
    app.patch(
        &app.editor(),
        "/api/v1/pages/mission",
        json!({"title": "Edited"}),
    )
    .await
    .ok(200);
    let again = seesac_api::app::seed::load(&mut app.database.connect()).unwrap();
    assert_eq!(again.pages, 0);
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'")
            .as_deref(),
        Some("Edited")
    );
}
