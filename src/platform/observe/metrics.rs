//! The service's Prometheus metrics: what is counted and measured, and the server
//! that shows them on their own address.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::platform::cache::ReadCache;
use crate::platform::db::PgPool;

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

/// New gauges, registered in order under their names and helps.
fn gauges<const N: usize>(registry: &mut Registry, names: [(&str, &str); N]) -> [Gauge; N] {
    names.map(|(name, help)| {
        let gauge = Gauge::default();
        registry.register(name, help, gauge.clone());
        gauge
    })
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
    pub(super) login_failures: Counter,
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
        let [pool_connections, pool_idle] = gauges(
            &mut registry,
            [
                ("db_pool_connections", "Database connections the pool holds"),
                (
                    "db_pool_idle_connections",
                    "Database connections in the pool not in use",
                ),
            ],
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
        let [cache_bytes, cache_open] = gauges(
            &mut registry,
            [
                (
                    "read_cache_bytes",
                    "Bytes of anonymous answers the read cache holds",
                ),
                (
                    "read_cache_open",
                    "1 while the read cache serves answers, 0 while it is closed or off",
                ),
            ],
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
        for (name, help, counter) in [
            (
                "read_cache_hits",
                "Anonymous reads answered from the read cache",
                &counters.hits,
            ),
            (
                "read_cache_misses",
                "Anonymous reads of cached routes that went to the database",
                &counters.misses,
            ),
            (
                "read_cache_emptied",
                "Times the read cache was emptied (a change, a publication, a lost listener)",
                &counters.emptied,
            ),
        ] {
            self.registry.register(name, help, counter.clone());
        }
    }

    pub(super) fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
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

    pub(super) fn refused(&self, policy: &str) {
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
