//! What an observation is in the database and on the wire: how its value is
//! qualified, the unit of its metric, the metric it is nested under, its row, the
//! body a write sends, the input checked from it, the record saved, and its list
//! and CSV columns.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::content::{Publication, number};
use crate::content::{content_body, content_record};
use crate::engine::stored_row;
use crate::platform::db::schema::{impact_metrics, observations};
use crate::platform::query::{Dir, Field, Kind};
use crate::platform::text_enum::text_enum;
use crate::platform::validate::{Area, HttpUrl};
use crate::platform::visibility::Status;

text_enum! {
    /// How the value is to be read.
    pub enum Qualifier {
        /// The value as it is.
        Exact = "exact",
        /// At least the value ("at least 9 million").
        AtLeast = "at_least",
        /// More than the value ("over 5,000").
        MoreThan = "more_than",
        /// About the value.
        Approximately = "approximately",
    }
}

text_enum! {
    /// What a metric counts, which bounds its figures (a percentage is 0 to 100).
    pub enum Unit {
        /// Things: mechanisms, sites, campaigns, weapons.
        Count = "count",
        /// A share, from 0 to 100.
        Percent = "percent",
        /// Persons.
        People = "people",
    }
}

/// The metric observations are nested under, as they need it: its key, its unit,
/// and whether the caller may see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = impact_metrics, check_for_backend(diesel::pg::Pg))]
pub struct ParentMetric {
    pub key: String,
    pub unit: Unit,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
}

impl ParentMetric {
    /// What anonymous readers see of a figure of this metric: it is published only
    /// when both are, from the later of their dates.
    pub fn public_with(
        &self,
        (status, at): (Status, Option<DateTime<Utc>>),
    ) -> (Status, Option<DateTime<Utc>>) {
        match (self.status, status) {
            (Status::Published, Status::Published) => (
                Status::Published,
                match (self.published_at, at) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                },
            ),
            (Status::Published, own) => (own, at),
            (metric, _) => (metric, None),
        }
    }
}

fn whole_number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    number(*value).serialize(serializer)
}

fn optional_whole_number<S: Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.map(number).serialize(serializer)
}

stored_row! {
    /// A figure of an impact metric.
    #[derive(QueryableByName)]
    #[diesel(table_name = observations)]
    #[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000703", "metric": "women-in-armed-forces",
        "area": "WB", "period_start": "2019-01-01", "period_end": "2019-12-31", "value": 6, "value_max": 9,
        "qualifier": "exact", "as_of": null, "source_url": null, "note": "Between 6% and 9% in 2019.",
        "reported_by": "SEESAC", "partner": null, "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
        "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}))]
    pub struct Observation {
        /// Stable identifier; the key in the URL.
        pub id: Uuid,
        /// Read-only: the key of the metric.
        pub metric: String,
        /// ISO 3166-1 alpha-2 country, or a region: WB (Western Balkans), SEE (South East
        /// Europe), SEEE (South East and East Europe), EU, XK (Kosovo under UNSCR 1244).
        #[schema(example = "WB")]
        pub area: String,
        /// First day of the period, if known.
        pub period_start: Option<NaiveDate>,
        /// Last day of the period, if known.
        pub period_end: Option<NaiveDate>,
        /// The figure; for a range, its lower end.
        #[serde(serialize_with = "whole_number")]
        pub value: f64,
        /// The upper end of a range ("between 6% and 9%"), or null.
        #[serde(serialize_with = "optional_whole_number")]
        pub value_max: Option<f64>,
        /// `exact`, `at_least`, `more_than` or `approximately`.
        pub qualifier: Qualifier,
        /// The date the figure was true or reported on.
        pub as_of: Option<NaiveDate>,
        /// Where it was published.
        pub source_url: Option<String>,
        /// Anything a reader should know about the figure.
        pub note: Option<String>,
        /// Who reported it; for a partner's figure, the partner's name.
        pub reported_by: Option<String>,
        /// Read-only: the slug of the partner whose token wrote it, or null.
        pub partner: Option<String>,
    }
    key: id, published
}

