//! A translation's fields: each checked as a write checks it, and the HTML a
//! translated Markdown field renders to (a page's `body_html`), derived from it.

use serde_json::{Map, Value, json};

use crate::content::markdown;
use crate::engine::Descriptor;
use crate::platform::error::{FieldError, codes};

/// The translated fields of a body, each checked; in a merge patch, null drops one.
pub fn check_fields(
    kind: &Descriptor,
    given: Map<String, Value>,
    merge: bool,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    let mut fields = Map::new();
    for (name, value) in given {
        let pointer = format!("/fields/{name}");
        let Some(field) = kind.spec.field(&name) else {
            errors.push(FieldError::coded(
                codes::UNKNOWN_FIELD,
                pointer,
                format!("is not a field of a {}", kind.name),
            ));
            continue;
        };
        let Some(max) = field.translatable else {
            errors.push(FieldError::new(
                pointer,
                "is the same in every locale: change it on the item",
            ));
            continue;
        };
        if field.translated_in.is_some() {
            if let Some(texts) = checked_list(&pointer, value, max, merge, errors) {
                fields.insert(name, texts);
            }
            continue;
        }
        match value {
            Value::Null if merge => {
                fields.insert(name, Value::Null);
            }
            Value::Null => {}
            Value::String(text) => {
                let chars = text.chars().count();
                if chars > max {
                    errors.push(FieldError::new(
                        pointer,
                        format!("must be at most {max} characters (it has {chars})"),
                    ));
                } else if kind.spec.field(&format!("{name}_html")).is_some()
                    && let Err(detail) = markdown::render(&text)
                {
                    errors.push(FieldError::new(pointer, detail));
                } else {
                    fields.insert(name, Value::String(text));
                }
            }
            _ => errors.push(FieldError::new(pointer, "must be text")),
        }
    }
    fields
}

/// At most this many texts in a list translated in place (a page's blocks).
const MAX_TEXTS: usize = 50;

/// The texts of a list translated in place (`Field::translated_in`): each a
/// Markdown text of at most `max` characters, or null (not translated); `None`
/// when there is nothing to keep.
fn checked_list(
    pointer: &str,
    value: Value,
    max: usize,
    merge: bool,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let texts = match value {
        Value::Null if merge => return Some(Value::Null),
        Value::Null => return None,
        Value::Array(texts) if texts.len() <= MAX_TEXTS => texts,
        _ => {
            errors.push(FieldError::new(
                pointer,
                format!("must be a list of at most {MAX_TEXTS} texts, one per Markdown block, in order (null for one not translated)"),
            ));
            return None;
        }
    };
    let before = errors.len();
    for (n, text) in texts.iter().enumerate() {
        let at = format!("{pointer}/{n}");
        match text {
            Value::Null => {}
            Value::String(text) if text.chars().count() > max => {
                errors.push(FieldError::new(
                    at,
                    format!("must be at most {max} characters"),
                ));
            }
            Value::String(text) => {
                if let Err(detail) = markdown::render(text) {
                    errors.push(FieldError::new(at, detail));
                }
            }
            _ => errors.push(FieldError::new(at, "must be text or null")),
        }
    }
    (errors.len() == before).then_some(Value::Array(texts))
}

/// The fields with the HTML of each Markdown field rendered beside it
/// (`body_html`, and `blocks_html` for a list translated in place), and none left
/// of a field no longer there.
pub fn with_html(kind: &Descriptor, mut fields: Map<String, Value>) -> Map<String, Value> {
    for field in kind.spec.translatable() {
        let html = format!("{}_html", field.name);
        if field.translated_in.is_some() {
            let rendered = fields
                .get(field.name)
                .and_then(Value::as_array)
                .map(|texts| {
                    let html = texts.iter().map(|text| {
                        text.as_str()
                            .and_then(|text| markdown::render(text).ok())
                            .map_or(Value::Null, |rendered| json!(rendered.html))
                    });
                    Value::Array(html.collect())
                });
            match rendered {
                Some(rendered) => fields.insert(html, rendered),
                None => fields.remove(&html),
            };
            continue;
        }
        if kind.spec.field(&html).is_none() {
            continue;
        }
        let rendered = fields.get(field.name).and_then(Value::as_str).map(|text| {
            markdown::render(text).map_or(Value::Null, |rendered| json!(rendered.html))
        });
        match rendered {
            Some(rendered) => fields.insert(html, rendered),
            None => fields.remove(&html),
        };
    }
    fields
}

/// The fields without what `with_html` derives.
pub fn without_html(kind: &Descriptor, mut fields: Map<String, Value>) -> Map<String, Value> {
    for field in kind.spec.translatable() {
        let html = format!("{}_html", field.name);
        if kind.spec.field(&html).is_some() || field.translated_in.is_some() {
            fields.remove(&html);
        }
    }
    fields
}
