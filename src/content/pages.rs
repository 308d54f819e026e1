//! Pages: the site's Markdown pages, arranged in a tree by `parent` and `position`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Access, CONTENT, Publication, Status, markdown};
use crate::engine::{
    Descriptor, Lineage, Resource, Search, Section, Tag, WriteContext, store_row, stored,
    table_resource, to_json,
};
use crate::platform::db::errors::on_delete;
use crate::platform::db::schema::pages;
use crate::platform::error::AppResult;
use crate::platform::http::body::whole_number;
use crate::platform::query::{CONTENT_FIELDS, Dir, Field, Kind, ListSpec, View};
use crate::platform::validate::{Check, Slug};

/// A page of the site.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = pages, check_for_backend(diesel::pg::Pg))]
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
    /// `draft`, `published` or `archived`.
    pub status: Status,
    /// When it is (or was) published; in the future, it is scheduled.
    pub published_at: Option<DateTime<Utc>>,
    /// Read-only: 1 at creation, one more on every write that changes something.
    pub version: i32,
    /// When it was created (RFC 3339, UTC). Read-only.
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC). Read-only.
    pub updated_at: DateTime<Utc>,
    /// The ETag of the item as an editor reads it, kept by the database: a new one
    /// with every change of what an editor reads (migration 000010).
    #[serde(skip)]
    pub etag: String,
}

/// A page as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct PageItem {
    /// The page's own fields.
    #[serde(flatten)]
    pub page: Page,
    /// With `include=children`: the child pages, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<Page>>,
}

/// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, `body_html`,
/// timestamps, `children`) may be present and are ignored.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slug": "mission", "title": "Mission", "parent": "who-we-are", "position": 1,
    "body": "The South Eastern and Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons (SEESAC) works to strengthen the capacities of national and regional stakeholders to control and reduce the proliferation and misuse of small arms and light weapons.",
    "status": "published"}))]
pub struct PageBody {
    /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the page.
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    /// The heading, at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$"
    )]
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
    #[schema(minimum = -1000000, maximum = 1000000)]
    #[serde(default, deserialize_with = "whole_number::optional")]
    pub position: Option<i64>,
    /// Title for search engines, if not `title`; at most 200 characters.
    #[schema(max_length = 200)]
    pub seo_title: Option<String>,
    /// Description for search engines, if not `summary`; at most 500 characters.
    #[schema(max_length = 500)]
    pub seo_description: Option<String>,
    /// Default `draft`.
    #[schema(value_type = Option<Status>)]
    pub status: Option<String>,
    /// RFC 3339. Publishing without it publishes now; a future date schedules.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub published_at: Option<String>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = pages, treat_none_as_null = true)]
pub struct PageRecord {
    slug: String,
    title: String,
    summary: Option<String>,
    body: String,
    body_html: String,
    body_text: String,
    parent: Option<String>,
    position: i32,
    seo_title: Option<String>,
    seo_description: Option<String>,
    status: Status,
    published_at: Option<DateTime<Utc>>,
}

const FIELDS: &[Field] = &[
    Field::new("slug", Kind::Text).sortable().filterable(),
    Field::new("title", Kind::Text).sortable().filterable(),
    Field::new("summary", Kind::Text),
    Field::new("body", Kind::Text),
    Field::new("body_html", Kind::Text),
    Field::new("parent", Kind::Text)
        .refers_to("pages", "slug")
        .sortable()
        .filterable()
        .nullable(),
    Field::new("position", Kind::Integer)
        .sortable()
        .filterable(),
    Field::new("seo_title", Kind::Text),
    Field::new("seo_description", Kind::Text),
];

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
