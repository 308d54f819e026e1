//! The sample content: the organisation's own "Who we are" page (kept in
//! `../shared/seed/`), loaded through the API's own validation. Seeding is
//! idempotent: an item whose key exists is left as it is, edits included.

use diesel::PgConnection;
use serde_json::{Value, json};

use crate::content::crud;
use crate::content::pages::Pages;
use crate::error::AppResult;

/// The pages: slug, title, parent, position, summary, Markdown body.
const PAGES: &[(&str, &str, Option<&str>, i32, Option<&str>, &str)] = &[
    (
        "who-we-are",
        "Who we are",
        None,
        1,
        Some("SEESAC functions as a joint initiative of the United Nations Development Programme (UNDP) and the Regional Cooperation Council (RCC)."),
        include_str!("pages/who-we-are.md"),
    ),
    ("mission", "Mission", Some("who-we-are"), 1, None, include_str!("pages/mission.md")),
    ("background", "Background", Some("who-we-are"), 2, None, include_str!("pages/background.md")),
    (
        "monitoring-and-reporting",
        "Monitoring and reporting progress",
        Some("who-we-are"),
        3,
        None,
        include_str!("pages/monitoring-and-reporting.md"),
    ),
    ("impact", "Impact", Some("who-we-are"), 4, None, include_str!("pages/impact.md")),
    ("existing-portfolio", "Existing portfolio", Some("who-we-are"), 5, None, include_str!("pages/existing-portfolio.md")),
    (
        "cookies",
        "Cookies on our web page",
        None,
        2,
        Some("This site uses cookies for better performance and user experience."),
        include_str!("pages/cookies.md"),
    ),
    ("website-management", "Website management", None, 3, None, include_str!("pages/website-management.md")),
];

fn pages() -> Vec<Value> {
    PAGES
        .iter()
        .map(|(slug, title, parent, position, summary, body)| {
            json!({"slug": slug, "title": title, "parent": parent, "position": position,
                   "summary": summary, "body": body, "status": "published"})
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
    conn.transaction(|conn| Ok(Seeded { pages: crud::seed::<Pages>(conn, "", &pages())? }))
}
