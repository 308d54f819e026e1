//! What every resource served by the generic handlers has in common: the
//! `Resource` trait (what a table must say to become a resource of the API), the
//! handlers that serve any resource (`handlers`), their OpenAPI descriptions
//! (`docs`), and the glue most tables share (`table_resource!`, `store_row!`,
//! `Lineage`). Content (`crate::content`) and partners (`crate::admin::partners`) are
//! resources.

pub mod docs;
pub mod handlers;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::{PartialSchema, ToSchema};

use crate::platform::auth::{Caller, Permission};
use crate::platform::error::AppResult;
use crate::platform::query::{ListQuery, ListSpec, View};
use crate::platform::visibility::{Access, Status};

/// The glue between a top-level resource and its table, which only the names tell
/// apart: the key of a row, and finding and listing rows. Used
/// inside `impl Resource for ...`, as `table_resource!(table: pages, key: slug,
/// row: Page)`. With `select: columns`, lists read the columns `columns(&view)`
/// gives (a table whose heavy columns a fieldset can leave unread) instead of the
/// whole row.
macro_rules! table_resource {
    (table: $table:ident, key: $key:ident, row: $Row:ident $(,)?) => {
        $crate::engine::table_resource!(@rows $table, $key, $Row);
        $crate::engine::table_resource!(@list $table, $Row, |_| $Row::as_select());
    };
    (table: $table:ident, key: $key:ident, row: $Row:ident, select: $select:path $(,)?) => {
        $crate::engine::table_resource!(@rows $table, $key, $Row);
        $crate::engine::table_resource!(@list $table, $Row, $select);
    };
    (@list $table:ident, $Row:ident, $select:expr) => {
        fn list(
            conn: &mut diesel::PgConnection,
            _: &(),
            query: &$crate::platform::query::ListQuery,
            access: $crate::platform::visibility::Access,
        ) -> $crate::platform::error::AppResult<(Vec<$Row>, i64)> {
            Ok(query.load::<$table::table, _, _, _>(
                Self::SPEC,
                access,
                conn,
                || $table::table.select($select(&query.view)).into_boxed(),
                || $table::table.select(diesel::dsl::count_star()).into_boxed(),
            )?)
        }
    };
    (@rows $table:ident, $key:ident, $Row:ident) => {
        fn key(row: &$Row) -> String {
            row.$key.clone()
        }

        fn version(row: &$Row) -> i32 {
            row.version
        }

        fn etag(row: &$Row) -> &str {
            &row.etag
        }

        fn find_visible(
            conn: &mut diesel::PgConnection,
            keys: &[String],
            access: $crate::platform::visibility::Access,
        ) -> $crate::platform::error::AppResult<Vec<$Row>> {
            let rows: Vec<$Row> = $table::table
                .filter($table::$key.eq_any(keys))
                .select($Row::as_select())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .filter(|row| {
                    Self::publication(row).is_none_or(|(status, at)| access.may_see(status, at))
                })
                .collect())
        }

        fn resolve_scope(
            _: &mut diesel::PgConnection,
            _: &str,
            _: $crate::platform::visibility::Access,
            _: bool,
        ) -> $crate::platform::error::AppResult<()> {
            Ok(())
        }

        fn find(
            conn: &mut diesel::PgConnection,
            _: &(),
            key: &str,
            lock: bool,
        ) -> $crate::platform::error::AppResult<Option<$Row>> {
            let query = $table::table
                .filter($table::$key.eq(key))
                .select($Row::as_select());
            Ok(if lock {
                query.for_no_key_update().first(conn).optional()?
            } else {
                query.first(conn).optional()?
            })
        }
    };
}
pub(crate) use table_resource;

