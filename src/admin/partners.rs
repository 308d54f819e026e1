//! Partners: the organisations that report impact figures (a ministry's unit, a
//! police service, an NGO), at `/api/v1/partners`, for admins only. A partner's API
//! tokens write observations only for its areas and metrics (see
//! `content::observations`); a partner that is not `active` has tokens that no
//! longer work.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::{
    Descriptor, Events, Resource, Save, Section, Tag, Target, store_row, stored_row, table_resource,
};
use crate::platform::auth::Permission;
use crate::platform::db::schema::{impact_metrics, partners};
use crate::platform::error::{AppResult, FieldError, codes};
use crate::platform::query::{Dir, Field, Kind, ListSpec};
use crate::platform::validate::{Area, Check, CountryCode, Email, Name, Parse, Slug};

/// The most areas or metrics a partner lists.
const MAX_LIST: usize = 300;

stored_row! {
    /// A partner organisation.
    #[diesel(table_name = partners)]
    #[schema(example = json!({"id": "7c1e4a52-2b0b-4a8e-9c4e-3f0f2d9a6b11", "slug": "mod-rs-gender",
        "name": "Ministry of Defence of Serbia, gender equality unit", "country_code": "RS",
        "contact_email": "gender@mod.gov.rs", "areas": ["RS"], "metrics": ["women-in-armed-forces"],
        "active": true, "version": 1, "created_at": "2026-11-29T09:00:00Z",
        "updated_at": "2026-11-29T09:00:00Z"}))]
    pub struct Partner {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// The URL key.
        pub slug: String,
        /// The organisation's name; its figures are reported under it.
        pub name: String,
        /// Its country, or EU.
        pub country_code: Option<String>,
        /// Whom to write to.
        pub contact_email: Option<String>,
        /// The areas (country or region codes) it may report for.
        pub areas: Vec<String>,
        /// The keys of the metrics it may report on; null for all of them.
        pub metrics: Option<Vec<String>>,
        /// Whether its tokens work.
        pub active: bool,
    }
    key: slug
}

/// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, timestamps)
/// may be present and are ignored.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slug": "mod-rs-gender",
    "name": "Ministry of Defence of Serbia, gender equality unit", "country_code": "RS",
    "contact_email": "gender@mod.gov.rs", "areas": ["RS"], "metrics": ["women-in-armed-forces"]}))]
pub struct PartnerBody {
    /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the partner.
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    /// The organisation's name, at most 200 characters.
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// Its country, or EU.
    #[schema(value_type = Option<CountryCode>)]
    pub country_code: Option<String>,
    /// Whom to write to.
    #[schema(value_type = Option<Email>)]
    pub contact_email: Option<String>,
    /// The areas it may report for (default none); one given twice counts once.
    #[schema(value_type = Option<Vec<Area>>, max_items = 300)]
    pub areas: Option<Vec<String>>,
    /// The keys of existing metrics it may report on; null or absent for all of them.
    #[schema(value_type = Option<Vec<Slug>>, max_items = 300)]
    pub metrics: Option<Vec<String>>,
    /// Whether its tokens work (default true).
    pub active: Option<bool>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = partners, treat_none_as_null = true)]
pub struct PartnerRecord {
    slug: String,
    name: String,
    country_code: Option<String>,
    contact_email: Option<String>,
    areas: Vec<String>,
    metrics: Option<Vec<String>>,
    active: bool,
}

const FIELDS: &[Field] = &[
    Field::new("slug", Kind::Text).ordered(),
    Field::new("name", Kind::Text).ordered(),
    Field::new("country_code", Kind::Text).ordered().nullable(),
    Field::new("contact_email", Kind::Text),
    Field::new("areas", Kind::Text),
    Field::new("metrics", Kind::Text),
    Field::new("active", Kind::Bool).ordered(),
];

/// A partner whose tokens or observations remain cannot be deleted (409):
/// deactivate it instead.
pub struct Partners;

/// Each item of a list parsed with `parse`, at most `MAX_LIST`. The list is a set:
/// an item given twice counts once.
fn set_of(check: &mut Check, field: &str, raw: Vec<String>, parse: Parse<String>) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    if raw.len() > MAX_LIST {
        check.fail(field, format!("may list at most {MAX_LIST} items"));
        return items;
    }
    for (i, item) in raw.iter().enumerate() {
        match parse(item) {
            Ok(item) if items.contains(&item) => {}
            Ok(item) => items.push(item),
            Err(detail) => check.fail(&format!("{field}/{i}"), detail),
        }
    }
    items
}

impl Resource for Partners {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "partner",
        plural: "partners",
        kind: "partner",
        table: "partners",
        path: "/api/v1/partners",
        key: "slug",
        key_description: "The partner's slug, e.g. `mod-rs-gender`",
        key_example: "mod-rs-gender",
        tag: Tag {
            name: "partners",
            description: "Partner organisations that report impact figures (admins only)",
        },
        spec: &ListSpec::records(FIELDS, &[("slug", Dir::Asc)], "slug"),
        read: Some(Permission::ManagePartners),
        write: Permission::ManagePartners,
        transfer: Some(Section::ordered_by("slug")),
        events: Events::None,
        ..Descriptor::DEFAULT
    };

    table_resource!(
        table: partners, key: slug as Slug, row: Partner, body: PartnerBody, input: PartnerRecord
    );

    fn validate(body: PartnerBody, to: Target<'_, Partner>) -> AppResult<PartnerRecord> {
        let mut check = Check::default();
        let slug = check.key("slug", body.slug, to.key, Slug::parse);
        let areas = set_of(&mut check, "areas", body.areas.unwrap_or_default(), |raw| {
            Area::parse(raw).map(Area::into_inner)
        });
        let metrics = body.metrics.map(|metrics| {
            set_of(&mut check, "metrics", metrics, |raw| {
                Slug::parse(raw).map(Slug::into_inner)
            })
        });
        let record = PartnerRecord {
            slug: slug.map(Slug::into_inner).unwrap_or_default(),
            name: check.text("name", body.name, Name::MAX),
            country_code: check.parsed_text("country_code", body.country_code, CountryCode::parse),
            contact_email: check.parsed_text("contact_email", body.contact_email, Email::parse),
            areas,
            metrics,
            active: body.active.unwrap_or(true),
        };
        check.finish(record)
    }

    /// The metrics it names must exist.
    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<Partner> {
        if let Some(metrics) = &save.input.metrics {
            let known: Vec<String> = impact_metrics::table
                .filter(impact_metrics::key.eq_any(metrics))
                .select(impact_metrics::key)
                .load(conn)?;
            if let Some((i, unknown)) = metrics
                .iter()
                .enumerate()
                .find(|(_, key)| !known.contains(key))
            {
                return Err(FieldError::coded(
                    codes::UNKNOWN_METRIC,
                    format!("/metrics/{i}"),
                    format!("there is no impact metric with key {unknown}"),
                )
                .into());
            }
        }
        Ok(store_row!(conn, table: partners, row: Partner, save)?)
    }
}
