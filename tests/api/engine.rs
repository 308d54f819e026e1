//! One engine: the registry of kinds agrees with the database, every write is
//! logged once by the database (cascades and side effects too), the feed never
//! rewrites what a reader saw, a restore tells one story with the feed, and the
//! admin resources page like every other.

use std::collections::BTreeSet;

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, page};

/// Every entry after `since` as `token` sees them (anonymous without one), and the
/// cursor to continue from.
async fn feed(app: &TestApp, token: Option<&str>, since: &str) -> (Vec<Value>, String) {
    let path = format!("/api/v1/changes?since={since}&per_page=1000");
    let answer = match token {
        Some(token) => app.get_as(token, &path).await,
        None => app.get(&path).await,
    }
    .ok(200);
    (
        answer["data"].as_array().unwrap().clone(),
        answer["meta"]["next"].as_str().unwrap().to_owned(),
    )
}

async fn head(app: &TestApp) -> String {
    feed(app, None, "now").await.1
}

fn actions(entries: &[Value]) -> Vec<(String, String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["key"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn the_registry_and_the_database_agree() {
    let app = TestApp::spawn().await;
    let registered: BTreeSet<(String, String)> = seesac_api::content::KINDS
        .iter()
        .map(|kind| {
            let d = kind.descriptor();
            (d.kind.to_owned(), d.table.to_owned())
        })
        .collect();
    let mut conn = app.database.connect();
    #[derive(diesel::QueryableByName)]
    struct Kind {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    use diesel::RunQueryDsl;
    let in_database: BTreeSet<(String, String)> =
        diesel::sql_query("SELECT kind, table_name FROM seesac_kinds")
            .load::<Kind>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|k| (k.kind, k.table_name))
            .collect();
    assert_eq!(registered, in_database, "content::KINDS and seesac_kinds");

    // Every registered table carries every trigger the registration installs.
    for (_, table) in &registered {
        for suffix in ["versioning", "log_insert", "log_update", "log_delete"] {
            assert_eq!(
                app.count(&format!(
                    "SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = '{table}'::regclass \
                     AND tgname = '{table}_{suffix}' AND tgenabled <> 'D'"
                )),
                1,
                "{table} has no {suffix} trigger"
            );
        }
    }
    // The change log's type check lists exactly the registered kinds.
    let check = app
        .text(
            "SELECT pg_get_constraintdef(oid) AS value FROM pg_constraint \
             WHERE conname = 'changes_type_check'",
        )
        .unwrap();
    let listed: BTreeSet<String> = check
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    let kinds: BTreeSet<String> = registered.into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(listed, kinds, "{check}");
}

#[actix_web::test]
async fn a_cursor_past_the_head_is_a_400_that_names_the_head() {
    let app = TestApp::seeded().await;
    let head: i64 = head(&app).await.parse().unwrap();
    let past = app
        .get(&format!("/api/v1/changes?since={}", head + 3))
        .await;
    let problem = past.problem(400, "invalid_request");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("head of the change log, {head}")),
        "{detail}"
    );
    assert_eq!(past.pointers(), ["since"]);
    // At the head itself, nothing yet, and the same cursor back.
    let (entries, next) = feed(&app, None, &head.to_string()).await;
    assert!(entries.is_empty());
    assert_eq!(next, head.to_string());
}

