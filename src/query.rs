//! The list language, one engine for every collection: `page`, `per_page`, `sort`,
//! filters (`field`, `field[op]`), `updated_since`, `q`, `fields` and `include`.
//!
//! Each resource declares its fields once in a `ListSpec` (name, SQL column, type,
//! whether it sorts and filters). A query string is parsed against that allow-list
//! into typed values; anything unknown is a 400 that names it. Column names in the
//! SQL come only from the spec, and every value is a bound parameter, so nothing a
//! client sends reaches SQL as text.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{FilterDsl, LimitDsl, OffsetDsl, ThenOrderDsl};
use diesel::sql_types::{self, Array, BigInt};
use uuid::Uuid;

use crate::content::Status;
use crate::content::validate::{parse_date, parse_timestamp};
use crate::error::{AppError, AppResult};

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1_000_000;
const MAX_LIST_VALUES: usize = 100;
const MAX_SEARCH_CHARS: usize = 200;
const MAX_SORT_KEYS: usize = 5;

/// What anonymous callers may see, as SQL over the common columns.
pub const VISIBLE_SQL: &str = "(status = 'published' AND published_at <= now())";

/// Keeps only what `access` may see, on a boxed query of any content table.
pub fn visible<Q>(query: Q, access: crate::content::Access) -> Q
where
    Q: FilterDsl<diesel::expression::SqlLiteral<sql_types::Bool>, Output = Q>,
{
    if access.public_only() {
        query.filter(sql::<sql_types::Bool>(VISIBLE_SQL))
    } else {
        query
    }
}

/// The type of a field, which decides its operators and how values are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Number,
    Date,
    Timestamp,
    Bool,
    Uuid,
    Enum(&'static [&'static str]),
    /// An integer array column; `eq` means "contains", `in` means "overlaps".
    IntegerArray,
    /// Computed for the answer, not stored: may be selected with `fields`, nothing else.
    Derived,
}

/// One field of a resource's representation.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub column: &'static str,
    pub kind: Kind,
    pub sortable: bool,
    pub filterable: bool,
    pub nullable: bool,
}

impl Field {
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            column: name,
            kind,
            sortable: false,
            filterable: false,
            nullable: false,
        }
    }

    pub const fn column(self, column: &'static str) -> Self {
        Self { column, ..self }
    }

    pub const fn sortable(self) -> Self {
        Self {
            sortable: true,
            ..self
        }
    }

    pub const fn filterable(self) -> Self {
        Self {
            filterable: true,
            ..self
        }
    }

    pub const fn nullable(self) -> Self {
        Self {
            nullable: true,
            ..self
        }
    }

    /// Sortable and filterable.
    pub const fn indexed(self) -> Self {
        self.sortable().filterable()
    }

    pub fn operators(&self) -> Vec<Op> {
        if !self.filterable {
            return Vec::new();
        }
        let mut ops = match self.kind {
            Kind::Enum(_) | Kind::Uuid => vec![Op::Eq, Op::Ne, Op::In],
            Kind::Text | Kind::Integer | Kind::Number | Kind::Date | Kind::Timestamp => {
                vec![Op::Eq, Op::Ne, Op::Lt, Op::Lte, Op::Gt, Op::Gte, Op::In]
            }
            Kind::Bool => vec![Op::Eq, Op::Ne],
            Kind::IntegerArray => vec![Op::Eq, Op::In],
            Kind::Derived => Vec::new(),
        };
        if self.nullable {
            ops.push(Op::Null);
        }
        ops
    }
}

/// The fields every content item has, after its own.
pub const COMMON_FIELDS: &[Field] = &[
    Field::new("id", Kind::Uuid).filterable(),
    Field::new("status", Kind::Enum(Status::ALL)).indexed(),
    Field::new("published_at", Kind::Timestamp)
        .indexed()
        .nullable(),
    Field::new("version", Kind::Integer),
    Field::new("created_at", Kind::Timestamp).indexed(),
    Field::new("updated_at", Kind::Timestamp).indexed(),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
}

