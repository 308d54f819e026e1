//! A page's blocks as a reader sees them: what a block names that the reader may
//! not see is left out (never named), and with `include=blocks` each block that
//! names content carries its `items`, read as their own collections show them,
//! in the page's locale, with `fields[blocks.metrics]` and the like.
//!
//! The cost is bounded by what the blocks ask for, not by how many pages or blocks
//! there are: one query for the items of each kind named by key (per 100 keys), one
//! per metric category, one for the top-level funders, one for all decisions, one
//! for the primary contact, one for the child pages.

use std::collections::{BTreeSet, HashMap};

use diesel::PgConnection;
use serde_json::Value;

use super::Pages;
use super::blocks::Type;
use crate::content::contacts::Contacts;
use crate::content::decisions::Decisions;
use crate::content::funders::Funders;
use crate::content::metrics::Metrics;
use crate::engine::{Resource, read};
use crate::platform::error::AppResult;
use crate::platform::query::{MAX_LIST_VALUES, View};
use crate::platform::visibility::Access;

/// The query of `kind`'s collection a block without keys reads, if it reads any.
fn query_of(kind: Type, block: &Value, page: &str) -> Option<String> {
    let encoded =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    match kind {
        Type::Metrics => block
            .get("category")
            .and_then(Value::as_str)
            .map(|category| format!("category={}", encoded(category))),
        Type::Funders => Some("parent[null]=true&include=children".to_owned()),
        Type::Decisions => Some(String::new()),
        Type::Contact => Some("primary=true".to_owned()),
        Type::Pages => Some(format!("parent={}", encoded(page))),
        Type::Markdown => None,
    }
}

/// The items read for the blocks: by key, and by query.
#[derive(Default)]
struct Read {
    by_key: HashMap<(Type, String), Value>,
    by_query: HashMap<(Type, String), Vec<Value>>,
}

/// Each page's blocks as `access` sees them in `view`, in the pages' order;
/// `None` where the view does not show them.
pub fn show(
    conn: &mut PgConnection,
    pages: &[(&str, &Value)],
    view: &View,
    access: Access,
) -> AppResult<Vec<Option<Value>>> {
    let included = view.includes("blocks");
    if !view.shows("blocks") && !included {
        return Ok(vec![None; pages.len()]);
    }
    let mut keys: HashMap<Type, BTreeSet<String>> = HashMap::new();
    // What blocks without keys read: a kind's items by a query of their
    // collection (`category=awareness`).
    let mut queries: BTreeSet<(Type, String)> = BTreeSet::new();
    for (slug, blocks) in pages {
        for block in blocks.as_array().into_iter().flatten() {
            let Some(kind) = Type::of(block) else {
                continue;
            };
            match kind.names().and_then(|(field, ..)| block.get(field)) {
                Some(named) => {
                    let named = named
                        .as_array()
                        .cloned()
                        .unwrap_or_else(|| vec![named.clone()]);
                    let set = keys.entry(kind).or_default();
                    set.extend(named.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                None => {
                    if let Some(query) = query_of(kind, block, slug) {
                        queries.insert((kind, query));
                    }
                }
            }
        }
    }
    // An editor without the include sees the blocks as stored.
    let mut read = Read::default();
    if included || access.public_only() {
        for (kind, keys) in &keys {
            read_keys(conn, &mut read, *kind, keys, view, access, included)?;
        }
    }
    if included {
        for (kind, query) in queries {
            let items = items(conn, kind, &query, fields_of(kind, view), view, access)?;
            read.by_query.insert((kind, query), items);
        }
    }
    Ok(pages
        .iter()
        .map(|(slug, blocks)| Some(shown(&read, slug, blocks, included, access)))
        .collect())
}

/// The items of `kind` named by `keys`, 100 to a query; with `included`, as the
/// view shows them, else only their keys, to know which the reader sees.
fn read_keys(
    conn: &mut PgConnection,
    read: &mut Read,
    kind: Type,
    keys: &BTreeSet<String>,
    view: &View,
    access: Access,
    included: bool,
) -> AppResult<()> {
    let Some(key) = key_field(kind) else {
        return Ok(());
    };
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    for chunk in keys.chunks(MAX_LIST_VALUES) {
        let encoded: Vec<String> = chunk
            .iter()
            .map(|key| url::form_urlencoded::byte_serialize(key.as_bytes()).collect())
            .collect();
        let mut query = format!("{key}[in]={}", encoded.join(","));
        if kind == Type::Funders && included {
            query.push_str("&include=children");
        }
        // The key is read to find each item by, shown only if the fieldset says.
        let mut fields = if included {
            fields_of(kind, view)
        } else {
            Some(Vec::new())
        };
        let shows_key = fields.as_ref().is_none_or(|fields| fields.contains(&key));
        if let Some(fields) = fields.as_mut().filter(|_| !shows_key) {
            fields.push(key);
        }
        for mut item in items(conn, kind, &query, fields, view, access)? {
            let found = item.get(key).and_then(Value::as_str).map(str::to_owned);
            if let (Some(found), Value::Object(object)) = (found, &mut item) {
                if !shows_key {
                    object.remove(key);
                }
                read.by_key.insert((kind, found), item);
            }
        }
    }
    Ok(())
}

/// The key field of the items a block names.
fn key_field(kind: Type) -> Option<&'static str> {
    Some(match kind {
        Type::Metrics => Metrics::DESCRIPTOR.key,
        Type::Funders => Funders::DESCRIPTOR.key,
        Type::Decisions => Decisions::DESCRIPTOR.key,
        Type::Contact => Contacts::DESCRIPTOR.key,
        Type::Markdown | Type::Pages => return None,
    })
}

/// The fields the view gives the items of `kind` (`fields[blocks.metrics]`), if
/// it does.
fn fields_of(kind: Type, view: &View) -> Option<Vec<&'static str>> {
    let nested = format!("blocks.{}", kind.name());
    view.nested
        .iter()
        .find(|(name, _)| *name == nested)
        .map(|(_, fields)| fields.clone())
}

