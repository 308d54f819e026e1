//! `seesac-api export` and `seesac-api import FILE`: all content as one JSON
//! document, and back.
//!
//! The document holds every item of every content type, in every status, as it is
//! stored (ids, versions and timestamps included), and the partners observations
//! belong to; no users and no tokens, so no secrets. Columns the service derives
//! (a page's HTML and plain text, search vectors) are left out and derived again.
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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Text};
use serde_json::{Map, Value};

use crate::admin::partners::Partners;
use crate::content::contacts::Contacts;
use crate::content::decisions::Decisions;
use crate::content::funders::Funders;
use crate::content::markdown;
use crate::content::metrics::Metrics;
use crate::content::observations::Observations;
use crate::content::pages::Pages;
use crate::engine::Resource;
use crate::engine::handlers::parse_body;
use crate::features::changes::{self as changelog, Snapshot};
use crate::features::history::{self, Author};
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::visibility::Status;

/// The document's format, named in it: a reader refuses another.
pub const FORMAT: &str = "seesac-api/export";
pub const FORMAT_VERSION: u64 = 1;
/// Who the change log says made an import's changes.
const ACTOR: &str = "system:import";

/// One table of the document.
struct Section {
    /// The document's key, and the table's name.
    name: &'static str,
    /// The column that is the item's key in URLs and the change log.
    key: &'static str,
    change_type: Option<&'static str>,
    /// The column a change carries as its parent (an observation's metric).
    parent: Option<&'static str>,
    /// The advisory lock writes to the table take.
    lock: Option<&'static str>,
    /// Export order.
    order: &'static str,
    /// Columns derived from others, not exported, derived again on import.
    derived: &'static [&'static str],
    /// A column that refers to the key of another item of the table (a tree).
    tree: Option<&'static str>,
    /// Checks an item as the API checks a body.
    check: fn(&Map<String, Value>) -> AppResult<()>,
    /// Derives the `derived` columns of an item.
    derive: fn(&mut Map<String, Value>),
}

fn derive_nothing(_: &mut Map<String, Value>) {}

/// A page's HTML and plain text, from its Markdown, as every write derives them.
fn derive_page(item: &mut Map<String, Value>) {
    let body = item
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // Checked as an API body before this, so it renders within the bounds.
    let rendered = markdown::render(&body).unwrap_or(markdown::Rendered {
        html: String::new(),
        text: String::new(),
    });
    item.insert("body_html".to_owned(), rendered.html.into());
    item.insert("body_text".to_owned(), rendered.text.into());
}

/// In the order of their references: what an item refers to comes before it.
const SECTIONS: &[Section] = &[
    Section {
        name: "partners",
        key: Partners::KEY,
        change_type: Partners::CHANGE_TYPE,
        parent: None,
        lock: Partners::WRITE_LOCK,
        order: "slug",
        derived: &[],
        tree: None,
        check: check_item::<Partners>,
        derive: derive_nothing,
    },
    Section {
        name: "pages",
        key: Pages::KEY,
        change_type: Pages::CHANGE_TYPE,
        parent: None,
        lock: Pages::WRITE_LOCK,
        order: "slug",
        derived: &["body_html", "body_text"],
        tree: Some("parent"),
        check: check_item::<Pages>,
        derive: derive_page,
    },
    Section {
        name: "funders",
        key: Funders::KEY,
        change_type: Funders::CHANGE_TYPE,
        parent: None,
        lock: Funders::WRITE_LOCK,
        order: "slug",
        derived: &[],
        tree: Some("parent"),
        check: check_item::<Funders>,
        derive: derive_nothing,
    },
    Section {
        name: "council_decisions",
        key: Decisions::KEY,
        change_type: Decisions::CHANGE_TYPE,
        parent: None,
        lock: Decisions::WRITE_LOCK,
        order: "celex",
        derived: &[],
        tree: Some("supersedes"),
        check: check_item::<Decisions>,
        derive: derive_nothing,
    },
    Section {
        name: "impact_metrics",
        key: Metrics::KEY,
        change_type: Metrics::CHANGE_TYPE,
        parent: None,
        lock: Metrics::WRITE_LOCK,
        order: "key",
        derived: &[],
        tree: None,
        check: check_item::<Metrics>,
        derive: derive_nothing,
    },
    Section {
        name: "observations",
        key: Observations::KEY,
        change_type: Observations::CHANGE_TYPE,
        parent: Some("metric"),
        lock: Observations::WRITE_LOCK,
        order: "metric, area, period_end NULLS FIRST, period_start NULLS FIRST, id",
        derived: &[],
        tree: None,
        check: check_item::<Observations>,
        derive: derive_nothing,
    },
    Section {
        name: "contacts",
        key: Contacts::KEY,
        change_type: Contacts::CHANGE_TYPE,
        parent: None,
        lock: Contacts::WRITE_LOCK,
        order: "slug",
        derived: &[],
        tree: None,
        check: check_item::<Contacts>,
        derive: derive_nothing,
    },
];

