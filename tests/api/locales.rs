//! Localised content: the locales, translations per field with a fallback chain
//! that says what it served, and translators' writes.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, page};
use crate::tokens::{create_token, secret};

const WHO: &str = "/api/v1/pages/who-we-are";

fn translation(fields: Value) -> Value {
    json!({"fields": fields, "status": "published"})
}

async fn translate(app: &TestApp, path: &str, locale: &str, fields: Value) -> Value {
    app.put(
        &app.editor(),
        &format!("{path}/translations/{locale}"),
        translation(fields),
    )
    .await
    .ok(201)
}

async fn read(app: &TestApp, path: &str, accept_language: Option<&str>) -> (Value, String) {
    let mut request = app.request(Method::GET, path);
    if let Some(accept) = accept_language {
        request = request.header("accept-language", accept);
    }
    let response = request.send().await;
    let language = response.header("content-language").unwrap_or_default();
    (response.ok(200), language)
}

#[actix_web::test]
async fn the_locales_are_listed_with_their_fallback_chains() {
    let app = TestApp::spawn().await;
    let list = app.get("/api/v1/locales").await.ok(200);
    let tags: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|locale| locale["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        [
            "en", "sq", "bs", "hr", "mk", "cnr", "ro", "sr-Latn", "sr-Cyrl", "uk"
        ]
    );
    assert_eq!(
        list["data"][0],
        json!({"tag": "en", "default": true, "fallbacks": []})
    );
    assert_eq!(
        list["data"][5],
        json!({"tag": "cnr", "default": false, "fallbacks": ["sr-Latn", "en"]})
    );
}

#[actix_web::test]
async fn each_field_falls_back_along_the_chain_on_its_own_and_says_so() {
    let app = TestApp::seeded().await;
    let own = app.get(WHO).await.ok(200);
    // Montenegrin falls back to Serbian (Latin), then English.
    translate(
        &app,
        WHO,
        "sr-Latn",
        json!({"title": "Ko smo mi", "summary": "SEESAC ukratko"}),
    )
    .await;
    translate(&app, WHO, "cnr", json!({"title": "Ko smo mi (cnr)"})).await;

    let (item, language) = read(&app, &format!("{WHO}?locale=cnr"), None).await;
    assert_eq!(language, "cnr");
    assert_eq!(item["title"], "Ko smo mi (cnr)");
    assert_eq!(item["summary"], "SEESAC ukratko");
    assert_eq!(item["body"], own["body"]);
    assert_eq!(item["body_html"], own["body_html"]);
    assert_eq!(item["slug"], "who-we-are", "keys are shared");
    // Exactly what came from elsewhere: the summary from Serbian, and what only
    // English has from English.
    let mut expected = json!({"summary": "sr-Latn", "body": "en"});
    for field in ["seo_title", "seo_description"] {
        if own[field].as_str().is_some_and(|text| !text.is_empty()) {
            expected[field] = json!("en");
        }
    }
    assert_eq!(item["meta"]["locale"], "cnr");
    assert_eq!(item["meta"]["fallbacks"], expected);
    // What a fieldset leaves out, `meta` does not mention.
    let (item, _) = read(&app, &format!("{WHO}?locale=cnr&fields=slug,summary"), None).await;
    assert_eq!(item["meta"]["fallbacks"], json!({"summary": "sr-Latn"}));
    // A list resolves each item as the item's own read does, whether its chain
    // has two locales besides English (`cnr`: a subquery per row) or one
    // (`sr-Latn`, and `cnr` without fallback: a join).
    for (query, title, summary) in [
        ("locale=cnr", "Ko smo mi (cnr)", json!("SEESAC ukratko")),
        ("locale=sr-Latn", "Ko smo mi", json!("SEESAC ukratko")),
        ("locale=cnr&fallback=false", "Ko smo mi (cnr)", Value::Null),
    ] {
        let (item, _) = read(&app, &format!("{WHO}?{query}"), None).await;
        let list = app
            .get_as(
                &app.editor(),
                &format!("/api/v1/pages?{query}&per_page=100"),
            )
            .await
            .ok(200);
        let listed = list["data"]
            .as_array()
            .and_then(|items| items.iter().find(|page| page["slug"] == "who-we-are"))
            .unwrap_or_else(|| panic!("{query}: who-we-are not listed: {list}"));
        assert_eq!(listed["title"], title, "{query}");
        assert_eq!(listed["summary"], summary, "{query}");
        assert_eq!(listed["meta"], item["meta"], "{query}");
        assert_eq!(listed["body_html"], item["body_html"], "{query}");
    }

    // An empty string counts as missing: the next locale's value is shown.
    app.patch(
        &app.editor(),
        &format!("{WHO}/translations/cnr"),
        json!({"fields": {"title": ""}}),
    )
    .await
    .ok(200);
    let (item, _) = read(&app, &format!("{WHO}?locale=cnr"), None).await;
    assert_eq!(item["title"], "Ko smo mi");
    assert_eq!(item["meta"]["fallbacks"]["title"], "sr-Latn");

    // Without fallback, what the locale lacks is null: what a translator must do.
    let (item, _) = read(&app, &format!("{WHO}?locale=cnr&fallback=false"), None).await;
    assert_eq!(item["title"], Value::Null);
    assert_eq!(item["summary"], Value::Null);
    assert_eq!(item["body"], Value::Null);
    assert_eq!(item["meta"]["fallbacks"], json!({}));
}

