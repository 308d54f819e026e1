//! EU Council Decisions and their line.

use serde_json::json;

use crate::helpers::TestApp;

async fn with_eu() -> TestApp {
    let app = TestApp::spawn().await;
    let eu = json!({"slug": "european-union", "name": "European Union", "kind": "multilateral", "status": "published"});
    app.post(&app.editor(), "/api/v1/funders", eu).await.ok(201);
    app
}

fn decision(celex: &str, reference: &str) -> serde_json::Value {
    json!({"celex": celex, "reference": reference, "title": format!("Council Decision {reference}"), "status": "published"})
}

#[actix_web::test]
async fn the_celex_number_is_checked_and_agrees_with_the_reference() {
    let app = with_eu().await;
    let token = app.editor();
    let bad = app
        .post(
            &token,
            "/api/v1/council-decisions",
            decision("32019R2111", "2019/2111"),
        )
        .await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.pointers(), ["/celex"]);
    let disagreeing = app
        .post(
            &token,
            "/api/v1/council-decisions",
            decision("32019D2111", "2018/1788"),
        )
        .await;
    disagreeing.problem(422, "validation_failed");
    assert_eq!(disagreeing.pointers(), ["/reference"]);
    let unprintable = app
        .post(
            &token,
            "/api/v1/council-decisions",
            decision("32019D2111", "CD 2019-2111"),
        )
        .await;
    assert_eq!(unprintable.pointers(), ["/reference"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM council_decisions"), 0);

    let created = app
        .post(
            &token,
            "/api/v1/council-decisions",
            decision("32004D0791", "2004/791/CFSP"),
        )
        .await
        .ok(201);
    assert_eq!(
        created["eur_lex_url"],
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32004D0791"
    );
    assert_eq!(created["funder"], "european-union");
    assert!(created["adopted_on"].is_null());
    app.post(
        &token,
        "/api/v1/council-decisions",
        decision("32019D2111", "(CFSP) 2019/2111"),
    )
    .await
    .ok(201);
}

#[actix_web::test]
async fn supersedes_names_an_earlier_decision_never_itself_and_never_a_loop() {
    let app = with_eu().await;
    let token = app.editor();
    let mut first = decision("32002D0842", "2002/842/CFSP");
    first["supersedes"] = json!("32001D0001");
    let missing = app.post(&token, "/api/v1/council-decisions", first).await;
    missing.problem(422, "validation_failed");
    assert_eq!(missing.pointers(), ["/supersedes"]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM council_decisions"),
        0,
        "a failed write leaves nothing"
    );

    app.post(
        &token,
        "/api/v1/council-decisions",
        decision("32002D0842", "2002/842/CFSP"),
    )
    .await
    .ok(201);
    let mut second = decision("32003D0807", "2003/807/CFSP");
    second["supersedes"] = json!("32002D0842");
    app.post(&token, "/api/v1/council-decisions", second)
        .await
        .ok(201);
    let mut itself = decision("32010D0179", "2010/179");
    itself["supersedes"] = json!("32010D0179");
    let own = app.post(&token, "/api/v1/council-decisions", itself).await;
    own.problem(422, "validation_failed");
    assert_eq!(own.pointers(), ["/supersedes"]);
    let looped = app
        .patch(
            &token,
            "/api/v1/council-decisions/32002D0842",
            json!({"supersedes": "32003D0807"}),
        )
        .await;
    looped.problem(422, "validation_failed");
    assert_eq!(looped.pointers(), ["/supersedes"]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM council_decisions WHERE supersedes IS NULL"),
        1
    );

    let mut unknown_funder = decision("32018D1788", "2018/1788");
    unknown_funder["funder"] = json!("nobody");
    app.post(&token, "/api/v1/council-decisions", unknown_funder)
        .await
        .problem(422, "validation_failed");
    app.delete(&token, "/api/v1/council-decisions/32002D0842")
        .await
        .problem(409, "conflict");
}

#[actix_web::test]
async fn a_reader_can_walk_the_line_of_decisions_both_ways() {
    let app = TestApp::seeded().await;
    let middle = app
        .get("/api/v1/council-decisions/32013D0730")
        .await
        .ok(200);
    assert_eq!(middle["supersedes"], "32010D0179");
    assert_eq!(middle["superseded_by"], json!(["32016D2356"]));
    let newest = app
        .get("/api/v1/council-decisions/32019D2111?include=line")
        .await
        .ok(200);
    assert_eq!(newest["superseded_by"], json!([]));
    let line: Vec<&str> = newest["line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["celex"].as_str().unwrap())
        .collect();
    let whole = [
        "32002D0842",
        "32003D0807",
        "32004D0791",
        "32010D0179",
        "32013D0730",
        "32016D2356",
        "32019D2111",
    ];
    assert_eq!(line, whole);
    let from_the_middle = app
        .get("/api/v1/council-decisions/32010D0179?include=line")
        .await
        .ok(200);
    let line: Vec<&str> = from_the_middle["line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["celex"].as_str().unwrap())
        .collect();
    assert_eq!(line, whole);
    let alone = app
        .get("/api/v1/council-decisions/32018D1788?include=line")
        .await
        .ok(200);
    assert_eq!(alone["line"].as_array().unwrap().len(), 1);
    assert_eq!(alone["reference"], "2018/1788");
    assert!(
        alone["adopted_on"].is_null(),
        "the seed gives no date: none is invented"
    );
}

#[actix_web::test]
async fn a_draft_decision_does_not_show_in_the_line_of_a_published_one() {
    let app = with_eu().await;
    let token = app.editor();
    app.post(
        &token,
        "/api/v1/council-decisions",
        decision("32002D0842", "2002/842/CFSP"),
    )
    .await
    .ok(201);
    let mut draft = decision("32003D0807", "2003/807/CFSP");
    draft["supersedes"] = json!("32002D0842");
    draft["status"] = json!("draft");
    app.post(&token, "/api/v1/council-decisions", draft)
        .await
        .ok(201);
    let public = app
        .get("/api/v1/council-decisions/32002D0842?include=line")
        .await
        .ok(200);
    assert_eq!(public["superseded_by"], json!([]));
    assert_eq!(public["line"].as_array().unwrap().len(), 1);
    let editor = app
        .get_as(&token, "/api/v1/council-decisions/32002D0842?include=line")
        .await
        .ok(200);
    assert_eq!(editor["superseded_by"], json!(["32003D0807"]));
}
