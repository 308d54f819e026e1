//! What a frontend and its generated client rely on: every item says where it
//! lives (`links.self`), a filter takes the plain value, every read that can
//! answer 304 declares `If-None-Match`, and the feed's entries are a union told
//! apart by `type`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, page};

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[actix_web::test]
async fn every_item_links_to_itself_and_the_link_answers() {
    let app = TestApp::seeded().await;
    let mission = app.get("/api/v1/pages/mission").await.ok(200);
    assert_eq!(mission["links"], json!({"self": "/api/v1/pages/mission"}));
    // A fieldset is exactly what it names.
    let titled = app.get("/api/v1/pages/mission?fields=title").await.ok(200);
    assert_eq!(titled, json!({"title": "Mission"}));

    let list = app.get("/api/v1/pages?per_page=5").await.ok(200);
    let items = list["data"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for item in items {
        let url = item["links"]["self"].as_str().unwrap();
        assert_eq!(
            url,
            format!("/api/v1/pages/{}", item["slug"].as_str().unwrap())
        );
        assert_eq!(app.get(url).await.ok(200)["id"], item["id"]);
    }

    // The primary contact is an item like the others.
    let contact = app.get("/api/v1/contact").await.ok(200);
    assert_eq!(
        contact["links"],
        json!({"self": "/api/v1/contacts/seesac-belgrade"})
    );

    // A nested item's link is under its parent.
    let figures = app
        .get("/api/v1/impact-metrics/women-in-armed-forces/observations?per_page=1")
        .await
        .ok(200);
    let figure = &figures["data"][0];
    let url = figure["links"]["self"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "/api/v1/impact-metrics/women-in-armed-forces/observations/{}",
            figure["id"].as_str().unwrap()
        )
    );
    assert_eq!(app.get(url).await.ok(200)["value"], figure["value"]);

    // The answer to a write links too, and an item embedded in another does not.
    let created = app
        .put(
            &app.editor(),
            "/api/v1/pages/annual-report",
            page("annual-report", "Annual report"),
        )
        .await
        .ok(201);
    assert_eq!(
        created["links"],
        json!({"self": "/api/v1/pages/annual-report"})
    );
    let parent = app
        .get("/api/v1/pages/who-we-are?include=children")
        .await
        .ok(200);
    let children = parent["children"].as_array().unwrap();
    assert!(!children.is_empty());
    assert!(children.iter().all(|child| child.get("links").is_none()));
}

#[actix_web::test]
async fn a_filter_takes_the_plain_value_as_its_eq() {
    let app = TestApp::seeded().await;
    let plain = app
        .get("/api/v1/impact-metrics?category=gender-equality&fields=key")
        .await
        .ok(200);
    let operator = app
        .get("/api/v1/impact-metrics?category[eq]=gender-equality&fields=key")
        .await
        .ok(200);
    assert!(plain["meta"]["total"].as_i64().unwrap() > 0);
    assert_eq!(plain["data"], operator["data"]);
    let all = app.get("/api/v1/impact-metrics?fields=key").await.ok(200);
    assert!(plain["meta"]["total"].as_i64() < all["meta"]["total"].as_i64());
}

#[actix_web::test]
async fn every_read_that_may_answer_304_declares_if_none_match_and_honours_it() {
    let document = document();
    let mut declared = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        if get["responses"].get("304").is_none() {
            continue;
        }
        let headers: Vec<&str> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "header")
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            headers.iter().filter(|h| **h == "If-None-Match").count(),
            1,
            "GET {path} answers 304 but declares If-None-Match {headers:?}"
        );
        declared += 1;
    }
    assert!(declared >= 40, "only {declared} reads declare a 304");

    // And the header does what the document says.
    let app = TestApp::seeded().await;
    let read = app
        .get("/api/v1/impact-metrics?category=gender-equality")
        .await;
    let etag = read
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let again = app
        .request(
            actix_web::http::Method::GET,
            "/api/v1/impact-metrics?category=gender-equality",
        )
        .header("If-None-Match", &etag)
        .send()
        .await;
    assert_eq!(again.status(), 304);
}

