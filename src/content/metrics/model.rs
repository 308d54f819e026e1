//! What an impact metric is in the database and on the wire: its category, its
//! row, the item the API shows, the body a write sends, the record saved, and its
//! list fields.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::content::observations::{Observation, Unit};
use crate::content::{content_body, content_record};
use crate::engine::stored_row;
use crate::platform::db::schema::impact_metrics;
use crate::platform::http::body::whole_number;
use crate::platform::query::{Field, Kind};
use crate::platform::text_enum::text_enum;
use crate::platform::validate::{Area, Name, Position, Slug};

text_enum! {
    /// The area of work a metric belongs to.
    pub enum Category {
        Disarmament = "disarmament",
        StockpileSecurity = "stockpile-security",
        GenderEquality = "gender-equality",
        Awareness = "awareness",
        Cooperation = "cooperation",
        CapacityBuilding = "capacity-building",
        /// Results of the work as a whole.
        Overall = "overall",
    }
}

stored_row! {
    /// An impact metric.
    #[diesel(table_name = impact_metrics)]
    pub struct Metric {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// The URL key.
        #[schema(example = "women-in-armed-forces")]
        pub key: String,
        /// What is measured.
        #[schema(example = "Share of women in the armed forces of the Western Balkans")]
        pub label: String,
        /// More about it.
        pub description: Option<String>,
        /// The area of work it belongs to.
        pub category: Category,
        /// What it counts: things, a percentage or people.
        pub unit: Unit,
        /// The UN Sustainable Development Goals it serves, e.g. `[5, 16]`.
        #[schema(example = json!([5, 16]))]
        pub sdg_goals: Vec<i32>,
        /// Order on the site, smallest first.
        pub position: i32,
        /// The area whose newest published figure is the metric's headline (`latest`),
        /// e.g. `WB` for a regional figure; null: the newest figure of any area.
        #[schema(value_type = Option<Area>)]
        pub headline_area: Option<String>,
    }
    key: key, published
}

/// An impact metric as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000007", "key": "women-in-armed-forces",
    "label": "Share of women in the armed forces of the Western Balkans", "description": null,
    "category": "gender-equality", "unit": "percent", "sdg_goals": [5, 16], "position": 7, "headline_area": "WB",
    "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
    "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z",
    "latest": {"id": "5eed0000-0000-4000-8000-000000000703", "metric": "women-in-armed-forces", "area": "WB",
        "period_start": "2019-01-01", "period_end": "2019-12-31", "value": 6, "value_max": 9,
        "qualifier": "exact", "as_of": null, "source_url": null, "note": null, "reported_by": "SEESAC", "partner": null,
        "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
        "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}}))]
pub struct MetricItem {
    /// The metric's own fields.
    #[serde(flatten)]
    pub metric: Metric,
    /// Derived: the newest observation (latest period) the caller may see in the
    /// metric's `headline_area` (in any area if it has none), or null.
    #[schema(required = true)]
    pub latest: Option<Observation>,
    /// With `include=latest_by_area`: the newest observation the caller may see in
    /// each area, in area order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_by_area: Option<Vec<Observation>>,
    /// With `include=observations`: all of them, in period order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observations: Option<Vec<Observation>>,
}

/// The numbers of the UN Sustainable Development Goals, as a body field.
fn sdg_goals_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1.0))
                .maximum(Some(17.0)),
        )
        .max_items(Some(17))
        .unique_items(true)
        .description(Some(
            "UN Sustainable Development Goals, numbers from 1 to 17, each once.",
        ))
        .examples([json!([5, 16])])
        .build()
}

content_body! {
    /// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, `latest`,
    /// timestamps, `observations`) may be present and are ignored.
    #[schema(example = json!({"key": "women-in-armed-forces",
        "label": "Share of women in the armed forces of the Western Balkans",
        "category": "gender-equality", "unit": "percent", "sdg_goals": [5, 16], "headline_area": "WB",
        "status": "published"}))]
    pub struct MetricBody {
        /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the metric.
        #[schema(value_type = Option<Slug>)]
        pub key: Option<String>,
        /// What is measured, at most 200 characters.
        #[schema(value_type = Option<Name>)]
        pub label: Option<String>,
        /// More about it, at most 2000 characters.
        #[schema(max_length = 2000)]
        pub description: Option<String>,
        /// The area of work it belongs to.
        #[schema(value_type = Option<Category>)]
        pub category: Option<String>,
        /// What it counts. A metric whose figures are not all between 0 and 100 cannot
        /// become `percent` (409).
        #[schema(value_type = Option<Unit>)]
        pub unit: Option<String>,
        /// UN Sustainable Development Goals, numbers from 1 to 17, each once.
        #[schema(schema_with = sdg_goals_schema)]
        #[serde(default, deserialize_with = "whole_number::optional_list")]
        pub sdg_goals: Option<Vec<i64>>,
        /// Order on the site (default 0).
        pub position: Option<Position>,
        /// The area whose newest figure is the headline (`latest`): a region such as `WB`
        /// or a country. Null or absent: the newest figure of any area.
        #[schema(value_type = Option<Area>)]
        pub headline_area: Option<String>,
    }
}

content_record! {
    #[diesel(table_name = impact_metrics)]
    pub struct MetricRecord {
        pub(super) key: String,
        pub(super) label: String,
        pub(super) description: Option<String>,
        pub(super) category: Category,
        pub(super) unit: Unit,
        pub(super) sdg_goals: Vec<i32>,
        pub(super) position: i32,
        pub(super) headline_area: Option<String>,
    }
}

pub(super) const FIELDS: &[Field] = &[
    Field::new("key", Kind::Text).ordered(),
    Field::new("label", Kind::Text)
        .ordered()
        .translatable(Name::MAX),
    Field::new("description", Kind::Text).translatable(2000),
    Field::new("category", Kind::Enum(Category::ALL)).ordered(),
    Field::new("unit", Kind::Enum(Unit::ALL)).ordered(),
    Field::new("sdg_goals", Kind::IntegerArray).filterable(),
    Field::new("position", Kind::Integer).ordered(),
    Field::new("headline_area", Kind::Text).ordered(),
    Field::derived("latest"),
    Field::derived("latest_by_area"),
];
