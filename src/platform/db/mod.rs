//! The database: the r2d2 pool, the embedded migrations, and `Db`, the request
//! extractor whose `run` is the one way handlers reach PostgreSQL (blocking diesel
//! inside `web::block`, with `pool.get()` inside the block too).

pub mod cluster;
pub mod embedded;
pub mod errors;
pub mod prepared;
pub mod schema;

use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::platform::error::{AppError, AppResult};

pub type PgPool = r2d2::Pool<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a request waits for a connection before it answers 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long a pooled connection may stay unused before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings every pooled session starts with.
#[derive(Debug)]
struct SessionSettings;

/// Whether a session was refused `lc_messages`, so that it is said once.
static MESSAGES_UNSET: AtomicBool = AtomicBool::new(false);

impl CustomizeConnection<PgConnection, r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), r2d2::Error> {
        // A runaway query must not hold a connection (and a worker) forever. The
        // statements a connection keeps prepared are a bounded set of shapes whose
        // parameters are keys, pages and limits (`prepared::Known`): each is planned
        // once, not at every execution as PostgreSQL's `auto` does for a list (its
        // `LIMIT $n` makes the generic plan look dear). Shapes a request composes
        // (filters, search) are not kept, and are planned with their values.
        conn.batch_execute(
            "SET application_name = 'seesac-api'; SET statement_timeout = '10s'; \
             SET TIME ZONE 'UTC'; SET plan_cache_mode = force_generic_plan",
        )
        .map_err(r2d2::Error::QueryError)?;
        if let Err(error) = english_messages(conn)
            && !MESSAGES_UNSET.swap(true, Ordering::Relaxed)
        {
            log::warn!("{error}");
        }
        Ok(())
    }
}

/// Asks for PostgreSQL's messages in English (the C locale): the few errors diesel
/// gives no kind for are told apart by them (see `errors`). Only a superuser, or a
/// role granted `SET ON PARAMETER lc_messages`, may; otherwise the error says what
/// that means.
pub fn english_messages(conn: &mut PgConnection) -> Result<(), String> {
    conn.batch_execute("SET lc_messages = 'C'").map_err(|e| {
        format!(
            "cannot set lc_messages for the database session ({e}); if the server's messages \
             are not in English, a deadlock or a lock timeout may be answered 500 instead of \
             503. Grant it with: GRANT SET ON PARAMETER lc_messages TO <role>"
        )
    })
}

/// Initialises OpenSSL for libpq, which uses it on every connection (SCRAM hashes
/// with it even without TLS). Initialised from here first, OpenSSL registers no
/// clean-up at process exit: with one, a thread still connecting while the process
/// exits (a pool's, a listener's) used OpenSSL after its clean-up, and the test
/// binary died of SIGSEGV after all its tests had passed, once every few runs.
/// Call it before the process's first connection; calls after the first do nothing.
pub fn init_tls() {
    openssl_sys::init();
}

/// A pool that can be built while the database is down: requests then get 503 until
/// it returns, and the pool reconnects by itself.
///
/// A connection is not tested with a round trip each time it is checked out: a
/// connection that died while idle fails the one request that finds it (503 with
/// `Retry-After`, the request changed nothing), is marked broken (`Db::run`), and
/// the pool drops it. Idle connections are
/// closed after `IDLE_TIMEOUT`, so few are left to find dead after an outage.
pub fn pool(database_url: &str, size: u32) -> PgPool {
    init_tls();
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .idle_timeout(Some(IDLE_TIMEOUT))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings))
        .build_unchecked(ConnectionManager::new(database_url))
}

/// The role a connection logs in as.
pub fn current_role(conn: &mut PgConnection) -> Result<String, String> {
    #[derive(QueryableByName)]
    struct Role {
        #[diesel(sql_type = diesel::sql_types::Text)]
        role: String,
    }
    diesel::sql_query("SELECT current_user::text AS role")
        .get_result::<Role>(conn)
        .map(|row| row.role)
        .map_err(|e| format!("cannot read the database role: {e}"))
}

