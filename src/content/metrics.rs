//! Impact metrics: what SEESAC's work has achieved, each with its observations over
//! time (see `observations`) and the newest one shown as `latest`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::observations::{Observation, Unit};
use super::{Access, CONTENT, Publication, Status};
use crate::engine::{
    Descriptor, Resource, Search, Section, Tag, WriteContext, store_row, stored, table_resource,
    to_json,
};
use crate::platform::db::errors::on_delete;
use crate::platform::db::schema::{impact_metrics, observations};
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::body::whole_number;
use crate::platform::query::{CONTENT_FIELDS, Dir, Field, Kind, ListSpec, View};
use crate::platform::text_enum::text_enum;
use crate::platform::validate::{Area, Check, Slug};

text_enum! {
    /// The area of work a metric belongs to.
    pub enum Category {
        Disarmament = "disarmament",
        StockpileSecurity = "stockpile-security",
        GenderEquality = "gender-equality",
        Awareness = "awareness",
        Cooperation = "cooperation",
        CapacityBuilding = "capacity-building",
        /// Results of the work as a whole.
        Overall = "overall",
    }
}

/// An impact metric.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = impact_metrics, check_for_backend(diesel::pg::Pg))]
pub struct Metric {
    /// Stable identifier (UUID). Read-only.
    pub id: Uuid,
    /// The URL key.
    #[schema(example = "women-in-armed-forces")]
    pub key: String,
    /// What is measured.
    #[schema(example = "Share of women in the armed forces of the Western Balkans")]
    pub label: String,
    /// More about it.
    pub description: Option<String>,
    /// The area of work it belongs to.
    pub category: Category,
    /// What it counts: things, a percentage or people.
    pub unit: Unit,
    /// The UN Sustainable Development Goals it serves, e.g. `[5, 16]`.
    #[schema(example = json!([5, 16]))]
    pub sdg_goals: Vec<i32>,
    /// Order on the site, smallest first.
    pub position: i32,
    /// The area whose newest published figure is the metric's headline (`latest`),
    /// e.g. `WB` for a regional figure; null: the newest figure of any area.
    #[schema(value_type = Option<Area>)]
    pub headline_area: Option<String>,
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

/// An impact metric as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000007", "key": "women-in-armed-forces",
    "label": "Share of women in the armed forces of the Western Balkans", "description": null,
    "category": "gender-equality", "unit": "percent", "sdg_goals": [5, 16], "position": 7, "headline_area": "WB",
    "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
    "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z",
    "latest": {"id": "5eed0000-0000-4000-8000-000000000703", "metric": "women-in-armed-forces", "area": "WB",
        "period_start": "2019-01-01", "period_end": "2019-12-31", "value": 6, "value_max": 9,
        "qualifier": "exact", "as_of": null, "source_url": null, "note": null, "reported_by": "SEESAC", "partner": null,
        "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
        "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}}))]
pub struct MetricItem {
    /// The metric's own fields.
    #[serde(flatten)]
    pub metric: Metric,
    /// Derived: the newest observation (latest period) the caller may see in the
    /// metric's `headline_area` (in any area if it has none), or null.
    #[schema(required = true)]
    pub latest: Option<Observation>,
    /// With `include=latest_by_area`: the newest observation the caller may see in
    /// each area, in area order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_by_area: Option<Vec<Observation>>,
    /// With `include=observations`: all of them, in period order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observations: Option<Vec<Observation>>,
}

/// The numbers of the UN Sustainable Development Goals, as a body field.
fn sdg_goals_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1.0))
                .maximum(Some(17.0)),
        )
        .max_items(Some(17))
        .unique_items(true)
        .description(Some(
            "UN Sustainable Development Goals, numbers from 1 to 17, each once.",
        ))
        .examples([json!([5, 16])])
        .build()
}

/// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, `latest`,
/// timestamps, `observations`) may be present and are ignored.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"key": "women-in-armed-forces",
    "label": "Share of women in the armed forces of the Western Balkans",
    "category": "gender-equality", "unit": "percent", "sdg_goals": [5, 16], "headline_area": "WB",
    "status": "published"}))]
