//! SQL text that a connection may keep prepared.
//!
//! diesel keeps a statement prepared per connection, keyed by its SQL, unless a
//! part of it is a raw `sql(...)` literal: then the statement is parsed and planned
//! for every read. `Known` is SQL text the service writes itself from a bounded set
//! (its column names, the orders a list may take), never a value; the caller says
//! whether the statement it is part of may be kept.
//! diesel's cache has no bound, so a caller keeps only shapes that come from a
//! small, fixed set (a list in its default order, or sorted by one field), not
//! those a request composes freely (several sort keys, a search, filters).

use std::marker::PhantomData;

use diesel::expression::TypedExpressionType;
use diesel::expression::is_aggregate;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::SqlType;

/// SQL text of type `ST` written by the service; kept prepared when `keep`.
#[derive(Debug, Clone)]
pub struct Known<ST> {
    parts: Vec<String>,
    keep: bool,
    of_type: PhantomData<ST>,
}

impl<ST> Known<ST> {
    /// `sql`, in a statement the connection keeps prepared.
    pub fn kept(sql: impl Into<String>) -> Self {
        Self::new(sql, true)
    }

    /// `sql`, kept prepared only if `keep`: a statement whose shape a request
    /// chose freely is planned again for every read instead.
    pub fn new(sql: impl Into<String>, keep: bool) -> Self {
        Self {
            parts: vec![sql.into()],
            keep,
            of_type: PhantomData,
        }
    }

    /// More SQL text.
    pub fn sql(mut self, sql: impl Into<String>) -> Self {
        self.parts.push(sql.into());
        self
    }
}

impl<ST: SqlType + TypedExpressionType> Expression for Known<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Known<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.keep {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            out.push_sql(part);
        }
        Ok(())
    }
}

impl<ST> QueryId for Known<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS, ST: SqlType + TypedExpressionType> SelectableExpression<QS> for Known<ST> {}

impl<QS, ST: SqlType + TypedExpressionType> AppearsOnTable<QS> for Known<ST> {}

impl<GB, ST> ValidGrouping<GB> for Known<ST> {
    type IsAggregate = is_aggregate::Never;
}
