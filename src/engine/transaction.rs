//! The start of every write's transaction: who it writes for (the database's log
//! and audit triggers record it), the resource's advisory lock, and what a save
//! needs to know besides the body (`WriteContext`).

use actix_web::{HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Resource;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::AppResult;
use crate::platform::http;
use crate::platform::ratelimit::{self, Limits};
use crate::platform::request::RequestId;
use crate::platform::visibility::Access;

/// Fields of every item that a body may carry but that are never written: a body
/// read with GET (its `links`, and its `meta` in a locale) may be sent back as is.
pub const COMMON_READ_ONLY: &[&str] =
    &["id", "version", "created_at", "updated_at", "links", "meta"];

/// Who a write is for, as the change log and the audit log record it.
#[derive(Debug, Clone, Default)]
pub struct Author {
    /// `user:anna`, `token:<id>`, `system:import`.
    pub actor: String,
    /// The partner a machine token is bound to.
    pub partner: Option<String>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
    /// The client's address (behind a trusted proxy, the one it forwarded).
    pub address: Option<String>,
    /// Whether the writer sees drafts: for one who does not, a draft it would
    /// write under (a draft metric) does not exist.
    pub sees_drafts: bool,
}

impl Author {
    /// The caller of a request.
    pub fn of(caller: &Caller, req: &HttpRequest) -> Self {
        let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
        let trusted = req
            .app_data::<web::Data<Limits>>()
            .map(|limits| limits.trusted_proxies.clone())
            .unwrap_or_default();
        let address = ratelimit::client_address(req.peer_addr(), req.headers(), &trusted);
        Self {
            actor: caller.name(),
            partner: caller.partner.as_ref().map(|partner| partner.slug.clone()),
            request_id,
            address: address.map(|ip| ip.to_string()),
            sees_drafts: caller.sees_everything(),
        }
    }

    /// The service itself, doing `what` (`import`, `seed`).
    pub fn system(what: &str) -> Self {
        Self {
            actor: format!("system:{what}"),
            sees_drafts: true,
            ..Self::default()
        }
    }
}

/// Tells the database's triggers who the transaction writes for, and takes an
/// advisory lock in the same statement if `lock` names one (`pg_advisory_xact_lock`,
/// name): the first statement of every write, so that it costs no round trip.
pub fn begin(
    conn: &mut PgConnection,
    author: &Author,
    lock: Option<(&'static str, &str)>,
) -> AppResult<()> {
    let (call, name) = match lock {
        Some((function, name)) => (format!(", {function}(hashtext($5))"), name),
        None => (String::new(), ""),
    };
    diesel::sql_query(format!(
        "SELECT set_config('seesac.actor', $1, true), \
                set_config('seesac.partner', coalesce($2, ''), true), \
                set_config('seesac.request_id', coalesce($3, ''), true), \
                set_config('seesac.address', coalesce($4, ''), true){call}"
    ))
    .bind::<Text, _>(&author.actor)
    .bind::<Nullable<Text>, _>(&author.partner)
    .bind::<Nullable<Text>, _>(&author.request_id)
    .bind::<Nullable<Text>, _>(&author.address)
    .bind::<Text, _>(name)
    .execute(conn)?;
    Ok(())
}

/// Runs `work` in a transaction that the database attributes to `author`: for
/// writes outside a resource's handlers.
pub async fn attributed<T, F>(db: &Db, author: Author, work: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    db.transaction(move |conn| {
        begin(conn, &author, None)?;
        work(conn)
    })
    .await
}

/// How a write holds its resource's write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Alone: a write whose rules read other rows.
    Exclusive,
    /// Beside other writes that cannot break those rules (`shares_write_lock`).
    Shared,
}

impl LockMode {
    pub fn of<R: Resource>(body: &Map<String, Value>, key: Option<&str>) -> Self {
        if R::shares_write_lock(body, key) {
            Self::Shared
        } else {
            Self::Exclusive
        }
    }
}

/// The start of a write of `R`: who it is for and the resource's lock, in one
/// statement; then its scope, held; row locks come after.
pub fn begin_write<R: Resource>(
    conn: &mut PgConnection,
    author: &Author,
    scope: &str,
    mode: LockMode,
) -> AppResult<R::Scope> {
    let function = match mode {
        LockMode::Exclusive => "pg_advisory_xact_lock",
        LockMode::Shared => "pg_advisory_xact_lock_shared",
    };
    let lock = R::DESCRIPTOR.write_lock.map(|lock| (function, lock));
    begin(conn, author, lock)?;
    let access = if author.sees_drafts {
        Access::Everything
    } else {
        Access::Public
    };
    R::resolve_scope(conn, scope, access, true)
}

/// An item that a restore brings back after it was deleted: its own id, its next
/// version, and the date it was first created.
#[derive(Debug, Clone, Copy)]
pub struct Revival {
    pub id: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// What a save needs besides the body: who writes, and whether it brings back a
/// deleted item.
#[derive(Debug)]
pub struct WriteContext<'a> {
    pub caller: &'a Caller,
    pub revive: Option<Revival>,
}

impl<'a> WriteContext<'a> {
    pub fn of(caller: &'a Caller) -> Self {
        Self {
            caller,
            revive: None,
        }
    }
}

/// The fields a body of `R` has: what a PUT writes.
pub fn body_fields<R: Resource>() -> Vec<String> {
    match super::to_json(&R::Body::default()) {
        Value::Object(fields) => fields.into_iter().map(|(name, _)| name).collect(),
        _ => Vec::new(),
    }
}

/// Of an item's fields, those a body has (`fields`): the body that writes it as it
/// is, since an item and its body name their fields alike.
pub fn writable(fields: &[String], item: Value) -> Map<String, Value> {
    match item {
        Value::Object(object) => object
            .into_iter()
            .filter(|(name, _)| fields.contains(name))
            .collect(),
        _ => Map::new(),
    }
}

/// A request body as the resource's type, without the fields that are never
/// written.
pub fn parse_body<R: Resource>(mut object: Map<String, Value>) -> AppResult<R::Body> {
    for field in COMMON_READ_ONLY.iter().chain(R::DESCRIPTOR.read_only) {
        object.remove(*field);
    }
    http::from_object(object)
}
