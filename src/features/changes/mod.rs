//! The change log: every write to content appends to it, in the write's own
//! transaction, so a change is logged if and only if it committed. The changes feed
//! (`feed.rs`) reads it; the read cache and webhooks of later work will too.
//!
//! Positions are strictly increasing, without gaps, and in commit order: a write
//! appends as its last step, moving the log's head (one row, `changes_head`) whose
//! lock it holds until it commits, so a write that commits later always takes a
//! larger position, and a reader who has seen position n will never find a change
//! below n appear after it.

pub mod feed;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};

use crate::platform::db::schema::changes_schedule;
use crate::platform::error::AppResult;
use crate::platform::visibility::{Access, Status};

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// One change, before it has a position.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: &'static str,
    pub key: String,
    /// An observation's metric.
    pub parent: Option<String>,
    pub action: Action,
    pub version: i32,
    /// Whether anonymous readers saw the item just before.
    pub public_before: bool,
    /// From when anonymous readers see it after (`None`: not at all).
    pub public_from: Option<DateTime<Utc>>,
}

/// Whether anonymous readers see an item with this publication now.
pub fn public_now(publication: Option<(Status, Option<DateTime<Utc>>)>) -> bool {
    publication.is_some_and(|(status, at)| Access::Public.may_see(status, at))
}

/// From when anonymous readers see an item with this publication, if ever.
pub fn public_from(publication: Option<(Status, Option<DateTime<Utc>>)>) -> Option<DateTime<Utc>> {
    match publication {
        Some((Status::Published, at)) => at,
        _ => None,
    }
}

/// An item as the log compares it: its key, version and publication.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub key: String,
    pub version: i32,
    pub publication: Option<(Status, Option<DateTime<Utc>>)>,
}

/// The changes one write made to one item, from what it was to what it is: none if
/// its version did not move (the same PUT twice), and a renamed key as the old one
/// deleted and the new one created, as a feed reader must see it.
pub fn changes_between(
    kind: &'static str,
    parent: Option<String>,
    before: Option<&Snapshot>,
    after: Option<&Snapshot>,
) -> Vec<Change> {
    let change = |item: &Snapshot, action: Action, public_before: bool| Change {
        kind,
        key: item.key.clone(),
        parent: parent.clone(),
        action,
        version: item.version,
        public_before,
        public_from: match action {
            Action::Deleted => None,
            _ => public_from(item.publication),
        },
    };
    let was_public = before.is_some_and(|item| public_now(item.publication));
    match (before, after) {
        (None, Some(item)) => vec![change(item, Action::Created, false)],
        (Some(old), Some(item)) if old.key != item.key => vec![
            change(old, Action::Deleted, was_public),
            change(item, Action::Created, false),
        ],
        (Some(old), Some(item)) if old.version == item.version => Vec::new(),
        (Some(_), Some(item)) => vec![change(item, Action::Updated, was_public)],
        (Some(old), None) => vec![change(old, Action::Deleted, was_public)],
        (None, None) => Vec::new(),
    }
}