#[actix_web::test]
async fn positions_read_once_keep_their_meaning_through_a_delete_and_a_restore() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    let start = head(&app).await;
    let created = app
        .post(
            &editor,
            "/api/v1/pages",
            page("annual-report", "Annual report"),
        )
        .await
        .ok(201);
    let id = created["id"].as_str().unwrap().to_owned();
    for title in ["Annual report 2025", "Annual report, final"] {
        app.patch(
            &editor,
            "/api/v1/pages/annual-report",
            json!({"title": title}),
        )
        .await
        .ok(200);
    }
    assert_eq!(
        app.delete(&editor, "/api/v1/pages/annual-report")
            .await
            .status(),
        204
    );
    let (before, _) = feed(&app, Some(&editor), &start).await;
    assert_eq!(
        actions(&before),
        [
            ("page".into(), "annual-report".into(), "created".into()),
            ("page".into(), "annual-report".into(), "updated".into()),
            ("page".into(), "annual-report".into(), "updated".into()),
            ("page".into(), "annual-report".into(), "deleted".into()),
        ]
    );

    // Restore version 2: the item comes back with its own id, as version 4.
    let restored = app
        .request(
            Method::POST,
            "/api/v1/pages/annual-report/revisions/2/restore",
        )
        .bearer(&editor)
        .send()
        .await
        .ok(201);
    assert_eq!(restored["id"], id.as_str());
    assert_eq!(restored["version"], 4);
    assert_eq!(restored["title"], "Annual report 2025");
    assert_eq!(restored["created_at"], created["created_at"]);

    // The entries read before are unchanged, at the same positions; the restore
    // is a new entry after them.
    let (after, _) = feed(&app, Some(&editor), &start).await;
    assert_eq!(after.len(), 5);
    for (was, is) in before.iter().zip(&after) {
        assert_eq!(was["cursor"], is["cursor"]);
        assert_eq!(was["action"], is["action"]);
        assert_eq!(was["version"], is["version"]);
        assert_eq!(was["id"], is["id"]);
    }
    assert_eq!(after[4]["action"], "created");
    assert_eq!(after[4]["version"], 4);
    assert_eq!(after[4]["id"], id.as_str());
    // Each entry shows its own version's fields, the item being there again.
    assert_eq!(after[0]["item"]["title"], "Annual report");
    assert_eq!(after[1]["item"]["title"], "Annual report 2025");
    assert_eq!(after[4]["item"]["title"], "Annual report 2025");
    assert!(after[3]["item"].is_null(), "a deletion shows no item");

    // Revisions tell the same story: versions 4, 3, 2, 1 of one item.
    let revisions = app
        .get_as(&editor, "/api/v1/pages/annual-report/revisions")
        .await
        .ok(200);
    let versions: Vec<i64> = revisions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [4, 3, 2, 1]);
    assert!(
        revisions["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["item"]["id"] == id.as_str())
    );
}

#[actix_web::test]
async fn a_restore_into_a_key_another_item_holds_is_a_409_that_says_so() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    app.post(&editor, "/api/v1/pages", page("events", "Events"))
        .await
        .ok(201);
    app.patch(
        &editor,
        "/api/v1/pages/events",
        json!({"title": "Our events"}),
    )
    .await
    .ok(200);
    assert_eq!(
        app.delete(&editor, "/api/v1/pages/events").await.status(),
        204
    );
    let other = app
        .post(&editor, "/api/v1/pages", page("events", "Other events"))
        .await
        .ok(201);
    let refused = app
        .request(Method::POST, "/api/v1/pages/events/revisions/2/restore")
        .bearer(&editor)
        .send()
        .await;
    let problem = refused.problem(409, "conflict");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(other["id"].as_str().unwrap()),
        "{problem}"
    );
    let stored = app.get_as(&editor, "/api/v1/pages/events").await.ok(200);
    assert_eq!(stored["title"], "Other events");
}

#[actix_web::test]
async fn renaming_a_funder_logs_a_change_for_every_decision_that_names_it() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let start = head(&app).await;
    let naming =
        app.count("SELECT count(*) AS n FROM council_decisions WHERE funder = 'european-union'");
    assert!(naming > 0);
    app.patch(
        &editor,
        "/api/v1/funders/european-union",
        json!({"slug": "eu"}),
    )
    .await
    .ok(200);
    let (entries, _) = feed(&app, Some(&editor), &start).await;
    let decisions: Vec<&Value> = entries
        .iter()
        .filter(|e| e["type"] == "council_decision")
        .collect();
    assert_eq!(decisions.len() as i64, naming, "{entries:?}");
    assert!(decisions.iter().all(|e| e["action"] == "updated"));
    assert!(decisions.iter().all(|e| e["item"]["funder"] == "eu"));
    let funders = actions(
        &entries
            .iter()
            .filter(|e| e["key"] == "european-union" || e["key"] == "eu")
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        funders,
        [
            ("funder".into(), "european-union".into(), "deleted".into()),
            ("funder".into(), "eu".into(), "created".into()),
        ]
    );
    // The agency under it moved with it too.
    assert!(
        entries
            .iter()
            .any(|e| e["key"] == "european-commission-dg-near" && e["item"]["parent"] == "eu")
    );
}

