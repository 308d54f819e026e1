//! Assets: files that content can use (images, PDFs, office documents). An asset
//! is a kind like any other (draft and published, ETags, the change log,
//! revisions, audit, webhooks), whose item is the file's metadata; its bytes are
//! in the file store (`platform::storage`), named by their hash, and served at a
//! URL that carries the hash (`serve`). An asset is created by uploading its file
//! (`upload`), not by a JSON body; what the server derived from the bytes (type,
//! size, hash, image size) is read-only.

pub mod current;
pub mod embed;
pub mod form;
pub mod imaging;
pub mod kinds;
pub mod metadata;
pub mod prune;
pub mod serve;
pub mod signed;
pub mod upload;
pub mod variants;

pub use embed::{Embedded, sized_images};
pub use metadata::{AssetTag, metadata};

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Access, CONTENT, content_body, content_record};
use crate::engine::{
    Descriptor, Operations, Resource, Section, Tag, Target, stored_row, table_resource, to_json,
};
use crate::platform::db::schema::assets;
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::{CONTENT_FIELDS, Dir, Field, Kind, ListSpec, View};
use crate::platform::validate::{Id, Name};

/// The most characters of alternative text.
pub const ALT_MAX: usize = 1000;

stored_row! {
    /// An asset: a file's metadata.
    #[diesel(table_name = assets)]
    #[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000901", "filename": "seesac-logo.png",
        "media_type": "image/png", "size": 48213,
        "sha256": "9f2c6f3b0a1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f",
        "width": 600, "height": 200, "title": "SEESAC logo", "alt": "SEESAC", "credit": null,
        "licence": null, "focal_x": null, "focal_y": null, "tags": ["logo"], "status": "published",
        "published_at": "2026-12-06T09:00:00Z", "version": 1, "created_at": "2026-12-06T09:00:00Z",
        "updated_at": "2026-12-06T09:00:00Z",
        "url": "/assets/5eed0000-0000-4000-8000-000000000901/9f2c6f3b0a1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f/seesac-logo.png"}))]
    pub struct Asset {
        /// Stable identifier (UUID), the asset's key. Read-only.
        pub id: Uuid,
        /// The file's name, as downloads are saved (letters, digits, `.`, `_` and `-`).
        pub filename: String,
        /// What the file is, read from its bytes, never from what the client said.
        /// Read-only.
        pub media_type: String,
        /// Its size in bytes. Read-only.
        pub size: i64,
        /// The SHA-256 of its bytes, in hex: its ETag, and part of its URL. Read-only.
        pub sha256: String,
        /// An image's width in pixels, else null. Read-only.
        pub width: Option<i32>,
        /// An image's height in pixels, else null. Read-only.
        pub height: Option<i32>,
        /// What it is called on the site.
        pub title: String,
        /// An image's alternative text (required for images).
        pub alt: Option<String>,
        /// Whom to credit (a photographer).
        pub credit: Option<String>,
        /// Its licence.
        pub licence: Option<String>,
        /// An image's focal point, from the left edge (0) to the right (1): crops
        /// keep it in view.
        pub focal_x: Option<f32>,
        /// The focal point from the top edge (0) to the bottom (1).
        pub focal_y: Option<f32>,
        /// Words to find it by in the media library (`tags=campaign`).
        pub tags: Vec<String>,
    }
    key: id, published
}

/// An asset as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct AssetItem {
    /// The asset's own fields.
    #[serde(flatten)]
    pub asset: Asset,
    /// Where its bytes are: a URL that changes when they do, served to be cached
    /// for a year.
    pub url: String,
    /// An image's variants by preset (`thumb`, `card`, `hero`, `full`): their URLs.
    /// Other sizes and formats are asked for on `url` (`?w=640&format=webp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<std::collections::BTreeMap<String, String>>,
}

content_body! {
    /// The body of PATCH: the metadata. The file itself is uploaded with POST; what
    /// the server derived from it (`media_type`, `size`, `sha256`, `width`,
    /// `height`, `url`) may be present and is ignored.
    #[schema(example = json!({"title": "SEESAC logo", "alt": "SEESAC", "status": "published"}))]
    pub struct AssetBody {
        /// The file's name (letters, digits, `.`, `_` and `-`, at most 255, not
        /// starting with `.`).
        #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")]
        pub filename: Option<String>,
        /// At most 200 characters.
        #[schema(value_type = Option<Name>)]
        pub title: Option<String>,
        /// At most 1000 characters; required for images.
        #[schema(max_length = 1000)]
        pub alt: Option<String>,
        /// At most 200 characters.
        #[schema(max_length = 200)]
        pub credit: Option<String>,
        /// At most 200 characters.
        #[schema(max_length = 200)]
        pub licence: Option<String>,
        /// 0 to 1; with `focal_y`.
        #[schema(minimum = 0, maximum = 1)]
        pub focal_x: Option<f64>,
        /// 0 to 1; with `focal_x`.
        #[schema(minimum = 0, maximum = 1)]
        pub focal_y: Option<f64>,
        /// At most 20 tags, each 1 to 50 letters (kept in lower case), digits and
        /// `-`; an upload takes them comma-separated (`tags=logo,eu`).
        #[schema(max_items = 20, value_type = Option<Vec<AssetTag>>, example = json!(["logo", "eu"]))]
        pub tags: Option<Vec<String>>,
    }
}

