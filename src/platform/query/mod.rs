//! The query language: `params`, the one parser of every query string, and the
//! list language on it, one engine for every collection: `page`, `per_page`, `sort`,
//! filters (`field`, `field[op]`), `updated_since`, `q`, `fields` and `include`.
//!
//! - `spec`: what a collection allows (each resource declares one `ListSpec`);
//! - `parse`: a query string, checked against the spec, into a typed `ListQuery`;
//! - `view`: what an answer shows of each item (`fields`, `include`);
//! - `sql`: a `ListQuery` into bound SQL conditions and order terms;
//! - `openapi`: the parameters of a spec, for the OpenAPI document.
//!
//! Anything unknown is a 400 that names it. Column names in the SQL come only from
//! the spec, and every value is a bound parameter, so nothing a client sends reaches
//! SQL as text. This module knows nothing of the resources that use it.

pub mod openapi;
pub mod params;
mod parse;
mod spec;
mod sql;
mod view;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::locale::Requested;
use crate::platform::visibility::Access;

pub use params::{Paging, Params, list_items, parse_instant, unknown_parameter};
pub use spec::{CONTENT_FIELDS, Dir, Field, Kind, ListSpec, Op, RECORD_FIELDS, Target, number};
pub use sql::{Condition, OrderTerm};
pub use view::{Embed, parse_item_view};

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 1_000_000;
pub const MAX_LIST_VALUES: usize = 100;
pub const MAX_SEARCH_CHARS: usize = 200;
pub const MAX_SORT_KEYS: usize = 5;

/// Typed filter values: one for a comparison, several for `in`.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Text(Vec<String>),
    Integer(Vec<i32>),
    Number(Vec<f64>),
    Date(Vec<NaiveDate>),
    Timestamp(Vec<DateTime<Utc>>),
    Bool(Vec<bool>),
    Uuid(Vec<Uuid>),
    IsNull(bool),
}

/// One filter of a list: a field, an operator, typed values.
#[derive(Debug, Clone)]
pub struct Filter {
    pub field: &'static Field,
    pub op: Op,
    pub values: Values,
}

/// How items are shown: which fields, which embedded relations.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub fields: Option<Vec<&'static str>>,
    pub include: Vec<&'static str>,
    /// The fieldsets of embedded items, by where the item shows them:
    /// `fields[children]=slug,title`.
    pub nested: Vec<(&'static str, Vec<&'static str>)>,
    /// `?locale=`, as given: the reader resolves it, with `Accept-Language`, into
    /// `locale` (`Locales::negotiate`). Only for kinds with translatable fields.
    pub asked_locale: Option<String>,
    /// `fallback=true` or `false` (default true): whether a field missing in the
    /// locale is looked for along its chain, or shown as null.
    pub fallback: Option<bool>,
    /// The locale the items are shown in, once resolved; `None` for a kind with no
    /// translatable fields.
    pub locale: Option<Requested>,
}

impl View {
    /// The whole item, with no fieldset and nothing embedded.
    pub fn is_whole(&self) -> bool {
        self.fields.is_none() && self.include.is_empty() && self.nested.is_empty()
    }

    /// Whether the answer shows the field: every field without a fieldset.
    pub fn shows(&self, field: &str) -> bool {
        self.fields
            .as_ref()
            .is_none_or(|fields| fields.contains(&field))
    }

    pub fn includes(&self, relation: &str) -> bool {
        self.include.contains(&relation)
    }

    /// Keeps only the requested fields (embedded relations stay, and an embedding
    /// with a fieldset of its own), and in embedded items only theirs.
    pub fn apply(&self, spec: &ListSpec, item: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        let Value::Object(mut object) = item else {
            return item;
        };
        if let Some(fields) = &self.fields {
            // A fieldset is what the answer shows: its `links` go too.
            object.retain(|key, _| {
                fields.contains(&key.as_str())
                    || self.include.contains(&key.as_str())
                    || self.nested.iter().any(|(name, _)| name == key)
                    || (spec.field(key).is_none() && key != "links")
            });
        }
        for (name, fields) in &self.nested {
            if let Some(embedded) = object.get_mut(*name) {
                keep_only(embedded, name, fields);
            }
        }
        Value::Object(object)
    }
}

/// Keeps only `fields` in the embedded items, and in the items they embed under
/// the same name (a page's children's children).
fn keep_only(embedded: &mut serde_json::Value, name: &str, fields: &[&str]) {
    use serde_json::Value;
    match embedded {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| keep_only(item, name, fields)),
        Value::Object(item) => {
            item.retain(|key, _| fields.contains(&key.as_str()) || key == name);
            if let Some(deeper) = item.get_mut(name) {
                keep_only(deeper, name, fields);
            }
        }
        _ => {}
    }
}

