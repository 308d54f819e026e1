//! Items in the locale a reader asks for: each translatable field resolved along
//! the locale's fallback chain on its own, an empty string counting as missing,
//! and what was served from another locale said in the item's `meta`.
//!
//! Translations are rows of `translations` (kind, item id, locale, the translated
//! fields); the default locale's fields are the item's own. The translations of a
//! page of items are one indexed query, whatever its size.

use std::collections::{HashMap, HashSet};

use actix_web::HttpRequest;
use actix_web::http::header;
use diesel::PgConnection;
use diesel::sql_types::{Jsonb, Nullable};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Descriptor;
use crate::platform::db::prepared::Known;
use crate::platform::error::{AppError, AppResult};
use crate::platform::locale::{Locales, Requested};
use crate::platform::query::{ListQuery, ListSpec, Localised, View};
use crate::platform::visibility::Access;

/// Resolves the locale of `view` for a kind with `spec`, from `?locale=` and the
/// request's `Accept-Language`: a 400 that lists the enabled locales for one that
/// is not. A kind without translatable fields has no locale.
pub fn resolve(req: &HttpRequest, spec: &ListSpec, view: &mut View) -> AppResult<()> {
    if spec.translatable().next().is_none() {
        return Ok(());
    }
    let locales = Locales::of(req);
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let locale = locales
        .negotiate(view.asked_locale.as_deref(), accept)
        .map_err(|detail| AppError::bad_request("locale", detail))?;
    view.locale = Some(Requested {
        locale: locale.clone(),
        fallback: view.fallback.unwrap_or(true),
        named: view.asked_locale.is_some() || accept.is_some(),
    });
    Ok(())
}

/// Where a list read in a locale other than the default finds its items'
/// translations, for sorting and filtering by what the reader sees.
pub fn for_list(kind: &Descriptor, query: &ListQuery, access: Access) -> Option<Localised> {
    let requested = query.view.locale.as_ref()?;
    if requested.locale.default {
        return None;
    }
    let mut localised = Localised {
        kind: kind.kind,
        table: kind.table,
        chain: requested
            .chain()
            .iter()
            .map(|tag| (*tag).to_owned())
            .collect(),
        default: default_of(requested).to_owned(),
        published_only: access.public_only(),
        search: None,
    };
    // The text `q` searches, only for a list that searches.
    localised.search = kind
        .search
        .as_ref()
        .filter(|_| query.q.is_some())
        .map(|search| localised.document(kind.spec, search.fields, access));
    Some(localised)
}

diesel::define_sql_function! {
    /// The translations of an item into `locales` (`{locale: fields}`), published
    /// ones only if asked: a function of the database (migration 000022).
    fn seesac_translations_of(
        kind: diesel::sql_types::Text,
        item: diesel::sql_types::Uuid,
        locales: diesel::sql_types::Array<diesel::sql_types::Text>,
        published_only: diesel::sql_types::Bool,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Jsonb>;
}

/// A read in a locale other than the default that reads its items' translations
/// in the items' own query: one column, the row's translations into the chain's
/// locales (`{locale: fields}`), by the unique index. It saves the round trip that
/// `overlay` would otherwise make. An item's read calls `seesac_translations_of`,
/// so that its query stays one the connection keeps prepared (the locales are
/// bound, not written in); a list's has the subquery, its values bound (`column`).
#[derive(Debug, Clone)]
pub struct Translated {
    pub kind: &'static str,
    pub locales: Vec<String>,
    pub published_only: bool,
}

impl Translated {
    /// For a read of `kind` in `view`'s locale by a caller with `access`: none in
    /// the default locale, nor for a kind without translatable fields.
    pub fn of(kind: &Descriptor, view: &View, access: Access) -> Option<Self> {
        let requested = view.locale.as_ref()?;
        let default = default_of(requested);
        let locales: Vec<String> = requested
            .chain()
            .iter()
            .filter(|tag| **tag != default)
            .map(|tag| (*tag).to_owned())
            .collect();
        (!locales.is_empty() && kind.spec.translatable().next().is_some()).then(|| Self {
            kind: kind.kind,
            locales,
            published_only: access.public_only(),
        })
    }

    /// The column over the rows of `table`, for a list: a subquery costs the
    /// database less per row than a call of the function. The kind, the locales and
    /// whether only published translations count are bound, so that a list's
    /// statement is the same in every locale, and one the connection may keep
    /// prepared (`Known`).
    pub fn column(&self, table: &str) -> Known<Nullable<Jsonb>> {
        Known::kept(
            "(SELECT jsonb_object_agg(tr.locale, tr.fields) FROM translations tr WHERE tr.kind = ",
        )
        .text(self.kind)
        .sql(format!(" AND tr.item_id = {table}.id AND tr.locale = ANY("))
        .texts(self.locales.clone())
        .sql(") AND (tr.status = 'published' OR NOT ")
        .flag(self.published_only)
        .sql("))")
    }
}

/// The `Content-Language` of an answer in `view`'s locale, if it has one.
pub fn content_language(view: &View) -> Vec<(header::HeaderName, String)> {
    view.locale
        .iter()
        .map(|requested| (header::CONTENT_LANGUAGE, requested.locale.tag.clone()))
        .collect()
}

/// One stored translation: the translated fields of an item in a locale.
#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    item_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    locale: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    fields: Value,
}

