//! `seesac-api export` and `seesac-api import`: all content as one document, loaded
//! back in one transaction, validated, idempotent, and identical on a round trip;
//! an import that replaces; an export that never makes the database it exports; an
//! instance started without the sample content.

use serde_json::{Value, json};

use std::time::Duration;

use crate::binary::{Served, TempDir, command, run};
use crate::helpers::{TestApp, TestDatabase, page};

fn export(url: &str) -> String {
    let mut export = command();
    export.arg("export").env("DATABASE_URL", url);
    let output = run(export, "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Imports `document`; the exit status, standard output and standard error.
fn import(url: &str, document: &str) -> (bool, String, String) {
    import_with(url, document, &[])
}

fn import_with(url: &str, document: &str, options: &[&str]) -> (bool, String, String) {
    let temp = TempDir::new();
    let file = temp.0.join("content.json");
    std::fs::write(&file, document).unwrap();
    let mut import = command();
    import
        .arg("import")
        .arg(&file)
        .args(options)
        .env("DATABASE_URL", url);
    let output = run(import, "");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn count(database: &TestDatabase, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Count>(&mut database.connect())
        .unwrap()
        .n
}

/// The seed, and items in every status: a draft, a scheduled and an archived page,
/// a partner's figure.
async fn varied_content() -> TestApp {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let mut draft = page("draft-notes", "Draft notes");
    draft["status"] = json!("draft");
    draft["parent"] = json!("who-we-are");
    app.post(&editor, "/api/v1/pages", draft).await.ok(201);
    let mut scheduled = page("coming-soon", "Coming soon");
    scheduled["status"] = json!("published");
    scheduled["published_at"] = json!("2031-01-01T08:00:00Z");
    app.post(&editor, "/api/v1/pages", scheduled).await.ok(201);
    app.patch(
        &editor,
        "/api/v1/pages/background",
        json!({"status": "archived"}),
    )
    .await
    .ok(200);
    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "mod-rs", "name": "MoD Serbia", "areas": ["RS"], "metrics": ["women-in-armed-forces"]}),
    )
    .await
    .ok(201);
    app.post(
        &editor,
        "/api/v1/impact-metrics/women-in-armed-forces/observations",
        json!({"area": "RS", "period_start": "2024-01-01", "period_end": "2024-12-31", "value": 10.5,
               "status": "published", "note": "=1+1, a cell that looks like a formula"}),
    )
    .await
    .ok(201);
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE observations SET partner = 'mod-rs' WHERE area = 'RS'"),
        &mut app.database.connect(),
    )
    .unwrap();
    // Translations: a published one with Markdown, and a draft.
    app.put(
        &editor,
        "/api/v1/pages/who-we-are/translations/sq",
        json!({"fields": {"title": "Kush jemi ne", "body": "SEESAC *punon*"}, "status": "published"}),
    )
    .await
    .ok(201);
    app.put(
        &editor,
        "/api/v1/pages/mission/translations/hr",
        json!({"fields": {"title": "Misija"}, "status": "draft"}),
    )
    .await
    .ok(201);
    app
}

