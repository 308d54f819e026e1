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
use serde_json::{Map, Value};

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
fn query_of(kind: Type, block: &Value) -> Option<String> {
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
        Type::Pages | Type::Markdown => None,
    }
}

/// The items read for the blocks: by key, by query, and the child pages by their
/// parent's slug.
#[derive(Default)]
struct Read {
    by_key: HashMap<(Type, String), Value>,
    by_query: HashMap<(Type, String), Vec<Value>>,
    children: HashMap<String, Vec<Value>>,
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
    // The pages whose child pages a block shows.
    let mut parents: BTreeSet<String> = BTreeSet::new();
    for (slug, blocks) in pages {
        for block in blocks.as_array().into_iter().flatten() {
            let Some(kind) = Type::of(block) else {
                continue;
            };
            if kind == Type::Pages {
                parents.insert((*slug).to_owned());
            }
            match named_by(kind, block) {
                Some(named) => {
                    let named = named
                        .as_array()
                        .cloned()
                        .unwrap_or_else(|| vec![named.clone()]);
                    let set = keys.entry(kind).or_default();
                    set.extend(named.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                None => {
                    if let Some(query) = query_of(kind, block) {
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
        let fields = fields_of(Type::Pages, view);
        read.children = grouped_by(
            conn,
            Type::Pages,
            "parent",
            &parents,
            fields,
            false,
            view,
            access,
        )?;
    }
    Ok(pages
        .iter()
        .map(|(slug, blocks)| Some(shown(&read, slug, blocks, included, access)))
        .collect())
}

/// The items of `kind` named by `keys`; with `included`, as the view shows them,
/// else only their keys, to know which the reader sees.
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
    let fields = if included {
        fields_of(kind, view)
    } else {
        Some(Vec::new())
    };
    let children = included && kind == Type::Funders;
    let found = grouped_by(conn, kind, key, keys, fields, children, view, access)?;
    for (value, mut items) in found {
        if let Some(item) = items.pop() {
            read.by_key.insert((kind, value), item);
        }
    }
    Ok(())
}

/// The items of `kind` whose `field` is one of `values`, 100 values to a query,
/// grouped by it in the collection's order, with `fields` (the field itself is
/// read to group by, and shown only if the fieldset says); with `children`, each
/// with its children (a funder's agencies).
#[allow(clippy::too_many_arguments)]
fn grouped_by(
    conn: &mut PgConnection,
    kind: Type,
    field: &'static str,
    values: &BTreeSet<String>,
    mut fields: Option<Vec<&'static str>>,
    children: bool,
    view: &View,
    access: Access,
) -> AppResult<HashMap<String, Vec<Value>>> {
    let shows_field = fields.as_ref().is_none_or(|fields| fields.contains(&field));
    if let Some(fields) = fields.as_mut().filter(|_| !shows_field) {
        fields.push(field);
    }
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let mut grouped: HashMap<String, Vec<Value>> = HashMap::new();
    for chunk in values.chunks(MAX_LIST_VALUES) {
        let encoded: Vec<String> = chunk
            .iter()
            .map(|value| url::form_urlencoded::byte_serialize(value.as_bytes()).collect())
            .collect();
        let mut query = format!("{field}[in]={}", encoded.join(","));
        if children {
            query.push_str("&include=children");
        }
        for mut item in items(conn, kind, &query, fields.clone(), view, access)? {
            let found = item.get(field).and_then(Value::as_str).map(str::to_owned);
            if let (Some(found), Value::Object(object)) = (found, &mut item) {
                if !shows_field {
                    object.remove(field);
                }
                grouped.entry(found).or_default().push(item);
            }
        }
    }
    Ok(grouped)
}

/// What a block names by key, if it names any: its keys, or its one key.
fn named_by(kind: Type, block: &Value) -> Option<&Value> {
    kind.names()
        .and_then(|(field, ..)| block.get(field))
        .filter(|named| !named.is_null())
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
        let (Some(kind), Value::Object(stored)) = (Type::of(block), block) else {
            continue;
        };
        // Only what a block of its type has (a row written by psql may hold more).
        let mut object: Map<String, Value> = stored
            .iter()
            .filter(|(name, value)| kind.keeps(name) && !value.is_null())
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let field = kind.names().map(|(field, ..)| field);
        let items: Vec<Value> = match named_by(kind, block).cloned() {
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
            None if kind == Type::Pages => read.children.get(slug).cloned().unwrap_or_default(),
            None => query_of(kind, block)
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
