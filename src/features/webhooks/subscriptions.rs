//! Webhook subscriptions, at `/api/v1/webhooks`, for admins: a resource on the
//! engine. Creating one shows its signing secret, once; a PATCH pauses or resumes
//! it, and resuming forgets its failures. Their delivery logs are `deliveries`.

use std::future::Future;

use actix_web::{HttpRequest, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use uuid::Uuid;

use super::WebhookSettings;
use super::events;
use super::send::{new_secret, refuse_url};
use crate::engine::{
    Descriptor, Events, Operations, Resource, Save, Tag, Target, stored_row, table_resource,
};
use crate::platform::auth::Permission;
use crate::platform::db::schema::webhooks;
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::{Dir, Field, Kind, ListSpec};
use crate::platform::validate::{Check, Id, REQUIRED};

stored_row! {
    /// A subscription, as admins read it: never its secret, which only the creating
    /// answer shows.
    #[diesel(table_name = webhooks)]
    pub struct Webhook {
        /// Its id: the key in the URL.
        pub id: Uuid,
        /// Where deliveries are POSTed (http or https).
        #[schema(example = "https://hooks.example.org/seesac")]
        pub url: String,
        /// The events it wants: names (`page.published`), `<type>.*`, or `*`.
        #[schema(example = json!(["page.*", "observation.upserted"]))]
        pub events: Vec<String>,
        /// What it is for.
        pub description: Option<String>,
        /// Whether events are delivered to it; a paused subscription keeps its events
        /// and gets them when it is active again.
        pub active: bool,
        /// Why the service paused it, if it did (deliveries that kept failing).
        pub paused_reason: Option<String>,
        /// Deliveries in a row that failed for good; after 5 the service pauses it.
        pub failures: i32,
        /// Who created it.
        pub created_by: String,
        #[serde(skip)]
        pub secret: String,
    }
    key: id
}

/// The body of POST (`url` and `events` required) and PATCH (what it sends
/// changes).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.org/seesac", "events": ["page.published", "page.deleted"],
    "description": "Rebuild the static site"}))]
pub struct WebhookBody {
    /// An http or https URL; not a private, loopback or link-local address unless
    /// the operator allows them. At most 2,000 characters.
    #[schema(max_length = 2000, pattern = "^https?://[^\\x00-\\x20]+$")]
    pub url: Option<String>,
    /// Event names, `<type>.*` or `*`: 1 to 50 of them.
    #[schema(schema_with = event_patterns)]
    pub events: Option<Vec<String>>,
    /// What it is for, at most 500 characters; empty clears it.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `false` pauses it; `true` resumes it (and forgets its failures). Left out of
    /// a POST, or `null`, it is `true`, the default, as merge patches do with
    /// `null`.
    pub active: Option<bool>,
}

/// The events a subscription may ask for, for the document.
fn event_patterns() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(events::patterns())),
        )
        .min_items(Some(1))
        .max_items(Some(50))
        .description(Some("Event names, `<type>.*` or `*`: 1 to 50 of them."))
}

/// A checked body.
#[derive(Debug)]
pub struct WebhookInput {
    url: String,
    events: Vec<String>,
    description: Option<String>,
    active: bool,
    /// The signing secret, made for a new subscription.
    secret: String,
}

/// A body checked whole: a PATCH checks the stored subscription with the patch
/// merged in, so every field it keeps is there.
fn check_body(body: WebhookBody) -> AppResult<WebhookInput> {
    let mut check = Check::default();
    let url = check.required("url", body.url, |url| {
        if url.chars().count() > 2000 {
            return Err("must be at most 2000 characters".to_owned());
        }
        refuse_url(url, true).map_or_else(|| Ok(url.to_owned()), Err)
    });
    let events = match body.events {
        Some(events) => {
            if events.is_empty() || events.len() > 50 {
                check.fail("events", "must list 1 to 50 events");
            }
            let mut unique: Vec<String> = Vec::new();
            for (i, event) in events.into_iter().enumerate() {
                if !events::is_pattern(&event) {
                    check.fail(
                        &format!("events/{i}"),
                        format!(
                            "{event:?} is not an event: use one of {}, `<type>.*` or `*`",
                            events::catalog().join(", ")
                        ),
                    );
                } else if !unique.contains(&event) {
                    unique.push(event);
                }
            }
            unique
        }
        None => {
            check.fail("events", REQUIRED);
            Vec::new()
        }
    };
    let description = check.optional_text("description", body.description, 500);
    check.finish(WebhookInput {
        url: url.unwrap_or_default(),
        events,
        description,
        active: body.active.unwrap_or(true),
        secret: new_secret(),
    })
}

