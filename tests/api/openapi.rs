//! The OpenAPI document: committed, served, and complete.

use serde_json::Value;

use crate::helpers::TestApp;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    std::fs::read_to_string(path).expect("openapi/openapi.json is committed")
}

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated = seesac_api::apidoc::to_pretty_json().unwrap();
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
