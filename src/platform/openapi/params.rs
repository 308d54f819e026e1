//! Parameters of operations, in the query or a header, as the OpenAPI document
//! describes them: optional, with their schema and the limits the parser checks.

use serde_json::Value;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Required};

/// An optional parameter, in the query or a header.
pub fn parameter(
    at: ParameterIn,
    name: &str,
    description: &str,
    schema: impl Into<RefOr<Schema>>,
) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(at)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// An optional query parameter.
pub fn query_param(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    parameter(ParameterIn::Query, name, description, schema)
}

/// An optional query parameter that is a comma-separated list (`form`, not
/// exploded) of 1 to `max` strings from `values`.
pub fn comma_list<V: Into<Value>>(
    name: &str,
    description: &str,
    values: impl IntoIterator<Item = V>,
    max: usize,
) -> Parameter {
    let mut parameter = query_param(
        name,
        description,
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(values)),
            )
            .min_items(Some(1))
            .max_items(Some(max)),
    );
    parameter.style = Some(ParameterStyle::Form);
    parameter.explode = Some(false);
    parameter
}

pub fn header(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
    parameter(ParameterIn::Header, name, description, schema)
}

/// `If-Match` and `If-None-Match`, on a write.
pub fn precondition_headers() -> Vec<Parameter> {
    vec![
        header(
            "If-Match",
            "The ETag you read: the write happens only if the item still has it (412 otherwise).",
            ObjectBuilder::new().schema_type(Type::String),
        ),
        header(
            "If-None-Match",
            "`*`: only if the item does not exist (PUT creates, never replaces); an ETag: only \
             if the item no longer has it. 412 otherwise.",
            ObjectBuilder::new().schema_type(Type::String),
        ),
    ]
}

/// `If-None-Match` on a read that may answer 304: `Doc::build` adds it to every
/// operation that declares the 304, so that a generated client can send it.
pub fn revalidation_header() -> Parameter {
    header(
        "If-None-Match",
        "The ETag of the answer you have: 304 Not Modified, without a body, if it is still \
         current (a list of tags, or `*`, is matched weakly).",
        ObjectBuilder::new().schema_type(Type::String),
    )
}

/// An optional query parameter: a whole number from 1.
pub fn integer_query(name: &str, description: &str) -> Parameter {
    integer_query_up_to(name, description, i32::MAX.into())
}

/// An optional query parameter: a whole number from 1 to `max`.
pub fn integer_query_up_to(name: &str, description: &str, max: i64) -> Parameter {
    query_param(
        name,
        description,
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(max)),
    )
}

/// An optional boolean query parameter.
pub fn boolean_query(name: &str, description: &str) -> Parameter {
    query_param(
        name,
        description,
        ObjectBuilder::new().schema_type(Type::Boolean),
    )
}
