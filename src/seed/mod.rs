//! The sample content: the organisation's own "Who we are" page (kept in
//! `../shared/seed/`), loaded through the API's own validation. Seeding is
//! idempotent: an item whose key exists is left as it is, edits included.

use diesel::PgConnection;
use serde_json::{Value, json};

use crate::content::crud;
use crate::content::pages::Pages;
use crate::error::AppResult;

/// A page of the sample content.
struct SeedPage {
    slug: &'static str,
    title: &'static str,
    parent: Option<&'static str>,
    position: i32,
    summary: Option<&'static str>,
    body: &'static str,
}

const WHO_WE_ARE: Option<&str> = Some("who-we-are");

const PAGES: &[SeedPage] = &[
    SeedPage {
        slug: "who-we-are",
        title: "Who we are",
        parent: None,
        position: 1,
        summary: Some(
            "SEESAC functions as a joint initiative of the United Nations Development Programme (UNDP) \
             and the Regional Cooperation Council (RCC).",
        ),
        body: include_str!("pages/who-we-are.md"),
    },
    SeedPage {
        slug: "mission",
        title: "Mission",
        parent: WHO_WE_ARE,
        position: 1,
        summary: None,
        body: include_str!("pages/mission.md"),
    },
    SeedPage {
        slug: "background",
        title: "Background",
        parent: WHO_WE_ARE,
        position: 2,
        summary: None,
        body: include_str!("pages/background.md"),
    },
    SeedPage {
        slug: "monitoring-and-reporting",
        title: "Monitoring and reporting progress",
        parent: WHO_WE_ARE,
        position: 3,
        summary: None,
        body: include_str!("pages/monitoring-and-reporting.md"),
    },
    SeedPage {
        slug: "impact",
        title: "Impact",
        parent: WHO_WE_ARE,
        position: 4,
        summary: None,
        body: include_str!("pages/impact.md"),
    },
    SeedPage {
        slug: "existing-portfolio",
        title: "Existing portfolio",
        parent: WHO_WE_ARE,
        position: 5,
        summary: None,
        body: include_str!("pages/existing-portfolio.md"),
    },
    SeedPage {
        slug: "cookies",
        title: "Cookies on our web page",
        parent: None,
        position: 2,
        summary: Some("This site uses cookies for better performance and user experience."),
        body: include_str!("pages/cookies.md"),
    },
    SeedPage {
        slug: "website-management",
        title: "Website management",
        parent: None,
        position: 3,
        summary: None,
        body: include_str!("pages/website-management.md"),
    },
];

fn pages() -> Vec<Value> {
    PAGES
        .iter()
        .map(|page| {
            json!({"slug": page.slug, "title": page.title, "parent": page.parent, "position": page.position,
                   "summary": page.summary, "body": page.body, "status": "published"})
        })
        .collect()
}

/// What a seeding run created.
#[derive(Debug, Default)]
pub struct Seeded {
    pub pages: usize,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "created {} pages", self.pages)
    }
}

/// Loads the sample content in one transaction.
pub fn load(conn: &mut PgConnection) -> AppResult<Seeded> {
    use diesel::Connection;
    conn.transaction(|conn| {
        Ok(Seeded {
            pages: crud::seed::<Pages>(conn, "", &pages())?,
        })
    })
}
