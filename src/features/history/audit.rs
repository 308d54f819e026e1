//! The audit log: one entry per write, whoever made it, never changed. Writes of
//! content are the change log's entries (their JSON Patch made from the versions
//! the log keeps); writes of what is not content (partners, users, tokens,
//! webhooks) have their own table, written by a trigger with its patch. Both are
//! numbered from one sequence, so they read as one log. Admins read it at
//! `GET /api/v1/audit`; operators prune it with `seesac-api audit prune`.

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Jsonb, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::admin;
use crate::content;
use crate::features::webhooks;
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::error::AppResult;
use crate::platform::http;
use crate::platform::query::{ListMeta, Paging, Params};

/// Every type the audit log records: content, and every other resource on the
/// engine (the admin resources, webhook subscriptions).
pub fn types() -> Vec<&'static str> {
    content::KINDS
        .iter()
        .chain(admin::RESOURCES)
        .chain(webhooks::RESOURCES)
        .map(|kind| kind.descriptor().kind)
        .collect()
}

/// One write of one item.
#[derive(Debug, Clone, Serialize, QueryableByName, ToSchema)]
pub struct AuditEntry {
    /// The entry's number, in the order entries were written.
    #[diesel(sql_type = BigInt)]
    #[schema(example = 42)]
    pub id: i64,
    /// When the write happened.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    /// Who wrote: `user:<username>`, `token:<id>`, `system:<task>`, or
    /// `database:<role>` for a change made outside the service.
    #[diesel(sql_type = Text)]
    #[schema(example = "user:editor")]
    pub actor: String,
    /// The partner a token is bound to.
    #[diesel(sql_type = Nullable<Text>)]
    pub partner: Option<String>,
    /// What kind of item: `page`, `impact_metric`, `observation`, `funder`,
    /// `council_decision`, `contact`, `partner`, `user`, `api_token`, `webhook`.
    #[serde(rename = "type")]
    #[diesel(sql_type = Text)]
    #[schema(example = "page")]
    pub kind: String,
    /// The item's key after the write (before it, for a deletion).
    #[diesel(sql_type = Text)]
    #[schema(example = "mission")]
    pub key: String,
    /// An observation's metric.
    #[diesel(sql_type = Nullable<Text>)]
    pub parent: Option<String>,
    /// `created`, `updated` or `deleted`.
    #[diesel(sql_type = Text)]
    #[schema(example = "updated")]
    pub action: String,
    /// The version before the write (none for a creation).
    #[diesel(sql_type = Nullable<Int4>)]
    pub version_before: Option<i32>,
    /// The version after it (none for a deletion).
    #[diesel(sql_type = Nullable<Int4>)]
    pub version_after: Option<i32>,
    /// The change as a JSON Patch (RFC 6902) over the item's stored fields.
    #[diesel(sql_type = Nullable<Jsonb>)]
    #[schema(value_type = Vec<Object>)]
    pub patch: Option<Value>,
    /// The request's `X-Request-Id`, for a write made through the API.
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    /// The client's address, for a write made through the API.
    #[diesel(sql_type = Nullable<Text>)]
    pub address: Option<String>,
    /// For a write of content: the item's stored fields before and after, which
    /// its patch is made from.
    #[diesel(sql_type = Nullable<Jsonb>)]
    #[serde(skip)]
    before: Option<Value>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    #[serde(skip)]
    after: Option<Value>,
}

/// A page of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditEntry>,
    pub meta: ListMeta,
}