/// A resource's list allow-list.
#[derive(Debug)]
pub struct ListSpec {
    /// Its own fields, in the order of its representation (common fields follow).
    pub fields: &'static [Field],
    /// The order of a list without `sort`.
    pub default_sort: &'static [(&'static str, Dir)],
    /// A unique column: the last sort key, so that paging never skips or repeats.
    pub unique_column: &'static str,
    /// Whether the table has a `search` tsvector column for `q`.
    pub searchable: bool,
    /// Relations `include` may embed.
    pub includes: &'static [&'static str],
}

impl ListSpec {
    pub fn all_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields.iter().chain(COMMON_FIELDS.iter())
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.all_fields().find(|field| field.name == name)
    }

    /// The values `sort` accepts: every sortable field, ascending and descending.
    pub fn sort_values(&self) -> Vec<String> {
        self.all_fields()
            .filter(|field| field.sortable)
            .flat_map(|field| [field.name.to_owned(), format!("-{}", field.name)])
            .collect()
    }
}

/// A comparison in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    /// `field[null]=true|false`: whether a nullable field is empty.
    Null,
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::In,
        Op::Null,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::In => "in",
            Self::Null => "null",
        }
    }

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

/// Typed filter values: one for a comparison, several for `in`.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Text(Vec<String>),
    Integer(Vec<i32>),
    Number(Vec<f64>),
    Date(Vec<NaiveDate>),
    Timestamp(Vec<DateTime<Utc>>),
    Bool(Vec<bool>),
    Uuid(Vec<Uuid>),
    IsNull(bool),
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub field: &'static Field,
    pub op: Op,
    pub values: Values,
}

/// How items are shown: which fields, which embedded relations.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub fields: Option<Vec<&'static str>>,
    pub include: Vec<&'static str>,
}

impl View {
    pub fn includes(&self, relation: &str) -> bool {
        self.include.contains(&relation)
    }

    /// Keeps only the requested fields (embedded relations stay).
    pub fn apply(&self, spec: &ListSpec, item: serde_json::Value) -> serde_json::Value {
        match (&self.fields, item) {
            (Some(fields), serde_json::Value::Object(mut object)) => {
                object.retain(|key, _| fields.contains(&key.as_str()) || spec.field(key).is_none());
                serde_json::Value::Object(object)
            }
            (_, item) => item,
        }
    }
}

/// A parsed, validated list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: i64,
    pub per_page: i64,
    pub sort: Vec<(&'static Field, Dir)>,
    pub filters: Vec<Filter>,
    pub q: Option<String>,
    pub view: View,
}

type Pairs = Vec<(String, String)>;

/// Splits a query string, refusing a parameter given twice.
pub fn pairs(query_string: &str) -> AppResult<Pairs> {
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        if key.is_empty() && value.is_empty() {
            continue;
        }
        if !seen.insert(key.to_string()) {
            return Err(AppError::bad_request(
                key.to_string(),
                format!("the parameter {key} is given more than once"),
            ));
        }
        if value.contains('\0') || key.contains('\0') {
            return Err(AppError::bad_request(
                key.to_string(),
                "parameters may not contain NUL characters",
            ));
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

/// Refuses every parameter: for requests that take none.
pub fn no_parameters(query_string: &str) -> AppResult<()> {
    match pairs(query_string)?.into_iter().next() {
        Some((key, _)) => Err(unknown_parameter(&key, &[])),
        None => Ok(()),
    }
}

fn unknown_parameter(key: &str, allowed: &[&str]) -> AppError {
    let detail = if allowed.is_empty() {
        format!("unknown parameter {key}: this request takes no parameters")
    } else {
        format!("unknown parameter {key}; allowed: {}", allowed.join(", "))
    };
    AppError::bad_request(key, detail)
}

fn list_items<'v>(key: &str, raw: &'v str) -> AppResult<Vec<&'v str>> {
    let items: Vec<&str> = raw.split(',').map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err(AppError::bad_request(
            key,
            format!("{key} has an empty item; separate items with single commas"),
        ));
    }
    if items.len() > MAX_LIST_VALUES {
        return Err(AppError::bad_request(
            key,
            format!("{key} may list at most {MAX_LIST_VALUES} items"),
        ));
    }
    Ok(items)
}

