//! A parsed list request as SQL: WHERE conditions and ORDER BY terms, each a bound
//! expression over the columns of a resource's table, and the loader that runs
//! them on a resource's boxed query.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{FilterDsl, LimitDsl, OffsetDsl, ThenOrderDsl};
use diesel::sql_types::{self, Array, Bool};

use super::{Dir, Filter, Kind, ListQuery, ListSpec, Localised, Op, Values};
use crate::platform::db::prepared::Known;
use crate::platform::visibility::{Access, VISIBLE_SQL};

/// A bound SQL condition over the columns of `QS`.
pub type Condition<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// A bound ORDER BY term over the columns of `QS`. diesel wants every expression
/// typed; ORDER BY ignores the type, so it is called text.
pub type OrderTerm<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = sql_types::Text>>;

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "IS DISTINCT FROM",
            Self::Lt => "<",
            Self::Lte => "<=",
            Self::Gt => ">",
            Self::Gte => ">=",
            Self::In | Self::Null => "",
        }
    }
}

impl ListQuery {
    /// The WHERE conditions: what `access` may see, the filters, the search.
    pub fn conditions<QS: 'static>(&self, access: Access) -> Vec<Condition<QS>> {
        let mut conditions: Vec<Condition<QS>> = Vec::new();
        if access.public_only() {
            conditions.push(Box::new(Known::<Bool>::kept(VISIBLE_SQL)));
        }
        conditions.extend(
            self.filters
                .iter()
                .map(|filter| filter.condition(access, self.localised.as_ref())),
        );
        if let Some(q) = &self.q {
            let (vector, config) = self.searched();
            conditions.push(Box::new(
                sql::<Bool>(&format!("{vector} @@ websearch_to_tsquery({config}, "))
                    .bind::<sql_types::Text, _>(q.clone())
                    .sql(")"),
            ));
        }
        conditions
    }

    /// What `q` searches, as SQL, and with which configuration: the table's stored
    /// vector in English, or in another locale the text the reader sees there.
    fn searched(&self) -> (String, String) {
        match &self.localised {
            Some(localised) if localised.search.is_some() => {
                let config = localised.search_config();
                let document = localised.search.as_deref().unwrap_or("''");
                (format!("to_tsvector({config}, {document})"), config)
            }
            _ => ("search".to_owned(), "'english'".to_owned()),
        }
    }

    /// The ORDER BY terms: the requested sort (or relevance for `q`, or the
    /// resource's default), then the unique column. The default order, or one
    /// field, leaves the statement one the connection may keep prepared (`Known`);
    /// several, or a translatable field in a locale (its locales written in), a
    /// set too large to keep, do not.
    pub fn order<QS: 'static>(&self, spec: &ListSpec, access: Access) -> Vec<OrderTerm<QS>> {
        let mut terms: Vec<OrderTerm<QS>> = Vec::new();
        let translated = self.localised.is_some()
            && self
                .sort
                .iter()
                .any(|(field, _)| field.translatable.is_some());
        let keep = self.sort.len() <= 1 && self.q.is_none() && !translated;
        let mut sort: Vec<(String, Dir)> = self
            .sort
            .iter()
            .map(|(field, dir)| (field.sql_value_in(access, self.localised.as_ref()), *dir))
            .collect();
        if sort.is_empty() {
            if let Some(q) = &self.q {
                let (vector, config) = self.searched();
                terms.push(Box::new(
                    sql::<sql_types::Text>(&format!(
                        "ts_rank_cd({vector}, websearch_to_tsquery({config}, "
                    ))
                    .bind::<sql_types::Text, _>(q.clone())
                    .sql(")) DESC"),
                ));
            }
            sort = spec
                .default_sort
                .iter()
                .filter_map(|(name, dir)| {
                    spec.field(name)
                        .map(|field| (field.sql_value_in(access, self.localised.as_ref()), *dir))
                })
                .collect();
        }
        if !sort.iter().any(|(column, _)| column == spec.unique_column) {
            sort.push((spec.unique_column.to_owned(), Dir::Asc));
        }
        for (column, dir) in sort {
            let direction = match dir {
                Dir::Asc => "ASC NULLS FIRST",
                Dir::Desc => "DESC NULLS LAST",
            };
            terms.push(Box::new(Known::<sql_types::Text>::new(
                format!("{column} {direction}"),
                keep,
            )));
        }
        terms
    }

    /// Loads one page and the total. `rows` builds the resource's boxed query of
    /// rows, `count` the same query counting them (`count(*)`). The count is a
    /// query of its own, run only when the page cannot tell the total: a page that
    /// is not full ends the list, and a full one is found in sort order (by an index)
    /// without reading, or sorting, the rest.
    pub fn load<QS, Q, C, R>(
        &self,
        spec: &ListSpec,
        access: Access,
        conn: &mut PgConnection,
        rows: impl Fn() -> Q,
        count: impl Fn() -> C,
    ) -> QueryResult<(Vec<R>, i64)>
    where
        QS: 'static,
        Q: FilterDsl<Condition<QS>, Output = Q>
            + ThenOrderDsl<OrderTerm<QS>, Output = Q>
            + LimitDsl<Output = Q>
            + OffsetDsl<Output = Q>
            + for<'c> LoadQuery<'c, PgConnection, R>,
        C: FilterDsl<Condition<QS>, Output = C> + for<'c> LoadQuery<'c, PgConnection, i64>,
    {
        let mut query = rows();
        for condition in self.conditions::<QS>(access) {
            query = query.filter(condition);
        }
        for term in self.order::<QS>(spec, access) {
            query = query.then_order_by(term);
        }
        let page: Vec<R> = query
            .limit(self.per_page)
            .offset(self.offset())
            .load(conn)?;
        let loaded = page.len() as i64;
        let total = if (loaded > 0 && loaded < self.per_page) || (loaded == 0 && self.page == 1) {
            self.offset() + loaded
        } else {
            let mut counting = count();
            for condition in self.conditions::<QS>(access) {
                counting = counting.filter(condition);
            }
            counting.get_result(conn)?
        };
        Ok((page, total))
    }
}

