//! The changes feed, `GET /api/v1/changes?since=<cursor>`: the change log as a
//! caller may see it, in commit order, each change with the item as it is now or a
//! tombstone. A sync job keeps `meta.next` and asks again from there.
//!
//! Anonymous callers see the public site change: publishing an item is its
//! creation, unpublishing, archiving or deleting it a tombstone, and a draft edited
//! does not show. A scheduled publication shows when its time comes. Callers who
//! may read drafts see every change.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::Required;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};

use crate::content::contacts::Contacts;
use crate::content::decisions::Decisions;
use crate::content::funders::Funders;
use crate::content::metrics::Metrics;
use crate::content::observations::Observations;
use crate::content::pages::Pages;
use crate::engine::Resource;
use crate::engine::handlers::access_of;
use crate::features::changes::{self as changelog, KEPT_DAYS};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::db::schema::changes;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{BadParameter, BadToken, Gone, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{self, View};
use crate::platform::visibility::Access;

/// The types of the log, as `types=` names them.
pub const TYPES: &[&str] = &[
    "page",
    "impact_metric",
    "observation",
    "funder",
    "council_decision",
    "contact",
];
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// A change as the log holds it.
#[derive(Debug, Queryable)]
struct Logged {
    position: i64,
    kind: String,
    key: String,
    parent: Option<String>,
    action: String,
    version: i32,
    at: DateTime<Utc>,
    public_before: bool,
}

/// A change, as the feed shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"cursor": "42", "type": "page", "key": "mission", "metric": null,
    "action": "updated", "version": 3, "at": "2026-11-29T09:00:00Z", "tombstone": false,
    "item": {"slug": "mission", "title": "Mission"}}))]
pub struct ChangeView {
    /// Where this change is in the log: a cursor to continue after it.
    pub cursor: String,
    /// `page`, `impact_metric`, `observation`, `funder`, `council_decision` or `contact`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The item's key: a slug, a metric's key, a CELEX number, an observation's id.
    pub key: String,
    /// For an observation: its metric's key.
    pub metric: Option<String>,
    /// `created`, `updated` or `deleted`, as the caller sees it: to an anonymous
    /// reader, publishing is a creation and unpublishing a deletion.
    pub action: String,
    /// The item's version after the change.
    pub version: i32,
    /// When it changed (for a scheduled publication, when it was published).
    pub at: DateTime<Utc>,
    /// True when the item is gone for this caller: deleted, or no longer visible.
    pub tombstone: bool,
    /// The item as the caller may see it now; null for a tombstone.
    #[schema(value_type = Option<Object>)]
    pub item: Option<Value>,
}

/// Paging of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedMeta {
    /// Ask again with `since` set to this for the changes after this answer.
    pub next: String,
    /// Changes per answer.
    pub limit: i64,
}

/// One answer of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    /// The changes after the cursor, oldest first.
    pub data: Vec<ChangeView>,
    pub meta: FeedMeta,
}

/// A feed request, parsed.
struct FeedQuery {
    /// `None`: from the head (`since=now`).
    since: Option<i64>,
    types: Vec<&'static str>,
    limit: i64,
}

fn parse(query_string: &str) -> AppResult<FeedQuery> {
    let mut query = FeedQuery {
        since: Some(0),
        types: TYPES.to_vec(),
        limit: DEFAULT_LIMIT,
    };
    for (key, value) in query::pairs(query_string)? {
        match key.as_str() {
            "since" if value == "now" => query.since = None,
            "since" => {
                query.since = Some(value.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(
                    || AppError::bad_request("since", "since must be a cursor (meta.next) or now"),
                )?)
            }
            "types" => {
                query.types = Vec::new();
                for item in query::list_items("types", &value)? {
                    let kind = TYPES.iter().find(|kind| **kind == item).ok_or_else(|| {
                        AppError::bad_request("types", format!("types lists {}", TYPES.join(", ")))
                    })?;
                    if !query.types.contains(kind) {
                        query.types.push(kind);
                    }
                }
            }
            "limit" => {
                query.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        AppError::bad_request(
                            "limit",
                            format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                        )
                    })?
            }
            _ => {
                return Err(AppError::bad_request(
                    key.clone(),
                    format!("unknown parameter {key}; allowed: since, types, limit"),
                ));
            }
        }
    }
    Ok(query)
}

/// The items of one type with these keys, as `access` may see them, by key.
fn items<R: Resource>(
    conn: &mut PgConnection,
    keys: Vec<String>,
    access: Access,
) -> AppResult<HashMap<String, Value>> {
    let rows = R::find_visible(conn, &keys, access)?;
    let keys: Vec<String> = rows.iter().map(R::key).collect();
    let values = crate::engine::present::<R>(conn, rows, &View::default(), access)?;
    Ok(keys.into_iter().zip(values).collect())
}

fn load(
    conn: &mut PgConnection,
    kind: &str,
    keys: Vec<String>,
    access: Access,
) -> AppResult<HashMap<String, Value>> {
    match kind {
        "page" => items::<Pages>(conn, keys, access),
        "impact_metric" => items::<Metrics>(conn, keys, access),
        "observation" => items::<Observations>(conn, keys, access),
        "funder" => items::<Funders>(conn, keys, access),
        "council_decision" => items::<Decisions>(conn, keys, access),
        "contact" => items::<Contacts>(conn, keys, access),
        other => Err(AppError::internal(format!("the log has a type {other}"))),
    }
}

