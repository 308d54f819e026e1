//! The changes feed, `GET /api/v1/changes?since=<cursor>`: the change log as a
//! caller may see it, oldest first. A sync job keeps `meta.next` and asks again
//! from there.
//!
//! An entry says what happened at its position, once and for good: re-read later,
//! it has the same action and version. It carries its version's stored fields
//! (`item`), to a caller who may see the item now; to anyone else its `item` is
//! null. Anonymous callers see the public site change: publishing is a creation,
//! unpublishing, archiving and deleting are deletions (`tombstone`), a draft edited
//! does not show, and a scheduled publication shows when its time comes. Callers
//! who may read drafts see every entry as it happened to the stored item.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super as changelog;
use crate::content::{self, KINDS};
use crate::engine::present::hide_references;
use crate::engine::read::access_of;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::db::schema::changes;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::query::Params;
use crate::platform::visibility::Access;

pub const DEFAULT_PER_PAGE: i64 = 100;
pub const MAX_PER_PAGE: i64 = 1000;

/// An entry as the log holds it.
#[derive(Debug, Queryable)]
struct Logged {
    position: Option<i64>,
    kind: String,
    key: String,
    parent: Option<String>,
    item_id: Option<Uuid>,
    locale: Option<String>,
    action: String,
    version: i32,
    item: Option<Value>,
    public_action: Option<String>,
    at: DateTime<Utc>,
}

/// An entry of the log, as the feed shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"cursor": "42", "type": "page", "key": "mission",
    "id": "5eed0000-0000-4000-8000-000000000002", "parent": null, "action": "updated",
    "version": 3, "at": "2026-11-29T09:00:00Z", "tombstone": false,
    "item": {"id": "5eed0000-0000-4000-8000-000000000002", "slug": "mission", "title": "Mission"}}))]
pub struct ChangeView {
    /// Where this entry is in the log: a cursor to continue after it.
    pub cursor: String,
    /// The kind of item (`page`, `impact_metric`, `observation`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The item's key: a slug, a metric's key, a CELEX number, an observation's id.
    pub key: String,
    /// The item's id, the same across renames.
    pub id: Option<Uuid>,
    /// The key of the item it lives under: an observation's metric.
    pub parent: Option<String>,
    /// The locale of a translation's entry (`translated`, `untranslated`); absent
    /// from an item's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "sq")]
    pub locale: Option<String>,
    /// What happened. To callers who may read drafts: `created`, `updated` or
    /// `deleted` (a write), `published` or `unpublished` (what anonymous readers
    /// see of it changed without a new version). To anonymous callers, what
    /// happened to the public site: `created`, `updated` or `deleted`. A
    /// translation's entry, to every caller: `translated` (written) or
    /// `untranslated` (deleted; to anonymous callers also unpublished).
    pub action: String,
    /// The item's version at this entry (a translation's own version).
    pub version: i32,
    /// When it happened (for a scheduled publication, when it was published).
    pub at: DateTime<Utc>,
    /// True when the entry removes the item for this caller.
    pub tombstone: bool,
    /// The item's stored fields at this version, if the caller may see the item now;
    /// null otherwise. A translation's entry: the translation at this version
    /// (`locale`, `status`, `fields`, `source_version`, `version`).
    #[schema(value_type = Option<Object>)]
    pub item: Option<Value>,
}

/// Paging of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedMeta {
    /// Ask again with `since` set to this for the entries after this answer.
    pub next: String,
    /// Entries per answer at most.
    pub per_page: i64,
}

/// One answer of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    /// The entries after the cursor, oldest first.
    pub data: Vec<ChangeView>,
    pub meta: FeedMeta,
}

/// A feed request, parsed.
struct FeedQuery {
    /// `None`: from the head (`since=now`).
    since: Option<i64>,
    kinds: Vec<&'static str>,
    per_page: i64,
}

/// The registered kinds' names, as `type` takes them.
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|kind| kind.descriptor().kind).collect()
}

fn parse(query_string: &str) -> AppResult<FeedQuery> {
    let mut params = Params::parse(query_string)?;
    let since = params
        .parsed("since", |raw| match raw {
            "now" => Ok(None),
            _ => raw
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| "must be a cursor (meta.next) or now".to_owned()),
        })?
        .unwrap_or(Some(0));
    let names = kind_names();
    let kinds = params.choices("type", &names)?.unwrap_or(names);
    let per_page = params.number("per_page", 1..=MAX_PER_PAGE, DEFAULT_PER_PAGE)?;
    params.finish()?;
    Ok(FeedQuery {
        since,
        kinds,
        per_page,
    })
}

/// The entries after `since`, up to `head`.
fn entries(
    conn: &mut PgConnection,
    query: &FeedQuery,
    since: i64,
    head: i64,
    access: Access,
) -> AppResult<Vec<Logged>> {
    let mut logged = changes::table
        .filter(changes::position.gt(since))
        .filter(changes::position.le(head))
        .filter(changes::kind.eq_any(&query.kinds))
        .order(changes::position)
        .limit(query.per_page)
        .select((
            changes::position,
            changes::kind,
            changes::key,
            changes::parent,
            changes::item_id,
            changes::locale,
            changes::action,
            changes::version,
            changes::item,
            changes::public_action,
            changes::at,
        ))
        .into_boxed();
    if access.public_only() {
        logged = logged.filter(changes::public_action.is_not_null());
    }
    Ok(logged.load(conn)?)
}

