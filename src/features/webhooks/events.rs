//! The events of webhooks: each change of the change log is one event, named
//! `<type>.<what happened>`, and its payload, as the Standard Webhooks
//! specification shapes it (`type`, `timestamp`, `data`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// The item types that have events, and where an item of each lives.
const TYPES: &[(&str, &str)] = &[
    ("page", "/api/v1/pages"),
    ("impact_metric", "/api/v1/impact-metrics"),
    ("observation", "/api/v1/impact-metrics"),
    ("funder", "/api/v1/funders"),
    ("council_decision", "/api/v1/council-decisions"),
    ("contact", "/api/v1/contacts"),
];

/// What can happen to an item of content other than an observation.
const CONTENT: &[&str] = &["created", "updated", "published", "unpublished", "deleted"];
/// What can happen to an observation.
const OBSERVATION: &[&str] = &["upserted", "deleted"];

/// Every event name a subscription may ask for, wildcards apart.
pub fn catalog() -> Vec<String> {
    TYPES
        .iter()
        .flat_map(|(kind, _)| {
            let actions = if *kind == "observation" {
                OBSERVATION
            } else {
                CONTENT
            };
            actions.iter().map(move |action| format!("{kind}.{action}"))
        })
        .collect()
}

/// Every pattern a subscription may ask for: each event, each `<type>.*`, `*`.
pub fn patterns() -> Vec<String> {
    let mut patterns = catalog();
    patterns.extend(TYPES.iter().map(|(kind, _)| format!("{kind}.*")));
    patterns.push("*".to_owned());
    patterns
}

/// Whether a subscription's pattern is one it may ask for: an event, `<type>.*`,
/// or `*`.
pub fn is_pattern(pattern: &str) -> bool {
    pattern == "*"
        || pattern
            .strip_suffix(".*")
            .is_some_and(|kind| TYPES.iter().any(|(k, _)| *k == kind))
        || catalog().iter().any(|event| event == pattern)
}

/// Whether `event` is one a subscription with these patterns wants.
pub fn wanted(patterns: &[String], event: &str) -> bool {
    let kind = event.split('.').next().unwrap_or_default();
    patterns.iter().any(|pattern| {
        pattern == "*" || pattern == event || pattern.strip_suffix(".*").is_some_and(|k| k == kind)
    })
}

/// A change of the change log, as far as its event needs it.
#[derive(Debug, Clone)]
pub struct Change {
    pub position: i64,
    pub kind: String,
    pub key: String,
    pub parent: Option<String>,
    pub action: String,
    pub version: i32,
    pub actor: String,
    pub public_before: bool,
    pub public_from: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

impl Change {
    /// The event it is: deleted; for an observation otherwise upserted; for other
    /// content published (anonymous readers see it from this change on, and did
    /// not before), unpublished (the other way round), created or updated.
    pub fn event(&self) -> String {
        let public_after = self.public_from.is_some_and(|from| from <= self.at);
        let what = match self.action.as_str() {
            "deleted" => "deleted",
            _ if self.kind == "observation" => "upserted",
            _ if public_after && !self.public_before => "published",
            _ if self.public_before && !public_after => "unpublished",
            "created" => "created",
            _ => "updated",
        };
        format!("{}.{what}", self.kind)
    }

    /// Which item it is about, for order per item.
    pub fn item(&self) -> String {
        format!(
            "{}:{}:{}",
            self.kind,
            self.parent.as_deref().unwrap_or_default(),
            self.key
        )
    }

    /// Where the item lives (lived, if deleted).
    fn url(&self) -> String {
        let base = TYPES
            .iter()
            .find(|(kind, _)| *kind == self.kind)
            .map_or("/api/v1", |(_, base)| base);
        match &self.parent {
            Some(metric) if self.kind == "observation" => {
                format!("{base}/{metric}/observations/{}", self.key)
            }
            _ => format!("{base}/{}", self.key),
        }
    }

    /// The payload: the same bytes on every attempt.
    pub fn payload(&self) -> Value {
        json!({
            "type": self.event(),
            "timestamp": self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "data": {
                "type": self.kind,
                "key": self.key,
                "parent": self.parent,
                "action": self.action,
                "version": self.version,
                "position": self.position,
                "actor": self.actor,
                "url": self.url(),
            }
        })
    }
}

/// What a delivery's body says about the change (`data`).
#[derive(Serialize, ToSchema)]
pub struct WebhookEventData {
    /// The item's type: `page`, `impact_metric`, `observation`, `funder`,
    /// `council_decision`, `contact`.
    #[schema(example = "page")]
    pub r#type: String,
    /// The item's key (an observation's id).
    #[schema(example = "mission")]
    pub key: String,
    /// An observation's metric.
    pub parent: Option<String>,
    /// What the change log says happened: `created`, `updated` or `deleted`.
    #[schema(example = "updated")]
    pub action: String,
    /// The item's version after the change (before it, for a deletion).
    #[schema(example = 3)]
    pub version: i32,
    /// The change's position in the change log (`GET /api/v1/changes?after=`).
    #[schema(example = 42)]
    pub position: i64,
    /// Who made the change.
    #[schema(example = "user:editor")]
    pub actor: String,
    /// Where the item lives.
    #[schema(example = "/api/v1/pages/mission")]
    pub url: String,
}

/// The body of every delivery (Standard Webhooks): the event's name, when it
/// happened, and what it is about. Fetch `data.url` for the item itself.
#[derive(Serialize, ToSchema)]
pub struct WebhookEvent {
    /// `page.published`, `observation.upserted`, ... (see `WebhookEventType`).
    #[schema(example = "page.published")]
    pub r#type: String,
    /// When the change was logged (RFC 3339).
    pub timestamp: DateTime<Utc>,
    pub data: WebhookEventData,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: &str, action: &str, public_before: bool, public: Option<i64>) -> Change {
        let at = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        Change {
            position: 7,
            kind: kind.to_owned(),
            key: "mission".to_owned(),
            parent: None,
            action: action.to_owned(),
            version: 2,
            actor: "user:editor".to_owned(),
            public_before,
            public_from: public.and_then(|s| DateTime::from_timestamp(1_000_000 + s, 0)),
            at,
        }
    }

    #[test]
    fn a_change_is_the_event_a_subscriber_would_name_it() {
        assert_eq!(
            change("page", "created", false, None).event(),
            "page.created"
        );
        assert_eq!(
            change("page", "created", false, Some(0)).event(),
            "page.published"
        );
        assert_eq!(
            change("page", "updated", true, Some(-5)).event(),
            "page.updated"
        );
        assert_eq!(
            change("page", "updated", true, None).event(),
            "page.unpublished"
        );
        // Scheduled: published when the scheduler logs it, not when it is saved.
        assert_eq!(
            change("page", "updated", false, Some(60)).event(),
            "page.updated"
        );
        assert_eq!(
            change("page", "deleted", true, None).event(),
            "page.deleted"
        );
        assert_eq!(
            change("observation", "created", false, Some(0)).event(),
            "observation.upserted"
        );
    }

    #[test]
    fn patterns_are_events_wildcards_of_a_type_or_everything() {
        assert!(is_pattern("page.published") && is_pattern("page.*") && is_pattern("*"));
        assert!(!is_pattern("page.upserted") && !is_pattern("pages.*") && !is_pattern(""));
        let patterns = vec!["page.*".to_owned(), "observation.upserted".to_owned()];
        assert!(wanted(&patterns, "page.deleted"));
        assert!(wanted(&patterns, "observation.upserted"));
        assert!(!wanted(&patterns, "observation.deleted"));
        assert!(!wanted(&patterns, "funder.created"));
    }
}
