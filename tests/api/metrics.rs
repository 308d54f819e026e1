//! Impact metrics and their observations.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::TestApp;

fn metric(key: &str) -> serde_json::Value {
    json!({"key": key, "label": "Pieces of SALW destroyed", "category": "disarmament", "unit": "count",
           "sdg_goals": [16], "status": "published"})
}

fn observation(area: &str, year: Option<i32>, value: f64) -> serde_json::Value {
    let mut body = json!({"area": area, "value": value, "status": "published"});
    if let Some(year) = year {
        body["period_start"] = json!(format!("{year}-01-01"));
        body["period_end"] = json!(format!("{year}-12-31"));
    }
    body
}

#[actix_web::test]
async fn a_metric_shows_its_latest_figure_and_all_of_them_in_period_order() {
    let app = TestApp::seeded().await;
    let metric = app
        .get("/api/v1/impact-metrics/women-in-armed-forces")
        .await
        .ok(200);
    assert_eq!(metric["unit"], "percent");
    assert_eq!(metric["latest"]["value"], 6);
    assert_eq!(metric["latest"]["value_max"], 9);
    assert_eq!(metric["latest"]["period_end"], "2019-12-31");
    assert!(metric.get("observations").is_none());

    let with = app
        .get("/api/v1/impact-metrics/women-in-armed-forces?include=observations")
        .await
        .ok(200);
    let figures: Vec<(serde_json::Value, serde_json::Value, serde_json::Value)> =
        with["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["period_end"].clone(),
                    o["value"].clone(),
                    o["value_max"].clone(),
                )
            })
            .collect();
    assert_eq!(
        figures,
        [
            (json!(null), json!(3), json!(null)),
            (json!("2012-12-31"), json!(6), json!(null)),
            (json!("2019-12-31"), json!(6), json!(9)),
        ]
    );
}

#[actix_web::test]
async fn an_observation_lives_under_its_metric_with_its_own_id() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/impact-metrics", metric("salw-destroyed"))
        .await
        .ok(201);
    app.post(&token, "/api/v1/impact-metrics", metric("other"))
        .await
        .ok(201);
    let response = app
        .post(
            &token,
            "/api/v1/impact-metrics/salw-destroyed/observations",
            observation("RS", Some(2023), 342000.0),
        )
        .await;
    let created = response.ok(201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        response.header("location").unwrap(),
        format!("/api/v1/impact-metrics/salw-destroyed/observations/{id}")
    );
    assert_eq!(created["metric"], "salw-destroyed");
    assert_eq!(created["value"], 342000);
    assert_eq!(created["qualifier"], "exact");
    app.get(&format!(
        "/api/v1/impact-metrics/salw-destroyed/observations/{id}"
    ))
    .await
    .ok(200);
    app.get(&format!("/api/v1/impact-metrics/other/observations/{id}"))
        .await
        .problem(404, "not_found");
    app.get("/api/v1/impact-metrics/salw-destroyed/observations/not-a-uuid")
        .await
        .problem(404, "not_found");
    app.get("/api/v1/impact-metrics/nowhere/observations")
        .await
        .problem(404, "not_found");
    let list = app
        .get("/api/v1/impact-metrics/salw-destroyed/observations")
        .await
        .ok(200);
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(
        app.get("/api/v1/impact-metrics/salw-destroyed")
            .await
            .ok(200)["latest"]["id"],
        id
    );
}