/// The items of the entries, as the caller may see them: for each item the caller
/// may see now, its fields at the entry's version, references hidden as reads
/// hide them.
fn items(
    conn: &mut PgConnection,
    logged: &[Logged],
    access: Access,
) -> AppResult<HashMap<usize, Value>> {
    let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    for (at, entry) in logged.iter().enumerate() {
        by_kind.entry(entry.kind.as_str()).or_default().push(at);
    }
    let mut shown = HashMap::new();
    for (name, positions) in by_kind {
        let Some(kind) = content::kind(name) else {
            continue;
        };
        let ids: Vec<Uuid> = positions
            .iter()
            .filter_map(|at| subject(&logged[*at]))
            .collect();
        let visible: HashSet<Uuid> = kind.visible(conn, &ids, access)?;
        let (mut kept, mut values, mut translations) = (Vec::new(), Vec::new(), Vec::new());
        for at in positions {
            let entry = &logged[at];
            let action = action_for(entry, access);
            let stored = entry
                .item
                .as_ref()
                .filter(|_| !matches!(action, "deleted" | "untranslated"));
            let Some(stored) =
                stored.filter(|_| subject(entry).is_some_and(|id| visible.contains(&id)))
            else {
                continue;
            };
            if entry.locale.is_some() {
                translations.push((at, crate::features::translations::kept(stored)));
            } else {
                kept.push(at);
                values.push(kind.descriptor().from_stored(stored));
            }
        }
        shown.extend(translations);
        if access.public_only() {
            hide_references(conn, kind.descriptor().spec, &mut values)?;
            kind.hide_stored(conn, &mut values)?;
        }
        shown.extend(kept.into_iter().zip(values));
    }
    Ok(shown)
}

/// The id of the item an entry is about: its own, or for a translation's entry
/// the translated item's (kept in the translation's stored row).
fn subject(entry: &Logged) -> Option<Uuid> {
    match entry.locale {
        None => entry.item_id,
        Some(_) => entry
            .item
            .as_ref()
            .and_then(|stored| stored.get("item_id"))
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok()),
    }
}

/// What an entry says happened, to this caller.
fn action_for(entry: &Logged, access: Access) -> &str {
    match access {
        Access::Everything => entry.action.as_str(),
        Access::Public => entry.public_action.as_deref().unwrap_or("updated"),
    }
}

/// The answer to a feed request, read in one snapshot: the entries and the head
/// agree.
fn read(conn: &mut PgConnection, query: &FeedQuery, access: Access) -> AppResult<ChangeList> {
    // Whatever is committed is numbered first, so that a reader sees it at once.
    changelog::number_all(conn)?;
    conn.build_transaction().repeatable_read().read_only().run(|conn| {
        let horizon = changelog::horizon(conn)?;
        let head = changelog::head(conn)?;
        let meta = |next: i64| FeedMeta {
            next: next.to_string(),
            per_page: query.per_page,
        };
        let Some(since) = query.since else {
            return Ok(ChangeList {
                data: Vec::new(),
                meta: meta(head),
            });
        };
        if since > head {
            return Err(AppError::bad_request(
                "since",
                format!(
                    "the cursor {since} is past the head of the change log, {head}: no reader was \
                     ever given it; continue from a cursor the feed gave (meta.next), or from \
                     ?since=now"
                ),
            ));
        }
        if since < horizon {
            return Err(AppError::Gone(format!(
                "the cursor {since} is older than the change log, which was pruned up to \
                 {horizon}: start over with a full sync (read the collections, then follow \
                 GET /api/v1/changes from the cursor that ?since=now gives)"
            )));
        }
        let logged = entries(conn, query, since, head, access)?;
        // A full answer continues after its last entry; a short one has read up to
        // the head, and the hidden entries before it need not be read again.
        let next = match logged.last() {
            Some(last) if logged.len() as i64 == query.per_page => {
                last.position.unwrap_or(head)
            }
            _ => head,
        };
        let mut shown = items(conn, &logged, access)?;
        let data = logged
            .iter()
            .enumerate()
            .map(|(at, entry)| {
                let action = action_for(entry, access).to_owned();
                ChangeView {
                    cursor: entry.position.unwrap_or_default().to_string(),
                    kind: entry.kind.clone(),
                    key: entry.key.clone(),
                    id: entry.item_id,
                    parent: entry.parent.clone(),
                    locale: entry.locale.clone(),
                    tombstone: action == "deleted",
                    action,
                    version: entry.version,
                    at: entry.at,
                    item: shown.remove(&at),
                }
            })
            .collect();
        Ok(ChangeList {
            data,
            meta: meta(next),
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
