//! Many writes of one resource in one transaction, addressed by a natural key: a
//! partner's batch of figures. The same path as a single write (who writes, locks,
//! validation, authorisation, the resource's rules; the database logs each item),
//! all or nothing, with a report per item and a dry run that is rolled back.
//!
//! Every item and every field is checked before anything is written, and every
//! mistake is named in one 422, in the order of the items: what an item says
//! (types, formats, values, unknown fields), the same item twice, what it names
//! (a scope that does not exist or that the caller may not see), what the caller
//! may write, and what it must fit (a percentage within 0 to 100). Each error
//! points into the body (`/items/17/value`; in CSV `/rows/18/value`, the row as a
//! spreadsheet numbers it) and has a code. Scopes are locked in key order, so that
//! two batches that overlap wait for each other instead of deadlocking; every
//! write of a scope's rows (a single one too) holds its scope first, so the rows
//! read under that lock stay as read until the batch writes them, and need no
//! lock of their own (locking 1,000 rows took 5-7 ms in psql).

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
use crate::platform::error::{AppError, AppResult, FieldError, codes};

mod checks;

use checks::{authorise, recheck, scopes};

/// The most items one batch takes.
pub const MAX_ITEMS: usize = 1000;

/// Where an item of a batch came from: its place in a JSON body's `items` (from
/// 0), or its row in a CSV body as a spreadsheet numbers it (the header is row 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Item(usize),
    Row(usize),
}

impl Place {
    /// The pointer of one of its fields (`/value`), or of it (empty).
    pub fn pointer(self, field: &str) -> String {
        match self {
            Self::Item(index) => format!("/items/{index}{field}"),
            Self::Row(row) => format!("/rows/{row}{field}"),
        }
    }
}

/// An item of a batch as it came: where, and its fields or what made them
/// unreadable (pointers relative to the item).
#[derive(Debug)]
pub struct Incoming {
    pub place: Place,
    pub object: Result<Map<String, Value>, Vec<FieldError>>,
}

/// Every mistake found in a batch, each under its item, kept in the items' order.
#[derive(Debug, Default)]
pub struct Mistakes(Vec<(usize, FieldError)>);

