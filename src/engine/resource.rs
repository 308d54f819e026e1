//! What makes a table a resource of the API, besides its `Descriptor` (names,
//! paths and rules, in `descriptor`): `Stored` (what every row tells), and the
//! `Resource` trait (how rows are found, checked, saved and shown).

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::descriptor::Descriptor;
use super::transaction::WriteContext;
use crate::platform::auth::Caller;
use crate::platform::error::AppResult;
use crate::platform::query::{ListQuery, View};
use crate::platform::visibility::{Access, Status};

/// What the engine reads from every row.
pub trait Stored {
    fn id(&self) -> Uuid;
    /// The key in URLs.
    fn key(&self) -> String;
    fn version(&self) -> i32;
    /// The ETag of the item as an editor reads it (without `fields`/`include`),
    /// kept with the row by the database: `If-Match` compares with it.
    fn etag(&self) -> &str;
    /// Its status and publication date, if it has them: content does, and is
    /// hidden from anonymous readers until it is published.
    fn publication(&self) -> Option<(Status, Option<DateTime<Utc>>)> {
        None
    }
}

/// Implements `Stored` for a row: `stored!(Page, key: slug, published)`; without
/// `published` for rows that have no publication.
macro_rules! stored {
    ($Row:ty, key: $key:ident $(, $published:ident)?) => {
        impl $crate::engine::Stored for $Row {
            fn id(&self) -> uuid::Uuid {
                self.id
            }
            fn key(&self) -> String {
                self.$key.to_string()
            }
            fn version(&self) -> i32 {
                self.version
            }
            fn etag(&self) -> &str {
                &self.etag
            }
            $($crate::engine::stored!(@$published);)?
        }
    };
    (@published) => {
        fn publication(
            &self,
        ) -> Option<(
            $crate::platform::visibility::Status,
            Option<chrono::DateTime<chrono::Utc>>,
        )> {
            Some((self.status, self.published_at))
        }
    };
}
pub(crate) use stored;

/// What makes a table a resource of the API. The generic handlers do the rest:
/// permissions, visibility, versions and ETags, If-Match, lists, problem errors;
/// and the documentation is made from the same declarations.
pub trait Resource: Sized + Sync + 'static {
    /// A row of the table.
    type Row: Stored + Serialize + Clone + Send + 'static;
    /// The JSON body of POST, PUT and PATCH as sent: every field optional (so that
    /// validation can name every missing one), unknown fields refused, read-only
    /// fields removed before it is read.
    type Body: DeserializeOwned + Serialize + Default + ToSchema + Send + 'static;
    /// An item as the API shows it, for the document.
    type Item: ToSchema;
    /// What a key is (a `Slug`, a `Celex`, a UUID), for the document.
    type Key: PartialSchema;
    /// The body validated into typed values.
    type Input: Send + 'static;
    /// What the collection is nested under: `()`, or the metric of observations.
    type Scope: Clone + Send + Sync + 'static;

    const DESCRIPTOR: &'static Descriptor;

    /// Checks the scope exists and is visible; `()` for top-level resources. A write
    /// (`for_write`) holds it, so that it cannot change under the write.
    fn resolve_scope(
        conn: &mut PgConnection,
        raw: &str,
        access: Access,
        for_write: bool,
    ) -> AppResult<Self::Scope>;

    fn find(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        key: &str,
        lock: bool,
    ) -> AppResult<Option<Self::Row>>;

    /// The row with this id, wherever its key now is (a restore finds its item so).
    fn find_by_id(conn: &mut PgConnection, id: Uuid, lock: bool) -> AppResult<Option<Self::Row>>;

    fn list(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        query: &ListQuery,
        access: Access,
    ) -> AppResult<(Vec<Self::Row>, i64)>;

    /// Of these ids, those `access` may see now: the feed shows their items.
    fn visible(conn: &mut PgConnection, ids: &[Uuid], access: Access) -> AppResult<Vec<Uuid>>;

    /// Work on a write's body that is costly, or needs the request, and no
    /// database (rendering Markdown; checking a webhook's address against the
    /// operator's settings), done before the write takes a connection; validation
    /// then finds it done. `body` is the body as sent (a merge patch for PATCH).
    fn prepare(
        req: &HttpRequest,
        body: &Map<String, Value>,
    ) -> impl std::future::Future<Output = AppResult<()>> {
        let _ = (req, body);
        std::future::ready(Ok(()))
    }

    /// A secret the creating answer shows once (an API token, a webhook's signing
    /// secret), under `Descriptor::shown_once`; it is never stored as it is shown,
    /// and never replayed.
    fn shown_once(input: &Self::Input) -> Option<String> {
        let _ = input;
        None
    }

    /// Whether a write with this body (a merge patch for PATCH) to the item `key`
    /// (none for a new one) cannot break what the write lock protects, and so holds
    /// it shared, beside other such writes, instead of alone.
    fn shares_write_lock(body: &Map<String, Value>, key: Option<&str>) -> bool {
        let _ = (body, key);
        false
    }

    /// The current row as a body: what a merge patch applies to.
    fn as_body(row: &Self::Row) -> Self::Body;

    /// `key` is the key in the URL (PUT); `existing` the row being replaced.
    fn validate(
        body: Self::Body,
        key: Option<&str>,
        existing: Option<&Self::Row>,
    ) -> AppResult<Self::Input>;

    /// Rules about who may write what, beyond `Descriptor::write` (which the
    /// handlers have checked): a partner's token writes only its own observations.
    /// `existing` is the item before the write, `input` what it becomes (`None` for
    /// a delete).
    fn authorise(
        caller: &Caller,
        scope: &Self::Scope,
        existing: Option<&Self::Row>,
        input: Option<&Self::Input>,
    ) -> AppResult<()> {
        let _ = (caller, scope, existing, input);
        Ok(())
    }

    /// Inserts or updates, with the resource's own rules, inside the write's
    /// transaction.
    fn save(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        existing: Option<&Self::Row>,
        input: Self::Input,
        context: &WriteContext,
    ) -> AppResult<Self::Row>;

    /// Deletes, with the resource's own rules; `cascade` is `?cascade=true`.
    fn delete(
        conn: &mut PgConnection,
        row: &Self::Row,
        cascade: bool,
        context: &WriteContext,
    ) -> AppResult<()>;

    /// The JSON of rows: derived fields and the embeddings `view` asks for, in a
    /// fixed number of queries however many rows there are.
    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Self::Row>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let _ = (conn, view, access);
        Ok(rows.iter().map(super::to_json).collect())
    }
}
