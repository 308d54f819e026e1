//! Funders: the governments, agencies and funds that support SEESAC, an agency
//! under its government through `parent`.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::assets::{self, AssetItem, Assets};
use super::{Access, CONTENT, Publication, content_body, content_record, tree_children};
use crate::engine::{
    Descriptor, Embedded, Resource, Search, Section, Tag, Target, stored_row, table_resource,
    to_json,
};
use crate::platform::db::schema::funders;
use crate::platform::error::AppResult;
use crate::platform::query::{CONTENT_FIELDS, Dir, Embed, Field, Kind, ListSpec, View};
use crate::platform::text_enum::text_enum;
use crate::platform::validate::{Check, CountryCode, HttpUrl, Id, Name, Position, Slug};

text_enum! {
    /// What kind of body a funder is.
    pub enum FunderKind {
        /// An organisation of states, or a fund several of them pay into.
        Multilateral = "multilateral",
        Government = "government",
        /// A ministry, office or agency: give its government as `parent`.
        GovernmentAgency = "government_agency",
        Foundation = "foundation",
        Other = "other",
    }
}

stored_row! {
    /// A funder.
    #[diesel(table_name = funders)]
    #[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000108", "slug": "uk-home-office",
        "name": "UK Home Office", "kind": "government_agency", "country_code": "GB", "parent": "united-kingdom",
        "website": null, "logo_url": null,
        "description": "Funds the Western Balkans SALW Control Roadmap Multi Partner Trust Fund.", "position": 12,
        "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
        "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}))]
    pub struct Funder {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// The URL key.
        pub slug: String,
        /// The name as shown on the site.
        pub name: String,
        /// `multilateral`, `government`, `government_agency`, `foundation` or `other`.
        pub kind: FunderKind,
        /// ISO 3166-1 alpha-2, or `EU`.
        #[schema(example = "GB")]
        pub country_code: Option<String>,
        /// The slug of the funder it belongs to (an agency's government), or null (also
        /// to a reader who may not see that funder: a draft).
        pub parent: Option<String>,
        /// Its website (http or https).
        pub website: Option<String>,
        /// Its logo (http or https), as a URL kept for existing clients; `logo` is the
        /// asset.
        pub logo_url: Option<String>,
        /// Its logo: the id of an asset (an image), or null (also to a reader who may
        /// not see the asset: a draft). `include=logo` embeds it as `logo_asset`.
        pub logo: Option<Uuid>,
        /// What it supports.
        pub description: Option<String>,
        /// Order on the site, smallest first.
        pub position: i32,
    }
    key: slug, published
}

/// A funder as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct FunderItem {
    /// The funder's own fields.
    #[serde(flatten)]
    pub funder: Funder,
    /// With `include=parent`: the parent funder, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_funder: Option<Option<Funder>>,
    /// With `include=children`: the funders under this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<Funder>>,
    /// With `include=logo`: the logo's asset, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<AssetItem>)]
    pub logo_asset: Option<Option<Value>>,
}

content_body! {
    /// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, timestamps,
    /// `parent_funder`, `children`) may be present and are ignored.
    #[schema(example = json!({"slug": "uk-home-office", "name": "UK Home Office", "kind": "government_agency",
        "country_code": "GB", "parent": "united-kingdom", "status": "published"}))]
    pub struct FunderBody {
        /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the funder.
        #[schema(value_type = Option<Slug>)]
        pub slug: Option<String>,
        /// The name, at most 200 characters.
        #[schema(value_type = Option<Name>)]
        pub name: Option<String>,
        /// What kind of funder it is.
        #[schema(value_type = Option<FunderKind>)]
        pub kind: Option<String>,
        /// The funder's country, or EU.
        #[schema(value_type = Option<CountryCode>)]
        pub country_code: Option<String>,
        /// The slug of an existing funder it belongs to; never this one or one below it.
        #[schema(value_type = Option<Slug>)]
        pub parent: Option<String>,
        /// Its website.
        #[schema(value_type = Option<HttpUrl>)]
        pub website: Option<String>,
        /// Its logo, as a URL (kept for existing clients; prefer `logo`).
        #[schema(value_type = Option<HttpUrl>)]
        pub logo_url: Option<String>,
        /// Its logo: the id of an existing asset.
        #[schema(value_type = Option<Id>)]
        pub logo: Option<String>,
        /// At most 2000 characters.
        #[schema(max_length = 2000)]
        pub description: Option<String>,
        /// Order on the site (default 0).
        pub position: Option<Position>,
    }
}

