//! The sample content: the organisation's own "Who we are" page as pages, funders,
//! Council Decisions, impact metrics and the contact, loaded through the API's own
//! validation. Seeding is idempotent: an item whose key exists is left as it is,
//! edits included.

use diesel::PgConnection;
use serde_json::{Value, json};

use crate::content::contacts::Contacts;
use crate::content::decisions::Decisions;
use crate::content::funders::Funders;
use crate::content::metrics::Metrics;
use crate::content::observations::Observations;
use crate::content::pages::Pages;
use crate::engine::Resource;
use crate::engine::transaction::{LockMode, begin_write, parse_body};
use crate::engine::{Author, Save, Target, WriteContext};
use crate::platform::auth::Caller;
use crate::platform::error::{AppError, AppResult};

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

/// What the "Who we are" page shows, in the order of the organisation's page: its
/// sections (the child pages), the impact figures, the Council Decisions of the
/// existing portfolio, the funders, and the address at the foot.
fn who_we_are_blocks() -> Value {
    json!([
        {"type": "pages"},
        {"type": "metrics", "metrics": [
            "salw-coordination-mechanisms", "firearms-focal-points", "salw-destroyed",
            "storage-sites-secured", "evidence-rooms-secured", "military-gender-awareness",
            "women-in-armed-forces", "salw-awareness-campaigns",
            "people-informed-through-social-media", "citizens-in-a-safer-region"]},
        {"type": "decisions"},
        {"type": "funders"},
        {"type": "contact"}
    ])
}

fn pages() -> Vec<Value> {
    PAGES
        .iter()
        .map(|page| {
            let blocks = if Some(page.slug) == WHO_WE_ARE {
                who_we_are_blocks()
            } else {
                json!([])
            };
            json!({"slug": page.slug, "title": page.title, "parent": page.parent, "position": page.position,
                   "summary": page.summary, "body": page.body, "blocks": blocks, "status": "published"})
        })
        .collect()
}

/// The other content: funders, Council Decisions, impact metrics with their
/// observations, and the contact, every fact taken from the seed page.
const CONTENT: &str = include_str!("content.json");

/// What a seeding run created.
#[derive(Debug, Default)]
pub struct Seeded {
    pub pages: usize,
    pub funders: usize,
    pub council_decisions: usize,
    pub impact_metrics: usize,
    pub observations: usize,
    pub contacts: usize,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "created {} pages, {} funders, {} Council Decisions, {} impact metrics, {} observations, {} contacts",
            self.pages,
            self.funders,
            self.council_decisions,
            self.impact_metrics,
            self.observations,
            self.contacts
        )
    }
}

fn published(items: &Value) -> Vec<Value> {
    let mut items = items.as_array().cloned().unwrap_or_default();
    for item in &mut items {
        item["status"] = json!("published");
    }
    items
}

/// Loads items a seed file describes, through the same validation as the API; items
/// whose key exists already are left as they are, so seeding twice changes nothing.
fn seed<R: Resource>(conn: &mut PgConnection, scope: &str, items: &[Value]) -> AppResult<usize> {
    let scope = begin_write::<R>(conn, &Author::system("seed"), scope, LockMode::Exclusive)?;
    let mut created = 0;
    for item in items {
        let Value::Object(object) = item.clone() else {
            return Err(AppError::internal("seed item is not an object"));
        };
        let key = object
            .get(R::DESCRIPTOR.key)
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(key) = &key
            && R::find(conn, &scope, key, false)?.is_some()
        {
            continue;
        }
        let input =
            R::validate(parse_body::<R>(object)?, Target::at(key.as_deref())).map_err(|e| {
                AppError::internal(format!(
                    "seed {} {key:?} is invalid: {e:?}",
                    R::DESCRIPTOR.name
                ))
            })?;
        let seeder = Caller::system("seed");
        let save = Save {
            scope: &scope,
            existing: None,
            input,
            context: &WriteContext::of(&seeder),
        };
        R::save(conn, save)?;
        created += 1;
    }
    Ok(created)
}

/// Loads the sample content in one transaction.
pub fn load(conn: &mut PgConnection) -> AppResult<Seeded> {
    use diesel::Connection;
    let content: Value = serde_json::from_str(CONTENT).map_err(AppError::internal)?;
    conn.transaction(|conn| {
        let mut seeded = Seeded {
            pages: 0,
            // Parents before children, earlier decisions before later ones.
            funders: seed::<Funders>(conn, "", &published(&content["funders"]))?,
            council_decisions: seed::<Decisions>(
                conn,
                "",
                &published(&content["council_decisions"]),
            )?,
            impact_metrics: seed::<Metrics>(conn, "", &published(&content["impact_metrics"]))?,
            contacts: seed::<Contacts>(conn, "", &published(&content["contacts"]))?,
            observations: 0,
        };
        for metric in content["impact_metrics"].as_array().into_iter().flatten() {
            let key = metric["key"].as_str().unwrap_or_default();
            seeded.observations +=
                seed::<Observations>(conn, key, &published(&metric["observations"]))?;
        }
        // Last: a page's blocks name the rest.
        seeded.pages = seed::<Pages>(conn, "", &pages())?;
        Ok(seeded)
    })
}
