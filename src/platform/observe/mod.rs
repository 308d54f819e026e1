//! What the service tells those who run it: a request id on every request (in the
//! answer's `X-Request-Id`, in problem bodies as `request_id`, in the log), one log
//! line per request (as text, or as JSON with `SEESAC_LOG_FORMAT=json`), and
//! Prometheus metrics, served on their own address (`SEESAC_METRICS_BIND`).

use std::io::Write;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use crate::platform::auth::{Caller, Identity};
use crate::platform::error::PROBLEM_JSON;
use crate::platform::request::{REQUEST_ID, RequestId, current_request_id, serving};

mod metrics;

pub use metrics::{Metrics, metrics_server};

/// A request id the client sent, if it is one we can log and echo safely: 1 to 64
/// letters, digits, `.`, `_`, `:` or `-`. Anything else is replaced by our own.
fn accepted(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let fine = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    fine.then(|| text.to_owned())
}

/// What kind of caller made a request, for the log and the metrics: never who.
fn caller_kind(caller: Option<&Caller>) -> &'static str {
    match caller.map(|caller| &caller.identity) {
        None | Some(Identity::Anonymous) => "anonymous",
        Some(Identity::Person { .. }) => "user",
        Some(Identity::Machine { .. }) => "token",
        Some(Identity::System(_)) => "system",
    }
}

/// A method as a label: the ones HTTP defines, or `other`, so that made-up
/// methods cannot grow the metrics without bound.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Wraps every request: gives it an id, puts the id in the answer (and in its
/// problem body), counts it in the metrics and writes its log line.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(accepted)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method());
    let mut response = serving(id.clone(), next.call(req))
        .await?
        .map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let response = with_request_id(response, &id).await;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let caller = caller_kind(response.request().extensions().get::<Caller>());
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe(method, &route, status, elapsed.as_secs_f64());
        if status == 429 {
            // The policy's name, from `RateLimit-Policy: "logins";q=30;w=60`;
            // `busy` for the password checks' cap, which has none.
            let policy = response
                .headers()
                .get("ratelimit-policy")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split('"').nth(1))
                .unwrap_or("busy");
            metrics.refused(policy);
        }
        if status == 401 && route == "/api/v1/auth/token" {
            metrics.login_failures.inc();
        }
    }
    let millis = elapsed.as_secs_f64() * 1000.0;
    log::info!(
        target: "seesac_api::access",
        method = method, route = route.as_str(), status = status,
        duration_ms = (millis * 1000.0).round() / 1000.0, caller = caller,
        request_id = id.as_str();
        "{method} {route} {status} {millis:.1}ms {caller} {id}"
    );
    Ok(response)
}

/// A problem+json answer with the request id added as `request_id`, so that a user
/// who reports an error can quote the id the log has.
async fn with_request_id(response: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !is_problem {
        return response;
    }
    let (request, answer) = response.into_parts();
    let (head, body) = answer.into_parts();
    // A problem is ours and bounded (a batch's names at most 1,000 items); read
    // whole, so that a long one is not cut.
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".to_owned(), id.into());
            serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut head = head;
    head.headers_mut().remove(header::CONTENT_LENGTH);
    ServiceResponse::new(request, head.set_body(BoxBody::new(body)))
}

/// `SEESAC_LOG_FORMAT=json`: one JSON object per line, with the time, the level,
/// the target, the message and the record's fields (a request's method, route,
/// status, duration, caller kind and id).
pub fn json_line(
    out: &mut env_logger::fmt::Formatter,
    record: &log::Record<'_>,
) -> std::io::Result<()> {
    struct Fields(serde_json::Map<String, serde_json::Value>);
    impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
        fn visit_pair(
            &mut self,
            key: log::kv::Key<'kvs>,
            value: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            let value = if let Some(n) = value.to_u64() {
                serde_json::Value::from(n)
            } else if let Some(n) = value.to_i64() {
                serde_json::Value::from(n)
            } else if let Some(n) = value.to_f64() {
                serde_json::Value::from(n)
            } else if let Some(b) = value.to_bool() {
                serde_json::Value::from(b)
            } else {
                serde_json::Value::from(value.to_string())
            };
            self.0.insert(key.as_str().to_owned(), value);
            Ok(())
        }
    }
    let mut line = serde_json::Map::new();
    line.insert(
        "ts".to_owned(),
        chrono::Utc::now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .into(),
    );
    line.insert("level".to_owned(), record.level().as_str().into());
    line.insert("target".to_owned(), record.target().into());
    line.insert("message".to_owned(), record.args().to_string().into());
    let mut fields = Fields(serde_json::Map::new());
    let _ = record.key_values().visit(&mut fields);
    for (key, value) in fields.0 {
        line.entry(key).or_insert(value);
    }
    if let Some(id) = current_request_id() {
        line.entry("request_id").or_insert(id.into());
    }
    writeln!(out, "{}", serde_json::Value::Object(line))
}
