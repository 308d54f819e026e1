//! A JSON object read into a body type, every field judged on its own: a wrong
//! type hides nothing else, and every field that is wrong or unknown is named under
//! its pointer, in our words (a 422). What each field should be is read from the
//! body type's OpenAPI schema, so that the words and the document agree; no
//! parser's own message reaches a client.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::body::pointer_escape;
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::openapi::schemas::to_json;

/// Reads `object` as a `T`. On failure, every field that is wrong is named: each
/// wrong one is set aside and the rest read again, until the rest reads.
pub fn from_object<T: DeserializeOwned + ToSchema>(mut object: Map<String, Value>) -> AppResult<T> {
    let order: Vec<String> = object.keys().cloned().collect();
    let mut wrong: Vec<(String, String, Value)> = Vec::new();
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(Value::Object(object.clone())) {
            Ok(body) if wrong.is_empty() => return Ok(body),
            Ok(_) => break,
            Err(error) => error,
        };
        let (field, pointer) = at(&error);
        let Some(value) = field.as_ref().and_then(|field| object.remove(field)) else {
            // Not about one field the body has (a field that must be there): the
            // fields already named are the answer, or the body as a whole.
            if wrong.is_empty() {
                return Err(AppError::Validation(vec![FieldError::new(
                    "",
                    "is not a body this request takes",
                )]));
            }
            break;
        };
        wrong.push((field.unwrap_or_default(), pointer, value));
    }
    let shape = Shape::of::<T>();
    let mut errors: Vec<(usize, FieldError)> = wrong
        .into_iter()
        .map(|(field, pointer, value)| {
            let place = order.iter().position(|f| *f == field).unwrap_or(usize::MAX);
            (place, shape.judge(&field, &pointer, &value))
        })
        .collect();
    errors.sort_by_key(|(place, _)| *place);
    Err(AppError::Validation(
        errors.into_iter().map(|(_, error)| error).collect(),
    ))
}

/// The top-level field an error is about, and its pointer (deeper for a list's
/// item: `/areas/2`).
fn at(error: &serde_path_to_error::Error<serde_json::Error>) -> (Option<String>, String) {
    use serde_path_to_error::Segment;
    let mut field = None;
    let mut pointer = String::new();
    for segment in error.path().iter() {
        match segment {
            Segment::Map { key } => {
                field.get_or_insert_with(|| key.clone());
                pointer.push_str(&format!("/{}", pointer_escape(key)));
            }
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    // An unknown field is reported at the object that holds it: its name is in the
    // message, between backquotes.
    let message = error.inner().to_string();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(name) = rest.split('`').next()
    {
        let own = format!("/{}", pointer_escape(name));
        if !pointer.ends_with(&own) {
            pointer.push_str(&own);
        }
        field.get_or_insert_with(|| name.to_owned());
    }
    (field, pointer)
}

/// What a body's fields should be, from its schema.
struct Shape {
    properties: Map<String, Value>,
    components: HashMap<String, Value>,
}

impl Shape {
    fn of<T: ToSchema>() -> Self {
        let mut dependencies = Vec::new();
        T::schemas(&mut dependencies);
        let components = dependencies
            .into_iter()
            .map(|(name, schema)| (name, to_json(schema)))
            .collect();
        let properties = match to_json(T::schema()).get("properties") {
            Some(Value::Object(properties)) => properties.clone(),
            _ => Map::new(),
        };
        Self {
            properties,
            components,
        }
    }

    /// The error for a field's value.
    fn judge(&self, field: &str, pointer: &str, value: &Value) -> FieldError {
        let Some(property) = self.properties.get(field) else {
            let names: Vec<&str> = self.properties.keys().map(String::as_str).collect();
            return FieldError::coded(
                codes::UNKNOWN_FIELD,
                pointer,
                format!(
                    "is not a field of this body; its fields are {}",
                    names.join(", ")
                ),
            );
        };
        // A list's item is judged by the list's item schema.
        let deeper = pointer.len() > field.len() + 1;
        let property = self.resolve(property);
        let expected = match (deeper, property.get("items")) {
            (true, Some(items)) => self.resolve(items),
            _ => property,
        };
        FieldError::new(pointer, words(&expected, value))
    }

    /// A schema with its `$ref` and nullable `oneOf` resolved, so that its `type`
    /// and `enum` show.
    fn resolve(&self, schema: &Value) -> Value {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or_default();
            return self
                .components
                .get(name)
                .map_or_else(|| schema.clone(), |found| self.resolve(found));
        }
        if let Some(Value::Array(options)) = schema.get("oneOf")
            && let Some(option) = options
                .iter()
                .find(|option| option.get("type") != Some(&Value::from("null")))
        {
            return self.resolve(option);
        }
        schema.clone()
    }
}

/// The JSON types a schema allows, without `null`.
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .filter(|name| *name != "null")
            .collect(),
        _ => Vec::new(),
    }
}

