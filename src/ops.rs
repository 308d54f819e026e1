//! Discovery and operations: the JSON index at `/`, liveness and readiness.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http;

/// What the service is and where to go from here.
#[derive(Debug, Serialize, ToSchema)]
pub struct Index {
    /// The service's name.
    #[schema(example = "seesac-api")]
    pub name: &'static str,
    /// The service's version.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// What the service is, in one sentence.
    pub description: &'static str,
    /// Links to the documentation, the OpenAPI document and every collection.
    #[schema(value_type = Object)]
    pub links: serde_json::Value,
}

#[utoipa::path(get, path = "/", tag = "operations", summary = "The API index",
    responses((status = 200, description = "Name, version and links", body = Index)))]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(Index {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        description: "The content API of SEESAC, the South Eastern and Eastern Europe Clearinghouse \
                      for the Control of Small Arms and Light Weapons",
        links: json!({
            "docs": "/docs/",
            "openapi": "/api-docs/openapi.json",
            "health": "/healthz",
            "ready": "/readyz",
            "token": "/api/v1/auth/token",
            "search": "/api/v1/search",
            "pages": "/api/v1/pages",
            "impact_metrics": "/api/v1/impact-metrics",
            "funders": "/api/v1/funders",
            "council_decisions": "/api/v1/council-decisions",
            "contacts": "/api/v1/contacts",
            "contact": "/api/v1/contact",
        }),
    })
}

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` from `/healthz`, `ready` from `/readyz`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", summary = "Liveness",
    description = "200 while the process serves requests; does not touch the database.",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Health { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "operations", summary = "Readiness",
    description = "200 when the database answers, 503 (with Retry-After) when it does not.",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = crate::error::Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn readyz(db: Db) -> AppResult<HttpResponse> {
    db.run(|conn| {
        conn.batch_execute("SELECT 1")
            .map_err(|e| AppError::Unavailable(e.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Health { status: "ready" }))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

fn route(path: &str, allow: &'static str, handler: actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler)
        .default_service(web::to(move |req: HttpRequest| {
            http::other_method(req, allow)
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let get = || {
        actix_web::Route::new()
            .guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
    };
    cfg.service(route("/", "GET, HEAD", get().to(index)))
        .service(route("/api/v1", "GET, HEAD", get().to(index)))
        .service(route("/healthz", "GET, HEAD", get().to(healthz)))
        .service(route("/readyz", "GET, HEAD", get().to(readyz)))
        .service(route("/docs", "GET, HEAD", get().to(docs_redirect)));
}
