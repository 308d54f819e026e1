//! `GET /api/v1/observations`: the observations of every metric in one list, and
//! which of them a reader may see by their metric.

use actix_web::{HttpRequest, HttpResponse};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::{CSV_COLUMNS, Observation, Observations};
use crate::engine::read::{access_of, answer_list};
use crate::engine::{Resource, to_json};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::db::schema::observations;
use crate::platform::error::AppResult;
use crate::platform::query::ListQuery;
use crate::platform::visibility::{Access, VISIBLE_SQL};

/// Observations anonymous readers may see the metric of: every one for those who
/// see everything.
pub(super) fn of_visible_metrics(access: Access) -> diesel::expression::SqlLiteral<Bool> {
    if access.public_only() {
        sql::<Bool>(&format!(
            "metric IN (SELECT key FROM impact_metrics WHERE {VISIBLE_SQL})"
        ))
    } else {
        sql::<Bool>("true")
    }
}

/// `GET /api/v1/observations`: observations of every metric, with `metric` a filter
/// like any other, in JSON or CSV. Anonymous callers see only those of published
/// metrics.
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
