//! Observations: the figures of an impact metric, each for an area over a period,
//! under `/api/v1/impact-metrics/{key}/observations`. The natural key (metric,
//! area, period_start, period_end) is unique.

mod all;
pub mod batch;
mod model;
mod natural_key;

use diesel::dsl::count_star;
use diesel::prelude::*;
use uuid::Uuid;

use super::{Access, CONTENT, IMPACT_METRICS, Publication};
use crate::engine::{Descriptor, Events, Parent, Resource, Save, Section, Target, first_row};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::schema::{impact_metrics, observations};
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::query::{CONTENT_FIELDS, ListQuery, ListSpec};
use crate::platform::validate::{Area, Check, HttpUrl, Id, parse_date};

pub use all::list_all_observations;
use all::of_visible_metrics;
pub use model::{
    CSV_COLUMNS, Observation, ObservationBody, ObservationInput, PERIOD_ORDER, ParentMetric,
    Qualifier, Unit,
};
use model::{FIELDS, ObservationRecord};
use natural_key::reject_duplicate;

pub struct Observations;

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
            param: (
                "The metric's key, e.g. `women-in-armed-forces`",
                "women-in-armed-forces",
            ),
            column: "metric",
            unknown: codes::UNKNOWN_METRIC,
        }),
        tag: IMPACT_METRICS,
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: PERIOD_ORDER,
            unique_column: "id",
            searchable: false,
            includes: &[],
            embeds: &[],
        },
        read_only: &["metric", "partner"],
        write: Permission::WriteObservations,
        csv: Some(CSV_COLUMNS),
        constraints: &[(
            "observations_natural_key",
            &["area", "period_start", "period_end"],
        )],
        transfer: Some(Section::ordered_by(
            "metric, area, period_end NULLS FIRST, period_start NULLS FIRST, id",
        )),
        events: Events::Upserts,
        ..CONTENT
    };

    fn find_by_id(conn: &mut PgConnection, id: Uuid, lock: bool) -> AppResult<Option<Observation>> {
        let query = observations::table
            .find(id)
            .select(Observation::as_select());
        Ok(first_row!(query, conn, lock)?)
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
        first_row!(query, conn, for_write)?
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
        Ok(first_row!(query, conn, lock)?)
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

    fn validate(body: ObservationBody, to: Target<'_, Observation>) -> AppResult<ObservationInput> {
        let mut check = Check::default();
        let id = match to.key {
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
        let publication = Publication::of(&mut check, body.status, body.published_at, to.existing);
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
            source_url: check.parsed_text("source_url", body.source_url, HttpUrl::parse),
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
    ) -> Result<(), FieldError> {
        let Some(partner) = &caller.partner else {
            return Ok(());
        };
        let list = |values: &[String]| {
            if values.is_empty() {
                "none".to_owned()
            } else {
                values.join(", ")
            }
        };
        if let Some(existing) = existing
            && existing.partner.as_deref() != Some(partner.slug.as_str())
        {
            return Err(FieldError::coded(
                codes::NOT_YOURS,
                "",
                format!(
                    "this observation was not written by {}: a partner's token may change or \
                     delete only its partner's observations",
                    partner.slug
                ),
            ));
        }
        if let Some(metrics) = &partner.metrics
            && !metrics.contains(&metric.key)
        {
            return Err(FieldError::coded(
                codes::NOT_YOUR_METRIC,
                "/metric",
                format!(
                    "{} may not report on the metric {}; it may report on {}",
                    partner.slug,
                    metric.key,
                    list(metrics)
                ),
            ));
        }
        if let Some(input) = input
            && !partner.areas.iter().any(|area| area == input.area.as_str())
        {
            return Err(FieldError::coded(
                codes::NOT_YOUR_AREA,
                "/area",
                format!(
                    "{} may not report for the area {}; it may report for {}",
                    partner.slug,
                    input.area,
                    list(&partner.areas)
                ),
            ));
        }
        Ok(())
    }

    /// A partner's figures are reported by the partner, whatever the body says; a
    /// new observation records its partner and who created it.
    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<Observation> {
        let Save {
            scope: metric,
            existing,
            input,
            context,
        } = save;
        let caller = context.caller;
        input.fits(metric.unit).map_err(|detail| {
            AppError::from(FieldError::coded(codes::OUT_OF_RANGE, "/value", detail))
        })?;
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
}
