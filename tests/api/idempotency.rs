//! `Idempotency-Key` on every POST: a retry replays the first answer and writes
//! nothing; the same key for another request is a 422, and while the first still
//! runs a 409; keys are the caller's own; a secret is never kept, nor a failure;
//! what a caller keeps is bounded; a replay is for the rights that got it.

use std::time::Duration;

use actix_web::http::Method;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::helpers::{Response, TestApp, page};
use crate::tokens::secret;

async fn post_with_key(app: &TestApp, token: &str, path: &str, key: &str, body: Value) -> Response {
    app.request(Method::POST, path)
        .bearer(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
}

fn pages(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM pages")
}

fn changes(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM changes")
}

#[actix_web::test]
async fn a_retry_with_the_same_key_replays_the_first_answer_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let key = "\"5b1f0e9c-8d4e-4a5b-9f63-2c1d7e0a4b11\"";
    let first = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        key,
        page("mission", "Mission"),
    )
    .await;
    assert_eq!(first.status(), 201);
    assert!(first.header("idempotent-replayed").is_none());
    let (pages_before, changes_before) = (pages(&app), changes(&app));

    let retry = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        key,
        page("mission", "Mission"),
    )
    .await;
    assert_eq!(
        retry.status(),
        201,
        "not a 409 for the slug it created itself"
    );
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(retry.header("content-type"), first.header("content-type"));
    assert_eq!((pages(&app), changes(&app)), (pages_before, changes_before));

    // The bare key (no quotes) is the same key.
    let bare = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        "5b1f0e9c-8d4e-4a5b-9f63-2c1d7e0a4b11",
        page("mission", "Mission"),
    )
    .await;
    assert_eq!(bare.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        app.text("SELECT caller AS value FROM idempotency_keys"),
        Some("user:test-editor".to_owned())
    );
}

#[actix_web::test]
async fn the_same_key_for_another_request_is_a_422_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        "k-1",
        page("mission", "Mission"),
    )
    .await
    .ok(201);
    let before = (pages(&app), changes(&app));
    let other = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        "k-1",
        page("background", "Background"),
    )
    .await;
    other.problem(422, "validation_failed");
    assert_eq!(other.pointers(), ["Idempotency-Key"]);
    assert_eq!((pages(&app), changes(&app)), before);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'background'"),
        0
    );

    // Another path with the same body and key is another request too.
    let elsewhere = post_with_key(
        &app,
        &token,
        "/api/v1/funders",
        "k-1",
        page("mission", "Mission"),
    )
    .await;
    elsewhere.problem(422, "validation_failed");
    assert_eq!(elsewhere.pointers(), ["Idempotency-Key"]);

    // A key that is not visible ASCII is a 400, before anything runs.
    let bad = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        "\u{e9}t\u{e9}",
        page("x", "X"),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(pages(&app), before.0);
}

#[actix_web::test]
async fn keys_are_the_callers_own() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    let admin = app.admin();
    post_with_key(
        &app,
        &editor,
        "/api/v1/pages",
        "shared",
        page("mission", "Mission"),
    )
    .await
    .ok(201);
    // The admin's key of the same text is a different key: their request runs.
    let theirs = post_with_key(
        &app,
        &admin,
        "/api/v1/pages",
        "shared",
        page("background", "Background"),
    )
    .await;
    assert_eq!(theirs.status(), 201);
    assert!(theirs.header("idempotent-replayed").is_none());
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'shared'"),
        2
    );
}

#[actix_web::test]
async fn the_same_key_while_the_first_request_runs_is_a_409() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    // Hold the first request up: it waits for the pages table.
    let mut blocker = app.database.connect();
    blocker
        .batch_execute("BEGIN; LOCK TABLE pages IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let first = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        "slow",
        page("mission", "Mission"),
    );
    let second = async {
        // Once the first has taken the key, a second request with it is a 409.
        let mut taken = false;
        for _ in 0..200 {
            if app.count(
                "SELECT count(*) AS n FROM idempotency_keys WHERE key = 'slow' AND status IS NULL",
            ) == 1
            {
                taken = true;
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(taken, "the first request never took the key");
        let second = post_with_key(
            &app,
            &token,
            "/api/v1/pages",
            "slow",
            page("mission", "Mission"),
        )
        .await;
        blocker.batch_execute("COMMIT").unwrap();
        second
    };
    let (first, second) = futures_util::future::join(first, second).await;
    second.problem(409, "conflict");
    assert!(
        second.json()["detail"]
            .as_str()
            .unwrap()
            .contains("still running")
    );
    assert_eq!(first.status(), 201);
    assert_eq!(pages(&app), 1);
    // Now it is done, a retry replays it.
    let third = post_with_key(
        &app,
        &token,
        "/api/v1/pages",
        "slow",
        page("mission", "Mission"),
    )
    .await;
    assert_eq!(third.status(), 201);
    assert_eq!(third.header("idempotent-replayed").as_deref(), Some("true"));
}

#[actix_web::test]
async fn a_failed_answer_is_not_kept_and_a_secret_is_never_kept() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    // A 422 wrote nothing: it is not kept, and the retry runs again.
    for _ in 0..2 {
        let invalid = post_with_key(
            &app,
            &token,
            "/api/v1/pages",
            "bad",
            json!({"slug": "Not A Slug"}),
        )
        .await;
        invalid.problem(422, "validation_failed");
        assert!(invalid.header("idempotent-replayed").is_none());
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'bad'"),
        0
    );

    // A new API token's secret is shown once: it is not stored for a replay.
    let admin = app.admin();
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let body = json!({"name": "sync job", "scopes": ["observations:write"], "expires_at": expires});
    let created = post_with_key(&app, &admin, "/api/v1/tokens", "token-1", body.clone()).await;
    let created_json = created.ok(201);
    let plain = secret(&created_json);
    assert_eq!(created.header("cache-control").as_deref(), Some("no-store"));
    let retry = post_with_key(&app, &admin, "/api/v1/tokens", "token-1", body).await;
    retry.problem(409, "conflict");
    assert!(
        retry.json()["detail"]
            .as_str()
            .unwrap()
            .contains("GET /api/v1/tokens")
    );
    assert!(!String::from_utf8_lossy(&retry.body).contains(&plain));
    assert_eq!(app.count("SELECT count(*) AS n FROM api_tokens"), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'token-1' AND body IS NULL AND NOT replayable"),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM idempotency_keys WHERE position('{plain}' in convert_from(coalesce(body, ''), 'UTF8')) > 0"
        )),
        0
    );
}

