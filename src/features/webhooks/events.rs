//! The events of webhooks: each change of the change log is one event, named
//! `<type>.<what happened>`, and its payload, as the Standard Webhooks
//! specification shapes it (`type`, `timestamp`, `data`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::content::{self, KINDS};
use crate::engine::Events;

/// Every event name a subscription may ask for, wildcards apart: each kind's
/// events, as its descriptor names them.
pub fn catalog() -> Vec<String> {
    KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .flat_map(|d| {
            d.event_names()
                .into_iter()
                .map(|event| format!("{}.{event}", d.kind))
        })
        .collect()
}

/// The kinds that have events.
fn kinds() -> impl Iterator<Item = &'static str> {
    KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .filter(|d| !d.event_names().is_empty())
        .map(|d| d.kind)
}

/// Every pattern a subscription may ask for: each event, each `<type>.*`, `*`.
pub fn patterns() -> Vec<String> {
    let mut patterns = catalog();
    patterns.extend(kinds().map(|kind| format!("{kind}.*")));
    patterns.push("*".to_owned());
    patterns
}

/// Whether a subscription's pattern is one it may ask for: an event, `<type>.*`,
/// or `*`.
pub fn is_pattern(pattern: &str) -> bool {
    pattern == "*"
        || pattern
            .strip_suffix(".*")
            .is_some_and(|kind| kinds().any(|k| k == kind))
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
    /// A translation's locale (`translated`, `untranslated`).
    pub locale: Option<String>,
    pub action: String,
    pub version: i32,
    pub actor: String,
    /// What anonymous readers saw happen: `created`, `updated`, `deleted`, or none.
    pub public_action: Option<String>,
    pub at: DateTime<Utc>,
}

impl Change {
    /// The event it is: translated or untranslated for a translation's write;
    /// deleted; published or unpublished when anonymous readers start or stop
    /// seeing the item (a write that does it, or its time come, or its metric's
    /// publication); for figures sent in batches otherwise upserted; else created
    /// or updated.
    pub fn event(&self) -> String {
        let upserts = content::kind(&self.kind)
            .is_some_and(|kind| kind.descriptor().events == Events::Upserts);
        let what = match (self.action.as_str(), self.public_action.as_deref()) {
            ("translated", _) => "translated",
            ("untranslated", _) => "untranslated",
            ("deleted", _) => "deleted",
            ("published", _) => "published",
            ("unpublished", _) => "unpublished",
            _ if upserts => "upserted",
            (_, Some("created")) => "published",
            (_, Some("deleted")) => "unpublished",
            ("created", _) => "created",
            _ => "updated",
        };
        format!("{}.{what}", self.kind)
    }

    /// Which item it is about, for order per item (per item and locale for a
    /// translation).
    pub fn item(&self) -> String {
        let item = format!(
            "{}:{}:{}",
            self.kind,
            self.parent.as_deref().unwrap_or_default(),
            self.key
        );
        match &self.locale {
            Some(locale) => format!("{item}:{locale}"),
            None => item,
        }
    }

    /// Where the item (or its translation) lives (lived, if deleted).
    fn url(&self) -> String {
        let item = content::kind(&self.kind).map_or_else(
            || "/api/v1".to_owned(),
            |kind| kind.descriptor().url(self.parent.as_deref(), &self.key),
        );
        match &self.locale {
            Some(locale) => format!("{item}/translations/{locale}"),
            None => item,
        }
    }

    /// The payload: the same bytes on every attempt. A translation's names its
    /// locale.
    pub fn payload(&self) -> Value {
        let url = self.url();
        let mut data = json!({
            "type": self.kind,
            "key": self.key,
            "parent": self.parent,
            "action": self.action,
            "version": self.version,
            "position": self.position,
            "actor": self.actor,
            "url": url,
            "links": {"self": url},
        });
        if let (Some(locale), Some(data)) = (&self.locale, data.as_object_mut()) {
            data.insert("locale".to_owned(), json!(locale));
        }
        json!({
            "type": self.event(),
            "timestamp": self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "data": data,
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
    /// The locale of a translation's event (`translated`, `untranslated`); absent
    /// from an item's.
    #[schema(example = "sq")]
    pub locale: Option<String>,
    /// What the change log says happened: `created`, `updated` or `deleted`;
    /// `translated` or `untranslated` for a translation.
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
    /// Where the item lives (as `links.self`).
    #[schema(example = "/api/v1/pages/mission")]
    pub url: String,
    /// The item's links, as every item carries them.
    pub links: crate::platform::http::Links,
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

    fn change(kind: &str, action: &str, public_action: Option<&str>) -> Change {
        Change {
            position: 7,
            kind: kind.to_owned(),
            key: "mission".to_owned(),
            parent: None,
            locale: None,
            action: action.to_owned(),
            version: 2,
            actor: "user:editor".to_owned(),
            public_action: public_action.map(str::to_owned),
            at: DateTime::from_timestamp(1_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_change_is_the_event_a_subscriber_would_name_it() {
        let event = |kind, action, public| change(kind, action, public).event();
        assert_eq!(event("page", "created", None), "page.created");
        assert_eq!(event("page", "created", Some("created")), "page.published");
        assert_eq!(event("page", "updated", Some("updated")), "page.updated");
        assert_eq!(
            event("page", "updated", Some("deleted")),
            "page.unpublished"
        );
        // Scheduled: published when its time comes, not when it is saved.
        assert_eq!(event("page", "updated", None), "page.updated");
        assert_eq!(
            event("page", "published", Some("created")),
            "page.published"
        );
        assert_eq!(event("page", "deleted", Some("deleted")), "page.deleted");
        assert_eq!(
            event("observation", "created", Some("created")),
            "observation.upserted"
        );
        assert_eq!(
            event("observation", "published", Some("created")),
            "observation.published"
        );
        assert_eq!(event("page", "translated", None), "page.translated");
        assert_eq!(
            event("page", "untranslated", Some("untranslated")),
            "page.untranslated"
        );
        let mut translated = change("page", "translated", Some("translated"));
        translated.locale = Some("sq".to_owned());
        assert_eq!(translated.item(), "page::mission:sq");
        assert_eq!(
            translated.payload()["data"]["url"],
            "/api/v1/pages/mission/translations/sq"
        );
        assert!(catalog().contains(&"funder.translated".to_owned()));
        assert!(!catalog().contains(&"observation.translated".to_owned()));
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
