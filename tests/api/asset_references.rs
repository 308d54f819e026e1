//! Content uses assets by reference: a funder's logo, a page's image; embedded
//! with `include=`, hidden while a draft, and an asset in use is not deleted.

use awc::http::Method;
use serde_json::{Value, json};

use crate::assets::png;
use crate::helpers::TestApp;

async fn upload(app: &TestApp, token: &str, query: &str) -> Value {
    app.request(Method::POST, &format!("/api/v1/assets?{query}"))
        .bearer(token)
        .header("content-disposition", "attachment; filename=\"logo.png\"")
        .raw("image/png", png(4, 2))
        .send()
        .await
        .ok(201)
}

#[actix_web::test]
async fn a_funders_logo_and_a_pages_image_are_assets() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let logo = upload(
        &app,
        &token,
        "title=EU%20flag&alt=The%20EU%20flag&status=published",
    )
    .await;
    let draft = upload(&app, &token, "title=Draft&alt=Not%20yet").await;
    let (logo_id, draft_id) = (logo["id"].as_str().unwrap(), draft["id"].as_str().unwrap());

    let eu = json!({"slug": "european-union", "name": "European Union", "kind": "multilateral",
                    "status": "published", "logo": logo_id});
    let created = app
        .put(&token, "/api/v1/funders/european-union", eu)
        .await
        .ok(201);
    assert_eq!(created["logo"], logo_id);
    let shown = app
        .get("/api/v1/funders/european-union?include=logo&fields[logo]=url,alt")
        .await
        .ok(200);
    assert_eq!(
        shown["logo_asset"],
        json!({"url": logo["url"], "alt": "The EU flag"})
    );
    let plain = app.get("/api/v1/funders/european-union").await.ok(200);
    assert!(
        plain.get("logo_asset").is_none(),
        "embedded only when asked"
    );

    // A logo must be an asset that exists.
    let unknown = json!({"slug": "undp", "name": "UNDP", "kind": "multilateral",
                         "logo": "5eed0000-0000-4000-8000-00000000ffff"});
    let refused = app.put(&token, "/api/v1/funders/undp", unknown).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.pointers(), ["/logo"]);
    let malformed =
        json!({"slug": "undp", "name": "UNDP", "kind": "multilateral", "logo": "logo.png"});
    let refused = app.put(&token, "/api/v1/funders/undp", malformed).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.pointers(), ["/logo"]);

    // A draft asset is nobody's business but its editors'.
    let page = json!({"slug": "gallery", "title": "Gallery", "body": "Pictures.", "status": "published",
                      "image": draft_id});
    app.put(&token, "/api/v1/pages/gallery", page).await.ok(201);
    let anonymous = app.get("/api/v1/pages/gallery?include=image").await.ok(200);
    assert_eq!(anonymous["image"], Value::Null);
    assert_eq!(anonymous["image_asset"], Value::Null);
    let editor = app
        .request(Method::GET, "/api/v1/pages/gallery?include=image")
        .bearer(&token)
        .send()
        .await
        .ok(200);
    assert_eq!(editor["image"], draft_id);
    assert_eq!(editor["image_asset"]["url"], draft["url"]);

    // An asset in use is not deleted; the answer names what uses it.
    app.request(Method::PATCH, "/api/v1/pages/gallery")
        .bearer(&token)
        .merge_patch(json!({"image": logo_id}))
        .send()
        .await
        .ok(200);
    let in_use = app
        .request(Method::DELETE, &format!("/api/v1/assets/{logo_id}"))
        .bearer(&token)
        .send()
        .await;
    let problem = in_use.problem(409, "conflict");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("the funder european-union (its logo)")
            && detail.contains("the page gallery (its image)"),
        "{detail}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 2);

    for (path, field) in [
        ("/api/v1/funders/european-union", "logo"),
        ("/api/v1/pages/gallery", "image"),
    ] {
        app.request(Method::PATCH, path)
            .bearer(&token)
            .merge_patch(json!({field: null}))
            .send()
            .await
            .ok(200);
    }
    app.request(Method::DELETE, &format!("/api/v1/assets/{logo_id}"))
        .bearer(&token)
        .send()
        .await
        .ok(204);
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 1);
}

