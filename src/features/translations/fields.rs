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

/// The fields with the HTML of each Markdown field rendered beside it
/// (`body_html`), and none left of a field no longer there.
pub fn with_html(kind: &Descriptor, mut fields: Map<String, Value>) -> Map<String, Value> {
    for field in kind.spec.translatable() {
        let html = format!("{}_html", field.name);
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
        if kind.spec.field(&html).is_some() {
            fields.remove(&html);
        }
    }
    fields
}