const FIELDS: &[Field] = &[
    Field::new("url", Kind::Text).ordered(),
    Field::new("events", Kind::Text),
    Field::new("description", Kind::Text),
    Field::new("active", Kind::Bool).ordered(),
    Field::new("paused_reason", Kind::Text),
    Field::new("failures", Kind::Integer).ordered(),
    Field::new("created_by", Kind::Text).filterable(),
];

pub struct Webhooks;

impl Resource for Webhooks {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "webhook",
        plural: "webhooks",
        kind: "webhook",
        table: "webhooks",
        path: "/api/v1/webhooks",
        key: "id",
        key_description: "The subscription's id",
        key_example: "0b5e4f3c-6f7d-4d0e-9a51-2f1b7f0f6a11",
        tag: Tag {
            name: "webhooks",
            description: "Signed, retried webhooks of content changes (admins only)",
        },
        spec: &ListSpec::records(FIELDS, &[("created_at", Dir::Desc)], "id"),
        read: Some(Permission::ManageWebhooks),
        write: Permission::ManageWebhooks,
        events: Events::None,
        operations: Operations {
            replace: false,
            ..Operations::ALL
        },
        shown_once: Some((
            "secret",
            "The signing secret (`whsec_` and base64), as the Standard Webhooks libraries \
             take it. Shown once: keep it.",
        )),
        delete_does: Some(
            "Deletes the subscription and its delivery log; nothing more is sent to it.",
        ),
        ..Descriptor::DEFAULT
    };

    table_resource!(
        table: webhooks, key: id as Id, row: Webhook, body: WebhookBody, input: WebhookInput
    );

    /// The address is checked against the operator's settings here, where the
    /// request's are at hand: a private one is refused unless they allow it.
    fn prepare(
        req: &HttpRequest,
        body: &Map<String, Value>,
    ) -> impl Future<Output = AppResult<()>> {
        let allow_private = req
            .app_data::<web::Data<WebhookSettings>>()
            .is_some_and(|settings| settings.allow_private);
        let refused = body
            .get("url")
            .and_then(Value::as_str)
            .and_then(|url| refuse_url(url, allow_private));
        std::future::ready(match refused {
            Some(refused) => Err(AppError::invalid("/url", refused)),
            None => Ok(()),
        })
    }

    /// A merge patch may not clear what a subscription cannot be without; a cleared
    /// `active` is the default, as on creation.
    fn validate(body: WebhookBody, to: Target<'_, Webhook>) -> AppResult<WebhookInput> {
        let mut check = Check::default();
        if to.existing.is_some() {
            for (field, absent) in [
                ("url", body.url.is_none()),
                ("events", body.events.is_none()),
            ] {
                if absent {
                    check.fail(field, "cannot be null: leave it out to keep it");
                }
            }
        }
        check.finish(())?;
        check_body(body)
    }

    fn shown_once(input: &WebhookInput) -> Option<String> {
        Some(input.secret.clone())
    }

    /// Resuming a paused subscription forgets its failures.
    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<Webhook> {
        let Save {
            existing,
            input,
            context,
            ..
        } = save;
        let fields = (
            webhooks::url.eq(input.url),
            webhooks::events.eq(input.events),
            webhooks::description.eq(input.description),
            webhooks::active.eq(input.active),
        );
        let Some(existing) = existing else {
            return Ok(diesel::insert_into(webhooks::table)
                .values((
                    fields,
                    webhooks::secret.eq(input.secret),
                    webhooks::created_by.eq(context.caller.name()),
                ))
                .returning(Webhook::as_returning())
                .get_result(conn)?);
        };
        let resumed = input.active && !existing.active;
        let (failures, reason) = if resumed || !input.active {
            (0, None)
        } else {
            (existing.failures, existing.paused_reason.clone())
        };
        Ok(diesel::update(webhooks::table.find(existing.id))
            .set((
                fields,
                webhooks::failures.eq(failures),
                webhooks::paused_reason.eq(reason),
            ))
            .returning(Webhook::as_returning())
            .get_result(conn)?)
    }
}
