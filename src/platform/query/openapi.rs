//! The parameters of a collection and of its items, for the OpenAPI document,
//! generated from the same `ListSpec` the parser checks against, with every limit
//! the parser enforces.

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Parameter, ParameterStyle};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder,
    Schema, SchemaFormat, Type,
};

use crate::platform::openapi::schemas::{boolean_query, comma_list, header, query_param};
use crate::platform::validate::NOT_BLANK;

use super::{
    DEFAULT_PER_PAGE, Field, Kind, ListSpec, MAX_LIST_VALUES, MAX_PAGE, MAX_PER_PAGE,
    MAX_SEARCH_CHARS, MAX_SORT_KEYS, Op,
};

/// The pattern of one text item of a comma-separated list: no comma, not blank.
const LIST_ITEM: &str = r"^[^\x00,]*[^\x00, \t\n\r\x0b\x0c][^\x00,]*$";

fn text(min_length: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min_length))
}

fn formatted(format: KnownFormat) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(format)))
}

/// An instant: RFC 3339, or a date meaning its midnight UTC.
pub fn instant() -> Schema {
    AnyOfBuilder::new()
        .item(formatted(KnownFormat::DateTime))
        .item(formatted(KnownFormat::Date))
        .build()
        .into()
}

/// The schema of one value of a filter on `field`.
fn value_schema(field: &Field) -> Schema {
    let integer = || {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(f64::from(i32::MIN)))
            .maximum(Some(f64::from(i32::MAX)))
    };
    match field.kind {
        Kind::Text | Kind::TextArray => text(1).pattern(Some(r"^[^\x00]+$")).into(),
        Kind::Enum(values) => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.to_vec()))
            .into(),
        Kind::Integer | Kind::IntegerArray => integer().into(),
        Kind::Number => ObjectBuilder::new().schema_type(Type::Number).into(),
        Kind::Date => formatted(KnownFormat::Date).into(),
        Kind::Timestamp => instant(),
        Kind::Bool => ObjectBuilder::new().schema_type(Type::Boolean).into(),
        Kind::Uuid => formatted(KnownFormat::Uuid).into(),
    }
}

/// A filterable field as a deepObject parameter: the plain value (`field=value`),
/// or `field[op]=value` with each operator a property, so that generated clients
/// know them all.
fn filter_param(field: &Field) -> Parameter {
    let mut operators =
        ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for op in field.operators() {
        let schema: Schema = match op {
            Op::In => ArrayBuilder::new()
                .items(RefOr::T(match field.kind {
                    // Items are comma-separated, and trimmed.
                    Kind::Text | Kind::TextArray => text(1).pattern(Some(LIST_ITEM)).into(),
                    _ => value_schema(field),
                }))
                .min_items(Some(1))
                .max_items(Some(MAX_LIST_VALUES))
                .build()
                .into(),
            Op::Null => ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .build()
                .into(),
            _ => value_schema(field),
        };
        operators = operators.property(op.name(), schema);
    }
    let ops: Vec<&str> = field.operators().iter().map(|op| op.name()).collect();
    let mut description = format!(
        "Filter on {name}: `{name}[op]=value` with op one of {ops} (`{name}=value` is short for \
         `{name}[eq]=value`).",
        name = field.name,
        ops = ops.join(", ")
    );
    if ops.contains(&"in") {
        description.push_str(&format!(
            " `in` takes up to {MAX_LIST_VALUES} values, comma-separated or as the parameter \
             repeated."
        ));
    }
    if ops.contains(&"null") {
        description.push_str(" `null` takes true (empty) or false (not empty).");
    }
    // The plain value (`field=value`) or the operators (`field[op]=value`), so that
    // a generated client takes either.
    let schema: Schema = if field.operators().contains(&Op::Eq) {
        OneOfBuilder::new()
            .item(value_schema(field))
            .item(operators)
            .build()
            .into()
    } else {
        operators.into()
    };
    let mut parameter = query_param(field.name, &description, schema);
    parameter.style = Some(ParameterStyle::DeepObject);
    parameter.explode = Some(true);
    parameter
}

