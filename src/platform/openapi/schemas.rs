//! Schemas derived from the ones utoipa generates for a resource's body and item,
//! so that each is declared once in Rust and the document still tells the truth:
//!
//! - the body of POST marks required what validation requires; PUT's leaves the
//!   key out (the URL carries it); PATCH's requires nothing, and lets only optional
//!   fields be `null` (null clears);
//! - an item read with `fields` may lack any field: reads answer a "sparse" item
//!   whose fields are all optional, writes the complete item.
//!
//! The transformations work on the schemas' JSON, which is what they are.

use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

pub use super::params::{
    boolean_query, comma_list, header, integer_query, integer_query_up_to, parameter,
    precondition_headers, query_param, revalidation_header,
};

/// What a body schema is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyUse {
    Create,
    Replace,
    Patch,
}

impl BodyUse {
    /// The component name for a resource whose schemas are named after `base`.
    pub fn name(self, base: &str) -> String {
        match self {
            Self::Create => format!("New{base}"),
            Self::Replace => format!("{base}Replacement"),
            Self::Patch => format!("{base}Patch"),
        }
    }
}

pub fn to_json(schema: RefOr<Schema>) -> Value {
    serde_json::to_value(schema).unwrap_or(Value::Null)
}

/// The schema back from JSON; what came from a schema always goes back.
pub fn from_json(value: Value) -> RefOr<Schema> {
    serde_json::from_value(value).unwrap_or_else(|_| RefOr::T(Schema::default()))
}

/// A property schema without `null` among its types: `["string", "null"]` becomes
/// `"string"`, and `oneOf: [{"type": "null"}, X]` becomes X.
fn not_null(property: &mut Value) {
    if let Some(Value::Array(types)) = property.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types[0].clone();
            property["type"] = only;
        }
    }
    let single = match property.get("oneOf") {
        Some(Value::Array(options)) => {
            let rest: Vec<&Value> = options
                .iter()
                .filter(|option| option.get("type") != Some(&json!("null")))
                .collect();
            (rest.len() == 1).then(|| rest[0].clone())
        }
        _ => None,
    };
    if let (Some(mut single), Some(object)) = (single, property.as_object()) {
        // Keep what the property said about itself beside the options.
        if let (Some(target), Some(description)) =
            (single.as_object_mut(), object.get("description"))
        {
            target.insert("description".to_owned(), description.clone());
        }
        *property = single;
    }
}

/// Text in a body may not hold NUL: a string property with no pattern or format of
/// its own (which exclude it already) gets the pattern that says so.
fn no_nul(property: &mut Value) {
    let is_text = match property.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    if let Some(object) = property.as_object_mut()
        && is_text
        && !object.contains_key("pattern")
        && !object.contains_key("format")
        && !object.contains_key("enum")
    {
        object.insert("pattern".to_owned(), json!(crate::platform::validate::TEXT));
    }
}

/// The body schema of a resource for one use; `required` are the fields validation
/// requires on creation, `key` the field that holds the key.
pub fn body(
    schema: RefOr<Schema>,
    required: &[String],
    key: &str,
    usage: BodyUse,
) -> RefOr<Schema> {
    let mut schema = to_json(schema);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            no_nul(property);
        }
        for name in required {
            if let Some(property) = properties.get_mut(name) {
                not_null(property);
            }
        }
        if usage == BodyUse::Replace {
            properties.remove(key);
        }
    }
    let required: Vec<&String> = match usage {
        BodyUse::Create => required.iter().collect(),
        BodyUse::Replace => required.iter().filter(|name| *name != key).collect(),
        BodyUse::Patch => Vec::new(),
    };
    if let Some(object) = schema.as_object_mut() {
        object.remove("required");
        if !required.is_empty() {
            object.insert("required".to_owned(), json!(required));
        }
        match usage {
            BodyUse::Patch => {
                object.remove("example");
            }
            BodyUse::Replace => {
                if let Some(Value::Object(example)) = object.get_mut("example") {
                    example.remove(key);
                }
            }
            BodyUse::Create => {}
        }
    }
    from_json(schema)
}