fn number_param(key: &str, raw: &str, range: std::ops::RangeInclusive<i64>) -> AppResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            AppError::bad_request(
                key,
                format!(
                    "{key} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Parses `fields` and `include` against the spec.
fn parse_view(spec: &ListSpec, key: &str, raw: &str, view: &mut View) -> AppResult<()> {
    let items = list_items(key, raw)?;
    if key == "fields" {
        let mut fields = Vec::new();
        for item in items {
            let field = spec.field(item).ok_or_else(|| {
                let names: Vec<&str> = spec.all_fields().map(|f| f.name).collect();
                AppError::bad_request(
                    key,
                    format!(
                        "unknown field {item} in fields; fields are {}",
                        names.join(", ")
                    ),
                )
            })?;
            if !fields.contains(&field.name) {
                fields.push(field.name);
            }
        }
        view.fields = Some(fields);
    } else {
        for item in items {
            let relation = spec.includes.iter().find(|r| **r == item).ok_or_else(|| {
                let allowed = if spec.includes.is_empty() {
                    "nothing".to_owned()
                } else {
                    spec.includes.join(", ")
                };
                AppError::bad_request(
                    key,
                    format!(
                        "unknown relation {item} in include; this resource can include {allowed}"
                    ),
                )
            })?;
            if !view.include.contains(relation) {
                view.include.push(relation);
            }
        }
    }
    Ok(())
}

/// `fields` and `include` for a single item; nothing else is accepted.
pub fn parse_item_view(spec: &ListSpec, query_string: &str) -> AppResult<View> {
    let mut view = View::default();
    for (key, value) in pairs(query_string)? {
        match key.as_str() {
            "fields" | "include" => parse_view(spec, &key, &value, &mut view)?,
            _ => return Err(unknown_parameter(&key, &["fields", "include"])),
        }
    }
    Ok(view)
}

impl ListQuery {
    pub fn parse(spec: &ListSpec, query_string: &str) -> AppResult<Self> {
        let mut query = Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            sort: Vec::new(),
            filters: Vec::new(),
            q: None,
            view: View::default(),
        };
        for (key, value) in pairs(query_string)? {
            match key.as_str() {
                "page" => query.page = number_param(&key, &value, 1..=MAX_PAGE)?,
                "per_page" => query.per_page = number_param(&key, &value, 1..=MAX_PER_PAGE)?,
                "sort" => query.sort = parse_sort(spec, &value)?,
                "fields" | "include" => parse_view(spec, &key, &value, &mut query.view)?,
                "q" => query.q = Some(parse_search(spec, &value)?),
                "updated_since" => {
                    let since = parse_instant(&value)
                        .map_err(|detail| AppError::bad_request(&key, format!("{key} {detail}")))?;
                    let field = spec
                        .field("updated_at")
                        .ok_or_else(|| AppError::internal("no updated_at"))?;
                    query.filters.push(Filter {
                        field,
                        op: Op::Gte,
                        values: Values::Timestamp(vec![since]),
                    });
                }
                _ => query.filters.push(parse_filter(spec, &key, &value)?),
            }
        }
        Ok(query)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The WHERE conditions, each a bound SQL expression.
    pub fn predicates<QS: 'static>(&self, visible_only: bool) -> Vec<Predicate<QS>> {
        let mut predicates: Vec<Predicate<QS>> = Vec::new();
        if visible_only {
            predicates.push(Box::new(sql::<sql_types::Bool>(VISIBLE_SQL)));
        }
        predicates.extend(self.filters.iter().map(Filter::predicate));
        if let Some(q) = &self.q {
            predicates.push(Box::new(
                sql::<sql_types::Bool>("search @@ websearch_to_tsquery('english', ")
                    .bind::<sql_types::Text, _>(q.clone())
                    .sql(")"),
            ));
        }
        predicates
    }

    /// The ORDER BY terms: the requested sort (or relevance for `q`, or the
    /// resource's default), then the unique column.
    pub fn order<QS: 'static>(&self, spec: &ListSpec) -> Vec<Predicate<QS>> {
        let mut terms: Vec<Predicate<QS>> = Vec::new();
        let mut sort: Vec<(&str, Dir)> = self
            .sort
            .iter()
            .map(|(field, dir)| (field.column, *dir))
            .collect();
        if sort.is_empty() {
            if let Some(q) = &self.q {
                terms.push(Box::new(
                    sql::<sql_types::Bool>("ts_rank_cd(search, websearch_to_tsquery('english', ")
                        .bind::<sql_types::Text, _>(q.clone())
                        .sql(")) DESC"),
                ));
            }
            sort = spec
                .default_sort
                .iter()
                .filter_map(|(name, dir)| spec.field(name).map(|field| (field.column, *dir)))
                .collect();
        }
        if !sort.iter().any(|(column, _)| *column == spec.unique_column) {
            sort.push((spec.unique_column, Dir::Asc));
        }
        for (column, dir) in sort {
            let direction = match dir {
                Dir::Asc => "ASC NULLS FIRST",
                Dir::Desc => "DESC NULLS LAST",
            };
            terms.push(Box::new(sql::<sql_types::Bool>(&format!(
                "{column} {direction}"
            ))));
        }
        terms
    }

    /// Loads one page and the total. `base` builds the resource's boxed query,
    /// selecting `(Row, count(*) OVER ())`; it is called again, for the total
    /// alone, only when the page is past the end.
    pub fn load<QS, Q, R>(
        &self,
        spec: &ListSpec,
        visible_only: bool,
        conn: &mut PgConnection,
        base: impl Fn() -> Q,
    ) -> QueryResult<(Vec<R>, i64)>
    where
        QS: 'static,
        Q: FilterDsl<Predicate<QS>, Output = Q>
            + ThenOrderDsl<Predicate<QS>, Output = Q>
            + LimitDsl<Output = Q>
            + OffsetDsl<Output = Q>
            + for<'c> LoadQuery<'c, PgConnection, (R, i64)>,
    {
        let filtered = || {
            let mut query = base();
            for predicate in self.predicates::<QS>(visible_only) {
                query = query.filter(predicate);
            }
            query
        };
        let mut query = filtered();
        for term in self.order::<QS>(spec) {
            query = query.then_order_by(term);
        }
        let rows: Vec<(R, i64)> = query
            .limit(self.per_page)
            .offset(self.offset())
            .load(conn)?;
        let total = match rows.first() {
            Some((_, total)) => *total,
            None if self.page == 1 => 0,
            None => filtered()
                .limit(1)
                .load::<(R, i64)>(conn)?
                .first()
                .map_or(0, |(_, total)| *total),
        };
        Ok((rows.into_iter().map(|(row, _)| row).collect(), total))
    }
}

