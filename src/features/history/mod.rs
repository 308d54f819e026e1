//! History: the versions an item had (`revisions`) and the append-only audit log
//! of every write (`audit`). Both are written by triggers (migration 000011) in
//! the writing transaction, whoever writes; the service tells them who it writes
//! for, from where, with settings local to the transaction (`Author`, `begin`).

pub mod audit;
pub mod revisions;

use actix_web::{HttpMessage, HttpRequest, web};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::{self, DEFAULT_PER_PAGE, ListMeta, MAX_PAGE, MAX_PER_PAGE};
use crate::platform::ratelimit::{self, Limits};
use crate::platform::request::RequestId;

/// Who a write is for, as the audit log records it.
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
        }
    }

    /// The service itself, doing `what` (`import`, `seed`).
    pub fn system(what: &str) -> Self {
        Self {
            actor: format!("system:{what}"),
            ..Self::default()
        }
    }
}

/// Tells the history triggers who the transaction writes for, and takes an advisory
/// lock in the same statement if `lock` names one (`pg_advisory_xact_lock`, name):
/// the first statement of every write, so that it costs no round trip of its own.
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

/// Runs `work` in a transaction that the history triggers attribute to `author`:
/// for the writes that do not go through a resource's handlers (users, tokens,
/// webhooks).
pub async fn write<T, F>(db: &Db, author: Author, work: F) -> AppResult<T>
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

/// `page` and `per_page` of a history list, and its other parameters as given.
#[derive(Debug, Clone)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    /// Reads `page` and `per_page` from a query string, and hands every other
    /// parameter to `other`, which refuses what it does not know.
    pub fn parse(
        query_string: &str,
        mut other: impl FnMut(&str, &str) -> AppResult<()>,
    ) -> AppResult<Self> {
        let mut paging = Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        };
        for (name, value) in query::pairs(query_string)? {
            match name.as_str() {
                "page" => paging.page = query::number_param("page", &value, 1..=MAX_PAGE)?,
                "per_page" => {
                    paging.per_page = query::number_param("per_page", &value, 1..=MAX_PER_PAGE)?
                }
                _ => other(&name, &value)?,
            }
        }
        Ok(paging)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn meta(&self, total: i64) -> ListMeta {
        ListMeta::of(self.page, self.per_page, total)
    }
}

/// A parameter a history list does not take: a 400 that names what it does take.
pub fn unknown_parameter(name: &str, allowed: &str) -> AppError {
    AppError::bad_request(
        name,
        format!("unknown parameter {name}; allowed: {allowed}"),
    )
}
