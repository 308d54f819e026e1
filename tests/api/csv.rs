//! Observations as CSV (RFC 4180), and all observations in one list.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn rows(body: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn get_csv(app: &TestApp, token: Option<&str>, path: &str) -> Vec<Vec<String>> {
    let mut request = app.request(Method::GET, path).header("accept", "text/csv");
    if let Some(token) = token {
        request = request.bearer(token);
    }
    let response = request.send().await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    // Streamed whole: no bytes to tag before they are sent, and no pages.
    assert!(response.header("etag").is_none());
    assert!(response.header("link").is_none());
    assert!(
        response
            .header("vary")
            .unwrap()
            .to_lowercase()
            .contains("accept")
    );
    rows(&response.body)
}

#[actix_web::test]
async fn cells_that_a_spreadsheet_would_run_are_neutralised() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    app.post(&token, "/api/v1/impact-metrics", json!({"key": "weapons-collected",
        "label": "Weapons collected", "category": "disarmament", "unit": "count", "status": "published"}))
        .await
        .ok(201);
    let path = "/api/v1/impact-metrics/weapons-collected/observations";
    let hostile = [
        ("RS", "=HYPERLINK(\"http://127.0.0.1/x\",\"click\")"),
        ("ME", "+1+cmd|' /C calc'!A0"),
        ("BA", "-2+3"),
        ("AL", "@SUM(1,2)"),
        ("MK", "Plain, with a comma, a \"quote\"\nand a new line"),
    ];
    for (area, note) in hostile {
        app.post(
            &token,
            path,
            json!({"area": area, "value": -5, "note": note, "reported_by": note,
            "status": "published"}),
        )
        .await
        .ok(201);
    }
    let table = get_csv(&app, None, &format!("{path}?sort=area")).await;
    let header = &table[0];
    let column = |name: &str| header.iter().position(|c| c == name).unwrap();
    assert_eq!(header[0], "id");
    assert_eq!(table.len(), 1 + hostile.len());
    let mut sent: Vec<(&str, &str)> = hostile.to_vec();
    sent.sort();
    for (row, (area, note)) in table[1..].iter().zip(sent) {
        assert_eq!(row[column("area")], area);
        let expected = if note.starts_with(['=', '+', '-', '@']) {
            format!("'{note}")
        } else {
            note.to_owned()
        };
        assert_eq!(row[column("note")], expected);
        assert_eq!(row[column("reported_by")], expected);
        assert_eq!(row[column("value")], "-5", "a number stays a number");
    }
}

#[actix_web::test]
async fn all_observations_list_filter_by_metric_and_hide_those_of_unpublished_metrics() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let everything = app.count("SELECT count(*) AS n FROM observations");
    let all = app
        .get_as(&token, "/api/v1/observations?per_page=100")
        .await
        .ok(200);
    assert_eq!(all["meta"]["total"], everything);

    // A draft metric's figures are not public, even the published ones.
    app.post(
        &token,
        "/api/v1/impact-metrics",
        json!({"key": "hidden-metric",
        "label": "Not yet", "category": "overall", "unit": "count", "status": "draft"}),
    )
    .await
    .ok(201);
    app.post(
        &token,
        "/api/v1/impact-metrics/hidden-metric/observations",
        json!({"area": "RS", "value": 1, "status": "published"}),
    )
    .await
    .ok(201);
    let public = app.get("/api/v1/observations?per_page=100").await.ok(200);
    let visible = app.count(
        "SELECT count(*) AS n FROM observations o JOIN impact_metrics m ON m.key = o.metric \
         WHERE o.status = 'published' AND o.published_at <= now() \
           AND m.status = 'published' AND m.published_at <= now()",
    );
    assert_eq!(public["meta"]["total"], visible);
    assert!(
        public["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["metric"] != "hidden-metric")
    );
    assert_eq!(
        app.get_as(&token, "/api/v1/observations?metric=hidden-metric")
            .await
            .ok(200)["meta"]["total"],
        1
    );
    assert_eq!(
        app.get("/api/v1/observations?metric=hidden-metric")
            .await
            .ok(200)["meta"]["total"],
        0
    );

    // The same list as CSV, one row per figure, in the same order.
    let json_ids: Vec<Value> = app
        .get("/api/v1/observations?metric=women-in-armed-forces&sort=period_end")
        .await
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    let table = get_csv(
        &app,
        None,
        "/api/v1/observations?metric=women-in-armed-forces&sort=period_end",
    )
    .await;
    let csv_ids: Vec<Value> = table[1..].iter().map(|row| json!(row[0])).collect();
    assert_eq!(csv_ids, json_ids);
    assert_eq!(json_ids.len(), 3);
}

