//! Translations follow everything else an item's writes do: the change log and its
//! feed (one entry per item and locale, with its locale), webhooks
//! (`page.translated`), and export and import.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::webhooks::{Receiver, app_with, quick, subscribe, until};

const WHO: &str = "/api/v1/pages/who-we-are";

/// The feed after `since`, as `token` sees it (anonymous if `None`).
async fn feed(app: &TestApp, token: Option<&str>, since: &str) -> Vec<Value> {
    let path = format!("/api/v1/changes?since={since}");
    let answer = match token {
        Some(token) => app.get_as(token, &path).await,
        None => app.get(&path).await,
    };
    answer.ok(200)["data"].as_array().unwrap().clone()
}

async fn head(app: &TestApp) -> String {
    let now = app.get("/api/v1/changes?since=now").await.ok(200);
    now["meta"]["next"].as_str().unwrap().to_owned()
}

/// An entry's locale, action and version, for comparing.
fn summary(entries: &[Value]) -> Vec<(String, String, i64)> {
    entries
        .iter()
        .map(|entry| {
            (
                entry["locale"].as_str().unwrap_or("-").to_owned(),
                entry["action"].as_str().unwrap().to_owned(),
                entry["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn the_feed_has_one_entry_per_translation_write_with_its_locale() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let revisions = app
        .get_as(&editor, &format!("{WHO}/revisions"))
        .await
        .ok(200)["meta"]["total"]
        .clone();
    let since = head(&app).await;
    let sq = format!("{WHO}/translations/sq");
    app.put(
        &editor,
        &sq,
        json!({"fields": {"title": "Kush jemi ne"}, "status": "published"}),
    )
    .await
    .ok(201);
    app.put(
        &editor,
        &format!("{WHO}/translations/hr"),
        json!({"fields": {"title": "Tko smo mi"}, "status": "draft"}),
    )
    .await
    .ok(201);
    app.patch(&editor, &sq, json!({"fields": {"summary": "Përmbledhje"}}))
        .await
        .ok(200);
    // Written as psql would: logged too, as the database's role.
    assert_eq!(
        app.execute(
            "UPDATE translations SET fields = fields || '{\"title\": \"Kush jemi\"}', \
             version = version + 1 WHERE locale = 'sq'"
        ),
        1
    );
    app.delete(&editor, &sq).await.ok(204);

    let everything = feed(&app, Some(&editor), &since).await;
    assert_eq!(
        summary(&everything),
        [
            ("sq".into(), "translated".into(), 1),
            ("hr".into(), "translated".into(), 1),
            ("sq".into(), "translated".into(), 2),
            ("sq".into(), "translated".into(), 3),
            ("sq".into(), "untranslated".into(), 3),
        ]
    );
    let first = &everything[0];
    assert_eq!(first["type"], "page");
    assert_eq!(first["key"], "who-we-are");
    assert_eq!(first["tombstone"], false);
    assert_eq!(
        first["item"],
        json!({"locale": "sq", "status": "published", "fields": {"title": "Kush jemi ne"},
               "source_version": 1, "version": 1})
    );
    assert_eq!(everything[1]["item"]["status"], "draft");
    assert_eq!(everything[3]["item"]["fields"]["title"], "Kush jemi");
    assert!(everything[4]["item"].is_null(), "{}", everything[4]);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM changes WHERE locale = 'sq' AND actor LIKE 'database:%'"
        ),
        1
    );

    // Anonymous readers see the published translation's writes, not the draft's.
    let public = feed(&app, None, &since).await;
    assert_eq!(
        summary(&public),
        [
            ("sq".into(), "translated".into(), 1),
            ("sq".into(), "translated".into(), 2),
            ("sq".into(), "translated".into(), 3),
            ("sq".into(), "untranslated".into(), 3),
        ]
    );
    assert_eq!(public[2]["item"]["fields"]["summary"], "Përmbledhje");
    // The item's own history is the item's: its revisions did not move.
    assert_eq!(
        app.get_as(&editor, &format!("{WHO}/revisions"))
            .await
            .ok(200)["meta"]["total"],
        revisions
    );
}

#[actix_web::test]
async fn a_translation_of_a_draft_page_stays_out_of_the_public_feed() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let mut draft = crate::helpers::page("annual-report", "Annual report");
    draft["status"] = json!("draft");
    app.post(&editor, "/api/v1/pages", draft).await.ok(201);
    let since = head(&app).await;
    app.put(
        &editor,
        "/api/v1/pages/annual-report/translations/sq",
        json!({"fields": {"title": "Raporti vjetor"}, "status": "published"}),
    )
    .await
    .ok(201);
    assert_eq!(feed(&app, None, &since).await, Vec::<Value>::new());
    let seen = feed(&app, Some(&editor), &since).await;
    assert_eq!(summary(&seen), [("sq".into(), "translated".into(), 1)]);
}

#[actix_web::test]
async fn a_subscriber_gets_page_translated_with_the_locale() {
    let app = app_with(quick(Duration::from_secs(30))).await;
    let receiver = Receiver::start(|_| 204);
    subscribe(
        &app,
        &receiver.url(),
        json!(["page.translated", "page.untranslated"]),
    )
    .await;
    // Observations have nothing to translate: no such event.
    app.post(
        &app.admin(),
        "/api/v1/webhooks",
        json!({"url": receiver.url(), "events": ["observation.translated"]}),
    )
    .await
    .problem(422, "validation_failed");
    let editor = app.editor();
    let sq = format!("{WHO}/translations/sq");
    app.put(
        &editor,
        &sq,
        json!({"fields": {"title": "Kush jemi ne"}, "status": "published"}),
    )
    .await
    .ok(201);
    // Not wanted: the page's own update.
    app.patch(&editor, WHO, json!({"summary": "Who we are, in short"}))
        .await
        .ok(200);
    app.delete(&editor, &sq).await.ok(204);
    until("two deliveries", || receiver.received().len() >= 2).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let events: Vec<Value> = receiver.received().iter().map(|r| r.json()).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], "page.translated");
    assert_eq!(events[1]["type"], "page.untranslated");
    let data = &events[0]["data"];
    assert_eq!(data["locale"], "sq");
    assert_eq!(data["key"], "who-we-are");
    assert_eq!(data["version"], 1);
    assert_eq!(data["url"], "/api/v1/pages/who-we-are/translations/sq");
    assert_eq!(data["actor"], "user:test-editor");
}

