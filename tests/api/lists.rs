//! The list language: paging, sorting, filters, sparse fieldsets, embeddings, and
//! hostile query strings.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, page};

fn keys(list: &Value, field: &str) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

fn links(link: &str) -> Vec<(String, String)> {
    link.split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; rel=").unwrap();
            (
                rel.trim_matches('"').to_owned(),
                url.trim_matches(['<', '>']).to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn paging_walks_every_item_once_with_meta_and_link_headers() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    // Equal positions everywhere: only the tie-breaker keeps the order stable.
    for i in 0..23 {
        let mut body = page(&format!("page-{i:02}"), "Same title");
        body["status"] = json!("published");
        app.post(&token, "/api/v1/pages", body).await.ok(201);
    }
    let first = app
        .get("/api/v1/pages?per_page=5&sort=title&fields=slug")
        .await;
    let body = first.ok(200);
    assert_eq!(
        body["meta"],
        json!({"page": 1, "per_page": 5, "total": 23, "total_pages": 5})
    );
    let rels = links(&first.header("link").unwrap());
    let names: Vec<&str> = rels.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(names, ["first", "next", "last"]);
    assert!(
        rels[1]
            .1
            .ends_with("/api/v1/pages?per_page=5&sort=title&fields=slug&page=2"),
        "{rels:?}"
    );
    assert!(rels[2].1.ends_with("page=5"));

    let mut seen = Vec::new();
    for number in 1..=5 {
        let response = app
            .get(&format!(
                "/api/v1/pages?per_page=5&sort=title&fields=slug&page={number}"
            ))
            .await;
        let body = response.ok(200);
        // Every page tells the total: the last (3 items) from its own length.
        assert_eq!(body["meta"]["total"], 23, "page {number}");
        seen.extend(keys(&body, "slug"));
        let rels: Vec<String> = links(&response.header("link").unwrap())
            .into_iter()
            .map(|(rel, _)| rel)
            .collect();
        assert_eq!(rels.contains(&"prev".to_owned()), number > 1);
        assert_eq!(rels.contains(&"next".to_owned()), number < 5);
    }
    assert_eq!(seen.len(), 23);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        23,
        "no item skipped or repeated"
    );
    let past = app.get("/api/v1/pages?per_page=5&page=9").await.ok(200);
    assert_eq!(past["data"], json!([]));
    assert_eq!(past["meta"]["total"], 23);
}

#[actix_web::test]
async fn lists_sort_by_several_allow_listed_keys() {
    let app = TestApp::seeded().await;
    let by_title = app
        .get("/api/v1/pages?sort=-title&fields=title&per_page=3")
        .await
        .ok(200);
    assert_eq!(
        keys(&by_title, "title"),
        [
            "Who we are",
            "Website management",
            "Monitoring and reporting progress"
        ]
    );
    // A key named again adds nothing, as in SQL: the first mention decides.
    let repeated = app
        .get("/api/v1/pages?sort=-title,title&fields=title&per_page=3")
        .await
        .ok(200);
    assert_eq!(repeated["data"], by_title["data"]);
    let metrics = app
        .get("/api/v1/impact-metrics?sort=category,-position&fields=key,category&per_page=3")
        .await
        .ok(200);
    assert_eq!(
        keys(&metrics, "key"),
        [
            "people-informed-through-social-media",
            "salw-awareness-campaigns",
            "firearms-focal-points"
        ]
    );
    let decisions = app
        .get("/api/v1/council-decisions?fields=celex&per_page=2")
        .await
        .ok(200);
    assert_eq!(
        keys(&decisions, "celex"),
        ["32019D2111", "32018D1788"],
        "newest first by default"
    );
}

