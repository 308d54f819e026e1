//! Batches of observations: upserted by natural key, all or nothing, with a report
//! per item, in JSON or CSV, and safe when two overlap.

use diesel::connection::SimpleConnection;
use futures_util::future::join;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::tokens::{create_token, secret};

const BATCH: &str = "/api/v1/observations/batch";
const WOMEN: &str = "women-in-armed-forces";

fn item(area: &str, year: i32, value: f64) -> Value {
    json!({"metric": WOMEN, "area": area, "period_start": format!("{year}-01-01"),
           "period_end": format!("{year}-12-31"), "value": value, "status": "published"})
}

fn outcomes(report: &Value) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_owned())
        .collect()
}

/// A partner for Serbia's figures of the women-in-armed-forces metric, and its
/// token's secret.
async fn serbian_partner(app: &TestApp) -> String {
    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "mod-rs", "name": "MoD Serbia", "areas": ["RS"], "metrics": [WOMEN]}),
    )
    .await
    .ok(201);
    secret(&create_token(app, &["observations:write"], Some("mod-rs")).await)
}

fn observations(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM observations")
}

#[actix_web::test]
async fn a_batch_upserts_by_natural_key_and_reports_each_item_in_order() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let before = observations(&app);
    let changes_before = app.count("SELECT count(*) AS n FROM changes");
    // The seed's regional figure, sent as it is: unchanged.
    let same = json!({"metric": WOMEN, "area": "WB", "period_start": "2019-01-01",
        "period_end": "2019-12-31", "value": 6, "value_max": 9, "qualifier": "exact",
        "note": "Between 6% and 9% in the Western Balkans.", "reported_by": "SEESAC", "status": "published"});
    let stored = app
        .get(&format!(
            "/api/v1/impact-metrics/{WOMEN}/observations/5eed0000-0000-4000-8000-000000000703"
        ))
        .await
        .ok(200);
    let mut same = same;
    same["note"] = stored["note"].clone();
    let body = json!({"items": [
        item("RS", 2024, 11.0),
        same,
        {"metric": "salw-destroyed", "area": "SEEE", "delete": true},
        {"metric": WOMEN, "area": "ME", "period_start": "2030-01-01", "period_end": "2030-12-31", "delete": true},
    ]});
    let report = app.post(&token, BATCH, body.clone()).await.ok(200);
    assert_eq!(report["dry_run"], false);
    assert_eq!(
        outcomes(&report),
        ["created", "unchanged", "deleted", "unchanged"]
    );
    let results = report["results"].as_array().unwrap();
    assert_eq!(results[0]["version"], 1);
    assert_eq!(results[1]["id"], "5eed0000-0000-4000-8000-000000000703");
    assert_eq!(
        results[1]["version"], stored["version"],
        "unchanged is not a new version"
    );
    assert!(results[3]["id"].is_null());
    assert_eq!(observations(&app), before + 1 - 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM changes") - changes_before,
        2,
        "one created, one deleted"
    );

    // The same batch again: the creation is now there, the deletion already done.
    let mut again = body;
    again["items"][0]["value"] = json!(12);
    let report = app.post(&token, BATCH, again).await.ok(200);
    assert_eq!(
        outcomes(&report),
        ["updated", "unchanged", "unchanged", "unchanged"]
    );
    assert_eq!(report["results"][0]["version"], 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE area = 'RS' AND value = 12"),
        1
    );
}

