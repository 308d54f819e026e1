//! Page blocks: a page says what it shows, and a reader gets all of it in one
//! request (`include=blocks`), with visibility, nested fieldsets, references the
//! database keeps true, and versions like every other field.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, page};

const WHO_WE_ARE: &str = "/api/v1/pages/who-we-are";

const METRICS: [&str; 10] = [
    "salw-coordination-mechanisms",
    "firearms-focal-points",
    "salw-destroyed",
    "storage-sites-secured",
    "evidence-rooms-secured",
    "military-gender-awareness",
    "women-in-armed-forces",
    "salw-awareness-campaigns",
    "people-informed-through-social-media",
    "citizens-in-a-safer-region",
];

fn strings(values: &Value, field: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {values}"))
        .iter()
        .map(|item| item[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn types(page: &Value) -> Vec<String> {
    strings(&page["blocks"], "type")
}

#[actix_web::test]
async fn who_we_are_is_rendered_from_one_request() {
    let app = TestApp::seeded().await;
    let plain = app.get(WHO_WE_ARE).await.ok(200);
    assert_eq!(
        types(&plain),
        ["pages", "metrics", "decisions", "funders", "contact"]
    );
    assert_eq!(plain["blocks"][1]["metrics"], json!(METRICS));
    assert!(plain["blocks"][1].get("items").is_none(), "{plain}");

    let page = app
        .get(&format!("{WHO_WE_ARE}?include=blocks"))
        .await
        .ok(200);
    let blocks = &page["blocks"];
    assert_eq!(
        strings(&blocks[0]["items"], "slug"),
        [
            "mission",
            "background",
            "monitoring-and-reporting",
            "impact",
            "existing-portfolio"
        ]
    );
    let metrics = &blocks[1]["items"];
    assert_eq!(strings(metrics, "key"), METRICS);
    assert_eq!(metrics[2]["latest"]["value"], 342_000);
    assert_eq!(
        strings(&blocks[2]["items"], "celex"),
        [
            "32019D2111",
            "32018D1788",
            "32016D2356",
            "32013D0730",
            "32010D0179",
            "32004D0791",
            "32003D0807",
            "32002D0842"
        ]
    );
    let funders = &blocks[3]["items"];
    let slugs = strings(funders, "slug");
    assert_eq!(slugs.len(), 10, "{slugs:?}");
    assert!(
        !slugs.contains(&"uk-home-office".to_owned()),
        "top level only"
    );
    let eu = funders
        .as_array()
        .unwrap()
        .iter()
        .find(|funder| funder["slug"] == "european-union")
        .unwrap();
    assert_eq!(
        strings(&eu["children"], "slug"),
        ["european-commission-dg-near"]
    );
    let contact = &blocks[4]["items"][0];
    assert_eq!(contact["slug"], "seesac-belgrade");
    assert_eq!(contact["email"], "seesac@undp.org");
    assert_eq!(blocks[4]["items"].as_array().unwrap().len(), 1);

    // The database holds a row per key a block names.
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM page_block_refs r JOIN pages p ON p.id = r.page_id \
             WHERE p.slug = 'who-we-are' AND r.metric IS NOT NULL"
        ),
        10
    );
}

#[actix_web::test]
async fn nested_fieldsets_apply_inside_blocks() {
    let app = TestApp::seeded().await;
    let small = app
        .get(&format!(
            "{WHO_WE_ARE}?include=blocks&fields=slug,title&fields[blocks.metrics]=key,label\
             &fields[blocks.pages]=slug,title&fields[blocks.funders]=name"
        ))
        .await
        .ok(200);
    assert_eq!(small["slug"], "who-we-are");
    assert!(small.get("body").is_none(), "{small}");
    let metric = &small["blocks"][1]["items"][0];
    assert_eq!(
        metric,
        &json!({"key": "salw-coordination-mechanisms", "label": metric["label"].clone()})
    );
    assert!(metric["label"].is_string());
    let child = &small["blocks"][0]["items"][0];
    assert_eq!(child, &json!({"slug": "mission", "title": "Mission"}));
    // A funder's agencies are embedded, and an embedding stays (as `include`
    // with `fields` does everywhere).
    let funder = small["blocks"][3]["items"][0].as_object().unwrap();
    assert_eq!(funder["name"], "European Union");
    let mut shown: Vec<&String> = funder.keys().collect();
    shown.sort();
    assert_eq!(shown, ["children", "name"]);
    // Not asked for: the decisions come whole.
    assert!(small["blocks"][2]["items"][0]["summary"].is_string());

    // Without the key, found by it all the same.
    let labels = app
        .get(&format!(
            "{WHO_WE_ARE}?include=blocks&fields[blocks.metrics]=label"
        ))
        .await
        .ok(200);
    let items = labels["blocks"][1]["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(
        items
            .iter()
            .all(|item| item.as_object().unwrap().len() == 1 && item["label"].is_string()),
        "{items:?}"
    );
    assert_eq!(labels["blocks"][1]["metrics"], json!(METRICS));

    let needs = app
        .get(&format!("{WHO_WE_ARE}?fields[blocks.metrics]=key"))
        .await
        .problem(400, "invalid_request");
    assert!(
        needs["detail"].as_str().unwrap().contains("include=blocks"),
        "{needs}"
    );
    let unknown = app
        .get(&format!(
            "{WHO_WE_ARE}?include=blocks&fields[blocks.metrics]=slug"
        ))
        .await
        .problem(400, "invalid_request");
    assert!(
        unknown["detail"].as_str().unwrap().contains("label"),
        "{unknown}"
    );
}

#[actix_web::test]
async fn a_draft_in_a_block_is_never_named_to_anonymous_readers() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    app.patch(
        &editor,
        "/api/v1/impact-metrics/salw-destroyed",
        json!({"status": "draft"}),
    )
    .await
    .ok(200);
    app.patch(&editor, "/api/v1/pages/impact", json!({"status": "draft"}))
        .await
        .ok(200);
    for path in [
        WHO_WE_ARE.to_owned(),
        format!("{WHO_WE_ARE}?include=blocks"),
        "/api/v1/pages?include=blocks".to_owned(),
    ] {
        let answer = app.get(&path).await;
        let text = String::from_utf8_lossy(&answer.body).to_string();
        assert_eq!(answer.status(), 200, "{text}");
        assert!(!text.contains("salw-destroyed"), "{path}: {text}");
        assert!(!text.contains("\"impact\""), "{path}: {text}");
    }
    // Nor in the feed: a page's stored version is shown the same way.
    let feed = app
        .get("/api/v1/changes?since=0&type=page&per_page=100")
        .await
        .ok(200);
    let pages = feed["data"].as_array().unwrap();
    assert!(pages.iter().any(|entry| entry["key"] == "who-we-are"));
    for entry in pages {
        assert!(
            !entry["item"].to_string().contains("salw-destroyed"),
            "{entry}"
        );
    }
    let page = app
        .get(&format!("{WHO_WE_ARE}?include=blocks"))
        .await
        .ok(200);
    assert_eq!(page["blocks"][1]["metrics"].as_array().unwrap().len(), 9);
    assert_eq!(page["blocks"][1]["items"].as_array().unwrap().len(), 9);
    assert_eq!(page["blocks"][0]["items"].as_array().unwrap().len(), 4);

    // A block that names only what the reader may not see is not shown.
    let mut figures = crate::helpers::page("figures", "Figures");
    figures["status"] = json!("published");
    figures["blocks"] =
        json!([{"type": "metrics", "metrics": ["salw-destroyed"]}, {"type": "pages"}]);
    app.put(&editor, "/api/v1/pages/figures", figures)
        .await
        .ok(201);
    let shown = app
        .get("/api/v1/pages/figures?include=blocks")
        .await
        .ok(200);
    assert_eq!(shown["blocks"], json!([{"type": "pages", "items": []}]));

    // An editor sees the whole page.
    let seen = app
        .get_as(&editor, &format!("{WHO_WE_ARE}?include=blocks"))
        .await
        .ok(200);
    assert_eq!(seen["blocks"][1]["metrics"], json!(METRICS));
    assert_eq!(seen["blocks"][1]["items"].as_array().unwrap().len(), 10);
    assert_eq!(seen["blocks"][0]["items"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn blocks_are_checked_and_every_mistake_named_by_its_pointer() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let mut body = page("annual-report", "Annual report");
    body["blocks"] = json!([
        {"type": "metrics"},
        {"type": "bogus"},
        {"type": "markdown"},
        {"type": "funders", "funders": "european-union"},
        {"type": "decisions", "decisions": ["32019D2111", "32019D2111"]},
        {"type": "contact", "colour": "red"},
        "text",
        {"type": "pages", "html": "<p>only a Markdown block has it</p>"}
    ]);
    let refused = app.put(&editor, "/api/v1/pages/annual-report", body).await;
    refused.problem(422, "validation_failed");
    assert_eq!(
        refused.pointers(),
        [
            "/blocks/0",
            "/blocks/1/type",
            "/blocks/2/text",
            "/blocks/3/funders",
            "/blocks/4/decisions/1",
            "/blocks/5/colour",
            "/blocks/6",
            "/blocks/7/html"
        ]
    );

    let mut body = page("annual-report", "Annual report");
    body["blocks"] = json!([
        {"type": "markdown", "text": "Figures"},
        {"type": "metrics", "metrics": ["salw-destroyed", "no-such-metric"]},
        {"type": "contact", "contact": "nobody"}
    ]);
    let unknown = app.put(&editor, "/api/v1/pages/annual-report", body).await;
    let problem = unknown.problem(422, "validation_failed");
    assert_eq!(
        unknown.pointers(),
        ["/blocks/1/metrics/1", "/blocks/2/contact"]
    );
    assert_eq!(problem["errors"][0]["code"], "unknown_reference");
    assert!(
        problem["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("no-such-metric"),
        "{problem}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'annual-report'"),
        0
    );
}

#[actix_web::test]
async fn a_markdown_block_is_rendered_and_sanitised() {
    let app = TestApp::seeded().await;
    let mut body = page("annual-report", "Annual report");
    body["blocks"] = json!([
        {"type": "markdown", "text": "**22 million** citizens <script>alert(1)</script>",
         "html": "<script>ignored</script>"}
    ]);
    let created = app
        .put(&app.editor(), "/api/v1/pages/annual-report", body)
        .await
        .ok(201);
    let html = created["blocks"][0]["html"].as_str().unwrap();
    assert!(html.contains("<strong>22 million</strong>"), "{html}");
    assert!(!html.contains("script"), "{html}");
    // A body read and sent back is taken as it is.
    let editor = app.editor();
    let read = app
        .get_as(&editor, "/api/v1/pages/annual-report?include=blocks")
        .await
        .ok(200);
    let again = app
        .put(&editor, "/api/v1/pages/annual-report", read.clone())
        .await
        .ok(200);
    assert_eq!(again["version"], read["version"], "nothing changed");
}

#[actix_web::test]
async fn a_renamed_item_is_followed_and_a_named_one_cannot_be_deleted() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    // A PATCH of another field leaves the blocks and their references as they are.
    app.patch(&editor, WHO_WE_ARE, json!({"summary": "SEESAC."}))
        .await
        .ok(200);
    let before = app.get_as(&editor, WHO_WE_ARE).await.ok(200);
    assert_eq!(before["blocks"][1]["metrics"], json!(METRICS));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM page_block_refs WHERE metric IS NOT NULL"),
        10
    );
    app.patch(
        &editor,
        "/api/v1/impact-metrics/salw-destroyed",
        json!({"key": "salw-destroyed-total"}),
    )
    .await
    .ok(200);
    let after = app.get_as(&editor, WHO_WE_ARE).await.ok(200);
    assert_eq!(after["blocks"][1]["metrics"][2], "salw-destroyed-total");
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM page_block_refs WHERE metric = 'salw-destroyed-total'"
        ),
        1
    );

    let refused = app
        .delete(
            &editor,
            "/api/v1/impact-metrics/salw-destroyed-total?cascade=true",
        )
        .await;
    let problem = refused.problem(409, "conflict");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("who-we-are"), "{detail}");
    assert!(detail.contains("/blocks/1/metrics/2"), "{detail}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM impact_metrics WHERE key = 'salw-destroyed-total'"),
        1
    );

    // Once the page no longer names it, it goes.
    let mut blocks = after["blocks"].clone();
    blocks[1]["metrics"] = json!(["salw-coordination-mechanisms"]);
    app.patch(&editor, WHO_WE_ARE, json!({"blocks": blocks}))
        .await
        .ok(200);
    app.delete(
        &editor,
        "/api/v1/impact-metrics/salw-destroyed-total?cascade=true",
    )
    .await
    .ok(204);
}

