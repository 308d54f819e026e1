//! Revisions: the versions of an item, read from the change log, whose entries
//! keep each version's stored fields; the difference between two as a JSON Patch;
//! and a restore, which writes a version back through the same path as a PUT. For
//! editors and admins, on every registered kind (`routes`).

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::Kind;
use crate::features::translations;
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::locale::canonical;
use crate::platform::query::{ListMeta, Paging, Params};

/// A version of an item.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revision {
    /// The item's version.
    #[schema(example = 2)]
    pub version: i32,
    /// Whether this is the item as it is now.
    pub current: bool,
    /// Who wrote this version (`user:anna`, `token:<id>`, `system:import`, or
    /// `database:<role>` for a change made outside the service).
    #[schema(example = "user:editor")]
    pub author: String,
    /// When this version was written.
    pub written_at: DateTime<Utc>,
    /// When a later write replaced it; null for the current version.
    pub replaced_at: Option<DateTime<Utc>>,
    /// `updated` or `deleted`: what replaced it; null for the current version.
    #[schema(example = "updated")]
    pub replaced_by: Option<String>,
    /// The item's stored fields in this version: what a PUT writes, and `id`,
    /// `version`, `created_at` and `updated_at`. Derived fields (`body_html`, a
    /// metric's `latest`) are not kept.
    #[schema(value_type = Object)]
    pub item: Value,
}

/// A page of revisions.
#[derive(Serialize, ToSchema)]
pub struct RevisionList {
    pub data: Vec<Revision>,
    pub meta: ListMeta,
}

/// A version as the log keeps it.
#[derive(Debug, QueryableByName)]
pub(super) struct Kept {
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Bool)]
    current: bool,
    #[diesel(sql_type = Text)]
    author: String,
    #[diesel(sql_type = Timestamptz)]
    written_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    replaced_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    replaced_by: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub(super) item: Value,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub(super) item_id: Option<Uuid>,
}

/// Whose versions: a kind, and an item's key and parent (its path); or the
/// item's translation into `locale`.
pub struct Versions {
    kind: &'static dyn Kind,
    pub(super) key: String,
    /// The scope of a nested item (an observation's metric).
    pub(super) parent: Option<String>,
    /// A translation's locale (`{item}/translations/{locale}/revisions`).
    pub(super) locale: Option<String>,
}

impl Versions {
    /// The item a request names: the parent (if nested) and the key, in path order.
    pub fn of(kind: &'static dyn Kind, req: &HttpRequest) -> AppResult<Self> {
        let nested = kind.descriptor().parent.is_some();
        let mut values = req
            .match_info()
            .iter()
            .filter(|(name, _)| !matches!(*name, "version" | "locale"))
            .map(|(_, value)| value.to_owned());
        let parent = if nested { values.next() } else { None };
        let key = values.next().unwrap_or_default();
        // A tag is letters, digits and hyphens: one that is not names no translation.
        let locale = req
            .match_info()
            .get("locale")
            .map(|raw| canonical(raw).unwrap_or_else(|_| "-".to_owned()));
        Ok(Self {
            kind,
            key,
            parent,
            locale,
        })
    }

    /// The actions of its writes, the deleting one last, and the table of what they
    /// wrote.
    fn writes(&self) -> (&'static str, &'static str, &'static str) {
        match self.locale {
            None => (
                "'created', 'updated', 'deleted'",
                "deleted",
                self.kind.descriptor().table,
            ),
            Some(_) => (
                "'translated', 'untranslated'",
                "untranslated",
                "translations",
            ),
        }
    }

