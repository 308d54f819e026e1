//! Content: what the five resources have in common lives here and in `crud` (the
//! `Resource` trait, status and visibility, publication dates, enums stored as
//! text); each resource module holds only what is particular to it.

pub mod contacts;
pub mod countries;
pub mod crud;
pub mod decisions;
pub mod funders;
pub mod markdown;
pub mod metrics;
pub mod observations;
pub mod pages;
pub mod search;
pub mod validate;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppResult;
use crate::query::{ListQuery, ListSpec, View};
use validate::Check;

/// An enum stored as text: serde, utoipa, diesel and the list of its values, once.
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(format!("must be one of {}", Self::ALL.join(", "))),
                }
            }
        }

        // By hand: utoipa's derive does not see serde renames that come through a macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>)
                -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let raw = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(value)?;
                Self::parse(&raw).map_err(Into::into)
            }
        }
    };
}
pub(crate) use text_enum;

/// The glue between a top-level resource and its table, which only the names tell
/// apart: the key of a row, its publication, the collection's path, and finding and
/// listing rows. Used inside `impl Resource for ...`.
macro_rules! table_resource {
    (table: $table:ident, key: $key:ident, row: $Row:ident, path: $path:literal $(,)?) => {
        fn key(row: &$Row) -> String {
            row.$key.clone()
        }

        fn publication(
            row: &$Row,
        ) -> (
            $crate::content::Status,
            Option<chrono::DateTime<chrono::Utc>>,
        ) {
            (row.status, row.published_at)
        }

        fn collection_path(_: &()) -> String {
            $path.to_owned()
        }

        fn resolve_scope(
            _: &mut diesel::PgConnection,
            _: &str,
            _: $crate::content::Access,
            _: bool,
        ) -> $crate::error::AppResult<()> {
            Ok(())
        }

        fn find(
            conn: &mut diesel::PgConnection,
            _: &(),
            key: &str,
            lock: bool,
        ) -> $crate::error::AppResult<Option<$Row>> {
            let query = $table::table
                .filter($table::$key.eq(key))
                .select($Row::as_select());
            Ok(if lock {
                query.for_no_key_update().first(conn).optional()?
            } else {
                query.first(conn).optional()?
            })
        }

        fn list(
            conn: &mut diesel::PgConnection,
            _: &(),
            query: &$crate::query::ListQuery,
            access: $crate::content::Access,
        ) -> $crate::error::AppResult<(Vec<$Row>, i64)> {
            Ok(
                query.load::<$table::table, _, _>(
                    Self::SPEC,
                    access.public_only(),
                    conn,
                    || {
                        $table::table
                            .select(($Row::as_select(), $crate::query::total()))
                            .into_boxed()
                    },
                )?,
            )
        }
    };
}
pub(crate) use table_resource;

/// Inserts a row, or updates the one with id `$existing`, and returns it as stored.
macro_rules! store_row {
    ($conn:expr, $table:ident, $Row:ident, $existing:expr, $record:expr) => {
        match $existing {
            None => diesel::insert_into($table::table)
                .values($record)
                .returning($Row::as_returning())
                .get_result($conn),
            Some(id) => diesel::update($table::table.find(id))
                .set($record)
                .returning($Row::as_returning())
                .get_result($conn),
        }
    };
}
pub(crate) use store_row;

text_enum! {
    /// Where an item is in its life: only `published` items whose `published_at` has
    /// passed are visible to anonymous readers.
    pub enum Status {
        /// Work in progress, seen only by editors.
        Draft = "draft",
        /// Public from `published_at` on.
        Published = "published",
        /// Withdrawn, kept for the record.
        Archived = "archived",
    }
}

/// Whether the caller sees drafts, archived and scheduled items, as a plain value
/// that can cross into blocking database code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Everything,
}

impl Access {
    pub fn public_only(self) -> bool {
        self == Self::Public
    }

    pub fn may_see(self, status: Status, published_at: Option<DateTime<Utc>>) -> bool {
        self == Self::Everything
            || (status == Status::Published && published_at.is_some_and(|at| at <= Utc::now()))
    }
}

/// The status and publication date a write ends with.
#[derive(Debug, Clone, Copy)]
pub struct Publication {
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
}

impl Publication {
    /// `status` defaults to draft. A published item without a date keeps the date it
    /// has, or is published now; a date in the future schedules it. An item that is
    /// not published has only the date it is given (so a PUT without one, or a
    /// PATCH with null, clears a schedule).
    pub fn check(
        check: &mut Check,
        status: Option<String>,
        published_at: Option<String>,
        existing: Option<DateTime<Utc>>,
    ) -> Self {
        let status = check
            .parsed("status", status, Status::parse)
            .unwrap_or(Status::Draft);
        let given = check.parsed("published_at", published_at, validate::parse_timestamp);
        let published_at = match (given, status) {
            (Some(at), _) => Some(at),
            (None, Status::Published) => existing.or_else(|| Some(Utc::now())),
            (None, _) => None,
        };
        Self {
            status,
            published_at,
        }
    }
}

