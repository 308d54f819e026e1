//! Funders and their tree.

use serde_json::json;

use crate::helpers::TestApp;

fn funder(slug: &str, kind: &str) -> serde_json::Value {
    json!({"slug": slug, "name": slug.replace('-', " "), "kind": kind, "status": "published"})
}

#[actix_web::test]
async fn kinds_country_codes_and_urls_are_checked() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let body = json!({"slug": "bank", "name": "A bank", "kind": "bank", "country_code": "XX",
                      "website": "ftp://bank.example", "logo_url": "not a url"});
    let response = app.post(&token, "/api/v1/funders", body).await;
    response.problem(422, "validation_failed");
    let mut pointers = response.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/country_code", "/kind", "/logo_url", "/website"]
    );

    let mut eu = funder("european-union", "multilateral");
    eu["country_code"] = json!("EU");
    eu["website"] = json!("https://european-union.europa.eu/");
    let created = app.post(&token, "/api/v1/funders", eu).await.ok(201);
    assert_eq!(created["country_code"], "EU");
    assert_eq!(app.count("SELECT count(*) AS n FROM funders"), 1);
}

#[actix_web::test]
async fn a_parent_must_exist_and_the_tree_may_not_loop() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let mut orphan = funder("uk-home-office", "government_agency");
    orphan["parent"] = json!("united-kingdom");
    let missing = app.post(&token, "/api/v1/funders", orphan.clone()).await;
    missing.problem(422, "validation_failed");
    assert_eq!(missing.pointers(), ["/parent"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM funders"), 0);

    app.post(
        &token,
        "/api/v1/funders",
        funder("united-kingdom", "government"),
    )
    .await
    .ok(201);
    app.post(&token, "/api/v1/funders", orphan).await.ok(201);
    let looped = app
        .patch(
            &token,
            "/api/v1/funders/united-kingdom",
            json!({"parent": "uk-home-office"}),
        )
        .await;
    looped.problem(422, "validation_failed");
    assert_eq!(looped.pointers(), ["/parent"]);
    app.patch(
        &token,
        "/api/v1/funders/united-kingdom",
        json!({"parent": "united-kingdom"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM funders WHERE slug = 'united-kingdom' AND parent IS NULL"
        ),
        1
    );

    // A parent with children cannot go.
    app.delete(&token, "/api/v1/funders/united-kingdom")
        .await
        .problem(409, "conflict");
    assert_eq!(app.count("SELECT count(*) AS n FROM funders"), 2);
}

#[actix_web::test]
async fn a_funder_includes_its_parent_and_children() {
    let app = TestApp::seeded().await;
    let uk = app
        .get("/api/v1/funders/united-kingdom?include=children")
        .await
        .ok(200);
    let children: Vec<&str> = uk["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["uk-home-office"]);
    let office = app
        .get("/api/v1/funders/uk-home-office?include=parent")
        .await
        .ok(200);
    assert_eq!(office["parent"], "united-kingdom");
    assert_eq!(office["parent_funder"]["name"], "United Kingdom");
    let top = app
        .get("/api/v1/funders/united-kingdom?include=parent")
        .await
        .ok(200);
    assert!(top["parent_funder"].is_null());
}

#[actix_web::test]
async fn the_funders_are_the_ones_the_organisation_names() {
    let app = TestApp::seeded().await;
    let governments = app
        .get("/api/v1/funders?kind=government&sort=position&fields=name&per_page=100")
        .await
        .ok(200);
    let names: Vec<&str> = governments["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Germany",
            "France",
            "United States of America",
            "Norway",
            "Slovakia",
            "United Kingdom",
            "Sweden",
            "Netherlands"
        ]
    );
    let eu = app.get("/api/v1/funders/european-union").await.ok(200);
    assert_eq!(
        (eu["kind"].as_str(), eu["country_code"].as_str()),
        (Some("multilateral"), Some("EU"))
    );
    for agency in [
        "uk-home-office",
        "us-state-department-wra",
        "european-commission-dg-near",
        "western-balkans-salw-roadmap-mptf",
    ] {
        let funder = app.get(&format!("/api/v1/funders/{agency}")).await.ok(200);
        assert!(
            funder["website"].is_null() && funder["logo_url"].is_null(),
            "nothing invented: {funder}"
        );
    }
    assert_eq!(
        app.get("/api/v1/funders").await.ok(200)["meta"]["total"],
        13
    );
}
