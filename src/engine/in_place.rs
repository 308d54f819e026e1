//! A list of objects translated in place (a page's blocks, `Field::translated_in`):
//! in a locale, each object that has the field's text key is shown with its text
//! resolved along the chain on its own, and the HTML the translation rendered for
//! it. A translation gives the texts as a list, the n-th for the n-th such object,
//! and their HTML as `{field}_html` (derived when it is written).

use serde_json::{Map, Value, json};

/// The key each translated object shows its rendered text under.
const HTML: &str = "html";

/// A text that counts as there: a non-empty string.
fn text(value: &Value) -> Option<&str> {
    value.as_str().filter(|text| !text.is_empty())
}

/// Shows `list`, the value of the list `field` of an item, in the locale:
/// `sources` are the locales looked in, each with the item's translation into it
/// if it has one, `default` the item's own. A text no locale serves is null, with its HTML.
/// Says the first locale other than `requested` that served a text, if one did
/// (the item's `meta.fallbacks` names it).
pub fn show<'c>(
    list: &mut Value,
    field: &str,
    key: &str,
    sources: &[(&'c str, Option<&Map<String, Value>>)],
    default: &str,
    requested: &str,
) -> Option<&'c str> {
    let Value::Array(list) = list else {
        return None;
    };
    let mut fell_back: Option<&'c str> = None;
    let translated = list
        .iter_mut()
        .filter_map(|item| item.as_object_mut())
        .filter(|item| item.contains_key(key));
    // The name of the texts' HTML in a translation, made once an object needs it.
    let mut rendered: Option<String> = None;
    for (n, item) in translated.enumerate() {
        let mut served: Option<(&'c str, Option<(Value, Value)>)> = None;
        for (tag, fields) in sources {
            if *tag == default {
                if item.get(key).and_then(text).is_some() {
                    served = Some((*tag, None));
                    break;
                }
                continue;
            }
            let found = fields.and_then(|fields| {
                let given = fields.get(field)?.get(n).and_then(text)?;
                let rendered = rendered.get_or_insert_with(|| format!("{field}_html"));
                let html = fields
                    .get(rendered.as_str())
                    .and_then(|all| all.get(n))
                    .cloned();
                Some((json!(given), html.unwrap_or(Value::Null)))
            });
            if found.is_some() {
                served = Some((*tag, found));
                break;
            }
        }
        match served {
            Some((tag, found)) => {
                if let Some((given, html)) = found {
                    item.insert(key.to_owned(), given);
                    item.insert(HTML.to_owned(), html);
                }
                if tag != requested && fell_back.is_none() {
                    fell_back = Some(tag);
                }
            }
            None => {
                item.insert(key.to_owned(), Value::Null);
                item.insert(HTML.to_owned(), Value::Null);
            }
        }
    }
    fell_back
}
