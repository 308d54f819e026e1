//! `POST /api/v1/observations/batch`: up to 1,000 observations across metrics,
//! upserted by their natural key (metric, area, period) or deleted by it, all or
//! nothing, in JSON (`{"items": [...]}`) or CSV, with a report per item.
//!
//! Every item is checked before anything is written: if one is invalid, the answer
//! is a 422 that names every bad item (`/items/17/value`; in CSV `/rows/18/value`,
//! the row counted with the header as row 1). Rows are locked in natural-key order,
//! so two batches that overlap wait for each other instead of deadlocking, and the
//! upsert is one `INSERT ... ON CONFLICT`, so neither loses the other's write.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, Bool, Date, Float8, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::content::observations::{
    CSV_COLUMNS, Observation, ObservationBody, ObservationInput, Observations, ParentMetric,
};
use crate::engine::Resource;
use crate::engine::docs::required_fields;
use crate::engine::handlers::parse_body;
use crate::features::changes::{self as changelog, Snapshot};
use crate::features::history::{self, Author};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::db::schema::{impact_metrics, observations};
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::{self, csv};
use crate::platform::openapi::problems::{
    BadBody, Conflict, Forbidden, Invalid, NoToken, PayloadTooLarge, Unavailable,
    UnsupportedMediaType,
};
use crate::platform::openapi::schemas;
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query;
use crate::platform::validate::{Area, Check, Slug, parse_date};
use crate::platform::visibility::Status;
use serde_json::json;
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// The most items one batch takes.
pub const MAX_ITEMS: usize = 1000;

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
    /// What happened to it. A deletion of an observation that does not exist is
    /// `unchanged`.
    pub result: Outcome,
    /// The observation's id; null for a deletion of nothing, and for a creation in a
    /// dry run.
    pub id: Option<Uuid>,
    /// Its version after the batch (for a deletion, its last).
    pub version: Option<i32>,
}

/// The answer to a batch.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": false, "results": [
    {"index": 0, "result": "created", "id": "0b3c2d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d", "version": 1},
    {"index": 1, "result": "unchanged", "id": "5eed0000-0000-4000-8000-000000000703", "version": 1}]}))]
pub struct BatchReport {
    /// Whether this was a dry run: validated and reported, nothing written.
    pub dry_run: bool,
    /// One result per item, in order.
    pub results: Vec<ItemResult>,
}

/// An item, checked.
#[derive(Debug)]
struct Item {
    index: usize,
    metric: String,
    area: String,
    period_start: Option<NaiveDate>,
    period_end: Option<NaiveDate>,
    /// `None` for a deletion. The body, for checking again against the row it
    /// replaces (a published figure without a date keeps its date).
    write: Option<(ObservationInput, ObservationBody)>,
}

impl Item {
    fn natural_key(&self) -> NaturalKey {
        (
            self.metric.clone(),
            self.area.clone(),
            self.period_start,
            self.period_end,
        )
    }
}

type NaturalKey = (String, String, Option<NaiveDate>, Option<NaiveDate>);

/// Where an item's errors point: `/items/3` in JSON, `/rows/5` in CSV.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Json,
    Csv,
}

impl Source {
    fn pointer(self, index: usize, field: &str) -> String {
        match self {
            Self::Json => format!("/items/{index}{field}"),
            Self::Csv => format!("/rows/{}{field}", index + 2),
        }
    }
}

/// Moves an item's own errors under its pointer.
fn under(source: Source, index: usize, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|error| {
            let field = if error.pointer == "/" {
                String::new()
            } else {
                error.pointer
            };
            FieldError::new(source.pointer(index, &field), error.detail)
        })
        .collect()
}

