//! HTTP plumbing shared by every endpoint: the JSON body extractor (415, 413, 400
//! with a pointer), ETags and conditional requests (304, 412), caching headers, 405
//! with `Allow`, and the middleware that turns any error actix raises by itself into
//! problem+json and reports database time in `Server-Timing`.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::db::QueryStats;
use crate::error::{AppError, AppResult, PROBLEM_JSON, problem};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Reads a request body that must be a JSON object: checked for media type (415),
/// size (413) and syntax (400). Handlers call it after authorising, so an anonymous
/// write is a 401 whatever its body.
pub async fn json_object(
    req: &HttpRequest,
    payload: web::Payload,
) -> AppResult<serde_json::Map<String, Value>> {
    check_media_type(req)?;
    let too_large = AppError::PayloadTooLarge { limit: BODY_LIMIT };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT) {
        return Err(too_large);
    }
    let bytes = payload
        .to_bytes_limited(BODY_LIMIT)
        .await
        .map_err(|_| too_large)?
        .map_err(|error| {
            AppError::bad_request("/", format!("the body could not be read: {error}"))
        })?;
    parse_object(&bytes)
}

/// JSON bodies: `application/json`, any `+json` type (merge patches among them).
fn check_media_type(req: &HttpRequest) -> AppResult<()> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(AppError::UnsupportedMediaType(
            "send the body as JSON, with Content-Type: application/json".to_owned(),
        ));
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    // JSON Patch (RFC 6902) is a different language from the merge patches we take.
    let is_json = essence == "application/json"
        || (essence.starts_with("application/")
            && essence.ends_with("+json")
            && essence != "application/json-patch+json");
    if is_json {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(format!(
            "the body is {essence}; send JSON, with Content-Type: application/json \
             (or application/merge-patch+json for PATCH)"
        )))
    }
}

pub fn parse_object(bytes: &[u8]) -> AppResult<serde_json::Map<String, Value>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        AppError::bad_request("/", format!("the body is not valid JSON: {error}"))
    })?;
    if let Some(pointer) = find_nul(&value, String::new()) {
        return Err(AppError::bad_request(
            pointer,
            "text may not contain NUL characters",
        ));
    }
    match value {
        Value::Object(object) => Ok(object),
        other => Err(AppError::bad_request(
            "/",
            format!("the body must be a JSON object, not {}", json_type(&other)),
        )),
    }
}

/// PostgreSQL text cannot hold NUL, so it is refused here rather than failing there.
fn find_nul(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => {
            Some(if at.is_empty() { "/".into() } else { at })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_nul(item, format!("{at}/{i}"))),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(format!("{at}/"))
            } else {
                find_nul(item, format!("{at}/{}", pointer_escape(key)))
            }
        }),
        _ => None,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Deserialises a JSON object into a body type; a wrong type or an unknown field is
/// a 400 whose pointer names the field.
pub fn from_object<T: DeserializeOwned>(object: serde_json::Map<String, Value>) -> AppResult<T> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|error| {
        let mut pointer = String::new();
        for segment in error.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Map { key } => pointer.push_str(&format!("/{}", pointer_escape(key))),
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        let inner = error.into_inner().to_string();
        // serde's messages name Rust types; say it in JSON terms where we can.
        let detail = match inner.strip_prefix("unknown field `") {
            Some(rest) => format!(
                "unknown field {}",
                rest.split('`').next().unwrap_or_default()
            ),
            None => inner,
        };
        let pointer = if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer
        };
        AppError::bad_request(pointer, detail)
    })
}

/// A strong ETag over the exact bytes of a representation.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// The entity tags of an `If-Match` or `If-None-Match` header.
pub fn tags(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
}

/// `If-None-Match` on a read (weak comparison).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    let Some(header) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let bare = |tag: &str| tag.trim_start_matches("W/").to_owned();
    tags(header).any(|tag| tag == "*" || bare(tag) == bare(etag))
}

/// Public answers may be cached by anyone for a minute; answers for a token are
/// the caller's alone.
fn cache_control(caller: &Caller) -> &'static str {
    if caller.is_authenticated() {
        "private, no-store"
    } else {
        "public, max-age=60"
    }
}

/// What changes a read's answer besides its URL.
pub const VARY: &str = "Authorization, Origin";

