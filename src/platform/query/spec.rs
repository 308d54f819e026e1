//! What a collection allows: its fields (name, SQL column, type, whether it sorts
//! and filters), its default order, and what `include` may embed. Each resource
//! declares one `ListSpec`; nothing outside it reaches SQL.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::Localised;
use crate::platform::visibility::{Access, Status};

/// The type of a stored field, which decides its operators and how values are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Number,
    Date,
    Timestamp,
    Bool,
    Uuid,
    Enum(&'static [&'static str]),
    /// An integer array column; `eq` means "contains", `in` means "overlaps".
    IntegerArray,
    /// A text array column (tags), filtered as `IntegerArray` is.
    TextArray,
}

/// One field of a resource's representation.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// The column it is stored in; `None` for a field computed for the answer
    /// (`latest`, `eur_lex_url`), which `fields` may select and nothing else.
    pub column: Option<&'static str>,
    pub kind: Kind,
    pub sortable: bool,
    pub filterable: bool,
    pub nullable: bool,
    /// The content item it names by key, if it is a reference.
    pub refers_to: Option<Target>,
    /// Whether it is translated per locale, and then its length at most, in
    /// characters (keys, numbers, dates and references are shared by all locales).
    pub translatable: Option<usize>,
    /// For a list of objects translated in place (a page's blocks): the key of the
    /// text each object that has one is translated in (`text`). A translation then
    /// gives a list of texts, the n-th for the n-th object with that key, and the
    /// HTML each renders to is shown beside it (`html`).
    pub translated_in: Option<&'static str>,
}

/// What a reference names: a content table and its key column. To a caller who
/// may not see the item named (a draft parent), the reference is null: it shows,
/// filters and sorts as null, so that it tells nothing about the draft.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub table: &'static str,
    pub key: &'static str,
}

impl Target {
    /// The keys of the items of this table that anonymous readers see, as SQL.
    pub fn visible_keys(&self) -> String {
        format!(
            "SELECT r.{key} FROM {table} r WHERE {visible}",
            key = self.key,
            table = self.table,
            visible = crate::platform::visibility::visible_as("r")
        )
    }
}

impl Field {
    /// A stored field, in the column of the same name.
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            column: Some(name),
            kind,
            sortable: false,
            filterable: false,
            nullable: false,
            refers_to: None,
            translatable: None,
            translated_in: None,
        }
    }

    /// A field computed for the answer, not stored.
    pub const fn derived(name: &'static str) -> Self {
        Self {
            column: None,
            ..Self::new(name, Kind::Text)
        }
    }

    pub const fn column(self, column: &'static str) -> Self {
        Self {
            column: Some(column),
            ..self
        }
    }

    pub const fn filterable(self) -> Self {
        Self {
            filterable: true,
            ..self
        }
    }

    /// A field lists sort by (`sort=`) and filter on (`field[op]=`), as most stored
    /// fields are; one that only filters is `filterable`.
    pub const fn ordered(self) -> Self {
        Self {
            sortable: true,
            filterable: true,
            ..self
        }
    }

    pub const fn nullable(self) -> Self {
        Self {
            nullable: true,
            ..self
        }
    }

    /// A field translated per locale (text of at most `max_chars` characters).
    pub const fn translatable(self, max_chars: usize) -> Self {
        Self {
            translatable: Some(max_chars),
            ..self
        }
    }

    /// A list of objects translated in place, each in its `key` (at most
    /// `max_chars` characters): `translated_in`.
    pub const fn translated_in(self, key: &'static str, max_chars: usize) -> Self {
        Self {
            translatable: Some(max_chars),
            translated_in: Some(key),
            ..self
        }
    }

    /// A reference to an item of `table`, by its `key` column.
    pub const fn refers_to(self, table: &'static str, key: &'static str) -> Self {
        Self {
            refers_to: Some(Target { table, key }),
            ..self
        }
    }

    /// The column of a field the spec lets sort or filter; only such fields are
    /// asked for it.
    pub fn sql_column(&self) -> &'static str {
        self.column.unwrap_or(self.name)
    }

    /// The field as SQL for a caller with `access` in a list read in a locale
    /// (`localised`): a translatable field is its value along the locale's chain,
    /// the first that is not empty, as the reader sees it; any other field is
    /// `sql_value`'s. Tags are canonical tags of enabled locales (letters, digits
    /// and hyphens), so they are written into the SQL as they are.
    pub fn sql_value_in(&self, access: Access, localised: Option<&Localised>) -> String {
        let (Some(localised), Some(_)) = (localised, self.translatable) else {
            return self.sql_value(access);
        };
        let published = if localised.published_only {
            " AND tr.status = 'published'"
        } else {
            ""
        };
        let column = self.sql_column();
        let values: Vec<String> = localised
            .chain
            .iter()
            .filter(|tag| tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .map(|tag| {
                if *tag == localised.default {
                    format!("nullif({column}, '')")
                } else {
                    format!(
                        "nullif((SELECT tr.fields->>'{name}' FROM translations tr \
                         WHERE tr.kind = '{kind}' AND tr.item_id = {table}.id \
                         AND tr.locale = '{tag}'{published}), '')",
                        name = self.name,
                        kind = localised.kind,
                        table = localised.table,
                    )
                }
            })
            .collect();
        format!("coalesce({})", values.join(", "))
    }

    /// The field as SQL for a caller with `access`: its column, or, for a reference
    /// the caller may not follow, null where the item named is hidden.
    pub fn sql_value(&self, access: Access) -> String {
        let column = self.sql_column();
        match self.refers_to {
            Some(target) if access.public_only() => format!(
                "(CASE WHEN {column} IN ({}) THEN {column} END)",
                target.visible_keys()
            ),
            _ => column.to_owned(),
        }
    }

    /// The operators `field[op]` takes; none if the field does not filter.
    pub fn operators(&self) -> Vec<Op> {
        if !self.filterable || self.column.is_none() {
            return Vec::new();
        }
        let mut ops = match self.kind {
            Kind::Enum(_) | Kind::Uuid => vec![Op::Eq, Op::Ne, Op::In],
            Kind::Text | Kind::Integer | Kind::Number | Kind::Date | Kind::Timestamp => {
                vec![Op::Eq, Op::Ne, Op::Lt, Op::Lte, Op::Gt, Op::Gte, Op::In]
            }
            Kind::Bool => vec![Op::Eq, Op::Ne],
            Kind::IntegerArray | Kind::TextArray => vec![Op::Eq, Op::In],
        };
        if self.nullable {
            ops.push(Op::Null);
        }
        ops
    }
}

