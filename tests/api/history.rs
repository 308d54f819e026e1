//! History: revisions of every content type with diff and restore, and the
//! append-only audit log of every write.

use actix_web::http::Method;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{Value, json};

use crate::binary::{command, run};
use crate::helpers::{TestApp, page};
use crate::tokens::{create_token, secret};

const MISSION: &str = "/api/v1/pages/mission";

fn versions(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn every_write_keeps_the_version_it_replaced_with_its_author_and_a_diff_between_any_two() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let original = app.get_as(&editor, MISSION).await.ok(200);
    app.patch(&editor, MISSION, json!({"title": "Our mission"}))
        .await
        .ok(200);
    app.patch(
        &editor,
        MISSION,
        json!({"summary": "What SEESAC works for."}),
    )
    .await
    .ok(200);
    // The same PATCH again changes nothing: no new version, nothing kept.
    app.patch(
        &editor,
        MISSION,
        json!({"summary": "What SEESAC works for."}),
    )
    .await
    .ok(200);

    let list = app
        .get_as(&editor, &format!("{MISSION}/revisions"))
        .await
        .ok(200);
    assert_eq!(versions(&list), [3, 2, 1]);
    assert_eq!(list["meta"]["total"], 3);
    assert_eq!(list["data"][0]["current"], true);
    assert_eq!(list["data"][0]["author"], "user:test-editor");
    assert_eq!(list["data"][1]["current"], false);
    assert_eq!(list["data"][1]["replaced_by"], "updated");
    assert_eq!(list["data"][1]["author"], "user:test-editor");
    assert_eq!(list["data"][1]["item"]["title"], "Our mission");
    // The seed wrote version 1.
    assert_eq!(list["data"][2]["author"], "system:seed");
    assert_eq!(list["data"][2]["item"]["title"], original["title"]);
    assert_eq!(list["data"][2]["item"]["body"], original["body"]);
    assert!(
        list["data"][2]["item"].get("body_html").is_none(),
        "derived, not kept"
    );
    let paged = app
        .get_as(&editor, &format!("{MISSION}/revisions?per_page=1&page=2"))
        .await
        .ok(200);
    assert_eq!(versions(&paged), [2]);

    let one = app
        .get_as(&editor, &format!("{MISSION}/revisions/1"))
        .await
        .ok(200);
    assert_eq!(one["version"], 1);
    assert_eq!(one["item"]["title"], "Mission");

    let diff = app
        .get_as(&editor, &format!("{MISSION}/revisions/1/diff"))
        .await;
    assert_eq!(
        diff.header("content-type").as_deref(),
        Some("application/json-patch+json")
    );
    let patch = diff.ok(200);
    let ops: Vec<(String, String)> = patch
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            (
                op["op"].as_str().unwrap().to_owned(),
                op["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in ["/title", "/summary", "/version", "/updated_at"] {
        assert!(
            ops.iter().any(|(_, path)| path == expected),
            "{expected} in {patch}"
        );
    }
    // Applied to version 1, the patch gives version 3.
    let mut applied = one["item"].clone();
    let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
    json_patch::patch(&mut applied, &patch).unwrap();
    assert_eq!(applied, list["data"][0]["item"]);
    let back = app
        .get_as(&editor, &format!("{MISSION}/revisions/3/diff?to=2"))
        .await
        .ok(200);
    assert!(
        back.as_array()
            .unwrap()
            .iter()
            .any(|op| op["path"] == "/summary")
    );

    // Unknown versions, parameters and items.
    app.get_as(&editor, &format!("{MISSION}/revisions/9"))
        .await
        .problem(404, "not_found");
    let named = app
        .get_as(&editor, &format!("{MISSION}/revisions/one"))
        .await
        .problem(404, "not_found");
    assert!(
        named["detail"].as_str().unwrap().contains("no version one"),
        "{named}"
    );
    app.get_as(&editor, &format!("{MISSION}/revisions/1/diff?to=0"))
        .await
        .problem(400, "invalid_request");
    app.get_as(&editor, &format!("{MISSION}/revisions?sort=version"))
        .await
        .problem(400, "invalid_request");
    app.get_as(&editor, "/api/v1/pages/no-such-page/revisions")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn revisions_are_for_editors_and_admins_only() {
    let app = TestApp::seeded().await;
    let path = format!("{MISSION}/revisions");
    app.request(Method::GET, &path)
        .send()
        .await
        .problem(401, "unauthorized");
    // A frontend's preview token reads drafts, not history.
    let preview = secret(&create_token(&app, &["content:read"], None).await);
    app.get_as(&preview, &path).await.problem(403, "forbidden");
    app.get_as(&app.admin(), &path).await.ok(200);
    let restore = app
        .request(Method::POST, &format!("{MISSION}/revisions/1/restore"))
        .send()
        .await;
    restore.problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_restore_writes_the_old_content_back_as_a_new_version_under_if_match() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let original = app.get_as(&editor, MISSION).await.ok(200);
    let current = app
        .patch(
            &editor,
            MISSION,
            json!({"title": "Our mission", "position": 7}),
        )
        .await
        .etag();
    let restore = format!("{MISSION}/revisions/1/restore");

    let stale = app
        .request(Method::POST, &restore)
        .bearer(&editor)
        .header("if-match", "\"not-the-tag\"")
        .send()
        .await;
    stale.problem(412, "precondition_failed");
    assert_eq!(
        app.count("SELECT version::bigint AS n FROM pages WHERE slug = 'mission'"),
        2
    );

    let restored = app
        .request(Method::POST, &restore)
        .bearer(&editor)
        .header("if-match", &current)
        .send()
        .await;
    assert_ne!(restored.etag(), current);
    let restored = restored.ok(200);
    assert_eq!(restored["title"], original["title"]);
    assert_eq!(restored["position"], original["position"]);
    assert_eq!(restored["body_html"], original["body_html"]);
    assert_eq!(restored["version"], 3, "a new version, not the old number");
    let list = app
        .get_as(&editor, &format!("{MISSION}/revisions"))
        .await
        .ok(200);
    assert_eq!(versions(&list), [3, 2, 1]);
    // The change log and the audit log saw an ordinary update.
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM changes WHERE type = 'page' AND key = 'mission' \
             AND version = 3 AND action = 'updated'"
        ),
        1
    );
    let audit = app
        .get_as(
            &app.admin(),
            "/api/v1/audit?type=page&key=mission&per_page=1",
        )
        .await
        .ok(200);
    assert_eq!(audit["data"][0]["action"], "updated");
    assert_eq!(audit["data"][0]["version_before"], 2);
    assert_eq!(audit["data"][0]["version_after"], 3);
}