#[actix_web::test]
async fn an_export_imported_into_an_empty_database_exports_identically() {
    let app = varied_content().await;
    let first = export(&app.database.url);
    let document: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(document["format"], "seesac-api/export");
    let statuses: Vec<&str> = document["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"draft") && statuses.contains(&"archived"));
    assert_eq!(document["partners"][0]["slug"], "mod-rs");
    assert!(
        document["pages"][0].get("body_html").is_none(),
        "derived, not exported"
    );
    let translations = document["translations"].as_array().unwrap();
    assert_eq!(translations.len(), 2, "{translations:?}");
    let albanian = translations.iter().find(|t| t["locale"] == "sq").unwrap();
    assert_eq!(
        albanian["fields"],
        json!({"title": "Kush jemi ne", "body": "SEESAC *punon*"}),
        "the HTML is derived, not exported"
    );
    assert!(albanian.get("etag").is_none());
    // No secrets, nor the people and machines that hold them.
    for absent in [
        "password_hash",
        "secret_hash",
        "\"users\"",
        "\"api_tokens\"",
    ] {
        assert!(!first.contains(absent), "{absent} in the export");
    }

    let empty = TestDatabase::new();
    let (ok, out, err) = import(&empty.url, &first);
    assert!(ok, "{err}");
    assert!(out.contains("pages: 10 created"), "{out}");
    assert!(out.contains("translations: 2 created"), "{out}");
    // Analysed at once, not when autovacuum gets to them: reads plan by it.
    assert_eq!(
        count(
            &empty,
            "SELECT count(*) AS n FROM pg_stat_user_tables \
             WHERE relname IN ('pages', 'translations', 'impact_metrics', 'observations') \
               AND last_analyze IS NOT NULL"
        ),
        4,
        "the tables it wrote are analysed"
    );
    let second = export(&empty.url);
    assert_eq!(second, first, "the round trip changes nothing");
    assert_eq!(
        count(
            &empty,
            "SELECT count(*) AS n FROM translations \
             WHERE fields ->> 'body_html' = E'<p>SEESAC <em>punon</em></p>\\n'"
        ),
        1,
        "the HTML is derived again"
    );
    assert_eq!(
        count(
            &empty,
            "SELECT count(*) AS n FROM changes WHERE action = 'translated' AND actor = 'system:import'"
        ),
        2
    );

    // Derived columns are derived again; the change log has every item as created.
    assert_eq!(
        count(
            &empty,
            "SELECT count(*) AS n FROM pages WHERE body_html = '' AND body <> ''"
        ),
        0
    );
    let items = count(
        &app.database,
        "SELECT (SELECT count(*) FROM pages) + (SELECT count(*) FROM funders) \
        + (SELECT count(*) FROM council_decisions) + (SELECT count(*) FROM impact_metrics) \
        + (SELECT count(*) FROM observations) + (SELECT count(*) FROM contacts) AS n",
    );
    assert_eq!(
        count(
            &empty,
            "SELECT count(*) AS n FROM changes WHERE action = 'created' AND actor = 'system:import'"
        ),
        items
    );

    // Again: idempotent. Nothing created, nothing changed, nothing logged.
    let changes = count(&empty, "SELECT count(*) AS n FROM changes");
    let (ok, out, err) = import(&empty.url, &first);
    assert!(ok, "{err}");
    assert!(
        out.contains("pages: 0 created, 0 updated, 10 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("translations: 0 created, 0 updated, 2 unchanged"),
        "{out}"
    );
    assert_eq!(count(&empty, "SELECT count(*) AS n FROM changes"), changes);
    assert_eq!(export(&empty.url), first);
}

#[actix_web::test]
async fn an_import_into_an_existing_database_updates_what_differs_as_a_new_version() {
    let app = varied_content().await;
    let mut document: Value = serde_json::from_str(&export(&app.database.url)).unwrap();
    let pages = document["pages"].as_array_mut().unwrap();
    let mission = pages.iter_mut().find(|p| p["slug"] == "mission").unwrap();
    let version = mission["version"].as_i64().unwrap();
    mission["title"] = json!("Our mission");
    let translations = document["translations"].as_array_mut().unwrap();
    let croatian = translations
        .iter_mut()
        .find(|t| t["locale"] == "hr")
        .unwrap();
    croatian["fields"]["title"] = json!("Naša misija");
    let (ok, out, err) = import(&app.database.url, &document.to_string());
    assert!(ok, "{err}");
    assert!(
        out.contains("pages: 0 created, 1 updated, 9 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("translations: 0 created, 1 updated, 1 unchanged"),
        "{out}"
    );
    let croatian = app
        .get_as(&app.editor(), "/api/v1/pages/mission/translations/hr")
        .await
        .ok(200);
    assert_eq!(
        (
            croatian["fields"]["title"].as_str(),
            croatian["version"].as_i64()
        ),
        (Some("Naša misija"), Some(2))
    );
    let stored = app.get("/api/v1/pages/mission").await.ok(200);
    assert_eq!(stored["title"], "Our mission");
    assert_eq!(stored["version"], version + 1);
    let feed = app
        .get("/api/v1/changes?since=0&type=page&per_page=1000")
        .await
        .ok(200);
    let last = feed["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["key"].as_str(), last["action"].as_str()),
        (Some("mission"), Some("updated"))
    );
}

#[actix_web::test]
async fn an_invalid_document_writes_nothing_and_names_every_bad_item() {
    let app = varied_content().await;
    let mut document: Value = serde_json::from_str(&export(&app.database.url)).unwrap();
    document["pages"][1]["slug"] = json!("Not A Slug");
    document["observations"][0]["value"] = json!("six");
    document["council_decisions"][0]["celex"] = json!("2019/2111");
    let empty = TestDatabase::new();
    let (ok, _, err) = import(&empty.url, &document.to_string());
    assert!(!ok);
    assert!(err.contains("nothing was imported"), "{err}");
    for pointer in [
        "/pages/1/slug",
        "/observations/0/value",
        "/council_decisions/0/celex",
    ] {
        assert!(err.contains(pointer), "{pointer} not named in: {err}");
    }
    assert_eq!(count(&empty, "SELECT count(*) AS n FROM pages"), 0);
    assert_eq!(count(&empty, "SELECT count(*) AS n FROM changes"), 0);

    // A loop through parents breaks no single item, but the whole: refused too.
    let mut looped: Value = serde_json::from_str(&export(&app.database.url)).unwrap();
    let pages = looped["pages"].as_array_mut().unwrap();
    for page in pages.iter_mut() {
        if page["slug"] == "who-we-are" {
            page["parent"] = json!("mission");
        }
    }
    let (ok, _, err) = import(&empty.url, &looped.to_string());
    assert!(!ok);
    assert!(err.contains("loop"), "{err}");
    assert_eq!(count(&empty, "SELECT count(*) AS n FROM pages"), 0);

    // A block naming what neither the file nor the database holds: refused too.
    let mut unnamed: Value = serde_json::from_str(&export(&app.database.url)).unwrap();
    for page in unnamed["pages"].as_array_mut().unwrap() {
        if page["slug"] == "who-we-are" {
            page["blocks"] = json!([{"type": "metrics", "metrics": ["no-such-metric"]}]);
        }
    }
    let (ok, _, err) = import(&empty.url, &unnamed.to_string());
    assert!(!ok);
    assert!(err.contains("/pages/blocks"), "{err}");
    assert_eq!(count(&empty, "SELECT count(*) AS n FROM pages"), 0);

    // A file that is not an export at all.
    let (ok, _, err) = import(&empty.url, "{\"pages\": []}");
    assert!(!ok);
    assert!(err.contains("/format"), "{err}");
    let (ok, _, err) = import(&empty.url, "not json");
    assert!(!ok);
    assert!(err.contains("not JSON"), "{err}");
}

/// The ids of a table, in order.
fn ids(database: &TestDatabase, table: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    diesel::sql_query(format!("SELECT id::text AS id FROM {table} ORDER BY id"))
        .load::<Id>(&mut database.connect())
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect()
}

/// A's export into B, which has the sample content, a partner of the same slug
/// as A's and a page of its own: refused as a merge, in our words; with
/// `--replace`, B ends with exactly A's items, and its change log says what went.
#[actix_web::test]
async fn an_import_that_replaces_makes_a_seeded_instance_equal_to_the_file() {
    let app = varied_content().await;
    let document = export(&app.database.url);
    let other = TestDatabase::new();
    {
        let mut conn = other.connect();
        seesac_api::app::seed::load(&mut conn).unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            "INSERT INTO partners (slug, name, areas) VALUES ('mod-rs', 'Ministry of Defence', '{RS}'); \
             INSERT INTO pages (slug, title, body) VALUES ('only-here', 'Only here', ''); \
             INSERT INTO translations (kind, item_id, locale, source_version, created_by, etag) \
             SELECT 'page', id, 'uk', 1, 'psql', 'e' FROM pages WHERE slug = 'only-here'",
        )
        .unwrap();
    }
    let (ok, _, err) = import(&other.url, &document);
    assert!(!ok);
    assert!(
        err.contains("another partner has the slug mod-rs already"),
        "{err}"
    );
    assert!(
        !err.contains("partners_slug_key") && !err.contains("Key ("),
        "{err}"
    );

    let (ok, out, err) = import_with(&other.url, &document, &["--replace"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 deleted"), "{out}");
    for table in [
        "partners",
        "pages",
        "funders",
        "council_decisions",
        "impact_metrics",
        "observations",
        "contacts",
        "translations",
    ] {
        assert_eq!(ids(&other, table), ids(&app.database, table), "{table}");
    }
    assert_eq!(
        count(
            &other,
            "SELECT count(*) AS n FROM changes WHERE key = 'only-here' AND action = 'deleted' \
             AND actor = 'system:import'"
        ),
        1
    );

    // A file without a section would empty that table: a replace refuses it.
    let mut partial: Value = serde_json::from_str(&document).unwrap();
    partial.as_object_mut().unwrap().remove("contacts");
    let (ok, _, err) = import_with(&other.url, &partial.to_string(), &["--replace"]);
    assert!(!ok);
    assert!(err.contains("/contacts"), "{err}");
    assert_eq!(ids(&other, "contacts"), ids(&app.database, "contacts"));
}

/// A backup run from the wrong directory fails and names where it looked; it does
/// not make a database to export.
#[test]
fn export_refuses_a_data_directory_without_a_database_and_creates_nothing() {
    let temp = TempDir::new();
    let mut export = command();
    export.arg("export").current_dir(&temp.0);
    let output = run(export, "");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("there is no database in"), "{err}");
    assert!(
        err.contains(&temp.0.join("data").display().to_string()),
        "{err}"
    );
    assert!(!temp.0.join("data").exists());

    let elsewhere = temp.0.join("elsewhere");
    let mut prune = command();
    prune
        .args(["audit", "prune", "--before", "2020-01-01"])
        .env("SEESAC_DATA_DIR", &elsewhere);
    let output = run(prune, "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no database"));
    assert!(!elsewhere.exists());
}

/// `serve --no-sample`: the admin, no content; its export then is empty.
#[actix_web::test]
async fn an_instance_started_without_the_sample_content_has_an_admin_and_no_content() {
    let temp = TempDir::new();
    let data = temp.0.join("data");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut serve = command();
    serve
        .args(["serve", "--no-sample"])
        .env("SEESAC_DATA_DIR", &data);
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    let mut pages = client
        .get(format!("{}/api/v1/pages", served.address))
        .send()
        .await
        .unwrap();
    let pages: Value = pages.json().await.unwrap();
    assert_eq!(pages["meta"]["total"], 0);
    let password = std::fs::read_to_string(data.join("admin-password")).unwrap();
    let login = client
        .post(format!("{}/api/v1/auth/token", served.address))
        .send_json(&json!({"username": "admin", "password": password.trim()}))
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    served.terminate();

    let mut export = command();
    export.arg("export").env("SEESAC_DATA_DIR", &data);
    let output = run(export, "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["pages"], json!([]));
    assert_eq!(document["partners"], json!([]));
}

#[actix_web::test]
async fn a_replacing_import_takes_back_blocks_that_named_what_the_file_lacks() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let mut document: Value = serde_json::from_str(&export(&app.database.url)).unwrap();
    // A file's block is stored as a write stores it: what a read adds, and nulls,
    // are not kept.
    for page in document["pages"].as_array_mut().unwrap() {
        if page["slug"] == "mission" {
            page["blocks"] = json!([{"type": "metrics", "category": "awareness", "metrics": null,
                                     "items": [{"key": "salw-destroyed"}]}]);
        }
    }
    // After the export, a new metric that the "Who we are" page names.
    let mut metric = app
        .get_as(&editor, "/api/v1/impact-metrics/salw-destroyed")
        .await
        .ok(200);
    metric["key"] = json!("salw-collected");
    app.post(&editor, "/api/v1/impact-metrics", metric)
        .await
        .ok(201);
    let mut page = app
        .get_as(&editor, "/api/v1/pages/who-we-are")
        .await
        .ok(200);
    page["blocks"][1]["metrics"] = json!(["salw-collected"]);
    app.put(&editor, "/api/v1/pages/who-we-are", page)
        .await
        .ok(200);

    let (ok, _, err) = import_with(&app.database.url, &document.to_string(), &["--replace"]);
    assert!(ok, "{err}");
    let key = |sql: &str| count(&app.database, sql);
    assert_eq!(
        key("SELECT count(*) AS n FROM impact_metrics WHERE key = 'salw-collected'"),
        0
    );
    assert_eq!(
        key("SELECT count(*) AS n FROM page_block_refs WHERE metric = 'salw-destroyed'"),
        1
    );
    let mission = app.get_as(&editor, "/api/v1/pages/mission").await.ok(200);
    assert_eq!(
        mission["blocks"],
        json!([{"type": "metrics", "category": "awareness"}])
    );
}
