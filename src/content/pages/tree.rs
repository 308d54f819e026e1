//! `include=children`, `children.children` and `children.children.children`: a
//! page's child pages, and theirs, at most three levels down, one query per
//! level however many pages there are.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::Value;

use super::Page;
use crate::content::{Access, tree_children};
use crate::engine::{grouped, to_json};
use crate::platform::db::schema::pages;
use crate::platform::error::AppResult;
use crate::platform::query::View;

/// The includes of the tree, one level deeper each (as `Pages`' spec lists them).
const LEVELS: &[&str] = &[
    "children",
    "children.children",
    "children.children.children",
];

/// A page as the level below it is read: by its slug.
struct Slugged {
    slug: String,
}

/// The child pages of each level below some pages, by their parent's slug.
pub struct Tree {
    levels: Vec<HashMap<String, Vec<Page>>>,
}

impl Tree {
    /// The levels `view` includes below `rows`, that `access` may see: a level's
    /// pages are the children of the pages of the level above that it saw.
    pub fn load(
        conn: &mut PgConnection,
        rows: &[Page],
        view: &View,
        access: Access,
    ) -> AppResult<Self> {
        let depth = LEVELS
            .iter()
            .rposition(|name| view.includes(name))
            .map_or(0, |at| at + 1);
        let mut levels = Vec::new();
        if depth == 0 {
            return Ok(Self { levels });
        }
        // The pages whose children the next level reads: by their slugs alone.
        let mut parents: Vec<Slugged> = rows
            .iter()
            .map(|page| Slugged {
                slug: page.slug.clone(),
            })
            .collect();
        for _ in 0..depth {
            let found: Vec<(String, Page)> = tree_children!(
                conn, access, parents,
                table: pages, key: slug, row: Page, order: (pages::position, pages::slug),
            )
            .collect();
            parents = found
                .iter()
                .map(|(_, page)| Slugged {
                    slug: page.slug.clone(),
                })
                .collect();
            levels.push(grouped(found));
        }
        Ok(Self { levels })
    }

    /// The children of the page `slug`, each with theirs as deep as loaded; `None`
    /// without `include=children`.
    pub fn take(&mut self, slug: &str) -> Option<Vec<Value>> {
        let (first, rest) = self.levels.split_first_mut()?;
        Some(children(first, rest, slug))
    }
}

fn children(
    level: &mut HashMap<String, Vec<Page>>,
    below: &mut [HashMap<String, Vec<Page>>],
    slug: &str,
) -> Vec<Value> {
    level
        .remove(slug)
        .unwrap_or_default()
        .into_iter()
        .map(|page| {
            let mut value = to_json(&page);
            if let (Some((next, rest)), Value::Object(object)) =
                (below.split_first_mut(), &mut value)
            {
                object.insert(
                    "children".to_owned(),
                    Value::Array(children(next, rest, &page.slug)),
                );
            }
            value
        })
        .collect()
}