fn view_params(spec: &'static ListSpec) -> Vec<Parameter> {
    let names: Vec<String> = spec.all_fields().map(|f| f.name.to_owned()).collect();
    let mut params = vec![comma_list(
        "fields",
        "Sparse fieldset: only these fields, comma-separated (embeddings asked for with \
         `include` stay). Every field of the answer is then optional.",
        names,
        MAX_LIST_VALUES,
    )];
    if !spec.includes.is_empty() {
        params.push(comma_list(
            "include",
            "Embed these relations, comma-separated.",
            spec.includes.iter().copied(),
            MAX_LIST_VALUES,
        ));
    }
    for embed in spec.embeds {
        let embedded = embed.spec_in(spec);
        let needs = if spec.includes.contains(&embed.name) {
            format!(" Needs `include={}`.", embed.name)
        } else {
            String::new()
        };
        params.push(comma_list(
            &format!("fields[{}]", embed.name),
            &format!(
                "Sparse fieldset of the embedded `{}`: only these of its fields, \
                 comma-separated.{needs}",
                embed.key
            ),
            embedded.all_fields().map(|f| f.name.to_owned()),
            MAX_LIST_VALUES,
        ));
    }
    if spec.translatable().next().is_some() {
        params.extend([
            query_param(
                "locale",
                "The locale to show the translatable fields in (GET /api/v1/locales lists those \
                 enabled; the values here are the default configuration's); it wins over \
                 `Accept-Language`. One that is not enabled is a 400. Each field falls back \
                 along the locale's chain on its own, and each item says in `meta` what did.",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(
                        crate::platform::locale::Locales::default()
                            .all()
                            .iter()
                            .map(|locale| locale.tag.clone()),
                    )),
            ),
            boolean_query(
                "fallback",
                "`false`: a field the locale lacks is null instead of the fallback's (for \
                 translators). Default `true`.",
            ),
            header(
                "Accept-Language",
                "The locales the reader prefers, with quality values; `locale` wins. A locale \
                 that is not enabled is no error: the default is shown.",
                ObjectBuilder::new().schema_type(Type::String),
            ),
        ]);
    }
    params
}

/// `page` and `per_page`, for every list (history lists take only these).
pub fn paging_parameters() -> Vec<Parameter> {
    let integer = |max: i64, default: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1.0))
            .maximum(Some(max as f64))
            .default(Some(json!(default)))
    };
    vec![
        query_param("page", "Page number, from 1.", integer(MAX_PAGE, 1)),
        query_param(
            "per_page",
            "Items per page.",
            integer(MAX_PER_PAGE, DEFAULT_PER_PAGE),
        ),
    ]
}

/// The query parameters of a collection.
pub fn list_parameters(spec: &'static ListSpec) -> Vec<Parameter> {
    let mut params = paging_parameters();
    params.extend([
        comma_list(
            "sort",
            "Sort keys, comma-separated; `-` in front for descending. Without it the \
             resource's default order applies (relevance first with `q`).",
            spec.sort_values(),
            MAX_SORT_KEYS,
        ),
        query_param(
            "updated_since",
            "Only items updated at or after this instant (RFC 3339, or a date meaning its \
             midnight UTC): for sync jobs.",
            instant(),
        ),
    ]);
    if spec.searchable {
        params.push(query_param(
            "q",
            "Full-text search (PostgreSQL websearch syntax: words, \"phrases\", OR, -word); \
             ranks by relevance.",
            text(1)
                .max_length(Some(MAX_SEARCH_CHARS))
                .pattern(Some(NOT_BLANK)),
        ));
    }
    params.extend(view_params(spec));
    params.extend(
        spec.all_fields()
            .filter(|field| !field.operators().is_empty())
            .map(filter_param),
    );
    params
}

/// The query parameters of an item: `fields` and `include`.
pub fn item_parameters(spec: &'static ListSpec) -> Vec<Parameter> {
    view_params(spec)
}