#[actix_web::test]
async fn a_deleted_item_keeps_its_revisions_and_is_restored_under_its_key() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    app.post(
        &editor,
        "/api/v1/pages",
        page("annual-report", "Annual report"),
    )
    .await
    .ok(201);
    app.patch(
        &editor,
        "/api/v1/pages/annual-report",
        json!({"title": "Annual report 2025"}),
    )
    .await
    .ok(200);
    let deleted = app.delete(&editor, "/api/v1/pages/annual-report").await;
    assert_eq!(deleted.status(), 204);

    let list = app
        .get_as(&editor, "/api/v1/pages/annual-report/revisions")
        .await
        .ok(200);
    assert_eq!(versions(&list), [2, 1]);
    assert_eq!(list["data"][0]["replaced_by"], "deleted");
    assert_eq!(list["data"][0]["current"], false);

    let restored = app
        .request(
            Method::POST,
            "/api/v1/pages/annual-report/revisions/2/restore",
        )
        .bearer(&editor)
        .send()
        .await;
    assert_eq!(
        restored.header("location").as_deref(),
        Some("/api/v1/pages/annual-report")
    );
    let restored = restored.ok(201);
    assert_eq!(restored["title"], "Annual report 2025");
    assert_eq!(
        app.get_as(&editor, "/api/v1/pages/annual-report")
            .await
            .ok(200)["title"],
        "Annual report 2025"
    );
}