/// Checks one item.
fn check_item(
    index: usize,
    mut object: Map<String, Value>,
    source: Source,
) -> Result<Item, Vec<FieldError>> {
    let mut check = Check::default();
    let metric = object.remove("metric").map(|value| match value {
        Value::String(text) => text,
        other => other.to_string(),
    });
    let metric = check
        .required("metric", metric, Slug::parse)
        .map(Slug::into_inner);
    let delete = match object.remove("delete") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            check.fail("delete", "must be true or false");
            false
        }
    };
    let finish = |check: Check| -> Result<(), Vec<FieldError>> {
        match check.finish(()) {
            Ok(()) => Ok(()),
            Err(AppError::Validation(errors)) => Err(errors),
            Err(_) => Err(Vec::new()),
        }
    };
    if delete {
        let text = |object: &mut Map<String, Value>, field: &str| {
            object
                .remove(field)
                .and_then(|value| value.as_str().map(str::to_owned))
        };
        let area = check.required("area", text(&mut object, "area"), Area::parse);
        let start = check.parsed(
            "period_start",
            text(&mut object, "period_start"),
            parse_date,
        );
        let end = check.parsed("period_end", text(&mut object, "period_end"), parse_date);
        finish(check).map_err(|errors| under(source, index, errors))?;
        return Ok(Item {
            index,
            metric: metric.unwrap_or_default(),
            area: area.map(Area::into_inner).unwrap_or_default(),
            period_start: start,
            period_end: end,
            write: None,
        });
    }
    let body = parse_body::<Observations>(object).map_err(|error| match error {
        AppError::BadRequest { errors, .. } => under(source, index, errors),
        other => under(source, index, vec![FieldError::new("/", other.to_string())]),
    });
    let mut errors = match finish(check) {
        Ok(()) => Vec::new(),
        Err(errors) => under(source, index, errors),
    };
    let body = match body {
        Ok(body) => body,
        Err(mut body_errors) => {
            errors.append(&mut body_errors);
            return Err(errors);
        }
    };
    let again = body.clone();
    match Observations::validate(body, None, None) {
        Ok(input) if errors.is_empty() => Ok(Item {
            index,
            metric: metric.unwrap_or_default(),
            area: input.area.as_str().to_owned(),
            period_start: input.period_start,
            period_end: input.period_end,
            write: Some((input, again)),
        }),
        Ok(_) => Err(errors),
        Err(AppError::Validation(mut invalid)) => {
            errors.append(&mut under(source, index, std::mem::take(&mut invalid)));
            Err(errors)
        }
        Err(other) => Err(vec![FieldError::new(
            source.pointer(index, ""),
            other.to_string(),
        )]),
    }
}