#[actix_web::test]
async fn csv_is_only_for_lists_of_observations_and_json_stays_the_default() {
    let app = TestApp::seeded().await;
    let refused = app
        .request(Method::GET, "/api/v1/observations")
        .header("accept", "text/csv;q=0, application/json")
        .send()
        .await;
    assert_eq!(refused.status(), 200);
    assert!(
        refused
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let json = app.get("/api/v1/observations").await;
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    // Pages have no CSV form: JSON it is.
    let pages = app
        .request(Method::GET, "/api/v1/pages")
        .header("accept", "text/csv, application/json;q=0.5")
        .send()
        .await;
    assert_eq!(pages.status(), 200);
    assert!(
        pages
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
}

/// Figures of one metric, written by SQL: `count` days of one area from 1900 on.
fn many_figures(app: &TestApp, metric: &str, count: i64) {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "INSERT INTO observations (metric, area, period_start, period_end, value, status, \
             published_at) \
         SELECT '{metric}', 'RS', d, d, n, 'published', '2024-01-01T00:00:00Z' \
         FROM generate_series(0, {count} - 1) n, LATERAL (SELECT date '1900-01-01' + n AS d) day"
    ))
    .execute(&mut app.database.connect())
    .unwrap();
}

/// A list as CSV is every row the filters match, not a page of them; paging it is
/// a 400, and past 100,000 rows it is a 400 that says to filter.
#[actix_web::test]
async fn a_list_as_csv_is_whole_and_bounded() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    app.post(&editor, "/api/v1/impact-metrics", json!({"key": "weapons-collected",
        "label": "Weapons collected", "category": "disarmament", "unit": "count", "status": "published"}))
        .await
        .ok(201);
    many_figures(&app, "weapons-collected", 2_500);
    let path = "/api/v1/impact-metrics/weapons-collected/observations?sort=period_end";
    let table = get_csv(&app, None, path).await;
    assert_eq!(table.len(), 1 + 2_500, "the header and every figure");
    assert_eq!(
        table[1][table[0].iter().position(|c| c == "value").unwrap()],
        "0"
    );
    assert_eq!(
        table[2_500][table[0].iter().position(|c| c == "value").unwrap()],
        "2499"
    );
    let everywhere = get_csv(
        &app,
        Some(&editor),
        "/api/v1/observations?metric=weapons-collected",
    )
    .await;
    assert_eq!(everywhere.len(), 1 + 2_500);

    for paged in [format!("{path}&per_page=10"), format!("{path}&page=2")] {
        let response = app
            .request(Method::GET, &paged)
            .header("accept", "text/csv")
            .send()
            .await;
        response.problem(400, "invalid_request");
        assert!(
            response.json()["detail"]
                .as_str()
                .unwrap()
                .contains("whole")
        );
    }

    many_figures(&app, "salw-destroyed", 100_001);
    let response = app
        .request(
            Method::GET,
            "/api/v1/impact-metrics/salw-destroyed/observations",
        )
        .header("accept", "text/csv")
        .send()
        .await;
    let problem = response.problem(400, "invalid_request");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("at most 100000"),
        "{problem}"
    );
}
