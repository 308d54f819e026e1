//! What makes a table a resource of the API: its `Descriptor` (names, paths and
//! rules, declared once, which the handlers, the documentation, the registry of
//! kinds and every feature read), `Stored` (what every row tells), and the
//! `Resource` trait (how rows are found, checked, saved and shown).

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::transaction::WriteContext;
use crate::platform::auth::{Caller, Permission};
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::{ListQuery, ListSpec, View};
use crate::platform::visibility::{Access, Status};

/// Everything about a resource that is a fact rather than code: declared once, in
/// its module, as `Resource::DESCRIPTOR`.
#[derive(Debug)]
pub struct Descriptor {
    /// Singular name, for messages, operation ids and summaries ("page").
    pub name: &'static str,
    /// Plural name ("pages").
    pub plural: &'static str,
    /// Its type in the change log, the feed, webhooks and the audit log ("page").
    pub kind: &'static str,
    /// Its table.
    pub table: &'static str,
    /// The collection's path; a nested one names its scope's parameter
    /// (`/api/v1/impact-metrics/{key}/observations`).
    pub path: &'static str,
    /// The field that holds the key, and the item's path parameter ("slug").
    pub key: &'static str,
    /// The key as a path parameter, for the document.
    pub key_description: &'static str,
    /// A key of the sample content, for the document.
    pub key_example: &'static str,
    /// What the collection is nested under, if it is.
    pub parent: Option<Parent>,
    /// The OpenAPI tag its operations are grouped under.
    pub tag: Tag,
    /// Its fields, for lists and fieldsets, and how the stored fields map to them.
    pub spec: &'static ListSpec,
    /// Fields a client may send but that are never written: derived fields and
    /// embeddings (`id`, `version`, `created_at`, `updated_at` are handled for every
    /// resource).
    pub read_only: &'static [&'static str],
    /// What reading needs: `None` for content, which anyone may read (published
    /// items; everything with `Permission::ReadDrafts`).
    pub read: Option<Permission>,
    /// What writing needs.
    pub write: Permission,
    /// If DELETE takes `?cascade=true` to delete what depends on the item: what it
    /// does, for the document.
    pub cascade: Option<&'static str>,
    /// The columns of the item as CSV, if lists of it answer `Accept: text/csv`.
    pub csv: Option<&'static [&'static str]>,
    /// Writes take this advisory lock first, before any row lock, so that writes
    /// whose rules read other rows (the tree of pages, the one primary contact) run
    /// one at a time instead of deadlocking.
    pub write_lock: Option<&'static str>,
    /// Constraints whose name does not say its column, and the fields they guard.
    pub constraints: &'static [(&'static str, &'static [&'static str])],
    /// How the cross-type search shows it, if it does.
    pub search: Option<Search>,
    /// How export and import carry it, if they do.
    pub transfer: Option<Section>,
    /// What its webhook events are called.
    pub events: Events,
    /// Which of the six operations it has.
    pub operations: Operations,
    /// The field and description of a secret its creating answer shows once
    /// (`Resource::shown_once`).
    pub shown_once: Option<(&'static str, &'static str)>,
    /// What DELETE does, if not a plain deletion (a token is revoked), for the
    /// document.
    pub delete_does: Option<&'static str>,
}

/// The item a nested collection lives under (an observation's metric).
#[derive(Debug)]
pub struct Parent {
    /// The path parameter, for the document.
    pub description: &'static str,
    pub example: &'static str,
    /// The column that names the parent.
    pub column: &'static str,
}

/// An OpenAPI tag.
#[derive(Debug)]
pub struct Tag {
    pub name: &'static str,
    pub description: &'static str,
}

/// How the cross-type search shows an item: SQL over its table.
#[derive(Debug)]
pub struct Search {
    /// The title of a hit.
    pub title: &'static str,
    /// The text its snippet comes from.
    pub text: &'static str,
}

/// How export and import carry a table.
#[derive(Debug)]
pub struct Section {
    /// Export order.
    pub order: &'static str,
    /// Columns derived from others: not exported, derived again on import.
    pub derived: &'static [&'static str],
    /// A column that refers to the key of another item of the table (a tree).
    pub tree: Option<&'static str>,
    /// Derives the `derived` columns of an item.
    pub derive: fn(&mut Map<String, Value>),
}

