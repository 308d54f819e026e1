//! Observations: the figures of an impact metric, each for an area over a period,
//! under `/api/v1/impact-metrics/{key}/observations`. The natural key (metric,
//! area, period_start, period_end) is unique.

pub mod batch;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Access, CONTENT, Publication, Status, number};
use crate::engine::read::{access_of, answer_list};
use crate::engine::{
    Descriptor, Events, Parent, Resource, Section, Tag, WriteContext, stored, to_json,
};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::db::errors::on_delete;
use crate::platform::db::schema::{impact_metrics, observations};
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::query::{CONTENT_FIELDS, Dir, Field, Kind, ListQuery, ListSpec};
use crate::platform::text_enum::text_enum;
use crate::platform::validate::{Area, Check, HttpUrl, Id, parse_date};
use crate::platform::visibility::VISIBLE_SQL;
use actix_web::{HttpRequest, HttpResponse};
use diesel::dsl::sql;
use diesel::sql_types::Bool;

text_enum! {
    /// How the value is to be read.
    pub enum Qualifier {
        /// The value as it is.
        Exact = "exact",
        /// At least the value ("at least 9 million").
        AtLeast = "at_least",
        /// More than the value ("over 5,000").
        MoreThan = "more_than",
        /// About the value.
        Approximately = "approximately",
    }
}

text_enum! {
    /// What a metric counts, which bounds its figures (a percentage is 0 to 100).
    pub enum Unit {
        /// Things: mechanisms, sites, campaigns, weapons.
        Count = "count",
        /// A share, from 0 to 100.
        Percent = "percent",
        /// Persons.
        People = "people",
    }
}

/// The metric observations are nested under, as they need it: its key, its unit,
/// and whether the caller may see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = impact_metrics, check_for_backend(diesel::pg::Pg))]
pub struct ParentMetric {
    pub key: String,
    pub unit: Unit,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
}

impl ParentMetric {
    /// What anonymous readers see of a figure of this metric: it is published only
    /// when both are, from the later of their dates.
    pub fn public_with(
        &self,
        (status, at): (Status, Option<DateTime<Utc>>),
    ) -> (Status, Option<DateTime<Utc>>) {
        match (self.status, status) {
            (Status::Published, Status::Published) => (
                Status::Published,
                match (self.published_at, at) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                },
            ),
            (Status::Published, own) => (own, at),
            (metric, _) => (metric, None),
        }
    }
}

fn whole_number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    number(*value).serialize(serializer)
}

fn optional_whole_number<S: Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.map(number).serialize(serializer)
}

/// A figure of an impact metric.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Serialize, ToSchema)]
#[diesel(table_name = observations, check_for_backend(diesel::pg::Pg))]
#[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000703", "metric": "women-in-armed-forces",
    "area": "WB", "period_start": "2019-01-01", "period_end": "2019-12-31", "value": 6, "value_max": 9,
    "qualifier": "exact", "as_of": null, "source_url": null, "note": "Between 6% and 9% in 2019.",
    "reported_by": "SEESAC", "partner": null, "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
    "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}))]
pub struct Observation {
    /// Stable identifier; the key in the URL.
    pub id: Uuid,
    /// Read-only: the key of the metric.
    pub metric: String,
    /// ISO 3166-1 alpha-2 country, or a region: WB (Western Balkans), SEE (South East
    /// Europe), SEEE (South East and East Europe), EU, XK (Kosovo under UNSCR 1244).
    #[schema(example = "WB")]
    pub area: String,
    /// First day of the period, if known.
    pub period_start: Option<NaiveDate>,
    /// Last day of the period, if known.
    pub period_end: Option<NaiveDate>,
    /// The figure; for a range, its lower end.
    #[serde(serialize_with = "whole_number")]
    pub value: f64,
    /// The upper end of a range ("between 6% and 9%"), or null.
    #[serde(serialize_with = "optional_whole_number")]
    pub value_max: Option<f64>,
    /// `exact`, `at_least`, `more_than` or `approximately`.
    pub qualifier: Qualifier,
    /// The date the figure was true or reported on.
    pub as_of: Option<NaiveDate>,
    /// Where it was published.
    pub source_url: Option<String>,
    /// Anything a reader should know about the figure.
    pub note: Option<String>,
    /// Who reported it; for a partner's figure, the partner's name.
    pub reported_by: Option<String>,
    /// Read-only: the slug of the partner whose token wrote it, or null.
    pub partner: Option<String>,
    /// `draft`, `published` or `archived`.
    pub status: Status,
    /// When it is (or was) published; in the future, it is scheduled.
    pub published_at: Option<DateTime<Utc>>,
    /// Read-only: 1 at creation, one more on every write that changes something.
    pub version: i32,
    /// When it was created (RFC 3339, UTC). Read-only.
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC). Read-only.
    pub updated_at: DateTime<Utc>,
    /// The ETag of the item as an editor reads it, kept by the database: a new one
    /// with every change of what an editor reads (migration 000010).
    #[serde(skip)]
    pub etag: String,
}

