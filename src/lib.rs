//! seesac-api: the headless content REST API behind the SEESAC website.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! integration tests build exactly the application that ships.

pub mod auth;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod error;
pub mod http;
pub mod openapi;
pub mod ops;
pub mod query;
pub mod seed;
pub mod startup;
pub mod users;
