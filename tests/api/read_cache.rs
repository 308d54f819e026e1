//! The read cache: anonymous reads come from it, tokens bypass it, and it is never
//! stale after a writer's answer on the writer's instance, nor for longer than a
//! second on another instance; it is off while its listener is away, and it keeps
//! nothing past a scheduled publication.
//!
//! To see that an answer came from the cache, these tests change the database
//! behind its back: `session_replication_role = replica` skips the triggers that
//! announce changes, so only a cached answer still shows the old value.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::helpers::{TestApp, scheduled_page};

/// Changes a page's title without announcing it (no trigger fires).
fn retitle_quietly(app: &TestApp, slug: &str, title: &str) {
    app.database
        .connect()
        .batch_execute(&format!(
            "SET session_replication_role = replica; \
             UPDATE pages SET title = '{title}' WHERE slug = '{slug}'"
        ))
        .expect("the quiet update runs");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM pages WHERE slug = '{slug}' AND title = '{title}'"
        )),
        1
    );
}

/// Waits until the cache keeps what it serves, and returns what `path` answers and
/// the title `slug` was quietly given. A write's own announcement can reach the
/// listener after `/readyz` said `on` (its thread polls, and a busy machine delays
/// it), and empty the cache once more; so this reads `path`, retitles `slug`
/// quietly, and is done only once a second read still gives the first answer.
async fn settled(app: &TestApp, path: &str, slug: &str) -> (serde_json::Value, String) {
    static QUIET: AtomicUsize = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        app.wait_for_read_cache("on").await;
        let kept = app.get(path).await.ok(200);
        // Never the title it has: the second read must be able to differ.
        let title = format!("Quietly, {}", QUIET.fetch_add(1, Ordering::Relaxed));
        retitle_quietly(app, slug, &title);
        if app.get(path).await.ok(200) == kept {
            return (kept, title);
        }
        assert!(Instant::now() < deadline, "the cache never kept {path}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Changes a page's title as psql would: the triggers announce it.
fn retitle_loudly(app: &TestApp, slug: &str, title: &str) {
    assert_eq!(
        app.execute(&format!(
            "UPDATE pages SET title = '{title}', version = version + 1 WHERE slug = '{slug}'"
        )),
        1
    );
}

#[actix_web::test]
async fn anonymous_reads_come_from_the_cache_and_tokens_bypass_it() {
    let app = TestApp::seeded().await;
    app.wait_for_read_cache("on").await;
    let first = app.get("/api/v1/pages/mission").await;
    let body = first.ok(200);
    let etag = first.etag();
    let list = app.get("/api/v1/pages?sort=slug&per_page=50").await.ok(200);

    retitle_quietly(&app, "mission", "Changed behind its back");

    // The same bytes and ETag, and the 304, come from the cache.
    let again = app.get("/api/v1/pages/mission").await;
    assert_eq!(again.ok(200), body);
    assert_eq!(again.etag(), etag);
    let unchanged = app
        .request(Method::GET, "/api/v1/pages/mission")
        .header("If-None-Match", &etag)
        .send()
        .await;
    assert_eq!(unchanged.status(), 304);
    assert_eq!(unchanged.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        unchanged.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    // The parameters in another order are the same request.
    assert_eq!(
        app.get("/api/v1/pages?per_page=50&sort=slug").await.ok(200),
        list
    );
    // HEAD and a token reach the database: HEAD tags the page as it now is.
    let head = app
        .request(Method::HEAD, "/api/v1/pages/mission")
        .send()
        .await;
    assert_eq!(head.status(), 200);
    assert_ne!(head.etag(), etag);
    let fresh = app.get_as(&app.editor(), "/api/v1/pages/mission").await;
    assert_eq!(fresh.ok(200)["title"], "Changed behind its back");
    assert_eq!(
        fresh.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    // CSV is kept apart from JSON.
    let json = app.get("/api/v1/observations").await;
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let csv = app
        .request(Method::GET, "/api/v1/observations")
        .header("Accept", "text/csv")
        .send()
        .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
}

#[actix_web::test]
async fn a_writer_reads_its_write_at_once() {
    let app = TestApp::seeded().await;
    app.wait_for_read_cache("on").await;
    let editor = app.editor();
    for round in 0..10 {
        let title = format!("Mission, round {round}");
        // Filled (or refilled) before the write.
        let before = app.get("/api/v1/pages/mission").await.ok(200);
        assert_ne!(before["title"], title.as_str());
        let total = app.get("/api/v1/pages").await.ok(200)["meta"]["total"].clone();
        app.patch(&editor, "/api/v1/pages/mission", json!({"title": title}))
            .await
            .ok(200);
        assert_eq!(
            app.get("/api/v1/pages/mission").await.ok(200)["title"],
            title.as_str()
        );
        // Derived answers too: a new child is in its parent's children and in the
        // list's total at once.
        app.post(
            &editor,
            "/api/v1/pages",
            json!({"slug": format!("child-{round}"), "title": format!("Child {round}"),
                   "body": "A child.", "parent": "mission", "status": "published"}),
        )
        .await
        .ok(201);
        let list = app.get("/api/v1/pages").await.ok(200);
        assert_eq!(list["meta"]["total"], total.as_i64().unwrap() + 1);
        let children = app
            .get("/api/v1/pages/mission?include=children")
            .await
            .ok(200)["children"]
            .clone();
        assert!(
            children.to_string().contains(&format!("child-{round}")),
            "{children}"
        );
    }
    // A write refused (4xx) changed nothing, and the cache still serves. A late
    // announcement of the last write can still empty it once between the two reads:
    // then the check runs again, and a refused write that empties the cache fails
    // every round.
    for round in 0.. {
        let (kept, _) = settled(&app, "/api/v1/pages/who-we-are", "who-we-are").await;
        app.patch(&editor, "/api/v1/pages/who-we-are", json!({"title": ""}))
            .await
            .problem(422, "validation_failed");
        if app.get("/api/v1/pages/who-we-are").await.ok(200) == kept {
            break;
        }
        assert!(round < 3, "a refused write emptied the cache");
    }
}

#[actix_web::test]
async fn another_instance_drops_what_a_write_changed_within_a_second() {
    let writer = TestApp::seeded().await;
    let reader = writer.another_instance().await;
    writer.wait_for_read_cache("on").await;
    reader.wait_for_read_cache("on").await;
    let editor = writer.editor();
    for round in 0..5 {
        let title = format!("Mission, written through the other, {round}");
        // The reader keeps the page, its list and a search.
        reader.get("/api/v1/pages/mission").await.ok(200);
        reader.get("/api/v1/pages?sort=title").await.ok(200);
        let search = reader.get("/api/v1/search?q=mission").await.ok(200);
        assert!(!search.to_string().contains(&title));
        writer
            .patch(&editor, "/api/v1/pages/mission", json!({"title": title}))
            .await
            .ok(200);
        let answered = Instant::now();
        // The writer reads its write at once.
        assert_eq!(
            writer.get("/api/v1/pages/mission").await.ok(200)["title"],
            title.as_str()
        );
        // The other instance within a second.
        loop {
            let item = reader.get("/api/v1/pages/mission").await.ok(200);
            let list = reader.get("/api/v1/pages?sort=title").await.ok(200);
            let search = reader.get("/api/v1/search?q=mission").await.ok(200);
            if item["title"] == title.as_str()
                && list.to_string().contains(&title)
                && search.to_string().contains(&title)
            {
                break;
            }
            assert!(
                answered.elapsed() < Duration::from_secs(1),
                "the other instance still shows {} a second after the write",
                item["title"]
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // A change from outside the service (psql, a command line) is announced too.
    reader.get("/api/v1/pages/who-we-are").await.ok(200);
    retitle_loudly(&writer, "who-we-are", "Changed with psql");
    let changed = Instant::now();
    while reader.get("/api/v1/pages/who-we-are").await.ok(200)["title"] != "Changed with psql" {
        assert!(changed.elapsed() < Duration::from_secs(1));
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_web::test]
async fn the_cache_is_off_while_its_listener_is_away_and_comes_back_empty() {
    let app = TestApp::seeded().await;
    app.wait_for_read_cache("on").await;
    app.get("/api/v1/pages/mission").await.ok(200);
    let cut = app.count(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE application_name = 'seesac-api cache listener' AND datname = current_database()",
    );
    assert_eq!(cut, 1, "one listener per instance");
    app.wait_for_read_cache("off").await;
    // Nobody listens: a change that announces nothing is still read at once.
    retitle_quietly(&app, "mission", "While nobody listened");
    assert_eq!(
        app.get("/api/v1/pages/mission").await.ok(200)["title"],
        "While nobody listened"
    );
    app.wait_for_read_cache("on").await;
    assert_eq!(
        app.get("/api/v1/pages/mission").await.ok(200)["title"],
        "While nobody listened"
    );
}

#[actix_web::test]
async fn a_scheduled_publication_appears_on_time() {
    let app = TestApp::seeded().await;
    app.wait_for_read_cache("on").await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(3000);
    let soon = scheduled_page("soon", "Soon", at);
    app.post(&app.editor(), "/api/v1/pages", soon).await.ok(201);
    // Before its time: not there, and the list without it is kept (once the write's
    // own announcement has come, a quiet change does not show).
    let (list, quiet_title) = settled(&app, "/api/v1/pages?per_page=100", "mission").await;
    assert!(
        chrono::Utc::now() < at,
        "the machine was too slow to see the page before its time"
    );
    assert!(!list.to_string().contains("\"soon\""));
    assert_eq!(app.get("/api/v1/pages/soon").await.status(), 404);
    let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
    actix_web::rt::time::sleep(wait + Duration::from_millis(20)).await;
    // From its time on: in the list and readable, at the first read.
    let list = app.get("/api/v1/pages?per_page=100").await.ok(200);
    assert!(list.to_string().contains("\"soon\""), "{list}");
    assert!(list.to_string().contains(&quiet_title));
    app.get("/api/v1/pages/soon").await.ok(200);
}

#[actix_web::test]
async fn with_the_cache_turned_off_every_read_reaches_the_database() {
    let app = TestApp::spawn_with(crate::helpers::Options {
        limits: Some(seesac_api::app::config::ServerLimits {
            read_cache_bytes: 0,
            ..Default::default()
        }),
        seed: true,
        ..Default::default()
    })
    .await;
    app.wait_for_read_cache("disabled").await;
    app.get("/api/v1/pages/mission").await.ok(200);
    retitle_quietly(&app, "mission", "No cache at all");
    assert_eq!(
        app.get("/api/v1/pages/mission").await.ok(200)["title"],
        "No cache at all"
    );
}

#[actix_web::test]
async fn the_metrics_count_hits_misses_and_emptyings() {
    let app = TestApp::spawn_with(crate::helpers::Options {
        metrics: true,
        seed: true,
        ..Default::default()
    })
    .await;
    app.wait_for_read_cache("on").await;
    let value = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
            .parse()
            .unwrap()
    };
    let before = app.metrics_text().await;
    for _ in 0..3 {
        app.get("/api/v1/pages/mission").await.ok(200);
    }
    app.get_as(&app.editor(), "/api/v1/pages/mission")
        .await
        .ok(200);
    let after = app.metrics_text().await;
    assert_eq!(
        value(&after, "seesac_read_cache_misses_total")
            - value(&before, "seesac_read_cache_misses_total"),
        1.0
    );
    assert_eq!(
        value(&after, "seesac_read_cache_hits_total")
            - value(&before, "seesac_read_cache_hits_total"),
        2.0,
        "a token's read is neither"
    );
    // The gauges say the cache is open and holds the answer. A notification from
    // the background (the sequencer's) may close it for a moment after the reads
    // above: wait until it is on again, fill it, then read them.
    app.wait_for_read_cache("on").await;
    app.get("/api/v1/pages/mission").await.ok(200);
    let open = app.metrics_text().await;
    assert_eq!(value(&open, "seesac_read_cache_open"), 1.0);
    assert!(value(&open, "seesac_read_cache_bytes") > 100.0);
    app.patch(
        &app.editor(),
        "/api/v1/pages/mission",
        json!({"title": "Counted"}),
    )
    .await
    .ok(200);
    let emptied = app.metrics_text().await;
    assert!(
        value(&emptied, "seesac_read_cache_emptied_total")
            > value(&after, "seesac_read_cache_emptied_total")
    );
}
