//! What makes a table a resource of the API, besides its `Descriptor` (names,
//! paths and rules, in `descriptor`): `Stored` (what every row tells), and the
//! `Resource` trait (how rows are found, checked, saved and shown).

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use diesel::{PgConnection, RunQueryDsl};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::descriptor::Descriptor;
use super::transaction::WriteContext;
use super::translated::Token;
use crate::platform::auth::{Caller, JwtKeys};
use crate::platform::db::errors::on_delete;
use crate::platform::error::{AppResult, FieldError};
use crate::platform::query::{ListQuery, View};
use crate::platform::visibility::{Access, Status};

/// A row, and the translations token its statement saw, if it read it
/// (`Resource::find_translated`).
pub type WithToken<Row> = (Row, Option<Token>);

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

/// Declares a row and implements `Stored` for it (see `stored!`): the struct with
/// its own fields, then those every versioned row ends with, in the same order and
/// words everywhere (content's status and publication date first), so that every
/// item reads alike. `stored_row! { /// A page. #[diesel(table_name = pages)] pub
/// struct Page { pub id: Uuid, ... } key: slug, published }`.
macro_rules! stored_row {
    (
        $(#[$attr:meta])*
        pub struct $Row:ident { $($fields:tt)* }
        key: $key:ident $(, $published:ident)?
    ) => {
        $crate::engine::stored_row!(@struct $($published)? [$(#[$attr])*] $Row [$($fields)*]);
        $crate::engine::stored!($Row, key: $key $(, $published)?);
    };
    (@struct published [$($attr:tt)*] $Row:ident [$($fields:tt)*]) => {
        $crate::engine::stored_row!(@struct [$($attr)*] $Row [
            $($fields)*
            /// `draft`, `published` or `archived`.
            pub status: $crate::platform::visibility::Status,
            /// When it is (or was) published; in the future, it is scheduled.
            pub published_at: Option<chrono::DateTime<chrono::Utc>>,
        ]);
    };
    (@struct [$($attr:tt)*] $Row:ident [$($fields:tt)*]) => {
        #[derive(
            Debug, Clone, diesel::Queryable, diesel::Selectable, serde::Serialize, utoipa::ToSchema,
        )]
        #[diesel(check_for_backend(diesel::pg::Pg))]
        $($attr)*
        pub struct $Row {
            $($fields)*
            /// Read-only: 1 at creation, one more on every write that changes something.
            pub version: i32,
            /// When it was created (RFC 3339, UTC). Read-only.
            pub created_at: chrono::DateTime<chrono::Utc>,
            /// When it last changed (RFC 3339, UTC). Read-only.
            pub updated_at: chrono::DateTime<chrono::Utc>,
            /// The ETag of the item as an editor reads it, kept by the database: a new one
            /// with every change of what an editor reads (migration 000010).
            #[serde(skip)]
            pub etag: String,
        }
    };
}
pub(crate) use stored_row;

/// What a body is validated for: the key the URL gives the item (PUT), and the
/// item it replaces or patches, if there is one.
#[derive(Debug)]
pub struct Target<'a, Row> {
    pub key: Option<&'a str>,
    pub existing: Option<&'a Row>,
    /// A restore of a deleted item: the kept version's stored fields, read-only
    /// ones included (an asset's, which no body writes, come back from there).
    pub kept: Option<&'a serde_json::Value>,
}

impl<'a, Row> Target<'a, Row> {
    /// A new item, whose key the body gives.
    pub const NEW: Self = Self {
        key: None,
        existing: None,
        kept: None,
    };

    /// A new item at `key`, if the URL gives one.
    pub fn at(key: Option<&'a str>) -> Self {
        Self {
            key,
            existing: None,
            kept: None,
        }
    }

    /// A change of `existing`, whose key the body gives.
    pub fn of(existing: &'a Row) -> Self {
        Self {
            key: None,
            existing: Some(existing),
            kept: None,
        }
    }
}

/// A write as a resource saves it, validated and authorised.
pub struct Save<'a, R: Resource> {
    pub scope: &'a R::Scope,
    /// The item it replaces or patches; none for a new one.
    pub existing: Option<&'a R::Row>,
    pub input: R::Input,
    pub context: &'a WriteContext<'a>,
}

