//! A page's blocks: what the page shows, in order. Each is Markdown of its own, or
//! names other content: impact metrics (by key, or a category), funders (the
//! top-level ones, or some by slug), Council Decisions (all, or some by CELEX
//! number), a contact (the primary one, or one by slug), or the page's child pages.
//!
//! Here: a body's blocks checked into what is stored (`check`), and the references
//! checked against what exists (`unknown_references`). How a reader sees them is
//! in `shown`. The database keeps a row per reference, with a foreign key
//! (migration 000023): a renamed item is followed, a named one cannot be deleted.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use serde_json::{Map, Value};

use crate::content::markdown;
use crate::content::metrics::Category;
use crate::platform::error::{AppResult, FieldError, codes};
use crate::platform::validate::{Check, json_type};

/// At most this many blocks on a page.
pub const MAX_BLOCKS: usize = 50;
/// At most this many items named in one block.
pub const MAX_NAMED: usize = 100;
/// At most this many characters of Markdown in one block.
pub const MAX_TEXT: usize = 50_000;

/// What a block is, and the field that names its items, if it names any by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Markdown,
    Metrics,
    Funders,
    Decisions,
    Contact,
    Pages,
}

impl Type {
    pub const ALL: &[Self] = &[
        Self::Markdown,
        Self::Metrics,
        Self::Funders,
        Self::Decisions,
        Self::Contact,
        Self::Pages,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Metrics => "metrics",
            Self::Funders => "funders",
            Self::Decisions => "decisions",
            Self::Contact => "contact",
            Self::Pages => "pages",
        }
    }

    pub fn of(block: &Value) -> Option<Self> {
        Self::named(block.get("type")?.as_str()?)
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.name() == name)
    }

    /// The field naming items by key, and the table and key column they are in.
    pub fn names(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            Self::Metrics => Some(("metrics", "impact_metrics", "key")),
            Self::Funders => Some(("funders", "funders", "slug")),
            Self::Decisions => Some(("decisions", "council_decisions", "celex")),
            Self::Contact => Some(("contact", "contacts", "slug")),
            Self::Markdown | Self::Pages => None,
        }
    }

    /// Whether a stored block of this type keeps the field: `type`, its own
    /// fields, and a Markdown block's `html` (a block's `items` are read, never
    /// stored).
    pub fn keeps(self, field: &str) -> bool {
        field == "type"
            || self.fields().contains(&field)
            || (self == Self::Markdown && field == "html")
    }

    /// The field a read adds to a block of this type, which a body may send back.
    fn shown_only(self) -> &'static str {
        if self == Self::Markdown {
            "html"
        } else {
            "items"
        }
    }

    /// The fields a body may give a block of this type (besides `type`).
    fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Markdown => &["text"],
            Self::Metrics => &["metrics", "category"],
            Self::Funders => &["funders"],
            Self::Decisions => &["decisions"],
            Self::Contact => &["contact"],
            Self::Pages => &[],
        }
    }
}

/// The blocks a body gives, checked, as stored: each with its type and its own
/// fields, a Markdown block with its HTML. Every mistake is named by its pointer
/// (`/blocks/2/metrics/0`).
pub fn check(check: &mut Check, raw: Option<Value>) -> Value {
    let blocks = match raw {
        None | Some(Value::Null) => return Value::Array(Vec::new()),
        Some(Value::Array(blocks)) => blocks,
        Some(other) => {
            check.fail(
                "blocks",
                format!("must be an array, not {}", json_type(&other)),
            );
            return Value::Array(Vec::new());
        }
    };
    if blocks.len() > MAX_BLOCKS {
        check.fail("blocks", format!("must hold at most {MAX_BLOCKS} blocks"));
        return Value::Array(Vec::new());
    }
    let stored = blocks
        .into_iter()
        .enumerate()
        .filter_map(|(index, block)| one(check, &format!("blocks/{index}"), block))
        .collect();
    Value::Array(stored)
}

