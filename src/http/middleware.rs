//! The middleware every request passes: it counts the request's database work for
//! `Server-Timing`, and turns any error answer that is not problem+json (actix's
//! own, CORS refusals) into one.

use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

use crate::db::QueryStats;
use crate::error::{PROBLEM_JSON, problem};

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