#[actix_web::test]
async fn filters_take_every_operator_on_allow_listed_fields() {
    let app = TestApp::seeded().await;
    let total = |list: Value| list["meta"]["total"].as_i64().unwrap();
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?category=gender-equality")
                .await
                .ok(200)
        ),
        2
    );
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?category[ne]=gender-equality")
                .await
                .ok(200)
        ),
        8
    );
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?category[in]=awareness,disarmament")
                .await
                .ok(200)
        ),
        3
    );
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?position[lt]=3")
                .await
                .ok(200)
        ),
        2
    );
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?position[lte]=3")
                .await
                .ok(200)
        ),
        3
    );
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?position[gt]=8")
                .await
                .ok(200)
        ),
        2
    );
    assert_eq!(
        total(
            app.get("/api/v1/impact-metrics?position[gte]=8")
                .await
                .ok(200)
        ),
        3
    );
    assert_eq!(
        total(app.get("/api/v1/impact-metrics?sdg_goals=5").await.ok(200)),
        3
    );
    assert_eq!(
        total(
            app.get("/api/v1/funders?kind=government_agency&country_code=US")
                .await
                .ok(200)
        ),
        1
    );
    assert_eq!(
        total(
            app.get("/api/v1/council-decisions?supersedes[null]=true")
                .await
                .ok(200)
        ),
        2
    );
    assert_eq!(
        total(
            app.get("/api/v1/council-decisions?celex[gte]=32010D0000")
                .await
                .ok(200)
        ),
        5
    );
    let obs = "/api/v1/impact-metrics/women-in-armed-forces/observations";
    assert_eq!(
        total(
            app.get(&format!("{obs}?period_start[gte]=2012-01-01"))
                .await
                .ok(200)
        ),
        2
    );
    assert_eq!(
        total(
            app.get(&format!("{obs}?value[gt]=5&value_max[null]=true"))
                .await
                .ok(200)
        ),
        1
    );

    // Dates, and the sync jobs' updated_since.
    let token = app.editor();
    let adopted = json!({"adopted_on": "2019-12-16"});
    app.patch(&token, "/api/v1/council-decisions/32019D2111", adopted)
        .await
        .ok(200);
    assert_eq!(
        total(
            app.get("/api/v1/council-decisions?adopted_on[gte]=2010-01-01")
                .await
                .ok(200)
        ),
        1
    );
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let since = later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        total(
            app.get(&format!("/api/v1/pages?updated_since={since}"))
                .await
                .ok(200)
        ),
        0
    );
    assert_eq!(
        total(
            app.get("/api/v1/pages?updated_since=2000-01-01")
                .await
                .ok(200)
        ),
        8
    );

    // Status filters matter to editors: anonymous callers see published items only.
    app.post(&token, "/api/v1/pages", page("draft", "Draft"))
        .await
        .ok(201);
    assert_eq!(
        total(
            app.get_as(&token, "/api/v1/pages?status[in]=draft,archived")
                .await
                .ok(200)
        ),
        1
    );
    assert_eq!(
        total(app.get("/api/v1/pages?status=draft").await.ok(200)),
        0
    );
}

#[actix_web::test]
async fn hostile_query_strings_are_refused_with_a_400_that_names_the_parameter() {
    let app = TestApp::seeded().await;
    let cases = [
        ("sort=t1.password", "sort"),
        ("sort=title;drop%20table%20pages", "sort"),
        ("sort=%22title%22", "sort"),
        ("sort=body_html", "sort"),
        (
            "sort=title,title,slug,position,published_at,created_at",
            "sort",
        ),
        ("title[eq][x]=a", "title[eq][x]"),
        ("title[like]=%25", "title[like]"),
        ("status[in]=", "status[in]"),
        ("status=secret", "status"),
        ("position=1%20OR%201=1", "position"),
        ("published_at[gt]=yesterday", "published_at[gt]"),
        ("updated_since=1%27;--", "updated_since"),
        ("per_page=100000", "per_page"),
        ("page=0", "page"),
        ("page=99999999999999999999", "page"),
        ("fields=slug,password_hash", "fields"),
        ("include=users", "include"),
        ("colour=red", "colour"),
        ("pages.slug=x", "pages.slug"),
        ("q=", "q"),
        ("page=1&page=2", "page"),
    ];
    for (query, parameter) in cases {
        let response = app.get(&format!("/api/v1/pages?{query}")).await;
        let problem = response.problem(400, "invalid_request");
        assert_eq!(response.pointers(), [parameter], "{query}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(parameter.split('[').next().unwrap()),
            "{query}: {problem}"
        );
    }
    let observations = "/api/v1/impact-metrics/women-in-armed-forces/observations?q=women";
    app.get(observations).await.problem(400, "invalid_request");
    app.get("/api/v1/pages/mission?sort=title")
        .await
        .problem(400, "invalid_request");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages"),
        8,
        "nothing reached SQL"
    );
}

#[actix_web::test]
async fn sparse_fieldsets_return_just_the_fields_asked_for() {
    let app = TestApp::seeded().await;
    let list = app
        .get("/api/v1/pages?fields=slug,title&per_page=100")
        .await
        .ok(200);
    for item in list["data"].as_array().unwrap() {
        let mut names: Vec<&String> = item.as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(names, ["slug", "title"]);
    }
    let item = app
        .get("/api/v1/impact-metrics/women-in-armed-forces?fields=key,latest")
        .await
        .ok(200);
    assert_eq!(item.as_object().unwrap().len(), 2);
    assert_eq!(item["latest"]["value_max"], 9);
}

