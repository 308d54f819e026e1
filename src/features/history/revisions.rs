//! Revisions: the versions of an item, as the history trigger keeps them (the one
//! each write replaced) and as it is now; the difference between two as a JSON
//! Patch; and a restore, which writes a version back as a new one, through the same
//! path as a PUT. For editors and admins. Served for every content resource by
//! the generic handlers below (`revisions::list::<Pages>`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::{Paging, unknown_parameter};
use crate::engine::handlers::{self, path_params};
use crate::engine::{Resource, docs};
use crate::features::changes::CONTENT_TABLES;
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{
    BadBody, BadParameter, Conflict, Forbidden, Invalid, NoToken, NotFound, PreconditionFailed,
    Unavailable,
};
use crate::platform::openapi::{Answer, Doc, Security, schemas};
use crate::platform::query::{self, ListMeta};

/// A version of an item.
#[derive(Debug, Clone, Serialize, QueryableByName, ToSchema)]
pub struct Revision {
    /// The item's version.
    #[diesel(sql_type = Int4)]
    #[schema(example = 2)]
    pub version: i32,
    /// Whether this is the item as it is now.
    #[diesel(sql_type = Bool)]
    pub current: bool,
    /// Who wrote this version (`user:anna`, `token:<id>`, `system:import`, or
    /// `database:<role>` for a change made outside the service), while the audit
    /// log still records it.
    #[diesel(sql_type = Nullable<Text>)]
    #[schema(example = "user:editor")]
    pub author: Option<String>,
    /// When this version was written, while the audit log still records it.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub written_at: Option<DateTime<Utc>>,
    /// When a later write replaced it; null for the current version.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub replaced_at: Option<DateTime<Utc>>,
    /// `updated` or `deleted`: what replaced it; null for the current version.
    #[diesel(sql_type = Nullable<Text>)]
    #[schema(example = "updated")]
    pub replaced_by: Option<String>,
    /// The item's stored fields in this version: what a PUT writes, and `id`,
    /// `version`, `created_at` and `updated_at`. Derived fields (`body_html`, a
    /// metric's `latest`) are not kept.
    #[diesel(sql_type = Jsonb)]
    #[schema(value_type = Object)]
    pub item: Value,
    /// Orders versions kept under the same number (a key deleted and used again).
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    pub id: i64,
}

/// A page of revisions.
#[derive(Serialize, ToSchema)]
pub struct RevisionList {
    pub data: Vec<Revision>,
    pub meta: ListMeta,
}

/// Whose versions: a content resource's table, and an item's key and parent.
struct Versions {
    table: &'static str,
    kind: &'static str,
    key_column: &'static str,
    parent_column: &'static str,
    key: String,
    /// The scope of a nested item (an observation's metric).
    parent: Option<String>,
}

impl Versions {
    fn of<R: Resource>(req: &HttpRequest) -> AppResult<Self> {
        let (scope, key) = path_params::<R>(req)?;
        let kind = R::CHANGE_TYPE.ok_or_else(|| AppError::internal("no revisions"))?;
        let &(table, _, key_column, parent_column) = CONTENT_TABLES
            .iter()
            .find(|(_, k, _, _)| *k == kind)
            .ok_or_else(|| AppError::internal("a content type without a table"))?;
        Ok(Self {
            table,
            kind,
            key_column,
            parent_column,
            key,
            parent: R::SCOPE_DESCRIPTION.map(|_| scope),
        })
    }

    /// Every version: the item as it is now (if it exists), then the kept ones,
    /// newest first. `$1` type, `$2` key, `$3` parent; `tail` adds to it.
    fn sql(&self, select: &str, tail: &str) -> String {
        format!(
            "SELECT {select} FROM ( \
               SELECT t.version, true AS current, a.actor AS author, a.at AS written_at, \
                      NULL::timestamptz AS replaced_at, NULL::text AS replaced_by, \
                      seesac_history_item(to_jsonb(t)) AS item, 0::bigint AS id \
                 FROM {table} t LEFT JOIN LATERAL ( \
                      SELECT au.actor, au.at FROM audit au \
                       WHERE au.type = $1 AND au.key = $2 AND au.version_after = t.version \
                       ORDER BY au.id DESC LIMIT 1) a ON true \
                WHERE t.{key}::text = $2 AND {parent} IS NOT DISTINCT FROM $3 \
               UNION ALL \
               SELECT r.version, false, a.actor, a.at, r.replaced_at, r.replaced_by, r.item, r.id \
                 FROM revisions r LEFT JOIN LATERAL ( \
                      SELECT au.actor, au.at FROM audit au \
                       WHERE au.type = $1 AND au.key = $2 AND au.version_after = r.version \
                         AND au.at <= r.replaced_at \
                       ORDER BY au.id DESC LIMIT 1) a ON true \
                WHERE r.type = $1 AND r.key = $2 AND r.parent IS NOT DISTINCT FROM $3 \
             ) v {tail}",
            table = self.table,
            key = self.key_column,
            parent = if self.parent_column.starts_with("NULL") {
                self.parent_column.to_owned()
            } else {
                format!("t.{}", self.parent_column)
            },
        )
    }

