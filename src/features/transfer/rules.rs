//! The rules an import must keep that are checked on what it wrote: the
//! database's own (references, unique keys), in the kinds' words, and those across
//! items that the database does not hold itself.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use serde_json::{Map, Value};

use super::{section, sections};
use crate::engine::Kind;
use crate::platform::error::{AppError, AppResult, FieldError};

/// A rule of the database, broken by the file, in words an admin can act on: the
/// kind's own, as for a write through the API, its pointers under the section.
pub(super) fn database_error(kind: &dyn Kind, error: diesel::result::Error) -> AppError {
    let descriptor = kind.descriptor();
    match descriptor.explain(error.into(), &[]) {
        AppError::Conflict { detail, errors } => AppError::Conflict {
            detail: format!("{}: {detail}", descriptor.table),
            errors: prefixed_errors(errors, descriptor.table),
        },
        AppError::Validation(errors) => {
            AppError::Validation(prefixed_errors(errors, descriptor.table))
        }
        other => other,
    }
}

fn prefixed_errors(errors: Vec<FieldError>, table: &str) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|error| FieldError::new(format!("/{table}{}", error.pointer), error.detail))
        .collect()
}

/// The rules across items that the database does not hold itself: no loops in a
/// tree, and a percentage is between 0 and 100.
pub(super) fn check_across(conn: &mut PgConnection) -> AppResult<()> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        found: String,
    }
    let mut errors = Vec::new();
    for kind in sections() {
        let Some(tree) = section(kind).tree else {
            continue;
        };
        let (table, key) = (kind.descriptor().table, kind.descriptor().key);
        let looped: Vec<Found> = diesel::sql_query(format!(
            "WITH RECURSIVE walk (start, node, depth) AS ( \
                 SELECT {key}, {tree}, 1 FROM {table} WHERE {tree} IS NOT NULL \
                 UNION ALL \
                 SELECT w.start, t.{tree}, w.depth + 1 FROM walk w \
                 JOIN {table} t ON t.{key} = w.node \
                 WHERE t.{tree} IS NOT NULL AND w.node <> w.start AND w.depth < 10000) \
             SELECT DISTINCT start AS found FROM walk WHERE node = start ORDER BY 1"
        ))
        .load(conn)?;
        errors.extend(looped.into_iter().map(|found| {
            FieldError::new(
                format!("/{table}"),
                format!("{} is its own ancestor through {tree}: a loop", found.found),
            )
        }));
    }
    let out_of_range: Vec<Found> = diesel::sql_query(
        "SELECT o.id::text AS found FROM observations o JOIN impact_metrics m ON m.key = o.metric \
         WHERE m.unit = 'percent' AND (o.value < 0 OR coalesce(o.value_max, o.value) > 100) \
         ORDER BY 1",
    )
    .load(conn)?;
    errors.extend(out_of_range.into_iter().map(|found| {
        FieldError::new(
            "/observations",
            format!("{} is a percentage outside 0 to 100", found.found),
        )
    }));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            detail: format!("{} rules across items are broken", errors.len()),
            errors,
        })
    }
}

/// Items whose key another stored item holds (under another id): each named, with
/// the holder, before the write would fail on the first.
pub(super) fn collisions(
    conn: &mut PgConnection,
    kind: &dyn Kind,
    items: &[Map<String, Value>],
) -> AppResult<()> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = BigInt)]
        ordinal: i64,
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Text)]
        holder: String,
    }
    let d = kind.descriptor();
    if d.key == "id" {
        return Ok(());
    }
    let text = |item: &Map<String, Value>, field: &str| {
        item.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let keys: Vec<String> = items.iter().map(|item| text(item, d.key)).collect();
    let ids: Vec<String> = items.iter().map(|item| text(item, "id")).collect();
    let held: Vec<Held> = diesel::sql_query(format!(
        "SELECT k.ordinal, k.key, t.id::text AS holder \
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(key, id, ordinal) \
         JOIN {table} t ON t.{key} = k.key AND t.id::text <> k.id ORDER BY k.ordinal",
        table = d.table,
        key = d.key
    ))
    .bind::<Array<Text>, _>(&keys)
    .bind::<Array<Text>, _>(&ids)
    .load(conn)?;
    if held.is_empty() {
        return Ok(());
    }
    Err(AppError::Validation(
        held.into_iter()
            .map(|held| {
                FieldError::coded(
                    crate::platform::error::codes::TAKEN,
                    format!("/{}/{}/{}", d.table, held.ordinal - 1, d.key),
                    format!(
                        "another {} has the {} {} already (id {}): delete or rename it, or \
                         import with --replace to make this database equal to the file",
                        d.name, d.key, held.key, held.holder
                    ),
                )
            })
            .collect(),
    ))
}
