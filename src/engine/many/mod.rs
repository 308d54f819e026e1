//! Many writes of one resource in one transaction, addressed by a natural key: a
//! partner's batch of figures. The same path as a single write (who writes, locks,
//! validation, authorisation, the resource's rules; the database logs each item),
//! all or nothing, with a report per item and a dry run that is rolled back.
//!
//! Every item is checked before anything is written, and every bad one is named
//! (`/items/17/value`; in CSV `/rows/18/value`, the header being row 1). Scopes and
//! rows are locked in natural-key order, so that two batches that overlap wait for
//! each other instead of deadlocking.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use actix_web::HttpRequest;
use diesel::{Connection, PgConnection};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::transaction::{Author, WriteContext, begin};
use super::{Resource, Stored};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult, FieldError};

mod checks;

use checks::{authorise, recheck, scopes};

/// The most items one batch takes.
pub const MAX_ITEMS: usize = 1000;

/// Where an item's errors point: `/items/3` in JSON, `/rows/5` in CSV.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Json,
    Csv,
}

impl Source {
    pub fn pointer(self, index: usize, field: &str) -> String {
        match self {
            Self::Json => format!("/items/{index}{field}"),
            Self::Csv => format!("/rows/{}{field}", index + 2),
        }
    }

    /// An item's own errors, under its pointer.
    pub fn under(self, index: usize, errors: Vec<FieldError>) -> Vec<FieldError> {
        errors
            .into_iter()
            .map(|error| {
                let field = if error.pointer == "/" {
                    ""
                } else {
                    error.pointer.as_str()
                };
                FieldError::new(self.pointer(index, field), error.detail)
            })
            .collect()
    }
}

/// One item of a batch, checked: a write of its input, or a deletion.
pub enum Planned<R: Batched> {
    Write {
        scope: String,
        input: R::Input,
        /// The body, to check again against the row it replaces.
        body: R::Body,
    },
    Delete(R::Natural),
}

/// A resource that batches write by a natural key, many rows at once.
pub trait Batched: Resource<Body: Clone> {
    /// What names an item in a batch: an observation's metric, area and period.
    type Natural: Ord + Hash + Clone + Send + 'static;

    /// Reads and checks one item (its fields' pointers relative to it).
    fn plan(object: Map<String, Value>) -> Result<Planned<Self>, Vec<FieldError>>;

    /// The scope a natural key names (an observation's metric).
    fn scope_of(natural: &Self::Natural) -> &str;

    /// The natural key of a write, and of a stored row.
    fn natural_of(scope: &str, input: &Self::Input) -> Self::Natural;
    fn natural_of_row(row: &Self::Row) -> Self::Natural;

    /// The rules a write must keep with its scope as stored (a percentage within
    /// 0 to 100): a field error, its pointer relative to the item.
    fn fits(scope: &Self::Scope, input: &Self::Input) -> Result<(), FieldError>;

    /// The stored rows with these natural keys (sorted), locked in that order.
    fn find_many(
        conn: &mut PgConnection,
        keys: &[Self::Natural],
    ) -> AppResult<HashMap<Self::Natural, Self::Row>>;

    /// Inserts or updates every write in one statement; each row as stored, and
    /// whether it was created.
    fn save_many(
        conn: &mut PgConnection,
        writes: &[(&Self::Scope, &Self::Input)],
        context: &WriteContext,
    ) -> AppResult<Vec<(Self::Row, bool)>>;

    fn delete_many(conn: &mut PgConnection, rows: &[&Self::Row]) -> AppResult<()>;
}

/// What a batch did, or would do, to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Deleted,
}

/// The report on one item, in the order the items came.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResult {
    /// The item's place in the batch, from 0 (a CSV row is this plus 2).
    pub index: usize,
    /// What happened to it. A deletion of an item that does not exist is
    /// `unchanged`.
    pub result: Outcome,
    /// The item's id; null for a deletion of nothing, and for a creation in a dry
    /// run.
    pub id: Option<Uuid>,
    /// Its version after the batch (for a deletion, its last).
    pub version: Option<i32>,
}

/// An item of a batch, checked, with where it was.
pub struct Checked<R: Batched> {
    pub index: usize,
    pub natural: R::Natural,
    pub plan: Planned<R>,
}