#[actix_web::test]
async fn a_request_without_a_key_or_not_a_post_is_untouched() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    app.post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
    let get = app
        .request(Method::GET, "/api/v1/pages/mission")
        .bearer(&token)
        .header("idempotency-key", "x")
        .send()
        .await;
    assert_eq!(get.status(), 200);
    assert!(get.header("idempotent-replayed").is_none());
    assert_eq!(app.count("SELECT count(*) AS n FROM idempotency_keys"), 0);
    // An anonymous POST with a key gets its 401: there is no caller to keep a key for.
    let anonymous = app
        .request(Method::POST, "/api/v1/pages")
        .header("idempotency-key", "x")
        .json(page("x", "X"))
        .send()
        .await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(app.count("SELECT count(*) AS n FROM idempotency_keys"), 0);
}

/// Forty failed batches of a thousand items keep nothing; answers that wrote are
/// kept up to a size each, and up to a budget per caller, newest first.
#[actix_web::test]
async fn what_a_caller_keeps_is_bounded() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let items: Vec<Value> = (0..1000)
        .map(|n| json!({"metric": "no-such-metric", "area": "RS", "value": n}))
        .collect();
    for n in 0..40 {
        post_with_key(
            &app,
            &editor,
            "/api/v1/observations/batch",
            &format!("batch-{n}"),
            json!({"items": items}),
        )
        .await
        .problem(422, "validation_failed");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM idempotency_keys"), 0);

    // A page of about 300 KB answers more than is kept: its retry says so.
    let mut large = page("large", "Large");
    large["body"] = json!("Words and more words. ".repeat(7_000));
    post_with_key(&app, &editor, "/api/v1/pages", "large", large.clone())
        .await
        .ok(201);
    let retry = post_with_key(&app, &editor, "/api/v1/pages", "large", large).await;
    retry.problem(409, "conflict");
    assert!(
        retry.json()["detail"]
            .as_str()
            .unwrap()
            .contains("more than the 262144 kept")
    );

    // Answers of about 100 KB each, past the caller's 8 MiB: the oldest go.
    for n in 0..100 {
        let mut item = page(&format!("page-{n}"), "A page");
        item["body"] = json!("Words. ".repeat(7_000));
        post_with_key(&app, &editor, "/api/v1/pages", &format!("page-{n}"), item)
            .await
            .ok(201);
    }
    let kept =
        app.count("SELECT coalesce(sum(length(body)), 0)::bigint AS n FROM idempotency_keys");
    assert!(kept <= 8 * 1024 * 1024, "{kept}");
    assert!(kept > 6 * 1024 * 1024, "{kept}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'page-0'"),
        0,
        "the oldest is forgotten"
    );
    let mut newest = page("page-99", "A page");
    newest["body"] = json!("Words. ".repeat(7_000));
    let replayed = post_with_key(&app, &editor, "/api/v1/pages", "page-99", newest).await;
    assert_eq!(replayed.status(), 201);
    assert_eq!(
        replayed.header("idempotent-replayed").as_deref(),
        Some("true")
    );
}

/// An admin demoted to editor replays the creation of a user: the replay is for
/// the rights it had, so the request runs again and is refused.
#[actix_web::test]
async fn a_replay_checks_the_callers_rights_now() {
    let app = TestApp::spawn().await;
    let boss = app.user("boss", seesac_api::platform::auth::Role::Admin);
    let body = json!({"username": "newcomer", "password": "a long and unguessable passphrase",
        "role": "editor"});
    post_with_key(&app, &boss, "/api/v1/users", "hire", body.clone())
        .await
        .ok(201);
    app.patch(
        &app.admin(),
        "/api/v1/users/boss",
        json!({"role": "editor"}),
    )
    .await
    .ok(200);
    // The role change ended the old token; the demoted admin logs in again.
    let demoted = app.user("boss", seesac_api::platform::auth::Role::Editor);
    let replay = post_with_key(&app, &demoted, "/api/v1/users", "hire", body).await;
    replay.problem(403, "forbidden");
    assert!(replay.header("idempotent-replayed").is_none());
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'newcomer'"),
        1
    );
}
