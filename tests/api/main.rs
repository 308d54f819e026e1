//! Black-box HTTP tests against a real PostgreSQL, a fresh database per test.
//! `DATABASE_URL` points them at a running server; without it they start their own
//! throwaway cluster under the system temp dir.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

mod asset_references;
mod asset_uploads;
mod asset_variants;
mod assets;
mod auth;
mod batch;
mod binary;
mod blocks;
mod caching;
mod changes;
mod cluster;
mod contacts;
mod csv;
mod decisions;
mod engine;
mod errors;
mod frontend;
mod funders;
mod hardening;
mod helpers;
mod history;
mod idempotency;
mod language;
mod layout;
mod limits;
mod lists;
mod locales;
mod me;
mod metrics;
mod object_storage;
mod observe;
mod openapi;
mod operations;
mod outage;
mod pages;
mod partner_file;
mod partners;
mod read_cache;
mod references;
mod search;
mod sequencer;
mod tokens;
mod transfer;
mod translated;
mod translations_kept;
mod webhooks;