#[actix_web::test]
async fn accept_language_picks_the_locale_by_quality_and_the_query_wins() {
    let app = TestApp::seeded().await;
    translate(&app, WHO, "sq", json!({"title": "Kush jemi ne"})).await;
    translate(&app, WHO, "uk", json!({"title": "Хто ми"})).await;

    let (item, language) = read(&app, WHO, Some("de-DE, sq;q=0.5, uk;q=0.8")).await;
    assert_eq!(
        (item["title"].as_str(), language.as_str()),
        (Some("Хто ми"), "uk")
    );
    let (item, language) = read(&app, WHO, Some("sq-AL, uk;q=0.8")).await;
    assert_eq!(
        (item["title"].as_str(), language.as_str()),
        (Some("Kush jemi ne"), "sq")
    );
    let (item, _) = read(&app, &format!("{WHO}?locale=sq"), Some("uk")).await;
    assert_eq!(item["title"], "Kush jemi ne");
    // A language that is not enabled is the default, without error.
    let (item, language) = read(&app, WHO, Some("de, fr;q=0.5")).await;
    assert_eq!(
        (item["title"].as_str(), language.as_str()),
        (Some("Who we are"), "en")
    );
    // Lists too, each item on its own.
    let (list, language) = read(&app, "/api/v1/pages?slug=who-we-are", Some("uk")).await;
    assert_eq!(language, "uk");
    assert_eq!(list["data"][0]["title"], "Хто ми");
    assert_eq!(list["data"][0]["meta"]["locale"], "uk");
    let vary = app.get(WHO).await.header("vary").unwrap_or_default();
    assert!(vary.contains("Accept-Language"), "{vary}");
}

#[actix_web::test]
async fn an_unknown_locale_is_a_400_that_lists_the_enabled_ones() {
    let app = TestApp::seeded().await;
    for path in [
        format!("{WHO}?locale=de"),
        "/api/v1/pages?locale=xx-??".to_owned(),
    ] {
        let problem = app.get(&path).await.problem(400, "invalid_request");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("sq, bs, hr, mk, cnr, ro, sr-Latn"),
            "{detail}"
        );
    }
    // A tag is canonicalised: sr-latn is sr-Latn.
    let (_, language) = read(&app, &format!("{WHO}?locale=sr-latn"), None).await;
    assert_eq!(language, "sr-Latn");
}