/// Checks every item; a 422 names every bad one.
fn check_all(objects: Vec<Map<String, Value>>, source: Source) -> AppResult<Vec<Item>> {
    if objects.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            match source {
                Source::Json => "/items",
                Source::Csv => "/rows",
            },
            format!("a batch takes at most {MAX_ITEMS} items"),
        ));
    }
    let mut items = Vec::with_capacity(objects.len());
    let mut errors = Vec::new();
    let mut seen: HashMap<NaturalKey, usize> = HashMap::new();
    for (index, object) in objects.into_iter().enumerate() {
        match check_item(index, object, source) {
            Ok(item) => {
                if let Some(first) = seen.insert(item.natural_key(), index) {
                    errors.push(FieldError::new(
                        source.pointer(index, ""),
                        format!(
                            "the same observation (metric, area and period) as {}",
                            source.pointer(first, "")
                        ),
                    ));
                }
                items.push(item);
            }
            Err(mut item_errors) => errors.append(&mut item_errors),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The items of a JSON batch body.
fn json_items(object: Map<String, Value>) -> AppResult<Vec<Map<String, Value>>> {
    let mut object = object;
    let items = object
        .remove("items")
        .ok_or_else(|| AppError::invalid("/items", crate::platform::validate::REQUIRED))?;
    if let Some((key, _)) = object.into_iter().next() {
        return Err(AppError::bad_request(
            format!("/{key}"),
            format!("unknown field {key}"),
        ));
    }
    let Value::Array(items) = items else {
        return Err(AppError::bad_request("/items", "items must be an array"));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(object) => Ok(object),
            _ => Err(AppError::bad_request(
                format!("/items/{index}"),
                "an item must be an object",
            )),
        })
        .collect()
}

/// The rows of a CSV batch: the columns of the export, and `delete`; the export's
/// read-only columns are ignored.
async fn csv_items(req: &HttpRequest, payload: web::Payload) -> AppResult<Vec<Map<String, Value>>> {
    let mut columns = CSV_COLUMNS.to_vec();
    columns.push("delete");
    let mut rows =
        csv::read_rows(req, payload, &columns, &["value", "value_max"], &["delete"]).await?;
    for row in &mut rows {
        for read_only in ["id", "partner", "version", "created_at", "updated_at"] {
            row.remove(read_only);
        }
    }
    Ok(rows)
}

/// The metrics a batch names, held in key order so their units cannot change under
/// it and so the trigger that gives each a new ETag waits for no other writer.
fn metrics(
    conn: &mut PgConnection,
    items: &[Item],
    source: Source,
) -> AppResult<HashMap<String, ParentMetric>> {
    let mut keys: Vec<&str> = items.iter().map(|item| item.metric.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let found: Vec<ParentMetric> = impact_metrics::table
        .filter(impact_metrics::key.eq_any(&keys))
        .order(impact_metrics::key)
        .select(ParentMetric::as_select())
        .for_no_key_update()
        .load(conn)?;
    let found: HashMap<String, ParentMetric> = found
        .into_iter()
        .map(|metric| (metric.key.clone(), metric))
        .collect();
    let missing: Vec<FieldError> = items
        .iter()
        .filter(|item| !found.contains_key(&item.metric))
        .map(|item| {
            FieldError::new(
                source.pointer(item.index, "/metric"),
                format!("there is no impact metric with key {}", item.metric),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(AppError::Conflict {
            detail: format!("{} items name a metric that does not exist", missing.len()),
            errors: missing,
        });
    }
    Ok(found)
}

/// The observations the batch touches, locked in natural-key order.
fn lock_existing(
    conn: &mut PgConnection,
    items: &[Item],
) -> AppResult<HashMap<NaturalKey, Observation>> {
    let rows: Vec<Observation> = diesel::sql_query(
        "SELECT o.* FROM observations o \
         JOIN unnest($1::text[], $2::text[], $3::date[], $4::date[]) AS k(metric, area, ps, pe) \
           ON o.metric = k.metric AND o.area = k.area \
          AND coalesce(o.period_start, '-infinity'::date) = coalesce(k.ps, '-infinity'::date) \
          AND coalesce(o.period_end, 'infinity'::date) = coalesce(k.pe, 'infinity'::date) \
         ORDER BY o.metric, o.area, coalesce(o.period_start, '-infinity'::date), \
                  coalesce(o.period_end, 'infinity'::date) \
         FOR UPDATE OF o",
    )
    .bind::<Array<Text>, _>(items.iter().map(|i| i.metric.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items.iter().map(|i| i.area.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Date>>, _>(items.iter().map(|i| i.period_start).collect::<Vec<_>>())
    .bind::<Array<Nullable<Date>>, _>(items.iter().map(|i| i.period_end).collect::<Vec<_>>())
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                (
                    row.metric.clone(),
                    row.area.clone(),
                    row.period_start,
                    row.period_end,
                ),
                row,
            )
        })
        .collect())
}

/// A partner's token writes only in its areas and metrics, and only its own.
fn authorise(
    caller: &Caller,
    items: &[Item],
    metrics: &HashMap<String, ParentMetric>,
    existing: &HashMap<NaturalKey, Observation>,
    source: Source,
) -> AppResult<()> {
    let mut refusals = Vec::new();
    for item in items {
        let Some(metric) = metrics.get(&item.metric) else {
            continue;
        };
        let old = existing.get(&item.natural_key());
        let refused = match &item.write {
            Some((input, _)) => Observations::authorise(caller, metric, old, Some(input)),
            None => match old {
                Some(old) => Observations::authorise(caller, metric, Some(old), None),
                None => Ok(()),
            },
        };
        if let Err(AppError::Forbidden(detail)) = refused {
            refusals.push(format!("{}: {detail}", source.pointer(item.index, "")));
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(AppError::Forbidden(refusals.join("; ")))
    }
}

/// What is stored of one upserted item.
#[derive(Debug, QueryableByName)]
struct Upserted {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Bool)]
    inserted: bool,
    #[diesel(sql_type = Text)]
    metric: String,
    #[diesel(sql_type = Text)]
    area: String,
    #[diesel(sql_type = Nullable<Date>)]
    period_start: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    period_end: Option<NaiveDate>,
}

impl Upserted {
    fn natural_key(&self) -> NaturalKey {
        (
            self.metric.clone(),
            self.area.clone(),
            self.period_start,
            self.period_end,
        )
    }
}

/// Upserts the writes in one statement, in natural-key order.
fn upsert(
    conn: &mut PgConnection,
    writes: &[(&Item, &ObservationInput)],
    caller: &Caller,
) -> AppResult<Vec<Upserted>> {
    let partner = caller.partner.as_ref();
    let reported_by = |input: &ObservationInput| match partner {
        Some(partner) => Some(partner.name.clone()),
        None => input.reported_by.clone(),
    };
    // One array per column, in the writes' order.
    fn each<T>(
        writes: &[(&Item, &ObservationInput)],
        f: impl Fn(&Item, &ObservationInput) -> T,
    ) -> Vec<T> {
        writes.iter().map(|(item, input)| f(item, input)).collect()
    }
    Ok(diesel::sql_query(
        "INSERT INTO observations (metric, area, period_start, period_end, value, value_max, \
             qualifier, as_of, source_url, note, reported_by, status, published_at, partner, \
             created_by) \
         SELECT metric, area, ps, pe, v, vm, q, ao, su, n, rb, st, pa, $14, $15 \
         FROM unnest($1::text[], $2::text[], $3::date[], $4::date[], $5::float8[], $6::float8[], \
                     $7::text[], $8::date[], $9::text[], $10::text[], $11::text[], $12::text[], \
                     $13::timestamptz[]) WITH ORDINALITY \
              AS u(metric, area, ps, pe, v, vm, q, ao, su, n, rb, st, pa, ordinal) \
         ORDER BY ordinal \
         ON CONFLICT (metric, area, coalesce(period_start, '-infinity'::date), \
                      coalesce(period_end, 'infinity'::date)) DO UPDATE SET \
             value = excluded.value, value_max = excluded.value_max, \
             qualifier = excluded.qualifier, as_of = excluded.as_of, \
             source_url = excluded.source_url, note = excluded.note, \
             reported_by = excluded.reported_by, status = excluded.status, \
             published_at = excluded.published_at \
         RETURNING id, version, (xmax = 0) AS inserted, metric, area, period_start, period_end",
    )
    .bind::<Array<Text>, _>(each(writes, |item, _| item.metric.clone()))
    .bind::<Array<Text>, _>(each(writes, |item, _| item.area.clone()))
    .bind::<Array<Nullable<Date>>, _>(each(writes, |item, _| item.period_start))
    .bind::<Array<Nullable<Date>>, _>(each(writes, |item, _| item.period_end))
    .bind::<Array<Float8>, _>(each(writes, |_, input| input.value))
    .bind::<Array<Nullable<Float8>>, _>(each(writes, |_, input| input.value_max))
    .bind::<Array<Text>, _>(each(writes, |_, input| input.qualifier.as_str().to_owned()))
    .bind::<Array<Nullable<Date>>, _>(each(writes, |_, input| input.as_of))
    .bind::<Array<Nullable<Text>>, _>(each(writes, |_, input| input.source_url.clone()))
    .bind::<Array<Nullable<Text>>, _>(each(writes, |_, input| input.note.clone()))
    .bind::<Array<Nullable<Text>>, _>(each(writes, |_, input| reported_by(input)))
    .bind::<Array<Text>, _>(each(writes, |_, input| {
        input.publication.status.as_str().to_owned()
    }))
    .bind::<Array<Nullable<Timestamptz>>, _>(each(writes, |_, input| {
        input.publication.published_at
    }))
    .bind::<Nullable<Text>, _>(partner.map(|partner| partner.slug.clone()))
    .bind::<Text, _>(caller.name())
    .load(conn)?)
}

/// Runs a checked batch inside the caller's transaction.
fn apply(
    conn: &mut PgConnection,
    mut items: Vec<Item>,
    caller: &Caller,
    source: Source,
    dry_run: bool,
) -> AppResult<Vec<ItemResult>> {
    let metrics = metrics(conn, &items, source)?;
    // Natural-key order: the order every batch takes its locks in.
    items.sort_by_key(Item::natural_key);
    let existing = lock_existing(conn, &items)?;
    authorise(caller, &items, &metrics, &existing, source)?;

    // Checked again against what they replace: a published figure sent without a
    // date keeps its date, as a PUT would.
    let mut conflicts = Vec::new();
    for item in &mut items {
        let old = existing.get(&item.natural_key());
        if let (Some((input, body)), Some(old)) = (&mut item.write, old) {
            *input = Observations::validate(body.clone(), None, Some(old))?;
        }
        if let (Some((input, _)), Some(metric)) = (&item.write, metrics.get(&item.metric))
            && let Err(detail) = input.fits(metric.unit)
        {
            conflicts.push(FieldError::new(
                source.pointer(item.index, "/value"),
                detail,
            ));
        }
    }
    if !conflicts.is_empty() {
        return Err(AppError::Conflict {
            detail: format!("{} items do not fit their metric", conflicts.len()),
            errors: conflicts,
        });
    }

    let writes: Vec<(&Item, &ObservationInput)> = items
        .iter()
        .filter_map(|item| item.write.as_ref().map(|(input, _)| (item, input)))
        .collect();
    let upserted = if writes.is_empty() {
        Vec::new()
    } else {
        upsert(conn, &writes, caller)?
    };
    let mut results: BTreeMap<usize, ItemResult> = BTreeMap::new();
    let mut changes = Vec::new();
    // Each stored row back to its item, by natural key (one item per key).
    let by_key: HashMap<NaturalKey, (&Item, &ObservationInput)> = writes
        .iter()
        .map(|(item, input)| (item.natural_key(), (*item, *input)))
        .collect();
    for row in upserted {
        let Some(&(item, input)) = by_key.get(&row.natural_key()) else {
            return Err(AppError::internal("an upserted row matched no item"));
        };
        let old = existing.get(&item.natural_key());
        let result = match (row.inserted, old) {
            (true, _) => Outcome::Created,
            (false, Some(old)) if old.version == row.version => Outcome::Unchanged,
            (false, _) => Outcome::Updated,
        };
        if let Some(metric) = metrics.get(&item.metric) {
            let before = match old {
                Some(old) => Some(snapshot(
                    metric,
                    old.id,
                    old.version,
                    (old.status, old.published_at),
                )),
                // Created meanwhile by a batch that committed while this one waited
                // for it: an update of a row whose earlier state this one never saw.
                None if !row.inserted => Some(Snapshot {
                    key: row.id.to_string(),
                    version: row.version - 1,
                    publication: None,
                }),
                None => None,
            };
            let after = snapshot(
                metric,
                row.id,
                row.version,
                (input.publication.status, input.publication.published_at),
            );
            changes.extend(changelog::changes_between(
                CHANGE_TYPE,
                Some(item.metric.clone()),
                before.as_ref(),
                Some(&after),
            ));
        }
        results.insert(
            item.index,
            ItemResult {
                index: item.index,
                result,
                id: (!(dry_run && result == Outcome::Created)).then_some(row.id),
                version: Some(row.version),
            },
        );
    }
    let deletions: Vec<Uuid> = items
        .iter()
        .filter(|item| item.write.is_none())
        .filter_map(|item| existing.get(&item.natural_key()).map(|old| old.id))
        .collect();
    if !deletions.is_empty() {
        diesel::delete(observations::table.filter(observations::id.eq_any(&deletions)))
            .execute(conn)
            .map_err(crate::platform::db::errors::on_delete)?;
    }
    for item in items.iter().filter(|item| item.write.is_none()) {
        let old = existing.get(&item.natural_key());
        if let (Some(old), Some(metric)) = (old, metrics.get(&item.metric)) {
            let before = snapshot(metric, old.id, old.version, (old.status, old.published_at));
            changes.extend(changelog::changes_between(
                CHANGE_TYPE,
                Some(item.metric.clone()),
                Some(&before),
                None,
            ));
        }
        results.insert(
            item.index,
            ItemResult {
                index: item.index,
                result: if old.is_some() {
                    Outcome::Deleted
                } else {
                    Outcome::Unchanged
                },
                id: old.map(|old| old.id),
                version: old.map(|old| old.version),
            },
        );
    }
    // A dry run is rolled back: it need not queue behind every writer for the log.
    if !dry_run {
        changelog::append(conn, &changes, &caller.name())?;
    }
    Ok(results.into_values().collect())
}

const CHANGE_TYPE: &str = match Observations::CHANGE_TYPE {
    Some(kind) => kind,
    None => "observation",
};

/// An observation as the change log compares it, public only with its metric.
fn snapshot(
    metric: &ParentMetric,
    id: Uuid,
    version: i32,
    own: (Status, Option<DateTime<Utc>>),
) -> Snapshot {
    Snapshot {
        key: id.to_string(),
        version,
        publication: Some(metric.public_with(own)),
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

pub async fn upsert_observations(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::WriteObservations)?;
    let mut dry_run = false;
    for (key, value) in query::pairs(req.query_string())? {
        dry_run = match (key.as_str(), value.as_str()) {
            ("dry_run", "true") => true,
            ("dry_run", "false") => false,
            ("dry_run", _) => {
                return Err(AppError::bad_request(
                    "dry_run",
                    "dry_run must be true or false",
                ));
            }
            _ => {
                return Err(AppError::bad_request(
                    key.clone(),
                    format!("unknown parameter {key}; allowed: dry_run"),
                ));
            }
        };
    }
    let (objects, source) = if csv::is_csv(&req) {
        (csv_items(&req, payload).await?, Source::Csv)
    } else {
        (
            json_items(http::json_object(&req, payload).await?)?,
            Source::Json,
        )
    };
    let items = check_all(objects, source)?;
    let author = Author::of(&caller, &req);
    let results = db
        .run(move |conn| {
            let ran = conn.transaction::<Vec<ItemResult>, Ending, _>(|conn| {
                history::begin(conn, &author, None).map_err(Ending::Failed)?;
                let results =
                    apply(conn, items, &caller, source, dry_run).map_err(Ending::Failed)?;
                if dry_run {
                    Err(Ending::DryRun(results))
                } else {
                    Ok(results)
                }
            });
            match ran {
                Ok(results) | Err(Ending::DryRun(results)) => Ok(results),
                Err(Ending::Failed(error)) => Err(error),
            }
        })
        .await?;
    let report =
        serde_json::to_value(BatchReport { dry_run, results }).map_err(AppError::internal)?;
    Ok(http::written(StatusCode::OK, &report, None))
}

/// The body of a JSON batch, for the document: items that are observations with
/// their metric, or deletions by natural key.
fn batch_schema() -> RefOr<Schema> {
    let observation = schemas::body(
        ObservationBody::schema(),
        &required_fields::<Observations>(),
        "",
        schemas::BodyUse::Create,
    );
    let mut upsert = serde_json::to_value(observation).unwrap_or_default();
    if let Some(object) = upsert.as_object_mut() {
        object.remove("example");
        object.insert("description".to_owned(), json!("An observation to create, or to update if one with its metric, area and period exists."));
    }
    upsert["properties"]["metric"] =
        json!({"$ref": "#/components/schemas/Slug", "description": "The metric's key."});
    upsert["properties"]["delete"] = json!({"type": "boolean", "enum": [false]});
    if let Some(Value::Array(required)) = upsert.get_mut("required") {
        required.insert(0, json!("metric"));
    }
    let deletion = json!({
        "type": "object",
        "description": "The natural key of an observation to delete; deleting one that does not exist changes nothing.",
        "required": ["metric", "area", "delete"],
        "properties": {
            "metric": {"$ref": "#/components/schemas/Slug"},
            "area": {"$ref": "#/components/schemas/Area"},
            "period_start": {"type": ["string", "null"], "format": "date"},
            "period_end": {"type": ["string", "null"], "format": "date"},
            "delete": {"type": "boolean", "enum": [true]}
        },
        "additionalProperties": false
    });
    serde_json::from_value(json!({
        "type": "object",
        "required": ["items"],
        "additionalProperties": false,
        "properties": {
            "items": {
                "type": "array",
                "maxItems": MAX_ITEMS,
                "description": "Up to 1,000 items, across metrics.",
                "items": {"oneOf": [upsert, deletion]}
            }
        },
        "example": {"items": [
            {"metric": "women-in-armed-forces", "area": "RS", "period_start": "2024-01-01",
             "period_end": "2024-12-31", "value": 11, "status": "published"},
            {"metric": "women-in-armed-forces", "area": "RS", "period_start": "2023-01-01",
             "period_end": "2023-12-31", "delete": true}]}
    }))
    .unwrap_or_else(|_| RefOr::T(Schema::default()))
}

fn csv_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "RFC 4180 CSV with a header row, the columns of the CSV export ({}); read-only \
             columns are ignored, an empty cell is no value, and a `delete` column with `true` \
             deletes the row's observation. Errors name rows as `/rows/N`, the header being row 1.",
            CSV_COLUMNS.join(", ")
        )))
        .into()
}

