//! Rows as the API shows them to a caller: `Resource::represent`, then every
//! reference to an item the caller may not see made null. Every answer that shows
//! items goes through here, and the change log's entries too (`hide_references`).

use std::collections::HashMap;

use diesel::PgConnection;
use serde_json::Value;

use super::Resource;
use super::translated::Token;
use crate::platform::error::AppResult;
use crate::platform::query::{ListSpec, View};
use crate::platform::visibility::Access;

/// The JSON of rows as a caller with `access` may see them: `Resource::represent`,
/// then every reference to an item the caller may not see (a draft parent) made
/// null, then in the view's locale (`localise`). Every answer that shows items
/// goes through here.
pub fn present<R: Resource>(
    conn: &mut PgConnection,
    rows: Vec<R::Row>,
    view: &View,
    access: Access,
) -> AppResult<Vec<Value>> {
    present_translated::<R>(conn, rows, None, view, access)
}

/// `present`, for rows whose statement read the translations token (`token`:
/// `Resource::find_translated`), so that the translations kept under it serve.
pub fn present_translated<R: Resource>(
    conn: &mut PgConnection,
    rows: Vec<R::Row>,
    token: Option<Token>,
    view: &View,
    access: Access,
) -> AppResult<Vec<Value>> {
    let mut values = R::represent(conn, rows, view, access)?;
    if access.public_only() {
        hide_references(conn, R::DESCRIPTOR.spec, &mut values)?;
    }
    super::localise::overlay(
        conn,
        R::DESCRIPTOR.kind,
        R::DESCRIPTOR.spec,
        &mut values,
        view,
        access,
        token,
    )?;
    for value in &mut values {
        super::paths::add_links(R::DESCRIPTOR, value);
    }
    Ok(values)
}

/// Values grouped under their keys, each group in the order given: what `represent`
/// embeds (a page's children, a metric's figures) is loaded for all rows at once,
/// then handed to each row by its key.
pub fn grouped<T>(pairs: impl IntoIterator<Item = (String, T)>) -> HashMap<String, Vec<T>> {
    let mut groups: HashMap<String, Vec<T>> = HashMap::new();
    for (key, value) in pairs {
        groups.entry(key).or_default().push(value);
    }
    groups
}

/// What `include=<name>` embeds in items (a page's children, a decision's line):
/// loaded for all rows at once, and only when the view includes it, then handed to
/// each row by its key.
pub struct Embedded<T> {
    included: bool,
    groups: HashMap<String, Vec<T>>,
}

impl<T> Embedded<T> {
    /// The embedding `name` of `view`'s rows: `load` gives each embedded value
    /// with the key of the row it belongs to, in order, and runs only with the
    /// include.
    pub fn load<I: IntoIterator<Item = (String, T)>>(
        view: &View,
        name: &str,
        load: impl FnOnce() -> AppResult<I>,
    ) -> AppResult<Self> {
        let included = view.includes(name);
        let groups = if included {
            grouped(load()?)
        } else {
            HashMap::new()
        };
        Ok(Self { included, groups })
    }

    /// What the row `key` embeds: `None` without the include (the item leaves the
    /// field out), else its list, empty if it has nothing.
    pub fn take(&mut self, key: &str) -> Option<Vec<T>> {
        self.included
            .then(|| self.groups.remove(key).unwrap_or_default())
    }
}

/// Each of `values`, and each object embedded in one of them (alone or in an array)
/// that `keep` takes, embedded ones first.
pub fn each_embedded(
    values: &mut [Value],
    keep: &dyn Fn(&Value) -> bool,
    visit: &mut dyn FnMut(&mut Value),
) {
    for value in values {
        if let Value::Object(object) = value {
            for embedded in object.values_mut() {
                match embedded {
                    Value::Array(items) => items
                        .iter_mut()
                        .filter(|item| keep(item))
                        .for_each(&mut *visit),
                    Value::Object(_) if keep(embedded) => visit(embedded),
                    _ => {}
                }
            }
        }
        visit(value);
    }
}

/// Makes null each reference of `spec` that names an item anonymous readers do not
/// see, in the items and in the items embedded in them (`children`, `line`,
/// `parent_funder`: whatever key an embedding is shown under). One query per
/// reference field.
pub fn hide_references(
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

    // Each item, and every object embedded in it: the embeddings of a resource are
    // items of its own kind, or of a kind whose fields do not share the names of
    // its references.
    let each_item = |values: &mut [Value], visit: &mut dyn FnMut(&mut Value)| {
        each_embedded(values, &Value::is_object, visit);
    };

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
            "SELECT v.{key}::text AS key FROM ({visible}) v WHERE v.{key}::text = ANY($1)",
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

/// How deep items of a kind embed items of theirs (`include=children.children.children`).
pub const MAX_DEPTH: usize = 3;

/// The item, after the items of its kind it embeds (`same_kind`), as deep as they
/// go; `visit` is told whether the item is embedded in another.
pub fn each_of_kind(
    value: &mut Value,
    same_kind: &dyn Fn(&Value) -> bool,
    visit: &mut dyn FnMut(&mut Value, bool),
) {
    each_below(value, same_kind, visit, MAX_DEPTH);
}

fn each_below(
    value: &mut Value,
    same_kind: &dyn Fn(&Value) -> bool,
    visit: &mut dyn FnMut(&mut Value, bool),
    depth: usize,
) {
    if depth > 0
        && let Value::Object(object) = value
    {
        for embedded in object.values_mut() {
            match embedded {
                Value::Array(items) => {
                    for item in items.iter_mut().filter(|item| same_kind(item)) {
                        each_below(item, same_kind, visit, depth - 1);
                    }
                }
                Value::Object(_) if same_kind(embedded) => {
                    each_below(embedded, same_kind, visit, depth - 1);
                }
                _ => {}
            }
        }
    }
    visit(value, depth < MAX_DEPTH);
}