#[actix_web::test]
async fn a_second_observation_with_the_same_natural_key_is_a_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/impact-metrics", metric("salw-destroyed"))
        .await
        .ok(201);
    let path = "/api/v1/impact-metrics/salw-destroyed/observations";
    let first = app
        .post(&token, path, observation("WB", Some(2019), 100.0))
        .await
        .ok(201);
    let second = app
        .post(&token, path, observation("WB", Some(2019), 200.0))
        .await;
    let problem = second.problem(409, "conflict");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap()),
        "{problem}"
    );
    // An unknown period counts as one value too.
    app.post(&token, path, observation("WB", None, 1.0))
        .await
        .ok(201);
    app.post(&token, path, observation("WB", None, 2.0))
        .await
        .problem(409, "conflict");
    // Another area or period is another observation.
    app.post(&token, path, observation("RS", Some(2019), 5.0))
        .await
        .ok(201);
    app.post(&token, path, observation("WB", Some(2020), 5.0))
        .await
        .ok(201);
    assert_eq!(app.count("SELECT count(*) AS n FROM observations"), 4);
    assert_eq!(app.count("SELECT value::bigint AS n FROM observations WHERE area = 'WB' AND period_start = '2019-01-01'"), 100);

    // Moving one onto another's natural key with PATCH is refused too.
    let other = app
        .post(&token, path, observation("BA", Some(2019), 7.0))
        .await
        .ok(201);
    let moved = app
        .patch(
            &token,
            &format!("{path}/{}", other["id"].as_str().unwrap()),
            json!({"area": "RS"}),
        )
        .await;
    moved.problem(409, "conflict");
}

#[actix_web::test]
async fn put_to_a_new_id_creates_the_observation_and_again_replaces_it() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/impact-metrics", metric("salw-destroyed"))
        .await
        .ok(201);
    let path =
        "/api/v1/impact-metrics/salw-destroyed/observations/8d0c6f5e-1f0a-4b7e-9a38-2f6a4c1d2e3f";
    let created = app
        .put(&token, path, observation("RS", Some(2023), 10.0))
        .await;
    assert_eq!(
        created.ok(201)["id"],
        "8d0c6f5e-1f0a-4b7e-9a38-2f6a4c1d2e3f"
    );
    let same = app
        .put(&token, path, observation("RS", Some(2023), 10.0))
        .await
        .ok(200);
    assert_eq!(same["version"], 1, "a retried PUT changes nothing");
    let replaced = app
        .put(&token, path, observation("RS", Some(2023), 12.0))
        .await
        .ok(200);
    assert_eq!(
        (replaced["value"].clone(), replaced["version"].clone()),
        (json!(12), json!(2))
    );
    let bad = app
        .put(
            &token,
            "/api/v1/impact-metrics/salw-destroyed/observations/not-a-uuid",
            observation("RS", None, 1.0),
        )
        .await;
    bad.problem(422, "validation_failed");
    assert_eq!(app.count("SELECT count(*) AS n FROM observations"), 1);
}

#[actix_web::test]
async fn invalid_observations_are_a_422_naming_each_field_and_a_percentage_over_100_a_409() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut percent = metric("women-in-armed-forces");
    percent["unit"] = json!("percent");
    app.post(&token, "/api/v1/impact-metrics", percent)
        .await
        .ok(201);
    let path = "/api/v1/impact-metrics/women-in-armed-forces/observations";
    let body = json!({"area": "Balkans", "period_start": "2019-12-31", "period_end": "2019-01-01", "value": 9,
                      "value_max": 6, "qualifier": "roughly", "source_url": "javascript:alert(1)", "as_of": "2019-13-01"});
    let response = app.post(&token, path, body).await;
    response.problem(422, "validation_failed");
    let mut pointers = response.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/area",
            "/as_of",
            "/period_end",
            "/qualifier",
            "/source_url",
            "/value_max"
        ]
    );
    let over = app
        .post(&token, path, observation("WB", Some(2019), 120.0))
        .await;
    // 120 is a fine number; it conflicts with the metric's unit.
    over.problem(409, "conflict");
    assert_eq!(over.pointers(), ["/value"]);
    app.post(&token, path, json!({"area": "WB"}))
        .await
        .problem(422, "validation_failed");
    app.post(&token, path, json!({"area": "WB", "value": "six"}))
        .await
        .problem(400, "invalid_request");
    assert_eq!(app.count("SELECT count(*) AS n FROM observations"), 0);
}

#[actix_web::test]
async fn invalid_metrics_are_a_422() {
    let app = TestApp::spawn().await;
    let body = json!({"key": "x", "label": "X", "category": "weather", "unit": "litres", "sdg_goals": [5, 18, 5]});
    let response = app
        .post(&app.editor(), "/api/v1/impact-metrics", body)
        .await;
    response.problem(422, "validation_failed");
    let mut pointers = response.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/category", "/sdg_goals", "/unit"]);
}