/// The answer to a feed request, read in one snapshot: the changes and the head
/// agree.
fn read(conn: &mut PgConnection, query: &FeedQuery, access: Access) -> AppResult<ChangeList> {
    conn.build_transaction().repeatable_read().read_only().run(|conn| {
        let horizon = changelog::horizon(conn)?;
        let head = changelog::head(conn)?;
        let Some(since) = query.since else {
            return Ok(ChangeList {
                data: Vec::new(),
                meta: FeedMeta {
                    next: head.to_string(),
                    limit: query.limit,
                },
            });
        };
        if since < horizon {
            return Err(AppError::Gone(format!(
                "the cursor {since} is older than the change log, which keeps {KEPT_DAYS} days: \
                 start over with a full sync (read the collections, then follow \
                 GET /api/v1/changes from the cursor that ?since=now gives)"
            )));
        }
        let mut logged = changes::table
            .filter(changes::position.gt(since))
            .filter(changes::kind.eq_any(&query.types))
            .order(changes::position)
            .limit(query.limit)
            .select((
                changes::position,
                changes::kind,
                changes::key,
                changes::parent,
                changes::action,
                changes::version,
                changes::at,
                changes::public_before,
            ))
            .into_boxed();
        if access.public_only() {
            // What the public site showed before or shows after, once it does.
            logged = logged.filter(
                changes::public_before.or(changes::public_from.le(changes::at.nullable())),
            );
        }
        let logged: Vec<Logged> = logged.load(conn)?;
        // A full answer continues after its last change; a short one has read up to
        // the head, and the hidden changes before it need not be read again.
        let next = match logged.last() {
            Some(last) if logged.len() as i64 == query.limit => last.position,
            _ => head.max(since),
        };
        let mut by_kind: HashMap<&str, Vec<String>> = HashMap::new();
        for change in &logged {
            by_kind
                .entry(change.kind.as_str())
                .or_default()
                .push(change.key.clone());
        }
        let mut found: HashMap<(String, String), Value> = HashMap::new();
        for (kind, keys) in by_kind {
            for (key, item) in load(conn, kind, keys, access)? {
                found.insert((kind.to_owned(), key), item);
            }
        }
        let data = logged
            .into_iter()
            .map(|change| {
                let item = found.get(&(change.kind.clone(), change.key.clone())).cloned();
                let action = match (&item, access) {
                    (None, Access::Public) => "deleted".to_owned(),
                    (Some(_), Access::Public) if !change.public_before => "created".to_owned(),
                    (Some(_), Access::Public) => "updated".to_owned(),
                    (_, Access::Everything) => change.action,
                };
                ChangeView {
                    cursor: change.position.to_string(),
                    kind: change.kind,
                    key: change.key,
                    metric: change.parent,
                    action,
                    version: change.version,
                    at: change.at,
                    tombstone: item.is_none(),
                    item,
                }
            })
            .collect();
        Ok(ChangeList {
            data,
            meta: FeedMeta {
                next: next.to_string(),
                limit: query.limit,
            },
        })
    })
}

pub async fn list_changes(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    let query = parse(req.query_string())?;
    let access = access_of(&caller);
    let list = db.run(move |conn| read(conn, &query, access)).await?;
    let body = serde_json::to_value(list).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

pub fn list_changes_doc() -> Doc {
    let param = |name: &str,
                 description: &str,
                 schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema))
            .build()
    };
    let since = param(
        "since",
        "A cursor (`meta.next` of an earlier answer, or a change's `cursor`): the changes \
         after it. `0` (the default) is the start of the log; `now` gives no changes and the \
         cursor of the head, to follow from after a full sync.",
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^(0|[1-9][0-9]{0,17})$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["now"])),
            )
            .into(),
    );
    let mut types = param(
        "types",
        "Only changes of these types, comma-separated.",
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(TYPES.to_vec())),
            )
            .min_items(Some(1))
            .max_items(Some(query::MAX_LIST_VALUES))
            .into(),
    );
    types.style = Some(ParameterStyle::Form);
    types.explode = Some(false);
    let limit = param(
        "limit",
        "Changes per answer.",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1.0))
            .maximum(Some(MAX_LIMIT as f64))
            .default(Some(serde_json::json!(DEFAULT_LIMIT)))
            .into(),
    );
    Doc::new("list_changes", "changes", "Follow the changes")
        .describe(format!(
            "The changes to content after a cursor, in the order they committed: each with the \
             item as the caller may see it now, or a tombstone. Anonymous callers see the public \
             site change (publishing is a creation; unpublishing, archiving and deleting are \
             tombstones; a draft edited does not show; a scheduled publication shows when its \
             time comes); a token that may read drafts sees every change. Keep `meta.next` and \
             ask again from there. The log keeps {KEPT_DAYS} days: an older cursor is a 410, and \
             the sync starts over."
        ))
        .security(Security::Public)
        .params([since, types, limit])
        .schema::<ChangeList>()
        .schema::<ChangeView>()
        .schema::<FeedMeta>()
        .answer(Answer::json(200, "The changes", "ChangeList").header("ETag", "The answer's tag"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken, Gone, Unavailable)>()
}