#[actix_web::test]
async fn one_bad_item_writes_nothing_and_every_bad_item_is_named() {
    let app = TestApp::seeded().await;
    let before = observations(&app);
    let body = json!({"items": [
        item("RS", 2024, 11.0),
        {"metric": WOMEN, "area": "RS", "value": "six"},
        {"metric": WOMEN, "area": "Balkans", "value": 3},
        {"area": "RS", "value": 3},
        item("RS", 2024, 12.0),
        {"metric": WOMEN, "area": "RS", "value": 3, "colour": "red"},
    ]});
    let response = app.post(&app.editor(), BATCH, body).await;
    response.problem(422, "validation_failed");
    let mut pointers = response.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/items/1/value",
            "/items/2/area",
            "/items/3/metric",
            "/items/4",
            "/items/5/colour"
        ]
    );
    assert_eq!(observations(&app), before);

    // Rules that depend on what is stored are named in the same 422: a metric that
    // does not exist, a percentage over 100.
    let conflict = app
        .post(
            &app.editor(),
            BATCH,
            json!({"items": [
                item("RS", 2024, 11.0),
                {"metric": "nowhere", "area": "RS", "value": 3},
                item("ME", 2024, 120.0),
            ]}),
        )
        .await;
    conflict.problem(422, "validation_failed");
    assert_eq!(conflict.pointers(), ["/items/1/metric", "/items/2/value"]);
    assert_eq!(observations(&app), before);

    let too_many: Vec<Value> = (0..1001).map(|i| item("RS", 1000 + i, 1.0)).collect();
    app.post(&app.editor(), BATCH, json!({"items": too_many}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let app = TestApp::seeded().await;
    let before = observations(&app);
    let changes = app.count("SELECT count(*) AS n FROM changes");
    let report = app
        .post(&app.editor(), &format!("{BATCH}?dry_run=true"), json!({"items": [
            item("RS", 2024, 11.0),
            {"metric": WOMEN, "area": "WB", "period_start": "2019-01-01", "period_end": "2019-12-31", "delete": true},
        ]}))
        .await
        .ok(200);
    assert_eq!(report["dry_run"], true);
    assert_eq!(outcomes(&report), ["created", "deleted"]);
    assert!(report["results"][0]["id"].is_null());
    assert_eq!(observations(&app), before);
    // Neither the creation nor the deletion happened (a count would not tell).
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE id = '5eed0000-0000-4000-8000-000000000703'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE area = 'RS' AND period_start = '2024-01-01'"),
        0
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), changes);
}

#[actix_web::test]
async fn a_partners_batch_outside_its_areas_is_a_422_and_writes_nothing() {
    let app = TestApp::seeded().await;
    let token = serbian_partner(&app).await;
    let before = observations(&app);
    let refused = app
        .post(
            &token,
            BATCH,
            json!({"items": [item("RS", 2024, 11.0), item("ME", 2024, 9.0)]}),
        )
        .await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.pointers(), ["/items/1/area"]);
    assert_eq!(refused.json()["errors"][0]["code"], "not_your_area");
    assert_eq!(observations(&app), before);
    let report = app
        .post(&token, BATCH, json!({"items": [item("RS", 2024, 11.0)]}))
        .await
        .ok(200);
    assert_eq!(outcomes(&report), ["created"]);
    assert_eq!(
        app.text("SELECT partner AS value FROM observations WHERE area = 'RS' AND period_start = '2024-01-01'"),
        Some("mod-rs".to_owned())
    );
}

#[actix_web::test]
async fn a_csv_batch_takes_the_exports_columns_and_names_rows() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let bad = "metric,area,period_start,period_end,value,status\r\n\
               women-in-armed-forces,RS,2024-01-01,2024-12-31,11,published\r\n\
               women-in-armed-forces,RS,2025-01-01,2025-12-31,eleven,published\r\n";
    let response = app
        .request(actix_web::http::Method::POST, BATCH)
        .bearer(&token)
        .raw("text/csv", bad.as_bytes().to_vec())
        .send()
        .await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/rows/3/value"]);

    // An export's own columns, read-only ones included, and a deletion.
    let good = "id,metric,area,period_start,period_end,value,value_max,status,version,delete\r\n\
                ,women-in-armed-forces,RS,2024-01-01,2024-12-31,11,,published,,\r\n\
                5eed0000-0000-4000-8000-000000000703,women-in-armed-forces,WB,2019-01-01,2019-12-31,,,,3,true\r\n";
    let report = app
        .request(actix_web::http::Method::POST, BATCH)
        .bearer(&token)
        .raw("text/csv", good.as_bytes().to_vec())
        .send()
        .await
        .ok(200);
    assert_eq!(outcomes(&report), ["created", "deleted"]);
}

