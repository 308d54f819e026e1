//! `seesac-api export` and `seesac-api import FILE`: all content as one JSON
//! document, and back.
//!
//! The document holds every item of every content type, in every status, as it is
//! stored (ids, versions and timestamps included), the partners observations
//! belong to, and every translation (`translations`); no users and no tokens, so
//! no secrets. Columns the service derives (a page's HTML and plain text, search
//! vectors) are left out and derived again.
//!
//! An import runs in one transaction: everything or nothing. Each item is checked
//! like a body sent to the API, then the database's own rules (references, unique
//! keys, one primary contact) and the rules across items (no loops in a tree,
//! percentages between 0 and 100) are checked on the result. Items are matched by
//! id: a new one is created with its id, version and timestamps; a stored one is
//! updated, and only if it differs (a new version then, as for any write); items
//! the file does not hold are left alone. So an import is idempotent, and an export
//! imported into an empty database and exported again is identical. Every item
//! created or changed is in the change log, by `system:import`.
//!
//! An import that replaces (`Mode::Replace`, `import --replace`) first deletes
//! every item and partner the file does not hold, in the reverse order of their
//! references, so that the content ends equal to the file's; the deletions are
//! logged as any other. It needs every section in the file: a missing one would
//! empty its table.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Text};
use serde_json::{Map, Value};

use crate::admin;
use crate::content;
use crate::engine::transaction::begin;
use crate::engine::{Author, Kind, Section};
use crate::platform::error::{AppError, AppResult};

mod document;
mod replace;
mod rules;
mod translations;

use document::{missing_columns, prefixed, read_document};
use replace::{every_section_in, remove_absent};
use rules::{check_across, collisions, database_error};

/// The document's format, named in it: a reader refuses another.
pub const FORMAT: &str = "seesac-api/export";
pub const FORMAT_VERSION: u64 = 1;

/// The kinds a document holds, in the order of their references: what an item
/// refers to comes before it. Partners first (observations name them), then the
/// registry's content.
fn sections() -> Vec<&'static dyn Kind> {
    admin::RESOURCES
        .iter()
        .chain(content::KINDS)
        .copied()
        .filter(|kind| kind.descriptor().transfer.is_some())
        .collect()
}

/// How a kind is carried.
fn section(kind: &dyn Kind) -> &'static Section {
    const NONE: &Section = &Section {
        order: "id",
        derived: &[],
        tree: None,
        derive: |_| {},
    };
    kind.descriptor().transfer.as_ref().unwrap_or(NONE)
}

/// The columns of a table that are written (not generated, and not the ETag the
/// database keeps itself), in table order.
fn columns(conn: &mut PgConnection, table: &str) -> AppResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        column_name: String,
    }
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
           AND column_name <> 'etag' \
         ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(columns.into_iter().map(|c| c.column_name).collect())
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Jsonb)]
    row: Value,
}

/// Rows as JSON objects with their columns in table order.
fn in_order(rows: Vec<Row>, columns: &[String]) -> Vec<Map<String, Value>> {
    rows.into_iter()
        .map(|row| {
            let mut row = match row.row {
                Value::Object(row) => row,
                _ => Map::new(),
            };
            columns
                .iter()
                .filter_map(|column| Some((column.clone(), row.remove(column)?)))
                .collect()
        })
        .collect()
}