// Every record's own id, version and timestamps, in both lists below.
const ID: Field = Field::new("id", Kind::Uuid).filterable();
const VERSION: Field = Field::new("version", Kind::Integer);
const CREATED_AT: Field = Field::new("created_at", Kind::Timestamp).ordered();
const UPDATED_AT: Field = Field::new("updated_at", Kind::Timestamp).ordered();

/// The fields every content item has, after its own: a record's, and its status
/// and publication date.
pub const CONTENT_FIELDS: &[Field] = &[
    ID,
    Field::new("status", Kind::Enum(Status::ALL)).ordered(),
    Field::new("published_at", Kind::Timestamp)
        .ordered()
        .nullable(),
    VERSION,
    CREATED_AT,
    UPDATED_AT,
];

/// The fields every other record (a partner) has, after its own.
pub const RECORD_FIELDS: &[Field] = &[ID, VERSION, CREATED_AT, UPDATED_AT];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
}

/// A resource's list allow-list.
#[derive(Debug)]
pub struct ListSpec {
    /// Its own fields, in the order of its representation.
    pub fields: &'static [Field],
    /// The fields that follow them: `CONTENT_FIELDS` or `RECORD_FIELDS`.
    pub common: &'static [Field],
    /// The order of a list without `sort`.
    pub default_sort: &'static [(&'static str, Dir)],
    /// A unique column: the last sort key, so that paging never skips or repeats.
    pub unique_column: &'static str,
    /// Whether the table has a `search` tsvector column for `q`.
    pub searchable: bool,
    /// Relations `include` may embed.
    pub includes: &'static [&'static str],
    /// What items embed, by name (an `include`, or what is always there, as a
    /// metric's `latest`), with the spec of the embedded items: what
    /// `fields[name]` may name.
    pub embeds: &'static [super::view::Embed],
}

impl ListSpec {
    /// The list of records that are not content (users, tokens, partners): its own
    /// fields, then `RECORD_FIELDS`; no full-text search, nothing to embed.
    pub const fn records(
        fields: &'static [Field],
        default_sort: &'static [(&'static str, Dir)],
        unique_column: &'static str,
    ) -> Self {
        Self {
            fields,
            common: RECORD_FIELDS,
            default_sort,
            unique_column,
            searchable: false,
            includes: &[],
            embeds: &[],
        }
    }

    pub fn all_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields.iter().chain(self.common.iter())
    }

    /// The fields translated per locale.
    pub fn translatable(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields
            .iter()
            .filter(|field| field.translatable.is_some())
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.all_fields().find(|field| field.name == name)
    }

    /// The fields of an item as the API shows them, from its stored fields (its row
    /// as JSON, as the change log keeps it): each field with a column, named as the
    /// API names it, `id` first and then in the spec's order; timestamps and numbers
    /// written as every other answer writes them.
    pub fn from_stored(&self, stored: &Value) -> Value {
        let mut item = Map::new();
        let id = self.all_fields().filter(|field| field.name == "id");
        for field in id.chain(self.all_fields().filter(|field| field.name != "id")) {
            let Some(value) = field.column.and_then(|column| stored.get(column)) else {
                continue;
            };
            item.insert(field.name.to_owned(), written(field.kind, value));
        }
        Value::Object(item)
    }

    /// The values `sort` accepts: every sortable field, ascending and descending.
    pub fn sort_values(&self) -> Vec<String> {
        self.all_fields()
            .filter(|field| field.sortable)
            .flat_map(|field| [field.name.to_owned(), format!("-{}", field.name)])
            .collect()
    }
}

/// A comparison in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    /// `field[null]=true|false`: whether a nullable field is empty.
    Null,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::In => "in",
            Self::Null => "null",
        }
    }
}

/// A stored value as answers write it: a timestamp in RFC 3339 UTC with `Z` (as
/// PostgreSQL's JSON does not), a whole number without a fraction.
fn written(kind: Kind, value: &Value) -> Value {
    match (kind, value) {
        (Kind::Timestamp, Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map(|at| {
                Value::String(
                    at.with_timezone(&Utc)
                        .to_rfc3339_opts(SecondsFormat::AutoSi, true),
                )
            })
            .unwrap_or_else(|_| value.clone()),
        (Kind::Number, Value::Number(n)) => n.as_f64().map_or_else(|| value.clone(), number),
        _ => value.clone(),
    }
}

/// A number as answers write it: whole numbers without a fraction (`342000`, not
/// `342000.0`).
pub fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}