/// An object schema without the property `name`.
pub fn without(schema: RefOr<Schema>, name: &str) -> RefOr<Schema> {
    let mut schema = to_json(schema);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.remove(name);
    }
    from_json(schema)
}

/// Marks every property of an object schema required: an item's fields are always
/// there, `null` where empty. Embeddings, which `include` adds, sit in the second
/// part of an item's `allOf` and stay optional (see `complete_item`).
fn require_all(schema: &mut Value) {
    let names: Vec<Value> = match schema.get("properties") {
        Some(Value::Object(properties)) => properties.keys().cloned().map(Value::from).collect(),
        _ => return,
    };
    if let Some(object) = schema.as_object_mut() {
        object.insert("required".to_owned(), Value::Array(names));
    }
}

/// An item as written and read without `fields`, with the schemas it refers to:
/// every field of its own required (embeddings apart), and the items it refers to
/// complete too.
pub fn complete_item<T: ToSchema>() -> Vec<(String, RefOr<Schema>)> {
    let mut schemas = Vec::new();
    T::schemas(&mut schemas);
    let item = T::name().into_owned();
    schemas.push((item.clone(), T::schema()));
    schemas
        .into_iter()
        .map(|(name, schema)| {
            let mut schema = to_json(schema);
            if name == item {
                with_links(&mut schema);
            }
            // An item with embeddings is `allOf` the row (by reference, made complete
            // here) and a part of its own, whose derived fields say `required` where
            // they always are and whose embeddings do not.
            if schema.get("allOf").is_none() {
                require_all(&mut schema);
            }
            (name, from_json(schema))
        })
        .collect()
}

/// Removes `required` from the item (inlining the schemas its `allOf` refers to,
/// so that they lose theirs too) and from the items it embeds, inlined.
fn loosen(schema: &mut Value, components: &Map<String, Value>) {
    loosen_own(schema, components);
    // An embedded item (a page's children, a metric's latest figure) has a
    // fieldset of its own (`fields[children]`): its fields are optional too.
    loosen_embedded_in(schema, components, 2);
}

/// Removes `required` from the schema and the parts of its `allOf`, inlined.
fn loosen_own(schema: &mut Value, components: &Map<String, Value>) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    object.remove("required");
    if let Some(Value::Array(parts)) = object.get_mut("allOf") {
        for part in parts.iter_mut() {
            if let Some(target) = target_of(part, components) {
                let description = part.get("description").cloned();
                *part = target.clone();
                if let (Some(description), Some(part)) = (description, part.as_object_mut()) {
                    part.insert("description".to_owned(), description);
                }
            }
            loosen_own(part, components);
        }
    }
}

/// The component a `$ref` schema names.
fn target_of<'c>(schema: &Value, components: &'c Map<String, Value>) -> Option<&'c Value> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.rsplit('/').next())
        .and_then(|name| components.get(name))
}

/// Loosens the items the properties of `schema` (and of its `allOf` parts) embed,
/// `depth` levels down.
fn loosen_embedded_in(schema: &mut Value, components: &Map<String, Value>, depth: usize) {
    if depth == 0 {
        return;
    }
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            loosen_embedded(property, components, depth);
        }
    }
    if let Some(Value::Array(parts)) = schema.get_mut("allOf") {
        for part in parts.iter_mut() {
            loosen_embedded_in(part, components, depth);
        }
    }
}

