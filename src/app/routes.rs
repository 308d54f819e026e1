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

use crate::admin::{self, login, me};
use crate::app::ops;
use crate::content;
use crate::content::assets;
use crate::content::contacts;
use crate::content::observations::{self, Observations, batch};
use crate::engine::docs as doc;
use crate::engine::routes::crud;
use crate::features::changes::{docs as feed_doc, feed};
use crate::features::history::{self, audit};
use crate::features::search;
use crate::features::translations;
use crate::features::webhooks::deliveries as hooks;
use crate::features::webhooks::subscriptions::Webhooks;
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
    t.post("/api/v1/auth/token", login::issue_token, login::issue_token_doc);
    // Who a token is; a person changes their own password.
    t.get("/api/v1/me", me::get_me, me::get_me_doc);
    t.patch("/api/v1/me", me::patch_me, me::patch_me_doc);

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
    t.get_cached("/api/v1/locales", translations::list_locales, translations::list_locales_doc);
    // Assets: an editor uploads a file (its metadata is then edited like any item's);
    // anyone reads a published asset's bytes at the URL its item gives.
    t.post("/api/v1/assets", assets::upload::upload, assets::upload::upload_doc);
    t.get("/assets/{id}/{sha256}/{filename}", assets::serve::get_file, assets::serve::get_file_doc);
    t.get("/assets/{id}", assets::current::get_current, assets::current::get_current_doc);
    t.get("/api/v1/assets/{id}/signed-url", assets::signed::get_signed_url, assets::signed::get_signed_url_doc);

    // The changes feed: sync jobs follow it.
    t.get("/api/v1/changes", feed::list_changes, feed_doc::list_changes_doc);

    // History: the revisions of every kind, for editors and admins (a restore
    // writes one back as a new version, and needs the right to write the item);
    // the audit log, for admins.
    history::routes(t, content::KINDS);
    t.get("/api/v1/audit", audit::list_audit, history::docs::list_audit_doc);

    // Translations: editors (and tokens with the scope) translate each item's
    // translatable fields into the enabled locales.
    translations::routes(t, content::KINDS);
    t.get("/api/v1/translations", translations::list_work, translations::list_work_doc);

    // Webhooks: admins subscribe receivers to content events and watch deliveries.
    crud::<Webhooks>(t);
    t.get("/api/v1/webhooks/{id}/deliveries", hooks::list_deliveries, hooks::list_deliveries_doc);
    t.get("/api/v1/webhooks/{id}/deliveries/{delivery}", hooks::get_delivery, hooks::get_delivery_doc);
    t.post("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", hooks::redeliver, hooks::redeliver_doc);

    // User accounts, partners and API tokens: admins only (`admin::RESOURCES`). A
    // partner's token then writes its observations through the content routes.
    for resource in admin::RESOURCES {
        resource.routes(t);
    }
}
