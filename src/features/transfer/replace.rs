//! What an import that replaces does first: it needs every section, and deletes
//! what the file does not hold (by id: an item under the key of one of the file's
//! but with another id, such as the sample content's, goes, and the file's comes).

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use serde_json::{Map, Value};

use super::database_error;
use super::sections;
use crate::engine::Kind;
use crate::platform::error::{AppError, AppResult, FieldError};

/// A replacing import needs every section, even an empty one.
pub(super) fn every_section_in(document: &Value) -> AppResult<()> {
    let missing: Vec<FieldError> = sections()
        .iter()
        .map(|kind| kind.descriptor().table)
        .chain([super::translations::SECTION])
        .filter(|table| document.get(*table).is_none())
        .map(|table| {
            FieldError::new(
                format!("/{table}"),
                "is missing: an import that replaces would delete every item of it, so it \
                 needs the section, even empty ([])",
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(missing))
    }
}

/// Deletes a section's stored items that the file does not hold; how many.
pub(super) fn remove_absent(
    conn: &mut PgConnection,
    kind: &dyn Kind,
    items: &[Map<String, Value>],
) -> AppResult<usize> {
    let table = kind.descriptor().table;
    let ids: Vec<String> = items
        .iter()
        .filter_map(|item| item.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    diesel::sql_query(format!(
        "DELETE FROM {table} WHERE NOT (id::text = ANY($1))"
    ))
    .bind::<Array<Text>, _>(&ids)
    .execute(conn)
    .map_err(|error| database_error(kind, error))
}
