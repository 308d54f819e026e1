//! Items in the locale a reader asks for: each translatable field resolved along
//! the locale's fallback chain on its own, an empty string counting as missing,
//! and what was served from another locale said in the item's `meta`.
//!
//! Translations are rows of `translations` (kind, item id, locale, the translated
//! fields); the default locale's fields are the item's own. The translations of a
//! page of items are one indexed query, whatever its size.

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::http::header;
use diesel::PgConnection;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Descriptor;
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
/// bound, not written in); a list's has the subquery written in (`column`).
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

    /// The column as SQL over the rows of `table`, for a list: a list's query is
    /// prepared for each read anyway (its order is SQL text), and a subquery costs
    /// the database less per row than a call of the function. Tags are canonical
    /// tags of enabled locales and the kind is the descriptor's: written into the
    /// SQL as they are, anything but letters, digits and hyphens left out.
    pub fn column(&self, table: &str) -> String {
        let tag = |tag: &String| -> String {
            tag.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        };
        let locales: Vec<String> = self
            .locales
            .iter()
            .map(|locale| format!("'{}'", tag(locale)))
            .collect();
        let published = if self.published_only {
            " AND tr.status = 'published'"
        } else {
            ""
        };
        format!(
            "(SELECT jsonb_object_agg(tr.locale, tr.fields) FROM translations tr \
              WHERE tr.kind = '{kind}' AND tr.item_id = {table}.id \
                AND tr.locale IN ({locales}){published})",
            kind = self.kind,
            locales = locales.join(", "),
        )
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
    preloaded: &HashMap<Uuid, Value>,
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
    let mut translations: HashMap<(Uuid, String), Map<String, Value>> = HashMap::new();
    if !others.is_empty() {
        let mut ids: Vec<Uuid> = Vec::new();
        each_item(values, spec, &mut |item| {
            let Some(id) = id_of(item) else { return };
            let Some(found) = preloaded.get(&id) else {
                ids.push(id);
                return;
            };
            for (locale, fields) in found.as_object().into_iter().flatten() {
                if let Value::Object(fields) = fields {
                    translations.insert((id, locale.clone()), fields.clone());
                }
            }
        });
        if !ids.is_empty() {
            translations.extend(load(conn, kind, &ids, &others, access)?);
        }
    }
    each_item(values, spec, &mut |item| {
        show(item, spec, view, &chain, &translations);
    });
    Ok(())
}

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
) -> AppResult<HashMap<(Uuid, String), Map<String, Value>>> {
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
        .filter_map(|row| match row.fields {
            Value::Object(fields) => Some(((row.item_id, row.locale), fields)),
            _ => None,
        })
        .collect())
}

/// One item in the locale: its translatable fields resolved, and `meta`.
fn show(
    item: &mut Value,
    spec: &ListSpec,
    view: &View,
    chain: &[&str],
    translations: &HashMap<(Uuid, String), Map<String, Value>>,
) {
    let Some(requested) = &view.locale else {
        return;
    };
    let id = id_of(item);
    let default = default_of(requested).to_owned();
    let Value::Object(object) = item else { return };
    let mut fallbacks = Map::new();
    for field in spec.translatable() {
        // What the answer does not show (`fields`) says nothing in `meta` either; a
        // rendered field (`body_html`) speaks for its source.
        let html = format!("{}_html", field.name);
        let shown = view.shows(field.name) || (object.contains_key(&html) && view.shows(&html));
        if !object.contains_key(field.name) || !shown {
            continue;
        }
        let mut served = None;
        for tag in chain {
            let found = if *tag == default {
                // The item's own value; a list may have read only its rendered form
                // (`fields=body_html` leaves `body` unread).
                let own = object.get(field.name).cloned().unwrap_or(Value::Null);
                let rendered = object.get(&html).cloned();
                (present(&own) || rendered.as_ref().is_some_and(present)).then_some((own, rendered))
            } else {
                id.and_then(|id| translations.get(&(id, (*tag).to_owned())))
                    .and_then(|fields| {
                        fields
                            .get(field.name)
                            .filter(|value| present(value))
                            .map(|value| (value.clone(), fields.get(&html).cloned()))
                    })
            };
            if let Some(found) = found {
                served = Some((*tag, found));
                break;
            }
        }
        match served {
            Some((tag, (value, rendered))) => {
                object.insert(field.name.to_owned(), value);
                if object.contains_key(&html) {
                    object.insert(html, rendered.unwrap_or(Value::Null));
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
fn each_item(values: &mut [Value], spec: &ListSpec, visit: &mut dyn FnMut(&mut Value)) {
    let same_kind = |value: &Value| value.get(spec.unique_column).is_some();
    super::present::each_embedded(values, &same_kind, visit);
}