content_record! {
    #[diesel(table_name = assets)]
    pub struct AssetRecord {
        pub(super) filename: String,
        pub(super) media_type: String,
        pub(super) size: i64,
        pub(super) sha256: String,
        pub(super) width: Option<i32>,
        pub(super) height: Option<i32>,
        title: String,
        alt: Option<String>,
        credit: Option<String>,
        licence: Option<String>,
        focal_x: Option<f32>,
        focal_y: Option<f32>,
        tags: Vec<String>,
    }
}

/// What the server derives from a file's bytes.
#[derive(Debug, Clone)]
pub struct Derived {
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

const FIELDS: &[Field] = &[
    Field::new("filename", Kind::Text).ordered(),
    Field::new("media_type", Kind::Text).ordered(),
    Field::new("size", Kind::Integer).ordered(),
    Field::new("sha256", Kind::Text),
    Field::new("width", Kind::Integer).nullable(),
    Field::new("height", Kind::Integer).nullable(),
    Field::new("title", Kind::Text)
        .ordered()
        .translatable(Name::MAX),
    Field::new("alt", Kind::Text)
        .nullable()
        .translatable(ALT_MAX),
    Field::new("credit", Kind::Text).nullable(),
    Field::new("licence", Kind::Text).nullable(),
    Field::new("focal_x", Kind::Number).nullable(),
    Field::new("focal_y", Kind::Number).nullable(),
    Field::new("tags", Kind::TextArray).filterable(),
    Field::derived("url"),
    Field::derived("variants"),
];

pub struct Assets;

impl Resource for Assets {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "asset",
        plural: "assets",
        kind: "asset",
        table: "assets",
        path: "/api/v1/assets",
        key: "id",
        key_description: "The asset's id",
        key_example: "5eed0000-0000-4000-8000-000000000901",
        tag: Tag {
            name: "assets",
            description: "Files content uses: images, PDFs and office documents",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("created_at", Dir::Desc)],
            unique_column: "id",
            searchable: false,
            includes: &[],
            embeds: &[],
        },
        read_only: &[
            "media_type",
            "size",
            "sha256",
            "width",
            "height",
            "url",
            "variants",
        ],
        operations: Operations {
            create: false,
            replace: false,
            rename: false,
            ..Operations::ALL
        },
        // The metadata; the bytes travel with the store (`assets/`, or the bucket).
        transfer: Some(Section::ordered_by("created_at")),
        ..CONTENT
    };

    table_resource!(
        table: assets, key: id as Id, row: Asset, item: AssetItem, body: AssetBody,
        input: AssetRecord
    );

    fn validate(body: AssetBody, to: Target<'_, Asset>) -> AppResult<AssetRecord> {
        let derived = match (to.existing, to.kept) {
            (Some(existing), _) => Derived {
                media_type: existing.media_type.clone(),
                size: existing.size,
                sha256: existing.sha256.clone(),
                width: existing.width,
                height: existing.height,
            },
            // A deleted asset restored: its file is the one its version names.
            (None, Some(kept)) => Derived::kept(kept)?,
            (None, None) => {
                return Err(AppError::bad_request(
                    "body",
                    "an asset is created by uploading its file: POST /api/v1/assets",
                ));
            }
        };
        metadata(body, derived, to.existing)
    }

    fn save(
        conn: &mut diesel::PgConnection,
        save: crate::engine::Save<'_, Self>,
    ) -> AppResult<Asset> {
        Ok(crate::engine::store_row!(conn, table: assets, row: Asset, save)?)
    }

    fn represent(
        _: &mut diesel::PgConnection,
        rows: Vec<Asset>,
        _: &View,
        _: Access,
    ) -> AppResult<Vec<Value>> {
        Ok(rows
            .into_iter()
            .map(|asset| {
                let url = serve::url_of(&asset);
                let focal = asset.focal_x.zip(asset.focal_y);
                let variants = asset.width.map(|_| {
                    variants::PRESETS
                        .iter()
                        .map(|preset| {
                            let focus = variants::focus_of(preset.fit, focal)
                                .map_or(String::new(), |focus| format!("&focus={focus}"));
                            (
                                preset.name.to_owned(),
                                format!("{url}?preset={}{focus}", preset.name),
                            )
                        })
                        .collect()
                });
                to_json(&AssetItem {
                    asset,
                    url,
                    variants,
                })
            })
            .collect())
    }
}