impl Mistakes {
    /// Errors of the item at `index` (its place in the body), relative to it.
    pub fn add(
        &mut self,
        index: usize,
        place: Place,
        errors: impl IntoIterator<Item = FieldError>,
    ) {
        let prefix = place.pointer("");
        self.0.extend(
            errors
                .into_iter()
                .map(|error| (index, error.under(&prefix))),
        );
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One 422 naming every mistake, in the order of the items (and within an
    /// item, in the order they were found).
    fn into_error(mut self) -> AppError {
        self.0.sort_by_key(|(index, _)| *index);
        AppError::Validation(self.0.into_iter().map(|(_, error)| error).collect())
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

    /// The stored rows with these natural keys, read under their scopes' locks.
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
    /// The item's place in the batch, from 0.
    pub index: usize,
    /// In a CSV batch, its row as a spreadsheet numbers it (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// What happened to it. A deletion of an item that does not exist is
    /// `unchanged`.
    pub result: Outcome,
    /// The item's id; null for a deletion of nothing, and for a creation in a dry
    /// run.
    pub id: Option<Uuid>,
    /// Its version after the batch (for a deletion, its last).
    pub version: Option<i32>,
    /// Its status after the batch (`draft` unless the item said otherwise), for a
    /// write; absent for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "draft")]
    pub status: Option<&'static str>,
}

/// An item of a batch, checked, with where it was.
pub struct Checked<R: Batched> {
    pub index: usize,
    pub place: Place,
    pub natural: R::Natural,
    pub plan: Planned<R>,
}

/// Reads every item before the transaction: the items that read, and the
/// mistakes of those that do not (and of an item named twice: which of the two
/// would win?).
pub fn check_all<R: Batched>(incoming: Vec<Incoming>) -> AppResult<(Vec<Checked<R>>, Mistakes)> {
    if incoming.len() > MAX_ITEMS {
        let at = match incoming.first().map(|item| item.place) {
            Some(Place::Row(_)) => "/rows",
            _ => "/items",
        };
        return Err(AppError::invalid(
            at,
            format!(
                "a batch takes at most {MAX_ITEMS} items; this one has {}",
                incoming.len()
            ),
        ));
    }
    let mut items = Vec::with_capacity(incoming.len());
    let mut mistakes = Mistakes::default();
    let mut seen: HashMap<R::Natural, Place> = HashMap::new();
    for (index, Incoming { place, object }) in incoming.into_iter().enumerate() {
        let plan = match object.and_then(R::plan) {
            Ok(plan) => plan,
            Err(errors) => {
                mistakes.add(index, place, errors);
                continue;
            }
        };
        let natural = match &plan {
            Planned::Write { scope, input, .. } => R::natural_of(scope, input),
            Planned::Delete(natural) => natural.clone(),
        };
        if let Some(first) = seen.insert(natural.clone(), place) {
            let twice = FieldError::coded(
                codes::DUPLICATE,
                "",
                format!(
                    "is the same item as {}: a batch names each at most once",
                    first.pointer("")
                ),
            );
            mistakes.add(index, place, [twice]);
            continue;
        }
        items.push(Checked {
            index,
            place,
            natural,
            plan,
        });
    }
    Ok((items, mistakes))
}

/// Runs checked items inside the caller's transaction: locks, checks what they
/// name, authorises, checks again against what is stored, and then, if nothing in
/// the whole batch is wrong, writes and reports on each.
pub fn save_all<R: Batched>(
    conn: &mut PgConnection,
    items: Vec<Checked<R>>,
    mut mistakes: Mistakes,
    caller: &Caller,
    dry_run: bool,
) -> AppResult<Vec<ItemResult>> {
    let scopes = scopes(conn, &items, caller, &mut mistakes)?;
    // What names a scope that is not there goes no further.
    let mut items: Vec<Checked<R>> = items
        .into_iter()
        .filter(|item| scopes.contains_key(R::scope_of(&item.natural)))
        .collect();
    // Natural-key order: the order every batch takes its locks in.
    items.sort_by(|a, b| a.natural.cmp(&b.natural));
    let keys: Vec<R::Natural> = items.iter().map(|item| item.natural.clone()).collect();
    let existing = R::find_many(conn, &keys)?;
    authorise(caller, &items, &scopes, &existing, &mut mistakes);
    recheck(&mut items, &scopes, &existing, &mut mistakes)?;
    if !mistakes.is_empty() {
        return Err(mistakes.into_error());
    }

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
    report(&items, &existing, &stored, dry_run)
}

/// The report on each item, in the order they came.
fn report<R: Batched>(
    items: &[Checked<R>],
    existing: &HashMap<R::Natural, R::Row>,
    stored: &HashMap<R::Natural, (R::Row, bool)>,
    dry_run: bool,
) -> AppResult<Vec<ItemResult>> {
    let mut results = BTreeMap::new();
    for item in items {
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
                    row: row_of(item.place),
                    result: outcome,
                    id,
                    version: Some(row.version()),
                    status: row.publication().map(|(status, _)| status.as_str()),
                }
            }
            (Planned::Write { .. }, None) => {
                return Err(AppError::internal("a written item was not stored"));
            }
            (Planned::Delete(_), _) => ItemResult {
                index: item.index,
                row: row_of(item.place),
                result: old.map_or(Outcome::Unchanged, |_| Outcome::Deleted),
                id: old.map(Stored::id),
                version: old.map(Stored::version),
                status: None,
            },
        };
        results.insert(item.index, result);
    }
    Ok(results.into_values().collect())
}

fn row_of(place: Place) -> Option<usize> {
    match place {
        Place::Row(row) => Some(row),
        Place::Item(_) => None,
    }
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
    incoming: Vec<Incoming>,
    dry_run: bool,
) -> AppResult<Vec<ItemResult>> {
    let (items, mistakes) = check_all::<R>(incoming)?;
    let author = Author::of(&caller, req);
    db.run(move |conn| {
        let ran = conn.transaction::<Vec<ItemResult>, Ending, _>(|conn| {
            begin(conn, &author, None).map_err(Ending::Failed)?;
            let results =
                save_all::<R>(conn, items, mistakes, &caller, dry_run).map_err(Ending::Failed)?;
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
