//! The audit log: one entry per write of an item, whoever made it, kept by the
//! history trigger and never changed (the table refuses UPDATE, and the service's
//! role may not delete from it). Admins read it at `GET /api/v1/audit`; operators
//! prune it with `seesac-api audit prune --before DATE`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::{Paging, unknown_parameter};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::db::schema::audit;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{BadParameter, Forbidden, NoToken, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{self, ListMeta};

/// One write of one item.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = audit, check_for_backend(diesel::pg::Pg))]
pub struct AuditEntry {
    /// The entry's number, in the order entries were written.
    #[schema(example = 42)]
    pub id: i64,
    /// When the write happened.
    pub at: DateTime<Utc>,
    /// Who wrote: `user:<username>`, `token:<id>`, `system:<task>`, or
    /// `database:<role>` for a change made outside the service.
    #[schema(example = "user:editor")]
    pub actor: String,
    /// The partner a token is bound to.
    pub partner: Option<String>,
    /// What kind of item: `page`, `impact_metric`, `observation`, `funder`,
    /// `council_decision`, `contact`, `partner`.
    #[serde(rename = "type")]
    #[schema(example = "page")]
    pub kind: String,
    /// The item's key after the write (before it, for a deletion).
    #[schema(example = "mission")]
    pub key: String,
    /// An observation's metric.
    pub parent: Option<String>,
    /// `created`, `updated` or `deleted`.
    #[schema(example = "updated")]
    pub action: String,
    /// The version before the write (none for a creation).
    pub version_before: Option<i32>,
    /// The version after it (none for a deletion).
    pub version_after: Option<i32>,
    /// The change as a JSON Patch (RFC 6902) over the item's stored fields.
    #[schema(value_type = Vec<Object>)]
    pub patch: Value,
    /// The request's `X-Request-Id`, for a write made through the API.
    pub request_id: Option<String>,
    /// The client's address, for a write made through the API.
    pub address: Option<String>,
}

/// A page of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditEntry>,
    pub meta: ListMeta,
}

/// The filters of the audit log.
#[derive(Debug, Default, Clone)]
struct Filters {
    actor: Option<String>,
    kind: Option<String>,
    key: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

const PARAMETERS: &str = "actor, type, key, since, until, page, per_page";

/// An instant (RFC 3339) or a date (its midnight, UTC), as lists take them.
fn instant(name: &str, value: &str) -> AppResult<DateTime<Utc>> {
    query::parse_instant(value)
        .map_err(|detail| AppError::bad_request(name, format!("{name} {detail}")))
}

pub async fn list_audit(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadAudit)?;
    let mut filters = Filters::default();
    let paging = Paging::parse(req.query_string(), |name, value| {
        let text = || {
            if value.is_empty() || value.contains('\0') {
                Err(AppError::bad_request(
                    name,
                    format!("{name} must be some text"),
                ))
            } else {
                Ok(Some(value.to_owned()))
            }
        };
        match name {
            "actor" => filters.actor = text()?,
            "type" => filters.kind = text()?,
            "key" => filters.key = text()?,
            "since" => filters.since = Some(instant(name, value)?),
            "until" => filters.until = Some(instant(name, value)?),
            _ => return Err(unknown_parameter(name, PARAMETERS)),
        }
        Ok(())
    })?;
    let page = paging.clone();
    let (entries, total) = db
        .run(move |conn| {
            let query = || {
                let mut query = audit::table.into_boxed();
                if let Some(actor) = &filters.actor {
                    query = query.filter(audit::actor.eq(actor.clone()));
                }
                if let Some(kind) = &filters.kind {
                    query = query.filter(audit::kind.eq(kind.clone()));
                }
                if let Some(key) = &filters.key {
                    query = query.filter(audit::key.eq(key.clone()));
                }
                if let Some(since) = filters.since {
                    query = query.filter(audit::at.ge(since));
                }
                if let Some(until) = filters.until {
                    query = query.filter(audit::at.lt(until));
                }
                query
            };
            let entries: Vec<AuditEntry> = query()
                .order(audit::id.desc())
                .limit(page.per_page)
                .offset(page.offset())
                .select(AuditEntry::as_select())
                .load(conn)?;
            let total: i64 = query().count().get_result(conn)?;
            Ok((entries, total))
        })
        .await?;
    let meta = paging.meta(total);
    let link = (
        header::LINK,
        http::link_header(&req, meta.page, meta.total_pages),
    );
    let body = json!({"data": entries, "meta": meta});
    Ok(http::read(&req, &caller, &body, &[link]))
}

/// A filter of the audit log: text, or an instant.
fn query_param(name: &str, description: &str, instant: bool) -> Parameter {
    let schema: utoipa::openapi::Schema = if instant {
        query::openapi::instant()
    } else {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .pattern(Some("^[^\\x00]+$"))
            .into()
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

pub fn list_audit_doc() -> Doc {
    let mut params = query::openapi::paging_parameters();
    params.extend([
        query_param(
            "actor",
            "Only writes by this actor (`user:anna`, `token:<id>`).",
            false,
        ),
        query_param(
            "type",
            "Only items of this type (`page`, `observation`, ...).",
            false,
        ),
        query_param("key", "Only the item with this key.", false),
        query_param(
            "since",
            "Only writes at or after this instant (RFC 3339, or a date: its midnight UTC).",
            true,
        ),
        query_param(
            "until",
            "Only writes before this instant (RFC 3339, or a date: its midnight UTC).",
            true,
        ),
    ]);
    Doc::new("list_audit", "audit", "Read the audit log")
        .describe(
            "Every write of every item, newest first: who (user or token, and its partner), \
             what (type, key, action, the versions before and after, the change as a JSON \
             Patch), when, the request's id and the client's address. Writes made outside the \
             service (psql) are there too, by their database role. Entries are never changed; \
             operators prune old ones with `seesac-api audit prune --before DATE`. Admins only.",
        )
        .security(Security::Needs(Permission::ReadAudit))
        .params(params)
        .schema::<AuditEntry>()
        .schema::<AuditList>()
        .schema::<ListMeta>()
        .answer(
            Answer::json(200, "A page of the audit log", "AuditList")
                .header("Link", "first, prev, next and last pages (RFC 8288)"),
        )
        .answer(Answer::not_modified())
        .problems::<(BadParameter, NoToken, Forbidden, Unavailable)>()
}

/// Deletes the entries written before `before`, as the schema's owner (the service's
/// role may not), and says how many.
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> AppResult<usize> {
    Ok(diesel::delete(audit::table.filter(audit::at.lt(before))).execute(conn)?)
}