    /// Every version under this key, each with what replaced it; `tail` filters and
    /// orders. `$1` type, `$2` key, `$3` parent.
    fn sql(&self, select: &str, tail: &str) -> String {
        let (actions, deleting, table) = self.writes();
        let locale = match &self.locale {
            None => "c.locale IS NULL".to_owned(),
            Some(tag) => format!(
                "c.locale = '{}'",
                tag.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
            ),
        };
        format!(
            "SELECT {select} FROM ( \
               SELECT c.seq, c.version, c.item, c.item_id, c.actor AS author, c.at AS written_at, \
                      c.action, \
                      lead(c.at) OVER w AS replaced_at, \
                      CASE WHEN lead(c.moved) OVER w IS NOT NULL THEN 'updated' \
                           WHEN lead(c.action) OVER w = '{deleting}' THEN 'deleted' \
                           WHEN lead(c.action) OVER w IS NOT NULL THEN 'updated' END AS replaced_by, \
                      lead(c.seq) OVER w IS NULL AND EXISTS ( \
                          SELECT 1 FROM {table} t WHERE t.id = c.item_id AND t.version = c.version \
                      ) AS current \
                 FROM changes c \
                WHERE c.type = $1 AND c.key = $2 AND c.parent IS NOT DISTINCT FROM $3 \
                  AND {locale} AND c.action IN ({actions}) \
               WINDOW w AS (PARTITION BY c.item_id ORDER BY c.seq) \
             ) v WHERE action <> '{deleting}' AND item IS NOT NULL {tail}",
        )
    }

    /// `sql` as a query, with the type, the key and the parent bound.
    fn query(&self, select: &str, tail: &str) -> BoxedSqlQuery<'_, Pg, SqlQuery> {
        diesel::sql_query(self.sql(select, tail))
            .into_boxed()
            .bind::<Text, _>(self.kind.descriptor().kind)
            .bind::<Text, _>(&self.key)
            .bind::<Nullable<Text>, _>(&self.parent)
    }

    fn page(&self, conn: &mut PgConnection, paging: Paging) -> AppResult<(Vec<Kept>, i64)> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let rows = self
            .query(
                "*",
                "ORDER BY current DESC, version DESC, seq DESC LIMIT $4 OFFSET $5",
            )
            .bind::<BigInt, _>(paging.per_page)
            .bind::<BigInt, _>(paging.offset())
            .load(conn)?;
        let total = self.query("count(*) AS n", "").get_result::<Count>(conn)?.n;
        Ok((rows, total))
    }

    /// The version `number` (the newest kept under it), or a 404.
    pub(super) fn find(&self, conn: &mut PgConnection, number: i32) -> AppResult<Kept> {
        self.query("*", "AND version = $4 ORDER BY seq DESC LIMIT 1")
            .bind::<Int4, _>(number)
            .get_result(conn)
            .optional()?
            .ok_or_else(|| self.no_version(&number.to_string()))
    }

    /// The newest version: the item as it is now, or as it was last if deleted.
    fn newest(&self, conn: &mut PgConnection) -> AppResult<Kept> {
        let first = Paging {
            page: 1,
            per_page: 1,
        };
        self.page(conn, first)?
            .0
            .pop()
            .ok_or_else(|| self.no_item())
    }

    /// What the versions are of, in words.
    fn subject(&self) -> String {
        let d = self.kind.descriptor();
        let item = format!("the {} with {} {}", d.name, d.key, self.key);
        match &self.locale {
            None => item,
            Some(locale) => format!("the translation into {locale} of {item}"),
        }
    }

    fn no_version(&self, version: &str) -> AppError {
        AppError::NotFound(format!(
            "there is no version {version} of {}",
            self.subject()
        ))
    }

    fn no_item(&self) -> AppError {
        AppError::NotFound(format!(
            "there is no {}, and none was ever kept",
            self.subject().trim_start_matches("the ")
        ))
    }

    /// A kept version as the API shows it.
    fn shown(&self, kept: Kept) -> Revision {
        Revision {
            version: kept.version,
            current: kept.current,
            author: kept.author,
            written_at: kept.written_at,
            replaced_at: kept.replaced_at,
            replaced_by: kept.replaced_by,
            item: match self.locale {
                None => self.kind.descriptor().from_stored(&kept.item),
                Some(_) => translations::kept(&kept.item),
            },
        }
    }
}