#[actix_web::test]
async fn a_new_primary_contact_logs_the_demoted_one() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let start = head(&app).await;
    app.post(
        &editor,
        "/api/v1/contacts",
        json!({"slug": "seesac-brussels", "name": "SEESAC Brussels liaison", "primary": true,
               "status": "published"}),
    )
    .await
    .ok(201);
    let (entries, _) = feed(&app, None, &start).await;
    let demoted = entries
        .iter()
        .find(|e| e["key"] == "seesac-belgrade")
        .expect("the demoted contact is in the feed");
    assert_eq!(demoted["action"], "updated");
    assert_eq!(demoted["item"]["primary"], false);
    assert!(
        entries
            .iter()
            .any(|e| e["key"] == "seesac-brussels" && e["item"]["primary"] == true)
    );
}

#[actix_web::test]
async fn publishing_a_metric_brings_its_published_figures_into_the_anonymous_feed() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    app.post(
        &editor,
        "/api/v1/impact-metrics",
        json!({"key": "mines-cleared", "label": "Mines cleared", "category": "disarmament",
               "unit": "count", "status": "draft"}),
    )
    .await
    .ok(201);
    let figure = app
        .post(
            &editor,
            "/api/v1/impact-metrics/mines-cleared/observations",
            json!({"area": "RS", "value": 40, "status": "published"}),
        )
        .await
        .ok(201);
    app.post(
        &editor,
        "/api/v1/impact-metrics/mines-cleared/observations",
        json!({"area": "ME", "value": 3, "status": "draft"}),
    )
    .await
    .ok(201);
    let start = head(&app).await;
    let (none, _) = feed(&app, None, "0").await;
    assert!(none.is_empty(), "nothing public yet: {none:?}");

    app.patch(
        &editor,
        "/api/v1/impact-metrics/mines-cleared",
        json!({"status": "published"}),
    )
    .await
    .ok(200);
    let (public, _) = feed(&app, None, &start).await;
    assert_eq!(
        actions(&public),
        [
            (
                "impact_metric".into(),
                "mines-cleared".into(),
                "created".into()
            ),
            (
                "observation".into(),
                figure["id"].as_str().unwrap().into(),
                "created".into()
            ),
        ],
        "the draft figure stays out"
    );
    assert_eq!(public[1]["item"]["value"], 40);
    assert_eq!(
        public[1]["version"], 1,
        "at its version: it was not written"
    );
    // Editors see why: the figure was published by its metric, not written.
    let (seen, _) = feed(&app, Some(&editor), &start).await;
    assert_eq!(seen[1]["action"], "published");

    // Unpublishing the metric takes it away again.
    let before = head(&app).await;
    app.patch(
        &editor,
        "/api/v1/impact-metrics/mines-cleared",
        json!({"status": "draft"}),
    )
    .await
    .ok(200);
    let (gone, _) = feed(&app, None, &before).await;
    assert_eq!(gone.len(), 2);
    assert!(
        gone.iter()
            .all(|e| e["tombstone"] == true && e["item"].is_null())
    );
}

