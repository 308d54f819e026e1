//! The change log and its feed: every write to content, in commit order; the public
//! site's changes for anonymous readers; scheduled publications when they happen;
//! no change skipped under concurrent writers.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::{join, join_all};
use serde_json::{Value, json};

use crate::helpers::{TestApp, page, scheduled_page};

/// Every change after `since`, following `meta.next`, as `token` sees them.
async fn follow(app: &TestApp, token: Option<&str>, since: &str) -> (Vec<Value>, String) {
    let mut cursor = since.to_owned();
    let mut changes = Vec::new();
    loop {
        let path = format!("/api/v1/changes?since={cursor}&per_page=50");
        let answer = match token {
            Some(token) => app.get_as(token, &path).await,
            None => app.get(&path).await,
        }
        .ok(200);
        let data = answer["data"].as_array().unwrap().clone();
        let next = answer["meta"]["next"].as_str().unwrap().to_owned();
        let done = data.len() < 50;
        changes.extend(data);
        cursor = next;
        if done {
            return (changes, cursor);
        }
    }
}

fn summary(changes: &[Value]) -> Vec<(String, String, String)> {
    changes
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_owned(),
                c["key"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn s(kind: &str, key: &str, action: &str) -> (String, String, String) {
    (kind.to_owned(), key.to_owned(), action.to_owned())
}

#[actix_web::test]
async fn every_write_to_content_is_logged_in_order_and_an_unchanged_one_is_not() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let (_, head) = follow(&app, Some(&token), "now").await;
    assert_eq!(head, "0");
    app.post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
    let body = json!({"title": "Mission", "body": "Ours."});
    app.put(&token, "/api/v1/pages/mission", body.clone())
        .await
        .ok(200);
    app.put(&token, "/api/v1/pages/mission", body).await.ok(200);
    app.patch(
        &token,
        "/api/v1/pages/mission",
        json!({"slug": "our-mission"}),
    )
    .await
    .ok(200);
    assert_eq!(
        app.delete(&token, "/api/v1/pages/our-mission")
            .await
            .status(),
        204
    );
    // Users, partners and tokens are not content.
    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "ngo", "name": "An NGO"}),
    )
    .await
    .ok(201);

    let (changes, next) = follow(&app, Some(&token), "0").await;
    assert_eq!(
        summary(&changes),
        [
            s("page", "mission", "created"),
            s("page", "mission", "updated"),
            s("page", "mission", "deleted"),
            s("page", "our-mission", "created"),
            s("page", "our-mission", "deleted"),
        ],
        "the second PUT changed nothing; the rename is the old key deleted and the new one created"
    );
    let cursors: Vec<i64> = changes
        .iter()
        .map(|c| c["cursor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(cursors, [1, 2, 3, 4, 5]);
    assert_eq!(next, "5");
    assert_eq!(changes[1]["version"], 2);
    // The deletions are tombstones; the page is gone now, so no entry shows it.
    let tombstones: Vec<bool> = changes.iter().map(|c| c["tombstone"] == true).collect();
    assert_eq!(tombstones, [false, false, true, false, true]);
    assert!(changes.iter().all(|c| c["item"].is_null()), "all gone now");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM changes WHERE actor = 'user:test-editor'"),
        5
    );
    let (again, _) = follow(&app, Some(&token), &next).await;
    assert!(again.is_empty());
}

#[actix_web::test]
async fn anonymous_readers_see_publishing_as_a_creation_and_unpublishing_as_a_tombstone() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let (_, start) = follow(&app, None, "now").await;
    app.post(&token, "/api/v1/pages", page("news", "News"))
        .await
        .ok(201);
    app.patch(&token, "/api/v1/pages/news", json!({"title": "Draft news"}))
        .await
        .ok(200);
    let (none, _) = follow(&app, None, &start).await;
    assert!(none.is_empty(), "drafts do not show: {none:?}");

    app.patch(&token, "/api/v1/pages/news", json!({"status": "published"}))
        .await
        .ok(200);
    app.patch(&token, "/api/v1/pages/news", json!({"title": "News"}))
        .await
        .ok(200);
    let (published, after) = follow(&app, None, &start).await;
    assert_eq!(
        summary(&published),
        [s("page", "news", "created"), s("page", "news", "updated")]
    );
    // Each entry shows its own version's stored fields.
    assert_eq!(published[0]["item"]["title"], "Draft news");
    assert_eq!(published[0]["item"]["version"], 3);
    assert_eq!(published[1]["item"]["title"], "News");
    assert!(published[0]["item"]["body"].is_string());
    assert!(
        published[0]["item"].get("body_html").is_none(),
        "derived fields are not kept"
    );

    app.patch(&token, "/api/v1/pages/news", json!({"status": "archived"}))
        .await
        .ok(200);
    let (archived, _) = follow(&app, None, &after).await;
    assert_eq!(summary(&archived), [s("page", "news", "deleted")]);
    assert_eq!(archived[0]["tombstone"], true);
    assert!(archived[0]["item"].is_null());

    // The editor sees every change, as logged.
    let (all, _) = follow(&app, Some(&token), &start).await;
    assert_eq!(all.len(), 5);
}