/// Items of `kind`'s collection that `query` selects, with `fields`, in the
/// view's locale.
fn items(
    conn: &mut PgConnection,
    kind: Type,
    query: &str,
    fields: Option<Vec<&'static str>>,
    view: &View,
    access: Access,
) -> AppResult<Vec<Value>> {
    let query = format!("per_page=100&{query}");
    match kind {
        Type::Metrics => read::select::<Metrics>(conn, &query, fields, view, access),
        Type::Funders => read::select::<Funders>(conn, &query, fields, view, access),
        Type::Decisions => read::select::<Decisions>(conn, &query, fields, view, access),
        Type::Contact => read::select::<Contacts>(conn, &query, fields, view, access),
        Type::Pages => read::select::<Pages>(conn, &query, fields, view, access),
        Type::Markdown => Ok(Vec::new()),
    }
}

/// One page's blocks, as the reader sees them.
fn shown(read: &Read, slug: &str, blocks: &Value, included: bool, access: Access) -> Value {
    let mut shown = Vec::new();
    for block in blocks.as_array().into_iter().flatten() {
        let (Some(kind), Value::Object(mut object)) = (Type::of(block), block.clone()) else {
            continue;
        };
        let field = kind.names().map(|(field, ..)| field);
        let items: Vec<Value> = match field.and_then(|field| object.get(field).cloned()) {
            Some(named) => {
                let listed = named.is_array();
                let keys: Vec<Value> = named.as_array().cloned().unwrap_or_else(|| vec![named]);
                let seen: Vec<(Value, Option<&Value>)> = keys
                    .into_iter()
                    .map(|key| {
                        let item = key
                            .as_str()
                            .and_then(|key| read.by_key.get(&(kind, key.to_owned())));
                        (key, item)
                    })
                    .filter(|(_, item)| !access.public_only() || item.is_some())
                    .collect();
                if seen.is_empty() {
                    // It names only what the reader may not see: not shown.
                    continue;
                }
                if let Some(field) = field {
                    let keys: Vec<Value> = seen.iter().map(|(key, _)| key.clone()).collect();
                    let value = if listed {
                        Value::Array(keys)
                    } else {
                        keys.into_iter().next().unwrap_or(Value::Null)
                    };
                    object.insert(field.to_owned(), value);
                }
                seen.into_iter()
                    .filter_map(|(_, item)| item.cloned())
                    .collect()
            }
            None => query_of(kind, block, slug)
                .and_then(|query| read.by_query.get(&(kind, query)).cloned())
                .unwrap_or_default(),
        };
        if included && kind != Type::Markdown {
            object.insert("items".to_owned(), Value::Array(items));
        }
        shown.push(Value::Object(object));
    }
    Value::Array(shown)
}