pub fn upsert_observations_doc() -> Doc {
    Doc::new(
        "upsert_observations",
        "impact-metrics",
        "Upsert observations in a batch",
    )
    .describe(
        "Up to 1,000 observations across metrics, created or updated by their natural key \
             (metric, area, period), or deleted by it (`\"delete\": true`), each natural key \
             at most once in a batch: all or nothing. If \
             any item is invalid nothing is written, and the 422 names every bad item \
             (`/items/17/value`). Otherwise `results` reports each item in order: `created`, \
             `updated`, `unchanged` (not a new version) or `deleted`, with its id and version. \
             `?dry_run=true` checks and reports without writing. Send JSON or CSV. A partner's \
             token writes only in its areas and metrics, and only its own observations.",
    )
    .security(Security::Needs(Permission::WriteObservations))
    .params([schemas::boolean_query(
        "dry_run",
        "`true`: check and report, write nothing",
    )])
    .dependencies_of::<ObservationBody>()
    .schema::<Slug>()
    .schema::<Area>()
    .schema_named("ObservationBatch", batch_schema())
    .schema_named("ObservationBatchCsv", csv_schema())
    .body_in("ObservationBatch", "application/json")
    .body_in("ObservationBatchCsv", "text/csv")
    .schema::<BatchReport>()
    .answer(Answer::json(
        200,
        "What happened to each item (or would have)",
        "BatchReport",
    ))
    .problems::<(
        BadBody,
        NoToken,
        Forbidden,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        Invalid,
        Unavailable,
    )>()
}
