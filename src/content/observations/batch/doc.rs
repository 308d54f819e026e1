//! The OpenAPI description of the batch: its JSON and CSV bodies, which no Rust
//! type describes, and its operation.

use serde_json::{Value, json};
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::BatchReport;
use crate::content::observations::{CSV_COLUMNS, ObservationBody, Observations};
use crate::engine::docs::required_fields;
use crate::engine::many;
use crate::platform::auth::Permission;
use crate::platform::openapi::problems::BodyWrite;
use crate::platform::openapi::schemas;
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::validate::{Area, Slug};

/// The body of a JSON batch, for the document: items that are observations with
/// their metric, or deletions by natural key.
fn batch_schema() -> RefOr<Schema> {
    let observation = schemas::body(
        ObservationBody::schema(),
        &required_fields::<Observations>(),
        "",
        schemas::BodyUse::Create,
    );
    let mut upsert = serde_json::to_value(observation).unwrap_or_default();
    if let Some(object) = upsert.as_object_mut() {
        object.remove("example");
        object.insert("description".to_owned(), json!("An observation to create, or to update if one with its metric, area and period exists."));
    }
    upsert["properties"]["metric"] =
        json!({"$ref": "#/components/schemas/Slug", "description": "The metric's key."});
    upsert["properties"]["delete"] = json!({"type": ["boolean", "null"], "enum": [false, null],
        "description": "Left out, `false` or `null`: not a deletion."});
    if let Some(Value::Array(required)) = upsert.get_mut("required") {
        required.insert(0, json!("metric"));
    }
    let deletion = json!({
        "type": "object",
        "description": "The natural key of an observation to delete; deleting one that does not exist changes nothing.",
        "required": ["metric", "area", "delete"],
        "properties": {
            "metric": {"$ref": "#/components/schemas/Slug"},
            "area": {"$ref": "#/components/schemas/Area"},
            "period_start": {"type": ["string", "null"], "format": "date"},
            "period_end": {"type": ["string", "null"], "format": "date"},
            "delete": {"type": "boolean", "enum": [true]}
        },
        "additionalProperties": false
    });
    serde_json::from_value(json!({
        "type": "object",
        "required": ["items"],
        "additionalProperties": false,
        "properties": {
            "items": {
                "type": "array",
                "maxItems": many::MAX_ITEMS,
                "description": "Up to 1,000 items, across metrics.",
                "items": {"oneOf": [upsert, deletion]}
            }
        },
        "example": {"items": [
            {"metric": "women-in-armed-forces", "area": "RS", "period_start": "2024-01-01",
             "period_end": "2024-12-31", "value": 11, "status": "published"},
            {"metric": "women-in-armed-forces", "area": "RS", "period_start": "2023-01-01",
             "period_end": "2023-12-31", "delete": true}]}
    }))
    .unwrap_or_else(|_| RefOr::T(Schema::default()))
}

fn csv_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "RFC 4180 CSV with a header row, the columns of the CSV export ({}); read-only \
             columns are ignored, an empty cell is no value, and a `delete` column with `true` \
             deletes the row's observation. Errors name rows as `/rows/N`, the header being row 1.",
            CSV_COLUMNS.join(", ")
        )))
        .into()
}

pub fn upsert_observations_doc() -> Doc {
    Doc::new(
        "upsert_observations",
        "impact-metrics",
        "Upsert observations in a batch",
    )
    .describe(
        "Up to 1,000 observations across metrics, created or updated by their natural key \
             (metric, area, period), or deleted by it (`\"delete\": true`), each natural key \
             at most once in a batch: all or nothing. If \
             any item is invalid nothing is written, and the 422 names every bad item \
             (`/items/17/value`). Otherwise `results` reports each item in order: `created`, \
             `updated`, `unchanged` (not a new version) or `deleted`, with its id and version. \
             `?dry_run=true` checks and reports without writing. Send JSON or CSV. A partner's \
             token writes only in its areas and metrics, and only its own observations.",
    )
    .security(Security::Needs(Permission::WriteObservations))
    .params([schemas::boolean_query(
        "dry_run",
        "`true`: check and report, write nothing",
    )])
    .dependencies_of::<ObservationBody>()
    .schema::<Slug>()
    .schema::<Area>()
    .schema_named("ObservationBatch", batch_schema())
    .schema_named("ObservationBatchCsv", csv_schema())
    .body_in("ObservationBatch", "application/json")
    .body_in("ObservationBatchCsv", "text/csv")
    .schema::<BatchReport>()
    .answer(Answer::json(
        200,
        "What happened to each item (or would have)",
        "BatchReport",
    ))
    .problems::<BodyWrite>()
}