    fn page(&self, conn: &mut PgConnection, paging: &Paging) -> AppResult<(Vec<Revision>, i64)> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let rows: Vec<Revision> = diesel::sql_query(self.sql(
            "*",
            "ORDER BY current DESC, version DESC, id DESC LIMIT $4 OFFSET $5",
        ))
        .bind::<Text, _>(self.kind)
        .bind::<Text, _>(&self.key)
        .bind::<Nullable<Text>, _>(&self.parent)
        .bind::<BigInt, _>(paging.per_page)
        .bind::<BigInt, _>(paging.offset())
        .load(conn)?;
        let total = diesel::sql_query(self.sql("count(*) AS n", ""))
            .bind::<Text, _>(self.kind)
            .bind::<Text, _>(&self.key)
            .bind::<Nullable<Text>, _>(&self.parent)
            .get_result::<Count>(conn)?
            .n;
        Ok((rows, total))
    }

    /// The newest version with this number.
    fn one(&self, conn: &mut PgConnection, version: i32) -> AppResult<Option<Revision>> {
        Ok(diesel::sql_query(self.sql(
            "*",
            "WHERE version = $4 ORDER BY current DESC, id DESC LIMIT 1",
        ))
        .bind::<Text, _>(self.kind)
        .bind::<Text, _>(&self.key)
        .bind::<Nullable<Text>, _>(&self.parent)
        .bind::<Int4, _>(version)
        .get_result(conn)
        .optional()?)
    }

    /// The version `number` (the newest kept under it), or a 404.
    fn find<R: Resource>(&self, conn: &mut PgConnection, number: i32) -> AppResult<Revision> {
        self.one(conn, number)?
            .ok_or_else(|| self.no_version::<R>(&number.to_string()))
    }

    /// The newest version: the item as it is now, or as it was last if deleted.
    fn newest<R: Resource>(&self, conn: &mut PgConnection) -> AppResult<Revision> {
        let first = Paging {
            page: 1,
            per_page: 1,
        };
        self.page(conn, &first)?
            .0
            .pop()
            .ok_or_else(|| self.no_item::<R>())
    }

    fn no_version<R: Resource>(&self, version: &str) -> AppError {
        AppError::NotFound(format!(
            "there is no version {version} of the {} with {} {}",
            R::NAME,
            R::KEY,
            self.key
        ))
    }

    fn no_item<R: Resource>(&self) -> AppError {
        AppError::NotFound(format!(
            "there is no {} with {} {}, and none was ever kept",
            R::NAME,
            R::KEY,
            self.key
        ))
    }
}

/// The version number in the path: anything but a whole number from 1 names no
/// version, a 404 as for any key that names nothing.
fn version_in_path<R: Resource>(req: &HttpRequest, versions: &Versions) -> AppResult<i32> {
    let raw = req.match_info().get("version").unwrap_or_default();
    raw.parse::<i32>()
        .ok()
        .filter(|version| *version >= 1)
        .ok_or_else(|| versions.no_version::<R>(raw))
}

pub async fn list<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadHistory)?;
    let versions = Versions::of::<R>(&req)?;
    let paging = Paging::parse(req.query_string(), |name, _| {
        Err(unknown_parameter(name, "page, per_page"))
    })?;
    let page = paging.clone();
    let (versions, rows, total) = db
        .run(move |conn| {
            let (rows, total) = versions.page(conn, &page)?;
            Ok((versions, rows, total))
        })
        .await?;
    if total == 0 {
        return Err(versions.no_item::<R>());
    }
    let meta = paging.meta(total);
    let link = (
        header::LINK,
        http::link_header(&req, meta.page, meta.total_pages),
    );
    let body = json!({"data": rows, "meta": meta});
    Ok(http::read(&req, &caller, &body, &[link]))
}

pub async fn get<R: Resource>(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadHistory)?;
    query::no_parameters(req.query_string())?;
    let versions = Versions::of::<R>(&req)?;
    let version = version_in_path::<R>(&req, &versions)?;
    let revision = db
        .run(move |conn| versions.find::<R>(conn, version))
        .await?;
    let body = serde_json::to_value(revision).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

/// The media type of a JSON Patch (RFC 6902).
const JSON_PATCH: &str = "application/json-patch+json";

pub async fn diff<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadHistory)?;
    let mut to = None;
    for (name, value) in query::pairs(req.query_string())? {
        match name.as_str() {
            "to" => {
                to = Some(query::number_param("to", &value, 1..=i64::from(i32::MAX))? as i32);
            }
            _ => return Err(unknown_parameter(&name, "to")),
        }
    }
    let versions = Versions::of::<R>(&req)?;
    let from = version_in_path::<R>(&req, &versions)?;
    let patch = db
        .run(move |conn| {
            let from = versions.find::<R>(conn, from)?;
            // Without `to`: to the item as it is now (or as it was last, if deleted).
            let to = match to {
                Some(number) => versions.find::<R>(conn, number)?,
                None => versions.newest::<R>(conn)?,
            };
            Ok(json_patch::diff(&from.item, &to.item))
        })
        .await?;
    let bytes = serde_json::to_vec(&patch).map_err(AppError::internal)?;
    Ok(http::read_bytes(&req, &caller, bytes, JSON_PATCH, &[]))
}

