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
async fn a_wrong_type_or_an_unknown_field_is_a_422_that_names_it() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut wrong_type = page("mission", "Mission");
    wrong_type["position"] = json!("first");
    let response = app.post(&token, "/api/v1/pages", wrong_type).await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/position"]);

    let mut unknown = page("mission", "Mission");
    unknown["colour"] = json!("blue");
    let response = app.post(&token, "/api/v1/pages", unknown).await;
    response.problem(422, "validation_failed");
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
        // Under a scope of the router (`/api/v1/pages`) but none of its paths.
        "/api/v1/pagesx",
        "/api/v1/pages/",
        "/api/v1/impact-metrics/people-reached/nothing",
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
async fn text_with_a_nul_character_is_a_422_not_a_500() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            &app.editor(),
            "/api/v1/pages",
            page("nul", "Bad \u{0} title"),
        )
        .await;
    response.problem(422, "validation_failed");
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

#[actix_web::test]
async fn a_control_character_in_a_path_is_a_404_not_a_500() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    for path in [
        "/api/v1/pages/%00",
        "/api/v1/pages/mission%0A",
        "/api/v1/impact-metrics/%00",
    ] {
        app.get(path).await.problem(404, "not_found");
        app.delete(&token, path).await.problem(404, "not_found");
    }
    let observations = "/api/v1/impact-metrics/%00/observations";
    app.get(observations).await.problem(404, "not_found");
    let figure = json!({"area": "WB", "value": 1});
    app.post(&token, observations, figure)
        .await
        .problem(404, "not_found");
    app.patch(&token, "/api/v1/pages/%00", json!({"title": "x"}))
        .await
        .problem(404, "not_found");
    let user = app.delete(&app.admin(), "/api/v1/users/%00").await;
    assert!(user.status() < 500, "{}", user.status());
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 8);
}

#[actix_web::test]
async fn dates_whose_years_postgres_cannot_hold_are_refused() {
    let app = TestApp::seeded().await;
    for query in [
        "updated_since=-5000-01-01",
        "published_at[lt]=-5000-01-01T00:00:00Z",
        "created_at[gt]=99999-01-01",
    ] {
        app.get(&format!("/api/v1/pages?{query}"))
            .await
            .problem(400, "invalid_request");
    }
    let response = app
        .patch(
            &app.editor(),
            "/api/v1/council-decisions/32019D2111",
            json!({"adopted_on": "-5000-01-01"}),
        )
        .await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/adopted_on"]);
}

#[actix_web::test]
async fn a_json_patch_document_is_a_415_not_a_merge_patch() {
    let app = TestApp::seeded().await;
    let body =
        serde_json::to_vec(&json!([{"op": "replace", "path": "/title", "value": "x"}])).unwrap();
    let response = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&app.editor())
        .raw("application/json-patch+json", body)
        .send()
        .await;
    response.problem(415, "unsupported_media_type");
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'")
            .as_deref(),
        Some("Mission")
    );
}

#[actix_web::test]
async fn an_unreadable_if_match_matches_nothing() {
    let app = TestApp::seeded().await;
    let response = app
        .request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&app.editor())
        .header("if-match", "\"étag\"")
        .merge_patch(json!({"title": "x"}))
        .send()
        .await;
    response.problem(412, "precondition_failed");
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'")
            .as_deref(),
        Some("Mission")
    );
}

#[actix_web::test]
async fn concurrent_writes_to_a_tree_never_end_in_a_500() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let mut requests = Vec::new();
    for i in 0..12 {
        let mut child = page(&format!("child-{i}"), "Child");
        child["parent"] = json!(if i % 2 == 0 { "mission" } else { "background" });
        requests.push(
            app.request(Method::POST, "/api/v1/pages")
                .bearer(&token)
                .json(child)
                .send(),
        );
        let position = json!({"position": i});
        let target = if i % 2 == 0 {
            "/api/v1/pages/background"
        } else {
            "/api/v1/pages/mission"
        };
        requests.push(
            app.request(Method::PATCH, target)
                .bearer(&token)
                .merge_patch(position)
                .send(),
        );
    }
    let statuses: Vec<u16> = crate::pages::futures_join_all(requests)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug LIKE 'child-%'"),
        12
    );
}

#[actix_web::test]
async fn a_whole_number_written_with_a_fraction_of_zero_is_an_integer() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut body = page("mission", "Mission");
    body["position"] = json!(104.0);
    let created = app.post(&token, "/api/v1/pages", body).await.ok(201);
    assert_eq!(created["position"], 104);
    assert_eq!(
        app.count("SELECT position::bigint AS n FROM pages WHERE slug = 'mission'"),
        104
    );
    let fraction = app
        .patch(&token, "/api/v1/pages/mission", json!({"position": 104.5}))
        .await;
    fraction.problem(422, "validation_failed");
    assert_eq!(fraction.pointers(), ["/position"]);
}

#[actix_web::test]
async fn if_none_match_naming_the_current_etag_refuses_a_write() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let etag = app
        .post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .etag();
    for method in [Method::PATCH, Method::DELETE] {
        let request = app
            .request(method.clone(), "/api/v1/pages/mission")
            .bearer(&token)
            .header("if-none-match", &format!("W/{etag}"));
        let request = if method == Method::PATCH {
            request.merge_patch(json!({"title": "Changed"}))
        } else {
            request
        };
        request.send().await.problem(412, "precondition_failed");
    }
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'mission'"),
        Some("Mission".to_owned())
    );
    // Another tag: the item no longer has it, so the write goes ahead.
    app.request(Method::PATCH, "/api/v1/pages/mission")
        .bearer(&token)
        .header("if-none-match", "\"an-older-tag\"")
        .merge_patch(json!({"title": "Changed"}))
        .send()
        .await
        .ok(200);
}

#[actix_web::test]
async fn a_patch_that_only_conflicts_with_the_stored_item_is_a_422_naming_the_field() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let path = "/api/v1/impact-metrics/women-in-armed-forces/observations/5eed0000-0000-4000-8000-000000000703";
    let before = app.get_as(&token, path).await.ok(200);
    assert_eq!(
        (before["value"].clone(), before["value_max"].clone()),
        (json!(6), json!(9))
    );

    // Fine on its own; below the stored lower end.
    let below = app.patch(&token, path, json!({"value_max": 5})).await;
    below.problem(422, "validation_failed");
    assert_eq!(below.pointers(), ["/value_max"]);

    // Upside down on its own: the request's fault.
    let upside_down = app
        .patch(&token, path, json!({"value": 10, "value_max": 9}))
        .await;
    upside_down.problem(422, "validation_failed");
    assert_eq!(upside_down.pointers(), ["/value_max"]);

    assert_eq!(
        app.get_as(&token, path).await.ok(200)["version"],
        before["version"]
    );
    let both = app
        .patch(&token, path, json!({"value": 5, "value_max": 8}))
        .await
        .ok(200);
    assert_eq!(
        (both["value"].clone(), both["value_max"].clone()),
        (json!(5), json!(8))
    );
}

#[actix_web::test]
async fn a_merge_patch_with_an_unknown_field_is_a_422_even_when_it_is_null() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let before = app.get("/api/v1/pages/mission").await.ok(200);
    let response = app
        .patch(&token, "/api/v1/pages/mission", json!({"nonsense": null}))
        .await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/nonsense"]);
    assert_eq!(
        app.get("/api/v1/pages/mission").await.ok(200)["version"],
        before["version"]
    );
}
