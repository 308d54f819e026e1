//! A resource's `Descriptor`: the names, paths and rules it declares once, which
//! the handlers, the documentation, the registry of kinds and every feature read,
//! and the small declarations it is made of.

use serde_json::{Map, Value};

use crate::platform::auth::Permission;
use crate::platform::error::AppError;
use crate::platform::query::ListSpec;

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
    /// A field an update's answer may add, once, and its description: a person's
    /// fresh access token after they change their own password
    /// (`Resource::refreshed`).
    pub refreshed: Option<(&'static str, &'static str)>,
    /// What DELETE does, if not a plain deletion (a token is revoked), for the
    /// document.
    pub delete_does: Option<&'static str>,
}

/// The item a nested collection lives under (an observation's metric).
#[derive(Debug)]
pub struct Parent {
    /// The path parameter's description and example, for the document.
    pub param: (&'static str, &'static str),
    /// The column that names the parent.
    pub column: &'static str,
    /// The code of a batch item's error when the parent it names does not exist
    /// (or the caller may not see it): `unknown_metric`.
    pub unknown: &'static str,
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
    /// The fields a hit is found by in a locale other than the default, each as
    /// the reader sees it there (`title` too, if it is a translatable field).
    pub fields: &'static [&'static str],
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

impl Section {
    /// A table exported in `order`, with nothing derived and no tree.
    pub const fn ordered_by(order: &'static str) -> Self {
        Self {
            order,
            derived: &[],
            tree: None,
            derive: |_| {},
        }
    }
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
    /// Whether a PATCH may give the item a new key (a content kind's slug); when
    /// not, the PATCH schema leaves the key out.
    pub rename: bool,
    pub delete: bool,
}

impl Operations {
    pub const ALL: Self = Self {
        list: true,
        get: true,
        create: true,
        replace: true,
        update: true,
        rename: true,
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
    embeds: &[],
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
        refreshed: None,
        delete_does: None,
    };

    /// The webhook events of its items: those of its `events`, and `translated`
    /// and `untranslated` if it has translatable fields.
    pub fn event_names(&self) -> Vec<&'static str> {
        let mut names = self.events.names().to_vec();
        if !names.is_empty() && self.spec.translatable().next().is_some() {
            names.extend(["translated", "untranslated"]);
        }
        names
    }

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
