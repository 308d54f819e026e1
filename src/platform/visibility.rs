//! Who sees what: an item's `Status`, and `Access`, whether a caller sees only what
//! is published or everything. The content types and the list language both use it.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::query_dsl::methods::FilterDsl;
use diesel::sql_types::Bool;

use crate::platform::text_enum::text_enum;

text_enum! {
    /// Where an item is in its life: only `published` items whose `published_at` has
    /// passed are visible to anonymous readers.
    pub enum Status {
        /// Work in progress, seen only by editors.
        Draft = "draft",
        /// Public from `published_at` on.
        Published = "published",
        /// Withdrawn, kept for the record.
        Archived = "archived",
    }
}

/// What anonymous callers may see, as SQL over the columns every content table has.
pub const VISIBLE_SQL: &str = "(status = 'published' AND published_at <= now())";

/// `VISIBLE_SQL` over the table called `alias` in a query that names several.
pub fn visible_as(alias: &str) -> String {
    format!("({alias}.status = 'published' AND {alias}.published_at <= now())")
}

/// Whether the caller sees drafts, archived and scheduled items, as a plain value
/// that can cross into blocking database code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Everything,
}

impl Access {
    pub fn public_only(self) -> bool {
        self == Self::Public
    }

    pub fn may_see(self, status: Status, published_at: Option<DateTime<Utc>>) -> bool {
        self == Self::Everything
            || (status == Status::Published && published_at.is_some_and(|at| at <= Utc::now()))
    }

    /// Keeps only what this caller may see, on a boxed query of any content table.
    pub fn filter<Q>(self, query: Q) -> Q
    where
        Q: FilterDsl<diesel::expression::SqlLiteral<Bool>, Output = Q>,
    {
        if self.public_only() {
            query.filter(sql::<Bool>(VISIBLE_SQL))
        } else {
            query
        }
    }
}
