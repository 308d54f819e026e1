//! The OpenAPI document: committed, served, and complete.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    std::fs::read_to_string(path).expect("openapi/openapi.json is committed")
}

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated = seesac_api::app::apidoc::to_pretty_json().unwrap();
    assert!(
        generated == committed(),
        "openapi/openapi.json is out of date; regenerate it with:\n    cargo run -- openapi > openapi/openapi.json"
    );
}

#[actix_web::test]
async fn the_served_document_is_the_committed_one() {
    let app = TestApp::spawn().await;
    let served = app.get("/api-docs/openapi.json").await.ok(200);
    let committed: Value = serde_json::from_str(&committed()).unwrap();
    assert_eq!(served, committed);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[test]
fn every_operation_documents_its_errors_and_every_write_its_security() {
    let document: Value = serde_json::from_str(&committed()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                operation["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            assert!(operation["tags"].is_array(), "{method} {path} has no tag");
            if path.starts_with("/api/v1/") && method != "get" && path != "/api/v1/auth/token" {
                assert!(
                    operation["security"].is_array(),
                    "{method} {path} declares no security"
                );
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} does not document 401"
                );
                assert!(
                    responses.contains_key("403"),
                    "{method} {path} does not document 403"
                );
            }
            if matches!(method.as_str(), "put" | "patch" | "delete")
                && path.starts_with("/api/v1/pages")
            {
                assert!(
                    responses.contains_key("412"),
                    "{method} {path} does not document 412"
                );
            }
        }
    }
    let create = &document["paths"]["/api/v1/pages"]["post"];
    assert_eq!(create["operationId"], "create_page");
    let example = &document["components"]["schemas"]["NewPage"]["example"];
    assert_eq!(
        example["parent"], "who-we-are",
        "the examples come from the real content"
    );
}

#[test]
fn every_parameter_of_a_path_template_is_declared() {
    let document: Value = serde_json::from_str(&committed()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|part| part.split('}').next())
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            let declared: Vec<(&str, &str)> = operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            for name in &names {
                assert!(
                    declared.contains(&(name, "path")),
                    "{method} {path} does not declare {name}"
                );
            }
        }
    }
}

/// The `New...` schema of each collection's POST with a JSON body (not an upload),
/// and the collection.
fn creations(document: &Value) -> Vec<(String, Value)> {
    let mut creations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if let Some(post) = item.get("post")
            && path.starts_with("/api/v1/")
            && !path.ends_with("/batch")
            && !path.ends_with("/restore")
            && !["users", "auth", "tokens", "webhooks"].contains(&post["tags"][0].as_str().unwrap())
            && post["requestBody"]["content"]
                .get("application/json")
                .is_some()
        {
            let reference = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap();
            let name = reference.rsplit('/').next().unwrap();
            creations.push((
                path.replace("{key}", "women-in-armed-forces"),
                document["components"]["schemas"][name].clone(),
            ));
        }
    }
    creations
}

#[actix_web::test]
async fn the_document_requires_exactly_the_fields_validation_requires() {
    let app = TestApp::seeded().await;
    let document = app.get("/api-docs/openapi.json").await.ok(200);
    let creations = creations(&document);
    // Every collection is found (a kind added later is checked too, unnamed here).
    let paths: Vec<&str> = creations.iter().map(|(path, _)| path.as_str()).collect();
    for expected in [
        "/api/v1/pages",
        "/api/v1/impact-metrics",
        "/api/v1/impact-metrics/women-in-armed-forces/observations",
        "/api/v1/funders",
        "/api/v1/council-decisions",
        "/api/v1/contacts",
        "/api/v1/partners",
    ] {
        assert!(paths.contains(&expected), "{expected} not among {paths:?}");
    }
    for (path, schema) in creations {
        let mut required: Vec<String> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} requires nothing"))
            .iter()
            .map(|name| format!("/{}", name.as_str().unwrap()))
            .collect();
        required.sort();
        let refused = app.post(&app.admin(), &path, json!({})).await;
        let problem = refused.problem(422, "validation_failed");
        let mut missing: Vec<String> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|error| error["detail"] == "is required")
            .map(|error| error["pointer"].as_str().unwrap().to_owned())
            .collect();
        missing.sort();
        assert_eq!(missing, required, "POST {path}");
        // Required means present and not null, in the schema as in the service.
        for name in &required {
            let property = &schema["properties"][name.trim_start_matches('/')];
            assert!(
                !property.to_string().contains("\"null\""),
                "POST {path}: {name} may not be null: {property}"
            );
        }
    }
}

#[actix_web::test]
async fn every_documented_operation_is_routed_and_nothing_else_is() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(&committed()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{key}", "women-in-armed-forces")
            .replace("{id}", "5eed0000-0000-4000-8000-000000000703")
            .replace("{slug}", "mission")
            .replace("{celex}", "32019D2111")
            .replace("{username}", "admin");
        let mut documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|method| method.to_uppercase())
            .collect();
        if documented.contains(&"GET".to_owned()) {
            documented.push("HEAD".to_owned());
        }
        documented.sort();
        let response = app
            .request(actix_web::http::Method::OPTIONS, &concrete)
            .send()
            .await;
        assert_eq!(response.status(), 204, "OPTIONS {concrete}");
        let mut allowed: Vec<String> = response
            .header("allow")
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        allowed.sort();
        assert_eq!(allowed, documented, "{path}");
    }
}

#[test]
fn reads_answer_sparse_items_and_writes_complete_ones() {
    let document: Value = serde_json::from_str(&committed()).unwrap();
    let schemas = &document["components"]["schemas"];
    let get = &document["paths"]["/api/v1/pages/{slug}"]["get"]["responses"]["200"];
    let read = get["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    assert_eq!(read, "#/components/schemas/SparsePage");
    assert!(
        !schemas["SparsePage"].to_string().contains("\"required\""),
        "with fields=, any field may be missing"
    );
    let put = &document["paths"]["/api/v1/pages/{slug}"]["put"]["responses"]["200"];
    let written = put["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    assert_eq!(written, "#/components/schemas/PageItem");
    let page_fields = schemas["Page"]["required"].as_array().unwrap();
    assert!(page_fields.contains(&json!("summary")), "null, but there");
    assert!(
        schemas["PageReplacement"]["properties"]
            .get("slug")
            .is_none(),
        "PUT's URL carries the key"
    );
}