#[actix_web::test]
async fn the_feed_is_a_union_told_apart_by_type_and_each_entry_fits_its_kind() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let items = &schemas["ChangeList"]["properties"]["data"]["items"];
    let mapping = items["discriminator"]["mapping"].as_object().unwrap();
    assert_eq!(items["discriminator"]["propertyName"], "type");
    let kinds: Vec<&str> = document["paths"]["/api/v1/changes"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "type")
        .unwrap()["schema"]["items"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(mapping.len(), kinds.len());
    assert_eq!(items["oneOf"].as_array().unwrap().len(), kinds.len());
    let variant = |kind: &str| -> &Value {
        let reference = mapping[kind].as_str().unwrap();
        &schemas[reference.rsplit('/').next().unwrap()]
    };
    for kind in &kinds {
        assert_eq!(variant(kind)["properties"]["type"]["enum"], json!([kind]));
    }
    assert_eq!(
        variant("page")["properties"]["item"]["anyOf"][1]["$ref"],
        "#/components/schemas/SparsePage"
    );

    // What the feed serves fits the variant its `type` names: every field of an
    // item's stored fields is a property of the kind's sparse item, or of a
    // translation's version.
    let app = TestApp::seeded().await;
    let editor = app.editor();
    app.put(
        &editor,
        "/api/v1/pages/mission/translations/sq",
        json!({"fields": {"title": "Misioni"}, "status": "published"}),
    )
    .await
    .ok(201);
    let feed = app
        .get_as(&app.admin(), "/api/v1/changes?per_page=500")
        .await
        .ok(200);
    let entries = feed["data"].as_array().unwrap();
    let mut seen = std::collections::HashSet::new();
    for entry in entries {
        let kind = entry["type"].as_str().unwrap();
        let Value::Object(item) = &entry["item"] else {
            continue;
        };
        seen.insert(kind);
        let shape = if entry.get("locale").is_some() {
            "TranslationVersion".to_owned()
        } else {
            variant(kind)["properties"]["item"]["anyOf"][1]["$ref"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        };
        let properties = properties_of(schemas, &schemas[&shape]);
        for field in item.keys() {
            assert!(
                properties.contains(field),
                "a {kind} entry's item has {field}, which {shape} does not describe"
            );
        }
    }
    assert!(
        seen.contains("page") && seen.contains("observation"),
        "{seen:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "translated" && e["item"]["fields"]["title"] == "Misioni")
    );
}

/// The names of a schema's properties, through its `allOf` and references.
fn properties_of(schemas: &Value, schema: &Value) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        return properties_of(schemas, &schemas[reference.rsplit('/').next().unwrap()]);
    }
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(properties_of(schemas, part));
    }
    names
}

#[actix_web::test]
async fn revisions_diffs_and_the_audit_write_timestamps_as_every_answer_does() {
    let app = TestApp::seeded().await;
    let admin = app.admin();
    app.patch(
        &admin,
        "/api/v1/pages/mission",
        json!({"summary": "What SEESAC works for."}),
    )
    .await
    .ok(200);
    let item = app.get_as(&admin, "/api/v1/pages/mission").await.ok(200);
    let revisions = app
        .get_as(&admin, "/api/v1/pages/mission/revisions")
        .await
        .ok(200);
    let diff = app
        .get_as(&admin, "/api/v1/pages/mission/revisions/1/diff")
        .await
        .ok(200);
    let audit = app
        .get_as(&admin, "/api/v1/audit?type=page&key=mission")
        .await
        .ok(200);
    // The current version's stored fields are the item's, timestamps byte for byte.
    let current = &revisions["data"][0]["item"];
    assert_eq!(current["updated_at"], item["updated_at"]);
    assert_eq!(current["created_at"], item["created_at"]);
    assert_eq!(current["published_at"], item["published_at"]);
    let updated = diff
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["path"] == "/updated_at")
        .unwrap();
    assert_eq!(updated["value"], item["updated_at"]);
    // And every timestamp anywhere in them is written as `…T…Z`.
    let mut stamps = Vec::new();
    for answer in [&item, &revisions, &diff, &audit] {
        timestamps(answer, &mut stamps);
    }
    assert!(stamps.len() > 10, "{stamps:?}");
    for stamp in stamps {
        assert!(
            stamp.ends_with('Z') && !stamp.contains('+'),
            "{stamp} is not written as the other answers write timestamps"
        );
    }
}

/// Every string in `value` that reads as a date and a time.
fn timestamps(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            let bytes = text.as_bytes();
            if bytes.len() > 19 && bytes[4] == b'-' && bytes[10] == b'T' && bytes[13] == b':' {
                found.push(text.clone());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| timestamps(item, found)),
        Value::Object(fields) => fields.values().for_each(|item| timestamps(item, found)),
        _ => {}
    }
}