/// Shows `values` (items of `kind`, and the items of the same kind embedded in
/// them) in the view's locale: each translatable field from the first locale of
/// the chain that has it, not empty; null if none has. With `named` (the request
/// named a locale), each item gets `meta`: `{"locale": ..., "fallbacks": {field:
/// locale served}}`.
/// `preloaded` has the translations some items' own query read (`Translated`),
/// by item id; the others' are read here.
pub fn overlay(
    conn: &mut PgConnection,
    kind: &str,
    spec: &ListSpec,
    values: &mut [Value],
    view: &View,
    access: Access,
    mut preloaded: HashMap<Uuid, Value>,
) -> AppResult<()> {
    let Some(requested) = &view.locale else {
        return Ok(());
    };
    if requested.locale.default && !requested.named {
        // The items as stored: nothing to resolve, nothing to say.
        return Ok(());
    }
    let chain = requested.chain();
    let others: Vec<String> = chain
        .iter()
        .filter(|tag| **tag != default_of(requested))
        .map(|tag| (*tag).to_owned())
        .collect();
    // Each item's translations: `{locale: fields}`, by its id.
    let mut translations: ByItem = HashMap::new();
    if !others.is_empty() {
        let mut ids: Vec<Uuid> = Vec::new();
        let mut seen: HashSet<Uuid> = HashSet::new();
        each_item(values, spec, &mut |item, _| {
            let Some(id) = id_of(item) else { return };
            if !seen.insert(id) {
                return;
            }
            match preloaded.remove(&id) {
                None => ids.push(id),
                Some(Value::Object(found)) => {
                    translations.insert(id, found);
                }
                // Read with the item: it has none.
                Some(_) => {}
            }
        });
        if !ids.is_empty() {
            for (id, locale, fields) in load(conn, kind, &ids, &others, access)? {
                translations.entry(id).or_default().insert(locale, fields);
            }
        }
    }
    each_item(values, spec, &mut |item, embedded| {
        show(item, spec, view, embedded, &chain, &translations);
    });
    Ok(())
}

/// Translations by item id: `{locale: fields}`.
type ByItem = HashMap<Uuid, Map<String, Value>>;

/// A translated value, with its rendered form (`{field}_html`) if it has one.
type Served = (Value, Option<Value>);

/// The default locale: the last of every chain.
fn default_of(requested: &Requested) -> &str {
    if requested.locale.default {
        &requested.locale.tag
    } else {
        requested
            .locale
            .fallbacks
            .last()
            .map_or(requested.locale.tag.as_str(), String::as_str)
    }
}

fn id_of(item: &Value) -> Option<Uuid> {
    item.get("id")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
}