/// Appends changes as the last step of the caller's transaction, in one statement
/// that also moves `changes_head` forward: that row stays locked until the
/// transaction ends, so writes that log take their positions one at a time, in the
/// order they commit.
pub fn append(conn: &mut PgConnection, changes: &[Change], actor: &str) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Change) -> String| changes.iter().map(f).collect::<Vec<_>>();
    let count = i64::try_from(changes.len()).map_err(crate::platform::error::AppError::internal)?;
    diesel::sql_query(
        // A write that waited for the head's lock reads the position the previous
        // one committed (an UPDATE re-reads a row it waited for), not its snapshot.
        // `at` is the clock's time, not the transaction's start (`now()`): an item
        // published during the transaction is published before it is logged.
        "WITH head AS (UPDATE changes_head SET position = position + $9 RETURNING position) \
         INSERT INTO changes (position, type, key, parent, action, version, actor, \
                              public_before, public_from, at) \
         SELECT head.position - $9 + n, t, k, p, a, v, $7, b, f, clock_timestamp() \
         FROM head, unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], \
                           $6::bool[], $8::timestamptz[]) WITH ORDINALITY AS u(t, k, p, a, v, b, f, n)",
    )
    .bind::<Array<Text>, _>(column(|c| c.kind.to_owned()))
    .bind::<Array<Text>, _>(column(|c| c.key.clone()))
    .bind::<Array<Nullable<Text>>, _>(changes.iter().map(|c| c.parent.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(column(|c| c.action.as_str().to_owned()))
    .bind::<Array<Int4>, _>(changes.iter().map(|c| c.version).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(changes.iter().map(|c| c.public_before).collect::<Vec<_>>())
    .bind::<Text, _>(actor)
    .bind::<Array<Nullable<Timestamptz>>, _>(
        changes.iter().map(|c| c.public_from).collect::<Vec<_>>(),
    )
    .bind::<BigInt, _>(count)
    .execute(conn)?;
    Ok(())
}

/// The position of the newest change, 0 if there is none (never less than the
/// horizon: positions go on from where they were after a prune emptied the log).
pub fn head(conn: &mut PgConnection) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Head {
        #[diesel(sql_type = BigInt)]
        position: i64,
    }
    Ok(diesel::sql_query("SELECT position FROM changes_head")
        .get_result::<Head>(conn)?
        .position)
}

/// The content tables: their name, change type, key column, and the column of
/// their parent (`NULL::text` if none): for scheduled publications, and for the
/// revisions the history triggers keep of them. Observations carry their metric.
pub const CONTENT_TABLES: &[(&str, &str, &str, &str)] = &[
    ("pages", "page", "slug", "NULL::text"),
    ("impact_metrics", "impact_metric", "key", "NULL::text"),
    ("observations", "observation", "id", "metric"),
    ("funders", "funder", "slug", "NULL::text"),
    (
        "council_decisions",
        "council_decision",
        "celex",
        "NULL::text",
    ),
    ("contacts", "contact", "slug", "NULL::text"),
];

/// Logs the publications whose time has come since the last call: an item saved
/// with a future `published_at` appears to anonymous readers of the feed when it
/// is published, not when it was saved. Every instance may call it; one at a time
/// does the work, and none logs a publication twice.
pub fn log_scheduled(conn: &mut PgConnection) -> AppResult<usize> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Nullable<Text>)]
        parent: Option<String>,
        #[diesel(sql_type = Int4)]
        version: i32,
        #[diesel(sql_type = Timestamptz)]
        published_at: DateTime<Utc>,
    }
    conn.transaction(|conn| {
        let until: DateTime<Utc> = changes_schedule::table
            .select(changes_schedule::until)
            .for_update()
            .first(conn)?;
        // The database's clock, which stamps the changes, not this process's.
        let now = database_now(conn)?;
        let branches: Vec<String> = CONTENT_TABLES
            .iter()
            .map(|(table, kind, key, parent)| {
                // Only what was saved before its time came: an item saved already
                // published was logged as such when it was saved.
                format!(
                    "SELECT '{kind}'::text AS kind, {key}::text AS key, {parent} AS parent, version, \
                     published_at FROM {table} t WHERE status = 'published' \
                     AND published_at > $1 AND published_at <= $2 \
                     AND published_at > coalesce((SELECT max(c.at) FROM changes c \
                         WHERE c.type = '{kind}' AND c.key = t.{key}::text), '-infinity')"
                )
            })
            .collect();
        let due: Vec<Due> = diesel::sql_query(format!(
            "{} ORDER BY published_at, kind, key",
            branches.join(" UNION ALL ")
        ))
        .bind::<Timestamptz, _>(until)
        .bind::<Timestamptz, _>(now)
        .load(conn)?;
        let changes: Vec<Change> = due
            .into_iter()
            .filter_map(|item| {
                let kind = CONTENT_TABLES.iter().find(|(_, k, _, _)| *k == item.kind)?.1;
                Some(Change {
                    kind,
                    key: item.key,
                    parent: item.parent,
                    action: Action::Updated,
                    version: item.version,
                    public_before: false,
                    public_from: Some(item.published_at),
                })
            })
            .collect();
        append(conn, &changes, "system:schedule")?;
        diesel::update(changes_schedule::table)
            .set(changes_schedule::until.eq(now))
            .execute(conn)?;
        Ok(changes.len())
    })
}

/// How long until the next scheduled publication of any content, if one is
/// scheduled: the read cache keeps nothing past it, so that an item appears to
/// anonymous readers when its time comes.
pub fn next_publication(conn: &mut PgConnection) -> AppResult<Option<std::time::Duration>> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = Nullable<diesel::sql_types::Double>)]
        seconds: Option<f64>,
    }
    // `now()` (the statement's start, in this one-statement transaction) lets each
    // branch walk its partial index on `published_at`.
    let branches: Vec<String> = CONTENT_TABLES
        .iter()
        .map(|(table, ..)| {
            format!(
                "SELECT min(published_at) AS at FROM {table} \
                 WHERE status = 'published' AND published_at > now()"
            )
        })
        .collect();
    let next = diesel::sql_query(format!(
        "SELECT extract(epoch FROM min(at) - now())::float8 AS seconds FROM ({}) due",
        branches.join(" UNION ALL ")
    ))
    .get_result::<Next>(conn)?;
    Ok(next
        .seconds
        .map(|seconds| std::time::Duration::from_secs_f64(seconds.max(0.0))))
}

fn database_now(conn: &mut PgConnection) -> AppResult<DateTime<Utc>> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = Timestamptz)]
        now: DateTime<Utc>,
    }
    Ok(diesel::sql_query("SELECT clock_timestamp() AS now")
        .get_result::<Now>(conn)?
        .now)
}

/// How long the log keeps a change: a sync job that looks less often than this
/// must start over.
pub const KEPT_DAYS: i64 = 90;

/// Forgets changes older than `KEPT_DAYS`; a cursor before them is then a 410.
pub fn prune(conn: &mut PgConnection) -> AppResult<usize> {
    conn.transaction(|conn| {
        #[derive(QueryableByName)]
        struct Pruned {
            #[diesel(sql_type = BigInt)]
            position: i64,
        }
        let pruned: Vec<Pruned> = diesel::sql_query(
            "DELETE FROM changes WHERE at < now() - make_interval(days => $1) RETURNING position",
        )
        .bind::<Int4, _>(KEPT_DAYS as i32)
        .load(conn)?;
        if let Some(last) = pruned.iter().map(|row| row.position).max() {
            diesel::sql_query("UPDATE changes_horizon SET position = greatest(position, $1)")
                .bind::<BigInt, _>(last)
                .execute(conn)?;
        }
        Ok(pruned.len())
    })
}

/// The oldest cursor the log can still answer: changes after it are all there.
pub fn horizon(conn: &mut PgConnection) -> AppResult<i64> {
    use crate::platform::db::schema::changes_horizon;
    Ok(changes_horizon::table
        .select(changes_horizon::position)
        .first(conn)?)
}