#[actix_web::test]
async fn a_council_decisions_document_is_an_asset() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let document = app
        .request(
            Method::POST,
            "/api/v1/assets?title=Council%20Decision%20(CFSP)%202019/2111&status=published",
        )
        .bearer(&token)
        .header(
            "content-disposition",
            "attachment; filename=\"CELEX_32019D2111_EN.pdf\"",
        )
        .raw("application/pdf", pdf.to_vec())
        .send()
        .await
        .ok(201);
    let id = document["id"].as_str().unwrap();
    let decision = "/api/v1/council-decisions/32019D2111";
    let patched = app
        .request(Method::PATCH, decision)
        .bearer(&token)
        .merge_patch(json!({"document": id}))
        .send()
        .await
        .ok(200);
    assert_eq!(patched["document"], id);
    let shown = app
        .get(&format!("{decision}?include=document"))
        .await
        .ok(200);
    assert_eq!(shown["document_asset"]["url"], document["url"]);
    assert_eq!(shown["document_asset"]["media_type"], "application/pdf");
    let listed = app
        .get("/api/v1/council-decisions?include=document&fields[document]=url")
        .await
        .ok(200);
    let with_document: Vec<&Value> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["document"] == id)
        .collect();
    assert_eq!(with_document.len(), 1);
    assert_eq!(
        with_document[0]["document_asset"],
        json!({"url": document["url"]})
    );

    let unknown = app
        .request(Method::PATCH, decision)
        .bearer(&token)
        .merge_patch(json!({"document": "5eed0000-0000-4000-8000-00000000ffff"}))
        .send()
        .await;
    unknown.problem(422, "validation_failed");
    assert_eq!(unknown.pointers(), ["/document"]);

    let in_use = app
        .request(Method::DELETE, &format!("/api/v1/assets/{id}"))
        .bearer(&token)
        .send()
        .await;
    let problem = in_use.problem(409, "conflict");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the Council Decision 32019D2111 (its document)"),
        "{problem}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM council_decisions WHERE document = '{id}'"
        )),
        1
    );
}

#[actix_web::test]
async fn an_asset_in_markdown_is_an_img_with_its_size_and_widths() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let photo = upload(
        &app,
        &token,
        "title=Field%20visit&alt=Deminers&status=published",
    )
    .await;
    let id = photo["id"].as_str().unwrap();
    let body = format!("Clearing a field near Sarajevo.\n\n![Deminers at work](asset:{id})\n");
    let page = json!({"slug": "field-visit", "title": "Field visit", "body": body, "status": "published",
                      "blocks": [{"type": "markdown", "text": format!("![In a block](asset:{id})")}]});
    let created = app
        .put(&token, "/api/v1/pages/field-visit", page)
        .await
        .ok(201);
    let html = created["body_html"].as_str().unwrap();
    for expected in [
        format!("src=\"/assets/{id}\""),
        "alt=\"Deminers at work\"".to_owned(),
        "width=\"4\" height=\"2\"".to_owned(),
        format!("/assets/{id}?w=640&amp;fit=inside 640w"),
        "loading=\"lazy\"".to_owned(),
    ] {
        assert!(html.contains(&expected), "{expected} in {html}");
    }
    assert!(!html.contains("data-asset"), "{html}");
    let shown = app.get("/api/v1/pages/field-visit").await.ok(200);
    let block = shown["blocks"][0]["html"].as_str().unwrap();
    assert!(
        block.contains("width=\"4\" height=\"2\"") && block.contains("alt=\"In a block\""),
        "{block}"
    );

    // A translated body's images have their size too.
    let albanian = json!({"fields": {"body": format!("Pastrimi i një fushe.\n\n![Çminues në punë](asset:{id})")},
                          "status": "published"});
    app.put(
        &token,
        "/api/v1/pages/field-visit/translations/sq",
        albanian,
    )
    .await
    .ok(201);
    let translated = app.get("/api/v1/pages/field-visit?locale=sq").await.ok(200);
    let html = translated["body_html"].as_str().unwrap();
    assert!(
        html.contains("width=\"4\" height=\"2\"") && html.contains("alt=\"Çminues në punë\""),
        "{html}"
    );
    let unknown =
        json!({"fields": {"body": "![Gone](asset:5eed0000-0000-4000-8000-00000000ffff)"}});
    let refused = app
        .put(&token, "/api/v1/pages/field-visit/translations/bs", unknown)
        .await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.pointers(), ["/fields/body"]);

    // The srcset's URLs go to the variant of the bytes the asset has now.
    let found = app.get(&format!("/assets/{id}?w=640&fit=inside")).await;
    assert_eq!(found.status(), 302);
    let location = found.header("location").unwrap();
    assert!(
        location.starts_with(photo["url"].as_str().unwrap()) && location.contains("w=640"),
        "{location}"
    );
    assert_eq!(app.get(&location).await.status(), 200);
    app.get(&format!("/assets/{id}?w=641"))
        .await
        .problem(400, "invalid_request");

    let unknown = json!({"slug": "nowhere", "title": "Nowhere", "status": "published",
                         "body": "![Gone](asset:5eed0000-0000-4000-8000-00000000ffff)"});
    let refused = app.put(&token, "/api/v1/pages/nowhere", unknown).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.pointers(), ["/body"]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'nowhere'"),
        0
    );
}