/// An item schema that `schema` refers to (directly, as an array's items, or as
/// an option of `oneOf`/`anyOf`), inlined with every field optional.
fn loosen_embedded(schema: &mut Value, components: &Map<String, Value>, depth: usize) {
    let target = target_of(schema, components)
        .filter(|target| target.get("properties").is_some() || target.get("allOf").is_some());
    if let Some(target) = target {
        let description = schema.get("description").cloned();
        *schema = target.clone();
        if let (Some(description), Some(object)) = (description, schema.as_object_mut()) {
            object.insert("description".to_owned(), description);
        }
        loosen_own(schema, components);
        loosen_embedded_in(schema, components, depth - 1);
        return;
    }
    if let Some(items) = schema.get_mut("items") {
        loosen_embedded(items, components, depth);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(options)) = schema.get_mut(key) {
            for option in options {
                loosen_embedded(option, components, depth);
            }
        }
    }
}

/// The item `T` as reads answer it: every field optional, as `fields` may leave any
/// of them out.
pub fn sparse<T: ToSchema>() -> RefOr<Schema> {
    let mut dependencies = Vec::new();
    T::schemas(&mut dependencies);
    let components: Map<String, Value> = dependencies
        .into_iter()
        .map(|(name, schema)| (name, to_json(schema)))
        .collect();
    let mut schema = to_json(T::schema());
    loosen(&mut schema, &components);
    with_links(&mut schema);
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "description".to_owned(),
            json!(format!(
                "{} As read: with `fields`, only the fields asked for are there.",
                object
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            )),
        );
    }
    from_json(schema)
}

/// An item's `links` (`engine::paths::Links`), which every item read or written
/// carries, added to the item's schema.
fn with_links(schema: &mut Value) {
    if let Some(properties) = first_properties(schema) {
        properties.insert(
            "links".to_owned(),
            json!({"$ref": "#/components/schemas/Links"}),
        );
    }
}

/// The `properties` of a schema, or of the first part of its `allOf` that has them.
pub fn first_properties(schema: &mut Value) -> Option<&mut Map<String, Value>> {
    if schema.get("properties").is_some() {
        return schema.get_mut("properties").and_then(Value::as_object_mut);
    }
    schema
        .get_mut("allOf")
        .and_then(Value::as_array_mut)?
        .iter_mut()
        .find(|part| part.get("properties").is_some())
        .and_then(|part| part.get_mut("properties"))
        .and_then(Value::as_object_mut)
}

/// A page of a list: `data`, items of the schema `item`, and `meta`.
pub fn list_of(item: &str) -> RefOr<Schema> {
    from_json(json!({
        "type": "object",
        "description": "One page of a list, with its paging metadata.",
        "required": ["data", "meta"],
        "properties": {
            "data": {
                "type": "array",
                "description": "The items of this page.",
                "items": {"$ref": format!("#/components/schemas/{item}")}
            },
            "meta": {"$ref": "#/components/schemas/ListMeta"}
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(json: Value, usage: BodyUse) -> Value {
        to_json(body(
            from_json(json),
            &["slug".into(), "title".into()],
            "slug",
            usage,
        ))
    }

    #[test]
    fn required_fields_lose_null_and_the_key_leaves_put() {
        let schema = json!({"type": "object", "properties": {
            "slug": {"type": ["string", "null"], "maxLength": 100},
            "title": {"type": ["string", "null"]},
            "summary": {"type": ["string", "null"]}}});
        let create = body_of(schema.clone(), BodyUse::Create);
        assert_eq!(create["required"], json!(["slug", "title"]));
        assert_eq!(create["properties"]["slug"]["type"], "string");
        assert_eq!(
            create["properties"]["summary"]["type"],
            json!(["string", "null"])
        );
        let replace = body_of(schema.clone(), BodyUse::Replace);
        assert_eq!(replace["required"], json!(["title"]));
        assert!(replace["properties"].get("slug").is_none());
        let patch = body_of(schema, BodyUse::Patch);
        assert!(patch.get("required").is_none());
        assert_eq!(patch["properties"]["title"]["type"], "string");
    }

    #[test]
    fn a_nullable_reference_loses_its_null_option() {
        let mut property = json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Unit"}],
            "description": "Required."});
        not_null(&mut property);
        assert_eq!(
            property,
            json!({"$ref": "#/components/schemas/Unit", "description": "Required."})
        );
    }
}
