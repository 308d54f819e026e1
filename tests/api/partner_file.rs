//! A partner's file with many mistakes gets every one of them in one answer, in
//! JSON and in CSV, each with its pointer, code and words; a single write gets the
//! same code and words for the same mistake. For a partner's token a draft metric
//! does not exist.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Response, TestApp};
use crate::tokens::{create_token, secret};

const BATCH: &str = "/api/v1/observations/batch";
const WOMEN: &str = "women-in-armed-forces";

fn figure(area: &str, year: i32, value: Value) -> Value {
    json!({"metric": WOMEN, "area": area, "period_start": format!("{year}-01-01"),
           "period_end": format!("{year}-12-31"), "value": value, "status": "published"})
}

/// A partner for Serbia's share of women in the armed forces, its token, and a
/// Serbian figure for 2021 that SEESAC wrote, not the partner.
async fn partner(app: &TestApp) -> String {
    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "mod-rs", "name": "MoD Serbia", "areas": ["RS"], "metrics": [WOMEN]}),
    )
    .await
    .ok(201);
    let mut ours = figure("RS", 2021, json!(8));
    ours.as_object_mut().unwrap().remove("metric");
    app.post(
        &app.editor(),
        &format!("/api/v1/impact-metrics/{WOMEN}/observations"),
        ours,
    )
    .await
    .ok(201);
    secret(&create_token(app, &["observations:write"], Some("mod-rs")).await)
}

/// The errors of a problem: pointer, code, detail.
fn errors(response: &Response) -> Vec<(String, String, String)> {
    response.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn expected(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(p, c, d)| ((*p).to_owned(), (*c).to_owned(), (*d).to_owned()))
        .collect()
}