/// Inserts a row, or updates the one with id `existing`, and returns it as stored:
/// `store_row!(conn, table: pages, row: Page, existing: id, record: &record)`.
macro_rules! store_row {
    ($conn:expr, table: $table:ident, row: $Row:ident, existing: $existing:expr, record: $record:expr $(,)?) => {
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

/// What makes a table a resource of the API. The generic handlers in `handlers` do
/// the rest: permissions, visibility, versions and ETags, If-Match, lists, problem
/// errors; and `docs` describes them from the same declarations.
pub trait Resource: Sized + 'static {
    /// A row of the table.
    type Row: Serialize + Clone + Send + 'static;
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

    /// Singular name, for messages, operation ids and summaries ("page").
    const NAME: &'static str;
    /// Plural name ("pages").
    const PLURAL: &'static str;
    /// The OpenAPI tag its operations are grouped under.
    const TAG: &'static str;
    /// The field that holds the key ("slug").
    const KEY: &'static str;
    /// The key as a path parameter, for the document.
    const KEY_DESCRIPTION: &'static str;
    /// A key of the sample content, for the document.
    const KEY_EXAMPLE: &'static str;
    /// The path parameter of the scope, for the document, if the collection is nested.
    const SCOPE_DESCRIPTION: Option<&'static str> = None;
    /// Fields a client may send but that are never written: derived fields and
    /// embeddings (`id`, `version`, `created_at`, `updated_at` are handled for every
    /// resource).
    const READ_ONLY: &'static [&'static str];
    const SPEC: &'static ListSpec;
    /// If DELETE takes `?cascade=true` to delete what depends on the item: what it
    /// does, for the document.
    const CASCADE: Option<&'static str> = None;
    /// What reading needs: `None` for content, which anyone may read (published
    /// items; everything with `Permission::ReadDrafts`).
    const READ: Option<Permission> = None;
    /// What writing needs.
    const WRITE: Permission;

    /// The columns of the item as CSV, if lists of it answer `Accept: text/csv`.
    const CSV: Option<&'static [&'static str]> = None;

    /// The item's type in the change log, if its writes are logged (content's are).
    const CHANGE_TYPE: Option<&'static str> = None;

    /// The item's parent in the change log: an observation's metric.
    fn change_parent(scope: &Self::Scope) -> Option<String> {
        let _ = scope;
        None
    }

    /// The items with these keys that `access` may see, wherever they are: the
    /// changes feed shows them.
    fn find_visible(
        conn: &mut PgConnection,
        keys: &[String],
        access: Access,
    ) -> AppResult<Vec<Self::Row>>;

    /// Writes to this table take this advisory lock first, before any row lock, so
    /// that writes whose rules read other rows (the tree of pages, the one primary
    /// contact) run one at a time instead of deadlocking.
    const WRITE_LOCK: Option<&'static str> = None;

    /// Whether a write with this body (a merge patch for PATCH) to the item `key`
    /// (none for a new one) cannot break what `WRITE_LOCK` protects, and so holds it
    /// shared, beside other such writes, instead of alone.
    fn shares_write_lock(body: &serde_json::Map<String, Value>, key: Option<&str>) -> bool {
        let _ = (body, key);
        false
    }

    fn key(row: &Self::Row) -> String;
    fn version(row: &Self::Row) -> i32;
    /// The ETag of the item as an editor reads it (without `fields`/`include`),
    /// kept with the row by the database (migration 000010): `If-Match` compares
    /// with it, and writes and editors' reads answer it, without representing the
    /// item afresh or hashing it.
    fn etag(row: &Self::Row) -> &str;
    /// The item's status and publication date, if it has them: content does, and
    /// is hidden from anonymous readers until it is published.
    fn publication(row: &Self::Row) -> Option<(Status, Option<DateTime<Utc>>)> {
        let _ = row;
        None
    }

    /// The publication the change log records for the item: its own, unless its
    /// scope hides it too (an observation of a draft metric is not public).
    fn change_publication(
        scope: &Self::Scope,
        row: &Self::Row,
    ) -> Option<(Status, Option<DateTime<Utc>>)> {
        let _ = scope;
        Self::publication(row)
    }

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

    /// Work on a write's body that is costly and needs no database (rendering
    /// Markdown), done before the write takes a connection; validation then finds
    /// it done. `body` is the body as sent (a merge patch for PATCH).
    fn prepare(body: &serde_json::Map<String, Value>) -> impl std::future::Future<Output = ()> {
        let _ = body;
        std::future::ready(())
    }

    /// The current row as a body: what a merge patch applies to.
    fn as_body(row: &Self::Row) -> Self::Body;
    /// `key` is the key in the URL (PUT); `existing` the row being replaced.
    fn validate(
        body: Self::Body,
        key: Option<&str>,
        existing: Option<&Self::Row>,
    ) -> AppResult<Self::Input>;
    /// Rules about who may write what, beyond `WRITE` (which the handlers have
    /// checked): a partner's token writes only its own observations. `existing` is
    /// the item before the write, `input` what it becomes (`None` for a delete).
    fn authorise(
        caller: &Caller,
        scope: &Self::Scope,
        existing: Option<&Self::Row>,
        input: Option<&Self::Input>,
    ) -> AppResult<()> {
        let _ = (caller, scope, existing, input);
        Ok(())
    }
    /// Inserts or updates, with the resource's own rules, inside the caller's
    /// transaction; `caller` is who writes.
    fn save(
        conn: &mut PgConnection,
        scope: &Self::Scope,
        existing: Option<&Self::Row>,
        input: Self::Input,
        caller: &Caller,
    ) -> AppResult<Self::Row>;
    /// Deletes, with the resource's own rules; `cascade` is `?cascade=true`;
    /// `caller` is who deletes.
    fn delete(
        conn: &mut PgConnection,
        row: &Self::Row,
        cascade: bool,
        caller: &Caller,
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
        Ok(rows.iter().map(to_json).collect())
    }
}

