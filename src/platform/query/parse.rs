//! The query string of a list or an item, checked against a `ListSpec` into typed
//! values. Anything unknown, repeated or malformed is a 400 that names it.

use uuid::Uuid;

use super::params::{Paging, Params, list_items, parse_instant, unknown_parameter};
use super::view::take_view;
use super::{
    Dir, Field, Filter, Kind, ListQuery, ListSpec, MAX_SEARCH_CHARS, MAX_SORT_KEYS, Op, Values,
};
use crate::platform::error::{AppError, AppResult};
use crate::platform::validate::{parse_date, trim_blank};

impl ListQuery {
    pub fn parse(spec: &'static ListSpec, query_string: &str) -> AppResult<Self> {
        let mut params = Params::parse(query_string)?;
        let Paging { page, per_page } = params.paging()?;
        let mut query = Self {
            page,
            per_page,
            sort: Vec::new(),
            filters: Vec::new(),
            q: None,
            view: take_view(spec, &mut params)?,
            localised: None,
        };
        if let Some(raw) = params.take("sort") {
            query.sort = parse_sort(spec, &raw)?;
        }
        if let Some(since) = params.instant("updated_since")? {
            let field = spec
                .field("updated_at")
                .ok_or_else(|| AppError::internal("no updated_at"))?;
            query.filters.push(Filter {
                field,
                op: Op::Gte,
                values: Values::Timestamp(vec![since]),
            });
        }
        if spec.searchable {
            query.q = params.parsed("q", parse_search)?;
        }
        for field in spec.all_fields().filter(|f| f.filterable) {
            params.takes(field.name);
        }
        let takes = params.taken().to_vec();
        for (key, value) in params.remaining() {
            query
                .filters
                .push(parse_filter(spec, &key, &value, &takes)?);
        }
        Ok(query)
    }
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
        // A field named again adds nothing, as in SQL: the first mention decides.
        if !sort.iter().any(|(seen, _)| seen.name == field.name) {
            sort.push((field, dir));
        }
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

fn parse_search(raw: &str) -> Result<String, String> {
    let q = trim_blank(raw);
    if q.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if raw.chars().count() > MAX_SEARCH_CHARS {
        return Err(format!("must be at most {MAX_SEARCH_CHARS} characters"));
    }
    Ok(q.to_owned())
}

/// `name` or `name[op]`, looked up in the spec.
fn parse_filter(spec: &ListSpec, key: &str, raw: &str, takes: &[String]) -> AppResult<Filter> {
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
        .ok_or_else(|| unknown_parameter(key, takes))?;
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
        Kind::Text | Kind::TextArray => Values::Text(all(raw, |item| Ok(item.to_owned()))?),
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
    })
}

#[cfg(test)]
mod tests {
    use super::super::View;
    use super::super::tests::SPEC;
    use super::*;

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
        for (query, parameter) in [
            ("sort=t1.password", "sort"),
            ("sort=title;drop table pages", "sort"),
            ("sort=body_html", "sort"),
            ("per_page=100000", "per_page"),
            ("per_page=0", "per_page"),
            ("page=-1", "page"),
            ("colour=red", "colour"),
            ("title[like]=x", "title[like]"),
            ("title[eq][x]=y", "title[eq][x]"),
            ("status[in]=", "status[in]"),
            ("status[in]=draft,,published", "status[in]"),
            ("status=secret", "status"),
            ("published_at[gt]=yesterday", "published_at[gt]"),
            ("position=1.5", "position"),
            ("fields=slug,password", "fields"),
            ("include=everything", "include"),
            ("q=", "q"),
            ("page=1&page=2", "page"),
            ("updated_since=soon", "updated_since"),
            ("title=", "title"),
            ("title[eq]=a&title[eq]=b", "title[eq]"),
            ("status[in]=draft&status[in]=", "status[in]"),
        ] {
            assert_eq!(bad(query), parameter, "{query}");
        }
    }

    #[test]
    fn a_list_may_come_as_repeated_parameters() {
        let query = ListQuery::parse(&SPEC, "status[in]=draft&status[in]=published,archived")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            query.filters[0].values,
            Values::Text(vec!["draft".into(), "published".into(), "archived".into()])
        );
    }

    #[test]
    fn sparse_fieldsets_keep_only_what_was_asked() {
        let view = View {
            fields: Some(vec!["title", "slug"]),
            include: vec!["children"],
            ..View::default()
        };
        let item = serde_json::json!({"slug": "mission", "title": "Mission", "body_html": "...", "children": []});
        assert_eq!(
            view.apply(&SPEC, item),
            serde_json::json!({"slug": "mission", "title": "Mission", "children": []})
        );
    }
}