/// Checks an item as the API checks a body for it: the fields a body has, each
/// valid. The item's key goes where the API takes it from (the body, or the URL).
fn check_item<R: Resource>(item: &Map<String, Value>) -> AppResult<()> {
    let fields: HashSet<String> = match serde_json::to_value(R::Body::default()) {
        Ok(Value::Object(fields)) => fields.into_iter().map(|(name, _)| name).collect(),
        _ => HashSet::new(),
    };
    let body: Map<String, Value> = item
        .iter()
        .filter(|(name, _)| fields.contains(*name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let url_key = (!fields.contains(R::KEY))
        .then(|| item.get(R::KEY).and_then(Value::as_str))
        .flatten();
    R::validate(parse_body::<R>(body)?, url_key, None).map(|_| ())
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
            for section in SECTIONS {
                let columns: Vec<String> = columns(conn, section.name)?
                    .into_iter()
                    .filter(|c| !section.derived.contains(&c.as_str()))
                    .collect();
                let rows: Vec<Row> = diesel::sql_query(format!(
                    "SELECT to_jsonb(t) AS row FROM {} t ORDER BY {}",
                    section.name, section.order
                ))
                .load(conn)?;
                let items = in_order(rows, &columns).into_iter().map(Value::Object);
                document.insert(section.name.to_owned(), Value::Array(items.collect()));
            }
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
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .sections
            .iter()
            .map(|(name, c)| {
                format!(
                    "{}: {} created, {} updated, {} unchanged",
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
    progress: &dyn Progress,
) -> AppResult<Imported> {
    let sections = read_document(document)?;
    let total: usize = sections.iter().map(|(_, items)| items.len()).sum();
    progress.start(2 * total as u64);
    // Every item checked before anything is written, so every error is named.
    let mut errors = Vec::new();
    for (section, items) in &sections {
        for (index, item) in items.iter().enumerate() {
            if let Err(error) = (section.check)(item) {
                errors.extend(prefixed(error, &format!("/{}/{index}", section.name)));
            }
            missing_columns(section, item, index, &mut errors);
        }
        progress.advance(items.len() as u64, &format!("checked {}", section.name));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    conn.transaction(|conn| {
        history::begin(conn, &Author::system("import"), None)?;
        for section in SECTIONS {
            if let Some(lock) = section.lock {
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind::<Text, _>(lock)
                    .execute(conn)?;
            }
        }
        let mut imported = Imported::default();
        let mut changes = Vec::new();
        for (section, items) in &sections {
            let counts = write(conn, section, items, &mut changes)?;
            imported.sections.push((section.name, counts));
            progress.advance(items.len() as u64, &format!("wrote {}", section.name));
        }
        check_across(conn)?;
        changelog::append(conn, &changes, ACTOR)?;
        Ok(imported)
    })
}

/// The items of a section, as objects.
type Items = Vec<Map<String, Value>>;

/// The sections of a document, in writing order, each a list of objects.
fn read_document(document: &Value) -> AppResult<Vec<(&'static Section, Items)>> {
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
    let known: HashSet<&str> = SECTIONS
        .iter()
        .map(|s| s.name)
        .chain(["format", "format_version"])
        .collect();
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|name| !known.contains(name.as_str()))
        .map(|name| FieldError::new(format!("/{name}"), "is not a section of an export"))
        .collect();
    let mut sections = Vec::new();
    for section in SECTIONS {
        let items = match object.get(section.name) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut objects = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::Object(item) => objects.push(item.clone()),
                        _ => errors.push(FieldError::new(
                            format!("/{}/{index}", section.name),
                            "must be an object",
                        )),
                    }
                }
                objects
            }
            Some(_) => {
                errors.push(FieldError::new(
                    format!("/{}", section.name),
                    "must be a list",
                ));
                Vec::new()
            }
        };
        sections.push((section, items));
    }
    if errors.is_empty() {
        Ok(sections)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The read-only columns the API sets itself must be in the file: it carries them
/// over.
fn missing_columns(
    section: &Section,
    item: &Map<String, Value>,
    index: usize,
    errors: &mut Vec<FieldError>,
) {
    for column in ["id", "version", "created_at", "updated_at"] {
        if item.get(column).is_none_or(Value::is_null) {
            errors.push(FieldError::new(
                format!("/{}/{index}/{column}", section.name),
                "is required in an import",
            ));
        }
    }
}

/// An error's field errors under `prefix`.
fn prefixed(error: AppError, prefix: &str) -> Vec<FieldError> {
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

/// Upserts a section's items by id and notes their changes.
fn write(
    conn: &mut PgConnection,
    section: &Section,
    items: &[Map<String, Value>],
    changes: &mut Vec<changelog::Change>,
) -> AppResult<Counts> {
    let mut counts = Counts::default();
    if items.is_empty() {
        return Ok(counts);
    }
    let columns = columns(conn, section.name)?;
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
        "SELECT to_jsonb(t) AS row FROM {} t WHERE id::text = ANY($1)",
        section.name
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
        table = section.name,
        updates = updates.join(", ")
    ))
    .bind::<Jsonb, _>(Value::Array(rows))
    .load(conn)
    .map_err(|error| database_error(section, error))?;
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
        if let Some(kind) = section.change_type {
            let parent = section
                .parent
                .and_then(|column| row.row.get(column))
                .and_then(Value::as_str)
                .map(str::to_owned);
            changes.extend(changelog::changes_between(
                kind,
                parent,
                old.map(|old| snapshot(section, old)).as_ref(),
                Some(&snapshot(section, &row.row)),
            ));
        }
    }
    Ok(counts)
}

/// A stored row as the change log compares it.
fn snapshot(section: &Section, row: &Value) -> Snapshot {
    let text = |column: &str| row.get(column).and_then(Value::as_str);
    let status = text("status").and_then(|s| Status::parse(s).ok());
    let published_at = text("published_at")
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc));
    Snapshot {
        key: match row.get(section.key) {
            Some(Value::String(key)) => key.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        version: row
            .get("version")
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or_default(),
        publication: status.map(|status| (status, published_at)),
    }
}

