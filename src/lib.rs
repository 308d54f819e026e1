//! seesac-api: the headless content REST API behind the SEESAC website.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! integration tests build exactly the application that ships. From the top:
//! `routes` lists every route; `content`, `users` and `ops` answer them; `list`,
//! `http`, `auth`, `db`, `openapi` and `error` are the shared layers below them
//! (`apidoc` assembles the OpenAPI document from the route table); `validate`,
//! `visibility`, `random` and `text_enum` sit below all of those.

pub mod apidoc;
pub mod auth;
pub mod cache;
pub mod changelog;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod error;
pub mod feed;
pub mod history;
pub mod http;
pub mod idempotency;
pub mod list;
pub mod observe;
pub mod openapi;
pub mod ops;
pub mod partners;
pub mod random;
pub mod ratelimit;
pub mod resource;
pub mod routes;
pub mod routing;
pub mod seed;
pub mod startup;
pub mod sync;
pub mod text_enum;
pub mod tokens;
pub mod transfer;
pub mod users;
pub mod validate;
pub mod visibility;
pub mod webhooks;
