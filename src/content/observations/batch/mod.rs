//! `POST /api/v1/observations/batch`: up to 1,000 observations across metrics,
//! upserted by their natural key (metric, area, period) or deleted by it, all or
//! nothing, in JSON (`{"items": [...]}`) or CSV, with a report per item: a
//! `save_many` of the engine (`engine::many`), which observations serve as
//! `Batched` with one `INSERT ... ON CONFLICT` for all the writes.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Float8, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Observation, ObservationInput, Observations, ParentMetric};
use crate::engine::many::{self, Batched, ItemResult, Planned};
use crate::engine::transaction::parse_body;
use crate::engine::{Resource, Target, WriteContext};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::db::schema::observations;
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::http::{self, csv};
use crate::platform::query::Params;
use crate::platform::validate::{Area, Check, Slug, parse_date};

mod doc;
mod items;

pub use doc::upsert_observations_doc;
use items::{csv_items, json_items};

/// An observation's natural key: its metric, area and period.
type NaturalKey = (String, String, Option<NaiveDate>, Option<NaiveDate>);

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

/// The fields of an object that name it in a batch: its metric and whether it is a
/// deletion, checked into `check`.
fn metric_and_deletion(object: &mut Map<String, Value>, check: &mut Check) -> (String, bool) {
    let metric = match object.remove("metric") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            check.fail("metric", "must be text: the metric's key");
            None
        }
    };
    let metric = check
        .required("metric", metric, Slug::parse)
        .map(Slug::into_inner)
        .unwrap_or_default();
    let delete = match object.remove("delete") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            check.fail("delete", "must be true or false");
            false
        }
    };
    (metric, delete)
}

/// The field errors a check found, if any.
fn errors_of(check: Check) -> Vec<FieldError> {
    match check.finish(()) {
        Err(AppError::Validation(errors)) => errors,
        _ => Vec::new(),
    }
}

/// The fields a deletion names its item by; any other is a mistake.
const DELETION_FIELDS: &[&str] = &["area", "period_start", "period_end"];

/// A deletion by natural key.
fn deletion(
    metric: String,
    mut object: Map<String, Value>,
    mut check: Check,
) -> Result<Planned<Observations>, Vec<FieldError>> {
    let mut text = |field: &str, check: &mut Check| match object.remove(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            check.fail(field, "must be text");
            None
        }
    };
    let area = text("area", &mut check);
    let start = text("period_start", &mut check);
    let end = text("period_end", &mut check);
    let area = check.required("area", area, Area::parse);
    let start = check.parsed("period_start", start, parse_date);
    let end = check.parsed("period_end", end, parse_date);
    let mut errors = errors_of(check);
    errors.extend(object.keys().map(|field| {
        FieldError::coded(
            codes::UNKNOWN_FIELD,
            format!("/{field}"),
            format!(
                "is not a field of a deletion, which names its item by metric, {}",
                DELETION_FIELDS.join(", ")
            ),
        )
    }));
    if !errors.is_empty() {
        return Err(errors);
    }
    let area = area.map(Area::into_inner).unwrap_or_default();
    Ok(Planned::Delete((metric, area, start, end)))
}

/// A write: its body read field by field, then checked as a new observation; the
/// fields that could not be read are left out of the check, so that each mistake
/// is named once and none hides another.
fn write(
    metric: String,
    object: Map<String, Value>,
    mut errors: Vec<FieldError>,
) -> Result<Planned<Observations>, Vec<FieldError>> {
    let body =
        match parse_body::<Observations>(object.clone()) {
            Ok(body) => body,
            Err(AppError::Validation(unread)) => {
                let mut rest = object;
                for error in &unread {
                    let field = error.pointer.trim_start_matches('/').split('/').next();
                    if let Some(field) = field {
                        rest.remove(field);
                    }
                }
                errors.extend(unread.iter().cloned());
                if let Ok(body) = parse_body::<Observations>(rest)
                    && let Err(AppError::Validation(invalid)) =
                        Observations::validate(body, Target::NEW)
                {
                    // A field that was not read is not also "required".
                    errors.extend(invalid.into_iter().filter(|error| {
                        !unread.iter().any(|unread| unread.pointer == error.pointer)
                    }));
                }
                return Err(errors);
            }
            Err(other) => return Err(vec![FieldError::new("", other.to_string())]),
        };
    match Observations::validate(body.clone(), Target::NEW) {
        Ok(input) if errors.is_empty() => Ok(Planned::Write {
            scope: metric,
            input,
            body,
        }),
        Ok(_) => Err(errors),
        Err(AppError::Validation(invalid)) => {
            errors.extend(invalid);
            Err(errors)
        }
        Err(other) => Err(vec![FieldError::new("", other.to_string())]),
    }
}

impl Batched for Observations {
    type Natural = NaturalKey;

    fn plan(mut object: Map<String, Value>) -> Result<Planned<Self>, Vec<FieldError>> {
        let mut check = Check::default();
        let (metric, delete) = metric_and_deletion(&mut object, &mut check);
        if delete {
            return deletion(metric, object, check);
        }
        write(metric, object, errors_of(check))
    }

