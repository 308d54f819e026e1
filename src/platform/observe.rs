//! What the service tells those who run it: a request id on every request (in the
//! answer's `X-Request-Id`, in problem bodies as `request_id`, in the log), one log
//! line per request (as text, or as JSON with `SEESAC_LOG_FORMAT=json`), and
//! Prometheus metrics, served on their own address (`SEESAC_METRICS_BIND`).

use std::io::Write;
use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::platform::auth::{Caller, Identity};
use crate::platform::cache::ReadCache;
use crate::platform::db::PgPool;
use crate::platform::error::PROBLEM_JSON;
use crate::platform::request::{REQUEST_ID, RequestId, current_request_id, serving};

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

/// The labels of a request count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The labels of a refusal by a rate limit.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    policy: String,
}

/// The labels of a duration.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

type Buckets = fn() -> Histogram;

fn duration_buckets() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The service's metrics, in Prometheus' registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, Buckets>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    rate_limited: Family<PolicyLabels, Counter>,
    login_failures: Counter,
    cache_bytes: Gauge,
    cache_open: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("seesac");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            requests.clone(),
        );
        let durations =
            Family::<RouteLabels, Histogram, Buckets>::new_with_constructor(duration_buckets);
        registry.register(
            "http_request_duration_seconds",
            "How long requests took to answer, by method and route template",
            durations.clone(),
        );
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections the pool holds",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections in the pool not in use",
            pool_idle.clone(),
        );
        let rate_limited = Family::<PolicyLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with a 429, by policy (logins, login-failures, writes, busy)",
            rate_limited.clone(),
        );
        let login_failures = Counter::default();
        registry.register(
            "login_failures",
            "Logins refused for a wrong username or password",
            login_failures.clone(),
        );
        let cache_bytes = Gauge::default();
        registry.register(
            "read_cache_bytes",
            "Bytes of anonymous answers the read cache holds",
            cache_bytes.clone(),
        );
        let cache_open = Gauge::default();
        registry.register(
            "read_cache_open",
            "1 while the read cache serves answers, 0 while it is closed or off",
            cache_open.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            pool_connections,
            pool_idle,
            rate_limited,
            login_failures,
            cache_bytes,
            cache_open,
        }
    }
}

impl Metrics {
    /// Counts what the read cache does, from now on.
    pub fn register_read_cache(&mut self, cache: &ReadCache) {
        let counters = &cache.counters;
        self.registry.register(
            "read_cache_hits",
            "Anonymous reads answered from the read cache",
            counters.hits.clone(),
        );
        self.registry.register(
            "read_cache_misses",
            "Anonymous reads of cached routes that went to the database",
            counters.misses.clone(),
        );
        self.registry.register(
            "read_cache_emptied",
            "Times the read cache was emptied (a change, a publication, a lost listener)",
            counters.emptied.clone(),
        );
    }

    fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    fn refused(&self, policy: &str) {
        // Only the service's own policy names: a made-up header cannot reach here,
        // the service sets it.
        let policy = match policy {
            "logins" | "login-failures" | "writes" => policy,
            _ => "busy",
        };
        self.rate_limited
            .get_or_create(&PolicyLabels {
                policy: policy.to_owned(),
            })
            .inc();
    }

    /// The metrics in the OpenMetrics text format, with the pool and the read
    /// cache as they are now.
    pub fn render(&self, pool: &PgPool, cache: &ReadCache) -> String {
        let state = pool.state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        self.cache_bytes
            .set(i64::try_from(cache.bytes()).unwrap_or(i64::MAX));
        self.cache_open.set(i64::from(cache.is_open()));
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            log::error!("cannot encode the metrics: {error}");
        }
        text
    }
}

async fn metrics(
    metrics: web::Data<Metrics>,
    pool: web::Data<PgPool>,
    cache: web::Data<ReadCache>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(metrics.render(&pool, &cache))
}

/// The metrics server: `GET /metrics` and nothing else, on its own listener, so
/// that only those who can reach that address (a Prometheus on the private
/// network) see it. Stops with the process; it has no signals of its own.
pub fn metrics_server(
    listener: TcpListener,
    registry: web::Data<Metrics>,
    pool: web::Data<PgPool>,
    cache: web::Data<ReadCache>,
) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(registry.clone())
            .app_data(pool.clone())
            .app_data(cache.clone())
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
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
