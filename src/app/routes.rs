//! Every route of the service, top to bottom, grouped by who calls it. Each line is
//! `method(path, handler, doc)`: the handler answers it, the doc describes it in
//! the OpenAPI document (see `routing.rs` for how a line becomes both).
//!
//! A resource on the engine (every kind of content, partners) has its routes from
//! its descriptor: its path in its module (`content::pages`), its handlers the
//! engine's (`engine::read::list::<Pages>`, `engine::write::replace::<Pages>`), its
//! SQL behind the `Resource` trait in its module.
//!
//! Not in this table, because they are not part of the API: the Swagger UI under
//! `/docs/` (mounted in `startup.rs`) and the 404 for every other path.

use crate::admin::{self, tokens, users};
use crate::app::ops;
use crate::content;
use crate::content::contacts;
use crate::content::observations::{self, Observations, batch};
use crate::engine::docs as doc;
use crate::features::changes::{docs as feed_doc, feed};
use crate::features::history::{self, audit};
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

    // Content: every kind of the registry (`content::KINDS`) at its path, with list,
    // create, read, replace, update and delete (`engine::routes::crud`). Reads are
    // public and show what is published (anonymous answers come from the read
    // cache); a token with the right shows drafts too. Writes are for editors and
    // admins, and API tokens with the scope (observations: a partner's token writes
    // only its own). Then what some kinds have besides.
    for kind in content::KINDS {
        kind.routes(t);
    }
    t.get_cached("/api/v1/observations", observations::list_all_observations, doc::list_everywhere::<Observations>);
    t.post("/api/v1/observations/batch", batch::upsert_observations, batch::upsert_observations_doc);
    t.get_cached("/api/v1/contact", contacts::get_primary_contact, contacts::get_primary_contact_doc);
    t.get_cached("/api/v1/search", search::search, search::search_doc);

    // The changes feed: sync jobs follow it.
    t.get("/api/v1/changes", feed::list_changes, feed_doc::list_changes_doc);

    // History: the revisions of every kind, for editors and admins (a restore
    // writes one back as a new version, and needs the right to write the item);
    // the audit log, for admins.
    history::routes(t, content::KINDS);
    t.get("/api/v1/audit", audit::list_audit, history::docs::list_audit_doc);

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
    for resource in admin::RESOURCES {
        resource.routes(t);
    }
    t.get("/api/v1/tokens", tokens::list_tokens, tokens::list_tokens_doc);
    t.post("/api/v1/tokens", tokens::create_token, tokens::create_token_doc);
    t.get("/api/v1/tokens/{id}", tokens::get_token, tokens::get_token_doc);
    t.delete("/api/v1/tokens/{id}", tokens::revoke_token, tokens::revoke_token_doc);
}
