//! Impact metrics: what SEESAC's work has achieved, each with its observations over
//! time (see `observations`) and the newest one shown as `latest`.

use diesel::prelude::*;
use serde_json::Value;

use super::observations::{Observation, Unit};
use super::{Access, CONTENT, IMPACT_METRICS, Publication};
use crate::engine::{
    Descriptor, Embedded, Resource, Save, Search, Section, Target, WriteContext, delete_row,
    grouped, store_row, table_resource, to_json,
};
use crate::platform::db::schema::{impact_metrics, observations};
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::query::{CONTENT_FIELDS, Dir, Embed, ListSpec, View};
use crate::platform::validate::{Area, Check, Name, Slug};

mod model;

use model::FIELDS;

/// The spec of a metric's figures, which it embeds (`latest`, `observations`).
fn observations_spec() -> &'static ListSpec {
    super::observations::Observations::DESCRIPTOR.spec
}
pub use model::{Category, Metric, MetricBody, MetricItem, MetricRecord};

pub struct Metrics;

impl Resource for Metrics {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "impact metric",
        plural: "impact metrics",
        kind: "impact_metric",
        table: "impact_metrics",
        path: "/api/v1/impact-metrics",
        key: "key",
        key_description: "The metric's key, e.g. `women-in-armed-forces`",
        key_example: "women-in-armed-forces",
        tag: IMPACT_METRICS,
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("position", Dir::Asc)],
            unique_column: "key",
            searchable: true,
            includes: &["observations", "latest_by_area"],
            embeds: &[
                Embed::of("latest", observations_spec),
                Embed::of("observations", observations_spec),
                Embed::of("latest_by_area", observations_spec),
            ],
        },
        read_only: &["latest", "latest_by_area", "observations"],
        cascade: Some(
            "`true` deletes the metric's observations with it; without it, a metric that has \
             observations is a 409",
        ),
        search: Some(Search {
            title: "label",
            text: "label || ' ' || coalesce(description, '')",
            fields: &["label", "description"],
        }),
        transfer: Some(Section::ordered_by("key")),
        ..CONTENT
    };

    table_resource!(
        table: impact_metrics, key: key as Slug, row: Metric, item: MetricItem, body: MetricBody,
        input: MetricRecord
    );

    fn validate(body: MetricBody, to: Target<'_, Metric>) -> AppResult<MetricRecord> {
        let mut check = Check::default();
        let key = check.key("key", body.key, to.key, Slug::parse);
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
        let publication = Publication::of(&mut check, body.status, body.published_at, to.existing);
        let record = MetricRecord {
            key: key.map(Slug::into_inner).unwrap_or_default(),
            label: check.text("label", body.label, Name::MAX),
            description: check.optional_text("description", body.description, 2000),
            category: category.unwrap_or(Category::Overall),
            unit: unit.unwrap_or(Unit::Count),
            sdg_goals,
            position: check.position(body.position),
            headline_area: headline_area.map(Area::into_inner),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<Metric> {
        let unit = save.input.unit;
        if let Some(metric) = save.existing
            && metric.unit != unit
            && unit == Unit::Percent
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
                return Err(FieldError::coded(
                    codes::OUT_OF_RANGE,
                    "/unit",
                    "some observations are not between 0 and 100",
                )
                .into());
            }
        }
        Ok(store_row!(conn, table: impact_metrics, row: Metric, save)?)
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
        delete_row::<Self>(conn, row)
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
        let of_metric = |figure: Observation| (figure.metric.clone(), figure);
        let mut by_area = grouped(newest.into_iter().map(of_metric));
        let mut all = Embedded::load(view, "observations", || {
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
            Ok(observations.into_iter().map(of_metric))
        })?;
        Ok(rows
            .into_iter()
            .map(|metric| {
                let observations = all.take(&metric.key);
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