#[actix_web::test]
async fn a_translation_has_revisions_a_diff_and_a_restore() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let sq = format!("{WHO}/translations/sq");
    app.put(
        &editor,
        &sq,
        json!({"fields": {"title": "Kush jemi ne"}, "status": "published"}),
    )
    .await
    .ok(201);
    let second = app
        .patch(&editor, &sq, json!({"fields": {"title": "Kush jemi"}}))
        .await;
    let etag = second.etag();
    second.ok(200);
    let revisions = app
        .get_as(&editor, &format!("{sq}/revisions"))
        .await
        .ok(200);
    assert_eq!(revisions["meta"]["total"], 2, "{revisions}");
    let (now, before) = (&revisions["data"][0], &revisions["data"][1]);
    assert_eq!(
        (now["version"].as_i64(), now["current"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(before["replaced_by"], "updated");
    assert_eq!(before["item"]["fields"]["title"], "Kush jemi ne");
    assert_eq!(before["author"], "user:test-editor");
    let one = app
        .get_as(&editor, &format!("{sq}/revisions/1"))
        .await
        .ok(200);
    assert_eq!(one["item"]["status"], "published");
    let diff = app
        .get_as(&editor, &format!("{sq}/revisions/1/diff"))
        .await
        .ok(200);
    assert!(
        diff.as_array()
            .unwrap()
            .contains(&json!({"op": "replace", "path": "/fields/title", "value": "Kush jemi"})),
        "{diff}"
    );
    // Anonymous readers and a stale tag are refused; the right tag restores.
    app.request(
        actix_web::http::Method::POST,
        &format!("{sq}/revisions/1/restore"),
    )
    .send()
    .await
    .problem(401, "unauthorized");
    app.request(
        actix_web::http::Method::POST,
        &format!("{sq}/revisions/1/restore"),
    )
    .bearer(&editor)
    .header("if-match", "\"stale\"")
    .send()
    .await
    .problem(412, "precondition_failed");
    let restored = app
        .request(
            actix_web::http::Method::POST,
            &format!("{sq}/revisions/1/restore"),
        )
        .bearer(&editor)
        .header("if-match", &etag)
        .send()
        .await
        .ok(200);
    assert_eq!(
        (
            restored["fields"]["title"].as_str(),
            restored["version"].as_i64()
        ),
        (Some("Kush jemi ne"), Some(3))
    );
    let read = app.get(&format!("{WHO}?locale=sq")).await.ok(200);
    assert_eq!(read["title"], "Kush jemi ne");

    // Deleted, it keeps its revisions, and a restore brings it back at its next
    // version.
    app.delete(&editor, &sq).await.ok(204);
    let kept = app
        .get_as(&editor, &format!("{sq}/revisions"))
        .await
        .ok(200);
    assert_eq!(kept["meta"]["total"], 3);
    assert_eq!(kept["data"][0]["current"], false);
    assert_eq!(kept["data"][0]["replaced_by"], "deleted");
    let back = app
        .request(
            actix_web::http::Method::POST,
            &format!("{sq}/revisions/2/restore"),
        )
        .bearer(&editor)
        .send()
        .await;
    assert_eq!(back.header("location").as_deref(), Some(sq.as_str()));
    let back = back.ok(201);
    assert_eq!(
        (back["fields"]["title"].as_str(), back["version"].as_i64()),
        (Some("Kush jemi"), Some(4))
    );
    app.get_as(&editor, &format!("{sq}/revisions/9"))
        .await
        .problem(404, "not_found");
    app.get_as(&editor, &format!("{WHO}/translations/hr/revisions"))
        .await
        .problem(404, "not_found");
}
