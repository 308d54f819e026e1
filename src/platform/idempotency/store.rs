//! The keys as PostgreSQL keeps them, which every instance shares: taken by the
//! first request, completed with its answer, released when it failed, pruned after
//! a day.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use diesel::sql_types::{Binary, Bool, Jsonb, Nullable, SmallInt, Text};
use serde_json::Value;

use super::{
    ABANDONED_AFTER_SECONDS, Answer, KEEP_HOURS, MAX_BYTES_PER_CALLER, MAX_KEPT_BYTES, Request,
};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};

pub(super) enum Claim {
    /// The key is new (or expired, or abandoned): this request runs.
    Mine,
    /// The key has an answer: replay it.
    Replay(Answer),
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Binary)]
    fingerprint: Vec<u8>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    status: Option<i16>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    headers: Option<Value>,
    #[diesel(sql_type = Nullable<Binary>)]
    body: Option<Vec<u8>>,
    #[diesel(sql_type = Bool)]
    replayable: bool,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    size: i32,
}

pub(super) fn claim(conn: &mut PgConnection, request: &Request) -> AppResult<Claim> {
    // Take the key if it is new, expired or abandoned, or its answer was for other
    // rights than the caller has now; in one statement, so two requests with the
    // same key cannot both take it.
    let claimed = diesel::sql_query(format!(
        "INSERT INTO idempotency_keys (caller, key, fingerprint, rights) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (caller, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
             rights = EXCLUDED.rights, started_at = now(), \
             status = NULL, headers = NULL, body = NULL, replayable = true, size = 0 \
         WHERE idempotency_keys.started_at < now() - make_interval(hours => {KEEP_HOURS}) \
            OR (idempotency_keys.status IS NULL \
                AND idempotency_keys.started_at < now() - make_interval(secs => {ABANDONED_AFTER_SECONDS})) \
            OR (idempotency_keys.status IS NOT NULL \
                AND idempotency_keys.fingerprint = EXCLUDED.fingerprint \
                AND idempotency_keys.rights <> EXCLUDED.rights)"
    ))
    .bind::<Text, _>(&request.caller)
    .bind::<Text, _>(&request.key)
    .bind::<Binary, _>(&request.fingerprint)
    .bind::<Text, _>(&request.rights)
    .execute(conn)?;
    if claimed == 1 {
        return Ok(Claim::Mine);
    }
    let stored: Option<Stored> = diesel::sql_query(
        "SELECT fingerprint, status, headers, body, replayable, size FROM idempotency_keys \
         WHERE caller = $1 AND key = $2",
    )
    .bind::<Text, _>(&request.caller)
    .bind::<Text, _>(&request.key)
    .get_result(conn)
    .optional()?;
    // Gone between the two statements: released by a failed first request.
    let Some(stored) = stored else {
        return Err(in_progress());
    };
    if stored.fingerprint != request.fingerprint {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "was used for a different request (method, path, query or body) in the last \
             24 hours; send a new key for a new request",
        ));
    }
    let Some(status) = stored.status else {
        return Err(in_progress());
    };
    if !stored.replayable && stored.size > 0 {
        return Err(AppError::conflict(format!(
            "the first request with this Idempotency-Key was answered {status}, with {} bytes, \
             more than the {MAX_KEPT_BYTES} kept for a replay; read what it wrote instead of \
             retrying",
            stored.size
        )));
    }
    if !stored.replayable {
        return Err(AppError::conflict(format!(
            "the first request with this Idempotency-Key was answered {status}, with a secret \
             that is shown once and not kept; list what it created (for an API token, GET \
             /api/v1/tokens) instead of retrying"
        )));
    }
    let headers = stored
        .headers
        .and_then(|headers| serde_json::from_value::<Vec<(String, String)>>(headers).ok())
        .unwrap_or_default();
    Ok(Claim::Replay(Answer {
        status: u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| AppError::internal(format!("stored status {status}")))?,
        headers,
        body: stored.body.unwrap_or_default(),
    }))
}

fn in_progress() -> AppError {
    AppError::conflict(
        "a request with this Idempotency-Key is still running; retry when it has finished",
    )
}

/// Keeps the answer to a key (or only its status: one with a secret, or too large),
/// then forgets the caller's oldest keys past what one caller may keep.
pub(super) fn complete(
    conn: &mut PgConnection,
    request: &Request,
    answer: &Answer,
    shown_once: bool,
) -> AppResult<()> {
    let too_large = answer.body.len() > MAX_KEPT_BYTES;
    let replayable = !shown_once && !too_large;
    let (headers, body) = if replayable {
        (
            Some(serde_json::to_value(&answer.headers).map_err(AppError::internal)?),
            Some(answer.body.clone()),
        )
    } else {
        (None, None)
    };
    diesel::sql_query(
        "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5, replayable = $6, \
             size = $7 \
         WHERE caller = $1 AND key = $2",
    )
    .bind::<Text, _>(&request.caller)
    .bind::<Text, _>(&request.key)
    .bind::<SmallInt, _>(i16::try_from(answer.status.as_u16()).unwrap_or(i16::MAX))
    .bind::<Nullable<Jsonb>, _>(headers)
    .bind::<Nullable<Binary>, _>(body)
    .bind::<Bool, _>(replayable)
    .bind::<diesel::sql_types::Integer, _>(if too_large {
        i32::try_from(answer.body.len()).unwrap_or(i32::MAX)
    } else {
        0
    })
    .execute(conn)?;
    // The newest answers are kept, up to what one caller may keep in all.
    diesel::sql_query(
        "DELETE FROM idempotency_keys k USING ( \
             SELECT key FROM ( \
                 SELECT key, sum(coalesce(length(body), 0)) \
                            OVER (ORDER BY started_at DESC, key) AS kept \
                 FROM idempotency_keys WHERE caller = $1 AND status IS NOT NULL) newest_first \
             WHERE kept > $2) old \
         WHERE k.caller = $1 AND k.key = old.key",
    )
    .bind::<Text, _>(&request.caller)
    .bind::<diesel::sql_types::BigInt, _>(MAX_BYTES_PER_CALLER as i64)
    .execute(conn)?;
    Ok(())
}

/// Frees a key whose request failed on the server's side, so a retry runs again.
pub(super) async fn release(db: &Db, request: Request) {
    let released = db
        .run(move |conn| {
            diesel::sql_query(
                "DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND status IS NULL",
            )
            .bind::<Text, _>(&request.caller)
            .bind::<Text, _>(&request.key)
            .execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(error) = released {
        log::warn!("an idempotency key was not released: {error}");
    }
}

/// Deletes keys older than 24 hours; the service's background task calls it.
pub fn prune(conn: &mut PgConnection) -> AppResult<usize> {
    Ok(diesel::sql_query(format!(
        "DELETE FROM idempotency_keys WHERE started_at < now() - make_interval(hours => {KEEP_HOURS})"
    ))
    .execute(conn)?)
}
