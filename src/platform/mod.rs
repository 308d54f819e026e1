//! The shared layers every resource and feature stands on. None of them names a
//! resource, a kind of content or a feature.

pub mod auth;
pub mod cache;
pub mod db;
pub mod error;
pub mod hex;
pub mod http;
pub mod idempotency;
pub mod locale;
pub mod observe;
pub mod openapi;
pub mod query;
pub mod random;
pub mod ratelimit;
pub mod request;
pub mod routing;
pub mod storage;
pub mod text_enum;
pub mod validate;
pub mod visibility;