/// Checks every item before anything is written; a 422 names every bad one, and
/// an item named twice (which of the two would win?).
pub fn check_all<R: Batched>(
    objects: Vec<Map<String, Value>>,
    source: Source,
) -> AppResult<Vec<Checked<R>>> {
    if objects.len() > MAX_ITEMS {
        let at = match source {
            Source::Json => "/items",
            Source::Csv => "/rows",
        };
        return Err(AppError::invalid(
            at,
            format!("a batch takes at most {MAX_ITEMS} items"),
        ));
    }
    let mut items = Vec::with_capacity(objects.len());
    let mut errors = Vec::new();
    let mut seen: HashMap<R::Natural, usize> = HashMap::new();
    for (index, object) in objects.into_iter().enumerate() {
        let plan = match R::plan(object) {
            Ok(plan) => plan,
            Err(item_errors) => {
                errors.extend(source.under(index, item_errors));
                continue;
            }
        };
        let natural = match &plan {
            Planned::Write { scope, input, .. } => R::natural_of(scope, input),
            Planned::Delete(natural) => natural.clone(),
        };
        if let Some(first) = seen.insert(natural.clone(), index) {
            errors.push(FieldError::new(
                source.pointer(index, ""),
                format!(
                    "the same item as {}: a batch names each at most once",
                    source.pointer(first, "")
                ),
            ));
        }
        items.push(Checked {
            index,
            natural,
            plan,
        });
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Runs checked items inside the caller's transaction: locks, authorises, checks
/// again, writes, and reports on each.
pub fn save_all<R: Batched>(
    conn: &mut PgConnection,
    mut items: Vec<Checked<R>>,
    caller: &Caller,
    source: Source,
    dry_run: bool,
) -> AppResult<Vec<ItemResult>> {
    let scopes = scopes(conn, &items, source)?;
    // Natural-key order: the order every batch takes its locks in.
    items.sort_by(|a, b| a.natural.cmp(&b.natural));
    let keys: Vec<R::Natural> = items.iter().map(|item| item.natural.clone()).collect();
    let existing = R::find_many(conn, &keys)?;
    authorise(caller, &items, &scopes, &existing, source)?;
    recheck(&mut items, &scopes, &existing, source)?;

    let mut writes = Vec::new();
    for item in &items {
        if let Planned::Write { scope, input, .. } = &item.plan
            && let Some(scope) = scopes.get(scope.as_str())
        {
            writes.push((scope, input));
        }
    }
    let stored = if writes.is_empty() {
        Vec::new()
    } else {
        R::save_many(conn, &writes, &WriteContext::of(caller))?
    };
    let stored: HashMap<R::Natural, (R::Row, bool)> = stored
        .into_iter()
        .map(|(row, created)| (R::natural_of_row(&row), (row, created)))
        .collect();
    let deletions: Vec<&R::Row> = items
        .iter()
        .filter(|item| matches!(item.plan, Planned::Delete(_)))
        .filter_map(|item| existing.get(&item.natural))
        .collect();
    if !deletions.is_empty() {
        R::delete_many(conn, &deletions)?;
    }
    let mut results = BTreeMap::new();
    for item in &items {
        let old = existing.get(&item.natural);
        let result = match (&item.plan, stored.get(&item.natural)) {
            (Planned::Write { .. }, Some((row, created))) => {
                let outcome = match (created, old) {
                    (true, _) => Outcome::Created,
                    (false, Some(old)) if old.version() == row.version() => Outcome::Unchanged,
                    (false, _) => Outcome::Updated,
                };
                let id = (!(dry_run && outcome == Outcome::Created)).then(|| row.id());
                ItemResult {
                    index: item.index,
                    result: outcome,
                    id,
                    version: Some(row.version()),
                }
            }
            (Planned::Write { .. }, None) => {
                return Err(AppError::internal("a written item was not stored"));
            }
            (Planned::Delete(_), _) => ItemResult {
                index: item.index,
                result: old.map_or(Outcome::Unchanged, |_| Outcome::Deleted),
                id: old.map(Stored::id),
                version: old.map(Stored::version),
            },
        };
        results.insert(item.index, result);
    }
    Ok(results.into_values().collect())
}

/// A dry run's transaction ends in this, so that it is rolled back.
enum Ending {
    DryRun(Vec<ItemResult>),
    Failed(AppError),
}

impl From<diesel::result::Error> for Ending {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

/// A batch in its own transaction, for the request's caller: written, or, in a
/// dry run, reported and rolled back.
pub async fn run<R: Batched>(
    db: &Db,
    caller: Caller,
    req: &HttpRequest,
    items: Vec<Checked<R>>,
    source: Source,
    dry_run: bool,
) -> AppResult<Vec<ItemResult>> {
    let author = Author::of(&caller, req);
    db.run(move |conn| {
        let ran = conn.transaction::<Vec<ItemResult>, Ending, _>(|conn| {
            begin(conn, &author, None).map_err(Ending::Failed)?;
            let results =
                save_all::<R>(conn, items, &caller, source, dry_run).map_err(Ending::Failed)?;
            if dry_run {
                Err(Ending::DryRun(results))
            } else {
                Ok(results)
            }
        });
        match ran {
            Ok(results) | Err(Ending::DryRun(results)) => Ok(results),
            Err(Ending::Failed(error)) => Err(R::DESCRIPTOR.explain(error, &[])),
        }
    })
    .await
}
