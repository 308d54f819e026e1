//! What a page is in the database and on the wire: its row, the item the API
//! shows, the body a write sends, the record saved, and its list fields.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::content::{content_body, content_record};
use crate::engine::stored_row;
use crate::platform::db::schema::pages;
use crate::platform::query::{Field, Kind};
use crate::platform::validate::{Name, Position, Slug};

stored_row! {
    /// A page of the site.
    #[diesel(table_name = pages)]
    #[schema(example = json!({
        "id": "0b5e4f3c-6f7d-4d0e-9a51-2f1b7f0f6a11", "slug": "mission", "title": "Mission",
        "summary": "What SEESAC works for, and with whom.",
        "body": "The South Eastern and Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons (SEESAC) works to strengthen the capacities of national and regional stakeholders to control and reduce the proliferation and misuse of small arms and light weapons, ...",
        "body_html": "<p>The South Eastern and Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons (SEESAC) works to strengthen the capacities of national and regional stakeholders ...</p>",
        "parent": "who-we-are", "position": 1, "seo_title": null, "seo_description": null,
        "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
        "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}))]
    pub struct Page {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// The URL key.
        #[schema(
            example = "mission",
            pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
            max_length = 100
        )]
        pub slug: String,
        /// The heading.
        #[schema(example = "Mission")]
        pub title: String,
        /// A sentence or two for lists and previews.
        pub summary: Option<String>,
        /// The text, in Markdown (CommonMark with tables, strikethrough, footnotes).
        pub body: String,
        /// Derived: `body` rendered to HTML and sanitised (no scripts, event handlers or
        /// `javascript:` URLs). Read-only.
        pub body_html: String,
        /// The slug of the parent page, or null for a top-level page (and to a reader
        /// who may not see the parent: a draft).
        #[schema(example = "who-we-are")]
        pub parent: Option<String>,
        /// Order among siblings, smallest first.
        pub position: i32,
        /// Title for search engines, if not `title`.
        pub seo_title: Option<String>,
        /// Description for search engines, if not `summary`.
        pub seo_description: Option<String>,
        /// The page's image: the id of an asset, or null (also to a reader who may
        /// not see the asset: a draft). `include=image` embeds it as `image_asset`.
        pub image: Option<uuid::Uuid>,
        /// The blocks as stored; an item shows them as its reader may see them.
        #[serde(skip)]
        pub blocks: serde_json::Value,
    }
    key: slug, published
}

/// A page as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct PageItem {
    /// The page's own fields.
    #[serde(flatten)]
    pub page: Page,
    /// What the page shows, in order: Markdown of its own, or other content it
    /// names (metrics, funders, Council Decisions, a contact, its child pages).
    /// What a reader may not see is left out. With `include=blocks`, each block
    /// that names content carries its `items`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<super::Block>>)]
    pub blocks: Option<serde_json::Value>,
    /// With `include=children`: the child pages, in order; with
    /// `include=children.children` (or `children.children.children`), each with
    /// its own `children`, down to three levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Page>>)]
    pub children: Option<Vec<serde_json::Value>>,
    /// With `include=image`: the page's image, an asset, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::content::assets::AssetItem>)]
    pub image_asset: Option<Option<serde_json::Value>>,
}

content_body! {
    /// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, `body_html`,
    /// timestamps, `children`) may be present and are ignored.
    #[schema(example = json!({"slug": "mission", "title": "Mission", "parent": "who-we-are", "position": 1,
        "body": "The South Eastern and Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons (SEESAC) works to strengthen the capacities of national and regional stakeholders to control and reduce the proliferation and misuse of small arms and light weapons.",
        "status": "published"}))]
    pub struct PageBody {
        /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the page.
        #[schema(value_type = Option<Slug>)]
        pub slug: Option<String>,
        /// The heading, at most 200 characters.
        #[schema(value_type = Option<Name>)]
        pub title: Option<String>,
        /// A sentence or two for lists and previews, at most 1000 characters.
        #[schema(max_length = 1000)]
        pub summary: Option<String>,
        /// The text, in Markdown, at most 200000 characters. Lists and quotes nest at most
        /// 16 deep, and the HTML it renders to is at most 512 KiB (422 otherwise).
        #[schema(max_length = 200000)]
        pub body: Option<String>,
        /// The slug of an existing page; never the page itself or one below it.
        #[schema(value_type = Option<Slug>)]
        pub parent: Option<String>,
        /// Order among siblings (default 0).
        pub position: Option<Position>,
        /// Title for search engines, if not `title`; at most 200 characters.
        #[schema(max_length = 200)]
        pub seo_title: Option<String>,
        /// Description for search engines, if not `summary`; at most 500 characters.
        #[schema(max_length = 500)]
        pub seo_description: Option<String>,
        /// The page's image: the id of an existing asset.
        #[schema(value_type = Option<crate::platform::validate::Id>)]
        pub image: Option<String>,
        /// What the page shows, in order (at most 50 blocks; `[]` for none). Each
        /// item a block names must exist (422 `unknown_reference` otherwise, at
        /// its pointer: `/blocks/0/metrics/1`). A block's `html` and `items` are
        /// read-only and may be sent back.
        #[schema(value_type = Option<Vec<super::Block>>, max_items = 50)]
        pub blocks: Option<serde_json::Value>,
    }
}

content_record! {
    #[diesel(table_name = pages)]
    pub struct PageRecord {
        pub(super) slug: String,
        pub(super) title: String,
        pub(super) summary: Option<String>,
        pub(super) body: String,
        pub(super) body_html: String,
        pub(super) body_text: String,
        pub(super) parent: Option<String>,
        pub(super) position: i32,
        pub(super) seo_title: Option<String>,
        pub(super) seo_description: Option<String>,
        pub(super) image: Option<uuid::Uuid>,
        pub(super) blocks: serde_json::Value,
    }
}

pub(super) const FIELDS: &[Field] = &[
    Field::new("slug", Kind::Text).ordered(),
    Field::new("title", Kind::Text)
        .ordered()
        .translatable(Name::MAX),
    Field::new("summary", Kind::Text).translatable(1000),
    Field::new("body", Kind::Text).translatable(crate::content::markdown::MAX_CHARS),
    Field::new("body_html", Kind::Text),
    Field::new("parent", Kind::Text)
        .refers_to("pages", "slug")
        .ordered()
        .nullable(),
    Field::new("position", Kind::Integer).ordered(),
    Field::new("seo_title", Kind::Text).translatable(200),
    Field::new("seo_description", Kind::Text).translatable(500),
    Field::new("image", Kind::Uuid)
        .refers_to("assets", "id")
        .nullable(),
    // A Markdown block's text is translated: a translation's `blocks` is the list
    // of the texts of the page's Markdown blocks, in order.
    Field::new("blocks", Kind::Text).translated_in("text", super::blocks::MAX_TEXT),
];
