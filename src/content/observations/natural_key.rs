//! The natural key of an observation, its metric, area and period, is unique: a
//! write that would give a second observation the same one is refused, naming
//! the first.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::{ObservationInput, ParentMetric};
use crate::platform::db::schema::observations;
use crate::platform::error::{AppResult, FieldError, codes};

/// A second observation with the same natural key is a 409 that names the first.
pub(super) fn reject_duplicate(
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
            Err(FieldError::coded(codes::TAKEN, "", detail).into())
        }
    }
}