/// Lets `role` (the service's, from `DATABASE_URL`) read and write the rows of
/// every table the migrations made, and nothing more: it cannot create, alter or
/// drop anything, it reads the migrations' own table without changing it, and it
/// reads history without writing it (the database's triggers do). Run
/// by the role that owns the schema (`DATABASE_MIGRATION_URL`) after migrating.
pub fn grant_rows_to(conn: &mut PgConnection, role: &str) -> Result<(), String> {
    let role = format!("\"{}\"", role.replace('"', "\"\""));
    let statements = [
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("REVOKE INSERT, UPDATE, DELETE ON __diesel_schema_migrations FROM {role}"),
        // History (the change log, with every version of content, and the audit log)
        // is written only by the database's own triggers and functions, which run
        // as the owner: the service's role reads it and may not forge, change or
        // delete an entry. Only the owner prunes it.
        format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit, changes, changes_head, \
             changes_horizon, changes_schedule, seesac_kinds, translations_token FROM {role}"
        ),
        format!("REVOKE UPDATE ON SEQUENCE changes_seq FROM {role}"),
    ];
    for statement in &statements {
        conn.batch_execute(statement).map_err(|e| {
            format!("cannot grant the service's role its rights ({statement}): {e}")
        })?;
    }
    // Before PostgreSQL 15 anyone may create tables in `public`; the owner of the
    // schema takes that back (from 15 on it is so already).
    if let Err(e) = conn.batch_execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC") {
        log::warn!(
            "could not revoke CREATE on schema public from PUBLIC ({e}): on PostgreSQL before \
             15 the service's role may then still create tables there; let the schema's owner \
             run that statement"
        );
    }
    // PostgreSQL 15 and later let a role that is not a superuser set this.
    if let Err(e) = conn.batch_execute(&format!("GRANT SET ON PARAMETER lc_messages TO {role}")) {
        log::debug!("lc_messages not granted: {e}");
    }
    Ok(())
}

pub fn connect(database_url: &str) -> Result<PgConnection, String> {
    PgConnection::establish(database_url)
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

pub fn migrate(conn: &mut PgConnection) -> Result<(), String> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|applied| {
            for migration in applied {
                log::info!("applied migration {migration}");
            }
        })
        .map_err(|e| format!("migrations failed: {e}"))
}

/// Queries and database time of one request, reported in `Server-Timing`.
#[derive(Debug, Default)]
pub struct QueryStats {
    queries: AtomicU32,
    micros: AtomicU64,
}

impl QueryStats {
    pub fn queries(&self) -> u32 {
        self.queries.load(Ordering::Relaxed)
    }

    pub fn millis(&self) -> f64 {
        self.micros.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// The database, as a handler sees it.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    stats: Arc<QueryStats>,
}

impl FromRequest for Db {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(pool) = req.app_data::<web::Data<PgPool>>() else {
            return ready(Err(AppError::internal("no database pool registered")));
        };
        let stats = req
            .extensions()
            .get::<Arc<QueryStats>>()
            .cloned()
            .unwrap_or_default();
        ready(Ok(Self {
            pool: pool.get_ref().clone(),
            stats,
        }))
    }
}

impl Db {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            stats: Arc::default(),
        }
    }

    /// Runs blocking diesel code on a pooled connection, off the async workers.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let stats = self.stats.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            let started = Instant::now();
            let counter = stats.clone();
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::StartQuery { .. } = event {
                    counter.queries.fetch_add(1, Ordering::Relaxed);
                }
            });
            let result = work(&mut conn);
            if let Err(AppError::Unavailable(_)) = &result {
                // The connection may have died. A failed prepare does not tell diesel
                // so; a simple query does, and the pool then drops it instead of
                // handing it to the next request.
                let _ = conn.batch_execute("SELECT 1");
            }
            conn.set_instrumentation(Option::<Box<dyn Instrumentation>>::None);
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            stats.micros.fetch_add(micros, Ordering::Relaxed);
            result
        })
        .await?
    }

    /// Like `run`, inside one transaction: everything or nothing is written.
    pub async fn transaction<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.transaction(work)).await
    }
}