/// Every item of every section, in a repeatable read, as the document.
pub fn export(conn: &mut PgConnection) -> AppResult<Value> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            // Timestamps in UTC, whatever the server's zone: the same data, the same text.
            diesel::sql_query("SET LOCAL TimeZone = 'UTC'").execute(conn)?;
            let mut document = Map::new();
            document.insert("format".to_owned(), FORMAT.into());
            document.insert("format_version".to_owned(), FORMAT_VERSION.into());
            for kind in sections() {
                let (table, section) = (kind.descriptor().table, section(kind));
                let columns: Vec<String> = columns(conn, table)?
                    .into_iter()
                    .filter(|c| !section.derived.contains(&c.as_str()))
                    .collect();
                let rows: Vec<Row> = diesel::sql_query(format!(
                    "SELECT to_jsonb(t) AS row FROM {table} t ORDER BY {}",
                    section.order
                ))
                .load(conn)?;
                let items = in_order(rows, &columns).into_iter().map(Value::Object);
                document.insert(table.to_owned(), Value::Array(items.collect()));
            }
            document.insert(
                translations::SECTION.to_owned(),
                translations::export(conn)?,
            );
            Ok(Value::Object(document))
        })
}

/// What an import did, per section: created, updated and unchanged.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub sections: Vec<(&'static str, Counts)>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
}

/// What an import does with stored items the file does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Leaves them.
    Merge,
    /// Deletes them.
    Replace,
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .sections
            .iter()
            .map(|(name, c)| {
                let deleted = if c.deleted > 0 {
                    format!(", {} deleted", c.deleted)
                } else {
                    String::new()
                };
                format!(
                    "{}: {} created, {} updated, {} unchanged{deleted}",
                    name.replace('_', " "),
                    c.created,
                    c.updated,
                    c.unchanged
                )
            })
            .collect();
        f.write_str(&parts.join("\n"))
    }
}

/// How far an import has come: items done of all, and what it is doing.
pub trait Progress {
    fn start(&self, total: u64);
    fn advance(&self, items: u64, doing: &str);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64, _: &str) {}
}

/// Loads a document in one transaction; an invalid one writes nothing and names
/// every bad item (`/pages/3/slug`) or the rule it breaks.
pub fn import(
    conn: &mut PgConnection,
    document: &Value,
    mode: Mode,
    progress: &dyn Progress,
) -> AppResult<Imported> {
    let sections = read_document(document)?;
    if mode == Mode::Replace {
        every_section_in(document)?;
    }
    let (translated, mut errors) = translations::read(document);
    let total: usize = sections.iter().map(|(_, items)| items.len()).sum();
    progress.start(2 * (total + translated.len()) as u64);
    // Every item checked before anything is written, so every error is named.
    for (kind, items) in &sections {
        let table = kind.descriptor().table;
        for (index, item) in items.iter().enumerate() {
            if let Err(error) = kind.check(item) {
                errors.extend(prefixed(error, &format!("/{table}/{index}")));
            }
            missing_columns(table, item, index, &mut errors);
        }
        progress.advance(items.len() as u64, &format!("checked {table}"));
    }
    let translation_rows = translations::check(&translated, &mut errors);
    progress.advance(translated.len() as u64, "checked translations");
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let imported = conn.transaction(|conn| {
        // The database logs every item created or changed, by `system:import`.
        begin(conn, &Author::system("import"), None)?;
        for (kind, _) in &sections {
            if let Some(lock) = kind.descriptor().write_lock {
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind::<Text, _>(lock)
                    .execute(conn)?;
            }
        }
        let mut deleted = HashMap::new();
        if mode == Mode::Replace {
            let gone = translations::remove_absent(conn, &translated)?;
            deleted.insert(translations::SECTION, gone);
            // An item of the file may take the key of one deleted here (the sample
            // content's, under another id): references are checked at commit.
            diesel::sql_query("SET CONSTRAINTS ALL DEFERRED").execute(conn)?;
            // What pages' blocks name is named again as the file's pages are
            // written: until then, nothing they named holds a deletion back.
            diesel::sql_query("DELETE FROM page_block_refs").execute(conn)?;
            for (kind, items) in sections.iter().rev() {
                deleted.insert(kind.descriptor().table, remove_absent(conn, *kind, items)?);
            }
        }
        let mut imported = Imported::default();
        for (kind, items) in &sections {
            let table = kind.descriptor().table;
            let mut counts = write(conn, *kind, items)?;
            counts.deleted = deleted.get(table).copied().unwrap_or(0);
            imported.sections.push((table, counts));
            progress.advance(items.len() as u64, &format!("wrote {table}"));
        }
        let mut counts = translations::write(conn, translation_rows)?;
        counts.deleted = deleted.get(translations::SECTION).copied().unwrap_or(0);
        imported.sections.push((translations::SECTION, counts));
        progress.advance(translated.len() as u64, "wrote translations");
        check_across(conn)?;
        Ok::<_, AppError>(imported)
    })?;
    // The content is written: statistics that could not be gathered now are
    // gathered by autovacuum later, and do not make the import a failure.
    let mut tables: Vec<&str> = sections
        .iter()
        .map(|(kind, _)| kind.descriptor().table)
        .collect();
    tables.push(translations::SECTION);
    if let Err(error) = analyze(conn, &tables) {
        log::warn!("imported; analysing the tables it wrote failed: {error}");
    }
    Ok(imported)
}