#[actix_web::test]
async fn cached_anonymous_reads_in_two_locales_never_cross() {
    let app = TestApp::seeded().await;
    translate(&app, WHO, "sq", json!({"title": "Kush jemi ne"})).await;
    translate(&app, WHO, "hr", json!({"title": "Tko smo mi"})).await;
    for _ in 0..3 {
        let (sq, _) = read(&app, WHO, Some("sq")).await;
        let (hr, _) = read(&app, WHO, Some("hr-HR")).await;
        let (en, _) = read(&app, WHO, None).await;
        assert_eq!(sq["title"], "Kush jemi ne");
        assert_eq!(hr["title"], "Tko smo mi");
        assert_eq!(en["title"], "Who we are");
        assert!(
            en.get("meta").is_none(),
            "no locale asked: the item as it is"
        );
    }
    // A translation written empties the cache: the next read shows it.
    app.patch(
        &app.editor(),
        &format!("{WHO}/translations/sq"),
        json!({"fields": {"title": "Kush jemi"}}),
    )
    .await
    .ok(200);
    let (sq, _) = read(&app, WHO, Some("sq")).await;
    assert_eq!(sq["title"], "Kush jemi");
}

#[actix_web::test]
async fn a_published_translation_of_a_draft_item_stays_hidden_and_a_draft_translation_too() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    let mut draft = page("annual-report", "Annual report");
    draft["status"] = json!("draft");
    app.post(&editor, "/api/v1/pages", draft).await.ok(201);
    translate(
        &app,
        "/api/v1/pages/annual-report",
        "sq",
        json!({"title": "Raporti vjetor"}),
    )
    .await;
    app.get("/api/v1/pages/annual-report?locale=sq")
        .await
        .problem(404, "not_found");
    let list = app.get("/api/v1/pages?locale=sq").await.ok(200);
    assert_eq!(list["meta"]["total"], 0);

    // Published item, draft translation: readers see the English title.
    app.patch(
        &editor,
        "/api/v1/pages/annual-report",
        json!({"status": "published"}),
    )
    .await
    .ok(200);
    app.patch(
        &editor,
        "/api/v1/pages/annual-report/translations/sq",
        json!({"status": "draft"}),
    )
    .await
    .ok(200);
    let (item, _) = read(&app, "/api/v1/pages/annual-report?locale=sq", None).await;
    assert_eq!(item["title"], "Annual report");
    assert_eq!(item["meta"]["fallbacks"]["title"], "en");
    // An editor sees the draft translation.
    let seen = app
        .get_as(&editor, "/api/v1/pages/annual-report?locale=sq")
        .await
        .ok(200);
    assert_eq!(seen["title"], "Raporti vjetor");
    // A list, which joins the translations, hides the draft from readers alone.
    let title_in = |list: &Value| {
        list["data"]
            .as_array()
            .and_then(|items| items.iter().find(|page| page["slug"] == "annual-report"))
            .map(|page| (page["title"].clone(), page["meta"]["fallbacks"].clone()))
    };
    let public = app.get("/api/v1/pages?locale=sq").await.ok(200);
    assert_eq!(
        title_in(&public),
        Some((json!("Annual report"), json!({"title": "en", "body": "en"})))
    );
    let edited = app.get_as(&editor, "/api/v1/pages?locale=sq").await.ok(200);
    assert_eq!(
        title_in(&edited),
        Some((json!("Raporti vjetor"), json!({"body": "en"})))
    );
}

