//! A subscription's delivery log, for admins:
//! `/api/v1/webhooks/{id}/deliveries[/{delivery}]`, and a redelivery of any event.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use uuid::Uuid;

use super::WebhookSettings;
use super::events::{self, WebhookEvent, WebhookEventData};
use super::subscriptions::Webhook;
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::db::schema::{webhook_deliveries, webhooks};
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{AdminProblems, BadParameter, Conflict, NotFound};
use crate::platform::openapi::{Answer, Doc, Security, schemas};
use crate::platform::query::{self, ListMeta, Params};

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
    Ok(http::read_page(&req, &caller, data, paging.meta(total)))
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

/// An operation on a subscription's deliveries, and what each of them may answer.
fn on_webhook(doc: Doc) -> Doc {
    event_names(doc.path_param(
        "The subscription's id",
        Some("0b5e4f3c-6f7d-4d0e-9a51-2f1b7f0f6a11"),
    ))
    .security(Security::Needs(Permission::ManageWebhooks))
    .schema::<Delivery>()
    .problems::<(BadParameter, NotFound)>()
    .problems::<AdminProblems>()
}

/// An operation on one delivery.
fn on_delivery(id: &str, summary: &str) -> Doc {
    on_webhook(Doc::new(id, "webhooks", summary))
        .path_param("The delivery's id (its `webhook-id`)", None)
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
                 funders, Council Decisions and contacts, and `.translated` and `.untranslated` \
                 when a translation of one is written or deleted (`data.locale` names it); \
                 `observation.upserted` and `observation.deleted`. A subscription may also ask for `<type>.*` or `*`.",
            ))
            .build(),
    )
    .schema::<WebhookEvent>()
    .schema::<WebhookEventData>()
}

pub fn list_deliveries_doc() -> Doc {
    let mut params = query::openapi::paging_parameters();
    params.push(schemas::query_param(
        "status",
        "Only deliveries with this status",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["pending", "delivered", "failed"])),
    ));
    on_webhook(Doc::new(
        "list_webhook_deliveries",
        "webhooks",
        "List a subscription's deliveries",
    ))
    .describe(format!(
        "The delivery log: each event for this subscription, newest first, with its status, \
         attempts, the last answer's code, error and duration. {ADMINS}"
    ))
    .params(params)
    .schema::<DeliveryList>()
    .schema::<ListMeta>()
    .answer(
        Answer::json(200, "A page of deliveries", "DeliveryList")
            .header("Link", "first, prev, next and last pages (RFC 8288)"),
    )
    .answer(Answer::not_modified())
}

pub fn get_delivery_doc() -> Doc {
    on_delivery("get_webhook_delivery", "Read a delivery")
        .describe(format!("One delivery and its body. {ADMINS}"))
        .answer(Answer::json(200, "The delivery", "Delivery"))
        .answer(Answer::not_modified())
}

pub fn redeliver_doc() -> Doc {
    on_delivery("redeliver_webhook_event", "Deliver an event again")
        .describe(format!(
            "Sends the event again, whatever became of it: due at once, retried for another \
             day, with the same `webhook-id`. An event being delivered at this moment is a 409. \
             {ADMINS}"
        ))
        .answer(Answer::json(202, "Due again", "Delivery"))
        .problems::<Conflict>()
}
