//! The listener that keeps an instance's read cache true to the database: one
//! connection of its own (not the pool's), `LISTEN seesac_content`, and a thread that
//! empties the cache when a change is announced and opens it again, once it knows
//! when the next scheduled publication is.
//!
//! diesel reads notifications without waiting for them, so the thread polls every
//! `POLL`; the bound for other instances is one second. A failed poll, a failed
//! check every `CHECK_EVERY` (which also asks when the next publication is), or a
//! failed connection closes the cache until the listener is back. The thread ends when the cache is gone (the server
//! stopped).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use super::ReadCache;

/// How often notifications are read.
const POLL: Duration = Duration::from_millis(20);
/// How often an idle connection is checked.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// How long after a failure the listener connects again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Starts listening for `cache`, on its own connection to `database_url`.
pub fn spawn(cache: &Arc<ReadCache>, database_url: String) -> std::io::Result<()> {
    if !cache.enabled() {
        return Ok(());
    }
    let cache = Arc::downgrade(cache);
    std::thread::Builder::new()
        .name("seesac-cache-listen".to_owned())
        .spawn(move || run(&cache, &database_url))
        .map(drop)
}

fn run(cache: &Weak<ReadCache>, database_url: &str) {
    let mut failing = false;
    while cache.strong_count() > 0 {
        let result = PgConnection::establish(database_url)
            .map_err(|e| format!("cannot connect: {e}"))
            .and_then(|mut conn| listen(cache, &mut conn));
        let Some(live) = cache.upgrade() else {
            return;
        };
        // Closed, and emptied: what changed while nobody listened is unknown.
        live.invalidate();
        drop(live);
        match result {
            Ok(()) => return,
            Err(error) if !failing => {
                log::warn!("the read cache is off until its listener reconnects: {error}");
                failing = true;
            }
            Err(error) => log::debug!("the read cache's listener failed again: {error}"),
        }
        let until = Instant::now() + RETRY_AFTER;
        while Instant::now() < until && cache.strong_count() > 0 {
            std::thread::sleep(POLL);
        }
    }
}

/// Listens until the connection fails (`Err`) or the cache is gone (`Ok`).
fn listen(cache: &Weak<ReadCache>, conn: &mut PgConnection) -> Result<(), String> {
    conn.batch_execute(
        "SET application_name = 'seesac-api cache listener'; SET statement_timeout = '5s'; \
         LISTEN seesac_content",
    )
    .map_err(|e| format!("cannot listen: {e}"))?;
    let mut checked = Instant::now();
    let mut announced = false;
    loop {
        let Some(cache) = cache.upgrade() else {
            return Ok(());
        };
        let mut changed = false;
        for notification in conn.notifications_iter() {
            notification.map_err(|e| format!("lost the connection: {e}"))?;
            changed = true;
        }
        if changed {
            cache.invalidate();
        }
        if let Some(generation) = cache.to_open() {
            // Changes come in bursts: the cache opens again once they pause for a
            // poll, asking for the next publication once per burst, not per write.
            cache.wait_while(POLL, |window| window.generation == generation);
            if cache.to_open() != Some(generation) {
                continue;
            }
            let asked = Instant::now();
            let next = next_publication(conn)
                .map_err(|e| format!("cannot read the next publication: {e}"))?;
            cache.open(generation, asked, next);
            checked = Instant::now();
            if !announced {
                log::info!("the read cache is on");
                announced = true;
            }
        } else if checked.elapsed() >= CHECK_EVERY {
            // The connection's check, and the next publication's.
            let asked = Instant::now();
            let next = next_publication(conn).map_err(|e| format!("lost the connection: {e}"))?;
            cache.close_by(asked, next);
            checked = Instant::now();
        }
        cache.wait_while(POLL, |window| window.open_until.is_some());
    }
}

/// How long until the next scheduled publication of any content, if one is
/// scheduled (a function of the database, which knows every kind's table).
fn next_publication(conn: &mut PgConnection) -> Result<Option<Duration>, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        seconds: Option<f64>,
    }
    let next = diesel::sql_query(
        "SELECT extract(epoch FROM seesac_next_publication() - now())::float8 AS seconds",
    )
    .get_result::<Next>(conn)?;
    Ok(next
        .seconds
        .map(|seconds| Duration::from_secs_f64(seconds.max(0.0))))
}
