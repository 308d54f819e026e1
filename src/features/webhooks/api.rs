//! The webhook subscriptions and their delivery logs, for admins:
//! `/api/v1/webhooks[/{id}]`, `/api/v1/webhooks/{id}/deliveries[/{delivery}]`, and a
//! redelivery of any event.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use uuid::Uuid;

use super::WebhookSettings;
use super::events::{self, WebhookEvent, WebhookEventData};
use super::send::{new_secret, refuse_url};
use crate::engine::transaction::{self, Author};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::db::schema::{webhook_deliveries, webhooks};
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::idempotency;
use crate::platform::openapi::problems::{
    AdminProblems, BadBody, BadParameter, Conflict, Invalid, NotFound, PayloadTooLarge,
    UnsupportedMediaType,
};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{self, ListMeta, Params};
use crate::platform::validate::{Check, REQUIRED};

/// A subscription, as admins read it: never its secret, which only the creating
/// answer shows.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub struct Webhook {
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new subscription, with its secret: the only answer that shows it.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_` and base64), as the Standard Webhooks libraries
    /// take it. Shown once: keep it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// The body of POST (`url` and `events` required) and PATCH (what it sends
/// changes).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.org/seesac", "events": ["page.published", "page.deleted"],
    "description": "Rebuild the static site"}))]
pub struct WebhookBody {
    /// An http or https URL; not a private, loopback or link-local address unless
    /// the operator allows them. At most 2,000 characters.
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// Event names, `<type>.*` or `*`: 1 to 50 of them.
    #[schema(min_items = 1, max_items = 50)]
    pub events: Option<Vec<String>>,
    /// What it is for, at most 500 characters; empty clears it.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `false` pauses it; `true` resumes it (and forgets its failures).
    pub active: Option<bool>,
}

/// A page of subscriptions.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub data: Vec<Webhook>,
    pub meta: ListMeta,
}

/// One event for one subscription, and how its delivery went.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct Delivery {
    /// Sent as `webhook-id`: the same on every attempt and redelivery.
    pub id: Uuid,
    /// The subscription.
    pub webhook: Uuid,
    /// The event's name.
    #[schema(example = "page.published")]
    pub event: String,
    /// `pending`, `delivered` or `failed` (retries ran out).
    #[schema(example = "delivered")]
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When it is tried next, while pending.
    pub next_attempt_at: DateTime<Utc>,
    /// The receiver's status code at the last attempt.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub last_duration_ms: Option<i32>,
    /// The start of the receiver's last answer (at most 1 KiB).
    pub last_response: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When retries stop: a day after the event (or after a redelivery).
    pub give_up_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The body sent.
    #[schema(value_type = WebhookEvent)]
    pub payload: Value,
}

/// A page of a subscription's deliveries.
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<Delivery>,
    pub meta: ListMeta,
}

/// A checked body.
#[derive(Debug)]
struct WebhookInput {
    url: String,
    events: Vec<String>,
    description: Option<String>,
    active: bool,
}

fn validate(
    body: WebhookBody,
    existing: Option<&Webhook>,
    settings: &WebhookSettings,
) -> AppResult<WebhookInput> {
    let mut check = Check::default();
    let url = match (body.url, existing) {
        (Some(url), _) => {
            if url.chars().count() > 2000 {
                check.fail("url", "must be at most 2000 characters");
            } else if let Some(refused) = refuse_url(&url, settings.allow_private) {
                check.fail("url", refused);
            }
            url
        }
        (None, Some(existing)) => existing.url.clone(),
        (None, None) => {
            check.fail("url", REQUIRED);
            String::new()
        }
    };
    let events = match (body.events, existing) {
        (Some(events), _) => {
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
        (None, Some(existing)) => existing.events.clone(),
        (None, None) => {
            check.fail("events", REQUIRED);
            Vec::new()
        }
    };
    let description = match (body.description, existing) {
        (Some(text), _) => check.optional_text("description", Some(text), 500),
        (None, Some(existing)) => existing.description.clone(),
        (None, None) => None,
    };
    let active = body
        .active
        .or(existing.map(|webhook| webhook.active))
        .unwrap_or(true);
    check.finish(WebhookInput {
        url,
        events,
        description,
        active,
    })
}

fn parse_id(raw: &str, what: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound(format!("there is no {what} {raw}")))
}

fn webhook_id(req: &HttpRequest) -> AppResult<Uuid> {
    parse_id(req.match_info().get("id").unwrap_or_default(), "webhook")
}

fn find(conn: &mut PgConnection, id: Uuid) -> AppResult<Webhook> {
    webhooks::table
        .find(id)
        .select(Webhook::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound(format!("there is no webhook {id}")))
}

pub async fn create_webhook(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    settings: web::Data<WebhookSettings>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    query::Params::none(req.query_string())?;
    let body: WebhookBody = http::from_object(http::json_object(&req, payload).await?)?;
    let input = validate(body, None, &settings)?;
    let creator = caller.name();
    let secret = new_secret();
    let kept = secret.clone();
    let author = Author::of(&caller, &req);
    let webhook = transaction::attributed(&db, author, move |conn| {
        Ok(diesel::insert_into(webhooks::table)
            .values((
                webhooks::url.eq(input.url),
                webhooks::events.eq(input.events),
                webhooks::description.eq(input.description),
                webhooks::active.eq(input.active),
                webhooks::secret.eq(kept),
                webhooks::created_by.eq(creator),
            ))
            .returning(Webhook::as_returning())
            .get_result(conn)?)
    })
    .await?;
    let location = format!("/api/v1/webhooks/{}", webhook.id);
    let body =
        serde_json::to_value(CreatedWebhook { webhook, secret }).map_err(AppError::internal)?;
    let mut response = http::written(StatusCode::CREATED, &body, Some(location));
    // The secret is shown once: not cached, not kept for an Idempotency-Key replay.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.extensions_mut().insert(idempotency::ShownOnce);
    Ok(response)
}

pub async fn list_webhooks(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let mut params = Params::parse(req.query_string())?;
    let paging = params.paging()?;
    params.finish()?;
    let page = paging;
    let (data, total) = db
        .run(move |conn| {
            let data: Vec<Webhook> = webhooks::table
                .order((webhooks::created_at.desc(), webhooks::id))
                .limit(page.per_page)
                .offset(page.offset())
                .select(Webhook::as_select())
                .load(conn)?;
            let total: i64 = webhooks::table.count().get_result(conn)?;
            Ok((data, total))
        })
        .await?;
    let body = serde_json::to_value(WebhookList {
        data,
        meta: paging.meta(total),
    })
    .map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

pub async fn get_webhook(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    query::Params::none(req.query_string())?;
    let id = webhook_id(&req)?;
    let webhook = db.run(move |conn| find(conn, id)).await?;
    let body = serde_json::to_value(webhook).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

pub async fn update_webhook(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    settings: web::Data<WebhookSettings>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    query::Params::none(req.query_string())?;
    let id = webhook_id(&req)?;
    let object = http::json_object(&req, payload).await?;
    // A merge patch may not clear what a subscription cannot be without.
    let mut check = Check::default();
    for field in ["url", "events", "active"] {
        if object.get(field).is_some_and(Value::is_null) {
            check.fail(field, "cannot be null: leave it out to keep it");
        }
    }
    check.finish(())?;
    let body: WebhookBody = http::from_object(object)?;
    let settings = settings.into_inner();
    let webhook = transaction::attributed(&db, Author::of(&caller, &req), move |conn| {
        let existing: Webhook = webhooks::table
            .find(id)
            .select(Webhook::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or_else(|| AppError::NotFound(format!("there is no webhook {id}")))?;
        let resumed = body.active == Some(true);
        let input = validate(body, Some(&existing), &settings)?;
        let (failures, reason) = if resumed || !input.active {
            (0, None)
        } else {
            (existing.failures, existing.paused_reason.clone())
        };
        Ok(diesel::update(webhooks::table.find(id))
            .set((
                webhooks::url.eq(input.url),
                webhooks::events.eq(input.events),
                webhooks::description.eq(input.description),
                webhooks::active.eq(input.active),
                webhooks::failures.eq(failures),
                webhooks::paused_reason.eq(reason),
                webhooks::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Webhook::as_returning())
            .get_result(conn)?)
    })
    .await?;
    let body = serde_json::to_value(webhook).map_err(AppError::internal)?;
    Ok(http::written(StatusCode::OK, &body, None))
}

pub async fn delete_webhook(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    query::Params::none(req.query_string())?;
    let id = webhook_id(&req)?;
    transaction::attributed(
        &db,
        Author::of(&caller, &req),
        move |conn| match diesel::delete(webhooks::table.find(id)).execute(conn)? {
            0 => Err(AppError::NotFound(format!("there is no webhook {id}"))),
            _ => Ok(()),
        },
    )
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

pub async fn list_deliveries(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let id = webhook_id(&req)?;
    let mut params = Params::parse(req.query_string())?;
    let paging = params.paging()?;
    let status = params.choice("status", &["pending", "delivered", "failed"])?;
    params.finish()?;
    let page = paging;
    let (data, total) = db
        .run(move |conn| {
            find(conn, id)?;
            let query = || {
                let mut query = webhook_deliveries::table
                    .filter(webhook_deliveries::webhook.eq(id))
                    .into_boxed();
                if let Some(status) = &status {
                    query = query.filter(webhook_deliveries::status.eq(*status));
                }
                query
            };
            let data: Vec<Delivery> = query()
                .order((
                    webhook_deliveries::created_at.desc(),
                    webhook_deliveries::position.desc(),
                ))
                .limit(page.per_page)
                .offset(page.offset())
                .select(Delivery::as_select())
                .load(conn)?;
            let total: i64 = query().count().get_result(conn)?;
            Ok((data, total))
        })
        .await?;
    let meta = paging.meta(total);
    let link = (
        header::LINK,
        http::link_header(&req, meta.page, meta.total_pages),
    );
    let body = json!({"data": data, "meta": meta});
    Ok(http::read(&req, &caller, &body, &[link]))
}

fn delivery_id(req: &HttpRequest) -> AppResult<Uuid> {
    parse_id(
        req.match_info().get("delivery").unwrap_or_default(),
        "delivery",
    )
}

pub async fn get_delivery(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    query::Params::none(req.query_string())?;
    let (id, delivery) = (webhook_id(&req)?, delivery_id(&req)?);
    let found = db
        .run(move |conn| {
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::webhook.eq(id))
                .select(Delivery::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| AppError::NotFound(format!("there is no delivery {delivery}")))
        })
        .await?;
    let body = serde_json::to_value(found).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

/// Sends an event again, whatever became of it: due at once, with a new day of
/// retries, under the same `webhook-id` (a receiver that de-duplicates by it sees
/// it once). An event being delivered at this moment is a 409.
pub async fn redeliver(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    settings: web::Data<WebhookSettings>,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    query::Params::none(req.query_string())?;
    let (id, delivery) = (webhook_id(&req)?, delivery_id(&req)?);
    let give_up_at =
        Utc::now() + chrono::Duration::from_std(settings.retry_for).map_err(AppError::internal)?;
    let again = db
        .transaction(move |conn| {
            let in_flight: bool = webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::webhook.eq(id))
                .select(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "coalesce(leased_until > now(), false)",
                ))
                .for_update()
                .first(conn)
                .optional()?
                .ok_or_else(|| AppError::NotFound(format!("there is no delivery {delivery}")))?;
            if in_flight {
                return Err(AppError::conflict_at(
                    "",
                    "the event is being delivered right now; look again in a moment",
                ));
            }
            Ok(diesel::update(webhook_deliveries::table.find(delivery))
                .set((
                    webhook_deliveries::status.eq("pending"),
                    webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
                    webhook_deliveries::give_up_at.eq(give_up_at),
                    webhook_deliveries::delivered_at.eq(None::<DateTime<Utc>>),
                ))
                .returning(Delivery::as_returning())
                .get_result(conn)?)
        })
        .await?;
    let body = serde_json::to_value(again).map_err(AppError::internal)?;
    Ok(http::written(StatusCode::ACCEPTED, &body, None))
}

// The OpenAPI descriptions.

const ADMINS: &str = "Admins only.";

fn on_webhook(doc: Doc) -> Doc {
    doc.path_param(
        "The subscription's id",
        Some("0b5e4f3c-6f7d-4d0e-9a51-2f1b7f0f6a11"),
    )
    .security(Security::Needs(Permission::ManageWebhooks))
}

fn on_delivery(doc: Doc) -> Doc {
    on_webhook(doc).path_param("The delivery's id (its `webhook-id`)", None)
}

/// The body of POST (`required`) or PATCH, for the document: `WebhookBody` with
/// the URL's scheme and the patterns a subscription may ask for spelled out.
fn body_schema(required: bool) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use utoipa::PartialSchema;
    let mut schema = crate::platform::openapi::schemas::to_json(WebhookBody::schema());
    if let Some(properties) = schema.get_mut("properties") {
        properties["url"] = json!({
            "type": "string", "format": "uri", "maxLength": 2000,
            "pattern": "^https?://[^\\x00-\\x20]+$",
            "description": properties["url"]["description"].clone(),
        });
        properties["events"]["type"] = json!("array");
        properties["events"]["items"] = json!({"type": "string", "enum": events::patterns()});
        properties["active"]["type"] = json!("boolean");
        if !required {
            properties["description"]["description"] =
                json!("What it is for, at most 500 characters; empty clears it, null keeps it.");
        }
    }
    if let Some(object) = schema.as_object_mut() {
        object.remove("required");
        if required {
            object.insert("required".to_owned(), json!(["url", "events"]));
        }
    }
    crate::platform::openapi::schemas::from_json(schema)
}

/// The event names, for the document.
fn event_names(doc: Doc) -> Doc {
    let names: Vec<Value> = events::catalog().into_iter().map(Value::from).collect();
    doc.schema_named(
        "WebhookEventType",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(
                "The events a change can be: `<type>.created`, `.updated`, `.published` \
                 (anonymous readers see it from this change on; a scheduled publication fires \
                 when its time comes), `.unpublished` and `.deleted` for pages, impact metrics, \
                 funders, Council Decisions and contacts; `observation.upserted` and \
                 `observation.deleted`. A subscription may also ask for `<type>.*` or `*`.",
            ))
            .build(),
    )
    .schema::<WebhookEvent>()
    .schema::<WebhookEventData>()
}

pub fn create_webhook_doc() -> Doc {
    event_names(Doc::new(
        "create_webhook",
        "webhooks",
        "Subscribe to events",
    ))
    .describe(format!(
        "Subscribes `url` to `events`. Each event is POSTed to it as JSON (`WebhookEvent`) with the \
             Standard Webhooks headers `webhook-id` (the same on every attempt: de-duplicate by \
             it), `webhook-timestamp` and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 \
             of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the secret's bytes after \
             `whsec_`). Delivery is at least once and in order per item; a 2xx answer within 10 \
             seconds counts, anything else is retried with exponential backoff and jitter for a \
             day, then marked failed; after 5 deliveries in a row fail the subscription is \
             paused. The answer is the only one that shows the secret. {ADMINS}"
    ))
    .security(Security::Needs(Permission::ManageWebhooks))
    .schema_named("NewWebhook", body_schema(true))
    .body("NewWebhook", &["application/json"])
    .schema::<Webhook>()
    .schema::<CreatedWebhook>()
    .answer(
        Answer::json(
            201,
            "Subscribed; the body shows the secret, once",
            "CreatedWebhook",
        )
        .header("Location", "Where it lives")
        .header("ETag", "Its tag"),
    )
    .problems::<(BadBody, PayloadTooLarge, UnsupportedMediaType, Invalid)>()
    .problems::<AdminProblems>()
}

pub fn list_webhooks_doc() -> Doc {
    Doc::new("list_webhooks", "webhooks", "List webhook subscriptions")
        .describe(format!(
            "Every subscription, newest first, without secrets. {ADMINS}"
        ))
        .security(Security::Needs(Permission::ManageWebhooks))
        .params(query::openapi::paging_parameters())
        .schema::<Webhook>()
        .schema::<WebhookList>()
        .schema::<ListMeta>()
        .answer(Answer::json(200, "The subscriptions", "WebhookList"))
        .answer(Answer::not_modified())
        .problems::<BadParameter>()
        .problems::<AdminProblems>()
}

pub fn get_webhook_doc() -> Doc {
    on_webhook(Doc::new(
        "get_webhook",
        "webhooks",
        "Read a webhook subscription",
    ))
    .describe(format!("One subscription, without its secret. {ADMINS}"))
    .schema::<Webhook>()
    .answer(Answer::json(200, "The subscription", "Webhook"))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NotFound)>()
    .problems::<AdminProblems>()
}

pub fn update_webhook_doc() -> Doc {
    on_webhook(Doc::new(
        "update_webhook",
        "webhooks",
        "Change a webhook subscription",
    ))
    .describe(format!(
        "Changes the fields sent: `url`, `events`, `description` (empty clears it), \
             `active` (`false` pauses it, `true` resumes it and forgets its failures). Events \
             that came while it was paused are delivered when it resumes. {ADMINS}"
    ))
    .schema_named("WebhookChanges", body_schema(false))
    .body("WebhookChanges", &["application/json"])
    .schema::<Webhook>()
    .answer(Answer::json(200, "Changed", "Webhook"))
    .problems::<(
        BadBody,
        PayloadTooLarge,
        UnsupportedMediaType,
        Invalid,
        NotFound,
    )>()
    .problems::<AdminProblems>()
}

pub fn delete_webhook_doc() -> Doc {
    on_webhook(Doc::new(
        "delete_webhook",
        "webhooks",
        "Delete a webhook subscription",
    ))
    .describe(format!(
        "Deletes the subscription and its delivery log; nothing more is sent to it. {ADMINS}"
    ))
    .answer(Answer::empty(204, "Deleted"))
    .problems::<(BadParameter, NotFound)>()
    .problems::<AdminProblems>()
}

pub fn list_deliveries_doc() -> Doc {
    let mut params = query::openapi::paging_parameters();
    params.push(
        utoipa::openapi::path::ParameterBuilder::new()
            .name("status")
            .parameter_in(utoipa::openapi::path::ParameterIn::Query)
            .description(Some("Only deliveries with this status"))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["pending", "delivered", "failed"])),
            ))
            .build(),
    );
    event_names(on_webhook(Doc::new(
        "list_webhook_deliveries",
        "webhooks",
        "List a subscription's deliveries",
    )))
    .describe(format!(
        "The delivery log: each event for this subscription, newest first, with its status, \
         attempts, the last answer's code, error and duration. {ADMINS}"
    ))
    .params(params)
    .schema::<Delivery>()
    .schema::<DeliveryList>()
    .schema::<ListMeta>()
    .answer(
        Answer::json(200, "A page of deliveries", "DeliveryList")
            .header("Link", "first, prev, next and last pages (RFC 8288)"),
    )
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NotFound)>()
    .problems::<AdminProblems>()
}

pub fn get_delivery_doc() -> Doc {
    event_names(on_delivery(Doc::new(
        "get_webhook_delivery",
        "webhooks",
        "Read a delivery",
    )))
    .describe(format!("One delivery and its body. {ADMINS}"))
    .schema::<Delivery>()
    .answer(Answer::json(200, "The delivery", "Delivery"))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NotFound)>()
    .problems::<AdminProblems>()
}

pub fn redeliver_doc() -> Doc {
    event_names(on_delivery(Doc::new(
        "redeliver_webhook_event",
        "webhooks",
        "Deliver an event again",
    )))
    .describe(format!(
        "Sends the event again, whatever became of it: due at once, retried for another day, \
         with the same `webhook-id`. An event being delivered at this moment is a 409. {ADMINS}"
    ))
    .schema::<Delivery>()
    .answer(Answer::json(202, "Due again", "Delivery"))
    .problems::<(BadParameter, NotFound, Conflict)>()
    .problems::<AdminProblems>()
}