#[actix_web::test]
async fn blocks_are_versioned_and_restored_with_the_page() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let original = app.get_as(&editor, WHO_WE_ARE).await.ok(200);
    let changed = app
        .patch(
            &editor,
            WHO_WE_ARE,
            json!({"blocks": [{"type": "contact"}]}),
        )
        .await;
    let etag = changed.etag();
    assert_eq!(types(&changed.ok(200)), ["contact"]);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM page_block_refs r JOIN pages p ON p.id = r.page_id \
             WHERE p.slug = 'who-we-are'"
        ),
        0
    );
    let version = original["version"].as_i64().unwrap();
    // A PATCH that leaves them out keeps them.
    let titled = app
        .patch(&editor, WHO_WE_ARE, json!({"title": "Who we are"}))
        .await
        .ok(200);
    assert_eq!(types(&titled), ["contact"]);
    let diff = app
        .get_as(&editor, &format!("{WHO_WE_ARE}/revisions/{version}/diff"))
        .await
        .ok(200);
    assert!(diff.to_string().contains("/blocks"), "{diff}");

    let restored = app
        .request(
            Method::POST,
            &format!("{WHO_WE_ARE}/revisions/{version}/restore"),
        )
        .bearer(&editor)
        .header("if-match", &etag)
        .send()
        .await
        .ok(200);
    assert_eq!(restored["blocks"], original["blocks"]);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM page_block_refs r JOIN pages p ON p.id = r.page_id \
             WHERE p.slug = 'who-we-are'"
        ),
        10
    );
}

