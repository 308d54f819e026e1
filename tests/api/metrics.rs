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
async fn a_second_observation_with_the_same_natural_key_is_a_422_and_changes_nothing() {
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
    let problem = second.problem(422, "validation_failed");
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
        .problem(422, "validation_failed");
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
    moved.problem(422, "validation_failed");
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
async fn invalid_observations_and_a_percentage_over_100_are_422s_naming_each_field() {
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
    over.problem(422, "validation_failed");
    assert_eq!(over.pointers(), ["/value"]);
    app.post(&token, path, json!({"area": "WB"}))
        .await
        .problem(422, "validation_failed");
    app.post(&token, path, json!({"area": "WB", "value": "six"}))
        .await
        .problem(422, "validation_failed");
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
    app.without_page_blocks().await;
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

#[actix_web::test]
async fn a_partners_national_figures_do_not_knock_over_the_regional_headline() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let path = "/api/v1/impact-metrics/women-in-armed-forces";
    assert_eq!(app.get(path).await.ok(200)["headline_area"], "WB");
    // The README's walkthrough: a Serbian 10% and a Montenegrin 9%, both newer.
    app.post(
        &token,
        &format!("{path}/observations"),
        observation("RS", Some(2024), 10.0),
    )
    .await
    .ok(201);
    app.post(
        &token,
        &format!("{path}/observations"),
        observation("ME", Some(2025), 9.0),
    )
    .await
    .ok(201);
    let metric = app.get(path).await.ok(200);
    assert_eq!(metric["latest"]["area"], "WB");
    assert_eq!(metric["latest"]["value"], 6);
    assert_eq!(metric["latest"]["value_max"], 9);
    assert!(
        metric.get("latest_by_area").is_none(),
        "only when asked for"
    );

    let metric = app
        .get(&format!("{path}?include=latest_by_area"))
        .await
        .ok(200);
    let areas: Vec<(&str, &serde_json::Value)> = metric["latest_by_area"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["area"].as_str().unwrap(), &o["value"]))
        .collect();
    assert_eq!(
        areas,
        [("ME", &json!(9)), ("RS", &json!(10)), ("WB", &json!(6))]
    );

    // Without a headline area, the newest figure of any area is the headline.
    app.patch(&token, path, json!({"headline_area": null}))
        .await
        .ok(200);
    let metric = app.get(path).await.ok(200);
    assert_eq!(metric["headline_area"], json!(null));
    assert_eq!(metric["latest"]["area"], "ME");

    // A headline area with no published figure has no headline.
    app.patch(&token, path, json!({"headline_area": "BA"}))
        .await
        .ok(200);
    assert_eq!(app.get(path).await.ok(200)["latest"], json!(null));
    let list = app
        .get("/api/v1/impact-metrics?headline_area=BA")
        .await
        .ok(200);
    assert_eq!(list["meta"]["total"], 1);
}

#[actix_web::test]
async fn a_headline_area_must_be_an_area_and_a_bad_one_changes_nothing() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let path = "/api/v1/impact-metrics/women-in-armed-forces";
    let response = app
        .patch(&token, path, json!({"headline_area": "Balkans"}))
        .await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/headline_area"]);
    assert_eq!(
        app.text(
            "SELECT headline_area AS value FROM impact_metrics WHERE key = 'women-in-armed-forces'"
        ),
        Some("WB".to_owned())
    );
}

#[actix_web::test]
async fn a_frontend_charts_one_area_over_time_in_json_or_csv() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let path = "/api/v1/impact-metrics/women-in-armed-forces/observations";
    for (year, value) in [(2021, 7.0), (2023, 8.0)] {
        app.post(&token, path, observation("WB", Some(year), value))
            .await
            .ok(201);
    }
    app.post(&token, path, observation("RS", Some(2022), 10.0))
        .await
        .ok(201);
    let series = app
        .get(&format!(
            "{path}?area=WB&period_end[gte]=2019-01-01&sort=period_end"
        ))
        .await
        .ok(200);
    let values: Vec<&serde_json::Value> = series["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["value"])
        .collect();
    assert_eq!(values, [&json!(6), &json!(7), &json!(8)]);

    let csv = app
        .request(Method::GET, &format!("{path}?area=WB&period_end[gte]=2019-01-01&sort=period_end&fields=area,period_end,value,value_max"))
        .header("accept", "text/csv")
        .send()
        .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        String::from_utf8(csv.body.clone()).unwrap(),
        "area,period_end,value,value_max\r\nWB,2019-12-31,6,9\r\nWB,2021-12-31,7,\r\nWB,2023-12-31,8,\r\n"
    );
}