/// A request about the history of an item of `kind`, which `req`'s path names.
pub struct Asked {
    pub(super) kind: &'static dyn Kind,
    pub(super) db: Db,
    pub(super) caller: Caller,
    pub(super) req: HttpRequest,
}

impl Asked {
    /// The handler of a route that asks `handle` about an item of `kind`.
    pub fn handler<F: 'static>(
        kind: &'static dyn Kind,
        handle: fn(Asked) -> F,
    ) -> impl Fn(Db, Caller, HttpRequest) -> F + Clone + 'static {
        move |db, caller, req| {
            handle(Self {
                kind,
                db,
                caller,
                req,
            })
        }
    }

    /// The versions of the item, if the caller may read history.
    pub(super) fn versions(&self) -> AppResult<Versions> {
        self.caller.require(Permission::ReadHistory)?;
        Versions::of(self.kind, &self.req)
    }

    /// The version number in the path: anything but a whole number from 1 names no
    /// version, a 404 as for any key that names nothing.
    pub(super) fn version(&self, versions: &Versions) -> AppResult<i32> {
        let raw = self.req.match_info().get("version").unwrap_or_default();
        raw.parse::<i32>()
            .ok()
            .filter(|version| *version >= 1)
            .ok_or_else(|| versions.no_version(raw))
    }
}

pub async fn list(asked: Asked) -> AppResult<HttpResponse> {
    let versions = asked.versions()?;
    let mut params = Params::parse(asked.req.query_string())?;
    let paging = params.paging()?;
    params.finish()?;
    let (versions, rows, total) = asked
        .db
        .run(move |conn| {
            let (rows, total) = versions.page(conn, paging)?;
            Ok((versions, rows, total))
        })
        .await?;
    if total == 0 {
        return Err(versions.no_item());
    }
    let rows: Vec<Revision> = rows.into_iter().map(|kept| versions.shown(kept)).collect();
    Ok(http::read_page(
        &asked.req,
        &asked.caller,
        rows,
        paging.meta(total),
    ))
}

pub async fn get(asked: Asked) -> AppResult<HttpResponse> {
    let versions = asked.versions()?;
    Params::none(asked.req.query_string())?;
    let version = asked.version(&versions)?;
    let (versions, kept) = asked
        .db
        .run(move |conn| {
            let kept = versions.find(conn, version)?;
            Ok((versions, kept))
        })
        .await?;
    let body = serde_json::to_value(versions.shown(kept)).map_err(AppError::internal)?;
    Ok(http::read(&asked.req, &asked.caller, &body, &[]))
}

/// The media type of a JSON Patch (RFC 6902).
pub const JSON_PATCH: &str = "application/json-patch+json";

pub async fn diff(asked: Asked) -> AppResult<HttpResponse> {
    let versions = asked.versions()?;
    let mut params = Params::parse(asked.req.query_string())?;
    let to = params.parsed("to", |raw| {
        raw.parse::<i32>()
            .ok()
            .filter(|version| *version >= 1)
            .ok_or_else(|| format!("must be a whole number from 1 to {}", i32::MAX))
    })?;
    params.finish()?;
    let from = asked.version(&versions)?;
    let patch = asked
        .db
        .run(move |conn| {
            let from = versions.find(conn, from)?;
            // Without `to`: to the item as it is now (or as it was last, if deleted).
            let to = match to {
                Some(number) => versions.find(conn, number)?,
                None => versions.newest(conn)?,
            };
            let (from, to) = (versions.shown(from), versions.shown(to));
            Ok(json_patch::diff(&from.item, &to.item))
        })
        .await?;
    let bytes = serde_json::to_vec(&patch).map_err(AppError::internal)?;
    Ok(http::read_bytes(
        &asked.req,
        &asked.caller,
        bytes,
        JSON_PATCH,
        &[],
    ))
}