impl Filter {
    fn condition<QS: 'static>(
        &self,
        access: Access,
        localised: Option<&Localised>,
    ) -> Condition<QS> {
        use sql_types::{Date, Float8, Int4, Text, Timestamptz};
        let column = self.field.sql_value_in(access, localised);
        let op = self.op;
        if let Values::IsNull(is_null) = self.values {
            let test = if is_null { "IS NULL" } else { "IS NOT NULL" };
            return Box::new(sql::<Bool>(&format!("{column} {test}")));
        }
        if self.field.kind == Kind::TextArray {
            let Values::Text(values) = &self.values else {
                return Box::new(sql::<Bool>("false"));
            };
            return if op == Op::In {
                Box::new(
                    sql::<Bool>(&format!("{column} && ")).bind::<Array<Text>, _>(values.clone()),
                )
            } else {
                Box::new(
                    sql::<Bool>(&format!("{column} @> ")).bind::<Array<Text>, _>(
                        values.first().cloned().into_iter().collect::<Vec<String>>(),
                    ),
                )
            };
        }
        if self.field.kind == Kind::IntegerArray {
            let Values::Integer(values) = &self.values else {
                return Box::new(sql::<Bool>("false"));
            };
            return if op == Op::In {
                Box::new(
                    sql::<Bool>(&format!("{column} && ")).bind::<Array<Int4>, _>(values.clone()),
                )
            } else {
                Box::new(
                    sql::<Bool>("")
                        .bind::<Int4, _>(values.first().copied().unwrap_or_default())
                        .sql(&format!(" = ANY({column})")),
                )
            };
        }
        // One arm per SQL type: the value is always bound, never formatted.
        macro_rules! bound {
            ($values:expr, $sql_type:ty) => {{
                let values = $values.clone();
                if op == Op::In {
                    Box::new(
                        sql::<Bool>(&format!("{column} = ANY("))
                            .bind::<Array<$sql_type>, _>(values)
                            .sql(")"),
                    )
                } else {
                    let value = values.into_iter().next().unwrap_or_default();
                    Box::new(
                        sql::<Bool>(&format!("{column} {} ", op.sql())).bind::<$sql_type, _>(value),
                    )
                }
            }};
        }
        match &self.values {
            Values::Text(values) => bound!(values, Text),
            Values::Integer(values) => bound!(values, Int4),
            Values::Number(values) => bound!(values, Float8),
            Values::Date(values) => bound!(values, Date),
            Values::Timestamp(values) => bound!(values, Timestamptz),
            Values::Bool(values) => bound!(values, Bool),
            Values::Uuid(values) => bound!(values, sql_types::Uuid),
            Values::IsNull(_) => Box::new(sql::<Bool>("false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::SPEC;
    use super::*;

    #[test]
    fn the_default_order_ends_with_the_unique_column() {
        let query = ListQuery::parse(&SPEC, "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(query.order::<()>(&SPEC, Access::Public).len(), 2);
        let sorted = ListQuery::parse(&SPEC, "sort=slug").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sorted.order::<()>(&SPEC, Access::Public).len(), 1);
    }
}