#[actix_web::test]
async fn a_scheduled_publication_appears_when_its_time_comes() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let (_, start) = follow(&app, None, "now").await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let scheduled = scheduled_page("launch", "Launch", at);
    app.post(&token, "/api/v1/pages", scheduled).await.ok(201);
    let (before, cursor) = follow(&app, None, &start).await;
    assert!(before.is_empty(), "not yet: {before:?}");

    let mut seen = Vec::new();
    for _ in 0..40 {
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
        (seen, _) = follow(&app, None, &cursor).await;
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(summary(&seen), [s("page", "launch", "created")]);
    let when: chrono::DateTime<chrono::Utc> = seen[0]["at"].as_str().unwrap().parse().unwrap();
    assert!(
        when >= at - chrono::Duration::seconds(1),
        "logged when published, {when}"
    );
    // A reader who had passed the page's save still gets it: it is after the cursor.
    assert!(seen[0]["cursor"].as_str().unwrap().parse::<i64>().unwrap() > cursor.parse().unwrap());
}

#[actix_web::test]
async fn an_idle_instance_writes_nothing_and_still_logs_what_falls_due() {
    let app = TestApp::spawn().await;
    // A start older than a minute is moved once; this one is new.
    assert_eq!(app.execute("UPDATE changes_schedule SET until = now()"), 1);
    let row = || {
        app.text("SELECT concat_ws(' ', xmin, xmax, until) AS value FROM changes_schedule")
            .expect("the schedule has its row")
    };
    let outbox = || {
        app.text("SELECT concat_ws(' ', xmin, xmax, position) AS value FROM webhook_outbox")
            .expect("the webhooks' outbox has its row")
    };
    let (before, outbox_before) = (row(), outbox());
    // Three rounds of the schedule and many of the webhooks' outbox, with nothing to
    // do: neither row is rewritten (`xmin`) nor locked (`xmax`).
    actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(row(), before);
    assert_eq!(outbox(), outbox_before);
    // What becomes due is still logged, once, and moves the start.
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    let scheduled = scheduled_page("launch", "Launch", at);
    app.post(&app.editor(), "/api/v1/pages", scheduled)
        .await
        .ok(201);
    let logged =
        "SELECT count(*) AS n FROM changes WHERE key = 'launch' AND actor = 'system:schedule'";
    for _ in 0..40 {
        if app.count(logged) > 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count(logged), 1);
    assert_ne!(row(), before);
}

#[actix_web::test]
async fn the_feed_skips_no_change_under_concurrent_writers() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let writers = (0..4).map(|w| {
        let app = &app;
        let token = token.clone();
        async move {
            for i in 0..15 {
                let slug = format!("w{w}-{i}");
                app.post(&token, "/api/v1/pages", page(&slug, "Concurrent"))
                    .await
                    .ok(201);
            }
        }
    });
    let reader = async {
        let mut cursor = "0".to_owned();
        let mut seen = Vec::new();
        for _ in 0..200 {
            let (changes, next) = follow(&app, Some(&token), &cursor).await;
            seen.extend(changes);
            cursor = next;
            if seen.len() >= 60 {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        seen
    };
    let (_, seen) = join(join_all(writers), reader).await;
    let cursors: Vec<i64> = seen
        .iter()
        .map(|c| c["cursor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        cursors,
        (1..=60).collect::<Vec<_>>(),
        "every change, each once, in order"
    );
    let keys: BTreeSet<&str> = seen.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 60);
}

#[actix_web::test]
async fn type_and_per_page_page_the_feed_and_an_old_cursor_is_a_410() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let first = app
        .get_as(&token, "/api/v1/changes?type=funder,contact&per_page=3")
        .await
        .ok(200);
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    assert!(
        first["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] == "funder")
    );
    let next = first["meta"]["next"].as_str().unwrap();
    let rest = app
        .get_as(
            &token,
            &format!("/api/v1/changes?type=funder,contact&since={next}&per_page=1000"),
        )
        .await
        .ok(200);
    let kinds: BTreeSet<&str> = rest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["contact", "funder"]));
    assert_eq!(rest["data"].as_array().unwrap().len(), 13 + 1 - 3);

    for bad in [
        "since=-1",
        "since=soon",
        "per_page=0",
        "per_page=1001",
        "type=user",
        "types=page",
        "limit=5",
        "colour=red",
    ] {
        app.get(&format!("/api/v1/changes?{bad}"))
            .await
            .problem(400, "invalid_request");
    }

    // The log forgot what came before position 5: an older cursor must start over.
    assert_eq!(app.execute("UPDATE changes_horizon SET position = 5"), 1);
    let gone = app.get("/api/v1/changes?since=4").await;
    let problem = gone.problem(410, "gone");
    assert!(
        problem["detail"].as_str().unwrap().contains("full sync"),
        "{problem}"
    );
    app.get("/api/v1/changes?since=5").await.ok(200);
}