/// The body of POST, PUT and PATCH. `id` and `metric` come from the URL; read-only
/// fields (`id`, `metric`, `version`, timestamps) may be present and are ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"area": "WB", "period_start": "2019-01-01", "period_end": "2019-12-31",
    "value": 6, "value_max": 9, "reported_by": "SEESAC", "status": "published"}))]
pub struct ObservationBody {
    /// A country code or a region code.
    #[schema(value_type = Option<Area>)]
    pub area: Option<String>,
    /// The first day of the period, if known.
    #[schema(value_type = Option<NaiveDate>)]
    pub period_start: Option<String>,
    /// The last day of the period, if known; not before `period_start`.
    #[schema(value_type = Option<NaiveDate>)]
    pub period_end: Option<String>,
    /// The figure; for a range, its lower end. A percentage is between 0 and 100.
    pub value: Option<f64>,
    /// The upper end of a range; not below `value`.
    pub value_max: Option<f64>,
    /// Default `exact`.
    #[schema(value_type = Option<Qualifier>)]
    pub qualifier: Option<String>,
    /// The date the figure was true or reported on.
    #[schema(value_type = Option<NaiveDate>)]
    pub as_of: Option<String>,
    /// Where it was published.
    #[schema(value_type = Option<HttpUrl>)]
    pub source_url: Option<String>,
    /// Anything a reader should know about the figure, at most 2000 characters.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Who reported it, at most 200 characters.
    #[schema(max_length = 200)]
    pub reported_by: Option<String>,
    /// Default `draft`.
    #[schema(value_type = Option<Status>)]
    pub status: Option<String>,
    /// RFC 3339. Publishing without it publishes now; a future date schedules.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub published_at: Option<String>,
}

#[derive(Debug)]
pub struct ObservationInput {
    pub id: Option<Uuid>,
    pub area: Area,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub value: f64,
    pub value_max: Option<f64>,
    pub qualifier: Qualifier,
    pub as_of: Option<NaiveDate>,
    pub source_url: Option<String>,
    pub note: Option<String>,
    pub reported_by: Option<String>,
    pub publication: Publication,
}

impl ObservationInput {
    /// A metric counted in percent holds figures from 0 to 100; checked against the
    /// metric as it is stored, so a figure outside is a 409.
    pub fn fits(&self, unit: Unit) -> Result<(), &'static str> {
        if unit == Unit::Percent
            && (self.value < 0.0 || self.value_max.unwrap_or(self.value) > 100.0)
        {
            return Err("a percentage is between 0 and 100");
        }
        Ok(())
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = observations, treat_none_as_null = true)]
struct ObservationRecord<'a> {
    metric: &'a str,
    area: &'a str,
    period_start: Option<NaiveDate>,
    period_end: Option<NaiveDate>,
    value: f64,
    value_max: Option<f64>,
    qualifier: Qualifier,
    as_of: Option<NaiveDate>,
    source_url: Option<&'a str>,
    note: Option<&'a str>,
    reported_by: Option<&'a str>,
    status: Status,
    published_at: Option<DateTime<Utc>>,
}

const FIELDS: &[Field] = &[
    Field::new("metric", Kind::Text).sortable().filterable(),
    Field::new("area", Kind::Text).sortable().filterable(),
    Field::new("period_start", Kind::Date)
        .sortable()
        .filterable()
        .nullable(),
    Field::new("period_end", Kind::Date)
        .sortable()
        .filterable()
        .nullable(),
    Field::new("value", Kind::Number).sortable().filterable(),
    Field::new("value_max", Kind::Number)
        .sortable()
        .filterable()
        .nullable(),
    Field::new("qualifier", Kind::Enum(Qualifier::ALL))
        .sortable()
        .filterable(),
    Field::new("as_of", Kind::Date)
        .sortable()
        .filterable()
        .nullable(),
    Field::new("source_url", Kind::Text),
    Field::new("note", Kind::Text),
    Field::new("reported_by", Kind::Text)
        .sortable()
        .filterable()
        .nullable(),
    Field::new("partner", Kind::Text)
        .sortable()
        .filterable()
        .nullable(),
];

