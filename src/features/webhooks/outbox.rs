//! Deliveries as rows: made from the change log in order (`fan_out`), claimed by
//! one instance at a time under a lease (`claim`), and settled after each attempt
//! (`settle`): delivered, retried later with backoff, or failed for good, which
//! pauses a subscription that keeps failing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use serde_json::Value;
use uuid::Uuid;

use super::WebhookSettings;
use super::events::{Change, wanted};
use super::send::Outcome;
use crate::platform::error::AppResult;

/// Changes turned into deliveries per round.
const FAN_OUT_BATCH: i64 = 500;
/// How long a claimed delivery is held: longer than any attempt takes.
const LEASE_SECONDS: i32 = 120;
/// Deliveries in a row that fail for good before a subscription is paused.
pub const PAUSE_AFTER: i32 = 5;

#[derive(QueryableByName)]
struct LoggedChange {
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    parent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    locale: Option<String>,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Nullable<Text>)]
    public_action: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Subscription {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Array<Text>)]
    events: Vec<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// Turns the changes logged since the last round into deliveries, one per change
/// and subscription that wants its event (subscribed before the change). One
/// instance at a time does it; the others skip the round. Positions are in commit
/// order, so a change below the cursor never appears later.
pub fn fan_out(conn: &mut PgConnection, retry_for: Duration) -> AppResult<usize> {
    conn.transaction(|conn| {
        let Some(cursor) = take_turn(conn)? else {
            return Ok(0);
        };
        let changes: Vec<LoggedChange> = diesel::sql_query(
            "SELECT position, type AS kind, key, parent, locale, action, version, actor, public_action, \
                    at \
               FROM changes WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind::<BigInt, _>(cursor)
        .bind::<BigInt, _>(FAN_OUT_BATCH)
        .load(conn)?;
        let Some(last) = changes.last().map(|change| change.position) else {
            return Ok(0);
        };
        let subscriptions: Vec<Subscription> =
            // Paused ones too: they get their events when they are active again.
            diesel::sql_query("SELECT id, events, created_at FROM webhooks").load(conn)?;
        let (mut webhooks, mut positions, mut events, mut items, mut payloads) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for logged in changes {
            let change = Change {
                position: logged.position,
                kind: logged.kind,
                key: logged.key,
                parent: logged.parent,
                locale: logged.locale,
                action: logged.action,
                version: logged.version,
                actor: logged.actor,
                public_action: logged.public_action,
                at: logged.at,
            };
            let event = change.event();
            for subscription in &subscriptions {
                if subscription.created_at <= change.at && wanted(&subscription.events, &event) {
                    webhooks.push(subscription.id);
                    positions.push(change.position);
                    events.push(event.clone());
                    items.push(change.item());
                    payloads.push(change.payload());
                }
            }
        }
        let made = diesel::sql_query(
            "INSERT INTO webhook_deliveries (webhook, position, event, item, payload, give_up_at) \
             SELECT w, p, e, i, d, now() + make_interval(secs => $6) \
               FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::jsonb[]) \
                    AS u(w, p, e, i, d) \
             ON CONFLICT (webhook, position) DO NOTHING",
        )
        .bind::<Array<SqlUuid>, _>(webhooks)
        .bind::<Array<BigInt>, _>(positions)
        .bind::<Array<Text>, _>(events)
        .bind::<Array<Text>, _>(items)
        .bind::<Array<Jsonb>, _>(payloads)
        .bind::<diesel::sql_types::Double, _>(retry_for.as_secs_f64())
        .execute(conn)?;
        diesel::sql_query("UPDATE webhook_outbox SET position = $1")
            .bind::<BigInt, _>(last)
            .execute(conn)?;
        Ok(made)
    })
}

/// The outbox's turn, in the transaction: the cursor if this instance has it,
/// `None` if another is doing a round. The turn is an advisory lock, not a row
/// lock, so a round with nothing to do takes no transaction id and writes nothing;
/// the cursor is read after it, in a statement of its own, so it is the last
/// holder's.
fn take_turn(conn: &mut PgConnection) -> QueryResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Turn {
        #[diesel(sql_type = Bool)]
        taken: bool,
    }
    #[derive(QueryableByName)]
    struct Cursor {
        #[diesel(sql_type = BigInt)]
        position: i64,
    }
    let turn = diesel::sql_query(
        "SELECT pg_try_advisory_xact_lock(hashtext('seesac_webhook_outbox')) AS taken",
    )
    .get_result::<Turn>(conn)?;
    if !turn.taken {
        return Ok(None);
    }
    let cursor =
        diesel::sql_query("SELECT position FROM webhook_outbox").get_result::<Cursor>(conn)?;
    Ok(Some(cursor.position))
}

/// A delivery this instance holds, with what sending it needs.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub webhook: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: Value,
    /// This attempt's number, from 1.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub give_up_at: DateTime<Utc>,
}