    fn scope_of(natural: &NaturalKey) -> &str {
        &natural.0
    }

    fn natural_of(scope: &str, input: &ObservationInput) -> NaturalKey {
        (
            scope.to_owned(),
            input.area.as_str().to_owned(),
            input.period_start,
            input.period_end,
        )
    }

    fn natural_of_row(row: &Observation) -> NaturalKey {
        (
            row.metric.clone(),
            row.area.clone(),
            row.period_start,
            row.period_end,
        )
    }

    fn fits(metric: &ParentMetric, input: &ObservationInput) -> Result<(), FieldError> {
        input
            .fits(metric.unit)
            .map_err(|detail| FieldError::coded(codes::OUT_OF_RANGE, "/value", detail))
    }

    fn find_many(
        conn: &mut PgConnection,
        keys: &[NaturalKey],
    ) -> AppResult<HashMap<NaturalKey, Observation>> {
        let rows: Vec<Observation> = diesel::sql_query(
            "SELECT o.* FROM observations o \
             JOIN unnest($1::text[], $2::text[], $3::date[], $4::date[]) AS k(metric, area, ps, pe) \
               ON o.metric = k.metric AND o.area = k.area \
              AND coalesce(o.period_start, '-infinity'::date) = coalesce(k.ps, '-infinity'::date) \
              AND coalesce(o.period_end, 'infinity'::date) = coalesce(k.pe, 'infinity'::date) \
             ORDER BY o.metric, o.area, coalesce(o.period_start, '-infinity'::date), \
                      coalesce(o.period_end, 'infinity'::date)",
        )
        .bind::<Array<Text>, _>(keys.iter().map(|k| k.0.clone()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(keys.iter().map(|k| k.1.clone()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Date>>, _>(keys.iter().map(|k| k.2).collect::<Vec<_>>())
        .bind::<Array<Nullable<Date>>, _>(keys.iter().map(|k| k.3).collect::<Vec<_>>())
        .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|row| (Self::natural_of_row(&row), row))
            .collect())
    }

    fn save_many(
        conn: &mut PgConnection,
        writes: &[(&ParentMetric, &ObservationInput)],
        context: &WriteContext,
    ) -> AppResult<Vec<(Observation, bool)>> {
        Ok(upsert(conn, writes, context.caller)?
            .into_iter()
            .map(|upserted| (upserted.observation, upserted.inserted))
            .collect())
    }

    fn delete_many(conn: &mut PgConnection, rows: &[&Observation]) -> AppResult<()> {
        let ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.id).collect();
        diesel::delete(observations::table.filter(observations::id.eq_any(&ids)))
            .execute(conn)
            .map_err(crate::platform::db::errors::on_delete)?;
        Ok(())
    }
}

/// An observation as an upsert stored it, and whether it was created.
#[derive(Debug, QueryableByName)]
struct Upserted {
    #[diesel(embed)]
    observation: Observation,
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// Upserts the writes in one statement, in natural-key order.
fn upsert(
    conn: &mut PgConnection,
    writes: &[(&ParentMetric, &ObservationInput)],
    caller: &Caller,
) -> AppResult<Vec<Upserted>> {
    let partner = caller.partner.as_ref();
    let reported_by = |input: &ObservationInput| match partner {
        Some(partner) => Some(partner.name.clone()),
        None => input.reported_by.clone(),
    };
    // One array per column, in the writes' order.
    fn each<T>(
        writes: &[(&ParentMetric, &ObservationInput)],
        f: impl Fn(&ParentMetric, &ObservationInput) -> T,
    ) -> Vec<T> {
        writes
            .iter()
            .map(|(metric, input)| f(metric, input))
            .collect()
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
         RETURNING observations.*, (xmax = 0) AS inserted",
    )
    .bind::<Array<Text>, _>(each(writes, |metric, _| metric.key.clone()))
    .bind::<Array<Text>, _>(each(writes, |_, input| input.area.as_str().to_owned()))
    .bind::<Array<Nullable<Date>>, _>(each(writes, |_, input| input.period_start))
    .bind::<Array<Nullable<Date>>, _>(each(writes, |_, input| input.period_end))
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

pub async fn upsert_observations(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::WriteObservations)?;
    let mut params = Params::parse(req.query_string())?;
    let dry_run = params.flag("dry_run")?;
    params.finish()?;
    let incoming = if csv::is_csv(&req) {
        csv_items(&req, payload).await?
    } else if http::is_json(&req) {
        json_items(http::json_object(&req, payload).await?)?
    } else {
        return Err(AppError::UnsupportedMediaType(
            "send the items as JSON (Content-Type: application/json, {\"items\": [...]}) or \
             as CSV (Content-Type: text/csv, a header row naming the columns)"
                .to_owned(),
        ));
    };
    let results = many::run::<Observations>(&db, caller, &req, incoming, dry_run).await?;
    let report =
        serde_json::to_value(BatchReport { dry_run, results }).map_err(AppError::internal)?;
    Ok(http::written(StatusCode::OK, &report, None))
}
