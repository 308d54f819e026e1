//! The middleware every request passes: it counts the request's database work for
//! `Server-Timing` (sent to authenticated callers only), and turns any error answer that is not problem+json (actix's
//! own, CORS refusals) into one.

use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

use crate::platform::auth::Caller;
use crate::platform::db::QueryStats;
use crate::platform::error::{PROBLEM_JSON, problem};
use crate::platform::ratelimit::Standing;

/// The Content-Security-Policy of the Swagger UI: its own scripts and styles (its
/// components set inline styles), its icons as data: URLs, calls to this origin.
pub const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' \
    'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

/// Wraps every request: counts its database work for `Server-Timing`, and turns an
/// error response that is not problem+json (actix's own, CORS refusals) into one.
pub async fn finish_response(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let stats = Arc::new(QueryStats::default());
    req.extensions_mut().insert(stats.clone());
    let is_docs = req.path().starts_with("/docs");
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    one_vary(headers);
    // No browser guesses a type the answer did not say.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    // The Swagger UI runs only its own scripts, and in no one else's frame.
    if is_docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(DOCS_POLICY),
        );
        headers.insert(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("DENY"),
        );
    }
    // Where the caller stands against the rate limit this request counted against.
    let standing = response.request().extensions().get::<Standing>().copied();
    if let Some(standing) = standing
        && !response.headers().contains_key("ratelimit")
    {
        for (name, value) in standing.headers() {
            response.headers_mut().insert(name, value);
        }
    }
    // Database timings are for those who run the site, not for anyone who asks.
    let authenticated = response.request().extensions().get::<Caller>().is_some();
    if stats.queries() > 0 && authenticated {
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

/// Merges every `Vary` header of an answer into one list, each name once: the
/// answer's own and what CORS adds (`Origin` again, among others).
fn one_vary(headers: &mut actix_web::http::header::HeaderMap) {
    // Most answers have one list already, each name once: nothing to rebuild.
    let mut values = headers.get_all(header::VARY);
    if let (Some(only), None) = (values.next(), values.next())
        && only.to_str().is_ok_and(names_once)
    {
        return;
    }
    let mut names: Vec<String> = Vec::new();
    for value in headers.get_all(header::VARY) {
        for name in value.to_str().unwrap_or_default().split(',').map(str::trim) {
            if !name.is_empty() && !names.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                names.push(name.to_owned());
            }
        }
    }
    if let Ok(value) = header::HeaderValue::from_str(&names.join(", "))
        && !names.is_empty()
    {
        headers.insert(header::VARY, value);
    }
}

/// Whether a list of header names (`Origin, Accept`) has each name once.
fn names_once(list: &str) -> bool {
    let names = || list.split(',').map(str::trim);
    names().enumerate().all(|(index, name)| {
        !name.is_empty()
            && !names()
                .take(index)
                .any(|seen| seen.eq_ignore_ascii_case(name))
    })
}