/// Deletes a row of `R`'s table. An item that something still refers to is a 409
/// about the item itself (`on_delete`).
pub fn delete_row<R: Resource>(conn: &mut PgConnection, row: &R::Row) -> AppResult<()> {
    diesel::sql_query(format!("DELETE FROM {} WHERE id = $1", R::DESCRIPTOR.table))
        .bind::<diesel::sql_types::Uuid, _>(row.id())
        .execute(conn)
        .map_err(on_delete)?;
    Ok(())
}

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

    /// `find`, with the translations token as the row's statement saw it
    /// (`translated::TokenColumn`), where the resource reads it; `None` where it
    /// does not, and `localise` reads the row's translations afresh.
    fn find_translated(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        key: &str,
    ) -> AppResult<Option<WithToken<Self::Row>>> {
        Ok(Self::find(conn, scope, key, false)?.map(|row| (row, None)))
    }

    /// `list`, with the translations token as `find_translated` reads it.
    fn list_translated(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        query: &ListQuery,
        access: Access,
    ) -> AppResult<(Vec<Self::Row>, i64, Option<Token>)> {
        let (rows, total) = Self::list(conn, scope, query, access)?;
        Ok((rows, total, None))
    }

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

    /// What an update's answer adds under `Descriptor::refreshed`, if anything:
    /// made after the write, for its caller, from the item before and after (a
    /// person who changed their own password gets a fresh token, `keys` signing).
    fn refreshed(
        caller: &Caller,
        before: &Self::Row,
        after: &Self::Row,
        keys: &JwtKeys,
    ) -> AppResult<Option<String>> {
        let _ = (caller, before, after, keys);
        Ok(None)
    }

    /// Whether a write with this body (a merge patch for PATCH) to the item `key`
    /// (none for a new one) cannot break what the write lock protects, and so holds
    /// it shared, beside other such writes, instead of alone.
    fn shares_write_lock(body: &Map<String, Value>, key: Option<&str>) -> bool {
        let _ = (body, key);
        false
    }

    /// The body checked, every invalid field named, for `target`.
    fn validate(body: Self::Body, target: Target<'_, Self::Row>) -> AppResult<Self::Input>;

    /// Rules about who may write what, beyond `Descriptor::write` (which the
    /// handlers have checked): a partner's token writes only its own observations.
    /// `existing` is the item before the write, `input` what it becomes (`None` for
    /// a delete). A refusal is a mistake in what the body asks (a 422 with its
    /// code), as a batch reports it beside the others; a caller without the right
    /// at all was refused before (403).
    fn authorise(
        caller: &Caller,
        scope: &Self::Scope,
        existing: Option<&Self::Row>,
        input: Option<&Self::Input>,
    ) -> Result<(), FieldError> {
        let _ = (caller, scope, existing, input);
        Ok(())
    }

    /// Inserts or updates, with the resource's own rules, inside the write's
    /// transaction.
    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<Self::Row>;

    /// Deletes, with the resource's own rules; `cascade` is `?cascade=true`. Without
    /// any, the row goes (`delete_row`).
    fn delete(
        conn: &mut PgConnection,
        row: &Self::Row,
        cascade: bool,
        context: &WriteContext,
    ) -> AppResult<()> {
        let _ = (cascade, context);
        delete_row::<Self>(conn, row)
    }

    /// The item as a body, which a PATCH merges its patch into: its row's fields
    /// (those a body has are taken). A field the row keeps but does not show as
    /// stored (a page's blocks) is added here.
    fn as_body(row: &Self::Row) -> Value {
        super::to_json(row)
    }

    /// Stored versions of items (the feed's entries, as `Descriptor::from_stored`
    /// shows them) as anonymous readers may see them, beyond their references,
    /// which are hidden for every kind: a page's blocks without what they name of
    /// drafts.
    fn hide_stored(conn: &mut PgConnection, values: &mut [Value]) -> AppResult<()> {
        let _ = (conn, values);
        Ok(())
    }

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