/// A JSON read: ETag, 304 for a matching `If-None-Match`, caching headers.
pub fn read(
    req: &HttpRequest,
    caller: &Caller,
    body: &Value,
    extra: &[(header::HeaderName, String)],
) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let etag = etag_of(&bytes);
    let unchanged = not_modified(req, &etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        let mut ok = HttpResponse::Ok();
        ok.content_type("application/json");
        ok
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control(caller)))
        .insert_header((header::VARY, VARY));
    for (name, value) in extra {
        response.insert_header((name.clone(), value.clone()));
    }
    if unchanged {
        response.finish()
    } else {
        response.body(bytes)
    }
}

/// The answer to a write: the item as it now is, with its ETag.
pub fn written(status: StatusCode, body: &Value, location: Option<String>) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = HttpResponse::build(status);
    response
        .content_type("application/json")
        .insert_header((header::ETAG, etag_of(&bytes)))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    response.body(bytes)
}

/// 405 for any method a resource does not have; OPTIONS answers with `Allow`.
pub async fn other_method(req: HttpRequest, allow: &'static str) -> AppResult<HttpResponse> {
    if req.method() == actix_web::http::Method::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow))
            .finish());
    }
    Err(AppError::MethodNotAllowed { allow })
}

/// 404 for every path the API does not have.
pub async fn unknown_route(req: HttpRequest) -> AppResult<HttpResponse> {
    Err(AppError::NotFound(format!(
        "there is nothing at {}; the API index is at /",
        req.path()
    )))
}

/// Wraps every request: counts its database work for `Server-Timing`, and turns an
/// error response that is not problem+json (actix's own, CORS refusals) into one.
pub async fn finish_response(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let stats = Arc::new(QueryStats::default());
    req.extensions_mut().insert(stats.clone());
    let mut response = next.call(req).await?.map_into_boxed_body();
    if stats.queries() > 0 {
        let timing = format!(
            "db;dur={:.3};desc=\"{} queries\"",
            stats.millis(),
            stats.queries()
        );
        if let Ok(value) = header::HeaderValue::from_str(&timing) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static("server-timing"), value);
        }
    }
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !status.is_client_error() && !status.is_server_error() || is_problem {
        return Ok(response);
    }
    let (request, original) = response.into_parts();
    let headers = original.headers().clone();
    let text = actix_web::body::to_bytes_limited(original.into_body(), 2048)
        .await
        .ok()
        .and_then(Result::ok)
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .filter(|text| !text.is_empty() && status.is_client_error())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let mut rebuilt = HttpResponse::build(status);
    for (name, value) in headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rebuilt.append_header((name.clone(), value.clone()));
        }
    }
    rebuilt.content_type(PROBLEM_JSON);
    let rebuilt = rebuilt.json(problem(status, text, Vec::new()));
    Ok(ServiceResponse::new(request, rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_strong_and_follow_the_bytes() {
        let a = etag_of(b"{\"a\":1}");
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        assert_eq!(a, etag_of(b"{\"a\":1}"));
        assert_ne!(a, etag_of(b"{\"a\":2}"));
    }

    #[test]
    fn bodies_must_be_json_objects_without_nul() {
        assert!(parse_object(b"{\"title\": \"Mission\"}").is_ok());
        for bad in [
            &b"[1]"[..],
            b"\"x\"",
            b"{\"a\":",
            b"",
            b"{\"a\": \"x\\u0000y\"}",
        ] {
            assert!(
                matches!(parse_object(bad), Err(AppError::BadRequest { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only deserialised")]
        struct Body {
            title: Option<String>,
            position: Option<i64>,
        }
        let object = |json: &str| parse_object(json.as_bytes()).unwrap_or_default();
        let pointer = |result: AppResult<Body>| match result {
            Err(AppError::BadRequest { errors, .. }) => errors.first().map(|e| e.pointer.clone()),
            _ => None,
        };
        assert_eq!(
            pointer(from_object(object(r#"{"position": "first"}"#))),
            Some("/position".to_owned())
        );
        assert_eq!(
            pointer(from_object(object(r#"{"colour": "red"}"#))),
            Some("/colour".to_owned())
        );
        assert!(from_object::<Body>(object(r#"{"title": "Mission", "position": 1}"#)).is_ok());
    }
}
