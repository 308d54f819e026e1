//! Pages: the site's Markdown pages, arranged in a tree by `parent` and `position`.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{Map, Value};

use super::assets::{self, Assets};
use super::contacts::Contacts;
use super::decisions::Decisions;
use super::funders::Funders;
use super::metrics::Metrics;
use super::{Access, CONTENT, Publication, markdown};
use crate::engine::{
    Descriptor, Lineage, Resource, Save, Search, Section, Tag, Target, store_row, table_resource,
    to_json,
};
use crate::platform::db::prepared::Known;
use crate::platform::db::schema::pages;
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::{CONTENT_FIELDS, Dir, Embed, ListSpec, View};
use crate::platform::validate::{Check, Name, Slug};

mod block_doc;
mod blocks;
mod model;
mod shown;
mod tree;

pub use block_doc::Block;
use model::FIELDS;
pub use model::{Page, PageBody, PageItem, PageRecord};

pub struct Pages;

/// A page's HTML and plain text, from its Markdown, as every write derives them:
/// for an import, which carries the Markdown only.
fn derive_page(item: &mut Map<String, Value>) {
    let body = item
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // Checked as an API body before this, so it renders within the bounds.
    let rendered = markdown::render(&body).unwrap_or(markdown::Rendered {
        html: String::new(),
        text: String::new(),
    });
    item.insert("body_html".to_owned(), rendered.html.into());
    item.insert("body_text".to_owned(), rendered.text.into());
    // The blocks as a write stores them, a Markdown block's HTML rendered again:
    // a file's blocks are never taken as they are (its mistakes were named when
    // the item was checked).
    if let Some(blocks) = item.remove("blocks") {
        let stored = blocks::check(&mut Check::default(), Some(blocks));
        item.insert("blocks".to_owned(), stored);
    }
}

/// A text column that a list reads only when its view shows it, and `''` otherwise:
/// SQL text of the service's own, in a statement the connection keeps prepared.
type TextColumn = Known<Text>;

/// Declares `list_columns`, the columns of a page a list reads, each named once in
/// the order of `Page`: a column marked `shown` (`body` and `body_html`, most of a
/// page's bytes) is read only when the view shows it, so that a list of titles does
/// not read every page's text.
macro_rules! list_columns {
    ($($column:ident $($shown:ident)?),* $(,)?) => {
        #[allow(clippy::type_complexity)]
        fn list_columns(view: &View) -> ($(list_columns!(@type $column $($shown)?),)*) {
            ($(list_columns!(@read view, $column $($shown)?),)*)
        }
    };
    (@type $column:ident) => {
        pages::$column
    };
    (@type $column:ident shown) => {
        TextColumn
    };
    (@read $view:ident, $column:ident) => {
        pages::$column
    };
    (@read $view:ident, $column:ident shown) => {
        TextColumn::kept(if $view.shows(stringify!($column)) {
            concat!("\"pages\".\"", stringify!($column), "\"")
        } else {
            "''"
        })
    };
}

list_columns!(
    id,
    slug,
    title,
    summary,
    body shown,
    body_html shown,
    parent,
    position,
    seo_title,
    seo_description,
    image,
    blocks,
    status,
    published_at,
    version,
    created_at,
    updated_at,
    etag,
);

