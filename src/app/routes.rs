//! Every route of the service, top to bottom, grouped by who calls it. Each line is
//! `method(path, handler, doc)`: the handler answers it, the doc describes it in
//! the OpenAPI document (see `routing.rs` for how a line becomes both).
//!
//! The content routes run through the generic handlers of `resource::handlers`
//! (`crud::list::<Pages>`); what is particular to a resource, its SQL included, is
//! in its module (`content::pages`), behind the `Resource` trait.
//!
//! Not in this table, because they are not part of the API: the Swagger UI under
//! `/docs/` (mounted in `startup.rs`) and the 404 for every other path.

use crate::admin::partners::Partners;
use crate::admin::{tokens, users};
use crate::app::ops;
use crate::content::contacts::{self, Contacts};
use crate::content::decisions::Decisions;
use crate::content::funders::Funders;
use crate::content::metrics::Metrics;
use crate::content::observations::batch;
use crate::content::observations::{self, Observations};
use crate::content::pages::Pages;
use crate::engine::docs as doc;
use crate::engine::handlers as crud;
use crate::features::changes::feed;
use crate::features::history::{audit, revisions as rev};
use crate::features::search;
use crate::features::webhooks::api as hooks;
use crate::platform::routing::Table;

#[rustfmt::skip]
pub fn table(t: &mut Table) {
    // Discovery and operations: browsers, load balancers, monitoring.
    t.get("/", ops::index, ops::index_doc);
    t.get("/api/v1", ops::index, ops::api_index_doc);
    t.get("/healthz", ops::healthz, ops::healthz_doc);
    t.get("/readyz", ops::readyz, ops::readyz_doc);
    t.get("/api-docs/openapi.json", ops::openapi, ops::openapi_doc);

    // Access tokens: people log in.
    t.post("/api/v1/auth/token", users::issue_token, users::issue_token_doc);

    // Content. Reads are public and show what is published; a token with the right
    // shows drafts too; `get_cached`: anonymous answers come from the read cache.
    // Writes are for editors and admins, and API tokens with the scope
    // (observations: a partner's token writes only its own).
    t.get_cached("/api/v1/pages", crud::list::<Pages>, doc::list::<Pages>);
    t.post("/api/v1/pages", crud::create::<Pages>, doc::create::<Pages>);
    t.get_cached("/api/v1/pages/{slug}", crud::get::<Pages>, doc::get::<Pages>);
    t.put("/api/v1/pages/{slug}", crud::replace::<Pages>, doc::replace::<Pages>);
    t.patch("/api/v1/pages/{slug}", crud::update::<Pages>, doc::update::<Pages>);
    t.delete("/api/v1/pages/{slug}", crud::delete::<Pages>, doc::delete::<Pages>);

    t.get_cached("/api/v1/impact-metrics", crud::list::<Metrics>, doc::list::<Metrics>);
    t.post("/api/v1/impact-metrics", crud::create::<Metrics>, doc::create::<Metrics>);
    t.get_cached("/api/v1/impact-metrics/{key}", crud::get::<Metrics>, doc::get::<Metrics>);
    t.put("/api/v1/impact-metrics/{key}", crud::replace::<Metrics>, doc::replace::<Metrics>);
    t.patch("/api/v1/impact-metrics/{key}", crud::update::<Metrics>, doc::update::<Metrics>);
    t.delete("/api/v1/impact-metrics/{key}", crud::delete::<Metrics>, doc::delete::<Metrics>);

    t.get_cached("/api/v1/impact-metrics/{key}/observations", crud::list::<Observations>, doc::list::<Observations>);
    t.post("/api/v1/impact-metrics/{key}/observations", crud::create::<Observations>, doc::create::<Observations>);
    t.get_cached("/api/v1/impact-metrics/{key}/observations/{id}", crud::get::<Observations>, doc::get::<Observations>);
    t.put("/api/v1/impact-metrics/{key}/observations/{id}", crud::replace::<Observations>, doc::replace::<Observations>);
    t.patch("/api/v1/impact-metrics/{key}/observations/{id}", crud::update::<Observations>, doc::update::<Observations>);
    t.delete("/api/v1/impact-metrics/{key}/observations/{id}", crud::delete::<Observations>, doc::delete::<Observations>);

    t.get_cached("/api/v1/observations", observations::list_all_observations, doc::list_everywhere::<Observations>);
    t.post("/api/v1/observations/batch", batch::upsert_observations, batch::upsert_observations_doc);

    t.get_cached("/api/v1/funders", crud::list::<Funders>, doc::list::<Funders>);
    t.post("/api/v1/funders", crud::create::<Funders>, doc::create::<Funders>);
    t.get_cached("/api/v1/funders/{slug}", crud::get::<Funders>, doc::get::<Funders>);
    t.put("/api/v1/funders/{slug}", crud::replace::<Funders>, doc::replace::<Funders>);
    t.patch("/api/v1/funders/{slug}", crud::update::<Funders>, doc::update::<Funders>);
    t.delete("/api/v1/funders/{slug}", crud::delete::<Funders>, doc::delete::<Funders>);

    t.get_cached("/api/v1/council-decisions", crud::list::<Decisions>, doc::list::<Decisions>);
    t.post("/api/v1/council-decisions", crud::create::<Decisions>, doc::create::<Decisions>);
    t.get_cached("/api/v1/council-decisions/{celex}", crud::get::<Decisions>, doc::get::<Decisions>);
    t.put("/api/v1/council-decisions/{celex}", crud::replace::<Decisions>, doc::replace::<Decisions>);
    t.patch("/api/v1/council-decisions/{celex}", crud::update::<Decisions>, doc::update::<Decisions>);
    t.delete("/api/v1/council-decisions/{celex}", crud::delete::<Decisions>, doc::delete::<Decisions>);

    t.get_cached("/api/v1/contacts", crud::list::<Contacts>, doc::list::<Contacts>);
    t.post("/api/v1/contacts", crud::create::<Contacts>, doc::create::<Contacts>);
    t.get_cached("/api/v1/contacts/{slug}", crud::get::<Contacts>, doc::get::<Contacts>);
    t.put("/api/v1/contacts/{slug}", crud::replace::<Contacts>, doc::replace::<Contacts>);
    t.patch("/api/v1/contacts/{slug}", crud::update::<Contacts>, doc::update::<Contacts>);
    t.delete("/api/v1/contacts/{slug}", crud::delete::<Contacts>, doc::delete::<Contacts>);
    t.get_cached("/api/v1/contact", contacts::get_primary_contact, contacts::get_primary_contact_doc);

    t.get_cached("/api/v1/search", search::search, search::search_doc);
    t.get("/api/v1/changes", feed::list_changes, feed::list_changes_doc);

    // History: the versions of every content item, for editors and admins; a restore
    // writes one back as a new version (and needs the right to write the item).
    t.get("/api/v1/pages/{slug}/revisions", rev::list::<Pages>, rev::list_doc::<Pages>);
    t.get("/api/v1/pages/{slug}/revisions/{version}", rev::get::<Pages>, rev::get_doc::<Pages>);
    t.get("/api/v1/pages/{slug}/revisions/{version}/diff", rev::diff::<Pages>, rev::diff_doc::<Pages>);
    t.post("/api/v1/pages/{slug}/revisions/{version}/restore", rev::restore::<Pages>, rev::restore_doc::<Pages>);
    t.get("/api/v1/impact-metrics/{key}/revisions", rev::list::<Metrics>, rev::list_doc::<Metrics>);
    t.get("/api/v1/impact-metrics/{key}/revisions/{version}", rev::get::<Metrics>, rev::get_doc::<Metrics>);
    t.get("/api/v1/impact-metrics/{key}/revisions/{version}/diff", rev::diff::<Metrics>, rev::diff_doc::<Metrics>);
    t.post("/api/v1/impact-metrics/{key}/revisions/{version}/restore", rev::restore::<Metrics>, rev::restore_doc::<Metrics>);
    t.get("/api/v1/impact-metrics/{key}/observations/{id}/revisions", rev::list::<Observations>, rev::list_doc::<Observations>);
    t.get("/api/v1/impact-metrics/{key}/observations/{id}/revisions/{version}", rev::get::<Observations>, rev::get_doc::<Observations>);
    t.get("/api/v1/impact-metrics/{key}/observations/{id}/revisions/{version}/diff", rev::diff::<Observations>, rev::diff_doc::<Observations>);
    t.post("/api/v1/impact-metrics/{key}/observations/{id}/revisions/{version}/restore", rev::restore::<Observations>, rev::restore_doc::<Observations>);
    t.get("/api/v1/funders/{slug}/revisions", rev::list::<Funders>, rev::list_doc::<Funders>);
    t.get("/api/v1/funders/{slug}/revisions/{version}", rev::get::<Funders>, rev::get_doc::<Funders>);
    t.get("/api/v1/funders/{slug}/revisions/{version}/diff", rev::diff::<Funders>, rev::diff_doc::<Funders>);
    t.post("/api/v1/funders/{slug}/revisions/{version}/restore", rev::restore::<Funders>, rev::restore_doc::<Funders>);
    t.get("/api/v1/council-decisions/{celex}/revisions", rev::list::<Decisions>, rev::list_doc::<Decisions>);
    t.get("/api/v1/council-decisions/{celex}/revisions/{version}", rev::get::<Decisions>, rev::get_doc::<Decisions>);
    t.get("/api/v1/council-decisions/{celex}/revisions/{version}/diff", rev::diff::<Decisions>, rev::diff_doc::<Decisions>);
    t.post("/api/v1/council-decisions/{celex}/revisions/{version}/restore", rev::restore::<Decisions>, rev::restore_doc::<Decisions>);
    t.get("/api/v1/contacts/{slug}/revisions", rev::list::<Contacts>, rev::list_doc::<Contacts>);
    t.get("/api/v1/contacts/{slug}/revisions/{version}", rev::get::<Contacts>, rev::get_doc::<Contacts>);
    t.get("/api/v1/contacts/{slug}/revisions/{version}/diff", rev::diff::<Contacts>, rev::diff_doc::<Contacts>);
    t.post("/api/v1/contacts/{slug}/revisions/{version}/restore", rev::restore::<Contacts>, rev::restore_doc::<Contacts>);

    // The audit log: admins only.
    t.get("/api/v1/audit", audit::list_audit, audit::list_audit_doc);

    // Webhooks: admins subscribe receivers to content events and watch deliveries.
    t.get("/api/v1/webhooks", hooks::list_webhooks, hooks::list_webhooks_doc);
    t.post("/api/v1/webhooks", hooks::create_webhook, hooks::create_webhook_doc);
    t.get("/api/v1/webhooks/{id}", hooks::get_webhook, hooks::get_webhook_doc);
    t.patch("/api/v1/webhooks/{id}", hooks::update_webhook, hooks::update_webhook_doc);
    t.delete("/api/v1/webhooks/{id}", hooks::delete_webhook, hooks::delete_webhook_doc);
    t.get("/api/v1/webhooks/{id}/deliveries", hooks::list_deliveries, hooks::list_deliveries_doc);
    t.get("/api/v1/webhooks/{id}/deliveries/{delivery}", hooks::get_delivery, hooks::get_delivery_doc);
    t.post("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", hooks::redeliver, hooks::redeliver_doc);

    // User accounts: admins only.
    t.get("/api/v1/users", users::list_users, users::list_users_doc);
    t.post("/api/v1/users", users::create_user, users::create_user_doc);
    t.get("/api/v1/users/{username}", users::get_user, users::get_user_doc);
    t.patch("/api/v1/users/{username}", users::update_user, users::update_user_doc);
    t.delete("/api/v1/users/{username}", users::delete_user, users::delete_user_doc);

    // Partners and their API tokens: admins only. A partner's token then writes its
    // observations through the content routes above.
    t.get("/api/v1/partners", crud::list::<Partners>, doc::list::<Partners>);
    t.post("/api/v1/partners", crud::create::<Partners>, doc::create::<Partners>);
    t.get("/api/v1/partners/{slug}", crud::get::<Partners>, doc::get::<Partners>);
    t.put("/api/v1/partners/{slug}", crud::replace::<Partners>, doc::replace::<Partners>);
    t.patch("/api/v1/partners/{slug}", crud::update::<Partners>, doc::update::<Partners>);
    t.delete("/api/v1/partners/{slug}", crud::delete::<Partners>, doc::delete::<Partners>);

    t.get("/api/v1/tokens", tokens::list_tokens, tokens::list_tokens_doc);
    t.post("/api/v1/tokens", tokens::create_token, tokens::create_token_doc);
    t.get("/api/v1/tokens/{id}", tokens::get_token, tokens::get_token_doc);
    t.delete("/api/v1/tokens/{id}", tokens::revoke_token, tokens::revoke_token_doc);
}