#[actix_web::test]
async fn a_markdown_block_is_translated_and_its_fallback_said() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let cookies = "/api/v1/pages/cookies";
    app.patch(
        &editor,
        cookies,
        json!({"blocks": [
            {"type": "markdown", "text": "Questions? Write to us."},
            {"type": "contact"},
            {"type": "markdown", "text": "Thank you."}
        ]}),
    )
    .await
    .ok(200);
    // Before a translation, translators see the blocks missing.
    let work = app
        .get_as(
            &editor,
            "/api/v1/translations?locale=sq&state=missing&type=page&per_page=100",
        )
        .await
        .ok(200);
    let missing = |work: &Value, slug: &str| {
        work["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["key"] == slug && entry["field"] == "blocks")
    };
    assert!(missing(&work, "cookies"), "{work}");
    assert!(
        !missing(&work, "mission"),
        "a page without Markdown blocks: {work}"
    );

    let path = format!("{cookies}/translations/sq");
    let wrong = app
        .put(
            &editor,
            &path,
            json!({"fields": {"blocks": "Pyetje?"}, "status": "published"}),
        )
        .await;
    wrong.problem(422, "validation_failed");
    assert_eq!(wrong.pointers(), ["/fields/blocks"]);
    let wrong = app
        .put(
            &editor,
            &path,
            json!({"fields": {"blocks": [5]}, "status": "published"}),
        )
        .await;
    assert_eq!(wrong.pointers(), ["/fields/blocks/0"]);
    app.put(
        &editor,
        &path,
        json!({"fields": {"blocks": ["Pyetje? **Na shkruani.**", null]}, "status": "published"}),
    )
    .await
    .ok(201);

    let page = app.get(&format!("{cookies}?locale=sq")).await.ok(200);
    let blocks = &page["blocks"];
    assert_eq!(blocks[0]["text"], "Pyetje? **Na shkruani.**");
    assert!(
        blocks[0]["html"]
            .as_str()
            .unwrap()
            .contains("<strong>Na shkruani.</strong>"),
        "{page}"
    );
    assert_eq!(blocks[1], json!({"type": "contact"}));
    assert_eq!(
        blocks[2]["text"], "Thank you.",
        "the English one, along the chain"
    );
    assert_eq!(page["meta"]["fallbacks"]["blocks"], "en");
    let strict = app
        .get(&format!("{cookies}?locale=sq&fallback=false"))
        .await
        .ok(200);
    assert_eq!(strict["blocks"][0]["text"], "Pyetje? **Na shkruani.**");
    assert_eq!(strict["blocks"][2]["text"], Value::Null);
    assert_eq!(strict["blocks"][2]["html"], Value::Null);
    // In English, the page as written.
    let english = app.get(cookies).await.ok(200);
    assert_eq!(english["blocks"][0]["text"], "Questions? Write to us.");

    // A changed block makes the translation of the blocks outdated.
    let work = app
        .get_as(
            &editor,
            "/api/v1/translations?locale=sq&type=page&per_page=100",
        )
        .await
        .ok(200);
    assert!(!missing(&work, "cookies"), "{work}");
    app.patch(
        &editor,
        cookies,
        json!({"blocks": [{"type": "markdown", "text": "Questions? Write to SEESAC."}]}),
    )
    .await
    .ok(200);
    let work = app
        .get_as(
            &editor,
            "/api/v1/translations?locale=sq&state=outdated&type=page&per_page=100",
        )
        .await
        .ok(200);
    assert!(missing(&work, "cookies"), "outdated: {work}");
    // Across every kind, those without blocks too.
    let all = app
        .get_as(&editor, "/api/v1/translations?locale=sq&per_page=100")
        .await
        .ok(200);
    let kinds: std::collections::BTreeSet<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["type"].as_str())
        .collect();
    assert!(
        kinds.contains("page") && kinds.contains("impact_metric"),
        "{kinds:?}"
    );
}