/// Paging metadata of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    /// This page, from 1.
    #[schema(example = 1)]
    pub page: i64,
    /// Items per page.
    #[schema(example = 20)]
    pub per_page: i64,
    /// Items in the whole (filtered) list.
    #[schema(example = 6)]
    pub total: i64,
    /// Pages in the whole list.
    #[schema(example = 1)]
    pub total_pages: i64,
}

impl ListMeta {
    /// Page `page` of `per_page` items, of `total` in all.
    pub fn of(page: i64, per_page: i64, total: i64) -> Self {
        Self {
            page,
            per_page,
            total,
            total_pages: (total + per_page - 1) / per_page,
        }
    }
}

/// A parsed, validated list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: i64,
    pub per_page: i64,
    pub sort: Vec<(&'static Field, Dir)>,
    pub filters: Vec<Filter>,
    pub q: Option<String>,
    pub view: View,
    /// Where the translations of the list's items are, when it is read in a locale
    /// other than the default: sorting and filtering by a translatable field then
    /// use the values the reader sees.
    pub localised: Option<Localised>,
}

/// A list read in a locale other than the default: the kind and table of its
/// items, the locales a field is looked for in (canonical tags of enabled
/// locales), whether only published translations count, and the text `q`
/// searches there (`document`), if the kind is searched.
#[derive(Debug, Clone)]
pub struct Localised {
    pub kind: &'static str,
    pub table: &'static str,
    pub chain: Vec<String>,
    pub default: String,
    pub published_only: bool,
    pub search: Option<String>,
}

impl Localised {
    /// The text a search in this locale looks in, as SQL: `fields` of `spec`, each
    /// as the reader sees it here (`sql_value_in`), one after the other.
    pub fn document(&self, spec: &ListSpec, fields: &[&str], access: Access) -> String {
        let shown: Vec<String> = fields
            .iter()
            .map(|name| {
                spec.field(name).map_or_else(
                    || (*name).to_owned(),
                    |field| field.sql_value_in(access, Some(self)),
                )
            })
            .collect();
        format!("concat_ws(' ', {})", shown.join(", "))
    }

    /// The text-search configuration of the locale, as SQL: the language's where
    /// PostgreSQL has one, `simple` otherwise (`seesac_search_config`).
    pub fn search_config(&self) -> String {
        let tag = self.chain.first().map_or("", String::as_str);
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        format!("seesac_search_config('{tag}')")
    }
}

/// One page of rows that carry the whole list's total (`count(*) OVER ()`), and
/// that total. `load(limit, offset)` reads rows; past the end the page is empty, and
/// the total is read from the list's first row, for the meta and the links.
pub fn page_and_total<T, E>(
    per_page: i64,
    offset: i64,
    total_of: impl Fn(&T) -> i64,
    mut load: impl FnMut(i64, i64) -> Result<Vec<T>, E>,
) -> Result<(Vec<T>, i64), E> {
    let rows = load(per_page, offset)?;
    let total = match rows.first() {
        Some(first) => total_of(first),
        None if offset > 0 => load(1, 0)?.first().map_or(0, &total_of),
        None => 0,
    };
    Ok((rows, total))
}

impl ListQuery {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The paging metadata of a list of `total` items.
    pub fn meta(&self, total: i64) -> ListMeta {
        ListMeta::of(self.page, self.per_page, total)
    }
}

impl Paging {
    /// The paging metadata of a list of `total` items.
    pub fn meta(&self, total: i64) -> ListMeta {
        ListMeta::of(self.page, self.per_page, total)
    }
}

#[cfg(test)]
mod tests {
    use super::{CONTENT_FIELDS, Dir, Field, Kind, ListSpec};

    /// A list of pages, as the tests of parsing and of SQL read it.
    const FIELDS: &[Field] = &[
        Field::new("slug", Kind::Text).ordered(),
        Field::new("title", Kind::Text).ordered(),
        Field::new("position", Kind::Integer).ordered(),
        Field::new("parent", Kind::Text).filterable().nullable(),
        Field::new("body_html", Kind::Text),
    ];
    pub const SPEC: ListSpec = ListSpec {
        fields: FIELDS,
        common: CONTENT_FIELDS,
        default_sort: &[("position", Dir::Asc)],
        unique_column: "slug",
        searchable: true,
        includes: &["children"],
        embeds: &[super::Embed::same("children")],
    };
}