/// The fields of a kept version that a PUT writes: those of the resource's body.
fn writable<R: Resource>(item: Value) -> Map<String, Value> {
    let fields: Vec<String> = match R::Body::schema() {
        RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => Vec::new(),
    };
    match item {
        Value::Object(object) => object
            .into_iter()
            .filter(|(name, _)| fields.contains(name))
            .collect(),
        _ => Map::new(),
    }
}

pub async fn restore<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadHistory)?;
    caller.require(R::WRITE)?;
    query::no_parameters(req.query_string())?;
    let versions = Versions::of::<R>(&req)?;
    let version = version_in_path::<R>(&req, &versions)?;
    let (scope, key) = path_params::<R>(&req)?;
    let revision = db
        .run(move |conn| versions.find::<R>(conn, version))
        .await?;
    let object = writable::<R>(revision.item);
    let location = req
        .path()
        .rsplit_once("/revisions/")
        .map_or_else(|| req.path().to_owned(), |(item, _)| item.to_owned());
    handlers::put::<R>(&db, caller, &req, scope, key, object, location).await
}

/// The version's path parameter: a whole number from 1.
fn version_param(doc: Doc) -> Doc {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let number = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(i32::MAX));
    doc.typed_path_param("The version", Some("1"), number.into())
}

const WHO: &str = "Editors and admins only (a person's token; no API token scope reads history).";

pub fn list_doc<R: Resource>() -> Doc {
    docs::on_item_named::<R>(
        "list",
        &format!("{}_revisions", R::NAME),
        format!("List the revisions of {}", docs::a(R::NAME)),
    )
    .describe(format!(
        "Every version of the {name} the service kept, newest first: the {name} as it is now \
             (`current`), then each version a write replaced, with who wrote it and when. A \
             deleted {name} keeps its revisions, so it can be restored under its key. A renamed \
             {name}'s earlier versions stay under its earlier key. {WHO}",
        name = R::NAME
    ))
    .security(Security::Needs(Permission::ReadHistory))
    .params(query::openapi::paging_parameters())
    .schema::<Revision>()
    .schema::<RevisionList>()
    .schema::<ListMeta>()
    .answer(
        Answer::json(200, "A page of revisions", &RevisionList::name())
            .header("Link", "first, prev, next and last pages (RFC 8288)"),
    )
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn get_doc<R: Resource>() -> Doc {
    version_param(docs::on_item_named::<R>(
        "get",
        &format!("{}_revision", R::NAME),
        format!("Read a revision of {}", docs::a(R::NAME)),
    ))
    .describe(format!("One version of the {}. {WHO}", R::NAME))
    .security(Security::Needs(Permission::ReadHistory))
    .schema::<Revision>()
    .answer(Answer::json(200, "The version", &Revision::name()))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn diff_doc<R: Resource>() -> Doc {
    let patch = utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::schema::ObjectBuilder::new())
        .into();
    version_param(docs::on_item_named::<R>(
        "diff",
        &format!("{}_revisions", R::NAME),
        format!("Compare two revisions of {}", docs::a(R::NAME)),
    ))
    .describe(format!(
        "What changed from this version to version `to` (by default the {} as it is now), as a \
         JSON Patch (RFC 6902) over the kept fields: applied to this version's `item`, it gives \
         the other's. {WHO}",
        R::NAME
    ))
    .security(Security::Needs(Permission::ReadHistory))
    .params([schemas::integer_query(
        "to",
        "The version to compare with; the current one if left out",
    )])
    .answer(Answer::with_content(
        200,
        "The JSON Patch",
        JSON_PATCH,
        patch,
    ))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn restore_doc<R: Resource>() -> Doc {
    version_param(docs::on_item_named::<R>(
        "restore",
        &format!("{}_revision", R::NAME),
        format!("Restore a revision of {}", docs::a(R::NAME)),
    ))
    .describe(format!(
        "Writes this version's fields back as a new version, exactly as a PUT of them would: \
         validated like any write, so a version whose references no longer hold (a parent that \
         is gone) is a 409 or 422 and nothing is written, and under `If-Match`. A deleted {name} \
         is created again under its key while the key is free (201). {WHO} Restoring needs the \
         right to write the {name} too.",
        name = R::NAME
    ))
    .security(Security::Needs(Permission::ReadHistory))
    .params(schemas::precondition_headers())
    .item_schema::<R::Item>()
    .answer(
        Answer::json(
            200,
            "Restored; the body is the item as it now is",
            &R::Item::name(),
        )
        .header("ETag", "The item's new tag"),
    )
    .answer(
        Answer::json(201, "Created again", &R::Item::name())
            .header("ETag", "The item's new tag")
            .header("Location", "Where it lives"),
    )
    .problems::<(
        BadBody,
        NoToken,
        Forbidden,
        NotFound,
        Conflict,
        PreconditionFailed,
        Invalid,
        Unavailable,
    )>()
}
