//! The change log, written by the database (migration 000015): every write that
//! moves an item's version, whoever makes it, is one entry, in the writing
//! transaction; so is every change of what anonymous readers see of an item
//! without a new version (its metric published; its scheduled time come). The
//! feed (`feed`), webhooks, history and the read caches of every instance read it.
//!
//! Writers only insert their entries; positions come from one sequencer at a time
//! (`number`, every `SEQUENCE_EVERY` on every instance, and before each feed
//! read), which numbers the committed entries in the order they were written.
//! Positions are gap-free and never change, and for one item they follow its
//! versions; the feed lags the commit by at most a sequencer period
//! (docs/decisions.md says why these hold).

pub mod docs;
pub mod feed;

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamptz};

use crate::platform::db::PgPool;
use crate::platform::error::AppResult;

/// How often each instance numbers what was written: the feed's lag behind a
/// commit, once no one reads it.
pub const SEQUENCE_EVERY: Duration = Duration::from_millis(100);

/// How often scheduled publications are looked for.
const SCHEDULE_EVERY: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

/// Numbers every committed entry that has no position yet, in the order they were
/// written, and moves the head; `None` if another instance is doing it now.
pub fn number(conn: &mut PgConnection) -> AppResult<Option<i64>> {
    Ok(diesel::sql_query("SELECT seesac_number_changes() AS n")
        .get_result::<Count>(conn)?
        .n)
}

/// `number`, waiting for an instance that is numbering now: after it, everything
/// committed before the call has its position (a feed reader sees it at once).
pub fn number_all(conn: &mut PgConnection) -> AppResult<()> {
    diesel::sql_query("SELECT seesac_number_changes(true) AS n").get_result::<Count>(conn)?;
    Ok(())
}

/// Logs the publications whose time has come since the last call (one instance at
/// a time does it; none logs one twice).
pub fn log_scheduled(conn: &mut PgConnection) -> AppResult<i64> {
    Ok(diesel::sql_query("SELECT seesac_log_scheduled() AS n")
        .get_result::<Count>(conn)?
        .n
        .unwrap_or_default())
}

/// The position of the newest numbered entry, 0 if there is none (never less than
/// the horizon: positions go on from where they were after a prune).
pub fn head(conn: &mut PgConnection) -> AppResult<i64> {
    use crate::platform::db::schema::changes_head;
    Ok(changes_head::table
        .select(changes_head::position)
        .first(conn)?)
}

/// The oldest cursor the log can still answer: entries after it are all there.
pub fn horizon(conn: &mut PgConnection) -> AppResult<i64> {
    use crate::platform::db::schema::changes_horizon;
    Ok(changes_horizon::table
        .select(changes_horizon::position)
        .first(conn)?)
}

/// Forgets history written before `before`: the change log's entries (and with
/// them the revisions they keep; the feed's horizon moves past them) and the audit
/// log's. Run as the schema's owner: the service's role may not.
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> AppResult<(i64, usize)> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = Nullable<BigInt>)]
        position: Option<i64>,
    }
    conn.transaction(|conn| {
        let last = diesel::sql_query(
            "SELECT max(position) AS position FROM changes WHERE at < $1 AND position IS NOT NULL",
        )
        .bind::<Timestamptz, _>(before)
        .get_result::<Last>(conn)?
        .position;
        let mut entries = 0;
        if let Some(last) = last {
            entries = diesel::sql_query("DELETE FROM changes WHERE position <= $1")
                .bind::<BigInt, _>(last)
                .execute(conn)? as i64;
            diesel::sql_query("UPDATE changes_horizon SET position = greatest(position, $1)")
                .bind::<BigInt, _>(last)
                .execute(conn)?;
        }
        let audited = diesel::sql_query("DELETE FROM audit WHERE at < $1")
            .bind::<Timestamptz, _>(before)
            .execute(conn)?;
        Ok((entries, audited))
    })
}

/// The log's work in the background on every instance: numbering what was written
/// (`SEQUENCE_EVERY`) and logging scheduled publications as their time comes. A
/// failure is logged and tried again at the next tick; the database may be away.
pub async fn run(pool: PgPool) {
    let mut scheduled = std::time::Instant::now();
    loop {
        actix_web::rt::time::sleep(SEQUENCE_EVERY).await;
        let due = scheduled.elapsed() >= SCHEDULE_EVERY;
        let pool = pool.clone();
        let done = actix_web::web::block(move || -> Result<(), String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            if due {
                log_scheduled(&mut conn).map_err(|e| e.to_string())?;
            }
            number(&mut conn).map_err(|e| e.to_string())?;
            Ok(())
        })
        .await;
        match done {
            Ok(Ok(())) if due => scheduled = std::time::Instant::now(),
            Ok(Ok(())) => {}
            Ok(Err(error)) => log::debug!("the change log's work failed, tried again: {error}"),
            Err(error) => log::warn!("the change log's work did not run: {error}"),
        }
    }
}