impl Resource for Pages {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "page",
        plural: "pages",
        kind: "page",
        table: "pages",
        path: "/api/v1/pages",
        key: "slug",
        key_description: "The page's slug, e.g. `mission`",
        key_example: "mission",
        tag: Tag {
            name: "pages",
            description: "The site's Markdown pages, in a tree",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("parent", Dir::Asc), ("position", Dir::Asc)],
            unique_column: "slug",
            searchable: true,
            includes: &[
                "children",
                "children.children",
                "children.children.children",
                "blocks",
                "image",
            ],
            embeds: &[
                Embed::same("children"),
                Embed::of("blocks.metrics", || Metrics::DESCRIPTOR.spec),
                Embed::of("blocks.funders", || Funders::DESCRIPTOR.spec),
                Embed::of("blocks.decisions", || Decisions::DESCRIPTOR.spec),
                Embed::of("blocks.contact", || Contacts::DESCRIPTOR.spec),
                Embed::same("blocks.pages"),
                Embed::of("image", || Assets::DESCRIPTOR.spec).at("image_asset"),
            ],
        },
        read_only: &["body_html", "children", "image_asset"],
        // What an import (which writes rows, not bodies) breaks in the blocks.
        constraints: &[
            ("page_block_refs_metric_fkey", &["blocks"]),
            ("page_block_refs_funder_fkey", &["blocks"]),
            ("page_block_refs_decision_fkey", &["blocks"]),
            ("page_block_refs_contact_fkey", &["blocks"]),
        ],
        write_lock: Some("pages"),
        search: Some(Search {
            title: "title",
            text: "title || ' ' || coalesce(summary, '') || ' ' || body_text",
            fields: &["title", "summary", "body"],
        }),
        transfer: Some(Section {
            order: "slug",
            derived: &["body_html", "body_text"],
            tree: Some("parent"),
            derive: derive_page,
        }),
        ..CONTENT
    };

    /// The lock keeps two writes from closing a loop of parents between them. Only
    /// a write that links a page to a parent, or renames it, can: one that keeps
    /// or clears the parent and the slug shares the lock.
    fn shares_write_lock(body: &Map<String, Value>, key: Option<&str>) -> bool {
        body.get("parent").is_none_or(Value::is_null)
            && body
                .get("slug")
                .is_none_or(|slug| key.is_none() || slug.as_str() == key)
    }

    table_resource!(
        table: pages, key: slug as Slug, row: Page, item: PageItem, body: PageBody,
        select: list_columns, input: PageRecord
    );

    /// A page that would close a loop of parents, or whose blocks name an item
    /// that does not exist, is refused; the database keeps the blocks' references
    /// from then on.
    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<Page> {
        let record = &save.input;
        Lineage {
            table: "pages",
            key: "slug",
            parent: "parent",
        }
        .check(
            conn,
            &record.slug,
            save.existing.map(|row| row.slug.as_str()),
            record.parent.as_deref(),
        )?;
        let unknown = blocks::unknown_references(conn, &record.blocks)?;
        if !unknown.is_empty() {
            return Err(AppError::Validation(unknown));
        }
        let mut save = save;
        save.input.body_html = assets::sized_images(conn, &save.input.body_html, "body")?;
        // A Markdown block's HTML is stored too: its images get their size as well.
        if let serde_json::Value::Array(blocks) = &mut save.input.blocks {
            for (at, block) in blocks.iter_mut().enumerate() {
                if let Some(serde_json::Value::String(html)) = block.get_mut("html") {
                    *html = assets::sized_images(conn, html, &format!("blocks/{at}/text"))?;
                }
            }
        }
        Ok(store_row!(conn, table: pages, row: Page, save)?)
    }

    fn prepare(
        _: &actix_web::HttpRequest,
        body: &Map<String, Value>,
    ) -> impl std::future::Future<Output = AppResult<()>> {
        let markdown = body.get("body").and_then(Value::as_str).map(str::to_owned);
        async move {
            if let Some(markdown) = markdown {
                markdown::prerender(markdown).await;
            }
            Ok(())
        }
    }

    fn validate(body: PageBody, to: Target<'_, Page>) -> AppResult<PageRecord> {
        let mut check = Check::default();
        let slug = check.key("slug", body.slug, to.key, Slug::parse);
        // Its length is the first of the bounds a render checks.
        let markdown = body.body.unwrap_or_default();
        let rendered = markdown::render(&markdown).unwrap_or_else(|detail| {
            check.fail("body", detail);
            markdown::Rendered {
                html: String::new(),
                text: String::new(),
            }
        });
        let publication = Publication::of(&mut check, body.status, body.published_at, to.existing);
        let record = PageRecord {
            slug: slug.map(Slug::into_inner).unwrap_or_default(),
            title: check.text("title", body.title, Name::MAX),
            summary: check.optional_text("summary", body.summary, 1000),
            body_html: rendered.html,
            body_text: rendered.text,
            body: markdown,
            parent: check.parsed_text("parent", body.parent, Slug::parse),
            position: check.position(body.position),
            seo_title: check.optional_text("seo_title", body.seo_title, 200),
            seo_description: check.optional_text("seo_description", body.seo_description, 500),
            image: check.parsed("image", body.image, crate::platform::validate::Id::parse),
            blocks: blocks::check(&mut check, body.blocks),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    fn as_body(row: &Page) -> Value {
        let mut body = to_json(row);
        if let Value::Object(fields) = &mut body {
            fields.insert("blocks".to_owned(), row.blocks.clone());
        }
        body
    }

    fn hide_stored(conn: &mut PgConnection, values: &mut [Value]) -> AppResult<()> {
        let stored: Vec<(String, Value)> = values
            .iter()
            .map(|value| {
                let slug = value
                    .get("slug")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (
                    slug.to_owned(),
                    value.get("blocks").cloned().unwrap_or_default(),
                )
            })
            .collect();
        let named: Vec<(&str, &Value)> = stored
            .iter()
            .map(|(slug, blocks)| (slug.as_str(), blocks))
            .collect();
        let shown = shown::show(conn, &named, &View::default(), Access::Public)?;
        for (value, blocks) in values.iter_mut().zip(shown) {
            if let (Value::Object(item), Some(blocks)) = (value, blocks)
                && item.contains_key("blocks")
            {
                item.insert("blocks".to_owned(), blocks);
            }
        }
        Ok(())
    }

    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Page>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let mut children = tree::Tree::load(conn, &rows, view, access)?;
        let mut images = assets::Embedded::load(conn, view, "image", &rows, |p| p.image, access)?;
        let named: Vec<(&str, &Value)> = rows
            .iter()
            .map(|page| (page.slug.as_str(), &page.blocks))
            .collect();
        let blocks = shown::show(conn, &named, view, access)?;
        Ok(rows
            .into_iter()
            .zip(blocks)
            .map(|(page, blocks)| {
                let children = children.take(&page.slug);
                let image_asset = images.take(page.image);
                to_json(&PageItem {
                    page,
                    blocks,
                    children,
                    image_asset,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use diesel::debug_query;
    use diesel::pg::Pg;
    use diesel::prelude::*;

    use super::list_columns;
    use crate::platform::db::schema::pages;
    use crate::platform::query::View;

    fn sql(fields: Option<Vec<&'static str>>) -> String {
        let view = View {
            fields,
            ..View::default()
        };
        debug_query::<Pg, _>(&pages::table.select(list_columns(&view))).to_string()
    }

    #[test]
    fn a_list_reads_the_text_of_pages_only_when_its_fields_show_it() {
        let whole = sql(None);
        assert!(whole.contains("\"pages\".\"body\","), "{whole}");
        assert!(whole.contains("\"pages\".\"body_html\""), "{whole}");
        let titles = sql(Some(vec!["slug", "title"]));
        assert!(!titles.contains("body"), "{titles}");
        let html = sql(Some(vec!["title", "body_html"]));
        assert!(html.contains("\"pages\".\"body_html\""), "{html}");
        assert!(!html.contains("\"pages\".\"body\","), "{html}");
    }
}
