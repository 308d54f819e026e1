//! The change log at the database's pace: writers take no position and wait for no
//! one, and one sequencer numbers what they committed. The feed stays gap-free and
//! keeps one item's versions in order, whatever commits late, and follows the
//! commits within its bound even while a transaction elsewhere stays open.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{Value, json};

use crate::helpers::{TestApp, database_url, page};

/// Every entry after `cursor`, as an editor sees it, and the next cursor.
async fn entries_after(app: &TestApp, token: &str, cursor: i64) -> (Vec<Value>, i64) {
    let answer = app
        .get_as(
            token,
            &format!("/api/v1/changes?since={cursor}&per_page=1000"),
        )
        .await
        .ok(200);
    (
        answer["data"].as_array().unwrap().clone(),
        answer["meta"]["next"].as_str().unwrap().parse().unwrap(),
    )
}

fn cursor_of(entry: &Value) -> i64 {
    entry["cursor"].as_str().unwrap().parse().unwrap()
}

/// A 1,000-row upsert of observations in a transaction of its own, left open: it
/// has drawn its entries' numbers, and commits when the caller says.
fn slow_batch(app: &TestApp) -> PgConnection {
    let mut conn = app.database.connect();
    conn.batch_execute(
        "BEGIN; SELECT set_config('seesac.actor', 'system:slow-batch', true); \
         INSERT INTO observations (metric, area, period_start, period_end, value, status) \
         SELECT 'salw-destroyed', a, make_date(y, 1, 1), make_date(y, 12, 31), y, 'published' \
           FROM unnest(ARRAY['RS','ME','BA','MK','AL','XK','MD','UA','HR','SI','BG','RO','GR', \
                             'TR','HU','AT','DE','FR','IT','ES']) a, generate_series(1975, 2024) y",
    )
    .unwrap();
    conn
}

#[actix_web::test]
async fn the_feed_stays_gap_free_while_a_slow_batch_commits_after_quicker_writes() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let (_, start) = entries_after(&app, &editor, 0).await;
    let mut batch = slow_batch(&app);

    // Quick page writes that begin after the batch and commit before it, and a
    // reader following the feed throughout.
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = start;
    for i in 0..30 {
        app.post(
            &editor,
            "/api/v1/pages",
            page(&format!("quick-{i}"), "Quick"),
        )
        .await
        .ok(201);
        let (more, next) = entries_after(&app, &editor, cursor).await;
        seen.extend(more);
        cursor = next;
    }
    assert_eq!(seen.len(), 30, "the quick writes, while the batch is open");
    batch.batch_execute("COMMIT").unwrap();
    // The batch's entries come after every position a reader has passed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.len() < 1030 && Instant::now() < deadline {
        let (more, next) = entries_after(&app, &editor, cursor).await;
        seen.extend(more);
        cursor = next;
    }
    let cursors: Vec<i64> = seen.iter().map(cursor_of).collect();
    assert_eq!(
        cursors,
        ((start + 1)..=(start + 1030)).collect::<Vec<_>>(),
        "every entry, each once, without a gap, the late batch after the reader's cursor"
    );
    assert!(seen[..30].iter().all(|e| e["type"] == "page"));
    assert!(seen[30..].iter().all(|e| e["type"] == "observation"));
}

#[actix_web::test]
async fn the_feed_follows_the_commits_within_its_bound_while_a_transaction_elsewhere_stays_open() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    // Another database of the same cluster, with a transaction open and idle: it
    // holds back every snapshot horizon of the cluster.
    let elsewhere = crate::helpers::TestDatabase::new();
    let mut idle = PgConnection::establish(&database_url(&elsewhere.name)).unwrap();
    idle.batch_execute("BEGIN; SELECT txid_current();").unwrap();

    for i in 0..20 {
        app.post(&editor, "/api/v1/pages", page(&format!("late-{i}"), "Late"))
            .await
            .ok(201);
    }
    // The writers stopped: without anyone reading the feed, the background
    // sequencer numbers everything within the documented second.
    let stopped = Instant::now();
    let lag = loop {
        let unnumbered = app.count("SELECT count(*) AS n FROM changes WHERE position IS NULL");
        if unnumbered == 0 {
            break stopped.elapsed();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(1),
            "{unnumbered} entries still unnumbered after a second"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(lag < Duration::from_secs(1), "{lag:?}");
    idle.batch_execute("ROLLBACK").unwrap();
}

#[actix_web::test]
async fn two_writers_of_one_item_appear_in_version_order_even_when_a_batch_waits_on_a_lock() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let figure = "5eed0000-0000-4000-8000-000000000703";
    let (_, start) = entries_after(&app, &editor, 0).await;

    // A single write of a figure of women-in-armed-forces, holding its metric as
    // writers do, not yet committed.
    let mut single = app.database.connect();
    single
        .batch_execute(&format!(
            "BEGIN; SELECT set_config('seesac.actor', 'system:single', true); \
             SELECT 1 FROM impact_metrics WHERE key = 'women-in-armed-forces' FOR NO KEY UPDATE; \
             UPDATE observations SET note = 'the single write' WHERE id = '{figure}';"
        ))
        .unwrap();
    // A batch over two metrics: it holds the first in key order
    // (salw-destroyed), then waits on the second, which the single write holds.
    let batch = json!({"items": [
        {"metric": "salw-destroyed", "area": "RS", "period_start": "2020-01-01",
         "period_end": "2020-12-31", "value": 5, "status": "published"},
        {"metric": "women-in-armed-forces", "area": "WB", "period_start": "2019-01-01",
         "period_end": "2019-12-31", "value": 6, "value_max": 9, "note": "the batch",
         "status": "published"}]});
    let batching = app.post(&editor, "/api/v1/observations/batch", batch);
    let committing = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        single.batch_execute("COMMIT").unwrap();
    };
    let (answer, ()) = futures_util::future::join(batching, committing).await;
    answer.ok(200);

    let (entries, _) = entries_after(&app, &editor, start).await;
    let of_figure: Vec<(i64, &str)> = entries
        .iter()
        .filter(|e| e["key"] == figure)
        .map(|e| {
            (
                e["version"].as_i64().unwrap(),
                e["item"]["note"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(of_figure.len(), 2, "{entries:?}");
    assert!(
        of_figure[0].0 < of_figure[1].0,
        "versions in order: {of_figure:?}"
    );
    assert_eq!(of_figure[0].1, "the single write");
    assert_eq!(of_figure[1].1, "the batch");
}

#[actix_web::test]
async fn a_writer_reads_its_write_at_once_and_another_instance_within_a_second() {
    let writer = TestApp::seeded().await;
    let reader = writer.another_instance().await;
    writer.wait_for_read_cache("on").await;
    reader.wait_for_read_cache("on").await;
    // Both have the page cached.
    assert_eq!(
        writer.get("/api/v1/pages/mission").await.ok(200)["title"],
        "Mission"
    );
    assert_eq!(
        reader.get("/api/v1/pages/mission").await.ok(200)["title"],
        "Mission"
    );

    writer
        .patch(
            &writer.editor(),
            "/api/v1/pages/mission",
            json!({"title": "Our mission"}),
        )
        .await
        .ok(200);
    assert_eq!(
        writer.get("/api/v1/pages/mission").await.ok(200)["title"],
        "Our mission",
        "the writer's own instance, at once"
    );
    let written = Instant::now();
    loop {
        if reader.get("/api/v1/pages/mission").await.ok(200)["title"] == "Our mission" {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(1),
            "the other instance still answers the old page after a second"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}
