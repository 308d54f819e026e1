//! References to items a caller may not see: null, unfilterable, and a line that
//! stops at them. A published page once said `"parent": "secret-draft"`, and
//! `?parent=secret-draft` confirmed the draft existed.

use serde_json::json;

use crate::helpers::{TestApp, page};

fn published(slug: &str, title: &str) -> serde_json::Value {
    let mut body = page(slug, title);
    body["status"] = json!("published");
    body
}

#[actix_web::test]
async fn a_published_page_under_a_draft_shows_no_parent_and_filters_tell_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    app.post(&editor, "/api/v1/pages", page("secret-draft", "Secret"))
        .await
        .ok(201);
    let mut child = published("child", "Child");
    child["parent"] = json!("secret-draft");
    app.post(&editor, "/api/v1/pages", child).await.ok(201);
    app.post(&editor, "/api/v1/pages", published("top", "Top"))
        .await
        .ok(201);

    let item = app.get("/api/v1/pages/child").await.ok(200);
    assert_eq!(item["parent"], json!(null));
    let list = app.get("/api/v1/pages").await.ok(200);
    let listed: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["slug"].clone(), p["parent"].clone()))
        .collect();
    assert_eq!(
        listed,
        [(json!("child"), json!(null)), (json!("top"), json!(null))]
    );
    for filter in [
        "parent=secret-draft",
        "parent[in]=secret-draft,nothing",
        "parent[gte]=secret",
        "parent[null]=false",
    ] {
        let found = app.get(&format!("/api/v1/pages?{filter}")).await.ok(200);
        assert_eq!(found["meta"]["total"], 0, "{filter}: {found}");
    }
    let top_level = app.get("/api/v1/pages?parent[null]=true").await.ok(200);
    assert_eq!(top_level["meta"]["total"], 2);
    // Nothing in the answer names the draft, however it is asked for.
    for path in [
        "/api/v1/pages/child",
        "/api/v1/pages?sort=-parent",
        "/api/v1/pages?fields=slug,parent",
        "/api/v1/changes",
    ] {
        let body = app.get(path).await.ok(200);
        assert!(!body.to_string().contains("secret-draft"), "{path}: {body}");
    }

    // An editor sees the reference as stored; the database kept it all along.
    let seen = app.get_as(&editor, "/api/v1/pages/child").await.ok(200);
    assert_eq!(seen["parent"], "secret-draft");
    let found = app
        .get_as(&editor, "/api/v1/pages?parent=secret-draft")
        .await
        .ok(200);
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(
        app.text("SELECT parent AS value FROM pages WHERE slug = 'child'")
            .as_deref(),
        Some("secret-draft")
    );

    // Published, the parent shows to everyone.
    app.patch(
        &editor,
        "/api/v1/pages/secret-draft",
        json!({"status": "published"}),
    )
    .await
    .ok(200);
    let item = app.get("/api/v1/pages/child").await.ok(200);
    assert_eq!(item["parent"], "secret-draft");
    let found = app.get("/api/v1/pages?parent=secret-draft").await.ok(200);
    assert_eq!(found["meta"]["total"], 1);
}

#[actix_web::test]
async fn a_line_of_decisions_stops_at_a_draft_and_a_draft_funder_is_null() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    let eu = json!({"slug": "european-union", "name": "European Union", "kind": "multilateral",
                    "status": "published"});
    app.post(&editor, "/api/v1/funders", eu).await.ok(201);
    let hidden = json!({"slug": "hidden-fund", "name": "Hidden Fund", "kind": "multilateral"});
    app.post(&editor, "/api/v1/funders", hidden).await.ok(201);
    let decision = |celex: &str, reference: &str, supersedes: Option<&str>, status: &str| {
        json!({"celex": celex, "reference": reference, "title": format!("Council Decision {reference}"),
               "supersedes": supersedes, "status": status})
    };
    for body in [
        decision("32002D0842", "2002/842/CFSP", None, "published"),
        decision("32003D0807", "2003/807/CFSP", Some("32002D0842"), "draft"),
        decision(
            "32004D0791",
            "2004/791/CFSP",
            Some("32003D0807"),
            "published",
        ),
    ] {
        app.post(&editor, "/api/v1/council-decisions", body)
            .await
            .ok(201);
    }
    let mut funded = decision("32019D2111", "2019/2111", None, "published");
    funded["funder"] = json!("hidden-fund");
    app.post(&editor, "/api/v1/council-decisions", funded)
        .await
        .ok(201);

    let last = app
        .get("/api/v1/council-decisions/32004D0791?include=line")
        .await
        .ok(200);
    assert_eq!(last["supersedes"], json!(null));
    let line: Vec<_> = last["line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["celex"].clone())
        .collect();
    assert_eq!(line, [json!("32004D0791")], "the line stops at the draft");
    let first = app
        .get("/api/v1/council-decisions/32002D0842?include=line")
        .await
        .ok(200);
    assert_eq!(first["line"].as_array().unwrap().len(), 1);
    assert_eq!(first["superseded_by"], json!([]));
    let all = app
        .get("/api/v1/council-decisions?include=line")
        .await
        .ok(200);
    assert!(!all.to_string().contains("32003D0807"), "{all}");
    let found = app
        .get("/api/v1/council-decisions?supersedes=32003D0807")
        .await
        .ok(200);
    assert_eq!(found["meta"]["total"], 0);

    let funded = app
        .get("/api/v1/council-decisions/32019D2111")
        .await
        .ok(200);
    assert_eq!(funded["funder"], json!(null));
    let found = app
        .get("/api/v1/council-decisions?funder=hidden-fund")
        .await
        .ok(200);
    assert_eq!(found["meta"]["total"], 0);
    assert!(
        !app.get("/api/v1/council-decisions")
            .await
            .ok(200)
            .to_string()
            .contains("hidden-fund")
    );

    // An editor walks the whole line, through the draft.
    let seen = app
        .get_as(&editor, "/api/v1/council-decisions/32004D0791?include=line")
        .await
        .ok(200);
    assert_eq!(seen["supersedes"], "32003D0807");
    assert_eq!(seen["line"].as_array().unwrap().len(), 3);
    let seen = app
        .get_as(&editor, "/api/v1/council-decisions/32019D2111")
        .await
        .ok(200);
    assert_eq!(seen["funder"], "hidden-fund");
}

#[actix_web::test]
async fn an_embedded_funder_does_not_name_its_hidden_parent_either() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    let funder = |slug: &str, parent: Option<&str>, status: &str| json!({"slug": slug, "name": slug, "kind": "government", "parent": parent, "status": status});
    for body in [
        funder("hidden-ministry", None, "draft"),
        funder("agency", Some("hidden-ministry"), "published"),
        funder("office", Some("agency"), "published"),
    ] {
        app.post(&editor, "/api/v1/funders", body).await.ok(201);
    }
    for path in [
        "/api/v1/funders/office?include=parent",
        "/api/v1/funders/agency?include=children",
        "/api/v1/funders?include=parent,children",
    ] {
        let body = app.get(path).await.ok(200);
        assert!(
            !body.to_string().contains("hidden-ministry"),
            "{path}: {body}"
        );
    }
    let office = app
        .get("/api/v1/funders/office?include=parent")
        .await
        .ok(200);
    assert_eq!(office["parent"], "agency");
    assert_eq!(office["parent_funder"]["slug"], "agency");
    assert_eq!(office["parent_funder"]["parent"], json!(null));
    let seen = app
        .get_as(&editor, "/api/v1/funders/office?include=parent")
        .await
        .ok(200);
    assert_eq!(seen["parent_funder"]["parent"], "hidden-ministry");
}