#[actix_web::test]
async fn two_overlapping_batches_run_at_once_without_deadlock_or_a_lost_write() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    // 150 periods each, 100 in common, in opposite orders.
    let first: Vec<Value> = (1800..1950).map(|year| item("RS", year, 1.0)).collect();
    let mut second: Vec<Value> = (1850..2000).map(|year| item("RS", year, 2.0)).collect();
    second.reverse();
    // Both are held at the door until both are there, so they really overlap.
    let mut door = app.database.connect();
    door.batch_execute("BEGIN; LOCK TABLE observations IN EXCLUSIVE MODE")
        .unwrap();
    let open_when_both_wait = async {
        let mut both = false;
        for _ in 0..400 {
            // Each waits for a lock: the first for the table, the second for it
            // or for the metric's row, which the first holds.
            if app.count(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            ) >= 2
            {
                both = true;
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        door.batch_execute("COMMIT").unwrap();
        both
    };
    let ((a, b), both) = join(
        join(
            app.post(&token, BATCH, json!({"items": first})),
            app.post(&token, BATCH, json!({"items": second})),
        ),
        open_when_both_wait,
    )
    .await;
    assert!(both, "the two batches never waited at the same time");
    let (a, b) = (a.ok(200), b.ok(200));
    assert_eq!(a["results"].as_array().unwrap().len(), 150);
    assert_eq!(b["results"].as_array().unwrap().len(), 150);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE area = 'RS' AND period_start < '2000-01-01'"),
        200
    );
    // Each shared period was created by one batch and updated by the other.
    let shared: Vec<i64> = ["1.0", "2.0"]
        .iter()
        .map(|v| {
            app.count(&format!(
                "SELECT count(*) AS n FROM observations WHERE area = 'RS' AND value = {v} \
                 AND period_start >= '1850-01-01' AND period_start < '1950-01-01'"
            ))
        })
        .collect();
    assert_eq!(shared.iter().sum::<i64>(), 100);
    assert!(
        shared.contains(&100),
        "the later batch's values won all of them: {shared:?}"
    );
    let created = |report: &Value| outcomes(report).iter().filter(|r| *r == "created").count();
    assert_eq!(created(&a) + created(&b), 200);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM observations o JOIN changes c ON c.key = o.id::text \
                   WHERE o.area = 'RS' AND o.period_start < '2000-01-01' AND c.action = 'created'"
        ),
        200
    );
}

#[actix_web::test]
async fn a_partners_retried_csv_batch_replays_and_a_changed_one_under_the_same_key_is_refused() {
    let app = TestApp::seeded().await;
    let token = serbian_partner(&app).await;
    let csv = "metric,area,period_start,period_end,value,status\r\n\
               women-in-armed-forces,RS,2024-01-01,2024-12-31,10,published\r\n";
    let send = |body: &str| {
        app.request(actix_web::http::Method::POST, BATCH)
            .bearer(&token)
            .header("idempotency-key", "\"rs-2024-push\"")
            .raw("text/csv", body.as_bytes().to_vec())
            .send()
    };
    let first = send(csv).await;
    let report = first.ok(200);
    assert_eq!(outcomes(&report), ["created"]);
    let (figures, changes) = (
        observations(&app),
        app.count("SELECT count(*) AS n FROM changes"),
    );

    // The network failed before the answer came: the job sends the same file again.
    let retry = send(csv).await;
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.ok(200), report, "the first report, not `unchanged`");
    assert_eq!(observations(&app), figures);
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), changes);

    // A different file under the same key is a mistake: refused, nothing written.
    let changed = csv.replace(",10,", ",12,");
    let refused = send(&changed).await;
    refused.problem(422, "validation_failed");
    assert_eq!(
        app.count("SELECT value::bigint AS n FROM observations WHERE area = 'RS' AND period_start = '2024-01-01'"),
        10
    );
}

#[actix_web::test]
async fn writers_of_one_metrics_figures_wait_for_each_other_and_never_deadlock() {
    // Each figure written gives its metric a new ETag (its `latest` may change), an
    // update of the metric's row: writers hold that row from their start, and a
    // batch takes its metrics in key order, so no two writers wait on each other.
    let app = TestApp::seeded().await;
    let token = app.editor();
    let figure = |metric: &str, area: &str, year: i32| {
        json!({"metric": metric, "area": area, "period_start": format!("{year}-01-01"),
               "period_end": format!("{year}-12-31"), "value": 1, "status": "published"})
    };
    for round in 0..5 {
        let year = 2030 + round;
        let forward =
            json!({"items": [figure("salw-destroyed", "SEEE", year), figure(WOMEN, "RS", year)]});
        let backward =
            json!({"items": [figure(WOMEN, "ME", year), figure("salw-destroyed", "SEE", year)]});
        let one = |area: &str| {
            app.request(
                actix_web::http::Method::POST,
                &format!("/api/v1/impact-metrics/{WOMEN}/observations"),
            )
            .bearer(&token)
            .json(
                json!({"area": area, "period_start": format!("{year}-01-01"),
                         "period_end": format!("{year}-12-31"), "value": 1, "status": "published"}),
            )
            .send()
        };
        let (batches, singles) = join(
            join(
                app.post(&token, BATCH, forward),
                app.post(&token, BATCH, backward),
            ),
            join(one("AL"), one("MK")),
        )
        .await;
        assert_eq!(
            [
                batches.0.status(),
                batches.1.status(),
                singles.0.status(),
                singles.1.status()
            ],
            [200, 200, 201, 201],
            "round {round}"
        );
    }
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM observations WHERE period_start >= '2030-01-01' \
             AND period_end <= '2034-12-31'"
        ),
        30
    );
}
