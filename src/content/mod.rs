//! Content: the pages, impact metrics and their observations, funders, Council
//! Decisions and contacts of the site, each a resource (see `crate::engine`) with
//! a status and a publication date; search across them; Markdown.

pub mod contacts;
pub mod decisions;
pub mod funders;
pub mod markdown;
pub mod metrics;
pub mod observations;
pub mod pages;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::platform::validate::{self, Check};
pub use crate::platform::visibility::{Access, Status};

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
    pub fn check(
        check: &mut Check,
        status: Option<String>,
        published_at: Option<String>,
        existing: Option<DateTime<Utc>>,
    ) -> Self {
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

/// Serialises a whole number stored as a float without a fraction: `342000`, not
/// `342000.0`.
pub fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}