content_record! {
    #[diesel(table_name = funders)]
    pub struct FunderRecord {
        slug: String,
        name: String,
        kind: FunderKind,
        country_code: Option<String>,
        parent: Option<String>,
        website: Option<String>,
        logo_url: Option<String>,
        logo: Option<Uuid>,
        description: Option<String>,
        position: i32,
    }
}

const FIELDS: &[Field] = &[
    Field::new("slug", Kind::Text).ordered(),
    Field::new("name", Kind::Text)
        .ordered()
        .translatable(Name::MAX),
    Field::new("kind", Kind::Enum(FunderKind::ALL)).ordered(),
    Field::new("country_code", Kind::Text).ordered().nullable(),
    Field::new("parent", Kind::Text)
        .refers_to("funders", "slug")
        .ordered()
        .nullable(),
    Field::new("website", Kind::Text),
    Field::new("logo_url", Kind::Text),
    Field::new("logo", Kind::Uuid)
        .refers_to("assets", "id")
        .nullable(),
    Field::new("description", Kind::Text).translatable(2000),
    Field::new("position", Kind::Integer).ordered(),
];

pub struct Funders;

impl Resource for Funders {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "funder",
        plural: "funders",
        kind: "funder",
        table: "funders",
        path: "/api/v1/funders",
        key: "slug",
        key_description: "The funder's slug, e.g. `european-union`",
        key_example: "european-union",
        tag: Tag {
            name: "funders",
            description: "Governments, agencies and funds that support SEESAC",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("position", Dir::Asc), ("name", Dir::Asc)],
            unique_column: "slug",
            searchable: true,
            includes: &["parent", "children", "logo"],
            embeds: &[
                Embed::same("parent").at("parent_funder"),
                Embed::same("children"),
                Embed::of("logo", || Assets::DESCRIPTOR.spec).at("logo_asset"),
            ],
        },
        read_only: &["parent_funder", "children", "logo_asset"],
        write_lock: Some("funders"),
        search: Some(Search {
            title: "name",
            text: "name || ' ' || coalesce(description, '')",
            fields: &["name", "description"],
        }),
        transfer: Some(Section {
            tree: Some("parent"),
            ..Section::ordered_by("slug")
        }),
        ..CONTENT
    };

    table_resource!(
        table: funders, key: slug as Slug, row: Funder, item: FunderItem, body: FunderBody,
        record: FunderRecord, tree: parent
    );

    fn validate(body: FunderBody, to: Target<'_, Funder>) -> AppResult<FunderRecord> {
        let mut check = Check::default();
        let slug = check.key("slug", body.slug, to.key, Slug::parse);
        let kind = check.required("kind", body.kind, FunderKind::parse);
        let publication = Publication::of(&mut check, body.status, body.published_at, to.existing);
        let record = FunderRecord {
            slug: slug.map(Slug::into_inner).unwrap_or_default(),
            name: check.text("name", body.name, Name::MAX),
            kind: kind.unwrap_or(FunderKind::Other),
            country_code: check.parsed_text("country_code", body.country_code, CountryCode::parse),
            parent: check.parsed_text("parent", body.parent, Slug::parse),
            website: check.parsed_text("website", body.website, HttpUrl::parse),
            logo_url: check.parsed_text("logo_url", body.logo_url, HttpUrl::parse),
            logo: check.parsed("logo", body.logo, Id::parse),
            description: check.optional_text("description", body.description, 2000),
            position: check.position(body.position),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Funder>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let mut parents: HashMap<String, Funder> = HashMap::new();
        if view.includes("parent") {
            let slugs: Vec<String> = rows.iter().filter_map(|f| f.parent.clone()).collect();
            for parent in access
                .filter(
                    funders::table
                        .filter(funders::slug.eq_any(slugs))
                        .select(Funder::as_select())
                        .into_boxed(),
                )
                .load(conn)?
            {
                parents.insert(parent.slug.clone(), parent);
            }
        }
        let mut logos = assets::Embedded::load(conn, view, "logo", &rows, |f| f.logo, access)?;
        let mut children = Embedded::load(view, "children", || {
            Ok(tree_children!(
                conn, access, rows,
                table: funders, key: slug, row: Funder,
                order: (funders::position, funders::name, funders::slug),
            ))
        })?;
        Ok(rows
            .into_iter()
            .map(|funder| {
                let parent_funder = view
                    .includes("parent")
                    .then(|| funder.parent.as_ref().and_then(|p| parents.get(p).cloned()));
                let children = children.take(&funder.slug);
                let logo_asset = logos.take(funder.logo);
                to_json(&FunderItem {
                    funder,
                    parent_funder,
                    children,
                    logo_asset,
                })
            })
            .collect())
    }
}
