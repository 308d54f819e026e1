//! Pages: the site's Markdown pages, arranged in a tree by `parent` and `position`.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{Map, Value};

use super::{Access, CONTENT, Publication, markdown};
use crate::engine::{
    Descriptor, Lineage, Resource, Search, Section, Tag, WriteContext, store_row, stored,
    table_resource, to_json,
};
use crate::platform::db::errors::on_delete;
use crate::platform::db::schema::pages;
use crate::platform::error::AppResult;
use crate::platform::query::{CONTENT_FIELDS, Dir, ListSpec, View};
use crate::platform::validate::{Check, Slug};

mod model;

use model::FIELDS;
pub use model::{Page, PageBody, PageItem, PageRecord};

/// Pages form a tree through `parent`.
const TREE: Lineage = Lineage {
    table: "pages",
    key: "slug",
    parent: "parent",
};

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
}

/// A text column that a list reads only when its view shows it, and `''` otherwise.
type TextColumn = Box<dyn BoxableExpression<pages::table, diesel::pg::Pg, SqlType = Text>>;

/// The columns of a page a list reads, in the order of `Page`: `body` and
/// `body_html` (most of a page's bytes) only when the view shows them, so that a
/// list of titles does not read every page's text.
#[allow(clippy::type_complexity)]
fn list_columns(
    view: &View,
) -> (
    pages::id,
    pages::slug,
    pages::title,
    pages::summary,
    TextColumn,
    TextColumn,
    pages::parent,
    pages::position,
    pages::seo_title,
    pages::seo_description,
    pages::status,
    pages::published_at,
    pages::version,
    pages::created_at,
    pages::updated_at,
    pages::etag,
) {
    let unread = || -> TextColumn { Box::new(diesel::dsl::sql::<Text>("''")) };
    (
        pages::id,
        pages::slug,
        pages::title,
        pages::summary,
        if view.shows("body") {
            Box::new(pages::body)
        } else {
            unread()
        },
        if view.shows("body_html") {
            Box::new(pages::body_html)
        } else {
            unread()
        },
        pages::parent,
        pages::position,
        pages::seo_title,
        pages::seo_description,
        pages::status,
        pages::published_at,
        pages::version,
        pages::created_at,
        pages::updated_at,
        pages::etag,
    )
}

stored!(Page, key: slug, published);

impl Resource for Pages {
    type Row = Page;
    type Body = PageBody;
    type Item = PageItem;
    type Key = Slug;
    type Input = PageRecord;
    type Scope = ();

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
            includes: &["children"],
        },
        read_only: &["body_html", "children"],
        write_lock: Some("pages"),
        search: Some(Search {
            title: "title",
            text: "title || ' ' || coalesce(summary, '') || ' ' || body_text",
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

    table_resource!(table: pages, key: slug, row: Page, select: list_columns);

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

    fn as_body(row: &Page) -> PageBody {
        PageBody {
            slug: Some(row.slug.clone()),
            title: Some(row.title.clone()),
            summary: row.summary.clone(),
            body: Some(row.body.clone()),
            parent: row.parent.clone(),
            position: Some(row.position.into()),
            seo_title: row.seo_title.clone(),
            seo_description: row.seo_description.clone(),
            status: Some(row.status.as_str().to_owned()),
            published_at: row.published_at.map(|at| at.to_rfc3339()),
        }
    }

    fn validate(
        body: PageBody,
        key: Option<&str>,
        existing: Option<&Page>,
    ) -> AppResult<PageRecord> {
        let mut check = Check::default();
        let slug = check.key("slug", body.slug, key, Slug::parse);
        let markdown = check.long_text("body", body.body, 200_000);
        let rendered = markdown::render(&markdown).unwrap_or_else(|detail| {
            check.fail("body", detail);
            markdown::Rendered {
                html: String::new(),
                text: String::new(),
            }
        });
        let publication = Publication::check(
            &mut check,
            body.status,
            body.published_at,
            existing.and_then(|p| p.published_at),
        );
        let record = PageRecord {
            slug: slug.map(Slug::into_inner).unwrap_or_default(),
            title: check.text("title", body.title, 200),
            summary: check.optional_text("summary", body.summary, 1000),
            body_html: rendered.html,
            body_text: rendered.text,
            body: markdown,
            parent: check
                .parsed("parent", body.parent, Slug::parse)
                .map(Slug::into_inner),
            position: check
                .integer_in("position", body.position, -1_000_000..=1_000_000)
                .unwrap_or(0),
            seo_title: check.optional_text("seo_title", body.seo_title, 200),
            seo_description: check.optional_text("seo_description", body.seo_description, 500),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    fn save(
        conn: &mut PgConnection,
        _: &(),
        existing: Option<&Page>,
        record: PageRecord,
        context: &WriteContext,
    ) -> AppResult<Page> {
        TREE.check(
            conn,
            &record.slug,
            existing.map(|page| page.slug.as_str()),
            record.parent.as_deref(),
        )?;
        Ok(
            store_row!(conn, table: pages, row: Page, existing: existing, record: &record, context: context)?,
        )
    }

    fn delete(conn: &mut PgConnection, row: &Page, _: bool, _: &WriteContext) -> AppResult<()> {
        diesel::delete(pages::table.find(row.id))
            .execute(conn)
            .map_err(on_delete)?;
        Ok(())
    }

    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Page>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let mut children: HashMap<String, Vec<Page>> = HashMap::new();
        if view.includes("children") {
            let slugs: Vec<&str> = rows.iter().map(|page| page.slug.as_str()).collect();
            let query = pages::table
                .filter(pages::parent.eq_any(slugs))
                .order((pages::position, pages::slug))
                .select(Page::as_select())
                .into_boxed();
            for child in access.filter(query).load(conn)? {
                children
                    .entry(child.parent.clone().unwrap_or_default())
                    .or_default()
                    .push(child);
            }
        }
        Ok(rows
            .into_iter()
            .map(|page| {
                let own = view
                    .includes("children")
                    .then(|| children.remove(&page.slug).unwrap_or_default());
                to_json(&PageItem {
                    page,
                    children: own,
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
            include: Vec::new(),
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