#[actix_web::test]
async fn a_translation_is_checked_versioned_and_marked_outdated_when_its_source_changes() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let path = format!("{WHO}/translations/sq");
    let bad = app
        .put(
            &editor,
            &path,
            json!({"fields": {"slug": "kush", "title": 7, "nonsense": "x",
                   "summary": "x".repeat(1001)}, "status": "live", "extra": 1}),
        )
        .await;
    let problem = bad.problem(422, "validation_failed");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/extra",
            "/fields/nonsense",
            "/fields/slug",
            "/fields/summary",
            "/fields/title",
            "/status"
        ],
        "{problem}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM translations"), 0);
    for locale in ["en", "de"] {
        app.put(
            &editor,
            &format!("{WHO}/translations/{locale}"),
            translation(json!({})),
        )
        .await
        .problem(404, "not_found");
    }

    let created = app
        .put(
            &editor,
            &path,
            translation(json!({"title": "Kush jemi ne", "body": "SEESAC *punon*"})),
        )
        .await;
    let etag = created.etag();
    let created = created.ok(201);
    assert_eq!(created["version"], 1);
    assert_eq!(created["outdated"], json!([]));
    assert_eq!(
        created["fields"]["body_html"],
        "<p>SEESAC <em>punon</em></p>\n"
    );
    let (item, _) = read(&app, &format!("{WHO}?locale=sq"), None).await;
    assert_eq!(item["body_html"], "<p>SEESAC <em>punon</em></p>\n");

    // A stale tag writes nothing.
    app.request(Method::PATCH, &path)
        .bearer(&editor)
        .header("if-match", "\"stale\"")
        .merge_patch(json!({"fields": {"title": "Kush"}}))
        .send()
        .await
        .problem(412, "precondition_failed");
    // The same body again is no new version.
    let same = app
        .request(Method::PUT, &path)
        .bearer(&editor)
        .header("if-match", &etag)
        .json(translation(
            json!({"title": "Kush jemi ne", "body": "SEESAC *punon*"}),
        ))
        .send()
        .await
        .ok(200);
    assert_eq!(same["version"], 1);

    // The English body changes: the Albanian body is outdated, the title is not.
    app.patch(
        &editor,
        WHO,
        json!({"body": "SEESAC works differently now."}),
    )
    .await
    .ok(200);
    let read_back = app.get_as(&editor, &path).await.ok(200);
    assert_eq!(read_back["outdated"], json!(["body"]));
    let all = app
        .get_as(&editor, &format!("{WHO}/translations"))
        .await
        .ok(200);
    assert_eq!(all["data"][0]["locale"], "sq");
    // Translating it again brings it up to date.
    let again = app
        .patch(
            &editor,
            &path,
            json!({"fields": {"body": "SEESAC punon ndryshe tani."}}),
        )
        .await
        .ok(200);
    assert_eq!(again["version"], 2);
    assert_eq!(again["outdated"], json!([]));
    assert_eq!(
        app.count(
            "SELECT (source_version = (SELECT version FROM pages WHERE slug = 'who-we-are'))::int::bigint \
             AS n FROM translations WHERE locale = 'sq'"
        ),
        1
    );
    assert_eq!(app.delete(&editor, &path).await.status(), 204);
    assert_eq!(app.count("SELECT count(*) AS n FROM translations"), 0);
    app.get_as(&editor, &path).await.problem(404, "not_found");
}

#[actix_web::test]
async fn only_editors_and_tokens_with_the_scope_write_translations() {
    let app = TestApp::seeded().await;
    let path = format!("{WHO}/translations/sq");
    app.request(Method::PUT, &path)
        .json(translation(json!({"title": "Kush jemi ne"})))
        .send()
        .await
        .problem(401, "unauthorized");
    let observations = secret(&create_token(&app, &["observations:write"], None).await);
    app.put(
        &observations,
        &path,
        translation(json!({"title": "Kush jemi ne"})),
    )
    .await
    .problem(403, "forbidden");
    let translator = secret(&create_token(&app, &["translations:write"], None).await);
    app.put(
        &translator,
        &path,
        translation(json!({"title": "Kush jemi ne"})),
    )
    .await
    .ok(201);
    // The scope writes translations, not the item.
    app.patch(&translator, WHO, json!({"title": "Who"}))
        .await
        .problem(403, "forbidden");
}

