//! Reading the document an import loads: its format, its sections as lists of
//! objects in writing order, and the errors of its items under their pointers
//! (`/pages/3/slug`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{FORMAT, FORMAT_VERSION, sections};
use crate::engine::Kind;
use crate::platform::error::{AppError, AppResult, FieldError};

/// The items of a section, as objects.
type Items = Vec<Map<String, Value>>;

/// The sections of a document, in writing order, each a list of objects.
pub(super) fn read_document(document: &Value) -> AppResult<Vec<(&'static dyn Kind, Items)>> {
    let Some(object) = document.as_object() else {
        return Err(AppError::invalid(
            "/",
            "must be an object, as `seesac-api export` writes",
        ));
    };
    if object.get("format").and_then(Value::as_str) != Some(FORMAT)
        || object.get("format_version").and_then(Value::as_u64) != Some(FORMAT_VERSION)
    {
        return Err(AppError::invalid(
            "/format",
            format!(
                "must be \"{FORMAT}\" with format_version {FORMAT_VERSION}, as `seesac-api export` writes"
            ),
        ));
    }
    let kinds = sections();
    let known: HashSet<&str> = kinds
        .iter()
        .map(|kind| kind.descriptor().table)
        .chain(["format", "format_version", super::translations::SECTION])
        .collect();
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|name| !known.contains(name.as_str()))
        .map(|name| FieldError::new(format!("/{name}"), "is not a section of an export"))
        .collect();
    let mut sections = Vec::new();
    for kind in kinds {
        let name = kind.descriptor().table;
        let items = match object.get(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut objects = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::Object(item) => objects.push(item.clone()),
                        _ => errors.push(FieldError::new(
                            format!("/{name}/{index}"),
                            "must be an object",
                        )),
                    }
                }
                objects
            }
            Some(_) => {
                errors.push(FieldError::new(format!("/{name}"), "must be a list"));
                Vec::new()
            }
        };
        sections.push((kind, items));
    }
    if errors.is_empty() {
        Ok(sections)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The read-only columns the API sets itself must be in the file: it carries them
/// over.
pub(super) fn missing_columns(
    table: &str,
    item: &Map<String, Value>,
    index: usize,
    errors: &mut Vec<FieldError>,
) {
    for column in ["id", "version", "created_at", "updated_at"] {
        if item.get(column).is_none_or(Value::is_null) {
            errors.push(FieldError::new(
                format!("/{table}/{index}/{column}"),
                "is required in an import",
            ));
        }
    }
}

/// An error's field errors under `prefix`.
pub(super) fn prefixed(error: AppError, prefix: &str) -> Vec<FieldError> {
    let errors = match error {
        AppError::Validation(errors) => errors,
        AppError::BadRequest { errors, detail } if errors.is_empty() => {
            vec![FieldError::new("", detail)]
        }
        AppError::BadRequest { errors, .. } => errors,
        other => vec![FieldError::new("", other.to_string())],
    };
    errors
        .into_iter()
        .map(|e| {
            let pointer = if e.pointer.starts_with('/') || e.pointer.is_empty() {
                format!("{prefix}{}", e.pointer)
            } else {
                format!("{prefix}/{}", e.pointer)
            };
            FieldError::new(pointer, e.detail)
        })
        .collect()
}
