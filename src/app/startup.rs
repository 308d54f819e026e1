//! The application, built by one function that `serve` and the tests share: the
//! route table, the middleware, the Swagger UI.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::config::ServerLimits;
use crate::app::ops::{Links, OpenApiJson};
use crate::app::routes;
use crate::features::changes;
use crate::features::webhooks;
use crate::platform::auth::JwtKeys;
use crate::platform::cache::{self, ReadCache};
use crate::platform::db::PgPool;
use crate::platform::observe::{self, Metrics};
use crate::platform::ratelimit::Limits;
use crate::platform::routing::{self, Table};
use crate::platform::{http, idempotency};

/// What the application needs to run.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// The database the pool connects to: the read cache listens on a connection of
    /// its own to it.
    pub database_url: String,
    pub keys: JwtKeys,
    /// Browser origins allowed by CORS; `*` for any; empty for none.
    pub cors_origins: Vec<String>,
    /// Rate limits, timeouts and the connection cap.
    pub limits: ServerLimits,
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "if-none-match",
            "idempotency-key",
            "x-request-id",
        ])
        .expose_headers([
            "etag",
            "link",
            "location",
            "content-location",
            "retry-after",
            "server-timing",
            "ratelimit",
            "ratelimit-policy",
            "x-request-id",
        ])
        .max_age(3600);
    // Credentials are never allowed: the API authenticates with a bearer token, not
    // cookies, so a wildcard origin is safe and a listed origin needs nothing more.
    if origins.iter().any(|origin| origin == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// How often the idempotency keys and the webhook delivery log forget what is
/// older than they keep.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The service's own housekeeping in the background: pruning what is kept only for
/// a while. A failure is logged and tried again later; the database may be away.
async fn housekeeping(pool: PgPool) {
    loop {
        let pool = pool.clone();
        let done = web::block(move || -> Result<(), String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            idempotency::prune(&mut conn).map_err(|e| e.to_string())?;
            webhooks::outbox::prune(&mut conn).map_err(|e| e.to_string())?;
            Ok(())
        })
        .await;
        let wait = match done {
            Ok(Ok(())) => PRUNE_EVERY,
            Ok(Err(error)) => {
                log::debug!("housekeeping failed, tried again soon: {error}");
                Duration::from_secs(5)
            }
            Err(error) => {
                log::warn!("housekeeping did not run: {error}");
                Duration::from_secs(5)
            }
        };
        actix_web::rt::time::sleep(wait).await;
    }
}

/// The tasks that run beside the server: the change log's sequencer, the
/// housekeeping, and the webhook deliveries unless they are turned off.
fn spawn_background(state: &AppState) {
    actix_web::rt::spawn(changes::run(state.pool.clone()));
    actix_web::rt::spawn(housekeeping(state.pool.clone()));
    if state.limits.webhooks.deliver {
        actix_web::rt::spawn(webhooks::run(
            state.pool.clone(),
            state.limits.webhooks.clone(),
        ));
    }
}

/// The number of workers and the connections each may hold, for a cap of
/// `max_connections` on the whole server.
fn workers(max_connections: usize) -> (usize, usize) {
    // The cap is on the whole server; actix applies it per worker (so it is met
    // to within one connection per worker).
    let workers = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .min(max_connections)
        .max(1);
    let per_worker = max_connections.div_ceil(workers).max(1);
    (workers, per_worker)
}

/// The blocking threads each worker may run (`Db::run`, rendering, password
/// hashing): as many as its share of the pool's connections, and two more for the
/// work that takes none. A thread beyond that would only wait for a connection,
/// and each one costs memory (its stack and its allocator cache): actix's default
/// of 512 let 32 readers grow the server to a hundred threads. Work beyond the
/// bound waits in the worker's queue instead of in `pool.get()`.
fn blocking_threads(pool_size: u32, workers: usize) -> usize {
    usize::try_from(pool_size)
        .unwrap_or(usize::MAX)
        .div_ceil(workers.max(1))
        .saturating_add(2)
}

/// The paths whose bodies stream: an upload's file goes to the store as it
/// arrives, and its handler takes `Idempotency-Key` itself.
fn streamed_bodies() -> idempotency::StreamedBodies {
    use crate::engine::Resource;
    idempotency::StreamedBodies(vec![crate::content::assets::Assets::DESCRIPTOR.path])
}

/// Builds the server on a bound listener; awaiting it serves until SIGINT or SIGTERM.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    run_with_metrics(listener, None, state)
}

/// `run`, and the Prometheus metrics served on `metrics` if given.
pub fn run_with_metrics(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    state: AppState,
) -> std::io::Result<Server> {
    let document = web::Data::new(OpenApiJson::committed());
    let links = web::Data::new(Links::of(&Table::of(routes::table)));
    spawn_background(&state);
    let webhook_settings = web::Data::new(state.limits.webhooks.clone());
    let (workers, per_worker) = workers(state.limits.max_connections);
    let blocking = blocking_threads(state.pool.max_size(), workers);
    let pool = web::Data::new(state.pool);
    let read_cache = std::sync::Arc::new(ReadCache::new(state.limits.read_cache_bytes));
    cache::listen::spawn(&read_cache, state.database_url)?;
    let mut registry = Metrics::default();
    registry.register_read_cache(&read_cache);
    let registry = web::Data::new(registry);
    let read_cache = web::Data::from(read_cache);
    if let Some(metrics) = metrics {
        actix_web::rt::spawn(observe::metrics_server(
            metrics,
            registry.clone(),
            pool.clone(),
            read_cache.clone(),
        )?);
    }
    let keys = web::Data::new(state.keys);
    let origins = state.cors_origins;
    let limits = state.limits;
    let rate_limits = web::Data::new(Limits::new(
        limits.writes_per_minute,
        limits.trusted_proxies.clone(),
    ));
    let header_timeout = limits.header_timeout;
    let body_timeout = web::Data::new(http::body::BodyTimeout(limits.body_timeout));
    let locales = web::Data::new(limits.locales.clone());
    let uploads = web::Data::new(limits.uploads.clone());
    let streamed = web::Data::new(streamed_bodies());
    let server_limits = web::Data::new(limits);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .app_data(read_cache.clone())
            .app_data(rate_limits.clone())
            .app_data(registry.clone())
            .app_data(server_limits.clone())
            .app_data(body_timeout.clone())
            .app_data(webhook_settings.clone())
            .app_data(keys.clone())
            .app_data(document.clone())
            .app_data(links.clone())
            .app_data(locales.clone())
            .app_data(uploads.clone())
            .app_data(streamed.clone())
            .wrap(from_fn(cache::invalidate_after_writes))
            .wrap(from_fn(idempotency::middleware))
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(from_fn(http::middleware::finish_response))
            .wrap(from_fn(observe::middleware))
            .configure(|cfg| Table::of(routes::table).configure(cfg))
            .route("/docs", web::get().to(docs_redirect))
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new(["/api-docs/openapi.json"])),
            )
            .default_service(web::to(routing::unknown_route))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking)
    .max_connections(per_worker)
    // Headers trickled in slower than this are a 408 and a closed connection;
    // bodies have their own deadline (`http::body`).
    .client_request_timeout(header_timeout)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}
