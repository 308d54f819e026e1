//! Content: the pages, impact metrics and their observations, funders, Council
//! Decisions and contacts of the site, each a resource (see `crate::engine`) with
//! a status and a publication date; search across them; Markdown.

pub mod assets;
pub mod contacts;
pub mod decisions;
pub mod funders;
pub mod markdown;
pub mod metrics;
pub mod observations;
pub mod pages;

use chrono::{DateTime, Utc};

use crate::engine::{Descriptor, Kind, Stored, Tag};
use crate::platform::validate::{self, Check};
pub use crate::platform::visibility::{Access, Status};

/// Every kind of content, in the order of their references (what an item refers
/// to comes before it: export and import go in this order).
pub static KINDS: &[&dyn Kind] = &[
    &assets::Assets,
    &funders::Funders,
    &decisions::Decisions,
    &metrics::Metrics,
    &observations::Observations,
    &contacts::Contacts,
    &pages::Pages,
];

/// The kind with this type name (`page`), if it is registered.
pub fn kind(name: &str) -> Option<&'static dyn Kind> {
    KINDS
        .iter()
        .copied()
        .find(|kind| kind.descriptor().kind == name)
}

/// What every kind of content shares, unless it says otherwise: anyone reads what
/// is published, editors write, its events are content's. Each kind spreads it:
/// `..CONTENT`.
pub const CONTENT: Descriptor = Descriptor::DEFAULT;

/// The tag of impact metrics and of their observations, which the document shows
/// together.
pub const IMPACT_METRICS: Tag = Tag {
    name: "impact-metrics",
    description: "Impact figures and their observations over time",
};

/// The status and publication date a write ends with.
#[derive(Debug, Clone, Copy)]
pub struct Publication {
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
}

impl Publication {
    /// `status` defaults to draft. A published item without a date keeps the date it
    /// has, or is published now; a date in the future schedules it. An item that is
    /// not published has only the date it is given (so a PUT without one, or a
    /// PATCH with null, clears a schedule).
    pub fn of(
        check: &mut Check,
        status: Option<String>,
        published_at: Option<String>,
        existing: Option<&impl Stored>,
    ) -> Self {
        let existing = existing
            .and_then(Stored::publication)
            .and_then(|(_, at)| at);
        let status = check
            .parsed("status", status, Status::parse)
            .unwrap_or(Status::Draft);
        let given = check.parsed("published_at", published_at, validate::parse_timestamp);
        let published_at = match (given, status) {
            (Some(at), _) => Some(at),
            (None, Status::Published) => existing.or_else(|| Some(Utc::now())),
            (None, _) => None,
        };
        Self {
            status,
            published_at,
        }
    }
}

pub use crate::platform::query::number;

/// Declares the body of a kind's POST, PUT and PATCH: its own fields, every one
/// optional (so that validation can name every missing one), unknown fields
/// refused, then the status and publication date every kind takes, in the same
/// words everywhere (`Publication::check` reads them).
macro_rules! content_body {
    ($(#[$attr:meta])* pub struct $Body:ident { $($fields:tt)* }) => {
        #[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$attr])*
        pub struct $Body {
            $($fields)*
            /// Default `draft`.
            #[schema(value_type = Option<crate::platform::visibility::Status>)]
            pub status: Option<String>,
            /// RFC 3339. Publishing without it publishes now; a future date schedules.
            #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
            pub published_at: Option<String>,
        }
    };
}
pub(crate) use content_body;

/// Declares the record a kind's write saves (its `Resource::Input`, which
/// `store_row!` stores): its own columns, then the status and publication date
/// every kind has (from `Publication`). Every column is written: a field that is
/// `None` clears its column.
macro_rules! content_record {
    (
        #[diesel(table_name = $table:ident)]
        $vis:vis struct $Record:ident $(<$lt:lifetime>)? { $($fields:tt)* }
    ) => {
        #[derive(Debug, diesel::Insertable, diesel::AsChangeset)]
        #[diesel(table_name = $table, treat_none_as_null = true)]
        $vis struct $Record $(<$lt>)? {
            $($fields)*
            pub(super) status: $crate::platform::visibility::Status,
            pub(super) published_at: Option<chrono::DateTime<chrono::Utc>>,
        }
    };
}
pub(crate) use content_record;

/// The children of `rows` in a tree (a table whose `parent` column names another
/// row's `key`) that `access` may see, in `order`, each with its parent's key: what
/// `include=children` embeds (`Embedded`). `tree_children!(conn, access, rows,
/// table: pages, key: slug, row: Page, order: (pages::position, pages::slug))`.
macro_rules! tree_children {
    (
        $conn:expr, $access:expr, $rows:expr,
        table: $table:ident, key: $key:ident, row: $Row:ident, order: $order:expr $(,)?
    ) => {{
        let keys: Vec<&str> = $rows.iter().map(|row| row.$key.as_str()).collect();
        let query = $table::table
            .filter($table::parent.eq_any(keys))
            .order($order)
            .select($Row::as_select())
            .into_boxed();
        let found: Vec<$Row> = $access.filter(query).load($conn)?;
        found
            .into_iter()
            .map(|child| (child.parent.clone().unwrap_or_default(), child))
    }};
}
pub(crate) use tree_children;
