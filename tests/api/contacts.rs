//! Contacts and the one primary contact.

use serde_json::json;

use crate::helpers::TestApp;
use crate::pages::futures_join_all;

fn contact(slug: &str, primary: bool) -> serde_json::Value {
    json!({"slug": slug, "name": format!("SEESAC {slug}"), "city": "Belgrade", "country_code": "RS",
           "phone": "+381 11 415 5300", "email": "seesac@undp.org", "primary": primary, "status": "published"})
}

fn primaries(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM contacts WHERE is_primary")
}

#[actix_web::test]
async fn the_belgrade_office_is_the_primary_contact() {
    let app = TestApp::seeded().await;
    let primary = app.get("/api/v1/contact").await.ok(200);
    assert_eq!(primary["slug"], "seesac-belgrade");
    assert_eq!(primary["street_address"], "Bulevar Zorana Đinđića 64");
    assert_eq!(primary["postal_code"], "11000");
    assert_eq!(primary["city"], "Belgrade");
    assert_eq!(primary["phone"], "+381 11 415 5300");
    assert_eq!(primary["email"], "seesac@undp.org");
    assert_eq!(primary["primary"], true);
}

#[actix_web::test]
async fn making_another_contact_primary_demotes_the_old_one() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    app.post(&token, "/api/v1/contacts", contact("brussels", true))
        .await
        .ok(201);
    assert_eq!(primaries(&app), 1);
    assert_eq!(app.get("/api/v1/contact").await.ok(200)["slug"], "brussels");
    let old = app.get("/api/v1/contacts/seesac-belgrade").await.ok(200);
    assert_eq!(old["primary"], false);
    assert_eq!(
        old["version"], 2,
        "the demotion is a write of the old contact"
    );

    app.patch(
        &token,
        "/api/v1/contacts/seesac-belgrade",
        json!({"primary": true}),
    )
    .await
    .ok(200);
    assert_eq!(primaries(&app), 1);
    assert_eq!(
        app.get("/api/v1/contact").await.ok(200)["slug"],
        "seesac-belgrade"
    );
}

#[actix_web::test]
async fn the_primary_contact_cannot_be_unset_or_deleted_while_others_exist() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    app.post(&token, "/api/v1/contacts", contact("brussels", false))
        .await
        .ok(201);
    let unset = app
        .patch(
            &token,
            "/api/v1/contacts/seesac-belgrade",
            json!({"primary": false}),
        )
        .await;
    // The request is fine on its own; it conflicts with which contact is primary.
    unset.problem(422, "validation_failed");
    assert_eq!(unset.pointers(), ["/primary"]);
    app.delete(&token, "/api/v1/contacts/seesac-belgrade")
        .await
        .problem(409, "conflict");
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM contacts WHERE slug = 'seesac-belgrade' AND is_primary"
        ),
        1
    );
    assert_eq!(
        app.delete(&token, "/api/v1/contacts/brussels")
            .await
            .status(),
        204
    );
    assert_eq!(
        app.delete(&token, "/api/v1/contacts/seesac-belgrade")
            .await
            .status(),
        204
    );
    app.get("/api/v1/contact").await.problem(404, "not_found");
}

#[actix_web::test]
async fn the_first_contact_is_primary() {
    let app = TestApp::spawn().await;
    let created = app
        .post(&app.editor(), "/api/v1/contacts", contact("only", false))
        .await
        .ok(201);
    assert_eq!(created["primary"], true);
    assert_eq!(primaries(&app), 1);
}

#[actix_web::test]
async fn a_failed_write_of_a_new_primary_leaves_the_old_one_primary() {
    let app = TestApp::seeded().await;
    let mut bad = contact("brussels", true);
    bad["email"] = json!("not an email");
    bad["phone"] = json!("(+381) 11 415 5300");
    bad["fax"] = json!("011 415 5499");
    bad["country_code"] = json!("YU");
    let response = app.post(&app.editor(), "/api/v1/contacts", bad).await;
    response.problem(422, "validation_failed");
    let mut pointers = response.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/country_code", "/email", "/fax", "/phone"]);
    let mut taken = contact("seesac-belgrade", true);
    taken["name"] = json!("Duplicate");
    app.post(&app.editor(), "/api/v1/contacts", taken)
        .await
        .problem(422, "validation_failed");
    assert_eq!(
        app.get("/api/v1/contact").await.ok(200)["slug"],
        "seesac-belgrade"
    );
    assert_eq!(primaries(&app), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM contacts"), 1);
}

#[actix_web::test]
async fn concurrent_new_primaries_leave_exactly_one() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let writes = (0..10).map(|i| {
        app.post(
            &token,
            "/api/v1/contacts",
            contact(&format!("office-{i}"), true),
        )
    });
    let statuses: Vec<u16> = futures_join_all(writes)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(primaries(&app), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM contacts"), 11);
}