#[actix_web::test]
async fn a_restore_that_would_break_a_reference_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    app.post(&editor, "/api/v1/pages", page("about", "About"))
        .await
        .ok(201);
    let mut child = page("team", "Team");
    child["parent"] = json!("about");
    app.post(&editor, "/api/v1/pages", child).await.ok(201);
    app.patch(&editor, "/api/v1/pages/team", json!({"parent": null}))
        .await
        .ok(200);
    let gone = app.delete(&editor, "/api/v1/pages/about").await;
    assert_eq!(gone.status(), 204);
    let changes = app.count("SELECT count(*) AS n FROM changes");
    let audit = app.count("SELECT count(*) AS n FROM audit");

    let refused = app
        .request(Method::POST, "/api/v1/pages/team/revisions/1/restore")
        .bearer(&editor)
        .send()
        .await;
    let problem = refused.problem(422, "validation_failed");
    assert!(problem.to_string().contains("/parent"), "{problem}");
    assert_eq!(
        app.count("SELECT version::bigint AS n FROM pages WHERE slug = 'team'"),
        2
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), changes);
    assert_eq!(app.count("SELECT count(*) AS n FROM audit"), audit);
}

#[actix_web::test]
async fn observations_have_revisions_under_their_metric() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let path = "/api/v1/impact-metrics/women-in-armed-forces/observations/5eed0000-0000-4000-8000-000000000703";
    let before = app.get_as(&editor, path).await.ok(200);
    app.patch(&editor, path, json!({"value": 7})).await.ok(200);
    let list = app
        .get_as(&editor, &format!("{path}/revisions"))
        .await
        .ok(200);
    assert_eq!(versions(&list), [2, 1]);
    assert_eq!(list["data"][1]["item"]["value"], before["value"]);
    // Under another metric, the same id names nothing.
    app.get_as(
        &editor,
        "/api/v1/impact-metrics/salw-destroyed/observations/5eed0000-0000-4000-8000-000000000703/revisions",
    )
    .await
    .problem(404, "not_found");
    let restored = app
        .request(Method::POST, &format!("{path}/revisions/1/restore"))
        .bearer(&editor)
        .send()
        .await
        .ok(200);
    assert_eq!(restored["value"], before["value"]);
    assert_eq!(restored["version"], 3);
}

#[actix_web::test]
async fn the_audit_log_records_who_wrote_what_from_where_and_admins_read_it() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let written = app
        .request(Method::PATCH, MISSION)
        .bearer(&editor)
        .header("x-request-id", "audit-test-1")
        .merge_patch(json!({"title": "Our mission"}))
        .send()
        .await;
    written.ok(200);
    // A change made with psql is in the log too, under the database's role.
    app.execute("UPDATE pages SET title = 'Mission' WHERE slug = 'mission'");

    let admin = app.admin();
    let log = app
        .get_as(&admin, "/api/v1/audit?type=page&key=mission")
        .await
        .ok(200);
    let entries = log["data"].as_array().unwrap();
    assert_eq!(log["meta"]["total"], 3, "{log}");
    let by_api = &entries[1];
    assert_eq!(by_api["actor"], "user:test-editor");
    assert_eq!(by_api["action"], "updated");
    assert_eq!(by_api["version_before"], 1);
    assert_eq!(by_api["version_after"], 2);
    assert_eq!(by_api["request_id"], "audit-test-1");
    assert_eq!(by_api["address"], "127.0.0.1");
    assert!(
        by_api["patch"]
            .as_array()
            .unwrap()
            .contains(&json!({"op": "replace", "path": "/title", "value": "Our mission"})),
        "{by_api}"
    );
    assert!(
        entries[0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("database:")
    );
    assert!(entries[0]["request_id"].is_null());
    assert_eq!(entries[2]["action"], "created");
    assert_eq!(entries[2]["actor"], "system:seed");

    let by_editor = app
        .get_as(&admin, "/api/v1/audit?actor=user:test-editor")
        .await
        .ok(200);
    assert_eq!(by_editor["meta"]["total"], 1);
    let future = app
        .get_as(&admin, "/api/v1/audit?since=2999-01-01")
        .await
        .ok(200);
    assert_eq!(future["meta"]["total"], 0);
    // Every write: the change log's of content, the audit table's of the rest.
    let everything = app.get_as(&admin, "/api/v1/audit?per_page=1").await.ok(200);
    assert_eq!(
        everything["meta"]["total"].as_i64().unwrap(),
        app.count(
            "SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM changes \
             WHERE action IN ('created', 'updated', 'deleted')) AS n"
        )
    );

    app.get_as(&editor, "/api/v1/audit")
        .await
        .problem(403, "forbidden");
    app.get_as(&admin, "/api/v1/audit?since=yesterday")
        .await
        .problem(400, "invalid_request");
    app.get_as(&admin, "/api/v1/audit?actor=")
        .await
        .problem(400, "invalid_request");
    app.get_as(&admin, "/api/v1/audit?who=me")
        .await
        .problem(400, "invalid_request");
}

