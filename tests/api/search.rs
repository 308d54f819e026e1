//! Full-text search: `q=` on a collection and across all of them.

use serde_json::json;

use crate::helpers::{TestApp, page};

#[actix_web::test]
async fn q_searches_a_collection_ranked_by_relevance() {
    let app = TestApp::seeded().await;
    let cookies = app.get("/api/v1/pages?q=cookies&fields=slug").await.ok(200);
    assert_eq!(
        cookies["data"][0]["slug"], "cookies",
        "the page about cookies ranks first"
    );
    let stemmed = app
        .get("/api/v1/pages?q=destroying%20weapons&fields=slug")
        .await
        .ok(200);
    assert!(cookies["meta"]["total"].as_i64().unwrap() >= 1);
    assert!(
        stemmed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["slug"] == "impact"),
        "{stemmed}"
    );
    let metrics = app
        .get("/api/v1/impact-metrics?q=women&fields=key")
        .await
        .ok(200);
    assert_eq!(metrics["data"], json!([{"key": "women-in-armed-forces"}]));
    let decisions = app
        .get("/api/v1/council-decisions?q=roadmap%20trafficking&fields=celex")
        .await
        .ok(200);
    assert_eq!(decisions["data"][0]["celex"], "32018D1788");
    let funders = app
        .get("/api/v1/funders?q=%22Home%20Office%22&fields=slug")
        .await
        .ok(200);
    assert_eq!(funders["data"][0]["slug"], "uk-home-office");
    let nothing = app.get("/api/v1/pages?q=zebra").await.ok(200);
    assert_eq!(nothing["meta"]["total"], 0);
}

