//! Items in the locale a reader asks for: each translatable field resolved along
//! the locale's fallback chain on its own, an empty string counting as missing,
//! and what was served from another locale said in the item's `meta`.
//!
//! Translations are rows of `translations` (kind, item id, locale, the translated
//! fields); the default locale's fields are the item's own. The translations of a
//! page of items are those the instance keeps (`translated`), and one indexed
//! query for what it does not keep yet, whatever the page's size.

use std::collections::HashSet;

use actix_web::HttpRequest;
use actix_web::http::header;
use diesel::PgConnection;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::Descriptor;
use super::translated::{self, ByItem, Token};
use crate::platform::error::{AppError, AppResult};
use crate::platform::locale::{Locales, Requested};
use crate::platform::query::{Field, ListQuery, ListSpec, Localised, View};
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

/// The `Content-Language` of an answer in `view`'s locale, if it has one.
pub fn content_language(view: &View) -> Vec<(header::HeaderName, String)> {
    view.locale
        .iter()
        .map(|requested| (header::CONTENT_LANGUAGE, requested.locale.tag.clone()))
        .collect()
}

/// Shows `values` (items of `kind`, and the items of the same kind embedded in
/// them) in the view's locale: each translatable field from the first locale of
/// the chain that has it, not empty; null if none has. With `named` (the request
/// named a locale), each item gets `meta`: `{"locale": ..., "fallbacks": {field:
/// locale served}}`.
/// `token` is the translations token the items' own statement saw, if it read it:
/// the translations kept under it serve (`translated::of_items`).
pub fn overlay(
    conn: &mut PgConnection,
    kind: &'static str,
    spec: &ListSpec,
    values: &mut [Value],
    view: &View,
    access: Access,
    token: Option<Token>,
) -> AppResult<()> {
    let Some(requested) = &view.locale else {
        return Ok(());
    };
    if requested.locale.default && !requested.named {
        // The items as stored: nothing to resolve, nothing to say.
        return Ok(());
    }
    let default = default_of(requested);
    let chain = requested.chain();
    let others: Vec<String> = chain
        .iter()
        .filter(|tag| **tag != default)
        .map(|tag| (*tag).to_owned())
        .collect();
    let shown = Shown {
        requested,
        chain,
        default,
        fields: spec
            .translatable()
            .map(|field| (field, format!("{}_html", field.name)))
            .collect(),
        view,
    };
    // The translations of every item shown, embedded ones too, into the chain's
    // locales but the default: `None` where an item has none.
    let mut translations = ByItem::new();
    if !others.is_empty() {
        let mut ids: Vec<Uuid> = Vec::new();
        let mut seen: HashSet<Uuid> = HashSet::new();
        for value in values.iter_mut() {
            each_item(value, spec, &mut |item, _| {
                if let Some(id) = id_of(item)
                    && seen.insert(id)
                {
                    ids.push(id);
                }
            });
        }
        if !ids.is_empty() {
            translations = translated::of_items(conn, kind, &ids, &others, access, token)?;
        }
    }
    for value in values.iter_mut() {
        each_item(value, spec, &mut |item, embedded| {
            let mine = id_of(item).and_then(|id| translations.get(&id));
            // Where each locale of the chain has its fields: the item's own for the
            // default, its translation's (if any) for the others.
            let sources: Vec<(&str, Option<&Map<String, Value>>)> = shown
                .chain
                .iter()
                .map(|tag| {
                    let fields = others
                        .iter()
                        .position(|other| other == tag)
                        .and_then(|at| mine?.get(at)?.as_deref())
                        .map(|translation| &translation.fields);
                    (*tag, fields)
                })
                .collect();
            shown.show(item, embedded, &sources);
        });
    }
    Ok(())
}

/// What an overlay shows every item with: the locale asked for, its chain, the
/// default locale (the item's own fields), and the kind's translatable fields,
/// each with the name of its rendered form (`{field}_html`).
struct Shown<'a> {
    requested: &'a Requested,
    chain: Vec<&'a str>,
    default: &'a str,
    fields: Vec<(&'static Field, String)>,
    view: &'a View,
}