content_body! {
    /// The body of POST, PUT and PATCH. `id` and `metric` come from the URL; read-only
    /// fields (`id`, `metric`, `version`, timestamps) may be present and are ignored.
    #[schema(example = json!({"area": "WB", "period_start": "2019-01-01", "period_end": "2019-12-31",
        "value": 6, "value_max": 9, "reported_by": "SEESAC", "status": "published"}))]
    pub struct ObservationBody {
        /// A country code or a region code.
        #[schema(value_type = Option<Area>)]
        pub area: Option<String>,
        /// The first day of the period, if known.
        #[schema(value_type = Option<NaiveDate>)]
        pub period_start: Option<String>,
        /// The last day of the period, if known; not before `period_start`.
        #[schema(value_type = Option<NaiveDate>)]
        pub period_end: Option<String>,
        /// The figure; for a range, its lower end. A percentage is between 0 and 100.
        pub value: Option<f64>,
        /// The upper end of a range; not below `value`.
        pub value_max: Option<f64>,
        /// Default `exact`.
        #[schema(value_type = Option<Qualifier>)]
        pub qualifier: Option<String>,
        /// The date the figure was true or reported on.
        #[schema(value_type = Option<NaiveDate>)]
        pub as_of: Option<String>,
        /// Where it was published.
        #[schema(value_type = Option<HttpUrl>)]
        pub source_url: Option<String>,
        /// Anything a reader should know about the figure, at most 2000 characters.
        #[schema(max_length = 2000)]
        pub note: Option<String>,
        /// Who reported it, at most 200 characters.
        #[schema(max_length = 200)]
        pub reported_by: Option<String>,
    }
}

#[derive(Debug)]
pub struct ObservationInput {
    pub id: Option<Uuid>,
    pub area: Area,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub value: f64,
    pub value_max: Option<f64>,
    pub qualifier: Qualifier,
    pub as_of: Option<NaiveDate>,
    pub source_url: Option<String>,
    pub note: Option<String>,
    pub reported_by: Option<String>,
    pub publication: Publication,
}

impl ObservationInput {
    /// A metric counted in percent holds figures from 0 to 100; checked against the
    /// metric as it is stored, so a figure outside is a 409.
    pub fn fits(&self, unit: Unit) -> Result<(), &'static str> {
        if unit == Unit::Percent
            && (self.value < 0.0 || self.value_max.unwrap_or(self.value) > 100.0)
        {
            return Err("a percentage is between 0 and 100");
        }
        Ok(())
    }
}

content_record! {
    #[diesel(table_name = observations)]
    pub(super) struct ObservationRecord<'a> {
        pub(super) metric: &'a str,
        pub(super) area: &'a str,
        pub(super) period_start: Option<NaiveDate>,
        pub(super) period_end: Option<NaiveDate>,
        pub(super) value: f64,
        pub(super) value_max: Option<f64>,
        pub(super) qualifier: Qualifier,
        pub(super) as_of: Option<NaiveDate>,
        pub(super) source_url: Option<&'a str>,
        pub(super) note: Option<&'a str>,
        pub(super) reported_by: Option<&'a str>,
    }
}

pub(super) const FIELDS: &[Field] = &[
    Field::new("metric", Kind::Text).ordered(),
    Field::new("area", Kind::Text).ordered(),
    Field::new("period_start", Kind::Date).ordered().nullable(),
    Field::new("period_end", Kind::Date).ordered().nullable(),
    Field::new("value", Kind::Number).ordered(),
    Field::new("value_max", Kind::Number).ordered().nullable(),
    Field::new("qualifier", Kind::Enum(Qualifier::ALL)).ordered(),
    Field::new("as_of", Kind::Date).ordered().nullable(),
    Field::new("source_url", Kind::Text),
    Field::new("note", Kind::Text),
    Field::new("reported_by", Kind::Text).ordered().nullable(),
    Field::new("partner", Kind::Text).ordered().nullable(),
];

/// The columns of an observation in CSV, in the order of its JSON.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "metric",
    "area",
    "period_start",
    "period_end",
    "value",
    "value_max",
    "qualifier",
    "as_of",
    "source_url",
    "note",
    "reported_by",
    "partner",
    "status",
    "published_at",
    "version",
    "created_at",
    "updated_at",
];

/// The order of "period order": unknown periods first, then by end and start.
pub const PERIOD_ORDER: &[(&str, Dir)] = &[
    ("period_end", Dir::Asc),
    ("period_start", Dir::Asc),
    ("area", Dir::Asc),
];
