//! `GET /api/v1/observations`: the observations of every metric in one list, and
//! which of them a reader may see by their metric.

use actix_web::{HttpRequest, HttpResponse};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::{CSV_COLUMNS, Observation, Observations};
use crate::engine::read::access_of;
use crate::engine::stream::{self, CsvList};
use crate::engine::{Resource, to_json};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::db::schema::observations;
use crate::platform::error::AppResult;
use crate::platform::http::{self, csv};
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
    let load = move |conn: &mut PgConnection, query: &ListQuery| {
        let (rows, total) = query.load::<observations::table, _, _, _>(
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
        let items = rows.iter().map(to_json).collect::<Vec<_>>();
        Ok((items, total))
    };
    if csv::wants_csv(&req) {
        let list = CsvList {
            columns: stream::columns_of(CSV_COLUMNS, &query),
            query,
            load,
        };
        return stream::answer(&db, &req, &caller, list).await;
    }
    let work = query.clone();
    let (items, total) = db
        .run(move |conn| {
            let (items, total) = load(conn, &work)?;
            let items = items
                .into_iter()
                .map(|item| work.view.apply(spec, item))
                .collect::<Vec<_>>();
            Ok((items, total))
        })
        .await?;
    Ok(http::read_page(&req, &caller, items, query.meta(total)))
}
