//! A page's blocks in the OpenAPI document: a union told apart by `type`, each
//! variant closed to fields it does not have, its `items` typed as the named
//! kind's sparse item.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type as SchemaType};

use super::blocks::Type;
use crate::content::metrics::Category;
use crate::platform::openapi::schemas;

/// A key a block names: a metric's key, a funder's or contact's slug, a CELEX
/// number (the document's schema).
pub struct BlockKey;

impl utoipa::PartialSchema for BlockKey {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::String)
            .description(Some(
                "A key of the item named: a metric's key, a funder's or a contact's slug, \
                 a CELEX number.",
            ))
            .min_length(Some(1))
            .max_length(Some(100))
            .into()
    }
}

impl ToSchema for BlockKey {}

/// A block of a page: what it shows, told apart by `type`. A block read with GET
/// may be sent back as it is: `html` and `items` are read-only and ignored.
/// `items`, with `include=blocks`: the items the block shows, as their own
/// collection shows them (a metric with its latest figure, a funder with its
/// children, each with its links), in the block's order, only those the reader may
/// see; `fields[blocks.metrics]` and the like choose their fields.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum Shape {
    /// Text of the page's own, in Markdown, rendered and sanitised as a body is.
    Markdown {
        /// The text, in Markdown: not blank, at most 50000 characters. Null only in
        /// a read in a locale with `fallback=false` that has no translation of it.
        #[schema(min_length = 1, max_length = 50000)]
        text: Option<String>,
        /// The text rendered to HTML and sanitised. Read-only.
        html: Option<String>,
    },
    /// Impact metrics, by key (`metrics`) or all of a `category`: one of the two.
    Metrics {
        /// The metrics, by key, in order, each once.
        #[schema(min_items = 1, max_items = 100)]
        #[schema(value_type = Option<Vec<BlockKey>>)]
        metrics: Option<Vec<String>>,
        /// All metrics of the category, in their order.
        category: Option<Category>,
        #[schema(value_type = Option<Vec<Object>>)]
        items: Option<Vec<Value>>,
    },
    /// Funders, by slug, in order, each once; without `funders`, the top-level
    /// funders, each with the agencies under it (`children`).
    Funders {
        #[schema(min_items = 1, max_items = 100)]
        #[schema(value_type = Option<Vec<BlockKey>>)]
        funders: Option<Vec<String>>,
        #[schema(value_type = Option<Vec<Object>>)]
        items: Option<Vec<Value>>,
    },
    /// Council Decisions, by CELEX number, in order, each once; without
    /// `decisions`, all, latest first.
    Decisions {
        #[schema(min_items = 1, max_items = 100)]
        #[schema(value_type = Option<Vec<BlockKey>>)]
        decisions: Option<Vec<String>>,
        #[schema(value_type = Option<Vec<Object>>)]
        items: Option<Vec<Value>>,
    },
    /// A contact, by slug; without `contact`, the primary contact.
    Contact {
        #[schema(value_type = Option<BlockKey>)]
        contact: Option<String>,
        #[schema(value_type = Option<Vec<Object>>)]
        items: Option<Vec<Value>>,
    },
    /// The page's child pages, in order.
    Pages {
        #[schema(value_type = Option<Vec<Object>>)]
        items: Option<Vec<Value>>,
    },
}

/// A block of a page, in the document: `Shape`'s variants, each closed to fields
/// it does not have (a body with one is a 422).
pub struct Block;

impl utoipa::PartialSchema for Block {
    fn schema() -> RefOr<Schema> {
        let mut schema = schemas::to_json(<Shape as utoipa::PartialSchema>::schema());
        if let Some(Value::Array(variants)) = schema.get_mut("oneOf") {
            for variant in variants {
                variant["additionalProperties"] = Value::Bool(false);
                // Its items are read as their collection reads them: sparse.
                let kind = variant
                    .pointer("/properties/type/enum/0")
                    .and_then(Value::as_str);
                let read_as = match kind.and_then(Type::named) {
                    Some(Type::Metrics) => "SparseMetric",
                    Some(Type::Funders) => "SparseFunder",
                    Some(Type::Decisions) => "SparseDecision",
                    Some(Type::Contact) => "SparseContact",
                    Some(Type::Pages) => "SparsePage",
                    Some(Type::Markdown) | None => continue,
                };
                if let Some(items) = variant.pointer_mut("/properties/items/items") {
                    *items = serde_json::json!({"$ref": format!("#/components/schemas/{read_as}")});
                }
            }
        }
        schemas::from_json(schema)
    }
}

impl ToSchema for Block {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <Shape as ToSchema>::schemas(schemas);
    }
}
