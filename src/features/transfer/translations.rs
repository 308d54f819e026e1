//! Translations in an export: one section, `translations`, after every kind (a
//! translation names its item by id), each row as stored, with its id, version,
//! timestamps and `source` (what it was translated from), but without its ETag and
//! the HTML derived from its Markdown, which an import derives again. A
//! translation of a deleted item is carried too: a restore brings it back.
//!
//! An import matches a translation by its item and locale: a new one is created as
//! the file has it; a stored one that differs is updated as its next version, as a
//! write through the API would be. The database logs each, by `system:import`.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Jsonb, Text};
use serde_json::{Map, Value};

use super::{Counts, Row, columns, in_order};
use crate::content;
use crate::engine::Descriptor;
use crate::features::translations::{check_fields, with_html, without_html};
use crate::platform::error::{AppError, AppResult, FieldError};

/// The section's name in the document.
pub(super) const SECTION: &str = "translations";

/// Columns an import must find in each translation.
const REQUIRED: &[&str] = &[
    "id",
    "kind",
    "item_id",
    "locale",
    "source",
    "source_version",
    "version",
    "created_by",
    "created_at",
    "updated_at",
];

/// The kind a translation names, if it is one with translatable fields.
fn kind_of(item: &Map<String, Value>) -> Option<&'static Descriptor> {
    let name = item.get("kind")?.as_str()?;
    let kind = content::kind(name)?.descriptor();
    kind.spec.translatable().next().map(|_| kind)
}

/// Every translation, in the order of its kind, item and locale.
pub(super) fn export(conn: &mut PgConnection) -> AppResult<Value> {
    let columns = columns(conn, SECTION)?;
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT to_jsonb(t) AS row FROM translations t ORDER BY kind, item_id, locale",
    )
    .load(conn)?;
    let items = in_order(rows, &columns).into_iter().map(|mut item| {
        if let (Some(kind), Some(Value::Object(fields))) = (kind_of(&item), item.remove("fields")) {
            item.insert(
                "fields".to_owned(),
                Value::Object(without_html(kind, fields)),
            );
        }
        Value::Object(item)
    });
    Ok(Value::Array(items.collect()))
}

/// The section of a document: its translations, or the errors of its shape.
pub(super) fn read(document: &Value) -> (Vec<Map<String, Value>>, Vec<FieldError>) {
    match document.get(SECTION) {
        None => (Vec::new(), Vec::new()),
        Some(Value::Array(items)) => {
            let mut errors = Vec::new();
            let mut objects = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item {
                    Value::Object(item) => objects.push(item.clone()),
                    _ => errors.push(FieldError::new(
                        format!("/{SECTION}/{index}"),
                        "must be an object",
                    )),
                }
            }
            (objects, errors)
        }
        Some(_) => (
            Vec::new(),
            vec![FieldError::new(format!("/{SECTION}"), "must be a list")],
        ),
    }
}

/// Checks each translation as a write of it is checked, and that it has what the
/// export gives it; the rows to write, with their HTML derived.
pub(super) fn check(items: &[Map<String, Value>], errors: &mut Vec<FieldError>) -> Vec<Value> {
    let mut rows = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = |name: &str| format!("/{SECTION}/{index}/{name}");
        for column in REQUIRED {
            if item.get(*column).is_none_or(Value::is_null) {
                errors.push(FieldError::new(at(column), "is required in an import"));
            }
        }
        if !matches!(
            item.get("status").and_then(Value::as_str),
            Some("draft" | "published")
        ) {
            errors.push(FieldError::new(at("status"), "not one of draft, published"));
        }
        let Some(kind) = kind_of(item) else {
            errors.push(FieldError::new(
                at("kind"),
                "is not a type of content with translatable fields",
            ));
            continue;
        };
        let mut found = Vec::new();
        let fields = match item.get("fields") {
            Some(Value::Object(fields)) => check_fields(kind, fields.clone(), false, &mut found),
            _ => {
                found.push(FieldError::new("/fields", "must be an object"));
                Map::new()
            }
        };
        errors.extend(found.into_iter().map(|error| {
            FieldError::new(format!("/{SECTION}/{index}{}", error.pointer), error.detail)
        }));
        let mut row = item.clone();
        row.insert("fields".to_owned(), Value::Object(with_html(kind, fields)));
        rows.push(Value::Object(row));
    }
    rows
}

/// Writes the checked rows: new ones as they are, stored ones that differ as
/// their next version.
pub(super) fn write(conn: &mut PgConnection, rows: Vec<Value>) -> AppResult<Counts> {
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = Bool)]
        created: bool,
    }
    let total = rows.len();
    if total == 0 {
        return Ok(Counts::default());
    }
    let list = columns(conn, SECTION)?.join(", ");
    let written: Vec<Written> = diesel::sql_query(format!(
        "INSERT INTO translations AS t ({list}, etag) \
         SELECT {list}, seesac_new_etag() FROM jsonb_populate_recordset(NULL::translations, $1) \
         ON CONFLICT (kind, item_id, locale) DO UPDATE SET \
             fields = excluded.fields, source = excluded.source, \
             source_version = excluded.source_version, status = excluded.status, \
             version = t.version + 1, updated_at = now(), etag = excluded.etag \
         WHERE (t.fields, t.source, t.source_version, t.status) IS DISTINCT FROM \
               (excluded.fields, excluded.source, excluded.source_version, excluded.status) \
         RETURNING (xmax = 0) AS created"
    ))
    .bind::<Jsonb, _>(Value::Array(rows))
    .load(conn)
    .map_err(|error| {
        AppError::invalid(
            format!("/{SECTION}"),
            format!("cannot be written as it is: {error}"),
        )
    })?;
    let created = written.iter().filter(|row| row.created).count();
    Ok(Counts {
        created,
        updated: written.len() - created,
        unchanged: total - written.len(),
        deleted: 0,
    })
}

/// Deletes the stored translations the file does not hold; how many.
pub(super) fn remove_absent(
    conn: &mut PgConnection,
    items: &[Map<String, Value>],
) -> AppResult<usize> {
    let held: Vec<String> = items
        .iter()
        .map(|item| {
            let part = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default();
            format!("{}/{}/{}", part("kind"), part("item_id"), part("locale"))
        })
        .collect();
    Ok(diesel::sql_query(
        "DELETE FROM translations WHERE NOT (kind || '/' || item_id || '/' || locale = ANY($1))",
    )
    .bind::<Array<Text>, _>(&held)
    .execute(conn)?)
}