/// What makes a table a resource of the API. The generic handlers in `crud` do the
/// rest: visibility, versions and ETags, If-Match, lists, problem errors.
pub trait Resource: Sized + 'static {
    /// A row of the table.
    type Row: Serialize + Send + 'static;
    /// The JSON body of POST, PUT and PATCH as sent: every field optional, unknown
    /// fields refused, read-only fields removed before it is read.
    type Body: DeserializeOwned + Serialize + Send + 'static;
    /// The body validated into typed values.
    type Input: Send + 'static;
    /// What the collection is nested under: `()`, or the metric of observations.
    type Scope: Clone + Send + Sync + 'static;

    /// Singular name, for messages and search hits ("page").
    const NAME: &'static str;
    /// The name of the key field ("slug").
    const KEY: &'static str;
    /// The name of the key in the item's URL path.
    const PATH_KEY: &'static str = Self::KEY;
    /// The name of the path parameter the collection is nested under, if it is.
    const SCOPE_PARAM: Option<&'static str> = None;
    /// Fields a client may send but that are never written: derived fields and
    /// embeddings (`id`, `version`, `status`... are handled for every resource).
    const READ_ONLY: &'static [&'static str];
    const SPEC: &'static ListSpec;
    /// Whether DELETE takes `?cascade=true` to delete what depends on the item.
    const CASCADES: bool = false;

    fn key(row: &Self::Row) -> String;
    fn publication(row: &Self::Row) -> (Status, Option<DateTime<Utc>>);
    /// The collection's path, e.g. `/api/v1/pages`.
    fn collection_path(scope: &Self::Scope) -> String;

    /// Writes to this table take this advisory lock first, before any row lock, so
    /// that writes whose rules read other rows (the tree of pages, the one primary
    /// contact) run one at a time instead of deadlocking.
    const WRITE_LOCK: Option<&'static str> = None;

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
    fn list(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        query: &ListQuery,
        access: Access,
    ) -> AppResult<(Vec<Self::Row>, i64)>;

    /// The current row as a body, the base a merge patch applies to.
    fn body_of(row: &Self::Row) -> Self::Body;
    /// `key` is the key in the URL (PUT); `existing` the row being replaced.
    fn validate(
        body: Self::Body,
        key: Option<&str>,
        existing: Option<&Self::Row>,
    ) -> AppResult<Self::Input>;
    /// Inserts or updates, with the resource's own rules, inside the caller's
    /// transaction.
    fn save(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        existing: Option<&Self::Row>,
        input: Self::Input,
    ) -> AppResult<Self::Row>;
    /// Deletes, with the resource's own rules; `cascade` is `?cascade=true`.
    fn delete(conn: &mut PgConnection, row: &Self::Row, cascade: bool) -> AppResult<()>;

    /// The JSON of rows: derived fields and the embeddings `view` asks for, in a
    /// fixed number of queries however many rows there are.
    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Self::Row>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let _ = (conn, view, access);
        Ok(rows.iter().map(to_json).collect())
    }
}

/// A column that points to another row of the same table: a page's or a funder's
/// `parent`, the decision a decision `supersedes`.
#[derive(Debug)]
pub struct Lineage {
    pub table: &'static str,
    pub key: &'static str,
    pub parent: &'static str,
}

impl Lineage {
    /// Refuses a link to the item itself or to one after it in its own line, which
    /// would close a loop. `key` is the item's key, `old_key` its key before this
    /// write. The resource's `WRITE_LOCK` serialises its writes, so two writes
    /// cannot close a loop between them.
    pub fn check(
        &self,
        conn: &mut PgConnection,
        key: &str,
        old_key: Option<&str>,
        parent: Option<&str>,
    ) -> AppResult<()> {
        use diesel::prelude::*;
        use diesel::sql_types::Text;

        #[derive(QueryableByName)]
        struct Ancestor {
            #[diesel(sql_type = Text)]
            key: String,
        }

        let Some(parent) = parent else { return Ok(()) };
        let own = |candidate: &str| candidate == key || old_key == Some(candidate);
        let pointer = format!("/{}", self.parent);
        if own(parent) {
            return Err(crate::error::AppError::invalid(
                pointer,
                "cannot point to the item itself",
            ));
        }
        let ancestors: Vec<Ancestor> = diesel::sql_query(format!(
            "WITH RECURSIVE up(key, parent, depth) AS ( \
                 SELECT {key}, {parent}, 1 FROM {table} WHERE {key} = $1 \
                 UNION ALL \
                 SELECT t.{key}, t.{parent}, up.depth + 1 FROM {table} t \
                 JOIN up ON t.{key} = up.parent WHERE up.depth < 1000) \
             SELECT key FROM up",
            key = self.key,
            parent = self.parent,
            table = self.table,
        ))
        .bind::<Text, _>(parent)
        .load(conn)?;
        if ancestors.iter().any(|ancestor| own(&ancestor.key)) {
            return Err(crate::error::AppError::invalid(
                pointer,
                format!(
                    "{parent} comes after this item in its own line: the link would make a loop"
                ),
            ));
        }
        Ok(())
    }
}

pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Serialises a whole number stored as a float without a fraction: `342000`, not
/// `342000.0`.
pub fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}
