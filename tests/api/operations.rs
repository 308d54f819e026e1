//! The index, liveness, readiness and the Swagger UI.

use crate::helpers::TestApp;

#[actix_web::test]
async fn the_index_names_the_service_and_links_to_its_docs() {
    let app = TestApp::spawn().await;
    let index = app.get("/").await.ok(200);
    assert_eq!(index["name"], "seesac-api");
    assert_eq!(index["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(index["links"]["docs"], "/docs/");
    assert_eq!(index["links"]["openapi"], "/api-docs/openapi.json");
    assert_eq!(index["links"]["pages"], "/api/v1/pages");
}

#[actix_web::test]
async fn liveness_and_readiness_answer_200_while_the_database_answers() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.ok(200)["status"], "ok");
    assert_eq!(app.get("/readyz").await.ok(200)["status"], "ready");
}

#[actix_web::test]
async fn the_swagger_ui_is_served_without_a_download() {
    let app = TestApp::spawn().await;
    let ui = app.get("/docs/").await;
    assert_eq!(ui.status(), 200);
    assert!(String::from_utf8_lossy(&ui.body).contains("swagger-ui"));
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
}