#[actix_web::test]
async fn a_metric_with_observations_is_deleted_only_with_cascade() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let refused = app
        .delete(&token, "/api/v1/impact-metrics/women-in-armed-forces")
        .await;
    let problem = refused.problem(409, "conflict");
    assert!(problem["detail"].as_str().unwrap().contains("cascade=true"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE metric = 'women-in-armed-forces'"),
        3
    );
    app.delete(
        &token,
        "/api/v1/impact-metrics/women-in-armed-forces?cascade=maybe",
    )
    .await
    .problem(400, "invalid_request");
    app.delete(
        &token,
        "/api/v1/impact-metrics/women-in-armed-forces?force=true",
    )
    .await
    .problem(400, "invalid_request");

    let deleted = app
        .delete(
            &token,
            "/api/v1/impact-metrics/women-in-armed-forces?cascade=true",
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE metric = 'women-in-armed-forces'"),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM impact_metrics WHERE key = 'women-in-armed-forces'"),
        0
    );

    // Without observations no cascade is needed.
    app.post(&token, "/api/v1/impact-metrics", metric("empty"))
        .await
        .ok(201);
    assert_eq!(
        app.delete(&token, "/api/v1/impact-metrics/empty")
            .await
            .status(),
        204
    );
}

#[actix_web::test]
async fn anonymous_readers_see_neither_draft_figures_nor_figures_of_a_draft_metric() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/impact-metrics", metric("public"))
        .await
        .ok(201);
    let path = "/api/v1/impact-metrics/public/observations";
    app.post(&token, path, observation("WB", Some(2018), 1.0))
        .await
        .ok(201);
    let mut draft = observation("WB", Some(2020), 2.0);
    draft["status"] = json!("draft");
    let hidden = app.post(&token, path, draft).await.ok(201);

    let public = app
        .get("/api/v1/impact-metrics/public?include=observations")
        .await
        .ok(200);
    assert_eq!(public["latest"]["value"], 1);
    assert_eq!(public["observations"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(path).await.ok(200)["meta"]["total"], 1);
    app.get(&format!("{path}/{}", hidden["id"].as_str().unwrap()))
        .await
        .problem(404, "not_found");
    let editor = app
        .get_as(&token, "/api/v1/impact-metrics/public")
        .await
        .ok(200);
    assert_eq!(editor["latest"]["value"], 2);

    let mut secret = metric("secret");
    secret["status"] = json!("draft");
    app.post(&token, "/api/v1/impact-metrics", secret)
        .await
        .ok(201);
    app.post(
        &token,
        "/api/v1/impact-metrics/secret/observations",
        observation("WB", None, 1.0),
    )
    .await
    .ok(201);
    app.get("/api/v1/impact-metrics/secret/observations")
        .await
        .problem(404, "not_found");
    app.get_as(&token, "/api/v1/impact-metrics/secret/observations")
        .await
        .ok(200);
}

#[actix_web::test]
async fn renaming_a_metric_takes_its_observations_along() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/impact-metrics", metric("old-key"))
        .await
        .ok(201);
    let created = app
        .post(
            &token,
            "/api/v1/impact-metrics/old-key/observations",
            observation("RS", None, 3.0),
        )
        .await
        .ok(201);
    app.patch(
        &token,
        "/api/v1/impact-metrics/old-key",
        json!({"key": "new-key"}),
    )
    .await
    .ok(200);
    let moved = app
        .get(&format!(
            "/api/v1/impact-metrics/new-key/observations/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(moved.ok(200)["metric"], "new-key");
}

#[actix_web::test]
async fn observations_take_if_match_like_every_item() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let path = "/api/v1/impact-metrics/women-in-armed-forces/observations/5eed0000-0000-4000-8000-000000000703";
    let etag = app.get_as(&token, path).await.etag();
    app.patch(&token, path, json!({"note": "Reported in 2019."}))
        .await
        .ok(200);
    let stale = app
        .request(Method::PATCH, path)
        .bearer(&token)
        .header("if-match", &etag);
    stale
        .merge_patch(json!({"value": 7}))
        .send()
        .await
        .problem(412, "precondition_failed");
    assert_eq!(app.count("SELECT value::bigint AS n FROM observations WHERE id = '5eed0000-0000-4000-8000-000000000703'"), 6);
}