/// The columns of an observation in CSV, in the order of its JSON.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "metric",
    "area",
    "period_start",
    "period_end",
    "value",
    "value_max",
    "qualifier",
    "as_of",
    "source_url",
    "note",
    "reported_by",
    "partner",
    "status",
    "published_at",
    "version",
    "created_at",
    "updated_at",
];

/// The order of "period order": unknown periods first, then by end and start.
pub const PERIOD_ORDER: &[(&str, Dir)] = &[
    ("period_end", Dir::Asc),
    ("period_start", Dir::Asc),
    ("area", Dir::Asc),
];

pub struct Observations;

stored!(Observation, key: id, published);

impl Resource for Observations {
    type Row = Observation;
    type Body = ObservationBody;
    type Item = Observation;
    type Key = Id;
    type Input = ObservationInput;
    type Scope = ParentMetric;

    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "observation",
        plural: "observations",
        kind: "observation",
        table: "observations",
        path: "/api/v1/impact-metrics/{key}/observations",
        key: "id",
        key_description: "The observation's id (a UUID); PUT to a new one creates it",
        key_example: "5eed0000-0000-4000-8000-000000000703",
        parent: Some(Parent {
            description: "The metric's key, e.g. `women-in-armed-forces`",
            example: "women-in-armed-forces",
            column: "metric",
        }),
        tag: Tag {
            name: "impact-metrics",
            description: "Impact figures and their observations over time",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: PERIOD_ORDER,
            unique_column: "id",
            searchable: false,
            includes: &[],
        },
        read_only: &["metric", "partner"],
        write: Permission::WriteObservations,
        csv: Some(CSV_COLUMNS),
        constraints: &[(
            "observations_natural_key",
            &["area", "period_start", "period_end"],
        )],
        transfer: Some(Section {
            order: "metric, area, period_end NULLS FIRST, period_start NULLS FIRST, id",
            derived: &[],
            tree: None,
            derive: |_| {},
        }),
        events: Events::Upserts,
        ..CONTENT
    };

    fn find_by_id(conn: &mut PgConnection, id: Uuid, lock: bool) -> AppResult<Option<Observation>> {
        let query = observations::table
            .find(id)
            .select(Observation::as_select());
        Ok(if lock {
            query.for_no_key_update().first(conn).optional()?
        } else {
            query.first(conn).optional()?
        })
    }

    /// Observations a caller may see: by their own publication, and their metric's.
    fn visible(conn: &mut PgConnection, ids: &[Uuid], access: Access) -> AppResult<Vec<Uuid>> {
        let query = observations::table
            .filter(observations::id.eq_any(ids))
            .filter(of_visible_metrics(access))
            .select(observations::id)
            .into_boxed();
        Ok(access.filter(query).load(conn)?)
    }

    /// The metric must exist and be visible to the caller. A write holds its row, so
    /// that its unit cannot change while a figure is checked against it, and so that
    /// the trigger that gives the metric a new ETag (its `latest` may change) waits for
    /// nobody: with a share lock, two writers of one metric deadlocked there.
    fn resolve_scope(
        conn: &mut PgConnection,
        raw: &str,
        access: Access,
        for_write: bool,
    ) -> AppResult<ParentMetric> {
        let query = impact_metrics::table
            .filter(impact_metrics::key.eq(raw))
            .select(ParentMetric::as_select());
        let metric = if for_write {
            query.for_no_key_update().first(conn).optional()?
        } else {
            query.first(conn).optional()?
        };
        metric
            .filter(|metric| access.may_see(metric.status, metric.published_at))
            .ok_or_else(|| AppError::NotFound(format!("there is no impact metric with key {raw}")))
    }

    fn find(
        conn: &mut PgConnection,
        metric: &ParentMetric,
        key: &str,
        lock: bool,
    ) -> AppResult<Option<Observation>> {
        let Ok(id) = Uuid::parse_str(key) else {
            return Ok(None);
        };
        let query = observations::table
            .filter(observations::id.eq(id))
            .filter(observations::metric.eq(&metric.key))
            .select(Observation::as_select());
        Ok(if lock {
            query.for_no_key_update().first(conn).optional()?
        } else {
            query.first(conn).optional()?
        })
    }

    fn list(
        conn: &mut PgConnection,
        metric: &ParentMetric,
        query: &ListQuery,
        access: Access,
    ) -> AppResult<(Vec<Observation>, i64)> {
        Ok(query.load::<observations::table, _, _, _>(
            Self::DESCRIPTOR.spec,
            access,
            conn,
            || {
                observations::table
                    .filter(observations::metric.eq(metric.key.clone()))
                    .select(Observation::as_select())
                    .into_boxed()
            },
            || {
                observations::table
                    .filter(observations::metric.eq(metric.key.clone()))
                    .select(count_star())
                    .into_boxed()
            },
        )?)
    }

    fn as_body(row: &Observation) -> ObservationBody {
        let date = |date: Option<NaiveDate>| date.map(|d| d.to_string());
        ObservationBody {
            area: Some(row.area.clone()),
            period_start: date(row.period_start),
            period_end: date(row.period_end),
            value: Some(row.value),
            value_max: row.value_max,
            qualifier: Some(row.qualifier.as_str().to_owned()),
            as_of: date(row.as_of),
            source_url: row.source_url.clone(),
            note: row.note.clone(),
            reported_by: row.reported_by.clone(),
            status: Some(row.status.as_str().to_owned()),
            published_at: row.published_at.map(|at| at.to_rfc3339()),
        }
    }

    fn validate(
        body: ObservationBody,
        key: Option<&str>,
        existing: Option<&Observation>,
    ) -> AppResult<ObservationInput> {
        let mut check = Check::default();
        let id = match key {
            Some(key) => check.parsed("id", Some(key.to_owned()), |raw| {
                Uuid::parse_str(raw).map_err(|_| "must be a UUID".to_owned())
            }),
            None => None,
        };
        let area = check.required("area", body.area, Area::parse);
        let period_start = check.parsed("period_start", body.period_start, parse_date);
        let period_end = check.parsed("period_end", body.period_end, parse_date);
        if let (Some(start), Some(end)) = (period_start, period_end)
            && start > end
        {
            check.fail("period_end", "must not be before period_start");
        }
        if body.value.is_none() {
            check.fail("value", crate::platform::validate::REQUIRED);
        }
        let value = body.value.unwrap_or_default();
        if body.value_max.is_some_and(|max| max < value) {
            check.fail("value_max", "must not be below value");
        }
        let publication = Publication::check(
            &mut check,
            body.status,
            body.published_at,
            existing.and_then(|o| o.published_at),
        );
        let input = ObservationInput {
            id,
            area: area.unwrap_or_default(),
            period_start,
            period_end,
            value,
            value_max: body.value_max,
            qualifier: check
                .parsed("qualifier", body.qualifier, Qualifier::parse)
                .unwrap_or(Qualifier::Exact),
            as_of: check.parsed("as_of", body.as_of, parse_date),
            source_url: check
                .parsed("source_url", body.source_url, HttpUrl::parse)
                .map(HttpUrl::into_inner),
            note: check.optional_text("note", body.note, 2000),
            reported_by: check.optional_text("reported_by", body.reported_by, 200),
            publication,
        };
        check.finish(input)
    }

    /// A partner's token writes only for its partner's areas and metrics, and
    /// changes or deletes only what its partner wrote.
    fn authorise(
        caller: &Caller,
        metric: &ParentMetric,
        existing: Option<&Observation>,
        input: Option<&ObservationInput>,
    ) -> AppResult<()> {
        let Some(partner) = &caller.partner else {
            return Ok(());
        };
        if let Some(existing) = existing
            && existing.partner.as_deref() != Some(partner.slug.as_str())
        {
            return Err(AppError::Forbidden(format!(
                "this observation was not written by {}: a partner's token may change or delete \
                 only its partner's observations",
                partner.slug
            )));
        }
        if let Some(metrics) = &partner.metrics
            && !metrics.contains(&metric.key)
        {
            return Err(AppError::Forbidden(format!(
                "{} may not report on the metric {}; it may report on {}",
                partner.slug,
                metric.key,
                if metrics.is_empty() {
                    "none".to_owned()
                } else {
                    metrics.join(", ")
                }
            )));
        }
        if let Some(input) = input
            && !partner.areas.iter().any(|area| area == input.area.as_str())
        {
            return Err(AppError::Forbidden(format!(
                "{} may not report for the area {}; it may report for {}",
                partner.slug,
                input.area,
                if partner.areas.is_empty() {
                    "none".to_owned()
                } else {
                    partner.areas.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// A partner's figures are reported by the partner, whatever the body says; a
    /// new observation records its partner and who created it.
    fn save(
        conn: &mut PgConnection,
        metric: &ParentMetric,
        existing: Option<&Observation>,
        input: ObservationInput,
        context: &WriteContext,
    ) -> AppResult<Observation> {
        let caller = context.caller;
        input
            .fits(metric.unit)
            .map_err(|detail| AppError::conflict_at("/value", detail))?;
        reject_duplicate(conn, metric, existing.map(|o| o.id), &input)?;
        let record = ObservationRecord {
            metric: &metric.key,
            area: input.area.as_str(),
            period_start: input.period_start,
            period_end: input.period_end,
            value: input.value,
            value_max: input.value_max,
            qualifier: input.qualifier,
            as_of: input.as_of,
            source_url: input.source_url.as_deref(),
            note: input.note.as_deref(),
            reported_by: match &caller.partner {
                Some(partner) => Some(partner.name.as_str()),
                None => input.reported_by.as_deref(),
            },
            status: input.publication.status,
            published_at: input.publication.published_at,
        };
        let revived = context.revive;
        let created = (
            observations::id
                .eq(revived.map_or_else(|| input.id.unwrap_or_else(Uuid::new_v4), |r| r.id)),
            observations::partner.eq(caller.partner.as_ref().map(|p| p.slug.as_str())),
            observations::created_by.eq(caller.name()),
            revived.map(|r| observations::version.eq(r.version)),
            revived.map(|r| observations::created_at.eq(r.created_at)),
        );
        Ok(match existing {
            Some(row) => diesel::update(observations::table.find(row.id))
                .set(&record)
                .returning(Observation::as_returning())
                .get_result(conn)?,
            None => diesel::insert_into(observations::table)
                .values((created, &record))
                .returning(Observation::as_returning())
                .get_result(conn)?,
        })
    }

    fn delete(
        conn: &mut PgConnection,
        row: &Observation,
        _: bool,
        _: &WriteContext,
    ) -> AppResult<()> {
        diesel::delete(observations::table.find(row.id))
            .execute(conn)
            .map_err(on_delete)?;
        Ok(())
    }
}

/// A second observation with the same natural key is a 409 that names the first.
fn reject_duplicate(
    conn: &mut PgConnection,
    metric: &ParentMetric,
    own: Option<Uuid>,
    input: &ObservationInput,
) -> AppResult<()> {
    let mut query = observations::table
        .filter(observations::metric.eq(&metric.key))
        .filter(observations::area.eq(input.area.as_str()))
        .select(observations::id)
        .into_boxed();
    query = match input.period_start {
        Some(start) => query.filter(observations::period_start.eq(start)),
        None => query.filter(observations::period_start.is_null()),
    };
    query = match input.period_end {
        Some(end) => query.filter(observations::period_end.eq(end)),
        None => query.filter(observations::period_end.is_null()),
    };
    if let Some(own) = own {
        query = query.filter(observations::id.ne(own));
    }
    match query.first::<Uuid>(conn).optional()? {
        None => Ok(()),
        Some(other) => {
            let period =
                |d: Option<NaiveDate>| d.map_or_else(|| "unknown".to_owned(), |d| d.to_string());
            let detail = format!(
                "{key} has an observation for {} from {} to {} already: \
                 /api/v1/impact-metrics/{key}/observations/{other}; change that one instead",
                input.area,
                period(input.period_start),
                period(input.period_end),
                key = metric.key,
            );
            Err(AppError::Conflict {
                errors: ["/area", "/period_start", "/period_end"]
                    .iter()
                    .map(|pointer| {
                        FieldError::new(*pointer, "another observation has this area and period")
                    })
                    .collect(),
                detail,
            })
        }
    }
}

/// `GET /api/v1/observations`: observations of every metric, with `metric` a filter
/// like any other, in JSON or CSV. Anonymous callers see only those of published
/// metrics.
/// Observations anonymous readers may see the metric of: every one for those who
/// see everything.
fn of_visible_metrics(access: Access) -> diesel::expression::SqlLiteral<Bool> {
    if access.public_only() {
        sql::<Bool>(&format!(
            "metric IN (SELECT key FROM impact_metrics WHERE {VISIBLE_SQL})"
        ))
    } else {
        sql::<Bool>("true")
    }
}

pub async fn list_all_observations(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let access = access_of(&caller);
    let spec = Observations::DESCRIPTOR.spec;
    let query = ListQuery::parse(spec, req.query_string())?;
    let work = query.clone();
    let (items, total) = db
        .run(move |conn| {
            let (rows, total) = work.load::<observations::table, _, _, _>(
                spec,
                access,
                conn,
                || {
                    observations::table
                        .select(Observation::as_select())
                        .filter(of_visible_metrics(access))
                        .into_boxed()
                },
                || {
                    observations::table
                        .select(count_star())
                        .filter(of_visible_metrics(access))
                        .into_boxed()
                },
            )?;
            let items = rows
                .iter()
                .map(|row| work.view.apply(spec, to_json(row)))
                .collect::<Vec<_>>();
            Ok((items, total))
        })
        .await?;
    Ok(answer_list(
        &req,
        &caller,
        &query,
        Some(CSV_COLUMNS),
        items,
        total,
    ))
}