#[actix_web::test]
async fn an_embedded_item_shows_only_what_its_own_fieldset_names() {
    let app = TestApp::seeded().await;
    let keys = |value: &Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    // The "Who we are" page with its children's titles, and nothing else.
    let whole = app
        .get("/api/v1/pages/who-we-are?include=children&fields=slug,title")
        .await;
    let trimmed = app
        .get("/api/v1/pages/who-we-are?include=children&fields=slug,title&fields[children]=slug,title")
        .await;
    let page = trimmed.ok(200);
    assert_eq!(keys(&page), ["children", "slug", "title"]);
    let children = page["children"].as_array().unwrap();
    assert!(children.len() >= 5, "{page}");
    for child in children {
        assert_eq!(keys(child), ["slug", "title"]);
    }
    assert!(
        trimmed.body.len() * 5 < whole.body.len(),
        "{} bytes against {}",
        trimmed.body.len(),
        whole.body.len()
    );

    // A metric's latest figure, always embedded, trimmed to what a chart shows.
    let metric = app
        .get("/api/v1/impact-metrics/women-in-armed-forces?fields=key,latest&fields[latest]=value,period_start,area")
        .await
        .ok(200);
    assert_eq!(
        metric,
        json!({"key": "women-in-armed-forces",
               "latest": {"value": 6, "period_start": "2019-01-01", "area": "WB"}})
    );
    // Without a fieldset of its own the item is whole, its latest trimmed.
    let metric = app
        .get("/api/v1/impact-metrics/women-in-armed-forces?fields[latest]=value")
        .await
        .ok(200);
    assert_eq!(metric["latest"], json!({"value": 6}));
    assert_eq!(metric["key"], "women-in-armed-forces");

    // In a list, and under the key the item shows it at (a funder's parent).
    let funders = app
        .get("/api/v1/funders?include=parent&fields=slug&fields[parent]=slug")
        .await
        .ok(200);
    let with_parent: Vec<&Value> = funders["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|funder| funder["parent_funder"].is_object())
        .collect();
    assert!(!with_parent.is_empty(), "{funders}");
    for funder in with_parent {
        assert_eq!(keys(&funder["parent_funder"]), ["slug"]);
    }
}

#[actix_web::test]
async fn a_nested_fieldset_is_checked_and_the_dotted_form_shows_the_one_taken() {
    let app = TestApp::seeded().await;
    let dotted = app
        .get("/api/v1/pages/who-we-are?include=children&fields=title,children.title")
        .await
        .problem(400, "invalid_request");
    assert!(
        dotted["detail"]
            .as_str()
            .unwrap()
            .contains("fields[children]=title"),
        "{dotted}"
    );
    for (query, words) in [
        ("include=children&fields[blocks]=title", "embeds children"),
        (
            "include=children&fields[children]=password",
            "unknown field password",
        ),
        ("fields[children]=slug", "needs include=children"),
    ] {
        let refused = app
            .get(&format!("/api/v1/pages/who-we-are?{query}"))
            .await
            .problem(400, "invalid_request");
        assert!(
            refused["detail"].as_str().unwrap().contains(words),
            "{query}: {refused}"
        );
    }
    // The document names the parameter, with the embedded kind's fields.
    let document = document();
    let parameter = document["paths"]["/api/v1/pages/{slug}"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fields[children]")
        .cloned()
        .unwrap();
    let names = parameter["schema"]["items"]["enum"].as_array().unwrap();
    assert!(names.contains(&json!("title")) && names.contains(&json!("body_html")));
}

#[actix_web::test]
async fn children_include_three_levels_down_with_their_fieldset_locale_and_visibility() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    for (slug, parent) in [
        ("mission-history", "mission"),
        ("mission-archive", "mission-history"),
        ("mission-deep", "mission-archive"),
    ] {
        let mut body = page(slug, slug);
        body["parent"] = json!(parent);
        body["status"] = json!("published");
        app.put(&editor, &format!("/api/v1/pages/{slug}"), body)
            .await
            .ok(201);
    }
    app.put(
        &editor,
        "/api/v1/pages/mission-archive/translations/sq",
        json!({"fields": {"title": "Arkivi"}, "status": "published"}),
    )
    .await
    .ok(201);

    let tree = app
        .get(
            "/api/v1/pages/who-we-are?include=children.children.children&fields=slug\
             &fields[children]=slug,title&locale=sq",
        )
        .await
        .ok(200);
    let mission = &tree["children"][0];
    assert_eq!(mission["slug"], "mission");
    assert!(mission.get("body").is_none(), "{mission}");
    let history = &mission["children"][0];
    assert_eq!(history["slug"], "mission-history");
    let archive = &history["children"][0];
    assert_eq!(archive["slug"], "mission-archive");
    assert_eq!(archive["title"], "Arkivi", "localised three levels down");
    assert!(
        archive.get("children").is_none(),
        "three levels, no more: {archive}"
    );
    assert_eq!(mission["children"].as_array().unwrap().len(), 1);

    // Two levels: the grandchildren carry no children.
    let two = app
        .get("/api/v1/pages/who-we-are?include=children.children&fields[children]=slug")
        .await
        .ok(200);
    assert_eq!(
        two["children"][0]["children"],
        json!([{"slug": "mission-history"}])
    );
    app.get("/api/v1/pages/who-we-are?include=children.children.children.children")
        .await
        .problem(400, "invalid_request");

    // A draft hides what is under it too.
    app.patch(
        &editor,
        "/api/v1/pages/mission-history",
        json!({"status": "draft"}),
    )
    .await
    .ok(200);
    let hidden = app
        .get("/api/v1/pages/who-we-are?include=children.children.children")
        .await;
    let text = String::from_utf8_lossy(&hidden.body).to_string();
    assert_eq!(hidden.status(), 200);
    assert!(
        !text.contains("mission-history") && !text.contains("mission-archive"),
        "{text}"
    );
    let seen = app
        .get_as(
            &editor,
            "/api/v1/pages/who-we-are?include=children.children.children",
        )
        .await
        .ok(200);
    assert_eq!(
        seen["children"][0]["children"][0]["children"][0]["slug"],
        "mission-archive"
    );
}