fn load(
    conn: &mut PgConnection,
    kind: &str,
    ids: &[Uuid],
    locales: &[String],
    access: Access,
) -> AppResult<Vec<(Uuid, String, Value)>> {
    use diesel::prelude::*;
    use diesel::sql_types::{Array, Text};

    let visible = if access.public_only() {
        " AND status = 'published'"
    } else {
        ""
    };
    let rows: Vec<Stored> = diesel::sql_query(format!(
        "SELECT item_id, locale, fields FROM translations \
         WHERE kind = $1 AND item_id = ANY($2) AND locale = ANY($3){visible}"
    ))
    .bind::<Text, _>(kind)
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<Array<Text>, _>(locales)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.item_id, row.locale, row.fields))
        .collect())
}

/// One item in the locale: its translatable fields resolved, and `meta`. An
/// embedded item has every field resolved: its own fieldset (`fields[children]`)
/// trims it afterwards.
fn show(
    item: &mut Value,
    spec: &ListSpec,
    view: &View,
    embedded: bool,
    chain: &[&str],
    translations: &ByItem,
) {
    let Some(requested) = &view.locale else {
        return;
    };
    let mine = id_of(item).and_then(|id| translations.get(&id));
    let default = default_of(requested).to_owned();
    let Value::Object(object) = item else { return };
    let mut fallbacks = Map::new();
    for field in spec.translatable() {
        // What the answer does not show (`fields`) says nothing in `meta` either; a
        // rendered field (`body_html`) speaks for its source.
        let html = format!("{}_html", field.name);
        let shown =
            embedded || view.shows(field.name) || (object.contains_key(&html) && view.shows(&html));
        if !object.contains_key(field.name) || !shown {
            continue;
        }
        if let Some(key) = field.translated_in {
            let requested = requested.locale.tag.as_str();
            super::in_place::show(
                object,
                field.name,
                key,
                chain,
                &default,
                requested,
                mine,
                &mut fallbacks,
            );
            continue;
        }
        let served = served_by(object, field.name, &html, chain, &default, mine);
        match served {
            Some((tag, found)) => {
                if let Some((value, rendered)) = found {
                    object.insert(field.name.to_owned(), value);
                    if object.contains_key(&html) {
                        object.insert(html, rendered.unwrap_or(Value::Null));
                    }
                }
                if tag != requested.locale.tag {
                    fallbacks.insert(field.name.to_owned(), json!(tag));
                }
            }
            None => {
                object.insert(field.name.to_owned(), Value::Null);
                if object.contains_key(&html) {
                    object.insert(html, Value::Null);
                }
            }
        }
    }
    if requested.named {
        object.insert(
            "meta".to_owned(),
            json!({"locale": requested.locale.tag, "fallbacks": fallbacks}),
        );
    }
}

/// The locale that serves a text field along `chain`, with the value (and its
/// rendered form) it serves; `None` for the item's own value, which stays where
/// it is.
fn served_by<'c>(
    object: &Map<String, Value>,
    field: &str,
    html: &str,
    chain: &[&'c str],
    default: &str,
    mine: Option<&Map<String, Value>>,
) -> Option<(&'c str, Option<Served>)> {
    for tag in chain {
        if *tag == default {
            // The item's own value; a list may have read only its rendered form
            // (`fields=body_html` leaves `body` unread).
            let own = object.get(field).is_some_and(present);
            if own || object.get(html).is_some_and(present) {
                return Some((*tag, None));
            }
            continue;
        }
        let found = mine
            .and_then(|mine| mine.get(*tag))
            .and_then(Value::as_object)
            .and_then(|fields| {
                fields
                    .get(field)
                    .filter(|value| present(value))
                    .map(|value| (value.clone(), fields.get(html).cloned()))
            });
        if found.is_some() {
            return Some((*tag, found));
        }
    }
    None
}

/// A value that counts as there: not null, not an empty string.
fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

/// Each item, and each item of the same kind embedded in it (alone or in an
/// array: a page's children, a funder's parent, a decision's line), known by the
/// kind's unique column.
/// `visit` is told whether the item is embedded in another.
fn each_item(values: &mut [Value], spec: &ListSpec, visit: &mut dyn FnMut(&mut Value, bool)) {
    let same_kind = |value: &Value| value.get(spec.unique_column).is_some();
    for value in values {
        super::present::each_of_kind(value, &same_kind, visit);
    }
}