#[actix_web::test]
async fn a_json_file_with_many_mistakes_gets_all_of_them_in_one_answer() {
    let app = TestApp::seeded().await;
    let token = partner(&app).await;
    let before = app.count("SELECT count(*) AS n FROM observations");
    let file = json!({"items": [
        figure("RS", 2023, json!(10)),
        {"metric": WOMEN, "area": "RS", "period_start": "2024/01/01", "period_end": "2024-12-31",
         "value": "7,5", "qualifier": "approx", "status": "Published"},
        {"metric": "no-such-metric", "area": "RS", "value": 3},
        figure("ME", 2023, json!(9)),
        {"metric": "salw-destroyed", "area": "RS", "value": 1000, "status": "published"},
        figure("RS", 2022, json!(120)),
        figure("RS", 2023, json!(11)),
        {"metric": WOMEN, "area": "RS", "period_start": "2020-01-01", "period_end": "2020-12-31",
         "delete": true, "x-unknown": 42},
        figure("RS", 2021, json!(9)),
    ]});
    let response = app.post(&token, BATCH, file).await;
    response.problem(422, "validation_failed");
    assert_eq!(
        errors(&response),
        expected(&[
            (
                "/items/1/value",
                "invalid",
                "must be a number; use a dot as the decimal separator"
            ),
            (
                "/items/1/period_start",
                "invalid",
                "must be a date such as 2019-12-31"
            ),
            (
                "/items/1/status",
                "invalid",
                "not one of draft, published, archived; did you mean published?"
            ),
            (
                "/items/1/qualifier",
                "invalid",
                "not one of exact, at_least, more_than, approximately; did you mean approximately?"
            ),
            (
                "/items/2/metric",
                "unknown_metric",
                "there is no impact metric with key no-such-metric"
            ),
            (
                "/items/3/area",
                "not_your_area",
                "mod-rs may not report for the area ME; it may report for RS"
            ),
            (
                "/items/4/metric",
                "not_your_metric",
                "mod-rs may not report on the metric salw-destroyed; it may report on women-in-armed-forces"
            ),
            (
                "/items/5/value",
                "out_of_range",
                "a percentage is between 0 and 100"
            ),
            (
                "/items/6",
                "duplicate",
                "is the same item as /items/0: a batch names each at most once"
            ),
            (
                "/items/7/x-unknown",
                "unknown_field",
                "is not a field of a deletion, which names its item by metric, area, period_start, period_end"
            ),
            (
                "/items/8",
                "not_yours",
                "this observation was not written by mod-rs: a partner's token may change or delete only its partner's observations"
            ),
        ])
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM observations"), before);

    // A single write gets the same code and words for the same mistake.
    let single = app
        .post(
            &token,
            &format!("/api/v1/impact-metrics/{WOMEN}/observations"),
            json!({"area": "ME", "value": "7,5"}),
        )
        .await;
    single.problem(422, "validation_failed");
    assert_eq!(
        errors(&single),
        expected(&[(
            "/value",
            "invalid",
            "must be a number; use a dot as the decimal separator"
        )])
    );
    let outside = app
        .post(
            &token,
            &format!("/api/v1/impact-metrics/{WOMEN}/observations"),
            json!({"area": "ME", "value": 9, "period_start": "2023-01-01", "period_end": "2023-12-31"}),
        )
        .await;
    outside.problem(422, "validation_failed");
    assert_eq!(
        errors(&outside),
        expected(&[(
            "/area",
            "not_your_area",
            "mod-rs may not report for the area ME; it may report for RS"
        )])
    );
}

async fn post_csv(app: &TestApp, token: &str, body: &str) -> Response {
    app.request(Method::POST, BATCH)
        .bearer(token)
        .raw("text/csv", body.as_bytes().to_vec())
        .send()
        .await
}

#[actix_web::test]
async fn a_csv_file_as_excel_writes_it_gets_every_mistake_by_row() {
    let app = TestApp::seeded().await;
    let token = partner(&app).await;
    let before = app.count("SELECT count(*) AS n FROM observations");
    // Semicolons, as Excel writes where the decimal separator is a comma; a blank
    // line, which a spreadsheet shows as a row too; a quote never closed.
    let file = "\u{feff}metric;area;period_start;period_end;value;status\r\n\
                women-in-armed-forces;RS;2023-01-01;2023-12-31;7,5;published\r\n\
                women-in-armed-forces;RS;2024-01-01;2024-12-31;seven;Published\r\n\
                \r\n\
                women-in-armed-forces;ME;2023-01-01;2023-12-31;9;published\r\n\
                women-in-armed-forces;RS;2022-01-01;2022-12-31;12;published;extra\r\n\
                no-such-metric;RS;2023-01-01;2023-12-31;3;published\r\n\
                women-in-armed-forces;RS;2025-01-01;2025-12-31;\"7.5\r\n";
    let response = post_csv(&app, &token, file).await;
    response.problem(422, "validation_failed");
    assert_eq!(
        errors(&response),
        expected(&[
            ("/rows/3/value", "invalid", "must be a number"),
            (
                "/rows/3/status",
                "invalid",
                "not one of draft, published, archived; did you mean published?"
            ),
            (
                "/rows/5/area",
                "not_your_area",
                "mod-rs may not report for the area ME; it may report for RS"
            ),
            (
                "/rows/6",
                "invalid",
                "has 7 cells where the header names 6 columns"
            ),
            (
                "/rows/7/metric",
                "unknown_metric",
                "there is no impact metric with key no-such-metric"
            ),
            (
                "/rows/8",
                "invalid",
                "a quote opens a value here and never closes, so the rest of the file would be that value: close it with another quote"
            ),
        ])
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM observations"), before);

    // Fixed, the same file is written; with no status column, each figure is a
    // draft, and the report says so.
    let fixed = "metric;area;period_start;period_end;value\r\n\
                 women-in-armed-forces;RS;2023-01-01;2023-12-31;7,5\r\n";
    let report = post_csv(&app, &token, fixed).await.ok(200);
    assert_eq!(
        report["results"][0],
        json!({"index": 0, "row": 2, "result": "created", "id": report["results"][0]["id"],
               "version": 1, "status": "draft"})
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE area = 'RS' AND value = 7.5 AND status = 'draft'"),
        1
    );
}

#[actix_web::test]
async fn a_batch_that_is_neither_json_nor_csv_is_a_415_naming_both() {
    let app = TestApp::seeded().await;
    let response = app
        .request(Method::POST, BATCH)
        .bearer(&app.editor())
        .raw("application/xml", b"<items/>".to_vec())
        .send()
        .await;
    let problem = response.problem(415, "unsupported_media_type");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("text/csv") && detail.contains("application/json"),
        "{detail}"
    );
}

/// For a token that does not see drafts, a draft metric does not exist: the same
/// answer as for a metric that is nowhere, even for a partner allowed every metric.
#[actix_web::test]
async fn a_draft_metric_does_not_exist_for_a_partners_token() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    app.post(
        &editor,
        "/api/v1/impact-metrics",
        json!({"key": "covert-buyback-2027", "label": "Buy-back, not announced yet",
               "category": "disarmament", "unit": "count", "status": "draft"}),
    )
    .await
    .ok(201);
    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "any-metric", "name": "Any metric", "areas": ["RS"], "metrics": null}),
    )
    .await
    .ok(201);
    let token = secret(&create_token(&app, &["observations:write"], Some("any-metric")).await);
    let before = app.count("SELECT count(*) AS n FROM observations");
    for metric in ["covert-buyback-2027", "nowhere-at-all"] {
        let batch = app
            .post(
                &token,
                BATCH,
                json!({"items": [{"metric": metric, "area": "RS", "value": 1, "status": "published"}]}),
            )
            .await;
        batch.problem(422, "validation_failed");
        assert_eq!(
            errors(&batch),
            expected(&[(
                "/items/0/metric",
                "unknown_metric",
                &format!("there is no impact metric with key {metric}")
            )])
        );
        let single = app
            .post(
                &token,
                &format!("/api/v1/impact-metrics/{metric}/observations"),
                json!({"area": "RS", "value": 1, "status": "published"}),
            )
            .await;
        let problem = single.problem(404, "not_found");
        assert_eq!(
            problem["detail"],
            format!("there is no impact metric with key {metric}")
        );
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM observations"), before);
}
