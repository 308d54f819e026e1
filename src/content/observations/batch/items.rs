//! A batch's items as they came: the `items` of a JSON body, or the rows of a CSV
//! body, each an object or the mistakes that made it unreadable.

use actix_web::{HttpRequest, web};
use serde_json::{Map, Value};

use super::super::CSV_COLUMNS;
use crate::engine::many::{Incoming, Place};
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::http::csv;

/// The items of a JSON batch body: each an object, or a mistake of its own.
pub(super) fn json_items(mut object: Map<String, Value>) -> AppResult<Vec<Incoming>> {
    let items = object.remove("items");
    let mut errors: Vec<FieldError> = object
        .keys()
        .map(|key| {
            FieldError::coded(
                codes::UNKNOWN_FIELD,
                format!("/{key}"),
                "is not a field of a batch, which has only items",
            )
        })
        .collect();
    let items = match items {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => {
            errors.push(FieldError::coded(
                codes::REQUIRED,
                "/items",
                crate::platform::validate::REQUIRED,
            ));
            Vec::new()
        }
        Some(_) => {
            errors.push(FieldError::new("/items", "must be a list of items"));
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(index, item)| Incoming {
            place: Place::Item(index),
            object: match item {
                Value::Object(object) => Ok(object),
                _ => Err(vec![FieldError::new(
                    "",
                    "must be an object: one observation",
                )]),
            },
        })
        .collect())
}

/// The rows of a CSV batch: the columns of the export, and `delete`; the export's
/// read-only columns are ignored.
pub(super) async fn csv_items(
    req: &HttpRequest,
    payload: web::Payload,
) -> AppResult<Vec<Incoming>> {
    let mut names = CSV_COLUMNS.to_vec();
    names.push("delete");
    let columns = csv::Columns {
        names: &names,
        numbers: &["value", "value_max"],
        flags: &["delete"],
    };
    let rows = csv::read_rows(req, payload, columns).await?;
    Ok(rows
        .into_iter()
        .map(|row| Incoming {
            place: Place::Row(row.number),
            object: row.cells.map(|mut cells| {
                for read_only in ["id", "partner", "version", "created_at", "updated_at"] {
                    cells.remove(read_only);
                }
                cells
            }),
        })
        .collect())
}