pub struct MetricBody {
    /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the metric.
    #[schema(value_type = Option<Slug>)]
    pub key: Option<String>,
    /// What is measured, at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$"
    )]
    pub label: Option<String>,
    /// More about it, at most 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The area of work it belongs to.
    #[schema(value_type = Option<Category>)]
    pub category: Option<String>,
    /// What it counts. A metric whose figures are not all between 0 and 100 cannot
    /// become `percent` (409).
    #[schema(value_type = Option<Unit>)]
    pub unit: Option<String>,
    /// UN Sustainable Development Goals, numbers from 1 to 17, each once.
    #[schema(schema_with = sdg_goals_schema)]
    #[serde(default, deserialize_with = "whole_number::optional_list")]
    pub sdg_goals: Option<Vec<i64>>,
    /// Order on the site (default 0).
    #[schema(minimum = -1000000, maximum = 1000000)]
    #[serde(default, deserialize_with = "whole_number::optional")]
    pub position: Option<i64>,
    /// The area whose newest figure is the headline (`latest`): a region such as `WB`
    /// or a country. Null or absent: the newest figure of any area.
    #[schema(value_type = Option<Area>)]
    pub headline_area: Option<String>,
    /// Default `draft`.
    #[schema(value_type = Option<Status>)]
    pub status: Option<String>,
    /// RFC 3339. Publishing without it publishes now; a future date schedules.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub published_at: Option<String>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = impact_metrics, treat_none_as_null = true)]
pub struct MetricRecord {
    key: String,
    label: String,
    description: Option<String>,
    category: Category,
    unit: Unit,
    sdg_goals: Vec<i32>,
    position: i32,
    headline_area: Option<String>,
    status: Status,
    published_at: Option<DateTime<Utc>>,
}

const FIELDS: &[Field] = &[
    Field::new("key", Kind::Text).sortable().filterable(),
    Field::new("label", Kind::Text).sortable().filterable(),
    Field::new("description", Kind::Text),
    Field::new("category", Kind::Enum(Category::ALL))
        .sortable()
        .filterable(),
    Field::new("unit", Kind::Enum(Unit::ALL))
        .sortable()
        .filterable(),
    Field::new("sdg_goals", Kind::IntegerArray).filterable(),
    Field::new("position", Kind::Integer)
        .sortable()
        .filterable(),
    Field::new("headline_area", Kind::Text)
        .sortable()
        .filterable(),
    Field::derived("latest"),
    Field::derived("latest_by_area"),
];

pub struct Metrics;

stored!(Metric, key: key, published);