/// The filters of the audit log, checked.
#[derive(Debug, Default, Clone)]
struct Filters {
    actor: Option<String>,
    kind: Option<&'static str>,
    key: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

/// An actor as the log writes it: `user:`, `token:`, `system:` or `database:` and a
/// name.
fn parse_actor(raw: &str) -> Result<String, String> {
    let known = ["user:", "token:", "system:", "database:"];
    match known.iter().find(|prefix| raw.starts_with(**prefix)) {
        Some(prefix) if raw.len() > prefix.len() => Ok(raw.to_owned()),
        _ => Err(
            "must be an actor as the log writes it: user:<username>, token:<id>, \
             system:<task> or database:<role>"
                .to_owned(),
        ),
    }
}

/// Every entry that passes the filters, both sources, newest first; `$1`-`$5` are
/// the filters (null: any), `tail` pages or counts.
fn sql(select: &str, tail: &str) -> String {
    let filters = "($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR type = $2) \
                   AND ($3::text IS NULL OR key = $3) AND ($4::timestamptz IS NULL OR at >= $4) \
                   AND ($5::timestamptz IS NULL OR at < $5)";
    format!(
        "SELECT {select} FROM ( \
           SELECT c.seq AS id, c.at, c.actor, c.partner, c.type AS kind, c.key, c.parent, \
                  CASE WHEN c.moved IS NOT NULL THEN 'updated' ELSE c.action END AS action, \
                  CASE WHEN c.action = 'deleted' THEN c.version \
                       WHEN c.action = 'updated' OR c.moved IS NOT NULL THEN c.version - 1 END \
                    AS version_before, \
                  CASE WHEN c.action <> 'deleted' THEN c.version END AS version_after, \
                  NULL::jsonb AS patch, c.request_id, c.address, \
                  CASE WHEN c.action = 'deleted' THEN c.item ELSE prev.item END AS before, \
                  CASE WHEN c.action <> 'deleted' THEN c.item END AS after \
             FROM changes c LEFT JOIN LATERAL ( \
                  SELECT p.item FROM changes p \
                   WHERE p.item_id = c.item_id AND p.seq < c.seq AND c.action <> 'deleted' \
                     AND p.action IN ('created', 'updated') \
                   ORDER BY p.seq DESC LIMIT 1) prev ON c.action = 'updated' OR c.moved IS NOT NULL \
            WHERE c.action IN ('created', 'updated', 'deleted') \
              AND NOT (c.action = 'deleted' AND c.moved IS NOT NULL) AND {filters} \
           UNION ALL \
           SELECT a.id, a.at, a.actor, a.partner, a.type, a.key, a.parent, a.action, \
                  a.version_before, a.version_after, a.patch, a.request_id, a.address, \
                  NULL::jsonb, NULL::jsonb \
             FROM audit a WHERE {filters} \
         ) e {tail}"
    )
}

/// The page of entries and the total.
fn page(
    conn: &mut PgConnection,
    filters: &Filters,
    paging: Paging,
) -> AppResult<(Vec<AuditEntry>, i64)> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    macro_rules! bound {
        ($query:expr) => {
            $query
                .bind::<Nullable<Text>, _>(&filters.actor)
                .bind::<Nullable<Text>, _>(filters.kind)
                .bind::<Nullable<Text>, _>(&filters.key)
                .bind::<Nullable<Timestamptz>, _>(filters.since)
                .bind::<Nullable<Timestamptz>, _>(filters.until)
        };
    }
    let entries: Vec<AuditEntry> = bound!(diesel::sql_query(sql(
        "*",
        "ORDER BY id DESC LIMIT $6 OFFSET $7"
    )))
    .bind::<BigInt, _>(paging.per_page)
    .bind::<BigInt, _>(paging.offset())
    .load(conn)?;
    let total = bound!(diesel::sql_query(sql("count(*) AS n", "")))
        .get_result::<Count>(conn)?
        .n;
    Ok((entries.into_iter().map(with_patch).collect(), total))
}

/// A write of content with its JSON Patch, made from the versions before and after
/// as the API names and writes their fields.
fn with_patch(mut entry: AuditEntry) -> AuditEntry {
    if entry.patch.is_none() {
        let shown = |stored: &Option<Value>| match (stored, content::kind(&entry.kind)) {
            (Some(stored), Some(kind)) => kind.descriptor().from_stored(stored),
            _ => json!({}),
        };
        let patch = json_patch::diff(&shown(&entry.before), &shown(&entry.after));
        entry.patch = serde_json::to_value(patch).ok();
    }
    entry
}

pub async fn list_audit(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadAudit)?;
    let types = types();
    let mut params = Params::parse(req.query_string())?;
    let paging = params.paging()?;
    let filters = Filters {
        actor: params.parsed("actor", parse_actor)?,
        kind: params.choice("type", &types)?,
        key: params.text("key")?,
        since: params.instant("since")?,
        until: params.instant("until")?,
    };
    params.finish()?;
    let (entries, total) = db.run(move |conn| page(conn, &filters, paging)).await?;
    Ok(http::read_page(&req, &caller, entries, paging.meta(total)))
}