#[actix_web::test]
async fn search_across_everything_gives_typed_hits_with_highlighted_snippets() {
    let app = TestApp::seeded().await;
    let response = app.get("/api/v1/search?q=gender%20equality").await;
    let results = response.ok(200);
    assert!(response.header("etag").is_some());
    let hits = results["data"].as_array().unwrap();
    assert!(hits.len() >= 3, "{results}");
    let types: std::collections::HashSet<&str> =
        hits.iter().map(|h| h["type"].as_str().unwrap()).collect();
    assert!(
        types.contains("page") && types.contains("impact_metric") && types.contains("funder"),
        "{types:?}"
    );
    for hit in hits {
        assert!(hit["snippet"].as_str().unwrap().contains("<mark>"), "{hit}");
        let url = hit["url"].as_str().unwrap();
        assert!(url.ends_with(hit["key"].as_str().unwrap()));
        // The same links as an item's.
        assert_eq!(hit["links"], json!({"self": url}), "{hit}");
        app.get(url).await.ok(200);
    }
    let metric = hits.iter().find(|h| h["type"] == "impact_metric").unwrap();
    assert!(
        metric["url"]
            .as_str()
            .unwrap()
            .starts_with("/api/v1/impact-metrics/")
    );
    let only = app.get("/api/v1/search?q=gender&type=funder").await.ok(200);
    assert!(
        only["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["type"] == "funder")
    );
    let decision = app
        .get("/api/v1/search?q=2019/2111&type=council_decision")
        .await
        .ok(200);
    assert_eq!(decision["data"][0]["key"], "32019D2111");
    assert_eq!(
        app.get("/api/v1/search?q=gender&per_page=1").await.ok(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn snippets_are_escaped_html() {
    let app = TestApp::spawn().await;
    let mut body = page("escape", "Escape");
    body["body"] = json!("Weapons: 5 < 7 & ammunition <script>alert(1)</script>");
    body["status"] = json!("published");
    app.post(&app.editor(), "/api/v1/pages", body).await.ok(201);
    let hit = app.get("/api/v1/search?q=weapons").await.ok(200)["data"][0]["snippet"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!hit.contains("<script"), "{hit}");
    assert!(
        hit.contains("5 &lt; 7")
            && hit.to_lowercase().contains("<mark>weapons</mark>")
            && hit.contains("&amp;"),
        "{hit}"
    );
    assert_eq!(
        hit.matches('<').count(),
        hit.matches("<mark>").count() + hit.matches("</mark>").count(),
        "{hit}"
    );
}

#[actix_web::test]
async fn a_draft_never_shows_up_in_an_anonymous_search() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let mut draft = page("plans", "Confidential plans");
    draft["body"] = json!("Zeppelin procurement for the secret programme.");
    app.post(&token, "/api/v1/pages", draft).await.ok(201);
    let mut scheduled = page("later", "Zeppelin launch");
    scheduled["status"] = json!("published");
    scheduled["published_at"] = json!("2999-01-01T00:00:00Z");
    app.post(&token, "/api/v1/pages", scheduled).await.ok(201);
    assert_eq!(
        app.get("/api/v1/search?q=zeppelin").await.ok(200)["meta"]["total"],
        0
    );
    assert_eq!(
        app.get("/api/v1/pages?q=zeppelin").await.ok(200)["meta"]["total"],
        0
    );
    assert_eq!(
        app.get_as(&token, "/api/v1/search?q=zeppelin")
            .await
            .ok(200)["meta"]["total"],
        2
    );
    assert_eq!(
        app.get_as(&token, "/api/v1/pages?q=zeppelin").await.ok(200)["meta"]["total"],
        2
    );
}

#[actix_web::test]
async fn a_search_without_a_question_or_with_unknown_parameters_is_a_400() {
    let app = TestApp::spawn().await;
    for (query, parameter) in [
        ("", "q"),
        ("q=", "q"),
        ("q=x&type=user", "type"),
        ("q=x&sort=rank", "sort"),
        ("q=x&per_page=0", "per_page"),
    ] {
        let response = app.get(&format!("/api/v1/search?{query}")).await;
        response.problem(400, "invalid_request");
        assert_eq!(response.pointers(), [parameter], "{query}");
    }
    let long = "a".repeat(201);
    app.get(&format!("/api/v1/search?q={long}"))
        .await
        .problem(400, "invalid_request");
    // Operators in the question are text, not syntax errors.
    app.get("/api/v1/search?q=%22unclosed%20%26%20|%20!(")
        .await
        .ok(200);
}

#[actix_web::test]
async fn a_search_page_past_the_end_keeps_the_real_total() {
    let app = TestApp::seeded().await;
    let first = app.get("/api/v1/search?q=arms").await.ok(200);
    let total = first["meta"]["total"].as_i64().unwrap();
    assert!(total > 0);
    let past = app.get("/api/v1/search?q=arms&page=50").await.ok(200);
    assert_eq!(past["data"], json!([]));
    assert_eq!(past["meta"]["total"], total);
}

#[actix_web::test]
async fn contacts_can_be_searched_by_name_and_city() {
    let app = TestApp::seeded().await;
    let found = app
        .get("/api/v1/contacts?q=belgrade&fields=slug")
        .await
        .ok(200);
    assert_eq!(found["data"], json!([{"slug": "seesac-belgrade"}]));
}

/// The hits' keys of a search, and its `Content-Language`.
async fn hits(app: &TestApp, token: Option<&str>, query: &str) -> (Vec<String>, String) {
    let path = format!("/api/v1/search?{query}");
    let mut request = app.request(actix_web::http::Method::GET, &path);
    if let Some(token) = token {
        request = request.bearer(token);
    }
    let response = request.send().await;
    let language = response.header("content-language").unwrap_or_default();
    let keys = response.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["key"].as_str().unwrap().to_owned())
        .collect();
    (keys, language)
}

#[actix_web::test]
async fn a_word_is_found_only_in_the_locale_it_is_written_in_with_its_stemming() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    for (path, locale, fields, status) in [
        (
            "who-we-are",
            "sq",
            json!({"title": "Kush jemi ne", "body": "Qendra punon për kontrollin e armëve."}),
            "published",
        ),
        (
            "mission",
            "ro",
            json!({"body": "Distrugerea armelor de foc."}),
            "published",
        ),
        (
            "impact",
            "hr",
            json!({"summary": "Tajna bilješka"}),
            "draft",
        ),
    ] {
        app.put(
            &editor,
            &format!("/api/v1/pages/{path}/translations/{locale}"),
            json!({"fields": fields, "status": status}),
        )
        .await
        .ok(201);
    }
    // Albanian: found in Albanian, by `locale` or by the browser's language.
    let (found, language) = hits(&app, None, "q=kontrollin&locale=sq").await;
    assert_eq!(
        (found, language.as_str()),
        (vec!["who-we-are".to_owned()], "sq")
    );
    let search = app
        .request(actix_web::http::Method::GET, "/api/v1/search?q=kontrollin")
        .header("accept-language", "sq-AL, en;q=0.5")
        .send()
        .await;
    assert_eq!(search.header("content-language").as_deref(), Some("sq"));
    let answer = search.ok(200);
    assert_eq!(answer["data"][0]["title"], "Kush jemi ne");
    assert!(
        answer["data"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>kontrollin</mark>"),
        "{answer}"
    );
    // Nowhere else: not in English, nor in Croatian (which falls back to English).
    for other in [
        "q=kontrollin",
        "q=kontrollin&locale=hr",
        "q=kontrollin&locale=ro",
    ] {
        assert_eq!(
            hits(&app, None, other).await.0,
            Vec::<String>::new(),
            "{other}"
        );
    }
    // Romanian stemming finds "armelor" by "armele"; Albanian has no configuration
    // in PostgreSQL, so `simple` matches only the word as written.
    assert_eq!(hits(&app, None, "q=armele&locale=ro").await.0, ["mission"]);
    assert_eq!(
        app.text("SELECT seesac_search_config('ro')::text AS value")
            .as_deref(),
        Some("romanian")
    );
    assert_eq!(
        app.text("SELECT seesac_search_config('sq')::text AS value")
            .as_deref(),
        Some("simple")
    );
    // A field not translated is searched as the reader sees it: in English.
    let (cookies, _) = hits(&app, None, "q=cookies&locale=sq&type=page").await;
    assert!(cookies.contains(&"cookies".to_owned()), "{cookies:?}");
    // A draft translation is found by an editor only.
    assert_eq!(
        hits(&app, None, "q=tajna&locale=hr").await.0,
        Vec::<String>::new()
    );
    assert_eq!(
        hits(&app, Some(&editor), "q=tajna&locale=hr").await.0,
        ["impact"]
    );
    app.get("/api/v1/search?q=x&locale=de")
        .await
        .problem(400, "invalid_request");
    // A collection's `q` in a locale searches the same way.
    for (query, expected) in [
        ("q=kontrollin&locale=sq", vec!["who-we-are"]),
        ("q=kontrollin", vec![]),
        ("q=armele&locale=ro", vec!["mission"]),
    ] {
        let list = app
            .get(&format!("/api/v1/pages?{query}&fields=slug"))
            .await
            .ok(200);
        let slugs: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|page| page["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, expected, "{query}: {list}");
    }
}