/// The work listed for the page `who-we-are`: (field, state) pairs.
fn work_on_who(list: &Value) -> Vec<(String, String)> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|work| work["key"] == "who-we-are")
        .map(|work| {
            (
                work["field"].as_str().unwrap().to_owned(),
                work["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn translators_see_what_is_missing_and_what_is_outdated_with_the_diff_since() {
    let app = TestApp::seeded().await;
    let editor = app.editor();
    let work = "/api/v1/translations?locale=sq&type=page&per_page=100";
    let own = app.get(WHO).await.ok(200);
    let mut expected: Vec<(String, String)> =
        ["body", "seo_description", "seo_title", "summary", "title"]
            .into_iter()
            .filter(|field| own[*field].as_str().is_some_and(|text| !text.is_empty()))
            .map(|field| (field.to_owned(), "missing".to_owned()))
            .collect();
    let before = app.get_as(&editor, work).await.ok(200);
    assert_eq!(work_on_who(&before), expected);
    assert!(before["meta"]["total"].as_i64().unwrap() > expected.len() as i64);

    translate(
        &app,
        WHO,
        "sq",
        json!({"title": "Kush jemi ne", "summary": "SEESAC shkurt"}),
    )
    .await;
    app.patch(&editor, WHO, json!({"summary": "SEESAC in brief."}))
        .await
        .ok(200);
    expected.retain(|(field, _)| field != "title" && field != "summary");
    expected.push(("summary".to_owned(), "outdated".to_owned()));
    expected.sort();
    let after = app.get_as(&editor, work).await.ok(200);
    let mut found = work_on_who(&after);
    found.sort();
    assert_eq!(found, expected);
    let outdated = app
        .get_as(&editor, &format!("{work}&state=outdated"))
        .await
        .ok(200);
    assert_eq!(outdated["meta"]["total"], 1);
    let entry = &outdated["data"][0];
    assert_eq!(
        entry["translation"],
        "/api/v1/pages/who-we-are/translations/sq"
    );
    let diff = app
        .get_as(&editor, entry["diff"].as_str().unwrap())
        .await
        .ok(200);
    assert!(
        diff.to_string().contains("\"/summary\""),
        "the diff shows the summary changed: {diff}"
    );

    app.get("/api/v1/translations?locale=sq")
        .await
        .problem(401, "unauthorized");
    for bad in ["", "?locale=en", "?locale=sq&state=stale"] {
        app.get_as(&editor, &format!("/api/v1/translations{bad}"))
            .await
            .problem(400, "invalid_request");
    }
}

#[actix_web::test]
async fn a_list_in_a_locale_sorts_and_filters_by_what_the_reader_sees() {
    let app = TestApp::spawn().await;
    let editor = app.editor();
    // English order: Alpha, Beta, Gamma; Albanian order: Zeta (alpha), Beta
    // untranslated (falls back), Ypsilon (gamma, a draft translation).
    for (slug, title) in [("alpha", "Alpha"), ("beta", "Beta"), ("gamma", "Gamma")] {
        let mut published = page(slug, title);
        published["status"] = json!("published");
        app.post(&editor, "/api/v1/pages", published).await.ok(201);
    }
    translate(&app, "/api/v1/pages/alpha", "sq", json!({"title": "Zeta"})).await;
    app.put(
        &editor,
        "/api/v1/pages/gamma/translations/sq",
        json!({"fields": {"title": "Ypsilon"}, "status": "draft"}),
    )
    .await
    .ok(201);
    let order = |list: Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = "/api/v1/pages?locale=sq&sort=title&fields=slug,title";
    // Anonymous readers see published translations only: Gamma stays English.
    assert_eq!(
        order(app.get(path).await.ok(200)),
        ["Beta", "Gamma", "Zeta"]
    );
    // An editor sees the draft one too.
    assert_eq!(
        order(app.get_as(&editor, path).await.ok(200)),
        ["Beta", "Ypsilon", "Zeta"]
    );
    assert_eq!(
        order(
            app.get("/api/v1/pages?locale=sq&sort=-title&fields=slug,title")
                .await
                .ok(200)
        ),
        ["Zeta", "Gamma", "Beta"]
    );
    // A filter compares what the reader sees too.
    let found = app
        .get("/api/v1/pages?locale=sq&title=Zeta&fields=slug,title")
        .await
        .ok(200);
    assert_eq!(found["data"][0]["slug"], "alpha");
    assert_eq!(found["meta"]["total"], 1);
    let english = app.get("/api/v1/pages?locale=sq&title=Alpha").await.ok(200);
    assert_eq!(english["meta"]["total"], 0, "Alpha reads Zeta in Albanian");
    assert_eq!(
        app.get("/api/v1/pages?title=Alpha").await.ok(200)["meta"]["total"],
        1
    );
}