/// Claims up to `limit` deliveries that are due, of active subscriptions, each the
/// oldest undelivered one of its item for its subscription (order per item), and
/// none held by another instance: each is leased to this one, which counts the
/// attempt. A lease that runs out (the instance died) makes it due again.
pub fn claim(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<Claimed>> {
    Ok(diesel::sql_query(
        "UPDATE webhook_deliveries d \
            SET leased_until = now() + make_interval(secs => $2), attempts = d.attempts + 1 \
           FROM webhooks w \
          WHERE w.id = d.webhook AND d.id IN ( \
                SELECT c.id FROM webhook_deliveries c JOIN webhooks s ON s.id = c.webhook \
                 WHERE s.active AND c.status = 'pending' AND c.next_attempt_at <= now() \
                   AND (c.leased_until IS NULL OR c.leased_until < now()) \
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                                    WHERE e.webhook = c.webhook AND e.item = c.item \
                                      AND e.status = 'pending' AND e.position < c.position) \
                 ORDER BY c.position LIMIT $1 \
                 FOR UPDATE OF c SKIP LOCKED) \
         RETURNING d.id, d.webhook, w.url, w.secret, d.payload, d.attempts, d.give_up_at",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Int4, _>(LEASE_SECONDS)
    .load(conn)?)
}

/// How long the delivery log keeps a delivery that is settled.
pub const KEPT_DAYS: i32 = 30;

/// Forgets deliveries delivered or failed more than `KEPT_DAYS` ago (pending ones
/// stay, however old).
pub fn prune(conn: &mut PgConnection) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM webhook_deliveries WHERE status <> 'pending' \
           AND created_at < now() - make_interval(days => $1)",
    )
    .bind::<Int4, _>(KEPT_DAYS)
    .execute(conn)?)
}

/// The delay before attempt `attempts + 1`: `base` doubled per attempt made, at most
/// six hours, times a jitter from 0.5 to 1.5 so that retries do not come in herds.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempts.clamp(1, 20).saturating_sub(1));
    let capped = doubled.min(Duration::from_secs(6 * 3600));
    let jitter = 0.5 + f64::from(crate::platform::random::below(1000)) / 1000.0;
    capped.mul_f64(jitter)
}

/// Records an attempt: delivered; or due again after a backoff; or, past its
/// deadline, failed, and a subscription with `PAUSE_AFTER` failures in a row
/// paused. Only if no other instance made an attempt since this one claimed it
/// (its lease ran out): then that attempt's outcome counts.
pub fn settle(
    conn: &mut PgConnection,
    delivery: &Claimed,
    outcome: &Outcome,
    settings: &WebhookSettings,
) -> AppResult<()> {
    let duration = i32::try_from(outcome.duration.as_millis()).unwrap_or(i32::MAX);
    conn.transaction(|conn| {
        if outcome.delivered() {
            diesel::sql_query(
                "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), \
                        leased_until = NULL, last_status = $2, last_error = NULL, \
                        last_duration_ms = $3, last_response = $4 \
                  WHERE id = $1 AND attempts = $5",
            )
            .bind::<SqlUuid, _>(delivery.id)
            .bind::<Nullable<Int4>, _>(outcome.status)
            .bind::<Int4, _>(duration)
            .bind::<Nullable<Text>, _>(&outcome.response)
            .bind::<Int4, _>(delivery.attempts)
            .execute(conn)?;
            diesel::sql_query("UPDATE webhooks SET failures = 0 WHERE id = $1 AND failures > 0")
                .bind::<SqlUuid, _>(delivery.webhook)
                .execute(conn)?;
            return Ok(());
        }
        let next = Utc::now()
            + chrono::Duration::from_std(backoff(settings.retry_base, delivery.attempts))
                .unwrap_or_default();
        let failed = next >= delivery.give_up_at;
        let settled = diesel::sql_query(
            "UPDATE webhook_deliveries SET status = CASE WHEN $2 THEN 'failed' ELSE 'pending' END, \
                    next_attempt_at = $3, leased_until = NULL, last_status = $4, \
                    last_error = $5, last_duration_ms = $6, last_response = $7 \
              WHERE id = $1 AND attempts = $8",
        )
        .bind::<SqlUuid, _>(delivery.id)
        .bind::<Bool, _>(failed)
        .bind::<Timestamptz, _>(next)
        .bind::<Nullable<Int4>, _>(outcome.status)
        .bind::<Nullable<Text>, _>(&outcome.error)
        .bind::<Int4, _>(duration)
        .bind::<Nullable<Text>, _>(&outcome.response)
        .bind::<Int4, _>(delivery.attempts)
        .execute(conn)?;
        if failed && settled > 0 {
            diesel::sql_query(
                "UPDATE webhooks SET failures = failures + 1, \
                        active = active AND failures + 1 < $2, \
                        paused_reason = CASE WHEN failures + 1 >= $2 \
                            THEN format('paused by the service: %s deliveries in a row failed', failures + 1) \
                            ELSE paused_reason END, \
                        updated_at = CASE WHEN failures + 1 >= $2 THEN now() ELSE updated_at END \
                  WHERE id = $1",
            )
            .bind::<SqlUuid, _>(delivery.webhook)
            .bind::<Int4, _>(PAUSE_AFTER)
            .execute(conn)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_cap() {
        let base = Duration::from_secs(30);
        for attempts in 1..30 {
            let wait = backoff(base, attempts);
            let nominal = base
                .saturating_mul(1u32 << attempts.clamp(1, 20).saturating_sub(1))
                .min(Duration::from_secs(6 * 3600));
            assert!(wait >= nominal.mul_f64(0.5) && wait <= nominal.mul_f64(1.5));
        }
        assert!(backoff(base, 1) <= Duration::from_secs(45));
        assert!(backoff(base, 30) <= Duration::from_secs(9 * 3600));
    }
}