/// Gathers the statistics PostgreSQL plans by, for the tables an import wrote:
/// autovacuum gathers them only a while later, and until then a list in a locale
/// is planned as if its tables were empty (with 1,000 pages each translated, a
/// list of 20 in `sq` ran at 0.4 of the English one until analysed, 0.8 after). A
/// role that may not analyse a table is warned by PostgreSQL, not refused.
fn analyze(conn: &mut PgConnection, tables: &[&str]) -> AppResult<()> {
    let quoted: Vec<String> = tables.iter().map(|table| format!("\"{table}\"")).collect();
    diesel::sql_query(format!("ANALYZE {}", quoted.join(", "))).execute(conn)?;
    Ok(())
}

/// Upserts a section's items by id: the versioning trigger keeps an unchanged row
/// as it is and gives a changed one its next version, as for any write, and the
/// database logs what changed.
fn write(
    conn: &mut PgConnection,
    kind: &dyn Kind,
    items: &[Map<String, Value>],
) -> AppResult<Counts> {
    let (table, section) = (kind.descriptor().table, section(kind));
    let mut counts = Counts::default();
    if items.is_empty() {
        return Ok(counts);
    }
    collisions(conn, kind, items)?;
    let columns = columns(conn, table)?;
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut row = item.clone();
            for derived in section.derived {
                row.remove(*derived);
            }
            (section.derive)(&mut row);
            Value::Object(row)
        })
        .collect();
    let ids: Vec<String> = items
        .iter()
        .filter_map(|item| item.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let before: Vec<Row> = diesel::sql_query(format!(
        "SELECT to_jsonb(t) AS row FROM {table} t WHERE id::text = ANY($1)"
    ))
    .bind::<Array<Text>, _>(&ids)
    .load(conn)?;
    let before: HashMap<String, Value> = before
        .into_iter()
        .filter_map(|row| Some((row.row.get("id")?.as_str()?.to_owned(), row.row)))
        .collect();
    let list = columns.join(", ");
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !matches!(c.as_str(), "id" | "created_at"))
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    // The versioning trigger keeps an unchanged row as it is, and gives a changed
    // one its next version, as for any write.
    let after: Vec<Row> = diesel::sql_query(format!(
        "INSERT INTO {table} ({list}) \
         SELECT {list} FROM jsonb_populate_recordset(NULL::{table}, $1) \
         ON CONFLICT (id) DO UPDATE SET {updates} \
         RETURNING to_jsonb({table}.*) AS row",
        updates = updates.join(", ")
    ))
    .bind::<Jsonb, _>(Value::Array(rows))
    .load(conn)
    .map_err(|error| database_error(kind, error))?;
    for row in after {
        let id = row
            .row
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let old = before.get(id);
        let version = |row: &Value| row.get("version").and_then(Value::as_i64);
        match old {
            None => counts.created += 1,
            Some(old) if version(old) == version(&row.row) => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
        }
    }
    Ok(counts)
}