/// What is wrong with `value`, for a field of this schema.
fn words(schema: &Value, value: &Value) -> String {
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        let allowed: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        return match value.as_str() {
            Some(raw) => crate::platform::text_enum::not_one_of(raw, &allowed),
            None => format!("must be one of {}", allowed.join(", ")),
        };
    }
    let text = value.as_str().unwrap_or_default();
    match types(schema).first().copied() {
        Some("number") if looks_like_a_decimal_comma(text) => {
            "must be a number; use a dot as the decimal separator".to_owned()
        }
        Some("number") if text.trim().parse::<f64>().is_ok() => {
            "must be a number, not text: leave out the quotes".to_owned()
        }
        Some("number") => "must be a number".to_owned(),
        Some("integer") => "must be a whole number".to_owned(),
        Some("boolean") => "must be true or false".to_owned(),
        Some("array") => "must be a list".to_owned(),
        Some("object") => "must be an object".to_owned(),
        Some("string") => "must be text".to_owned(),
        _ => "is not a value this field takes".to_owned(),
    }
}

/// `7,5`: a number written with a decimal comma.
fn looks_like_a_decimal_comma(text: &str) -> bool {
    let text = text.trim().trim_start_matches(['-', '+']);
    match text.split_once(',') {
        Some((whole, fraction)) => {
            !whole.is_empty()
                && !fraction.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Figure {
        value: Option<f64>,
        count: Option<i64>,
        areas: Option<Vec<String>>,
        flag: Option<bool>,
        #[schema(value_type = Option<String>, format = Date)]
        at: Option<String>,
    }

    fn errors(body: Value) -> Vec<(String, String, &'static str)> {
        let Value::Object(object) = body else {
            return Vec::new();
        };
        match from_object::<Figure>(object) {
            Err(AppError::Validation(errors)) => errors
                .into_iter()
                .map(|e| (e.pointer, e.detail, e.code))
                .collect(),
            other => vec![(format!("{other:?}"), String::new(), "")],
        }
    }

    #[test]
    fn every_wrong_field_is_named_in_the_bodys_order_and_in_our_words() {
        let found = errors(json!({"flag": "yes", "value": "7,5", "x-unknown": 42,
            "count": 1.5, "areas": ["RS", 7]}));
        let expected = [
            ("/flag", "must be true or false", "invalid"),
            (
                "/value",
                "must be a number; use a dot as the decimal separator",
                "invalid",
            ),
            (
                "/x-unknown",
                "is not a field of this body; its fields are areas, at, count, flag, value",
                "unknown_field",
            ),
            ("/count", "must be a whole number", "invalid"),
            ("/areas/1", "must be text", "invalid"),
        ];
        let expected: Vec<(String, String, &str)> = expected
            .iter()
            .map(|(p, d, c)| ((*p).to_owned(), (*d).to_owned(), *c))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_number_in_quotes_is_told_so_and_a_good_body_reads() {
        assert_eq!(
            errors(json!({"value": "7.5"}))[0].1,
            "must be a number, not text: leave out the quotes"
        );
        let good = json!({"value": 7.5, "count": 3, "areas": ["RS"], "flag": true});
        let Value::Object(object) = good else { return };
        assert!(from_object::<Figure>(object).is_ok());
    }
}
