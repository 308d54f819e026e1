//! The OpenAPI 3.1 document, assembled from the route table: every route registers
//! its `Doc`, so no route can exist undocumented. Served at `/api-docs/openapi.json`,
//! printed by `seesac-api openapi`, and committed as `openapi/openapi.json` (a test
//! fails when the two differ).

use utoipa::openapi::HttpMethod;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::{Tag, TagBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::admin;
use crate::content;
use crate::platform::error::{FieldError, Problem};
use crate::platform::openapi;
use crate::platform::routing::Table;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SEESAC content API",
        description = "The headless content API behind the website of SEESAC, the South Eastern and \
            Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons, a joint \
            initiative of UNDP and the Regional Cooperation Council.\n\n\
            Reads are public and show published content; a bearer token from \
            `POST /api/v1/auth/token` shows drafts too and allows writes. Every error is \
            `application/problem+json` (RFC 9457). Every read of content answers with an `ETag`; \
            send it back in `If-Match` to update without overwriting someone else's change.",
        license(name = "Proprietary: the content belongs to SEESAC", identifier = "LicenseRef-SEESAC"),
    ),
    servers((url = "/", description = "This server")),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "locales", description = "The languages content is served in"),
        (name = "search", description = "Full-text search across the content"),
        (name = "changes", description = "The changes feed: what changed since a cursor, for sync jobs"),
        (name = "auth", description = "Access tokens"),
        (name = "users", description = "User accounts (admins only)"),
        (name = "tokens", description = "API tokens for machines: scoped, expiring, revocable (admins only)"),
        (name = "audit", description = "The audit log of every write (admins only)"),
        (name = "webhooks", description = "Signed, retried webhooks of content changes (admins only)"),
        (name = "operations", description = "Index, liveness, readiness and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A person's token from POST /api/v1/auth/token; what it may do is its \
                         user's role (admin: everything; editor: content and observations), read \
                         from the database on every request",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("seesac_at_…")
                    .description(Some(
                        "An API token for a machine, from POST /api/v1/tokens, sent as a bearer \
                         token. Its scopes, listed where an operation needs one: \
                         `observations:write` (write observations; a partner's token only its \
                         own, in its areas and metrics), `content:read` (drafts too, for a \
                         preview), `content:write` (write pages, impact metrics, funders, \
                         Council Decisions and contacts, and their translations), \
                         `translations:write` (write translations only). No token manages users, partners or \
                         tokens.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document, from the route table. An error names an operation whose
/// description does not fit its route.
pub fn document() -> Result<utoipa::openapi::OpenApi, String> {
    let mut document = ApiDoc::openapi();
    // The tags of the resources on the engine, from their descriptors, first.
    let mut tags: Vec<Tag> = Vec::new();
    for kind in content::KINDS.iter().chain(admin::RESOURCES) {
        let tag = &kind.descriptor().tag;
        if !tags.iter().any(|seen| seen.name == tag.name) {
            tags.push(
                TagBuilder::new()
                    .name(tag.name)
                    .description(Some(tag.description))
                    .build(),
            );
        }
    }
    tags.extend(document.tags.take().unwrap_or_default());
    document.tags = Some(tags);
    let mut schemas = Vec::new();
    for route in Table::of(crate::app::routes::table).documented() {
        let mut doc = (route.doc)();
        if route.method == HttpMethod::Post {
            doc = doc.idempotent();
        }
        if route.method != HttpMethod::Get {
            doc = doc.limited();
        }
        let (operation, needs) = doc
            .build(&route.path_names())
            .map_err(|e| format!("{} {}: {e}", route.method_name, route.path))?;
        document.paths.add_path_operation(
            route.path.clone(),
            vec![route.method.clone()],
            operation,
        );
        schemas.extend(needs);
    }
    let components = document.components.get_or_insert_with(Default::default);
    // Every item's `links`, which the item schemas refer to.
    schemas.push((
        crate::platform::http::Links::name().into_owned(),
        crate::platform::http::Links::schema(),
    ));
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    // Reads in a locale: translatable fields may be null, and items carry `meta`.
    for kind in content::KINDS {
        let fields: Vec<&str> = kind
            .descriptor()
            .spec
            .translatable()
            .map(|field| field.name)
            .collect();
        if fields.is_empty() {
            continue;
        }
        for name in kind.read_schemas() {
            if let Some(schema) = components.schemas.remove(&name) {
                let meta = name.starts_with("Sparse");
                components
                    .schemas
                    .insert(name, openapi::localised::localised(schema, &fields, meta));
            }
        }
    }
    Ok(document)
}

/// The document as committed: pretty JSON with a final newline.
pub fn to_pretty_json() -> Result<String, String> {
    let mut json = document()?
        .to_pretty_json()
        .map_err(|e| format!("cannot write the OpenAPI document: {e}"))?;
    json.push('\n');
    Ok(json)
}