impl Resource for Metrics {
    type Row = Metric;
    type Body = MetricBody;
    type Item = MetricItem;
    type Key = Slug;
    type Input = MetricRecord;
    type Scope = ();

    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "impact metric",
        plural: "impact metrics",
        kind: "impact_metric",
        table: "impact_metrics",
        path: "/api/v1/impact-metrics",
        key: "key",
        key_description: "The metric's key, e.g. `women-in-armed-forces`",
        key_example: "women-in-armed-forces",
        tag: Tag {
            name: "impact-metrics",
            description: "Impact figures and their observations over time",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("position", Dir::Asc)],
            unique_column: "key",
            searchable: true,
            includes: &["observations", "latest_by_area"],
        },
        read_only: &["latest", "latest_by_area", "observations"],
        cascade: Some(
            "`true` deletes the metric's observations with it; without it, a metric that has \
             observations is a 409",
        ),
        search: Some(Search {
            title: "label",
            text: "label || ' ' || coalesce(description, '')",
        }),
        transfer: Some(Section {
            order: "key",
            derived: &[],
            tree: None,
            derive: |_| {},
        }),
        ..CONTENT
    };

    table_resource!(table: impact_metrics, key: key, row: Metric);

    fn as_body(row: &Metric) -> MetricBody {
        MetricBody {
            key: Some(row.key.clone()),
            label: Some(row.label.clone()),
            description: row.description.clone(),
            category: Some(row.category.as_str().to_owned()),
            unit: Some(row.unit.as_str().to_owned()),
            sdg_goals: Some(row.sdg_goals.iter().map(|goal| i64::from(*goal)).collect()),
            position: Some(row.position.into()),
            headline_area: row.headline_area.clone(),
            status: Some(row.status.as_str().to_owned()),
            published_at: row.published_at.map(|at| at.to_rfc3339()),
        }
    }

    fn validate(
        body: MetricBody,
        key: Option<&str>,
        existing: Option<&Metric>,
    ) -> AppResult<MetricRecord> {
        let mut check = Check::default();
        let key = check.key("key", body.key, key, Slug::parse);
        let category = check.required("category", body.category, Category::parse);
        let unit = check.required("unit", body.unit, Unit::parse);
        let headline_area = check.parsed("headline_area", body.headline_area, Area::parse);
        let goals = body.sdg_goals.unwrap_or_default();
        let mut sdg_goals: Vec<i32> = Vec::new();
        for goal in goals {
            match i32::try_from(goal) {
                Ok(goal) if (1..=17).contains(&goal) && !sdg_goals.contains(&goal) => {
                    sdg_goals.push(goal)
                }
                _ => {
                    check.fail(
                        "sdg_goals",
                        "must list goal numbers from 1 to 17, each once",
                    );
                    break;
                }
            }
        }
        let publication = Publication::check(
            &mut check,
            body.status,
            body.published_at,
            existing.and_then(|m| m.published_at),
        );
        let record = MetricRecord {
            key: key.map(Slug::into_inner).unwrap_or_default(),
            label: check.text("label", body.label, 200),
            description: check.optional_text("description", body.description, 2000),
            category: category.unwrap_or(Category::Overall),
            unit: unit.unwrap_or(Unit::Count),
            sdg_goals,
            position: check
                .integer_in("position", body.position, -1_000_000..=1_000_000)
                .unwrap_or(0),
            headline_area: headline_area.map(Area::into_inner),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    fn save(
        conn: &mut PgConnection,
        _: &(),
        existing: Option<&Metric>,
        record: MetricRecord,
        context: &WriteContext,
    ) -> AppResult<Metric> {
        if let Some(metric) = existing
            && metric.unit != record.unit
            && record.unit == Unit::Percent
        {
            let out_of_range: i64 = observations::table
                .filter(observations::metric.eq(&metric.key))
                .filter(
                    observations::value
                        .lt(0.0)
                        .or(observations::value.gt(100.0))
                        .or(observations::value_max.gt(100.0)),
                )
                .count()
                .get_result(conn)?;
            if out_of_range > 0 {
                return Err(AppError::conflict_at(
                    "/unit",
                    "some observations are not between 0 and 100",
                ));
            }
        }
        Ok(
            store_row!(conn, table: impact_metrics, row: Metric, existing: existing, record: &record, context: context)?,
        )
    }

    /// A metric with observations is deleted only with `?cascade=true`, and then
    /// with them, in the same transaction (the database logs each of them).
    fn delete(
        conn: &mut PgConnection,
        row: &Metric,
        cascade: bool,
        _: &WriteContext,
    ) -> AppResult<()> {
        let figures = observations::table.filter(observations::metric.eq(&row.key));
        if cascade {
            diesel::delete(figures).execute(conn)?;
        } else {
            let count: i64 = figures.count().get_result(conn)?;
            if count > 0 {
                let figures = if count == 1 {
                    "1 observation".to_owned()
                } else {
                    format!("{count} observations")
                };
                return Err(AppError::conflict(format!(
                    "{} has {figures}; delete them first, or send DELETE with ?cascade=true \
                     to delete the metric with them",
                    row.key
                )));
            }
        }
        diesel::delete(impact_metrics::table.find(row.id))
            .execute(conn)
            .map_err(on_delete)?;
        Ok(())
    }

    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Metric>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let keys: Vec<String> = rows.iter().map(|metric| metric.key.clone()).collect();
        // The newest observation of every metric in every area, in one query; the
        // headline is the one in the metric's headline area.
        let newest: Vec<Observation> = access
            .filter(
                observations::table
                    .filter(observations::metric.eq_any(keys.clone()))
                    .distinct_on((observations::metric, observations::area))
                    .order((observations::metric, observations::area))
                    .then_order_by((
                        observations::period_end.desc().nulls_last(),
                        observations::period_start.desc().nulls_last(),
                        observations::as_of.desc().nulls_last(),
                        observations::created_at.desc(),
                    ))
                    .select(Observation::as_select())
                    .into_boxed(),
            )
            .load(conn)?;
        let mut by_area: HashMap<String, Vec<Observation>> = HashMap::new();
        for observation in newest {
            by_area
                .entry(observation.metric.clone())
                .or_default()
                .push(observation);
        }
        let mut all: HashMap<String, Vec<Observation>> = HashMap::new();
        if view.includes("observations") {
            let observations: Vec<Observation> = access
                .filter(
                    observations::table
                        .filter(observations::metric.eq_any(keys))
                        .into_boxed(),
                )
                .order((
                    observations::metric,
                    observations::period_end.asc().nulls_first(),
                    observations::period_start.asc().nulls_first(),
                    observations::area,
                    observations::id,
                ))
                .select(Observation::as_select())
                .load(conn)?;
            for observation in observations {
                all.entry(observation.metric.clone())
                    .or_default()
                    .push(observation);
            }
        }
        Ok(rows
            .into_iter()
            .map(|metric| {
                let observations = view
                    .includes("observations")
                    .then(|| all.remove(&metric.key).unwrap_or_default());
                let newest = by_area.remove(&metric.key).unwrap_or_default();
                to_json(&MetricItem {
                    latest: headline(&newest, metric.headline_area.as_deref()).cloned(),
                    latest_by_area: view.includes("latest_by_area").then_some(newest),
                    observations,
                    metric,
                })
            })
            .collect())
    }
}

/// The headline among the newest figures of each area: the one in `area`, or with
/// no headline area the newest of all (latest period, then latest `as_of`, then
/// latest written).
fn headline<'a>(newest: &'a [Observation], area: Option<&str>) -> Option<&'a Observation> {
    match area {
        Some(area) => newest.iter().find(|o| o.area == area),
        None => newest
            .iter()
            .max_by_key(|o| (o.period_end, o.period_start, o.as_of, o.created_at)),
    }
}
