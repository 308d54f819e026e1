//! Discovery and operations: the JSON index at `/`, liveness, readiness, and the
//! OpenAPI document.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::platform::auth::Caller;
use crate::platform::cache::ReadCache;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{BadParameter, BadToken, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query;
use crate::platform::routing::Table;
use utoipa::openapi::HttpMethod;

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

/// The index's links: the documents and checks, the login, and every collection
/// of the route table (each GET path under `/api/v1` without a parameter), named by
/// its last segment. Made once, at start.
#[derive(Debug, Clone)]
pub struct Links(serde_json::Value);

impl Links {
    pub fn of(table: &Table) -> Self {
        let mut links = serde_json::Map::new();
        for (name, path) in [
            ("docs", "/docs/"),
            ("openapi", "/api-docs/openapi.json"),
            ("health", "/healthz"),
            ("ready", "/readyz"),
            ("token", "/api/v1/auth/token"),
        ] {
            links.insert(name.to_owned(), json!(path));
        }
        for route in table.documented() {
            let collection = route
                .path
                .strip_prefix("/api/v1/")
                .filter(|rest| !rest.contains(['{', '/']));
            if let (HttpMethod::Get, Some(name)) = (&route.method, collection) {
                links.insert(name.replace('-', "_"), json!(route.path));
            }
        }
        Self(serde_json::Value::Object(links))
    }
}

pub async fn index(links: web::Data<Links>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(Index {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        description: "The content API of SEESAC, the South Eastern and Eastern Europe Clearinghouse \
                      for the Control of Small Arms and Light Weapons",
        links: links.0.clone(),
    })
}

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` from `/healthz`, `ready` from `/readyz`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Health { status: "ok" })
}

/// A readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Always `ready` (a 503 otherwise).
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Whether anonymous reads may be served from this instance's read cache
    /// (`on`), go to the database while it is closed (`off`: after a change, at a
    /// scheduled publication, or while its listener is reconnecting), or never use
    /// it (`disabled`: `SEESAC_READ_CACHE_BYTES=0`).
    #[schema(example = "on")]
    pub read_cache: ReadCacheState,
}

/// The state of the read cache.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadCacheState {
    On,
    Off,
    Disabled,
}

pub async fn readyz(db: Db, cache: web::Data<ReadCache>) -> AppResult<HttpResponse> {
    db.run(|conn| {
        conn.batch_execute("SELECT 1")
            .map_err(|e| AppError::Unavailable(e.to_string()))
    })
    .await?;
    let read_cache = match (cache.enabled(), cache.is_open()) {
        (false, _) => ReadCacheState::Disabled,
        (true, true) => ReadCacheState::On,
        (true, false) => ReadCacheState::Off,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Readiness {
            status: "ready",
            read_cache,
        }))
}

/// The OpenAPI document as served: the committed `openapi/openapi.json`, compiled
/// into the binary, without its indentation, and tagged once.
///
/// Building the document from the code (`apidoc::document`) takes about 17 MB of
/// memory for a moment, which was the service's peak. The committed file is what
/// the code generates (a test fails otherwise), so it is served instead.
#[derive(Debug, Clone)]
pub struct OpenApiJson {
    bytes: web::Bytes,
    etag: String,
}

impl OpenApiJson {
    pub fn committed() -> Self {
        const DOCUMENT: &str = include_str!("../../openapi/openapi.json");
        let bytes = compact(DOCUMENT);
        Self {
            etag: http::etag_of(&bytes),
            bytes: bytes.into(),
        }
    }
}

/// `json` (valid JSON) without the whitespace between its tokens.
fn compact(json: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for byte in json.bytes() {
        if in_string {
            out.push(byte);
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if !byte.is_ascii_whitespace() {
            in_string = byte == b'"';
            out.push(byte);
        }
    }
    out
}

pub async fn openapi(
    document: web::Data<OpenApiJson>,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    query::Params::none(req.query_string())?;
    Ok(http::read_tagged(
        &req,
        &caller,
        document.bytes.clone(),
        &document.etag,
        "application/json",
        &[],
    ))
}

pub fn index_doc() -> Doc {
    index_at("index", "The API index")
        .describe("Name, version, and links to the documentation and every collection.")
}

pub fn api_index_doc() -> Doc {
    index_at("api_index", "The API index, under /api/v1").describe("The same as `/`.")
}

/// The index, at either of its paths.
fn index_at(id: &str, summary: &str) -> Doc {
    Doc::new(id, "operations", summary)
        .schema::<Index>()
        .answer(Answer::json(200, "Name, version and links", "Index"))
}

pub fn healthz_doc() -> Doc {
    Doc::new("healthz", "operations", "Liveness")
        .describe("200 while the process serves requests; does not touch the database.")
        .schema::<Health>()
        .answer(Answer::json(200, "Alive", "Health"))
}

pub fn readyz_doc() -> Doc {
    Doc::new("readyz", "operations", "Readiness")
        .describe("200 when the database answers, 503 (with Retry-After) when it does not.")
        .schema::<ReadCacheState>()
        .schema::<Readiness>()
        .answer(Answer::json(200, "Ready", "Readiness"))
        .problems::<Unavailable>()
}

pub fn openapi_doc() -> Doc {
    Doc::new("openapi", "operations", "This document")
        .describe(
            "The OpenAPI 3.1 document of the service, the one the Swagger UI at `/docs/` shows.",
        )
        .security(Security::Public)
        .answer(
            Answer::with_content(
                200,
                "The document",
                "application/json",
                ObjectBuilder::new().schema_type(Type::Object).into(),
            )
            .header("ETag", "Its tag"),
        )
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken)>()
}

#[cfg(test)]
mod tests {
    use super::compact;
    use serde_json::Value;

    #[test]
    fn compacting_keeps_what_is_inside_strings() {
        let json = "{\n  \"a b\": [1, \"x \\\" y\\\\\", {\"c\" : null}]\n}";
        let compacted = String::from_utf8(compact(json)).ok();
        assert_eq!(
            compacted.as_deref(),
            Some(r#"{"a b":[1,"x \" y\\",{"c":null}]}"#)
        );
        let parsed = serde_json::from_str::<Value>(json).ok();
        let reparsed = compacted.and_then(|text| serde_json::from_str::<Value>(&text).ok());
        assert!(parsed.is_some());
        assert_eq!(reparsed, parsed);
    }
}
