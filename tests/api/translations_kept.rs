//! The translations an instance keeps in memory (`engine::translated`): a read in
//! a locale shows what its own statement's snapshot has, whoever wrote it, and
//! never another database's.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const WHO: &str = "/api/v1/pages/who-we-are";

/// The title of "Who we are" in `sq` as an item and in a list, read with a token
/// (the database path, not the read cache).
async fn titles(app: &TestApp, token: &str) -> (Value, Value) {
    let item = app.get_as(token, &format!("{WHO}?locale=sq")).await.ok(200);
    let list = app
        .get_as(token, "/api/v1/pages?locale=sq&slug=who-we-are")
        .await
        .ok(200);
    (item["title"].clone(), list["data"][0]["title"].clone())
}

/// Writes the `sq` title of "Who we are" through `app`, with `status`.
async fn translate(app: &TestApp, token: &str, title: &str, status: &str) {
    app.put(
        token,
        &format!("{WHO}/translations/sq"),
        json!({"fields": {"title": title}, "status": status}),
    )
    .await
    .ok(201);
}

#[actix_web::test]
async fn a_translation_changed_in_the_database_shows_in_the_next_read() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let english = app.get(WHO).await.ok(200)["title"].clone();
    // Read once without a translation: the instance keeps that it has none.
    assert_eq!(
        titles(&app, &editor).await,
        (english.clone(), english.clone())
    );
    translate(&app, &editor, "Kush jemi ne", "published").await;
    let written = (json!("Kush jemi ne"), json!("Kush jemi ne"));
    assert_eq!(titles(&app, &editor).await, written);

    // Changed as psql (or an instance of another version) would, not through
    // this instance: its next read shows the change.
    let token = app.text("SELECT token::text AS value FROM translations_token");
    let changed = app.execute(
        "UPDATE translations SET fields = jsonb_set(fields, '{title}', '\"Kush jemi\"') \
         WHERE locale = 'sq'",
    );
    assert_eq!(changed, 1);
    assert_ne!(
        app.text("SELECT token::text AS value FROM translations_token"),
        token,
        "a committed write of translations changes the token"
    );
    let changed = (json!("Kush jemi"), json!("Kush jemi"));
    assert_eq!(titles(&app, &editor).await, changed);
    // Deleted the same way: the English title again, with its fallback said.
    app.execute("DELETE FROM translations WHERE locale = 'sq'");
    assert_eq!(
        titles(&app, &editor).await,
        (english.clone(), english.clone())
    );
    let item = app
        .get_as(&editor, &format!("{WHO}?locale=sq"))
        .await
        .ok(200);
    assert_eq!(item["meta"]["fallbacks"]["title"], "en");
}

#[actix_web::test]
async fn a_second_instance_reads_what_the_first_wrote_at_once() {
    let app = TestApp::seeded().await;
    let second = app.another_instance().await;
    let editor = app.editor();
    let sq = format!("{WHO}/translations/sq");
    translate(&app, &editor, "Kush jemi ne", "published").await;
    let first = (json!("Kush jemi ne"), json!("Kush jemi ne"));
    assert_eq!(titles(&second, &editor).await, first);
    assert_eq!(titles(&app, &editor).await, first);
    // Written on the second, read on the first with no wait.
    let etag = second.get_as(&editor, &sq).await.etag();
    let answer = second
        .request(actix_web::http::Method::PATCH, &sq)
        .bearer(&editor)
        .header("If-Match", &etag)
        .merge_patch(json!({"fields": {"title": "Kush jemi"}}))
        .send()
        .await;
    answer.ok(200);
    let second_write = (json!("Kush jemi"), json!("Kush jemi"));
    assert_eq!(titles(&app, &editor).await, second_write);
    assert_eq!(titles(&second, &editor).await, second_write);
}

#[actix_web::test]
async fn a_draft_translation_kept_for_an_editor_stays_hidden_from_the_public() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    translate(&app, &editor, "Kush jemi ne", "draft").await;
    // The editor's read keeps the draft; an anonymous read in the same instance
    // must not be served it.
    assert_eq!(titles(&app, &editor).await.0, json!("Kush jemi ne"));
    let english = app.get(WHO).await.ok(200)["title"].clone();
    let public = app.get(&format!("{WHO}?locale=sq")).await.ok(200);
    assert_eq!(public["title"], english);
    assert_eq!(public["meta"]["fallbacks"]["title"], "en");
    let list = app
        .get("/api/v1/pages?locale=sq&slug=who-we-are")
        .await
        .ok(200);
    assert_eq!(list["data"][0]["title"], english);
}

#[actix_web::test]
async fn instances_of_two_databases_in_one_process_never_share_translations() {
    let one = TestApp::seeded().await;
    let other = TestApp::seeded().await;
    let (editor_one, editor_other) = (one.editor(), other.editor());
    // The same item id in both, as a copy of one database would have.
    let id = one.text("SELECT id::text AS value FROM pages WHERE slug = 'who-we-are'");
    let id = id.expect("the seed has the page");
    other.without_page_blocks().await;
    // Past the trigger that keeps an item's id (a copy would not go through it).
    diesel::connection::SimpleConnection::batch_execute(
        &mut other.database.connect(),
        &format!(
            "SET session_replication_role = replica; \
             UPDATE pages SET id = '{id}' WHERE slug = 'who-we-are'"
        ),
    )
    .expect("the id is set");
    assert_eq!(
        one.get(WHO).await.ok(200)["id"],
        other.get(WHO).await.ok(200)["id"]
    );
    translate(&one, &editor_one, "Një", "published").await;
    translate(&other, &editor_other, "Tjetër", "published").await;
    // Read in turns: each instance keeps its own database's.
    for _ in 0..3 {
        assert_eq!(
            titles(&one, &editor_one).await,
            (json!("Një"), json!("Një"))
        );
        assert_eq!(
            titles(&other, &editor_other).await,
            (json!("Tjetër"), json!("Tjetër"))
        );
    }
}