/// What a kind's webhook events are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    /// `created`, `updated`, `published`, `unpublished`, `deleted`.
    Content,
    /// Figures sent in batches: `upserted`, `published`, `unpublished`, `deleted`.
    Upserts,
    /// None: not content.
    None,
}

impl Events {
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Self::Content => &["created", "updated", "published", "unpublished", "deleted"],
            Self::Upserts => &["upserted", "published", "unpublished", "deleted"],
            Self::None => &[],
        }
    }
}

/// Which operations a resource has.
#[derive(Debug, Clone, Copy)]
pub struct Operations {
    pub list: bool,
    pub get: bool,
    pub create: bool,
    pub replace: bool,
    pub update: bool,
    pub delete: bool,
}

impl Operations {
    pub const ALL: Self = Self {
        list: true,
        get: true,
        create: true,
        replace: true,
        update: true,
        delete: true,
    };
}

/// A list spec with no fields, for `Descriptor::DEFAULT`.
const NO_SPEC: &ListSpec = &ListSpec {
    fields: &[],
    common: &[],
    default_sort: &[],
    unique_column: "id",
    searchable: false,
    includes: &[],
};

impl Descriptor {
    /// What a resource has unless it says otherwise; each states the rest and
    /// spreads this: `..Descriptor::DEFAULT`.
    pub const DEFAULT: Self = Self {
        name: "",
        plural: "",
        kind: "",
        table: "",
        path: "",
        key: "",
        key_description: "",
        key_example: "",
        parent: None,
        tag: Tag {
            name: "",
            description: "",
        },
        spec: NO_SPEC,
        read_only: &[],
        read: None,
        write: Permission::WriteContent,
        cascade: None,
        csv: None,
        write_lock: None,
        constraints: &[],
        search: None,
        transfer: None,
        events: Events::Content,
        operations: Operations::ALL,
        shown_once: None,
        delete_does: None,
    };

    /// The item's path: the collection's and the key's parameter.
    pub fn item_path(&self) -> String {
        format!("{}/{{{}}}", self.path, self.key)
    }

    /// Where an item lives, with its parent's key if nested.
    pub fn url(&self, parent: Option<&str>, key: &str) -> String {
        let collection = match parent {
            Some(parent) if self.parent.is_some() => {
                let name = format!("{{{}}}", nested_parameter(self.path));
                self.path.replacen(&name, parent, 1)
            }
            _ => self.path.to_owned(),
        };
        format!("{collection}/{key}")
    }

    /// A write's error in this resource's terms: a broken rule of the database
    /// names the body fields its constraint guards (`constraints`, or the column
    /// its name says, as the spec names it).
    /// `values` are the values the request gave its key and references
    /// (`values_named`), for the words.
    pub fn explain(&self, error: AppError, values: &[(String, String)]) -> AppError {
        let AppError::Constraint(violation) = &error else {
            return error;
        };
        let declared = violation.constraint.as_deref().and_then(|constraint| {
            self.constraints
                .iter()
                .find(|(name, _)| *name == constraint)
        });
        let fields: Vec<String> = match declared {
            Some((_, fields)) => fields.iter().map(|field| (*field).to_owned()).collect(),
            None => violation
                .column()
                .map(|column| {
                    self.spec
                        .all_fields()
                        .find(|field| field.column == Some(column.as_str()))
                        .map_or(column.clone(), |field| field.name.to_owned())
                })
                .into_iter()
                .collect(),
        };
        violation.explained(&fields, values, self.name)
    }

    /// The values a body gives the item's key and its references, which an error
    /// about a broken rule of the database quotes.
    pub fn values_named(&self, body: &Map<String, Value>) -> Vec<(String, String)> {
        self.spec
            .all_fields()
            .filter(|field| field.name == self.key || field.refers_to.is_some())
            .filter_map(|field| {
                let value = body.get(field.name)?.as_str()?;
                Some((field.name.to_owned(), value.chars().take(100).collect()))
            })
            .collect()
    }

    /// The fields of an item as the API shows them, from its stored fields (as the
    /// change log and history keep them): each field of the spec with a column, in
    /// the spec's order, timestamps and numbers written as everywhere else.
    pub fn from_stored(&self, stored: &Value) -> Value {
        self.spec.from_stored(stored)
    }
}

/// The name of the first path parameter of a nested collection's path.
fn nested_parameter(path: &str) -> &str {
    path.split('{')
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .unwrap_or_default()
}

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