#[actix_web::test]
async fn a_scheduled_figure_of_a_draft_metric_never_reaches_the_anonymous_feed() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    app.post(
        &editor,
        "/api/v1/impact-metrics",
        json!({"key": "covert-buyback-2027", "label": "Not announced", "category": "disarmament",
               "unit": "count", "status": "draft"}),
    )
    .await
    .ok(201);
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    app.post(
        &editor,
        "/api/v1/impact-metrics/covert-buyback-2027/observations",
        json!({"area": "RS", "value": 120, "status": "published",
               "published_at": soon.to_rfc3339()}),
    )
    .await
    .ok(201);
    // Past its time, and past the scheduler's next rounds.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(3500)).await;
    let (public, _) = feed(&app, None, "0").await;
    assert!(public.is_empty(), "{public:?}");
    let text = serde_json::to_string(&public).unwrap();
    assert!(!text.contains("covert-buyback-2027"));
    app.get("/api/v1/impact-metrics/covert-buyback-2027")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn users_tokens_and_webhooks_page_like_every_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for (name, role) in [("anna", "editor"), ("boris", "editor")] {
        app.post(
            &admin,
            "/api/v1/users",
            json!({"username": name, "password": "a long and unguessable passphrase", "role": role}),
        )
        .await
        .ok(201);
    }
    let total = app.count("SELECT count(*) AS n FROM users");
    let second = app
        .get_as(&admin, "/api/v1/users?per_page=1&page=2&sort=username")
        .await;
    assert!(second.header("link").unwrap().contains("rel=\"next\""));
    let second = second.ok(200);
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["meta"]["page"], 2);
    assert_eq!(second["meta"]["per_page"], 1);
    assert_eq!(second["meta"]["total"], total);
    assert_eq!(
        second["data"][0]["username"], "boris",
        "anna, boris, test-admin"
    );
    assert!(second["data"][0].get("password_hash").is_none());
    let editors = app
        .get_as(&admin, "/api/v1/users?role=editor&fields=username")
        .await
        .ok(200);
    assert_eq!(
        editors["data"],
        json!([{"username": "anna"}, {"username": "boris"}])
    );
    for path in ["/api/v1/tokens?per_page=1", "/api/v1/webhooks?per_page=1"] {
        let list = app.get_as(&admin, path).await.ok(200);
        assert_eq!(list["meta"]["per_page"], 1, "{path}");
    }
    app.get_as(&admin, "/api/v1/users?colour=red")
        .await
        .problem(400, "invalid_request");
}

#[actix_web::test]
async fn the_audit_log_checks_its_filters() {
    let app = TestApp::seeded().await;
    let admin = app.admin();
    let bogus = app.get_as(&admin, "/api/v1/audit?type=bogus").await;
    let problem = bogus.problem(400, "invalid_request");
    let detail = problem["detail"].as_str().unwrap();
    for kind in [
        "page",
        "observation",
        "user",
        "api_token",
        "webhook",
        "partner",
    ] {
        assert!(detail.contains(kind), "{detail}");
    }
    app.get_as(&admin, "/api/v1/audit?actor=admin")
        .await
        .problem(400, "invalid_request");
    let seeded = app
        .get_as(
            &admin,
            "/api/v1/audit?actor=system:seed&type=funder&per_page=1",
        )
        .await
        .ok(200);
    assert_eq!(seeded["meta"]["total"], 13);
}

#[actix_web::test]
async fn an_unknown_parameter_is_named_the_same_way_everywhere() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    for path in [
        "/api/v1/pages?colour=red",
        "/api/v1/pages/mission?colour=red",
        "/api/v1/changes?colour=red",
        "/api/v1/search?q=arms&colour=red",
        "/api/v1/pages/mission/revisions?colour=red",
        "/api/v1/audit?colour=red",
        "/api/v1/users?colour=red",
    ] {
        let problem = app
            .get_as(&app.admin(), path)
            .await
            .problem(400, "invalid_request");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("unknown parameter colour; this request takes "),
            "{path}: {detail}"
        );
    }
    let problem = app
        .request(Method::POST, "/api/v1/observations/batch?colour=red")
        .bearer(&editor)
        .json(json!({"items": []}))
        .send()
        .await
        .problem(400, "invalid_request");
    assert_eq!(
        problem["detail"],
        "unknown parameter colour; this request takes dry_run"
    );
    let problem = app
        .request(Method::POST, "/api/v1/pages?x=1")
        .bearer(&editor)
        .json(page("x", "X"))
        .send()
        .await
        .problem(400, "invalid_request");
    assert_eq!(
        problem["detail"],
        "unknown parameter x: this request takes no parameters"
    );
}
