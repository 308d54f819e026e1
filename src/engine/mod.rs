//! The engine: what every resource shares. A resource declares itself once (its
//! `Descriptor`, `descriptor`, and `Resource` impl, `resource`); the engine
//! serves it:
//!
//! - `read`: lists and items, with visibility, fieldsets, ETags and 304;
//! - `write`: the one write path (create, replace, merge-patch, delete, restore),
//!   each in one transaction that says who it writes for, locks, checks
//!   `If-Match`, validates, authorises and saves; the database logs it;
//! - `many`: many writes in one transaction (a partner's batch), on the same path;
//! - `present`: rows as JSON, references to what a reader may not see made null;
//! - `localise` and `translated`: items in a reader's locale, from the
//!   translations an instance keeps while the database says they are current;
//! - `registry`: a resource as a `Kind` the features can hold without its type;
//! - `routes` and `docs`: its routes and their OpenAPI descriptions.
//!
//! The engine names no resource and no feature: content and admin resources are
//! built on it, and features plug in through `Kind`.

pub mod descriptor;
pub mod docs;
pub mod in_place;
pub mod lineage;
pub mod localise;
pub mod many;
pub mod paths;
pub mod present;
pub mod read;
pub mod registry;
pub mod resource;
pub mod routes;
pub mod stream;
pub mod transaction;
pub mod translated;
pub mod write;

use serde::Serialize;
use serde_json::Value;

pub use descriptor::{Descriptor, Events, Operations, Parent, Search, Section, Tag};
pub use lineage::Lineage;
pub use present::{Embedded, grouped, present, present_translated};
pub use registry::Kind;
pub use resource::{Resource, Save, Stored, Target, WithToken, delete_row};
pub(crate) use resource::{stored, stored_row};
pub use transaction::{Author, Revival, WriteContext};

pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A top-level resource on a table, which only the names tell apart from the
/// others: its types, and the glue that finds and lists its rows. Used inside
/// `impl Resource for ...`, as `table_resource!(table: contacts, key: slug as Slug,
/// row: Contact, body: ContactBody, input: ContactRecord)`: the key column and its
/// type, the row, the body, and the input validation makes of it. The item is the
/// row unless `item: PageItem` names another type; the scope is `()`. With
/// `select: columns`, lists read the columns `columns(&view)` gives (a table whose
/// heavy columns a fieldset can leave unread) instead of the whole row. With
/// `record: PageRecord` in place of `input`, it saves too: the input is the record
/// to store (`store_row!`); and with `tree: parent`, that column links to another
/// row of the table (`Lineage`), and a link that would close a loop is refused
/// before anything is written.
macro_rules! table_resource {
    (
        table: $table:ident, key: id as $Key:ty, row: $Row:ident $(, item: $Item:ty)?,
        body: $Body:ty, input: $Input:ty $(,)?
    ) => {
        $crate::engine::table_resource!(@types $Row, [$($Item)?], $Body, $Key, [$Input]);
        $crate::engine::table_resource!(@common $table, $Row);
        $crate::engine::table_resource!(@list $table, $Row);

        // A key that is not a UUID names nothing.
        $crate::engine::table_resource!(@find $Row, |conn, key, lock| {
            match uuid::Uuid::parse_str(key) {
                Ok(id) => Self::find_by_id(conn, id, lock),
                Err(_) => Ok(None),
            }
        });
    };
    (
        table: $table:ident, key: $key:ident as $Key:ty, row: $Row:ident
        $(, item: $Item:ty)?, body: $Body:ty $(, select: $select:path)? $(, input: $Input:ty)?
        $(, record: $Record:ident $(, tree: $parent:ident)?)? $(,)?
    ) => {
        $crate::engine::table_resource!(
            @types $Row, [$($Item)?], $Body, $Key, [$($Input)? $($Record)?]
        );
        $crate::engine::table_resource!(@rows $table, $key, $Row);
        $crate::engine::table_resource!(@list $table, $Row $(, $select)?);
        $($crate::engine::table_resource!(@save $table, $key, $Row, $Record $(, $parent)?);)?
    };
    (@types $Row:ident, [$($Item:ty)?], $Body:ty, $Key:ty, [$Input:ty]) => {
        type Row = $Row;
        type Body = $Body;
        type Item = $crate::engine::table_resource!(@or [$($Item)?] $Row);
        type Key = $Key;
        type Input = $Input;
        type Scope = ();
    };
    (@or [] $default:ty) => {
        $default
    };
    (@or [$given:ty] $default:ty) => {
        $given
    };
    (@list $table:ident, $Row:ident) => {
        $crate::engine::table_resource!(@list $table, $Row, |_| $Row::as_select());
    };
    (@list $table:ident, $Row:ident, $select:expr) => {
        fn list_translated(
            conn: &mut diesel::PgConnection,
            _: &(),
            query: &$crate::platform::query::ListQuery,
            access: $crate::platform::visibility::Access,
        ) -> $crate::platform::error::AppResult<(
            Vec<$Row>,
            i64,
            Option<$crate::engine::translated::Token>,
        )> {
            use $crate::engine::translated::{Token, TokenColumn};
            let (rows, total) = query.load::<$table::table, _, _, _>(
                Self::DESCRIPTOR.spec,
                access,
                conn,
                || $table::table.select(($select(&query.view), TokenColumn)).into_boxed(),
                || $table::table.select(diesel::dsl::count_star()).into_boxed(),
            )?;
            let token = rows.first().and_then(|(_, token): &($Row, Option<i64>)| *token).map(Token);
            Ok((rows.into_iter().map(|(row, _)| row).collect(), total, token))
        }

        fn list(
            conn: &mut diesel::PgConnection,
            _: &(),
            query: &$crate::platform::query::ListQuery,
            access: $crate::platform::visibility::Access,
        ) -> $crate::platform::error::AppResult<(Vec<$Row>, i64)> {
            Ok(query.load::<$table::table, _, _, _>(
                Self::DESCRIPTOR.spec,
                access,
                conn,
                || $table::table.select($select(&query.view)).into_boxed(),
                || $table::table.select(diesel::dsl::count_star()).into_boxed(),
            )?)
        }
    };
    (@save $table:ident, $key:ident, $Row:ident, $Record:ident $(, $parent:ident)?) => {
        fn save(
            conn: &mut diesel::PgConnection,
            save: $crate::engine::Save<'_, Self>,
        ) -> $crate::platform::error::AppResult<$Row> {
            $(let record: &$Record = &save.input;
            $crate::engine::Lineage {
                table: stringify!($table),
                key: stringify!($key),
                parent: stringify!($parent),
            }
            .check(
                conn,
                &record.$key,
                save.existing.map(|row| row.$key.as_str()),
                record.$parent.as_deref(),
            )?;)?
            Ok($crate::engine::store_row!(conn, table: $table, row: $Row, save)?)
        }
    };
    (@rows $table:ident, $key:ident, $Row:ident) => {
        $crate::engine::table_resource!(@common $table, $Row);
        $crate::engine::table_resource!(@find $Row, |conn, key, lock| {
            let query = $table::table
                .filter($table::$key.eq(key))
                .select($Row::as_select());
            Ok($crate::engine::first_row!(query, conn, lock)?)
        });

        fn find_translated(
            conn: &mut diesel::PgConnection,
            _: &(),
            key: &str,
        ) -> $crate::platform::error::AppResult<
            Option<$crate::engine::WithToken<$Row>>,
        > {
            use $crate::engine::translated::{Token, TokenColumn};
            let found: Option<($Row, Option<i64>)> = $table::table
                .filter($table::$key.eq(key))
                .select(($Row::as_select(), TokenColumn))
                .first(conn)
                .optional()?;
            Ok(found.map(|(row, token)| (row, token.map(Token))))
        }
    };
    (@find $Row:ident, |$conn:ident, $key:ident, $lock:ident| $body:expr) => {
        fn find(
            $conn: &mut diesel::PgConnection,
            _: &(),
            $key: &str,
            $lock: bool,
        ) -> $crate::platform::error::AppResult<Option<$Row>> {
            $body
        }
    };
    (@common $table:ident, $Row:ident) => {
        fn resolve_scope(
            _: &mut diesel::PgConnection,
            _: &str,
            _: $crate::platform::visibility::Access,
            _: bool,
        ) -> $crate::platform::error::AppResult<()> {
            Ok(())
        }

        fn find_by_id(
            conn: &mut diesel::PgConnection,
            id: uuid::Uuid,
            lock: bool,
        ) -> $crate::platform::error::AppResult<Option<$Row>> {
            let query = $table::table.find(id).select($Row::as_select());
            Ok($crate::engine::first_row!(query, conn, lock)?)
        }

        fn visible(
            conn: &mut diesel::PgConnection,
            ids: &[uuid::Uuid],
            access: $crate::platform::visibility::Access,
        ) -> $crate::platform::error::AppResult<Vec<uuid::Uuid>> {
            let query = $table::table
                .filter($table::id.eq_any(ids))
                .select($table::id)
                .into_boxed();
            Ok(access.filter(query).load(conn)?)
        }
    };
}
pub(crate) use table_resource;

/// The first row `query` finds, if any, as a `QueryResult`; with `lock`, held
/// against other writes until the transaction ends (`FOR NO KEY UPDATE`, which
/// still lets rows that refer to it be written).
macro_rules! first_row {
    ($query:expr, $conn:expr, $lock:expr) => {{
        let query = $query;
        if $lock {
            query.for_no_key_update().first($conn).optional()
        } else {
            query.first($conn).optional()
        }
    }};
}
pub(crate) use first_row;

/// Inserts the record a save carries (with the id, version and creation date of a
/// revival, for a restore of a deleted item), or updates the item it replaces, and
/// returns the row as stored: `store_row!(conn, table: pages, row: Page, save)`.
macro_rules! store_row {
    ($conn:expr, table: $table:ident, row: $Row:ident, $save:expr $(,)?) => {
        match ($save.existing, &$save.context.revive) {
            (None, None) => diesel::insert_into($table::table)
                .values(&$save.input)
                .returning($Row::as_returning())
                .get_result($conn),
            (None, Some(revival)) => diesel::insert_into($table::table)
                .values((
                    &$save.input,
                    $table::id.eq(revival.id),
                    $table::version.eq(revival.version),
                    $table::created_at.eq(revival.created_at),
                ))
                .returning($Row::as_returning())
                .get_result($conn),
            (Some(row), _) => diesel::update($table::table.find(row.id))
                .set(&$save.input)
                .returning($Row::as_returning())
                .get_result($conn),
        }
    };
}
pub(crate) use store_row;
