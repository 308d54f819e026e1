//! Partners, managed by admins, and what their tokens may write: observations in
//! their areas and metrics, and only their own.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::tokens::{create_token, secret};

const WOMEN: &str = "/api/v1/impact-metrics/women-in-armed-forces/observations";

fn partner(slug: &str, areas: &[&str], metrics: Option<&[&str]>) -> Value {
    json!({"slug": slug, "name": format!("Partner {slug}"), "country_code": "RS",
           "contact_email": "gender@mod.gov.rs", "areas": areas, "metrics": metrics})
}

fn figure(area: &str, year: i32, value: f64) -> Value {
    json!({"area": area, "period_start": format!("{year}-01-01"), "period_end": format!("{year}-12-31"),
           "value": value, "reported_by": "somebody else", "status": "published"})
}

#[actix_web::test]
async fn only_admins_manage_partners_with_problem_answers_like_every_resource() {
    let app = TestApp::seeded().await;
    let body = partner("mod-rs", &["RS"], Some(&["women-in-armed-forces"]));
    app.get("/api/v1/partners")
        .await
        .problem(401, "unauthorized");
    app.post(&app.editor(), "/api/v1/partners", body.clone())
        .await
        .problem(403, "forbidden");
    app.get_as(&app.editor(), "/api/v1/partners/mod-rs")
        .await
        .problem(403, "forbidden");

    let admin = app.admin();
    let created = app.post(&admin, "/api/v1/partners", body.clone()).await;
    assert_eq!(
        created.header("location").as_deref(),
        Some("/api/v1/partners/mod-rs")
    );
    let created = created.ok(201);
    assert_eq!(created["areas"], json!(["RS"]));
    assert_eq!(created["active"], true);
    assert_eq!(created["version"], 1);
    app.post(&admin, "/api/v1/partners", body.clone())
        .await
        .problem(422, "validation_failed");

    let list = app
        .get_as(&admin, "/api/v1/partners?active=true")
        .await
        .ok(200);
    assert_eq!(list["meta"]["total"], 1);
    let etag = app.get_as(&admin, "/api/v1/partners/mod-rs").await.etag();
    let patched = app
        .request(actix_web::http::Method::PATCH, "/api/v1/partners/mod-rs")
        .bearer(&admin)
        .header("if-match", &etag)
        .merge_patch(json!({"areas": ["RS", "WB"], "metrics": null}))
        .send()
        .await
        .ok(200);
    assert_eq!(patched["areas"], json!(["RS", "WB"]));
    assert!(patched["metrics"].is_null(), "null: every metric");
    app.request(actix_web::http::Method::PATCH, "/api/v1/partners/mod-rs")
        .bearer(&admin)
        .header("if-match", &etag)
        .merge_patch(json!({"active": false}))
        .send()
        .await
        .problem(412, "precondition_failed");

    let invalid = app
        .post(
            &admin,
            "/api/v1/partners",
            json!({"slug": "ngo", "name": "An NGO", "areas": ["RS", "Balkans", "RS"],
                   "contact_email": "not an address"}),
        )
        .await;
    invalid.problem(422, "validation_failed");
    let mut pointers = invalid.pointers();
    pointers.sort();
    // RS twice is RS: the areas are a set.
    assert_eq!(pointers, ["/areas/1", "/contact_email"]);
    let unknown_metric = app
        .post(
            &admin,
            "/api/v1/partners",
            partner("ngo", &["RS"], Some(&["women-in-armed-forces", "nonsense"])),
        )
        .await;
    unknown_metric.problem(422, "validation_failed");
    assert_eq!(unknown_metric.pointers(), ["/metrics/1"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM partners"), 1);

    assert_eq!(
        app.delete(&admin, "/api/v1/partners/mod-rs").await.status(),
        204
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM partners"), 0);
}

#[actix_web::test]
async fn a_renamed_or_deleted_metric_follows_into_partners_lists() {
    let app = TestApp::seeded().await;
    app.without_page_blocks().await;
    let admin = app.admin();
    app.post(
        &admin,
        "/api/v1/partners",
        partner(
            "mod-rs",
            &["RS"],
            Some(&["women-in-armed-forces", "salw-destroyed"]),
        ),
    )
    .await
    .ok(201);
    app.patch(
        &admin,
        "/api/v1/impact-metrics/women-in-armed-forces",
        json!({"key": "women-in-the-armed-forces"}),
    )
    .await
    .ok(200);
    let partner = app.get_as(&admin, "/api/v1/partners/mod-rs").await.ok(200);
    assert_eq!(
        partner["metrics"],
        json!(["women-in-the-armed-forces", "salw-destroyed"])
    );
    app.request(
        actix_web::http::Method::DELETE,
        "/api/v1/impact-metrics/salw-destroyed?cascade=true",
    )
    .bearer(&admin)
    .send()
    .await
    .ok(204);
    let partner = app.get_as(&admin, "/api/v1/partners/mod-rs").await.ok(200);
    assert_eq!(partner["metrics"], json!(["women-in-the-armed-forces"]));
}

#[actix_web::test]
async fn a_partners_token_writes_only_in_its_areas_and_metrics_as_the_partner() {
    let app = TestApp::seeded().await;
    app.post(
        &app.admin(),
        "/api/v1/partners",
        partner("mod-rs", &["RS"], Some(&["women-in-armed-forces"])),
    )
    .await
    .ok(201);
    let created = create_token(&app, &["observations:write"], Some("mod-rs")).await;
    let token = secret(&created);
    let before = app.count("SELECT count(*) AS n FROM observations");

    let written = app
        .post(&token, WOMEN, figure("RS", 2023, 10.0))
        .await
        .ok(201);
    assert_eq!(
        written["reported_by"], "Partner mod-rs",
        "the partner reports, not the body"
    );
    assert_eq!(written["partner"], "mod-rs");
    assert_eq!(
        app.text(&format!(
            "SELECT created_by AS value FROM observations WHERE id = '{}'",
            written["id"].as_str().unwrap()
        )),
        Some(format!("token:{}", created["id"].as_str().unwrap()))
    );

    let outside = app.post(&token, WOMEN, figure("ME", 2023, 9.0)).await;
    let problem = outside.problem(422, "validation_failed");
    assert!(
        problem["detail"].as_str().unwrap().contains("area ME"),
        "{problem}"
    );
    let other_metric = app
        .post(
            &token,
            "/api/v1/impact-metrics/salw-destroyed/observations",
            figure("RS", 2023, 1000.0),
        )
        .await;
    let problem = other_metric.problem(422, "validation_failed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("salw-destroyed"),
        "{problem}"
    );
    // Nor by PUT to an id of its own choosing.
    app.put(
        &token,
        &format!("{WOMEN}/9a1c6e1e-6d0b-4f7e-8c43-0f2b5c6d7e8f"),
        figure("ME", 2024, 9.0),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations"),
        before + 1
    );
    // A person's writes record the person.
    let by_admin = app
        .post(&app.admin(), WOMEN, figure("ME", 2023, 9.0))
        .await
        .ok(201);
    assert!(by_admin["partner"].is_null());
    assert_eq!(by_admin["reported_by"], "somebody else");
    assert_eq!(
        app.text(&format!(
            "SELECT created_by AS value FROM observations WHERE id = '{}'",
            by_admin["id"].as_str().unwrap()
        )),
        Some("user:test-admin".to_owned())
    );
}

#[actix_web::test]
async fn a_partners_token_changes_and_deletes_only_its_partners_observations() {
    let app = TestApp::seeded().await;
    for slug in ["mod-rs", "police-rs"] {
        app.post(
            &app.admin(),
            "/api/v1/partners",
            partner(slug, &["RS", "WB"], None),
        )
        .await
        .ok(201);
    }
    let ours = secret(&create_token(&app, &["observations:write"], Some("mod-rs")).await);
    let theirs = secret(&create_token(&app, &["observations:write"], Some("police-rs")).await);
    let written = app
        .post(&ours, WOMEN, figure("RS", 2023, 10.0))
        .await
        .ok(201);
    let path = format!("{WOMEN}/{}", written["id"].as_str().unwrap());

    // The seed's regional figure is SEESAC's, not the partner's.
    let seeded = format!("{WOMEN}/5eed0000-0000-4000-8000-000000000703");
    let problem = app
        .patch(&ours, &seeded, json!({"note": "ours now"}))
        .await
        .problem(422, "validation_failed");
    assert!(
        problem["detail"].as_str().unwrap().contains("mod-rs"),
        "{problem}"
    );
    app.delete(&ours, &seeded)
        .await
        .problem(422, "validation_failed");
    app.patch(&theirs, &path, json!({"value": 11}))
        .await
        .problem(422, "validation_failed");
    app.delete(&theirs, &path)
        .await
        .problem(422, "validation_failed");

    let changed = app.patch(&ours, &path, json!({"value": 11})).await.ok(200);
    assert_eq!(changed["value"], 11);
    assert_eq!(changed["partner"], "mod-rs");
    assert_eq!(app.delete(&ours, &path).await.status(), 204);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM observations WHERE id = '5eed0000-0000-4000-8000-000000000703' AND note = 'ours now'"),
        0
    );
}

#[actix_web::test]
async fn an_inactive_partners_tokens_stop() {
    let app = TestApp::seeded().await;
    let admin = app.admin();
    app.post(&admin, "/api/v1/partners", partner("mod-rs", &["RS"], None))
        .await
        .ok(201);
    let token = secret(&create_token(&app, &["observations:write"], Some("mod-rs")).await);
    app.post(&token, WOMEN, figure("RS", 2023, 10.0))
        .await
        .ok(201);
    app.patch(&admin, "/api/v1/partners/mod-rs", json!({"active": false}))
        .await
        .ok(200);
    app.post(&token, WOMEN, figure("RS", 2024, 11.0))
        .await
        .problem(401, "unauthorized");
}

/// A partner that had tokens and wrote figures is deleted: its tokens are revoked
/// (and listed still), its figures stay, attributed by name and owned by no
/// partner; a new partner with the same slug gets none of them.
#[actix_web::test]
async fn a_partner_in_use_is_deleted_its_tokens_revoked_and_its_figures_kept() {
    let app = TestApp::seeded().await;
    let admin = app.admin();
    app.post(&admin, "/api/v1/partners", partner("mod-rs", &["RS"], None))
        .await
        .ok(201);
    let created = create_token(&app, &["observations:write"], Some("mod-rs")).await;
    let token = secret(&created);
    let written = app
        .post(&token, WOMEN, figure("RS", 2023, 10.0))
        .await
        .ok(201);
    let path = format!("{WOMEN}/{}", written["id"].as_str().unwrap());

    assert_eq!(
        app.delete(&admin, "/api/v1/partners/mod-rs").await.status(),
        204
    );
    app.get_as(&admin, "/api/v1/partners/mod-rs")
        .await
        .problem(404, "not_found");
    app.post(&token, WOMEN, figure("RS", 2024, 11.0))
        .await
        .problem(401, "unauthorized");
    let revoked = app
        .get_as(
            &admin,
            &format!("/api/v1/tokens/{}", created["id"].as_str().unwrap()),
        )
        .await
        .ok(200);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let kept = app.get_as(&admin, &path).await.ok(200);
    assert_eq!(kept["value"], 10);
    assert_eq!(kept["reported_by"], "Partner mod-rs");
    assert!(kept["partner"].is_null(), "{kept}");
    // The token's audit trail stays: its creation, and its figure's.
    assert!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit WHERE type = 'api_token' AND key = '{}'",
            created["id"].as_str().unwrap()
        )) >= 2
    );

    // A partner of the same slug, later, does not own the old figure.
    app.post(&admin, "/api/v1/partners", partner("mod-rs", &["RS"], None))
        .await
        .ok(201);
    let successor = secret(&create_token(&app, &["observations:write"], Some("mod-rs")).await);
    let refused = app.patch(&successor, &path, json!({"value": 12})).await;
    assert_eq!(refused.status(), 422, "{}", refused.json());
    assert_eq!(app.get_as(&admin, &path).await.ok(200)["value"], 10);
}