/// The default locale: the last of every chain.
pub(super) fn default_of(requested: &Requested) -> &str {
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

impl Shown<'_> {
    /// One item in the locale: its translatable fields resolved, and `meta`. An
    /// embedded item has every field resolved: its own fieldset
    /// (`fields[children]`) trims it afterwards. `sources` are the chain's
    /// locales, each with where its fields are: its translation's, if the item
    /// has one, and none for the default (the item's own).
    fn show<'c>(
        &'c self,
        item: &mut Value,
        embedded: bool,
        sources: &[(&'c str, Option<&Map<String, Value>>)],
    ) {
        let default = self.default;
        let requested = self.requested.locale.tag.as_str();
        let Value::Object(object) = item else { return };
        // The locale each field was served from, by the field's place in `fields`
        // (for a list translated in place, the locale it fell back to, if any).
        let mut served: Vec<Option<&str>> = vec![None; self.fields.len()];
        for (index, (own, rendered)) in self.slots(object).into_iter().enumerate() {
            let (field, html) = &self.fields[index];
            // What the answer does not show (`fields`) says nothing in `meta`
            // either; a rendered field (`body_html`) speaks for its source.
            let shown = embedded
                || self.view.shows(field.name)
                || (rendered.is_some() && self.view.shows(html));
            let Some(own) = own.filter(|_| shown) else {
                continue;
            };
            served[index] = match field.translated_in {
                Some(key) => {
                    super::in_place::show(own, field.name, key, sources, default, requested)
                }
                None => served_by(own, rendered, field.name, html, sources, default),
            };
        }
        let mut fallbacks = Map::new();
        for (index, (field, _)) in self.fields.iter().enumerate() {
            if let Some(tag) = served[index].filter(|tag| *tag != requested) {
                fallbacks.insert(field.name.to_owned(), Value::String(tag.to_owned()));
            }
        }
        if self.requested.named {
            let mut meta = Map::with_capacity(2);
            meta.insert("locale".to_owned(), Value::String(requested.to_owned()));
            meta.insert("fallbacks".to_owned(), Value::Object(fallbacks));
            object.insert("meta".to_owned(), Value::Object(meta));
        }
    }

    /// Each translatable field's value in `object` and its rendered form's, in
    /// the order of `fields`, found in one pass over the object rather than
    /// looked up by name one by one (a lookup hashes the name).
    fn slots<'o>(&self, object: &'o mut Map<String, Value>) -> Vec<Slot<'o>> {
        let mut slots: Vec<Slot<'o>> = self.fields.iter().map(|_| (None, None)).collect();
        for (key, value) in object.iter_mut() {
            for (slot, (field, html)) in slots.iter_mut().zip(&self.fields) {
                if key == field.name {
                    slot.0 = Some(value);
                    break;
                }
                if key == html {
                    slot.1 = Some(value);
                    break;
                }
            }
        }
        slots
    }
}

/// A translatable field's value in an item, and its rendered form's, where the
/// item has them.
type Slot<'o> = (Option<&'o mut Value>, Option<&'o mut Value>);

/// Resolves a text field along the chain (`sources`: each locale with its
/// translated fields, none for the default) in place: `own` (and its rendered
/// form, `rendered`) become the value the first locale that has one serves, or
/// null if none does. Says which locale served it.
fn served_by<'c>(
    own: &mut Value,
    rendered: Option<&mut Value>,
    field: &str,
    html: &str,
    sources: &[(&'c str, Option<&Map<String, Value>>)],
    default: &str,
) -> Option<&'c str> {
    for (tag, fields) in sources {
        if *tag == default {
            // The item's own value; a list may have read only its rendered form
            // (`fields=body_html` leaves `body` unread).
            if present(own) || rendered.as_deref().is_some_and(present) {
                return Some(tag);
            }
            continue;
        }
        let Some(fields) = fields else { continue };
        if let Some(value) = fields.get(field).filter(|value| present(value)) {
            *own = value.clone();
            if let Some(rendered) = rendered {
                *rendered = fields.get(html).cloned().unwrap_or(Value::Null);
            }
            return Some(tag);
        }
    }
    *own = Value::Null;
    if let Some(rendered) = rendered {
        *rendered = Value::Null;
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

/// The item, and each item of the same kind embedded in it (alone or in an
/// array: a page's children, a funder's parent, a decision's line), known by the
/// kind's unique column.
/// `visit` is told whether the item is embedded in another.
fn each_item(value: &mut Value, spec: &ListSpec, visit: &mut dyn FnMut(&mut Value, bool)) {
    let same_kind = |value: &Value| value.get(spec.unique_column).is_some();
    super::present::each_of_kind(value, &same_kind, visit);
}