/// One block, checked, or `None` with its mistakes noted.
fn one(check: &mut Check, at: &str, block: Value) -> Option<Value> {
    let Value::Object(mut block) = block else {
        check.fail(at, "must be an object with a type");
        return None;
    };
    let Some(kind) = block
        .get("type")
        .and_then(Value::as_str)
        .and_then(Type::named)
    else {
        check.fail(
            &format!("{at}/type"),
            format!(
                "must be one of {}",
                Type::ALL
                    .iter()
                    .map(|kind| kind.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return None;
    };
    block.remove("type");
    let mut stored = Map::new();
    stored.insert("type".to_owned(), kind.name().into());
    for (field, value) in block {
        let pointer = format!("{at}/{field}");
        // Read-only, or null: as if absent.
        if kind.shown_only() == field || (value.is_null() && field != "text") {
            continue;
        }
        if !kind.fields().contains(&field.as_str()) {
            check.fail(
                &pointer,
                format!("is not a field of a {} block", kind.name()),
            );
            continue;
        }
        if let Some(value) = checked(check, &pointer, kind, &field, value) {
            stored.insert(field, value);
        }
    }
    match kind {
        Type::Markdown => {
            let text = stored
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if text.trim().is_empty() {
                check.fail(&format!("{at}/text"), "is required");
                return None;
            }
            let html = markdown::render(text).map_or_else(
                |detail| {
                    check.fail(&format!("{at}/text"), detail);
                    String::new()
                },
                |rendered| rendered.html,
            );
            stored.insert("html".to_owned(), html.into());
        }
        Type::Metrics if stored.contains_key("metrics") == stored.contains_key("category") => {
            check.fail(
                at,
                "names its metrics by key (metrics) or by category, one of the two",
            );
        }
        _ => {}
    }
    Some(Value::Object(stored))
}

/// A field of a block, checked.
fn checked(check: &mut Check, at: &str, kind: Type, field: &str, value: Value) -> Option<Value> {
    match (field, value) {
        ("text", Value::String(text)) if text.chars().count() > MAX_TEXT => {
            check.fail(at, format!("must be at most {MAX_TEXT} characters"));
            None
        }
        ("text", text @ Value::String(_)) => Some(text),
        ("category", Value::String(name)) => match Category::parse(&name) {
            Ok(_) => Some(Value::String(name)),
            Err(detail) => {
                check.fail(at, detail);
                None
            }
        },
        ("contact", key @ Value::String(_)) => key_of(check, at, key),
        (_, Value::Array(keys)) if kind.names().is_some_and(|(named, ..)| named == field) => {
            list_of(check, at, keys)
        }
        (_, other) => {
            let wanted = match field {
                "metrics" | "funders" | "decisions" => "an array of keys",
                _ => "a string",
            };
            check.fail(at, format!("must be {wanted}, not {}", json_type(&other)));
            None
        }
    }
}

/// A key naming an item: text of 1 to 100 characters.
fn key_of(check: &mut Check, at: &str, key: Value) -> Option<Value> {
    let text = key.as_str().unwrap_or_default();
    if text.is_empty() || text.chars().count() > 100 {
        check.fail(at, "must be a key of 1 to 100 characters");
        return None;
    }
    Some(key)
}

/// A list of keys: at least one, at most `MAX_NAMED`, each once.
fn list_of(check: &mut Check, at: &str, keys: Vec<Value>) -> Option<Value> {
    if keys.is_empty() || keys.len() > MAX_NAMED {
        check.fail(at, format!("must name 1 to {MAX_NAMED} items"));
        return None;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut valid = true;
    for (index, key) in keys.iter().enumerate() {
        let pointer = format!("{at}/{index}");
        match key.as_str() {
            Some(text) if seen.contains(&text) => {
                check.fail(&pointer, format!("names {text} a second time"));
                valid = false;
            }
            Some(text) => {
                valid &= key_of(check, &pointer, key.clone()).is_some();
                seen.push(text);
            }
            None => {
                check.fail(
                    &pointer,
                    format!("must be a string, not {}", json_type(key)),
                );
                valid = false;
            }
        }
    }
    valid.then_some(Value::Array(keys))
}

/// Each key the stored blocks name, with its table, key column and pointer.
pub fn named(blocks: &Value) -> Vec<(&'static str, &'static str, String, String)> {
    let mut named = Vec::new();
    for (index, block) in blocks.as_array().into_iter().flatten().enumerate() {
        let Some((field, table, column)) = Type::of(block).and_then(Type::names) else {
            continue;
        };
        match block.get(field) {
            Some(Value::String(key)) => {
                named.push((
                    table,
                    column,
                    key.clone(),
                    format!("/blocks/{index}/{field}"),
                ));
            }
            Some(Value::Array(keys)) => {
                for (position, key) in keys.iter().enumerate() {
                    if let Some(key) = key.as_str() {
                        let at = format!("/blocks/{index}/{field}/{position}");
                        named.push((table, column, key.to_owned(), at));
                    }
                }
            }
            _ => {}
        }
    }
    named
}

/// A 422 naming every block reference to an item that does not exist, by its
/// pointer and key, as a reference field's (`unknown_reference`); one query per
/// table named.
pub fn unknown_references(conn: &mut PgConnection, blocks: &Value) -> AppResult<Vec<FieldError>> {
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        key: String,
    }
    let named = named(blocks);
    let mut errors = Vec::new();
    let mut tables: Vec<(&str, &str)> = named.iter().map(|(t, c, ..)| (*t, *c)).collect();
    tables.sort_unstable();
    tables.dedup();
    for (table, column) in tables {
        let keys: Vec<&str> = named
            .iter()
            .filter(|(t, ..)| *t == table)
            .map(|(_, _, key, _)| key.as_str())
            .collect();
        let found: Vec<String> = diesel::sql_query(format!(
            "SELECT {column} AS key FROM {table} WHERE {column} = ANY($1)"
        ))
        .bind::<Array<Text>, _>(&keys)
        .load::<Key>(conn)?
        .into_iter()
        .map(|row| row.key)
        .collect();
        for (_, _, key, at) in named.iter().filter(|(t, ..)| *t == table) {
            if !found.contains(key) {
                errors.push(FieldError::coded(
                    codes::UNKNOWN_REFERENCE,
                    at.clone(),
                    format!("names {key}, which does not exist"),
                ));
            }
        }
    }
    errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    Ok(errors)
}