#[actix_web::test]
async fn an_embedding_costs_the_same_queries_whatever_the_page_size() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    let queries = |timing: Option<String>| -> u32 {
        let timing = timing.expect("Server-Timing");
        let desc = timing.split("desc=\"").nth(1).unwrap();
        desc.split(' ').next().unwrap().parse().unwrap()
    };
    for (collection, include) in [
        ("/api/v1/impact-metrics", "observations"),
        ("/api/v1/pages", "children"),
        ("/api/v1/funders", "parent,children"),
        ("/api/v1/council-decisions", "line"),
    ] {
        let one = app
            .get_as(
                &token,
                &format!("{collection}?per_page=1&include={include}"),
            )
            .await;
        // Both pages full, so that both count the list (a page that is not full
        // needs no count).
        let all = app
            .get_as(
                &token,
                &format!("{collection}?per_page=5&include={include}"),
            )
            .await;
        assert_eq!(
            all.ok(200)["data"].as_array().unwrap().len(),
            5,
            "{collection}"
        );
        assert!(all.json()["meta"]["total"].as_i64().unwrap() > 5);
        assert_eq!(
            queries(one.header("server-timing")),
            queries(all.header("server-timing")),
            "{collection}"
        );
    }
}

#[actix_web::test]
async fn every_parameter_field_and_operator_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let document = app.get("/api-docs/openapi.json").await.ok(200);
    let parameters = document["paths"]["/api/v1/impact-metrics"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let named = |name: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    let sort = named("sort");
    let sort: Vec<&str> = sort["schema"]["items"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        sort.contains(&"-position") && sort.contains(&"label") && !sort.contains(&"description")
    );
    let fields = named("fields")["schema"]["items"]["enum"].clone();
    assert!(fields.as_array().unwrap().contains(&json!("latest")));
    assert_eq!(
        named("include")["schema"]["items"]["enum"],
        json!(["observations", "latest_by_area"])
    );
    let category = named("category");
    assert_eq!(category["style"], "deepObject");
    // The plain value (`category=…`), or the operators (`category[ne]=…`).
    let forms = category["schema"]["oneOf"].as_array().unwrap();
    assert_eq!(forms.len(), 2);
    assert_eq!(forms[0]["enum"].as_array().unwrap().len(), 7);
    let operators = forms[1]["properties"].as_object().unwrap();
    let mut names: Vec<&String> = operators.keys().collect();
    names.sort();
    assert_eq!(names, ["eq", "in", "ne"]);
    assert_eq!(operators["eq"]["enum"].as_array().unwrap().len(), 7);
    let position = named("position")["schema"]["oneOf"][1]["properties"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(position, 7);
    for name in ["page", "per_page", "updated_since", "q"] {
        named(name);
    }
}

#[actix_web::test]
async fn an_in_filter_may_come_as_its_parameter_repeated() {
    let app = TestApp::seeded().await;
    let comma = app
        .get("/api/v1/pages?slug[in]=mission,impact&fields=slug")
        .await
        .ok(200);
    let repeated = app
        .get("/api/v1/pages?slug[in]=mission&slug[in]=impact&fields=slug")
        .await
        .ok(200);
    assert_eq!(comma["meta"]["total"], 2);
    assert_eq!(repeated["data"], comma["data"]);
    // Only a list may repeat.
    let twice = app
        .get("/api/v1/pages?slug[eq]=mission&slug[eq]=impact")
        .await;
    twice.problem(400, "invalid_request");
    assert_eq!(twice.pointers(), ["slug[eq]"]);
}

#[actix_web::test]
async fn a_fieldset_of_pages_shows_their_text_whole_when_it_asks_for_it() {
    let app = TestApp::seeded().await;
    let item = app.get("/api/v1/pages/mission").await.ok(200);
    let find = |list: &Value| -> Value {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|page| page["slug"] == "mission")
            .cloned()
            .expect("mission in the list")
    };
    let html = app
        .get("/api/v1/pages?fields=slug,body_html&per_page=100")
        .await
        .ok(200);
    assert_eq!(
        find(&html),
        json!({"slug": "mission", "body_html": item["body_html"]})
    );
    let markdown = app
        .get("/api/v1/pages?fields=slug,body&per_page=100")
        .await
        .ok(200);
    assert_eq!(
        find(&markdown),
        json!({"slug": "mission", "body": item["body"]})
    );
    assert!(item["body"].as_str().unwrap().len() > 100);
    // Without a fieldset, a list shows pages as the item does.
    let whole = app.get("/api/v1/pages?per_page=100").await.ok(200);
    assert_eq!(find(&whole), item);
    // Children embedded in a list of slugs are whole pages.
    let tree = app
        .get("/api/v1/pages?fields=slug&include=children&slug=who-we-are")
        .await
        .ok(200);
    let children = tree["data"][0]["children"].as_array().unwrap();
    let child = children.iter().find(|c| c["slug"] == "mission").unwrap();
    assert_eq!(child["body_html"], item["body_html"]);
    assert!(tree["data"][0].get("body").is_none());
}