/// A rule of the database, broken by the file, in words an admin can act on.
fn database_error(section: &Section, error: diesel::result::Error) -> AppError {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            let detail = match info.details() {
                Some(details) => format!("{} ({details})", info.message()),
                None => info.message().to_owned(),
            };
            AppError::conflict(format!("{}: {detail}", section.name))
        }
        other => other.into(),
    }
}

/// The rules across items that the database does not hold itself: no loops in a
/// tree, and a percentage is between 0 and 100.
fn check_across(conn: &mut PgConnection) -> AppResult<()> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        found: String,
    }
    let mut errors = Vec::new();
    for section in SECTIONS {
        let Some(tree) = section.tree else { continue };
        let key = section.key;
        let looped: Vec<Found> = diesel::sql_query(format!(
            "WITH RECURSIVE walk (start, node, depth) AS ( \
                 SELECT {key}, {tree}, 1 FROM {table} WHERE {tree} IS NOT NULL \
                 UNION ALL \
                 SELECT w.start, t.{tree}, w.depth + 1 FROM walk w \
                 JOIN {table} t ON t.{key} = w.node \
                 WHERE t.{tree} IS NOT NULL AND w.node <> w.start AND w.depth < 10000) \
             SELECT DISTINCT start AS found FROM walk WHERE node = start ORDER BY 1",
            table = section.name
        ))
        .load(conn)?;
        errors.extend(looped.into_iter().map(|found| {
            FieldError::new(
                format!("/{}", section.name),
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