#[actix_web::test]
async fn deleting_a_metric_with_its_observations_logs_each_of_them() {
    let app = TestApp::seeded().await;
    app.without_page_blocks().await;
    let token = app.editor();
    let (_, start) = follow(&app, Some(&token), "now").await;
    app.request(
        actix_web::http::Method::DELETE,
        "/api/v1/impact-metrics/women-in-armed-forces?cascade=true",
    )
    .bearer(&token)
    .send()
    .await
    .ok(204);
    let (changes, _) = follow(&app, Some(&token), &start).await;
    let summary = summary(&changes);
    assert_eq!(summary.len(), 4, "{summary:?}");
    assert_eq!(
        summary.last().unwrap(),
        &s("impact_metric", "women-in-armed-forces", "deleted")
    );
    let mut logged: Vec<&str> = changes[..3]
        .iter()
        .map(|c| {
            assert_eq!(c["type"], "observation");
            assert_eq!(c["parent"], "women-in-armed-forces");
            assert_eq!(c["action"], "deleted");
            assert_eq!(c["tombstone"], true);
            c["key"].as_str().unwrap()
        })
        .collect();
    logged.sort_unstable();
    assert_eq!(
        logged,
        [
            "5eed0000-0000-4000-8000-000000000701",
            "5eed0000-0000-4000-8000-000000000702",
            "5eed0000-0000-4000-8000-000000000703"
        ]
    );
}

#[actix_web::test]
async fn after_a_prune_that_empties_the_log_positions_go_on_from_where_they_were() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let head = app.get("/api/v1/changes?since=now").await.ok(200)["meta"]["next"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    assert!(head > 0);
    // An operator prunes everything written before tomorrow: the whole log.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let (pruned, _) =
        seesac_api::features::changes::prune(&mut app.database.connect(), tomorrow).unwrap();
    assert_eq!(pruned, head);
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), 0);
    let still = app.get("/api/v1/changes?since=now").await.ok(200);
    assert_eq!(still["meta"]["next"], head.to_string());

    // The next write comes after the cursor a reader holds, not at position 1.
    app.post(
        &token,
        "/api/v1/pages",
        page("after-the-quiet", "After the quiet"),
    )
    .await
    .ok(201);
    let feed = app
        .get_as(&token, &format!("/api/v1/changes?since={head}"))
        .await
        .ok(200);
    let data = feed["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["key"], "after-the-quiet");
    assert_eq!(data[0]["cursor"], (head + 1).to_string());
}

#[actix_web::test]
async fn a_published_figure_of_a_draft_metric_stays_out_of_the_public_feed() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let since = app.get("/api/v1/changes?since=now").await.ok(200)["meta"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &token,
        "/api/v1/impact-metrics",
        json!({"key": "secret-metric", "label": "Not yet", "category": "overall",
               "unit": "count", "status": "draft"}),
    )
    .await
    .ok(201);
    let figure = json!({"area": "RS", "value": 1, "status": "published"});
    app.post(
        &token,
        "/api/v1/impact-metrics/secret-metric/observations",
        figure,
    )
    .await
    .ok(201);
    let batch = json!({"items": [{"metric": "secret-metric", "area": "ME", "value": 2,
                                  "status": "published"}]});
    app.post(&token, "/api/v1/observations/batch", batch)
        .await
        .ok(200);

    // Anonymous readers learn nothing of it, not even the metric's key.
    let public = app
        .get(&format!("/api/v1/changes?since={since}"))
        .await
        .ok(200);
    assert_eq!(public["data"], json!([]), "{public}");
    // Editors see all three writes.
    let (seen, _) = follow(&app, Some(&token), &since).await;
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|c| c["tombstone"] == false));
}