#[actix_web::test]
async fn history_refuses_the_services_role_any_write_of_its_own() {
    let app = TestApp::seeded().await;
    let role = format!("service_{}", uuid::Uuid::new_v4().simple());
    let mut owner = app.database.connect();
    owner
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'service-password'"
        ))
        .unwrap();
    seesac_api::platform::db::grant_rows_to(&mut owner, &role).unwrap();
    let mut url = url::Url::parse(&app.database.url).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(Some("service-password")).unwrap();
    let mut service = PgConnection::establish(url.as_str()).expect("connect as the service");
    // An entry in each log.
    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "ngo", "name": "An NGO"}),
    )
    .await
    .ok(201);
    assert!(app.count("SELECT count(*) AS n FROM audit") > 0);
    let entries = app.count("SELECT count(*) AS n FROM changes");

    // It may not forge, change or delete an entry of the change log (which keeps
    // every version of content) or of the audit log.
    for statement in [
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "INSERT INTO audit (actor, type, key, action, patch) \
         VALUES ('user:admin', 'user', 'x', 'created', '[]')",
        "UPDATE changes SET actor = 'someone else'",
        "DELETE FROM changes",
        "TRUNCATE changes",
        "INSERT INTO changes (type, key, action, version, actor, at) \
         VALUES ('page', 'forged', 'created', 1, 'user:admin', now())",
        "UPDATE changes_head SET position = 0",
        // Nor set the token that tells instances their translations are current.
        "UPDATE translations_token SET token = 0",
    ] {
        let refused = service.batch_execute(statement);
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("permission denied")),
            "{statement}: {refused:?}"
        );
    }
    // It still writes content, and the database logs it.
    service
        .batch_execute("UPDATE pages SET title = 'Mission statement' WHERE slug = 'mission'")
        .unwrap();
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), entries + 1);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM changes WHERE key = 'mission' \
             AND actor = 'database:{role}' AND action = 'updated'"
        )),
        1,
        "the entry is the service role's"
    );
    // It writes translations, and their commit changes the token, which the
    // database sets as its owner.
    let token = app.text("SELECT token::text AS value FROM translations_token");
    service
        .batch_execute(
            "INSERT INTO translations (kind, item_id, locale, fields, source_version, \
             created_by, etag) SELECT 'page', id, 'sq', '{\"title\": \"Misioni\"}', version, \
             'user:admin', 'x' FROM pages WHERE slug = 'mission'",
        )
        .unwrap();
    let changed = app.text("SELECT token::text AS value FROM translations_token");
    assert!(token.is_some() && changed != token, "{token:?} {changed:?}");
    // Not even the owner changes an entry.
    let changed = owner.batch_execute("UPDATE audit SET actor = 'someone else'");
    assert!(
        changed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("append-only")),
        "{changed:?}"
    );
    let changed = owner.batch_execute("UPDATE changes SET actor = 'someone else'");
    assert!(
        changed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("append-only")),
        "{changed:?}"
    );
    // Nor moves a numbered entry, nor changes an entry as it numbers it: only a
    // position given to an unnumbered entry passes the guard.
    app.count("SELECT seesac_number_changes(true) AS n");
    for refused in [
        "UPDATE changes SET position = position + 1000000",
        "UPDATE changes SET position = NULL",
        "BEGIN; UPDATE pages SET title = 'Our mission' WHERE slug = 'mission'; \
         UPDATE changes SET position = 1000000 + seq, item = '{}' WHERE position IS NULL; COMMIT",
    ] {
        let changed = owner.batch_execute(refused);
        assert!(
            changed
                .as_ref()
                .is_err_and(|e| e.to_string().contains("append-only")),
            "{refused}: {changed:?}"
        );
        owner.batch_execute("ROLLBACK").ok();
    }
    owner
        .batch_execute(
            "BEGIN; UPDATE pages SET title = 'Our mission' WHERE slug = 'mission'; \
             UPDATE changes SET position = 1000000 + seq WHERE position IS NULL; ROLLBACK",
        )
        .expect("numbering an unnumbered entry is what the sequencer does");
    drop(service);
    owner
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .unwrap();
}