/// A column that points to another row of the same table: a page's or a funder's
/// `parent`, the decision a decision `supersedes`. Like a reference to an item that
/// does not exist, one that would close a loop conflicts with what is stored: a 409.
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
            return Err(crate::platform::error::AppError::conflict_at(
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
            return Err(crate::platform::error::AppError::conflict_at(
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

/// The JSON of rows as a caller with `access` may see them: `Resource::represent`,
/// then every reference to an item the caller may not see (a draft parent) made
/// null. Every answer that shows items goes through here.
pub fn present<R: Resource>(
    conn: &mut PgConnection,
    rows: Vec<R::Row>,
    view: &View,
    access: Access,
) -> AppResult<Vec<Value>> {
    let mut values = R::represent(conn, rows, view, access)?;
    if access.public_only() {
        hide_references(conn, R::SPEC, &mut values)?;
    }
    Ok(values)
}

/// Makes null each reference of `spec` that names an item anonymous readers do not
/// see, in the items and in the items embedded in them (`children`, `line`,
/// `parent_funder`: whatever key an embedding is shown under). One query per
/// reference field.
fn hide_references(
    conn: &mut PgConnection,
    spec: &ListSpec,
    values: &mut [Value],
) -> AppResult<()> {
    use diesel::prelude::*;
    use diesel::sql_types::{Array, Text};

    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        key: String,
    }

    // Each item, and every object embedded in it (alone or in an array): the
    // embeddings of a resource are items of its own kind, or of a kind whose
    // fields do not share the names of its references.
    fn each_item(values: &mut [Value], visit: &mut dyn FnMut(&mut Value)) {
        for value in values {
            if let Value::Object(object) = value {
                for embedded in object.values_mut() {
                    match embedded {
                        Value::Array(items) => items
                            .iter_mut()
                            .filter(|item| item.is_object())
                            .for_each(&mut *visit),
                        Value::Object(_) => visit(embedded),
                        _ => {}
                    }
                }
            }
            visit(value);
        }
    }

    for field in spec.fields.iter().filter(|field| field.refers_to.is_some()) {
        let Some(target) = field.refers_to else {
            continue;
        };
        let mut named: Vec<String> = Vec::new();
        each_item(values, &mut |item| {
            if let Some(Value::String(key)) = item.get(field.name) {
                named.push(key.clone());
            }
        });
        if named.is_empty() {
            continue;
        }
        named.sort();
        named.dedup();
        let visible: std::collections::HashSet<String> = diesel::sql_query(format!(
            "SELECT v.{key} AS key FROM ({visible}) v WHERE v.{key} = ANY($1)",
            key = target.key,
            visible = target.visible_keys(),
        ))
        .bind::<Array<Text>, _>(named)
        .load::<Key>(conn)?
        .into_iter()
        .map(|row| row.key)
        .collect();
        each_item(values, &mut |item| {
            if let Some(reference) = item.get_mut(field.name)
                && reference.as_str().is_some_and(|key| !visible.contains(key))
            {
                *reference = Value::Null;
            }
        });
    }
    Ok(())
}
