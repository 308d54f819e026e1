//! Read schemas of kinds with translatable fields, as reads in a locale answer
//! them.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::schemas::{first_properties, from_json, to_json};

/// A read schema of a kind with translatable `fields`: each of them (and its
/// rendered `{field}_html`) may be null, as a read in a locale without fallback
/// shows what the locale lacks; with `meta`, the item's `meta` of a read in a
/// locale is described.
pub fn localised(schema: RefOr<Schema>, fields: &[&str], meta: bool) -> RefOr<Schema> {
    let names: Vec<String> = fields
        .iter()
        .flat_map(|name| [(*name).to_owned(), format!("{name}_html")])
        .collect();
    let mut schema = to_json(schema);
    nullable_in(&mut schema, &names);
    if meta {
        let described = json!({
            "type": "object",
            "description": "With a locale named (`locale` or `Accept-Language`): the locale the \
                item is shown in, and the translatable fields shown from another locale of its \
                fallback chain, each with that locale.",
            "properties": {
                "locale": {"type": "string", "examples": ["sr-Latn"]},
                "fallbacks": {"type": "object", "additionalProperties": {"type": "string"},
                              "examples": [{"summary": "en"}]}
            }
        });
        if let Some(properties) = first_properties(&mut schema) {
            properties.insert("meta".to_owned(), described);
        }
    }
    from_json(schema)
}

fn nullable_in(schema: &mut Value, names: &[String]) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for name in names {
            if let Some(property) = properties.get_mut(name) {
                make_nullable(property);
            }
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = object.get_mut(key) {
            for part in parts {
                nullable_in(part, names);
            }
        }
    }
}

fn make_nullable(property: &mut Value) {
    let null = json!({"type": "null"});
    match property.get_mut("type") {
        Some(Value::String(kind)) if kind != "null" => {
            let kind = kind.clone();
            property["type"] = json!([kind, "null"]);
        }
        Some(Value::Array(kinds)) if !kinds.contains(&json!("null")) => kinds.push(json!("null")),
        Some(_) => {}
        None => {
            let already = property
                .get("oneOf")
                .and_then(Value::as_array)
                .is_some_and(|parts| parts.contains(&null));
            if !already {
                *property = json!({"oneOf": [null, property.clone()]});
            }
        }
    }
}