#[actix_web::test]
async fn audit_prune_deletes_the_history_before_a_date_and_no_more() {
    let app = TestApp::seeded().await;
    app.count("SELECT seesac_number_changes(true) AS n");
    app.execute("ALTER TABLE changes DISABLE TRIGGER changes_append_only");
    app.execute(
        "UPDATE changes SET at = '2020-01-01' \
         WHERE seq IN (SELECT seq FROM changes ORDER BY position LIMIT 5)",
    );
    app.execute("ALTER TABLE changes ENABLE TRIGGER changes_append_only");
    let entries = app.count("SELECT count(*) AS n FROM changes");
    let audited = app.count("SELECT count(*) AS n FROM audit");
    assert!(entries > 5);

    let mut prune = command();
    prune
        .args(["audit", "prune", "--before", "2021-01-01"])
        .env("DATABASE_URL", &app.database.url);
    let output = run(prune, "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("5 entries of the change log"), "{stdout}");
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), entries - 5);
    assert_eq!(app.count("SELECT count(*) AS n FROM audit"), audited);
    // A cursor before what was pruned must start over.
    app.get("/api/v1/changes?since=4")
        .await
        .problem(410, "gone");
    app.get("/api/v1/changes?since=5").await.ok(200);

    let mut bad = command();
    bad.args(["audit", "prune", "--before", "last year"])
        .env("DATABASE_URL", &app.database.url);
    let output = run(bad, "");
    assert!(!output.status.success());
    assert_eq!(app.count("SELECT count(*) AS n FROM changes"), entries - 5);
}

#[actix_web::test]
async fn writes_to_users_tokens_and_webhooks_are_audited_without_their_secrets() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    app.post(
        &admin,
        "/api/v1/users",
        json!({"username": "anna", "password": "a long enough password", "role": "editor"}),
    )
    .await
    .ok(201);
    app.patch(
        &admin,
        "/api/v1/users/anna",
        json!({"password": "another long password"}),
    )
    .await
    .ok(200);
    let token = create_token(&app, &["content:read"], None).await;
    let id = token["id"].as_str().unwrap().to_owned();
    // Using the token moves its last use, which is not a write worth an entry.
    let entries = app.count("SELECT count(*) AS n FROM audit");
    app.get_as(&secret(&token), MISSION).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM audit"), entries);
    let revoked = app.delete(&admin, &format!("/api/v1/tokens/{id}")).await;
    assert_eq!(revoked.status(), 204);
    let hook = app
        .post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.org/seesac", "events": ["*"]}),
        )
        .await
        .ok(201);

    let log = app
        .get_as(&admin, "/api/v1/audit?per_page=100")
        .await
        .ok(200);
    let entries = log["data"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { entries.iter().filter(|e| e["type"] == kind).collect() };
    let users = of("user");
    assert!(
        users
            .iter()
            .all(|e| e["key"] == "anna" || e["key"] == "test-admin")
    );
    let changed = users
        .iter()
        .find(|e| e["key"] == "anna" && e["action"] == "updated")
        .expect("the password change");
    assert_eq!(changed["actor"], "user:test-admin");
    assert_eq!(
        changed["patch"],
        json!([{"op": "replace", "path": "/password", "value": "changed"}])
    );
    assert_eq!(
        changed["version_after"],
        changed["version_before"].as_i64().unwrap() + 1
    );
    let tokens = of("api_token");
    assert_eq!(
        tokens
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["updated", "created"]
    );
    assert!(tokens.iter().all(|e| e["key"] == id.as_str()));
    assert_eq!(of("webhook")[0]["key"], hook["id"]);
    let everything = log.to_string();
    for secret_text in [
        hook["secret"].as_str().unwrap(),
        "$argon2",
        "secret_hash",
        "password_hash",
    ] {
        assert!(
            !everything.contains(secret_text),
            "{secret_text} in the audit log"
        );
    }
}
