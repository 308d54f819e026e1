//! seesac-api: the headless content REST API behind the SEESAC website.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! integration tests build exactly the application that ships. The folders are the
//! layers, each importing only those below it:
//!
//! - `app`: the wiring. The command line, configuration, start-up, the route table
//!   (`app::routes`), the OpenAPI document, the index and health checks, the sample
//!   content. Only `app` names the features.
//! - `features`: what plugs into the engine: the change log and its feed
//!   (`changes`), revisions and the audit log (`history`), `webhooks`, export and
//!   import (`transfer`), `search` and the translations of content
//!   (`translations`).
//! - `admin`: users, API tokens and partners, resources on the engine like content.
//! - `content`: one module per kind of content, and the registry of kinds.
//! - `engine`: what every resource shares: the `Resource` trait, the generic
//!   handlers, the one write path, items in a reader's locale and the
//!   documentation made from them.
//! - `platform`: the shared layers: errors, the database, HTTP, the query language,
//!   authentication, OpenAPI, validation, observability, rate limits, idempotency,
//!   the read cache, locales and visibility.

pub mod admin;
pub mod app;
pub mod content;
pub mod engine;
pub mod features;
pub mod platform;