/// A bound SQL condition or order term over the columns of `QS`.
pub type Predicate<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = sql_types::Bool>>;

/// `count(*) OVER ()`: the total of a filtered list, next to each row of the page.
pub fn total() -> diesel::expression::SqlLiteral<BigInt> {
    sql::<BigInt>("count(*) OVER ()")
}

fn parse_sort(spec: &ListSpec, raw: &str) -> AppResult<Vec<(&'static Field, Dir)>> {
    let items = list_items("sort", raw)?;
    if items.len() > MAX_SORT_KEYS {
        return Err(AppError::bad_request(
            "sort",
            format!("sort takes at most {MAX_SORT_KEYS} keys"),
        ));
    }
    let mut sort: Vec<(&'static Field, Dir)> = Vec::new();
    for item in items {
        let (name, dir) = match item.strip_prefix('-') {
            Some(name) => (name, Dir::Desc),
            None => (item, Dir::Asc),
        };
        let field = spec
            .field(name)
            .filter(|field| field.sortable)
            .ok_or_else(|| {
                AppError::bad_request(
                    "sort",
                    format!(
                        "cannot sort by {item}; sort by {} (prefix - for descending)",
                        sortable_names(spec)
                    ),
                )
            })?;
        if sort.iter().any(|(seen, _)| seen.name == field.name) {
            return Err(AppError::bad_request(
                "sort",
                format!("sort names {name} twice"),
            ));
        }
        sort.push((field, dir));
    }
    Ok(sort)
}

fn sortable_names(spec: &ListSpec) -> String {
    spec.all_fields()
        .filter(|f| f.sortable)
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_search(spec: &ListSpec, raw: &str) -> AppResult<String> {
    if !spec.searchable {
        return Err(unknown_parameter("q", &[]));
    }
    let q = raw.trim();
    if q.is_empty() {
        return Err(AppError::bad_request("q", "q must not be empty"));
    }
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::bad_request(
            "q",
            format!("q must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    Ok(q.to_owned())
}

/// An RFC 3339 instant, or a date meaning its midnight UTC.
fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    parse_timestamp(raw).or_else(|_| {
        parse_date(raw)
            .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
            .map_err(|_| {
                "must be an RFC 3339 date and time such as 2024-05-08T09:00:00Z, or a date"
                    .to_owned()
            })
    })
}

/// `name` or `name[op]`, looked up in the spec.
fn parse_filter(spec: &ListSpec, key: &str, raw: &str) -> AppResult<Filter> {
    let (name, op_name) = match key.split_once('[') {
        None => (key, None),
        Some((name, rest)) => match rest.strip_suffix(']') {
            Some(op) if !op.contains(['[', ']']) => (name, Some(op)),
            _ => {
                return Err(AppError::bad_request(
                    key,
                    format!("{key} is not a parameter; filters are written field or field[op]"),
                ));
            }
        },
    };
    let field = spec
        .field(name)
        .filter(|field| field.filterable)
        .ok_or_else(|| {
            let filterable: Vec<&str> = spec
                .all_fields()
                .filter(|f| f.filterable)
                .map(|f| f.name)
                .collect();
            unknown_parameter(
                key,
                &[
                    &[
                        "page",
                        "per_page",
                        "sort",
                        "fields",
                        "include",
                        "updated_since",
                    ][..],
                    &filterable[..],
                ]
                .concat(),
            )
        })?;
    let op = match op_name {
        None => Op::Eq,
        Some(op_name) => {
            let allowed = field.operators();
            *allowed
                .iter()
                .find(|op| op.name() == op_name)
                .ok_or_else(|| {
                    let names: Vec<&str> = allowed.iter().map(|op| op.name()).collect();
                    AppError::bad_request(
                        key,
                        format!(
                            "unknown operator {op_name} for {name}; use {}",
                            names.join(", ")
                        ),
                    )
                })?
        }
    };
    let raw_values = match op {
        Op::In => list_items(key, raw)?,
        _ if raw.is_empty() => {
            return Err(AppError::bad_request(key, format!("{key} needs a value")));
        }
        _ => vec![raw],
    };
    let values = parse_values(field, op, &raw_values)
        .map_err(|detail| AppError::bad_request(key, format!("{key} {detail}")))?;
    Ok(Filter { field, op, values })
}

fn parse_values(field: &Field, op: Op, raw: &[&str]) -> Result<Values, String> {
    fn all<T>(raw: &[&str], parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
        raw.iter().map(|item| parse(item)).collect()
    }
    if op == Op::Null {
        return match raw {
            ["true"] => Ok(Values::IsNull(true)),
            ["false"] => Ok(Values::IsNull(false)),
            _ => Err("must be true or false".to_owned()),
        };
    }
    Ok(match field.kind {
        Kind::Text => Values::Text(all(raw, |item| Ok(item.to_owned()))?),
        Kind::Enum(allowed) => Values::Text(all(raw, |item| {
            if allowed.contains(&item) {
                Ok(item.to_owned())
            } else {
                Err(format!("must be one of {}", allowed.join(", ")))
            }
        })?),
        Kind::Integer | Kind::IntegerArray => Values::Integer(all(raw, |item| {
            item.parse::<i32>()
                .map_err(|_| "must be a whole number".to_owned())
        })?),
        Kind::Number => Values::Number(all(raw, |item| {
            item.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| "must be a number".to_owned())
        })?),
        Kind::Date => Values::Date(all(raw, parse_date)?),
        Kind::Timestamp => Values::Timestamp(all(raw, parse_instant)?),
        Kind::Bool => Values::Bool(all(raw, |item| match item {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("must be true or false".to_owned()),
        })?),
        Kind::Uuid => Values::Uuid(all(raw, |item| {
            Uuid::parse_str(item).map_err(|_| "must be a UUID".to_owned())
        })?),
        Kind::Derived => return Err("cannot be filtered".to_owned()),
    })
}

impl Filter {
    fn predicate<QS: 'static>(&self) -> Predicate<QS> {
        use sql_types::{Bool, Date, Float8, Int4, Text, Timestamptz};
        let column = self.field.column;
        let op = self.op;
        if let Values::IsNull(is_null) = self.values {
            let test = if is_null { "IS NULL" } else { "IS NOT NULL" };
            return Box::new(sql::<Bool>(&format!("{column} {test}")));
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
    use super::*;

    const FIELDS: &[Field] = &[
        Field::new("slug", Kind::Text).indexed(),
        Field::new("title", Kind::Text).indexed(),
        Field::new("position", Kind::Integer).indexed(),
        Field::new("parent", Kind::Text).filterable().nullable(),
        Field::new("body_html", Kind::Derived),
    ];
    const SPEC: ListSpec = ListSpec {
        fields: FIELDS,
        default_sort: &[("position", Dir::Asc)],
        unique_column: "slug",
        searchable: true,
        includes: &["children"],
    };

    fn bad(query: &str) -> String {
        match ListQuery::parse(&SPEC, query) {
            Err(AppError::BadRequest { errors, .. }) => errors
                .first()
                .map(|e| e.pointer.clone())
                .unwrap_or_default(),
            other => format!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_full_query_is_parsed_into_typed_values() {
        let query = ListQuery::parse(
            &SPEC,
            "page=2&per_page=5&sort=-position,title&position[gte]=3&status[in]=draft,published&fields=slug,title&include=children&q=arms",
        );
        let query = query.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((query.page, query.per_page, query.offset()), (2, 5, 5));
        assert_eq!(
            query
                .sort
                .iter()
                .map(|(f, d)| (f.name, *d))
                .collect::<Vec<_>>(),
            [("position", Dir::Desc), ("title", Dir::Asc)]
        );
        assert_eq!(query.filters[0].values, Values::Integer(vec![3]));
        assert_eq!(
            query.filters[1].values,
            Values::Text(vec!["draft".into(), "published".into()])
        );
        assert_eq!(query.view.fields, Some(vec!["slug", "title"]));
        assert_eq!(query.view.include, ["children"]);
        assert_eq!(query.q.as_deref(), Some("arms"));
    }

    #[test]
    fn hostile_or_unknown_input_is_a_400_naming_the_parameter() {
        assert_eq!(bad("sort=t1.password"), "sort");
        assert_eq!(bad("sort=title;drop table pages"), "sort");
        assert_eq!(bad("sort=body_html"), "sort");
        assert_eq!(bad("per_page=100000"), "per_page");
        assert_eq!(bad("per_page=0"), "per_page");
        assert_eq!(bad("page=-1"), "page");
        assert_eq!(bad("colour=red"), "colour");
        assert_eq!(bad("title[like]=x"), "title[like]");
        assert_eq!(bad("title[eq][x]=y"), "title[eq][x]");
        assert_eq!(bad("status[in]="), "status[in]");
        assert_eq!(bad("status[in]=draft,,published"), "status[in]");
        assert_eq!(bad("status=secret"), "status");
        assert_eq!(bad("published_at[gt]=yesterday"), "published_at[gt]");
        assert_eq!(bad("position=1.5"), "position");
        assert_eq!(bad("fields=slug,password"), "fields");
        assert_eq!(bad("include=everything"), "include");
        assert_eq!(bad("q="), "q");
        assert_eq!(bad("page=1&page=2"), "page");
        assert_eq!(bad("updated_since=soon"), "updated_since");
        assert_eq!(bad("title="), "title");
    }

    #[test]
    fn the_default_order_ends_with_the_unique_column() {
        let query = ListQuery::parse(&SPEC, "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            query.order::<crate::db::schema::pages::table>(&SPEC).len(),
            2
        );
        let sorted = ListQuery::parse(&SPEC, "sort=slug").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sorted.order::<crate::db::schema::pages::table>(&SPEC).len(),
            1
        );
    }

    #[test]
    fn sparse_fieldsets_keep_only_what_was_asked() {
        let view = View {
            fields: Some(vec!["title", "slug"]),
            include: vec!["children"],
        };
        let item = serde_json::json!({"slug": "mission", "title": "Mission", "body_html": "...", "children": []});
        assert_eq!(
            view.apply(&SPEC, item),
            serde_json::json!({"slug": "mission", "title": "Mission", "children": []})
        );
    }
}
